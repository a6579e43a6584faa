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

Where an invariant is a rule (pool capacity, the lender's spare quota, self-loans, returns,
evaluations, the rebuild, a unit leaving with loans, the actor, no backdating), the fold calls
the same predicate of `pools.rules` that the refusing command calls, and
`InvariantBroken.rule` names its code. Stored text (pools, dates, causes, decisions) is
decoded here into `pools.vocabulary` types, once per event.

Accounting model (documented decisions):
- `headcount` is people on the unit's own quota, as the snapshot file reports it.
- A loan is opened for people hired on it, so its `outstanding` quotas are also the people on
  it: `pool_headcount` (admin/institutional pools, the special account 专户) or `borrowed`
  (unit-to-unit). These people count in headcount statistics but pool quotas never count in
  approved or city totals.
- own limit = approved − lent; own vacancies = max(0, own limit − headcount); a unit is over
  quota when headcount > own limit (the formulas: `pools.rules.units`). With usable =
  approved + borrowed − lent this is exactly "people on own and borrowed quota exceed usable
  quota" (SPEC 2.1).
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
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pools.events import (
    DEMO_FINGERPRINT,
    FINGERPRINT_FIELD,
    GENESIS,
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
    ProblemClosed,
    ProblemOpened,
    RecordCorrected,
    TeacherCountyRegistered,
    TeacherPlanCompleted,
    TeacherPlanStarted,
    TeacherQuotaAllocated,
    TeacherQuotaReleased,
    UnitRegistered,
    UnitRemoved,
    UnitUpdated,
    UsePlanApproved,
    UsePlanLapsed,
    UsePlanPosted,
    UsePlanWithdrawn,
    canonical_json,
    payload_from_dict,
)
from pools.rules.admin_pool import (
    admin_pool_capacity,
    admin_pool_suspended,
    is_municipal_admin_organ,
)
from pools.rules.idempotency import key_unused
from pools.rules.institutional_pool import (
    decision_named,
    evaluation_allowed,
    loan_status_on,
    rebuild_allowed,
    term_ended,
)
from pools.rules.ledger import (
    actor_named,
    correction_allowed,
    key_rotation_allowed,
    late_entry_allowed,
    late_entry_covers,
    not_backdated,
)
from pools.rules.loans import (
    loan_count_valid,
    opening_reversible,
    people_to_move_back,
    pool_has_room,
    return_allowed,
    return_reversible,
    room_to_lend_again,
    vacancy_to_move_into,
)
from pools.rules.problems import (
    ProblemState,
    ProblemStatus,
    automatic_problem_allowed,
    cause_of,
    deadline_not_before,
    open_problem_refusal,
    problem_closable,
    problem_kind_known,
    problem_unit_known,
)
from pools.rules.settings import Settings, settings_valid
from pools.rules.unit_loans import lender_has_spare, unit_loan_parties
from pools.rules.units import (
    is_over_quota,
    own_limit,
    own_vacancies,
    unit_figures_problem,
    unit_without_loans,
    usable_quota,
)
from pools.rules.useplans import (
    Channel,
    PlanState,
    PlanStatus,
    channel_named,
    lapse_allowed,
    plan_count_valid,
    plan_open,
    plan_unit_known,
    plan_validity_after_approval,
    plan_within_free_vacancies,
    posting_allowed,
    withdrawal_reason_given,
)
from pools.rules.violations import Violation
from pools.teacher_book import TeacherBook
from pools.vocabulary import (
    CAUSE_EVALUATION,
    CAUSE_VACANCY,
    DECISION_OF,
    KIND_ADMIN,
    RETURN_CAUSE_OF,
    STATUS_CLOSED,
    STATUS_OPEN,
    Decision,
    KeyMode,
    LoanStatus,
    PoolKind,
    PoolRef,
    PoolRefError,
    ReturnCause,
    add_years,
    parse_day,
    parse_optional_day,
    parse_pool,
)

UNIT_FIELDS = ("name", "region", "level", "kind", "approved", "headcount", "sector", "parent")


class InvariantBroken(Exception):
    """An event would break an accounting invariant; `seq` names it, `rule` the rule broken
    when a rule of `pools.rules` found it (else ``ledger.invariant``)."""

    def __init__(self, seq: int, message: str, rule: str = "ledger.invariant"):
        self.seq = seq
        self.message = message
        self.rule = rule
        super().__init__(f"event {seq}: {message}")

    @classmethod
    def of(cls, seq: int, violation: Violation) -> InvariantBroken:
        return cls(seq, str(violation), violation.rule)


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
    in_admin_group: bool = False  # a municipal administrative organ (kept by the fold)

    def __post_init__(self) -> None:
        self.in_admin_group = is_municipal_admin_organ(self.level, self.kind)

    @property
    def own_limit(self) -> int:
        return own_limit(self.approved, self.lent)

    @property
    def usable(self) -> int:
        return usable_quota(self.approved, self.borrowed, self.lent)

    @property
    def vacancies(self) -> int:
        return own_vacancies(self.approved, self.lent, self.headcount)

    @property
    def over_quota(self) -> bool:
        return is_over_quota(self.approved, self.lent, self.headcount)

    def as_dict(self) -> dict[str, Any]:
        from pools.results import unit_json

        return unit_json(self)


@dataclass(frozen=True, slots=True)
class Evaluation:
    day: date
    score: int
    decision: Decision
    new_end: date | None


@dataclass(slots=True)
class LoanState:
    loan_id: str
    pool: PoolRef
    borrower: str
    count: int
    purpose: str
    opened: date
    opened_seq: int
    end: date | None
    idem_key: str | None
    actor: str
    outstanding: int
    status: LoanStatus = LoanStatus.OPEN
    returned: dict[ReturnCause, int] = field(default_factory=dict)
    evaluations: list[Evaluation] = field(default_factory=list)
    awaiting_return: bool = False
    document: str = ""  # of the opening event: an idempotent retry must repeat it
    reason: str = ""
    reversed_by: int = 0  # the reversing entry that undid the opening (issue 13), 0: none
    # status and awaiting_return when the last return closed it: a reversed return reopens
    # the loan as it was, as the ledger read without that return shows it
    before_close: tuple[LoanStatus, bool] | None = None

    @property
    def lender(self) -> str | None:
        return self.pool.lender

    def status_on(self, day: date) -> LoanStatus:
        """open / expired / closed as of `day`: a term that has run out reads as expired."""
        return loan_status_on(self.status, self.end, day)

    def as_dict(self, day: date | None = None) -> dict[str, Any]:
        from pools.results import loan_json

        return loan_json(self, day)


@dataclass(slots=True)
class KeyedEvent:
    """The first event an idempotency key wrote, as a keyed retry compares with it: its
    envelope and its payload as stored (plain data, so a state snapshot holds it)."""

    seq: int
    kind: str
    effective: str
    document: str
    reason: str
    payload_json: str

    @classmethod
    def of(cls, event: Event) -> KeyedEvent:
        payload = canonical_json(event.payload.as_dict())
        return cls(event.seq, event.kind, event.effective, event.document, event.reason, payload)

    @property
    def payload(self) -> Payload:
        return payload_from_dict(self.kind, json.loads(self.payload_json))


class State:
    """The folded ledger. Mutated only by `apply`; read through its properties and views.

    Every attribute is also declared here, with its type: `pools.snapshot` stores and
    restores a State from these declarations alone (an attribute added without one turns
    snapshots off, and a test names it)."""

    settings: Settings
    units: dict[str, UnitState]
    loans: dict[str, LoanState]
    pool_lent: dict[PoolKind, int]
    inst_capacity: int
    inst_period_end: date | None
    keys: dict[str, str]
    open_by_borrower: dict[str, list[str]]
    awaiting_return: set[str]
    seq: int
    hash: str
    effective: date | None
    _effective_text: str | None
    _actor_text: str | None
    initialised: bool
    key_fingerprint: str | None
    admin_vacancies: int
    admin_net: int
    _expiry_heap: list[tuple[date, int, str]]
    # SPEC 2.7 / 2.8 (issue 11)
    plans: dict[str, PlanState]
    open_plans_by_unit: dict[str, list[str]]
    reserved: dict[str, int]
    plan_keys: dict[str, str]
    problems: dict[str, ProblemState]
    open_problems_by_unit: dict[str, list[str]]
    problem_by_cause: dict[str, str]
    keyed: dict[str, KeyedEvent]
    # record corrections (issue 13)
    corrections: dict[str, dict[str, str]]  # keyed by str(seq): plain JSON/msgpack keys
    corrected_from: dict[str, dict[str, str]]
    # late and reversing entries (issue 13)
    started: date | None
    amendments: int
    _late_window: tuple[str, str] | None
    reversed_returns: dict[str, int]
    # SPEC 2.9
    teacher: TeacherBook

    def __init__(self) -> None:
        self.settings = Settings()
        self.units: dict[str, UnitState] = {}
        self.loans: dict[str, LoanState] = {}
        self.pool_lent = {PoolKind.ADMIN: 0, PoolKind.INSTITUTIONAL: 0}
        self.inst_capacity = 0
        self.inst_period_end: date | None = None
        self.keys: dict[str, str] = {}  # idempotency key -> loan id
        self.open_by_borrower: dict[str, list[str]] = {}  # oldest first
        self.awaiting_return: set[str] = set()  # loans an evaluation sent back, not yet returned
        # ---- SPEC 2.7 quota-use plans, 2.8 problems (issue 11; folded in `pools.books_fold`)
        self.plans: dict[str, PlanState] = {}
        self.open_plans_by_unit: dict[str, list[str]] = {}  # oldest first
        self.reserved: dict[str, int] = {}  # unit -> unused part of its open plans
        self.plan_keys: dict[str, str] = {}  # idempotency key -> plan id
        self.problems: dict[str, ProblemState] = {}
        self.open_problems_by_unit: dict[str, list[str]] = {}  # oldest first
        self.problem_by_cause: dict[str, str] = {}  # open automatic problems by cause
        self.keyed: dict[str, KeyedEvent] = {}  # every idempotency key -> the first event it wrote
        self.seq = 0
        self.hash = GENESIS
        self.effective: date | None = None  # of the last event
        self._effective_text: str | None = None  # the same, as stored
        self._actor_text: str | None = None  # the last event's actor, once checked
        self.initialised = False
        self.key_fingerprint: str | None = None  # of the chain key; None: a legacy ledger
        # corrected 文号 / reasons of earlier events: {seq: {field: value now}}
        self.corrections: dict[str, dict[str, str]] = {}
        # what the first correction of each (seq, field) says was stored: `audit verify`
        # checks it against the stored event (the fold does not keep every event's text)
        self.corrected_from: dict[str, dict[str, str]] = {}
        self.started: date | None = None  # the first event's date: nothing takes effect before
        # late and reversing entries: as-of views then read the events in order of effective
        # date, without the reversed events and their reversals (`fold_as_of`)
        self.amendments = 0
        # the write and date of the late entry being applied (recorded_at, effective)
        self._late_window: tuple[str, str] | None = None
        self.reversed_returns: dict[str, int] = {}  # str(seq) of a return -> its reversal
        # running sums over municipal administrative organs, so capacity is O(1)
        self.admin_vacancies = 0
        self.admin_net = 0  # Σ (headcount − own limit): > 0 means over quota as a whole
        self._expiry_heap: list[tuple[date, int, str]] = []
        self.teacher = TeacherBook()  # teacher quota accounts (SPEC 2.9)

    # ---- derived figures ---------------------------------------------------------------

    @property
    def key_mode(self) -> KeyMode:
        """Which chain key the ledger was created with (its first event says)."""
        if self.key_fingerprint is None:
            return KeyMode.LEGACY
        return KeyMode.DEMO if self.key_fingerprint == DEMO_FINGERPRINT else KeyMode.OWN

    @property
    def admin_suspended(self) -> bool:
        return admin_pool_suspended(self.admin_net)

    @property
    def admin_capacity(self) -> int:
        return admin_pool_capacity(self.settings, self.admin_vacancies, self.admin_net)

    def pool_capacity(self, pool: PoolKind) -> int:
        return self.admin_capacity if pool is KIND_ADMIN else self.inst_capacity

    def loans_due(self, day: date) -> list[str]:
        """Open loans whose term ended on or before `day`, oldest end first."""
        due = []
        heap = self._expiry_heap
        while heap and term_ended(heap[0][0], day):
            end, _, loan_id = heapq.heappop(heap)
            loan = self.loans.get(loan_id)
            # a loan reopened by a reversed return may stand in the heap twice
            is_due = loan is not None and loan.status is STATUS_OPEN and loan.end == end
            if is_due and loan_id not in due:
                due.append(loan_id)
        for loan_id in due:  # not yet expired: the caller emits the events that expire them
            loan = self.loans[loan_id]
            assert loan.end is not None
            heapq.heappush(heap, (loan.end, loan.opened_seq, loan_id))
        return due

    # ---- the fold ----------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        seq, _, _, recorded_at, effective, actor, _, _, payload, _, digest = event
        if seq != self.seq + 1:
            raise InvariantBroken(seq, f"expected event {self.seq + 1}, found {seq}")
        late = False
        if effective == self._effective_text:  # most events share the day of the one before
            day = self.effective
            self._late_window = None
        else:
            try:
                day = parse_day(effective)
            except (TypeError, ValueError):
                raise InvariantBroken(seq, f"effective date {effective!r} is not a date") from None
            backdated = not_backdated(self.effective, day)
            late = backdated is not None
            if late and not late_entry_covers(self._late_window, recorded_at, effective):
                _refuse(seq, backdated)
            if not late:
                self._late_window = None
        if actor != self._actor_text:  # most events have the actor of the one before
            _refuse(seq, actor_named(actor))
            self._actor_text = actor
        if isinstance(payload, LedgerInitialised) != (self.seq == 0):
            raise InvariantBroken(seq, "the ledger starts with exactly one initialisation")
        assert day is not None
        if self.teacher.open is not None and type(payload) not in _TEACHER_GROUP:
            raise InvariantBroken(seq, "a plan group is interrupted by another event")
        idem_key = event[2]
        if idem_key is not None:  # one key, one request, whatever the command (issue 11)
            _refuse(seq, key_unused(self.keyed, idem_key))
        _HANDLERS[type(payload)](self, event, day, payload)
        if idem_key is not None:
            self.keyed[idem_key] = KeyedEvent.of(event)
        self.seq = seq
        self.hash = digest
        if not late:  # a late entry leaves the ledger's date where it was
            self.effective = day
            self._effective_text = effective

    def _touch_unit(self, unit: UnitState, **changes: Any) -> None:
        """Change a unit and keep the admin-group sums right."""
        self._group(unit, -1)
        for name, value in changes.items():
            setattr(unit, name, value)
        if "level" in changes or "kind" in changes:
            unit.in_admin_group = is_municipal_admin_organ(unit.level, unit.kind)
        self._group(unit, +1)

    def _shift(self, unit: UnitState, *, lent: int = 0, headcount: int = 0) -> None:
        """Add to a unit's lent quota and headcount, keeping the admin-group sums right (the
        hot path of `_touch_unit`: no keyword dict, no setattr)."""
        group = unit.in_admin_group
        if group:
            self._group(unit, -1)
        unit.lent += lent
        unit.headcount += headcount
        if group:
            self._group(unit, +1)

    def _group(self, unit: UnitState, sign: int) -> None:
        """Add (+1) or take out (−1) a unit's share of the admin-group sums (this runs twice
        for every change of every unit on a replay, so no more than one call deep)."""
        if unit.in_admin_group:
            net = unit.headcount - own_limit(unit.approved, unit.lent)
            self.admin_net += sign * net
            if net < 0:
                self.admin_vacancies -= sign * net

    def _on_init(self, event: Event, day: date, payload: LedgerInitialised) -> None:
        try:
            self.settings = Settings.from_dict(payload.settings)
        except TypeError as exc:
            raise InvariantBroken(event.seq, f"unreadable settings: {exc}") from None
        _refuse(event.seq, settings_valid(self.settings))
        self.key_fingerprint = payload.settings.get(FINGERPRINT_FIELD)
        self.inst_capacity = self.settings.institutional_capacity
        self.inst_period_end = add_years(day, self.settings.pool_period_years)
        self.initialised = True
        self.started = day

    def _on_key_rotated(self, event: Event, day: date, p: ChainKeyRotated) -> None:
        rotation = key_rotation_allowed(self.key_fingerprint, p.fingerprint, DEMO_FINGERPRINT)
        _refuse(event.seq, rotation)
        self.key_fingerprint = p.fingerprint

    def _on_record_corrected(self, event: Event, day: date, p: RecordCorrected) -> None:
        target = str(p.seq)
        fields = self.corrections.get(target, {})
        current = fields.get(p.field, p.old)  # the stored value is checked by the command
        _refuse(event.seq, correction_allowed(p.seq, event.seq - 1, p.field, p.old, current, p.new))
        self.corrections[target] = {**fields, p.field: p.new}
        self.corrected_from.setdefault(target, {}).setdefault(p.field, p.old)
        for loan in self.loans.values():  # the loan register shows the corrected 文号
            if loan.opened_seq == p.seq:
                setattr(loan, p.field, p.new)

    def _on_entry_backdated(self, event: Event, day: date, p: EntryBackdated) -> None:
        """Open the window of a late entry: the rest of this write may be dated `p.effective`."""
        entry_day = _plan_day(event.seq, p.effective)
        _refuse(event.seq, late_entry_allowed(self.started, entry_day, event.reason))
        if entry_day >= day:
            raise InvariantBroken(event.seq, f"a late entry dated {entry_day} is not late")
        self._late_window = (event.recorded_at, p.effective)
        self.amendments += 1

    def _on_entry_reversed(self, event: Event, day: date, p: EntryReversed) -> None:
        """Undo a loan opening or a return (see `pools.rules.loans`, reversing entries)."""
        seq = event.seq
        loan = self.loans.get(p.loan_id)
        if p.target == LoanOpened.kind:
            _refuse(seq, opening_reversible(loan, p.seq))
            assert loan is not None
            if p.count != loan.count:
                raise InvariantBroken(seq, f"loan {p.loan_id} was opened for {loan.count}")
            self._lend(loan, -p.count)
            loan.outstanding = 0
            loan.status = STATUS_CLOSED
            loan.reversed_by = seq
            self.open_by_borrower[loan.borrower].remove(loan.loan_id)
        elif p.target == LoanReturned.kind:
            already = self.reversed_returns.get(str(p.seq))
            _refuse(seq, return_reversible(loan, p.seq, p.cause, p.count, already))
            assert loan is not None
            borrower = self.units[loan.borrower]
            _refuse(seq, people_to_move_back(borrower, p.count))
            _refuse(seq, room_to_lend_again(self, loan.pool, p.count))
            self._shift(borrower, headcount=-p.count)
            self._lend(loan, p.count)
            cause = RETURN_CAUSE_OF[p.cause]
            loan.returned[cause] -= p.count
            if not loan.returned[cause]:
                del loan.returned[cause]
            if loan.status is STATUS_CLOSED:
                self._reopen(loan)
            loan.outstanding += p.count
            self.reversed_returns[str(p.seq)] = seq
        else:
            raise InvariantBroken(seq, f"a {p.target} event cannot be reversed")
        self.amendments += 1

    def reversed_seqs(self) -> set[int]:
        """Every reversed event and its reversal: as recorded now, neither happened."""
        found = {n for loan in self.loans.values() if loan.reversed_by
                 for n in (loan.opened_seq, loan.reversed_by)}  # fmt: skip
        for target, by in self.reversed_returns.items():
            found.update((int(target), by))
        return found

    def _lend(self, loan: LoanState, count: int) -> None:
        """Lend `count` more quotas on `loan` (negative: take them back), people included."""
        borrower = self.units[loan.borrower]
        lender_id = loan.pool.lender
        if lender_id is None:
            self.pool_lent[loan.pool.kind] += count
            borrower.pool_headcount += count
        else:
            self._shift(self.units[lender_id], lent=count)
            borrower.borrowed += count

    def _reopen(self, loan: LoanState) -> None:
        """A closed loan owes quotas again, as it stood before it closed (open or expired,
        sent back by an evaluation or not), among its borrower's loans in opening order."""
        loan.status, loan.awaiting_return = loan.before_close or (STATUS_OPEN, False)
        loan.before_close = None
        if loan.awaiting_return:
            self.awaiting_return.add(loan.loan_id)
        owed = self.open_by_borrower.setdefault(loan.borrower, [])
        owed.append(loan.loan_id)
        owed.sort(key=lambda loan_id: self.loans[loan_id].opened_seq)
        if loan.status is STATUS_OPEN and loan.end is not None:
            heapq.heappush(self._expiry_heap, (loan.end, loan.opened_seq, loan.loan_id))

    def corrected(self, seq: int, field: str, stored: str) -> str:
        """What event `seq` says in `field` now: the stored value, or its last correction."""
        return self.corrections.get(str(seq), {}).get(field, stored)

    def _on_unit_registered(self, event: Event, day: date, p: UnitRegistered) -> None:
        if p.unit_id in self.units:
            raise InvariantBroken(event.seq, f"unit {p.unit_id} is already registered")
        _check_unit_values(event.seq, p.level, p.kind_, p.approved, p.headcount)
        unit = UnitState(
            p.unit_id, p.name, p.region, p.level, p.kind_, p.approved, p.headcount,
            p.sector, p.parent,
        )  # fmt: skip
        self.units[p.unit_id] = unit
        self._group(unit, +1)

    def _on_unit_updated(self, event: Event, day: date, p: UnitUpdated) -> None:
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

    def _on_unit_removed(self, event: Event, day: date, p: UnitRemoved) -> None:
        unit = self._unit(event, p.unit_id)
        _refuse(event.seq, unit_without_loans(self, p.unit_id))
        self._group(unit, -1)
        del self.units[p.unit_id]

    def _on_loan_opened(self, event: Event, day: date, p: LoanOpened) -> None:
        seq, idem_key, count = event.seq, event.idem_key, p.count
        if p.loan_id in self.loans:
            raise InvariantBroken(seq, f"loan {p.loan_id} already exists")
        _refuse(seq, loan_count_valid(count))
        borrower = self._unit(event, p.borrower)
        _refuse(seq, open_problem_refusal(self, p.borrower))  # SPEC 2.8
        try:
            pool = parse_pool(p.pool)
            end = None if p.end is None else parse_day(p.end)
        except (PoolRefError, TypeError, ValueError) as exc:
            raise InvariantBroken(seq, str(exc)) from None
        # pool_headcount and borrowed do not enter the admin-group sums: no _touch_unit
        lender_id = pool.lender
        if lender_id is None:
            _refuse(seq, pool_has_room(self, pool, count))
            self.pool_lent[pool.kind] += count
            borrower.pool_headcount += count
        else:
            _refuse(seq, unit_loan_parties(self, lender_id, p.borrower))
            _refuse(seq, lender_has_spare(self, lender_id, count))
            lender = self.units[lender_id]
            self._shift(lender, lent=count)
            borrower.borrowed += count
        loan = LoanState(
            p.loan_id, pool, p.borrower, count, p.purpose, day, seq, end, idem_key,
            event.actor, count, document=event.document, reason=event.reason,
        )  # fmt: skip
        self.loans[p.loan_id] = loan
        self.open_by_borrower.setdefault(p.borrower, []).append(p.loan_id)
        if idem_key is not None:
            self.keys[idem_key] = p.loan_id
        if end is not None:
            heapq.heappush(self._expiry_heap, (end, seq, p.loan_id))

    def _on_loan_returned(self, event: Event, day: date, p: LoanReturned) -> None:
        seq, count = event.seq, p.count
        loan = self._loan(event, p.loan_id)
        _refuse(seq, return_allowed(loan, count))
        cause = RETURN_CAUSE_OF.get(p.cause)
        if cause is None:
            raise InvariantBroken(seq, f"unknown return cause {p.cause!r}")
        borrower = self.units[loan.borrower]
        if cause is CAUSE_VACANCY:
            _refuse(seq, vacancy_to_move_into(borrower, count))
        elif cause is CAUSE_EVALUATION and not (loan.awaiting_return and count == loan.outstanding):
            raise InvariantBroken(seq, "an evaluation return must follow a 'return' decision")
        # the people on the returned quota move onto the borrower's own quota
        self._lend(loan, -count)
        self._shift(borrower, headcount=count)
        loan.outstanding -= count
        loan.returned[cause] = loan.returned.get(cause, 0) + count
        if loan.outstanding == 0:
            loan.before_close = (loan.status, loan.awaiting_return)
            loan.status = STATUS_CLOSED
            loan.awaiting_return = False
            self.awaiting_return.discard(loan.loan_id)
            self.open_by_borrower[loan.borrower].remove(loan.loan_id)

    def _on_loan_expired(self, event: Event, day: date, p: LoanExpired) -> None:
        loan = self._loan(event, p.loan_id)
        if loan.status is not LoanStatus.OPEN or not term_ended(loan.end, day):
            raise InvariantBroken(event.seq, f"loan {p.loan_id} is not due to expire")
        loan.status = LoanStatus.EXPIRED

    def _on_loan_evaluated(self, event: Event, day: date, p: LoanEvaluated) -> None:
        seq = event.seq
        loan = self._loan(event, p.loan_id)
        decision = DECISION_OF.get(p.decision) or decision_named(p.decision)
        try:
            new_end = parse_optional_day(p.new_end)
        except (TypeError, ValueError) as exc:
            raise InvariantBroken(seq, str(exc)) from None
        _refuse(seq, evaluation_allowed(loan, loan.status, p.score, decision, new_end, day))
        if decision is Decision.EXTEND:
            assert new_end is not None
            loan.status = LoanStatus.OPEN
            loan.end = new_end
            heapq.heappush(self._expiry_heap, (new_end, loan.opened_seq, loan.loan_id))
        else:
            loan.awaiting_return = True
            self.awaiting_return.add(loan.loan_id)
        assert isinstance(decision, Decision)
        loan.evaluations.append(Evaluation(day, p.score, decision, new_end))

    def _on_pool_rebuilt(self, event: Event, day: date, p: PoolRebuilt) -> None:
        if p.pool != PoolKind.INSTITUTIONAL:
            raise InvariantBroken(event.seq, f"pool {p.pool!r} is not rebuilt")
        _refuse(event.seq, rebuild_allowed(self, day, p.capacity))
        try:
            period_end = parse_day(p.period_end)
        except (TypeError, ValueError) as exc:
            raise InvariantBroken(event.seq, str(exc)) from None
        if period_end <= day:
            raise InvariantBroken(event.seq, "the new period ends before it starts")
        self.inst_capacity = p.capacity
        self.inst_period_end = period_end

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

    # ---- views -------------------------------------------------------------------------

    def pools_view(self) -> dict[str, dict[str, Any]]:
        """Pool figures as JSON (`pools.results.pools_json`)."""
        from pools.results import pool_figures, pools_json

        return pools_json(pool_figures(self))


def _refuse(seq: int, violation: Violation | None) -> None:
    """The fold's side of a rule: a violation found while applying event `seq` breaks it."""
    if violation is not None:
        raise InvariantBroken.of(seq, violation)


_HANDLERS: dict[type, Callable[[State, Event, date, Any], None]] = {
    LedgerInitialised: State._on_init,
    UnitRegistered: State._on_unit_registered,
    UnitUpdated: State._on_unit_updated,
    UnitRemoved: State._on_unit_removed,
    LoanOpened: State._on_loan_opened,
    LoanReturned: State._on_loan_returned,
    LoanExpired: State._on_loan_expired,
    LoanEvaluated: State._on_loan_evaluated,
    PoolRebuilt: State._on_pool_rebuilt,
    ChainKeyRotated: State._on_key_rotated,
    RecordCorrected: State._on_record_corrected,
    EntryBackdated: State._on_entry_backdated,
    EntryReversed: State._on_entry_reversed,
}


# ---- teacher quota accounts (SPEC 2.9): the fold's side, in `pools.teacher_book` ----------


def _teacher(seq: int, found: Violation | str | None) -> None:
    if isinstance(found, str):
        raise InvariantBroken(seq, found)
    _refuse(seq, found)


def _on_teacher_registered(state: State, event: Event, day: date, p: Any) -> None:
    _teacher(event.seq, state.teacher.on_registered(p))


def _on_teacher_started(state: State, event: Event, day: date, p: Any) -> None:
    found = state.teacher.on_started(
        p, seq=event.seq, day=day, actor=event.actor, document=event.document,
        reason=event.reason, idem_key=event.idem_key,
    )  # fmt: skip
    _teacher(event.seq, found)


def _on_teacher_released(state: State, event: Event, day: date, p: Any) -> None:
    _teacher(event.seq, state.teacher.on_released(p))


def _on_teacher_allocated(state: State, event: Event, day: date, p: Any) -> None:
    _teacher(event.seq, state.teacher.on_allocated(p))


def _on_teacher_completed(state: State, event: Event, day: date, p: Any) -> None:
    _teacher(event.seq, state.teacher.on_completed(p, day))


_HANDLERS.update(
    {
        TeacherCountyRegistered: _on_teacher_registered,
        TeacherPlanStarted: _on_teacher_started,
        TeacherQuotaReleased: _on_teacher_released,
        TeacherQuotaAllocated: _on_teacher_allocated,
        TeacherPlanCompleted: _on_teacher_completed,
    }
)
# the events that may come while a plan group is open
_TEACHER_GROUP = frozenset({TeacherQuotaReleased, TeacherQuotaAllocated, TeacherPlanCompleted})


# ---- SPEC 2.7 quota-use plans and 2.8 rectification problems (issue 11) ------------------
# A plan reserves free vacancies (`pools.rules.useplans`); postings go to the unit's oldest
# open plan; a lapse comes only after the validity end; an open problem blocks new plans (and
# loans, in `_on_loan_opened`) unless the setting makes that a warning; one open automatic
# problem per cause.


def _plan_day(seq: int, text: str) -> date:
    try:
        return parse_day(text)
    except (TypeError, ValueError) as exc:
        raise InvariantBroken(seq, str(exc)) from None


def _on_useplan_approved(state: State, event: Event, day: date, p: UsePlanApproved) -> None:
    seq, idem_key = event.seq, event.idem_key
    if p.plan_id in state.plans:
        raise InvariantBroken(seq, f"quota-use plan {p.plan_id} already exists")
    channel = channel_named(p.channel)
    if not isinstance(channel, Channel):
        raise InvariantBroken.of(seq, channel)
    until = _plan_day(seq, p.until)
    _refuse(seq, plan_count_valid(p.count))
    _refuse(seq, plan_unit_known(state, p.unit_id))
    _refuse(seq, plan_validity_after_approval(day, until))
    _refuse(seq, open_problem_refusal(state, p.unit_id))
    _refuse(seq, plan_within_free_vacancies(state, p.unit_id, p.count))
    state.plans[p.plan_id] = PlanState(
        p.plan_id, p.unit_id, p.count, channel, p.purpose, until, day, seq, event.document,
        event.actor, event.reason, idem_key,
    )  # fmt: skip
    state.open_plans_by_unit.setdefault(p.unit_id, []).append(p.plan_id)
    state.reserved[p.unit_id] = state.reserved.get(p.unit_id, 0) + p.count
    if idem_key is not None:
        state.plan_keys[idem_key] = p.plan_id


def _release(state: State, plan: PlanState, count: int, field_name: str) -> None:
    """Take `count` off a plan's unused part (posted, lapsed or withdrawn); close it at 0."""
    setattr(plan, field_name, getattr(plan, field_name) + count)
    state.reserved[plan.unit_id] -= count
    if plan.remaining == 0:
        plan.status = _CLOSING_STATUS[field_name]
        state.open_plans_by_unit[plan.unit_id].remove(plan.plan_id)


def _plan_of(state: State, event: Event, plan_id: str, unit_id: str) -> PlanState:
    plan = state.plans.get(plan_id)
    if plan is None or plan.unit_id != unit_id:
        raise InvariantBroken(event.seq, f"quota-use plan {plan_id} of {unit_id} does not exist")
    return plan


def _on_useplan_posted(state: State, event: Event, day: date, p: UsePlanPosted) -> None:
    plan = _plan_of(state, event, p.plan_id, p.unit_id)
    _refuse(event.seq, posting_allowed(state, p.plan_id, p.count))
    _release(state, plan, p.count, "used")


def _on_useplan_lapsed(state: State, event: Event, day: date, p: UsePlanLapsed) -> None:
    plan = _plan_of(state, event, p.plan_id, p.unit_id)
    _refuse(event.seq, lapse_allowed(state, p.plan_id, p.count, day))
    _release(state, plan, p.count, "lapsed")  # partly used or not, it ends lapsed


def _on_useplan_withdrawn(state: State, event: Event, day: date, p: UsePlanWithdrawn) -> None:
    plan = _plan_of(state, event, p.plan_id, p.unit_id)
    _refuse(event.seq, plan_open(state, p.plan_id))
    _refuse(event.seq, withdrawal_reason_given(event.reason))
    if p.count != plan.remaining:
        raise InvariantBroken(event.seq, f"a withdrawal takes the whole unused part of {p.plan_id}")
    _release(state, plan, p.count, "withdrawn")


def _on_problem_opened(state: State, event: Event, day: date, p: ProblemOpened) -> None:
    seq = event.seq
    if p.problem_id in state.problems:
        raise InvariantBroken(seq, f"problem {p.problem_id} already exists")
    _refuse(seq, problem_unit_known(state, p.unit_id))
    _refuse(seq, problem_kind_known(state.settings, p.problem_kind))
    deadline = _plan_day(seq, p.deadline)
    _refuse(seq, deadline_not_before(day, deadline))
    if p.cause:
        if cause_of(p.cause) is None:
            raise InvariantBroken(seq, f"unknown cause {p.cause!r} of an automatic problem")
        _refuse(seq, automatic_problem_allowed(state, p.cause))
        state.problem_by_cause[p.cause] = p.problem_id
    state.problems[p.problem_id] = ProblemState(
        p.problem_id, p.unit_id, p.problem_kind, deadline, day, seq, event.document, event.actor,
        event.reason, p.cause,
    )  # fmt: skip
    state.open_problems_by_unit.setdefault(p.unit_id, []).append(p.problem_id)


def _on_problem_closed(state: State, event: Event, day: date, p: ProblemClosed) -> None:
    _refuse(event.seq, problem_closable(state, p.problem_id, event.reason))
    problem = state.problems[p.problem_id]
    if problem.unit_id != p.unit_id or (p.automatic and not problem.automatic):
        raise InvariantBroken(
            event.seq, f"problem {p.problem_id} is not {p.unit_id}'s automatic one"
        )
    problem.status = ProblemStatus.CLOSED
    problem.closed_on = day
    problem.close_reason = event.reason
    problem.closed_by = event.actor
    state.open_problems_by_unit[problem.unit_id].remove(p.problem_id)
    if problem.cause:
        state.problem_by_cause.pop(problem.cause, None)


_CLOSING_STATUS = {
    "used": PlanStatus.USED,
    "lapsed": PlanStatus.LAPSED,
    "withdrawn": PlanStatus.WITHDRAWN,
}

_HANDLERS.update(
    {
        UsePlanApproved: _on_useplan_approved,
        UsePlanPosted: _on_useplan_posted,
        UsePlanLapsed: _on_useplan_lapsed,
        UsePlanWithdrawn: _on_useplan_withdrawn,
        ProblemOpened: _on_problem_opened,
        ProblemClosed: _on_problem_closed,
    }
)


def _check_unit_values(seq: int, level: str, kind: str, approved: int, headcount: int) -> None:
    problem = unit_figures_problem(level, kind, approved, headcount)
    if problem is not None:
        raise InvariantBroken(seq, problem)


def fold(
    events: Iterable[Event], until: date | str | None = None, state: State | None = None
) -> State:
    """`state` (a new one by default) after `events`, only those effective on or before
    `until` if given."""
    state = State() if state is None else state
    last = parse_day(until) if isinstance(until, str) else until
    with collector_paused():
        if last is None:
            for event in events:
                state.apply(event)
        else:
            for event in events:
                if parse_day(event.effective) > last:
                    break
                state.apply(event)
    return state


def fold_as_of(events: Iterable[Event], reversed_seqs: Iterable[int] = ()) -> State:
    """The state the ledger shows as of a day, as recorded now, from its events in order of
    effective date (then sequence): a late entry (issue 13) counts from its own date, and a
    reversed event and its reversal (`reversed_seqs`) did not happen. A view, not the
    ledger's fold: sequence numbers skip the events left out, and the state's `seq` and
    `hash` are those of the newest event it holds."""
    state = State()
    newest: tuple[int, str] = (0, GENESIS)
    skip = frozenset(reversed_seqs)
    with collector_paused():
        for event in events:
            if event.seq in skip:
                continue
            state.seq = event.seq - 1
            state.apply(event)
            newest = max(newest, (event.seq, event.hash))
    state.seq, state.hash = newest
    return state


def reversals_among(events: Iterable[Event]) -> set[int]:
    """The reversed events and their reversals among `events` (see `State.reversed_seqs`)."""
    found: set[int] = set()
    for event in events:
        if isinstance(event.payload, EntryReversed):
            found.update((event.seq, event.payload.seq))
    return found


def in_date_order(events: Iterable[Event], until: date | None = None) -> list[Event]:
    """`events` effective on or before `until`, in the order `fold_as_of` reads them."""
    last = None if until is None else until.isoformat()
    chosen = [event for event in events if last is None or event.effective <= last]
    chosen.sort(key=lambda event: (event.effective, event.seq))
    return chosen


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
