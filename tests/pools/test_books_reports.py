"""Quota-use plans and the 季通报 as report workbooks (SPEC 3.7), from the command line and
the same functions the app calls; the 季通报 CSV neutralises formula-looking cells."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pools.books_reports import problem_report_book, useplans_book
from pools.ledger import Ledger
from pools.report_book import FIRST_DATA_ROW, TOTAL_LABEL

from .conftest import changed, city
from .test_books import DOC, Make, approve, open_manual
from .test_units_and_cli import run_json


def rows(sheet: Any) -> list[tuple[Any, ...]]:
    return list(sheet.iter_rows(min_row=FIRST_DATA_ROW, values_only=True))


def notes(book: Any) -> dict[Any, Any]:
    return {row[1]: row[2] for row in book["说明 Notes"].iter_rows(min_row=4, values_only=True)}


@pytest.fixture
def ledger(make_ledger: Make) -> Ledger:
    """A3 (10 vacancies): two plans, one half used by a hire; A4: a plan withdrawn; a manual
    problem on A1 and on A4."""
    made = make_ledger()
    first = approve(made, "A3", 4, effective=date(2026, 1, 5))["plan"]["plan_id"]
    approve(made, "A3", 2, channel="选调", effective=date(2026, 1, 6))
    gone = approve(made, "A4", 3, effective=date(2026, 1, 6))["plan"]["plan_id"]
    made.withdraw_plan(gone, actor="王芳", reason="岗位取消", effective=date(2026, 1, 7))
    open_manual(made, "A1", effective=date(2026, 1, 8), deadline=date(2026, 3, 31))
    open_manual(made, "A4", kind="其他", effective=date(2026, 1, 8), deadline=date(2026, 1, 20))
    assert first
    return made


def test_useplans_workbook_lists_every_plan_with_totals_and_channels(ledger: Ledger) -> None:
    book = openpyxl.load_workbook(
        io.BytesIO(useplans_book(ledger, source="test", today=date(2026, 1, 9)))
    )
    plans = book["用编计划 Plans"]
    assert plans["A1"].value.startswith("用编计划执行情况")
    body = rows(plans)
    assert [r[0] for r in body] == [1, 2, 3, TOTAL_LABEL]
    header = [c.value for c in plans[FIRST_DATA_ROW - 1]]
    approved, withdrawn = header.index("Approved"), header.index("Withdrawn")
    reserved = header.index("Still reserved")
    assert body[-1][approved] == 9 and body[-1][withdrawn] == 3 and body[-1][reserved] == 6
    assert "A3" in body[0][header.index("Unit")] and body[2][header.index("Status")] == "已撤销"
    assert plans.cell(FIRST_DATA_ROW, approved + 1).number_format == "#,##0"
    assert plans.page_setup.orientation == "landscape" and plans.print_title_rows
    by_channel = rows(book["按用编形式 Channels"])
    assert {r[1]: r[2] for r in by_channel[:-1]} == {"公开招聘": 7, "选调": 2}
    assert by_channel[-1][0] == TOTAL_LABEL and by_channel[-1][2] == 9
    said = notes(book)
    assert said["生成方式 Produced by"] == "test" and said["行数 Rows"] == 3


def test_quarterly_report_workbook_counts_open_problems_by_unit_and_kind(ledger: Ledger) -> None:
    # a departure from I1 on 1 February: the ledger's day passes A4's deadline
    ledger.sync(changed(city(), I1=49), actor="王芳", effective=date(2026, 2, 1))
    book = openpyxl.load_workbook(
        io.BytesIO(problem_report_book(ledger, "2026Q1", source="test", lang="en"))
    )
    report = book["季通报 Report"]
    assert "2026Q1" in report["A1"].value
    body = rows(report)
    header = [c.value for c in report[FIRST_DATA_ROW - 1]]
    assert [r[header.index("Kind")] for r in body] == ["混编混岗", "其他"]
    late = header.index("Past deadline")
    assert [r[late] for r in body] == ["no", "yes"]  # A4's deadline 2026-01-20 has passed
    counts = rows(book["按单位和类型 Counts"])
    assert counts[-1][0] == TOTAL_LABEL and counts[-1][3:] == (2, 1)
    assert notes(book)["季度 Quarter"].startswith("2026Q1 (2026-01-01")


def test_useplan_status_and_problem_report_write_workbooks_from_the_cli(
    ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", ledger.url]
    plans, report = tmp_path / "plans.xlsx", tmp_path / "q1.xlsx"
    status, found = run_json(capsys, "useplan", "status", *db, "--xlsx", str(plans))
    assert status == 0 and found["xlsx"] == str(plans)
    assert openpyxl.load_workbook(plans)["用编计划 Plans"]["A1"].value.startswith("用编计划")
    status, found = run_json(
        capsys, "problem", "report", *db, "--quarter", "2026Q1", "--xlsx", str(report)
    )
    assert status == 0 and len(found["problems"]) == 2 and report.exists()
    status, failed = run_json(
        capsys, "useplan", "status", *db, "--xlsx", str(tmp_path / "no" / "such" / "x.xlsx")
    )
    assert status == 2 and "cannot write the workbook" in str(failed)


def test_the_quarterly_csv_neutralises_formula_looking_text(
    make_ledger: Make, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = make_ledger()
    made.open_problem(
        unit_id="A1", kind="其他", deadline=date(2026, 3, 31), actor="王芳",
        document="=HYPERLINK(\"http://example.invalid\")", effective=date(2026, 1, 8),
    )  # fmt: skip
    out = tmp_path / "q1.csv"
    status, _ = run_json(
        capsys, "problem", "report", "--db", made.url, "--quarter", "2026Q1", "--out", str(out)
    )
    assert status == 0
    assert "'=HYPERLINK" in out.read_text(encoding="utf-8-sig")
    assert DOC  # the module's 文号 stays usable for the other tests
