"""Chart-building functions (app_ui/charts.py) on a hand-made plan table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from app_ui import charts


def plan_table() -> pd.DataFrame:
    """Three counties with the contract's columns.

    A: need 100, current 80 -> new 90 (coverage 0.8 -> 0.9)
    B: need 50, current 60 -> new 50 (coverage 1.2 -> 1.0)
    C: need 0, current 10 -> new 10 (no need: coverage undefined, not infinite)
    """
    return pd.DataFrame(
        {
            "county_id": ["A", "B", "C"],
            "name": ["甲县", "乙县", "丙县"],
            "need": [100.0, 50.0, 0.0],
            "current": [80, 60, 10],
            "new": [90, 50, 10],
            "change": [10, -10, 0],
            "shortfall_before": [20.0, 0.0, 0.0],
            "shortfall_after": [10.0, 0.0, 0.0],
            "limited_by": ["common shortfall", "release limit", "fully covered"],
        }
    )


def test_need_current_new_data_has_one_value_per_county_and_series() -> None:
    data = charts.need_current_new_data(plan_table())
    assert len(data) == 9
    value = data.set_index(["county", "series"])["value"]
    assert value[("甲县", "需求")] == 100
    assert value[("甲县", "现有编制")] == 80
    assert value[("甲县", "调整后编制")] == 90
    assert value[("乙县", "调整后编制")] == 50


def test_need_current_new_chart_encodes_county_series_and_value() -> None:
    spec = charts.need_current_new_chart(plan_table(), charts.ENGLISH).to_dict()
    encoding = spec["encoding"]
    assert encoding["x"]["field"] == "county"
    assert encoding["x"]["sort"] == ["甲县", "乙县", "丙县"]  # the plan's order, not alphabetical
    assert encoding["xOffset"]["field"] == "series"
    assert encoding["y"]["field"] == "value"
    assert encoding["color"]["sort"] == ["Need", "Current", "New"]


def test_coverage_before_and_after_is_quota_over_need() -> None:
    data = charts.coverage_data(plan_table(), charts.ENGLISH)
    coverage = data.set_index(["county", "moment"])["coverage"]
    assert coverage[("甲县", "Before")] == pytest.approx(0.8)
    assert coverage[("甲县", "After")] == pytest.approx(0.9)
    assert coverage[("乙县", "Before")] == pytest.approx(1.2)
    assert coverage[("乙县", "After")] == pytest.approx(1.0)
    assert math.isnan(coverage[("丙县", "Before")])  # no need: nothing to cover


def test_coverage_uses_the_plans_own_columns_when_present() -> None:
    table = plan_table().assign(coverage_before=[0.5, 0.5, 0.5], coverage_after=[0.7, 0.7, 0.7])
    data = charts.coverage_data(table, charts.ENGLISH)
    assert set(data.loc[data["moment"] == "After", "coverage"]) == {0.7}


def test_coverage_chart_has_bars_and_the_full_coverage_line() -> None:
    spec = charts.coverage_chart(plan_table()).to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["bar", "rule"]


def test_multi_year_plans_draw_one_year_the_last_by_default() -> None:
    year1 = plan_table().assign(year=2027)
    year2 = plan_table().assign(year=2028, new=[95, 45, 10])
    table = pd.concat([year1, year2], ignore_index=True)
    last = charts.need_current_new_data(table, charts.ENGLISH)
    assert len(last) == 9
    assert last.set_index(["county", "series"])["value"][("甲县", "New")] == 95
    first = charts.need_current_new_data(table, charts.ENGLISH, year=2027)
    assert first.set_index(["county", "series"])["value"][("甲县", "New")] == 90


def test_comparison_data_matches_counties_and_computes_change_per_scenario() -> None:
    base = plan_table()
    variant = plan_table().assign(new=[100, 40, 10])
    data = charts.comparison_data({"基线": base, "生源下降": variant})
    change = data.set_index(["scenario", "county_id"])["change"]
    assert change[("基线", "A")] == 10  # 90 - 80
    assert change[("生源下降", "A")] == 20  # 100 - 80
    assert change[("生源下降", "B")] == -20  # 40 - 60
    spec = charts.comparison_chart({"基线": base, "生源下降": variant}).to_dict()
    assert spec["encoding"]["xOffset"]["field"] == "scenario"
    assert spec["encoding"]["color"]["sort"] == ["基线", "生源下降"]


def test_comparison_of_nothing_is_an_empty_table() -> None:
    assert charts.comparison_data({}).empty


def test_counties_sharing_a_name_are_told_apart_by_id() -> None:
    table = plan_table().assign(name=["新区", "新区", "丙县"])
    assert list(charts.county_labels(table)) == ["A 新区", "B 新区", "丙县"]
