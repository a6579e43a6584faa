"""Editing shapes, comparisons and the saved-scenario store (app_ui/scenarios.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from app_ui import scenarios
from pools.tabular import InputErrors


def counties() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "county_id": ["A", "B"],
            "name": ["甲县", "乙县"],
            "quota": [100, 50],
            "occupied": [90, 55],
            "attrition": [5, 0],
            "min_quota": pd.array([None, 10], dtype="Int64"),
            "max_gain": pd.array([None, None], dtype="Int64"),
        }
    )


def enrolment() -> pd.DataFrame:
    """B's primary appears twice (300 + 100 = 400); A has no senior row (0)."""
    return pd.DataFrame(
        {
            "county_id": ["A", "A", "B", "B", "B", "B"],
            "level": ["primary", "junior", "primary", "junior", "senior", "primary"],
            "students": [1900, 270, 300, 135, 125, 100],
        }
    )


def test_enrolment_wide_sums_repeats_fills_missing_levels_and_follows_counties() -> None:
    wide = scenarios.enrolment_wide(enrolment(), counties())
    assert list(wide.columns) == ["county_id", "primary", "junior", "senior"]
    assert wide.to_dict("records") == [
        {"county_id": "A", "primary": 1900, "junior": 270, "senior": 0},
        {"county_id": "B", "primary": 400, "junior": 135, "senior": 125},
    ]


def test_enrolment_long_is_the_inverse_in_county_then_level_order() -> None:
    long = scenarios.enrolment_long(scenarios.enrolment_wide(enrolment(), counties()))
    assert list(long.itertuples(index=False, name=None)) == [
        ("A", "primary", 1900),
        ("A", "junior", 270),
        ("A", "senior", 0),
        ("B", "primary", 400),
        ("B", "junior", 135),
        ("B", "senior", 125),
    ]


def test_multi_year_is_detected_from_the_year_column() -> None:
    assert not scenarios.is_multi_year(enrolment())
    assert not scenarios.is_multi_year(enrolment().assign(year=pd.array([None] * 6, dtype="Int64")))
    assert scenarios.is_multi_year(enrolment().assign(year=2027))


def plan(new: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {"county_id": ["A", "B"], "name": ["甲县", "乙县"], "current": [100, 50], "new": new}
    )


def test_comparison_table_shows_new_quota_per_scenario_and_difference_to_the_first() -> None:
    table = scenarios.comparison_table({"基线": plan([110, 40]), "下降": plan([105, 45])})
    assert list(table.columns) == ["county_id", "county", "基线", "下降", "Δ 下降"]
    rows = table.set_index("county_id")
    assert rows.loc["A", "Δ 下降"] == -5  # 105 - 110
    assert rows.loc["B", "Δ 下降"] == 5  # 45 - 40


def test_comparison_table_leaves_a_county_missing_from_a_scenario_empty() -> None:
    partial = plan([110, 40]).iloc[:1]
    table = scenarios.comparison_table({"full": plan([110, 40]), "partial": partial})
    b = table.set_index("county_id").loc["B"]
    assert pd.isna(b["partial"]) and pd.isna(b["Δ partial"])


def saved(name: str, new: list[int]) -> scenarios.SavedScenario:
    return scenarios.SavedScenario(
        name=name,
        counties=counties(),
        enrolment=enrolment(),
        standards={"per_level": {"primary": 19, "junior": 13.5, "senior": 12.5}, "by_class": None},
        policy={"extra_quota": 0, "objective": "fair", "solver": "exact"},
        plan=plan(new),
        summary={"status": "optimal", "moved": 10},
        saved_by="wang",
    )


def test_store_round_trip_keeps_tables_types_and_settings(tmp_path: Path) -> None:
    store = scenarios.ScenarioStore(tmp_path / "scenarios")
    store.save(saved("2027 基线 / baseline", [110, 40]))
    back = store.load("2027 基线 / baseline")
    pd.testing.assert_frame_equal(back.counties, counties(), check_dtype=True)
    pd.testing.assert_frame_equal(back.enrolment, enrolment(), check_dtype=False)
    assert back.plan["new"].tolist() == [110, 40]
    assert back.policy["objective"] == "fair"
    assert back.standards["per_level"]["junior"] == 13.5
    assert back.saved_by == "wang"


def test_store_lists_replaces_and_deletes_by_name(tmp_path: Path) -> None:
    store = scenarios.ScenarioStore(tmp_path)
    first, second = saved("a", [110, 40]), saved("b", [100, 50])
    first.saved_at, second.saved_at = "2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00"
    store.save(second)
    store.save(first)
    assert store.names() == ["a", "b"]  # oldest first
    store.save(saved("a", [90, 60]))  # same name replaces
    assert sorted(store.names()) == ["a", "b"]
    assert store.load("a").plan["new"].tolist() == [90, 60]
    store.delete("a")
    assert store.names() == ["b"]
    with pytest.raises(KeyError):
        store.load("a")


def test_store_refuses_an_empty_name_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = scenarios.ScenarioStore(tmp_path)
    with pytest.raises(ValueError):
        store.save(saved("  ", [1, 2]))
    store.save(saved("x", [1, 2]))
    assert [p.name.startswith(".saving-") for p in tmp_path.iterdir()] == [False]


def test_edited_tables_are_checked_like_files_naming_file_row_and_column() -> None:
    """Row 3 of counties.csv is B (header = row 1); its quota was edited to -1."""
    edited = counties()
    edited.loc[1, "quota"] = -1
    with pytest.raises(InputErrors) as caught:
        scenarios.check_inputs(edited, enrolment())
    (error,) = caught.value.errors
    assert (error.file, error.row) == ("counties.csv", 3)
    assert error.column is not None and error.column.startswith("quota")


def test_edited_enrolment_for_an_unknown_county_is_rejected() -> None:
    stray = pd.concat(
        [enrolment(), pd.DataFrame({"county_id": ["Z"], "level": ["primary"], "students": [5]})],
        ignore_index=True,
    )
    with pytest.raises(InputErrors) as caught:
        scenarios.check_inputs(counties(), stray)
    assert any(e.file == "enrolment.csv" and "Z" in e.message for e in caught.value.errors)


def test_valid_edited_tables_come_back_with_the_contract_types() -> None:
    checked_counties, checked_enrolment = scenarios.check_inputs(counties(), enrolment())
    assert checked_counties["quota"].tolist() == [100, 50]
    assert str(checked_counties["min_quota"].dtype) == "Int64"
    assert checked_enrolment["students"].sum() == 2830


def test_uploaded_files_are_read_by_name_and_content() -> None:
    counties_csv = counties().to_csv(index=False).encode("utf-8-sig")
    enrolment_csv = "区划代码,学段,在校生数\nA,小学,1900\nB,初中,135\n".encode("gb18030")
    checked_counties, checked_enrolment = scenarios.check_uploaded(
        ("counties.csv", counties_csv), ("学生.csv", enrolment_csv)
    )
    assert checked_counties["county_id"].tolist() == ["A", "B"]
    assert checked_enrolment["level"].tolist() == ["primary", "junior"]


def test_saved_scenarios_live_next_to_a_sqlite_ledger_else_in_the_working_dir(
    tmp_path: Path,
) -> None:
    assert scenarios.default_store_dir(f"sqlite:///{tmp_path}/x/ledger.db") == (
        tmp_path / "x" / "quotapool-scenarios"
    )
    assert scenarios.default_store_dir("sqlite:///ledger.db", cwd=tmp_path) == (
        tmp_path / "quotapool-scenarios"
    )
    assert scenarios.default_store_dir("postgresql+psycopg://u@h/db", cwd=tmp_path) == (
        tmp_path / "quotapool-scenarios"
    )


def test_plan_downloads_are_the_command_lines_files() -> None:
    """The CSV has SPEC 3.4's columns; the workbook opens and carries the same counties."""
    import io

    import openpyxl

    from optimizer.plan import make_plan

    checked_counties, checked_enrolment = scenarios.check_inputs(counties(), enrolment())
    result = make_plan(checked_counties, checked_enrolment)
    csv = pd.read_csv(io.BytesIO(scenarios.plan_csv(result.table)), encoding="utf-8-sig")
    spec = {"county_id", "name", "need", "current", "new", "change", "shortfall_before"}
    assert spec | {"shortfall_after", "limited_by"} <= set(csv.columns)
    assert csv["new"].tolist() == result.table["new"].tolist()
    workbook = openpyxl.load_workbook(io.BytesIO(scenarios.plan_xlsx(result.table, result.summary)))
    cells = [str(c.value) for row in workbook.worksheets[0].iter_rows() for c in row]
    assert "甲县" in cells and "乙县" in cells
