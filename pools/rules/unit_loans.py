"""SPEC 2.4 — loans between units, two-rights separation (调借, 两权分离).

A unit with spare quota lends the right of use to another unit for an approved purpose and a
term; ownership stays with the lender (its approved quota is unchanged), but it cannot lend or
hire into quota its own people hold. Lent quota comes back by return-one-when-vacated
(`pools.rules.loans`), by hand when the task is done, or after the term's evaluation
(`pools.rules.institutional_pool`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pools.rules.units import unit_known
from pools.rules.violations import Violation

if TYPE_CHECKING:
    from pools.state import State


def unit_loan_parties(state: State, lender_id: str, borrower_id: str) -> Violation | None:
    """The lender is a unit of the ledger, and not the borrower itself."""
    unknown = unit_known(state, lender_id, "lending unit")
    if unknown is not None:
        return unknown
    if lender_id == borrower_id:
        return Violation(
            "unit.self_loan", "a unit cannot lend to itself", "单位不能向本单位调借编制"
        )
    return None


def unit_purpose_given(purpose: str) -> Violation | None:
    """Lent quota is for its approved purpose only (专编专用): the purpose must be stated."""
    if purpose.strip():
        return None
    return Violation(
        "unit.purpose_missing",
        "a loan between units needs its approved purpose (专编专用)",
        "单位间调借编制须写明用途（专编专用）",
    )


def lender_has_spare(state: State, lender_id: str, count: int) -> Violation | None:
    """The lender keeps ownership but cannot lend (or hire into) quota that is in use, nor
    vacancies an approved quota-use plan reserved (SPEC 2.7: only free vacancies are spare)."""
    lender = state.units[lender_id]
    reserved = state.reserved.get(lender_id, 0)
    spare = max(0, lender.vacancies - reserved)
    if spare >= count:
        return None
    held = f" ({reserved} of its vacancies reserved by quota-use plans)" if reserved else ""
    held_zh = f"（另有 {reserved} 名已被用编计划占用）" if reserved else ""
    return Violation(
        "unit.lender_no_spare",
        f"{lender_id} has {spare} spare quota{'s' if spare != 1 else ''}{held}; "
        f"it cannot lend {count}",
        f"{lender_id} 仅有可用空编 {spare} 名{held_zh}，不能调借 {count} 名",
    )
