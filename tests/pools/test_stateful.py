"""Random sequences of loans, returns, departures, hires, expiries, evaluations, rebuilds and
syncs against a deliberately simple model, written from SPEC 2 without looking at the fold.

After every step the ledger's status must equal the model's figures, every invariant must
hold, `audit verify` must pass, and the ledger must answer as of the day before (with late
and reversing entries that is a replay in date order). A loan request must be accepted
exactly when the model finds no rule broken, and a refusal must name one of the rules the
model finds broken.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from pools.ledger import Ledger
from pools.rules import RuleViolation, Settings
from pools.units import Unit

from .conftest import fixed_clock
from .teacher_plan_files import write_plan_dir

START = date(2026, 1, 1)
SETTINGS = Settings(institutional_capacity=6, term_years=1, pool_period_years=2)
UNIT_IDS = ["A1", "A2", "A3", "C1", "I1", "I2"]
PURPOSES = {"admin": "引进生", "institutional": "高层次人才"}
TEACHER_IDS = ["T1", "T2", "T3", "T4"]
TEACHER_START = {"T1": 60, "T2": 40, "T3": 25, "T4": 10}
# what may refuse reversing a return: already reversed, people gone, no quota to lend again,
# an earlier date left inconsistent, or a vacancy 空一还一 would have to fill at once
REVERSAL_REFUSALS = {
    "ledger.reversal", "pool.capacity", "unit.lender_no_spare", "ledger.late_entry_conflict",
    "ledger.invariant",
}  # fmt: skip


@dataclass
class MUnit:
    level: str
    kind: str
    approved: int
    headcount: int
    lent: int = 0
    borrowed: int = 0
    pool: int = 0

    @property
    def vacancies(self) -> int:
        return max(0, self.approved - self.lent - self.headcount)

    @property
    def over(self) -> bool:
        return self.headcount > self.approved - self.lent


def plus_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a year without it (the
    model's own arithmetic: `date.replace` alone raises on 29 February)."""
    if day.month == 2 and day.day == 29 and not _leap(day.year + years):
        return date(day.year + years, 2, 28)
    return day.replace(year=day.year + years)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@dataclass
class MLoan:
    loan_id: str
    pool: str
    borrower: str
    count: int
    outstanding: int
    end: date | None
    purpose: str = ""
    expired: bool = False  # marked by the ledger once a write happens on/after the end
    opened: date | None = None  # a retry under its key repeats the effective date too

    def status(self, day: date) -> str:
        if self.outstanding == 0:
            return "closed"
        if self.expired or (self.end is not None and self.end <= day):
            return "expired"
        return "open"


@dataclass
class MPlan:
    plan_id: str
    unit: str
    count: int
    until: date
    approved_on: date
    key: str | None = None
    used: int = 0
    lapsed: int = 0
    withdrawn: int = 0
    status: str = "open"

    @property
    def remaining(self) -> int:
        return self.count - self.used - self.lapsed - self.withdrawn

    @property
    def open(self) -> bool:
        return self.status == "open"


@dataclass
class MProblem:
    problem_id: str
    unit: str
    cause: str  # "" by hand; over_quota, unplanned_hire, loan_overdue
    subject: str  # the unit, the loan, or a serial number for hires without a plan
    open: bool = True


def initial_units() -> dict[str, MUnit]:
    return {
        "A1": MUnit("municipal", "administrative", 5, 5),
        "A2": MUnit("municipal", "administrative", 8, 8),
        "A3": MUnit("municipal", "administrative", 20, 10),
        "C1": MUnit("county", "administrative", 4, 4),
        "I1": MUnit("municipal", "institutional", 6, 6),
        "I2": MUnit("county", "institutional", 10, 7),
    }


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.units = initial_units()
        self.loans: list[MLoan] = []
        self.day = START
        self.inst_capacity = SETTINGS.institutional_capacity
        self.period_end = date(2028, 1, 1)
        self.keys: dict[str, MLoan] = {}
        self.manual_returns: list[tuple[int, MLoan, int]] = []  # (event, loan, count)
        self.plans: list[MPlan] = []  # SPEC 2.7/2.8 (issue 11): the model's books
        self.problems: list[MProblem] = []
        self.teacher: dict[str, int] = {}  # the model's teacher quotas (SPEC 2.9)
        self.teacher_plans: list[tuple[Path, dict[str, int]]] = []  # applied: dir, new
        self.ledger = Ledger.create(
            Path(self.tmp.name) / "ledger.db",
            [self._unit_record(uid) for uid in UNIT_IDS],
            actor="model",
            settings=SETTINGS,
            effective=START,
            clock=fixed_clock,
        )

    def teardown(self) -> None:
        self.ledger.close()
        self.tmp.cleanup()

    # ---- the model ---------------------------------------------------------------------

    def _unit_record(self, uid: str) -> Unit:
        u = self.units[uid]
        return Unit(uid, uid, "C00", u.level, u.kind, u.approved, u.headcount)

    def admin_capacity(self) -> int:
        group = [
            u for u in self.units.values() if u.level == "municipal" and u.kind == "administrative"
        ]
        if sum(u.headcount - (u.approved - u.lent) for u in group) > 0:
            return 0
        return sum(u.vacancies for u in group) // 5  # 20 % = one in five, rounded down

    def pool_lent(self, pool: str) -> int:
        return sum(loan.outstanding for loan in self.loans if loan.pool == pool)

    def _give_back(self, loan: MLoan, count: int) -> None:
        borrower = self.units[loan.borrower]
        loan.outstanding -= count
        borrower.headcount += count
        if loan.pool.startswith("unit:"):
            borrower.borrowed -= count
            self.units[loan.pool[5:]].lent -= count
        else:
            borrower.pool -= count

    def _settle(self, first: str) -> None:
        """空一还一: oldest loan first, one quota per vacancy; a lender that gets quota back
        is settled too."""
        work = [first]
        while work:
            uid = work.pop(0)
            while self.units[uid].vacancies > 0:
                owed = [loan for loan in self.loans if loan.borrower == uid and loan.outstanding]
                if not owed:
                    break
                self._give_back(owed[0], 1)
                event("空一还一 return")
                if owed[0].pool.startswith("unit:") and owed[0].pool[5:] not in work:
                    work.append(owed[0].pool[5:])

    def _mark_expired(self) -> None:
        for loan in self.loans:
            if loan.outstanding and loan.end is not None and loan.end <= self.day:
                loan.expired = True

    def broken_rules(self, pool: str, uid: str, count: int, purpose_ok: bool) -> set[str]:
        b = self.units[uid]
        found = set()
        if b.over:
            found.add("unit.over_quota")
        if b.vacancies > 0:
            found.add("loan.borrower_has_vacancy")
        if pool == "admin":
            if (b.level, b.kind) != ("municipal", "administrative"):
                found.add("admin.borrower_not_eligible")
            if not purpose_ok:
                found.add("admin.purpose")
            capacity = self.admin_capacity()
            group = [
                u
                for u in self.units.values()
                if u.level == "municipal" and u.kind == "administrative"
            ]
            if sum(u.headcount - (u.approved - u.lent) for u in group) > 0:
                found.add("admin.pool_suspended")
            if self.pool_lent("admin") + count > capacity:
                found.add("pool.capacity")
        elif pool == "institutional":
            if b.kind != "institutional":
                found.add("institutional.borrower_not_eligible")
            if not purpose_ok:
                found.add("institutional.purpose")
            if self.day >= self.period_end:
                found.add("institutional.period_ended")
            if self.pool_lent("institutional") + count > self.inst_capacity:
                found.add("pool.capacity")
        else:
            lender = pool[5:]
            if lender == uid:
                return {"unit.self_loan"}
            if self.units[lender].vacancies - self.reserved(lender) < count:
                found.add("unit.lender_no_spare")
        if self.open_problems(uid):
            found.add("problem.open_blocks")
        return found

    # ---- steps -------------------------------------------------------------------------

    @rule(days=st.integers(0, 200))
    def time_passes(self, days: int) -> None:
        self.day += timedelta(days=days)

    @rule(
        pool=st.sampled_from(["admin", "institutional", "unit:I2", "unit:A3", "unit:I1"]),
        uid=st.sampled_from(["A1", "A2", "I1", "A1", "A2", "I1", *UNIT_IDS]),  # mostly full
        count=st.integers(1, 3),
        purpose_ok=st.sampled_from([True, True, True, False]),
        key=st.sampled_from([None, None, "k1", "k2"]),
    )
    def open_loan(self, pool: str, uid: str, count: int, purpose_ok: bool, key: str | None) -> None:
        purpose = PURPOSES.get(pool, "项目") if purpose_ok else "其他"
        earlier = self.keys.get(key) if key else None
        broken = self.broken_rules(pool, uid, count, purpose_ok or pool.startswith("unit:"))
        try:
            result = self.ledger.open_loan(
                pool=pool, unit_id=uid, count=count, purpose=purpose, actor="model",
                key=key, effective=self.day,
            )  # fmt: skip
        except RuleViolation as refusal:
            if earlier is not None:
                same = (earlier.pool, earlier.borrower, earlier.count, earlier.purpose,
                        earlier.opened)  # fmt: skip
                assert same != (pool, uid, count, purpose, self.day)
                assert refusal.rule == "loan.key_conflict"
                return
            assert broken, f"refused by {refusal.rule} but the model finds no rule broken"
            assert refusal.rule in broken, (refusal.rule, broken)
            event(f"refused: {refusal.rule}")
            return
        if earlier is not None:  # the same key again: the loan it opened, nothing new
            same = (earlier.pool, earlier.borrower, earlier.count, earlier.purpose,
                    earlier.opened)  # fmt: skip
            assert same == (pool, uid, count, purpose, self.day)
            assert result["replayed"] and result["loan_id"] == earlier.loan_id
            return
        assert not broken, f"accepted although the model finds {broken} broken"
        event(f"loan opened from {pool.split(':')[0]}")
        self._mark_expired()
        self._lapse()
        years = None if pool == "admin" else 1
        end = None if years is None else plus_years(self.day, years)
        loan = MLoan(result["loan_id"], pool, uid, count, count, end, purpose, opened=self.day)
        self.loans.append(loan)
        if key:
            self.keys[key] = loan
        if pool.startswith("unit:"):
            self.units[pool[5:]].lent += count
            self.units[uid].borrowed += count
        else:
            self.units[uid].pool += count
            capacity = self.admin_capacity() if pool == "admin" else self.inst_capacity
            assert self.pool_lent(pool) <= capacity  # never lends beyond its capacity

    @initialize()
    def some_loans(self) -> None:
        """Start with loans from each kind of pool, so that departures trigger 空一还一."""
        for pool, uid, count in (
            ("admin", "A1", 1),
            ("institutional", "I1", 2),
            ("unit:I2", "A2", 2),
        ):
            self.open_loan(pool, uid, count, True, None)

    @rule(
        uid=st.sampled_from(["A3", "I2", *UNIT_IDS]),  # A3 and I2 have plans most often
        change=st.sampled_from(["departure", "departure", "hire", "grow", "hire beyond quota"]),
        size=st.integers(1, 2),
    )
    def sync(self, uid: str, change: str, size: int) -> None:
        """A new snapshot: departures, hires into vacancies, approved growth, or (rarely) a
        hire beyond the quota, which the ledger records and flags."""
        u = self.units[uid]
        before_headcount = u.headcount
        over_before = {x for x, unit in self.units.items() if unit.over}
        if change == "departure":
            u.headcount = max(0, u.headcount - size)
        elif change == "hire":
            u.headcount += min(size, u.vacancies)
        elif change == "grow":
            u.approved += size
        else:
            u.headcount += 1
        result = self.ledger.sync(
            [self._unit_record(x) for x in UNIT_IDS], actor="model", effective=self.day
        )
        self._mark_expired()
        self._lapse()
        unplanned = self._post(uid, u.headcount - before_headcount)
        self._settle(uid)
        self._monthly_comparison(result, over_before, uid if unplanned else None)

    @precondition(lambda self: any(loan.outstanding for loan in self.loans))
    @rule(data=st.data())
    def manual_return(self, data: st.DataObject) -> None:
        loan = data.draw(st.sampled_from([loan for loan in self.loans if loan.outstanding]))
        count = data.draw(st.integers(1, loan.outstanding))
        self.ledger.return_loan(loan.loan_id, count=count, actor="model", effective=self.day)
        self._mark_expired()
        self._lapse()
        self._give_back(loan, count)
        self.manual_returns.append((self._return_seq(loan), loan, count))
        if loan.pool.startswith("unit:"):
            self._settle(loan.pool[5:])

    # ---- late and reversing entries (issue 13) -----------------------------------------
    # Whether the ledger accepts one depends on every date since (it replays in date order),
    # more than this model follows: a refusal must name a rule that can refuse it, and an
    # accepted one must change the figures exactly as the model says.

    def _return_seq(self, loan: MLoan) -> int:
        events = self.ledger.events(loan_id=loan.loan_id)
        manual = [e for e in events if e["kind"] == "loan_returned"]
        return max(e["seq"] for e in manual if e["payload"]["cause"] == "manual")

    @precondition(lambda self: any(loan.outstanding for loan in self.loans))
    @rule(data=st.data(), back=st.integers(1, 90))
    def late_manual_return(self, data: st.DataObject, back: int) -> None:
        last = self.ledger.state().effective
        assert last is not None
        day = last - timedelta(days=back)
        owed = [loan for loan in self.loans
                if loan.outstanding and loan.opened is not None and loan.opened <= day]  # fmt: skip
        if not owed:
            return
        loan = data.draw(st.sampled_from(owed))
        count = data.draw(st.integers(1, loan.outstanding))
        try:
            with self.ledger.late_entry("通知迟到"):
                self.ledger.return_loan(loan.loan_id, count=count, actor="model", effective=day)
        except RuleViolation as refused:
            assert refused.rule in {"ledger.late_entry_conflict", "return.closed"}, refused
            event(f"late return refused: {refused.rule}")
            return
        event("late return")
        self._give_back(loan, count)
        self.manual_returns.append((self._return_seq(loan), loan, count))
        if loan.pool.startswith("unit:"):
            self._settle(loan.pool[5:])

    @precondition(lambda self: bool(self.manual_returns))
    @rule(data=st.data())
    def reverse_return(self, data: st.DataObject) -> None:
        seq, loan, count = data.draw(st.sampled_from(self.manual_returns))
        try:
            self.ledger.reverse(seq, actor="model", reason="归还录错", effective=self.day)
        except RuleViolation as refused:
            assert refused.rule in REVERSAL_REFUSALS, refused
            event(f"reversal refused: {refused.rule}")
            return
        event("return reversed")
        self.manual_returns.remove((seq, loan, count))
        self._lapse()
        borrower = self.units[loan.borrower]
        loan.outstanding += count
        borrower.headcount -= count
        if loan.pool.startswith("unit:"):
            borrower.borrowed += count
            self.units[loan.pool[5:]].lent += count
        else:
            borrower.pool += count

    @precondition(lambda self: any(loan.outstanding for loan in self.loans))
    @rule(data=st.data(), extend=st.booleans(), score=st.integers(0, 100))
    def evaluate(self, data: st.DataObject, extend: bool, score: int) -> None:
        loan = data.draw(st.sampled_from([loan for loan in self.loans if loan.outstanding]))
        new_end = self.day + timedelta(days=365)
        decision = "extend" if extend else "return"
        if loan.status(self.day) != "expired":
            try:
                self.ledger.evaluate_loan(
                    loan.loan_id, score=score, decision=decision, new_end=new_end, actor="model",
                    effective=self.day,
                )  # fmt: skip
            except RuleViolation as refusal:
                assert refusal.rule == "evaluate.not_expired"
                return
            raise AssertionError("a loan that has not expired was evaluated")
        self.ledger.evaluate_loan(
            loan.loan_id, score=score, decision=decision, new_end=new_end, actor="model",
            effective=self.day,
        )  # fmt: skip
        self._mark_expired()
        self._lapse()
        event(f"evaluation: {decision}")
        if extend:
            loan.end, loan.expired = new_end, False
        else:
            self._give_back(loan, loan.outstanding)
            if loan.pool.startswith("unit:"):
                self._settle(loan.pool[5:])

    @rule(capacity=st.integers(0, 8))
    def rebuild(self, capacity: int) -> None:
        try:
            self.ledger.rebuild_pool(actor="model", capacity=capacity, effective=self.day)
        except RuleViolation as refusal:
            expected = (
                "institutional.period_running"
                if self.day < self.period_end
                else "institutional.capacity_below_lent"
            )
            assert refusal.rule == expected
            if expected == "institutional.capacity_below_lent":
                assert capacity < self.pool_lent("institutional")
            return
        assert self.day >= self.period_end and capacity >= self.pool_lent("institutional")
        self._mark_expired()
        self._lapse()
        self.inst_capacity = capacity
        self.period_end = plus_years(self.day, 2)

    # ---- quota-use plans and problems (SPEC 2.7/2.8, issue 11) -----------------------------

    def reserved(self, uid: str) -> int:
        """Reserved for this write: plans still valid on the write's day (the write lapses
        the others before it checks anything)."""
        return sum(
            p.remaining for p in self.plans if p.unit == uid and p.open and p.until >= self.day
        )

    def open_problems(self, uid: str) -> list[MProblem]:
        return [p for p in self.problems if p.unit == uid and p.open]

    def _lapse(self) -> None:
        """After every successful write: plans past their end lapse their unused part."""
        for plan in self.plans:
            if plan.open and plan.until < self.day:
                plan.lapsed += plan.remaining
                plan.status = "lapsed"
                event("plan lapsed")

    def _post(self, uid: str, rise: int) -> int:
        """A headcount rise posts against the unit's open plans, oldest first."""
        for plan in self.plans:
            if rise <= 0:
                break
            if plan.unit == uid and plan.open:
                take = min(rise, plan.remaining)
                plan.used += take
                rise -= take
                if plan.remaining == 0:
                    plan.status = "used"
                event("hire posted")
        return max(0, rise)

    def _monthly_comparison(
        self, result: dict, over_before: set[str], unplanned: str | None
    ) -> None:
        def present(problem: MProblem) -> bool:
            if problem.cause == "over_quota":
                return self.units[problem.unit].over
            if problem.cause == "loan_overdue":
                loan = next(loan for loan in self.loans if loan.loan_id == problem.subject)
                return loan.status(self.day) == "expired"
            return True

        closing = [p for p in self.problems if p.open and p.cause and not present(p)]
        assert sorted(result["problems_closed"]) == sorted(p.problem_id for p in closing)
        for problem in closing:
            problem.open = False
            event("automatic problem closed")
        causes = {(p.cause, p.subject) for p in self.problems if p.open and p.cause}
        expected = [(x, "over_quota", x) for x in UNIT_IDS
                    if self.units[x].over and x not in over_before]  # fmt: skip
        if unplanned:
            expected.append((unplanned, "unplanned_hire", str(len(self.problems))))
        expected += [
            (loan.borrower, "loan_overdue", loan.loan_id)
            for loan in self.loans
            if loan.status(self.day) == "expired" and ("loan_overdue", loan.loan_id) not in causes
        ]
        expected = [e for e in expected if (e[1], e[2]) not in causes]
        opened = result["problems_opened"]
        assert [(p["unit_id"], p["cause"]) for p in opened] == [(u, c) for u, c, _ in expected]
        for item, (unit_id, cause, subject) in zip(opened, expected, strict=True):
            self.problems.append(MProblem(item["problem_id"], unit_id, cause, subject))
            event(f"automatic problem opened: {cause}")

    @rule(
        uid=st.sampled_from(["A3", "A3", "I2", *UNIT_IDS]),  # mostly units with vacancies
        count=st.integers(1, 4),
        days=st.integers(0, 120),
        key=st.sampled_from([None, None, "p1"]),
    )
    def approve_plan(self, uid: str, count: int, days: int, key: str | None) -> None:
        u = self.units[uid]
        until = self.day + timedelta(days=days)
        broken = set()
        if self.open_problems(uid):
            broken.add("problem.open_blocks")
        if count > max(0, u.vacancies - self.reserved(uid)):
            broken.add("useplan.free_vacancies")
        earlier = next((p for p in self.plans if p.key == key), None) if key else None
        if key in self.keys:
            broken = {"useplan.key_conflict"}
        elif earlier is not None:
            same = (earlier.unit, earlier.count, earlier.until, earlier.approved_on)
            broken = set() if same == (uid, count, until, self.day) else {"useplan.key_conflict"}
        try:
            result = self.ledger.approve_plan(
                unit_id=uid, count=count, channel="公开招聘", purpose="招录", actor="model",
                until=until, key=key, effective=self.day,
            )  # fmt: skip
        except RuleViolation as refusal:
            assert broken and refusal.rule in broken, (refusal.rule, broken)
            event(f"plan refused: {refusal.rule}")
            return
        assert not broken, f"plan accepted although the model finds {broken} broken"
        if earlier is not None:
            assert result["replayed"] and result["plan_id"] == earlier.plan_id
            return
        self._mark_expired()
        self._lapse()
        self.plans.append(MPlan(result["plan_id"], uid, count, until, self.day, key))
        event("plan approved")

    @precondition(lambda self: any(p.open for p in self.plans))
    @rule(data=st.data(), size=st.integers(1, 3))
    def hire_on_plan(self, data: st.DataObject, size: int) -> None:
        """A snapshot with hires in a unit that has an open plan (posted oldest first)."""
        plan = data.draw(st.sampled_from([p for p in self.plans if p.open]))
        self.sync(plan.unit, "hire", size)

    @precondition(lambda self: any(p.open for p in self.plans))
    @rule(data=st.data())
    def withdraw_plan(self, data: st.DataObject) -> None:
        plan = data.draw(st.sampled_from([p for p in self.plans if p.open]))
        try:
            self.ledger.withdraw_plan(
                plan.plan_id, actor="model", reason="调整", effective=self.day
            )
        except RuleViolation as refusal:  # it lapsed before the withdrawal could take it
            assert plan.until < self.day and refusal.rule == "useplan.not_open"
            return
        assert plan.until >= self.day
        self._mark_expired()
        self._lapse()
        plan.withdrawn += plan.remaining
        plan.status = "withdrawn"
        event("plan withdrawn")

    @rule(uid=st.sampled_from(UNIT_IDS))
    def open_problem(self, uid: str) -> None:
        result = self.ledger.open_problem(
            unit_id=uid, kind="混编混岗", deadline=self.day + timedelta(days=30), actor="model",
            effective=self.day,
        )  # fmt: skip
        self._mark_expired()
        self._lapse()
        self.problems.append(MProblem(result["problem"]["problem_id"], uid, "", ""))
        event("problem opened by hand")

    @precondition(lambda self: any(p.open for p in self.problems))
    @rule(data=st.data())
    def close_problem(self, data: st.DataObject) -> None:
        problem = data.draw(st.sampled_from([p for p in self.problems if p.open]))
        self.ledger.close_problem(
            problem.problem_id, actor="model", reason="已整改", effective=self.day
        )
        self._mark_expired()
        self._lapse()
        problem.open = False
        event("problem closed by hand")

    @invariant()
    def books_match_model(self) -> None:
        status = self.ledger.useplans()
        plans = {plan["plan_id"]: plan for plan in status["plans"]}
        assert set(plans) == {plan.plan_id for plan in self.plans}
        for plan in self.plans:
            got = plans[plan.plan_id]
            figures = (got["used"], got["lapsed"], got["withdrawn"], got["status"])
            assert figures == (plan.used, plan.lapsed, plan.withdrawn, plan.status), got
        open_ids = {item["problem_id"] for item in self.ledger.problems(only_open=True)}
        assert open_ids == {p.problem_id for p in self.problems if p.open}

    # ---- teacher plans (SPEC 2.9) -------------------------------------------------------

    @rule(
        data=st.data(),
        stale=st.sampled_from([False, False, True]),
        extra=st.sampled_from([0, 0, 3]),
        moves=st.lists(st.tuples(st.sampled_from(TEACHER_IDS), st.sampled_from(TEACHER_IDS),
                                 st.integers(1, 15)), max_size=4),
    )  # fmt: skip
    def apply_teacher_plan(
        self, data: st.DataObject, stale: bool, extra: int, moves: list[tuple[str, str, int]]
    ) -> None:
        """A plan moving quota between counties (and adding `extra` to the first), computed
        from the model's quotas, or from figures that are off by one somewhere (stale)."""
        current = dict(self.teacher) or dict(TEACHER_START)
        if stale and self.teacher:
            county = data.draw(st.sampled_from(TEACHER_IDS))
            current[county] += 1
        new = dict(current)
        new[TEACHER_IDS[0]] += extra
        for giver, taker, count in moves:
            count = min(count, new[giver])
            new[giver] -= count
            new[taker] += count
        folder = Path(self.tmp.name) / f"plan{len(self.teacher_plans)}-{data.draw(st.uuids())}"
        write_plan_dir(folder, [(c, current[c], new[c]) for c in TEACHER_IDS], extra=extra)
        try:
            result = self.ledger.apply_teacher_plan(
                folder, actor="model", document="文号", effective=self.day
            )
        except RuleViolation as refusal:
            assert stale and current != self.teacher, refusal
            assert refusal.rule == "teacher.stale_plan"
            event("teacher plan refused: stale")
            return
        assert not (stale and self.teacher and current != self.teacher), "stale plan applied"
        assert result["total_after"] == sum(current.values()) + extra
        event("teacher plan applied")
        self._mark_expired()
        self._lapse()
        self.teacher = new
        self.teacher_plans.append((folder, new))

    @precondition(lambda self: bool(self.teacher_plans))
    @rule(data=st.data())
    def apply_teacher_plan_again(self, data: st.DataObject) -> None:
        folder, _ = data.draw(st.sampled_from(self.teacher_plans))
        try:
            self.ledger.apply_teacher_plan(
                folder, actor="model", document="文号", effective=self.day
            )
        except RuleViolation as refusal:
            assert refusal.rule == "teacher.plan_already_applied"
            return
        raise AssertionError("a plan was applied twice")

    # ---- invariants --------------------------------------------------------------------

    @invariant()
    def ledger_matches_model(self) -> None:
        status = self.ledger.status(as_of=None)
        for row in status["units"]:
            u = self.units[row["unit_id"]]
            got = (
                row["approved"],
                row["headcount"],
                row["pool_headcount"],
                row["borrowed"],
                row["lent"],
            )
            assert got == (u.approved, u.headcount, u.pool, u.borrowed, u.lent), row
            assert (row["vacancies"], row["over_quota"]) == (u.vacancies, u.over), row
            assert row["usable"] == u.approved + u.borrowed - u.lent
        admin, inst = status["pools"]["admin"], status["pools"]["institutional"]
        assert (admin["capacity"], admin["lent"]) == (
            self.admin_capacity(),
            self.pool_lent("admin"),
        )
        assert (inst["capacity"], inst["lent"]) == (
            self.inst_capacity,
            self.pool_lent("institutional"),
        )
        for figures in (admin, inst):
            assert figures["lent"] + figures["available"] == figures["capacity"]
        loans = {loan["loan_id"]: loan for loan in self.ledger.loans(as_of=self.day)}
        assert set(loans) == {loan.loan_id for loan in self.loans}
        for loan in self.loans:
            got = loans[loan.loan_id]
            assert (got["outstanding"], got["status"]) == (loan.outstanding, loan.status(self.day))
        # no unit's people on borrowed or pool quota without a loan behind them
        assert sum(u.pool for u in self.units.values()) == self.pool_lent("admin") + self.pool_lent(
            "institutional"
        )

    @invariant()
    def teacher_quotas_match_model(self) -> None:
        teacher = self.ledger.teacher()
        assert {c["county_id"]: c["quota"] for c in teacher["counties"]} == self.teacher
        assert teacher["total"] == sum(self.teacher.values())

    @invariant()
    def answers_as_of_an_earlier_day(self) -> None:
        last = self.ledger.state().effective
        if last is not None and last > START:
            earlier = self.ledger.status(as_of=last - timedelta(days=1))
            for figures in earlier["pools"].values():
                assert figures["lent"] >= 0

    @invariant()
    def verify_passes(self) -> None:
        result = self.ledger.verify()
        assert result["ok"], result["problems"]


LedgerMachine.TestCase.settings = settings(
    max_examples=int(__import__("os").environ.get("LEDGER_EXAMPLES", 25)),
    stateful_step_count=30,
    deadline=None,
)
TestLedgerStateful = LedgerMachine.TestCase
