"""`audit verify` as a list of passes over the stored ledger, each returning problems as data.

1. chain — every stored row: sequence numbers contiguous, each row chained onto the one
   before (previous hash), its hash recomputed from the stored text with the key, its
   payload readable; the head row names the last event.
2. replay — the events folded from scratch (`pools.state`): every invariant of every event.
   The fold stops at the first event that breaks one (the state after it means nothing), and
   the passes that read the state stop with it.
3. rules at open — every loan checked, before it is applied, against the rules of a loan
   request (`pools.rules.loans.check_open_loan`) as the state stood then.
   With `check_key`, the key itself: the first event records the chain key's fingerprint
   (issue 13), so checking with another key is said once (`ledger.wrong_key`), not only as
   a hash problem on every event.
4. settlement — at the end: return-one-when-vacated applied everywhere, and every loan that
   an evaluation sent back returned (`pools.rules.loans.settlement_problems`).
5. recount — at the end: every running figure of the fold recounted from the loans and units.
6. books — at the end (issue 11): no quota-use plan left open past its validity end, every
   unit's reservation recounted from its open plans, and the open problems recounted
   (`pools.rules.useplans.unlapsed_plans`); the teacher plan groups complete (SPEC 2.9); every
   correction of a 文号 or reason replacing what its event was sealed with.
   Late and reversing entries (issue 13): every reversal says what the event it reverses did,
   and, if the ledger has late or reversing entries, it replays in order of effective date
   without the reversed events too (what `status --as-of` reads), so every date's answer is
   consistent.
7. snapshots — every stored snapshot of the state (`pools.snapshot`): its MAC, format and
   the hash of the event at its seq, then its state against the replay at that seq.
8. checkpoints — if signed checkpoints are given (SPEC 3.6): each is signed by the given public
   key and the stored ledger extends it (same ledger, at least as many events, and the first
   `size` events have the signed Merkle root: `pools.transparency.checkpoint_findings`), so
   deleting the newest events or rewriting old ones is caught even by whoever knows the key.

The passes run together in one read of the rows (a million events are read once, not five
times). Every problem found is reported, in ledger order (then pass order); a pass lists at
most `MAX_LISTED` problems and then says how many more it found.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pools.checkpoint import Checkpoint, PublicKey, tree_hash_of
from pools.events import (
    FINGERPRINT_FIELD,
    GENESIS,
    ChainKeyRotated,
    EntryReversed,
    Event,
    LoanOpened,
    chain_hash,
    key_fingerprint,
)
from pools.merkle import SHA256, MerkleTree
from pools.rules.loans import check_open_loan, known_pool, settlement_problems
from pools.rules.problems import ProblemStatus
from pools.rules.teacher_quota import group_complete
from pools.rules.useplans import PlanStatus, unlapsed_plans
from pools.snapshot import StoredSnapshot, compare_with_replay, snapshot_checks
from pools.state import InvariantBroken, State, fold_as_of
from pools.storage import Head, event_from_row, row_json
from pools.transparency import checkpoint_findings
from pools.vocabulary import PoolKind, parse_day

MAX_LISTED = 100


@dataclass(frozen=True)
class Problem:
    """One problem found: the rule or check it breaks, the event (None: the ledger as a
    whole) and what is wrong."""

    rule: str
    seq: int | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "problem": self.message, "rule": self.rule}


@dataclass
class PassProblems:
    """The problems of one pass: the first `MAX_LISTED` listed, the others counted."""

    name: str
    listed: list[Problem] = field(default_factory=list)
    unlisted: int = 0

    def add(self, problem: Problem) -> None:
        if len(self.listed) < MAX_LISTED:
            self.listed.append(problem)
        else:
            self.unlisted += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(problem)

    def report(self) -> list[Problem]:
        if not self.unlisted:
            return self.listed
        more = Problem(
            f"{self.name}.more", None, f"{self.unlisted} more {self.name} problems not listed"
        )
        return [*self.listed, more]


@dataclass(frozen=True)
class Verification:
    events: int  # rows read
    state: State  # as far as the replay got
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head": {"seq": self.state.seq, "hash": self.state.hash},
            "problems": [problem.as_dict() for problem in self.problems],
        }


class ChainPass:
    """Pass 1: the stored rows and the head, against the keyed hash chain.

    `keys` (fingerprint → key) is the key ring: the chain starts under the key whose
    fingerprint the first event records and, after a `chain_key_rotated` event (itself sealed
    under the old key), goes on under the key it names. Without that key in the ring, the
    events sealed under it are reported once (`chain.no_key`), not as a hash problem each."""

    def __init__(self, key: bytes, keys: Mapping[str, bytes] | None = None):
        self.key: bytes | None = key
        self.keys = dict(keys or {})
        self.problems = PassProblems("chain")
        self.last_seq = 0
        self.last_hash = GENESIS

    def row(self, row: Any) -> None:
        """Check one stored row (a `Store.rows` tuple)."""
        seq, kind, prev_hash, digest = int(row[0]), row[8], row[10], row[11]
        expected, prev = self.last_seq + 1, self.last_hash
        self.last_seq, self.last_hash = seq, digest
        if seq != expected:
            return self._found(
                "chain.sequence",
                seq,
                f"expected event {expected} next but found event {seq}: "
                "events are missing or out of order",
            )
        if prev_hash != prev:
            return self._found(
                "chain.link",
                seq,
                f"event {seq} does not chain onto event {seq - 1} (previous hash differs): an "
                "event before it was removed, reordered or altered",
            )
        try:
            sealed = row_json(row)
        except (TypeError, ValueError) as exc:
            return self._found("chain.unreadable", seq, f"event {seq} cannot be read: {exc}")
        named = _named_fingerprint(row, seq) if seq == 1 or kind == ChainKeyRotated.kind else None
        if seq == 1 and named is not None and self.keys:
            # start under the key the ledger was created with (the given one, or an old one)
            self.key = self.keys.get(named)
            if self.key is None:
                self._no_key(seq, named)
        if self.key is not None and chain_hash(self.key, prev, sealed) != digest:
            self._found(
                "chain.hash",
                seq,
                f"event {seq} ({kind}) does not match its hash: it was altered "
                "(or QUOTAPOOL_LEDGER_KEY is not the key the ledger was written with)",
            )
        if seq > 1 and named is not None:  # a rotation: the events after it, under the new key
            self.key = self.keys.get(named)
            if self.key is None:
                self._no_key(seq + 1, named)
        return None

    def _no_key(self, seq: int, fingerprint: str) -> None:
        self._found(
            "chain.no_key",
            seq,
            f"events from {seq} on are sealed with chain key {fingerprint[:12]}…, which was not "
            "given, so their hashes are not checked: set QUOTAPOOL_LEDGER_KEY to the ledger's "
            "key (after a rotation, also give every old key: --old-chain-key-file)",
        )

    def head(self, head: Head) -> None:
        """The head row names the last stored event."""
        if (head.seq, head.hash) == (self.last_seq, self.last_hash):
            return
        self._found(
            "chain.head",
            self.last_seq + 1 if head.seq > self.last_seq else head.seq,
            f"the ledger head says event {head.seq} ({head.hash[:12]}…) but the chain ends at "
            f"event {self.last_seq} ({self.last_hash[:12]}…): events were removed or the head "
            "was altered",
        )

    def _found(self, rule: str, seq: int, message: str) -> None:
        self.problems.add(Problem(rule, seq, message))


class ReplayPass:
    """Pass 2: decode every event and fold it, every invariant checked (`State.apply`; the
    loop of `verify_rows` runs it inline). Stops at the first event that cannot be read or
    breaks an invariant."""

    def __init__(self) -> None:
        self.state = State()
        self.running = True
        self.problems = PassProblems("replay")

    def unreadable(self, seq: int, exc: Exception) -> None:
        self._stop(
            Problem("replay.unreadable", seq, f"event {seq} has an unreadable payload: {exc}")
        )

    def broken(self, exc: InvariantBroken) -> None:
        self._stop(Problem(exc.rule, exc.seq, exc.message))

    def _stop(self, problem: Problem) -> None:
        self.problems.add(problem)
        self.running = False


class RulesAtOpenPass:
    """Pass 3: every loan, before it is applied, against the rules of a loan request
    (`check_open_loan`) as the state stood then."""

    def __init__(self) -> None:
        self.problems = PassProblems("rules")

    def loan_opened(self, state: State, event: Event) -> None:
        p = event.payload
        assert isinstance(p, LoanOpened)
        day = parse_day(event.effective)
        broken = check_open_loan(state, known_pool(p.pool), p.borrower, p.count, p.purpose, day)
        if broken is not None:
            self.problems.add(
                Problem(
                    broken.rule,
                    event.seq,
                    f"event {event.seq} opened loan {p.loan_id} against rule {broken}",
                )
            )


def _named_fingerprint(row: Any, seq: int) -> str | None:
    """The key fingerprint an event names: the first event's recorded one, or a rotation's
    new one (None: none, or unreadable — the replay pass says so)."""
    try:
        payload = json.loads(row[9])
        named = payload["fingerprint"] if seq > 1 else payload["settings"].get(FINGERPRINT_FIELD)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return named if isinstance(named, str) and named else None


def corrections(state: State, stored: Callable[[int], Mapping[str, str]]) -> list[Problem]:
    """Pass 4b: the first correction of each event's 文号 or reason replaced what the event
    was sealed with (`stored(seq)`: its stored texts)."""
    found = []
    for seq, claims in sorted((int(seq), claims) for seq, claims in state.corrected_from.items()):
        texts = stored(seq)
        for name, claimed in sorted(claims.items()):
            actual = texts.get(name)
            if actual == claimed:
                continue
            found.append(
                Problem(
                    "ledger.correction",
                    seq,
                    f"a correction of event {seq} replaces its {name} {claimed!r}, but the "
                    f"event says {actual!r}",
                )
            )
    return found


def reversals(state: State, event_at: Callable[[int], Event | None]) -> list[Problem]:
    """Every reversing entry says exactly what the event it reverses did (`event_at`: the
    stored event of a seq): the fold checks it against the loan, this against the record."""
    pairs = [(loan.opened_seq, loan.reversed_by) for loan in state.loans.values()]
    pairs += [(int(target), by) for target, by in state.reversed_returns.items()]
    found = []
    for target_seq, by in sorted(pair for pair in pairs if pair[1]):
        target, reversal = event_at(target_seq), event_at(by)
        said = None if reversal is None else reversal.payload
        if target is None or said is None or EntryReversed.of(target) != said:
            found.append(
                Problem(
                    "ledger.reversal",
                    by,
                    f"reversing entry {by} does not say what event {target_seq} did",
                )
            )
    return found


def as_of_views(state: State, events_by_date: Callable[[], Iterable[Event]]) -> list[Problem]:
    """With late or reversing entries, the ledger replayed in order of effective date without
    the reversed events (every `status --as-of D` is a prefix of that) breaks no rule."""
    if not state.amendments:
        return []
    try:
        fold_as_of(events_by_date(), state.reversed_seqs())
    except InvariantBroken as exc:
        return [
            Problem(
                "ledger.late_entry_conflict",
                exc.seq,
                f"replayed in order of effective date (as of its date): {exc.message} [{exc.rule}]",
            )
        ]
    return []


def settlement(state: State) -> list[Problem]:
    """Pass 4: 空一还一 applied everywhere; every loan an evaluation sent back returned."""
    return [
        Problem(violation.rule, None, violation.message_en)
        for violation in settlement_problems(state)
    ]


def recount(state: State) -> list[Problem]:
    """Pass 5: recount everything from scratch; any difference from the running figures is a
    bug or a tampered ledger."""
    found: list[str] = []
    lent = {PoolKind.ADMIN: 0, PoolKind.INSTITUTIONAL: 0}
    per_unit = {u: {"lent": 0, "borrowed": 0, "pool_headcount": 0} for u in state.units}
    for loan in state.loans.values():
        if loan.outstanding < 0 or loan.outstanding > loan.count:
            found.append(f"loan {loan.loan_id} has {loan.outstanding} outstanding")
        if loan.outstanding == 0:  # closed: its units may have left the ledger since
            continue
        lender = loan.pool.lender
        if lender is None:
            lent[loan.pool.kind] += loan.outstanding
            per_unit[loan.borrower]["pool_headcount"] += loan.outstanding
        else:
            per_unit[lender]["lent"] += loan.outstanding
            per_unit[loan.borrower]["borrowed"] += loan.outstanding
    for pool, total in lent.items():
        if total != state.pool_lent[pool]:
            found.append(f"{pool} pool: lent {state.pool_lent[pool]}, loans add to {total}")
    for unit_id, counts in per_unit.items():
        unit = state.units[unit_id]
        for name, total in counts.items():
            if getattr(unit, name) != total:
                found.append(f"{unit_id}.{name} is {getattr(unit, name)}, loans say {total}")
    group = [u for u in state.units.values() if u.in_admin_group]
    if (
        sum(u.vacancies for u in group) != state.admin_vacancies
        or sum(u.headcount - u.own_limit for u in group) != state.admin_net
    ):
        found.append("municipal administrative vacancy totals do not add up")
    return [Problem("recount", None, message) for message in found]


def books_recount(state: State) -> list[Problem]:
    """Pass 7 (SPEC 2.7/2.8): plans lapsed when due; reservations and open problems recounted."""
    found = [Problem(v.rule, None, v.message_en) for v in unlapsed_plans(state)]
    reserved: dict[str, int] = {}
    for plan in state.plans.values():
        if plan.status is PlanStatus.OPEN:
            reserved[plan.unit_id] = reserved.get(plan.unit_id, 0) + plan.remaining
        if plan.remaining < 0 or (plan.status is PlanStatus.OPEN) != (plan.remaining > 0):
            found.append(Problem("recount", None, f"plan {plan.plan_id} figures do not add up"))
    for unit_id in set(reserved) | set(state.reserved):
        if reserved.get(unit_id, 0) != state.reserved.get(unit_id, 0):
            found.append(Problem("recount", None, f"{unit_id}: reserved does not add up"))
    open_count = sum(1 for p in state.problems.values() if p.status is ProblemStatus.OPEN)
    if open_count != sum(len(ids) for ids in state.open_problems_by_unit.values()):
        found.append(Problem("recount", None, "open problems do not add up"))
    return found


class CheckpointPass:
    """Pass 6: the stored rows as Merkle leaves (`pools.transparency`), then every given
    checkpoint checked against them. `checkpoints` are (name, checkpoint) pairs; the name
    (a file) is said in each problem."""

    def __init__(self, checkpoints: Sequence[tuple[str, Checkpoint]], public_key: PublicKey | None):
        self.checkpoints = checkpoints
        self.public_key = public_key
        # the key's tree hash (SHA-256, or SM3 for SM2): a checkpoint of another is refused
        self.hashing = SHA256 if public_key is None else tree_hash_of(public_key)
        self.leaf_hash = self.hashing.leaf
        self.leaves: list[bytes] = []
        self.ledger_id = ""

    def row(self, row: Any) -> None:
        if not self.leaves:
            self.ledger_id = str(row[1])
        try:
            text = row_json(row)
        except (TypeError, ValueError):
            text = repr(tuple(row[:10]))  # unreadable: the chain pass says so; no match anyway
        self.leaves.append(self.leaf_hash(text.encode()))

    def problems(self) -> PassProblems:
        found = PassProblems("checkpoint")
        if not self.checkpoints:
            return found
        assert self.public_key is not None, "checkpoints need the public key that signed them"
        tree = MerkleTree(self.leaves, self.hashing)
        for name, checkpoint in self.checkpoints:
            for finding in checkpoint_findings(self.ledger_id, tree, checkpoint, self.public_key):
                found.add(
                    Problem(
                        finding.rule,
                        None,
                        f"checkpoint {name} ({checkpoint.size} events, {checkpoint.time}): "
                        f"{finding.message}",
                    )
                )
        return found


def teacher_groups(state: State) -> list[Problem]:
    """At the end (SPEC 2.9): every teacher plan group the ledger started it completed (a
    group is written in one transaction, so one left open means the ledger was cut short)."""
    group = state.teacher.open
    broken = group_complete(None if group is None else group.application.application)
    return [] if broken is None else [Problem(broken.rule, None, broken.message_en)]


def key_problems(state: State, key: bytes) -> PassProblems:
    """The key the chain is checked with is the one the first event recorded (if it did)."""
    found = PassProblems("key")
    recorded, used = state.key_fingerprint, key_fingerprint(key)
    if recorded is not None and recorded != used:
        found.add(
            Problem(
                "ledger.wrong_key",
                1,
                f"the ledger was created with chain key {recorded[:12]}…, it is checked with "
                f"{used[:12]}…: set QUOTAPOOL_LEDGER_KEY to the ledger's key (every hash differs)",
            )
        )
    return found


def verify_rows(
    rows: Iterable[Any],
    head: Head,
    key: bytes,
    checkpoints: Sequence[tuple[str, Checkpoint]] = (),
    public_key: PublicKey | None = None,
    *,
    check_key: bool = False,
    keys: Mapping[str, bytes] | None = None,
    stored: Callable[[int], Mapping[str, str]] | None = None,
    snapshots: Iterable[tuple[StoredSnapshot, str | None]] = (),
    event_at: Callable[[int], Event | None] | None = None,
    events_by_date: Callable[[], Iterable[Event]] | None = None,
) -> Verification:
    """Run every pass over the stored `rows` (in sequence order) and the `head`; with
    `checkpoints`, also pass 6 against them under `public_key`; with `check_key` (the
    ledger's `verify` sets it), also whether `key` is the chain key the first event names;
    with `keys` (fingerprint → key), each event under the key in force at it; with `stored`
    (seq → the 文号 and reason an event was sealed with), the corrections; with `snapshots`
    ((snapshot, hash of the event at its seq) pairs), also those; with `event_at` (seq → the
    stored event), the reversing entries; with `events_by_date` (the events in order of
    effective date), the ledger's late entries."""
    chain, replay, rules = ChainPass(key, keys), ReplayPass(), RulesAtOpenPass()
    snapshot_found = PassProblems("snapshot")
    unchecked, to_compare = snapshot_checks(key, snapshots, (keys or {}).values())
    snapshot_found.extend(Problem("snapshot.untrusted", seq, message) for seq, message in unchecked)
    signed = CheckpointPass(checkpoints, public_key)
    count = 0
    state = replay.state
    for row in rows:
        count += 1
        chain.row(row)
        if checkpoints:
            signed.row(row)
        if not replay.running:
            continue
        # the replay pass, inline (a million events: no call that is not needed)
        try:
            event = event_from_row(row)
        except (ValueError, TypeError, AttributeError) as exc:
            replay.unreadable(int(row[0]), exc)
            continue
        if type(event.payload) is LoanOpened:
            rules.loan_opened(state, event)
        try:
            state.apply(event)
        except InvariantBroken as exc:
            replay.broken(exc)
            continue
        if to_compare and state.seq in to_compare:
            for snapshot in to_compare.pop(state.seq):
                differs = compare_with_replay(snapshot, state)
                if differs is not None:
                    snapshot_found.add(Problem("snapshot.state", snapshot.seq, differs))
    chain.head(head)
    if replay.running:  # a snapshot the replay never reached lies beyond the events
        for seq in to_compare:
            snapshot_found.add(
                Problem("snapshot.state", seq, f"snapshot at event {seq}: no such event")
            )
    passes = [chain.problems, replay.problems, rules.problems, snapshot_found]
    if replay.running:  # the state is sound: the whole-ledger passes can read it
        at_end = (
            ("settlement", settlement),
            ("recount", recount),
            ("teacher", teacher_groups),
            ("books", books_recount),
        )
        for name, found_at_end in at_end:
            passes.append(PassProblems(name))
            passes[-1].extend(found_at_end(state))
        if stored is not None:
            passes.append(PassProblems("corrections"))
            passes[-1].extend(corrections(state, stored))
        if event_at is not None:
            passes.append(PassProblems("reversals"))
            passes[-1].extend(reversals(state, event_at))
        if events_by_date is not None:
            passes.append(PassProblems("as_of"))
            passes[-1].extend(as_of_views(state, events_by_date))
    if check_key:
        passes.append(key_problems(state, key))
    passes.append(signed.problems())
    ordered = sorted(
        ((problem, order) for order, found in enumerate(passes) for problem in found.report()),
        key=lambda item: (item[0].seq is None, item[0].seq or 0, item[1]),
    )
    return Verification(count, state, [problem for problem, _ in ordered])
