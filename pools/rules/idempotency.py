"""Idempotency keys (SPEC 3.3: the same key twice opens one loan).

A key names one request. Its retry gets the original answer whatever happened since (even
after the ledger moved to a later date); a request under a used key that differs in any field
is refused naming each field that differs (as TigerBeetle's ``exists_with_different_*``).
Keys are trimmed where they come in; an empty key is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

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
