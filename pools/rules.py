"""The policy rules of SPEC 2.1–2.4, each a small pure function that returns a violation as data.

A `Violation` names its rule (a stable code such as ``admin.purpose``), says what is wrong in
plain English and in Chinese, and is raised as `RuleViolation` by the command that met it,
before anything is written. The same functions run again when `audit verify` replays the
ledger, so a loan that should never have been opened is caught there too.

Settings are policy, not law: `Settings` holds the SPEC defaults and is stored in the ledger's
first event, so every later check (and every replay) uses the values the ledger was made with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date
from fractions import Fraction
from math import floor
from typing import TYPE_CHECKING, Any

from pools.units import ADMINISTRATIVE, INSTITUTIONAL, MUNICIPAL

if TYPE_CHECKING:
    from pools.state import State

ADMIN_POOL = "admin"
INSTITUTIONAL_POOL = "institutional"
UNIT_POOL_PREFIX = "unit:"


@dataclass(frozen=True)
class Settings:
    """Policy settings with the SPEC's values as defaults."""

    admin_share: float = 0.20  # share of municipal administrative vacancies the pool may lend
    admin_purposes: tuple[str, ...] = ("引进生", "博士选调生")
    institutional_purposes: tuple[str, ...] = ("重点领域", "重点岗位", "高层次人才", "急需紧缺人才")
    institutional_capacity: int = 400
    term_years: int = 5  # institutional and unit-to-unit loans
    admin_term_years: int | None = None  # admin loans end by 空一还一; a term is optional
    pool_period_years: int = 5  # the institutional pool is rebuilt after this
    expiry_warning_days: int = 90

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["admin_purposes"] = list(self.admin_purposes)
        data["institutional_purposes"] = list(self.institutional_purposes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("admin_purposes", "institutional_purposes"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)

    def admin_capacity_of(self, vacancies: int) -> int:
        """floor(share × vacancies), exactly: 0.2 × 15 is 3, not 2.9999…"""
        return floor(Fraction(str(self.admin_share)) * vacancies)


@dataclass(frozen=True)
class Violation:
    rule: str
    message_en: str
    message_zh: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message_en} / {self.message_zh}"


class RuleViolation(Exception):
    """A request refused by a rule; nothing was written."""

    def __init__(self, violation: Violation):
        self.violation = violation
        self.rule = violation.rule
        self.message_en = violation.message_en
        self.message_zh = violation.message_zh
        super().__init__(str(violation))

    def as_dict(self) -> dict[str, str]:
        return self.violation.as_dict()


def refuse(violation: Violation | None) -> None:
    if violation is not None:
        raise RuleViolation(violation)


# ---------------------------------------------------------------------------------------
# SPEC 2.1 — units and quota accounting


def borrower_not_over_quota(state: State, unit_id: str) -> Violation | None:
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


# ---------------------------------------------------------------------------------------
# SPEC 2.2 — administrative turnover pool


def admin_borrower_eligible(state: State, unit_id: str) -> Violation | None:
    unit = state.units[unit_id]
    if unit.level == MUNICIPAL and unit.kind == ADMINISTRATIVE:
        return None
    return Violation(
        "admin.borrower_not_eligible",
        f"the administrative pool lends only to municipal administrative organs; {unit_id} is "
        f"a {unit.level} {unit.kind} unit",
        f"行政编制周转池只借给市级党政机关，{unit_id} 不符合条件",
    )


def admin_purpose_approved(settings: Settings, purpose: str) -> Violation | None:
    if purpose in settings.admin_purposes:
        return None
    allowed = "、".join(settings.admin_purposes)
    return Violation(
        "admin.purpose",
        f"'{purpose}' is not an approved purpose of the administrative pool ({allowed})",
        f"“{purpose}”不是行政编制周转池的使用范围（{allowed}）",
    )


def admin_pool_active(state: State) -> Violation | None:
    """The pool exists only while municipal administrative organs as a whole are within quota."""
    if not state.admin_suspended:
        return None
    return Violation(
        "admin.pool_suspended",
        "municipal administrative organs as a whole are over quota; the administrative pool "
        "lends nothing",
        "市级行政机关总体超编，行政编制周转池暂停出借",
    )


def pool_has_room(state: State, pool: str, count: int) -> Violation | None:
    """No pool lends beyond its capacity (a capacity below what is lent blocks new loans)."""
    capacity = state.pool_capacity(pool)
    lent = state.pool_lent[pool]
    if lent + count <= capacity:
        return None
    left = max(0, capacity - lent)
    return Violation(
        "pool.capacity",
        f"the {pool} pool has {left} quota{'s' if left != 1 else ''} available "
        f"(capacity {capacity}, lent {lent}); {count} requested",
        f"{_pool_zh(pool)}可借 {left} 名（容量 {capacity}，已借出 {lent}），申请 {count} 名",
    )


# ---------------------------------------------------------------------------------------
# SPEC 2.3 — institutional turnover pool


def institutional_borrower_eligible(state: State, unit_id: str) -> Violation | None:
    unit = state.units[unit_id]
    if unit.kind == INSTITUTIONAL:
        return None
    return Violation(
        "institutional.borrower_not_eligible",
        f"the institutional pool lends only to institutional units; {unit_id} is {unit.kind}",
        f"事业编制周转池只借给事业单位，{unit_id} 不是事业单位",
    )


def institutional_purpose_approved(settings: Settings, purpose: str) -> Violation | None:
    if purpose in settings.institutional_purposes:
        return None
    allowed = "、".join(settings.institutional_purposes)
    return Violation(
        "institutional.purpose",
        f"'{purpose}' is not an approved purpose of the institutional pool ({allowed})",
        f"“{purpose}”不是事业编制周转池的使用范围（{allowed}）",
    )


def institutional_period_running(state: State, effective: date) -> Violation | None:
    end = state.inst_period_end
    if end is None or effective.isoformat() < end:
        return None
    return Violation(
        "institutional.period_ended",
        f"the institutional pool's period ended on {end}; rebuild it (到期重建) before lending",
        f"事业编制周转池已于 {end} 到期，需先到期重建再出借",
    )


def rebuild_allowed(state: State, effective: date, capacity: int) -> Violation | None:
    end = state.inst_period_end
    if end is not None and effective.isoformat() < end:
        return Violation(
            "institutional.period_running",
            f"the institutional pool's period runs until {end}; it is rebuilt after that",
            f"事业编制周转池期限至 {end}，到期后方可重建",
        )
    if capacity < state.pool_lent[INSTITUTIONAL_POOL]:
        return Violation(
            "institutional.capacity_below_lent",
            f"a capacity of {capacity} is below the {state.pool_lent[INSTITUTIONAL_POOL]} "
            "quotas still lent",
            f"重建容量 {capacity} 小于仍借出的 {state.pool_lent[INSTITUTIONAL_POOL]} 名",
        )
    return None


# ---------------------------------------------------------------------------------------
# SPEC 2.4 — loans between units, two-rights separation


def unit_loan_parties(state: State, lender_id: str, borrower_id: str) -> Violation | None:
    if lender_id not in state.units:
        return Violation(
            "loan.unknown_unit",
            f"lending unit '{lender_id}' is not in the ledger",
            f"出借单位“{lender_id}”不在台账中",
        )
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
    """The lender keeps ownership but cannot lend (or hire into) quota that is in use."""
    lender = state.units[lender_id]
    if lender.vacancies >= count:
        return None
    return Violation(
        "unit.lender_no_spare",
        f"{lender_id} has {lender.vacancies} spare quota{'s' if lender.vacancies != 1 else ''}; "
        f"it cannot lend {count}",
        f"{lender_id} 仅有空编 {lender.vacancies} 名，不能调借 {count} 名",
    )


# ---------------------------------------------------------------------------------------
# Whole requests


def check_open_loan(
    state: State, pool: str, borrower: str, count: int, purpose: str, effective: date
) -> Violation | None:
    """The first rule a loan request breaks, or None. Order: request, units, then pool."""
    settings = state.settings
    if count < 1:
        return Violation(
            "loan.count", f"a loan is for at least 1 quota, not {count}", "借用编制数至少为 1"
        )
    if borrower not in state.units:
        return Violation(
            "loan.unknown_unit",
            f"unit '{borrower}' is not in the ledger",
            f"单位“{borrower}”不在台账中",
        )
    if pool not in (ADMIN_POOL, INSTITUTIONAL_POOL) and not pool.startswith(UNIT_POOL_PREFIX):
        return Violation(
            "loan.unknown_pool",
            f"unknown pool '{pool}' (admin, institutional or unit:<lender_id>)",
            f"未知的编制来源“{pool}”（admin、institutional 或 unit:<出借单位代码>）",
        )
    checks: list[Violation | None]
    if pool.startswith(UNIT_POOL_PREFIX):
        lender = pool[len(UNIT_POOL_PREFIX) :]
        found = unit_loan_parties(state, lender, borrower)
        if found:
            return found
        checks = [
            borrower_not_over_quota(state, borrower),
            borrower_has_no_vacancy(state, borrower),
            unit_purpose_given(purpose),
            lender_has_spare(state, lender, count),
        ]
    elif pool == ADMIN_POOL:
        checks = [
            admin_borrower_eligible(state, borrower),
            admin_purpose_approved(settings, purpose),
            borrower_not_over_quota(state, borrower),
            borrower_has_no_vacancy(state, borrower),
            admin_pool_active(state),
            pool_has_room(state, pool, count),
        ]
    else:
        checks = [
            institutional_borrower_eligible(state, borrower),
            institutional_purpose_approved(settings, purpose),
            borrower_not_over_quota(state, borrower),
            borrower_has_no_vacancy(state, borrower),
            institutional_period_running(state, effective),
            pool_has_room(state, pool, count),
        ]
    return next((found for found in checks if found is not None), None)


def _pool_zh(pool: str) -> str:
    if pool == ADMIN_POOL:
        return "行政编制周转池"
    if pool == INSTITUTIONAL_POOL:
        return "事业编制周转池"
    return f"单位 {pool[len(UNIT_POOL_PREFIX) :]} "
