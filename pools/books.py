"""Commands of the office's books beyond loans (issue 11): quota-use plans (SPEC 2.7) and
rectification problems (SPEC 2.8), and the monthly comparison (月比对) that `ledger sync` runs.

As `pools.commands`: each command checks its rules (`pools.rules.useplans`,
`pools.rules.problems`) and refuses before it emits anything; events go through the `Batch`,
which applies each to the state at once (the fold checks the same rules again). No database,
no clock.

- `lapse_due` runs at the start of every write (`Batch.check_date`): a plan whose validity
  end the write's effective date has passed lapses its unused part first.
- `post_hires` posts a unit's headcount rise against its open plans, oldest first; what no
  plan covers is a hire without a plan (无计划进人): flagged, never refused.
- `monthly_comparison` opens the automatic problems (newly over quota, hires without a plan,
  loans that became overdue) and closes the automatic ones whose cause has gone.
- `blocks_or_warns`: an open problem refuses a new loan or plan for its unit, or, with the
  setting `problems_block = False`, lets it through with a warning (`Batch.notes`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from pools.commands import Batch
from pools.events import (
    ProblemClosed,
    ProblemOpened,
    UnitUpdated,
    UsePlanApproved,
    UsePlanLapsed,
    UsePlanPosted,
    UsePlanWithdrawn,
)
from pools.rules.idempotency import key_used_elsewhere, same_request
from pools.rules.monitoring import Alert
from pools.rules.problems import (
    CAUSE_KIND,
    Cause,
    ProblemState,
    ProblemStatus,
    cause_key,
    cause_of,
    deadline_not_before,
    problem_closable,
    problem_kind_known,
    problem_open_blocks,
    problem_unit_known,
)
from pools.rules.settings import Settings
from pools.rules.useplans import (
    Channel,
    PlanState,
    PlanStatus,
    default_validity_end,
    free_vacancies,
    hire_within_vacancies,
    oldest_open_plan,
    plan_count_valid,
    plan_lapses_on,
    plan_open,
    plan_purpose_given,
    plan_unit_known,
    plan_validity_after_approval,
    plan_within_free_vacancies,
    withdrawal_reason_given,
)
from pools.rules.violations import Violation, first, refuse
from pools.state import State
from pools.vocabulary import LoanStatus, add_days, day_text

# ---- problems block new quota ---------------------------------------------------------------


def blocks_or_warns(batch: Batch, unit_id: str) -> None:
    """An open problem of `unit_id` refuses the write, or (setting `problems_block = False`)
    is noted as a warning the result carries."""
    found = problem_open_blocks(batch.state, unit_id)
    if found is None:
        return
    if batch.state.settings.problems_block:
        refuse(found)
    batch.notes.setdefault("warnings", []).append(found.as_dict())


# ---- quota-use plans ------------------------------------------------------------------------


def lapse_due(batch: Batch) -> list[dict[str, Any]]:
    """Every open plan whose validity end the write's date has passed lapses its unused part."""
    state, day = batch.state, batch.effective
    due = [
        plan
        for plan_ids in state.open_plans_by_unit.values()
        for plan in (state.plans[plan_id] for plan_id in plan_ids)
        if plan_lapses_on(plan.until, day)
    ]
    lapsed = []
    for plan in sorted(due, key=lambda plan: plan.approved_seq):
        count = plan.remaining
        batch.emit(UsePlanLapsed(plan.plan_id, plan.unit_id, count))
        lapsed.append({"plan_id": plan.plan_id, "unit_id": plan.unit_id, "count": count})
    if lapsed:
        batch.notes.setdefault("lapsed", []).extend(lapsed)
    return lapsed


def approve_plan(
    batch: Batch,
    *,
    unit_id: str,
    count: int,
    channel: Channel | Violation,
    purpose: str,
    until: date | None = None,
    idem_key: str | None = None,
    effective_stated: bool = True,
) -> tuple[PlanState, bool]:
    """Approve a quota-use plan, or answer with the plan an earlier call with the same key
    approved (replayed = True). A differing retry is refused naming the fields."""
    state = batch.state
    purpose = purpose.strip()
    if idem_key is not None:
        refuse(key_used_elsewhere(idem_key, _loan_of_key(state, idem_key), "useplan"))
    if idem_key is not None and idem_key in state.plan_keys:
        plan = state.plans[state.plan_keys[idem_key]]
        stored = {
            "unit": plan.unit_id, "count": plan.count, "channel": str(plan.channel),
            "purpose": plan.purpose, "until": plan.until, "effective": plan.approved_on,
            "document": plan.document, "reason": plan.reason,
        }  # fmt: skip
        asked = {
            "unit": unit_id, "count": count,
            "channel": str(channel) if isinstance(channel, Channel) else channel.rule,
            "purpose": purpose,
            "until": until if until is not None else default_validity_end(plan.approved_on),
            "effective": batch.effective if effective_stated else None,
            "document": batch.document, "reason": batch.reason,
        }  # fmt: skip
        refuse(same_request(idem_key, f"quota-use plan {plan.plan_id}", stored, asked, "useplan"))
        return plan, True
    batch.check_date()
    until = until if until is not None else default_validity_end(batch.effective)
    if isinstance(channel, Violation):
        refuse(channel)
    refuse(
        first(
            plan_count_valid(count),
            plan_unit_known(state, unit_id),
            plan_purpose_given(purpose),
            plan_validity_after_approval(batch.effective, until),
        )
    )
    blocks_or_warns(batch, unit_id)
    refuse(plan_within_free_vacancies(state, unit_id, count))
    assert isinstance(channel, Channel)
    plan_id = f"UP{state.seq + 1:06d}"
    batch.emit(
        UsePlanApproved(plan_id, unit_id, count, channel.value, purpose, until.isoformat()),
        idem_key=idem_key,
    )
    return state.plans[plan_id], False


def withdraw_plan(batch: Batch, plan_id: str) -> PlanState:
    """Withdraw (撤销) a plan: its unused part is no longer reserved. Needs a reason."""
    batch.check_date()
    state = batch.state
    refuse(first(plan_open(state, plan_id), withdrawal_reason_given(batch.reason)))
    plan = state.plans[plan_id]
    batch.emit(UsePlanWithdrawn(plan_id, plan.unit_id, plan.remaining))
    return plan


def post_hires(batch: Batch, unit_id: str, rise: int) -> int:
    """Post a headcount rise of `unit_id` against its open plans, oldest first; returns the
    part no plan covered (hires without a plan, 无计划进人)."""
    state = batch.state
    posted = []
    while rise > 0 and (plan := oldest_open_plan(state, unit_id)) is not None:
        count = min(rise, plan.remaining)
        batch.emit(UsePlanPosted(plan.plan_id, unit_id, count))
        posted.append({"plan_id": plan.plan_id, "unit_id": unit_id, "count": count})
        rise -= count
    if posted:
        batch.notes.setdefault("posted", []).extend(posted)
    if rise > 0:
        batch.notes.setdefault("unplanned", []).append({"unit_id": unit_id, "count": rise})
    return rise


def record_hire(batch: Batch, unit_id: str, count: int) -> dict[str, Any]:
    """A hire recorded by hand (SPEC 2.7): the unit's headcount on own quota rises by `count`,
    posted against its open plans oldest first; what no plan covers is a hire without a plan
    (无计划进人), flagged with an alert and an automatic problem, not refused."""
    batch.check_date()
    state = batch.state
    refuse(plan_unit_known(state, unit_id))
    refuse(hire_within_vacancies(state, unit_id, count))
    headcount = state.units[unit_id].headcount
    batch.emit(UnitUpdated(unit_id, {"headcount": [headcount, headcount + count]}))
    unplanned = post_hires(batch, unit_id, count)
    opened = _open_automatic(batch, _unplanned_causes(state, {unit_id: unplanned}))
    batch.notes["problems_opened"] = [
        problem_json(state.problems[p], batch.effective) for p in opened
    ]
    alerts = unplanned_alerts({unit_id: unplanned} if unplanned else {})
    from pools.results import alert_json

    return {"unit_id": unit_id, "hired": count, "alerts": [alert_json(a) for a in alerts]}


def unplanned_alerts(unplanned: dict[str, int]) -> list[Alert]:
    """The alerts of a sync's hires without a plan (无计划进人): the control, not a refusal."""
    return [
        Alert(
            "unplanned_hire",
            f"{unit_id}: {count} hired without an open quota-use plan (无计划进人)",
            unit_id=unit_id,
        )
        for unit_id, count in unplanned.items()
    ]


def withdraw_for_removed(batch: Batch, unit_id: str) -> None:
    """A unit leaving the ledger takes its open problems and open plans with it, before it is
    removed: nothing is left to rectify or to block, and nothing stays reserved, for a unit
    that is gone. The problems are closed (`close_for_removed`), the plans withdrawn with the
    sync's reason."""
    close_for_removed(batch, unit_id)
    state = batch.state
    for plan_id in list(state.open_plans_by_unit.get(unit_id, ())):
        batch.emit(UsePlanWithdrawn(plan_id, unit_id, state.plans[plan_id].remaining))


def _loan_of_key(state: State, key: str) -> str | None:
    """What another command's request under `key` made (None: unused, or a plan's key)."""
    first = state.keyed.get(key)
    if first is None or key in state.plan_keys:
        return None
    from pools.commands import _keyed_target

    return _keyed_target(first)


# ---- problems -----------------------------------------------------------------------------


def open_problem(batch: Batch, *, unit_id: str, kind: str, deadline: date) -> ProblemState:
    """Record a problem against a unit by hand (a 文号 and a deadline)."""
    batch.check_date()
    state = batch.state
    refuse(
        first(
            problem_unit_known(state, unit_id),
            problem_kind_known(state.settings, kind.strip()),
            deadline_not_before(batch.effective, deadline),
        )
    )
    problem_id = f"PB{state.seq + 1:06d}"
    batch.emit(ProblemOpened(problem_id, unit_id, kind.strip(), deadline.isoformat(), ""))
    return state.problems[problem_id]


def close_problem(batch: Batch, problem_id: str) -> ProblemState:
    """Close (销号) a problem by hand, with a reason."""
    batch.check_date()
    state = batch.state
    refuse(problem_closable(state, problem_id, batch.reason))
    problem = state.problems[problem_id]
    batch.emit(ProblemClosed(problem_id, problem.unit_id, False))
    return problem


def close_for_removed(batch: Batch, unit_id: str) -> None:
    """Close every open problem of a unit the snapshot no longer holds, by hand or automatic,
    with a reason saying the unit left the ledger (a close states its reason; the sync's own
    follows it). Listed with the sync's closes (`problems_closed`)."""
    state = batch.state
    open_ids = list(state.open_problems_by_unit.get(unit_id, ()))
    if not open_ids:
        return
    left = (
        f"unit {unit_id} left the ledger with the snapshot of {batch.effective} "
        f"(单位 {unit_id} 随 {batch.effective} 快照移出台账)"
    )
    reason = f"{left}; {batch.reason}" if batch.reason.strip() else left
    for problem_id in open_ids:
        automatic = state.problems[problem_id].automatic
        batch.emit(ProblemClosed(problem_id, unit_id, automatic), reason=reason)
    batch.notes.setdefault("problems_closed", []).extend(open_ids)


def auto_kind(settings: Settings, cause: Cause) -> str:
    """The kind of an automatic problem: the SPEC's, else 其他, else the last listed kind."""
    kind = CAUSE_KIND[cause]
    if kind in settings.problem_kinds:
        return kind
    return "其他" if "其他" in settings.problem_kinds else settings.problem_kinds[-1]


def monthly_comparison(
    batch: Batch, unplanned: dict[str, int], over_before: set[str] | frozenset[str] = frozenset()
) -> None:
    """月比对 (every sync): close the automatic problems whose cause has gone, then open one
    per unit newly over quota (over quota now, not before the snapshot: `over_before`), per
    unit with hires without a plan (`unplanned`), per overdue loan without an open one. A
    unit already over quota before is flagged by the alerts; the office records it by hand."""
    state, day = batch.state, batch.effective
    closed = []
    for cause, problem_id in list(state.problem_by_cause.items()):
        if not _cause_present(state, cause, day):
            problem = state.problems[problem_id]
            batch.emit(ProblemClosed(problem_id, problem.unit_id, True))
            closed.append(problem_id)
    found: list[tuple[str, Cause, str]] = []  # (unit, cause, its key)
    for unit in state.units.values():
        if unit.over_quota and unit.unit_id not in over_before:
            found.append(
                (unit.unit_id, Cause.OVER_QUOTA, cause_key(Cause.OVER_QUOTA, unit.unit_id))
            )
    found.extend(_unplanned_causes(state, unplanned))
    for loan in state.loans.values():
        overdue = loan.status is not LoanStatus.CLOSED and loan.status_on(day) is LoanStatus.EXPIRED
        if overdue and loan.borrower in state.units:
            key = cause_key(Cause.LOAN_OVERDUE, loan.loan_id)
            found.append((loan.borrower, Cause.LOAN_OVERDUE, key))
    opened = _open_automatic(batch, found)
    batch.notes["problems_opened"] = [problem_json(state.problems[pid], day) for pid in opened]
    batch.notes["problems_closed"] = [*batch.notes.get("problems_closed", ()), *closed]


def _unplanned_causes(state: State, unplanned: dict[str, int]) -> list[tuple[str, Cause, str]]:
    """A problem cause per unit with hires without a plan (each write's are a new fact)."""
    return [
        (unit_id, Cause.UNPLANNED_HIRE, cause_key(Cause.UNPLANNED_HIRE, f"{unit_id}@{state.seq}"))
        for unit_id, count in unplanned.items()
        if count > 0
    ]


def _open_automatic(batch: Batch, found: list[tuple[str, Cause, str]]) -> list[str]:
    """Open an automatic problem per (unit, cause, key) not already open; their ids."""
    state = batch.state
    deadline = add_days(batch.effective, state.settings.problem_deadline_days)
    opened = []
    for unit_id, cause, key in found:
        if key in state.problem_by_cause:
            continue
        problem_id = f"PB{state.seq + 1:06d}"
        kind = auto_kind(state.settings, cause)
        batch.emit(ProblemOpened(problem_id, unit_id, kind, deadline.isoformat(), key))
        opened.append(problem_id)
    return opened


def _cause_present(state: State, key: str, day: date) -> bool:
    cause = cause_of(key)
    subject = key.split(":", 1)[1]
    if cause is Cause.OVER_QUOTA:
        unit = state.units.get(subject)
        return unit is not None and unit.over_quota
    if cause is Cause.LOAN_OVERDUE:
        loan = state.loans.get(subject)
        return loan is not None and loan.status_on(day) is LoanStatus.EXPIRED
    return True  # a hire without a plan happened: closed by hand


# ---- views ----------------------------------------------------------------------------------


def plan_json(plan: PlanState) -> dict[str, Any]:
    return {
        "plan_id": plan.plan_id,
        "unit_id": plan.unit_id,
        "count": plan.count,
        "channel": plan.channel.value,
        "purpose": plan.purpose,
        "approved_on": plan.approved_on.isoformat(),
        "until": plan.until.isoformat(),
        "document": plan.document,
        "actor": plan.actor,
        "used": plan.used,
        "lapsed": plan.lapsed,
        "withdrawn": plan.withdrawn,
        "reserved": plan.remaining if plan.status is PlanStatus.OPEN else 0,
        "status": plan.status.value,
    }


FIGURES = ("approved", "used", "lapsed", "withdrawn", "reserved")


def _add(row: dict[str, int], plan: PlanState) -> None:
    row["approved"] += plan.count
    row["used"] += plan.used
    row["lapsed"] += plan.lapsed
    row["withdrawn"] += plan.withdrawn
    row["reserved"] += plan.remaining if plan.status is PlanStatus.OPEN else 0


def useplans_status(
    state: State, unit_id: str | None = None, year: int | None = None
) -> dict[str, Any]:
    """approved / used / lapsed / withdrawn / still reserved (未使用计划数) per unit, per channel,
    per year and for the city; the plans themselves; each unit's free vacancies."""
    plans = [
        plan
        for plan in state.plans.values()
        if (unit_id is None or plan.unit_id == unit_id)
        and (year is None or plan.approved_on.year == year)
    ]

    def table(key_of: Any) -> list[dict[str, Any]]:
        rows: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
        for plan in plans:
            _add(rows[key_of(plan)], plan)
        return [{"key": key, **figures} for key, figures in sorted(rows.items())]

    city = dict.fromkeys(FIGURES, 0)
    for plan in plans:
        _add(city, plan)
    by_unit = [{"unit_id": row.pop("key"), **row} for row in table(lambda plan: plan.unit_id)]
    for row in by_unit:
        if row["unit_id"] in state.units:
            row["vacancies"] = state.units[row["unit_id"]].vacancies
            row["free_vacancies"] = free_vacancies(state, row["unit_id"])
    return {
        "plans": [plan_json(plan) for plan in plans],
        "by_unit": by_unit,
        "by_channel": [{"channel": r.pop("key"), **r} for r in table(lambda p: p.channel.value)],
        "by_year": [{"year": r.pop("key"), **r} for r in table(lambda p: p.approved_on.year)],
        "city": city,
    }


def problem_json(problem: ProblemState, day: date) -> dict[str, Any]:
    cause = cause_of(problem.cause) if problem.cause else None
    return {
        "problem_id": problem.problem_id,
        "unit_id": problem.unit_id,
        "kind": problem.kind,
        "document": problem.document,
        "deadline": problem.deadline.isoformat(),
        "opened_on": problem.opened_on.isoformat(),
        "opened_by": problem.actor,
        "reason": problem.reason,
        "automatic": problem.automatic,
        "cause": None if cause is None else cause.value,
        "status": problem.status.value,
        "closed_on": day_text(problem.closed_on),
        "close_reason": problem.close_reason,
        "age_days": problem.age_days(problem.closed_on or day),
        "overdue": problem.status is ProblemStatus.OPEN and problem.deadline < day,
    }


def problems_list(
    state: State, day: date, unit_id: str | None = None, only_open: bool = False
) -> list[dict[str, Any]]:
    return [
        problem_json(problem, day)
        for problem in state.problems.values()
        if (unit_id is None or problem.unit_id == unit_id)
        and (not only_open or problem.status is ProblemStatus.OPEN)
    ]


def problems_status(state: State, day: date) -> dict[str, Any]:
    """The `problems` section of `ledger status`: open problems and counts per unit and kind."""
    open_items = problems_list(state, day, only_open=True)
    by_kind: dict[str, int] = defaultdict(int)
    for item in open_items:
        by_kind[item["kind"]] += 1
    return {
        "open": len(open_items),
        "closed": len(state.problems) - len(open_items),
        "by_kind": dict(sorted(by_kind.items())),
        "blocking": state.settings.problems_block,
        "items": open_items,
    }


def quarterly_report(state: State, end: date) -> list[dict[str, Any]]:
    """季通报: the problems open on `end` (the quarter's end, or the ledger's day while the
    quarter runs: opened by then, not closed by then), by unit and kind, with their age in
    days on that day."""
    rows = []
    for problem in state.problems.values():
        if problem.opened_on > end:
            continue
        if problem.closed_on is not None and problem.closed_on <= end:
            continue
        unit = state.units.get(problem.unit_id)
        rows.append(
            {
                "unit_id": problem.unit_id,
                "unit_name": unit.name if unit is not None else "",
                "kind": problem.kind,
                "problem_id": problem.problem_id,
                "document": problem.document,
                "opened_on": problem.opened_on.isoformat(),
                "deadline": problem.deadline.isoformat(),
                "age_days": (end - problem.opened_on).days,
                "past_deadline": problem.deadline < end,
                "automatic": problem.automatic,
            }
        )
    rows.sort(key=lambda row: (row["unit_id"], row["kind"], row["opened_on"]))
    return rows


def units_with_open_problems(state: State) -> Iterable[str]:
    return [unit_id for unit_id, ids in state.open_problems_by_unit.items() if ids]
