"""plan.xlsx is a report a planner can print and take away (SPEC 3.7), on the bundled sample
city (data/scenarios/baseline.toml): title, unit and date, 序号, grouped headers, totals,
formats, print setup, the summary in words and the sheet 测算依据; and it prints on one
landscape page (LibreOffice)."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from optimizer import output
from optimizer.cli import scenario_info
from optimizer.plan import make_plan
from optimizer.scenario import load_plan_inputs, load_scenario

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "data" / "scenarios" / "baseline.toml"
THREE_YEARS = REPO / "data" / "scenarios" / "three_years.toml"
TODAY = datetime.date(2027, 3, 1)
EN = output.ENGLISH_ROW + 1
FIRST = output.FIRST_DATA_ROW


def write_sample(
    tmp_path: Path, scenario_file: Path = BASELINE, **summary_extra: Any
) -> tuple[Path, Any]:
    scenario = load_scenario(scenario_file)
    inputs = load_plan_inputs(scenario)
    result = make_plan(
        inputs.counties,
        inputs.enrolment,
        scenario.standards,
        scenario.policy,
        departures=inputs.departures,
    )
    path = tmp_path / "plan.xlsx"
    document = output.summary_document({**result.summary, **summary_extra}, scenario_info(scenario))
    plan = output.plan_table(result.table)
    output.write_xlsx(
        plan, document, path, counties=inputs.counties, enrolment=inputs.enrolment, today=TODAY
    )
    return path, (result, inputs, plan)


def columns(sheet: Any) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[EN]}


def test_the_plan_sheet_has_title_unit_date_row_numbers_and_grouped_headers(
    tmp_path: Path,
) -> None:
    path, (_, inputs, plan) = write_sample(tmp_path)
    sheet = openpyxl.load_workbook(path)["方案 Plan"]
    column = columns(sheet)
    last = openpyxl.utils.get_column_letter(sheet.max_column)
    merged = {str(cells) for cells in sheet.merged_cells.ranges}
    assert sheet["A1"].value == "baseline 教师编制调整方案 / Teacher quota plan"
    assert f"A1:{last}1" in merged
    assert sheet["A2"].value.startswith("单位：名")
    date_cell = next(c for c in sheet[2] if c.value and "制表日期" in str(c.value))
    assert "2027年3月1日" in date_cell.value and "2027-03-01" in date_cell.value
    assert sheet["A3"].value == "序号" and "A3:A4" in merged
    # Groups over their columns in row 3, each column's Chinese name in row 4.
    groups = {
        "在校生 Students": ("students_primary", "students_senior", ["小学", "初中", "高中"]),
        "教职工 Staff": ("occupied", "attrition", ["在编人数", "预计减员"]),
        "调整前 Before": ("current", "coverage_before", ["现有编制", "缺口", "保障率"]),
        "调整后 After": (
            "new",
            "relative_shortfall_after",
            ["调整后编制", "增减", "缺口", "保障率", "相对缺口"],
        ),
        "限额 Limits": ("lowest_allowed", "highest_allowed", ["最低可保留", "最多可达"]),
    }
    for text, (first, final, names) in groups.items():
        start, end = column[first], column[final]
        span = f"{sheet.cell(3, start).coordinate}:{sheet.cell(3, end).coordinate}"
        assert span in merged and sheet.cell(3, start).value == text
        assert [sheet.cell(4, c).value for c in range(start, end + 1)] == names
    # 序号 and the inputs' figures per county.
    rows = len(plan)
    assert [sheet.cell(r, 1).value for r in range(FIRST, FIRST + rows)] == list(range(1, rows + 1))
    first_county = plan["county_id"].iloc[0]
    students = inputs.enrolment[inputs.enrolment["county_id"] == first_county]
    primary = int(students.loc[students["level"] == "primary", "students"].sum())
    assert sheet.cell(FIRST, column["students_primary"]).value == primary
    staff = inputs.counties.set_index("county_id").loc[first_county]
    assert sheet.cell(FIRST, column["occupied"]).value == staff["occupied"]
    assert sheet.cell(FIRST, column["attrition"]).value == staff["attrition"]
    # Totals: merged over 序号 and the county, every count summed.
    total_row = FIRST + rows
    assert sheet.cell(total_row, 1).value == output.TOTAL_LABEL
    assert f"A{total_row}:C{total_row}" in merged
    assert sheet.cell(total_row, column["students_junior"]).value == int(
        inputs.enrolment.loc[inputs.enrolment["level"] == "junior", "students"].sum()
    )
    assert sheet.cell(total_row, column["occupied"]).value == inputs.counties["occupied"].sum()
    assert sheet.cell(total_row, column["current"]).value == 34_460
    assert sheet.cell(total_row, column["new"]).value == 34_460


def test_the_plan_sheet_formats_and_print_setup(tmp_path: Path) -> None:
    path, _ = write_sample(tmp_path)
    sheet = openpyxl.load_workbook(path)["方案 Plan"]
    column = columns(sheet)
    formats = {name: sheet.cell(FIRST, index).number_format for name, index in column.items()}
    assert formats["students_primary"] == formats["occupied"] == "#,##0"
    assert formats["current"] == formats["new"] == formats["lowest_allowed"] == "#,##0"
    assert formats["need"] == formats["shortfall_after"] == "#,##0.0"  # need: 1 decimal
    assert formats["coverage_before"] == formats["coverage_after"] == "0.0%"
    assert formats["change"] == "+#,##0;-#,##0;0"
    assert sheet.cell(FIRST, column["no"]).number_format == "General"
    assert sheet.freeze_panes == f"D{FIRST}"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1)  # 1 is the default, so may be left out
    assert sheet.page_setup.fitToHeight == 0  # as many pages long as it takes
    assert sheet.print_title_rows == "$3:$5"  # the header rows on every page
    assert "&P" in sheet.oddFooter.center.text


def label_rows(sheet: Any, first: int) -> dict[str, tuple[Any, ...]]:
    return {row[1].value: row for row in sheet.iter_rows(min_row=first)}


def test_the_summary_sheet_is_in_words_with_formatted_figures(tmp_path: Path) -> None:
    path, (result, _, plan) = write_sample(tmp_path)
    book = openpyxl.load_workbook(path)
    sheet = book["摘要 Summary"]
    rows = label_rows(sheet, 4)
    assert rows["Scenario"][2].value == "baseline"
    assert rows["Status"][2].value == "已求得最优方案 optimal"
    assert rows["Total quota before"][2].value == 34_460
    assert rows["Total quota before"][2].number_format == "#,##0"
    assert rows["Total shortfall"][2].number_format == "#,##0.0"
    assert rows["Total shortfall"][2].value == pytest.approx(result.summary["total_shortfall"])
    assert rows["Largest relative shortfall"][2].number_format == "0.00%"
    # Each quota moved counted once: the increases (1,210), not the 2,420 of Σ|change|.
    increases = int(plan["change"].clip(lower=0).sum())
    assert increases == 1_210 and int(plan["change"].abs().sum()) == 2_420
    assert rows["Quotas moved (each counted once)"][0].value == "调整编制数"
    assert rows["Quotas moved (each counted once)"][2].value == 1_210
    assert rows["Movement (sum of |change|)"][2].value == 2_420
    assert rows["Movement (sum of |change|)"][0].value == "调整幅度（增减绝对值合计）"
    for sheet in (book["摘要 Summary"], book["测算依据 Basis"]):
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                text = str(value)
                assert not re.fullmatch(r"[a-z]+(_[a-z]+)+", text), text  # no raw keys
                assert "{" not in text and "exact" not in text, text  # no JSON, no dict repr
                assert not re.search(r"\d+/\d+", text), text  # no exact fractions


def test_the_summary_takes_moved_and_movement_from_the_summary_when_it_has_both(
    tmp_path: Path,
) -> None:
    path, _ = write_sample(tmp_path, moved=1_210, movement=2_420)
    rows = label_rows(openpyxl.load_workbook(path)["摘要 Summary"], 4)
    assert rows["Quotas moved (each counted once)"][2].value == 1_210
    assert rows["Movement (sum of |change|)"][2].value == 2_420
    path, _ = write_sample(tmp_path, moved=7, movement=9)  # the summary's word, not the table's
    rows = label_rows(openpyxl.load_workbook(path)["摘要 Summary"], 4)
    assert rows["Quotas moved (each counted once)"][2].value == 7
    assert rows["Movement (sum of |change|)"][2].value == 9


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_basis_sheet_states_inputs_with_hashes_standards_policy_and_edits(
    tmp_path: Path,
) -> None:
    path, _ = write_sample(tmp_path)
    sheet = openpyxl.load_workbook(path)["测算依据 Basis"]
    assert sheet["A1"].value.startswith("测算依据")
    assert [c.value for c in sheet[3]] == ["类别 Section", "项目 Item", "内容 Content", "SHA-256"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    files = {row[1]: (row[2], row[3]) for row in rows if row[0] == "输入文件 Inputs"}
    teachers = REPO / "data" / "teachers"
    assert files["区划编制表 Counties"] == (
        "../teachers/counties.csv",
        sha256(teachers / "counties.csv"),
    )
    assert files["在校生表 Enrolment"] == (
        "../teachers/enrolment.csv",
        sha256(teachers / "enrolment.csv"),
    )
    assert files["方案文件 Scenario file"][1] == sha256(BASELINE)
    standards = {row[1]: row[2] for row in rows if row[0] == "编制标准 Standards"}
    assert standards["小学 Primary 生师比 students per staff"].startswith("生师比 19:1")
    assert standards["初中 Junior 生师比 students per staff"].startswith("生师比 13.5:1")
    policy = {row[1]: row[2] for row in rows if row[0] == "政策 Policy"}
    assert policy["市级统筹增编 Extra quota from the city pool"] == 0
    assert policy["优化目标 Objective"].startswith("公平优先")
    edits = [row[2] for row in rows if row[0] == "在应用中的修改 Edits in the app"]
    assert edits == ["无修改 no edits"]


def test_edits_made_in_the_app_are_listed_one_per_row_in_words(tmp_path: Path) -> None:
    edits = [
        {"table": "counties", "county_id": "B", "field": "quota", "old": 70, "new": 75},
        {"table": "policy", "field": "extra_quota", "old": 0, "new": 10},
    ]
    info = {"name": "测试城市 (edited)", "source": "测试城市", "edited": True, "edits": edits}
    document = output.summary_document({"status": "optimal", "moved": 5}, info)
    lines = output.basis_lines(document, TODAY)
    rows = [line[2] for line in lines if line[0] == "在应用中的修改 Edits in the app"]
    assert rows == [
        "区划编制表 counties B：教职工编制 quota 70 → 75",
        "政策 policy：市级统筹增编 extra_quota 0 → 10",
    ]
    assert ("方案 Scenario", "原方案 Based on", "测试城市", None) in lines
    assert ("方案 Scenario", "在应用中修改过 Edited in the app", "是 yes", None) in lines


def test_a_multi_year_plan_has_students_of_each_year_and_a_totals_row_per_year(
    tmp_path: Path,
) -> None:
    path, (_, inputs, plan) = write_sample(tmp_path, THREE_YEARS)
    sheet = openpyxl.load_workbook(path)["方案 Plan"]
    column = columns(sheet)
    years = sorted(plan["year"].unique())
    assert len(years) == 3 and "（2027–2029年）" in sheet["A1"].value
    totals = list(sheet.iter_rows(min_row=FIRST + len(plan), values_only=True))
    assert [row[0] for row in totals] == [f"{output.TOTAL_LABEL} {year}" for year in years]
    enrolment = inputs.enrolment
    for year, row in zip(years, totals, strict=True):
        expected = enrolment.loc[
            (enrolment["year"] == year) & (enrolment["level"] == "primary"), "students"
        ].sum()
        assert row[column["students_primary"] - 1] == expected
        assert row[column["new"] - 1] == plan.loc[plan["year"] == year, "new"].sum()


# --- printing --------------------------------------------------------------------------------


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """(width, height) of each page of a PDF: its /Type /Page objects and their MediaBox."""
    sizes = []
    for match in re.finditer(rb"/Type\s*/Page(?![a-zA-Z])", pdf):
        window = pdf[max(0, match.start() - 600) : match.end() + 600]
        box = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", window)
        width, height = (float(box[3]), float(box[4])) if box else (0.0, 0.0)
        sizes.append((width, height))
    return sizes


@pytest.mark.timeout(300)
def test_the_sample_plan_prints_on_one_landscape_page(tmp_path: Path) -> None:
    """LibreOffice prints the workbook: one page per sheet, so the 10-county plan takes one
    landscape A4 page (a sheet takes at least one)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: `make report-deps` installs it")
    path, _ = write_sample(tmp_path)
    profile = tmp_path / "lo-profile"  # a profile of its own: runs never share a lock
    env = {**os.environ, "HOME": str(tmp_path)}
    command = [
        soffice,
        f"-env:UserInstallation=file://{profile}",
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(tmp_path / "pdf"),
        str(path),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=240, env=env)
    pages = pdf_pages((tmp_path / "pdf" / "plan.pdf").read_bytes())
    assert len(openpyxl.load_workbook(path).sheetnames) == 3
    assert len(pages) == 3  # plan, summary, basis: one page each
    for width, height in pages:
        assert width > height  # landscape
        assert (round(width), round(height)) == (842, 595)  # A4
