"""Plan files (SPEC 3.4): plan.csv, plan.xlsx and summary.json, written all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from optimizer.output import PLAN_COLUMNS, SUMMARY_KEYS, TOTAL_LABEL, write_plan


def plan_frame() -> pd.DataFrame:
    """Three counties; totals worked out by hand.

    need 100.5 + 50 + 30.25 = 180.75; current 90 + 70 + 20 = 180; new 95 + 55 + 30 = 180;
    change +5 - 15 + 10 = 0; shortfall_before 10.5 + 0 + 10.25 = 20.75;
    shortfall_after 5.5 + 0 + 0.25 = 5.75.
    """
    return pd.DataFrame(
        {
            "county_id": ["339901", "339902", "339903"],
            "name": ["东湖区", "北塘县", "南山县"],
            "need": [100.5, 50.0, 30.25],
            "current": np.array([90, 70, 20], dtype=np.int64),
            "new": np.array([95, 55, 30], dtype=np.int64),
            "change": np.array([5, -15, 10], dtype=np.int64),
            "shortfall_before": [10.5, 0.0, 10.25],
            "shortfall_after": [5.5, 0.0, 0.25],
            "coverage_after": [95 / 100.5, 1.0, 30 / 30.25],
            "limited_by": ["shares the common shortfall level", "release limit", "common level"],
        }
    )


def summary() -> dict[str, object]:
    return {
        "status": "optimal",
        "objective": "fair",
        "solver": "exact",
        "seconds": np.float64(0.012),
        "total_before": np.int64(180),
        "total_after": 180,
        "max_relative_shortfall": 5.5 / 100.5,
        "total_shortfall": 5.75,
        "moved": np.int64(15),
        "note": float("nan"),
    }


def test_plan_csv_has_the_spec_columns_and_opens_in_excel(tmp_path: Path) -> None:
    target = write_plan(tmp_path / "方案一", plan_frame(), summary())
    raw = (target / "plan.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel then reads the Chinese names right
    plan = pd.read_csv(target / "plan.csv", encoding="utf-8-sig", dtype={"county_id": str})
    assert list(plan.columns[: len(PLAN_COLUMNS) - 1]) == list(PLAN_COLUMNS[:-1])
    assert "limited_by" in plan.columns and "coverage_after" in plan.columns
    assert plan["name"].tolist() == ["东湖区", "北塘县", "南山县"]
    assert plan["county_id"].tolist() == ["339901", "339902", "339903"]
    assert plan["new"].tolist() == [95, 55, 30]
    assert plan["need"].tolist() == [100.5, 50.0, 30.25]


def test_summary_json_has_the_spec_keys_as_plain_json(tmp_path: Path) -> None:
    target = write_plan(
        tmp_path / "p", plan_frame(), summary(), scenario_info={"name": "p", "file": "p.toml"}
    )
    document = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    assert set(SUMMARY_KEYS) <= set(document)
    assert document["moved"] == 15 and document["total_before"] == 180
    assert document["seconds"] == pytest.approx(0.012)
    assert document["note"] is None  # NaN is not JSON
    assert document["scenario"] == {"name": "p", "file": "p.toml"}


def test_xlsx_has_two_header_rows_totals_and_formats(tmp_path: Path) -> None:
    target = write_plan(tmp_path / "p", plan_frame(), summary())
    book = openpyxl.load_workbook(target / "plan.xlsx")
    sheet = book.worksheets[0]
    headers_zh = [cell.value for cell in sheet[1]]
    headers_en = [cell.value for cell in sheet[2]]
    assert headers_en[:3] == ["county_id", "name", "need"]
    assert headers_zh[:3] == ["区划代码", "区划名称", "测算需求"]
    assert sheet.max_row == 2 + 3 + 1  # headers, three counties, totals
    totals = dict(zip(headers_en, [cell.value for cell in sheet[6]], strict=True))
    assert totals["county_id"] == TOTAL_LABEL
    assert totals["need"] == pytest.approx(180.75)
    assert (totals["current"], totals["new"], totals["change"]) == (180, 180, 0)
    assert totals["shortfall_before"] == pytest.approx(20.75)
    assert totals["shortfall_after"] == pytest.approx(5.75)
    assert totals["coverage_after"] is None  # ratios are not summed
    assert sheet.freeze_panes == "C3"
    column = {name: index + 1 for index, name in enumerate(headers_en)}
    assert sheet.cell(row=3, column=column["change"]).number_format == "+#,##0;-#,##0;0"
    assert sheet.cell(row=3, column=column["coverage_after"]).number_format == "0.0%"
    assert sheet.cell(row=3, column=column["new"]).value == 95


def test_xlsx_highlights_shortfalls_after_the_plan(tmp_path: Path) -> None:
    target = write_plan(tmp_path / "p", plan_frame(), summary())
    sheet = openpyxl.load_workbook(target / "plan.xlsx").worksheets[0]
    letter = "H"  # shortfall_after is the eighth column
    assert sheet[f"{letter}2"].value == "shortfall_after"
    rules = {
        str(rng.sqref): rule
        for rng in sheet.conditional_formatting
        for rule in rng.rules
        if str(rng.sqref).startswith(letter)
    }
    rule = rules[f"{letter}3:{letter}5"]  # the counties, not the totals row
    assert rule.operator == "greaterThan" and rule.formula == ["0"]
    assert rule.dxf.fill.bgColor.rgb.endswith("FFC7CE")  # Excel paints a rule's fill with bgColor


def test_xlsx_summary_sheet(tmp_path: Path) -> None:
    target = write_plan(tmp_path / "p", plan_frame(), summary(), scenario_info={"name": "基线"})
    sheet = openpyxl.load_workbook(target / "plan.xlsx").worksheets[1]
    values = {row[1]: row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["scenario"] == "基线"
    assert values["status"] == "optimal"
    assert values["moved"] == 15


def test_multi_year_plans_get_a_totals_row_per_year(tmp_path: Path) -> None:
    """Two years of the same three counties: each year's totals are that year's sums."""
    first = plan_frame().assign(year=2027)
    second = plan_frame().assign(year=2028, new=[100, 50, 30])
    target = write_plan(tmp_path / "p", pd.concat([first, second]), summary())
    sheet = openpyxl.load_workbook(target / "plan.xlsx").worksheets[0]
    headers = [cell.value for cell in sheet[2]]
    assert headers[:3] == ["county_id", "name", "year"]
    rows = [
        dict(zip(headers, r, strict=True)) for r in sheet.iter_rows(min_row=9, values_only=True)
    ]
    assert [(r["county_id"], r["year"], r["new"]) for r in rows] == [
        (f"{TOTAL_LABEL} 2027", 2027, 180),
        (f"{TOTAL_LABEL} 2028", 2028, 180),
    ]


def test_infeasible_plan_writes_only_the_explanation(tmp_path: Path) -> None:
    info = {**summary(), "status": "infeasible", "explanation": ["floors add up to 240"]}
    target = write_plan(tmp_path / "p", None, info)
    assert sorted(p.name for p in target.iterdir()) == ["summary.json"]
    document = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    assert document["explanation"] == ["floors add up to 240"]


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    broken = plan_frame().drop(columns="limited_by")
    with pytest.raises(ValueError, match="limited_by"):
        write_plan(tmp_path / "p", broken, summary())
    assert list(tmp_path.iterdir()) == []  # no plan directory, no staging directory


def test_a_failed_rewrite_keeps_the_previous_plan_whole(tmp_path: Path) -> None:
    target = write_plan(tmp_path / "p", plan_frame(), summary())
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    with pytest.raises(ValueError):
        write_plan(tmp_path / "p", plan_frame().drop(columns="need"), summary())
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["p"]


def test_a_rewrite_replaces_the_whole_directory(tmp_path: Path) -> None:
    target = write_plan(tmp_path / "p", plan_frame(), summary())
    (target / "stale.txt").write_text("from an older run")
    write_plan(tmp_path / "p", plan_frame(), {**summary(), "moved": 7})
    assert sorted(p.name for p in target.iterdir()) == ["plan.csv", "plan.xlsx", "summary.json"]
    assert json.loads((target / "summary.json").read_text())["moved"] == 7
    assert [p.name for p in tmp_path.iterdir()] == ["p"]


def test_xlsx_keeps_headers_styled_totals_bold_and_a_filter_over_the_counties(
    tmp_path: Path,
) -> None:
    """Three counties: data rows 3-5, totals row 6; the filter covers the English header row
    (2) and the counties, not the totals; ten columns, so the filter ends in column J."""
    target = write_plan(tmp_path / "p", plan_frame(), summary())
    sheet = openpyxl.load_workbook(target / "plan.xlsx").worksheets[0]
    assert sheet.auto_filter.ref == "A2:J5"
    assert all(cell.font.b for cell in sheet[1])  # Chinese header row bold
    assert not any(cell.font.b for cell in sheet[2])  # English header row plain
    assert all(cell.fill.fgColor.rgb.endswith("DDEBF7") for cell in (*sheet[1], *sheet[2]))
    assert all(cell.font.b for cell in sheet[6])  # totals row bold, even its empty cells
    assert all(not cell.font.b for row in sheet.iter_rows(min_row=3, max_row=5) for cell in row)
    column = {cell.value: cell.column for cell in sheet[2]}
    assert sheet.cell(row=6, column=column["need"]).number_format == "#,##0.0"
    assert sheet.cell(row=6, column=column["change"]).number_format == "+#,##0;-#,##0;0"
    assert sheet.cell(row=4, column=column["current"]).number_format == "#,##0"
    assert sheet.cell(row=4, column=column["name"]).number_format == "General"


def test_xlsx_highlights_shortfalls_before_the_plan_in_amber(tmp_path: Path) -> None:
    sheet = openpyxl.load_workbook(
        write_plan(tmp_path / "p", plan_frame(), summary()) / "plan.xlsx"
    )
    rules = {
        str(rng.sqref): rule
        for rng in sheet.worksheets[0].conditional_formatting
        for rule in rng.rules
    }
    rule = rules["G3:G5"]  # shortfall_before is the seventh column
    assert rule.operator == "greaterThan" and rule.formula == ["0"]
    assert rule.dxf.fill.bgColor.rgb.endswith("FFEB9C")


def test_xlsx_column_widths_fit_the_widest_value(tmp_path: Path) -> None:
    """Widths are display columns + 2, at least 8: '调整前缺口' is 5 Chinese characters = 10
    columns, 'shortfall_before' 16 letters, so G is 18 wide; 'shares the common shortfall
    level' is 33 letters, so the limited_by column (J) is 35 wide; F ('change', 6; '增减', 4;
    '-15', 3) gets the minimum 8. Excel stores a width with its 0.71 padding (XlsxWriter adds
    it, openpyxl wrote it without), so widths are compared to the whole column count."""
    book = openpyxl.load_workbook(write_plan(tmp_path / "p", plan_frame(), summary()) / "plan.xlsx")
    widths = {letter: int(d.width) for letter, d in book.worksheets[0].column_dimensions.items()}
    assert (widths["G"], widths["J"], widths["F"]) == (18, 35, 8)


def test_xlsx_summary_sheet_formats_the_largest_shortfall_and_freezes_its_header(
    tmp_path: Path,
) -> None:
    target = write_plan(tmp_path / "p", plan_frame(), summary(), scenario_info={"name": "基线"})
    sheet = openpyxl.load_workbook(target / "plan.xlsx").worksheets[1]
    assert sheet.title == "摘要 Summary"
    assert [cell.value for cell in sheet[1]] == ["项目", "item", "值 value"]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    row = {r[1].value: r for r in sheet.iter_rows(min_row=2)}
    assert row["max_relative_shortfall"][2].number_format == "0.00%"
    assert row["max_relative_shortfall"][2].value == pytest.approx(5.5 / 100.5)
    assert row["max_relative_shortfall"][0].value == "最大相对缺口"
    assert row["note"][2].value is None  # NaN is shown as an empty cell


def test_xlsx_texts_stay_texts_and_missing_figures_stay_empty(tmp_path: Path) -> None:
    """A county name that looks like a formula or a link is written as the text it is; a
    missing figure (NaN, or <NA> in a nullable column) is an empty cell, not 'nan'."""
    frame = plan_frame()
    frame["name"] = ["=SUM(A1)", "http://example.org", "南山县"]
    frame["coverage_after"] = [0.9, float("nan"), 1.0]
    frame["highest_allowed"] = pd.array([100, None, 40], dtype="Int64")
    target = write_plan(tmp_path / "p", frame, summary())
    sheet = openpyxl.load_workbook(target / "plan.xlsx").worksheets[0]
    column = {cell.value: cell.column for cell in sheet[2]}
    assert sheet.cell(row=3, column=column["name"]).value == "=SUM(A1)"
    assert sheet.cell(row=3, column=column["name"]).data_type == "s"
    assert sheet.cell(row=4, column=column["name"]).value == "http://example.org"
    assert sheet.cell(row=4, column=column["name"]).hyperlink is None
    assert sheet.cell(row=4, column=column["coverage_after"]).value is None
    assert sheet.cell(row=4, column=column["highest_allowed"]).value is None
    assert sheet.cell(row=5, column=column["highest_allowed"]).value == 40
