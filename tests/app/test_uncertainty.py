"""The what-if page's uncertainty panel (SPEC 2.11) through AppTest: the sweep it runs is the
one `quotapool sweep` runs on the same files with the same seed, figure for figure."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app_ui import config, sweeps
from app_ui.components.uncertainty import RESULT_KEY, _robust_file
from optimizer.output import TOTAL_LABEL
from tests.app.test_app_pages import (  # noqa: F401  (environment: the autouse fixture)
    FIXTURES,
    button,
    environment,
    rerun,
    start,
)

SCENARIOS = config.SAMPLE_SCENARIO.parent
NEW = "调整后编制 new"
INFO = {"name": "baseline", "source": "baseline", "edited": False, "edits": "—"}


def with_uncertainty(source: Path, folder: Path, relative_error: float) -> Path:
    """A copy of a bundled scenario in `folder`, its files named by absolute paths, with
    [uncertainty] relative_error."""
    text = source.read_text(encoding="utf-8")
    text = text.replace('"../teachers/', f'"{(source.parent / "../teachers").resolve()}/')
    text = text.replace('= "counties.csv"', f'= "{source.parent / "counties.csv"}"')
    text = text.replace('= "enrolment.csv"', f'= "{source.parent / "enrolment.csv"}"')
    path = folder / source.name
    path.write_text(f"{text}\n[uncertainty]\nrelative_error = {relative_error}\n", "utf-8")
    return path


def cli_sweep(scenario: Path, out: Path, draws: int, seed: int, quantile: float = 0.0) -> dict:
    import quotapool

    args = ["sweep", str(scenario), "--draws", str(draws), "--seed", str(seed)]
    args += ["--quantile", str(quantile), "--workers", "1", "--out", str(out), "--json"]
    assert quotapool.main(args) == 0
    return json.loads((out / "robust" / "summary.json").read_text(encoding="utf-8"))


def run_sweep(at: AppTest, **settings: float) -> sweeps.SweepView:
    for key, value in settings.items():
        name = f"sweep_error_{0}" if key == "error" else f"sweep_{key}"
        at.number_input(key=name).set_value(value)
    button(at, "运行不确定性分析").click()
    at = rerun(at)
    shown = at.session_state[RESULT_KEY]
    assert shown is not None, [e.value for e in at.error]
    return shown[1]


def tables_with(at: AppTest, header: str) -> list[pd.DataFrame]:
    found = [d.value for d in at.dataframe if header in d.value.columns]
    return [t[~t["区划代码 county_id"].astype(str).str.startswith(TOTAL_LABEL)] for t in found]


@pytest.mark.parametrize("name", ["baseline.toml", "projected_5y.toml"])
def test_the_panel_gives_the_commands_robust_plan_with_the_same_seed(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = with_uncertainty(SCENARIOS / name, tmp_path, 0.08)
    monkeypatch.setenv("QUOTAPOOL_SCENARIO", str(scenario))
    at = start("whatif")
    assert at.number_input(key="sweep_error_0").value == pytest.approx(0.08)  # its default
    view = run_sweep(at, draws=120, seed=11, quantile=0.1)
    summary = cli_sweep(scenario, tmp_path / "out", 120, 11, 0.1)
    files = sweeps.robust_files(view, {"name": "x"})
    assert files["plan.csv"] == (tmp_path / "out" / "robust" / "plan.csv").read_bytes()
    for plan in ("robust", "baseline"):
        assert view.document[plan] == summary["sweep"][plan]
    metrics = [m.value for m in at.metric][-6:]  # current, then robust
    robust = summary["sweep"]["robust"]
    assert metrics[3:] == [
        f"{robust['max_relative_shortfall']:.1%}",
        f"{robust['expected_total_shortfall']:,.1f}",
        f"{robust['moved']:,}",
    ]


def test_with_no_spread_the_robust_plan_is_the_current_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUOTAPOOL_SCENARIO", str(config.SAMPLE_SCENARIO))
    at = start("whatif")
    view = run_sweep(at, draws=20, error=0.0)
    current, robust = tables_with(at, NEW)  # the what-if plan, then the robust plan
    assert robust[NEW].tolist() == current[NEW].tolist()
    # equal up to the last bit: the robust figure is exact, the current one in floats
    assert view.document["robust"] == pytest.approx(view.document["baseline"], rel=1e-12)
    fan = view.fan.pivot(index="county_id", columns="plan", values="p90")
    assert (fan["current"] == fan["robust"]).all()
    assert len(at.get("vega_lite_chart")) == 3  # the plan's two charts and the sweep's fan
    downloads = [d.proto.label for d in at.get("download_button")]
    assert "下载稳健方案 CSV" in downloads and "下载稳健方案 Excel" in downloads
    workbook = _robust_file(view, INFO, "plan.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    cells = {str(c.value) for row in book.worksheets[0].iter_rows() for c in row}
    assert set(view.outcome.instance.names) <= cells  # the plan's sheet, as plan.xlsx has it
    assert len(book.sheetnames) >= 2  # and what produced it


def test_seeds_reproduce_on_any_number_of_workers_and_differ_between_seeds() -> None:
    from optimizer.scenario import load_plan_inputs, load_scenario

    scenario = load_scenario(config.SAMPLE_SCENARIO)
    inputs = load_plan_inputs(scenario)
    tables = sweeps.WhatIfTables(
        "baseline", inputs.counties, inputs.enrolment, None, scenario.standards, scenario.policy
    )
    request = sweeps.SweepRequest(draws=60, relative_error=0.1, seed=4)
    first = sweeps.run(tables, request)
    again = sweeps.run(tables, request)
    spread = sweeps.run(tables, sweeps.SweepRequest(60, 0.1, seed=4, workers=2))
    other = sweeps.run(tables, sweeps.SweepRequest(60, 0.1, seed=5))
    for view in (again, spread):
        pd.testing.assert_frame_equal(view.plan, first.plan)
        pd.testing.assert_frame_equal(view.fan, first.fan)
        assert (view.outcome.draws.needs == first.outcome.draws.needs).all()
    assert not (other.outcome.draws.needs == first.outcome.draws.needs).all()


def test_two_hundred_futures_of_the_sample_city_take_under_five_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUOTAPOOL_SCENARIO", str(config.SAMPLE_SCENARIO))
    at = start("whatif")
    started = time.perf_counter()
    view = run_sweep(at)  # the defaults: 200 draws, 5 %
    assert time.perf_counter() - started < 5
    assert view.outcome.settings.draws == 200
    assert view.outcome.draws.needs.shape == (200, 10)


def test_an_edit_makes_the_shown_sweep_stale() -> None:
    at = start("whatif")
    run_sweep(at, draws=10)
    assert any("已求解 10 个情景" in s.value for s in at.success)
    at.number_input(key="sweep_seed").set_value(1)
    at = rerun(at)
    assert [i.value for i in at.info if "重新运行" in i.value]
    assert not any("已求解" in s.value for s in at.success)
