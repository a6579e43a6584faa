"""Plan files (SPEC 3.4): plan.csv for scripts, plan.xlsx for people, summary.json for both.

All three are written into a temporary directory next to the target and renamed into place,
so a plan directory is either the complete new plan, the previous one, or absent: never a
mix, never half a file.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

PLAN_COLUMNS = (
    "county_id",
    "name",
    "need",
    "current",
    "new",
    "change",
    "shortfall_before",
    "shortfall_after",
    "limited_by",
)
SUMMARY_KEYS = (
    "status",
    "objective",
    "solver",
    "seconds",
    "total_before",
    "total_after",
    "max_relative_shortfall",
    "total_shortfall",
    "moved",
)
HEADERS_ZH = {
    "county_id": "区划代码",
    "name": "区划名称",
    "year": "年度",
    "class": "城乡类别",
    "need": "测算需求",
    "current": "现有编制",
    "new": "调整后编制",
    "change": "增减",
    "shortfall_before": "调整前缺口",
    "shortfall_after": "调整后缺口",
    "coverage_before": "调整前保障率",
    "coverage_after": "调整后保障率",
    "relative_shortfall_before": "调整前相对缺口",
    "relative_shortfall_after": "调整后相对缺口",
    "occupied": "在编人数",
    "attrition": "预计减员",
    "floor": "下限",
    "cap": "上限",
    "lowest_allowed": "最低可保留",
    "highest_allowed": "最多可达",
    "limited_by": "决定因素代码",
    "limited_by_zh": "决定因素",
}
SUMMARY_LABELS_ZH = {
    "scenario": "方案名称",
    "status": "求解状态",
    "objective": "优化目标",
    "solver": "求解器",
    "seconds": "用时（秒）",
    "total_before": "调整前编制总数",
    "total_after": "调整后编制总数",
    "max_relative_shortfall": "最大相对缺口",
    "total_shortfall": "缺口合计",
    "moved": "调整编制数",
    "explanation": "说明",
}
TOTAL_LABEL = "合计 Total"
# Quotas and people are summed in the totals row; ratios and ids are not.
SUMMED = ("need", "current", "new", "change", "shortfall_before", "shortfall_after")
RATIOS = (
    "coverage_before",
    "coverage_after",
    "relative_shortfall_before",
    "relative_shortfall_after",
)
FRACTIONAL = ("need", "shortfall_before", "shortfall_after")
WHOLE_FORMAT = "#,##0"
FRACTION_FORMAT = "#,##0.0"
CHANGE_FORMAT = "+#,##0;-#,##0;0"
RATIO_FORMAT = "0.0%"
SHORTFALL_FILL = PatternFill(start_color="FFC7CE", end_color="FFC7CE", fill_type="solid")
SHORTFALL_BEFORE_FILL = PatternFill(start_color="FFEB9C", end_color="FFEB9C", fill_type="solid")
HEADER_FILL = PatternFill(start_color="DDEBF7", end_color="DDEBF7", fill_type="solid")
FIRST_DATA_ROW = 3  # row 1 Chinese headers, row 2 English headers


# --- the whole plan directory ----------------------------------------------------------------


def write_plan(
    target: str | Path,
    table: pd.DataFrame | None,
    summary: Mapping[str, Any],
    *,
    scenario_info: Mapping[str, Any] | None = None,
) -> Path:
    """Write plan.csv, plan.xlsx and summary.json as one directory `target`, atomically.

    With `table` None (an infeasible scenario) only summary.json is written, so the directory
    holds the explanation and no plan that could be mistaken for a valid one.
    """
    target = Path(target)
    document = summary_document(summary, scenario_info)

    def fill(directory: Path) -> None:
        if table is not None:
            plan = plan_table(table)
            write_csv(plan, directory / "plan.csv")
            write_xlsx(plan, document, directory / "plan.xlsx")
        write_json(document, directory / "summary.json")

    replace_directory(target, fill)
    return target


def replace_directory(target: Path, fill: Callable[[Path], None]) -> None:
    """Build the directory's content aside, then swap it in; on failure nothing changes."""
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    try:
        fill(staging)
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a plan is for everyone to read
        if target.exists():
            old = parent / f".{target.name}.{uuid.uuid4().hex}.old"
            target.rename(old)
            try:
                staging.rename(target)
            except OSError:
                old.rename(target)  # put the previous plan back
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# --- table shaping ---------------------------------------------------------------------------


def plan_table(table: pd.DataFrame) -> pd.DataFrame:
    """The plan's columns in reading order: SPEC 3.4's first, then whatever else the plan has."""
    missing = [column for column in PLAN_COLUMNS if column not in table.columns]
    if missing:
        raise ValueError(f"plan table lacks the columns {missing}")
    leading = [c for c in ("county_id", "name", "year") if c in table.columns]
    trailing = [c for c in ("limited_by", "limited_by_zh") if c in table.columns]
    middle = [c for c in PLAN_COLUMNS if c not in (*leading, *trailing)]
    rest = [c for c in table.columns if c not in (*leading, *middle, *trailing)]
    return table[[*leading, *middle, *rest, *trailing]].reset_index(drop=True)


def write_csv(plan: pd.DataFrame, path: Path) -> None:
    # The BOM makes Excel on zh-CN open the UTF-8 file with its Chinese names intact.
    plan.to_csv(path, index=False, encoding="utf-8-sig", float_format="%.10g")


# --- summary.json ----------------------------------------------------------------------------


def summary_document(
    summary: Mapping[str, Any], scenario_info: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The summary as plain JSON values, with the scenario that produced it."""
    document = {key: summary.get(key) for key in SUMMARY_KEYS}
    document.update({key: value for key, value in summary.items() if key not in document})
    if scenario_info is not None:
        document["scenario"] = dict(scenario_info)
    cleaned = _plain(document)
    assert isinstance(cleaned, dict)
    return cleaned


def write_json(document: Mapping[str, Any], path: Path) -> None:
    text = json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def _plain(value: Any) -> Any:
    """numpy scalars, paths, tuples and NaN turned into what JSON can hold."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# --- plan.xlsx -------------------------------------------------------------------------------


def write_xlsx(plan: pd.DataFrame, summary: Mapping[str, Any], path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "方案 Plan"
    _plan_sheet(sheet, plan)
    _summary_sheet(book.create_sheet("摘要 Summary"), summary)
    book.save(path)


def _plan_sheet(sheet: Worksheet, plan: pd.DataFrame) -> None:
    columns = list(plan.columns)
    sheet.append([HEADERS_ZH.get(column, column) for column in columns])
    sheet.append(columns)
    for record in plan.itertuples(index=False):
        sheet.append([_cell(value) for value in record])
    last_data_row = FIRST_DATA_ROW + len(plan) - 1
    for label, totals in _totals(plan):
        sheet.append([label if column == columns[0] else totals.get(column) for column in columns])
    _style_headers(sheet, len(columns))
    _number_formats(sheet, columns)
    _highlight_shortfalls(sheet, columns, last_data_row)
    for row in sheet.iter_rows(min_row=last_data_row + 1, max_row=sheet.max_row):
        for cell in row:
            cell.font = Font(bold=True)
    sheet.freeze_panes = sheet.cell(row=FIRST_DATA_ROW, column=3)
    if len(plan):
        last = get_column_letter(len(columns))
        sheet.auto_filter.ref = f"A2:{last}{last_data_row}"
    _fit_widths(sheet)


def _totals(plan: pd.DataFrame) -> list[tuple[str, dict[str, Any]]]:
    """One totals row, or one per year for a multi-year plan (quotas do not add across years)."""
    summed = [column for column in SUMMED if column in plan.columns]
    if "year" not in plan.columns:
        return [(TOTAL_LABEL, {c: _cell(plan[c].sum()) for c in summed})]
    rows = []
    for year, group in plan.groupby("year", sort=True):
        totals = {c: _cell(group[c].sum()) for c in summed}
        totals["year"] = _cell(year)
        rows.append((f"{TOTAL_LABEL} {year}", totals))
    return rows


def _cell(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _style_headers(sheet: Worksheet, width: int) -> None:
    for row in (1, 2):
        for column in range(1, width + 1):
            cell = sheet.cell(row=row, column=column)
            cell.font = Font(bold=row == 1)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(horizontal="center")


def _number_formats(sheet: Worksheet, columns: list[str]) -> None:
    for index, column in enumerate(columns, start=1):
        if column == "change":
            number_format = CHANGE_FORMAT
        elif column in FRACTIONAL:
            number_format = FRACTION_FORMAT
        elif column in RATIOS:
            number_format = RATIO_FORMAT
        elif column in ("county_id", "name", "year", "limited_by", "limited_by_zh", "class"):
            continue
        else:
            number_format = WHOLE_FORMAT
        for row in range(FIRST_DATA_ROW, sheet.max_row + 1):
            sheet.cell(row=row, column=index).number_format = number_format


def _highlight_shortfalls(sheet: Worksheet, columns: list[str], last_data_row: int) -> None:
    """Conditional fills, so a planner who edits a figure in Excel sees the colour follow."""
    if last_data_row < FIRST_DATA_ROW:
        return
    for column, fill in (
        ("shortfall_after", SHORTFALL_FILL),
        ("shortfall_before", SHORTFALL_BEFORE_FILL),
    ):
        letter = get_column_letter(columns.index(column) + 1)
        cells = f"{letter}{FIRST_DATA_ROW}:{letter}{last_data_row}"
        sheet.conditional_formatting.add(
            cells, CellIsRule(operator="greaterThan", formula=["0"], fill=fill)
        )


def display_width(text: str) -> int:
    """Columns a text takes on screen: Chinese characters are twice as wide as Latin ones."""
    if text.isascii():  # numbers and codes: the common case, and a quick one
        return len(text)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _fit_widths(sheet: Worksheet) -> None:
    for column_cells in sheet.iter_cols(min_row=1, max_row=sheet.max_row):
        widest = 0
        for cell in column_cells:
            if cell.value is None:
                continue
            shown = f"{cell.value:,.1f}" if isinstance(cell.value, float) else str(cell.value)
            widest = max(widest, display_width(shown))
        letter = get_column_letter(column_cells[0].column)
        sheet.column_dimensions[letter].width = min(max(widest + 2, 8), 60)


def _summary_sheet(sheet: Worksheet, summary: Mapping[str, Any]) -> None:
    sheet.append(["项目", "item", "值 value"])
    scenario = summary.get("scenario")
    if isinstance(scenario, Mapping) and scenario.get("name"):
        sheet.append([SUMMARY_LABELS_ZH["scenario"], "scenario", scenario["name"]])
    for key, value in summary.items():
        if key == "scenario":
            continue
        shown = "\n".join(map(str, value)) if isinstance(value, list) else value
        if isinstance(shown, dict):
            shown = json.dumps(shown, ensure_ascii=False)
        sheet.append([SUMMARY_LABELS_ZH.get(key, key), key, _cell(shown)])
        if key == "max_relative_shortfall":
            sheet.cell(row=sheet.max_row, column=3).number_format = "0.00%"
    if isinstance(scenario, Mapping):
        for key, value in scenario.items():
            if key == "name":
                continue
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value
            sheet.append([f"方案.{key}", f"scenario.{key}", _cell(shown)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for row in sheet.iter_rows(min_row=2, min_col=3, max_col=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    _fit_widths(sheet)
