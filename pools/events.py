"""Ledger events: immutable, typed records and the keyed hash chain that seals them.

Every event has an envelope (sequence number, id, optional client idempotency key, recorded
time, effective date, actor, reason, document number 文号) and a typed payload, one frozen
dataclass per kind. The hash of event n is

    HMAC-SHA256(key, prev_hash || canonical_json(envelope and payload, without the hash))

where canonical JSON has sorted keys, no spaces and UTF-8 text, so the same event always
hashes the same, in any process and on any database. The first event chains onto GENESIS.
The payload is stored as its canonical JSON text, and `body_json` writes the hashed text
around that stored text, so `audit verify` hashes each event exactly as it is stored (a
payload whose text was altered in any way, even reformatted, no longer matches its hash).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, NamedTuple

GENESIS = "0" * 64
KEY_ENV = "QUOTAPOOL_LEDGER_KEY"
# The demo key: fine for trying the product; a real deployment sets QUOTAPOOL_LEDGER_KEY
# (kept apart from the database, so whoever can write the database cannot forge the chain).
DEMO_KEY = "quotapool-demo-ledger-key"


def ledger_key(explicit: str | bytes | None = None) -> bytes:
    """The chain key: an explicit key, else $QUOTAPOOL_LEDGER_KEY, else the demo key."""
    value = explicit if explicit is not None else os.environ.get(KEY_ENV, DEMO_KEY)
    return value.encode("utf-8") if isinstance(value, str) else value


def key_given(explicit: str | bytes | None = None) -> bool:
    """Whether a chain key was given (explicitly or in $QUOTAPOOL_LEDGER_KEY), rather than
    falling back to the demo key."""
    return explicit is not None or bool(os.environ.get(KEY_ENV))


FINGERPRINT_LABEL = b"quotapool chain key fingerprint v1"
FINGERPRINT_FIELD = "chain_key_fingerprint"  # where the first event records it


def key_fingerprint(key: bytes) -> str:
    """SHA-256 of an HMAC of a fixed label under the chain key, hex: names the key without
    revealing it (recorded in the first event; writes under another key are refused)."""
    mac = hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).digest()
    return hashlib.sha256(mac).hexdigest()


DEMO_FINGERPRINT = key_fingerprint(DEMO_KEY.encode("utf-8"))


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# What json.dumps(..., ensure_ascii=False) writes for a string (the same C function).
_json_string = json.encoder.encode_basestring


# ---------------------------------------------------------------------------------------
# Payloads: one frozen dataclass per kind.

_PLAIN = frozenset({str, int, float, bool, type(None)})


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


@dataclass(frozen=True)
class Payload:
    kind: ClassVar[str] = ""

    def as_dict(self) -> dict[str, Any]:
        """`dataclasses.asdict`; for a payload of plain values (most: a million units
        registered at `init`) without its deep recursion, the same dict."""
        values = self.__dict__
        if all(type(value) in _PLAIN for value in values.values()):
            return {name: values[name] for name in _field_names(type(self))}
        return asdict(self)


@dataclass(frozen=True)
class LedgerInitialised(Payload):
    """The ledger's settings, fixed for its life (see `pools.rules.Settings`), and since issue
    13 the fingerprint of its chain key under `FINGERPRINT_FIELD` (`key_fingerprint`; not a
    setting: `Settings.from_dict` ignores it). A first event without one is a legacy ledger."""

    kind: ClassVar[str] = "ledger_initialised"
    settings: dict[str, Any]


@dataclass(frozen=True)
class UnitRegistered(Payload):
    """A unit enters the ledger (at init, or a new unit in a later snapshot)."""

    kind: ClassVar[str] = "unit_registered"
    unit_id: str
    name: str
    region: str
    level: str
    kind_: str  # administrative / institutional ("kind" names the event kind)
    approved: int
    headcount: int
    sector: str = ""
    parent: str = ""


@dataclass(frozen=True)
class UnitUpdated(Payload):
    """Fields of a unit changed in a snapshot: {field: [old, new]}; old must match the ledger."""

    kind: ClassVar[str] = "unit_updated"
    unit_id: str
    changes: dict[str, list[Any]]


@dataclass(frozen=True)
class UnitRemoved(Payload):
    kind: ClassVar[str] = "unit_removed"
    unit_id: str


@dataclass(frozen=True)
class LoanOpened(Payload):
    """`count` quotas lent from `pool` (admin, institutional or unit:<lender>) to `borrower`.

    The loan is opened for people hired on it, so `count` people are on the loan from now on.
    """

    kind: ClassVar[str] = "loan_opened"
    loan_id: str
    pool: str
    borrower: str
    count: int
    purpose: str
    end: str | None  # last day of the term (ISO date), None = until returned


@dataclass(frozen=True)
class LoanReturned(Payload):
    """`count` quotas of a loan come back. cause: vacancy (空一还一), manual, evaluation."""

    kind: ClassVar[str] = "loan_returned"
    loan_id: str
    count: int
    cause: str


@dataclass(frozen=True)
class LoanExpired(Payload):
    kind: ClassVar[str] = "loan_expired"
    loan_id: str


@dataclass(frozen=True)
class LoanEvaluated(Payload):
    """Performance evaluation of an expired loan: score 0–100, decision extend or return."""

    kind: ClassVar[str] = "loan_evaluated"
    loan_id: str
    score: int
    decision: str
    new_end: str | None


@dataclass(frozen=True)
class PoolRebuilt(Payload):
    """The institutional pool is rebuilt (到期重建) with a capacity and a new period end."""

    kind: ClassVar[str] = "pool_rebuilt"
    pool: str
    capacity: int
    period_end: str


@dataclass(frozen=True)
class ChainKeyRotated(Payload):
    """The chain key changes (issue 13): this event is sealed under the old key, every later
    one under the new key, whose fingerprint (`key_fingerprint`) it records. Whoever holds
    only the old key can no longer write; `audit verify` needs both keys to check the chain."""

    kind: ClassVar[str] = "chain_key_rotated"
    fingerprint: str


@dataclass(frozen=True)
class RecordCorrected(Payload):
    """A correction of what an earlier event says about itself (its 文号 or its reason): the
    event stays as it was sealed; this one, appended, says what it should have said, as a
    reversing entry does in a book of accounts. `old` is the value being replaced (the
    stored one, or the last correction's)."""

    kind: ClassVar[str] = "record_corrected"
    seq: int
    field: str  # document / reason
    old: str
    new: str


@dataclass(frozen=True)
class EntryBackdated(Payload):
    """A late entry (补录, issue 13): the events that follow it in the same write take effect
    on `effective`, a day before the ledger's last event, as an accountant's late or reversing
    entry does. This event is dated like the ledger (it does not move its date back); its
    reason says why the entry is late. The entries that follow are checked by the rules both
    as the ledger stands now and at their own date: `status --as-of` a day on or after it
    answers with them, `--known-at` a time before this write answers without them."""

    kind: ClassVar[str] = "entry_backdated"
    effective: str


@dataclass(frozen=True)
class EntryReversed(Payload):
    """A reversing entry (冲销, issue 13): the effect of event `seq` (a loan opened or a
    return recorded in error) is undone. The event stays as it was sealed; as recorded now
    neither it nor this one happened (`status --as-of` leaves both out), as the ledger stood
    before this one (`--known-at`) it did. `target` is its kind and `loan_id`, `count`,
    `cause` what it did, so the reversal reads on its own (`audit verify` checks them
    against the stored event)."""

    kind: ClassVar[str] = "entry_reversed"
    seq: int
    target: str
    loan_id: str
    count: int
    cause: str  # of a reversed return; "" for an opening

    @classmethod
    def of(cls, event: Event) -> EntryReversed | None:
        """The reversal of `event` (None: an event of its kind is not reversed)."""
        p = event.payload
        if isinstance(p, LoanOpened):
            return cls(event.seq, p.kind, p.loan_id, p.count, "")
        if isinstance(p, LoanReturned):
            return cls(event.seq, p.kind, p.loan_id, p.count, p.cause)
        return None


# ---- teacher quota accounts (SPEC 2.9) ------------------------------------------------------
# A plan applied is one group: TeacherPlanStarted, the releases, the allocations,
# TeacherPlanCompleted, written in one transaction (no other event inside a group).


@dataclass(frozen=True)
class TeacherCountyRegistered(Payload):
    """A county's teacher quota (教职工编制) becomes an account (the first plan applied)."""

    kind: ClassVar[str] = "teacher_county_registered"
    county_id: str
    name: str
    quota: int


@dataclass(frozen=True)
class TeacherPlanStarted(Payload):
    """A plan's application begins: `current` is the plan's starting quota of every county
    (it must be the ledger's), `extra_quota` what the city pool adds (the total's change)."""

    kind: ClassVar[str] = "teacher_plan_started"
    plan_id: str
    scenario_hash: str
    year: int | None
    extra_quota: int
    current: dict[str, int]


@dataclass(frozen=True)
class TeacherQuotaReleased(Payload):
    """`count` quotas released by a county into the city's teacher pool."""

    kind: ClassVar[str] = "teacher_quota_released"
    plan_id: str
    scenario_hash: str
    county_id: str
    count: int


@dataclass(frozen=True)
class TeacherQuotaAllocated(Payload):
    """`count` quotas allocated from the city's teacher pool to a county."""

    kind: ClassVar[str] = "teacher_quota_allocated"
    plan_id: str
    scenario_hash: str
    county_id: str
    count: int


@dataclass(frozen=True)
class TeacherPlanCompleted(Payload):
    """The group ends: the city's teacher total before and after (after = before + extra)."""

    kind: ClassVar[str] = "teacher_plan_completed"
    plan_id: str
    total_before: int
    total_after: int


TEACHER_PAYLOADS: tuple[type[Payload], ...] = (
    TeacherCountyRegistered,
    TeacherPlanStarted,
    TeacherQuotaReleased,
    TeacherQuotaAllocated,
    TeacherPlanCompleted,
)


# ---- SPEC 2.7 quota-use plans and 2.8 rectification problems (issue 11) -------------------


@dataclass(frozen=True)
class UsePlanApproved(Payload):
    """A quota-use plan (用编计划): reserves `count` own vacancies of `unit_id` until `until`
    (ISO date, the last valid day) for hires through `channel` (用编形式)."""

    kind: ClassVar[str] = "useplan_approved"
    plan_id: str
    unit_id: str
    count: int
    channel: str
    purpose: str
    until: str


@dataclass(frozen=True)
class UsePlanPosted(Payload):
    """`count` hires of the plan's unit posted against the plan (oldest open plan first)."""

    kind: ClassVar[str] = "useplan_posted"
    plan_id: str
    unit_id: str
    count: int


@dataclass(frozen=True)
class UsePlanLapsed(Payload):
    """The unused part of a plan lapses after its validity end."""

    kind: ClassVar[str] = "useplan_lapsed"
    plan_id: str
    unit_id: str
    count: int


@dataclass(frozen=True)
class UsePlanWithdrawn(Payload):
    """A plan withdrawn (撤销): its unused part is no longer reserved; the reason is the
    envelope's."""

    kind: ClassVar[str] = "useplan_withdrawn"
    plan_id: str
    unit_id: str
    count: int


@dataclass(frozen=True)
class ProblemOpened(Payload):
    """A rectification problem (问题台账) recorded against a unit; `cause` is empty for a
    problem recorded by hand, else what the monthly comparison found (`pools.rules.problems`)."""

    kind: ClassVar[str] = "problem_opened"
    problem_id: str
    unit_id: str
    problem_kind: str
    deadline: str
    cause: str


@dataclass(frozen=True)
class ProblemClosed(Payload):
    """A problem closed (销号); `automatic` when the monthly comparison found its cause gone.
    The reason is the envelope's."""

    kind: ClassVar[str] = "problem_closed"
    problem_id: str
    unit_id: str
    automatic: bool


BOOK_PAYLOADS: tuple[type[Payload], ...] = (
    UsePlanApproved,
    UsePlanPosted,
    UsePlanLapsed,
    UsePlanWithdrawn,
    ProblemOpened,
    ProblemClosed,
)


PAYLOAD_TYPES: dict[str, type[Payload]] = {
    cls.kind: cls
    for cls in (
        LedgerInitialised,
        UnitRegistered,
        UnitUpdated,
        UnitRemoved,
        LoanOpened,
        LoanReturned,
        LoanExpired,
        LoanEvaluated,
        PoolRebuilt,
        ChainKeyRotated,
        RecordCorrected,
        EntryBackdated,
        EntryReversed,
    )
}
PAYLOAD_TYPES.update({cls.kind: cls for cls in TEACHER_PAYLOADS})
PAYLOAD_TYPES.update({cls.kind: cls for cls in BOOK_PAYLOADS})  # SPEC 2.7/2.8 (issue 11)


_PAYLOAD_FIELDS = {
    kind: frozenset(f.name for f in fields(cls)) for kind, cls in PAYLOAD_TYPES.items()
}


def payload_from_dict(kind: str, data: dict[str, Any]) -> Payload:
    cls = PAYLOAD_TYPES.get(kind)
    if cls is None:
        raise ValueError(f"unknown event kind '{kind}'")
    names = _PAYLOAD_FIELDS[kind]
    if data.keys() != names:
        raise ValueError(f"{kind} payload has fields {sorted(data)}, expected {sorted(names)}")
    # Exactly what cls(**data) does once the keys are the fields (payloads have no
    # __post_init__), without the frozen __init__'s setattr per field: replay builds
    # a million of these.
    payload = object.__new__(cls)
    payload.__dict__.update(data)
    return payload


# ---------------------------------------------------------------------------------------
# The envelope.


class Event(NamedTuple):
    """One sealed event. A named tuple: immutable, and cheap to build a million times."""

    seq: int
    event_id: str
    idem_key: str | None
    recorded_at: str  # UTC, ISO 8601
    effective: str  # ISO date the change takes effect
    actor: str
    reason: str
    document: str  # 文号
    payload: Payload
    prev_hash: str
    hash: str

    @property
    def kind(self) -> str:
        return self.payload.kind

    def body(self) -> dict[str, Any]:
        """Everything the hash seals: the envelope and payload, not the hash itself."""
        return {
            "seq": self.seq,
            "event_id": self.event_id,
            "idem_key": self.idem_key,
            "recorded_at": self.recorded_at,
            "effective": self.effective,
            "actor": self.actor,
            "reason": self.reason,
            "document": self.document,
            "kind": self.kind,
            "payload": self.payload.as_dict(),
        }

    def as_dict(self) -> dict[str, Any]:
        """A plain record for JSON output: `at` is the recorded time (SPEC 3.3)."""
        body = self.body()
        body["at"] = self.recorded_at
        body["prev_hash"] = self.prev_hash
        body["hash"] = self.hash
        return body


def seal(
    key: bytes,
    *,
    seq: int,
    event_id: str,
    idem_key: str | None,
    recorded_at: str,
    effective: str,
    actor: str,
    reason: str,
    document: str,
    payload: Payload,
    prev_hash: str,
) -> Event:
    """A new event with its hash computed."""
    body = body_json(
        seq, event_id, idem_key, recorded_at, effective, actor, reason, document, payload.kind,
        canonical_json(payload.as_dict()),
    )  # fmt: skip
    return Event(
        seq, event_id, idem_key, recorded_at, effective, actor, reason, document, payload,
        prev_hash, chain_hash(key, prev_hash, body),
    )  # fmt: skip


def body_json(
    seq: int,
    event_id: str,
    idem_key: str | None,
    recorded_at: str,
    effective: str,
    actor: str,
    reason: str,
    document: str,
    kind: str,
    payload_json: str,
) -> str:
    """`canonical_json(event.body())`, written straight from the fields around the payload's
    canonical JSON text (keys in sorted order): no dict is built, sorted or re-serialised."""
    q = _json_string
    key = "null" if idem_key is None else q(idem_key)
    return (
        f'{{"actor":{q(actor)},"document":{q(document)},"effective":{q(effective)},'
        f'"event_id":{q(event_id)},"idem_key":{key},"kind":{q(kind)},'
        f'"payload":{payload_json},"reason":{q(reason)},"recorded_at":{q(recorded_at)},'
        f'"seq":{seq:d}}}'
    )


def chain_hash(key: bytes, prev_hash: str, body_json: str) -> str:
    """HMAC-SHA256(key, prev_hash || body_json), hex."""
    mac = _keyed_hmac(key).copy()  # the key schedule is computed once per key, not per event
    mac.update((prev_hash + body_json).encode("utf-8"))
    return mac.hexdigest()


@functools.lru_cache(maxsize=4)
def _keyed_hmac(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)
