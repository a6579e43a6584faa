"""plan.xlsx with its data rows spliced in (optimizer.xlsx_body) is the workbook XlsxWriter
writes cell by cell: same values, formats and layout, read back with openpyxl (issue 15)."""

from __future__ import annotations

import datetime
import math
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from bench.gen_national import generate
from optimizer import output
from optimizer.io import load_teacher_inputs
from optimizer.plan import make_plan
from pools.csv_safe import neutralised_frame

DATA = Path(__file__).resolve().parents[2] / "data" / "teachers"
TODAY = datetime.date(2027, 3, 1)
SUMMARY = {"status": "optimal", "objective": "fair", "max_relative_shortfall": 0.0125, "moved": 3}


def reference_xlsx(
    plan: pd.DataFrame,
    summary: dict[str, Any],
    path: Path,
    counties: pd.DataFrame | None = None,
    enrolment: pd.DataFrame | None = None,
) -> None:
    """The oracle: the same layout with XlsxWriter writing every data cell itself (the
    writer before issue 15, which took 48 s for 200,000 rows)."""
    options = {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True}
    with xlsxwriter.Workbook(str(path), options) as book:
        report = output.report_table(plan, counties, enrolment)
        body, styles = output.lay_out(book, report, summary, TODAY)
        sheet = book.worksheets()[0]
        for index, column in enumerate(body):
            number_format = output.column_number_format(str(report.columns[index]))
            values = output._column_values(column.values)
            row = output.FIRST_DATA_ROW - 1
            sheet.write_column(row, index, values, styles.data(number_format))


def read_back(path: Path) -> list[tuple[Any, ...]]:
    """Everything a reader sees: sheets, panes, filter, widths, conditional fills, cells."""
    book = openpyxl.load_workbook(path)
    seen: list[tuple[Any, ...]] = []
    for sheet in book.worksheets:
        seen.append((sheet.title, sheet.dimensions, sheet.freeze_panes, sheet.auto_filter.ref))
        seen.append(tuple(sorted(str(cells) for cells in sheet.merged_cells.ranges)))
        seen.append((sheet.print_title_rows, sheet.page_setup.orientation))
        seen.append(tuple(sorted((k, d.width) for k, d in sheet.column_dimensions.items())))
        for block in sheet.conditional_formatting:
            rules = [(r.type, r.operator, r.formula, r.dxf.fill.bgColor.rgb) for r in block.rules]
            seen.append((str(block.sqref), rules))
        for row in sheet.iter_rows():
            for cell in row:
                font, fill, align = cell.font, cell.fill, cell.alignment
                seen.append(
                    (
                        *(cell.coordinate, cell.value, cell.data_type, cell.number_format),
                        *(font.b, fill.fill_type, fill.fgColor.rgb),
                        *(align.horizontal, align.vertical, align.wrap_text),
                    )
                )
    return seen


def same(fast: Any, reference: Any) -> bool:
    # XlsxWriter writes 16 significant digits; the spliced body the float's shortest exact
    # text, which reads back as the plan's very value.
    if isinstance(fast, float) and isinstance(reference, float):
        return math.isclose(fast, reference, rel_tol=1e-15)
    if isinstance(fast, str) and fast != reference:
        # Control characters (and a literal _xHHHH_) are escaped as _xHHHH_ in both files;
        # Excel decodes the escape in inline strings as in shared ones, openpyxl only in
        # shared strings.
        return re.sub("_x([0-9A-F]{4})_", lambda m: chr(int(m[1], 16)), fast) == reference
    return bool(fast == reference)


def assert_same_workbook(
    plan: pd.DataFrame,
    tmp_path: Path,
    counties: pd.DataFrame | None = None,
    enrolment: pd.DataFrame | None = None,
) -> None:
    fast, reference = tmp_path / "fast.xlsx", tmp_path / "reference.xlsx"
    inputs = {"counties": counties, "enrolment": enrolment}
    output.write_xlsx(plan, SUMMARY, fast, today=TODAY, **inputs)
    reference_xlsx(plan, SUMMARY, reference, **inputs)
    with zipfile.ZipFile(fast) as a, zipfile.ZipFile(reference) as b:
        assert a.namelist() == b.namelist()
        assert a.read("xl/styles.xml") == b.read("xl/styles.xml")
    got, want = read_back(fast), read_back(reference)
    assert len(got) == len(want)
    for mine, theirs in zip(got, want, strict=True):
        if mine != theirs:
            assert len(mine) == len(theirs), (mine, theirs)
            assert all(same(a, b) for a, b in zip(mine, theirs, strict=True)), (mine, theirs)


def test_sample_city_workbook_is_the_cell_by_cell_one(tmp_path: Path) -> None:
    counties, enrolment = load_teacher_inputs(DATA / "counties.csv", DATA / "enrolment.csv")
    plan = output.plan_table(make_plan(counties, enrolment).table)
    assert_same_workbook(plan, tmp_path)
    assert_same_workbook(plan, tmp_path, counties, enrolment)  # students and staff added


def test_multi_year_sample_workbook_is_the_cell_by_cell_one(tmp_path: Path) -> None:
    counties, enrolment = load_teacher_inputs(
        DATA / "counties.csv", DATA / "enrolment_2027_2029.csv"
    )
    plan = output.plan_table(make_plan(counties, enrolment).table)
    assert plan["year"].nunique() == 3
    assert_same_workbook(plan, tmp_path, counties, enrolment)


def test_ten_thousand_unit_workbook_is_the_cell_by_cell_one(tmp_path: Path) -> None:
    counties, enrolment = generate(10_000)
    for column in ("min_quota", "max_gain"):
        counties[column] = counties[column].astype("Int64")
    plan = output.plan_table(make_plan(counties, enrolment).table)
    assert len(plan) == 10_000
    assert_same_workbook(plan, tmp_path, counties, enrolment)


def awkward_plan() -> pd.DataFrame:
    """Every kind of cell: texts to escape, control characters, spaces at the ends, empty
    texts, NaN, ±inf, −0, floats needing 17 digits, nullable ints, booleans, mixed objects."""
    rows = 6
    return pd.DataFrame(
        {
            "county_id": pd.array(["1", " 2", "3 ", "4\u3000", "", None], dtype="str"),
            "name": pd.array(
                ["a&b<c>", "tab\there", "ctl\x01x", "_x0041_", "=SUM(A1)", "第六县"], dtype="str"
            ),
            "need": [0.1 + 0.2, float("nan"), float("inf"), -float("inf"), -0.0, 1e17],
            "current": np.arange(rows, dtype=np.int64) * 1000,
            "new": np.arange(rows, dtype=np.int64) - 3,
            "change": np.array([1, -1, 0, 5, -5, 0], dtype=np.int64),
            "shortfall_before": [0.0, 1.5, 2.25, 0.0, 3.0, 0.0],
            "shortfall_after": [0.0, 0.5, 0.0, 0.0, 2.0, 1 / 3],
            "coverage_after": [0.95, 1.0, float("nan"), 0.5, 0.25, 2 / 3],
            "highest_allowed": pd.array([1, None, 3, None, 5, 6], dtype="Int64"),
            "flag": [True, False, True, True, False, False],
            "mixed": [1, "two", None, 2.5, True, float("nan")],
            "limited_by": ["cap", "floor", "covered", "cap", "floor", "covered"],
        }
    )


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the totals of ±inf
def test_every_kind_of_cell_reads_back_as_xlsxwriter_writes_it(tmp_path: Path) -> None:
    assert_same_workbook(awkward_plan(), tmp_path)


def test_an_empty_plan_has_headers_and_totals_only(tmp_path: Path) -> None:
    assert_same_workbook(awkward_plan().iloc[:0], tmp_path)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_a_plan_larger_than_one_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from optimizer import xlsx_body

    monkeypatch.setattr(xlsx_body, "CHUNK_ROWS", 4)
    assert_same_workbook(pd.concat([awkward_plan()] * 3, ignore_index=True), tmp_path)


@pytest.mark.parametrize("column", list(awkward_plan().columns))
def test_widths_measured_column_wise_are_those_of_every_cell(column: str) -> None:
    values = awkward_plan()[column]
    cells = output._column_values(values)
    assert output._widest(output._widest_candidates(values)) == output._widest(cells)


# --- plan.csv --------------------------------------------------------------------------------


def assert_same_csv(plan: pd.DataFrame, tmp_path: Path) -> None:
    """What pandas writes once formula-looking text is neutralised (pools.csv_safe); for a
    plan with no such text, what pandas writes of the plan itself."""
    fast = tmp_path / "fast.csv"
    output.write_csv(plan, fast)
    reference = tmp_path / "reference.csv"
    neutralised_frame(plan).to_csv(
        reference, index=False, encoding="utf-8-sig", float_format="%.10g"
    )
    assert fast.read_bytes() == reference.read_bytes()
    plain = plan.drop(columns=["name"], errors="ignore")  # the one formula-looking text
    output.write_csv(plain, fast)
    plain.to_csv(reference, index=False, encoding="utf-8-sig", float_format="%.10g")
    assert fast.read_bytes() == reference.read_bytes()


def test_csv_is_byte_for_byte_what_pandas_writes(tmp_path: Path) -> None:
    frame = awkward_plan()
    frame["quoted"] = pd.array(["a,b", 'say "hi"', "two\nlines", "cr\rhere", "", None], dtype="str")
    frame["ratio"] = pd.array([0.5, None, 1.25, 3.0, None, 2.0], dtype="Float64")
    frame["big"] = [123456789012.5, 1e-7, 1e20, 2.0**53, -1.5, 0.0]
    assert_same_csv(frame, tmp_path)
    assert_same_csv(frame.iloc[:0], tmp_path)
    assert_same_csv(frame[["quoted"]], tmp_path)  # one column: a lone empty field is quoted


def test_csv_of_the_sample_and_ten_thousand_units_is_pandas_own(tmp_path: Path) -> None:
    counties, enrolment = load_teacher_inputs(
        DATA / "counties.csv", DATA / "enrolment_2027_2029.csv"
    )
    assert_same_csv(output.plan_table(make_plan(counties, enrolment).table), tmp_path)
    counties, enrolment = generate(10_000)
    for column in ("min_quota", "max_gain"):
        counties[column] = counties[column].astype("Int64")
    assert_same_csv(output.plan_table(make_plan(counties, enrolment).table), tmp_path)


def test_widths_of_nullable_figures_and_an_empty_column() -> None:
    for values in (
        pd.Series(pd.array([None, -12345, 7], dtype="Int64")),
        pd.Series(pd.array([0.25, None, -1234.5], dtype="Float64")),
        pd.Series(pd.array([None, None], dtype="Int64")),
        pd.Series(pd.array([None, None], dtype="str")),
        pd.Series([float("nan"), float("nan")]),
    ):
        cells = output._column_values(values)
        assert output._widest(output._widest_candidates(values)) == output._widest(cells)
