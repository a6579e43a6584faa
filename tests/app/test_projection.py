"""The projection page (SPEC 2.10) and its hand-over to the what-if page, through AppTest.

The bundled data: `data/scenarios/projected_5y.toml` projects 2027–2031 from the 2020–2026
enrolment history, births and the teachers' roster of the sample city's ten divisions.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app_ui import projections
from optimizer.output import TOTAL_LABEL
from tests.app.projected import PROJECTED, projected_plan
from tests.app.test_app_pages import (  # noqa: F401  (environment: the autouse fixture)
    TIMEOUT,
    button,
    environment,
    rerun,
    signed_in,
    start,
)


def bundled_projection() -> AppTest:
    at = start("projection")
    button(at, "使用示例文件预测").click()
    return rerun(at)


def plan_rows(at: AppTest) -> pd.DataFrame:
    tables = [d.value for d in at.dataframe if "调整后编制 new" in d.value.columns]
    assert len(tables) == 1, "exactly one plan table"
    rows = tables[0][~tables[0]["区划代码 county_id"].astype(str).str.startswith(TOTAL_LABEL)]
    return rows.reset_index(drop=True)


def test_the_projection_page_draws_the_bundled_projection() -> None:
    at = bundled_projection()
    # The name is data, escaped for Markdown (app_ui.plain): the page shows projected_5y.
    assert [s.value for s in at.success] == ["预测结果：projected\\_5y（2027–2031 年）"]
    assert len(at.get("vega_lite_chart")) == 2  # the fan of enrolment, the departures' bars
    table = at.dataframe[0].value
    assert sorted(table["year"].unique().tolist()) == [2027, 2028, 2029, 2030, 2031]
    assert table["county_id"].nunique() == 10
    at.selectbox(key="proj_where").set_value("339902")  # one county's fan
    assert len(rerun(at).get("vega_lite_chart")) == 2


def test_the_projection_has_the_figures_of_the_scenario_and_its_departures_add_up() -> None:
    from optimizer.scenario import load_plan_inputs, load_scenario

    result = projections.project({}, 5, (0.1, 0.9))
    inputs = load_plan_inputs(load_scenario(PROJECTED))
    pd.testing.assert_frame_equal(result.enrolment, inputs.enrolment.reset_index(drop=True))
    assert inputs.departures is not None and result.departures_detail is not None
    detail = result.departures_detail
    assert (detail["retirements"] + detail["other_departures"] == detail["attrition"]).all()
    both = detail.merge(inputs.departures, on=["county_id", "year"], suffixes=("", "_plan"))
    assert len(both) == len(inputs.departures) == 50
    assert (both["attrition"] == both["attrition_plan"]).all()
    bands = result.bands
    assert ((bands["low"] <= bands["students"]) & (bands["students"] <= bands["high"])).all()
    wider = projections.project({}, 5, (0.05, 0.95)).bands
    assert (wider["students"] == bands["students"]).all()  # the band moves only the band
    assert (wider["high"] - wider["low"] >= bands["high"] - bands["low"]).all()


def test_send_to_whatif_plans_the_projected_five_years_as_make_plan_does() -> None:
    at = bundled_projection()
    button(at, "送入模拟测算").click()
    at = rerun(at)
    assert [title.value for title in at.title] == ["教师编制调配：模拟测算（预测方案）"]
    shown = plan_rows(at)
    expected = projected_plan()
    assert expected.summary["years"] == [2027, 2028, 2029, 2030, 2031]
    keys = ["年度 year", "区划代码 county_id"]
    got = shown.set_index(keys)["调整后编制 new"].astype(int)
    want = expected.table.set_index(["year", "county_id"])["new"].astype(int)
    assert len(got) == 50
    assert got.to_dict() == want.to_dict()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["调整编制数"] == f"{expected.summary['moved']:,}"
    assert metrics["最大缺口比例"] == f"{expected.summary['max_relative_shortfall']:.1%}"


def test_a_bad_history_is_refused_with_the_readers_errors_in_chinese(tmp_path: Path) -> None:
    def bad_upload() -> None:
        from app_pages import projection

        history = "区划代码,年级,年度,在校生数\n339902,1,2020,很多\n339902,1,2021,-5\n"
        projection._run((("history", "history.csv", history.encode()),), 5, (0.1, 0.9))

    at = AppTest.from_function(bad_upload, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == ["输入有误，未求解："]
    report = at.code[0].value
    assert "history.csv" in report and "第 2 行" in report
    assert "“很多”不是整数" in report


@pytest.mark.parametrize(("user", "can_send"), [("li", False), ("zhao", True)])
def test_viewers_see_the_projection_and_only_planners_send_it(
    user: str, can_send: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = signed_in("projection", user, tmp_path, monkeypatch)
    button(at, "使用示例文件预测").click()
    at = rerun(at)
    assert len(at.get("vega_lite_chart")) == 2
    assert any(b.label == "送入模拟测算" for b in at.button) is can_send


def test_a_saved_projected_scenario_loads_back_with_its_departures() -> None:
    at = bundled_projection()
    button(at, "送入模拟测算").click()
    at = rerun(at)
    at.text_input(key="save_name").set_value("五年预测")
    button(at, "保存").click()
    at = rerun(at)
    at.button(key="load_bundled").click()  # another scenario first: departures dropped
    at = rerun(at)
    assert [title.value for title in at.title] == ["教师编制调配：模拟测算"]
    at.selectbox(key="load_saved_name").set_value("五年预测")
    at.button(key="load_saved").click()
    at = rerun(at)
    assert [title.value for title in at.title] == ["教师编制调配：模拟测算（预测方案）"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["调整编制数"] == f"{projected_plan().summary['moved']:,}"
