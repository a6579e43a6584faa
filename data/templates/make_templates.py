"""Regenerate the blank-ish input templates in this folder: one per input file, CSV and .xlsx.

The files are committed; run this only after changing a column or an example row below:

    .venv/bin/python data/templates/make_templates.py

CSV templates carry the Chinese headers on row 1 (English headers are accepted as well, but a
CSV has one header row). The .xlsx templates carry a note on row 1 that names every column in
both languages and says what it takes, and the headers on row 2: the reader finds the header
row by itself and skips the note. The example rows are illustrative (codes 3399xx belong to no
real place); overwrite them with your own.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).resolve().parent

# name -> [(Chinese header, English header, what it takes)], example rows (in that order)
TEMPLATES: dict[str, tuple[list[tuple[str, str, str]], list[list[object]]]] = {
    "counties": (
        [
            ("区划代码", "county_id", "文本，唯一 text, unique"),
            ("区划名称", "name", "文本 text"),
            ("教职工编制", "quota", "整数 ≥ 0 whole number"),
            ("在编人数", "occupied", "整数 ≥ 0 whole number"),
            ("预计减员", "attrition", "整数 ≥ 0，可空（0）optional, default 0"),
            ("最低编制", "min_quota", "整数 ≥ 0，可空 optional"),
            ("最多增编", "max_gain", "整数 ≥ 0，可空 optional"),
            ("城乡类别", "class", "城市/县镇/农村 urban/town/rural，可空 optional"),
        ],
        [
            ["339902", "东湖区", 5950, 5870, 260, None, None, "城市"],
            ["339923", "云溪县", 2480, 2440, 230, 2250, None, "农村"],
        ],
    ),
    "enrolment": (
        [
            ("区划代码", "county_id", "须在区县表中 must be in counties"),
            ("学段", "level", "小学/初中/高中 primary/junior/senior"),
            ("在校生数", "students", "整数 ≥ 0 whole number"),
            ("年度", "year", "整数，可空；多年度规划每行都填 optional, on every row or none"),
        ],
        [
            ["339902", "小学", 58400, 2027],
            ["339902", "初中", 26900, 2027],
            ["339923", "小学", 19400, 2027],
        ],
    ),
    "enrolment_wide": (
        [
            ("区划代码", "county_id", "须在区县表中 must be in counties"),
            ("年度", "year", "整数，可空 optional"),
            ("小学", "primary", "小学在校生数，空 = 无此学段 primary pupils, blank = none"),
            ("初中", "junior", "初中在校生数 junior pupils"),
            ("高中", "senior", "高中在校生数 senior pupils"),
            ("小学班级数", "primary_classes", "整数，可空 optional (also 初中班级数, 高中班级数)"),
        ],
        [
            ["339902", 2027, 58400, 26900, 21800, 1300],
            ["339923", 2027, 19400, 9100, 5100, None],
        ],
    ),
    "units": (
        [
            ("单位代码", "unit_id", "文本，唯一 text, unique"),
            ("单位名称", "name", "文本 text"),
            ("所属区划", "region", "区县代码，市级单位填市代码 county or city code"),
            ("层级", "level", "市级/县级 municipal/county"),
            ("编制类型", "kind", "行政/事业 administrative/institutional"),
            ("核定编制", "approved", "整数 ≥ 0 whole number"),
            ("实有人数", "headcount", "整数 ≥ 0，本单位编制上的人数 people on own quota"),
            ("行业领域", "sector", "可空 optional"),
            ("上级单位", "parent", "上级单位代码，可空 parent unit_id, optional"),
        ],
        [
            ["M001", "市委办公室", "339900", "市级", "行政", 36, 36, "党委", None],
            ["C101", "东湖区教育局", "339902", "县级", "行政", 20, 19, "教育", None],
        ],
    ),
    "departures": (
        [
            ("区划代码", "county_id", "须在区县表中 must be in counties"),
            ("年度", "year", "整数 whole number"),
            ("预计减员", "attrition", "整数 ≥ 0，每个区县每年一行 one row per county and year"),
        ],
        [["339902", 2027, 90], ["339902", 2028, 85], ["339923", 2027, 40]],
    ),
}


def note(columns: list[tuple[str, str, str]]) -> str:
    lines = [
        "填表说明 / Notes: 第 2 行是表头，中文或英文表头均可；本行读取时自动跳过。"
        "Row 2 holds the headers, in Chinese or English; this row is skipped when read.",
        *(f"{zh} = {en}: {what}" for zh, en, what in columns),
    ]
    return "\n".join(lines)


def main() -> None:
    for name, (columns, rows) in TEMPLATES.items():
        headers = [zh for zh, _, _ in columns]
        with (HERE / f"{name}.csv").open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(headers)
            writer.writerows([["" if c is None else c for c in row] for row in rows])
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = name
        sheet.append([note(columns)])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
        sheet["A1"].alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[1].height = 16 * (len(columns) + 2)
        sheet.append(headers)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        for letter in "ABCDEFGHI"[: len(columns)]:
            sheet.column_dimensions[letter].width = 14
        sheet.freeze_panes = "A3"
        book.save(HERE / f"{name}.xlsx")


if __name__ == "__main__":
    main()
