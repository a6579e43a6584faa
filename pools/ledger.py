"""The loan ledger: the ONE API that the command line and the Streamlit app call.

    ledger = Ledger.create("sqlite:///demo.db", "data/units/units-2026-10.csv", actor="王芳")
    ledger = Ledger.open("sqlite:///demo.db")           # or a postgresql:// URL
    ledger.open_loan(pool="admin", unit_id="M003", count=1, purpose="引进生", actor="王芳")
    ledger.sync("data/units/units-2026-11.csv", actor="王芳")
    ledger.status()          # the SPEC 3.3 JSON document, as a dict ("demo": true if so)
    ledger.verify()          # {"ok": True, ...}

Every write names its actor and may carry a reason and a document number (文号) and an
effective date (default: today by the injected clock). A write is one database transaction:
lock the ledger head, bring the cached state up to the head, check the rules, emit the events
(including automatic 空一还一 returns and expiries), check the invariants on the resulting
state, append, commit. A refusal raises `RuleViolation` (`.rule`, `.message_en`,
`.message_zh`) and writes nothing. Results are plain dicts (JSON-ready: the typed results
of `pools.results`, turned into JSON in one place) or DataFrames. Text from the caller (a
pool, a decision) is parsed here, once (`pools.vocabulary`).

The state is cached per `Ledger` object and caught up incrementally from the head, so an
append costs O(1) database reads; `verify` always replays from scratch. A fresh object (each
CLI command) starts from the latest trusted snapshot of the state (`pools.snapshot`), which
writes store every `snapshot_every` events, and folds only the events after it.
"""

from __future__ import annotations

import gc
import heapq
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import pandas as pd
from sqlalchemy.engine import Connection

from pools import books, commands
from pools.autocheckpoint import AutoCheckpoints
from pools.checkpoint import Checkpoint, CheckpointError, PublicKey
from pools.commands import Batch
from pools.events import (
    KEY_ENV,
    EntryReversed,
    Event,
    LoanOpened,
    chain_hash,
    key_fingerprint,
    key_given,
    ledger_key,
)
from pools.results import (
    LedgerStatus,
    LoanResult,
    loan_json,
    pool_figures,
    teacher_json,
    to_json,
    unit_json,
)
from pools.rules.idempotency import key_named
from pools.rules.institutional_pool import decision_named
from pools.rules.ledger import (
    as_of_view_consistent,
    chain_key_matches,
    day_in_range,
    legacy_key_seals,
    text_storable,
)
from pools.rules.loans import known_pool, settlement_problems, special_account_totals
from pools.rules.monitoring import alerts
from pools.rules.problems import quarter_bounds
from pools.rules.settings import Settings, settings_valid
from pools.rules.teacher_quota import document_named
from pools.rules.useplans import Channel, PlanState, channel_named, free_vacancies
from pools.rules.violations import RuleViolation, Violation, refuse, refuse_input
from pools.snapshot import SnapshotUnsupported, make_snapshot, snapshot_every, trusted_state
from pools.state import (
    InvariantBroken,
    State,
    collector_paused,
    fold,
    fold_as_of,
    in_date_order,
    reversals_among,
)
from pools.storage import Head, Store, event_from_row, redact, row_json
from pools.storage import LedgerBusy as LedgerBusy  # a write that waited too long raises it
from pools.teacher_plans import TeacherPlan, read_plan
from pools.units import Unit, read_units
from pools.verify import verify_rows
from pools.vocabulary import Decision, KeyMode, LoanStatus, PoolRef

T = TypeVar("T")
FREEZE_AFTER = 10_000  # events: a state this big is kept out of the cyclic GC's walks
Clock = Callable[[], datetime]
UnitsInput = str | Path | Iterable[Unit]


class LedgerError(Exception):
    """The ledger cannot be used as asked (missing, not initialised, inconsistent)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class Ledger:
    """A ledger in one database. Not shared across processes; cheap to create per request."""

    def __init__(
        self,
        url: str | Path,
        *,
        key: str | bytes | None = None,
        old_keys: Sequence[str | bytes] = (),
        clock: Clock = utc_now,
    ):
        try:
            self.store = Store(url)
        except ValueError as exc:  # a setting ($QUOTAPOOL_LOCK_TIMEOUT) named in the message
            raise LedgerError(str(exc)) from exc
        self.url = self.store.url
        self._key = ledger_key(key)
        self._key_given = key_given(key)
        self._fingerprint = key_fingerprint(self._key)
        # keys the ledger was sealed with before a rotation: `verify` checks those events
        self._old_keys = {key_fingerprint(k): k for k in map(ledger_key, old_keys)}
        try:
            self._auto_checkpoints = AutoCheckpoints.from_env()
        except CheckpointError as exc:
            raise LedgerError(f"automatic checkpoints: {exc}") from exc
        self._clock = clock
        try:
            self._snapshot_every = snapshot_every()
        except ValueError as exc:
            raise LedgerError(str(exc)) from exc
        self._state: State | None = None
        self._lock = threading.RLock()
        self._late: str | None = None  # why the writes in `late_entry` are late

    # ---- opening ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        url: str | Path,
        units: UnitsInput,
        *,
        actor: str,
        settings: Settings | None = None,
        effective: date | None = None,
        reason: str = "",
        document: str = "",
        key: str | bytes | None = None,
        clock: Clock = utc_now,
        demo: bool | None = None,
    ) -> Ledger:
        """Create the schema (if needed) and initialise the ledger from a units snapshot.

        The chain key is `key`, else $QUOTAPOOL_LEDGER_KEY; its fingerprint is recorded in
        the first event and every later write must use the same key. `demo=True` makes a
        demo ledger with the built-in (public) demo key, and refuses a key; `demo=False`
        (the command line) refuses to go on without a key. `demo=None`, the default of this
        API: the demo key when no key is given. A demo ledger says so in every status."""
        if demo is True and key_given(key):
            raise LedgerError("a demo ledger uses the built-in demo key: give no chain key")
        if demo is False and not key_given(key):
            raise LedgerError(
                f"no chain key: set {KEY_ENV} (or --chain-key-file) to create a ledger, or say "
                "--demo to try the product with the built-in, public demo key"
            )
        settings = settings or Settings()
        refuse_input(settings_valid(settings))  # before the database sees anything
        _check_texts(actor=actor, reason=reason, document=document)
        _check_day("--date", effective)
        unit_list = _units(units)
        ledger = cls(url, key=key, clock=clock)
        ledger.store.create_schema()
        ledger._write(
            effective,
            actor,
            reason or "ledger initialised from units snapshot",
            document,
            lambda batch: commands.init_ledger(batch, settings, unit_list),
        )
        return ledger

    @classmethod
    def open(
        cls,
        url: str | Path,
        *,
        key: str | bytes | None = None,
        old_keys: Sequence[str | bytes] = (),
        clock: Clock = utc_now,
    ) -> Ledger:
        """Open an initialised ledger; LedgerError if there is none at `url`. `old_keys`: the
        chain keys used before a rotation, for `verify`."""
        ledger = cls(url, key=key, old_keys=old_keys, clock=clock)
        try:
            present = ledger.store.has_schema()
        except Exception as exc:  # unreachable server, bad URL: say which, without the password
            raise LedgerError(f"cannot open ledger {redact(ledger.url)}: {exc}") from exc
        if not present:
            raise LedgerError(
                f"no ledger at {redact(ledger.url)}; create one with `quotapool ledger init`"
            )
        with ledger._reading() as (_conn, head):
            if head.seq == 0:
                raise LedgerError(f"ledger at {redact(ledger.url)} is not initialised")
        return ledger

    def close(self) -> None:
        self.store.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- writes ----------------------------------------------------------------------

    def sync(
        self,
        units: UnitsInput,
        *,
        actor: str,
        effective: date | None = None,
        reason: str = "",
        document: str = "",
        allow_removals: bool = False,
    ) -> dict[str, Any]:
        """Apply a new units snapshot. Returns changes, 空一还一 returns, expiries, pools
        before/after and the alerts (SPEC 2.6). A snapshot that drops more than the setting
        `max_removed_share` of the units (a truncated file, say) is refused unless
        `allow_removals`."""
        unit_list = _units(units)
        return self._write(
            effective,
            actor,
            reason or "headcount snapshot",
            document,
            lambda batch: to_json(commands.sync_units(batch, unit_list, allow_removals)),
        )

    def open_loan(
        self,
        *,
        pool: str | PoolRef,
        unit_id: str,
        count: int,
        purpose: str,
        actor: str,
        term_years: int | None = None,
        key: str | None = None,
        effective: date | None = None,
        reason: str = "",
        document: str = "",
    ) -> dict[str, Any]:
        """Open a loan from `pool` (admin | institutional | unit:<lender_id>) to `unit_id`.

        Returns {"loan_id", "replayed", "loan": {...}, "pools": {...}}; `replayed` is true
        when `key` had already opened this loan (nothing new is written then)."""
        parsed = pool if isinstance(pool, PoolRef) else known_pool(pool)
        key = _idempotency_key(key)

        def run(batch: Batch) -> dict[str, Any]:
            loan, replayed = commands.open_loan(
                batch,
                pool=parsed,
                unit_id=unit_id,
                count=count,
                purpose=purpose,
                term_years=term_years,
                idem_key=key,
                effective_stated=effective is not None,
            )
            return to_json(LoanResult(loan, replayed, batch.effective, pool_figures(batch.state)))

        return self._write(effective, actor, reason, document, run)

    def return_loan(
        self,
        loan_id: str,
        *,
        actor: str,
        count: int | None = None,
        effective: date | None = None,
        reason: str = "",
        document: str = "",
        key: str | None = None,
    ) -> dict[str, Any]:
        """Return quotas of a loan by hand (default: all outstanding); the people on them move
        onto the borrower's own quota (flagged if that puts it over quota). With `key`, a
        retry answers with the first return ("replayed": true); a differing one is refused."""
        key = _idempotency_key(key)

        def run(batch: Batch) -> dict[str, Any]:
            replayed = key is not None and key in batch.state.keyed
            result = commands.return_loan(
                batch, loan_id, count, idem_key=key, effective_stated=effective is not None
            )
            return {**to_json(result), "replayed": replayed}

        return self._write(effective, actor, reason or "returned", document, run)

    def evaluate_loan(
        self,
        loan_id: str,
        *,
        score: int,
        decision: str | Decision,
        actor: str,
        new_end: date | None = None,
        effective: date | None = None,
        reason: str = "",
        document: str = "",
        key: str | None = None,
    ) -> dict[str, Any]:
        """Record the performance evaluation (绩效评估) of an expired loan: decision "extend"
        (with `new_end`) or "return" (the quotas go back). With `key`, a retry answers with
        the first evaluation ("replayed": true); a differing one is refused."""
        parsed = decision if isinstance(decision, Decision) else decision_named(decision)
        _check_day("--until", new_end)
        key = _idempotency_key(key)

        def run(batch: Batch) -> dict[str, Any]:
            replayed = key is not None and key in batch.state.keyed
            result = commands.evaluate_loan(
                batch, loan_id, score=score, decision=parsed, new_end=new_end, idem_key=key,
                effective_stated=effective is not None,
            )  # fmt: skip
            return {**to_json(result), "replayed": replayed}

        return self._write(effective, actor, reason or "performance evaluation", document, run)

    def rebuild_pool(
        self,
        *,
        actor: str,
        capacity: int | None = None,
        effective: date | None = None,
        reason: str = "",
        document: str = "",
    ) -> dict[str, Any]:
        """到期重建: start a new period of the institutional pool once the old one has ended."""
        return self._write(
            effective,
            actor,
            reason or "institutional pool rebuilt",
            document,
            lambda batch: to_json(commands.rebuild_pool(batch, capacity)),
        )

    # ---- teacher quota accounts (SPEC 2.9) ---------------------------------------------

    def apply_teacher_plan(
        self,
        plan: TeacherPlan | str | Path,
        *,
        actor: str,
        document: str,
        year: int | None = None,
        key: str | None = None,
        effective: date | None = None,
        reason: str = "",
    ) -> dict[str, Any]:
        """Apply a teacher plan (a directory written by `quotapool plan`, or one read by
        `pools.teacher_plans.read_plan`; one year of a multi-year plan, `year` default the
        first) as one group of events in one transaction. Returns the application: plan id,
        scenario hash, each county's quota before and after, the totals, `replayed` (the
        key had applied it already: nothing new written) and `checkpoint` (the file an
        automatic checkpoint was written to, if the settings ask for one at every plan)."""
        refuse_input(document_named(document))
        if key is not None:
            key = key.strip()
            refuse_input(key_named(key))
            refuse_input(text_storable("--key", key))
        read = plan if isinstance(plan, TeacherPlan) else read_plan(plan, year)

        def run(batch: Batch) -> dict[str, Any]:
            found = commands.apply_teacher_plan(
                batch, read, idem_key=key, effective_stated=effective is not None
            )
            return to_json(found)

        result = self._write(effective, actor, reason or "teacher plan applied", document, run)
        path = None
        if self._auto_checkpoints is not None and not result["replayed"]:
            path = self._auto_checkpoints.after_plan(self.url, self.state().seq)
        result["checkpoint"] = None if path is None else str(path)
        return result

    def preview_teacher_plan(
        self,
        plan: TeacherPlan | str | Path,
        *,
        actor: str,
        document: str,
        year: int | None = None,
        effective: date | None = None,
    ) -> dict[str, Any]:
        """What `apply_teacher_plan` would do, written nowhere: the same command run on a
        fresh fold of the ledger. The application it would make, or `RuleViolation` with the
        rule that would refuse it (a stale plan, one applied before...)."""
        refuse_input(document_named(document))
        _check_texts(actor=actor, document=document)
        _check_day("--date", effective)
        read = plan if isinstance(plan, TeacherPlan) else read_plan(plan, year)
        state = self.state(date.max)  # a fresh fold: the cached state is never touched
        batch = Batch(
            state,
            self._key,
            self._clock().isoformat(timespec="microseconds"),
            effective or self._today(),
            actor.strip(),
            "",
            document,
        )
        found: dict[str, Any] = to_json(commands.apply_teacher_plan(batch, read))
        return found

    def teacher(self, as_of: date | None = None) -> dict[str, Any]:
        """The teacher quota accounts (as of a date, if given): `ledger status`'s "teacher"."""
        _check_day("--as-of", as_of)
        with self._lock:
            return teacher_json(self.state(as_of).teacher)

    # ---- reads -----------------------------------------------------------------------

    def rotate_key(
        self,
        new_key: str | bytes,
        *,
        actor: str,
        reason: str = "",
        document: str = "",
        effective: date | None = None,
    ) -> dict[str, Any]:
        """Rotate the chain key: one event sealed under the key in use names the new key's
        fingerprint; this object (and every writer from now on) seals with the new key, and
        the old key stays in this object's key ring for `verify`.
        {"seq", "previous_fingerprint", "fingerprint"}."""
        new = ledger_key(new_key)
        if not new:
            raise LedgerError("the new chain key is empty")
        fingerprint = key_fingerprint(new)
        previous = self._fingerprint
        rotation = self._write(
            effective,
            actor,
            reason or "chain key rotated",
            document,
            lambda batch: commands.rotate_key(batch, fingerprint),
        )
        self._old_keys[previous] = self._key
        self._key, self._key_given, self._fingerprint = new, True, fingerprint
        return {"seq": rotation.seq, "previous_fingerprint": previous, "fingerprint": fingerprint}

    def correct(
        self,
        seq: int,
        *,
        actor: str,
        reason: str,
        document: str | None = None,
        reason_text: str | None = None,
        correction_document: str = "",
        effective: date | None = None,
    ) -> dict[str, Any]:
        """Correct the 文号 (`document`) and/or the reason (`reason_text`) of event `seq` by
        appending a `record_corrected` event per field (the event itself stays as sealed).
        `reason` says why; `correction_document` is the correction's own 文号.
        {"seq": target, "corrections": [{"field", "old", "new", "event"}]}."""
        changes = {"document": document, "reason": reason_text}
        asked = {field: new for field, new in changes.items() if new is not None}
        if not asked:
            raise LedgerError("say what to correct: a document number, a reason or both")
        if not reason.strip():
            raise LedgerError("say why the record is corrected (--reason)")
        _check_texts(**{f"new {field}": new for field, new in asked.items()})
        stored = self._stored_texts(seq)

        def run(batch: Batch) -> list[dict[str, Any]]:
            done = []
            for field, new in asked.items():
                made = commands.correct_record(batch, seq, field, stored.get(field, ""), new)
                payload = made.payload.as_dict()
                done.append({k: payload[k] for k in ("field", "old", "new")} | {"event": made.seq})
            return done

        made = self._write(effective, actor, reason, correction_document, run)
        return {"seq": seq, "corrections": made}

    @contextmanager
    def late_entry(self, reason: str | None) -> Iterator[None]:
        """Writes inside may be dated before the ledger's last event (补录, issue 13): each
        such write is announced by an `entry_backdated` event carrying `reason`, and is
        refused unless the ledger stays consistent at every date (`status --as-of`). A write
        dated on or after the last event is an ordinary one. `None`: no late entries."""
        previous, self._late = self._late, reason
        try:
            yield
        finally:
            self._late = previous

    def reverse(
        self,
        seq: int,
        *,
        actor: str,
        reason: str,
        document: str = "",
        effective: date | None = None,
    ) -> dict[str, Any]:
        """Reverse event `seq` (a loan opening or a return recorded in error) by a reversing
        entry, written today: from now on, and as of any earlier date as recorded now, it is as
        if the original had not happened (`--known-at` still shows it). `reason` says why.
        {"seq", "reversal", "loan", "returns"}."""
        if not reason.strip():
            raise LedgerError("say why the entry is reversed (--reason)")
        with self._reading() as (conn, _head):
            target = self._event_at(conn, seq)
        if target is None:
            raise LedgerError(f"there is no event {seq} to reverse")

        def run(batch: Batch) -> dict[str, Any]:
            made = commands.reverse_entry(batch, target)
            assert isinstance(made.payload, EntryReversed)
            loan = batch.state.loans[made.payload.loan_id]
            settled = [e.payload.as_dict() for e in batch.events if e.seq > made.seq]
            return {"seq": seq, "reversal": made.seq, "loan": loan_json(loan), "returns": settled}

        return self._write(effective, actor, reason, document, run)

    def _stored_texts(self, seq: int) -> dict[str, str]:
        """The 文号 and reason event `seq` was sealed with ({} if there is no such event: the
        rule then says so)."""
        with self._reading() as (conn, _head):
            return self._stored_texts_in(conn, seq)

    def _stored_texts_in(self, conn: Connection, seq: int) -> dict[str, str]:
        event = self._event_at(conn, seq)
        if event is None:
            return {}
        return {"document": event.document, "reason": event.reason}

    def _event_at(self, conn: Connection, seq: int) -> Event | None:
        row = self.store.row(conn, seq)
        return None if row is None else event_from_row(row)

    def state(self, as_of: date | None = None, known_at: datetime | None = None) -> State:
        """The folded state: current, or as of the end of `as_of` (a fresh fold), as the
        ledger stood at recording time `known_at` if given (only the events recorded by
        then: a past answer, reproduced exactly). Read only: the current state is this
        object's cache. Any date folds (`date.max`: every event, freshly folded)."""
        with self._reading() as (conn, head):
            current = self._caught_up(conn, head)
            if known_at is None:
                # the ledger's date never goes backwards (a late entry leaves it): as of a day
                # on or after it, the state is the current one (no refold of a million events)
                last = current.effective
                if as_of is None or (as_of < date.max and (last is None or last <= as_of)):
                    return current
            until = None if as_of is None else as_of.isoformat()
            if as_of is None or current.amendments == 0:  # a prefix of the ledger
                events = self.store.events(conn, upto=head.seq, until=until)
                return fold(events if known_at is None else recorded_by(events, known_at))
            if known_at is None:  # late entries count from their own date
                by_date = self.store.events(conn, upto=head.seq, until=until, by_date=True)
                return fold_as_of(by_date, current.reversed_seqs())
            known = list(recorded_by(self.store.events(conn, upto=head.seq), known_at))
            return fold_as_of(in_date_order(known, as_of), reversals_among(known))

    def status(
        self, as_of: date | None = None, known_at: datetime | None = None, *, lists: bool = True
    ) -> dict[str, Any]:
        """SPEC 3.3 status: pools, units, open loans and alerts (as of a date, if given; as
        the ledger stood at recording time `known_at`, if given). Without a date it is the
        ledger as recorded, dated today or, when a write takes effect later than today, on
        that write's date: the answer never says "today" for a state that is not today's.
        `lists=False` leaves the unit and loan lists empty (`init` of a million units)."""
        _check_day("--as-of", as_of)  # alerts and loan ends are computed from it
        with self._lock:
            state = self.state(as_of, known_at)
            day = as_of or _latest(
                known_at.date() if known_at is not None else self._today(), state.effective
            )
            status = LedgerStatus(
                day,
                state.seq,
                state.hash,
                pool_figures(state),
                special_account_totals(state.units.values()),
                list(state.units.values()) if lists else [],
                [loan for loan in state.loans.values() if loan.status is not LoanStatus.CLOSED]
                if lists
                else [],
                alerts(state, day),
                state.key_mode,
            )
            found: dict[str, Any] = to_json(status)
            found["teacher"] = teacher_json(state.teacher)  # SPEC 2.9
            # SPEC 2.7/2.8 (issue 11): the quota-use plans and the problem ledger
            found["useplans"] = books.useplans_status(state)
            found["problems"] = books.problems_status(state, day)
            return found

    def key_mode(self) -> KeyMode:
        """Which chain key the ledger was made with: own, demo (say so to the user) or legacy."""
        return self.state().key_mode

    def units_frame(self, as_of: date | None = None) -> pd.DataFrame:
        return pd.DataFrame([unit_json(u) for u in self.state(as_of).units.values()])

    def loans(
        self, *, unit_id: str | None = None, include_closed: bool = True, as_of: date | None = None
    ) -> list[dict[str, Any]]:
        """Loans (borrowed or lent by `unit_id`, if given)."""
        _check_day("--as-of", as_of)
        with self._lock:
            state = self.state(as_of)
            day = as_of or self._today()
            return [
                loan_json(loan, day)
                for loan in state.loans.values()
                if (include_closed or loan.status is not LoanStatus.CLOSED)
                and (unit_id is None or unit_id in (loan.borrower, loan.lender))
            ]

    def loans_frame(self, **filters: Any) -> pd.DataFrame:
        return pd.DataFrame(self.loans(**filters))

    def events(self, *, unit_id: str | None = None, loan_id: str | None = None) -> list[dict]:
        """The audit log in sequence order, optionally only what concerns a unit or a loan."""
        return list(self.iter_events(unit_id=unit_id, loan_id=loan_id))

    def iter_events(
        self,
        *,
        unit_id: str | None = None,
        loan_id: str | None = None,
        since_seq: int | None = None,
        effective_since: date | None = None,
        effective_until: date | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The audit log as a stream, in sequence order, read in batches inside one read
        transaction (constant memory, whatever the ledger's length): only what concerns a
        unit or a loan, from event `since_seq` on, effective in [since, until], at most
        `limit` events, if given. Close it (or read it to the end) to end the read."""
        loan_units: dict[str, set[str]] = {}  # only kept for a unit filter
        since = effective_since.isoformat() if effective_since else ""
        until = effective_until.isoformat() if effective_until else None
        first = since_seq or 0
        # a unit's loan events need the loan's parties, known from its opening: read from 1
        after = 0 if unit_id is not None else max(0, first - 1)
        if limit is not None and limit <= 0:
            return
        with self._reading() as (conn, head):
            count = 0
            for event in self.store.events(conn, after=after, upto=head.seq, until=until):
                payload = event.payload
                if unit_id is not None and isinstance(payload, LoanOpened):
                    parties = {payload.borrower}
                    pool = known_pool(payload.pool)
                    if isinstance(pool, PoolRef) and pool.lender is not None:
                        parties.add(pool.lender)
                    loan_units[payload.loan_id] = parties
                if event.seq < first or event.effective < since:
                    continue
                if loan_id is not None and getattr(payload, "loan_id", None) != loan_id:
                    continue
                if unit_id is not None:
                    # a county's teacher account is named like a unit (SPEC 2.9)
                    named = {getattr(payload, "unit_id", None), getattr(payload, "county_id", None)}
                    involved = named | loan_units.get(str(getattr(payload, "loan_id", None)), set())
                    if unit_id not in involved:
                        continue
                yield event.as_dict()
                count += 1
                if limit is not None and count >= limit:
                    return

    def events_frame(self, **filters: Any) -> pd.DataFrame:
        return pd.DataFrame(self.events(**filters))

    def settings(self) -> Settings:
        return self.state().settings

    # ---- quota-use plans (SPEC 2.7) and rectification problems (SPEC 2.8), issue 11 -------

    def approve_plan(
        self,
        *,
        unit_id: str,
        count: int,
        channel: str | Channel,
        purpose: str,
        actor: str,
        until: date | None = None,
        key: str | None = None,
        effective: date | None = None,
        reason: str = "",
        document: str = "",
    ) -> dict[str, Any]:
        """Approve a quota-use plan (用编计划) reserving `count` free vacancies of `unit_id`
        until `until` (default 31 December of the approval year). Returns {"plan_id",
        "replayed", "plan", "unit": {vacancies, reserved, free_vacancies}}; with `key`, a
        retry answers with the first plan (a differing one is refused naming the fields)."""
        parsed = channel if isinstance(channel, Channel) else channel_named(channel)
        key = _idempotency_key(key)
        _check_day("--until", until)
        _check_texts(purpose=purpose)

        def run(batch: Batch) -> dict[str, Any]:
            plan, replayed = books.approve_plan(
                batch,
                unit_id=unit_id,
                count=count,
                channel=parsed,
                purpose=purpose,
                until=until,
                idem_key=key,
                effective_stated=effective is not None,
            )
            return _plan_result(batch.state, plan, replayed)

        return self._write(effective, actor, reason, document, run)

    def record_hire(
        self,
        unit_id: str,
        count: int,
        *,
        actor: str,
        effective: date | None = None,
        reason: str = "",
        document: str = "",
    ) -> dict[str, Any]:
        """A hire recorded by hand (SPEC 2.7): posted against the unit's open plans, oldest
        first; the rest flagged as hires without a plan (alert and problem), not refused. A
        hire beyond the unit's own vacancies is refused (`hire.no_vacancy`). {"unit_id",
        "hired", "alerts", "posted", "unplanned", "problems_opened"}."""
        return self._write(
            effective,
            actor,
            reason,
            document,
            lambda batch: books.record_hire(batch, unit_id, count),
        )

    def withdraw_plan(
        self,
        plan_id: str,
        *,
        actor: str,
        reason: str,
        effective: date | None = None,
        document: str = "",
    ) -> dict[str, Any]:
        """Withdraw (撤销) a quota-use plan with a reason: its unused part is freed."""

        def run(batch: Batch) -> dict[str, Any]:
            return _plan_result(batch.state, books.withdraw_plan(batch, plan_id), False)

        return self._write(effective, actor, reason, document, run)

    def useplans(
        self, *, unit_id: str | None = None, year: int | None = None, as_of: date | None = None
    ) -> dict[str, Any]:
        """Plans and their figures per unit, channel, year and city (`books.useplans_status`)."""
        _check_day("--as-of", as_of)
        with self._lock:
            return books.useplans_status(self.state(as_of), unit_id, year)

    def open_problem(
        self,
        *,
        unit_id: str,
        kind: str,
        deadline: date,
        actor: str,
        effective: date | None = None,
        reason: str = "",
        document: str = "",
    ) -> dict[str, Any]:
        """Record a rectification problem (问题台账) against a unit, with a 文号 and deadline."""
        _check_day("--deadline", deadline)

        def run(batch: Batch) -> dict[str, Any]:
            problem = books.open_problem(batch, unit_id=unit_id, kind=kind, deadline=deadline)
            return {"problem": books.problem_json(problem, batch.effective)}

        return self._write(effective, actor, reason, document, run)

    def close_problem(
        self,
        problem_id: str,
        *,
        actor: str,
        reason: str,
        effective: date | None = None,
        document: str = "",
    ) -> dict[str, Any]:
        """Close (销号) a problem by hand, with a reason."""

        def run(batch: Batch) -> dict[str, Any]:
            problem = books.close_problem(batch, problem_id)
            return {"problem": books.problem_json(problem, batch.effective)}

        return self._write(effective, actor, reason, document, run)

    def problems(
        self, *, unit_id: str | None = None, only_open: bool = False, as_of: date | None = None
    ) -> list[dict[str, Any]]:
        _check_day("--as-of", as_of)
        with self._lock:
            state = self.state(as_of)
            day = as_of or _latest(self._today(), state.effective)
            return books.problems_list(state, day, unit_id, only_open)

    def problem_report(self, quarter: str) -> dict[str, Any]:
        """季通报: the problems open at the end of `quarter` ('2026Q4'), by unit, kind, age."""
        bounds = quarter_bounds(quarter)
        if isinstance(bounds, Violation):
            refuse_input(bounds)
        assert isinstance(bounds, tuple)
        start, end = bounds
        with self._lock:
            state = self.state()
            if state.effective is not None and end < state.effective:
                state = self.state(end)  # the quarter as it ended
            day = min(end, _latest(self._today(), state.effective))
            rows = books.quarterly_report(state, day)
        return {"quarter": quarter.strip().upper(), "from": start.isoformat(),
                "to": end.isoformat(), "as_of": day.isoformat(), "problems": rows}  # fmt: skip

    # ---- verification ------------------------------------------------------------------

    def verify(
        self,
        checkpoints: Sequence[tuple[str, Checkpoint]] = (),
        public_key: PublicKey | None = None,
    ) -> dict[str, Any]:
        """Run the passes of `pools.verify` over the stored ledger from scratch: the hash
        chain, the replay with every invariant, the rules of every loan at its opening,
        return-one-when-vacated settled, a recount and, given signed `checkpoints` ((name,
        checkpoint) pairs) and the `public_key` that signed them, that the ledger extends
        each one. Reports every problem found.
        {"ok", "events", "head", "problems": [{"seq", "problem", "rule"}]}."""
        if checkpoints and public_key is None:
            raise LedgerError("checking checkpoints needs the public key that signed them")
        with self._reading() as (conn, head), collector_paused():
            rows = self.store.rows(conn)
            keys = {**self._old_keys, self._fingerprint: self._key}
            found = verify_rows(
                rows,
                head,
                self._key,
                checkpoints,
                public_key,
                check_key=True,
                keys=keys,
                stored=lambda seq: self._stored_texts_in(conn, seq),
                snapshots=list(self.store.all_snapshots(conn)),
                event_at=lambda seq: self._event_at(conn, seq),
                events_by_date=lambda: self.store.events(conn, upto=head.seq, by_date=True),
            )
            return found.as_dict()

    # ---- internals ---------------------------------------------------------------------

    def _seals_last_event(self, conn: Connection, head: Head) -> bool:
        """Whether the key at hand reproduces the hash of the last stored event (a legacy
        ledger records no key fingerprint: this is how a write under another key is caught
        before anything is written)."""
        row = self.store.row(conn, head.seq)
        return row is not None and chain_hash(self._key, row[10], row_json(row)) == row[11]

    def _today(self) -> date:
        return self._clock().date()

    @contextmanager
    def _reading(self) -> Iterator[tuple[Connection, Head]]:
        with self._lock, self.store.read() as (conn, head):
            yield conn, head

    def _caught_up(self, conn: Connection, head: Head) -> State:
        """The cached state brought up to `head` (rebuilt if the cache is ahead or missing)."""
        state = self._state
        rebuilt = state is None or state.seq > head.seq
        if rebuilt:
            state = self._from_snapshot(conn, head) or State()
        assert state is not None
        if state.seq < head.seq:
            try:
                fold(self.store.events(conn, after=state.seq, upto=head.seq), state=state)
            except InvariantBroken as exc:
                self._state = None
                raise LedgerError(
                    f"the stored ledger is inconsistent: {exc}; run audit verify"
                ) from exc
        if state.hash != head.hash:
            self._state = None
            raise LedgerError("the stored ledger head does not match its events; run audit verify")
        if rebuilt and state.seq > FREEZE_AFTER:
            # a big state lives as long as this object: move it out of the cyclic collector's
            # reach, or every full collection walks it again (a write's allocations trigger
            # them; at a million events that halves the append rate). It has no cycles, so
            # reference counting still frees it.
            gc.freeze()
        self._state = state
        return state

    def _from_snapshot(self, conn: Connection, head: Head) -> State | None:
        """The state of the latest trusted snapshot at or before `head` (None: none)."""
        if self._snapshot_every == 0:
            return None
        found = self.store.latest_snapshot(conn, head.seq)
        return None if found is None else trusted_state(self._key, *found)

    def _check_as_of(self, conn: Connection, head: Head, new: list[Event], state: State) -> None:
        """A late or reversing entry must leave the ledger consistent at every date: replay
        it with the new events in order of effective date, without the reversed events (as
        `status --as-of` reads it; `state`: the ledger with the new events) and refuse,
        naming the event and its date, if any rule breaks. A full replay: such entries are
        rare, and this is their price."""
        stored = self.store.events(conn, upto=head.seq, by_date=True)
        try:
            merged = heapq.merge(stored, in_date_order(new), key=_date_order)
            fold_as_of(merged, state.reversed_seqs())
        except InvariantBroken as exc:
            row = self.store.row(conn, exc.seq)
            day = row[4] if row is not None else next(e.effective for e in new if e.seq == exc.seq)
            refuse(as_of_view_consistent(exc.seq, exc.message, day))

    def _maybe_snapshot(self, conn: Connection, state: State) -> None:
        """Store a snapshot of `state` in the write's transaction once `snapshot_every`
        events have been written since the latest one."""
        every = self._snapshot_every
        if every == 0 or not self.store.has_snapshots(conn):
            return
        if state.seq - self.store.snapshot_seq(conn) < every:
            return
        try:
            snapshot = make_snapshot(self._key, state)
        except SnapshotUnsupported:  # a State attribute without a declared type: no snapshots
            return
        self.store.save_snapshot(conn, snapshot)

    def _write(
        self,
        effective: date | None,
        actor: str,
        reason: str,
        document: str,
        command: Callable[[Batch], T],
    ) -> T:
        """Run one command in one transaction (see the module docstring)."""
        _check_texts(actor=actor, reason=reason, document=document)
        _check_day("--date", effective)
        with self._lock:
            batch: Batch | None = None
            try:
                with self.store.write() as (conn, head):
                    state = self._caught_up(conn, head)
                    if not state.initialised and head.seq > 0:
                        raise LedgerError("the ledger has no initialisation event")
                    refuse(
                        chain_key_matches(state.key_fingerprint, self._fingerprint, self._key_given)
                    )
                    if state.key_fingerprint is None and head.seq > 0:
                        refuse(legacy_key_seals(self._seals_last_event(conn, head)))
                    batch = Batch(
                        state,
                        self._key,
                        self._clock().isoformat(timespec="microseconds"),
                        effective or self._today(),
                        actor.strip(),
                        reason,
                        document,
                        late=self._late,
                    )
                    result = command(batch)
                    if batch.notes and isinstance(result, dict):
                        result = cast(T, {**result, **batch.notes})
                    _refuse_unsettled(state, _touched_units(state, batch.events))
                    if batch.amends:
                        self._check_as_of(conn, head, batch.events, state)
                    self.store.append(conn, batch.events)
                    if batch.events:
                        self._maybe_snapshot(conn, state)
                if self._auto_checkpoints is not None and batch.events:
                    after = batch.events[-1].seq
                    self._auto_checkpoints.after_write(self.url, head.seq, after)
                return result
            except BaseException:
                # a command that emitted anything (or failed outside a command) may have
                # touched the cached state: refold; a refusal before any event left it as is
                if batch is None or batch.touched:
                    self._state = None
                raise


def _idempotency_key(key: str | None) -> str | None:
    """A key from the caller, trimmed (' K1' and 'K1' are one key); an empty one is refused."""
    if key is None:
        return None
    key = key.strip()
    refuse_input(key_named(key))
    refuse_input(text_storable("--key", key))
    return key


def _plan_result(state: State, plan: PlanState, replayed: bool) -> dict[str, Any]:
    unit = state.units.get(plan.unit_id)
    figures = None
    if unit is not None:
        figures = {
            "unit_id": unit.unit_id,
            "vacancies": unit.vacancies,
            "reserved": state.reserved.get(unit.unit_id, 0),
            "free_vacancies": free_vacancies(state, unit.unit_id),
        }
    return {
        "plan_id": plan.plan_id,
        "replayed": replayed,
        "plan": books.plan_json(plan),
        "unit": figures,
    }


def _latest(today: date, last: date | None) -> date:
    return today if last is None or last <= today else last


def _check_texts(**texts: str) -> None:
    """Text for an event's envelope fits the database, the same on SQLite and PostgreSQL
    (lengths, no NUL byte): else InputRefused naming the field."""
    for name, text in texts.items():
        refuse_input(text_storable(f"--{name.replace('document', 'doc')}", text))


def _check_day(field: str, day: date | None) -> None:
    """A date from the caller lies in the range a ledger can mean (else InputRefused)."""
    if day is not None:
        refuse_input(day_in_range(field, day))


def _date_order(event: Event) -> tuple[str, int]:
    return event.effective, event.seq


def recorded_by(events: Iterable[Event], known_at: datetime) -> Iterator[Event]:
    """The events recorded at or before `known_at` (a naive time is UTC): the prefix of the
    ledger that stood then (appends are serialised, so it ends at the first later one)."""
    limit = known_at if known_at.tzinfo is not None else known_at.replace(tzinfo=UTC)
    for event in events:
        recorded = datetime.fromisoformat(event.recorded_at)
        if recorded.tzinfo is None:
            recorded = recorded.replace(tzinfo=UTC)
        if recorded > limit:
            return
        yield event


def _units(units: UnitsInput) -> list[Unit]:
    if isinstance(units, str | Path):
        return read_units(units)
    return list(units)


def _touched_units(state: State, events: list[Event]) -> set[str]:
    """The units a batch of events changed (directly, or as a loan's borrower or lender)."""
    touched = set()
    for event in events:
        payload = event.payload
        unit_id = getattr(payload, "unit_id", None) or getattr(payload, "borrower", None)
        if unit_id:
            touched.add(unit_id)
        loan = state.loans.get(getattr(payload, "loan_id", ""))
        if loan is not None:
            touched.add(loan.borrower)
            if loan.lender:
                touched.add(loan.lender)
    return touched


def _refuse_unsettled(state: State, unit_ids: Iterable[str]) -> None:
    """After every write, for the units it touched: 空一还一 applied and no loan that an
    evaluation sent back still out (`pools.rules.loans.settlement_problems`)."""
    problems = settlement_problems(state, unit_ids)
    if problems:
        raise RuleViolation(
            Violation(
                "ledger.invariant",
                "; ".join(problem.message_en for problem in problems),
                "台账不变量被破坏",
            )
        )
