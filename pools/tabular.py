"""Reading and validating the tables planners bring: CSV (UTF-8, UTF-8 with BOM, GBK) or .xlsx.

This is the one place where files become DataFrames. A schema names each column in English
with its Chinese aliases; every problem found is returned as an `InputError` (file, row,
column, message) so that a whole file is checked at once and the planner sees every mistake
in one go. Rows are numbered as a spreadsheet shows them, whatever sits above the headers.

Planners' own sheets are read as they come: the header row is looked for among the first
`SCAN_ROWS` rows (a title or a "单位：人" line above it is skipped), a totals row (合计, 总计,
小计, 共计, Total, Sum) is left out and its figures checked against the rows it totals, and a
value or header that is nearly right gets a "did you mean". What was skipped or looks wrong
but is not an error comes back as notes: `notes(frame)`.
"""

from __future__ import annotations

import csv
import difflib
import io
import itertools
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.worksheet._reader import WorkSheetParser

from pools.input_errors import (  # re-exported: pandas-free home
    MORE,
    InputError,
    InputErrors,
    capped,
    close_matches,
    did_you_mean,
)
from pools.input_limits import MAX_COUNT, InputLimits
from pools.schema import Column  # re-exported: pandas-free home

ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 is the superset of GBK that Excel on zh-CN writes
HEADER_ROW = 1  # where the headers are unless a title sits above them
SCAN_ROWS = 10  # the header row is looked for among this many rows at the top of a sheet
NOTES = "notes"  # frame.attrs key: what was skipped or looks wrong without being an error
FOUND = "found_columns"  # frame.attrs key: the schema columns the file carries


def normalise_text(value: str) -> str:
    """Full-width digits and letters to half-width, trimmed, lower-case: what a person means."""
    return unicodedata.normalize("NFKC", value).strip().lower()


_WORD_SPLIT = re.compile(r"[\s/()\[\]（）【】:：]+")  # between the words of a bilingual header
_PART_SPLIT = re.compile(r"[_\-]+")  # inside one word: min_quota -> min, quota
_PANDAS_REPEAT = re.compile(r"^(?P<header>.*)\.\d+$")  # pandas renames a repeated 'x' to 'x.1'


def _header_key_levels(header: str) -> list[set[str]]:
    """Keys a header may be known by, most specific first.

    The whole header beats its words, and a word beats its parts, so that 'min_quota' is
    min_quota (not quota) and '最低编制 min_quota' is min_quota as well.
    """
    text = normalise_text(str(header))
    words = [word for word in _WORD_SPLIT.split(text) if word]
    parts = {part for word in words for part in _PART_SPLIT.split(word) if part}
    return [{"_".join(words)}, set(words), parts]


def _header_name(header: str, wanted: Mapping[str, str]) -> str | None:
    for keys in _header_key_levels(header):
        names = {wanted[key] for key in keys if key in wanted}
        if len(names) == 1:
            return names.pop()
        if names:
            return None  # ambiguous at this level: better unread than read as the wrong column
    return None


def _unmangled(header: str, headers: Sequence[str]) -> str:
    match = _PANDAS_REPEAT.match(header)
    if match and match.group("header") in headers:
        return match.group("header")
    return header


def _wanted(schema: Sequence[Column]) -> dict[str, str]:
    """Normalised accepted header -> canonical column name."""
    return {
        normalise_text(alias): column.name
        for column in schema
        for alias in (column.name, *column.aliases)
    }


def _found_names(cells: Sequence[str], schema: Sequence[Column]) -> set[str]:
    """The schema columns a row's cells name, as headers."""
    wanted = _wanted(schema)
    names = (_header_name(cell, wanted) for cell in cells if cell.strip())
    return {name for name in names if name is not None}


def _missing(found: Container[str], schema: Sequence[Column]) -> list[str]:
    """Required columns (and groups of which one is required) the found columns lack."""
    missing = [c.name for c in schema if c.required and c.name not in found]
    groups = dict.fromkeys(c.one_of for c in schema if c.one_of)
    for group in groups:
        if not any(c.name in found for c in schema if c.one_of == group):
            missing.append(f"one of {group}")
    return missing


def _match_headers(
    headers: Sequence[str], schema: Sequence[Column], file: str, header_row: int = HEADER_ROW
) -> tuple[dict[str, str], list[InputError]]:
    """Map each schema column to the file header that carries it."""
    wanted = _wanted(schema)
    found: dict[str, str] = {}
    errors: list[InputError] = []
    unread: list[str] = []  # headers that name no column: a mistyped one may be among them
    for header in headers:
        name = _header_name(_unmangled(header, headers), wanted)
        if name is None:
            if not header.startswith("Unnamed: ") and header.strip():
                unread.append(_unmangled(header, headers))
            continue
        if name in found:
            shown = _unmangled(header, headers)
            errors.append(
                InputError(
                    file,
                    f"column '{name}' appears twice ('{found[name]}' and '{shown}')",
                    row=header_row,
                    column=shown,
                )
            )
        else:
            found[name] = header
    for column in schema:
        if column.required and column.name not in found:
            accepted = " / ".join((column.name, *column.aliases))
            hint, lookalike = _header_hint(column, unread)
            errors.append(
                InputError(
                    file,
                    f"missing column '{column.name}' (accepted headers: {accepted}){hint}",
                    row=header_row,
                    column=lookalike,
                )
            )
    groups = dict.fromkeys(c.one_of for c in schema if c.one_of)
    for group in groups:
        members = [c for c in schema if c.one_of == group]
        if not any(c.name in found for c in members):
            accepted = ", ".join(" / ".join((c.name, *c.aliases[:1])) for c in members)
            errors.append(
                InputError(file, f"missing a {group} column (one of {accepted})", row=header_row)
            )
    return found, errors


def _header_hint(column: Column, unread: Sequence[str]) -> tuple[str, str | None]:
    """ "; did you mean ..." for a header in the file that looks like the missing column's."""
    best: tuple[float, str, str] | None = None
    for header in unread:
        key = normalise_text(header)
        for alias in (column.name, *column.aliases):
            ratio = difflib.SequenceMatcher(None, key, normalise_text(alias)).ratio()
            if ratio >= 0.6 and (best is None or ratio > best[0]):
                best = (ratio, header, alias)
    if best is None:
        return "", None
    _, header, alias = best
    return f"; did you mean '{alias}' for the header '{header}'?", header


@dataclass(frozen=True)
class _Sheet:
    """A file opened once: the text of its top rows, and its table under any of them."""

    head: list[list[str]]  # the first SCAN_ROWS rows' cells, as text
    table_under: Callable[[int], pd.DataFrame]  # headers on that 0-based row -> the rows below


def _open(path: Path, sheet: str | int, limits: InputLimits | None = None) -> _Sheet:
    """Raises InputErrors for a file that is missing, larger than the limits, or cannot be
    read as a table. The limits are checked before the file is read whole."""
    limits = limits or InputLimits.from_env()
    name = path.name
    if not path.is_file():
        raise InputErrors([InputError(name, f"file not found: {path}")])
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise InputErrors([InputError(name, _too_large(f"is {size:,} bytes", limits))])
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _workbook_sheet(path, sheet, limits)
        if suffix == ".xls":
            raise InputErrors(
                [InputError(name, "old .xls workbooks are not read; save as .xlsx or CSV")]
            )
        return _csv_sheet(path, limits)
    except InputErrors:
        raise
    except Exception as exc:  # a corrupt workbook raises many different library errors
        raise InputErrors([InputError(name, f"cannot be read as a table: {exc}")]) from exc


def _too_large(what: str, limits: InputLimits) -> str:
    return (
        f"{what}, more than the {limits.max_bytes:,} bytes a file may hold "
        "(QUOTAPOOL_MAX_FILE_BYTES)"
    )


def _too_many_rows(limits: InputLimits, sheet: str | None = None) -> str:
    where = f"sheet '{sheet}' has" if sheet is not None else "has"
    return (
        f"{where} more than the {limits.max_rows:,} rows a file may hold (QUOTAPOOL_MAX_FILE_ROWS)"
    )


def _table_under(sheet: _Sheet, header: int, file: str) -> pd.DataFrame:
    try:
        return sheet.table_under(header)
    except Exception as exc:  # a malformed CSV line below the headers
        raise InputErrors([InputError(file, f"cannot be read as a table: {exc}")]) from exc


def read_raw(path: str | Path, sheet: str | int = 0) -> pd.DataFrame:
    """The file's cells as text, its first row as the columns; raises InputErrors."""
    path = Path(path)
    return _table_under(_open(path, sheet), 0, path.name)


def _header_text(value: Any) -> str:
    if _is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _workbook_sheet(path: Path, sheet: str | int, limits: InputLimits) -> _Sheet:
    # A workbook is a zip: what it unpacks to is bounded before anything is parsed.
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > limits.max_bytes:
        raise InputErrors([InputError(path.name, _too_large(f"unpacks to {unpacked:,}", limits))])
    reader = ExcelReader(str(path), read_only=True, data_only=True, keep_links=False)
    try:
        cells = _streamed_sheet(reader, sheet, path.name, limits)
    finally:
        reader.archive.close()
    # The header row is then found in its top rows.
    head = [[_header_text(v) for v in row] for row in cells.head(SCAN_ROWS).itertuples(False)]

    def table_under(header: int) -> pd.DataFrame:
        if cells.empty:
            return pd.DataFrame()
        names = [_header_text(v) or f"Unnamed: {i}" for i, v in enumerate(cells.iloc[header])]
        body = cells.iloc[header + 1 :].set_axis(_pandas_repeats(names), axis=1)
        return body.set_axis(pd.RangeIndex(len(body)), axis=0)

    return _Sheet(head, table_under)


def _streamed_sheet(
    reader: ExcelReader, sheet: str | int, file: str, limits: InputLimits
) -> pd.DataFrame:
    """The sheet's values, one column of the frame per sheet column, rows as numbered in the
    sheet. Only this sheet is parsed, once, by openpyxl's read-only (streaming) parser, and
    refused as soon as a row beyond the cap appears. `load_workbook` is not used: it sizes
    every sheet of the book as it opens it, parsing whole each sheet without a declared
    dimension, before a single value is read."""
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)  # which number formats are dates
    title, part = _sheet_part(reader, sheet, file)
    too_many = InputErrors([InputError(file, _too_many_rows(limits, title))])
    if _sheet_rows_over(reader.archive, part, limits.max_rows):
        raise too_many  # counted in seconds before minutes of parsing
    columns = _Columns()
    with reader.archive.open(part) as xml:
        parser = WorkSheetParser(
            xml,
            reader.shared_strings,
            data_only=True,
            epoch=reader.wb.epoch,
            date_formats=reader.wb._date_formats,
            timedelta_formats=reader.wb._timedelta_formats,
        )
        for number, cells in parser.parse():
            if number > limits.max_rows:
                raise too_many  # a row the byte count missed (or numbered beyond the cap)
            columns.add(number, cells)
    return columns.frame()


def _sheet_part(reader: ExcelReader, sheet: str | int, file: str) -> tuple[str, str]:
    """(title, zip member) of the worksheet named `sheet`, or at that 0-based position among
    the worksheets (chart sheets hold no cells and are not counted)."""
    found = [
        (entry.name, rel.target)
        for entry, rel in reader.parser.find_sheets()
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type
    ]
    for index, (title, part) in enumerate(found):
        if sheet == (index if isinstance(sheet, int) else title):
            return title, part
    names = ", ".join(f"'{title}'" for title, _ in found) or "none"
    raise InputErrors([InputError(file, f"has no sheet {sheet!r}; its sheets: {names}")])


class _Columns:
    """A sheet's values gathered column by column as its rows stream in: one list per column
    costs a pointer a cell, where a list per row (what pandas builds) costs a whole list object
    a row. Blank cells and rows are None; blank rows and columns at the end are left out."""

    def __init__(self) -> None:
        self.columns: list[list[Any]] = []
        self.last_row = 0  # the number of the last row read
        self.filled_rows = 0  # the number of the last row holding a value

    def add(self, number: int, cells: Sequence[Mapping[str, Any]]) -> None:
        if number <= self.last_row:
            return  # a row numbered out of order is dropped, as openpyxl does
        self.last_row = number
        for cell in cells:
            value = _cell_value(cell)
            if value is None:
                continue
            index = cell["column"] - 1
            self.columns.extend([] for _ in range(index + 1 - len(self.columns)))
            column = self.columns[index]
            column.extend(itertools.repeat(None, number - 1 - len(column)))
            column.append(value)
            self.filled_rows = number

    def frame(self) -> pd.DataFrame:
        data = {}
        for index, column in enumerate(self.columns):
            column.extend(itertools.repeat(None, self.filled_rows - len(column)))
            values = np.empty(len(column), dtype=object)
            values[:] = column
            self.columns[index] = []  # freed as it is copied
            data[index] = values
        return pd.DataFrame(data, dtype=object, copy=False)


def _cell_value(cell: Mapping[str, Any]) -> Any:
    """A cell as pandas reads it: an error (#N/A, #DIV/0!) or an empty text is blank, a whole
    number stored as a float (as Excel stores every number) is an int."""
    value = cell["value"]
    if cell["data_type"] == "e" or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_ROW_TAGS = (b"<row>", b"<row ", b":row>", b":row ")  # <row …>, also with a namespace prefix
_ROW_NUMBER = re.compile(rb"row\s[^>]*?\br=\"(\d{1,10})\"")


def _sheet_rows_over(archive: zipfile.ZipFile, part: str, limit: int) -> bool:
    """Whether the sheet's XML holds more than `limit` rows (row elements, or a row numbered
    beyond it: rows come in order, so the last one of each stretch), found by scanning the
    unpacked bytes a megabyte at a time and stopping at the limit: parsing the cells of
    2,000,000 rows takes minutes, counting them a second. A sheet may omit or understate its
    declared dimension."""
    with archive.open(part) as xml:
        rows, highest, tail = 0, 0, b""
        while True:
            chunk = xml.read(1 << 20)
            data = tail + chunk
            end = data.rfind(b"<") if chunk else len(data)  # a cut tag is read with the next
            end = len(data) if end < 0 else end
            body, tail = data[:end], data[end:]
            rows += sum(body.count(tag) for tag in _ROW_TAGS)
            last = max(body.rfind(b"<row "), body.rfind(b":row "))
            found = _ROW_NUMBER.match(body, last + 1) if last >= 0 else None
            highest = max(highest, int(found.group(1)) if found else 0)
            if max(rows, highest) > limit:
                return True
            if not chunk:
                return False


def _pandas_repeats(names: list[str]) -> list[str]:
    """A repeated header as pandas names it when it reads the header itself: 'x', 'x.1'."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        out.append(f"{name}.{count}" if count else name)
        seen[name] = count + 1
    return out


def _csv_sheet(path: Path, limits: InputLimits) -> _Sheet:
    data = path.read_bytes()
    if data.count(b"\n") > limits.max_rows:
        raise InputErrors([InputError(path.name, _too_many_rows(limits))])
    text = _decoded(data, path.name)
    if not text.strip():
        raise InputErrors([InputError(path.name, "the file is empty")])
    # Only the top rows are parsed to find the headers; pandas then reads the file once.
    top = csv.reader(io.StringIO(text), skipinitialspace=True)
    head = [list(row) for row in itertools.islice(top, SCAN_ROWS)]

    def table_under(header: int) -> pd.DataFrame:
        return pd.read_csv(
            io.StringIO(text),
            header=header,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            skip_blank_lines=False,  # an empty line still counts as a row for the row numbers
        )

    return _Sheet(head, table_under)


def _decoded(data: bytes, file: str) -> str:
    """The file's text in the first encoding that reads all of it. A file whose rows are in
    UTF-8 up to a row that is not (rows pasted from a GBK file) is refused at that row rather
    than read whole as GBK, which would turn its UTF-8 rows into other characters."""
    try:
        return data.decode(ENCODINGS[0])
    except UnicodeDecodeError as exc:
        utf8_failure = exc.start
    if not data[:utf8_failure].isascii():  # UTF-8 text above the row: the file is UTF-8
        return _undecodable(data, utf8_failure, file, "UTF-8")
    try:
        return data.decode(ENCODINGS[1])
    except UnicodeDecodeError as exc:
        if exc.start > utf8_failure:  # GBK reads further: its rows are GBK up to that one
            return _undecodable(data, exc.start, file, "GBK")
        return _undecodable(data, utf8_failure, file, "UTF-8")


def _undecodable(data: bytes, offset: int, file: str, encoding: str) -> NoReturn:
    row = data.count(b"\n", 0, offset) + 1
    raise InputErrors(
        [
            InputError(
                file,
                f"cannot be decoded: the rows above are {encoding} but this one is not "
                "(save the whole file as UTF-8 or as GBK)"
                if row > 1
                else "cannot be decoded as UTF-8 or GBK text",
                row=row,
            )
        ]
    )


@dataclass(frozen=True)
class _HeaderFit:
    row: int  # 0-based row of the sheet
    found: frozenset[str]
    complete: bool  # every required column (and one of each group) is there


def _locate_header(head: Sequence[Sequence[str]], schema: Sequence[Column]) -> _HeaderFit:
    """The row whose cells best name the schema's columns: the first row when it has every
    required column (the usual file, no scan), else the complete row naming most columns,
    else the row that comes closest."""
    fits = []
    for row, cells in enumerate(head):
        found = frozenset(_found_names(cells, schema))
        fit = _HeaderFit(row, found, not _missing(found, schema))
        if row == 0 and fit.complete:
            return fit
        fits.append(fit)
    if not fits:
        return _HeaderFit(0, frozenset(), False)
    return max(fits, key=lambda fit: (fit.complete, len(fit.found), -fit.row))


def _is_blank(value: Any) -> bool:
    return (
        value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""
    )


# A count as people write it: ASCII digits, thousands grouped by commas (',' or the full-width
# '，' an input method types), an optional '.0'. Nothing else is a count: no exponent, no '_',
# no other script's digits, no nan or inf (SPEC 3.1; the range is `MAX_COUNT`).
_GROUPED = r"[0-9]{1,3}(?:[,，][0-9]{3})+|[0-9]+"
_COUNT = re.compile(rf"(?P<sign>-?)(?P<whole>{_GROUPED})(?:\.(?P<fraction>[0-9]*))?")
_DECIMAL = re.compile(rf"-?(?:(?:{_GROUPED})(?:\.[0-9]*)?|\.[0-9]+)")
_COUNT_DIGITS = len(str(MAX_COUNT))


def _shown(value: Any) -> str:
    text = str(value).strip()
    return text if len(text) <= 40 else f"{text[:20]}…{text[-8:]} ({len(text)} characters)"


def _parse_number(value: Any, integer: bool) -> tuple[float | int | None, str | None]:
    """(the number, None) or (None, why it is not one)."""
    what = "a whole number" if integer else "a number"
    if isinstance(value, bool):
        return None, f"'{value}' is not {what}"
    if isinstance(value, int | float):  # a number cell of a workbook
        if isinstance(value, float) and not math.isfinite(value):
            return None, f"'{value}' is not {what}"
        if not integer:
            return float(value), None
        if isinstance(value, float) and not value.is_integer():
            return None, f"'{_shown(value)}' is not {what}"
        if abs(value) > MAX_COUNT:
            return None, f"'{_shown(value)}' is above the largest count {MAX_COUNT:,}"
        return int(value), None
    text = str(value).strip()
    if not integer:
        if _DECIMAL.fullmatch(text) is None:
            return None, f"'{_shown(value)}' is not {what} (ASCII digits, e.g. 0.05)"
        return float(text.replace(",", "").replace("，", "")), None
    match = _COUNT.fullmatch(text)
    if match is None or (match.group("fraction") or "").strip("0"):
        return None, (
            f"'{_shown(value)}' is not {what} "
            "(ASCII digits, thousands separated by commas, e.g. 5,950)"
        )
    digits = match.group("whole").replace(",", "").replace("，", "").lstrip("0") or "0"
    if len(digits) > _COUNT_DIGITS or int(digits) > MAX_COUNT:
        return None, f"'{_shown(value)}' is above the largest count {MAX_COUNT:,}"
    return (-int(digits) if match.group("sign") else int(digits)), None


def _convert(value: Any, column: Column) -> tuple[Any, str | None]:
    """Parse one cell; return (value, error message or None)."""
    if _is_blank(value):
        if column.required and column.default is None:
            return None, "is empty"
        return column.default, None
    if column.kind == "text":
        text = str(value).strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))  # Excel turns codes like 110101 into floats
        return text, None
    if column.kind == "choice":
        key = normalise_text(str(value))
        if key in column.choices:
            return column.choices[key], None
        accepted = sorted(set(column.choices))
        close = close_matches(str(value), accepted, cutoff=0.5)
        return None, f"'{value}' is not one of {', '.join(accepted)}{did_you_mean(close)}"
    number, problem = _parse_number(value, integer=column.kind == "int")
    if number is None:
        return None, problem
    minimum = _minimum(column)
    if minimum is not None and number < minimum:
        return None, f"{number} is below the minimum {minimum:g}"
    return number, None


def _minimum(column: Column) -> float | None:
    """A count is never below 0 (SPEC 3.1), whatever its column adds."""
    if column.kind == "int":
        return max(column.minimum, 0) if column.minimum is not None else 0
    return column.minimum


def _blank_mask(values: pd.Series) -> pd.Series:
    """True where a cell is empty or only spaces."""
    if values.dtype != object and pd.api.types.is_string_dtype(values.dtype):
        return values.isna() | values.str.strip().eq("")  # CSV text: vectorised
    return values.map(_is_blank).astype(bool)


def _convert_cells(cells: pd.Series, column: Column) -> tuple[list[Any], list[tuple[int, str]]]:
    """Parse one column's cells: (values, [(position, problem)]).

    Same result as `_convert` cell by cell. CSV text (pandas' string dtype) is converted once
    per distinct spelling and spread back with numpy: a national file repeats its level names,
    counts and blanks thousands of times. Cells of other types (from .xlsx) are converted one
    by one, since 1, 1.0 and True are equal as keys yet mean different things in a cell.
    """
    if column.kind == "text":
        texts = _filled_texts(cells.tolist())
        if texts is not None:
            return texts, []
    if pd.api.types.is_string_dtype(cells.dtype) and cells.dtype != object:
        return _convert_distinct(cells, column)
    values: list[Any] = []
    problems: list[tuple[int, str]] = []
    for position, cell in enumerate(cells.tolist()):
        value, problem = _convert(cell, column)
        values.append(value)
        if problem:
            problems.append((position, problem))
    return values, problems


def _filled_texts(cells: list[Any]) -> list[str] | None:
    """The cells trimmed, if every one is a non-blank text (ids and names); else None."""
    if not all(type(cell) is str for cell in cells):
        return None
    texts = [cell.strip() for cell in cells]
    return texts if all(texts) else None


def _convert_distinct(cells: pd.Series, column: Column) -> tuple[list[Any], list[tuple[int, str]]]:
    values = np.empty(len(cells), dtype=object)
    rest = np.ones(len(cells), dtype=bool)  # cells still to convert
    if column.kind == "int":
        # Plain digit strings, by far the most common counts, in one vectorised pass.
        plain = cells.str.fullmatch(r"[0-9]{1,10}").fillna(False).to_numpy(dtype=bool, copy=True)
        numbers = cells[plain].astype("int64").to_numpy()
        outside = (numbers < (_minimum(column) or 0)) | (numbers > MAX_COUNT)
        plain[np.flatnonzero(plain)[outside]] = False  # left to `_convert`, which explains
        numbers = numbers[~outside]
        values[plain] = numbers.tolist()
        rest = ~plain
    positions = np.flatnonzero(rest)
    codes, spellings = pd.factorize(cells[rest], use_na_sentinel=False)
    converted = [_convert(spelling, column) for spelling in spellings.tolist()]
    parsed = np.empty(len(converted), dtype=object)
    parsed[:] = [value for value, _ in converted]
    values[positions] = parsed[codes]
    # Each wrong cell found once, in one pass: a file whose every cell is wrong is no slower
    # to report than to read.
    messages = np.array([problem for _, problem in converted], dtype=object)
    wrong = np.flatnonzero(messages[codes] != None)  # noqa: E711 (numpy compares by element)
    problems = list(zip(positions[wrong].tolist(), messages[codes[wrong]].tolist(), strict=True))
    return values.tolist(), problems


def validate_frame(
    raw: pd.DataFrame,
    schema: Sequence[Column],
    file: str,
    header_row: int = HEADER_ROW,
    max_errors: int = InputLimits.max_errors,
) -> tuple[pd.DataFrame, list[InputError]]:
    """Typed DataFrame with the schema's canonical columns, and every error found.

    `raw` holds the rows under the headers, numbered from 0; `header_row` is the spreadsheet
    row of the headers, so that every row is named as the spreadsheet shows it. Totals rows are
    left out; they, and a total that does not add up, are listed in `notes(frame)`.
    """
    headers = [str(h) for h in raw.columns]
    found, errors = _match_headers(headers, schema, file, header_row)
    if errors:
        return pd.DataFrame(columns=[c.name for c in schema]), errors
    first = headers[0] if headers else None
    raw = raw.rename(columns={v: k for k, v in found.items()})
    first = next((name for name, header in found.items() if header == first), first)
    present = [c for c in schema if c.name in found]
    blanks = [_blank_mask(raw[c.name]) for c in present]
    blank_rows = pd.concat(blanks, axis=1).all(axis=1)
    raw = raw.loc[~blank_rows]  # trailing empty spreadsheet rows are not data
    blank_ids = blanks[0][~blank_rows] if present and present[0] is schema[0] else None
    totals = _totals_rows(raw, [schema[0].name, first, "name"], blank_ids)
    totals_raw = raw.loc[totals.index]
    if len(totals):
        raw = raw.drop(index=totals.index)
    rows = (raw.index.to_numpy(dtype=np.int64) + header_row + 1).tolist()
    out: dict[str, list[Any]] = {}
    problems: list[tuple[int, int, str]] = []  # (position, column's order, message)
    for order, column in enumerate(schema):
        if column.name not in found:  # optional, absent (a missing required one failed above)
            out[column.name] = [column.default] * len(rows)
            continue
        out[column.name], column_problems = _convert_cells(raw[column.name], column)
        problems.extend((position, order, message) for position, message in column_problems)
    # Reported row by row, in the schema's column order, as a person reads the sheet; only the
    # first `max_errors` become errors, the rest are counted.
    problems.sort(key=lambda p: (p[0], p[1]))
    errors.extend(
        InputError(file, message, row=rows[position], column=schema[order].label)
        for position, order, message in problems[:max_errors]
    )
    if len(problems) > max_errors:
        more = len(problems) - max_errors
        errors.append(InputError(file, MORE.format(more=more), hidden=more))
    frame = pd.DataFrame(out, index=pd.Index(rows, name="row", dtype="int64"))
    _apply_dtypes(frame, schema)
    errors.extend(_uniqueness_errors(frame, schema, file))
    wrong_columns = {order for _, order, _ in problems}
    checked = [c for c in present if schema.index(c) not in wrong_columns]
    frame.attrs[NOTES] = _totals_notes(frame, totals_raw, totals, checked, file, header_row)
    frame.attrs[FOUND] = [c.name for c in present]
    return frame, errors


# A totals row's label, once full-width forms, case and spaces are set aside: 合计, 全市合计,
# 总计, 小计, 共计, Total, Grand total, Subtotal, Sum, with a trailing colon or (unit) allowed.
_TOTALS = re.compile(
    r"(?:(?:全|本)\w{0,3})?(?P<zh>合计|总计|小计|共计|总合计)|(?P<en>grandtotal|sub-?total|total|sum)"
)
_TOTALS_HINT = "计|tot|sum|ｔｏｔ|ｓｕｍ"  # cheap filter on a whole column before the exact test
_SUBTOTALS = ("小计", "subtotal", "sub-total")


def _totals_label(value: Any) -> str | None:
    """The cell's totals word (合计, total, ...) when the cell says nothing else, else None."""
    if not isinstance(value, str):
        return None
    text = re.sub(r"\([^)]*\)$", "", normalise_text(value))  # 合计（人） -> 合计
    match = _TOTALS.fullmatch(re.sub(r"[\s:]+", "", text))  # 合 计, Grand Total:, ＴＯＴＡＬ
    return None if match is None else (match.group("zh") or match.group("en"))


def _totals_rows(
    raw: pd.DataFrame, columns: Sequence[str | None], blank_ids: pd.Series | None
) -> pd.Series:
    """Rows (index -> totals word) whose id, first or name cell is a totals label, or whose first
    filled cell is when the id is blank (合计 written in a 序号 column)."""
    labels: dict[Any, str] = {}
    for name in dict.fromkeys(c for c in columns if c is not None and c in raw.columns):
        cells = raw[name]
        hint = _totals_hint(cells)
        if hint is not None:
            cells = cells[hint]
        for index, cell in cells.items():
            label = _totals_label(cell)
            if label is not None:
                labels.setdefault(index, label)
    if blank_ids is not None and blank_ids.any():
        for index, row in raw.loc[blank_ids.to_numpy(dtype=bool)].iterrows():
            filled = next((cell for cell in row.tolist() if not _is_blank(cell)), None)
            label = _totals_label(filled)
            if label is not None:
                labels.setdefault(index, label)
    return pd.Series(labels, dtype=object).sort_index()


def _totals_hint(cells: pd.Series) -> np.ndarray | None:
    """Cells that may be a totals label, found with Arrow's kernels on CSV text (a 200,000-row
    id column costs ~2 ms: codes are digits and are passed over first); None: test every cell."""
    if not isinstance(cells.dtype, pd.StringDtype) or cells.dtype.storage != "pyarrow":
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(cells.array)  # the column's own Arrow data, not a copy
    maybe = np.array(pc.invert(pc.fill_null(pc.ascii_is_decimal(text), True)), dtype=bool)
    positions = np.flatnonzero(maybe)
    if len(positions):
        words = pc.match_substring_regex(pc.take(text, positions), _TOTALS_HINT, ignore_case=True)
        maybe[positions] = np.asarray(pc.fill_null(words, False), dtype=bool)
    return maybe


def _totals_notes(
    frame: pd.DataFrame,
    totals_raw: pd.DataFrame,
    totals: pd.Series,
    present: Sequence[Column],
    file: str,
    header_row: int,
) -> list[InputError]:
    """A note per totals row left out, and a warning for each of its figures that is not the
    sum of the rows it totals (all data rows; a 小计 only those since the previous total).
    Columns with a bad cell are not summed: the bad cell is reported already."""
    notes = []
    numeric = [c for c in present if c.kind in ("int", "number")]
    data_rows = frame.index.to_numpy(dtype=np.int64)
    previous = 0  # spreadsheet row of the previous totals row
    for position, label in enumerate(totals.tolist()):
        row = int(totals.index[position]) + header_row + 1
        cells = totals_raw.iloc[position]
        notes.append(InputError(file, f"totals row '{_first_filled(cells)}' left out", row=row))
        if label in _SUBTOTALS:
            covered = (data_rows > previous) & (data_rows < row)
        else:
            covered = np.ones(len(data_rows), dtype=bool)
        previous = row
        for column in numeric:
            given, _ = _parse_number(cells[column.name], integer=False)
            if given is None:
                continue
            values = pd.to_numeric(frame[column.name].iloc[covered], errors="coerce")
            total = float(values.sum(skipna=True))
            if abs(total - given) > 1e-6 * max(1.0, abs(total)):
                notes.append(
                    InputError(
                        file,
                        f"warning: the total {given:g} is not the sum {total:g} of the rows "
                        "it totals",
                        row=row,
                        column=column.label,
                    )
                )
    return notes


def _first_filled(cells: pd.Series) -> str:
    return str(next((cell for cell in cells.tolist() if not _is_blank(cell)), "")).strip()


def _apply_dtypes(frame: pd.DataFrame, schema: Sequence[Column]) -> None:
    """Whole-number columns as int64 (nullable Int64 where an optional cell is empty)."""
    for column in schema:
        if column.kind != "int":
            continue
        values = frame[column.name]
        frame[column.name] = (
            values.astype("int64") if values.notna().all() else values.astype("Int64")
        )


def _uniqueness_errors(
    frame: pd.DataFrame, schema: Sequence[Column], file: str
) -> list[InputError]:
    errors = []
    for column in schema:
        if not column.unique:
            continue
        values = frame[column.name]
        repeated = values[values.notna() & values.duplicated(keep="first")]
        firsts = values[values.notna() & ~values.duplicated(keep="first")]
        first_row = dict(zip(firsts.tolist(), firsts.index.tolist(), strict=True))
        for row, value in zip(repeated.index.tolist(), repeated.tolist(), strict=True):
            first = int(first_row[value])
            errors.append(
                InputError(
                    file,
                    f"duplicate {column.name} '{value}' (first seen in row {first})",
                    row=int(row),
                    column=column.label,
                )
            )
    return errors


def read_table(
    path: str | Path, schema: Sequence[Column], sheet: str | int = 0
) -> tuple[pd.DataFrame, list[InputError]]:
    """Read and validate one table; errors come back as data, nothing is raised for bad cells.

    Notes (headers found below a title, totals rows left out, totals that do not add up) are
    in `notes(frame)`; they are not errors and reject nothing.
    """
    _, frame, errors = read_first_layout(path, [schema], sheet)
    return frame, errors


def read_first_layout(
    path: str | Path, schemas: Sequence[Sequence[Column]], sheet: str | int = 0
) -> tuple[int, pd.DataFrame, list[InputError]]:
    """Read a table that may come in several layouts: (which schema, frame, errors).

    The file is opened once. The first schema whose columns all appear in one of the top rows
    is read; when none does, the one coming closest, and its errors say what is missing.
    """
    path = Path(path)
    file = path.name
    try:
        limits = InputLimits.from_env()
        sheet_ = _open(path, sheet, limits)
    except InputErrors as exc:
        return 0, pd.DataFrame(columns=[c.name for c in schemas[0]]), exc.errors
    fits = [_locate_header(sheet_.head, schema) for schema in schemas]
    chosen = next((i for i, fit in enumerate(fits) if fit.complete), None)
    if chosen is None:
        chosen = max(range(len(schemas)), key=lambda i: (len(fits[i].found), -i))
    schema, fit = schemas[chosen], fits[chosen]
    header_row = fit.row + 1
    notes: list[InputError] = []
    errors: list[InputError] = []
    if fit.complete and fit.row > 0:
        notes.append(
            InputError(
                file, f"headers found on row {header_row} (rows above them skipped)", header_row
            )
        )
    elif not fit.complete and fit.row > 0:
        required = ", ".join(c.label for c in schema if c.required)
        errors.append(
            InputError(
                file,
                f"no row among the first {SCAN_ROWS} has every required column ({required}); "
                f"the closest is row {header_row}",
                row=header_row,
            )
        )
    try:
        raw = _table_under(sheet_, fit.row, file)
    except InputErrors as exc:
        return chosen, pd.DataFrame(columns=[c.name for c in schema]), exc.errors
    frame, found_errors = validate_frame(raw, schema, file, header_row, limits.max_errors)
    frame.attrs[NOTES] = [*notes, *frame.attrs.get(NOTES, [])]
    return chosen, frame, capped([*errors, *found_errors], limits.max_errors)


def notes(frame: pd.DataFrame) -> list[InputError]:
    """What reading the table skipped or found doubtful without rejecting it: the row the
    headers were found on, totals rows left out, totals that are not the sum of their rows."""
    return list(frame.attrs.get(NOTES, []))


def load_table(path: str | Path, schema: Sequence[Column], sheet: str | int = 0) -> pd.DataFrame:
    """Read and validate one table, raising InputErrors listing every problem."""
    frame, errors = read_table(path, schema, sheet)
    if errors:
        raise InputErrors(errors)
    return frame
