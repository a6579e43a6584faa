"""The data rows of plan.xlsx as worksheet XML, built a column at a time (issue 15).

XlsxWriter lays the workbook out: headers, formats, totals, widths, filter, frozen panes,
conditional fills and the summary sheet (`optimizer.output`). Its one slow part is the data
body: a Python call per cell, 3 million cells for 200,000 schools (48 s of a 56 s run). Here
those rows are made with Arrow's string kernels, as the XML XlsxWriter itself writes for such
cells in its constant-memory mode (numbers in <v>, texts as inline strings, empty cells that
keep their format), and spliced into the sheet XlsxWriter wrote without them.

Cell values follow `XlsxWriter.Worksheet.write` on what `output._column_values` gives:
numbers as numbers (floats as their shortest round-trip text, so the file holds the plan's
exact values), NaN, NA and "" as empty cells, ±inf as the texts "inf"/"-inf", booleans as
booleans and anything else as its text.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# zlib level 1 for the small parts; the sheet with the data rows (~140 MB of XML at 200,000
# rows) is deflated by ISA-L at its level 1 (see _deflate_with_isal).
COMPRESS_LEVEL = 1
ISAL_LEVEL = 1
CHUNK_ROWS = 20_000  # rows made and compressed at a time: bounds the memory the XML takes
MAX_CELL_BYTES = 200  # a cell's XML, the longest texts aside (~45 bytes for a figure)
MAX_STRING = 32_767  # Excel's limit on a cell's text; XlsxWriter cuts longer texts too
# Texts XlsxWriter escapes further (control characters as _xHHHH_, and a literal _xHHHH_):
# rare, and done one by one with XlsxWriter's own function.
_NEEDS_CONTROL_ESCAPE = r"[\x00-\x08\x0b-\x1f\x{fffe}\x{ffff}]|_x[0-9a-fA-F]{4}_"
# Python's whitespace (str.isspace), which XlsxWriter's r"^\s|\s$" finds at either end of a
# text to mark it xml:space="preserve".
_SPACE = (
    r"[\t\n\x0b\x0c\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}"
    r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
)
_EDGE_SPACE = f"^{_SPACE}|{_SPACE}$"
EMPTY_TAIL = "/>"  # <c r=".." s=".."/>: an empty cell that keeps its format


@dataclass(frozen=True)
class BodyColumn:
    """One column of the data body: its letter, its cells' style (xf index) and values."""

    letter: str
    style: int | None  # None: the General format, and empty cells are not written at all
    values: pd.Series


def write_sheet_with_body(
    workbook: bytes,
    target: Path,
    sheet: str,
    first_row: int,
    columns: Sequence[BodyColumn],
) -> None:
    """Copy the `workbook` zip to `target` with the data rows inserted into `sheet`.

    `sheet` (e.g. "xl/worksheets/sheet1.xml") holds no rows from `first_row` (1-based) on
    but what comes after the body (the totals); the body's rows go in before those.
    """
    import io

    rows = len(columns[0].values) if columns else 0
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as out,
    ):
        for info in source.infolist():
            if info.filename != sheet:
                with source.open(info) as data, out.open(_entry(info), "w") as copy:
                    shutil.copyfileobj(data, copy)
                continue
            xml = source.read(info)
            at = _first_row_at_or_after(xml, first_row)
            # ZIP64 headers only where the sheet may pass 4 GiB: some readers warn about them.
            large = rows * max(len(columns), 1) * MAX_CELL_BYTES >= 2**32
            with out.open(_entry(info), "w", force_zip64=large) as copy:
                _deflate_with_isal(copy)
                copy.write(xml[:at])
                for chunk in body_chunks(columns, first_row, rows):
                    copy.write(chunk)
                copy.write(xml[at:])


def _deflate_with_isal(entry: Any) -> None:
    """Have an open zip entry deflated by ISA-L (python-isal's zlib-compatible raw deflate).

    At 200,000 rows the sheet's 140 MB of XML take zlib 0.9–1.3 s at level 1 and ISA-L
    0.35 s, for 26 MB instead of 29. zipfile has no hook for its compressor, so the entry's
    own compressor object is swapped before anything is written (`_compressor`, the same
    attribute in Python 3.8–3.13); were it ever missing, zlib deflates as before.
    """
    from isal import isal_zlib

    if getattr(entry, "_compressor", None) is not None:
        entry._compressor = isal_zlib.compressobj(ISAL_LEVEL, isal_zlib.DEFLATED, -15)


def _entry(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A new entry like `info` (same name, date and mode), deflated at COMPRESS_LEVEL."""
    entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    entry.compress_type = zipfile.ZIP_DEFLATED
    # ZipFile.open takes an entry's level from it, not from the ZipFile (`compress_level`
    # from Python 3.13 on, `_compresslevel` before; 3.13 keeps the old name as an alias).
    setattr(entry, "_compresslevel", COMPRESS_LEVEL)  # noqa: B010
    entry.external_attr = info.external_attr
    return entry


def _first_row_at_or_after(xml: bytes, row: int) -> int:
    """Offset of the first <row> numbered `row` or more; else of </sheetData>."""
    for match in re.finditer(rb'<row r="(\d+)"', xml):
        if int(match.group(1)) >= row:
            return match.start()
    end = xml.find(b"</sheetData>")
    if end < 0:  # a sheet without any row is written as <sheetData/>
        raise ValueError("the worksheet has no rows to insert the data before")
    return end


def body_chunks(columns: Sequence[BodyColumn], first_row: int, rows: int) -> Iterator[bytes]:
    """The XML of rows first_row..first_row + rows − 1, a chunk of rows at a time."""
    for start in range(0, rows, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, rows)
        numbers = pc.cast(pa.array(np.arange(first_row + start, first_row + stop)), pa.string())
        parts: list[Any] = []
        for column in columns:
            parts.extend(_cells(column, numbers, start, stop))
        row_xml = pc.binary_join_element_wise('<row r="', numbers, '">', *parts, "</row>", "")
        yield concatenated(row_xml)


def concatenated(strings: pa.Array) -> bytes:
    """All strings of an Arrow string array back to back: its value buffer, as it is."""
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)
    first = offsets[strings.offset]
    last = offsets[strings.offset + len(strings)]
    return strings.buffers()[2].to_pybytes()[first:last]


def _cells(column: BodyColumn, numbers: pa.Array, start: int, stop: int) -> list[Any]:
    """The parts that, joined row-wise, make this column's cell in each row."""
    style = f' s="{column.style}"' if column.style is not None else ""
    head: list[Any] = [f'<c r="{column.letter}', numbers, f'"{style}']
    tails, empty = _tails(column.values.iloc[start:stop])
    if column.style is None and empty is not None and pc.any(empty).as_py():
        # General format: an empty cell is not written at all.
        whole = pc.binary_join_element_wise(*head, tails, "")
        return [pc.if_else(empty, "", whole)]
    return [*head, tails]


def _tails(values: pd.Series) -> tuple[pa.Array, pa.Array | None]:
    """Per cell, what follows `<c r=".." s=".."`, and which cells are empty (or None)."""
    dtype = values.dtype
    kind = dtype.kind if isinstance(dtype, np.dtype) else None
    if kind in ("i", "u"):
        return _numbers(pa.array(values.to_numpy())), None
    if kind == "b":
        return _booleans(pa.array(values.to_numpy())), None
    if kind == "f":
        floats = values.to_numpy()
        finite = np.isfinite(floats)
        tails = _numbers(pa.array(floats))
        if finite.all():
            return tails, None
        infinite = np.isinf(floats)
        texts = pa.array(np.where(floats > 0, "inf", "-inf"))
        tails = pc.if_else(pa.array(infinite), _texts(texts), tails)
        empty = pa.array(np.isnan(floats))
        return pc.if_else(empty, EMPTY_TAIL, tails), empty
    if pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, np.dtype):
        texts = pa.array(values, from_pandas=True).cast(pa.string())
        empty = pc.or_kleene(pc.is_null(texts), pc.equal(texts, "")).fill_null(True)
        return pc.if_else(empty, EMPTY_TAIL, _texts(texts)), empty
    if pd.api.types.is_extension_array_dtype(dtype) and (
        pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype)
    ):
        if pd.api.types.is_float_dtype(dtype):  # a nullable float: NaN and inf as above
            return _tails(values.astype(float))
        arrow = pa.array(values, from_pandas=True)
        empty = pc.is_null(arrow)
        return _numbers(arrow).fill_null(EMPTY_TAIL), empty
    return _python_tails(values.tolist())


def _numbers(numbers: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise("><v>", pc.cast(numbers, pa.string()), "</v></c>", "")


def _booleans(flags: pa.Array) -> pa.Array:
    digits = pc.if_else(flags, "1", "0")
    return pc.binary_join_element_wise(' t="b"><v>', digits, "</v></c>", "")


def _texts(texts: pa.Array) -> pa.Array:
    """Inline-string tails, escaped as XlsxWriter escapes them (nulls stay null)."""
    texts = pc.utf8_slice_codeunits(texts, 0, MAX_STRING)
    special = pc.match_substring_regex(texts, _NEEDS_CONTROL_ESCAPE).fill_null(False)
    if pc.any(special).as_py():
        pairs = zip(texts.to_pylist(), special.to_pylist(), strict=True)
        texts = pa.array([_escape_control(t) if s else t for t, s in pairs], type=pa.string())
    for plain, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        texts = pc.replace_substring(texts, plain, escaped)
    preserve = pc.match_substring_regex(texts, _EDGE_SPACE).fill_null(False)
    opening = pc.if_else(preserve, '<t xml:space="preserve">', "<t>")
    return pc.binary_join_element_wise(' t="inlineStr"><is>', opening, texts, "</t></is></c>", "")


def _escape_control(text: str) -> str:
    from xlsxwriter.xmlwriter import XMLwriter

    return str(XMLwriter._escape_control_characters(text))


def _python_tails(values: list[Any]) -> tuple[pa.Array, pa.Array]:
    """Mixed or unusual columns, a cell at a time (the plan's own columns never get here)."""
    from optimizer.output import _cell

    numbers: list[float | int | None] = []
    texts: list[str | None] = []
    flags: list[bool | None] = []
    empty: list[bool] = []
    for raw in values:
        value = _cell(raw)
        is_flag = isinstance(value, bool)
        is_number = isinstance(value, int | float) and not is_flag
        numbers.append(value if is_number else None)
        flags.append(value if is_flag else None)
        texts.append(value if isinstance(value, str) and value != "" else None)
        empty.append(value is None or value == "")
    tails = pc.coalesce(
        _numbers(pa.array(numbers, type=pa.float64())),
        _booleans(pa.array(flags, type=pa.bool_())),
        _texts(pa.array(texts, type=pa.string())),
        EMPTY_TAIL,
    )
    return tails, pa.array(empty)
