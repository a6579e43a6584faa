"""Read-only views of the ledger for people: loan status words, quotas due back, city totals,
event filters and the preview of a manual return.

Plain functions over what `pools.ledger.Ledger` returns (status dicts, loan dicts, event
frames, folded states), so that the app shows figures without computing rules of its own.
Nothing here writes to a ledger.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from pools import commands
from pools.commands import Batch
from pools.results import returned_json
from pools.state import State

LOAN_DISPLAY_STATUSES = ("in_use", "expiring", "overdue", "returned", "reversed")


def loan_display_status(loan: dict[str, Any], expiring: set[str]) -> str:
    """The ledger's loan status in the planner's words; "expiring" comes from the alerts."""
    if loan["status"] == "closed":
        return "reversed" if loan.get("reversed_by") else "returned"
    if loan["status"] == "expired":
        return "overdue"
    return "expiring" if loan["loan_id"] in expiring else "in_use"


def expiring_loans(status: dict[str, Any]) -> set[str]:
    """Loans that the status's alerts say are about to expire."""
    return {a["loan_id"] for a in status["alerts"] if a["kind"] == "loan_expiring"}


def recovering_in_year(loans: list[dict[str, Any]], year: int) -> dict[str, int]:
    """Outstanding quotas per pool of open loans whose term ends by the end of `year`.

    Administrative loans without a term come back only by 空一还一 and are not counted.
    Unit-to-unit loans are counted together under "unit".
    """
    due: dict[str, int] = {}
    for loan in loans:
        if loan["status"] != "closed" and loan["end"] and int(loan["end"][:4]) <= year:
            pool = "unit" if loan["pool"].startswith("unit:") else loan["pool"]
            due[pool] = due.get(pool, 0) + int(loan["outstanding"])
    return due


def city_totals(status: dict[str, Any]) -> dict[str, int]:
    """The ledger's city totals (special account apart) plus the figures per unit summed up:
    own vacancies, units over quota and quotas lent unit to unit."""
    units = status["units"]
    return {
        **status["totals"],
        "vacancies": sum(int(u["vacancies"]) for u in units),
        "over_quota_units": sum(1 for u in units if u["over_quota"]),
        "unit_loans_lent": sum(int(u["lent"]) for u in units),
    }


def filter_events(
    events: pd.DataFrame, actor: str | None, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """Events by actor and by effective date (inclusive): what took effect in a period, as a
    planner asks, not when it was typed in. Unit and loan filters are the ledger's."""
    if events.empty:
        return events
    keep = pd.Series(True, index=events.index)
    if actor:
        keep &= events["actor"] == actor
    day = events["effective"].astype(str).str.slice(0, 10)
    if start is not None:
        keep &= day >= start.isoformat()
    if end is not None:
        keep &= day <= end.isoformat()
    return events.loc[keep]


# --- what a manual return would do --------------------------------------------------------


@dataclass(frozen=True)
class OverQuota:
    """A unit that a write leaves over quota: people on own quota / own quota."""

    unit_id: str
    name: str
    headcount: int
    own_limit: int


@dataclass(frozen=True)
class ReturnPreview:
    """The consequence of returning `count` quotas of `loan_id`, computed by the ledger's own
    command on a copy of the state: the returns it makes (the manual one, then any 空一还一
    that the lender's freed quota triggers) and the units it leaves over quota."""

    loan_id: str
    borrower: str
    count: int
    returns: list[dict[str, Any]]
    over_quota: list[OverQuota]


def preview_return(
    state: State, loan_id: str, count: int | None, effective: date, actor: str
) -> ReturnPreview:
    """What `Ledger.return_loan` would do, without writing. Raises RuleViolation exactly as the
    write would. `state` is not changed (the command runs on a deep copy)."""
    scratch = copy.deepcopy(state)
    batch = Batch(
        scratch,
        b"preview",
        datetime.now(UTC).isoformat(timespec="microseconds"),
        effective,
        actor.strip(),
    )
    returns = [returned_json(item) for item in commands.return_loan(batch, loan_id, count).returns]
    touched = {r["unit_id"] for r in returns} | {state.loans[loan_id].borrower}
    lender = state.loans[loan_id].lender
    if lender is not None:
        touched.add(lender)
    over = []
    for unit_id in sorted(touched):
        after, before = scratch.units[unit_id], state.units[unit_id]
        excess_before = before.headcount - before.own_limit
        if after.over_quota and after.headcount - after.own_limit > excess_before:
            over.append(OverQuota(unit_id, after.name, after.headcount, after.own_limit))
    manual = returns[0]
    return ReturnPreview(loan_id, manual["unit_id"], int(manual["count"]), returns, over)


# --- what a headcount snapshot did ----------------------------------------------------------

SNAPSHOT_CHANGE_KINDS = ("registered", "updated", "removed")
POOLS = ("admin", "institutional")


@dataclass(frozen=True)
class SnapshotReport:
    """`Ledger.sync`'s result as `quotapool ledger sync` reports it: units changed per kind
    (new units are "registered"), each pool's capacity before and after, 空一还一 returns
    counted per loan, loans that expired, the alerts that the snapshot raised, and what it
    did with the quota book (SPEC 2.7/2.8): hires posted to plans, hires without a plan,
    plans lapsed, problems the monthly comparison opened and closed."""

    changes: dict[str, int]
    registered: list[str]
    events: int
    capacity: dict[str, dict[str, Any]]
    returns: list[dict[str, Any]]
    expired: list[str]
    new_alerts: list[dict[str, Any]]
    posted: list[dict[str, Any]] = field(default_factory=list)
    unplanned: list[dict[str, Any]] = field(default_factory=list)
    lapsed: list[dict[str, Any]] = field(default_factory=list)
    problems_opened: list[dict[str, Any]] = field(default_factory=list)
    problems_closed: list[str] = field(default_factory=list)


def alert_key(alert: dict[str, Any]) -> tuple[Any, ...]:
    """What an alert is about, so that the same alert before and after a write is one."""
    return (alert["kind"], alert.get("unit_id"), alert.get("loan_id"), alert.get("pool"))


def returns_per_loan(returns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per loan of the one-quota returns of a write: loan, unit, pool and count."""
    rows: dict[str, dict[str, Any]] = {}
    for item in returns:
        row = rows.setdefault(item["loan_id"], {**item, "count": 0})
        row["count"] += 1
    return list(rows.values())


def snapshot_report(result: dict[str, Any], alerts_before: list[dict[str, Any]]) -> SnapshotReport:
    """What a snapshot did, from `Ledger.sync`'s result and the alerts shown before it."""
    kinds = [change["change"] for change in result["changes"]]
    counts = {kind: kinds.count(kind) for kind in dict.fromkeys((*SNAPSHOT_CHANGE_KINDS, *kinds))}
    before = result["pools_before"]
    capacity = {
        pool: {**result["pools"][pool], "capacity_before": before[pool]["capacity"]}
        for pool in POOLS
        if pool in result["pools"]
    }
    seen = {alert_key(alert) for alert in alerts_before}
    return SnapshotReport(
        changes=counts,
        registered=[c["unit_id"] for c in result["changes"] if c["change"] == "registered"],
        events=int(result["events"]),
        capacity=capacity,
        returns=returns_per_loan(result["returns"]),
        expired=list(result["expired"]),
        new_alerts=[a for a in result["alerts"] if alert_key(a) not in seen],
        posted=list(result.get("posted", [])),
        unplanned=list(result.get("unplanned", [])),
        lapsed=list(result.get("lapsed", [])),
        problems_opened=list(result.get("problems_opened", [])),
        problems_closed=list(result.get("problems_closed", [])),
    )
