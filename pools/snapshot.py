"""Snapshots of the folded state, so a write costs its commit and not the ledger's length.

A snapshot is the `State` after event `seq`, stored in ``ledger_snapshots`` next to the
events (`pools.storage`), written inside a write's own transaction when the events since the
last snapshot reach a setting (`snapshot_every`, $QUOTAPOOL_SNAPSHOT_EVERY, default 1,000; 0
turns snapshots off). A fresh process (each CLI write) then reads the latest snapshot at or
before the head and folds only the tail after it, instead of every event from the start.

A snapshot is a cache: the events stay the record. It is trusted only if

- its MAC checks: HMAC-SHA256 under the chain key over (seq, hash of event `seq`, format,
  body), so nobody without the key can make one, and it cannot be moved to another event;
- its format is this program's (`FORMAT`: the codec version and a fingerprint of the State's
  declared fields and of every dataclass they hold, so a State that gains a field, or a field
  that changes type, makes older snapshots simply unused);
- the event stored at `seq` has the hash the snapshot names (the chain was not rewritten
  under it).

Otherwise it is ignored (full replay) and `audit verify` reports it; `audit verify` also
replays the whole ledger and compares the state at every stored snapshot's seq with it.

The body is msgspec MessagePack of the State's attributes, decoded against the types the
State class declares (`typing.get_type_hints`), so new State fields need no code here. It is
data only: decoding builds the declared dataclasses, enums, dates and containers and never
runs code named by the data (unlike pickle: the demo chain key is public, so a snapshot on a
demo ledger may be forged by anyone, and a forged one must not be able to run anything).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

import msgspec

from pools.state import State, collector_paused

CODEC = "msgpack-1"
SNAPSHOT_EVERY_ENV = "QUOTAPOOL_SNAPSHOT_EVERY"
DEFAULT_SNAPSHOT_EVERY = 1_000
_MAC_DOMAIN = b"quotapool ledger snapshot\0"


class SnapshotUnsupported(Exception):
    """The State has an attribute this codec cannot type (no declaration on the class)."""


@dataclass(frozen=True)
class StoredSnapshot:
    """One row of ``ledger_snapshots``."""

    seq: int
    hash: str
    format_version: str
    body: bytes
    mac: str


def snapshot_every() -> int:
    """Events between snapshots ($QUOTAPOOL_SNAPSHOT_EVERY; 0: none). ValueError if bad."""
    text = os.environ.get(SNAPSHOT_EVERY_ENV, "").strip()
    if not text:
        return DEFAULT_SNAPSHOT_EVERY
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"{SNAPSHOT_EVERY_ENV} must be a whole number ≥ 0, not {text!r}")
    return int(text)


# ---- the codec -----------------------------------------------------------------------------


@cache
def _schema() -> tuple[tuple[str, Any], ...]:
    """(attribute, declared type) for every attribute a new State has, in order."""
    hints = typing.get_type_hints(State)
    names = list(vars(State()))
    missing = [name for name in names if name not in hints]
    if missing:
        raise SnapshotUnsupported(
            "State attributes without a type declared on the class: " + ", ".join(missing)
        )
    return tuple((name, hints[name]) for name in names)


@cache
def _body_type() -> type:
    """A dataclass with the State's attributes, for msgspec to decode a body into."""
    return dataclasses.make_dataclass("StateBody", list(_schema()))


def _describe(tp: Any, seen: set[type]) -> str:
    """A stable description of a type, dataclasses and enums spelled out field by field."""
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if tp in seen:
            return tp.__qualname__
        seen.add(tp)
        hints = typing.get_type_hints(tp)
        inner = ",".join(
            f"{f.name}:{_describe(hints[f.name], seen)}" for f in dataclasses.fields(tp)
        )
        return f"{tp.__qualname__}({inner})"
    if isinstance(tp, type) and issubclass(tp, Enum):
        return f"{tp.__qualname__}[{','.join(repr(m.value) for m in tp)}]"
    args = typing.get_args(tp)
    if args:
        origin = typing.get_origin(tp)
        name = getattr(origin, "__qualname__", repr(origin))
        return f"{name}[{','.join(_describe(arg, seen) for arg in args)}]"
    return getattr(tp, "__qualname__", repr(tp))


@cache
def format_version() -> str:
    """The codec and a fingerprint of the State's declared shape."""
    seen: set[type] = set()
    shape = ";".join(f"{name}:{_describe(tp, seen)}" for name, tp in _schema())
    return f"{CODEC}:{hashlib.sha256(shape.encode()).hexdigest()[:16]}"


_encoder = msgspec.msgpack.Encoder()
_canonical = msgspec.msgpack.Encoder(order="deterministic")


def encode_state(state: State) -> bytes:
    names = [name for name, _ in _schema()]
    extra = set(vars(state)) - set(names)
    if extra:
        raise SnapshotUnsupported(f"State attributes not declared: {', '.join(sorted(extra))}")
    return _encoder.encode({name: getattr(state, name) for name in names})


def decode_state(body: bytes) -> State:
    """The State a body holds; msgspec.DecodeError (a ValidationError) if it holds none."""
    with collector_paused():  # a million objects built and kept: no cyclic GC passes
        decoded: Any = msgspec.msgpack.decode(body, type=_body_type())
    state = State()
    for name, _ in _schema():
        setattr(state, name, getattr(decoded, name))
    return state


def state_fingerprint(state: State) -> bytes:
    """The state's content in a canonical form (dict keys and sets sorted): equal states give
    equal fingerprints, whatever order they were built in."""
    return hashlib.sha256(_canonical.encode(dict(vars(state)))).digest()


def states_equal(a: State, b: State) -> bool:
    return state_fingerprint(a) == state_fingerprint(b)


# ---- authentication ------------------------------------------------------------------------


def snapshot_mac(key: bytes, seq: int, digest: str, fmt: str, body: bytes) -> str:
    mac = hmac.new(key, _MAC_DOMAIN, hashlib.sha256)
    mac.update(f"{seq}\0{digest}\0{fmt}\0".encode())
    mac.update(body)
    return mac.hexdigest()


def make_snapshot(key: bytes, state: State) -> StoredSnapshot:
    """A snapshot of `state` (after its last event), MAC'd under the chain `key`."""
    body = encode_state(state)
    fmt = format_version()
    return StoredSnapshot(
        state.seq, state.hash, fmt, body, snapshot_mac(key, state.seq, state.hash, fmt, body)
    )


def snapshot_problem(key: bytes, snapshot: StoredSnapshot, event_hash: str | None) -> str | None:
    """Why `snapshot` cannot be trusted (None: it can), given the hash of the event stored at
    its seq (None: there is none)."""
    expected = snapshot_mac(
        key, snapshot.seq, snapshot.hash, snapshot.format_version, bytes(snapshot.body)
    )
    if not hmac.compare_digest(expected, snapshot.mac):
        return "its MAC does not check (altered, or made with another key)"
    if snapshot.format_version != format_version():
        return f"it has format {snapshot.format_version}, this program writes {format_version()}"
    if event_hash is None:
        return f"there is no event {snapshot.seq} in the ledger"
    if event_hash != snapshot.hash:
        return f"event {snapshot.seq} has another hash than the snapshot names"
    return None


def trusted_state(key: bytes, snapshot: StoredSnapshot, event_hash: str | None) -> State | None:
    """The state a snapshot holds if it can be trusted, else None (the caller replays)."""
    if snapshot_problem(key, snapshot, event_hash) is not None:
        return None
    try:
        state = decode_state(bytes(snapshot.body))
    except (msgspec.DecodeError, SnapshotUnsupported, TypeError, ValueError):
        return None
    if (state.seq, state.hash) != (snapshot.seq, snapshot.hash):
        return None
    return state


def snapshot_checks(
    key: bytes,
    snapshots: Iterable[tuple[StoredSnapshot, str | None]],
    old_keys: Iterable[bytes] = (),
) -> tuple[list[tuple[int, str]], dict[int, list[StoredSnapshot]]]:
    """For `audit verify`: the problems found without a replay ((seq, message) pairs) and the
    snapshots to compare with the replay, by seq. A snapshot stored before a key rotation is
    MAC'd under an old key (`old_keys`)."""
    problems: list[tuple[int, str]] = []
    to_compare: dict[int, list[StoredSnapshot]] = {}
    others = [old for old in old_keys if old != key]
    for snapshot, event_hash in snapshots:
        problem = snapshot_problem(key, snapshot, event_hash)
        if problem is not None and any(
            snapshot_problem(old, snapshot, event_hash) is None for old in others
        ):  # MAC'd before a key rotation: the body is hashed again only then
            problem = None
        if problem is not None:
            problems.append(
                (snapshot.seq, f"snapshot at event {snapshot.seq} is ignored: {problem}")
            )
        else:
            to_compare.setdefault(snapshot.seq, []).append(snapshot)
    return problems, to_compare


def compare_with_replay(snapshot: StoredSnapshot, replayed: State) -> str | None:
    """Why a snapshot differs from the replayed state at its seq (None: it is equal)."""
    try:
        state = decode_state(bytes(snapshot.body))
    except (msgspec.DecodeError, SnapshotUnsupported, TypeError, ValueError) as exc:
        return f"snapshot at event {snapshot.seq} cannot be read: {exc}"
    if not states_equal(state, replayed):
        return (
            f"snapshot at event {snapshot.seq} differs from the replayed state at that event "
            "(made with the key but not by this ledger's fold)"
        )
    return None
