"""Report-grade workbooks (SPEC 3.7): any table a planner takes away, in the office's layout.

One layout for every report: a title; the unit (单位：名) and the date; 序号; grouped Chinese
headers over a Chinese and an English header row; a totals row where the figures add up;
numbers with thousands separators; landscape A4 fitted to the page width, with the header
rows repeated on every printed page and the pages numbered; and a last sheet (测算依据 or
说明) stating what produced the table. plan.xlsx (`optimizer.output`) is laid out with the
same pieces; any other table needs only a column spec (`Column`) and `write_report`.

Here, in `pools`, so that the ledger's reports (loans register, audit trail) and the
optimiser's (plan, comparison) share it: `optimizer` may import `pools`, not the reverse.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import tempfile
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

# Rows of a report sheet (0-based): title, unit and date, the group row, the Chinese and the
# English header rows; the data start on the sixth row as Excel numbers them.
TITLE_ROW, UNIT_ROW, GROUP_ROW, HEADER_ROW, ENGLISH_ROW = 0, 1, 2, 3, 4
FIRST_DATA_ROW = 6  # 1-based, as Excel shows it
UNIT_TEXT = "单位：名  Unit: persons"
ROW_NUMBER_ZH, ROW_NUMBER_EN = "序号", "No."
TOTAL_LABEL = "合计 Total"
WHOLE_FORMAT = "#,##0"
FRACTION_FORMAT = "#,##0.0"
CHANGE_FORMAT = "+#,##0;-#,##0;0"
RATIO_FORMAT = "0.0%"
SUMMARY_RATIO_FORMAT = "0.00%"
HEADER_FILL = "#DDEBF7"
SHORTFALL_FILL = "#FFC7CE"  # red: still short after the plan
SHORTFALL_BEFORE_FILL = "#FFEB9C"  # amber: was short before it
MAX_WIDTH = 60  # characters: wider texts wrap
LINE_HEIGHT = 15  # points: a line of text at the default size
NOTES_HEADER = ("类别 Section", "项目 Item", "内容 Content", "SHA-256")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Texts are data: never let a name starting with '=' or 'http' become a formula or a link.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True}

# A line of the notes sheet: section, item, content, and a hash (or None).
NoteLine = tuple[str, str, Any, str | None]


# --- cells and widths ------------------------------------------------------------------------


def cell(value: Any) -> Any:
    """A value as XlsxWriter writes it: plain Python; None where there is no value."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and math.isinf(value):
        return str(value)  # Excel has no infinity; the text says what it is
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def display_width(text: str) -> int:
    """Columns a text takes on screen: Chinese characters are twice as wide as Latin ones."""
    if text.isascii():  # numbers and codes: the common case, and a quick one
        return len(text)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def shown(value: Any) -> str:
    """About what Excel shows for a value: fractions with one decimal and thousands commas."""
    return f"{value:,.1f}" if isinstance(value, float) else str(value)


def widest(values: list[Any]) -> int:
    """Display width of a column's widest value; each distinct text is measured once."""
    numbers = [v for v in values if type(v) in (int, float)]
    others = [v for v in values if v is not None and type(v) not in (int, float)]
    texts = {shown(value) for value in others}
    if numbers:
        # A figure's shown length never shrinks as its size grows (rounding only carries
        # upwards), so the widest number is the largest or the most negative one.
        texts.update(shown(value) for value in (max(numbers), min(numbers)))
    return max((display_width(text) for text in texts), default=0)


def wrapped_lines(value: Any, width: int) -> int:
    """Lines a text takes wrapped in a column `width` characters wide (about: by width)."""
    if value is None:
        return 1
    usable = max(width - 1, 1)
    return sum(max(1, -(-display_width(line) // usable)) for line in str(value).splitlines()) or 1


def text_width(value: Any) -> int:
    """Display width of a cell's longest line (figures as shown)."""
    if value is None:
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return len(f"{value:,.2f}")
    return max((display_width(line) for line in str(value).splitlines()), default=0)


# --- styles ----------------------------------------------------------------------------------


class Styles:
    """A workbook's cell formats, made once: XlsxWriter stores one style per format object."""

    def __init__(self, book: Workbook) -> None:
        header = {"bg_color": HEADER_FILL, "pattern": 1, "align": "center", "valign": "vcenter"}
        header |= {"border": 1, "text_wrap": True}
        self.title = book.add_format({"bold": True, "font_size": 16, "align": "center"})
        self.unit = book.add_format({"align": "left"})
        self.date = book.add_format({"align": "right"})
        self.header_group = book.add_format({**header, "bold": True})
        self.header_zh = book.add_format({**header, "bold": True})
        self.header_en = book.add_format({**header, "font_size": 9})
        self.shortfall = book.add_format({"bg_color": SHORTFALL_FILL})
        self.shortfall_before = book.add_format({"bg_color": SHORTFALL_BEFORE_FILL})
        self.summary_header = book.add_format(
            {"bold": True, "bg_color": HEADER_FILL, "pattern": 1, "border": 1}
        )
        self.summary_value = book.add_format({"text_wrap": True, "valign": "top", "border": 1})
        self.summary_label = book.add_format({"valign": "top", "border": 1})
        self.section = book.add_format({"bold": True, "valign": "top", "border": 1})
        self.hash = book.add_format({"font_name": "Consolas", "valign": "top", "border": 1})
        self._book = book
        self._data: dict[tuple[str | None, bool], Format] = {}
        self._totals: dict[str | None, Format] = {}
        self._summary: dict[str | None, Format] = {}

    def data(self, number_format: str | None, wrap: bool = False) -> Format:
        if (number_format, wrap) not in self._data:
            spec: dict[str, Any] = {"border": 1}
            if number_format is not None:
                spec["num_format"] = number_format
            if wrap:
                spec["text_wrap"] = True
            self._data[number_format, wrap] = self._book.add_format(spec)
        return self._data[number_format, wrap]

    def totals(self, number_format: str | None) -> Format:
        if number_format not in self._totals:
            spec: dict[str, Any] = {"bold": True, "border": 1, "valign": "vcenter"}
            if number_format is not None:
                spec["num_format"] = number_format
            self._totals[number_format] = self._book.add_format(spec)
        return self._totals[number_format]

    def summary(self, number_format: str | None) -> Format:
        if number_format is None:
            return self.summary_value
        if number_format not in self._summary:
            spec = {"valign": "top", "border": 1, "num_format": number_format, "align": "right"}
            self._summary[number_format] = self._book.add_format(spec)
        return self._summary[number_format]


# --- the parts of a report sheet -------------------------------------------------------------


def merge(
    sheet: Worksheet, first_row: int, first: int, last_row: int, last: int, text: str, style: Any
) -> None:
    """One text over a range of cells (XlsxWriter refuses to merge a single cell)."""
    if (first_row, first) == (last_row, last):
        sheet.write_string(first_row, first, text, style)
    else:
        sheet.merge_range(first_row, first, last_row, last, text, style)


def print_setup(sheet: Worksheet, first_header: int, last_header: int | None) -> None:
    """Landscape A4, as wide as the page, header rows on every page, pages numbered."""
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)  # one page wide, as many pages long as it takes
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.center_horizontally()
    if last_header is not None:
        sheet.repeat_rows(first_header, last_header)
    sheet.set_footer("&C第 &P 页，共 &N 页  Page &P of &N")


def date_text(today: dt.date) -> str:
    return f"制表日期：{today.year}年{today.month}月{today.day}日  Date: {today.isoformat()}"


def heading(
    sheet: Worksheet, styles: Styles, title: str, unit: str, today: dt.date, last_column: int
) -> None:
    """The title over the table's width; the unit on the left and the date on the right."""
    merge(sheet, TITLE_ROW, 0, TITLE_ROW, last_column, title, styles.title)
    sheet.set_row(TITLE_ROW, 30)
    unit_span = min(2, last_column)
    merge(sheet, UNIT_ROW, 0, UNIT_ROW, unit_span, unit, styles.unit)
    date_from = max(unit_span + 1, last_column - 4)
    if date_from <= last_column:
        merge(sheet, UNIT_ROW, date_from, UNIT_ROW, last_column, date_text(today), styles.date)


def header_cells(
    columns: Sequence[str],
    group_of: Callable[[str], str | None],
    solitary: Collection[str] = (),
) -> list[tuple[int, int, str | None]]:
    """The group row's cells: (first, last column, group text), or text None where the column
    has no group (its Chinese header then spans the group and the header row). Neighbouring
    columns of one group share its cell; a group in `solitary` is dropped over one column."""
    cells: list[tuple[int, int, str | None]] = []
    index = 0
    while index < len(columns):
        group = group_of(columns[index])
        last = index
        if group is not None:
            while last + 1 < len(columns) and group_of(columns[last + 1]) == group:
                last += 1
        if group is None or (last == index and group in solitary):
            cells.append((index, index, None))
        else:
            cells.append((index, last, group))
        index = last + 1
    return cells


def header_rows(
    sheet: Worksheet,
    styles: Styles,
    cells: list[tuple[int, int, str | None]],
    headers: Sequence[tuple[str, str, str]],
) -> None:
    """The three header rows: groups (`cells`), then per column its Chinese and English
    header; `headers` holds (Chinese alone, Chinese under a group, English) per column."""
    grouped: set[int] = set()
    for first, last, text in cells:
        if text is None:
            merge(sheet, GROUP_ROW, first, HEADER_ROW, first, headers[first][0], styles.header_zh)
        else:
            merge(sheet, GROUP_ROW, first, GROUP_ROW, last, text, styles.header_group)
            grouped.update(range(first, last + 1))
    for index, (_, under_group, english) in enumerate(headers):
        if index in grouped:
            sheet.write_string(HEADER_ROW, index, under_group, styles.header_zh)
        sheet.write_string(ENGLISH_ROW, index, english, styles.header_en)


def table_sheet(
    sheet: Worksheet, title: str, today: dt.date, header: tuple[str, ...], styles: Styles
) -> None:
    """A title, the date and one header row, printed as a report sheet is."""
    last = len(header) - 1
    merge(sheet, TITLE_ROW, 0, TITLE_ROW, last, title, styles.title)
    sheet.set_row(TITLE_ROW, 30)
    merge(sheet, UNIT_ROW, 0, UNIT_ROW, last, date_text(today), styles.date)
    sheet.write_row(GROUP_ROW, 0, header, styles.summary_header)
    sheet.freeze_panes(GROUP_ROW + 1, 0)
    print_setup(sheet, GROUP_ROW, GROUP_ROW)


def notes_sheet(
    sheet: Worksheet, title: str, lines: Sequence[NoteLine], styles: Styles, today: dt.date
) -> None:
    """What produced a report (测算依据 / 说明): section, item, content and a hash per line."""
    table_sheet(sheet, title, today, NOTES_HEADER, styles)
    for number, (section, item, content, digest) in enumerate(lines, start=3):
        sheet.write_string(number, 0, section, styles.section)
        sheet.write_string(number, 1, item, styles.summary_label)
        sheet.write(number, 2, content, styles.summary_value)
        sheet.write(number, 3, digest, styles.hash)
    widths = [
        max(widest([NOTES_HEADER[index]]), *(text_width(line[index]) for line in lines), 8)
        for index in range(len(NOTES_HEADER))
    ]
    for index, width in enumerate(widths):
        sheet.set_column(index, index, min(width + 2, 70 if index < 3 else 66))


# --- a report from a column spec -------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a report: the frame's column `key`, its Chinese and English headers, how
    its figures are shown (None: text), whether the totals row adds it up, and the group
    (Chinese, English) it is shown under. `zh_grouped` is its shorter header under the group."""

    key: str
    zh: str
    en: str
    number_format: str | None = None
    total: bool = False
    group: tuple[str, str] | None = None
    zh_grouped: str | None = None
    wrap: bool = False  # long texts: wrapped within MAX_WIDTH
    max_width: int = MAX_WIDTH


@dataclass(frozen=True)
class Report:
    """A table as a report sheet: its sheet name, title, unit line, columns and rows (one per
    row of `rows`; 序号 is added in front). `frozen` columns (after 序号) stay in view."""

    sheet: str
    title: str
    columns: tuple[Column, ...]
    rows: pd.DataFrame
    unit: str = UNIT_TEXT
    frozen: int = 1


def write_report(
    reports: Sequence[Report],
    notes: Sequence[NoteLine],
    *,
    notes_sheet_name: str = "说明 Notes",
    notes_title: str = "说明 Notes",
    today: dt.date | None = None,
) -> bytes:
    """The workbook: a report sheet per `reports`, then the notes sheet; as bytes."""
    import xlsxwriter

    buffer = io.BytesIO()
    day = today or dt.date.today()
    with xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS) as book:
        styles = Styles(book)
        for report in reports:
            _report_sheet(book.add_worksheet(report.sheet), report, styles, day)
        notes_sheet(book.add_worksheet(notes_sheet_name), notes_title, notes, styles, day)
    return buffer.getvalue()


def save(content: bytes, target: str | Path) -> None:
    """Write a workbook to `target` whole or not at all (a temporary file renamed into place)."""
    path = Path(target)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _report_sheet(sheet: Worksheet, report: Report, styles: Styles, today: dt.date) -> None:
    number = Column("_no", ROW_NUMBER_ZH, ROW_NUMBER_EN)
    columns = (number, *report.columns)
    last_column = len(columns) - 1
    rows = len(report.rows)
    heading(sheet, styles, report.title, report.unit, today, last_column)

    def group_of(key: str) -> str | None:
        group = next(c.group for c in columns if c.key == key)
        return None if group is None else f"{group[0]} {group[1]}"

    keys = [column.key for column in columns]
    headers = [(c.zh, c.zh_grouped or c.zh, c.en) for c in columns]
    cells = header_cells(keys, group_of)
    header_rows(sheet, styles, cells, headers)
    first = FIRST_DATA_ROW - 1  # 0-based
    lines = [1] * rows  # lines of text per row, where long texts wrap
    widths: list[int] = []
    for index, column in enumerate(columns):
        if column is number:
            values: list[Any] = list(range(1, rows + 1))
        else:
            values = [cell(value) for value in report.rows[column.key].tolist()]
        style = styles.data(column.number_format, column.wrap)
        for offset, value in enumerate(values):
            if value is None:
                sheet.write_blank(first + offset, index, None, style)
            elif isinstance(value, str):
                sheet.write_string(first + offset, index, value, style)
            else:
                sheet.write(first + offset, index, value, style)
        fitted = widest([column.zh_grouped or column.zh, column.en, *values])
        width = min(max(fitted + 2, 6), column.max_width)
        widths.append(width)
        sheet.set_column(index, index, width)
        if column.wrap:
            for offset, value in enumerate(values):
                lines[offset] = max(lines[offset], wrapped_lines(value, width))
    for offset, count in enumerate(lines):
        if count > 1:  # Excel and LibreOffice do not grow a row for wrapped text on opening
            sheet.set_row(first + offset, LINE_HEIGHT * count)
    group_lines = [
        wrapped_lines(text, sum(widths[first_column : last + 1]))
        for first_column, last, text in cells
        if text is not None
    ]
    if max(group_lines, default=1) > 1:  # a group's name wider than its columns
        sheet.set_row(GROUP_ROW, LINE_HEIGHT * max(group_lines))
    summed = [index for index, column in enumerate(columns) if column.total]
    if summed:
        totals_row = first + rows
        label_to = max(min(summed) - 1, 0)
        merge(sheet, totals_row, 0, totals_row, label_to, TOTAL_LABEL, styles.totals(None))
        for index in range(label_to + 1, len(columns)):
            column = columns[index]
            total = None
            if column.total:
                total = cell(pd.to_numeric(report.rows[column.key], errors="coerce").sum())
            sheet.write(totals_row, index, total, styles.totals(column.number_format))
    sheet.freeze_panes(first, 1 + report.frozen)
    if rows:
        sheet.autofilter(ENGLISH_ROW, 0, first + rows - 1, last_column)
    print_setup(sheet, GROUP_ROW, ENGLISH_ROW)
