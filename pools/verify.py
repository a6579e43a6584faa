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
6. snapshots — every stored snapshot of the state (`pools.snapshot`): its MAC, format and
   the hash of the event at its seq, then its state against the replay at that seq.
7. checkpoints — if signed checkpoints are given (SPEC 3.6): each is signed by the given public
   key and the stored ledger extends it (same ledger, at least as many events, and the first
   `size` events have the signed Merkle root: `pools.transparency.checkpoint_findings`), so
   deleting the newest events or rewriting old ones is caught even by whoever knows the key.

The passes run together in one read of the rows (a million events are read once, not five
times). Every problem found is reported, in ledger order (then pass order); a pass lists at
most `MAX_LISTED` problems and then says how many more it found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pools.checkpoint import Checkpoint
from pools.events import GENESIS, Event, LoanOpened, chain_hash, key_fingerprint
from pools.merkle import MerkleTree, leaf_hash
from pools.rules.loans import check_open_loan, known_pool, settlement_problems
from pools.snapshot import StoredSnapshot, compare_with_replay, snapshot_checks
from pools.state import InvariantBroken, State
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
    """Pass 1: the stored rows and the head, against the keyed hash chain."""

    def __init__(self, key: bytes):
        self.key = key
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
        if chain_hash(self.key, prev, sealed) != digest:
            self._found(
                "chain.hash",
                seq,
                f"event {seq} ({kind}) does not match its hash: it was altered "
                "(or QUOTAPOOL_LEDGER_KEY is not the key the ledger was written with)",
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


class CheckpointPass:
    """Pass 6: the stored rows as Merkle leaves (`pools.transparency`), then every given
    checkpoint checked against them. `checkpoints` are (name, checkpoint) pairs; the name
    (a file) is said in each problem."""

    def __init__(
        self, checkpoints: Sequence[tuple[str, Checkpoint]], public_key: Ed25519PublicKey | None
    ):
        self.checkpoints = checkpoints
        self.public_key = public_key
        self.leaves: list[bytes] = []
        self.ledger_id = ""

    def row(self, row: Any) -> None:
        if not self.leaves:
            self.ledger_id = str(row[1])
        try:
            text = row_json(row)
        except (TypeError, ValueError):
            text = repr(tuple(row[:10]))  # unreadable: the chain pass says so; no match anyway
        self.leaves.append(leaf_hash(text.encode()))

    def problems(self) -> PassProblems:
        found = PassProblems("checkpoint")
        if not self.checkpoints:
            return found
        assert self.public_key is not None, "checkpoints need the public key that signed them"
        tree = MerkleTree(self.leaves)
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
    public_key: Ed25519PublicKey | None = None,
    *,
    check_key: bool = False,
    snapshots: Iterable[tuple[StoredSnapshot, str | None]] = (),
) -> Verification:
    """Run every pass over the stored `rows` (in sequence order) and the `head`; with
    `checkpoints`, also pass 6 against them under `public_key`; with `check_key` (the
    ledger's `verify` sets it), also whether `key` is the chain key the first event names;
    with `snapshots` ((snapshot, hash of the event at its seq) pairs), also those."""
    chain, replay, rules = ChainPass(key), ReplayPass(), RulesAtOpenPass()
    stored = PassProblems("snapshot")
    unchecked, to_compare = snapshot_checks(key, snapshots)
    stored.extend(Problem("snapshot.untrusted", seq, message) for seq, message in unchecked)
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
                    stored.add(Problem("snapshot.state", snapshot.seq, differs))
    chain.head(head)
    if replay.running:  # a snapshot the replay never reached lies beyond the events
        for seq in to_compare:
            stored.add(Problem("snapshot.state", seq, f"snapshot at event {seq}: no such event"))
    passes = [chain.problems, replay.problems, rules.problems, stored]
    if replay.running:  # the state is sound: the whole-ledger passes can read it
        for name, found_at_end in (("settlement", settlement), ("recount", recount)):
            passes.append(PassProblems(name))
            passes[-1].extend(found_at_end(state))
    if check_key:
        passes.append(key_problems(state, key))
    passes.append(signed.problems())
    ordered = sorted(
        ((problem, order) for order, found in enumerate(passes) for problem in found.report()),
        key=lambda item: (item[0].seq is None, item[0].seq or 0, item[1]),
    )
    return Verification(count, state, [problem for problem, _ in ordered])
