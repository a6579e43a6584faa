"""SPEC 2.9: teacher plans executed in the ledger, one function per rule.

The ledger holds each county's teacher quota (教职工编制) as an account. A plan (SPEC 2.5) is
applied as one group of events: quota released by counties into the city's teacher pool,
allocated from it to counties. The rules:

- `plan_optimal`: only a plan whose status is ``optimal`` is applied;
- `plan_not_applied`: the same plan (and year, for a multi-year plan) is applied once;
- `plan_not_stale`: the plan's ``current`` quotas are the ledger's quotas, county by county
  (a plan computed from figures that no longer hold is refused, naming them);
- `total_changes_by_extra`: the city's teacher total changes only by the plan's declared
  ``extra_quota`` (the plan's own figures, and the fold at the end of every group);
- `same_request` (in `pools.rules.idempotency`, code `teacher.key_conflict`): a keyed retry
  repeats its request.

Each returns a `Violation` or None; the command refuses with it, the fold (`pools.state`)
breaks on it, `audit verify` reports it.
"""

from __future__ import annotations

from collections.abc import Mapping

from pools.rules.violations import Violation

MAX_LISTED = 10  # counties named in a stale-plan message before "and N more"


def plan_optimal(status: object) -> Violation | None:
    """Only an optimal plan is applied (an infeasible or failed one has no quotas to apply)."""
    if status == "optimal":
        return None
    return Violation(
        "teacher.plan_not_optimal",
        f"the plan's status is {status!r}, not 'optimal': only an optimal plan is applied",
        f"方案求解状态为 {status!r}，不是最优（optimal），不能应用到台账",
    )


def plan_not_applied(applied: Mapping[str, object], application_id: str) -> Violation | None:
    """The same plan (and year) cannot be applied twice. `applied` maps application ids
    (`application_id`) to where each was applied (its text says where)."""
    where = applied.get(application_id)
    if where is None:
        return None
    return Violation(
        "teacher.plan_already_applied",
        f"plan {application_id} was already applied ({where}); nothing was written",
        f"方案 {application_id} 已经应用过（{where}），未写入任何内容",
    )


def application_id(plan_id: str, year: int | None) -> str:
    """What names one application: the plan, and the year of a multi-year plan."""
    return plan_id if year is None else f"{plan_id}/{year}"


def plan_not_stale(ledger: Mapping[str, int], plan: Mapping[str, int]) -> Violation | None:
    """The plan's ``current`` quota of every county is the ledger's quota, and the plan and
    the ledger list the same counties. An empty ledger (no teacher accounts yet) takes the
    plan's counties: nothing to compare."""
    if not ledger:
        return None
    differing = [
        (county, ledger.get(county), plan.get(county))
        for county in [*ledger, *(c for c in plan if c not in ledger)]
        if ledger.get(county) != plan.get(county)
    ]
    if not differing:
        return None
    listed = differing[:MAX_LISTED]
    more = len(differing) - len(listed)
    en = "; ".join(
        f"{county}: ledger {_figure(held, 'absent')}, plan {_figure(planned, 'absent')}"
        for county, held, planned in listed
    ) + (f"; and {more} more" if more else "")
    zh = "；".join(
        f"{county}：台账 {_figure(held, '无')}，方案 {_figure(planned, '无')}"
        for county, held, planned in listed
    ) + (f"；另有 {more} 个" if more else "")
    return Violation(
        "teacher.stale_plan",
        f"the plan was computed from quotas that are not the ledger's ({len(differing)} "
        f"counties differ: {en}); recompute the plan from the ledger's quotas",
        f"方案依据的现有编制与台账不符（{len(differing)} 个区县：{zh}），请按台账现有编制重新测算",
    )


def total_changes_by_extra(before: int, after: int, extra_quota: int) -> Violation | None:
    """The city's teacher total after a plan is the total before plus its extra_quota."""
    if after == before + extra_quota:
        return None
    return Violation(
        "teacher.total_changed",
        f"the city's teacher total would go from {before} to {after}, a change of "
        f"{after - before:+d}, but the plan declares extra_quota {extra_quota}",
        f"全市教职工编制总数将由 {before} 变为 {after}（{after - before:+d}），"
        f"与方案声明的新增编制 {extra_quota} 不符",
    )


def quota_valid(county: str, quota: int) -> Violation | None:
    """A county's teacher quota is a whole number ≥ 0."""
    if isinstance(quota, int) and not isinstance(quota, bool) and quota >= 0:
        return None
    return Violation(
        "teacher.quota",
        f"county {county}: a teacher quota must be a whole number ≥ 0, got {quota!r}",
        f"区县 {county}：教职工编制须为不小于 0 的整数，实为 {quota!r}",
    )


def group_complete(open_plan: str | None) -> Violation | None:
    """Every plan group that the ledger starts it also completes (one transaction writes the
    whole group: a group left open is a truncated or altered ledger)."""
    if open_plan is None:
        return None
    return Violation(
        "teacher.group_incomplete",
        f"the application of plan {open_plan} was started but never completed",
        f"方案 {open_plan} 的应用已开始但未完成",
    )


def _figure(value: int | None, absent: str) -> str:
    return absent if value is None else str(value)


def document_named(document: str) -> Violation | None:
    """A teacher plan is applied under a document number (文号): the approval it carries out."""
    if document.strip():
        return None
    return Violation(
        "teacher.document_required",
        "--doc is empty: a teacher plan is applied under its document number (文号)",
        "应用教师编制方案须填写文号",
    )
