"""Reading and validating the tables planners bring: CSV (UTF-8, UTF-8 with BOM, GBK) or .xlsx.

This is the one place where files become DataFrames. A schema names each column in English
with its Chinese aliases; every problem found is returned as an `InputError` (file, row,
column, message) so that a whole file is checked at once and the planner sees every mistake
in one go. Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pools.input_errors import InputError, InputErrors  # re-exported: pandas-free home
from pools.schema import Column  # re-exported: pandas-free home

ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 is the superset of GBK that Excel on zh-CN writes
HEADER_ROW = 1


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


def _match_headers(
    headers: Sequence[str], schema: Sequence[Column], file: str
) -> tuple[dict[str, str], list[InputError]]:
    """Map each schema column to the file header that carries it."""
    wanted = {
        normalise_text(alias): column.name
        for column in schema
        for alias in (column.name, *column.aliases)
    }
    found: dict[str, str] = {}
    errors: list[InputError] = []
    for header in headers:
        name = _header_name(_unmangled(header, headers), wanted)
        if name is None:
            continue
        if name in found:
            shown = _unmangled(header, headers)
            errors.append(
                InputError(
                    file,
                    f"column '{name}' appears twice ('{found[name]}' and '{shown}')",
                    row=HEADER_ROW,
                    column=shown,
                )
            )
        else:
            found[name] = header
    for column in schema:
        if column.required and column.name not in found:
            accepted = " / ".join((column.name, *column.aliases))
            errors.append(
                InputError(
                    file,
                    f"missing column '{column.name}' (accepted headers: {accepted})",
                    row=HEADER_ROW,
                )
            )
    return found, errors


def read_raw(path: str | Path, sheet: str | int = 0) -> pd.DataFrame:
    """The file's cells as text, header row included in the columns; raises InputErrors."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise InputErrors([InputError(name, f"file not found: {path}")])
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl")
        if suffix == ".xls":
            raise InputErrors(
                [InputError(name, "old .xls workbooks are not read; save as .xlsx or CSV")]
            )
        return _read_csv_any_encoding(path)
    except InputErrors:
        raise
    except Exception as exc:  # a corrupt workbook raises many different library errors
        raise InputErrors([InputError(name, f"cannot be read as a table: {exc}")]) from exc


def _read_csv_any_encoding(path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not text.strip():
            raise InputErrors([InputError(path.name, "the file is empty")])
        return pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            skip_blank_lines=False,  # an empty line still counts as a row for the row numbers
        )
    raise InputErrors([InputError(path.name, "cannot be decoded as UTF-8 or GBK text")])


def _is_blank(value: Any) -> bool:
    return (
        value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""
    )


def _parse_number(value: Any, integer: bool) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = normalise_text(str(value)).replace(",", "").replace("，", "")
        try:
            number = float(text)
        except ValueError:
            return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    if integer:
        return int(number) if number.is_integer() else None
    return number


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
        return None, f"'{value}' is not one of {', '.join(accepted)}"
    number = _parse_number(value, integer=column.kind == "int")
    if number is None:
        what = "a whole number" if column.kind == "int" else "a number"
        return None, f"'{value}' is not {what}"
    if column.minimum is not None and number < column.minimum:
        return None, f"{number} is below the minimum {column.minimum:g}"
    return number, None


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
        plain = cells.str.fullmatch(r"[0-9]{1,15}").fillna(False).to_numpy(dtype=bool, copy=True)
        numbers = cells[plain].astype("int64").to_numpy()
        if column.minimum is not None:
            low = numbers < column.minimum
            plain[np.flatnonzero(plain)[low]] = False  # left to `_convert`, which explains
            numbers = numbers[~low]
        values[plain] = numbers.tolist()
        rest = ~plain
    positions = np.flatnonzero(rest)
    codes, spellings = pd.factorize(cells[rest], use_na_sentinel=False)
    converted = [_convert(spelling, column) for spelling in spellings.tolist()]
    parsed = np.empty(len(converted), dtype=object)
    parsed[:] = [value for value, _ in converted]
    values[positions] = parsed[codes]
    problems = [
        (int(position), problem)
        for code, (_, problem) in enumerate(converted)
        if problem
        for position in positions[codes == code]
    ]
    return values.tolist(), problems


def validate_frame(
    raw: pd.DataFrame, schema: Sequence[Column], file: str
) -> tuple[pd.DataFrame, list[InputError]]:
    """Typed DataFrame with the schema's canonical columns, and every error found."""
    headers = [str(h) for h in raw.columns]
    found, errors = _match_headers(headers, schema, file)
    if errors:
        return pd.DataFrame(columns=[c.name for c in schema]), errors
    raw = raw.rename(columns={v: k for k, v in found.items()})
    present = [c for c in schema if c.name in found]
    blank_rows = pd.concat([_blank_mask(raw[c.name]) for c in present], axis=1).all(axis=1)
    raw = raw.loc[~blank_rows]  # trailing empty spreadsheet rows are not data
    rows = (raw.index.to_numpy(dtype=np.int64) + HEADER_ROW + 1).tolist()
    out: dict[str, list[Any]] = {}
    problems: list[tuple[int, int, InputError]] = []
    for order, column in enumerate(schema):
        if column.name not in found:  # optional, absent (a missing required one failed above)
            out[column.name] = [column.default] * len(rows)
            continue
        out[column.name], column_problems = _convert_cells(raw[column.name], column)
        problems.extend(
            (position, order, InputError(file, message, row=rows[position], column=column.label))
            for position, message in column_problems
        )
    # Reported row by row, in the schema's column order, as a person reads the sheet.
    errors.extend(error for _, _, error in sorted(problems, key=lambda p: (p[0], p[1])))
    frame = pd.DataFrame(out, index=pd.Index(rows, name="row", dtype="int64"))
    _apply_dtypes(frame, schema)
    errors.extend(_uniqueness_errors(frame, schema, file))
    return frame, errors


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
        for row, value in zip(repeated.index.tolist(), repeated.tolist(), strict=True):
            first = int(values[values == value].index[0])
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
    """Read and validate one table; errors come back as data, nothing is raised for bad cells."""
    try:
        raw = read_raw(path, sheet)
    except InputErrors as exc:
        return pd.DataFrame(columns=[c.name for c in schema]), exc.errors
    return validate_frame(raw, schema, Path(path).name)


def load_table(path: str | Path, schema: Sequence[Column], sheet: str | int = 0) -> pd.DataFrame:
    """Read and validate one table, raising InputErrors listing every problem."""
    frame, errors = read_table(path, schema, sheet)
    if errors:
        raise InputErrors(errors)
    return frame
