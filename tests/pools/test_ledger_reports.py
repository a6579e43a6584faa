"""借用台账 and the audit trail as report workbooks (SPEC 3.7), from the CLI
(`quotapool loan list --xlsx`, `quotapool audit log --xlsx`) and the same functions the app
calls: loans and events in words, totals, 说明 with the ledger (password hidden), as-of date,
filters, event count and head hash; and the register prints one landscape page wide."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pools.ledger import Ledger
from pools.ledger_reports import (
    audit_filters,
    audit_trail_book,
    ledger_notes,
    loans_register_book,
    term_text,
)
from pools.report_book import FIRST_DATA_ROW, TOTAL_LABEL, WHOLE_FORMAT

from .conftest import DAY0, changed, city, unit
from .test_units_and_cli import run, run_json

TODAY = dt.date(2026, 3, 1)


@pytest.fixture
def lent(make_ledger: Callable[..., Ledger]) -> Ledger:
    """The small city with three loans: 2 admin quotas to A1 (文号 编办〔2026〕3号), 3 of I2's
    quotas to I1, then one of the admin ones returned by hand, and A1's headcount 10 → 9."""
    ledger = make_ledger()
    ledger.open_loan(
        pool="admin", unit_id="A1", count=2, purpose="引进生", actor="王",
        effective=DAY0, document="编办〔2026〕3号", reason="急需",
    )  # fmt: skip
    ledger.open_loan(pool="unit:I2", unit_id="I1", count=3, purpose="项目", actor="李")
    loan = ledger.loans()[0]["loan_id"]
    ledger.return_loan(loan_id=loan, count=1, actor="王", effective=dt.date(2026, 2, 1))
    ledger.sync(changed(city(), A2=19), actor="王", effective=dt.date(2026, 2, 2))
    return ledger


def cells(sheet: Any) -> list[list[Any]]:
    return [[c.value for c in row] for row in sheet.iter_rows()]


def notes(workbook: Any) -> dict[str, list[Any]]:
    sheet = workbook["说明 Notes"]
    return {str(row[1]): row[2:] for row in cells(sheet)[3:]}


def test_the_loans_register_lists_each_loan_in_words_with_totals(lent: Ledger) -> None:
    content = loans_register_book(lent, source="test", today=TODAY)
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["借用台账 Loans", "说明 Notes"]
    sheet = workbook["借用台账 Loans"]
    assert sheet["A1"].value == "编制周转池借用台账 / Register of quota loans"
    assert sheet["A2"].value.startswith("单位：名")
    english = [c.value for c in sheet[5]]
    assert english[:4] == ["No.", "Loan", "Source", "Lender"]
    column = {name: index for index, name in enumerate(english)}
    grouped = {str(r) for r in sheet.merged_cells.ranges}
    first = sheet.cell(3, column["Lent"] + 1).coordinate
    last = sheet.cell(3, column["Outstanding"] + 1).coordinate
    assert f"{first}:{last}" in grouped and sheet[first].value == "编制数 Quotas"
    rows = cells(sheet)[FIRST_DATA_ROW - 1 :]
    admin, unit, totals = rows
    assert admin[0] == 1 and unit[0] == 2
    assert admin[column["Source"]] == "行政编制周转池"
    assert admin[column["Borrower"]] == "A1 unit A1"
    assert admin[column["Lender"]] is None
    assert unit[column["Lender"]] == "I2 unit I2" and unit[column["Source"]] == "单位 I2"
    assert [admin[column[k]] for k in ("Lent", "Returned", "Outstanding")] == [2, 1, 1]
    assert admin[column["Document"]] == "编办〔2026〕3号"
    assert admin[column["Status"]] == "使用中" and admin[column["Purpose"]] == "引进生"
    assert admin[column["Opened"]] == DAY0.isoformat()
    assert admin[column["Years"]] == "空一还一"  # an administrative loan has no term
    assert unit[column["Years"]] == "5 年" and unit[column["Ends"]] is not None
    assert totals[0] == TOTAL_LABEL
    assert [totals[column[k]] for k in ("Lent", "Returned", "Outstanding")] == [5, 1, 4]
    assert sheet.cell(FIRST_DATA_ROW, column["Lent"] + 1).number_format == WHOLE_FORMAT
    assert sheet.print_title_rows == "$3:$5"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth in (None, 1)  # 1 is the default: may be left out
    assert sheet.page_setup.fitToHeight == 0


def test_the_register_in_english_and_open_loans_only(lent: Ledger) -> None:
    content = loans_register_book(lent, open_only=True, unit="I1", lang="en", source="t")
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    rows = cells(workbook["借用台账 Loans"])[FIRST_DATA_ROW - 1 :]
    assert len(rows) == 2  # the one loan of I1, and the totals
    assert "in use" in rows[0] and "unit I2" in rows[0] and "5 years" in rows[0]
    said = notes(workbook)
    assert said["单位 Unit"] == ["I1", None]
    assert said["仅未结清 Open loans only"] == ["是 yes", None]


def test_a_term_in_words() -> None:
    assert term_text("2026-01-05", "2029-01-04") == "3 年"
    assert term_text("2026-01-05", "2026-07-05", "en") == "6 months"
    assert term_text("2026-01-05", None, "en") == "until vacated"


def test_the_audit_trail_reads_in_words_and_beijing_time(lent: Ledger) -> None:
    events = lent.events()
    filters = audit_filters(None, None, None, None, None)
    content = audit_trail_book(lent, events, filters, source="test", today=TODAY)
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook["审计记录 Audit"]
    assert sheet["A1"].value.startswith("编制周转池审计记录")
    headers = {c.value: c.column - 1 for c in sheet[5]}
    assert sheet.cell(3, headers["Recorded (Beijing time)"] + 1).value == "时间 Time"
    assert sheet.cell(4, headers["Recorded (Beijing time)"] + 1).value == "记录时间（北京时间）"
    rows = cells(sheet)[FIRST_DATA_ROW - 1 :]
    assert len(rows) == len(events)  # nothing adds up in the trail: no totals row
    assert [row[0] for row in rows] == list(range(1, len(events) + 1))
    opened = next(row for row in rows if row[headers["Event"]] == "开立借用")
    # 09:00 UTC is 17:00 in Beijing; no microseconds, no "T"
    assert opened[headers["Recorded (Beijing time)"]] == "2026-01-05 17:00:00"
    assert opened[headers["Document"]] == "编办〔2026〕3号"
    assert opened[headers["Unit"]] == "A1 unit A1" and opened[headers["Reason"]] == "急需"
    assert "行政编制周转池 → A1 2 名" in opened[headers["Details"]]
    returned = next(row for row in rows if row[headers["Event"]] == "归还借用")
    assert returned[headers["Unit"]] == "A1 unit A1"  # the loan's borrower
    assert returned[headers["Effective"]] == "2026-02-01"
    updated = {row[headers["Details"]] for row in rows if row[headers["Event"]] == "更新单位"}
    assert "A2：在编 20 → 19" in updated
    assert not any("kind_" in str(value) or "{" in str(value) for row in rows for value in row)
    said = notes(workbook)
    assert said["事件数 Events in the ledger"][0] == len(events)
    assert said["链头哈希 Hash of the last event"] == [f"#{len(events)}", events[-1]["hash"]]
    assert said["记录时间的时区 Time zone of recorded times"][0] == "Asia/Shanghai"
    assert said["生效日期起 Effective from"][0] == "全部 all"


def test_the_ledger_url_is_shown_without_its_password(lent: Ledger) -> None:
    lent.url = "postgresql+psycopg://planner:secret@db.example/ledger"
    lines = ledger_notes(lent, lent.status(), [], 0, "t", TODAY)
    database = next(line for line in lines if line[1] == "数据库 Database")
    assert "secret" not in database[2] and "planner:***@db.example" in database[2]


def test_loan_list_and_audit_log_write_the_workbooks_from_the_cli(
    lent: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register, trail = tmp_path / "register.xlsx", tmp_path / "audit.xlsx"
    status, listed = run_json(capsys, "loan", "list", "--db", lent.url, "--xlsx", str(register))
    assert status == 0 and listed["xlsx"] == str(register) and len(listed["loans"]) == 2
    rows = cells(openpyxl.load_workbook(register)["借用台账 Loans"])
    assert rows[FIRST_DATA_ROW + 1][0] == TOTAL_LABEL
    argv = ["audit", "log", "--db", lent.url, "--since", "2026-02-01", "--xlsx", str(trail)]
    status, logged = run_json(capsys, *argv)
    assert status == 0 and logged["xlsx"] == str(trail)
    workbook = openpyxl.load_workbook(trail)
    rows = cells(workbook["审计记录 Audit"])[FIRST_DATA_ROW - 1 :]
    assert len(rows) == len(logged["events"]) == 3  # effective in February: the return, A1 and A2
    said = notes(workbook)
    assert said["生效日期起 Effective from"][0] == "2026-02-01"
    assert said["生成方式 Produced by"][0] == "quotapool audit log --xlsx"
    assert said["行数 Rows"][0] == 3
    # Without --json: the lines, then where the workbook went; English with --lang en.
    status, out, _ = run(capsys, "audit", "log", "--db", lent.url, "--lang", "en",
                         "--xlsx", str(trail))  # fmt: skip
    assert status == 0 and out.rstrip().endswith(f"workbook written: {trail}")
    rows = cells(openpyxl.load_workbook(trail)["审计记录 Audit"])[FIRST_DATA_ROW - 1 :]
    assert "loan opened" in {row[4] for row in rows}


def test_a_workbook_that_cannot_be_written_is_bad_input(
    lent: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-dir" / "r.xlsx"
    status, _out, err = run(capsys, "loan", "list", "--db", lent.url, "--xlsx", str(target))
    assert status == 2 and "cannot write the workbook" in err and not target.exists()


@pytest.mark.timeout(300)
def test_the_loans_register_prints_on_landscape_pages_one_page_wide(
    make_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    """LibreOffice prints a register of 15 loans with long purposes and 文号 on one landscape
    A4 page: never a second page across (were the columns not fitted to the page width, the
    register would take six pages)."""
    from tests.optimizer.test_output_report import pdf_pages

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: `make report-deps` installs it")
    units = [*city(), unit("L1", 100, 40, kind="institutional")]
    units += [unit(f"S{n:02d}", 10, 10, kind="institutional") for n in range(15)]
    ledger = make_ledger(units)
    for n in range(15):
        ledger.open_loan(
            pool="unit:L1", unit_id=f"S{n:02d}", count=1,
            purpose="引进急需紧缺高层次人才（博士研究生）", actor="王",
            document=f"某市委编办〔2026〕{n + 1}号", reason="学科建设急需",
        )  # fmt: skip
    path = tmp_path / "register.xlsx"
    path.write_bytes(loans_register_book(ledger, source="test", today=TODAY))
    profile = tmp_path / "lo-profile"
    env = {**os.environ, "HOME": str(tmp_path)}
    command = [
        soffice, f"-env:UserInstallation=file://{profile}", "--headless",
        "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=240, env=env)
    pages = pdf_pages((tmp_path / "pdf" / "register.pdf").read_bytes())
    assert len(pages) == 2  # the register on one page, 说明 on another
    for width, height in pages:
        assert (round(width), round(height)) == (842, 595)  # A4 landscape
