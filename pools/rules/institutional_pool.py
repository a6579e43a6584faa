"""SPEC 2.3 — the institutional turnover pool (事业编制周转池), loan terms and evaluations.

- sized on demand (capacity a setting); lends only to institutional units for key fields,
  posts and talent (the purposes a setting: `pools.rules.loans.pool_purpose_approved`);
- the pool has a period, after which it is rebuilt (到期重建) and used again;
- a loan still open at the end of its term is expired and gets a performance evaluation
  (绩效评估): score 0–100, decision extend (with a new end) or return. Loans between units
  (2.4) end the same way.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from pools.rules.violations import Violation
from pools.units import INSTITUTIONAL
from pools.vocabulary import DECISION_OF, Decision, LoanStatus, PoolKind

if TYPE_CHECKING:
    from pools.state import LoanState, State


def institutional_borrower_eligible(state: State, unit_id: str) -> Violation | None:
    unit = state.units[unit_id]
    if unit.kind == INSTITUTIONAL:
        return None
    return Violation(
        "institutional.borrower_not_eligible",
        f"the institutional pool lends only to institutional units; {unit_id} is {unit.kind}",
        f"事业编制周转池只借给事业单位，{unit_id} 不是事业单位",
    )


def institutional_period_running(state: State, effective: date) -> Violation | None:
    """The pool lends only within its period; after it, it must be rebuilt first."""
    end = state.inst_period_end
    if end is None or effective < end:
        return None
    return Violation(
        "institutional.period_ended",
        f"the institutional pool's period ended on {end}; rebuild it (到期重建) before lending",
        f"事业编制周转池已于 {end} 到期，需先到期重建再出借",
    )


def rebuild_allowed(state: State, effective: date, capacity: int) -> Violation | None:
    """到期重建: only once the period has ended, and never below what is still lent."""
    end = state.inst_period_end
    if end is not None and effective < end:
        return Violation(
            "institutional.period_running",
            f"the institutional pool's period runs until {end}; it is rebuilt after that",
            f"事业编制周转池期限至 {end}，到期后方可重建",
        )
    lent = state.pool_lent[PoolKind.INSTITUTIONAL]
    if capacity < lent:
        return Violation(
            "institutional.capacity_below_lent",
            f"a capacity of {capacity} is below the {lent} quotas still lent",
            f"重建容量 {capacity} 小于仍借出的 {lent} 名",
        )
    return None


def term_ended(end: date | None, day: date) -> bool:
    """A loan's term has run out on `day` (its last day is `end`; None: no term)."""
    return end is not None and end <= day


def loan_status_on(status: LoanStatus, end: date | None, day: date) -> LoanStatus:
    """A loan still open at the end of its term is expired (awaiting its evaluation)."""
    if status is LoanStatus.OPEN and term_ended(end, day):
        return LoanStatus.EXPIRED
    return status


def decision_named(text: str) -> Decision | Violation:
    """An evaluation decision from text: extend or return."""
    decision = DECISION_OF.get(text)
    if decision is not None:
        return decision
    return Violation(
        "evaluate.decision",
        f"decision {text!r} is neither extend nor return",
        "评估结论须为 extend（延期）或 return（收回）",
    )


def evaluation_allowed(
    loan: LoanState,
    status: LoanStatus,
    score: int,
    decision: Decision | Violation,
    new_end: date | None,
    day: date,
) -> Violation | None:
    """A performance evaluation on `day` of a loan whose status is `status`: only an expired
    loan, a score 0–100, extend (to a new end after `day`) or return."""
    if status is not LoanStatus.EXPIRED:
        return Violation(
            "evaluate.not_expired",
            f"loan {loan.loan_id} is {status}; only an expired loan is evaluated"
            + (f" (its term ends on {loan.end})" if loan.end else ""),
            f"借用 {loan.loan_id} 已归还，无需评估"
            if status is LoanStatus.CLOSED
            else f"借用 {loan.loan_id} 未到期，到期后方可评估",
        )
    if not 0 <= score <= 100:
        return Violation("evaluate.score", f"score {score} is outside 0–100", "评分须在 0–100 之间")
    if isinstance(decision, Violation):
        return decision
    if decision is Decision.EXTEND and (new_end is None or new_end <= day):
        return Violation(
            "evaluate.new_end",
            "an extension needs a new end date after the evaluation date",
            "延期须给出晚于评估日期的新到期日",
        )
    return None


def evaluation_returns_outstanding(state: State) -> list[Violation]:
    """A loan that its evaluation sent back is returned in the same command."""
    return [
        Violation(
            "evaluate.return_outstanding",
            f"loan {loan_id} was sent back by its evaluation but is still out",
            f"借用 {loan_id} 评估结论为收回，但仍未归还",
        )
        for loan_id in sorted(state.awaiting_return)
    ]
