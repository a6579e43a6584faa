"""The simulator's independent model of the ledger, written from SPEC 2.1–2.4, 2.6–2.9.

It imports nothing from `pools` but plain data (it never calls a rule or the fold): units
with approved quota, headcount, lent, borrowed and pool headcount; loans with their
outstanding quotas, term and evaluations; the two turnover pools. For every request it says
which rules the request breaks (a set of rule codes: the ledger must refuse exactly when it is
not empty, naming one of them), and when it is accepted it applies the command, counting the
events the ledger must write (so it predicts the head's sequence number and the next loan id).

Accounting, from the SPEC (the documented decisions of `pools.state` are SPEC readings too):
own limit = approved − lent; own vacancies = max(0, own limit − headcount); over quota when
headcount > own limit; usable = approved + borrowed − lent; the people on a loan are its
outstanding quotas; a return moves them onto the borrower's own quota; 空一还一 returns one
quota of the borrower's oldest loan per own vacancy, and a lender that gets quota back settles
in its turn. Administrative pool: capacity = floor(share × Σ own vacancies of municipal
administrative organs), zero while they are over quota as a whole. Institutional pool: a set
capacity for a period; rebuilt after it ends, never below what is lent.

Quota-use plans (SPEC 2.7, with the decisions the README documents): a plan reserves own
vacancies; free vacancies = max(0, own vacancies − reserved); a plan may not reserve more than
the free vacancies; a lender lends only free vacancies (空一还一 still comes first: it looks at
own vacancies); every write dated after a plan's validity end first lapses its unused part
(oldest plan first); a sync posts a unit's headcount rise against its open plans, oldest
first, and what no plan covers is a hire without a plan; a unit leaving the ledger takes its
open problems (closed, saying it left) and open plans (withdrawn) with it. Problems (SPEC
2.8): an open problem of a unit refuses a new loan to it or plan for it
(`problem.open_blocks`) unless the setting makes it a warning; each
sync closes the automatic problems whose cause has gone (the unit is no longer over quota or
gone; the loan is no longer overdue; a hire without a plan never goes away) and then opens one
per unit newly over quota (over now, not over before the snapshot), per unit with hires
without a plan, per overdue loan without one. Teacher plans (SPEC 2.9): county accounts
registered by the first plan; a plan is refused if not optimal, applied before, computed from
other quotas (stale) or changing the total by other than its extra quota. Every event keeps
its command's 文号, so that a correction (which must change it) is predicted too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

ADMIN_PURPOSES = ("引进生", "博士选调生")
INSTITUTIONAL_PURPOSES = ("重点领域", "重点岗位", "高层次人才", "急需紧缺人才")
MUNICIPAL, COUNTY = "municipal", "county"
ADMINISTRATIVE, INSTITUTIONAL = "administrative", "institutional"
CHANNELS = ("公开招聘", "选调", "军转安置", "人才引进", "其他")
PROBLEM_KINDS = (
    "超编进人",
    "超职数配备",
    "无计划进人",
    "擅自设立机构",
    "混编混岗",
    "借用逾期未还",
    "其他",
)
AUTO_KINDS = {
    "over_quota": "超编进人",
    "unplanned_hire": "无计划进人",
    "loan_overdue": "借用逾期未还",
}
SYNC_REASON = "headcount snapshot"  # the reason a sync's events carry when none is given


def plus_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a year without it."""
    year = day.year + years
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if day.month == 2 and day.day == 29 and not leap:
        return date(year, 2, 28)
    return date(year, day.month, day.day)


@dataclass(frozen=True)
class ModelSettings:
    admin_share: str = "0.2"  # as text, the exact decimal the setting means
    institutional_capacity: int = 6
    term_years: int = 1
    pool_period_years: int = 2
    max_future_days: int = 31
    max_removed_share: float = 0.05
    problems_block: bool = True
    problem_deadline_days: int = 90
    problem_kinds: tuple[str, ...] = PROBLEM_KINDS


@dataclass
class MUnit:
    unit_id: str
    name: str
    region: str
    level: str
    kind: str
    approved: int
    headcount: int
    lent: int = 0
    borrowed: int = 0
    pool: int = 0

    @property
    def own_limit(self) -> int:
        return self.approved - self.lent

    @property
    def vacancies(self) -> int:
        return max(0, self.own_limit - self.headcount)

    @property
    def over(self) -> bool:
        return self.headcount > self.own_limit

    @property
    def admin_organ(self) -> bool:
        return self.level == MUNICIPAL and self.kind == ADMINISTRATIVE

    def record(self) -> tuple[str, str, str, str, str, int, int]:
        """What a snapshot file says of the unit."""
        return (
            self.unit_id, self.name, self.region, self.level, self.kind, self.approved,
            self.headcount,
        )  # fmt: skip


@dataclass
class MLoan:
    loan_id: str
    pool: str  # admin | institutional | unit:<lender>
    borrower: str
    count: int
    outstanding: int
    purpose: str
    opened: date
    end: date | None
    key: str | None = None
    document: str = ""
    reason: str = ""
    expired: bool = False  # the ledger wrote its expiry (a write on or after the end)
    returned: dict[str, int] = field(default_factory=dict)
    evaluations: list[tuple[str, int, str, str | None]] = field(default_factory=list)

    @property
    def lender(self) -> str | None:
        return self.pool[5:] if self.pool.startswith("unit:") else None

    def status(self, day: date) -> str:
        if self.outstanding == 0:
            return "closed"
        if self.expired or (self.end is not None and self.end <= day):
            return "expired"
        return "open"


@dataclass
class MPlan:
    plan_id: str
    unit_id: str
    count: int
    channel: str
    purpose: str
    until: date
    approved_on: date
    actor: str
    document: str = ""
    reason: str = ""
    key: str | None = None
    used: int = 0
    lapsed: int = 0
    withdrawn: int = 0
    status: str = "open"  # open | used | lapsed | withdrawn

    @property
    def remaining(self) -> int:
        return self.count - self.used - self.lapsed - self.withdrawn

    def release(self, count: int, how: str) -> None:
        setattr(self, how, getattr(self, how) + count)
        if self.remaining == 0:
            self.status = how


@dataclass
class MProblem:
    problem_id: str
    unit_id: str
    kind: str
    deadline: date
    opened_on: date
    actor: str
    reason: str
    document: str = ""
    cause: str = ""  # "" by hand; else "<cause>:<subject>"
    status: str = "open"
    closed_on: date | None = None
    close_reason: str = ""

    def view(self, day: date) -> dict[str, object]:
        return {
            "problem_id": self.problem_id,
            "unit_id": self.unit_id,
            "kind": self.kind,
            "document": self.document,
            "deadline": self.deadline.isoformat(),
            "opened_on": self.opened_on.isoformat(),
            "opened_by": self.actor,
            "reason": self.reason,
            "automatic": bool(self.cause),
            "cause": self.cause.split(":", 1)[0] if self.cause else None,
            "status": self.status,
            "closed_on": None if self.closed_on is None else self.closed_on.isoformat(),
            "close_reason": self.close_reason,
            "age_days": ((self.closed_on or day) - self.opened_on).days,
            "overdue": self.status == "open" and self.deadline < day,
        }


@dataclass
class MCounty:
    name: str
    quota: int
    last_plan: str | None = None
    last_applied: date | None = None


@dataclass(frozen=True)
class MTeacherPlan:
    """What the model needs of a teacher plan (SPEC 2.9): one year, county by county."""

    plan_id: str
    scenario_hash: str
    status: str
    extra_quota: int
    counties: tuple[tuple[str, str, int, int], ...]  # (county, name, current, new)

    @property
    def current(self) -> dict[str, int]:
        return {c: cur for c, _n, cur, _new in self.counties}


@dataclass
class Model:
    settings: ModelSettings
    units: dict[str, MUnit] = field(default_factory=dict)  # registration order
    loans: dict[str, MLoan] = field(default_factory=dict)  # opening order
    keys: dict[str, str] = field(default_factory=dict)
    plans: dict[str, MPlan] = field(default_factory=dict)  # approval order
    plan_keys: dict[str, str] = field(default_factory=dict)
    problems: dict[str, MProblem] = field(default_factory=dict)  # opening order
    documents: list[str] = field(default_factory=list)  # the 文号 each event was sealed with
    corrected: dict[int, str] = field(default_factory=dict)  # seq -> its 文号 as corrected
    document_now: str = ""  # the 文号 of the command being written
    teacher: dict[str, MCounty] = field(default_factory=dict)  # county accounts (SPEC 2.9)
    applications: dict[str, dict[str, object]] = field(default_factory=dict)
    teacher_keys: dict[str, str] = field(default_factory=dict)  # key -> application
    rotations: int = 0
    inst_capacity: int = 0
    period_end: date | None = None
    last_day: date | None = None  # effective date of the ledger's last event
    seq: int = 0
    initialised: bool = False

    # ---- figures ------------------------------------------------------------------------

    def _admin_group(self) -> list[MUnit]:
        return [u for u in self.units.values() if u.admin_organ]

    def admin_suspended(self) -> bool:
        return sum(u.headcount - u.own_limit for u in self._admin_group()) > 0

    def admin_vacancy_base(self) -> int:
        return sum(u.vacancies for u in self._admin_group())

    def admin_capacity(self) -> int:
        if self.admin_suspended():
            return 0
        share = Fraction(self.settings.admin_share)
        return (share.numerator * self.admin_vacancy_base()) // share.denominator

    def pool_lent(self, pool: str) -> int:
        return sum(loan.outstanding for loan in self.loans.values() if loan.pool == pool)

    def open_loans_of(self, borrower: str) -> list[MLoan]:
        return [
            loan for loan in self.loans.values() if loan.borrower == borrower and loan.outstanding
        ]

    def open_plans(self, uid: str | None = None, day: date | None = None) -> list[MPlan]:
        """Open plans (of a unit), oldest first; with `day`, those a write of that day leaves
        open (the others lapse first)."""
        return [
            plan
            for plan in self.plans.values()
            if plan.status == "open"
            and (uid is None or plan.unit_id == uid)
            and (day is None or plan.until >= day)
        ]

    def reserved(self, uid: str, day: date | None = None) -> int:
        return sum(plan.remaining for plan in self.open_plans(uid, day))

    def free(self, uid: str, day: date | None = None) -> int:
        return max(0, self.units[uid].vacancies - self.reserved(uid, day))

    def open_problems(self, uid: str | None = None) -> list[MProblem]:
        return [
            p for p in self.problems.values() if p.status == "open" and uid in (None, p.unit_id)
        ]

    def blocked(self, uid: str) -> set[str]:
        """SPEC 2.8: an open problem refuses new quota for the unit (if the setting says so)."""
        if self.settings.problems_block and self.open_problems(uid):
            return {"problem.open_blocks"}
        return set()

    def warned(self, uid: str) -> bool:
        return not self.settings.problems_block and bool(self.open_problems(uid))

    # ---- rules of every write -------------------------------------------------------------

    def date_broken(self, effective: date, today: date) -> set[str]:
        found = set()
        if (effective - today).days > self.settings.max_future_days:
            found.add("ledger.future_dated")
        if self.last_day is not None and effective < self.last_day:
            found.add("ledger.backdated")
        return found

    def _event(self, day: date) -> None:
        self.seq += 1
        self.last_day = day
        self.documents.append(self.document_now)

    def begin(self, day: date, document: str = "") -> int:
        """What every write does once its date is accepted: plans past their validity end
        lapse their unused part (oldest first). Returns how many lapsed. `document`: the
        command's 文号, which each of its events carries."""
        self.document_now = document
        due = [plan for plan in self.open_plans() if plan.until < day]
        for plan in due:
            plan.release(plan.remaining, "lapsed")
            self._event(day)
        return len(due)

    def lapsing(self, day: date) -> int:
        return sum(1 for plan in self.open_plans() if plan.until < day)

    # ---- init ---------------------------------------------------------------------------

    def init(self, units: list[MUnit], day: date) -> None:
        self.document_now = ""
        self.initialised = True
        self.inst_capacity = self.settings.institutional_capacity
        self.period_end = plus_years(day, self.settings.pool_period_years)
        self._event(day)
        for unit in units:
            self.units[unit.unit_id] = unit
            self._event(day)

    # ---- expiries and 空一还一 -------------------------------------------------------------

    def expire_due(self, day: date) -> list[str]:
        due = [
            loan
            for loan in self.loans.values()
            if loan.outstanding and not loan.expired and loan.end is not None and loan.end <= day
        ]
        for loan in due:
            loan.expired = True
            self._event(day)
        return [loan.loan_id for loan in due]

    def _give_back(self, loan: MLoan, count: int, cause: str, day: date) -> None:
        borrower = self.units[loan.borrower]
        loan.outstanding -= count
        loan.returned[cause] = loan.returned.get(cause, 0) + count
        borrower.headcount += count  # the people move onto the borrower's own quota
        lender = loan.lender
        if lender is None:
            borrower.pool -= count
        else:
            borrower.borrowed -= count
            self.units[lender].lent -= count
        self._event(day)

    def settle(self, first: str, day: date) -> int:
        """空一还一 from unit `first` on; returns how many quotas came back."""
        back = 0
        work = [first]
        while work:
            uid = work.pop(0)
            while uid in self.units and self.units[uid].vacancies > 0:
                owed = self.open_loans_of(uid)
                if not owed:
                    break
                loan = owed[0]
                self._give_back(loan, 1, "vacancy", day)
                back += 1
                lender = loan.lender
                if lender is not None and lender not in work:
                    work.append(lender)
        return back

    # ---- sync -----------------------------------------------------------------------------

    def sync_broken(
        self, snapshot: list[MUnit], allow_removals: bool, day: date, today: date
    ) -> set[str]:
        found = self.date_broken(day, today)
        seen = {u.unit_id for u in snapshot}
        gone = [uid for uid in self.units if uid not in seen]
        for uid in gone:
            unit = self.units[uid]
            if unit.lent or unit.borrowed or unit.pool:
                found.add("sync.unit_with_loans_missing")
        limit = max(1.0, self.settings.max_removed_share * len(self.units))
        if not allow_removals and len(gone) > limit:
            found.add("sync.mass_removal")
        return found

    def sync(self, snapshot: list[MUnit], day: date) -> dict[str, int]:
        """Apply an accepted snapshot; the counts of what it did."""
        seen = {u.unit_id for u in snapshot}
        gone = [uid for uid in self.units if uid not in seen]
        lapsed = self.begin(day)
        over_before = {uid for uid, unit in self.units.items() if unit.over}
        counts = {"expired": len(self.expire_due(day)), "returns": 0, "changes": 0}
        counts |= {"lapsed": lapsed, "posted": 0, "withdrawn": 0}
        unplanned: dict[str, int] = {}
        for record in snapshot:
            current = self.units.get(record.unit_id)
            if current is None:
                self.units[record.unit_id] = MUnit(*record.record())
                self._event(day)
                counts["changes"] += 1
                continue
            if current.record() == record.record():
                continue
            rise = record.headcount - current.headcount
            for name in ("name", "region", "level", "kind", "approved", "headcount"):
                setattr(current, name, getattr(record, name))
            self._event(day)
            counts["changes"] += 1
            if rise > 0:
                left = self.post_hires(record.unit_id, rise, day)
                counts["posted"] += rise - left
                if left:
                    unplanned[record.unit_id] = left
            counts["returns"] += self.settle(record.unit_id, day)
        left_closed = 0
        for uid in gone:
            for problem in self.open_problems(uid):  # closed first: nothing left to rectify
                left = f"unit {uid} left the ledger with the snapshot of {day} "
                left += f"(单位 {uid} 随 {day} 快照移出台账); {SYNC_REASON}"
                self._close_problem(problem, left, day)
                left_closed += 1
            for plan in self.open_plans(uid):  # nothing stays reserved for a unit that is gone
                plan.release(plan.remaining, "withdrawn")
                self._event(day)
                counts["withdrawn"] += 1
            del self.units[uid]
            self._event(day)
            counts["changes"] += 1
        counts |= self.monthly_comparison(unplanned, over_before, day)
        counts["problems_closed"] += left_closed
        return counts

    def post_hires(self, uid: str, rise: int, day: date) -> int:
        """A headcount rise posts against the unit's open plans, oldest first; returns the part
        no plan covers (hires without a plan)."""
        for plan in self.open_plans(uid):
            if rise == 0:
                break
            count = min(rise, plan.remaining)
            plan.release(count, "used")
            self._event(day)
            rise -= count
        return rise

    def _cause_present(self, cause: str, day: date) -> bool:
        what, subject = cause.split(":", 1)
        if what == "over_quota":
            return subject in self.units and self.units[subject].over
        if what == "loan_overdue":
            loan = self.loans.get(subject)
            return loan is not None and loan.status(day) == "expired"
        return True  # a hire without a plan happened: closed by hand only

    def monthly_comparison(
        self, unplanned: dict[str, int], over_before: set[str], day: date
    ) -> dict[str, int]:
        """月比对: close the automatic problems whose cause has gone, open the new ones."""
        closed = 0
        for problem in self.open_problems():
            if problem.cause and not self._cause_present(problem.cause, day):
                self._close_problem(problem, SYNC_REASON, day)
                closed += 1
        found = [
            (uid, f"over_quota:{uid}")
            for uid, unit in self.units.items()
            if unit.over and uid not in over_before
        ]
        found += [(uid, f"unplanned_hire:{uid}@{self.seq}") for uid in unplanned]
        found += [
            (loan.borrower, f"loan_overdue:{loan.loan_id}")
            for loan in self.loans.values()
            if loan.status(day) == "expired" and loan.borrower in self.units
        ]
        causes = {p.cause for p in self.open_problems() if p.cause}
        opened = 0
        for uid, cause in found:
            if cause in causes:
                continue
            kind = AUTO_KINDS[cause.split(":", 1)[0]]
            if kind not in self.settings.problem_kinds:
                kind = (
                    "其他"
                    if "其他" in self.settings.problem_kinds
                    else self.settings.problem_kinds[-1]
                )
            deadline = day + timedelta(days=self.settings.problem_deadline_days)
            self._open_problem(uid, kind, deadline, day, "模拟器", SYNC_REASON, "", cause)
            causes.add(cause)
            opened += 1
        return {"problems_opened": opened, "problems_closed": closed}

    # ---- quota-use plans (SPEC 2.7) ---------------------------------------------------------

    def approve_broken(
        self,
        uid: str,
        count: int,
        channel: str,
        purpose: str,
        until: date | None,
        day: date,
        today: date,
    ) -> set[str]:
        found = self.date_broken(day, today)
        if channel not in CHANNELS:
            found.add("useplan.channel")
        if count < 1:
            found.add("useplan.count")
        if uid not in self.units:
            found.add("useplan.unknown_unit")
        if not purpose.strip():
            found.add("useplan.purpose_missing")
        if (until or date(day.year, 12, 31)) < day:
            found.add("useplan.validity")
        if uid not in self.units:
            return found
        found |= self.blocked(uid)
        if count > self.free(uid, day):
            found.add("useplan.free_vacancies")
        return found

    def approve(
        self,
        uid: str,
        count: int,
        channel: str,
        purpose: str,
        until: date | None,
        day: date,
        actor: str,
        key: str | None,
        document: str,
        reason: str,
    ) -> MPlan:
        self.begin(day, document)
        plan_id = f"UP{self.seq + 1:06d}"
        plan = MPlan(plan_id, uid, count, channel, purpose.strip(), until or date(day.year, 12, 31),
                     day, actor, document, reason, key)  # fmt: skip
        self.plans[plan_id] = plan
        if key is not None:
            self.plan_keys[key] = plan_id
        self._event(day)
        return plan

    def plan_request_differs(
        self,
        plan: MPlan,
        uid: str,
        count: int,
        channel: str,
        purpose: str,
        until: date | None,
        day: date,
        document: str,
        reason: str,
    ) -> bool:
        asked = (uid, count, channel, purpose.strip(), until or date(plan.approved_on.year, 12, 31),
                 day, document, reason)  # fmt: skip
        stored = (plan.unit_id, plan.count, plan.channel, plan.purpose, plan.until,
                  plan.approved_on, plan.document, plan.reason)  # fmt: skip
        return asked != stored

    def withdraw_broken(self, plan_id: str, reason: str, day: date, today: date) -> set[str]:
        found = self.date_broken(day, today)
        plan = self.plans.get(plan_id)
        if plan is None:
            return found | {"useplan.unknown_plan"}
        if plan.status != "open" or plan.until < day:  # a plan past its end lapses first
            return found | {"useplan.not_open"}
        if not reason.strip():
            found.add("useplan.reason_missing")
        return found

    def withdraw(self, plan_id: str, day: date) -> None:
        self.begin(day)
        plan = self.plans[plan_id]
        plan.release(plan.remaining, "withdrawn")
        self._event(day)

    # ---- problems (SPEC 2.8) ------------------------------------------------------------------

    def problem_open_broken(
        self, uid: str, kind: str, deadline: date, day: date, today: date
    ) -> set[str]:
        found = self.date_broken(day, today)
        if uid not in self.units:
            found.add("problem.unknown_unit")
        if kind.strip() not in self.settings.problem_kinds:
            found.add("problem.kind")
        if deadline < day:
            found.add("problem.deadline")
        return found

    def _open_problem(
        self,
        uid: str,
        kind: str,
        deadline: date,
        day: date,
        actor: str,
        reason: str,
        document: str,
        cause: str = "",
    ) -> MProblem:
        problem_id = f"PB{self.seq + 1:06d}"
        problem = MProblem(problem_id, uid, kind.strip(), deadline, day, actor, reason, document,
                           cause)  # fmt: skip
        self.problems[problem_id] = problem
        self._event(day)
        return problem

    def open_problem(
        self, uid: str, kind: str, deadline: date, day: date, actor: str, reason: str,
        document: str,
    ) -> MProblem:  # fmt: skip
        self.begin(day, document)
        return self._open_problem(uid, kind, deadline, day, actor, reason, document)

    def problem_close_broken(
        self, problem_id: str, reason: str, day: date, today: date
    ) -> set[str]:
        found = self.date_broken(day, today)
        problem = self.problems.get(problem_id)
        if problem is None:
            return found | {"problem.unknown"}
        if problem.status != "open":
            return found | {"problem.closed"}
        if not reason.strip():
            found.add("problem.reason_missing")
        return found

    def _close_problem(self, problem: MProblem, reason: str, day: date) -> None:
        problem.status, problem.closed_on, problem.close_reason = "closed", day, reason
        self._event(day)

    def close_problem(self, problem_id: str, reason: str, day: date) -> None:
        self.begin(day)
        self._close_problem(self.problems[problem_id], reason, day)

    # ---- loans ----------------------------------------------------------------------------

    def open_broken(
        self,
        pool: str,
        uid: str,
        count: int,
        purpose: str,
        term: int | None,
        day: date,
        today: date,
    ) -> set[str]:
        """Every rule the request breaks (the key is looked at by the caller, first)."""
        found = set()
        if term is not None and not 1 <= term <= 50:
            found.add("loan.term")
        found |= self.date_broken(day, today)
        if count < 1:
            found.add("loan.count")
        borrower = self.units.get(uid)
        if borrower is None:
            found.add("loan.unknown_unit")
        kind = "unit" if pool.startswith("unit:") and len(pool) > 5 else pool
        if kind not in ("admin", "institutional", "unit"):
            found.add("loan.unknown_pool")
        if borrower is None or "loan.unknown_pool" in found:
            return found
        purpose = purpose.strip()
        if kind == "unit":
            lender = self.units.get(pool[5:])
            if lender is None:
                found.add("loan.unknown_unit")
                return found
            if lender.unit_id == uid:
                found.add("unit.self_loan")
                return found
            if not purpose:
                found.add("unit.purpose_missing")
            if self.free(lender.unit_id, day) < count:  # reserved vacancies are not spare
                found.add("unit.lender_no_spare")
        elif kind == "admin":
            if not borrower.admin_organ:
                found.add("admin.borrower_not_eligible")
            if purpose not in ADMIN_PURPOSES:
                found.add("admin.purpose")
            if self.admin_suspended():
                found.add("admin.pool_suspended")
            if self.pool_lent("admin") + count > self.admin_capacity():
                found.add("pool.capacity")
        else:
            if borrower.kind != INSTITUTIONAL:
                found.add("institutional.borrower_not_eligible")
            if purpose not in INSTITUTIONAL_PURPOSES:
                found.add("institutional.purpose")
            if self.period_end is not None and day >= self.period_end:
                found.add("institutional.period_ended")
            if self.pool_lent("institutional") + count > self.inst_capacity:
                found.add("pool.capacity")
        if borrower.over:
            found.add("unit.over_quota")
        if borrower.vacancies > 0:
            found.add("loan.borrower_has_vacancy")
        return found | self.blocked(uid)

    def default_term(self, pool: str) -> int | None:
        return None if pool == "admin" else self.settings.term_years

    def open(
        self,
        pool: str,
        uid: str,
        count: int,
        purpose: str,
        term: int | None,
        day: date,
        key: str | None,
        document: str,
        reason: str,
    ) -> MLoan:
        self.begin(day, document)
        self.expire_due(day)
        years = self.default_term(pool) if term is None else term
        end = None if years is None else plus_years(day, years)
        loan_id = f"L{self.seq + 1:06d}"
        loan = MLoan(loan_id, pool, uid, count, count, purpose.strip(), day, end, key, document,
                     reason)  # fmt: skip
        self.loans[loan_id] = loan
        if key is not None:
            self.keys[key] = loan_id
        lender = loan.lender
        if lender is None:
            self.units[uid].pool += count
        else:
            self.units[lender].lent += count
            self.units[uid].borrowed += count
        self._event(day)
        return loan

    def key_request_differs(
        self,
        loan: MLoan,
        pool: str,
        uid: str,
        count: int,
        purpose: str,
        term: int | None,
        day: date,
        document: str,
        reason: str,
    ) -> bool:
        years = self.default_term(loan.pool) if term is None else term
        end = None if years is None else plus_years(loan.opened, years)
        asked = (pool, uid, count, purpose.strip(), day, document, reason)
        stored = (loan.pool, loan.borrower, loan.count, loan.purpose, loan.opened,
                  loan.document, loan.reason)  # fmt: skip
        # a term the retry leaves unsaid (an admin loan without one) is not compared
        return asked != stored or (end is not None and end != loan.end)

    # ---- returns, evaluations, rebuilds ------------------------------------------------------

    def return_broken(self, loan_id: str, count: int | None, day: date, today: date) -> set[str]:
        found = self.date_broken(day, today)
        loan = self.loans.get(loan_id)
        if loan is None:
            return found | {"return.unknown_loan"}
        if loan.outstanding == 0:
            return found | {"return.closed"}
        if count is not None and not 1 <= count <= loan.outstanding:
            found.add("return.too_many")
        return found

    def return_loan(self, loan_id: str, count: int | None, day: date) -> None:
        loan = self.loans[loan_id]
        self.begin(day)
        self.expire_due(day)
        self._give_back(loan, loan.outstanding if count is None else count, "manual", day)
        if loan.lender is not None:
            self.settle(loan.lender, day)

    def evaluate_broken(
        self,
        loan_id: str,
        score: int,
        decision: str,
        new_end: date | None,
        day: date,
        today: date,
    ) -> set[str]:
        found = self.date_broken(day, today)
        loan = self.loans.get(loan_id)
        if loan is None:
            return found | {"return.unknown_loan"}
        if loan.status(day) != "expired":
            return found | {"evaluate.not_expired"}
        if not 0 <= score <= 100:
            found.add("evaluate.score")
        if decision not in ("extend", "return"):
            found.add("evaluate.decision")
        elif decision == "extend" and (new_end is None or new_end <= day):
            found.add("evaluate.new_end")
        return found

    def evaluate(
        self, loan_id: str, score: int, decision: str, new_end: date | None, day: date
    ) -> None:
        loan = self.loans[loan_id]
        self.begin(day)
        self.expire_due(day)
        extend = decision == "extend"
        loan.evaluations.append(
            (day.isoformat(), score, decision, new_end.isoformat() if extend and new_end else None)
        )
        self._event(day)
        if extend:
            loan.end, loan.expired = new_end, False
            return
        self._give_back(loan, loan.outstanding, "evaluation", day)
        if loan.lender is not None:
            self.settle(loan.lender, day)

    def rebuild_broken(self, capacity: int, day: date, today: date) -> set[str]:
        found = self.date_broken(day, today)
        if self.period_end is not None and day < self.period_end:
            return found | {"institutional.period_running"}
        if capacity < self.pool_lent("institutional"):
            found.add("institutional.capacity_below_lent")
        return found

    def rebuild(self, capacity: int, day: date) -> None:
        self.begin(day)
        self.inst_capacity = capacity
        self.period_end = plus_years(day, self.settings.pool_period_years)
        self._event(day)

    # ---- teacher plans (SPEC 2.9) ------------------------------------------------------------

    def teacher_broken(self, plan: MTeacherPlan, document: str, day: date, today: date) -> set[str]:
        if not document.strip():
            return {"teacher.document_required"}  # bad input, before the write
        found = self.date_broken(day, today)
        if plan.status != "optimal":
            found.add("teacher.plan_not_optimal")
        if plan.plan_id in self.applications:
            found.add("teacher.plan_already_applied")
        held = {c: account.quota for c, account in self.teacher.items()}
        if held and held != plan.current:
            found.add("teacher.stale_plan")
        before = sum(cur for _c, _n, cur, _new in plan.counties)
        after = sum(new for _c, _n, _cur, new in plan.counties)
        if after != before + plan.extra_quota:
            found.add("teacher.total_changed")
        return found

    def teacher_request_differs(
        self, key: str, plan: MTeacherPlan, day: date, document: str, reason: str
    ) -> bool:
        done = self.applications[self.teacher_keys[key]]
        stored = (done["plan_id"], done["effective"], done["document"], done["reason"])
        return stored != (plan.plan_id, day.isoformat(), document, reason)

    def apply_teacher(
        self, plan: MTeacherPlan, day: date, actor: str, key: str | None, document: str,
        reason: str,
    ) -> dict[str, object]:  # fmt: skip
        """Counties registered on the first application; started; releases; allocations;
        completed: one event each."""
        self.begin(day, document)
        if not self.teacher:
            for county, name, current, _new in plan.counties:
                self.teacher[county] = MCounty(name, current)
                self._event(day)
        total_before = sum(account.quota for account in self.teacher.values())
        self._event(day)
        started = self.seq
        for county, _name, current, new in plan.counties:
            if new < current:
                self.teacher[county].quota -= current - new
                self._event(day)
        for county, _name, current, new in plan.counties:
            if new > current:
                self.teacher[county].quota += new - current
                self._event(day)
        self._event(day)
        for account in self.teacher.values():
            account.last_plan, account.last_applied = plan.plan_id, day
        done: dict[str, object] = {
            "application": plan.plan_id, "plan_id": plan.plan_id,
            "scenario_hash": plan.scenario_hash, "year": None, "seq": started,
            "effective": day.isoformat(), "actor": actor, "document": document, "key": key,
            "extra_quota": plan.extra_quota, "total_before": total_before,
            "total_after": sum(account.quota for account in self.teacher.values()),
        }  # fmt: skip
        self.applications[plan.plan_id] = done | {"reason": reason}
        if key is not None:
            self.teacher_keys[key] = plan.plan_id
        return done

    def teacher_view(self) -> dict[str, object]:
        return {
            "total": sum(account.quota for account in self.teacher.values()),
            "counties": [
                {
                    "county_id": county,
                    "name": a.name,
                    "quota": a.quota,
                    "last_plan": a.last_plan,
                    "last_applied": None if a.last_applied is None else a.last_applied.isoformat(),
                }
                for county, a in self.teacher.items()
            ],
            "applications": [
                {k: v for k, v in done.items() if k != "reason"}
                for done in self.applications.values()
            ],
        }

    # ---- key rotation and record corrections ---------------------------------------------------

    def rotate(self, day: date) -> None:
        self.begin(day)
        self._event(day)
        self.rotations += 1

    def current_document(self, seq: int) -> str:
        return self.corrected.get(seq, self.documents[seq - 1])

    def correct_broken(self, target: int, new: str, day: date, today: date) -> set[str]:
        found = self.date_broken(day, today)
        if not 1 <= target <= self.seq or self.current_document(target) == new:
            found.add("ledger.correction")
        return found

    def correct(self, target: int, new: str, day: date, document: str) -> str:
        """The 文号 of event `target` corrected (one event); returns the value it replaces."""
        old = self.current_document(target)
        self.begin(day, document)
        self._event(day)
        self.corrected[target] = new
        return old

    # ---- what the ledger's status must say -------------------------------------------------

    def status_view(self, day: date) -> dict[str, object]:
        """The parts of SPEC 3.3's status the model predicts, in the ledger's JSON shape."""
        as_of = day if self.last_day is None or self.last_day <= day else self.last_day
        admin_cap, inst_cap = self.admin_capacity(), self.inst_capacity
        admin_lent, inst_lent = self.pool_lent("admin"), self.pool_lent("institutional")
        units = [
            {
                "unit_id": u.unit_id,
                "name": u.name,
                "region": u.region,
                "level": u.level,
                "kind": u.kind,
                "approved": u.approved,
                "headcount": u.headcount,
                "pool_headcount": u.pool,
                "borrowed": u.borrowed,
                "lent": u.lent,
                "usable": u.approved + u.borrowed - u.lent,
                "vacancies": u.vacancies,
                "over_quota": u.over,
            }
            for u in self.units.values()
        ]
        loans = [
            {
                "loan_id": loan.loan_id,
                "pool": loan.pool,
                "unit_id": loan.borrower,
                "lender": loan.lender,
                "count": loan.count,
                "outstanding": loan.outstanding,
                "purpose": loan.purpose,
                "opened": loan.opened.isoformat(),
                "end": None if loan.end is None else loan.end.isoformat(),
                "status": loan.status(as_of),
                "returned": dict(loan.returned),
                "key": loan.key,
                "evaluations": [
                    {"date": d, "score": s, "decision": dec, "new_end": e}
                    for d, s, dec, e in loan.evaluations
                ],
            }
            for loan in self.loans.values()
            if loan.outstanding
        ]
        in_post = sum(u.headcount + u.borrowed + u.pool for u in self.units.values())
        return {
            "as_of": as_of.isoformat(),
            "seq": self.seq,
            "admin": {
                "capacity": admin_cap,
                "lent": admin_lent,
                "available": admin_cap - admin_lent,
                "suspended": self.admin_suspended(),
                "vacancy_base": self.admin_vacancy_base(),
            },
            "institutional": {
                "capacity": inst_cap,
                "lent": inst_lent,
                "available": inst_cap - inst_lent,
                "period_end": None if self.period_end is None else self.period_end.isoformat(),
            },
            "totals": {
                "approved": sum(u.approved for u in self.units.values()),
                "headcount": sum(u.headcount for u in self.units.values()),
                "borrowed_headcount": sum(u.borrowed for u in self.units.values()),
                "pool_headcount": sum(u.pool for u in self.units.values()),
                "in_post": in_post,
            },
            "units": units,
            "loans": loans,
            "alerts": self.alert_keys(as_of),
            "useplans": self.useplans_view(),
            "problems": self.problems_view(as_of),
            "teacher": self.teacher_view(),
        }

    def useplans_view(self) -> dict[str, object]:
        """SPEC 2.7 status: approved / used / lapsed / withdrawn / still reserved, per unit,
        channel, year and city, and the plans."""

        def row(plans: list[MPlan]) -> dict[str, int]:
            return {
                "approved": sum(p.count for p in plans),
                "used": sum(p.used for p in plans),
                "lapsed": sum(p.lapsed for p in plans),
                "withdrawn": sum(p.withdrawn for p in plans),
                "reserved": sum(p.remaining for p in plans if p.status == "open"),
            }

        def grouped(name: str, key: Callable[[MPlan], Any]) -> list[dict[str, object]]:
            groups: dict[Any, list[MPlan]] = {}
            for plan in self.plans.values():
                groups.setdefault(key(plan), []).append(plan)
            return [{name: k, **row(groups[k])} for k in sorted(groups)]

        by_unit = grouped("unit_id", lambda p: p.unit_id)
        for entry in by_unit:
            uid = str(entry["unit_id"])
            if uid in self.units:
                entry["vacancies"] = self.units[uid].vacancies
                entry["free_vacancies"] = self.free(uid)
        return {
            "plans": [
                {
                    "plan_id": p.plan_id,
                    "unit_id": p.unit_id,
                    "count": p.count,
                    "channel": p.channel,
                    "purpose": p.purpose,
                    "approved_on": p.approved_on.isoformat(),
                    "until": p.until.isoformat(),
                    "document": p.document,
                    "actor": p.actor,
                    "used": p.used,
                    "lapsed": p.lapsed,
                    "withdrawn": p.withdrawn,
                    "reserved": p.remaining if p.status == "open" else 0,
                    "status": p.status,
                }
                for p in self.plans.values()
            ],
            "by_unit": by_unit,
            "by_channel": grouped("channel", lambda p: p.channel),
            "by_year": grouped("year", lambda p: p.approved_on.year),
            "city": row(list(self.plans.values())),
        }

    def problems_view(self, day: date) -> dict[str, object]:
        """SPEC 2.8 status: the open problems, counts by kind, whether they block."""
        items = self.open_problems()
        by_kind: dict[str, int] = {}
        for problem in items:
            by_kind[problem.kind] = by_kind.get(problem.kind, 0) + 1
        return {
            "open": len(items),
            "closed": len(self.problems) - len(items),
            "by_kind": dict(sorted(by_kind.items())),
            "blocking": self.settings.problems_block,
            "items": [problem.view(day) for problem in items],
        }

    def alert_keys(self, day: date, warning_days: int = 90) -> list[tuple[str, str | None]]:
        """SPEC 2.6: over-quota units, loans ending within the warning window or overdue, pools
        whose capacity fell below what they lend (kind and unit or loan of each alert)."""
        found: list[tuple[str, str | None]] = [
            ("over_quota", u.unit_id) for u in self.units.values() if u.over
        ]
        horizon = day + timedelta(days=warning_days)
        for loan in self.loans.values():
            if not loan.outstanding or loan.end is None:
                continue
            if loan.status(day) == "expired":
                found.append(("loan_overdue", loan.loan_id))
            elif loan.end <= horizon:
                found.append(("loan_expiring", loan.loan_id))
        if self.pool_lent("admin") > self.admin_capacity():
            found.append(("pool_below_lent", "admin"))
        if self.pool_lent("institutional") > self.inst_capacity:
            found.append(("pool_below_lent", "institutional"))
        if self.admin_suspended():
            found.append(("pool_suspended", "admin"))
        if self.period_end is not None and self.period_end <= day:
            found.append(("pool_period_ended", "institutional"))
        return found
