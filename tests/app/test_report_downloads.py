# ruff: noqa: F811  (the tests take the fixtures `offered` and `environment` imported below)
"""SPEC 3.7 in the app: the loans register, the audit trail and the scenario comparison each
download as a report workbook next to their CSV — the same workbook the CLI writes for the
ledger's tables (`pools.ledger_reports`), with 说明 / 测算依据 saying what produced it.

Same small city and ledger as test_app_pages.py (see its docstring for the figures).
"""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest

from pools.report_book import FIRST_DATA_ROW, TOTAL_LABEL
from tests.app.test_app_pages import (  # noqa: F401  (environment: the autouse fixture)
    button,
    environment,
    open_loan,
    rerun,
    start,
)
from tests.app.test_planner_grade import downloads, offered  # noqa: F401 (the fixture)


def rows(sheet: Any) -> list[tuple[Any, ...]]:
    return list(sheet.iter_rows(min_row=FIRST_DATA_ROW, values_only=True))


def notes(workbook: Any, name: str = "说明 Notes") -> dict[Any, Any]:
    return {row[1]: row[2] for row in workbook[name].iter_rows(min_row=4, values_only=True)}


def test_the_loans_register_downloads_as_a_report_next_to_its_csv(
    offered: dict[str, tuple[str, Any]],
) -> None:
    at = open_loan(start("loans"), "M01")
    rerun(at)
    files = downloads(offered)
    assert files["导出 CSV"][0] == "loans-register.csv"
    assert "借用编号 loan_id" in files["导出 CSV"][1].decode("utf-8-sig")
    name, content = files["导出 Excel"]
    assert name == "loans-register.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook["借用台账 Loans"]
    assert sheet["A1"].value.startswith("编制周转池借用台账")
    (loan, totals) = rows(sheet)
    assert loan[0] == 1 and "M01" in loan[4] and loan[2] == "行政编制周转池"
    assert totals[0] == TOTAL_LABEL
    said = notes(workbook)
    assert said["生成方式 Produced by"] == "应用：借用台账 the app's loans table"
    assert said["演示台账 Demo ledger"] == "是 yes"
    assert said["事件数 Events in the ledger"] >= 2


def test_the_audit_trail_downloads_as_a_report_with_its_filters(
    offered: dict[str, tuple[str, Any]],
) -> None:
    open_loan(start("loans"), "M01")
    at = start("audit")
    (loan_id,) = at.selectbox(key="audit_loan").options[1:]
    at.selectbox(key="audit_loan").set_value(loan_id)
    rerun(at)
    files = downloads(offered)
    workbook = openpyxl.load_workbook(io.BytesIO(files["导出 Excel"][1]))
    (event,) = rows(workbook["审计记录 Audit"])  # the loan's one event, as on screen
    assert event[4] == "开立借用" and event[6] == loan_id and event[8] == "demo"
    said = notes(workbook)
    assert said["借用编号 Loan"] == loan_id and said["行数 Rows"] == 1


def test_the_comparison_downloads_as_a_report_with_headline_figures_and_basis(
    offered: dict[str, tuple[str, Any]],
) -> None:
    """基线 (A 90, B 60, C 60) and 追加十个 (10 extra quotas: A 100) side by side."""
    at = start("whatif")
    at.text_input(key="save_name").set_value("基线")
    button(at, "保存").click()
    rerun(at)
    at.number_input(key="wi_extra").set_value(10)
    button(at, "求解").click()
    rerun(at)
    at.text_input(key="save_name").set_value("追加十个")
    button(at, "保存").click()
    rerun(at)
    at.multiselect(key="compare_pick").set_value(["基线", "追加十个", "当前（未保存）"])
    rerun(at)
    files = downloads(offered)
    assert files["导出 CSV"][0] == "comparison.csv"
    name, content = files["导出 Excel"]
    assert name == "comparison.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["方案对比 Comparison", "主要指标 Headline", "测算依据 Basis"]
    sheet = workbook["方案对比 Comparison"]
    assert sheet["D3"].value == "调整后编制 New quota"
    assert [sheet.cell(4, c).value for c in (4, 5, 6)] == ["基线", "追加十个", "当前（未保存）"]
    assert sheet["G3"].value == "与 基线 相比增减 change vs 基线"
    *counties, totals = rows(sheet)
    assert [row[1] for row in counties] == ["A", "B", "C"]
    assert totals[0] == TOTAL_LABEL and totals[3:] == (210, 220, 220, 10, 10)
    assert sheet.cell(FIRST_DATA_ROW, 7).number_format == "+#,##0;-#,##0;0"
    headline = rows(workbook["主要指标 Headline"])
    assert [row[1] for row in headline] == ["基线", "追加十个", "当前（未保存）"]
    assert [row[3] for row in headline] == [210, 220, 220]  # quota after
    assert [row[4] for row in headline] == [10, 20, 20]  # moved: B's 10, and 10 more to A
    basis = list(workbook["测算依据 Basis"].iter_rows(min_row=4, values_only=True))
    edits = [row for row in basis if row[0] == "当前（未保存） · 在应用中的修改 Edits in the app"]
    assert [row[2] for row in edits] == ["政策 policy：市级统筹增编 extra_quota 0 → 10"]
    saved = [row[2] for row in basis if row[0] == "基线 · 方案 Scenario"]
    assert "demo" in saved  # who saved it


@pytest.mark.parametrize("page", ["pools", "loans"])
def test_no_register_downloads_without_loans(page: str) -> None:
    at = start(page)
    assert "导出 Excel" not in [b.proto.label for b in at.get("download_button")]
