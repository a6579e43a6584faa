"""What every loan shares: SPEC 2.2's special account and return one when one is vacated
(空一还一), which 2.3 and 2.4 apply "as in 2.2"; the capacity of the turnover pools; and the
whole check of a loan request, rule by rule in a fixed order.

Each rule here is the one predicate that the refusing command (`pools.commands`), the fold
that checks invariants (`pools.state`) and `audit verify` (`pools.verify`) all call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from pools.rules.admin_pool import admin_borrower_eligible, admin_pool_active
from pools.rules.institutional_pool import (
    evaluation_returns_outstanding,
    institutional_borrower_eligible,
    institutional_period_running,
)
from pools.rules.settings import Settings
from pools.rules.unit_loans import lender_has_spare, unit_loan_parties, unit_purpose_given
from pools.rules.units import over_quota_only_loses_people, unit_known
from pools.rules.violations import Violation, first
from pools.vocabulary import (
    KIND_ADMIN,
    KIND_UNIT,
    STATUS_CLOSED,
    STATUS_OPEN,
    PoolKind,
    PoolRef,
    PoolRefError,
)

if TYPE_CHECKING:
    from pools.state import LoanState, State, UnitState


# ---- the special account (专户, 单列管理) ------------------------------------------------


@dataclass(frozen=True)
class CityTotals:
    approved: int  # Σ approved quotas: pool quotas are never in it
    headcount: int  # on own quota
    borrowed_headcount: int  # on quota borrowed from another unit
    pool_headcount: int  # on pool quota (the special account)
    in_post: int  # everyone: pool people count in the headcount statistics


def special_account_totals(units: Iterable[UnitState]) -> CityTotals:
    """City totals with the special account apart: pool quotas are never counted in a unit's
    approved quota nor in the city's total; the people hired on them are in post."""
    approved = headcount = pool = borrowed = 0
    for unit in units:
        approved += unit.approved
        headcount += unit.headcount
        pool += unit.pool_headcount
        borrowed += unit.borrowed
    return CityTotals(approved, headcount, borrowed, pool, headcount + borrowed + pool)


# ---- return one when one is vacated (空一还一) ------------------------------------------


def return_one_when_vacated(state: State, unit_id: str) -> LoanState | None:
    """The loan one quota of which must come back now: while a borrower has an own vacancy and
    owes quotas, one quota of its *oldest* open loan (by opening order, pool and unit loans
    alike) returns and the person on it moves onto own quota. None when nothing is due."""
    unit = state.units.get(unit_id)
    if unit is None or vacancy_to_move_into(unit, 1) is not None:
        return None
    open_loans = state.open_by_borrower.get(unit_id)
    if not open_loans:
        return None
    return state.loans[open_loans[0]]


def vacancy_to_move_into(unit: UnitState, count: int) -> Violation | None:
    """A return by vacancy moves `count` people onto own quota: it needs that many vacancies."""
    if unit.vacancies >= count:
        return None
    return Violation(
        "loan.vacancy_return_without_vacancy",
        f"vacancy return but {unit.unit_id} has no vacancy",
        f"{unit.unit_id} 没有空编，不能按空一还一归还",
    )


def vacated_but_not_returned(
    state: State, unit_ids: Iterable[str] | None = None
) -> list[Violation]:
    """Borrowers (of `unit_ids`, or all) that keep a vacancy while they still owe quotas."""
    found = []
    for unit_id in state.open_by_borrower if unit_ids is None else unit_ids:
        loan = return_one_when_vacated(state, unit_id)
        if loan is not None:
            vacancies = state.units[unit_id].vacancies
            found.append(
                Violation(
                    "loan.return_one_when_vacated",
                    f"{unit_id} has {vacancies} own vacancies but still owes loan "
                    f"{loan.loan_id} (空一还一 not applied)",
                    f"{unit_id} 有空编 {vacancies} 名，仍欠借用 {loan.loan_id}（未空一还一）",
                )
            )
    return found


def settlement_problems(state: State, unit_ids: Iterable[str] | None = None) -> list[Violation]:
    """After every write (for the units it touched) and in `audit verify` (for all): 空一还一
    applied, and no loan that an evaluation sent back is still out."""
    return vacated_but_not_returned(state, unit_ids) + evaluation_returns_outstanding(state)


# ---- the turnover pools and the borrower ------------------------------------------------


def pool_has_room(state: State, pool: PoolRef, count: int) -> Violation | None:
    """No pool lends beyond its capacity (a capacity below what is lent blocks new loans)."""
    capacity = state.pool_capacity(pool.kind)
    lent = state.pool_lent[pool.kind]
    if lent + count <= capacity:
        return None
    left = max(0, capacity - lent)
    return Violation(
        "pool.capacity",
        f"the {pool} pool has {left} quota{'s' if left != 1 else ''} available "
        f"(capacity {capacity}, lent {lent}); {count} requested",
        f"{pool.name_zh}可借 {left} 名（容量 {capacity}，已借出 {lent}），申请 {count} 名",
    )


def pool_purpose_approved(settings: Settings, pool: PoolRef, purpose: str) -> Violation | None:
    """A turnover pool lends only for an approved purpose (a setting per pool)."""
    allowed = (
        settings.admin_purposes if pool.kind is PoolKind.ADMIN else settings.institutional_purposes
    )
    if purpose in allowed:
        return None
    listed = "、".join(allowed)
    return Violation(
        f"{pool.kind}.purpose",
        f"'{purpose}' is not an approved purpose of the {pool.name_en} ({listed})",
        f"“{purpose}”不是{pool.name_zh}的使用范围（{listed}）",
    )


def borrower_has_no_vacancy(state: State, unit_id: str) -> Violation | None:
    """Pool and borrowed quota are only for units with no own vacancy (else 空一还一 at once)."""
    unit = state.units[unit_id]
    if unit.vacancies == 0:
        return None
    return Violation(
        "loan.borrower_has_vacancy",
        f"{unit_id} still has {unit.vacancies} own vacanc{'y' if unit.vacancies == 1 else 'ies'}; "
        "it must use its own quota first",
        f"{unit_id} 尚有空编 {unit.vacancies} 名，应先使用本单位编制",
    )


def loan_count_valid(count: int) -> Violation | None:
    if count >= 1:
        return None
    return Violation(
        "loan.count", f"a loan is for at least 1 quota, not {count}", "借用编制数至少为 1"
    )


MAX_TERM_YEARS = 50  # a loan (and a setting's term) runs 1 to 50 years


def term_allowed(years: int) -> Violation | None:
    """A loan term is a whole number of years from 1 to 50."""
    if 1 <= years <= MAX_TERM_YEARS:
        return None
    return Violation(
        "loan.term",
        f"a loan term is at least 1 year and at most {MAX_TERM_YEARS} ({years} given)",
        f"借用期限须为 1 至 {MAX_TERM_YEARS} 年（给出 {years}）",
    )


def known_pool(text: str) -> PoolRef | Violation:
    """A pool named by a request (parsed once, where the request comes in)."""
    try:
        return PoolRef.parse(text)
    except PoolRefError:
        return Violation(
            "loan.unknown_pool",
            f"unknown pool '{text}' (admin, institutional or unit:<lender_id>)",
            f"未知的编制来源“{text}”（admin、institutional 或 unit:<出借单位代码>）",
        )


def return_allowed(loan: LoanState, count: int) -> Violation | None:
    """A return names an open loan and at most what it has outstanding."""
    if loan.status is STATUS_CLOSED:
        return Violation(
            "return.closed", f"loan {loan.loan_id} is closed", f"借用 {loan.loan_id} 已归还"
        )
    if not 1 <= count <= loan.outstanding:
        return Violation(
            "return.too_many",
            f"loan {loan.loan_id} has {loan.outstanding} outstanding; cannot return {count}",
            f"借用 {loan.loan_id} 尚欠 {loan.outstanding} 名，不能归还 {count} 名",
        )
    return None


# ---- a whole request ----------------------------------------------------------------------


def check_open_loan(
    state: State,
    pool: PoolRef | Violation,
    borrower: str,
    count: int,
    purpose: str,
    effective: date,
) -> Violation | None:
    """The first rule a loan request breaks, or None. Order: request, units, then pool."""
    settings = state.settings
    found = first(loan_count_valid(count), unit_known(state, borrower))
    if found is not None:
        return found
    if isinstance(pool, Violation):
        return pool
    if pool.kind is KIND_UNIT:
        assert pool.lender is not None
        parties = unit_loan_parties(state, pool.lender, borrower)
        if parties is not None:
            return parties
        return first(
            over_quota_only_loses_people(state, borrower),
            borrower_has_no_vacancy(state, borrower),
            unit_purpose_given(purpose),
            lender_has_spare(state, pool.lender, count),
        )
    if pool.kind is KIND_ADMIN:
        return first(
            admin_borrower_eligible(state, borrower),
            pool_purpose_approved(settings, pool, purpose),
            over_quota_only_loses_people(state, borrower),
            borrower_has_no_vacancy(state, borrower),
            admin_pool_active(state),
            pool_has_room(state, pool, count),
        )
    return first(
        institutional_borrower_eligible(state, borrower),
        pool_purpose_approved(settings, pool, purpose),
        over_quota_only_loses_people(state, borrower),
        borrower_has_no_vacancy(state, borrower),
        institutional_period_running(state, effective),
        pool_has_room(state, pool, count),
    )


# ---- reversing entries (冲销, issue 13) ---------------------------------------------------
# A loan opened or a return recorded in error is undone by a reversing entry from the
# original's date; the original stays. Only what can be undone whole: an opening nothing has
# followed yet (no return, expiry or evaluation), a return by hand or by vacancy (an
# evaluation's return is part of its decision).

REVERSIBLE_RETURN_CAUSES = frozenset({"manual", "vacancy"})


def _reversal(message: str, message_zh: str) -> Violation:
    return Violation("ledger.reversal", message, message_zh)


def opening_reversible(loan: LoanState | None, seq: int) -> Violation | None:
    """A loan opening can be reversed while the loan is exactly as it was opened."""
    if loan is None or loan.opened_seq != seq:
        return _reversal(f"event {seq} opened no loan", f"第 {seq} 条记录不是借用")
    if loan.reversed_by:
        return _reversal(
            f"loan {loan.loan_id} was already reversed (event {loan.reversed_by})",
            f"借用 {loan.loan_id} 已于第 {loan.reversed_by} 条冲销",
        )
    if loan.returned or loan.evaluations or loan.status is not STATUS_OPEN:
        return _reversal(
            f"loan {loan.loan_id} has later events (a return, expiry or evaluation): reverse "
            "the returns first, or return the loan instead",
            f"借用 {loan.loan_id} 已有后续记录（归还、到期或评估）：请先冲销归还，或改为归还",
        )
    return None


def return_reversible(
    loan: LoanState | None, seq: int, cause: str, count: int, already: int | None
) -> Violation | None:
    """A return can be reversed once, if by hand or by vacancy, and only as far as the loan
    still records it (`already`: the event that reversed it before, if any)."""
    if loan is None:
        return _reversal(f"event {seq} returned no loan", f"第 {seq} 条记录不是归还")
    if already is not None:
        return _reversal(
            f"the return of event {seq} was already reversed (event {already})",
            f"第 {seq} 条归还已于第 {already} 条冲销",
        )
    if cause not in REVERSIBLE_RETURN_CAUSES:
        return _reversal(
            f"a return decided by an evaluation is not reversed on its own (event {seq})",
            f"评估决定的归还不能单独冲销（第 {seq} 条）",
        )
    recorded = sum(n for c, n in loan.returned.items() if c.value == cause)
    if not 1 <= count <= recorded or loan.reversed_by:
        return _reversal(
            f"loan {loan.loan_id} records {recorded} returned by {cause}; cannot reverse {count}",
            f"借用 {loan.loan_id} 按{cause}归还记录 {recorded} 名，不能冲销 {count} 名",
        )
    return None


def people_to_move_back(unit: UnitState, count: int) -> Violation | None:
    """Reversing a return moves its people back from own quota onto the loan: the unit must
    still count them on its own quota."""
    if unit.headcount >= count:
        return None
    return _reversal(
        f"{unit.unit_id} has {unit.headcount} people on its own quota; {count} cannot move back "
        "onto the loan",
        f"{unit.unit_id} 在编 {unit.headcount} 人，不能将 {count} 人移回借用编制",
    )


def room_to_lend_again(state: State, pool: PoolRef, count: int) -> Violation | None:
    """Reversing a return lends its quotas again: the pool (or lending unit) must have them."""
    if pool.lender is None:
        return pool_has_room(state, pool, count)
    return lender_has_spare(state, pool.lender, count)
