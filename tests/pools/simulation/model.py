"""The simulator's independent model of the ledger, written from SPEC 2.1–2.4 and 2.6.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

ADMIN_PURPOSES = ("引进生", "博士选调生")
INSTITUTIONAL_PURPOSES = ("重点领域", "重点岗位", "高层次人才", "急需紧缺人才")
MUNICIPAL, COUNTY = "municipal", "county"
ADMINISTRATIVE, INSTITUTIONAL = "administrative", "institutional"


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
class Model:
    settings: ModelSettings
    units: dict[str, MUnit] = field(default_factory=dict)  # registration order
    loans: dict[str, MLoan] = field(default_factory=dict)  # opening order
    keys: dict[str, str] = field(default_factory=dict)
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

    # ---- init ---------------------------------------------------------------------------

    def init(self, units: list[MUnit], day: date) -> None:
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
        counts = {"expired": len(self.expire_due(day)), "returns": 0, "changes": 0}
        for record in snapshot:
            current = self.units.get(record.unit_id)
            if current is None:
                self.units[record.unit_id] = MUnit(*record.record())
                self._event(day)
                counts["changes"] += 1
                continue
            if current.record() == record.record():
                continue
            for name in ("name", "region", "level", "kind", "approved", "headcount"):
                setattr(current, name, getattr(record, name))
            self._event(day)
            counts["changes"] += 1
            counts["returns"] += self.settle(record.unit_id, day)
        for uid in gone:
            del self.units[uid]
            self._event(day)
            counts["changes"] += 1
        return counts

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
            if lender.vacancies < count:
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
        return found

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
        self.inst_capacity = capacity
        self.period_end = plus_years(day, self.settings.pool_period_years)
        self._event(day)

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
