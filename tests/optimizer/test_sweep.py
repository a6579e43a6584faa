"""`quotapool sweep` (SPEC 2.11): known answers, the robust plan against every single-future
plan, the same bytes on every engine, and bad input refused with nothing written."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.plan import make_plan
from optimizer.scenario import Scenario, Uncertainty, load_plan_inputs, load_scenario
from optimizer.sweep import (
    Engine,
    Infeasible,
    SweepSettings,
    robust_plan,
    run_draws,
    sweep_instance,
    worst_relative_shortfall,
)
from optimizer.sweep_worker import Correlation, draw_noise, draw_students
from quotapool import main

DATA = Path(__file__).resolve().parents[2] / "data"
TEACHERS = DATA / "teachers"


def sample_scenario(tmp_path: Path, uncertainty: str = "relative_error = 0.05\n") -> Path:
    """The bundled sample city with an [uncertainty] table."""
    path = tmp_path / "city.toml"
    path.write_text(
        f'name = "city"\ncounties = "{(TEACHERS / "counties.csv").as_posix()}"\n'
        f'enrolment = "{(TEACHERS / "enrolment.csv").as_posix()}"\n'
        f"[uncertainty]\n{uncertainty}",
        encoding="utf-8",
    )
    return path


def sweep_cli(*args: str | Path) -> int:
    return main(["sweep", *(str(arg) for arg in args)])


def plan_new(scenario_path: Path) -> list[int]:
    scenario = load_scenario(scenario_path)
    inputs = load_plan_inputs(scenario)
    result = make_plan(inputs.counties, inputs.enrolment, scenario.standards, scenario.policy)
    return [int(v) for v in result.table["new"]]


# --- known answers -----------------------------------------------------------------------------


def test_with_zero_spread_every_draw_is_the_baseline(tmp_path: Path) -> None:
    instance = sweep_instance(load_scenario(sample_scenario(tmp_path, "relative_error = 0\n")))
    draws = run_draws(instance.base, SweepSettings(draws=12, seed=5, workers=1, batch=5))
    point = instance.base.problem.scaled_need
    assert (draws.needs == point[None, :]).all()
    assert (draws.optimal == instance.baseline.x[None, :]).all()
    robust = robust_plan(instance, draws, 0.0)
    assert robust.solution.x.tolist() == instance.baseline.x.tolist()


def test_with_zero_spread_the_robust_plan_is_the_plan(tmp_path: Path) -> None:
    scenario = sample_scenario(tmp_path, "relative_error = 0\n")
    assert sweep_cli(scenario, "--draws", "8", "--workers", "1", "--out", tmp_path / "out") == 0
    robust = pd.read_csv(tmp_path / "out" / "robust" / "plan.csv", dtype={"county_id": str})
    assert robust["new"].tolist() == plan_new(scenario)
    draws = pq.read_table(tmp_path / "out" / "sweep.parquet").to_pandas()
    assert (
        len(draws) == 8 * len(robust) and (draws.groupby("county_id")["need"].nunique() == 1).all()
    )


RISING_COUNTIES = (
    "county_id,name,quota,occupied,relative_error\n"
    "A,Rising,100,100,0.05\n"
    "B,Quiet,200,150,0\n"
    "C,Still,200,150,0\n"
)
# A's pupils need 130 teachers today and are drawn around that; B and C need 120 each and
# hold 50 vacancies each that they can give up: the total allows A's worst future.
RISING_ENROLMENT = "county_id,level,students\nA,primary,2470\nB,primary,2280\nC,primary,2280\n"


def test_a_county_sure_to_rise_gets_what_its_worst_future_needs(tmp_path: Path) -> None:
    (tmp_path / "counties.csv").write_text(RISING_COUNTIES, encoding="utf-8")
    (tmp_path / "enrolment.csv").write_text(RISING_ENROLMENT, encoding="utf-8")
    scenario = tmp_path / "rise.toml"
    scenario.write_text('counties = "counties.csv"\nenrolment = "enrolment.csv"\n')
    out = tmp_path / "out"
    assert sweep_cli(scenario, "--draws", "60", "--seed", "11", "--workers", "1", "--out", out) == 0
    draws = pq.read_table(out / "sweep.parquet").to_pandas()
    worst = draws[draws["county_id"] == "A"]["need"].max()
    plan = pd.read_csv(out / "robust" / "plan.csv").set_index("county_id")
    assert worst > 130 * 1.05  # the draws do spread A's enrolment
    assert plan.loc["A", "new"] >= math.ceil(worst - 1e-9)
    assert plan.loc["A", "new"] > plan_new(scenario)[0]  # more than the point plan gives it


def test_the_robust_worst_case_is_never_above_any_single_future_plan(tmp_path: Path) -> None:
    scenario = load_scenario(sample_scenario(tmp_path, "relative_error = 0.08\n"))
    instance = sweep_instance(scenario)
    draws = run_draws(instance.base, SweepSettings(draws=30, seed=2, workers=1))
    robust = robust_plan(instance, draws, 0.0)
    problem = instance.base.problem
    level = robust.solution.fair_level
    assert level is not None and level > 0
    own = worst_relative_shortfall(problem, draws.needs, robust.solution.x)
    assert own == pytest.approx(float(level), rel=1e-12)
    for plan in [instance.baseline.x, *draws.optimal]:
        assert float(level) <= worst_relative_shortfall(problem, draws.needs, plan) + 1e-12


def test_a_quantile_covers_fewer_futures_and_asks_less(tmp_path: Path) -> None:
    instance = sweep_instance(load_scenario(sample_scenario(tmp_path, "relative_error = 0.08\n")))
    draws = run_draws(instance.base, SweepSettings(draws=40, seed=4, workers=1))
    every, most = robust_plan(instance, draws, 0.0), robust_plan(instance, draws, 0.25)
    assert most.solution.fair_level is not None and every.solution.fair_level is not None
    assert most.solution.fair_level <= every.solution.fair_level
    assert (most.years[0].requirement.scaled <= every.years[0].requirement.scaled).all()
    problem = instance.base.problem
    measured = worst_relative_shortfall(problem, draws.needs, most.solution.x, 0.25)
    assert measured == pytest.approx(float(most.solution.fair_level), rel=1e-12)
    for plan in [instance.baseline.x, *draws.optimal]:
        assert measured <= worst_relative_shortfall(problem, draws.needs, plan, 0.25) + 1e-12


def planned_by_year(scenario: Scenario) -> dict[int, list[int]]:
    """make_plan's multi-year plan: new quotas per year."""
    inputs = load_plan_inputs(scenario)
    table = make_plan(
        inputs.counties, inputs.enrolment, scenario.standards, scenario.policy, inputs.departures
    ).table
    return {int(y): rows["new"].astype(int).tolist() for y, rows in table.groupby("year")}


def test_a_multi_year_scenario_sweeps_every_year(tmp_path: Path) -> None:
    scenario = load_scenario(DATA / "scenarios" / "projected_5y.toml")
    instance = sweep_instance(scenario)
    assert (instance.year, instance.source) == (2027, "projection_band")
    assert instance.years == [2027, 2028, 2029, 2030, 2031]
    planned = planned_by_year(scenario)
    baseline = {
        year: step.solution.x.tolist()
        for year, step in zip(instance.years, instance.baseline_path, strict=True)
    }
    assert baseline == planned  # the point path is make_plan's plan, year by year
    sigma = [year.sigma for year in instance.base.years]
    assert all((s > 0).any() for s in sigma)
    # the bands widen with the horizon
    assert sigma[-1].sum() > sigma[0].sum()
    draws = run_draws(instance.base, SweepSettings(draws=6, seed=3, workers=1))
    assert draws.path_needs.shape == (6, 5, len(instance.ids))
    robust = robust_plan(instance, draws, 0.0)
    assert [plan.year for plan in robust.years] == instance.years
    for plan in robust.years:  # each year keeps its own limits and the city total
        assert (plan.limits.lower <= plan.solution.x).all()
        assert (plan.solution.x <= plan.limits.upper).all()
        assert int(plan.solution.x.sum()) == int(plan.limits.current.sum())


def test_a_future_is_a_path_over_the_years(tmp_path: Path) -> None:
    """Each draw gives a county-level one standard score for every year: where two years
    have the same figure and spread, the draw gives them the same enrolment."""
    scenario = dataclasses.replace(
        load_scenario(DATA / "scenarios" / "three_years.toml"), uncertainty=Uncertainty(0.05)
    )
    base = sweep_instance(scenario).base
    point = np.stack([year.students for year in base.years])
    sigma = np.stack([year.sigma for year in base.years])
    wide = (sigma > 20).all(axis=0)  # rounding to whole pupils moves z by < 0.5 / 20
    for draw in range(3):
        z = (draw_students(base, 7, draw) - point)[:, wide] / sigma[:, wide]
        assert np.abs(z - z[0]).max() < 0.05
        assert np.abs(z[0]).max() > 0.5  # the draw does move the figures


def test_zero_spread_over_three_years_gives_make_plans_plan_every_year(tmp_path: Path) -> None:
    scenario = dataclasses.replace(
        load_scenario(DATA / "scenarios" / "three_years.toml"), uncertainty=Uncertainty(0.0)
    )
    instance = sweep_instance(scenario)
    draws = run_draws(instance.base, SweepSettings(draws=4, seed=1, workers=1))
    robust = robust_plan(instance, draws, 0.0)
    planned = planned_by_year(scenario)
    assert {plan.year: plan.solution.x.tolist() for plan in robust.years} == planned
    for index, year in enumerate(instance.years):
        assert (draws.path_optimal[:, index] == np.array(planned[year])[None, :]).all()


def test_a_three_year_sweep_writes_every_year(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "three.toml"
    text = (DATA / "scenarios" / "three_years.toml").read_text(encoding="utf-8")
    text = text.replace('"../teachers/', f'"{TEACHERS.as_posix()}/')
    scenario.write_text(text + "\n[uncertainty]\nrelative_error = 0.04\ncity_correlation = 0.5\n")
    out = tmp_path / "out"
    assert (
        sweep_cli(
            scenario, "--draws", "12", "--seed", "2", "--workers", "1", "--json", "--out", out
        )
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    assert [year["year"] for year in document["per_year"]] == [2027, 2028, 2029]
    assert document["correlation"] == {"city": 0.5, "level": 0.5}
    worst = max(year["robust"]["max_relative_shortfall"] for year in document["per_year"])
    assert document["robust"]["max_relative_shortfall"] == worst
    plan = pd.read_csv(out / "robust" / "plan.csv")
    assert plan["year"].tolist() == sorted(plan["year"].tolist())
    assert plan.groupby("year")["new"].sum().nunique() == 1  # the city total, every year
    table = pq.read_table(out / "sweep.parquet").to_pandas()
    assert len(table) == 12 * len(plan) and set(table["year"]) == {2027, 2028, 2029}
    distribution = pd.read_csv(out / "distribution.csv")
    assert set(distribution["year"]) == {2027, 2028, 2029}
    summary = json.loads((out / "robust" / "summary.json").read_text(encoding="utf-8"))
    assert [year["year"] for year in summary["per_year"]] == [2027, 2028, 2029]


# --- the same bytes on every engine ------------------------------------------------------------

FILES = ("robust/plan.csv", "sweep.parquet", "distribution.csv")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sweep run in this process, one batch after another: three plan years, with errors
    correlated between counties and between levels."""
    tmp_path = tmp_path_factory.mktemp("reference")
    scenario = tmp_path / "city.toml"
    text = (DATA / "scenarios" / "three_years.toml").read_text(encoding="utf-8")
    text = text.replace('"../teachers/', f'"{TEACHERS.as_posix()}/')
    scenario.write_text(
        text + "\n[uncertainty]\nrelative_error = 0.05\ncity_correlation = 0.4\n"
        "level_correlation = 0.7\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert sweep_cli(scenario, "--draws", "48", "--seed", "9", "--workers", "1", "--out", out) == 0
    return tmp_path


def same_files(reference: Path, out: Path) -> None:
    for name in FILES:
        assert (out / name).read_bytes() == (reference / "out" / name).read_bytes(), name


def test_local_workers_and_batches_give_the_same_bytes(reference: Path, tmp_path: Path) -> None:
    for workers, batch in (("2", "5"), ("2", "48")):
        out = tmp_path / f"out-{workers}-{batch}"
        arguments = ["--draws", "48", "--seed", "9", "--workers", workers, "--batch", batch]
        assert sweep_cli(reference / "city.toml", *arguments, "--out", out) == 0
        same_files(reference, out)


def test_another_seed_gives_other_futures(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert sweep_cli(reference / "city.toml", "--draws", "48", "--seed", "10", "--out", out) == 0
    assert (out / "sweep.parquet").read_bytes() != (reference / "out/sweep.parquet").read_bytes()


def test_ray_gives_the_same_bytes(reference: Path, tmp_path: Path) -> None:
    ray = pytest.importorskip(
        "ray", reason="the ray extra is not installed: pip install -e '.[ray]'"
    )
    ray.init(num_cpus=2, include_dashboard=False, address="local")
    try:
        out = tmp_path / "out"
        arguments = ["--draws", "48", "--seed", "9", "--engine", "ray", "--batch", "7"]
        assert sweep_cli(reference / "city.toml", *arguments, "--out", out) == 0
    finally:
        ray.shutdown()
    same_files(reference, out)


def test_dask_gives_the_same_bytes(reference: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip(
        "distributed", reason="the dask extra is not installed: pip install -e '.[dask]'"
    )
    with distributed.LocalCluster(
        n_workers=2, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        out = tmp_path / "out"
        arguments = ["--draws", "48", "--seed", "9", "--engine", "dask", "--batch", "11"]
        address = cluster.scheduler_address
        assert (
            sweep_cli(reference / "city.toml", *arguments, "--address", address, "--out", out) == 0
        )
    same_files(reference, out)


# --- what the planner gets ---------------------------------------------------------------------


def test_json_is_one_document_with_the_figures(
    reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    arguments = ["--draws", "10", "--workers", "1", "--quantile", "0.1", "--json", "--out", out]
    assert sweep_cli(reference / "city.toml", *arguments) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "optimal" and document["draws"] == 10
    assert document["quantile"] == 0.1 and document["source"] == "relative_error"
    assert set(document["seconds"]) >= {"draw", "solve", "robust", "aggregate"}
    summary = json.loads((out / "robust" / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal" and summary["sweep"]["draws"] == 10
    exact = Fraction(summary["max_relative_shortfall_exact"])
    assert float(exact) == summary["max_relative_shortfall"]
    distribution = pd.read_csv(out / "distribution.csv")
    assert (distribution["need_p10"] <= distribution["need_p90"]).all()


# --- bad input: a clear message, exit 2, nothing written ---------------------------------------


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--draws", "0"], "--draws must be 1 or more"),
        (["--draws", "-3"], "--draws must be 1 or more"),
        (["--draws", "5", "--quantile", "1"], "--quantile"),
        (["--draws", "5", "--quantile", "-0.1"], "--quantile"),
        (["--draws", "5", "--engine", "spark"], "unknown engine 'spark'"),
        (["--draws", "5", "--address", "127.0.0.1:1"], "--engine ray or dask"),
        (["--draws", "5", "--engine", "dask", "--address", "127.0.0.1:1"], "cannot reach"),
        (["--draws", "5", "--engine", "ray", "--address", "127.0.0.1:1"], "cannot reach"),
        (["--draws", "5", "--engine", "dask", "--address", "nowhere"], "HOST:PORT"),
    ],
)
def test_bad_settings_are_refused_with_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], fragment: str
) -> None:
    out = tmp_path / "out"
    assert sweep_cli(sample_scenario(tmp_path), *arguments, "--json", "--out", out) == 2
    captured = capsys.readouterr()
    assert fragment in captured.err
    assert json.loads(captured.out)["status"] == "rejected"
    assert not out.exists()


def test_a_scenario_without_a_spread_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert sweep_cli(DATA / "scenarios" / "baseline.toml", "--draws", "5", "--out", out) == 2
    assert "relative_error" in capsys.readouterr().err and not out.exists()


def test_a_missing_extra_names_the_pip_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    out = tmp_path / "out"
    arguments = ["--draws", "5", "--engine", "ray", "--out", out]
    assert sweep_cli(sample_scenario(tmp_path), *arguments) == 2
    assert "pip install 'quotapool[ray]'" in capsys.readouterr().err and not out.exists()


def test_an_infeasible_scenario_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "counties.csv").write_text(
        "county_id,name,quota,occupied,min_quota\nA,a,10,10,30\n", encoding="utf-8"
    )
    (tmp_path / "enrolment.csv").write_text("county_id,level,students\nA,primary,190\n")
    scenario = tmp_path / "bad.toml"
    scenario.write_text(
        'counties = "counties.csv"\nenrolment = "enrolment.csv"\n[uncertainty]\n'
        "relative_error = 0.1\n"
    )
    out = tmp_path / "out"
    assert sweep_cli(scenario, "--draws", "5", "--out", out) == 1
    assert "city total" in capsys.readouterr().out and not out.exists()


def test_engines_are_an_enum_of_the_three() -> None:
    assert [engine.value for engine in Engine] == ["local", "ray", "dask"]
    assert np.all(np.diff([start for start, _ in SweepSettings(draws=60).batches()]) == 8)


def test_the_class_minimum_holds_in_every_future(tmp_path: Path) -> None:
    """A: 190 pupils in 20 classes (the ratio gives 10, the classes 38); B: 1,900 pupils. The
    classes do not move with the pupils, so A's need never falls below 38."""
    (tmp_path / "counties.csv").write_text(
        "county_id,name,quota,occupied,relative_error\nA,a,30,20,0.2\nB,b,120,90,0.02\n",
        encoding="utf-8",
    )
    (tmp_path / "enrolment.csv").write_text(
        "county_id,level,students,classes\nA,primary,190,20\nB,primary,1900,40\n"
    )
    scenario = tmp_path / "rooms.toml"
    scenario.write_text('counties = "counties.csv"\nenrolment = "enrolment.csv"\n')
    instance = sweep_instance(load_scenario(scenario))
    draws = run_draws(instance.base, SweepSettings(draws=20, seed=1, workers=1))
    robust = robust_plan(instance, draws, 0.0)
    assert draws.by_classes is not None and draws.by_classes[:, 0].all()
    assert (draws.needs[:, 0] == draws.needs[0, 0]).all()  # 20 × 1.9, whatever the pupils
    assert robust.years[0].codes[0] == "class_minimum"


def test_a_county_keeps_the_people_it_took_on_in_the_next_year(tmp_path: Path) -> None:
    """2027: A needs 15 and holds 10 (all filled), B needs 5 and has 5 vacancies: A gets 15
    and fills them. 2028: the needs swap, but A's 15 posts are filled now (nobody leaves), so
    it cannot give any back and B stays at 5 — as make_plan plans it."""
    (tmp_path / "counties.csv").write_text(
        "county_id,name,quota,occupied\nA,a,10,10\nB,b,10,5\n", encoding="utf-8"
    )
    (tmp_path / "enrolment.csv").write_text(
        "county_id,level,students,year\nA,primary,285,2027\nB,primary,95,2027\n"
        "A,primary,95,2028\nB,primary,285,2028\n"
    )
    path = tmp_path / "two.toml"
    path.write_text('counties = "counties.csv"\nenrolment = "enrolment.csv"\n[uncertainty]\n')
    scenario = load_scenario(path)
    instance = sweep_instance(scenario)
    draws = run_draws(instance.base, SweepSettings(draws=3, seed=1, workers=1))
    robust = robust_plan(instance, draws, 0.0)
    assert planned_by_year(scenario) == {2027: [15, 5], 2028: [15, 5]}
    assert [plan.solution.x.tolist() for plan in robust.years] == [[15, 5], [15, 5]]
    assert draws.path_optimal[:, 1].tolist() == [[15, 5]] * 3


# --- correlated errors -------------------------------------------------------------------------


def test_without_correlation_the_noise_is_the_draws_own_normals() -> None:
    """The default keeps the futures of sweeps made before correlation was a setting."""
    own = np.random.default_rng([9, 4]).standard_normal((5, 3))
    assert (draw_noise((5, 3), Correlation(), 9, 4) == own).all()


def test_with_full_correlation_every_county_moves_by_the_same_share(tmp_path: Path) -> None:
    scenario = sample_scenario(
        tmp_path, "relative_error = 0.05\ncity_correlation = 1\nlevel_correlation = 1\n"
    )
    base = sweep_instance(load_scenario(scenario)).base
    point = base.years[0].students
    counted = point > 0
    for draw in range(5):
        share = draw_students(base, 3, draw)[0][counted] / point[counted] - 1
        # rounding to whole pupils moves a share by at most 0.5 / pupils
        slack = 0.5 / point[counted]
        assert (np.abs(share - share.mean()) <= 2 * slack.max()).all()
        assert abs(share.mean()) > 0  # and they do move


@pytest.mark.parametrize(("city", "level"), [(0.0, 0.0), (0.3, 0.6), (0.8, 0.8), (0.0, 0.5)])
def test_the_sample_correlation_matches_the_setting(city: float, level: float) -> None:
    counties, draws = 6, 4000
    z = np.stack([draw_noise((counties, 3), Correlation(city, level), 1, d) for d in range(draws)])
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05  # each score stays standard
    flat = z.reshape(draws, -1)  # columns: county 0 levels 0-2, county 1 levels 0-2, …
    corr = np.corrcoef(flat, rowvar=False)
    county = np.repeat(np.arange(counties), 3)
    same_county = (county[:, None] == county[None, :]) & ~np.eye(len(county), dtype=bool)
    other_county = county[:, None] != county[None, :]
    assert corr[same_county].mean() == pytest.approx(level, abs=0.03)
    assert corr[other_county].mean() == pytest.approx(city, abs=0.03)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("city_correlation = 1.2\n", "uncertainty.city_correlation"),
        ("level_correlation = -0.1\n", "uncertainty.level_correlation"),
        ("city_correlation = 0.5\nlevel_correlation = 0.2\n", "uncertainty.level_correlation"),
    ],
)
def test_bad_correlations_name_the_key(tmp_path: Path, table: str, key: str) -> None:
    from pools.tabular import InputErrors

    with pytest.raises(InputErrors) as caught:
        load_scenario(sample_scenario(tmp_path, table))
    assert [error.column for error in caught.value.errors] == [key]


def test_correlations_alone_keep_the_projection_bands(tmp_path: Path) -> None:
    scenario = load_scenario(DATA / "scenarios" / "projected_5y.toml")
    scenario = dataclasses.replace(scenario, uncertainty=Uncertainty(city_correlation=0.5))
    instance = sweep_instance(scenario)
    assert instance.source == "projection_band"
    assert instance.base.correlation == Correlation(0.5, 0.5)


def test_the_expected_shortfall_is_exact() -> None:
    """Futures (5, 3) and (1, 7) against plan (2, 4): shortfalls 3 + 0 and 0 + 3, mean 3;
    scaled by 3 the same plan's mean is 3 too, and huge needs are summed without overflow."""
    from optimizer.exact import Problem
    from optimizer.sweep import expected_shortfall

    def problem(scale: int) -> Problem:
        zeros = np.zeros(2, dtype=np.int64)
        return Problem(zeros, scale, zeros, zeros, zeros + 10, 6)

    needs = np.array([[5, 3], [1, 7]], dtype=np.int64)
    assert expected_shortfall(problem(1), needs, np.array([2, 4])) == 3
    assert expected_shortfall(problem(3), needs * 3, np.array([2, 4])) == 3
    huge = np.array([[2**62, 2**62], [2**62, 0]], dtype=np.int64)
    assert expected_shortfall(problem(1), huge, np.array([0, 0])) == Fraction(3 * 2**62, 2)


@st.composite
def multi_year_cities(draw: st.DrawFn) -> tuple[str, str]:
    """counties.csv and enrolment.csv of a small city over two or three years."""
    size, years = draw(st.integers(2, 4)), draw(st.integers(2, 3))
    rows = ["county_id,name,quota,occupied,attrition,min_quota,max_gain"]
    for i in range(size):
        quota = draw(st.integers(5, 40))
        occupied = draw(st.integers(0, quota + 5))
        attrition = draw(st.integers(0, min(6, occupied)))
        floor = draw(st.sampled_from(["", str(draw(st.integers(0, 10)))]))
        cap = draw(st.sampled_from(["", str(draw(st.integers(0, 8)))]))
        rows.append(f"C{i},c{i},{quota},{occupied},{attrition},{floor},{cap}")
    pupils = ["county_id,level,students,year"]
    for year in range(2027, 2027 + years):
        for i in range(size):
            pupils.append(f"C{i},primary,{draw(st.integers(0, 900))},{year}")
    return "\n".join(rows) + "\n", "\n".join(pupils) + "\n"


@settings(max_examples=40, deadline=None)
@given(city=multi_year_cities(), objective=st.sampled_from(["fair", "shortfall", "movement"]))
def test_the_point_path_is_make_plans_plan_every_year(city: tuple[str, str], objective: str):
    """The sweep carries a plan from year to year as make_plan does (quotas, people taken
    on, departures, the horizon's cap), for any limits."""
    with tempfile.TemporaryDirectory() as folder:
        tmp_path = Path(folder)
        (tmp_path / "counties.csv").write_text(city[0], encoding="utf-8")
        (tmp_path / "enrolment.csv").write_text(city[1], encoding="utf-8")
        path = tmp_path / "city.toml"
        path.write_text(
            'counties = "counties.csv"\nenrolment = "enrolment.csv"\n'
            f'[policy]\nobjective = "{objective}"\n[uncertainty]\n',
            encoding="utf-8",
        )
        scenario = load_scenario(path)
        inputs = load_plan_inputs(scenario)
        result = make_plan(inputs.counties, inputs.enrolment, scenario.standards, scenario.policy)
        if result.summary["status"] != "optimal":
            with pytest.raises(Infeasible):
                sweep_instance(scenario)
            return
        instance = sweep_instance(scenario)
    planned = {int(y): rows["new"].astype(int).tolist() for y, rows in result.table.groupby("year")}
    swept = {
        year: step.solution.x.tolist()
        for year, step in zip(instance.years, instance.baseline_path, strict=True)
    }
    assert swept == planned
