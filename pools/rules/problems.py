"""SPEC 2.8 — rectification problems (问题台账).

The office records a problem against a unit (kind from the setting `problem_kinds`), with a
document number (文号) and a deadline, and closes it (销号) with a reason. While a unit has an
open problem, new loans to it and new quota-use plans for it are refused
(`problem.open_blocks`: 整改不到位的，暂停受理新增编制申请); the setting `problems_block =
False` turns the refusal into a warning that the write carries.

Every `ledger sync` is the monthly comparison (月比对): it opens an automatic problem for
each unit newly over quota (超编进人), each hire without a plan (无计划进人) and each loan that
became overdue (借用逾期未还), and closes the automatic ones whose cause has gone (the unit is
back within quota; the loan was evaluated or returned). A hire without a plan is a fact that
does not "go away": that problem is closed by hand, as manual problems are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from pools.rules.violations import Violation

if TYPE_CHECKING:
    from pools.rules.settings import Settings
    from pools.state import State

DEFAULT_PROBLEM_KINDS = (
    "超编进人",
    "超职数配备",
    "无计划进人",
    "擅自设立机构",
    "混编混岗",
    "借用逾期未还",
    "其他",
)
KIND_OVER_QUOTA = "超编进人"
KIND_UNPLANNED_HIRE = "无计划进人"
KIND_LOAN_OVERDUE = "借用逾期未还"


class ProblemStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Cause(StrEnum):
    """Why the monthly comparison opened an automatic problem (manual ones have none)."""

    OVER_QUOTA = "over_quota"
    UNPLANNED_HIRE = "unplanned_hire"
    LOAN_OVERDUE = "loan_overdue"


CAUSE_KIND = {
    Cause.OVER_QUOTA: KIND_OVER_QUOTA,
    Cause.UNPLANNED_HIRE: KIND_UNPLANNED_HIRE,
    Cause.LOAN_OVERDUE: KIND_LOAN_OVERDUE,
}


@dataclass(slots=True)
class ProblemState:
    problem_id: str
    unit_id: str
    kind: str
    deadline: date
    opened_on: date
    opened_seq: int
    document: str
    actor: str
    reason: str
    cause: str  # "" for a manual problem; else "<Cause>:<what>" (see `cause_key`)
    status: ProblemStatus = ProblemStatus.OPEN
    closed_on: date | None = None
    close_reason: str = ""
    closed_by: str = ""

    @property
    def automatic(self) -> bool:
        return bool(self.cause)

    def age_days(self, day: date) -> int:
        return (day - self.opened_on).days


def cause_key(cause: Cause, subject: str) -> str:
    """The identity of an automatic problem's cause: one open problem per cause."""
    return f"{cause.value}:{subject}"


def cause_of(key: str) -> Cause | None:
    head = key.split(":", 1)[0]
    return Cause(head) if head in Cause._value2member_map_ else None


def problem_kind_known(settings: Settings, kind: str) -> Violation | None:
    if kind in settings.problem_kinds:
        return None
    listed = "、".join(settings.problem_kinds)
    return Violation(
        "problem.kind",
        f"'{kind}' is not a problem kind of this ledger ({listed})",
        f"“{kind}”不是本台账的问题类型（{listed}）",
    )


def problem_unit_known(state: State, unit_id: str) -> Violation | None:
    if unit_id in state.units:
        return None
    return Violation(
        "problem.unknown_unit",
        f"unit '{unit_id}' is not in the ledger",
        f"单位“{unit_id}”不在台账中",
    )


def deadline_not_before(opened_on: date, deadline: date) -> Violation | None:
    if deadline >= opened_on:
        return None
    return Violation(
        "problem.deadline",
        f"the rectification deadline {deadline} is before the problem is recorded ({opened_on})",
        f"整改期限 {deadline} 早于登记日期 {opened_on}",
    )


def problem_closable(state: State, problem_id: str, reason: str) -> Violation | None:
    """A close (销号) names an open problem and states its reason."""
    problem = state.problems.get(problem_id)
    if problem is None:
        return Violation(
            "problem.unknown", f"problem {problem_id} does not exist", f"问题 {problem_id} 不存在"
        )
    if problem.status is ProblemStatus.CLOSED:
        return Violation(
            "problem.closed",
            f"problem {problem_id} was closed on {problem.closed_on}",
            f"问题 {problem_id} 已于 {problem.closed_on} 销号",
        )
    if not reason.strip():
        return Violation(
            "problem.reason_missing", "closing a problem states its reason", "问题销号须写明理由"
        )
    return None


def problem_open_blocks(state: State, unit_id: str) -> Violation | None:
    """While a unit has an open problem, no new loan to it and no new quota-use plan for it
    (整改不到位的，暂停受理新增编制申请). A refusal or, with `problems_block = False`, a
    warning: the caller decides (`blocks_or_warns`)."""
    open_ids = state.open_problems_by_unit.get(unit_id)
    if not open_ids:
        return None
    listed = ", ".join(f"{pid} {state.problems[pid].kind}" for pid in open_ids)
    return Violation(
        "problem.open_blocks",
        f"{unit_id} has {len(open_ids)} open rectification problem"
        f"{'s' if len(open_ids) != 1 else ''} ({listed}); no new quota until rectified",
        f"{unit_id} 有未销号问题 {len(open_ids)} 个（{listed}），整改到位前暂停受理新增编制申请",
    )


def open_problem_refusal(state: State, unit_id: str) -> Violation | None:
    """`problem_open_blocks` when the setting makes it a refusal (the fold checks this)."""
    if not state.settings.problems_block:
        return None
    return problem_open_blocks(state, unit_id)


def automatic_problem_allowed(state: State, cause: str) -> Violation | None:
    """One open automatic problem per cause."""
    if cause not in state.problem_by_cause:
        return None
    return Violation(
        "problem.duplicate_cause",
        f"an automatic problem for {cause} is already open ({state.problem_by_cause[cause]})",
        f"同一原因 {cause} 已有未销号问题 {state.problem_by_cause[cause]}",
    )


def quarter_bounds(text: str) -> tuple[date, date] | Violation:
    """'2026Q4' -> (2026-10-01, 2026-12-31)."""
    cleaned = text.strip().upper()
    year, _, quarter = cleaned.partition("Q")
    if not (year.isdigit() and len(year) == 4 and quarter in ("1", "2", "3", "4")):
        return Violation(
            "problem.quarter",
            f"'{text}' is not a quarter (YYYYQn, e.g. 2026Q4)",
            f"“{text}”不是季度（格式 YYYYQn，如 2026Q4）",
        )
    q, y = int(quarter), int(year)
    after = date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1)
    return date(y, 3 * q - 2, 1), after - timedelta(days=1)
