"""The teacher quota accounts of the folded ledger (SPEC 2.9): `State.teacher`.

Each county's teacher quota (教职工编制) is an account; the city's teacher pool holds what a
plan group has released and not yet allocated (zero outside a group). The fold (`pools.state`)
calls the `on_*` methods; each returns the rule broken (a `Violation`) or None, and changes
the book only when nothing is broken. Invariants, at every event:

    Σ county quotas + pool = total before the group + the group's extra_quota

and at the end of a group the pool is empty and the total changed by exactly extra_quota
(`pools.rules.teacher_quota.total_changes_by_extra`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pools.events import (
    TeacherCountyRegistered,
    TeacherPlanCompleted,
    TeacherPlanStarted,
    TeacherQuotaAllocated,
    TeacherQuotaReleased,
)
from pools.rules.teacher_quota import (
    application_id,
    plan_not_applied,
    plan_not_stale,
    quota_valid,
    total_changes_by_extra,
)
from pools.rules.violations import Violation


@dataclass(slots=True)
class TeacherAccount:
    county_id: str
    name: str
    quota: int
    last_plan: str | None = None  # the application that last changed or confirmed it
    last_applied: date | None = None


@dataclass(slots=True)
class TeacherApplication:
    """A plan applied: where it is in the ledger and what it changed."""

    application: str  # plan id, and year of a multi-year plan (`application_id`)
    plan_id: str
    scenario_hash: str
    year: int | None
    extra_quota: int
    started_seq: int
    effective: date
    actor: str
    document: str
    reason: str
    idem_key: str | None
    before: dict[str, int]
    after: dict[str, int] = field(default_factory=dict)
    total_before: int = 0
    total_after: int | None = None  # None while the group is open

    def where(self) -> str:
        return f"event {self.started_seq}, {self.effective.isoformat()}, 文号 {self.document!r}"


@dataclass
class OpenGroup:
    application: TeacherApplication
    pool: int  # released (and extra) not yet allocated
    total_before: int


@dataclass
class TeacherBook:
    """The counties' teacher quota accounts and the plans applied to them (plain data, so a
    state snapshot holds it)."""

    accounts: dict[str, TeacherAccount] = field(default_factory=dict)
    applications: dict[str, TeacherApplication] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # idempotency key -> application id
    open: OpenGroup | None = None

    # ---- figures ----------------------------------------------------------------------

    def quotas(self) -> dict[str, int]:
        return {county: account.quota for county, account in self.accounts.items()}

    def total(self) -> int:
        return sum(account.quota for account in self.accounts.values())

    def applied_where(self) -> dict[str, str]:
        return {name: app.where() for name, app in self.applications.items()}

    # ---- the fold ---------------------------------------------------------------------

    def on_registered(self, p: TeacherCountyRegistered) -> Violation | str | None:
        if p.county_id in self.accounts:
            return f"teacher county {p.county_id} is already registered"
        if self.open is not None:
            return "a teacher county is registered inside a plan group"
        broken = quota_valid(p.county_id, p.quota)
        if broken is not None:
            return broken
        self.accounts[p.county_id] = TeacherAccount(p.county_id, p.name, p.quota)
        return None

    def on_started(
        self,
        p: TeacherPlanStarted,
        *,
        seq: int,
        day: date,
        actor: str,
        document: str,
        reason: str,
        idem_key: str | None,
    ) -> Violation | str | None:
        if self.open is not None:
            return "a plan group starts inside another"
        name = application_id(p.plan_id, p.year)
        for broken in (
            plan_not_applied(self.applied_where(), name),
            plan_not_stale(self.quotas(), p.current),
        ):
            if broken is not None:
                return broken
        unknown = [county for county in p.current if county not in self.accounts]
        if unknown:
            return f"plan {p.plan_id} names counties without an account: {unknown[:5]}"
        total = self.total()
        application = TeacherApplication(
            name, p.plan_id, p.scenario_hash, p.year, p.extra_quota, seq, day, actor, document,
            reason, idem_key, dict(p.current), total_before=total,
        )  # fmt: skip
        self.open = OpenGroup(application, p.extra_quota, total)
        return None

    def on_released(self, p: TeacherQuotaReleased) -> Violation | str | None:
        group, account = self._group_account(p.plan_id, p.county_id)
        if isinstance(group, str):
            return group
        assert account is not None
        if p.count <= 0 or p.count > account.quota:
            return f"county {p.county_id} cannot release {p.count} of its {account.quota} quotas"
        account.quota -= p.count
        group.pool += p.count
        return None

    def on_allocated(self, p: TeacherQuotaAllocated) -> Violation | str | None:
        group, account = self._group_account(p.plan_id, p.county_id)
        if isinstance(group, str):
            return group
        assert account is not None
        if p.count <= 0 or p.count > group.pool:
            return (
                f"the city's teacher pool holds {group.pool}, "
                f"it cannot allocate {p.count} to county {p.county_id}"
            )
        account.quota += p.count
        group.pool -= p.count
        return None

    def on_completed(self, p: TeacherPlanCompleted, day: date) -> Violation | str | None:
        group = self.open
        if group is None or group.application.plan_id != p.plan_id:
            return f"plan {p.plan_id} completes a group it did not start"
        total = self.total()
        broken = total_changes_by_extra(
            group.total_before, total, group.application.extra_quota
        ) or total_changes_by_extra(
            group.total_before, p.total_after, group.application.extra_quota
        )
        if broken is not None:
            return broken
        if group.pool != 0:
            return f"plan {p.plan_id}: {group.pool} quotas left in the city's teacher pool"
        if p.total_before != group.total_before:
            return (
                f"plan {p.plan_id} says the total was {p.total_before}, "
                f"the accounts held {group.total_before}"
            )
        application = group.application
        application.after = self.quotas()
        application.total_after = total
        for account in self.accounts.values():
            account.last_plan = application.application
            account.last_applied = day
        self.applications[application.application] = application
        if application.idem_key is not None:
            self.keys[application.idem_key] = application.application
        self.open = None
        return None

    def _group_account(
        self, plan_id: str, county_id: str
    ) -> tuple[OpenGroup, TeacherAccount] | tuple[str, None]:
        group = self.open
        if group is None or group.application.plan_id != plan_id:
            return f"quota of plan {plan_id} moves outside its group", None
        account = self.accounts.get(county_id)
        if account is None:
            return f"teacher county {county_id} has no account", None
        return group, account
