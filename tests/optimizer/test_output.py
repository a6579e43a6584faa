"""Plan files (SPEC 3.4): plan.csv, plan.xlsx and summary.json, written all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from optimizer.output import (
    ENGLISH_ROW,
    FIRST_DATA_ROW,
    PLAN_COLUMNS,
    SUMMARY_KEYS,
    TOTAL_LABEL,
    write_plan,
)

EN = ENGLISH_ROW + 1  # the English header row, 1-based (row 5)
ZH = EN - 1  # the Chinese header row (row 4); groups above it in row 3
FIRST = FIRST_DATA_ROW  # row 6: the first county


def english_headers(sheet: Any) -> list[Any]:
    return [cell.value for cell in sheet[EN]]


def is_merged(cell: Any) -> bool:
    return isinstance(cell, openpyxl.cell.cell.MergedCell)


def letter_of(sheet: Any, column: str) -> str:
    return str(openpyxl.utils.get_column_letter(english_headers(sheet).index(column) + 1))


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
    """Layout of SPEC 3.7: 序号 first, the Chinese header above the English one (rows 4
    and 5), three counties in rows 6-8, the totals in row 9."""
    target = write_plan(tmp_path / "p", plan_frame(), summary())
    book = openpyxl.load_workbook(target / "plan.xlsx")
    sheet = book.worksheets[0]
    headers_zh = [cell.value for cell in sheet[ZH]]
    headers_en = english_headers(sheet)
    assert headers_en[:4] == ["no", "county_id", "name", "need"]
    assert sheet["A3"].value == "序号" and sheet["B3"].value == "区划代码"  # spanning rows 3-4
    assert sheet["C3"].value == "区划名称" and sheet["D3"].value == "测算需求"
    assert headers_zh[4] == "现有编制"  # under 调整前
    assert sheet.max_row == FIRST + 3  # title, unit/date, 3 header rows, three counties, totals
    totals = dict(zip(headers_en, [cell.value for cell in sheet[FIRST + 3]], strict=True))
    assert totals["no"] == TOTAL_LABEL
    assert totals["need"] == pytest.approx(180.75)
    assert (totals["current"], totals["new"], totals["change"]) == (180, 180, 0)
    assert totals["shortfall_before"] == pytest.approx(20.75)
    assert totals["shortfall_after"] == pytest.approx(5.75)
    assert totals["coverage_after"] is None  # ratios are not summed
    assert sheet.freeze_panes == f"D{FIRST}"  # below the headers, right of 序号 and the county
    column = {name: index + 1 for index, name in enumerate(headers_en)}
    assert sheet.cell(row=FIRST, column=column["change"]).number_format == "+#,##0;-#,##0;0"
    assert sheet.cell(row=FIRST, column=column["coverage_after"]).number_format == "0.0%"
    assert sheet.cell(row=FIRST, column=column["new"]).value == 95
    assert [sheet.cell(row=r, column=1).value for r in range(FIRST, FIRST + 3)] == [1, 2, 3]


def test_xlsx_highlights_shortfalls_after_the_plan(tmp_path: Path) -> None:
    target = write_plan(tmp_path / "p", plan_frame(), summary())
    sheet = openpyxl.load_workbook(target / "plan.xlsx").worksheets[0]
    letter = letter_of(sheet, "shortfall_after")
    assert sheet[f"{letter}{EN}"].value == "shortfall_after"
    rules = {
        str(rng.sqref): rule
        for rng in sheet.conditional_formatting
        for rule in rng.rules
        if str(rng.sqref).startswith(letter)
    }
    rule = rules[f"{letter}{FIRST}:{letter}{FIRST + 2}"]  # the counties, not the totals row
    assert rule.operator == "greaterThan" and rule.formula == ["0"]
    assert rule.dxf.fill.bgColor.rgb.endswith("FFC7CE")  # Excel paints a rule's fill with bgColor


def summary_values(sheet: Any) -> dict[Any, Any]:
    """The summary sheet by its English labels (column B), values in column C."""
    return {row[1]: row[2] for row in sheet.iter_rows(min_row=4, values_only=True)}


def test_xlsx_summary_sheet(tmp_path: Path) -> None:
    target = write_plan(tmp_path / "p", plan_frame(), summary(), scenario_info={"name": "基线"})
    sheet = openpyxl.load_workbook(target / "plan.xlsx").worksheets[1]
    values = summary_values(sheet)
    assert values["Scenario"] == "基线"
    assert values["Status"] == "已求得最优方案 optimal"
    # No `movement` in the summary: quotas moved are the plan's increases, 5 + 10.
    assert values["Quotas moved (each counted once)"] == 15


def test_multi_year_plans_get_a_totals_row_per_year(tmp_path: Path) -> None:
    """Two years of the same three counties: each year's totals are that year's sums."""
    first = plan_frame().assign(year=2027)
    second = plan_frame().assign(year=2028, new=[100, 50, 30])
    target = write_plan(tmp_path / "p", pd.concat([first, second]), summary())
    sheet = openpyxl.load_workbook(target / "plan.xlsx").worksheets[0]
    headers = english_headers(sheet)
    assert headers[:4] == ["no", "county_id", "name", "year"]
    rows = [
        dict(zip(headers, r, strict=True))
        for r in sheet.iter_rows(min_row=FIRST + 6, values_only=True)
    ]
    assert [(r["no"], r["year"], r["new"]) for r in rows] == [
        (f"{TOTAL_LABEL} 2027", 2027, 180),
        (f"{TOTAL_LABEL} 2028", 2028, 180),
    ]
    merged = {str(cells) for cells in sheet.merged_cells.ranges}
    assert {f"A{FIRST + 6}:C{FIRST + 6}", f"A{FIRST + 7}:C{FIRST + 7}"} <= merged


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
    """Three counties: data rows 6-8, totals row 9; the filter covers the English header row
    (5) and the counties, not the totals; eleven columns (序号 and the plan's ten), so the
    filter ends in column K."""
    target = write_plan(tmp_path / "p", plan_frame(), summary())
    sheet = openpyxl.load_workbook(target / "plan.xlsx").worksheets[0]
    assert sheet.auto_filter.ref == f"A{EN}:K{FIRST + 2}"
    # Merged cells show the style of their range's first cell (openpyxl reads them unstyled).
    chinese = [cell for row in (ZH - 1, ZH) for cell in sheet[row] if not is_merged(cell)]
    assert all(cell.font.b for cell in chinese)  # Chinese headers bold
    assert not any(cell.font.b for cell in sheet[EN])  # English header row plain
    headers = [cell for row in (ZH - 1, ZH, EN) for cell in sheet[row] if not is_merged(cell)]
    assert all(cell.fill.fgColor.rgb.endswith("DDEBF7") for cell in headers)
    totals = [cell for cell in sheet[FIRST + 3] if not is_merged(cell)]
    assert all(cell.font.b for cell in totals)  # totals row bold, even its empty cells
    assert all(
        not cell.font.b for row in sheet.iter_rows(min_row=FIRST, max_row=FIRST + 2) for cell in row
    )
    column = {cell.value: cell.column for cell in sheet[EN]}
    assert sheet.cell(row=FIRST + 3, column=column["need"]).number_format == "#,##0.0"
    change_format = sheet.cell(row=FIRST + 3, column=column["change"]).number_format
    assert change_format == "+#,##0;-#,##0;0"
    assert sheet.cell(row=FIRST + 1, column=column["current"]).number_format == "#,##0"
    assert sheet.cell(row=FIRST + 1, column=column["name"]).number_format == "General"


def test_xlsx_highlights_shortfalls_before_the_plan_in_amber(tmp_path: Path) -> None:
    sheet = openpyxl.load_workbook(
        write_plan(tmp_path / "p", plan_frame(), summary()) / "plan.xlsx"
    ).worksheets[0]
    rules = {str(rng.sqref): rule for rng in sheet.conditional_formatting for rule in rng.rules}
    letter = letter_of(sheet, "shortfall_before")
    rule = rules[f"{letter}{FIRST}:{letter}{FIRST + 2}"]
    assert rule.operator == "greaterThan" and rule.formula == ["0"]
    assert rule.dxf.fill.bgColor.rgb.endswith("FFEB9C")


def test_xlsx_column_widths_fit_the_widest_value(tmp_path: Path) -> None:
    """Widths are display columns + 2, at least 6: 'shortfall_before' is 16 letters, so its
    column is 18 wide; 'shares the common shortfall level' is 33 letters, so the limited_by
    column is 35 wide; 'change' (6; '增减', 4; '-15', 3) gets 8. Excel stores a width with
    its 0.71 padding (XlsxWriter adds it, openpyxl wrote it without), so widths are compared
    to the whole column count."""
    book = openpyxl.load_workbook(write_plan(tmp_path / "p", plan_frame(), summary()) / "plan.xlsx")
    sheet = book.worksheets[0]
    widths = {letter: int(d.width) for letter, d in sheet.column_dimensions.items()}
    assert widths[letter_of(sheet, "shortfall_before")] == 18
    assert widths[letter_of(sheet, "limited_by")] == 35
    assert widths[letter_of(sheet, "change")] == 8


def test_xlsx_summary_sheet_formats_the_largest_shortfall_and_freezes_its_header(
    tmp_path: Path,
) -> None:
    target = write_plan(tmp_path / "p", plan_frame(), summary(), scenario_info={"name": "基线"})
    sheet = openpyxl.load_workbook(target / "plan.xlsx").worksheets[1]
    assert sheet.title == "摘要 Summary"
    assert [cell.value for cell in sheet[3]] == ["项目", "Item", "值 Value"]
    assert all(cell.font.b for cell in sheet[3])
    assert sheet.freeze_panes == "A4"
    row = {r[1].value: r for r in sheet.iter_rows(min_row=4)}
    largest = row["Largest relative shortfall"]
    assert largest[2].number_format == "0.00%"
    assert largest[2].value == pytest.approx(5.5 / 100.5)
    assert largest[0].value == "最大相对缺口"
    assert row["Note"][2].value is None  # NaN is shown as an empty cell


def test_xlsx_texts_stay_texts_and_missing_figures_stay_empty(tmp_path: Path) -> None:
    """A county name that looks like a formula or a link is written as the text it is; a
    missing figure (NaN, or <NA> in a nullable column) is an empty cell, not 'nan'."""
    frame = plan_frame()
    frame["name"] = ["=SUM(A1)", "http://example.org", "南山县"]
    frame["coverage_after"] = [0.9, float("nan"), 1.0]
    frame["highest_allowed"] = pd.array([100, None, 40], dtype="Int64")
    target = write_plan(tmp_path / "p", frame, summary())
    sheet = openpyxl.load_workbook(target / "plan.xlsx").worksheets[0]
    column = {cell.value: cell.column for cell in sheet[EN]}
    first, second, third = FIRST, FIRST + 1, FIRST + 2
    assert sheet.cell(row=first, column=column["name"]).value == "=SUM(A1)"
    assert sheet.cell(row=first, column=column["name"]).data_type == "s"
    assert sheet.cell(row=second, column=column["name"]).value == "http://example.org"
    assert sheet.cell(row=second, column=column["name"]).hyperlink is None
    assert sheet.cell(row=second, column=column["coverage_after"]).value is None
    assert sheet.cell(row=second, column=column["highest_allowed"]).value is None
    assert sheet.cell(row=third, column=column["highest_allowed"]).value == 40
