"""Every backend gives the exact method's plan on whole scenarios: the cases an independent
check found (`cases/backends_disagree/`), and random cities in their shapes — 2001 standards
(scaled needs near 10¹³), floors above need, over-quota counties, caps, extra quota, 20–40
counties, one to four years."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.need import Standards
from optimizer.plan import PlanResult, Policy, make_plan
from optimizer.scenario import load_inputs, load_scenario

CASES = Path(__file__).parent / "cases" / "backends_disagree"
CASE_FILES = sorted(CASES.glob("*/scenario.toml")) + sorted(CASES.glob("minimal/*/scenario.toml"))
MILP = ("highs", "cbc", "ortools")
PLAN_COLUMNS = ["new", "limited_by", "lowest_allowed", "highest_allowed"]


def same_plan(left: PlanResult, right: PlanResult) -> None:
    """The same status, plan, reasons and exact figures, year by year."""
    assert left.summary["status"] == right.summary["status"] == "optimal"
    pd.testing.assert_frame_equal(left.table[PLAN_COLUMNS], right.table[PLAN_COLUMNS])
    exact_keys = ("moved", "max_relative_shortfall_exact", "total_shortfall_exact")
    for mine, theirs in zip(
        left.summary.get("per_year", [left.summary]),
        right.summary.get("per_year", [right.summary]),
        strict=True,
    ):
        assert [mine.get(k) for k in exact_keys] == [theirs.get(k) for k in exact_keys]


def with_solver(policy: Policy, solver: str) -> Policy:
    return dataclasses.replace(policy, solver=solver)


@pytest.mark.parametrize("solver", MILP)
@pytest.mark.parametrize("case", CASE_FILES, ids=lambda p: str(p.parent.relative_to(CASES)))
def test_reported_case_plans_as_exact(case: Path, solver: str):
    scenario = load_scenario(case)
    counties, enrolment = load_inputs(scenario)
    exact = make_plan(
        counties, enrolment, scenario.standards, with_solver(scenario.policy, "exact")
    )
    milp = make_plan(counties, enrolment, scenario.standards, with_solver(scenario.policy, solver))
    same_plan(milp, exact)


def test_reported_cases_are_the_ones_that_failed():
    """The copies in the repo still hold the shapes reported (so the test above can fail)."""
    names = {str(p.parent.relative_to(CASES)) for p in CASE_FILES}
    assert {
        "cbc-multiyear-stage-infeasible",
        "ortools-multiyear-suboptimal-movement",
        "limited-by-floor-said-covered",
        "minimal/cbc_fair_level",
        "minimal/cbc_stage_infeasible",
        "minimal/ortools_movement",
    } <= names
    multiyear = load_scenario(CASES / "cbc-multiyear-stage-infeasible" / "scenario.toml")
    assert multiyear.policy.solver == "cbc" and multiyear.standards.by_class is not None
    _, enrolment = load_inputs(multiyear)
    assert enrolment["year"].nunique() == 3


# ---------------------------------------------------------------- random cities

CLASSES = ("urban", "town", "rural")


@st.composite
def cities(draw, min_size: int = 20, max_size: int = 40):
    """A city in the shapes the independent check found hard, as the tables `make_plan` reads."""
    size = draw(st.integers(min_size, max_size))
    years = draw(st.integers(1, 4))
    rows, pupils = [], []
    for i in range(size):
        county_id = f"33{i:04d}"
        quota = draw(st.integers(50, 3000))
        occupied = quota + draw(st.integers(-quota // 5, quota // 20))  # some over quota
        need_like = draw(st.integers(quota // 2, quota * 3 // 2))
        floor = draw(st.one_of(st.none(), st.none(), st.integers(quota // 2, quota * 21 // 20)))
        rows.append(
            {
                "county_id": county_id,
                "name": f"县{i}",
                "quota": quota,
                "occupied": occupied,
                "attrition": draw(st.integers(0, quota // 10)),
                "min_quota": floor,
                "max_gain": draw(st.one_of(st.none(), st.integers(0, quota // 5))),
                "class": draw(st.sampled_from(CLASSES)),
            }
        )
        for year in range(years):
            drift = 1 + draw(st.integers(-8, 8)) / 100
            for level, share, ratio in (
                ("primary", 0.55, 21),
                ("junior", 0.3, 16),
                ("senior", 0.15, 13),
            ):
                students = int(need_like * share * ratio * drift) + draw(st.integers(0, 30))
                pupils.append((county_id, level, students, 2026 + year if years > 1 else None))
    counties = pd.DataFrame(rows)
    for column in ("min_quota", "max_gain"):
        counties[column] = pd.array(counties[column].tolist(), dtype="Int64")
    enrolment = pd.DataFrame(pupils, columns=["county_id", "level", "students", "year"])
    enrolment["year"] = pd.array(enrolment["year"].tolist(), dtype="Int64")
    policy = Policy(
        extra_quota=draw(st.integers(0, 300)),
        objective=draw(st.sampled_from(["fair", "shortfall", "movement"])),
    )
    return counties, enrolment, policy


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["highs", "ortools"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(city=cities())
def test_backend_plans_random_city_as_exact(city, solver: str):
    counties, enrolment, policy = city
    standards = Standards.of_2001()
    exact = make_plan(counties, enrolment, standards, policy)
    milp = make_plan(counties, enrolment, standards, with_solver(policy, solver))
    if exact.summary["status"] != "optimal":
        assert milp.summary["status"] == exact.summary["status"]
        return
    same_plan(milp, exact)


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(city=cities(min_size=8, max_size=25))
def test_cbc_plans_random_city_as_exact(city):
    """CBC runs a subprocess per stage, so fewer and smaller cities."""
    counties, enrolment, policy = city
    standards = Standards.of_2001()
    exact = make_plan(counties, enrolment, standards, policy)
    milp = make_plan(counties, enrolment, standards, with_solver(policy, "cbc"))
    if exact.summary["status"] != "optimal":
        assert milp.summary["status"] == exact.summary["status"]
        return
    same_plan(milp, exact)


def test_polishing_counts_what_a_solver_left(monkeypatch):
    """A backend whose plan is off by one exchange is finished exactly and says so."""
    from optimizer import backends
    from optimizer.exact import Problem

    real = backends.BACKENDS["highs"]

    def sloppy(model, time_limit=None):
        result = real(model, time_limit)
        if result.values is None:
            return result
        values = result.values.copy()  # x comes first: move one quota from county 0 to 2
        values[0] -= 1
        values[2] += 1
        return backends.BackendResult(result.status, values)

    monkeypatch.setitem(backends.BACKENDS, "sloppy", sloppy)
    # Needs 10, current 5 each, 3 extra quotas: any 3 gains cost the same shortfall and
    # movement, and the tie-break gives them to the first county: [8, 5, 5].
    problem = Problem(
        np.array([10, 10, 10]),
        1,
        np.array([5, 5, 5]),
        np.array([0, 0, 0]),
        np.array([18, 18, 18]),
        18,
    )
    solution = backends.solve_milp(problem, "shortfall", "sloppy")
    assert solution.x.tolist() == [8, 5, 5]
    assert solution.polished >= 1
