"""SPEC 2.6 — monitoring: the alerts that every headcount update (and every status) shows.

Over-quota units; loans about to expire (within `Settings.expiry_warning_days`) and loans
overdue (expired, awaiting their evaluation); pools whose capacity fell below what they lent;
the administrative pool suspended; the institutional pool's period ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from pools.vocabulary import LoanStatus, PoolKind, add_days

if TYPE_CHECKING:
    from pools.state import State


@dataclass(frozen=True)
class Alert:
    kind: str  # over_quota, loan_overdue, loan_expiring, pool_below_lent, pool_suspended, …
    message: str
    unit_id: str | None = None
    loan_id: str | None = None
    pool: PoolKind | None = None


def alerts(state: State, day: date) -> list[Alert]:
    """Every alert of the ledger as of `day`, units first, then loans, then pools."""
    found: list[Alert] = []
    for unit in state.units.values():
        if unit.over_quota:
            found.append(
                Alert(
                    "over_quota",
                    f"{unit.unit_id} {unit.name}: {unit.headcount} on own quota, "
                    f"limit {unit.own_limit}; may only lose people (超编，只出不进)",
                    unit_id=unit.unit_id,
                )
            )
    horizon = add_days(day, state.settings.expiry_warning_days)
    for loan in state.loans.values():
        if loan.status is LoanStatus.CLOSED or loan.end is None:
            continue
        if loan.status_on(day) is LoanStatus.EXPIRED:
            found.append(
                Alert(
                    "loan_overdue",
                    f"loan {loan.loan_id} to {loan.borrower} ended on {loan.end} "
                    "and awaits its performance evaluation (到期待评估)",
                    unit_id=loan.borrower,
                    loan_id=loan.loan_id,
                )
            )
        elif loan.end <= horizon:
            found.append(
                Alert(
                    "loan_expiring",
                    f"loan {loan.loan_id} to {loan.borrower} ends on {loan.end} (即将到期)",
                    unit_id=loan.borrower,
                    loan_id=loan.loan_id,
                )
            )
    for pool in (PoolKind.ADMIN, PoolKind.INSTITUTIONAL):
        capacity, lent = state.pool_capacity(pool), state.pool_lent[pool]
        if lent > capacity:
            found.append(
                Alert(
                    "pool_below_lent",
                    f"{pool} pool capacity {capacity} is below the {lent} lent; no new loans "
                    "until it recovers (容量低于已借出)",
                    pool=pool,
                )
            )
    if state.admin_suspended:
        found.append(
            Alert(
                "pool_suspended",
                "municipal administrative organs as a whole are over quota; the "
                "administrative pool lends nothing (市级行政机关总体超编)",
                pool=PoolKind.ADMIN,
            )
        )
    if state.inst_period_end is not None and state.inst_period_end <= day:
        found.append(
            Alert(
                "pool_period_ended",
                f"institutional pool period ended on {state.inst_period_end}; "
                "rebuild it (到期重建)",
                pool=PoolKind.INSTITUTIONAL,
            )
        )
    return found
