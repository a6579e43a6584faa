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
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer import csv_rows
from optimizer.xlsx_body import BodyColumn, write_sheet_with_body

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

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
SUMMARY_RATIO_FORMAT = "0.00%"
SHORTFALL_FILL = "#FFC7CE"  # red: still short after the plan
SHORTFALL_BEFORE_FILL = "#FFEB9C"  # amber: was short before it
HEADER_FILL = "#DDEBF7"
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
    # `csv_rows` writes what plan.to_csv(path, index=False, encoding="utf-8-sig",
    # float_format="%.10g") writes, a column at a time (200,000 rows: 2.5 s -> 0.5 s).
    csv_rows.write_csv(plan, path)


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
# XlsxWriter lays the workbook out: headers, formats, totals, widths, filter, frozen panes,
# conditional fills and the summary sheet. The plan's data rows, a Python call per cell there
# (3 million cells for 200,000 schools), are made column-wise by `optimizer.xlsx_body` and
# spliced into the sheet XlsxWriter wrote around them. Formats are made once per workbook and
# shared by reference; widths come from the values, not from re-reading the written cells.

PLAN_SHEET = "xl/worksheets/sheet1.xml"  # the first sheet added


def write_xlsx(plan: pd.DataFrame, summary: Mapping[str, Any], path: Path) -> None:
    # Plan texts are data: never let a name starting with '=' or 'http' become a formula or link.
    import io

    import xlsxwriter  # here: the app reads plan labels from this module without writing xlsx

    layout = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True}
    with xlsxwriter.Workbook(layout, options) as book:
        styles = _Styles(book)
        body = _plan_sheet(book.add_worksheet("方案 Plan"), plan, styles)
        _summary_sheet(book.add_worksheet("摘要 Summary"), summary, styles)
    write_sheet_with_body(layout.getvalue(), path, PLAN_SHEET, FIRST_DATA_ROW, body)


class _Styles:
    """The workbook's cell formats, made once: XlsxWriter stores one style per format object."""

    def __init__(self, book: Workbook) -> None:
        header = {"bg_color": HEADER_FILL, "pattern": 1, "align": "center"}
        self.header_zh = book.add_format({**header, "bold": True})
        self.header_en = book.add_format(header)
        self.shortfall = book.add_format({"bg_color": SHORTFALL_FILL})
        self.shortfall_before = book.add_format({"bg_color": SHORTFALL_BEFORE_FILL})
        self.summary_header = book.add_format({"bold": True, "bg_color": HEADER_FILL, "pattern": 1})
        self.summary_value = book.add_format({"text_wrap": True, "valign": "top"})
        self.summary_ratio = book.add_format(
            {"text_wrap": True, "valign": "top", "num_format": SUMMARY_RATIO_FORMAT}
        )
        self._book = book
        self._data: dict[str | None, Format | None] = {None: None}
        self._totals: dict[str | None, Format] = {}

    def data(self, number_format: str | None) -> Format | None:
        if number_format not in self._data:
            self._data[number_format] = self._book.add_format({"num_format": number_format})
        return self._data[number_format]

    def totals(self, number_format: str | None) -> Format:
        if number_format not in self._totals:
            spec: dict[str, Any] = {"bold": True}
            if number_format is not None:
                spec["num_format"] = number_format
            self._totals[number_format] = self._book.add_format(spec)
        return self._totals[number_format]


def _plan_sheet(sheet: Worksheet, plan: pd.DataFrame, styles: _Styles) -> list[BodyColumn]:
    """Lay the plan sheet out around its data rows; returns those rows' columns to splice in."""
    from xlsxwriter.utility import xl_col_to_name

    columns = [str(column) for column in plan.columns]
    totals = _totals(plan)
    last_data_row = FIRST_DATA_ROW + len(plan) - 1  # 1-based, as Excel shows it
    # Style numbers as XlsxWriter would give them writing every cell: headers, then the first
    # data row's formats left to right, then the totals (numbered as XlsxWriter writes them).
    styles.header_zh._get_xf_index()
    styles.header_en._get_xf_index()
    body: list[BodyColumn] = []
    for index, column in enumerate(columns):
        header_zh = HEADERS_ZH.get(column, column)
        sheet.write_string(0, index, header_zh, styles.header_zh)
        sheet.write_string(1, index, column, styles.header_en)
        values = plan.iloc[:, index]
        number_format = column_number_format(column)
        data_format = styles.data(number_format)
        style = data_format._get_xf_index() if data_format is not None and len(plan) else None
        body.append(BodyColumn(xl_col_to_name(index), style, values))
        total_values = [label if index == 0 else row.get(column) for label, row in totals]
        sheet.write_column(last_data_row, index, total_values, styles.totals(number_format))
        widest = _widest([header_zh, column, *_widest_candidates(values), *total_values])
        sheet.set_column(index, index, min(max(widest + 2, 8), 60))
    _highlight_shortfalls(sheet, columns, last_data_row, styles)
    sheet.freeze_panes(FIRST_DATA_ROW - 1, 2)  # headers and county id + name stay in view
    if len(plan):
        sheet.autofilter(1, 0, last_data_row - 1, len(columns) - 1)
    return body


def _widest_candidates(values: pd.Series) -> list[Any]:
    """The cells of a column that may be its widest, as `_column_values` gives them.

    `_widest` measures numbers only at their extremes and texts by `display_width`: so the
    extremes, and one text of the greatest display width, measured a column at a time.
    """
    dtype = values.dtype
    if not isinstance(dtype, np.dtype) and (
        pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype)
    ):  # nullable numbers: missing ones are empty cells, the others plain numbers
        kind = np.dtype(np.int64 if pd.api.types.is_integer_dtype(dtype) else np.float64)
        values = values.dropna().astype(kind)
        dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        numbers = values.to_numpy()
        finite = numbers[np.isfinite(numbers)] if dtype.kind == "f" else numbers
        extremes = [finite.max(), finite.min()] if len(finite) else []
        infinite = numbers[np.isinf(numbers)] if dtype.kind == "f" else numbers[:0]
        return [_cell(value) for value in (*extremes, *np.unique(infinite))]
    if pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, np.dtype):
        import pyarrow as pa
        import pyarrow.compute as pc

        from optimizer.xlsx_body import concatenated

        texts = pa.array(values, from_pandas=True).cast(pa.string()).drop_null()
        if not len(texts):
            return []
        # Display width = characters + wide characters; the wide ones among the distinct
        # characters of the column are found once, then counted in every text by Arrow.
        distinct = set(concatenated(pc.unique(texts)).decode())
        wide = "".join(f"\\x{{{ord(c):x}}}" for c in distinct if display_width(c) == 2)
        widths = pc.utf8_length(texts)
        if wide:
            only_wide = pc.replace_substring_regex(texts, f"[^{wide}]", "")
            widths = pc.add(widths, pc.utf8_length(only_wide))
        return [texts[pc.index(widths, pc.max(widths)).as_py()].as_py()]
    return _column_values(values)


def column_number_format(column: str) -> str | None:
    """How a plan column's figures are shown in Excel; None for ids and texts."""
    if column == "change":
        return CHANGE_FORMAT
    if column in FRACTIONAL:
        return FRACTION_FORMAT
    if column in RATIOS:
        return RATIO_FORMAT
    if column in ("county_id", "name", "year", "limited_by", "limited_by_zh", "class"):
        return None
    return WHOLE_FORMAT


def _column_values(values: pd.Series) -> list[Any]:
    """One column's cells as plain Python values; None where the plan has no value."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iub":
        return values.tolist()  # numpy ints and bools: never missing, already plain
    if _plain_already(values):
        return values.tolist()  # the common case, without a Python call per cell
    return [_cell(value) for value in values.tolist()]


def _plain_already(values: pd.Series) -> bool:
    """Finite floats, or pandas text with nothing missing: tolist() gives plain values."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":
        return bool(np.isfinite(values.to_numpy()).all())
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return bool(values.notna().all())
    return False


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
    if isinstance(value, float) and math.isinf(value):
        return str(value)  # Excel has no infinity; the text says what it is
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _highlight_shortfalls(
    sheet: Worksheet, columns: list[str], last_data_row: int, styles: _Styles
) -> None:
    """Conditional fills, so a planner who edits a figure in Excel sees the colour follow."""
    if last_data_row < FIRST_DATA_ROW:
        return
    for column, fill in (
        ("shortfall_after", styles.shortfall),
        ("shortfall_before", styles.shortfall_before),
    ):
        index = columns.index(column)
        sheet.conditional_format(
            FIRST_DATA_ROW - 1,
            index,
            last_data_row - 1,
            index,
            {"type": "cell", "criteria": "greater than", "value": 0, "format": fill},
        )


def display_width(text: str) -> int:
    """Columns a text takes on screen: Chinese characters are twice as wide as Latin ones."""
    if text.isascii():  # numbers and codes: the common case, and a quick one
        return len(text)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _shown(value: Any) -> str:
    """About what Excel shows for a value: fractions with one decimal and thousands commas."""
    return f"{value:,.1f}" if isinstance(value, float) else str(value)


def _widest(values: list[Any]) -> int:
    """Display width of a column's widest value; each distinct text is measured once."""
    numbers = [v for v in values if type(v) in (int, float)]
    others = [v for v in values if v is not None and type(v) not in (int, float)]
    shown = {_shown(value) for value in others}
    if numbers:
        # A figure's shown length never shrinks as its size grows (rounding only carries
        # upwards), so the widest number is the largest or the most negative one.
        shown.update(_shown(value) for value in (max(numbers), min(numbers)))
    return max((display_width(text) for text in shown), default=0)


def _summary_rows(summary: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """(Chinese label, key, value) per line of the summary sheet, scenario first."""
    rows: list[tuple[str, str, Any]] = []
    scenario = summary.get("scenario")
    if isinstance(scenario, Mapping) and scenario.get("name"):
        rows.append((SUMMARY_LABELS_ZH["scenario"], "scenario", _cell(scenario["name"])))
    for key, value in summary.items():
        if key == "scenario":
            continue
        shown = "\n".join(map(str, value)) if isinstance(value, list) else value
        if isinstance(shown, dict):
            shown = json.dumps(shown, ensure_ascii=False)
        rows.append((SUMMARY_LABELS_ZH.get(key, key), key, _cell(shown)))
    if isinstance(scenario, Mapping):
        for key, value in scenario.items():
            if key == "name":
                continue
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value
            rows.append((f"方案.{key}", f"scenario.{key}", _cell(shown)))
    return rows


def _summary_sheet(sheet: Worksheet, summary: Mapping[str, Any], styles: _Styles) -> None:
    header = ("项目", "item", "值 value")
    sheet.write_row(0, 0, header, styles.summary_header)
    rows = _summary_rows(summary)
    for number, (label, key, value) in enumerate(rows, start=1):
        sheet.write_string(number, 0, label)
        sheet.write_string(number, 1, key)
        ratio = key == "max_relative_shortfall"
        sheet.write(number, 2, value, styles.summary_ratio if ratio else styles.summary_value)
    sheet.freeze_panes(1, 0)
    for index in range(len(header)):
        widest = _widest([header[index], *(row[index] for row in rows)])
        sheet.set_column(index, index, min(max(widest + 2, 8), 60))
