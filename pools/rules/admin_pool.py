"""SPEC 2.2 — the administrative turnover pool (行政编制周转池).

- capacity = floor(share × the own vacancies of the municipal administrative organs),
  recomputed at every change (the fold keeps the vacancy base as a running sum);
- suspended (capacity 0, lends nothing) while those organs as a whole are over quota;
- lends only to municipal administrative organs, only for an approved purpose
  (`pools.rules.loans.pool_purpose_approved`, shared with 2.3).

The special account and return-one-when-vacated, which 2.3 and 2.4 apply "as in 2.2", are in
`pools.rules.loans`.
"""

from __future__ import annotations

from fractions import Fraction
from math import floor
from typing import TYPE_CHECKING

from pools.rules.settings import Settings
from pools.rules.violations import Violation
from pools.units import ADMINISTRATIVE, MUNICIPAL

if TYPE_CHECKING:
    from pools.state import State


def is_municipal_admin_organ(level: str, kind: str) -> bool:
    """The units whose vacancies size the pool and to which it lends."""
    return level == MUNICIPAL and kind == ADMINISTRATIVE


def admin_pool_suspended(net_over_quota: int) -> bool:
    """The pool exists only while the organs as a whole are within quota: `net_over_quota` is
    Σ (headcount − own limit) over the municipal administrative organs."""
    return net_over_quota > 0


def admin_pool_capacity(settings: Settings, vacancy_base: int, net_over_quota: int) -> int:
    """floor(share × vacancies), exactly (0.2 × 15 is 3, not 2.9999…); 0 while suspended."""
    if admin_pool_suspended(net_over_quota):
        return 0
    return floor(Fraction(str(settings.admin_share)) * vacancy_base)


def admin_borrower_eligible(state: State, unit_id: str) -> Violation | None:
    unit = state.units[unit_id]
    if is_municipal_admin_organ(unit.level, unit.kind):
        return None
    return Violation(
        "admin.borrower_not_eligible",
        f"the administrative pool lends only to municipal administrative organs; {unit_id} is "
        f"a {unit.level} {unit.kind} unit",
        f"行政编制周转池只借给市级党政机关，{unit_id} 不符合条件",
    )


def admin_pool_active(state: State) -> Violation | None:
    """While the municipal administrative organs as a whole are over quota, it lends nothing."""
    if not state.admin_suspended:
        return None
    return Violation(
        "admin.pool_suspended",
        "municipal administrative organs as a whole are over quota; the administrative pool "
        "lends nothing",
        "市级行政机关总体超编，行政编制周转池暂停出借",
    )
