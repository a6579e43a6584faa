"""SPEC 2.7 — quota-use plans (用编计划).

Before a unit recruits, the office approves a plan: unit, number of quotas, hiring channel
(用编形式), purpose, document number (文号) and a validity end (default: 31 December of the
approval year). An approved plan **reserves** that many own vacancies:

    free vacancies = own vacancies − reserved (never below 0),

where reserved is the part of the unit's open plans not yet used. A plan may not reserve more
than the unit's free vacancies (`useplan.free_vacancies`). A headcount rise found by `ledger
sync` posts against the unit's open plans, oldest first (`oldest_open_plan`); the unused part
lapses on the first write whose effective date is after the validity end (`plan_lapses_on`);
a plan can be withdrawn (撤销) with a reason. A rise with no open plan to post against is
flagged (无计划进人), never refused: the snapshot is the fact, the alert is the control.

Decisions (documented in the README too):

- **空一还一 comes first.** A reservation never holds an own vacancy back from a vacancy
  return: a pool or unit loan is repaid as soon as its borrower has an own vacancy (SPEC 2.2
  says "as soon as"), before anything else is promised. Since 空一还一 settles every write,
  a unit that still owes quota has no own vacancy at rest, hence no free vacancy, and a plan
  for it is refused until it has repaid. A borrower is one with no own vacancy
  (`loan.borrower_has_vacancy`), so a unit holding a reservation (it has vacancies) cannot
  borrow either.
- **A lender cannot lend reserved vacancies.** Lending quota to another unit
  (`unit.lender_no_spare`) counts only free vacancies: what is promised to a plan is not
  spare. The administrative pool's capacity (20 % of the organs' own vacancies) is not
  reduced by reservations: it is a special account apart from the units' own quota.
- When a snapshot takes vacancies away (an approved quota cut), reservations may exceed the
  own vacancies: nothing is recalled (as a pool whose capacity falls below what it lent); the
  unit has no free vacancy, so no new plan, and the status shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from pools.rules.violations import Violation

if TYPE_CHECKING:
    from pools.state import State


class Channel(StrEnum):
    """Hiring channel of a quota-use plan (用编形式)."""

    OPEN_RECRUITMENT = "公开招聘"
    SELECTION = "选调"
    MILITARY_TRANSFER = "军转安置"
    TALENT = "人才引进"
    OTHER = "其他"


CHANNEL_ALIASES: dict[str, Channel] = {
    **{channel.value: channel for channel in Channel},
    "open_recruitment": Channel.OPEN_RECRUITMENT,
    "open-recruitment": Channel.OPEN_RECRUITMENT,
    "recruitment": Channel.OPEN_RECRUITMENT,
    "selection": Channel.SELECTION,
    "transfer": Channel.SELECTION,
    "military": Channel.MILITARY_TRANSFER,
    "military_transfer": Channel.MILITARY_TRANSFER,
    "military-transfer": Channel.MILITARY_TRANSFER,
    "talent": Channel.TALENT,
    "talent_import": Channel.TALENT,
    "talent-import": Channel.TALENT,
    "other": Channel.OTHER,
}


class PlanStatus(StrEnum):
    OPEN = "open"  # something still reserved
    USED = "used"  # fully posted
    LAPSED = "lapsed"  # ended with an unused part lapsed
    WITHDRAWN = "withdrawn"  # withdrawn (撤销)


def channel_named(text: str) -> Channel | Violation:
    """A channel from the vocabulary (Chinese names or English aliases)."""
    channel = CHANNEL_ALIASES.get(text.strip().lower()) or CHANNEL_ALIASES.get(text.strip())
    if channel is not None:
        return channel
    listed = "、".join(channel.value for channel in Channel)
    return Violation(
        "useplan.channel",
        f"unknown hiring channel '{text}' (one of {listed}, or open_recruitment, selection, "
        "military_transfer, talent, other)",
        f"未知的用编形式“{text}”（应为 {listed}）",
    )


def default_validity_end(approved_on: date) -> date:
    """A plan is valid to 31 December of its approval year unless it says otherwise."""
    return date(approved_on.year, 12, 31)


def plan_lapses_on(until: date, day: date) -> bool:
    """A plan is valid through its end date; a write dated after it lapses the unused part."""
    return day > until


@dataclass(slots=True)
class PlanState:
    plan_id: str
    unit_id: str
    count: int
    channel: Channel
    purpose: str
    until: date
    approved_on: date
    approved_seq: int
    document: str
    actor: str
    reason: str
    idem_key: str | None
    used: int = 0
    lapsed: int = 0
    withdrawn: int = 0
    status: PlanStatus = PlanStatus.OPEN

    @property
    def remaining(self) -> int:
        return self.count - self.used - self.lapsed - self.withdrawn


def free_vacancies(state: State, unit_id: str) -> int:
    """Own vacancies not reserved by an open plan (0 when reservations exceed them)."""
    unit = state.units[unit_id]
    return max(0, unit.vacancies - state.reserved.get(unit_id, 0))


def plan_count_valid(count: int) -> Violation | None:
    if count >= 1:
        return None
    return Violation(
        "useplan.count",
        f"a quota-use plan is for at least 1 quota, not {count}",
        "用编计划数至少为 1",
    )


def plan_unit_known(state: State, unit_id: str) -> Violation | None:
    if unit_id in state.units:
        return None
    return Violation(
        "useplan.unknown_unit",
        f"unit '{unit_id}' is not in the ledger",
        f"单位“{unit_id}”不在台账中",
    )


def hire_within_vacancies(state: State, unit_id: str, count: int) -> Violation | None:
    """A hire recorded by hand goes into the unit's own vacancies (an over-quota or full unit
    only loses people, 只出不进); a snapshot, the fact, is never refused this way."""
    if count < 1:
        return Violation(
            "hire.count", f"a hire is of at least 1 person, not {count}", "进人数至少为 1"
        )
    vacancies = state.units[unit_id].vacancies
    if count <= vacancies:
        return None
    return Violation(
        "hire.no_vacancy",
        f"{unit_id} has {vacancies} own vacancies: {count} cannot be hired onto its own quota",
        f"{unit_id} 仅有空编 {vacancies} 名，不能进人 {count} 名（只出不进）",
    )


def plan_purpose_given(purpose: str) -> Violation | None:
    if purpose.strip():
        return None
    return Violation(
        "useplan.purpose_missing", "a quota-use plan states its purpose", "用编计划须写明用途"
    )


def plan_validity_after_approval(approved_on: date, until: date) -> Violation | None:
    if until >= approved_on:
        return None
    return Violation(
        "useplan.validity",
        f"the validity end {until} is before the approval date {approved_on}",
        f"有效期截止 {until} 早于批准日期 {approved_on}",
    )


def plan_within_free_vacancies(state: State, unit_id: str, count: int) -> Violation | None:
    """A plan reserves at most the unit's free vacancies (own vacancies − reserved)."""
    free = free_vacancies(state, unit_id)
    if count <= free:
        return None
    unit = state.units[unit_id]
    reserved = state.reserved.get(unit_id, 0)
    return Violation(
        "useplan.free_vacancies",
        f"{unit_id} has {free} free vacanc{'y' if free == 1 else 'ies'} ({unit.vacancies} own "
        f"vacancies, {reserved} reserved by open plans); a plan for {count} is refused",
        f"{unit_id} 可用空编 {free} 名（空编 {unit.vacancies}，已被用编计划占用 {reserved}），"
        f"不能批准 {count} 名",
    )


def plan_open(state: State, plan_id: str) -> Violation | None:
    """Withdrawing (or posting to) a plan names an open plan of the ledger."""
    plan = state.plans.get(plan_id)
    if plan is None:
        return Violation(
            "useplan.unknown_plan",
            f"quota-use plan {plan_id} does not exist",
            f"用编计划 {plan_id} 不存在",
        )
    if plan.status is not PlanStatus.OPEN:
        return Violation(
            "useplan.not_open",
            f"quota-use plan {plan_id} is {plan.status}; nothing is reserved any more",
            f"用编计划 {plan_id} 已{_STATUS_ZH[plan.status]}，无剩余计划",
        )
    return None


def withdrawal_reason_given(reason: str) -> Violation | None:
    if reason.strip():
        return None
    return Violation(
        "useplan.reason_missing", "a withdrawal states its reason", "撤销用编计划须写明理由"
    )


def oldest_open_plan(state: State, unit_id: str) -> PlanState | None:
    """The plan a hire of `unit_id` posts against: its oldest open plan (approval order)."""
    open_plans = state.open_plans_by_unit.get(unit_id)
    if not open_plans:
        return None
    return state.plans[open_plans[0]]


def posting_allowed(state: State, plan_id: str, count: int) -> Violation | None:
    """A posting goes to the unit's oldest open plan and at most its unused part."""
    found = plan_open(state, plan_id)
    if found is not None:
        return found
    plan = state.plans[plan_id]
    oldest = oldest_open_plan(state, plan.unit_id)
    if oldest is not None and oldest.plan_id != plan_id:
        return Violation(
            "useplan.posting_order",
            f"a hire of {plan.unit_id} posts against its oldest open plan {oldest.plan_id}, "
            f"not {plan_id}",
            f"{plan.unit_id} 进人应先核销最早的用编计划 {oldest.plan_id}，而非 {plan_id}",
        )
    if not 1 <= count <= plan.remaining:
        return Violation(
            "useplan.posting_too_many",
            f"plan {plan_id} has {plan.remaining} unused; {count} cannot post to it",
            f"用编计划 {plan_id} 剩余 {plan.remaining} 名，不能核销 {count} 名",
        )
    return None


def lapse_allowed(state: State, plan_id: str, count: int, day: date) -> Violation | None:
    """A plan lapses only after its validity end, and then its whole unused part."""
    found = plan_open(state, plan_id)
    if found is not None:
        return found
    plan = state.plans[plan_id]
    if not plan_lapses_on(plan.until, day) or count != plan.remaining:
        return Violation(
            "useplan.lapse",
            f"plan {plan_id} (valid to {plan.until}, {plan.remaining} unused) cannot lapse "
            f"{count} on {day}",
            f"用编计划 {plan_id}（有效期至 {plan.until}，剩余 {plan.remaining}）不能于 {day} 失效",
        )
    return None


_STATUS_ZH = {
    PlanStatus.OPEN: "有效",
    PlanStatus.USED: "用完",
    PlanStatus.LAPSED: "过期失效",
    PlanStatus.WITHDRAWN: "撤销",
}


def unlapsed_plans(state: State) -> list[Violation]:
    """After every write (and at the end of `audit verify`): no plan is still open past its
    validity end at the ledger's last effective date (every write lapses them first)."""
    day = state.effective
    if day is None:
        return []
    return [
        Violation(
            "useplan.not_lapsed",
            f"plan {plan.plan_id} ended on {plan.until} but still reserves {plan.remaining} "
            f"after a write of {day}",
            f"用编计划 {plan.plan_id} 已于 {plan.until} 到期，{day} 仍占用 {plan.remaining} 名",
        )
        for plan_ids in state.open_plans_by_unit.values()
        for plan in (state.plans[plan_id] for plan_id in plan_ids)
        if plan_lapses_on(plan.until, day)
    ]
