"""Typed results of the ledger's commands and reads, and the ONE place where they (and the
domain values in them: enums, dates, pools) become the JSON documents of SPEC 3.3.

`Ledger` returns `to_json(result)`: plain dicts, lists, strings and numbers, as the command
line prints them and the app reads them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pools.rules.admin_pool import admin_pool_suspended
from pools.rules.loans import CityTotals
from pools.rules.monitoring import Alert
from pools.vocabulary import KeyMode, PoolKind, PoolRef, ReturnCause, day_text

if TYPE_CHECKING:
    from pools.state import LoanState, State, UnitState


# ---- typed results -------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminPoolFigures:
    capacity: int
    lent: int
    suspended: bool
    vacancy_base: int  # own vacancies of the municipal administrative organs
    share: float

    @property
    def available(self) -> int:
        return self.capacity - self.lent  # negative: capacity fell below what is lent


@dataclass(frozen=True)
class InstitutionalPoolFigures:
    capacity: int
    lent: int
    period_end: date | None

    @property
    def available(self) -> int:
        return self.capacity - self.lent


@dataclass(frozen=True)
class PoolFigures:
    admin: AdminPoolFigures
    institutional: InstitutionalPoolFigures


def pool_figures(state: State) -> PoolFigures:
    return PoolFigures(
        AdminPoolFigures(
            state.admin_capacity,
            state.pool_lent[PoolKind.ADMIN],
            admin_pool_suspended(state.admin_net),
            state.admin_vacancies,
            state.settings.admin_share,
        ),
        InstitutionalPoolFigures(
            state.inst_capacity, state.pool_lent[PoolKind.INSTITUTIONAL], state.inst_period_end
        ),
    )


@dataclass(frozen=True)
class Returned:
    """Quotas of a loan that came back to its pool or lender."""

    loan_id: str
    cause: ReturnCause
    count: int
    unit_id: str  # the borrower
    pool: PoolRef


@dataclass(frozen=True)
class UnitChange:
    unit_id: str
    change: str  # registered | updated | removed
    fields: dict[str, list[Any]] | None = None  # updated: {field: [old, new]}


@dataclass(frozen=True)
class SyncResult:
    events: int
    changes: list[UnitChange]
    returns: list[Returned]
    expired: list[str]
    pools_before: PoolFigures
    pools: PoolFigures
    alerts: list[Alert]


@dataclass(frozen=True)
class LoanResult:
    loan: LoanState
    replayed: bool  # the idempotency key had opened this loan already: nothing new written
    day: date
    pools: PoolFigures


@dataclass(frozen=True)
class ReturnResult:
    loan: LoanState
    day: date
    returns: list[Returned]
    alerts: list[Alert]


@dataclass(frozen=True)
class EvaluationResult:
    loan: LoanState
    day: date
    returns: list[Returned]


@dataclass(frozen=True)
class LedgerStatus:
    as_of: date
    seq: int
    hash: str
    pools: PoolFigures
    totals: CityTotals
    units: list[UnitState]
    loans: list[LoanState]  # not closed
    alerts: list[Alert]
    key_mode: KeyMode = KeyMode.LEGACY


# ---- to JSON: the one place ----------------------------------------------------------------


@functools.singledispatch
def to_json(result: Any) -> Any:
    """The SPEC 3.3 JSON of a typed result (plain values pass through)."""
    return result


@to_json.register
def _(result: LedgerStatus) -> dict[str, Any]:
    day = result.as_of
    return {
        "as_of": day.isoformat(),
        "head": {"seq": result.seq, "hash": result.hash},
        "pools": pools_json(result.pools),
        "totals": totals_json(result.totals),
        "units": [unit_json(unit) for unit in result.units],
        "loans": [loan_json(loan, day) for loan in result.loans],
        "alerts": [alert_json(alert) for alert in result.alerts],
        "demo": result.key_mode is KeyMode.DEMO,
        "chain_key": result.key_mode.value,
    }


@to_json.register
def _(result: LoanResult) -> dict[str, Any]:
    return {
        "loan_id": result.loan.loan_id,
        "replayed": result.replayed,
        "loan": loan_json(result.loan, result.day),
        "pools": pools_json(result.pools),
    }


@to_json.register
def _(result: ReturnResult) -> dict[str, Any]:
    return {
        "loan_id": result.loan.loan_id,
        "returns": [returned_json(item) for item in result.returns],
        "loan": loan_json(result.loan, result.day),
        "alerts": [alert_json(alert) for alert in result.alerts],
    }


@to_json.register
def _(result: EvaluationResult) -> dict[str, Any]:
    return {
        "loan": loan_json(result.loan, result.day),
        "returns": [returned_json(item) for item in result.returns],
    }


@to_json.register
def _(result: SyncResult) -> dict[str, Any]:
    return {
        "events": result.events,
        "changes": [change_json(change) for change in result.changes],
        "returns": [returned_json(item) for item in result.returns],
        "expired": list(result.expired),
        "pools_before": pools_json(result.pools_before),
        "pools": pools_json(result.pools),
        "alerts": [alert_json(alert) for alert in result.alerts],
    }


@to_json.register
def _(result: InstitutionalPoolFigures) -> dict[str, Any]:
    return {
        "capacity": result.capacity,
        "lent": result.lent,
        "available": result.available,
        "period_end": day_text(result.period_end),
    }


def pools_json(pools: PoolFigures) -> dict[str, dict[str, Any]]:
    admin = pools.admin
    return {
        PoolKind.ADMIN.value: {
            "capacity": admin.capacity,
            "lent": admin.lent,
            "available": admin.available,
            "suspended": admin.suspended,
            "vacancy_base": admin.vacancy_base,
            "share": admin.share,
        },
        PoolKind.INSTITUTIONAL.value: to_json(pools.institutional),
    }


def totals_json(totals: CityTotals) -> dict[str, int]:
    return {
        "approved": totals.approved,
        "headcount": totals.headcount,
        "borrowed_headcount": totals.borrowed_headcount,
        "pool_headcount": totals.pool_headcount,
        "in_post": totals.in_post,
    }


def unit_json(unit: UnitState) -> dict[str, Any]:
    return {
        "unit_id": unit.unit_id,
        "name": unit.name,
        "region": unit.region,
        "level": unit.level,
        "kind": unit.kind,
        "sector": unit.sector,
        "parent": unit.parent,
        "approved": unit.approved,
        "headcount": unit.headcount,
        "pool_headcount": unit.pool_headcount,
        "borrowed": unit.borrowed,
        "lent": unit.lent,
        "usable": unit.usable,
        "vacancies": unit.vacancies,
        "over_quota": unit.over_quota,
    }


def loan_json(loan: LoanState, day: date | None = None) -> dict[str, Any]:
    """A loan; its status as of `day` if given (a term that has run out reads as expired)."""
    status = loan.status_on(day) if day else loan.status
    return {
        "loan_id": loan.loan_id,
        "pool": loan.pool.text,
        "unit_id": loan.borrower,
        "lender": loan.pool.lender,
        "count": loan.count,
        "outstanding": loan.outstanding,
        "purpose": loan.purpose,
        "opened": loan.opened.isoformat(),
        "end": day_text(loan.end),
        "status": status.value,
        "returned": {cause.value: count for cause, count in loan.returned.items()},
        "evaluations": [
            {
                "date": evaluation.day.isoformat(),
                "score": evaluation.score,
                "decision": evaluation.decision.value,
                "new_end": day_text(evaluation.new_end),
            }
            for evaluation in loan.evaluations
        ],
        "key": loan.idem_key,
        "actor": loan.actor,
        "document": loan.document,
        "reversed_by": loan.reversed_by or None,  # the reversing entry (冲销), if any
    }


def alert_json(alert: Alert) -> dict[str, Any]:
    found: dict[str, Any] = {"kind": alert.kind}
    if alert.unit_id is not None:
        found["unit_id"] = alert.unit_id
    if alert.loan_id is not None:
        found["loan_id"] = alert.loan_id
    if alert.pool is not None:
        found["pool"] = alert.pool.value
    found["message"] = alert.message
    return found


def returned_json(item: Returned) -> dict[str, Any]:
    """空一还一 returns name the borrower and the pool; by hand, the borrower, count and cause;
    by evaluation, the count and cause."""
    if item.cause is ReturnCause.VACANCY:
        return {"loan_id": item.loan_id, "unit_id": item.unit_id, "pool": item.pool.text}
    if item.cause is ReturnCause.MANUAL:
        return {
            "loan_id": item.loan_id,
            "unit_id": item.unit_id,
            "count": item.count,
            "cause": item.cause.value,
        }
    return {"loan_id": item.loan_id, "count": item.count, "cause": item.cause.value}


def change_json(change: UnitChange) -> dict[str, Any]:
    found: dict[str, Any] = {"unit_id": change.unit_id, "change": change.change}
    if change.fields is not None:
        found["fields"] = change.fields
    return found


# ---- teacher quota accounts (SPEC 2.9) ------------------------------------------------------

if TYPE_CHECKING:
    from pools.teacher_book import TeacherApplication, TeacherBook


@dataclass(frozen=True)
class TeacherPlanResult:
    application: TeacherApplication
    replayed: bool  # the idempotency key had applied this plan already: nothing new written
    names: dict[str, str]  # county id -> name
    events: int  # written by this call


def teacher_application_json(
    application: TeacherApplication, names: dict[str, str] | None = None
) -> dict[str, Any]:
    before, after = application.before, application.after
    counties = [
        {
            "county_id": county,
            "name": (names or {}).get(county, ""),
            "before": before.get(county),
            "after": after.get(county),
            "change": after.get(county, 0) - before.get(county, 0),
        }
        for county in [*before, *(c for c in after if c not in before)]
    ]
    return {
        "application": application.application,
        "plan_id": application.plan_id,
        "scenario_hash": application.scenario_hash,
        "year": application.year,
        "seq": application.started_seq,
        "effective": application.effective.isoformat(),
        "actor": application.actor,
        "document": application.document,
        "key": application.idem_key,
        "extra_quota": application.extra_quota,
        "total_before": application.total_before,
        "total_after": application.total_after,
        "counties": counties,
    }


@to_json.register
def _(result: TeacherPlanResult) -> dict[str, Any]:
    return {
        "replayed": result.replayed,
        "events": result.events,
        **teacher_application_json(result.application, result.names),
    }


def teacher_json(book: TeacherBook) -> dict[str, Any]:
    """`ledger status`'s "teacher": each county's teacher quota account and the plans applied."""
    return {
        "total": book.total(),
        "counties": [
            {
                "county_id": account.county_id,
                "name": account.name,
                "quota": account.quota,
                "last_plan": account.last_plan,
                "last_applied": day_text(account.last_applied),
            }
            for account in book.accounts.values()
        ],
        "applications": [
            {
                key: value
                for key, value in teacher_application_json(application).items()
                if key != "counties"
            }
            for application in book.applications.values()
        ],
    }
