"""Commands: what a planner asks for, turned into events against the current state.

Each command first checks its rules (`pools.rules`) and refuses with `RuleViolation` before it
emits anything. It then emits events through a `Batch`, which seals each event onto the chain
and applies it to the state at once, so that later events of the same command (the automatic
空一还一 returns, say) are computed from the state the earlier ones left. The storage layer
wraps one command in one database transaction: either every event of the batch is written or
none is.

No database and no clock in here: a batch gets the key, the recorded time and the effective
date from its caller, so the same code runs the ledger, the property tests and the benchmark.

Return one when one is vacated (空一还一): after any change to a unit, `settle` emits one
return per quota that `pools.rules.loans.return_one_when_vacated` finds due.

The domain speaks `pools.vocabulary` (PoolRef, enums, dates); events are written with the
stored strings (`LoanOpened.pool` as ``unit:<id>``, dates as ISO text), so payloads and
hashes are as they always were.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pools.events import (
    DEMO_FINGERPRINT,
    FINGERPRINT_FIELD,
    ChainKeyRotated,
    EntryBackdated,
    EntryReversed,
    Event,
    LedgerInitialised,
    LoanEvaluated,
    LoanExpired,
    LoanOpened,
    LoanReturned,
    Payload,
    PoolRebuilt,
    RecordCorrected,
    TeacherCountyRegistered,
    TeacherPlanCompleted,
    TeacherPlanStarted,
    TeacherQuotaAllocated,
    TeacherQuotaReleased,
    UnitRegistered,
    UnitRemoved,
    UnitUpdated,
    key_fingerprint,
    seal,
)
from pools.results import (
    EvaluationResult,
    InstitutionalPoolFigures,
    Returned,
    ReturnResult,
    SyncResult,
    TeacherPlanResult,
    UnitChange,
    pool_figures,
)
from pools.rules.idempotency import (
    key_used_elsewhere,
    retry_conflict,
    same_request,
)
from pools.rules.institutional_pool import evaluation_allowed, rebuild_allowed
from pools.rules.ledger import (
    actor_named,
    correction_allowed,
    day_in_range,
    key_rotation_allowed,
    late_entry_allowed,
    not_backdated,
    not_future_dated,
)
from pools.rules.loans import (
    check_open_loan,
    opening_reversible,
    people_to_move_back,
    return_allowed,
    return_one_when_vacated,
    return_reversible,
    room_to_lend_again,
    term_allowed,
)
from pools.rules.monitoring import alerts
from pools.rules.settings import Settings, settings_valid
from pools.rules.teacher_quota import (
    application_id,
    plan_not_applied,
    plan_not_stale,
    plan_optimal,
    total_changes_by_extra,
)
from pools.rules.units import removals_plausible, unit_without_loans
from pools.rules.violations import RuleViolation, Violation, refuse, refuse_input
from pools.state import UNIT_FIELDS, KeyedEvent, LoanState, State
from pools.teacher_plans import TeacherPlan
from pools.units import Unit
from pools.vocabulary import (
    ADMIN_POOL,
    INSTITUTIONAL_POOL,
    Decision,
    PoolRef,
    ReturnCause,
    add_years,
    day_text,
)


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
    touched: bool = False  # an event was emitted (applied to `state`), or its apply tried
    # why this write is a late entry (补录, issue 13): it may then be dated before the
    # ledger's last event, announced by an `entry_backdated` event
    late: str | None = None
    # what the command found besides its result (issue 11: warnings, plans posted or lapsed,
    # problems opened or closed); the ledger adds it to a result that is a JSON object
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        refuse_input(day_in_range("effective date", self.effective))
        refuse(actor_named(self.actor))
        self._day = self.effective.isoformat()

    def check_date(self) -> None:
        """The effective date neither runs ahead of the recording time by more than the
        setting nor goes back before the ledger's last event (every command, after an
        idempotent replay had its chance to answer)."""
        recorded = datetime.fromisoformat(self.recorded_at).date()
        refuse(not_future_dated(recorded, self.effective, self.state.settings.max_future_days))
        backdated = not_backdated(self.state.effective, self.effective)
        if backdated is not None and self.late is None:
            refuse(backdated)
        if backdated is not None and not self.entered_late:
            self.enter_late()
        from pools.books import lapse_due  # SPEC 2.7: a write past a plan's end lapses it

        lapse_due(self)

    @property
    def entered_late(self) -> bool:
        return any(type(event.payload) is EntryBackdated for event in self.events)

    @property
    def amends(self) -> bool:
        """Whether this write is a late or reversing entry (it changes what earlier dates
        show, so the ledger checks every date: `Ledger._check_as_of`)."""
        return any(type(event.payload) in (EntryBackdated, EntryReversed) for event in self.events)

    def enter_late(self) -> None:
        """Announce a late entry: an `entry_backdated` event, dated like the ledger and
        carrying why the entry is late; the rest of this write is dated `effective`."""
        state, reason = self.state, self.late or ""
        refuse(late_entry_allowed(state.started, self.effective, reason))
        assert state.effective is not None
        self.emit(EntryBackdated(self._day), day=state.effective.isoformat(), reason=reason)

    def emit(
        self,
        payload: Payload,
        idem_key: str | None = None,
        *,
        day: str | None = None,
        reason: str | None = None,
    ) -> Event:
        self.touched = True  # from here on the state may have changed (even if apply raises)
        event = seal(
            self.key,
            seq=self.state.seq + 1,
            event_id=uuid.uuid4().hex,
            idem_key=idem_key,
            recorded_at=self.recorded_at,
            effective=self._day if day is None else day,
            actor=self.actor,
            reason=self.reason if reason is None else reason,
            document=self.document,
            payload=payload,
            prev_hash=self.state.hash,
        )
        self.state.apply(event)
        self.events.append(event)
        return event


# ---------------------------------------------------------------------------------------


def init_ledger(batch: Batch, settings: Settings, units: Iterable[Unit]) -> None:
    refuse_input(settings_valid(settings))
    batch.check_date()
    if batch.state.initialised:
        refuse(Violation("ledger.exists", "this ledger is already initialised", "台账已经初始化"))
    recorded = {**settings.as_dict(), FINGERPRINT_FIELD: key_fingerprint(batch.key)}
    batch.emit(LedgerInitialised(recorded))
    for unit in units:
        batch.emit(_registered(unit))


def expire_due(batch: Batch) -> list[str]:
    """Loans whose term has ended become expired (awaiting evaluation); returns their ids."""
    due = batch.state.loans_due(batch.effective)
    for loan_id in due:
        batch.emit(LoanExpired(loan_id))
    return due


def settle(batch: Batch, unit_ids: Iterable[str]) -> list[Returned]:
    """空一还一 for the given units (and any lender whose quota comes back)."""
    returns = []
    work = list(dict.fromkeys(unit_ids))
    while work:
        unit_id = work.pop(0)
        while (loan := return_one_when_vacated(batch.state, unit_id)) is not None:
            batch.emit(LoanReturned(loan.loan_id, 1, ReturnCause.VACANCY.value))
            returns.append(Returned(loan.loan_id, ReturnCause.VACANCY, 1, unit_id, loan.pool))
            lender = loan.pool.lender
            if lender is not None and lender not in work:
                work.append(lender)
    return returns


def sync_units(batch: Batch, units: list[Unit], allow_removals: bool = False) -> SyncResult:
    """Apply a snapshot: register new units, record changes, remove absent units, then 空一还一.

    A snapshot is a fact of the world: a unit whose headcount now exceeds its quota is recorded
    and flagged over quota, not refused. Only a unit that disappears while it still has loans
    is refused, because its loans would have nowhere to go. A snapshot that drops more than
    the setting `max_removed_share` of the units is refused unless `allow_removals`: a
    truncated file is not a reorganisation.
    """
    batch.check_date()
    state = batch.state
    before = pool_figures(state)
    seen = {unit.unit_id for unit in units}
    gone = [unit_id for unit_id in state.units if unit_id not in seen]
    for unit_id in gone:
        refuse(unit_without_loans(state, unit_id))
    if not allow_removals:
        refuse(removals_plausible(len(state.units), len(gone), state.settings.max_removed_share))
    expired = expire_due(batch)
    changes: list[UnitChange] = []
    returns: list[Returned] = []
    from pools import books  # SPEC 2.7/2.8: hires post against plans; the monthly comparison

    unplanned: dict[str, int] = {}
    over_before = {unit_id for unit_id, unit in state.units.items() if unit.over_quota}
    for unit in units:
        current = state.units.get(unit.unit_id)
        if current is None:
            batch.emit(_registered(unit))
            changes.append(UnitChange(unit.unit_id, "registered"))
            continue
        diff = {
            name: [getattr(current, name), getattr(unit, name)]
            for name in UNIT_FIELDS
            if getattr(current, name) != getattr(unit, name)
        }
        if diff:
            batch.emit(UnitUpdated(unit.unit_id, diff))
            changes.append(UnitChange(unit.unit_id, "updated", diff))
            rise = unit.headcount - diff["headcount"][0] if "headcount" in diff else 0
            if rise > 0 and (left := books.post_hires(batch, unit.unit_id, rise)):
                unplanned[unit.unit_id] = left
            returns.extend(settle(batch, [unit.unit_id]))
    for unit_id in gone:
        books.withdraw_for_removed(batch, unit_id)
        batch.emit(UnitRemoved(unit_id))
        changes.append(UnitChange(unit_id, "removed"))
    books.monthly_comparison(batch, unplanned, over_before)
    return SyncResult(
        len(batch.events),
        changes,
        returns,
        expired,
        before,
        pool_figures(state),
        alerts(state, batch.effective) + books.unplanned_alerts(unplanned),
    )


def open_loan(
    batch: Batch,
    *,
    pool: PoolRef | Violation,
    unit_id: str,
    count: int,
    purpose: str,
    term_years: int | None = None,
    idem_key: str | None = None,
    effective_stated: bool = True,
) -> tuple[LoanState, bool]:
    """Open a loan, or answer with the loan an earlier call with the same key opened.

    `pool` is the parsed request (`pools.rules.loans.known_pool`: a violation if it named no
    pool, refused in its turn). Returns (loan, replayed). The same key with a request that
    differs in any field (pool, unit, count, purpose, term, effective date if
    `effective_stated`, document, reason) is refused naming the fields
    (`pools.rules.idempotency`).
    """
    state = batch.state
    purpose = purpose.strip()
    if term_years is not None:
        refuse(term_allowed(term_years))
    if idem_key is not None and idem_key in state.keyed and idem_key not in state.keys:
        first = state.keyed[idem_key]
        refuse(key_used_elsewhere(idem_key, _keyed_target(first), "loan"))
    if idem_key is not None and idem_key in state.keys:
        # the key first: a retry gets its answer whatever happened since (SPEC 3.3)
        loan = state.loans[state.keys[idem_key]]
        sealed = state.corrected_from.get(str(loan.opened_seq), {})
        if term_years is None:
            term_years = _default_term(state.settings, loan.pool)
        end = add_years(loan.opened, term_years) if term_years is not None else None
        stored = {
            "pool": loan.pool.text, "unit": loan.borrower, "count": loan.count,
            "purpose": loan.purpose, "term": day_text(loan.end), "effective": loan.opened,
            # the request as the key first made it: a later correction of the loan's 文号 or
            # reason (shown by the register) is not what the client sent
            **{name: sealed.get(name, getattr(loan, name)) for name in ("document", "reason")},
        }  # fmt: skip
        asked = {
            "pool": pool.text if isinstance(pool, PoolRef) else str(pool.rule), "unit": unit_id,
            "count": count, "purpose": purpose, "term": day_text(end),
            "effective": batch.effective if effective_stated else None,
            "document": batch.document, "reason": batch.reason,
        }  # fmt: skip
        refuse(same_request(idem_key, loan.loan_id, stored, asked))
        return loan, True
    batch.check_date()
    # every refusal comes before the first event, so a refused command changes nothing
    refuse(check_open_loan(state, pool, unit_id, count, purpose, batch.effective))
    assert isinstance(pool, PoolRef)
    from pools.books import blocks_or_warns

    blocks_or_warns(batch, unit_id)  # SPEC 2.8: an open problem blocks new quota for the unit
    if term_years is None:
        term_years = _default_term(state.settings, pool)
    if term_years is not None:
        refuse(term_allowed(term_years))
    expire_due(batch)
    end = add_years(batch.effective, term_years) if term_years is not None else None
    loan_id = f"L{state.seq + 1:06d}"
    batch.emit(
        LoanOpened(loan_id, pool.text, unit_id, count, purpose, day_text(end)), idem_key=idem_key
    )
    return state.loans[loan_id], False


def return_loan(
    batch: Batch,
    loan_id: str,
    count: int | None = None,
    idem_key: str | None = None,
    effective_stated: bool = True,
) -> ReturnResult:
    """Return quotas of a loan by hand (task done, term over). Default: all outstanding.
    With `idem_key`, a retry answers with the return the key first made (`_keyed_return`)."""
    if idem_key is not None and idem_key in batch.state.keyed:
        return _keyed_return(batch, idem_key, loan_id, count, effective_stated)
    batch.check_date()
    loan = _existing_loan(batch.state, loan_id)
    count = loan.outstanding if count is None else count
    refuse(return_allowed(loan, count))
    expire_due(batch)
    batch.emit(LoanReturned(loan_id, count, ReturnCause.MANUAL.value), idem_key=idem_key)
    returns = [Returned(loan_id, ReturnCause.MANUAL, count, loan.borrower, loan.pool)]
    if loan.lender is not None:
        returns.extend(settle(batch, [loan.lender]))
    return ReturnResult(loan, batch.effective, returns, alerts(batch.state, batch.effective))


def evaluate_loan(
    batch: Batch,
    loan_id: str,
    *,
    score: int,
    decision: Decision | Violation,
    new_end: date | None = None,
    idem_key: str | None = None,
    effective_stated: bool = True,
) -> EvaluationResult:
    """Record the performance evaluation of an expired loan: extend to `new_end`, or return.
    `decision` is the parsed request (`pools.rules.institutional_pool.decision_named`).
    With `idem_key`, a retry answers with the evaluation the key first recorded."""
    if idem_key is not None and idem_key in batch.state.keyed:
        asked = {
            "loan": loan_id, "score": score,
            "decision": str(decision) if isinstance(decision, Decision) else decision.rule,
            "until": new_end, "effective": batch.effective if effective_stated else None,
            "document": batch.document, "reason": batch.reason,
        }  # fmt: skip
        first = _keyed_first(batch, idem_key, "evaluate", LoanEvaluated, asked)
        assert isinstance(first.payload, LoanEvaluated)
        loan = batch.state.loans[first.payload.loan_id]
        return EvaluationResult(loan, batch.effective, [])
    batch.check_date()
    state = batch.state
    loan = _existing_loan(state, loan_id)
    status = loan.status_on(batch.effective)
    refuse(evaluation_allowed(loan, status, score, decision, new_end, batch.effective))
    extend = decision is Decision.EXTEND
    expire_due(batch)
    batch.emit(
        LoanEvaluated(loan_id, score, str(decision), day_text(new_end) if extend else None),
        idem_key=idem_key,
    )
    returns = []
    if decision is Decision.RETURN:
        count = loan.outstanding
        batch.emit(LoanReturned(loan_id, count, ReturnCause.EVALUATION.value))
        returns.append(Returned(loan_id, ReturnCause.EVALUATION, count, loan.borrower, loan.pool))
        if loan.lender is not None:
            returns.extend(settle(batch, [loan.lender]))
    return EvaluationResult(loan, batch.effective, returns)


def rebuild_pool(batch: Batch, capacity: int | None = None) -> InstitutionalPoolFigures:
    """到期重建: the institutional pool starts a new period with a capacity (default: setting)."""
    batch.check_date()
    state = batch.state
    capacity = state.settings.institutional_capacity if capacity is None else capacity
    refuse(rebuild_allowed(state, batch.effective, capacity))
    period_end = add_years(batch.effective, state.settings.pool_period_years)
    batch.emit(PoolRebuilt(INSTITUTIONAL_POOL.text, capacity, period_end.isoformat()))
    return pool_figures(state).institutional


def rotate_key(batch: Batch, new_fingerprint: str) -> Event:
    """The chain key changes: the event (returned) is sealed under the key in use
    (`batch.key`), every later one under the new key."""
    batch.check_date()
    refuse(key_rotation_allowed(batch.state.key_fingerprint, new_fingerprint, DEMO_FINGERPRINT))
    return batch.emit(ChainKeyRotated(new_fingerprint))


def correct_record(batch: Batch, target: int, field: str, stored: str, new: str) -> Event:
    """A reversing entry for what event `target` says in `field` (文号 or reason; `stored`:
    the value sealed in that event): appended, never rewritten."""
    batch.check_date()
    current = batch.state.corrected(target, field, stored)
    refuse(correction_allowed(target, batch.state.seq, field, current, current, new))
    return batch.emit(RecordCorrected(target, field, current, new))


def reverse_entry(batch: Batch, target: Event) -> Event:
    """A reversing entry (冲销) for `target`, a loan opening or a return recorded in error:
    the loan is undone, or the returned quotas owe again, as if the original had not
    happened (as-of views leave out both, `pools.state.fold_as_of`). The original stays.
    Refused before anything is written if it cannot be undone whole."""
    reversal = _reversal_of(target)
    batch.check_date()
    state = batch.state
    loan = state.loans.get(reversal.loan_id)
    if reversal.target == LoanOpened.kind:
        refuse(opening_reversible(loan, target.seq))
    else:
        already = state.reversed_returns.get(str(target.seq))
        refuse(return_reversible(loan, target.seq, reversal.cause, reversal.count, already))
        assert loan is not None
        refuse(people_to_move_back(state.units[loan.borrower], reversal.count))
        refuse(room_to_lend_again(state, loan.pool, reversal.count))
    assert loan is not None
    event = batch.emit(reversal)
    if loan.lender is not None:  # the lender has its quota back: its own loans may fall due
        settle(batch, [loan.lender])
    return event


def _reversal_of(target: Event) -> EntryReversed:
    reversal = EntryReversed.of(target)
    if reversal is not None:
        return reversal
    kind = target.payload.kind
    raise RuleViolation(
        Violation(
            "ledger.reversal",
            f"event {target.seq} ({kind}) cannot be reversed: only a loan opening or a return "
            "can (correct a 文号 or reason with `ledger correct`)",
            f"第 {target.seq} 条（{kind}）不能冲销：只能冲销借用或归还"
            "（文号、事由请用 ledger correct 更正）",
        )
    )


def _default_term(settings: Settings, pool: PoolRef) -> int | None:
    return settings.admin_term_years if pool == ADMIN_POOL else settings.term_years


# ---- keyed retries of every command (issue 11, SPEC 3.5) -------------------------------------


def _keyed_target(event: KeyedEvent) -> str:
    """What a keyed request made or touched, in words: "loan L000004", "plan UP000002"."""
    payload = event.payload
    for name, label in (("plan_id", "quota-use plan"), ("loan_id", "loan")):
        value = getattr(payload, name, None)
        if value:
            return f"{label} {value} ({payload.kind})"
    return f"event {event.seq} ({payload.kind})"


def _stored_request(event: KeyedEvent) -> dict[str, object]:
    """The request a keyed event recorded, in the fields a retry states."""
    payload = event.payload
    envelope = {
        "effective": date.fromisoformat(event.effective),
        "document": event.document,
        "reason": event.reason,
    }
    if isinstance(payload, LoanReturned):
        return {"loan": payload.loan_id, "count": payload.count, **envelope}
    if isinstance(payload, LoanEvaluated):
        until = None if payload.new_end is None else date.fromisoformat(payload.new_end)
        return {
            "loan": payload.loan_id, "score": payload.score, "decision": payload.decision,
            "until": until, **envelope,
        }  # fmt: skip
    return dict(envelope)


def _keyed_first(
    batch: Batch, key: str, command: str, kind: type[Payload], asked: Mapping[str, object]
) -> KeyedEvent:
    """The event `key` first wrote, once the retry is found to repeat its request (else the
    refusal `<command>.key_conflict` naming the fields that differ)."""
    first = batch.state.keyed[key]
    stored = _stored_request(first)
    for name in asked:
        stored.setdefault(name, None)
    refuse(retry_conflict(command, key, first.kind, kind.kind, _keyed_target(first), stored, asked))
    return first


def _keyed_return(
    batch: Batch, key: str, loan_id: str, count: int | None, effective_stated: bool
) -> ReturnResult:
    asked = {
        "loan": loan_id, "count": count,
        "effective": batch.effective if effective_stated else None,
        "document": batch.document, "reason": batch.reason,
    }  # fmt: skip
    first = _keyed_first(batch, key, "return", LoanReturned, asked)
    assert isinstance(first.payload, LoanReturned)
    loan = batch.state.loans[first.payload.loan_id]
    returned = Returned(
        loan.loan_id, ReturnCause.MANUAL, first.payload.count, loan.borrower, loan.pool
    )
    return ReturnResult(loan, date.fromisoformat(first.effective), [returned], [])


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


# ---- teacher quota accounts (SPEC 2.9) ------------------------------------------------------


def apply_teacher_plan(
    batch: Batch,
    plan: TeacherPlan,
    *,
    idem_key: str | None = None,
    effective_stated: bool = True,
) -> TeacherPlanResult:
    """Apply one year of a teacher plan as one group of events: the counties' accounts
    registered on the first application (from the plan's `current`), then the plan started,
    each county's release into the city's teacher pool, each allocation from it, and the
    group completed. Refused before anything is emitted if the plan is not optimal, already
    applied, stale, or changes the total by other than its extra_quota. Under a used `idem_key`
    an identical request answers with the original application; a different one is refused
    naming the differing fields."""
    book = batch.state.teacher
    if idem_key is not None and idem_key in book.keys:
        done = book.applications[book.keys[idem_key]]
        stored = {
            "plan": done.plan_id, "year": done.year, "document": done.document,
            "reason": done.reason, "effective": done.effective,
        }  # fmt: skip
        asked = {
            "plan": plan.plan_id, "year": plan.year, "document": batch.document,
            "reason": batch.reason, "effective": batch.effective if effective_stated else None,
        }  # fmt: skip
        target = f"plan application {done.application}"
        refuse(same_request(idem_key, target, stored, asked, "teacher"))
        accounts = {c: a.name for c, a in book.accounts.items()}
        return TeacherPlanResult(done, True, accounts, 0)
    batch.check_date()
    refuse(plan_optimal(plan.status))
    name = application_id(plan.plan_id, plan.year)
    refuse(plan_not_applied(book.applied_where(), name))
    refuse(plan_not_stale(book.quotas(), plan.current))
    refuse(total_changes_by_extra(plan.total_before, plan.total_after, plan.extra_quota))
    if not book.accounts:
        for county in plan.counties:
            batch.emit(TeacherCountyRegistered(county.county_id, county.name, county.current))
    total_before = book.total()
    batch.emit(
        TeacherPlanStarted(
            plan.plan_id, plan.scenario_hash, plan.year, plan.extra_quota, plan.current
        ),
        idem_key=idem_key,
    )
    for county in plan.counties:
        if county.change < 0:
            batch.emit(
                TeacherQuotaReleased(
                    plan.plan_id, plan.scenario_hash, county.county_id, -county.change
                )
            )
    for county in plan.counties:
        if county.change > 0:
            batch.emit(
                TeacherQuotaAllocated(
                    plan.plan_id, plan.scenario_hash, county.county_id, county.change
                )
            )
    batch.emit(TeacherPlanCompleted(plan.plan_id, total_before, book.total()))
    accounts = {c: a.name for c, a in book.accounts.items()}
    return TeacherPlanResult(book.applications[name], False, accounts, len(batch.events))
