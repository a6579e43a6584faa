"""Issue 8 ("Planner-grade app and reports"), the app's items checked through AppTest:
3 downloads that say what produced them, 6 one language at a time, 8 numbers, 9 exposure.

Same small city and ledger as test_app_pages.py (see its docstring for the figures).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from app_ui import config
from optimizer.output import TOTAL_LABEL
from tests.app.test_app_pages import (  # noqa: F401  (environment: the autouse fixture)
    FIXTURES,
    TIMEOUT,
    button,
    environment,
    open_loan,
    rerun,
    start,
)

REPO = Path(__file__).resolve().parents[2]


# --- 9. exposure -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("", False),
        (None, False),
        ("192.168.1.5", False),
        ("::", False),
    ],
)
def test_only_addresses_of_this_machine_are_loopback(address: str | None, loopback: bool) -> None:
    assert config.is_loopback(address) is loopback


def test_demo_mode_refuses_to_run_on_an_address_open_to_the_network() -> None:
    streamlit_config.set_option("server.address", "0.0.0.0")  # put back by conftest
    at = start("whatif")
    assert any("演示模式" in e.value and "0.0.0.0" in e.value for e in at.error)
    assert not at.title  # no page drawn: nobody becomes an approver
    assert not at.dataframe


def test_without_sign_in_or_demo_asked_for_the_app_shows_only_that_sign_in_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fails closed (issue 14): no users file, no OIDC, QUOTAPOOL_DEMO unset: no demo user."""
    monkeypatch.delenv("QUOTAPOOL_DEMO")
    for page in ("whatif", "pools"):
        at = start(page)
        errors = " ".join(e.value for e in at.error)
        assert "未配置登录" in errors and "no sign-in configured" in errors  # both languages
        assert "QUOTAPOOL_DEMO=1" in errors
        assert not at.dataframe and not at.button
        sidebar = [getattr(child, "key", None) for child in at.sidebar.children.values()]
        assert sidebar == ["lang"]  # the language switch, nothing else: no page, no user
        assert not any("演示模式" in w.value for w in at.warning)  # nobody is the demo user


def test_make_app_binds_to_this_machine_unless_told_otherwise() -> None:
    def dry_run(*extra: str) -> str:
        command = ["make", "-n", "-o", ".venv/.installed", "app", *extra]
        return subprocess.run(command, cwd=REPO, capture_output=True, text=True).stdout

    assert "--server.address=127.0.0.1" in dry_run()
    assert "QUOTAPOOL_DEMO=1 " in dry_run()  # demo mode only where make app asks for it
    assert "--server.address=0.0.0.0" in dry_run("QUOTAPOOL_APP_ADDRESS=0.0.0.0")


def test_streamlit_config_sends_nothing_away() -> None:
    text = (REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    assert re.search(r"^gatherUsageStats\s*=\s*false", text, re.M)
    assert re.search(r'^address\s*=\s*"127\.0\.0\.1"', text, re.M)


# --- 8. numbers ------------------------------------------------------------------------------

APP_FORMATS = {"%,d", "%,.1f", "%,.1f%%"}
ID_COLUMNS = {"年度 year", "year", "序号 seq"}


def column_settings(element) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """The column settings a table (or editor) element was sent with."""
    return json.loads(element.proto.columns or "{}")


def unformatted_numbers(at) -> list[tuple[str | None, str]]:  # type: ignore[no-untyped-def]
    """(table key, column) of every number column shown without one of the app's formats."""
    missing = []
    for table in at.dataframe:
        settings = column_settings(table)
        for column in table.value.columns:
            values = table.value[column]
            if column in ID_COLUMNS or not pd.api.types.is_numeric_dtype(values):
                continue
            shown = settings.get(str(column), {}).get("type_config", {}).get("format")
            if shown not in APP_FORMATS:
                missing.append((table.key, str(column)))
    return missing


def plan_element(at):  # type: ignore[no-untyped-def]
    return next(d for d in at.dataframe if "调整后编制 new" in d.value.columns)


def test_the_plan_table_has_a_totals_row_and_the_reason_next_to_the_change() -> None:
    table = plan_element(start("whatif")).value
    totals = table[table["区划代码 county_id"] == TOTAL_LABEL]
    assert len(totals) == 1 and table.index[-1] == totals.index[0]  # last row
    row = totals.iloc[0]
    assert (row["现有编制 current"], row["调整后编制 new"], row["增减 change"]) == (210, 210, 0)
    assert row["测算需求 need"] == 210.0  # 100 + 50 + 60
    columns = list(table.columns)
    reason = columns.index("决定因素 limited_by")
    assert reason == columns.index("增减 change") + 1 and reason < 8  # no scrolling to it
    settings = column_settings(plan_element(start("whatif")))
    assert settings["决定因素 limited_by"]["width"] == "large"


def test_a_multi_year_plan_has_a_totals_row_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAPOOL_SCENARIO", str(FIXTURES / "city-two-years.toml"))
    table = plan_element(start("whatif")).value
    totals = table[table["区划代码 county_id"].astype(str).str.startswith(TOTAL_LABEL)]
    assert totals["年度 year"].astype(int).tolist() == [2027, 2028]
    assert totals["调整后编制 new"].astype(int).tolist() == [210, 210]


def test_plan_figures_have_thousands_separators_and_one_decimal_percentages() -> None:
    at = start("whatif")
    settings = column_settings(plan_element(at))
    assert settings["调整后编制 new"]["type_config"]["format"] == "%,d"
    assert settings["测算需求 need"]["type_config"]["format"] == "%,.1f"
    assert settings["调整后保障率 coverage_after"]["type_config"]["format"] == "%,.1f%%"
    coverage = plan_element(at).value["调整后保障率 coverage_after"].tolist()[:3]
    assert coverage == pytest.approx([90.0, 120.0, 100.0])  # 90/100, 60/50, 60/60 as percent
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["最大缺口比例"] == "10.0%"
    assert not unformatted_numbers(at)


def test_every_table_of_the_app_uses_the_app_number_formats() -> None:
    """The what-if page with a comparison, the loan desk after a snapshot, and the audit trail:
    every number column of every table goes through `app_ui.numbers`."""
    at = compared_with_saved()
    assert any("Δ 基线" in d.value.columns for d in at.dataframe)  # the comparison
    assert not unformatted_numbers(at)
    at = loan_desk_after_snapshot()
    assert returns_element(at) is not None
    assert not unformatted_numbers(at)
    assert not unformatted_numbers(start("audit"))


def returns_element(at):  # type: ignore[no-untyped-def]
    """The table of 空一还一 returns of the last snapshot."""
    return next(d for d in at.dataframe if {"loan_id", "count"} <= set(d.value.columns))


def compared_with_saved():  # type: ignore[no-untyped-def]
    """The what-if page comparing the plan on screen with itself saved as 基线."""
    at = start("whatif")
    at.text_input(key="save_name").set_value("基线")
    button(at, "保存").click()
    rerun(at)
    at.multiselect(key="compare_pick").set_value(["当前（未保存）", "基线"])
    return rerun(at)


def loan_desk_after_snapshot():  # type: ignore[no-untyped-def]
    """A loan to M01 from the admin pool, then a snapshot where M01 has one vacancy."""
    at = open_loan(start("loans"), "M01")
    snapshot = (FIXTURES / "units-next.csv").read_bytes()
    at.file_uploader(key="sync_upload").set_value(("units-next.csv", snapshot, "text/csv"))
    button(at, "导入并更新").click()
    return rerun(at)


def test_a_snapshot_is_reported_as_the_command_line_reports_it() -> None:
    """Returns counted per loan: M01's vacancy returns the one quota of loan L…; the capacity
    of the admin pool before and after (fixture units-next.csv: see its figures)."""
    at = loan_desk_after_snapshot()
    returns = returns_element(at).value
    assert returns[["unit_id", "pool", "count"]].values.tolist() == [["M01", "admin", 1]]
    settings = column_settings(returns_element(at))
    assert settings["count"]["label"] == "收回数量 count"
    assert any(s.value.startswith("名册已导入：新增单位 0 个，变更") for s in at.success)
    assert any("行政编制周转池容量 1 → " in m.value for m in at.markdown)


def test_the_bundled_snapshot_shows_new_units_capacity_and_new_alerts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 8.8 as reported: units-2026-10 then units-2026-11 said only "变动单位: 51"; the
    command line reports 1 registered and 50 updated units, the administrative pool's
    capacity 15 -> 19 (20% of 96 vacancies) and the new over-quota alert of S100."""
    monkeypatch.setenv("QUOTAPOOL_UNITS", str(REPO / "data" / "units" / "units-2026-10.csv"))
    at = start("loans")
    snapshot = (REPO / "data" / "units" / "units-2026-11.csv").read_bytes()
    at.file_uploader(key="sync_upload").set_value(("units-2026-11.csv", snapshot, "text/csv"))
    button(at, "导入并更新").click()
    rerun(at)
    success = " ".join(s.value for s in at.success)
    # 51 unit events, then the monthly comparison's 14 problems (13 hires without a plan,
    # S100 newly over quota: SPEC 2.8)
    assert "新增单位 1 个，变更 50 个，撤销 0 个；写入事件 65 条" in success
    books = [m.value for m in at.markdown if "无计划进人" in m.value or "超编进人" in m.value]
    assert any("S100" in line and "超编进人" in line for line in books)
    assert any("新增单位: M061" in c.value for c in at.caption)
    lines = " ".join(m.value for m in at.markdown)
    assert "行政编制周转池容量 15 → 19，已借出 0（空编 96 的 20.0%）" in lines
    alerts = [w.value for w in at.warning if "S100" in w.value]
    assert alerts == [
        "S100 市农业科学研究所第13分所：本单位编制上 42 人，限额 40；超编，只出不进",
        "S100：无计划进人 2 名",
    ]


# --- 3. downloads that say what produced them --------------------------------------------------


@pytest.fixture
def offered(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[str, Any]]:
    """Each download button's label -> (file name, data), as the page offered it last.
    (AppTest has no server to serve a download; the data is what a click would produce.)"""
    from streamlit.delta_generator import DeltaGenerator

    seen: dict[str, tuple[str, Any]] = {}
    original = DeltaGenerator.download_button

    def record(self: Any, label: str, data: Any, file_name: str, *args: Any, **kw: Any) -> Any:
        seen[label] = (file_name, data)
        return original(self, label, data, file_name, *args, **kw)

    monkeypatch.setattr(DeltaGenerator, "download_button", record)
    return seen


def downloads(offered: dict[str, tuple[str, Any]]) -> dict[str, tuple[str, bytes]]:
    return {
        label: (name, data() if callable(data) else data) for label, (name, data) in offered.items()
    }


def edit_county_b_quota(at, quota: int):  # type: ignore[no-untyped-def]
    """Edit county B's quota in the counties editor, as the browser sends a cell edit."""
    editor = next(d for d in at.dataframe if d.key == "counties_editor_0")
    row = int(editor.value.index[editor.value["county_id"] == "B"][0])
    edit = {"edited_rows": {row: {"quota": quota}}, "added_rows": [], "deleted_rows": []}
    at.session_state["counties_editor_0"] = edit
    return rerun(at)


def test_unedited_downloads_name_the_scenario_and_carry_its_settings(
    offered: dict[str, tuple[str, Any]],
) -> None:
    at = start("whatif")
    button(at, "求解").click()  # solved again without any change: still not "edited"
    rerun(at)
    files = downloads(offered)
    assert [name for name, _ in files.values()] == [
        "测试城市-plan.csv",
        "测试城市-plan.xlsx",
        "测试城市-summary.json",
    ]
    document = json.loads(files["下载测算摘要 JSON"][1])
    assert document["scenario"]["name"] == "测试城市" and document["scenario"]["edited"] is False
    assert document["scenario"]["edits"] == []
    assert document["scenario"]["standards"]["per_level"]["primary"] == 19
    assert document["scenario"]["policy"]["objective"] == "fair"


def test_downloads_after_edits_say_edited_and_list_every_edit(
    offered: dict[str, tuple[str, Any]],
) -> None:
    """B's quota 70 -> 75 in the table and 10 extra quotas in the form: the plan's heading and
    files say "edited", and the JSON and the workbook's summary sheet list both edits."""
    at = edit_county_b_quota(start("whatif"), 75)
    at.number_input(key="wi_extra").set_value(10)
    button(at, "求解").click()
    rerun(at)
    assert at.header[0].value.startswith("调配方案: 测试城市（已修改）")
    files = downloads(offered)
    names = [name for name, _ in files.values()]
    assert names == [
        "测试城市-edited-plan.csv",
        "测试城市-edited-plan.xlsx",
        "测试城市-edited-summary.json",
    ]
    scenario = json.loads(files["下载测算摘要 JSON"][1])["scenario"]
    assert scenario["name"] == "测试城市 (edited)" and scenario["edited"] is True
    assert scenario["edits"] == [
        {"table": "counties", "county_id": "B", "field": "quota", "old": 70, "new": 75},
        {"table": "policy", "field": "extra_quota", "old": 0, "new": 10},
    ]
    assert scenario["policy"]["extra_quota"] == 10
    workbook = openpyxl.load_workbook(io.BytesIO(files["下载方案 Excel"][1]))
    summary = {row[1]: row[2] for row in workbook["摘要 Summary"].iter_rows(values_only=True)}
    assert summary["Scenario"] == "测试城市 (edited)"
    # The edits, standards and policy are on the sheet 测算依据, a row each (SPEC 3.7).
    basis = list(workbook["测算依据 Basis"].iter_rows(min_row=4, values_only=True))
    assert [row[2] for row in basis if row[0] == "在应用中的修改 Edits in the app"] == [
        "counties B quota: 70 → 75",
        "policy extra_quota: 0 → 10",
    ]
    standards = {row[1]: row[2] for row in basis if row[0] == "编制标准 Standards"}
    assert standards["小学 Primary 生师比 students per staff"].startswith("生师比 19:1")
    policy = {row[1]: row[2] for row in basis if row[0] == "政策 Policy"}
    assert policy["市级统筹增编 Extra quota from the city pool"] == 10


# --- 6. one language at a time ---------------------------------------------------------------

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def english(at):  # type: ignore[no-untyped-def]
    at.sidebar.button_group[0].set_value("en")
    return rerun(at)


def english_input_errors() -> None:
    """A page that shows one input error with English picked."""
    import streamlit as st

    from app_ui import messages
    from pools.tabular import InputError, InputErrors

    st.session_state["lang"] = "en"
    error = InputError("mine.csv", "-5 is below the minimum 0", row=3, column="quota [教职工编制]")
    messages.show_input_errors(InputErrors([error]))


def upload_bad_counties(at):  # type: ignore[no-untyped-def]
    bad = "county_id,name,quota,occupied\nA,甲县,80,80\nB,乙县,-5,60\n".encode()
    at.file_uploader(key="up_counties").set_value(("mine.csv", bad, "text/csv"))
    enrolment = (FIXTURES / "enrolment.csv").read_bytes()
    at.file_uploader(key="up_enrolment").set_value(("enrolment.csv", enrolment, "text/csv"))
    button(at, "读入上传的文件").click()
    return rerun(at)


def test_input_errors_are_shown_in_the_app_language_with_file_row_and_column() -> None:
    at = start("whatif")
    report = "\n".join(c.value for c in upload_bad_counties(at).code)
    assert "输入有误（共 2 处）：" in report
    assert "enrolment.csv，第 4 行，列“county_id [区划代码]”：区县“C”不在 mine.csv 中" in report
    assert "mine.csv，第 3 行，列“quota [教职工编制]”：-5 小于最小值 0" in report
    at = AppTest.from_function(english_input_errors, default_timeout=TIMEOUT)
    report = rerun(at).code[0].value
    assert report.splitlines() == [
        "input rejected (1 problem(s)):",
        "  mine.csv, row 3, column 'quota [教职工编制]': -5 is below the minimum 0",
    ]
    assert at.error[0].value == "Input rejected, nothing solved:"


def test_every_input_error_pattern_has_a_chinese_wording() -> None:
    """The messages that the readers raise, each matched by a pattern of app_ui.messages."""
    from app_ui.messages import INPUT_PATTERNS, translate

    samples = [
        "is empty",
        "'x' is not one of rural, town, urban",
        "'1.5' is not a whole number",
        "'abc' is not a number",
        "'5_950' is not a whole number (ASCII digits, thousands separated by commas, e.g. 5,950)",
        "'1e30' is not a number (ASCII digits, e.g. 0.05)",
        "'99999999999' is above the largest count 1,000,000,000",
        "… and 300 more problems",
        "-5 is below the minimum 0",
        "column 'quota' appears twice ('quota' and '教职工编制')",
        "missing column 'quota' (accepted headers: quota / 教职工编制)",
        "file not found: /x/y.csv",
        "old .xls workbooks are not read; save as .xlsx or CSV",
        "the file is empty",
        "cannot be decoded as UTF-8 or GBK text",
        "duplicate county_id 'A' (first seen in row 2)",
        "has no county rows",
        "has no enrolment rows",
        "attrition 9 is more than the 8 teachers in post",
        "year is empty while other rows give one (fill in every year or none)",
        "county 'Z' is not in counties.csv",
        "is empty, but the scenario's standards depend on the county class "
        "(urban/town/rural, 城市/县镇/农村)",
        "headers found on row 3 (rows above them skipped)",
        "no row among the first 10 has every required column (county_id [区划代码]); "
        "the closest is row 2",
        "is empty while the level's classes are given",
        "totals row '合计' left out",
    ]
    for sample in samples:
        assert any(p.regex.fullmatch(sample) for p in INPUT_PATTERNS), sample
    assert translate("'1.5' is not a whole number", INPUT_PATTERNS) == "“1.5”不是整数"


def test_a_suggestion_follows_in_the_apps_language() -> None:
    """The reader's "did you mean" hint is not left in English inside a Chinese sentence."""
    from app_ui.messages import INPUT_PATTERNS, translate

    message = "county 'X' is not in counties.csv; did you mean '339901' (东湖区) or '339902'?"
    assert translate(message, INPUT_PATTERNS) == (
        "区县“X”不在 counties.csv 中；是否应为 '339901' (东湖区)、'339902'？"
    )


def test_alerts_are_in_one_language() -> None:
    """C01 of the fixture ledger is over quota (12 on 10)."""
    at = start("overview")
    alerts = [m.value for m in at.markdown if "C01" in m.value]
    assert alerts == ["- C01 甲县民政局：本单位编制上 12 人，限额 10；超编，只出不进"]
    at = english(at)
    alerts = [m.value for m in at.markdown if "C01" in m.value]
    assert alerts == ["- C01 甲县民政局: 12 on own quota, limit 10; may only lose people"]


def test_comparison_and_multi_year_tables_are_headed_in_both_languages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = compared_with_saved()
    comparison = next(d for d in at.dataframe if "Δ 基线" in d.value.columns)
    settings = column_settings(comparison)
    assert settings["county_id"]["label"] == "区划代码 county_id"
    assert settings["county"]["label"] == "区划名称 name"
    monkeypatch.setenv("QUOTAPOOL_SCENARIO", str(FIXTURES / "city-two-years.toml"))
    editor = next(d for d in start("whatif").dataframe if d.key == "enrolment_editor_0")
    settings = column_settings(editor)
    assert settings["level"]["label"] == "学段 level"
    assert settings["students"]["label"] == "在校生数 students"
    options = settings["level"]["type_config"]["options"]
    assert {o["value"]: o["label"] for o in options}["primary"] == "小学 primary"


def test_streamlit_own_words_are_set_where_streamlit_lets_them() -> None:
    at = start("whatif")
    assert at.multiselect(key="compare_pick").placeholder == "请选择（可多选）"
    assert at.file_uploader(key="up_counties").help.startswith("把文件拖到框内")
    at = english(at)
    assert at.multiselect(key="compare_pick").placeholder == "Choose options"
    assert at.file_uploader(key="up_counties").help.startswith("Drop the file")


def test_audit_events_and_loan_sources_are_shown_in_words() -> None:
    at = open_loan(start("loans"), "M01")
    loans = next(d for d in at.dataframe if "未归还 outstanding" in d.value.columns)
    options = column_settings(loans)["来源 pool"]["type_config"]["options"]
    assert options == [{"value": "admin", "label": "行政编制周转池"}]
    events = next(d for d in start("audit").dataframe if "事件 kind" in d.value.columns)
    words = {
        o["value"]: o["label"]
        for o in column_settings(events)["事件 kind"]["type_config"]["options"]
    }
    assert words["loan_opened"] == "开立借用"
