"""make_plan end to end on DataFrames: golden plans worked out by hand, limits, explanations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.plan import LIMITED_BY_ZH, TABLE_COLUMNS, Policy, make_plan


def counties(rows: list[dict]) -> pd.DataFrame:
    """rows: county_id, quota, occupied and optionally attrition, min_quota, max_gain."""
    frame = pd.DataFrame(
        {
            "county_id": [r["county_id"] for r in rows],
            "name": [r.get("name", r["county_id"] + "县") for r in rows],
            "quota": [r["quota"] for r in rows],
            "occupied": [r["occupied"] for r in rows],
            "attrition": [r.get("attrition", 0) for r in rows],
            "min_quota": pd.array([r.get("min_quota") for r in rows], dtype="Int64"),
            "max_gain": pd.array([r.get("max_gain") for r in rows], dtype="Int64"),
            "class": [r.get("class") for r in rows],
        }
    )
    return frame


def primary(pupils: dict[str, int], year: int | None = None) -> pd.DataFrame:
    """Primary pupils only: need = pupils / 19."""
    return pd.DataFrame(
        {
            "county_id": list(pupils),
            "level": ["primary"] * len(pupils),
            "students": list(pupils.values()),
            "year": pd.array([year] * len(pupils), dtype="Int64"),
        }
    )


def plan_of(result) -> dict[str, int]:
    return dict(zip(result.table["county_id"], result.table["new"].astype(int), strict=True))


def reasons(result) -> dict[str, str]:
    return dict(zip(result.table["county_id"], result.table["limited_by"], strict=True))


SOLVERS = ["exact", "highs", "cbc", "ortools"]


@pytest.mark.parametrize("solver", SOLVERS)
def test_golden_stage_one_is_not_the_lp_level(solver):
    """Needs A 10, B 20, C 30 (190, 380, 570 pupils / 19); current 8, 20, 22 (total 50), all
    fully occupied except slack: occupied 0, so the lower bounds are 0.
    LP level: 1 − 50/60 = 1/6, but then whole quotas need 9 + 17 + 25 = 51 > 50.
    Breakpoints above 1/6: 1 − 8/10 = 1 − 16/20 = 1 − 24/30 = 1/5 (1 − 17/20 = 0.15 is below),
    needing 8 + 16 + 24 = 48 ≤ 50, so t* = 1/5 and floors are (8, 16, 24), 2 units left.
    Every county is below need (Δshortfall −1 each); A is at its current 8 (Δmovement +1),
    B is below its current 20 (Δmovement −1), C is above 22 (+1): both units go to B.
    Plan (8, 18, 24): shortfall 2 + 2 + 6 = 10, movement 0 + 2 + 2 = 4, and 2 quotas
    moved (C's two gains; SPEC 3.7 counts each quota once) — unique.
    A (2/10) and C (6/30) sit at the common level 1/5; B got units below its need."""
    frame = counties(
        [
            {"county_id": "A", "quota": 8, "occupied": 0},
            {"county_id": "B", "quota": 20, "occupied": 0},
            {"county_id": "C", "quota": 22, "occupied": 0},
        ]
    )
    result = make_plan(frame, primary({"A": 190, "B": 380, "C": 570}), policy=Policy(solver=solver))
    assert plan_of(result) == {"A": 8, "B": 18, "C": 24}
    assert result.summary["status"] == "optimal"
    assert result.summary["max_relative_shortfall_exact"] == "1/5"
    assert result.summary["total_shortfall"] == 10
    assert result.summary["movement"] == 4
    assert result.summary["moved"] == 2
    assert reasons(result) == {"A": "common_level", "B": "total_used", "C": "common_level"}


@pytest.mark.parametrize("solver", SOLVERS)
def test_golden_over_quota_county_keeps_what_it_has_and_no_more(solver):
    """A: quota 100, 110 in post (over quota), need 1710/19 = 90. B: quota 50, full, need
    1520/19 = 80. C: quota 60, 40 in post, need 760/19 = 40. Total 210.
    Lower bounds min(quota, occupied): A 100 (not 110: not handed more for the people above
    quota; not 90: it cannot shed people in post), B 50, C 40.
    Fair: B ≤ 210 − 100 − 40 = 70, so the level is 1 − 70/80 = 1/8 (C: ceil(40·7/8) = 35 < 40).
    Plan (100, 70, 40), B shares the common level, A is held by its release limit."""
    frame = counties(
        [
            {"county_id": "A", "quota": 100, "occupied": 110},
            {"county_id": "B", "quota": 50, "occupied": 50},
            {"county_id": "C", "quota": 60, "occupied": 40},
        ]
    )
    result = make_plan(
        frame, primary({"A": 1710, "B": 1520, "C": 760}), policy=Policy(solver=solver)
    )
    assert plan_of(result) == {"A": 100, "B": 70, "C": 40}
    assert result.summary["max_relative_shortfall_exact"] == "1/8"
    assert reasons(result) == {"A": "release_limit", "B": "common_level", "C": "covered"}


@pytest.mark.parametrize("solver", SOLVERS)
def test_golden_max_gain_and_min_quota_bind(solver):
    """A: quota 50, full, need 100, max_gain 10 (cap 60). B: quota 100, 40 in post, need 20,
    min_quota 70. C: quota 50, 30 in post, need 80. Total 200.
    Stage 1: A ≤ 60 forces t ≥ 1 − 60/100 = 0.4; at 0.4 floors are 60, 70, ceil(48) = 48,
    sum 178 ≤ 200, so t* = 0.4. Remaining 22 units: C's units are (−1, −1) up to its current
    50, then (−1, +1) up to 80; B's units are (0, −1): all 22 go to C → C 70, B stays at 70.
    Shortfall 40 + 0 + 10 = 50 is the least with A ≤ 60 and B ≥ 70. Unique: A must be 60 for
    the level, B at its floor, C = 70."""
    frame = counties(
        [
            {"county_id": "A", "quota": 50, "occupied": 50, "max_gain": 10},
            {"county_id": "B", "quota": 100, "occupied": 40, "min_quota": 70},
            {"county_id": "C", "quota": 50, "occupied": 30},
        ]
    )
    result = make_plan(
        frame, primary({"A": 1900, "B": 380, "C": 1520}), policy=Policy(solver=solver)
    )
    assert plan_of(result) == {"A": 60, "B": 70, "C": 70}
    assert result.summary["total_shortfall"] == 50
    assert reasons(result) == {"A": "cap", "B": "floor", "C": "total_used"}
    assert result.table.loc[0, "limited_by_zh"] == LIMITED_BY_ZH["cap"]


@pytest.mark.parametrize("solver", SOLVERS)
def test_golden_extra_quota_goes_to_the_largest_fractional_need(solver):
    """A: need 200/19 = 10.526, B: 195/19 = 10.263; both quota 10, full; extra_quota 1 → 21.
    Fair: at t = 0 floors are 11 + 11 = 22 > 21. Breakpoints: B 1 − 10/(195/19) = 1/39,
    A 1 − 10/(200/19) = 1/20. At 1/39: A ceil(10.256) = 11, B 10 → 21, so t* = 1/39, plan
    (11, 10). Shortfall objective: the extra unit's value is −frac(need): A −0.526 beats
    B −0.263, same plan. Movement objective: both units cost +1 movement, then shortfall
    decides: same plan.
    Reasons (fair): A at 11 ≥ 10.526 is covered; B's relative shortfall (195/19 − 10)/(195/19)
    = 5/195 = 1/39 is exactly the common level."""
    frame = counties(
        [
            {"county_id": "A", "quota": 10, "occupied": 10},
            {"county_id": "B", "quota": 10, "occupied": 10},
        ]
    )
    for objective in ("fair", "shortfall", "movement"):
        policy = Policy(extra_quota=1, objective=objective, solver=solver)
        result = make_plan(frame, primary({"A": 200, "B": 195}), policy=policy)
        assert plan_of(result) == {"A": 11, "B": 10}, objective
        assert result.summary["total_after"] == 21
        assert result.summary["total_before"] == 20
        if objective == "fair":
            assert result.summary["max_relative_shortfall_exact"] == "1/39"
            assert reasons(result) == {"A": "covered", "B": "common_level"}


def test_movement_objective_keeps_current_quotas_when_the_total_is_unchanged():
    """Moving nothing costs 0 movement, the least possible, whatever the needs."""
    frame = counties(
        [
            {"county_id": "A", "quota": 10, "occupied": 0},
            {"county_id": "B", "quota": 10, "occupied": 0},
        ]
    )
    result = make_plan(frame, primary({"A": 0, "B": 1900}), policy=Policy(objective="movement"))
    assert plan_of(result) == {"A": 10, "B": 10}
    assert set(reasons(result).values()) == {"keeps_current", "covered"}


def test_table_columns_and_values():
    frame = counties(
        [
            {"county_id": "A", "quota": 10, "occupied": 0},
            {"county_id": "B", "quota": 10, "occupied": 0},
        ]
    )
    result = make_plan(frame, primary({"A": 0, "B": 380}))
    table = result.table
    assert list(table.columns) == TABLE_COLUMNS
    row = table.set_index("county_id").loc["B"]
    assert (row["need"], row["current"], row["new"], row["change"]) == (20.0, 10, 20, 10)
    assert (row["shortfall_before"], row["shortfall_after"]) == (10.0, 0.0)
    for key in ("status", "objective", "solver", "seconds", "total_before", "total_after"):
        assert key in result.summary
    for key in ("max_relative_shortfall", "total_shortfall", "moved", "movement"):
        assert key in result.summary


def test_floors_above_the_total_are_explained_not_solved():
    """Release limits 120 + 120 = 240 > total 200 (quota 100 each, extra 0)... here occupied 120
    > quota 100 gives lower bound 100 each; add min_quota 140 on A: 140 + 100 = 240 > 200."""
    frame = counties(
        [
            {"county_id": "A", "quota": 100, "occupied": 120, "min_quota": 140},
            {"county_id": "B", "quota": 100, "occupied": 120},
        ]
    )
    result = make_plan(frame, primary({"A": 1900, "B": 1900}))
    assert result.summary["status"] == "infeasible"
    text = " ".join(result.summary["explanation"])
    assert "add up to 240" in text and "city total is 200" in text
    assert "A" in text and "floor" in text
    assert result.summary["explanation_zh"]
    assert result.table["new"].isna().all()


def test_floor_above_cap_is_named():
    frame = counties(
        [
            {"county_id": "A", "quota": 100, "occupied": 0, "min_quota": 150, "max_gain": 20},
            {"county_id": "B", "quota": 100, "occupied": 0},
        ]
    )
    result = make_plan(frame, primary({"A": 1900, "B": 1900}))
    assert result.summary["status"] == "infeasible"
    assert any("above its cap 120" in s for s in result.summary["explanation"])


def test_caps_too_small_for_the_total_are_explained():
    frame = counties(
        [
            {"county_id": "A", "quota": 100, "occupied": 0, "max_gain": 0},
            {"county_id": "B", "quota": 100, "occupied": 0, "max_gain": 5},
        ]
    )
    result = make_plan(frame, primary({"A": 1900, "B": 1900}), policy=Policy(extra_quota=10))
    assert result.summary["status"] == "infeasible"
    assert any("caps add up to 205" in s for s in result.summary["explanation"])


def test_unknown_objective_or_solver_is_a_value_error():
    frame = counties([{"county_id": "A", "quota": 1, "occupied": 0}])
    with pytest.raises(ValueError, match="objective"):
        make_plan(frame, primary({"A": 19}), policy=Policy(objective="cheapest"))
    with pytest.raises(ValueError, match="solver"):
        make_plan(frame, primary({"A": 19}), policy=Policy(solver="gurobi"))


def test_multi_year_moves_stay_within_each_years_releasable_quota():
    """A: quota 100, 100 in post, 30 departures over 3 years (10 a year), need falls to 0;
    B: quota 100, full, need 190 in every year. Each year A may release only its vacancies
    plus that year's 10 departures: 100 → 90 → 80 → 70, B gains the same."""
    frame = counties(
        [
            {"county_id": "A", "quota": 100, "occupied": 100, "attrition": 30},
            {"county_id": "B", "quota": 100, "occupied": 100},
        ]
    )
    enrolment = pd.concat([primary({"A": 0, "B": 3610}, year) for year in (2027, 2028, 2029)])
    result = make_plan(frame, enrolment)
    table = result.table
    assert list(table["year"]) == [2027, 2027, 2028, 2028, 2029, 2029]
    a = table[table["county_id"] == "A"]
    assert a["new"].tolist() == [90, 80, 70]
    assert a["current"].tolist() == [100, 90, 80]
    assert (a["limited_by"] == "release_limit").all()
    assert result.summary["years"] == [2027, 2028, 2029]
    assert result.summary["movement"] == 60  # 10 out + 10 in each year, three years
    assert result.summary["moved"] == 30  # each quota once (SPEC 3.7)


def test_multi_year_attrition_remainder_goes_to_the_earliest_years():
    """31 departures over 3 years: 11, 10, 10."""
    frame = counties(
        [
            {"county_id": "A", "quota": 100, "occupied": 100, "attrition": 31},
            {"county_id": "B", "quota": 100, "occupied": 100},
        ]
    )
    enrolment = pd.concat([primary({"A": 0, "B": 3610}, year) for year in (2027, 2028, 2029)])
    a = make_plan(frame, enrolment).table.query("county_id == 'A'")
    assert a["new"].tolist() == [89, 79, 69]


@pytest.mark.parametrize("solver", SOLVERS)
def test_golden_a_floor_above_quota_and_need_is_what_decides(solver):
    """Issue 12, item 3 (the reported shape): B holds 22, 21 in post, need 20.69 (393 pupils
    at 19), floor 23. Only the floor lifts it to 23, above its quota and its need, so its
    reason is `floor`, not `covered`. A (need 0.16) keeps its quota; 4 extra quotas: 1 goes
    to B's floor and 3 to A, the first listed, as nobody is short."""
    frame = counties(
        [
            {"county_id": "A", "quota": 7, "occupied": 7},
            {"county_id": "B", "quota": 22, "occupied": 21, "min_quota": 23},
        ]
    )
    result = make_plan(frame, primary({"A": 3, "B": 393}), policy=Policy(4, solver=solver))
    assert plan_of(result) == {"A": 10, "B": 23}
    assert reasons(result)["B"] == "floor"
    assert result.table.set_index("county_id").loc["B", "limited_by_zh"] == LIMITED_BY_ZH["floor"]


def test_multi_year_limits_are_each_years_and_gains_are_filled_that_year():
    """The README's multi-year reading, year by year. A: quota 100, 95 in post, 20 departures
    over 2 years (10 each), need 0; B: quota 100, full, need 190, cap +15 over the horizon.
    2027: A's lowest = min(100, 95 − 10) = 85; B's highest = 115; B gains 15 (its cap).
    2028: A starts at 85 with 85 in post (95 − 10, none gained); lowest = min(85, 85 − 10) =
    75; B starts at 115 with 115 in post (its 15 gains were filled); highest stays 115, so A
    has nowhere to send quota: it keeps 85 (the total is fixed)."""
    frame = counties(
        [
            {"county_id": "A", "quota": 100, "occupied": 95, "attrition": 20},
            {"county_id": "B", "quota": 100, "occupied": 100, "max_gain": 15},
        ]
    )
    enrolment = pd.concat([primary({"A": 0, "B": 3610}, year) for year in (2027, 2028)])
    table = make_plan(frame, enrolment).table.set_index(["year", "county_id"])
    assert table.loc[(2027, "A"), ["lowest_allowed", "new"]].tolist() == [85, 85]
    assert table.loc[(2027, "B"), ["highest_allowed", "new"]].tolist() == [115, 115]
    assert table.loc[(2028, "A"), ["current", "lowest_allowed", "new"]].tolist() == [85, 75, 85]
    assert table.loc[(2028, "B"), ["current", "highest_allowed", "new"]].tolist() == [115, 115, 115]


@pytest.mark.parametrize("solver", SOLVERS)
def test_golden_the_class_minimum_is_named_where_it_set_the_need(solver):
    """A: a rural county of teaching points, 190 pupils in 20 classes: the ratio gives 10, the
    class minimum 20 × 1.9 = 38; it holds 38, all in post. B: 1,900 pupils (100 by the ratio,
    40 classes give 76), holds 60, full. Nothing can be released (both full, no
    departures), so nothing moves: A is covered because of the class minimum, B is short."""
    frame = counties(
        [
            {"county_id": "A", "quota": 38, "occupied": 38},
            {"county_id": "B", "quota": 60, "occupied": 60},
        ]
    )
    pupils = pd.DataFrame(
        {
            "county_id": ["A", "B"],
            "level": ["primary", "primary"],
            "students": [190, 1900],
            "classes": pd.array([20, 40], dtype="Int64"),
            "year": pd.array([None, None], dtype="Int64"),
        }
    )
    result = make_plan(frame, pupils, policy=Policy(solver=solver))
    assert result.table["need"].tolist() == [38, 100]
    assert reasons(result)["A"] == "class_minimum"
    assert result.table.loc[0, "limited_by_zh"] == LIMITED_BY_ZH["class_minimum"]


def test_multi_year_departures_per_year_replace_the_even_spread():
    """A: quota 100, 100 in post, need 0, departures 5 in 2027 and 15 in 2028 (a wave of
    retirements); B: quota 100, full, need 190. Each year A releases that year's own
    departures: 100 → 95 → 80 (an even spread of the same 20 would give 90 → 80)."""
    frame = counties(
        [
            {"county_id": "A", "quota": 100, "occupied": 100, "attrition": 20},
            {"county_id": "B", "quota": 100, "occupied": 100},
        ]
    )
    enrolment = pd.concat([primary({"A": 0, "B": 3610}, year) for year in (2027, 2028)])
    departures = pd.DataFrame({"county_id": ["A", "A"], "year": [2027, 2028], "attrition": [5, 15]})
    by_year = make_plan(frame, enrolment, departures=departures).table
    assert by_year.query("county_id == 'A'")["new"].tolist() == [95, 80]
    even = make_plan(frame, enrolment).table
    assert even.query("county_id == 'A'")["new"].tolist() == [90, 80]


def test_each_county_is_explained_in_words_with_its_numbers():
    """Issue 8: the row says why, with the figures behind the limit. A: 100 in post, 10
    leaving, need 0 → releases to 90 (在编 100 − 预计减员 10 = 90). B: need 190, capped at
    100 + 10 → at its cap, 80 short. C: need 10 (190 pupils), holds 20, all in post, while B is
    short → it cannot give more either. D: need 30, holds 30 → covered."""
    frame = counties(
        [
            {"county_id": "A", "quota": 100, "occupied": 100, "attrition": 10},
            {"county_id": "B", "quota": 100, "occupied": 100, "max_gain": 10},
            {"county_id": "C", "quota": 20, "occupied": 20},
            {"county_id": "D", "quota": 30, "occupied": 30, "max_gain": 0},
        ]
    )
    pupils = primary({"A": 0, "B": 3610, "C": 190, "D": 570})
    table = make_plan(frame, pupils).table.set_index("county_id")
    assert table.loc["A", "explanation_zh"] == "在编 100 − 预计减员 10 = 90，只出不进，不能再减"
    assert table.loc["A", "explanation"] == "100 in post − 10 leaving = 90: it cannot give up more"
    assert table.loc["B", "explanation_zh"] == "最多可达 110，已到上限，仍缺 80"
    assert table.loc["C", "explanation_zh"] == "在编 20 − 预计减员 0 = 20，只出不进，不能再减"
    assert table.loc["D", "explanation_zh"] == "需求 30，调整后 30，已满足"


@st.composite
def scenarios(draw):
    size = draw(st.integers(1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    quota = rng.integers(0, 500, size)
    rows = [
        {
            "county_id": f"C{i:02d}",
            "quota": int(quota[i]),
            "occupied": int(rng.integers(0, 600)),
            "attrition": int(rng.integers(0, 50)),
            "min_quota": int(rng.integers(0, 200)) if rng.random() < 0.2 else None,
            "max_gain": int(rng.integers(0, 100)) if rng.random() < 0.3 else None,
            "class": rng.choice(["urban", "town", "rural", None]),
        }
        for i in range(size)
    ]
    pupils = {f"C{i:02d}": int(rng.integers(0, 10_000)) for i in range(size)}
    extra = int(rng.integers(0, 50))
    objective = draw(st.sampled_from(["fair", "shortfall", "movement"]))
    return counties(rows), primary(pupils), Policy(extra_quota=extra, objective=objective)


@settings(max_examples=60)
@given(scenario=scenarios())
def test_plans_conserve_the_total_and_respect_every_bound(scenario):
    frame, enrolment, policy = scenario
    result = make_plan(frame, enrolment, policy=policy)
    if result.summary["status"] == "infeasible":
        assert result.summary["explanation"]
        return
    table = result.table
    assert table["new"].sum() == frame["quota"].sum() + policy.extra_quota
    assert (table["new"] >= table["lowest_allowed"]).all()
    capped = table["highest_allowed"].notna()
    assert (table.loc[capped, "new"] <= table.loc[capped, "highest_allowed"]).all()
    assert (table["new"] == table["new"].round()).all()
    release = np.minimum(frame["quota"], frame["occupied"] - frame["attrition"]).clip(lower=0)
    assert (table["new"].to_numpy() >= release.to_numpy()).all()
    assert set(table["limited_by"]) <= set(LIMITED_BY_ZH)


def test_a_year_that_cannot_be_planned_is_named_in_the_explanation():
    """Year 2 has no enrolment change, but A's floor 150 exceeds the 2-county total 200 once
    B cannot release anything (100 in post on 100)... set up so year 1 is fine and year 2 is
    not: A min_quota 100 and B over quota (occupied 120): lower bounds 100 + 100 = 200 = total
    in both years, feasible. Then extra quota −1 in year 1 only makes year 1 infeasible."""
    frame = counties(
        [
            {"county_id": "A", "quota": 100, "occupied": 0, "min_quota": 100},
            {"county_id": "B", "quota": 100, "occupied": 120},
        ]
    )
    enrolment = pd.concat([primary({"A": 1900, "B": 1900}, year) for year in (2027, 2028)])
    result = make_plan(frame, enrolment, policy=Policy(extra_quota=-1))
    assert result.summary["status"] == "infeasible"
    assert result.summary["explanation"][0].startswith("In 2027:")
    assert "add up to 200 but the city total is 199" in result.summary["explanation"][0]


@st.composite
def multi_year_scenarios(draw):
    size = draw(st.integers(1, 8))
    years = draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rows = [
        {
            "county_id": f"C{i}",
            "quota": int(rng.integers(50, 300)),
            "occupied": int(rng.integers(0, 320)),
            "attrition": int(rng.integers(0, 60)),
        }
        for i in range(size)
    ]
    enrolment = pd.concat(
        [
            primary({f"C{i}": int(rng.integers(0, 6000)) for i in range(size)}, 2027 + year)
            for year in range(years)
        ]
    )
    return counties(rows), enrolment, years


@settings(max_examples=40)
@given(scenario=multi_year_scenarios())
def test_multi_year_each_year_releases_at_most_vacancies_plus_its_departures(scenario):
    """Year by year: current = last year's new; a county gives up at most its vacancies plus
    that year's share of departures (even split, remainder first), people in post stay, and
    quota gained is filled. The total is conserved every year."""
    frame, enrolment, years = scenario
    result = make_plan(frame, enrolment)
    assert result.summary["status"] == "optimal"
    table = result.table
    current = frame["quota"].to_numpy()
    occupied = frame["occupied"].to_numpy()
    attrition = frame["attrition"].to_numpy()
    for index, year in enumerate(sorted(table["year"].unique())):
        rows = table[table["year"] == year]
        new = rows["new"].to_numpy()
        departures = attrition // years + (index < attrition % years)
        assert (rows["current"].to_numpy() == current).all()
        assert new.sum() == current.sum()
        released = np.maximum(current - new, 0)
        vacancies = np.maximum(current - occupied, 0)
        assert (released <= vacancies + departures).all()
        occupied = occupied - departures + np.maximum(new - current, 0)
        current = new
