"""Hostile input files: counts outside the documented range or not written in ASCII digits,
files with an error on every row, files larger than the caps, mixed encodings."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet._reader import WorkSheetParser

from pools.input_limits import MAX_COUNT, InputLimits
from pools.tabular import Column, InputError, InputErrors, read_table
from tests.test_tabular import only_error, write

SCHEMA = (
    Column("county_id", ("区划代码",), unique=True),
    Column("quota", ("教职工编制",), kind="int", minimum=0),
    Column("year", ("年度",), kind="int", required=False),
)
QUOTA = "quota [教职工编制]"


# --- counts: whole numbers 0..MAX_COUNT in ASCII digits ---------------------------------------


@pytest.mark.parametrize(
    ("cell", "fragment"),
    [
        ("1" * 30, "above the largest count"),
        ("1e30", "not a whole number"),
        ("5.95e3", "not a whole number"),
        ("5_950", "not a whole number"),
        ("٥٩٥٠", "not a whole number"),  # Arabic-Indic digits
        ("５９５０", "not a whole number"),  # full-width digits
        ("12345678901234567", "above the largest count"),  # no silent rounding to …568
        ("1000000001", "above the largest count"),
        ("nan", "not a whole number"),
        ("inf", "not a whole number"),
        ("-inf", "not a whole number"),
        ("-5", "below the minimum 0"),
        ("+5", "not a whole number"),
        ("1,23", "not a whole number"),  # not groups of three: a decimal comma?
        ("0x10", "not a whole number"),
        ("5.5", "not a whole number"),
    ],
)
def test_counts_outside_ascii_whole_numbers_are_refused_where_they_are(
    tmp_path: Path, cell: str, fragment: str
) -> None:
    path = write(tmp_path / "c.csv", f'county_id,quota\nA,1\nB,"{cell}"\n')
    error = only_error(read_table(path, SCHEMA)[1])
    assert (error.file, error.row, error.column) == ("c.csv", 3, QUOTA)
    assert fragment in error.message


def test_a_count_column_without_a_minimum_is_still_not_negative(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "county_id,quota,year\nA,1,-2027\n")
    error = only_error(read_table(path, SCHEMA)[1])
    assert (error.row, error.column) == (2, "year [年度]")


@pytest.mark.parametrize(
    ("cell", "value"),
    [("0", 0), ("5,950", 5950), ("5，950", 5950), ("1,000,000,000", MAX_COUNT), ("7.00", 7)],
)
def test_counts_as_people_write_them(tmp_path: Path, cell: str, value: int) -> None:
    path = write(tmp_path / "c.csv", f'county_id,quota\nA,"{cell}"\n')
    frame, errors = read_table(path, SCHEMA)
    assert errors == []
    assert frame["quota"].tolist() == [value]


def test_workbook_number_cells_are_counts_when_whole_and_in_range(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["county_id", "quota"], ["A", 5950.0], ["B", 5950], ["C", 1e30], ["D", 1.5]):
        sheet.append(row)
    book.save(tmp_path / "c.xlsx")
    frame, errors = read_table(tmp_path / "c.xlsx", SCHEMA)
    assert frame["quota"].tolist()[:2] == [5950, 5950]
    assert [(e.row, e.column) for e in errors] == [(4, QUOTA), (5, QUOTA)]
    assert "above the largest count" in errors[0].message


# --- error collection: linear, capped ---------------------------------------------------------


def test_errors_stop_at_the_setting_and_say_how_many_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "".join(f"C{i},x{i}\n" for i in range(500))  # every row wrong, each differently
    path = write(tmp_path / "c.csv", f"county_id,quota\n{rows}")
    errors = read_table(path, SCHEMA)[1]
    assert len(errors) == InputLimits.max_errors + 1 == 201
    assert [e.row for e in errors[:3]] == [2, 3, 4]
    assert errors[-1].message == "… and 300 more problems"
    monkeypatch.setenv("QUOTAPOOL_MAX_INPUT_ERRORS", "10")
    errors = read_table(path, SCHEMA)[1]
    assert len(errors) == 11
    assert errors[-1].message == "… and 490 more problems"
    assert "… and 490 more problems" in str(InputErrors(errors))


def test_input_errors_anywhere_are_capped_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAPOOL_MAX_INPUT_ERRORS", "2")
    errors = InputErrors([InputError("a.csv", f"bad {i}", row=i) for i in range(5)])
    assert [e.message for e in errors.errors] == ["bad 0", "bad 1", "… and 3 more problems"]
    again = InputErrors([*errors.errors, InputError("b.csv", "bad b")])
    assert again.errors[-1].message == "… and 4 more problems"


def test_a_bad_limit_setting_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAPOOL_MAX_FILE_ROWS", "lots")
    error = only_error(read_table(write(tmp_path / "c.csv", "county_id,quota\nA,1\n"), SCHEMA)[1])
    assert error.file == "QUOTAPOOL_MAX_FILE_ROWS"


# --- caps on a file, before it is read whole --------------------------------------------------


def test_a_file_over_the_byte_cap_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUOTAPOOL_MAX_FILE_BYTES", "100")
    path = write(tmp_path / "c.csv", "county_id,quota\n" + "A,1\n" * 40)
    error = only_error(read_table(path, SCHEMA)[1])
    assert "QUOTAPOOL_MAX_FILE_BYTES" in error.message


def test_a_csv_over_the_row_cap_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAPOOL_MAX_FILE_ROWS", "50")
    path = write(tmp_path / "c.csv", "county_id,quota\n" + "".join(f"C{i},1\n" for i in range(60)))
    error = only_error(read_table(path, SCHEMA)[1])
    assert "QUOTAPOOL_MAX_FILE_ROWS" in error.message


def _sheet_xml(rows: int, dimension: bool) -> bytes:
    """A sheet of `rows` rows (headers county_id, quota, then rows of one cell 'C')."""
    ref = f'<dimension ref="A1:B{rows}"/>' if dimension else ""
    body = '<row><c t="inlineStr"><is><t>C</t></is></c></row>' * (rows - 1)  # numbered in turn
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'{ref}<sheetData><row><c t="inlineStr"><is><t>county_id</t></is></c>'
        f'<c t="inlineStr"><is><t>quota</t></is></c></row>{body}</sheetData></worksheet>'
    ).encode()


def _replace_part(path: Path, part: str, data: bytes) -> Path:
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts[part] = data
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for name, content in parts.items():
            target.writestr(name, content)
    return path


def _bomb(path: Path, rows: int, dimension: bool) -> Path:
    """An .xlsx of `rows` rows, small on disk: its sheet is the same row deflated many times."""
    book = openpyxl.Workbook()
    book.active.append(["county_id", "quota"])  # type: ignore[union-attr]
    book.save(path)
    return _replace_part(path, "xl/worksheets/sheet1.xml", _sheet_xml(rows, dimension))


def test_a_workbook_that_unpacks_beyond_the_byte_cap_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _bomb(tmp_path / "bomb.xlsx", 200_000, dimension=False)
    assert path.stat().st_size < 200_000  # small on disk, ~9 MB unpacked
    monkeypatch.setenv("QUOTAPOOL_MAX_FILE_BYTES", "5000000")
    error = only_error(read_table(path, SCHEMA)[1])
    assert "unpacks to" in error.message
    assert "QUOTAPOOL_MAX_FILE_BYTES" in error.message


def _counting_parsed_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows openpyxl's sheet parser turns into cells, from now on (by row number)."""
    parsed: list[int] = []
    real_parse_row = WorkSheetParser.parse_row

    def counting(self, row):  # type: ignore[no-untyped-def]
        number, cells = real_parse_row(self, row)
        parsed.append(number)
        return number, cells

    monkeypatch.setattr(WorkSheetParser, "parse_row", counting)
    return parsed


@pytest.mark.parametrize("dimension", [True, False])
def test_a_workbook_with_more_rows_than_the_cap_stops_being_read_at_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dimension: bool
) -> None:
    """Refused before any cell is parsed: by the declared dimension, or, with none (or a
    false one), by counting the sheet's rows in its unpacked XML up to the cap."""
    path = _bomb(tmp_path / "bomb.xlsx", 200_000, dimension=dimension)
    monkeypatch.setenv("QUOTAPOOL_MAX_FILE_ROWS", "1000")
    parsed = _counting_parsed_rows(monkeypatch)
    error = only_error(read_table(path, SCHEMA)[1])
    assert error.file == "bomb.xlsx"
    assert "sheet 'Sheet' has more than the 1,000 rows" in error.message
    assert "QUOTAPOOL_MAX_FILE_ROWS" in error.message
    assert parsed == []  # of 200,000 rows, none parsed


def test_rows_the_byte_count_misses_are_refused_as_they_stream_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`<row\n>` is a row the quick byte count does not see: the parser still stops at the
    first row beyond the cap, naming the sheet and the setting."""
    xml = _sheet_xml(5_000, dimension=False).replace(b"<row>", b"<row\n>")
    path = _replace_part(_bomb(tmp_path / "odd.xlsx", 2, False), "xl/worksheets/sheet1.xml", xml)
    monkeypatch.setenv("QUOTAPOOL_MAX_FILE_ROWS", "1000")
    parsed = _counting_parsed_rows(monkeypatch)
    error = only_error(read_table(path, SCHEMA)[1])
    assert "sheet 'Sheet' has more than the 1,000 rows" in error.message
    assert "QUOTAPOOL_MAX_FILE_ROWS" in error.message
    assert max(parsed) == 1001  # of 5,000


def test_a_sheet_without_a_dimension_is_parsed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openpyxl's `load_workbook` sizes a sheet without a <dimension> by parsing it whole, then
    it is parsed again for its values: for a sheet just under the cap, minutes lost."""
    path = _bomb(tmp_path / "big.xlsx", 3_000, dimension=False)
    parses: list[object] = []
    real_iterparse = openpyxl.worksheet._reader.iterparse

    def counting(source, *args, **kwargs):  # type: ignore[no-untyped-def]
        parses.append(source)
        return real_iterparse(source, *args, **kwargs)

    monkeypatch.setattr(openpyxl.worksheet._reader, "iterparse", counting)
    frame = read_table(path, SCHEMA)[0]
    assert len(frame) == 2_999  # every row read (each with its quota missing)
    assert len(parses) == 1


def test_only_the_sheet_read_counts_against_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet of raw data beyond the cap beside the table neither blocks reading the table
    nor is parsed."""
    book = openpyxl.Workbook()
    book.active.append(["county_id", "quota"])  # type: ignore[union-attr]
    book.active.append(["A", 1])  # type: ignore[union-attr]
    book.create_sheet("原始数据").append(["x"])
    book.save(tmp_path / "two.xlsx")
    raw_data = _sheet_xml(3_000, dimension=False)
    path = _replace_part(tmp_path / "two.xlsx", "xl/worksheets/sheet2.xml", raw_data)
    monkeypatch.setenv("QUOTAPOOL_MAX_FILE_ROWS", "1000")
    parsed = _counting_parsed_rows(monkeypatch)
    frame, errors = read_table(path, SCHEMA)
    assert (frame["county_id"].tolist(), errors) == (["A"], [])
    assert parsed == [1, 2]  # the table's two rows, none of the raw data's 3,000
    error = only_error(read_table(path, SCHEMA, sheet="原始数据")[1])
    assert "sheet '原始数据' has more than the 1,000 rows" in error.message


def test_a_sheet_that_is_not_there_is_named_with_those_that_are(tmp_path: Path) -> None:
    path = _bomb(tmp_path / "c.xlsx", 2, dimension=True)
    error = only_error(read_table(path, SCHEMA, sheet="编制")[1])
    assert (error.file, error.message) == ("c.xlsx", "has no sheet '编制'; its sheets: 'Sheet'")
    assert "its sheets: 'Sheet'" in only_error(read_table(path, SCHEMA, sheet=1)[1]).message


def test_a_sparse_sheet_numbering_a_row_beyond_the_cap_is_refused(tmp_path: Path) -> None:
    """A single row numbered 3,000,000 would be read as 3,000,000 rows, empty ones before it."""
    xml = _sheet_xml(2, dimension=False).replace(b"<row><c", b'<row r="3000000"><c', 2)
    path = _bomb(tmp_path / "sparse.xlsx", 2, dimension=False)
    _replace_part(path, "xl/worksheets/sheet1.xml", xml.replace(b'<row r="3000000">', b"<row>", 1))
    error = only_error(read_table(path, SCHEMA)[1])
    assert "QUOTAPOOL_MAX_FILE_ROWS" in error.message


# --- encodings --------------------------------------------------------------------------------


def test_mixed_gbk_and_utf8_names_the_first_row_that_does_not_decode(tmp_path: Path) -> None:
    data = (
        "county_id,quota\n东湖区,1\n西岭区,2\n".encode()
        + "南港区,3\n".encode("gbk")
        + "临川市,4\n".encode()
    )
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    error = only_error(read_table(path, SCHEMA)[1])
    assert (error.file, error.row) == ("mixed.csv", 4)
    assert "UTF-8" in error.message


def test_gbk_rows_then_a_broken_row_names_that_row(tmp_path: Path) -> None:
    data = "county_id,quota\n东湖区,1\n西岭区,2\n".encode("gbk") + b"\x81\x20,3\n"
    path = tmp_path / "gbk.csv"
    path.write_bytes(data)
    error = only_error(read_table(path, SCHEMA)[1])
    assert (error.file, error.row) == ("gbk.csv", 4)
    assert "GBK" in error.message


def test_a_whole_gbk_file_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("区划代码,教职工编制\n东湖区,1\n".encode("gbk"))
    frame, errors = read_table(path, SCHEMA)
    assert errors == []
    assert frame["county_id"].tolist() == ["东湖区"]
