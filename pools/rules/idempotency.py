"""Idempotency keys (SPEC 3.3: the same key twice opens one loan; SPEC 3.5: a key given
again with different parameters is refused, naming the fields that differ).

A key names one request of one command: every keyed command (`loan open`, `loan return`,
`loan evaluate`, `useplan approve`) records its key on the first event it writes, a key is
used once in a ledger (the fold: `key_unused`; the database: a UNIQUE column), and a retry
is compared field by field with the request the key first made (`retry_conflict`; codes
`loan.key_conflict`, `return.key_conflict`, `evaluate.key_conflict`,
`useplan.key_conflict`; `teacher.key_conflict` for `plan apply`). A key's retry gets the
original answer whatever happened since (even after the ledger moved to a later date); a
request under a used key that differs in any field is refused naming each field that
differs (as TigerBeetle's ``exists_with_different_*``).
Keys are trimmed where they come in; an empty key is refused.
"""

from __future__ import annotations

from collections.abc import Container, Mapping

from pools.rules.violations import Violation


def key_named(key: str) -> Violation | None:
    """An idempotency key, trimmed, is not empty."""
    if key:
        return None
    return Violation(
        "idempotency.empty_key",
        "--key is empty: give a key that names the request, or none",
        "幂等键为空：请给出标识本次请求的键，或不给",
    )


def request_differences(stored: Mapping[str, object], asked: Mapping[str, object]) -> list[str]:
    """The fields in which a request differs from the one its key first made (a field the
    retry does not state, None, is not compared: an effective date left to default)."""
    return [name for name, value in asked.items() if value is not None and stored[name] != value]


def same_request(
    key: str,
    target: str,
    stored: Mapping[str, object],
    asked: Mapping[str, object],
    command: str = "loan",
) -> Violation | None:
    """A request under a used key repeats the first one in every field it states; else the
    refusal `<command>.key_conflict` names each field that differs (`command`: loan,
    useplan, return, evaluate …; `target` names what the first request made or touched)."""
    differing = request_differences(stored, asked)
    if not differing:
        return None
    detail = "; ".join(f"{name}: {stored[name]} then, {asked[name]} now" for name in differing)
    return Violation(
        f"{command}.key_conflict",
        f"key {key!r} was already used for {target} with a different request "
        f"(differs in {', '.join(differing)}: {detail}); nothing was written",
        f"幂等键 {key!r} 已用于 {target}，本次请求不同（{', '.join(differing)}）；未写入任何内容",
    )


def key_used_elsewhere(key: str, used_for: str | None, command: str) -> Violation | None:
    """A key names one request of one command: a key that a different command used is
    refused (`used_for` says what it made, None: unused or used by this command)."""
    if used_for is None:
        return None
    return Violation(
        f"{command}.key_conflict",
        f"key {key!r} was already used for {used_for}, a different command; nothing was written",
        f"幂等键 {key!r} 已用于 {used_for}（另一类操作）；未写入任何内容",
    )


def key_unused(used: Container[str], key: str) -> Violation | None:
    """The fold's side: one key, one request (the first event of each keyed command)."""
    if key not in used:
        return None
    return Violation(
        "idempotency.key_reused",
        f"idempotency key {key!r} was used before by another event",
        f"幂等键 {key!r} 已被使用",
    )


def retry_conflict(
    command: str,
    key: str,
    first_kind: str,
    expected_kind: str,
    target: str,
    stored: Mapping[str, object],
    asked: Mapping[str, object],
) -> Violation | None:
    """A retry of `command` under `key`: the key's first event must be this command's kind
    (`expected_kind`), and the request must repeat it in every field it states."""
    if first_kind != expected_kind:
        return key_used_elsewhere(key, target, command)
    return same_request(key, target, stored, asked, command)
