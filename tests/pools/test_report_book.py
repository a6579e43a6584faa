"""The generic report writer (SPEC 3.7): any table, given a column spec, becomes a sheet in the
office's layout — title, 单位, date, 序号, grouped Chinese headers over Chinese and English
header rows, a totals row of the columns that add up, thousands separators, landscape A4 one
page wide with the header rows on every page — followed by a 说明 sheet."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pools.report_book import (
    CHANGE_FORMAT,
    FIRST_DATA_ROW,
    TOTAL_LABEL,
    WHOLE_FORMAT,
    Column,
    Report,
    save,
    write_report,
)

TODAY = dt.date(2027, 3, 1)
FIGURES = ("数量", "Figures")
COLUMNS = (
    Column("name", "名称", "Name"),
    Column("count", "人数", "Count", WHOLE_FORMAT, total=True, group=FIGURES),
    Column("change", "增减", "Change", CHANGE_FORMAT, total=True, group=FIGURES),
    Column("note", "备注", "Note", wrap=True, max_width=20),
)


def book(rows: pd.DataFrame | None = None) -> openpyxl.Workbook:
    frame = (
        rows
        if rows is not None
        else pd.DataFrame(
            {
                "name": ["甲", "=SUM(A1)", "丙"],
                "count": [1200, 34, None],
                "change": [-5, 7, 0],
                "note": ["a long note " * 5, None, "短"],
            }
        )
    )
    report = Report("表 Table", "某某表 / A table", COLUMNS, frame)
    notes = [("来源 Source", "数据库 Database", "sqlite:///x.db", None), ("s", "i", 3, "ab" * 32)]
    content = write_report([report], notes, notes_sheet_name="说明 Notes", today=TODAY)
    return openpyxl.load_workbook(io.BytesIO(content))


def test_a_report_sheet_has_title_unit_date_row_numbers_and_grouped_headers() -> None:
    sheet = book()["表 Table"]
    merged = {str(cells) for cells in sheet.merged_cells.ranges}
    assert sheet["A1"].value == "某某表 / A table" and "A1:E1" in merged
    assert sheet["A2"].value.startswith("单位：名")
    date_cell = next(c for c in sheet[2] if c.value and "制表日期" in str(c.value))
    assert "2027年3月1日" in date_cell.value
    # 序号 and ungrouped columns span the group and header rows; a group over its members.
    assert sheet["A3"].value == "序号" and "A3:A4" in merged
    assert sheet["B3"].value == "名称" and "B3:B4" in merged
    assert sheet["C3"].value == "数量 Figures" and "C3:D3" in merged
    assert [sheet["C4"].value, sheet["D4"].value] == ["人数", "增减"]
    assert [c.value for c in sheet[5]] == ["No.", "Name", "Count", "Change", "Note"]
    assert sheet.row_dimensions[3].height is None  # the group's name fits over its columns
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=FIRST_DATA_ROW)]
    assert [row[0] for row in rows[:3]] == [1, 2, 3]
    assert rows[1][1] == "=SUM(A1)"  # a text stays a text, never a formula
    assert sheet.cell(FIRST_DATA_ROW + 1, 2).data_type == "s"


def test_the_totals_row_adds_up_the_columns_that_add_up_with_their_formats() -> None:
    sheet = book()["表 Table"]
    totals = FIRST_DATA_ROW + 3
    assert sheet.cell(totals, 1).value == TOTAL_LABEL
    assert f"A{totals}:B{totals}" in {str(c) for c in sheet.merged_cells.ranges}
    assert sheet.cell(totals, 3).value == 1234 and sheet.cell(totals, 4).value == 2
    assert sheet.cell(totals, 5).value is None  # a note does not add up
    assert sheet.cell(FIRST_DATA_ROW, 3).number_format == WHOLE_FORMAT
    assert sheet.cell(FIRST_DATA_ROW, 4).number_format == CHANGE_FORMAT
    assert sheet.cell(totals, 3).number_format == WHOLE_FORMAT
    assert sheet.cell(FIRST_DATA_ROW, 5).alignment.wrap_text
    # The long note wraps over 4 lines of its 20-character column, and its row is that tall.
    assert sheet.column_dimensions["E"].width == pytest.approx(20, abs=1)
    assert sheet.row_dimensions[FIRST_DATA_ROW].height == 4 * 15
    assert sheet.row_dimensions[FIRST_DATA_ROW + 1].height is None
    assert sheet.cell(FIRST_DATA_ROW + 2, 3).value is None  # missing stays empty


def test_no_totals_row_when_nothing_adds_up() -> None:
    frame = pd.DataFrame({"name": ["甲"], "note": ["x"]})
    report = Report("T", "t", (COLUMNS[0], COLUMNS[3]), frame)
    sheet = openpyxl.load_workbook(io.BytesIO(write_report([report], [], today=TODAY)))["T"]
    assert sheet.max_row == FIRST_DATA_ROW


def test_a_report_prints_landscape_one_page_wide_with_its_header_rows_on_every_page() -> None:
    workbook = book()
    for sheet in workbook.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.paperSize == 9  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.fitToWidth in (None, 1)  # 1 is the default: may be left out
        assert sheet.page_setup.fitToHeight == 0
        assert "&P" in sheet.oddFooter.center.text
    assert workbook["表 Table"].print_title_rows == "$3:$5"
    assert workbook["说明 Notes"].print_title_rows == "$3:$3"


def test_the_notes_sheet_says_what_produced_the_report() -> None:
    sheet = book()["说明 Notes"]
    assert [c.value for c in sheet[3]] == ["类别 Section", "项目 Item", "内容 Content", "SHA-256"]
    assert [c.value for c in sheet[4]] == ["来源 Source", "数据库 Database", "sqlite:///x.db", None]
    assert sheet["C5"].value == 3 and sheet["D5"].value == "ab" * 32


def test_save_writes_the_whole_file_or_leaves_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "r.xlsx"
    save(b"old", target)
    with pytest.raises(OSError):
        save(b"new", tmp_path / "missing" / "r.xlsx")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]  # no temporary file left


def test_a_group_name_wider_than_its_columns_gets_a_taller_row() -> None:
    group = ("与 基线方案 相比增减", "change against the baseline scenario")
    columns = (Column("a", "甲", "a", WHOLE_FORMAT, group=group),)
    report = Report("T", "t", columns, pd.DataFrame({"a": [1]}))
    sheet = openpyxl.load_workbook(io.BytesIO(write_report([report], [], today=TODAY)))["T"]
    assert sheet["B3"].value == "与 基线方案 相比增减 change against the baseline scenario"
    assert sheet.row_dimensions[3].height > 15
