"""The shared table reader: encodings, workbooks, header aliases, cell checks, row numbers."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pools.tabular import Column, InputError, InputErrors, load_table, notes, read_table
from tests.sheets import sheet

SCHEMA = (
    Column("county_id", ("区划代码",), unique=True),
    Column("name", ("区划名称",)),
    Column("quota", ("教职工编制",), kind="int", minimum=0),
    Column("min_quota", ("最低编制",), kind="int", required=False, minimum=0),
    Column("attrition", ("预计减员",), kind="int", required=False, default=0, minimum=0),
    Column(
        "class",
        ("城乡类别",),
        kind="choice",
        required=False,
        choices={"urban": "urban", "城市": "urban", "rural": "rural", "农村": "rural"},
    ),
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def only_error(errors: list[InputError]) -> InputError:
    assert len(errors) == 1, errors
    return errors[0]


# --- encodings and formats -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_chinese_csv_is_read_in_every_encoding_excel_writes(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path / "c.csv", "区划代码,区划名称,教职工编制\n339901,东湖区,1200\n", encoding)
    frame = load_table(path, SCHEMA)
    assert frame.loc[2, "name"] == "东湖区"
    assert frame.loc[2, "county_id"] == "339901"
    assert frame.loc[2, "quota"] == 1200


def test_bom_does_not_stick_to_the_first_header(tmp_path: Path) -> None:
    """A BOM read as text would turn the first header into '\\ufeffcounty_id' and lose it."""
    path = write(tmp_path / "c.csv", "county_id,name,quota\nA,a,1\n", "utf-8-sig")
    assert list(load_table(path, SCHEMA)["county_id"]) == ["A"]


def test_xlsx_is_read_and_numeric_codes_stay_codes(tmp_path: Path) -> None:
    """Excel stores 339901 as a number; the id must come back as '339901', not '339901.0'."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["区划代码", "区划名称", "教职工编制", "城乡类别"])
    sheet.append([339901, "东湖区", 1200, "城市"])
    sheet.append([339902, "北塘县", 800.0, "农村"])
    path = tmp_path / "c.xlsx"
    book.save(path)
    frame = load_table(path, SCHEMA)
    assert list(frame["county_id"]) == ["339901", "339902"]
    assert list(frame["quota"]) == [1200, 800]
    assert list(frame["class"]) == ["urban", "rural"]
    assert list(frame.index) == [2, 3]


def test_undecodable_bytes_are_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"county_id,name,quota\n\xff\xfe\xfa\x80\x81,x,1\n")
    error = only_error(read_table(path, SCHEMA)[1])
    assert error.file == "c.csv"
    assert "decoded" in error.message


def test_missing_and_empty_files_are_reported(tmp_path: Path) -> None:
    assert "not found" in only_error(read_table(tmp_path / "nope.csv", SCHEMA)[1]).message
    empty = write(tmp_path / "empty.csv", "")
    assert "empty" in only_error(read_table(empty, SCHEMA)[1]).message


def test_corrupt_workbook_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "c.xlsx", "this is not a zip file")
    error = only_error(read_table(path, SCHEMA)[1])
    assert error.file == "c.xlsx"
    assert "cannot be read" in error.message


def test_old_xls_is_refused_with_advice(tmp_path: Path) -> None:
    path = write(tmp_path / "c.xls", "whatever")
    assert ".xlsx" in only_error(read_table(path, SCHEMA)[1]).message


# --- headers ---------------------------------------------------------------------------------


def test_missing_required_column_names_the_column_and_header_row(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "county_id,name\nA,a\n")
    error = only_error(read_table(path, SCHEMA)[1])
    assert (error.file, error.row) == ("c.csv", 1)
    assert "quota" in error.message and "教职工编制" in error.message


def test_header_containing_another_column_name_is_not_lost(tmp_path: Path) -> None:
    """'min_quota' contains the word 'quota': it must still be read as min_quota, not dropped."""
    path = write(tmp_path / "c.csv", "county_id,name,quota,min_quota\nA,a,10,4\n")
    frame = load_table(path, SCHEMA)
    assert frame.loc[2, "quota"] == 10
    assert frame.loc[2, "min_quota"] == 4


def test_bilingual_headers_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.csv",
        "区划代码 county_id,区划名称 (name),教职工编制 quota,最低编制 min_quota\nA,a,10,4\n",
    )
    frame = load_table(path, SCHEMA)
    assert (frame.loc[2, "quota"], frame.loc[2, "min_quota"]) == (10, 4)


def test_english_headers_in_any_case_and_spacing(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "County ID,Name,Quota, Min Quota\nA,a,10,4\n")
    frame = load_table(path, SCHEMA)
    assert (frame.loc[2, "quota"], frame.loc[2, "min_quota"]) == (10, 4)


def test_column_given_twice_is_an_error(tmp_path: Path) -> None:
    """Two columns both meaning county_id would make the reader pick one silently."""
    path = write(tmp_path / "c.csv", "区划代码,区划名称,教职工编制,county_id\nA,a,1,B\n")
    error = only_error(read_table(path, SCHEMA)[1])
    assert error.row == 1
    assert "twice" in error.message


def test_same_header_repeated_is_an_error(tmp_path: Path) -> None:
    """pandas renames a repeated header to '区划代码.1'; that must not hide the repetition."""
    path = write(tmp_path / "c.csv", "区划代码,区划名称,教职工编制,区划代码\nA,a,1,B\n")
    error = only_error(read_table(path, SCHEMA)[1])
    assert error.row == 1
    assert "twice" in error.message


def test_unknown_extra_columns_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "county_id,name,quota,备注\nA,a,1,随便\n")
    assert list(load_table(path, SCHEMA).columns) == [c.name for c in SCHEMA]


# --- cells -----------------------------------------------------------------------------------


def test_row_numbers_are_the_spreadsheet_rows(tmp_path: Path) -> None:
    """Header is row 1, so the third data line is row 4."""
    path = write(tmp_path / "c.csv", "county_id,name,quota\nA,a,1\nB,b,2\nC,c,oops\n")
    error = only_error(read_table(path, SCHEMA)[1])
    assert (error.file, error.row, error.column) == ("c.csv", 4, "quota [教职工编制]")


def test_blank_lines_do_not_shift_row_numbers(tmp_path: Path) -> None:
    """Hand-edited CSV with an empty line 3: the bad cell is on line 4 and is called row 4."""
    path = write(tmp_path / "c.csv", "county_id,name,quota\nA,a,1\n\nC,c,oops\n")
    frame, errors = read_table(path, SCHEMA)
    assert only_error(errors).row == 4
    assert list(frame.index) == [2, 4]


def test_blank_spreadsheet_rows_are_not_data(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "county_id,name,quota\nA,a,1\n,,\n,,\n")
    assert list(load_table(path, SCHEMA).index) == [2]


@pytest.mark.parametrize(
    ("cell", "fragment"),
    [("-3", "below the minimum 0"), ("abc", "not a whole number"), ("2.5", "not a whole number")],
)
def test_bad_counts_are_named_by_row_and_column(tmp_path: Path, cell: str, fragment: str) -> None:
    path = write(tmp_path / "c.csv", f"county_id,name,quota\nA,a,{cell}\n")
    error = only_error(read_table(path, SCHEMA)[1])
    assert (error.row, error.column) == (2, "quota [教职工编制]")
    assert fragment in error.message


def test_counts_written_the_way_people_write_them(tmp_path: Path) -> None:
    """Thousands separators (',' or the full-width '，') and '7.0' are the number they look
    like; full-width digits are not ASCII digits (SPEC 3.1, tests/test_input_limits.py)."""
    text = 'county_id,name,quota\nA,a,"1,234"\nB,b,5，950\nC,c,7.0\n'
    assert list(load_table(write(tmp_path / "c.csv", text), SCHEMA)["quota"]) == [1234, 5950, 7]


def test_empty_required_cell_is_an_error_and_optional_takes_default(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "county_id,name,quota,attrition,min_quota\nA,,5,,\n")
    frame, errors = read_table(path, SCHEMA)
    error = only_error(errors)
    assert (error.row, error.column, error.message) == (2, "name [区划名称]", "is empty")
    assert frame.loc[2, "attrition"] == 0
    assert frame["min_quota"].isna().all()


def test_whole_number_columns_get_integer_dtypes(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "county_id,name,quota,min_quota\nA,a,5,\nB,b,6,2\n")
    frame = load_table(path, SCHEMA)
    assert frame["quota"].dtype == "int64"
    assert frame["min_quota"].dtype == pd.Int64Dtype()
    assert frame["attrition"].dtype == "int64"


def test_choice_accepts_chinese_and_english_and_rejects_others(tmp_path: Path) -> None:
    text = "county_id,name,quota,class\nA,a,1,城市\nB,b,1,Rural\nC,c,1,镇\n"
    path = write(tmp_path / "c.csv", text)
    frame, errors = read_table(path, SCHEMA)
    error = only_error(errors)
    assert (error.row, error.column) == (4, "class [城乡类别]")
    assert "'镇' is not one of" in error.message
    assert list(frame["class"][:2]) == ["urban", "rural"]


def test_duplicate_id_names_both_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "county_id,name,quota\nA,a,1\nB,b,1\nA,c,1\n")
    error = only_error(read_table(path, SCHEMA)[1])
    assert (error.row, error.column) == (4, "county_id [区划代码]")
    assert "first seen in row 2" in error.message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "county_id,name,quota\nA,,x\nA,b,-1\n")
    with pytest.raises(InputErrors) as caught:
        load_table(path, SCHEMA)
    places = {(e.row, e.column) for e in caught.value.errors}
    assert places == {
        (2, "name [区划名称]"),
        (2, "quota [教职工编制]"),
        (3, "quota [教职工编制]"),
        (3, "county_id [区划代码]"),
    }
    report = caught.value.report()
    assert report.startswith("input rejected (4 problems):")
    assert "c.csv, row 3, column 'quota [教职工编制]'" in report


def test_blank_workbook_rows_do_not_shift_row_numbers(tmp_path: Path) -> None:
    """Row 3 left empty, bad cells in rows 4 and 7: the errors say 4 and 7, as Excel shows."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["county_id", "name", "quota"])
    sheet.append(["A", "a", 1])
    sheet.append([None, None, None])
    sheet.append(["C", "c", "x"])
    sheet["A7"], sheet["B7"], sheet["C7"] = "D", "d", -1
    book.save(tmp_path / "c.xlsx")
    frame, errors = read_table(tmp_path / "c.xlsx", SCHEMA)
    assert [(e.row, e.column) for e in errors] == [
        (4, "quota [教职工编制]"),
        (7, "quota [教职工编制]"),
    ]
    assert list(frame.index) == [2, 4, 7]


def test_errors_are_listed_row_by_row_in_column_order(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "county_id,name,quota\nA,,x\nB,b,-1\n,c,y\n")
    errors = read_table(path, SCHEMA)[1]
    assert [(e.row, e.column.split(" ")[0] if e.column else None) for e in errors] == [
        (2, "name"),
        (2, "quota"),
        (3, "quota"),
        (4, "county_id"),
        (4, "quota"),
    ]


def test_a_mistake_repeated_in_many_rows_is_reported_in_each(tmp_path: Path) -> None:
    """Cells are converted once per distinct spelling: the same bad spelling in rows 2 and 4
    must still give one error per row, and good rows between them keep their values
    (quota: 5, then '007' read as 7; names trimmed of surrounding spaces)."""
    path = write(
        tmp_path / "c.csv",
        "county_id,name,quota,class\nA, a ,x,城市\nB,b,5,village\nC,c,x,village\nD,d,007,农村\n",
    )
    frame, errors = read_table(path, SCHEMA)
    assert [(e.row, e.column) for e in errors] == [
        (2, "quota [教职工编制]"),
        (3, "class [城乡类别]"),
        (4, "quota [教职工编制]"),
        (4, "class [城乡类别]"),
    ]
    assert "'x' is not a whole number" in errors[0].message
    assert frame.loc[3, "quota"] == 5 and frame.loc[5, "quota"] == 7
    assert frame.loc[2, "name"] == "a" and frame.loc[5, "class"] == "rural"


def test_a_count_below_the_minimum_among_plain_counts_is_named(tmp_path: Path) -> None:
    """Plain digit strings take a vectorised path; '-1' must still be caught, in its row."""
    rows = "".join(f"K{i},k,{i}\n" for i in range(50))
    path = write(tmp_path / "c.csv", f"county_id,name,quota\n{rows}Z,z,-1\n")
    frame, errors = read_table(path, SCHEMA)
    error = only_error(errors)
    assert (error.row, error.column) == (52, "quota [教职工编制]")
    assert "below the minimum 0" in error.message
    assert frame["quota"].iloc[:50].tolist() == list(range(50))


# --- planners' own sheets: titles above the headers, totals rows, near misses (issue 8.7) ------


def messy(tmp_path: Path, suffix: str, rows: list[list[object]]) -> Path:
    """The same sheet as a CSV or as an .xlsx workbook."""
    return sheet(tmp_path / f"c{suffix}", rows)


TITLED = [
    ["2026年秋季学期各县教职工编制统计表"],
    ["单位：人"],
    ["区划代码", "区划名称", "教职工编制"],
    ["339901", "东湖区", 1200],
    [None, None, None],
    ["339902", "北塘县", 800],
    ["339903", "西山县", "很多"],
]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_title_rows_above_the_headers_are_skipped(tmp_path: Path, suffix: str) -> None:
    """Headers on row 3 under a title and a unit line: found, said so, and rows stay the
    spreadsheet's own (the bad count is on row 7 and is called row 7)."""
    frame, errors = read_table(messy(tmp_path, suffix, TITLED), SCHEMA)
    assert [(e.row, e.column) for e in errors] == [(7, "quota [教职工编制]")]
    assert list(frame.index) == [4, 6, 7]
    assert list(frame["county_id"]) == ["339901", "339902", "339903"]
    assert [(n.row, n.message) for n in notes(frame)] == [
        (3, "headers found on row 3 (rows above them skipped)")
    ]


def test_headers_on_the_first_row_give_no_note(tmp_path: Path) -> None:
    frame = load_table(write(tmp_path / "c.csv", "county_id,name,quota\nA,a,1\n"), SCHEMA)
    assert notes(frame) == []


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_no_header_row_names_the_required_columns_and_the_closest_row(
    tmp_path: Path, suffix: str
) -> None:
    rows: list[list[object]] = [["全县编制表"], ["区划代码", "区划名称", "编制数"], ["A", "a", 1]]
    errors = read_table(messy(tmp_path, suffix, rows), SCHEMA)[1]
    assert all(e.row == 2 for e in errors), errors
    summary = errors[0].message
    assert "closest is row 2" in summary
    assert "county_id [区划代码], name [区划名称], quota [教职工编制]" in summary
    assert any("missing column 'quota'" in e.message for e in errors)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize(
    "label", ["合计", "总 计", "小计", "共计", "Total", "ＳＵＭ", "全县合计："]
)
def test_a_totals_row_is_left_out_not_read_as_a_county(
    tmp_path: Path, suffix: str, label: str
) -> None:
    rows: list[list[object]] = [
        ["区划代码", "区划名称", "教职工编制"],
        ["339901", "东湖区", 1200],
        ["339902", "北塘县", 800],
        [label, None, 2000],
    ]
    frame, errors = read_table(messy(tmp_path, suffix, rows), SCHEMA)
    assert errors == []
    assert list(frame["county_id"]) == ["339901", "339902"]
    assert [(n.row, n.message) for n in notes(frame)] == [(4, f"totals row '{label}' left out")]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_totals_row_that_does_not_add_up_is_a_warning(tmp_path: Path, suffix: str) -> None:
    """合计 in a 序号 column with the id left blank; its quota is 1 short of the rows' sum."""
    rows: list[list[object]] = [
        ["序号", "区划代码", "区划名称", "教职工编制", "预计减员"],
        [1, "339901", "东湖区", 1200, 10],
        [2, "339902", "北塘县", 800, 5],
        ["合计", None, None, 1999, 15],
    ]
    frame, errors = read_table(messy(tmp_path, suffix, rows), SCHEMA)
    assert errors == []
    assert len(frame) == 2
    warning = notes(frame)[1]
    assert (warning.row, warning.column) == (4, "quota [教职工编制]")
    assert warning.message == "warning: the total 1999 is not the sum 2000 of the rows it totals"
    assert len(notes(frame)) == 2  # attrition adds up: no warning for it


def test_subtotals_are_checked_against_their_own_group(tmp_path: Path) -> None:
    text = "county_id,name,quota\nA,a,1\nB,b,2\n小计,,3\nC,c,4\n小计,,5\n合计,,7\n"  # 5 is wrong
    frame, errors = read_table(write(tmp_path / "c.csv", text), SCHEMA)
    assert errors == []
    assert list(frame.index) == [2, 3, 5]
    warnings = [(n.row, n.message) for n in notes(frame) if n.message.startswith("warning")]
    assert warnings == [(6, "warning: the total 5 is not the sum 4 of the rows it totals")]


def test_a_county_whose_name_merely_contains_a_totals_word_is_kept(tmp_path: Path) -> None:
    text = "county_id,name,quota\nA,合计镇,1\nTOTAL1,sum city,2\n"
    assert list(load_table(write(tmp_path / "c.csv", text), SCHEMA)["name"]) == [
        "合计镇",
        "sum city",
    ]


def test_an_unknown_choice_suggests_the_closest(tmp_path: Path) -> None:
    text = "county_id,name,quota,class\nA,a,1,urben\nB,b,1,城\n"
    errors = read_table(write(tmp_path / "c.csv", text), SCHEMA)[1]
    assert errors[0].message.endswith("; did you mean 'urban'?")
    assert "did you mean" in errors[1].message and "'城市'" in errors[1].message


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_mistyped_header_gets_did_you_mean(tmp_path: Path, suffix: str) -> None:
    rows: list[list[object]] = [["区划代码", "区划名称", "教职工编制数"], ["A", "a", 1]]
    error = only_error(read_table(messy(tmp_path, suffix, rows), SCHEMA)[1])
    assert (error.row, error.column) == (1, "教职工编制数")
    assert error.message.endswith("; did you mean '教职工编制' for the header '教职工编制数'?")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_na_words_are_text_in_a_workbook_as_in_a_csv(tmp_path: Path, suffix: str) -> None:
    """'NA' is a name and 'N/A' a wrong count, not empty cells (pandas' reading of them)."""
    rows: list[list[object]] = [["county_id", "name", "quota"], ["A", "NA", "N/A"]]
    frame, errors = read_table(messy(tmp_path, suffix, rows), SCHEMA)
    assert frame["name"].tolist() == ["NA"]
    assert [(e.row, e.column, e.message[:25]) for e in errors] == [
        (2, "quota [教职工编制]", "'N/A' is not a whole numb")
    ]
