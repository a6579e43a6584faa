"""Commands: what a planner asks for, turned into events against the current state.

Each command first checks its rules (`pools.rules`) and refuses with `RuleViolation` before it
emits anything. It then emits events through a `Batch`, which seals each event onto the chain
and applies it to the state at once, so that later events of the same command (the automatic
空一还一 returns, say) are computed from the state the earlier ones left. The storage layer
wraps one command in one database transaction: either every event of the batch is written or
none is.

No database and no clock in here: a batch gets the key, the recorded time and the effective
date from its caller, so the same code runs the ledger, the property tests and the benchmark.

Return one when one is vacated (空一还一): after any change to a unit, while the unit has an
own vacancy and a loan outstanding, one quota of its *oldest* open loan (by opening order,
pool and unit loans alike) comes back, one event per quota, and the person on it moves onto
own quota. Oldest first because the earliest borrowing has waited longest to be repaid.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pools.events import (
    Event,
    LedgerInitialised,
    LoanEvaluated,
    LoanExpired,
    LoanOpened,
    LoanReturned,
    Payload,
    PoolRebuilt,
    UnitRegistered,
    UnitRemoved,
    UnitUpdated,
    seal,
)
from pools.rules import (
    ADMIN_POOL,
    INSTITUTIONAL_POOL,
    RuleViolation,
    Settings,
    Violation,
    check_open_loan,
    rebuild_allowed,
    refuse,
)
from pools.state import UNIT_FIELDS, LoanState, State, add_years
from pools.units import Unit


@dataclass
class Batch:
    """The events of one command, sealed and applied to `state` as they are emitted."""

    state: State
    key: bytes
    recorded_at: str
    effective: date
    actor: str
    reason: str = ""
    document: str = ""
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.actor.strip():
            refuse(Violation("ledger.actor", "every write names its actor", "每次操作须注明操作人"))
        if self.state.effective and self.effective.isoformat() < self.state.effective:
            refuse(
                Violation(
                    "ledger.backdated",
                    f"effective date {self.effective} is before the ledger's last event "
                    f"({self.state.effective}); the ledger never goes back in time",
                    f"生效日期 {self.effective} 早于台账最后一笔（{self.state.effective}），"
                    "不能倒签",
                )
            )

    @property
    def day(self) -> str:
        return self.effective.isoformat()

    def emit(self, payload: Payload, idem_key: str | None = None) -> Event:
        event = seal(
            self.key,
            seq=self.state.seq + 1,
            event_id=uuid.uuid4().hex,
            idem_key=idem_key,
            recorded_at=self.recorded_at,
            effective=self.day,
            actor=self.actor,
            reason=self.reason,
            document=self.document,
            payload=payload,
            prev_hash=self.state.hash,
        )
        self.state.apply(event)
        self.events.append(event)
        return event


# ---------------------------------------------------------------------------------------


def init_ledger(batch: Batch, settings: Settings, units: Iterable[Unit]) -> None:
    if batch.state.initialised:
        refuse(Violation("ledger.exists", "this ledger is already initialised", "台账已经初始化"))
    batch.emit(LedgerInitialised(settings.as_dict()))
    for unit in units:
        batch.emit(_registered(unit))


def expire_due(batch: Batch) -> list[str]:
    """Loans whose term has ended become expired (awaiting evaluation); returns their ids."""
    due = batch.state.loans_due(batch.day)
    for loan_id in due:
        batch.emit(LoanExpired(loan_id))
    return due


def settle(batch: Batch, unit_ids: Iterable[str]) -> list[dict[str, Any]]:
    """空一还一 for the given units (and any lender whose quota comes back)."""
    returns = []
    work = list(dict.fromkeys(unit_ids))
    while work:
        unit_id = work.pop(0)
        unit = batch.state.units.get(unit_id)
        while unit is not None and unit.vacancies > 0:
            open_loans = batch.state.open_by_borrower.get(unit_id)
            if not open_loans:
                break
            loan = batch.state.loans[open_loans[0]]
            batch.emit(LoanReturned(loan.loan_id, 1, "vacancy"))
            returns.append({"loan_id": loan.loan_id, "unit_id": unit_id, "pool": loan.pool})
            if loan.lender is not None and loan.lender not in work:
                work.append(loan.lender)
    return returns


def sync_units(batch: Batch, units: list[Unit]) -> dict[str, Any]:
    """Apply a snapshot: register new units, record changes, remove absent units, then 空一还一.

    A snapshot is a fact of the world: a unit whose headcount now exceeds its quota is recorded
    and flagged over quota, not refused. Only a unit that disappears while it still has loans
    is refused, because its loans would have nowhere to go.
    """
    state = batch.state
    before = state.pools_view()
    seen = {unit.unit_id for unit in units}
    gone = [unit_id for unit_id in state.units if unit_id not in seen]
    for unit_id in gone:
        leaving = state.units[unit_id]
        if leaving.lent or leaving.borrowed or leaving.pool_headcount:
            refuse(
                Violation(
                    "sync.unit_with_loans_missing",
                    f"unit {unit_id} is missing from the snapshot but still has loans "
                    "outstanding; return or transfer them first",
                    f"单位 {unit_id} 不在新名册中，但仍有未归还的借用编制，须先处理",
                )
            )
    expired = expire_due(batch)
    changes: list[dict[str, Any]] = []
    returns: list[dict[str, Any]] = []
    for unit in units:
        current = state.units.get(unit.unit_id)
        if current is None:
            batch.emit(_registered(unit))
            changes.append({"unit_id": unit.unit_id, "change": "registered"})
            continue
        diff = {
            name: [getattr(current, name), getattr(unit, name)]
            for name in UNIT_FIELDS
            if getattr(current, name) != getattr(unit, name)
        }
        if diff:
            batch.emit(UnitUpdated(unit.unit_id, diff))
            changes.append({"unit_id": unit.unit_id, "change": "updated", "fields": diff})
            returns.extend(settle(batch, [unit.unit_id]))
    for unit_id in gone:
        batch.emit(UnitRemoved(unit_id))
        changes.append({"unit_id": unit_id, "change": "removed"})
    return {
        "events": len(batch.events),
        "changes": changes,
        "returns": returns,
        "expired": expired,
        "pools_before": before,
        "pools": state.pools_view(),
        "alerts": state.alerts(batch.day),
    }


def open_loan(
    batch: Batch,
    *,
    pool: str,
    unit_id: str,
    count: int,
    purpose: str,
    term_years: int | None = None,
    idem_key: str | None = None,
) -> tuple[LoanState, bool]:
    """Open a loan, or answer with the loan an earlier call with the same key opened.

    Returns (loan, replayed). The same key with a different request is refused.
    """
    state = batch.state
    purpose = purpose.strip()
    if idem_key is not None and idem_key in state.keys:
        loan = state.loans[state.keys[idem_key]]
        if (loan.pool, loan.borrower, loan.count, loan.purpose) != (pool, unit_id, count, purpose):
            refuse(
                Violation(
                    "loan.key_conflict",
                    f"key {idem_key!r} already opened loan {loan.loan_id} with a different request",
                    f"幂等键 {idem_key!r} 已用于另一笔借用（{loan.loan_id}）",
                )
            )
        return loan, True
    # every refusal comes before the first event, so a refused command changes nothing
    refuse(check_open_loan(state, pool, unit_id, count, purpose, batch.effective))
    if term_years is None:
        term_years = (
            state.settings.admin_term_years if pool == ADMIN_POOL else state.settings.term_years
        )
    if term_years is not None and term_years < 1:
        refuse(Violation("loan.term", "a loan term is at least 1 year", "借用期限至少 1 年"))
    expire_due(batch)
    end = add_years(batch.day, term_years) if term_years is not None else None
    loan_id = f"L{state.seq + 1:06d}"
    batch.emit(LoanOpened(loan_id, pool, unit_id, count, purpose, end), idem_key=idem_key)
    return state.loans[loan_id], False


def return_loan(batch: Batch, loan_id: str, count: int | None = None) -> list[dict[str, Any]]:
    """Return quotas of a loan by hand (task done, term over). Default: all outstanding."""
    loan = _existing_loan(batch.state, loan_id)
    if loan.status == "closed":
        refuse(Violation("return.closed", f"loan {loan_id} is closed", f"借用 {loan_id} 已归还"))
    count = loan.outstanding if count is None else count
    if not 1 <= count <= loan.outstanding:
        refuse(
            Violation(
                "return.too_many",
                f"loan {loan_id} has {loan.outstanding} outstanding; cannot return {count}",
                f"借用 {loan_id} 尚欠 {loan.outstanding} 名，不能归还 {count} 名",
            )
        )
    expire_due(batch)
    batch.emit(LoanReturned(loan_id, count, "manual"))
    returns = [{"loan_id": loan_id, "unit_id": loan.borrower, "count": count, "cause": "manual"}]
    if loan.lender is not None:
        returns.extend(settle(batch, [loan.lender]))
    return returns


def evaluate_loan(
    batch: Batch, loan_id: str, *, score: int, decision: str, new_end: date | None = None
) -> dict[str, Any]:
    """Record the performance evaluation of an expired loan: extend to `new_end`, or return."""
    state = batch.state
    loan = _existing_loan(state, loan_id)
    if loan.status_on(batch.day) != "expired":
        refuse(
            Violation(
                "evaluate.not_expired",
                f"loan {loan_id} is {loan.status_on(batch.day)}; only an expired loan is evaluated"
                + (f" (its term ends on {loan.end})" if loan.end else ""),
                f"借用 {loan_id} 已归还，无需评估"
                if loan.status == "closed"
                else f"借用 {loan_id} 未到期，到期后方可评估",
            )
        )
    if not 0 <= score <= 100:
        refuse(
            Violation("evaluate.score", f"score {score} is outside 0–100", "评分须在 0–100 之间")
        )
    if decision not in ("extend", "return"):
        refuse(
            Violation(
                "evaluate.decision",
                f"decision {decision!r} is neither extend nor return",
                "评估结论须为 extend（延期）或 return（收回）",
            )
        )
    end_text: str | None = None
    if decision == "extend":
        if new_end is None or new_end <= batch.effective:
            refuse(
                Violation(
                    "evaluate.new_end",
                    "an extension needs a new end date after the evaluation date",
                    "延期须给出晚于评估日期的新到期日",
                )
            )
        assert new_end is not None
        end_text = new_end.isoformat()
    expire_due(batch)
    batch.emit(LoanEvaluated(loan_id, score, decision, end_text))
    returns = []
    if decision == "return":
        count = loan.outstanding
        batch.emit(LoanReturned(loan_id, count, "evaluation"))
        returns.append({"loan_id": loan_id, "count": count, "cause": "evaluation"})
        if loan.lender is not None:
            returns.extend(settle(batch, [loan.lender]))
    return {"loan": loan.as_dict(batch.day), "returns": returns}


def rebuild_pool(batch: Batch, capacity: int | None = None) -> dict[str, Any]:
    """到期重建: the institutional pool starts a new period with a capacity (default: setting)."""
    state = batch.state
    capacity = state.settings.institutional_capacity if capacity is None else capacity
    refuse(rebuild_allowed(state, batch.effective, capacity))
    period_end = add_years(batch.day, state.settings.pool_period_years)
    batch.emit(PoolRebuilt(INSTITUTIONAL_POOL, capacity, period_end))
    return state.pools_view()[INSTITUTIONAL_POOL]


def _existing_loan(state: State, loan_id: str) -> LoanState:
    loan = state.loans.get(loan_id)
    if loan is None:
        raise RuleViolation(
            Violation(
                "return.unknown_loan",
                f"loan {loan_id} does not exist",
                f"借用 {loan_id} 不存在",
            )
        )
    return loan


def _registered(unit: Unit) -> UnitRegistered:
    return UnitRegistered(
        unit.unit_id, unit.name, unit.region, unit.level, unit.kind, unit.approved,
        unit.headcount, unit.sector, unit.parent,
    )  # fmt: skip
