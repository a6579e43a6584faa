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
    key: str, loan_id: str, stored: Mapping[str, object], asked: Mapping[str, object]
) -> Violation | None:
    """A request under a used key repeats the first one in every field it states."""
    differing = request_differences(stored, asked)
    if not differing:
        return None
    detail = "; ".join(f"{name}: {stored[name]} then, {asked[name]} now" for name in differing)
    return Violation(
        "loan.key_conflict",
        f"key {key!r} already opened loan {loan_id} with a different request "
        f"(differs in {', '.join(differing)}: {detail}); nothing was written",
        f"幂等键 {key!r} 已用于另一笔借用（{loan_id}），请求不同（{', '.join(differing)}）",
    )


# ---- teacher plan applications (SPEC 2.9) ------------------------------------------------


def same_plan_application(
    key: str, applied: str, stored: Mapping[str, object], asked: Mapping[str, object]
) -> Violation | None:
    """A plan application under a used key repeats the first one in every field it states
    (plan, year, document, reason, effective date)."""
    differing = request_differences(stored, asked)
    if not differing:
        return None
    detail = "; ".join(f"{name}: {stored[name]} then, {asked[name]} now" for name in differing)
    return Violation(
        "teacher.key_conflict",
        f"key {key!r} already applied plan {applied} with a different request "
        f"(differs in {', '.join(differing)}: {detail}); nothing was written",
        f"幂等键 {key!r} 已用于应用方案 {applied}，请求不同（{', '.join(differing)}）",
    )
