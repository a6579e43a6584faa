"""Plan files (SPEC 3.4): plan.csv for scripts, plan.xlsx for people, summary.json for both.

All three are written into a temporary directory next to the target and renamed into place,
so a plan directory is either the complete new plan, the previous one, or absent: never a
mix, never half a file.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer import csv_rows
from optimizer.xlsx_body import BodyColumn, write_sheet_with_body
from pools.report_book import (
    CHANGE_FORMAT,
    ENGLISH_ROW,
    FIRST_DATA_ROW,
    FRACTION_FORMAT,
    GROUP_ROW,
    RATIO_FORMAT,
    SUMMARY_RATIO_FORMAT,
    TOTAL_LABEL,
    UNIT_TEXT,
    WHOLE_FORMAT,
    Styles,
    display_width,
    header_cells,
    header_rows,
    heading,
    merge,
    notes_sheet,
    print_setup,
    table_sheet,
)
from pools.report_book import cell as _cell
from pools.report_book import text_width as _text_width
from pools.report_book import widest as _widest

if TYPE_CHECKING:
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
    "explanation_zh": "说明",
    "explanation": "说明（英文）",
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
# Quotas and people are summed in the totals row; ratios and ids are not.
SUMMED = ("need", "current", "new", "change", "shortfall_before", "shortfall_after")
RATIOS = (
    "coverage_before",
    "coverage_after",
    "relative_shortfall_before",
    "relative_shortfall_after",
)
FRACTIONAL = ("need", "shortfall_before", "shortfall_after")


# --- the whole plan directory ----------------------------------------------------------------


def write_plan(
    target: str | Path,
    table: pd.DataFrame | None,
    summary: Mapping[str, Any],
    *,
    scenario_info: Mapping[str, Any] | None = None,
    counties: pd.DataFrame | None = None,
    enrolment: pd.DataFrame | None = None,
) -> Path:
    """Write plan.csv, plan.xlsx and summary.json as one directory `target`, atomically.

    With `table` None (an infeasible scenario) only summary.json is written, so the directory
    holds the explanation and no plan that could be mistaken for a valid one. `counties` and
    `enrolment` (the checked inputs the plan was made from) give plan.xlsx its students per
    level, 在编 and 预计减员 columns; plan.csv holds the plan's own columns only.
    """
    target = Path(target)
    document = summary_document(summary, scenario_info)

    def fill(directory: Path) -> None:
        if table is not None:
            plan = plan_table(table)
            write_csv(plan, directory / "plan.csv")
            write_xlsx(
                plan, document, directory / "plan.xlsx", counties=counties, enrolment=enrolment
            )
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
    trailing = [
        c
        for c in ("limited_by", "limited_by_zh", "explanation_zh", "explanation")
        if c in table.columns
    ]
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
# The office's layout (SPEC 3.7): a title, the unit and the date, grouped Chinese headers over
# a Chinese and an English header row, 序号, a totals row (one per year), thousands
# separators, landscape A4 fitted to the page width with the header rows on every page; then
# a summary sheet and the basis of the calculation (测算依据).
#
# XlsxWriter lays the workbook out: title, headers, formats, totals, widths, filter, frozen
# panes, print setup, conditional fills and the other sheets. The plan's data rows, a Python
# call per cell there (3 million cells for 200,000 schools), are made column-wise by
# `optimizer.xlsx_body` and spliced into the sheet XlsxWriter wrote around them. Formats are
# made once per workbook and shared by reference; widths come from the values, not from
# re-reading the written cells.

PLAN_SHEET = "xl/worksheets/sheet1.xml"  # the first sheet added
PLAN_SHEET_NAME = "方案 Plan"
SUMMARY_SHEET_NAME = "摘要 Summary"
BASIS_SHEET_NAME = "测算依据 Basis"
TITLE_ZH = "教师编制调整方案"
TITLE_EN = "Teacher quota plan"
ROW_NUMBER = "no"  # 序号
STUDENT_LEVELS = ("primary", "junior", "senior")
STUDENT_COLUMNS = tuple(f"students_{level}" for level in STUDENT_LEVELS)
STAFF_COLUMNS = ("occupied", "attrition")
# Column groups: (Chinese, English, members); a member's header in the group is shorter.
COLUMN_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("在校生", "Students", STUDENT_COLUMNS),
    ("教职工", "Staff", STAFF_COLUMNS),
    (
        "调整前",
        "Before",
        ("current", "shortfall_before", "coverage_before", "relative_shortfall_before"),
    ),
    (
        "调整后",
        "After",
        ("new", "change", "shortfall_after", "coverage_after", "relative_shortfall_after"),
    ),
    ("限额", "Limits", ("lowest_allowed", "highest_allowed", "floor", "cap")),
    ("决定因素", "Limited by", ("limited_by_zh", "explanation_zh", "limited_by", "explanation")),
)
GROUPED_HEADERS_ZH = {
    "students_primary": "小学",
    "students_junior": "初中",
    "students_senior": "高中",
    "occupied": "在编人数",
    "attrition": "预计减员",
    "current": "现有编制",
    "shortfall_before": "缺口",
    "coverage_before": "保障率",
    "relative_shortfall_before": "相对缺口",
    "new": "调整后编制",
    "change": "增减",
    "shortfall_after": "缺口",
    "coverage_after": "保障率",
    "relative_shortfall_after": "相对缺口",
    "lowest_allowed": "最低可保留",
    "highest_allowed": "最多可达",
    "floor": "下限",
    "cap": "上限",
    "limited_by_zh": "因素",
    "explanation_zh": "说明",
    "limited_by": "代码",
    "explanation": "说明（英文）",
}
# What the totals row adds up in the workbook: SUMMED and the students and staff.
REPORT_SUMMED = (*STUDENT_COLUMNS, *STAFF_COLUMNS, *SUMMED)
TEXT_COLUMNS = (
    "county_id",
    "name",
    "year",
    "limited_by",
    "limited_by_zh",
    "explanation_zh",
    "explanation",
    "class",
)


def write_xlsx(
    plan: pd.DataFrame,
    summary: Mapping[str, Any],
    path: Path,
    *,
    counties: pd.DataFrame | None = None,
    enrolment: pd.DataFrame | None = None,
    today: dt.date | None = None,
) -> None:
    """plan.xlsx: `plan` (a `plan_table`) as a report, with students and staff from the
    inputs where the plan lacks them, `summary` (a `summary_document`) in words, and the
    scenario's inputs, standards, policy and edits on the sheet 测算依据."""
    # Plan texts are data: never let a name starting with '=' or 'http' become a formula or link.
    import io

    import xlsxwriter  # here: the app reads plan labels from this module without writing xlsx

    report = report_table(plan, counties, enrolment)
    layout = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True}
    with xlsxwriter.Workbook(layout, options) as book:
        body, _ = lay_out(book, report, summary, today or dt.date.today())
    write_sheet_with_body(layout.getvalue(), path, PLAN_SHEET, FIRST_DATA_ROW, body)


def lay_out(
    book: Workbook, report: pd.DataFrame, summary: Mapping[str, Any], today: dt.date
) -> tuple[list[BodyColumn], Styles]:
    """Every sheet but the plan's data rows, which are returned as columns to write."""
    styles = Styles(book)
    heading = plan_title(summary)
    body = _plan_sheet(book.add_worksheet(PLAN_SHEET_NAME), report, styles, heading, today)
    _summary_sheet(book.add_worksheet(SUMMARY_SHEET_NAME), summary, report, styles, today)
    _basis_sheet(book.add_worksheet(BASIS_SHEET_NAME), summary, styles, today)
    return body, styles


def plan_title(summary: Mapping[str, Any]) -> str:
    """'<scenario> 教师编制调整方案（2027–2029年） / Teacher quota plan'."""
    scenario = summary.get("scenario")
    name = scenario.get("name") if isinstance(scenario, Mapping) else None
    years = [y for y in summary.get("years") or [] if y is not None]
    span = ""
    if years:
        first, last = min(years), max(years)
        span = f"（{first}年）" if first == last else f"（{first}–{last}年）"
    prefix = f"{name} " if name else ""
    return f"{prefix}{TITLE_ZH}{span} / {TITLE_EN}"


# --- the workbook's plan table ---------------------------------------------------------------


def report_table(
    plan: pd.DataFrame,
    counties: pd.DataFrame | None = None,
    enrolment: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The plan sheet's columns in reading order: 序号, the county, its students and staff
    (from `enrolment` and `counties` where the plan lacks them), need, then before, after,
    limits and the limiting factor. Every column of the plan is kept."""
    size = len(plan)
    columns: dict[str, Any] = {ROW_NUMBER: np.arange(1, size + 1, dtype=np.int64)}
    for column in ("county_id", "name", "year", "class"):
        if column in plan.columns:
            columns[column] = plan[column].to_numpy()
    students = _students(plan, enrolment)
    for column in STUDENT_COLUMNS:
        if column in plan.columns:
            columns[column] = plan[column].array
        elif column in students:
            columns[column] = students[column]
    for column in STAFF_COLUMNS:
        if column in plan.columns:
            columns[column] = plan[column].array
        elif counties is not None and column in counties.columns:
            columns[column] = _by_county(plan, counties, column)
    grouped = [member for _, _, members in COLUMN_GROUPS for member in members]
    ordered = ["need", *grouped[len(STUDENT_COLUMNS) + len(STAFF_COLUMNS) :]]
    trailing = [c for c in COLUMN_GROUPS[-1][2] if c in plan.columns]
    for column in ordered:
        if column in plan.columns and column not in trailing:
            columns[column] = plan[column].array
    for column in plan.columns:
        if column not in columns and column not in trailing:
            columns[column] = plan[column].array
    for column in trailing:
        columns[column] = plan[column].array
    return pd.DataFrame(columns, index=pd.RangeIndex(size), copy=False)


def _keys(plan: pd.DataFrame, frame: pd.DataFrame) -> list[str]:
    """Match rows on the county, and on the year where both tables have years."""
    years = "year" in plan.columns and "year" in frame.columns and bool(frame["year"].notna().any())
    return ["county_id", "year"] if years else ["county_id"]


def _students(plan: pd.DataFrame, enrolment: pd.DataFrame | None) -> dict[str, Any]:
    """Students per level of each plan row: `enrolment` summed per county (and year)."""
    if (
        enrolment is None
        or len(plan) == 0
        or not {"county_id", "level", "students"} <= set(enrolment.columns)
    ):
        return {}
    keys = _keys(plan, enrolment)
    frame = enrolment[[*keys, "level", "students"]].copy()
    frame["county_id"] = frame["county_id"].astype(str)
    if "year" in keys:
        frame["year"] = frame["year"].astype("Int64")
    sums = frame.groupby([*keys, "level"], sort=False)["students"].sum().unstack("level")
    wanted = plan[keys].astype({"county_id": str})
    if "year" in keys:
        wanted = wanted.astype({"year": "Int64"})
    rows = pd.MultiIndex.from_frame(wanted) if len(keys) > 1 else pd.Index(wanted["county_id"])
    found = sums.reindex(rows)
    result: dict[str, Any] = {}
    for level, column in zip(STUDENT_LEVELS, STUDENT_COLUMNS, strict=True):
        if level not in found.columns:
            continue
        values = found[level].to_numpy(dtype=float)
        result[column] = _whole(values)
    return result


def _by_county(plan: pd.DataFrame, counties: pd.DataFrame, column: str) -> Any:
    values = counties.set_index(counties["county_id"].astype(str))[column]
    values = values[~values.index.duplicated()]
    found = values.reindex(plan["county_id"].astype(str)).to_numpy(dtype=float)
    return _whole(found)


def _whole(values: np.ndarray) -> Any:
    """Counts as int64, or as nullable integers where some are missing."""
    missing = np.isnan(values)
    whole = np.where(missing, 0, values).astype(np.int64)
    return pd.arrays.IntegerArray(whole, missing) if missing.any() else whole


# --- the plan sheet --------------------------------------------------------------------------


_LIMITED_BY_GROUP = "决定因素 Limited by"  # over the reason alone, the reason's own header


def _group_of(column: str) -> str | None:
    """'在校生 Students': the group a plan column is shown under, if any."""
    group = next((g for g in COLUMN_GROUPS if column in g[2]), None)
    return None if group is None else f"{group[0]} {group[1]}"


def header_zh(column: str, grouped: bool) -> str:
    if column == ROW_NUMBER:
        return "序号"
    if grouped and column in GROUPED_HEADERS_ZH:
        return GROUPED_HEADERS_ZH[column]
    return HEADERS_ZH.get(column, column)


def _plan_sheet(
    sheet: Worksheet, report: pd.DataFrame, styles: Styles, title: str, today: dt.date
) -> list[BodyColumn]:
    """Lay the plan sheet out around its data rows; returns those rows' columns to splice in."""
    from xlsxwriter.utility import xl_col_to_name

    columns = [str(column) for column in report.columns]
    last_column = len(columns) - 1
    totals = _totals(report)
    last_data_row = FIRST_DATA_ROW + len(report) - 1  # 1-based, as Excel shows it
    # Style numbers in the order the cells come: title, unit and date, headers, the first
    # data row's formats left to right, then the totals (numbered as XlsxWriter writes them).
    for style in (styles.title, styles.unit, styles.date, styles.header_group):
        style._get_xf_index()
    styles.header_zh._get_xf_index()
    styles.header_en._get_xf_index()
    heading(sheet, styles, title, UNIT_TEXT, today, last_column)
    cells = header_cells(columns, _group_of, solitary=(_LIMITED_BY_GROUP,))
    grouped = {i for first, last, text in cells if text is not None for i in range(first, last + 1)}
    headers = [(header_zh(c, grouped=False), header_zh(c, grouped=True), c) for c in columns]
    header_rows(sheet, styles, cells, headers)
    body: list[BodyColumn] = []
    for index, column in enumerate(columns):
        shown_title = header_zh(column, grouped=index in grouped)
        values = report.iloc[:, index]
        number_format = column_number_format(column)
        data_format = styles.data(number_format)
        style = data_format._get_xf_index() if len(report) else None
        body.append(BodyColumn(xl_col_to_name(index), style, values))
        total_values = [row.get(column) for _, row in totals]
        sheet.write_column(last_data_row, index, total_values, styles.totals(number_format))
        fitted = _widest([shown_title, column, *_widest_candidates(values), *total_values])
        sheet.set_column(index, index, min(max(fitted + 2, 6), 60))
    label_to = min(columns.index("name") if "name" in columns else 0, last_column)
    for offset, (label, _) in enumerate(totals):
        row = last_data_row + offset
        merge(sheet, row, 0, row, label_to, label, styles.totals(None))
    _highlight_shortfalls(sheet, columns, last_data_row, styles)
    frozen = columns.index("name") + 1 if "name" in columns else 1
    sheet.freeze_panes(FIRST_DATA_ROW - 1, frozen)  # headers, 序号 and the county stay in view
    if len(report):
        sheet.autofilter(ENGLISH_ROW, 0, last_data_row - 1, last_column)
    print_setup(sheet, GROUP_ROW, ENGLISH_ROW)
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
    if column in (ROW_NUMBER, *TEXT_COLUMNS):
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
    summed = [column for column in REPORT_SUMMED if column in plan.columns]
    if "year" not in plan.columns:
        return [(TOTAL_LABEL, {c: _cell(plan[c].sum()) for c in summed})]
    rows = []
    for year, group in plan.groupby("year", sort=True):
        totals = {c: _cell(group[c].sum()) for c in summed}
        totals["year"] = _cell(year)
        rows.append((f"{TOTAL_LABEL} {year}", totals))
    return rows


def _highlight_shortfalls(
    sheet: Worksheet, columns: list[str], last_data_row: int, styles: Styles
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


# --- the summary sheet -----------------------------------------------------------------------

STATUS_TEXT = {
    "optimal": "已求得最优方案 optimal",
    "infeasible": "无可行方案 infeasible",
    "error": "求解出错 error",
}
OBJECTIVE_TEXT = {
    "fair": "公平优先：最大相对缺口最小 fair: smallest largest relative shortfall",
    "shortfall": "缺口合计最小 shortfall: smallest total shortfall",
    "movement": "调整最少 movement: fewest quotas moved",
}
SOLVER_TEXT = {"exact": "精确算法 exact", "highs": "HiGHS"}
# Summary keys shown elsewhere or only for scripts: exact fractions (the figure is shown),
# the scenario (on 测算依据) and the per-year records (their own rows).
SUMMARY_HIDDEN = (
    "scenario",
    "per_year",
    "max_relative_shortfall_exact",
    "total_shortfall_exact",
    "fair_level_exact",
    "explanation_zh",
    "warnings_zh",
    "movement",
)
# key: (Chinese, English, number format)
SUMMARY_LINES: dict[str, tuple[str, str, str | None]] = {
    "status": ("求解状态", "Status", None),
    "objective": ("优化目标", "Objective", None),
    "solver": ("求解器", "Solver", None),
    "seconds": ("用时（秒）", "Seconds", "0.00"),
    "counties": ("区划数", "Counties", WHOLE_FORMAT),
    "years": ("规划年度", "Years", None),
    "total_need": ("测算需求合计", "Total need", FRACTION_FORMAT),
    "total_before": ("调整前编制总数", "Total quota before", WHOLE_FORMAT),
    "extra_quota": ("市级统筹增编", "Extra quota from the city pool", WHOLE_FORMAT),
    "total_after": ("调整后编制总数", "Total quota after", WHOLE_FORMAT),
    "max_relative_shortfall": ("最大相对缺口", "Largest relative shortfall", SUMMARY_RATIO_FORMAT),
    "total_shortfall": ("缺口合计", "Total shortfall", FRACTION_FORMAT),
    "moved": ("调整编制数", "Quotas moved (each counted once)", WHOLE_FORMAT),
    "movement": ("调整幅度（增减绝对值合计）", "Movement (sum of |change|)", WHOLE_FORMAT),
    "polished": ("求解后微调编制数", "Quotas moved by polishing", WHOLE_FORMAT),
    "explanation": ("说明", "Explanation", None),
    "warnings": ("提示", "Warnings", None),
}


def moved_and_movement(summary: Mapping[str, Any], plan: pd.DataFrame) -> tuple[Any, Any]:
    """Quotas moved, each counted once (Σ increases), and the movement Σ|change|: the
    summary's `moved` and `movement` where it has both, else worked out from the plan."""
    if summary.get("movement") is not None:
        return summary.get("moved"), summary["movement"]
    if "change" not in plan.columns:
        return summary.get("moved"), None
    change = pd.to_numeric(plan["change"], errors="coerce").dropna()
    return _cell(change.clip(lower=0).sum()), _cell(change.abs().sum())


def summary_lines(
    summary: Mapping[str, Any], plan: pd.DataFrame
) -> list[tuple[str, str, Any, str | None]]:
    """(Chinese label, English label, value, number format) per line of the summary sheet."""
    lines: list[tuple[str, str, Any, str | None]] = []
    scenario = summary.get("scenario")
    if isinstance(scenario, Mapping) and scenario.get("name"):
        lines.append(("方案名称", "Scenario", _cell(scenario["name"]), None))
    moved, movement = moved_and_movement(summary, plan)
    known = [key for key in SUMMARY_LINES if key in summary]
    for key in [*known, *(key for key in summary if key not in SUMMARY_LINES)]:
        value = summary[key]
        if key in SUMMARY_HIDDEN:
            continue
        if key == "moved":
            zh, en, number_format = SUMMARY_LINES["moved"]
            lines.append((zh, en, moved, number_format))
            zh, en, number_format = SUMMARY_LINES["movement"]
            lines.append((zh, en, movement, number_format))
        elif key == "counties_by_limit" and isinstance(value, Mapping):
            from optimizer.plan import LIMITED_BY_EN, LIMITED_BY_ZH

            for code, count in value.items():
                zh = f"区划数：{LIMITED_BY_ZH.get(code, code)}"
                en = f"Counties: {LIMITED_BY_EN.get(code, code)}"
                lines.append((zh, en, _cell(count), WHOLE_FORMAT))
        elif key in ("explanation", "warnings"):
            both = [*_as_list(summary.get(f"{key}_zh")), *_as_list(value)]
            zh, en, _ = SUMMARY_LINES[key]
            lines.append((zh, en, "\n".join(map(str, both)) or "—", None))
        elif key in SUMMARY_LINES:
            zh, en, number_format = SUMMARY_LINES[key]
            lines.append((zh, en, _summary_value(key, value), number_format))
        else:
            words = str(key).replace("_", " ")
            lines.append(("其他", words[:1].upper() + words[1:], _readable(value), None))
    lines.extend(_per_year_lines(summary, plan))
    return lines


def _per_year_lines(
    summary: Mapping[str, Any], plan: pd.DataFrame
) -> list[tuple[str, str, Any, str | None]]:
    lines: list[tuple[str, str, Any, str | None]] = []
    per_year = summary.get("per_year")
    if not isinstance(per_year, list) or len(per_year) < 2:
        return lines
    for record in per_year:
        if not isinstance(record, Mapping) or record.get("year") is None:
            continue
        year = record["year"]
        rows = plan[plan["year"] == year] if "year" in plan.columns else plan.iloc[:0]
        moved, _ = moved_and_movement(record, rows)
        for key, value in (
            ("total_after", record.get("total_after")),
            ("max_relative_shortfall", record.get("max_relative_shortfall")),
            ("total_shortfall", record.get("total_shortfall")),
            ("moved", moved),
        ):
            zh, en, number_format = SUMMARY_LINES[key]
            lines.append((f"{year}年 {zh}", f"{year}: {en}", _cell(value), number_format))
    return lines


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _summary_value(key: str, value: Any) -> Any:
    if key == "status":
        return STATUS_TEXT.get(str(value), _cell(value))
    if key == "objective":
        return OBJECTIVE_TEXT.get(str(value), _cell(value))
    if key == "solver":
        return SOLVER_TEXT.get(str(value), _cell(value))
    if key == "years":
        return "、".join(str(year) for year in _as_list(value))
    return _readable(value)


def _readable(value: Any) -> Any:
    """A value as a cell: records and lists as lines of text, never JSON or a repr."""
    if isinstance(value, Mapping):
        return "\n".join(f"{k}: {_readable_text(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple | set | frozenset):
        return "\n".join(_readable_text(item) for item in value) or "—"
    return _cell(value)


def _readable_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_readable_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_readable_text(item) for item in value)
    cell = _cell(value)
    return "—" if cell is None else str(cell)


def _summary_sheet(
    sheet: Worksheet,
    summary: Mapping[str, Any],
    plan: pd.DataFrame,
    styles: Styles,
    today: dt.date,
) -> None:
    lines = summary_lines(summary, plan)
    header = ("项目", "Item", "值 Value")
    title = (
        plan_title(summary)
        .replace(f"{TITLE_ZH}", f"{TITLE_ZH}摘要")
        .replace(TITLE_EN, f"{TITLE_EN}: summary")
    )
    table_sheet(sheet, title, today, header, styles)
    for number, (zh, en, value, number_format) in enumerate(lines, start=3):
        sheet.write_string(number, 0, zh, styles.summary_label)
        sheet.write_string(number, 1, en, styles.summary_label)
        sheet.write(number, 2, value, styles.summary(number_format))
    widths = (
        _widest([header[0], *(line[0] for line in lines)]),
        _widest([header[1], *(line[1] for line in lines)]),
        max(_widest([header[2]]), *(_text_width(line[2]) for line in lines), 12),
    )
    for index, width in enumerate(widths):
        sheet.set_column(index, index, min(max(width + 2, 8), 70))


# --- 测算依据: the basis of the calculation ---------------------------------------------------

INPUT_FILES = {
    "file": ("方案文件", "Scenario file"),
    "counties": ("区划编制表", "Counties"),
    "enrolment": ("在校生表", "Enrolment"),
    "departures": ("减员表", "Departures"),
    "history": ("历年在校生", "Enrolment history"),
    "births": ("出生人口", "Births"),
    "roster": ("教职工名册", "Staff roster"),
    "departures_history": ("历年减员", "Departures history"),
}
LEVEL_TEXT = {"primary": "小学 Primary", "junior": "初中 Junior", "senior": "高中 Senior"}
CLASS_TEXT = {"urban": "城市 Urban", "town": "县镇 Town", "rural": "农村 Rural"}
POLICY_TEXT = {
    "extra_quota": ("市级统筹增编", "Extra quota from the city pool"),
    "objective": ("优化目标", "Objective"),
    "solver": ("求解器", "Solver"),
    "attrition_years": ("减员折算年数", "Years the departures are spread over"),
    "time_limit": ("求解时限（秒）", "Solver time limit (s)"),
}
# Fields of the standards an edit may change; input fields are named by their schema.
STANDARDS_FIELD_TEXT = {
    "per_level": "生师比 students per staff",
    "by_class": "分城乡生师比 by class",
    "staff_per_class": "班师比 staff per class",
}
TABLE_TEXT = {
    "counties": "区划编制表 counties",
    "enrolment": "在校生表 enrolment",
    "standards": "编制标准 standards",
    "policy": "政策 policy",
}
BasisLine = tuple[str, str, Any, str | None]  # section, item, content, SHA-256


def file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_files(scenario: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """(role, file as the scenario names it, SHA-256) of every input file of a scenario.

    A hash given in the scenario record (`sha256: {role: hex}`, or a projection file's
    `{"file", "sha256"}`) is taken as given; otherwise the file is read, relative to the
    scenario file as the scenario names it, and None where it cannot be found.
    """
    given = scenario.get("sha256") if isinstance(scenario.get("sha256"), Mapping) else {}
    assert isinstance(given, Mapping)
    scenario_file = scenario.get("file")
    base = Path(str(scenario_file)).parent if scenario_file else None
    found: list[tuple[str, str, str | None]] = []

    def add(role: str, name: Any, digest: Any, relative: bool) -> None:
        if not name:
            return
        if digest is None and role in given:
            digest = given[role]
        if digest is None:
            path = Path(str(name))
            if relative and base is not None and not path.is_absolute():
                path = base / path
            digest = file_sha256(path) if path.is_file() else None
        found.append((role, str(name), None if digest is None else str(digest)))

    add("file", scenario_file, None, relative=False)
    for role in ("counties", "enrolment", "departures"):
        add(role, scenario.get(role), None, relative=True)
    projection = scenario.get("projection")
    files = projection.get("files") if isinstance(projection, Mapping) else None
    if isinstance(files, Mapping):
        for role, record in files.items():
            if isinstance(record, Mapping):
                add(str(role), record.get("file"), record.get("sha256"), relative=True)
            else:
                add(str(role), record, None, relative=True)
    return found


def basis_lines(summary: Mapping[str, Any], today: dt.date) -> list[BasisLine]:
    """The sheet 测算依据: scenario, input files with hashes, standards, policy, edits."""
    scenario = summary.get("scenario")
    scenario = scenario if isinstance(scenario, Mapping) else {}
    lines: list[BasisLine] = []
    section = "方案 Scenario"
    if scenario.get("name"):
        lines.append((section, "名称 Name", _cell(scenario["name"]), None))
    if scenario.get("source") and scenario.get("source") != scenario.get("name"):
        lines.append((section, "原方案 Based on", _cell(scenario["source"]), None))
    if scenario.get("description"):
        lines.append((section, "说明 Description", _cell(scenario["description"]), None))
    if "edited" in scenario:
        edited = "是 yes" if scenario["edited"] else "否 no"
        lines.append((section, "在应用中修改过 Edited in the app", edited, None))
    lines.append((section, "制表日期 Date", today.isoformat(), None))
    files = input_files(scenario)
    for role, name, digest in files:
        zh, en = INPUT_FILES.get(role, (role, role))
        lines.append(("输入文件 Inputs", f"{zh} {en}", name, digest or "—"))
    if not files:
        lines.append(("输入文件 Inputs", "—", "在应用中载入的数据 data loaded in the app", None))
    projection = scenario.get("projection")
    if isinstance(projection, Mapping):
        for key, value in projection.items():
            if key != "files":
                lines.append(("预测 Projection", str(key), _readable(value), None))
    lines.extend(_standards_lines(scenario.get("standards")))
    policy = scenario.get("policy")
    if isinstance(policy, Mapping):
        for key, value in policy.items():
            zh, en = POLICY_TEXT.get(key, (key, key))
            lines.append(("政策 Policy", f"{zh} {en}", _policy_value(key, value), None))
    lines.extend(_edit_lines(scenario.get("edits")))
    return lines


def _standards_lines(standards: Any) -> list[BasisLine]:
    lines: list[BasisLine] = []
    if not isinstance(standards, Mapping):
        return lines
    section = "编制标准 Standards"
    per_level = standards.get("per_level")
    if isinstance(per_level, Mapping):
        for level, ratio in per_level.items():
            text = f"生师比 {ratio}:1（每 {ratio} 名学生 1 名教职工） {ratio} students per staff"
            item = f"{LEVEL_TEXT.get(str(level), str(level))} 生师比 students per staff"
            lines.append((section, item, text, None))
    by_class = standards.get("by_class")
    if isinstance(by_class, Mapping):
        for cls, table in by_class.items():
            if isinstance(table, Mapping):
                for level, ratio in table.items():
                    where = CLASS_TEXT.get(str(cls), str(cls))
                    item = f"{where} {LEVEL_TEXT.get(str(level), str(level))}"
                    text = f"生师比 {ratio}:1  {ratio} students per staff"
                    lines.append((section, item, text, None))
    per_class = standards.get("staff_per_class")
    if isinstance(per_class, Mapping):
        for level, staff in per_class.items():
            text = f"每班 {staff} 名教职工  {staff} staff per class"
            item = f"{LEVEL_TEXT.get(str(level), str(level))} 班师比 staff per class"
            lines.append((section, item, text, None))
    for key, value in standards.items():
        if key not in ("per_level", "by_class", "staff_per_class"):
            lines.append((section, str(key), _readable(value), None))
    return lines


def _policy_value(key: str, value: Any) -> Any:
    if value is None:
        return "—"
    if key == "objective":
        return OBJECTIVE_TEXT.get(str(value), _cell(value))
    if key == "solver":
        return SOLVER_TEXT.get(str(value), _cell(value))
    return _readable(value)


def _edit_lines(edits: Any) -> list[BasisLine]:
    """Every edit made in the app: records (where, field, old → new) or lines of text."""
    section = "在应用中的修改 Edits in the app"
    lines: list[BasisLine] = []
    if isinstance(edits, str):
        texts = [line for line in edits.splitlines() if line.strip() and line.strip() != "—"]
        lines.extend((section, f"第 {n} 项 Edit {n}", t, None) for n, t in enumerate(texts, 1))
    elif isinstance(edits, list):
        for number, edit in enumerate(edits, start=1):
            text = _edit_text(edit) if isinstance(edit, Mapping) else _readable_text(edit)
            lines.append((section, f"第 {number} 项 Edit {number}", text, None))
    return lines or [(section, "—", "无修改 no edits", None)]


def _edit_text(edit: Mapping[str, Any]) -> str:
    """'区划编制表 counties B：教职工编制 quota 70 → 75'."""
    table = TABLE_TEXT.get(str(edit.get("table")), str(edit.get("table", "")))
    where = " ".join(
        str(edit[key]) for key in ("county_id", "level", "year") if edit.get(key) is not None
    )
    field_text = _field_text(str(edit.get("field", "")))
    old, new = _readable_text(edit.get("old")), _readable_text(edit.get("new"))
    place = " ".join(part for part in (table, where) if part)
    return f"{place}：{field_text} {old} → {new}"


def _field_text(field: str) -> str:
    """'教职工编制 quota': an edited field's Chinese name (as the input files accept it)."""
    from optimizer.io import COUNTIES_SCHEMA, ENROLMENT_SCHEMA

    for column in (*COUNTIES_SCHEMA, *ENROLMENT_SCHEMA):
        if column.name == field and column.aliases:
            return f"{column.aliases[0]} {field}"
    if field in POLICY_TEXT:
        return f"{POLICY_TEXT[field][0]} {field}"
    return STANDARDS_FIELD_TEXT.get(field, field)


def _basis_sheet(
    sheet: Worksheet, summary: Mapping[str, Any], styles: Styles, today: dt.date
) -> None:
    title = "测算依据 Basis of the calculation"
    notes_sheet(sheet, title, basis_lines(summary, today), styles, today)
