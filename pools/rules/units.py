"""SPEC 2.1 — units and quota accounting.

- own limit = approved − lent (ownership stays with a lender, but it cannot hire into what it
  lent out);
- own vacancies (空编) = max(0, own limit − headcount on own quota);
- usable quota = approved + borrowed − lent;
- over quota (超编) = headcount on own quota above the own limit; an over-quota unit may only
  lose people, never hire (只出不进), so it may not borrow.

`pools.state.UnitState` reads its figures through these functions; the admin-pool running
sums of the fold are kept with the same formula (`own_limit`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pools.rules.violations import Violation
from pools.units import KINDS, LEVELS

if TYPE_CHECKING:
    from pools.state import State


def own_limit(approved: int, lent: int) -> int:
    return approved - lent


def usable_quota(approved: int, borrowed: int, lent: int) -> int:
    return approved + borrowed - lent


def own_vacancies(approved: int, lent: int, headcount: int) -> int:
    return max(0, approved - lent - headcount)


def is_over_quota(approved: int, lent: int, headcount: int) -> bool:
    return headcount > approved - lent


def unit_known(state: State, unit_id: str, role: str = "unit") -> Violation | None:
    """A loan names units of the ledger (`role`: "unit" for a borrower, "lending unit")."""
    if unit_id in state.units:
        return None
    zh = "出借单位" if role != "unit" else "单位"
    return Violation(
        "loan.unknown_unit",
        f"{role} '{unit_id}' is not in the ledger",
        f"{zh}“{unit_id}”不在台账中",
    )


def over_quota_only_loses_people(state: State, unit_id: str) -> Violation | None:
    """An over-quota unit may only lose people (只出不进): it may not borrow."""
    unit = state.units[unit_id]
    if not unit.over_quota:
        return None
    return Violation(
        "unit.over_quota",
        f"{unit_id} is over quota ({unit.headcount} on own quota, limit {unit.own_limit}); "
        "an over-quota unit may only lose people, never hire",
        f"{unit_id} 已超编（在编 {unit.headcount}，可用 {unit.own_limit}），只出不进，不得借用编制",
    )


def unit_without_loans(state: State, unit_id: str) -> Violation | None:
    """A unit leaves the ledger (absent from a snapshot) only with no loan outstanding, lent or
    borrowed: its loans would have nowhere to go."""
    unit = state.units[unit_id]
    if not (unit.lent or unit.borrowed or unit.pool_headcount):
        return None
    return Violation(
        "sync.unit_with_loans_missing",
        f"unit {unit_id} is missing from the snapshot but still has loans "
        "outstanding; return or transfer them first",
        f"单位 {unit_id} 不在新名册中，但仍有未归还的借用编制，须先处理",
    )


def removals_plausible(units: int, removed: int, max_share: float) -> Violation | None:
    """A snapshot drops at most `max_share` (the setting `max_removed_share`) of the units the
    ledger holds, or one unit (an office abolished): more looks like a truncated file, and is
    applied only when asked (`--allow-removals`)."""
    if removed <= max(1, max_share * units):
        return None
    return Violation(
        "sync.mass_removal",
        f"the snapshot drops {removed} of {units} units (more than {max_share:.0%}); a truncated "
        "file? nothing was written; if the units really are gone, sync with --allow-removals",
        f"新名册缺少 {removed}/{units} 个单位（超过 {max_share:.0%}），疑为文件不完整；"
        "未写入任何内容；确属撤销请加 --allow-removals",
    )


def unit_figures_problem(level: str, kind: str, approved: object, headcount: object) -> str | None:
    """What is wrong with a unit's level, kind, approved quota and headcount, if anything."""
    if level not in LEVELS.values() or kind not in KINDS.values():
        return f"unknown level/kind {level!r}/{kind!r}"
    if not isinstance(approved, int) or not isinstance(headcount, int):
        return "approved and headcount are whole numbers"
    if approved < 0 or headcount < 0:
        return "approved and headcount are never negative"
    return None
