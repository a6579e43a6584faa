"""Counties and enrolment files (SPEC 3.1): every rule; each message names file, row, column."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.io import county_hints, load_teacher_inputs, read_departures
from pools.tabular import InputError, InputErrors
from tests.sheets import sheet

COUNTIES_EN = (
    "county_id,name,quota,occupied,attrition,min_quota,max_gain,class\n"
    "339901,East Lake,1200,1150,40,,,urban\n"
    "339902,North Pond,800,820,30,700,50,rural\n"
)
ENROLMENT_EN = (
    "county_id,level,students\n"
    "339901,primary,19000\n"
    "339901,junior,8100\n"
    "339902,primary,15000\n"
    "339902,senior,5000\n"
)
COUNTIES_ZH = (
    "区划代码,区划名称,教职工编制,在编人数,预计减员,最低编制,最多增编,城乡类别\n"
    "339901,东湖区,1200,1150,40,,,城市\n"
    "339902,北塘县,800,820,30,700,50,农村\n"
)
ENROLMENT_ZH = (
    "区划代码,学段,在校生数\n"
    "339901,小学,19000\n"
    "339901,初中,8100\n"
    "339902,小学,15000\n"
    "339902,高中,5000\n"
)


def write(directory: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = directory / name
    path.write_bytes(text.encode(encoding))
    return path


def load(
    tmp_path: Path,
    counties: str = COUNTIES_EN,
    enrolment: str = ENROLMENT_EN,
    **options: bool,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return load_teacher_inputs(
        write(tmp_path, "counties.csv", counties),
        write(tmp_path, "enrolment.csv", enrolment),
        **options,
    )


def rejection(
    tmp_path: Path, counties: str = COUNTIES_EN, enrolment: str = ENROLMENT_EN, **options: bool
) -> list[InputError]:
    with pytest.raises(InputErrors) as caught:
        load(tmp_path, counties, enrolment, **options)
    return caught.value.errors


def only(errors: list[InputError]) -> InputError:
    assert len(errors) == 1, errors
    return errors[0]


# --- what a valid pair of files becomes --------------------------------------------------------


def test_valid_files_give_the_contract_columns_and_dtypes(tmp_path: Path) -> None:
    counties, enrolment = load(tmp_path)
    assert list(counties.columns) == [
        "county_id", "name", "quota", "occupied", "attrition", "min_quota", "max_gain", "class",
    ]  # fmt: skip
    assert counties["county_id"].tolist() == ["339901", "339902"]
    assert counties["quota"].dtype == "int64"
    assert counties["occupied"].dtype == "int64"
    assert counties["attrition"].dtype == "int64"
    assert counties["min_quota"].dtype == pd.Int64Dtype()
    assert counties["max_gain"].dtype == pd.Int64Dtype()
    assert counties["min_quota"].isna().tolist() == [True, False]
    assert counties["class"].tolist() == ["urban", "rural"]
    assert list(enrolment.columns) == ["county_id", "level", "students", "year"]
    assert enrolment["students"].dtype == "int64"
    assert enrolment["year"].dtype == pd.Int64Dtype()
    assert list(counties.index) == [2, 3]  # spreadsheet rows


def test_chinese_headers_and_values_mean_the_same_as_english(tmp_path: Path) -> None:
    english = load(tmp_path)
    chinese = load(tmp_path, COUNTIES_ZH, ENROLMENT_ZH)
    pd.testing.assert_frame_equal(english[1], chinese[1])
    pd.testing.assert_frame_equal(english[0].drop(columns="name"), chinese[0].drop(columns="name"))
    assert chinese[0]["name"].tolist() == ["东湖区", "北塘县"]
    assert chinese[1]["level"].tolist() == ["primary", "junior", "primary", "senior"]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_gbk_and_bom_files_are_read(tmp_path: Path, encoding: str) -> None:
    counties, enrolment = load_teacher_inputs(
        write(tmp_path, "counties.csv", COUNTIES_ZH, encoding),
        write(tmp_path, "enrolment.csv", ENROLMENT_ZH, encoding),
    )
    assert counties["name"].tolist() == ["东湖区", "北塘县"]
    assert counties["county_id"].tolist() == ["339901", "339902"]
    assert enrolment["level"].tolist() == ["primary", "junior", "primary", "senior"]


def test_xlsx_counties_are_read_like_the_csv(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for line in COUNTIES_ZH.strip().split("\n"):
        cells: list[object] = [int(c) if c.isdigit() else (c or None) for c in line.split(",")]
        sheet.append(cells)
    book.save(tmp_path / "counties.xlsx")
    from_xlsx, _ = load_teacher_inputs(
        tmp_path / "counties.xlsx", write(tmp_path, "enrolment.csv", ENROLMENT_ZH)
    )
    from_csv, _ = load(tmp_path, COUNTIES_ZH, ENROLMENT_ZH)
    pd.testing.assert_frame_equal(from_xlsx, from_csv)


def test_enrolment_by_year(tmp_path: Path) -> None:
    text = "county_id,level,students,year\n339901,primary,1,2027\n339902,primary,2,2027\n"
    _, enrolment = load(tmp_path, enrolment=text)
    assert enrolment["year"].tolist() == [2027, 2027]


# --- every rule of SPEC 3.1, each naming file, row and column ------------------------------


def test_missing_column_is_named(tmp_path: Path) -> None:
    counties = COUNTIES_EN.replace(",occupied", "").replace(",1150,", ",").replace(",820,", ",")
    error = only(rejection(tmp_path, counties))
    assert (error.file, error.row) == ("counties.csv", 1)
    assert "occupied" in error.message and "在编人数" in error.message


def test_missing_enrolment_column_is_named(tmp_path: Path) -> None:
    enrolment = "county_id,level\n339901,primary\n339902,primary\n"
    error = only(rejection(tmp_path, enrolment=enrolment))
    assert (error.file, error.row) == ("enrolment.csv", 1)
    assert "students" in error.message and "在校生数" in error.message


def test_unknown_county_in_enrolment(tmp_path: Path) -> None:
    enrolment = ENROLMENT_EN + "339999,junior,10\n"
    error = only(rejection(tmp_path, enrolment=enrolment))
    assert (error.file, error.row, error.column) == ("enrolment.csv", 6, "county_id [区划代码]")
    assert "'339999' is not in counties.csv" in error.message


def test_duplicate_county_id(tmp_path: Path) -> None:
    counties = COUNTIES_EN + "339901,Again,10,10,0,,,\n"
    error = only(rejection(tmp_path, counties))
    assert (error.file, error.row, error.column) == ("counties.csv", 4, "county_id [区划代码]")
    assert "duplicate" in error.message and "row 2" in error.message


def test_negative_count(tmp_path: Path) -> None:
    enrolment = ENROLMENT_EN.replace("339902,senior,5000", "339902,senior,-5")
    error = only(rejection(tmp_path, enrolment=enrolment))
    assert (error.file, error.row, error.column) == ("enrolment.csv", 5, "students [在校生数]")
    assert "below the minimum 0" in error.message


def test_non_numeric_count(tmp_path: Path) -> None:
    counties = COUNTIES_EN.replace("1200,1150", "1200,many")
    error = only(rejection(tmp_path, counties))
    assert (error.file, error.row, error.column) == ("counties.csv", 2, "occupied [在编人数]")
    assert "'many' is not a whole number" in error.message


def test_bad_level_name(tmp_path: Path) -> None:
    enrolment = ENROLMENT_EN.replace("339901,junior", "339901,中学")
    error = only(rejection(tmp_path, enrolment=enrolment))
    assert (error.file, error.row, error.column) == ("enrolment.csv", 3, "level [学段]")
    assert "'中学'" in error.message and "小学" in error.message


def test_bad_class_name(tmp_path: Path) -> None:
    counties = COUNTIES_EN.replace(",rural\n", ",suburb\n")
    error = only(rejection(tmp_path, counties))
    assert (error.file, error.row, error.column) == ("counties.csv", 3, "class [城乡类别]")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(None, "not found"), (b"\xff\xfe\xfa\x80\x81\n", "decoded"), (b"", "empty")],
)
def test_unreadable_file(tmp_path: Path, content: bytes | None, fragment: str) -> None:
    counties = tmp_path / "counties.csv"
    if content is not None:
        counties.write_bytes(content)
    with pytest.raises(InputErrors) as caught:
        load_teacher_inputs(counties, write(tmp_path, "enrolment.csv", ENROLMENT_EN))
    error = only(caught.value.errors)
    assert error.file == "counties.csv"
    assert fragment in error.message


def test_corrupt_workbook(tmp_path: Path) -> None:
    with pytest.raises(InputErrors) as caught:
        load_teacher_inputs(
            write(tmp_path, "counties.xlsx", "not a workbook"),
            write(tmp_path, "enrolment.csv", ENROLMENT_EN),
        )
    assert only(caught.value.errors).file == "counties.xlsx"


def test_more_departures_than_teachers(tmp_path: Path) -> None:
    counties = COUNTIES_EN.replace("820,30", "820,900")
    error = only(rejection(tmp_path, counties))
    assert (error.file, error.row, error.column) == ("counties.csv", 3, "attrition [预计减员]")
    assert "900" in error.message and "820" in error.message


def test_county_without_enrolment_is_planned_with_need_zero_and_a_warning(tmp_path: Path) -> None:
    """Decided for issue 12: accepted (a district whose schools all moved), never silently."""
    from optimizer.plan import make_plan

    enrolment = "county_id,level,students\n339901,primary,19000\n"
    counties, pupils = load(tmp_path, enrolment=enrolment)
    result = make_plan(counties, pupils)
    row = result.table.set_index("county_id").loc["339902"]
    assert row["need"] == 0 and row["shortfall_after"] == 0
    assert row["new"] == row["current"]  # nobody is short, so nothing moves
    assert result.summary["warnings"] == [
        "County 339902 (North Pond) has no enrolment rows: planned with need 0."
    ]
    assert "339902" in result.summary["warnings_zh"][0]


def test_a_year_without_a_county_is_warned_for_that_year(tmp_path: Path) -> None:
    from optimizer.plan import make_plan

    enrolment = (
        "county_id,level,students,year\n339901,primary,19000,2027\n"
        "339902,primary,9000,2027\n339901,primary,19000,2028\n"
    )
    counties, pupils = load(tmp_path, enrolment=enrolment)
    warnings = make_plan(counties, pupils).summary["warnings"]
    assert warnings == [
        "County 339902 (North Pond) has no enrolment rows for 2028: planned with need 0."
    ]


def test_class_is_required_only_when_standards_use_it(tmp_path: Path) -> None:
    counties = COUNTIES_EN.replace(",urban\n", ",\n")
    load(tmp_path, counties)  # fine with class-free standards
    error = only(rejection(tmp_path, counties, class_required=True))
    assert (error.file, error.row, error.column) == ("counties.csv", 2, "class [城乡类别]")


def test_year_in_some_rows_only(tmp_path: Path) -> None:
    enrolment = "county_id,level,students,year\n339901,primary,1,2027\n339902,primary,2,\n"
    error = only(rejection(tmp_path, enrolment=enrolment))
    assert (error.file, error.row, error.column) == ("enrolment.csv", 3, "year [年度]")


def test_no_rows_at_all(tmp_path: Path) -> None:
    errors = rejection(tmp_path, "county_id,name,quota,occupied\n", "county_id,level,students\n")
    assert [(e.file, "no" in e.message) for e in errors] == [
        ("counties.csv", True),
        ("enrolment.csv", True),
    ]


def test_every_problem_in_both_files_is_reported_at_once(tmp_path: Path) -> None:
    counties = COUNTIES_EN.replace("1200,1150", "-1,1150")
    enrolment = ENROLMENT_EN.replace("339901,junior", "339901,college") + "339977,primary,5\n"
    errors = rejection(tmp_path, counties, enrolment)
    assert {(e.file, e.row, e.column) for e in errors} == {
        ("counties.csv", 2, "quota [教职工编制]"),
        ("enrolment.csv", 3, "level [学段]"),
        ("enrolment.csv", 6, "county_id [区划代码]"),
    }


# --- any valid table survives any accepted format -----------------------------------------

ZH_HEADERS = {
    "county_id": "区划代码",
    "name": "区划名称",
    "quota": "教职工编制",
    "occupied": "在编人数",
    "attrition": "预计减员",
    "min_quota": "最低编制",
    "max_gain": "最多增编",
    "class": "城乡类别",
}
CLASS_ZH = {"urban": "城市", "town": "县镇", "rural": "农村"}


@st.composite
def county_tables(draw: st.DrawFn) -> list[dict[str, object]]:
    count = draw(st.integers(min_value=1, max_value=6))
    ids = draw(st.lists(st.integers(100000, 999999), min_size=count, max_size=count, unique=True))
    rows = []
    for county_id in ids:
        occupied = draw(st.integers(0, 90_000))
        rows.append(
            {
                "county_id": str(county_id),
                "name": draw(st.sampled_from(["东湖区", "北塘县", "Westfield", "云溪县"])),
                "quota": draw(st.integers(0, 90_000)),
                "occupied": occupied,
                "attrition": draw(st.integers(0, occupied)),
                "min_quota": draw(st.none() | st.integers(0, 90_000)),
                "max_gain": draw(st.none() | st.integers(0, 5_000)),
                "class": draw(st.none() | st.sampled_from(sorted(CLASS_ZH))),
            }
        )
    return rows


@settings(max_examples=30)
@given(
    rows=county_tables(),
    chinese=st.booleans(),
    form=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "xlsx"]),
)
def test_any_valid_counties_table_reads_back_the_same_in_every_format(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[dict[str, object]],
    chinese: bool,
    form: str,
) -> None:
    directory = tmp_path_factory.mktemp("round")
    frame = pd.DataFrame(rows)
    shown = frame.copy()
    if chinese:
        shown["class"] = shown["class"].map(CLASS_ZH)
        shown = shown.rename(columns=ZH_HEADERS)
    if form == "xlsx":
        counties = directory / "counties.xlsx"
        shown.astype(object).where(shown.notna(), None).to_excel(counties, index=False)
    else:
        counties = directory / "counties.csv"
        counties.write_bytes(shown.to_csv(index=False).encode(form))
    enrolment = "county_id,level,students\n" + "".join(
        f"{row['county_id']},primary,100\n" for row in rows
    )
    read, _ = load_teacher_inputs(counties, write(directory, "enrolment.csv", enrolment))
    for column in ("county_id", "name", "quota", "occupied", "attrition", "min_quota", "max_gain"):
        expected = [row[column] for row in rows]
        assert [None if pd.isna(v) else v for v in read[column].tolist()] == expected, column
    assert [None if pd.isna(v) else v for v in read["class"]] == [row["class"] for row in rows]


def test_classes_per_level_read_in_chinese_and_checked(tmp_path: Path) -> None:
    """班级数 (classes) is optional; with it the class-based minimum applies (SPEC 2.10)."""
    enrolment = "区划代码,学段,在校生数,班级数\n339901,小学,19000,400\n339902,小学,15000,\n"
    _, pupils = load(tmp_path, enrolment=enrolment)
    assert pupils["classes"].tolist()[0] == 400 and pupils["classes"].isna().tolist()[1]
    bad = "county_id,level,students,classes\n339901,primary,19000,-4\n339902,primary,1,1\n"
    error = only(rejection(tmp_path, enrolment=bad))
    assert (error.file, error.row, error.column) == ("enrolment.csv", 2, "classes [班级数]")


# --- planners' own files (issue 8.7) -----------------------------------------------------------


def long_and_wide(tmp_path: Path, wide: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    counties = write(tmp_path, "counties.csv", COUNTIES_EN)
    _, from_long = load_teacher_inputs(counties, write(tmp_path, "enrolment.csv", ENROLMENT_EN))
    _, from_wide = load_teacher_inputs(counties, wide)
    return from_long, from_wide


@pytest.mark.parametrize("name", ["wide.csv", "wide.xlsx"])
def test_wide_enrolment_reads_as_the_long_table(tmp_path: Path, name: str) -> None:
    """One row per county, a column per level (the layout the app shows), under a title and
    above a totals row: the same table as the long file; a blank level is no row."""
    rows: list[list[object]] = [
        ["2026年秋季学期各县在校生统计表"],
        ["区划代码", "区划名称", "小学", "初中", "高中"],
        ["339901", "东湖区", 19000, 8100, None],
        ["339902", "北塘县", 15000, None, 5000],
        ["合计", None, 34000, 8100, 5000],
    ]
    from_long, from_wide = long_and_wide(tmp_path, sheet(tmp_path / name, rows))
    assert list(from_wide.index) == [3, 3, 4, 4]  # the wide file's own rows
    pd.testing.assert_frame_equal(
        from_wide.reset_index(drop=True), from_long.reset_index(drop=True)
    )


def test_wide_enrolment_in_the_apps_english_layout(tmp_path: Path) -> None:
    wide = "county_id,primary,junior,senior\n339901,19000,8100,\n339902,15000,,5000\n"
    from_long, from_wide = long_and_wide(tmp_path, write(tmp_path, "wide.csv", wide))
    assert from_wide["level"].tolist() == from_long["level"].tolist()
    assert from_wide["students"].tolist() == from_long["students"].tolist()


def test_wide_enrolment_with_years_and_classes(tmp_path: Path) -> None:
    wide = (
        "区划代码,年度,小学,小学班级数,初中,初中班级数\n"
        "339901,2027,19000,400,8100,\n"
        "339901,2028,19500,410,8000,180\n"
    )
    _, enrolment = load(tmp_path, enrolment=wide)
    assert enrolment[["year", "level", "students"]].values.tolist() == [
        [2027, "primary", 19000],
        [2027, "junior", 8100],
        [2028, "primary", 19500],
        [2028, "junior", 8000],
    ]
    assert [None if pd.isna(c) else c for c in enrolment["classes"]] == [400, None, 410, 180]


def test_wide_enrolment_errors_name_the_cell_of_the_level(tmp_path: Path) -> None:
    wide = "区划代码,小学,初中,高中\n339901,19000,很多,\n339999,1,2,3\n339902,-5,,\n"
    errors = rejection(tmp_path, enrolment=wide)
    assert [(e.row, e.column) for e in errors] == [
        (2, "junior [初中]"),
        (4, "primary [小学]"),
        (3, "county_id [区划代码]"),  # once for the row, not once per level
    ]
    assert "'很多' is not a whole number" in errors[0].message


def test_a_file_with_neither_layout_names_both_ways(tmp_path: Path) -> None:
    error = only(rejection(tmp_path, enrolment="区划代码,在校生数\n339901,1\n"))
    assert (error.row, error.column) == (1, None)
    assert "missing column 'level'" in error.message


@pytest.mark.parametrize("name", ["enrolment.csv", "enrolment.xlsx"])
def test_messy_long_enrolment_is_read(tmp_path: Path, name: str) -> None:
    rows: list[list[object]] = [
        ["2026年秋季学期各县在校生统计表", None, None],
        ["单位：人", None, None],
        ["区划代码", "学段", "在校生数"],
        ["339901", "小学", 19000],
        ["339902", "中学", 15000],
        ["总计", None, 34000],
    ]
    counties = write(tmp_path, "counties.csv", COUNTIES_EN)
    with pytest.raises(InputErrors) as caught:
        load_teacher_inputs(counties, sheet(tmp_path / name, rows))
    error = only(caught.value.errors)  # the totals row is no county, the title no header
    assert (error.row, error.column) == (5, "level [学段]")
    assert "did you mean" in error.message and "'初中'" in error.message


def test_an_unknown_county_gets_the_closest_ids(tmp_path: Path) -> None:
    enrolment = ENROLMENT_EN + "339910,junior,10\n北塘,junior,10\nzzz,junior,1\n"
    errors = rejection(tmp_path, enrolment=enrolment)
    assert [e.row for e in errors] == [6, 7, 8]
    assert errors[0].message.startswith("county '339910' is not in counties.csv; did you mean ")
    assert "'339901' (East Lake)" in errors[0].message
    assert "'339902' (North Pond)" in errors[0].message
    assert errors[1].message == "county '北塘' is not in counties.csv"  # no name like it
    assert errors[2].message == "county 'zzz' is not in counties.csv"
    # A county's name typed in the id column: its id is suggested.
    chinese = rejection(tmp_path, COUNTIES_ZH, ENROLMENT_ZH + "北塘,初中,10\n")
    assert only(chinese).message == (
        "county '北塘' is not in counties.csv; did you mean '339902' (北塘县)?"
    )


def test_an_unknown_county_in_departures_gets_the_closest_ids(tmp_path: Path) -> None:
    counties, _ = load(tmp_path)
    path = write(tmp_path, "departures.csv", "区划代码,年度,预计减员\n339920,2027,3\n")
    error = only(read_departures(path, counties)[1])
    assert (error.row, error.column) == (2, "county_id [区划代码]")
    assert error.message.startswith("county '339920' is not in counties; did you mean '33990")


def test_did_you_mean_on_a_national_table_compares_ids_sharing_a_beginning() -> None:
    """Above 5,000 counties only ids (and names) sharing ever longer beginnings with the
    unknown one are compared, so that a wrong file's errors come quickly."""
    ids = [str(100000 + i) for i in range(20_000)]
    counties = pd.DataFrame({"county_id": ids, "name": [f"第{i}县" for i in range(20_000)]})
    hint = county_hints(counties)
    assert "'112345' (第12345县)" in hint("1123450")
    assert hint("第12345县城").startswith("; did you mean '112345' (第12345县)")  # the name first
    assert hint("999999") == ""  # no id begins with 9: nothing compared, nothing suggested
