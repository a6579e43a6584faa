"""Ledger state as a fold of its events: state = fold(events); state at a date = fold of the
events effective on or before it (effective dates never go backwards, so that is a prefix).

`State.apply` is the only way state changes. It checks the accounting invariants of every
event as it applies it and raises `InvariantBroken` naming the event otherwise:

- the chain is contiguous (seq n+1 after n) and effective dates never go backwards;
- no pool lends beyond its capacity: when a loan opens, lent + count ≤ capacity (a capacity
  that later falls below what is lent recalls nothing; it only blocks new loans);
  lent + available = capacity, and a pool's `lent` equals the sum of its loans' outstanding
  quotas (no quota counted twice; `audit verify` re-adds them at the end of a replay);
- no unit hires beyond its usable quota: lending never leaves the lender with more people on
  own quota than it still owns (two-rights separation), and a vacancy return
  (空一还一) needs an own vacancy to move the person into;
- no loan returns more than it has outstanding, and every return names an existing loan;
- a snapshot change states the old value it replaces, and it must match the ledger.

Accounting model (documented decisions):
- `headcount` is people on the unit's own quota, as the snapshot file reports it.
- A loan is opened for people hired on it, so its `outstanding` quotas are also the people on
  it: `pool_headcount` (admin/institutional pools, the special account 专户) or `borrowed`
  (unit-to-unit). These people count in headcount statistics but pool quotas never count in
  approved or city totals.
- own limit = approved − lent; own vacancies = max(0, own limit − headcount); a unit is over
  quota when headcount > own limit. With usable = approved + borrowed − lent this is exactly
  "people on own and borrowed quota exceed usable quota" (SPEC 2.1).
- A return moves the loan's people onto the borrower's own quota: by a vacancy (空一还一,
  never over quota), or by hand / evaluation (the unit may end over quota and is flagged;
  people are never made to vanish from the statistics).
- Administrative pool capacity = floor(share × Σ own vacancies of municipal administrative
  organs), recomputed on every change; zero while those organs as a whole are over quota
  (Σ headcount > Σ own limit).
"""

from __future__ import annotations

import gc
import heapq
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pools.events import (
    GENESIS,
    Event,
    LedgerInitialised,
    LoanEvaluated,
    LoanExpired,
    LoanOpened,
    LoanReturned,
    PoolRebuilt,
    UnitRegistered,
    UnitRemoved,
    UnitUpdated,
)
from pools.rules import ADMIN_POOL, INSTITUTIONAL_POOL, UNIT_POOL_PREFIX, Settings
from pools.units import ADMINISTRATIVE, KINDS, LEVELS, MUNICIPAL

UNIT_FIELDS = ("name", "region", "level", "kind", "approved", "headcount", "sector", "parent")
RETURN_CAUSES = ("vacancy", "manual", "evaluation")


class InvariantBroken(Exception):
    """An event would break an accounting invariant; `seq` names it."""

    def __init__(self, seq: int, message: str):
        self.seq = seq
        self.message = message
        super().__init__(f"event {seq}: {message}")


@dataclass(slots=True)
class UnitState:
    unit_id: str
    name: str
    region: str
    level: str
    kind: str
    approved: int
    headcount: int
    sector: str = ""
    parent: str = ""
    lent: int = 0  # unit-to-unit, outstanding
    borrowed: int = 0  # unit-to-unit, outstanding = people on borrowed quota
    pool_headcount: int = 0  # people on pool quota (special account)

    @property
    def own_limit(self) -> int:
        return self.approved - self.lent

    @property
    def usable(self) -> int:
        return self.approved + self.borrowed - self.lent

    @property
    def vacancies(self) -> int:
        return max(0, self.own_limit - self.headcount)

    @property
    def over_quota(self) -> bool:
        return self.headcount > self.own_limit

    @property
    def in_admin_group(self) -> bool:
        return self.level == MUNICIPAL and self.kind == ADMINISTRATIVE

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit_id,
            "name": self.name,
            "region": self.region,
            "level": self.level,
            "kind": self.kind,
            "sector": self.sector,
            "parent": self.parent,
            "approved": self.approved,
            "headcount": self.headcount,
            "pool_headcount": self.pool_headcount,
            "borrowed": self.borrowed,
            "lent": self.lent,
            "usable": self.usable,
            "vacancies": self.vacancies,
            "over_quota": self.over_quota,
        }


@dataclass(slots=True)
class LoanState:
    loan_id: str
    pool: str
    borrower: str
    count: int
    purpose: str
    opened: str
    opened_seq: int
    end: str | None
    idem_key: str | None
    actor: str
    outstanding: int
    status: str = "open"  # open | expired | closed
    returned: dict[str, int] = field(default_factory=dict)  # by cause
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    awaiting_return: bool = False

    @property
    def lender(self) -> str | None:
        if self.pool.startswith(UNIT_POOL_PREFIX):
            return self.pool[len(UNIT_POOL_PREFIX) :]
        return None

    def status_on(self, day: str) -> str:
        """open / expired / closed as of `day`: a term that has run out reads as expired."""
        if self.status == "open" and self.end is not None and self.end <= day:
            return "expired"
        return self.status

    def as_dict(self, day: str | None = None) -> dict[str, Any]:
        return {
            "loan_id": self.loan_id,
            "pool": self.pool,
            "unit_id": self.borrower,
            "lender": self.lender,
            "count": self.count,
            "outstanding": self.outstanding,
            "purpose": self.purpose,
            "opened": self.opened,
            "end": self.end,
            "status": self.status_on(day) if day else self.status,
            "returned": dict(self.returned),
            "evaluations": list(self.evaluations),
            "key": self.idem_key,
            "actor": self.actor,
        }


class State:
    """The folded ledger. Mutated only by `apply`; read through its properties and views."""

    def __init__(self) -> None:
        self.settings = Settings()
        self.units: dict[str, UnitState] = {}
        self.loans: dict[str, LoanState] = {}
        self.pool_lent = {ADMIN_POOL: 0, INSTITUTIONAL_POOL: 0}
        self.inst_capacity = 0
        self.inst_period_end: str | None = None
        self.keys: dict[str, str] = {}  # idempotency key -> loan id
        self.open_by_borrower: dict[str, list[str]] = {}  # oldest first
        self.awaiting_return: set[str] = set()  # loans an evaluation sent back, not yet returned
        self.seq = 0
        self.hash = GENESIS
        self.effective = ""
        self.initialised = False
        # running sums over municipal administrative organs, so capacity is O(1)
        self.admin_vacancies = 0
        self.admin_net = 0  # Σ (headcount − own limit): > 0 means over quota as a whole
        self._expiry_heap: list[tuple[str, int, str]] = []

    # ---- derived figures ---------------------------------------------------------------

    @property
    def admin_suspended(self) -> bool:
        return self.admin_net > 0

    @property
    def admin_capacity(self) -> int:
        if self.admin_suspended:
            return 0
        return self.settings.admin_capacity_of(self.admin_vacancies)

    def pool_capacity(self, pool: str) -> int:
        return self.admin_capacity if pool == ADMIN_POOL else self.inst_capacity

    def loans_due(self, day: str) -> list[str]:
        """Open loans whose term ended on or before `day`, oldest end first."""
        due = []
        heap = self._expiry_heap
        while heap and heap[0][0] <= day:
            end, _, loan_id = heapq.heappop(heap)
            loan = self.loans.get(loan_id)
            if loan is not None and loan.status == "open" and loan.end == end:
                due.append(loan_id)
        for loan_id in due:  # not yet expired: the caller emits the events that expire them
            loan = self.loans[loan_id]
            assert loan.end is not None
            heapq.heappush(heap, (loan.end, loan.opened_seq, loan_id))
        return due

    # ---- the fold ----------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        seq, _, _, _, effective, actor, _, _, payload, _, digest = event
        if seq != self.seq + 1:
            raise InvariantBroken(seq, f"expected event {self.seq + 1}, found {seq}")
        if effective < self.effective:
            raise InvariantBroken(seq, f"effective date {effective} is before {self.effective}")
        if not actor:
            raise InvariantBroken(seq, "the event names no actor")
        if isinstance(payload, LedgerInitialised) != (self.seq == 0):
            raise InvariantBroken(seq, "the ledger starts with exactly one initialisation")
        _HANDLERS[type(payload)](self, event, payload)
        self.seq = seq
        self.hash = digest
        self.effective = effective

    def _touch_unit(self, unit: UnitState, **changes: Any) -> None:
        """Change a unit and keep the admin-group sums right."""
        self._group(unit, -1)
        for name, value in changes.items():
            setattr(unit, name, value)
        self._group(unit, +1)

    def _group(self, unit: UnitState, sign: int) -> None:
        """Add (+1) or take out (−1) a unit's share of the admin-group sums (inlined: this
        runs twice for every change of every unit on a replay)."""
        if unit.level == MUNICIPAL and unit.kind == ADMINISTRATIVE:
            net = unit.headcount - unit.approved + unit.lent  # headcount − own limit
            self.admin_net += sign * net
            if net < 0:
                self.admin_vacancies -= sign * net

    def _on_init(self, event: Event, payload: LedgerInitialised) -> None:
        self.settings = Settings.from_dict(payload.settings)
        self.inst_capacity = self.settings.institutional_capacity
        self.inst_period_end = add_years(event.effective, self.settings.pool_period_years)
        self.initialised = True

    def _on_unit_registered(self, event: Event, p: UnitRegistered) -> None:
        if p.unit_id in self.units:
            raise InvariantBroken(event.seq, f"unit {p.unit_id} is already registered")
        _check_unit_values(event.seq, p.level, p.kind_, p.approved, p.headcount)
        unit = UnitState(
            p.unit_id, p.name, p.region, p.level, p.kind_, p.approved, p.headcount,
            p.sector, p.parent,
        )  # fmt: skip
        self.units[p.unit_id] = unit
        self._group(unit, +1)

    def _on_unit_updated(self, event: Event, p: UnitUpdated) -> None:
        unit = self._unit(event, p.unit_id)
        new_values = {}
        for name, (old, new) in p.changes.items():
            if name not in UNIT_FIELDS:
                raise InvariantBroken(event.seq, f"unit field '{name}' cannot change")
            if getattr(unit, name) != old:
                raise InvariantBroken(
                    event.seq,
                    f"{p.unit_id}.{name} is {getattr(unit, name)!r} in the ledger, "
                    f"the change says it was {old!r}",
                )
            new_values[name] = new
        _check_unit_values(
            event.seq,
            new_values.get("level", unit.level),
            new_values.get("kind", unit.kind),
            new_values.get("approved", unit.approved),
            new_values.get("headcount", unit.headcount),
        )
        self._touch_unit(unit, **new_values)

    def _on_unit_removed(self, event: Event, p: UnitRemoved) -> None:
        unit = self._unit(event, p.unit_id)
        if unit.lent or unit.borrowed or unit.pool_headcount:
            raise InvariantBroken(event.seq, f"{p.unit_id} still has loans outstanding")
        self._group(unit, -1)
        del self.units[p.unit_id]

    def _on_loan_opened(self, event: Event, p: LoanOpened) -> None:
        seq, idem_key, count, pool = event.seq, event.idem_key, p.count, p.pool
        if p.loan_id in self.loans:
            raise InvariantBroken(seq, f"loan {p.loan_id} already exists")
        if idem_key is not None and idem_key in self.keys:
            raise InvariantBroken(seq, f"idempotency key {idem_key!r} opened a loan before")
        if count < 1:
            raise InvariantBroken(seq, f"loan {p.loan_id} lends {count} quotas")
        borrower = self._unit(event, p.borrower)
        # pool_headcount and borrowed do not enter the admin-group sums: no _touch_unit
        if pool in self.pool_lent:
            capacity = self.pool_capacity(pool)
            lent = self.pool_lent[pool] + count
            if lent > capacity:
                raise InvariantBroken(
                    seq, f"{pool} pool would lend {lent} beyond its capacity {capacity}"
                )
            self.pool_lent[pool] = lent
            borrower.pool_headcount += count
        elif pool.startswith(UNIT_POOL_PREFIX):
            lender = self._unit(event, pool[len(UNIT_POOL_PREFIX) :])
            if lender is borrower:
                raise InvariantBroken(seq, "a unit lends to itself")
            if lender.headcount > lender.own_limit - count:
                raise InvariantBroken(seq, f"{lender.unit_id} would lend quota its own people hold")
            self._touch_unit(lender, lent=lender.lent + count)
            borrower.borrowed += count
        else:
            raise InvariantBroken(seq, f"unknown pool {pool!r}")
        loan = LoanState(
            p.loan_id, pool, p.borrower, count, p.purpose, event.effective, seq, p.end,
            idem_key, event.actor, count,
        )  # fmt: skip
        self.loans[p.loan_id] = loan
        self.open_by_borrower.setdefault(p.borrower, []).append(p.loan_id)
        if idem_key is not None:
            self.keys[idem_key] = p.loan_id
        if p.end is not None:
            heapq.heappush(self._expiry_heap, (p.end, seq, p.loan_id))

    def _on_loan_returned(self, event: Event, p: LoanReturned) -> None:
        seq, count, cause = event.seq, p.count, p.cause
        loan = self._loan(event, p.loan_id)
        if loan.status == "closed":
            raise InvariantBroken(seq, f"loan {p.loan_id} is closed")
        if not 1 <= count <= loan.outstanding:
            raise InvariantBroken(
                seq, f"returns {count} of loan {p.loan_id}, which has {loan.outstanding} out"
            )
        if cause not in RETURN_CAUSES:
            raise InvariantBroken(seq, f"unknown return cause {cause!r}")
        borrower = self.units[loan.borrower]
        if cause == "vacancy" and borrower.vacancies < count:
            raise InvariantBroken(seq, f"vacancy return but {borrower.unit_id} has no vacancy")
        if cause == "evaluation" and not (loan.awaiting_return and count == loan.outstanding):
            raise InvariantBroken(seq, "an evaluation return must follow a 'return' decision")
        # the people on the returned quota move onto the borrower's own quota
        lender_id = loan.lender
        if lender_id is None:
            self.pool_lent[loan.pool] -= count
            borrower.pool_headcount -= count
        else:
            lender = self.units[lender_id]
            self._touch_unit(lender, lent=lender.lent - count)
            borrower.borrowed -= count
        self._touch_unit(borrower, headcount=borrower.headcount + count)
        loan.outstanding -= count
        loan.returned[cause] = loan.returned.get(cause, 0) + count
        if loan.outstanding == 0:
            loan.status = "closed"
            loan.awaiting_return = False
            self.awaiting_return.discard(loan.loan_id)
            self.open_by_borrower[loan.borrower].remove(loan.loan_id)

    def _on_loan_expired(self, event: Event, p: LoanExpired) -> None:
        loan = self._loan(event, p.loan_id)
        if loan.status != "open" or loan.end is None or loan.end > event.effective:
            raise InvariantBroken(event.seq, f"loan {p.loan_id} is not due to expire")
        loan.status = "expired"

    def _on_loan_evaluated(self, event: Event, p: LoanEvaluated) -> None:
        seq = event.seq
        loan = self._loan(event, p.loan_id)
        if loan.status != "expired":
            raise InvariantBroken(seq, f"loan {p.loan_id} is not awaiting evaluation")
        if not 0 <= p.score <= 100:
            raise InvariantBroken(seq, f"score {p.score} is outside 0–100")
        if p.decision == "extend":
            if p.new_end is None or p.new_end <= event.effective:
                raise InvariantBroken(seq, "an extension needs a new end after the evaluation")
            loan.status = "open"
            loan.end = p.new_end
            heapq.heappush(self._expiry_heap, (p.new_end, loan.opened_seq, loan.loan_id))
        elif p.decision == "return":
            loan.awaiting_return = True
            self.awaiting_return.add(loan.loan_id)
        else:
            raise InvariantBroken(seq, f"unknown decision {p.decision!r}")
        loan.evaluations.append(
            {
                "date": event.effective,
                "score": p.score,
                "decision": p.decision,
                "new_end": p.new_end,
            }
        )

    def _on_pool_rebuilt(self, event: Event, p: PoolRebuilt) -> None:
        if p.pool != INSTITUTIONAL_POOL:
            raise InvariantBroken(event.seq, f"pool {p.pool!r} is not rebuilt")
        if p.capacity < self.pool_lent[INSTITUTIONAL_POOL]:
            raise InvariantBroken(event.seq, "rebuilt capacity is below what is lent")
        if p.period_end <= event.effective:
            raise InvariantBroken(event.seq, "the new period ends before it starts")
        self.inst_capacity = p.capacity
        self.inst_period_end = p.period_end

    def _unit(self, event: Event, unit_id: str) -> UnitState:
        unit = self.units.get(unit_id)
        if unit is None:
            raise InvariantBroken(event.seq, f"unit {unit_id} is not in the ledger")
        return unit

    def _loan(self, event: Event, loan_id: str) -> LoanState:
        loan = self.loans.get(loan_id)
        if loan is None:
            raise InvariantBroken(event.seq, f"loan {loan_id} does not exist")
        return loan

    # ---- whole-state checks (replay) ---------------------------------------------------

    def cross_check(self) -> list[str]:
        """Recount everything from scratch; any difference from the running figures is a bug or
        a tampered ledger. Returns the problems found."""
        problems = []
        lent = {ADMIN_POOL: 0, INSTITUTIONAL_POOL: 0}
        per_unit = {u: {"lent": 0, "borrowed": 0, "pool_headcount": 0} for u in self.units}
        for loan in self.loans.values():
            if loan.outstanding < 0 or loan.outstanding > loan.count:
                problems.append(f"loan {loan.loan_id} has {loan.outstanding} outstanding")
            if loan.lender is None:
                lent[loan.pool] += loan.outstanding
                per_unit[loan.borrower]["pool_headcount"] += loan.outstanding
            else:
                per_unit[loan.lender]["lent"] += loan.outstanding
                per_unit[loan.borrower]["borrowed"] += loan.outstanding
        for pool, total in lent.items():
            if total != self.pool_lent[pool]:
                problems.append(f"{pool} pool: lent {self.pool_lent[pool]}, loans add to {total}")
        for unit_id, counts in per_unit.items():
            unit = self.units[unit_id]
            for name, total in counts.items():
                if getattr(unit, name) != total:
                    problems.append(f"{unit_id}.{name} is {getattr(unit, name)}, loans say {total}")
        group = [u for u in self.units.values() if u.in_admin_group]
        if (
            sum(u.vacancies for u in group) != self.admin_vacancies
            or sum(u.headcount - u.own_limit for u in group) != self.admin_net
        ):
            problems.append("municipal administrative vacancy totals do not add up")
        return problems

    # ---- views -------------------------------------------------------------------------

    def pools_view(self) -> dict[str, dict[str, Any]]:
        """Pool figures; available = capacity − lent (negative: capacity fell below lent)."""
        admin, inst = self.admin_capacity, self.inst_capacity
        return {
            ADMIN_POOL: {
                "capacity": admin,
                "lent": self.pool_lent[ADMIN_POOL],
                "available": admin - self.pool_lent[ADMIN_POOL],
                "suspended": self.admin_suspended,
                "vacancy_base": self.admin_vacancies,
                "share": self.settings.admin_share,
            },
            INSTITUTIONAL_POOL: {
                "capacity": inst,
                "lent": self.pool_lent[INSTITUTIONAL_POOL],
                "available": inst - self.pool_lent[INSTITUTIONAL_POOL],
                "period_end": self.inst_period_end,
            },
        }

    def alerts(self, day: str) -> list[dict[str, Any]]:
        """SPEC 2.6: over-quota units, loans expiring soon or overdue, pools below what is lent."""
        found: list[dict[str, Any]] = []
        for unit in self.units.values():
            if unit.over_quota:
                found.append(
                    {
                        "kind": "over_quota",
                        "unit_id": unit.unit_id,
                        "message": f"{unit.unit_id} {unit.name}: {unit.headcount} on own quota, "
                        f"limit {unit.own_limit}; may only lose people (超编，只出不进)",
                    }
                )
        horizon = add_days(day, self.settings.expiry_warning_days)
        for loan in self.loans.values():
            if loan.status == "closed" or loan.end is None:
                continue
            if loan.status_on(day) == "expired":
                found.append(
                    {
                        "kind": "loan_overdue",
                        "unit_id": loan.borrower,
                        "loan_id": loan.loan_id,
                        "message": f"loan {loan.loan_id} to {loan.borrower} ended on {loan.end} "
                        "and awaits its performance evaluation (到期待评估)",
                    }
                )
            elif loan.end <= horizon:
                found.append(
                    {
                        "kind": "loan_expiring",
                        "unit_id": loan.borrower,
                        "loan_id": loan.loan_id,
                        "message": f"loan {loan.loan_id} to {loan.borrower} ends on {loan.end} "
                        "(即将到期)",
                    }
                )
        for pool, figures in self.pools_view().items():
            if figures["lent"] > figures["capacity"]:
                found.append(
                    {
                        "kind": "pool_below_lent",
                        "pool": pool,
                        "message": f"{pool} pool capacity {figures['capacity']} is below the "
                        f"{figures['lent']} lent; no new loans until it recovers (容量低于已借出)",
                    }
                )
        if self.admin_suspended:
            found.append(
                {
                    "kind": "pool_suspended",
                    "pool": ADMIN_POOL,
                    "message": "municipal administrative organs as a whole are over quota; the "
                    "administrative pool lends nothing (市级行政机关总体超编)",
                }
            )
        if self.inst_period_end is not None and self.inst_period_end <= day:
            found.append(
                {
                    "kind": "pool_period_ended",
                    "pool": INSTITUTIONAL_POOL,
                    "message": f"institutional pool period ended on {self.inst_period_end}; "
                    "rebuild it (到期重建)",
                }
            )
        return found


_HANDLERS: dict[type, Any] = {
    LedgerInitialised: State._on_init,
    UnitRegistered: State._on_unit_registered,
    UnitUpdated: State._on_unit_updated,
    UnitRemoved: State._on_unit_removed,
    LoanOpened: State._on_loan_opened,
    LoanReturned: State._on_loan_returned,
    LoanExpired: State._on_loan_expired,
    LoanEvaluated: State._on_loan_evaluated,
    PoolRebuilt: State._on_pool_rebuilt,
}


def _check_unit_values(seq: int, level: str, kind: str, approved: int, headcount: int) -> None:
    if level not in LEVELS.values() or kind not in KINDS.values():
        raise InvariantBroken(seq, f"unknown level/kind {level!r}/{kind!r}")
    if not isinstance(approved, int) or not isinstance(headcount, int):
        raise InvariantBroken(seq, "approved and headcount are whole numbers")
    if approved < 0 or headcount < 0:
        raise InvariantBroken(seq, "approved and headcount are never negative")


def fold(events: Iterable[Event], until: str | None = None, state: State | None = None) -> State:
    """`state` (a new one by default) after `events`, only those effective on or before
    `until` if given."""
    state = State() if state is None else state
    with collector_paused():
        for event in events:
            if until is not None and event.effective > until:
                break
            state.apply(event)
    return state


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a replay. A replay keeps almost every
    object it builds (units, loans), so the collector would walk the growing state again and
    again for nothing: the fold makes no reference cycles. Memory is still freed as usual by
    reference counting, and the collector resumes afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def add_years(day: str, years: int) -> str:
    start = date.fromisoformat(day)
    try:
        return start.replace(year=start.year + years).isoformat()
    except ValueError:  # 29 February in a year that has none
        return start.replace(year=start.year + years, day=28).isoformat()


def add_days(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()
