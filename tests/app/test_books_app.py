# ruff: noqa: F811  (the tests take the fixture `offered` imported below)
"""The pools page's quota-use plans and problem ledger (SPEC 2.7/2.8) through AppTest, on the
app fixtures: M02 (30 approved, 25 on own quota) has 5 own vacancies; M01 40/40 is full."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
from streamlit.testing.v1 import AppTest

from .test_app_pages import button, environment, rerun, start  # noqa: F401  (fixture)
from .test_planner_grade import downloads, offered  # noqa: F401  (the fixture)


def ledger_events() -> list[dict]:
    from pools.ledger import Ledger

    with Ledger.open(f"sqlite:///{Path('ledger.db').resolve()}") as ledger:
        return ledger.events()


def approve(at: AppTest, unit_id: str, count: int) -> AppTest:
    at.selectbox(key="plan_unit").set_value(unit_id)
    at.number_input(key="plan_count").set_value(count)
    at.text_input(key="plan_purpose").set_value("综合岗招录")
    at.text_input(key="plan_document").set_value("编办〔2026〕7号")
    button(at, "批准计划").click()
    return rerun(at)


def test_a_plan_beyond_the_free_vacancies_is_refused_in_plain_words() -> None:
    at = approve(start("pools"), "M02", 6)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "useplan.free_vacancies" in errors[0]
    assert "可用空编 5 名" in errors[0]  # the app's language: Chinese by default
    assert "useplan_approved" not in {e["kind"] for e in ledger_events()}


def test_an_approver_approves_a_plan_and_records_and_closes_a_problem() -> None:
    at = approve(start("pools"), "M02", 2)
    assert any("已批准用编计划" in s.value for s in at.success)
    plans = [d.value for d in at.dataframe if "计划编号 plan_id" in d.value.columns]
    assert plans and plans[0]["未使用计划数 reserved"].tolist() == [2]
    at.selectbox(key="problem_unit").set_value("M02")
    at.selectbox(key="problem_kind").set_value("混编混岗")
    at.text_input(key="problem_document").set_value("编办〔2026〕8号")
    button(at, "登记问题").click()
    at = rerun(at)
    assert any("已登记问题" in s.value for s in at.success)
    at = approve(at, "M02", 1)  # an open problem blocks a new plan for the unit
    assert any("problem.open_blocks" in e.value for e in at.error)
    at.text_input(key="close_problem_reason").set_value("已整改到位")
    button(at, "销号").click()
    at = rerun(at)
    assert any("已销号" in s.value for s in at.success)
    kinds = [e["kind"] for e in ledger_events()]
    assert kinds.count("useplan_approved") == 1 and "problem_closed" in kinds


def test_plans_and_the_quarterly_report_download_as_report_workbooks(
    offered: dict[str, tuple[str, Any]],
) -> None:
    at = approve(start("pools"), "M02", 2)
    rerun(at)
    files = downloads(offered)
    name, content = files["导出 Excel"]
    assert name == "useplans.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book["用编计划 Plans"]["A1"].value.startswith("用编计划执行情况")
    quarterly = next(label for label in files if "季通报" in label)
    name, content = files[quarterly]
    assert name.startswith("problems-") and name.endswith(".xlsx")
    assert "季通报 Report" in openpyxl.load_workbook(io.BytesIO(content)).sheetnames


def test_an_approver_records_a_hire_posted_to_the_plan() -> None:
    at = approve(start("pools"), "M02", 2)
    at.selectbox(key="hire_unit").set_value("M02")
    at.number_input(key="hire_count").set_value(1)
    button(at, "登记进人").click()
    at = rerun(at)
    assert any("已登记进人" in s.value for s in at.success)
    kinds = [e["kind"] for e in ledger_events()]
    assert kinds[-2:] == ["unit_updated", "useplan_posted"]
    at.number_input(key="hire_count").set_value(50)  # M02 has 4 vacancies left
    button(at, "登记进人").click()
    at = rerun(at)
    assert any("hire.no_vacancy" in e.value for e in at.error)
