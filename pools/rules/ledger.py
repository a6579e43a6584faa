"""The ledger's own rules (SPEC 4: every event attributable; state at a date is a prefix):
every write names its actor, and effective dates never go backwards."""

from __future__ import annotations

from datetime import date

from pools.rules.violations import Violation


def actor_named(actor: str) -> Violation | None:
    """Every write names its actor (操作人)."""
    if actor.strip():
        return None
    return Violation("ledger.actor", "every write names its actor", "每次操作须注明操作人")


def not_backdated(last: date | None, effective: date) -> Violation | None:
    """A write takes effect on or after the ledger's last event: the ledger never goes back."""
    if last is None or effective >= last:
        return None
    return Violation(
        "ledger.backdated",
        f"effective date {effective} is before the ledger's last event ({last}); "
        "the ledger never goes back in time",
        f"生效日期 {effective} 早于台账最后一笔（{last}），不能倒签",
    )
