"""Every page of the app through Streamlit's AppTest, on small hand-checked data.

The what-if city (fixtures/city.toml, 2014 standards, primary only):
    A: 1900 pupils / 19 = need 100, quota 80, occupied 80  -> can only gain
    B:  950 / 19 = need 50, quota 70, occupied 60          -> can release 70 - 60 = 10
    C: 1140 / 19 = need 60, quota 60, occupied 60          -> keeps 60
  Total 210. Fair plan: B gives its 10 to A -> A 90, B 60, C 60; A's relative shortfall
  10/100 = 0.1 is the largest and cannot be lower (B and C are at their release limits).
  With 10 extra quotas from the city pool A reaches 100 (total 220 = 100 + 60 + 60).

The ledger (fixtures/units.csv): municipal administrative organs M01 40/40, M02 30/25,
M03 20/20 -> own vacancies 0 + 5 + 0 = 5 -> admin pool capacity floor(20% x 5) = 1.
M02 has vacancies, so it may not borrow from the pool; M01 has none, so it may.
C01 (county) 12 people on 10 quotas is over quota. City totals: approved
40+30+20+100+10 = 200, headcount 40+25+20+90+12 = 187.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from optimizer.output import TOTAL_LABEL
from pools import access

FIXTURES = Path(__file__).parent / "fixtures"
TIMEOUT = 60


def run_app(page: str) -> None:
    import app

    app.main(page)


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)  # no .streamlit/users.toml here: demo mode unless a test says
    monkeypatch.delenv("QUOTAPOOL_USERS", raising=False)
    monkeypatch.setenv("QUOTAPOOL_SCENARIO", str(FIXTURES / "city.toml"))
    monkeypatch.setenv("QUOTAPOOL_UNITS", str(FIXTURES / "units.csv"))
    monkeypatch.setenv("QUOTAPOOL_DB", str(tmp_path / "ledger.db"))
    monkeypatch.setenv("QUOTAPOOL_SCENARIOS_DIR", str(tmp_path / "scenarios"))
    yield tmp_path


def start(page: str) -> AppTest:
    at = AppTest.from_function(run_app, args=(page,), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r} in {[b.label for b in at.button]}"
    return matches[0]


def plan_table(at: AppTest) -> pd.DataFrame:
    """The plan's county rows (without its totals rows, see test_planner_grade.py)."""
    tables = [d.value for d in at.dataframe if "调整后编制 new" in d.value.columns]
    assert len(tables) == 1, "exactly one plan table"
    counties = tables[0]["区划代码 county_id"].astype(str)
    return tables[0][~counties.str.startswith(TOTAL_LABEL)].reset_index(drop=True)


def new_quotas(at: AppTest) -> dict[str, int]:
    table = plan_table(at)
    return dict(zip(table["区划代码 county_id"], table["调整后编制 new"].astype(int), strict=True))


def users_file(tmp_path: Path) -> Path:
    path = tmp_path / "users.toml"
    lines = []
    for name, role in (("wang", "approver"), ("li", "viewer"), ("zhao", "planner")):
        lines += [f"[users.{name}]", f'role = "{role}"', f'password = "{hash_of(name)}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


_HASHES: dict[str, str] = {}


def hash_of(name: str) -> str:
    if name not in _HASHES:
        _HASHES[name] = access.hash_password(f"pw-{name}")
    return _HASHES[name]


def sign_in(at: AppTest, name: str, password: str | None = None) -> AppTest:
    at.text_input(key="sign_in_username").set_value(name)
    at.text_input(key="sign_in_password").set_value(password or f"pw-{name}")
    button(at, "登录").click()
    return rerun(at)


def signed_in(page: str, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("QUOTAPOOL_USERS", str(users_file(tmp_path)))
    return sign_in(start(page), name)


# --- what-if ---------------------------------------------------------------------------------


def test_whatif_opens_on_the_scenario_and_shows_the_solved_plan() -> None:
    at = start("whatif")
    assert new_quotas(at) == {"A": 90, "B": 60, "C": 60}
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["调整编制数"] == "10"  # the 10 quotas A gained, each once (SPEC 3.7)
    assert metrics["最大缺口比例"] == "10.0%"  # one decimal everywhere (issue 8.8)
    assert any("演示模式" in w.value for w in at.sidebar.warning)  # demo mode is labelled


def test_changing_the_policy_and_solving_again_updates_the_table() -> None:
    at = start("whatif")
    at.number_input(key="wi_extra").set_value(10)
    button(at, "求解").click()
    rerun(at)
    assert new_quotas(at) == {"A": 100, "B": 60, "C": 60}
    assert {m.label: m.value for m in at.metric}["调整后总编制"] == "220"


def test_plan_headers_are_bilingual_and_the_reason_follows_the_language() -> None:
    at = start("whatif")
    assert plan_table(at)["决定因素 limited_by"].tolist()[1] == "可释放编制已用尽（只出不进）"
    at.sidebar.button_group[0].set_value("en")
    rerun(at)
    table = plan_table(at)  # headers stay in both languages
    assert table["决定因素 limited_by"].tolist()[1].startswith("gave up all it can release")
    assert at.title[0].value == "Teacher quota allocation: what-if"


def test_uploaded_files_with_a_bad_cell_are_rejected_naming_file_row_and_column() -> None:
    at = start("whatif")
    bad = "county_id,name,quota,occupied\nA,甲县,80,80\nB,乙县,-5,60\n".encode()
    at.file_uploader(key="up_counties").set_value(("mine.csv", bad, "text/csv"))
    enrolment = (FIXTURES / "enrolment.csv").read_bytes()
    at.file_uploader(key="up_enrolment").set_value(("enrolment.csv", enrolment, "text/csv"))
    button(at, "读入上传的文件").click()
    rerun(at)
    reports = [c.value for c in at.code]
    # in the app's language (issue 8.6; the English wording "row 3": test_planner_grade.py)
    assert any("mine.csv" in r and "第 3 行" in r and "quota" in r for r in reports), reports
    assert new_quotas(at) == {"A": 90, "B": 60, "C": 60}  # the old inputs stay


def test_good_uploaded_files_replace_the_inputs_and_are_solved() -> None:
    """Two counties: X need 1900/19 = 100, quota 50; Y need 0, quota 50, occupied 20 ->
    Y can release 30, so X gets 80 and Y keeps 20."""
    at = start("whatif")
    counties = "区划代码,区划名称,教职工编制,在编人数\nX,新区,50,50\nY,老区,50,20\n".encode(
        "gb18030"
    )
    enrolment = "区划代码,学段,在校生数\nX,小学,1900\nY,小学,0\n".encode("gb18030")
    at.file_uploader(key="up_counties").set_value(("counties.csv", counties, "text/csv"))
    at.file_uploader(key="up_enrolment").set_value(("enrolment.csv", enrolment, "text/csv"))
    button(at, "读入上传的文件").click()
    rerun(at)
    assert new_quotas(at) == {"X": 80, "Y": 20}


def test_save_two_scenarios_and_compare_them_by_county(environment: Path) -> None:
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
    at.multiselect(key="compare_pick").set_value(["基线", "追加十个"])
    rerun(at)
    comparison = [d.value for d in at.dataframe if "Δ 追加十个" in d.value.columns]
    assert comparison, "comparison table shown"
    delta = dict(zip(comparison[0]["county_id"], comparison[0]["Δ 追加十个"], strict=True))
    assert delta == {"A": 10, "B": 0, "C": 0}  # 100 - 90, 60 - 60, 60 - 60
    assert len(list((environment / "scenarios").glob("*.json"))) == 2


def test_plan_downloads_are_offered_as_csv_and_excel() -> None:
    at = start("whatif")
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["下载方案 CSV", "下载方案 Excel", "下载测算摘要 JSON"]  # JSON: issue 8.3


def test_a_viewer_sees_the_inputs_but_cannot_run_or_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = signed_in("whatif", "li", tmp_path, monkeypatch)
    assert button(at, "求解").disabled
    assert not [d for d in at.dataframe if "调整后编制 new" in d.value.columns]
    assert not [b for b in at.button if b.label == "保存"]
    assert any("查看人" in i.value for i in at.info)


def test_a_planner_runs_and_saves_scenarios(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = signed_in("whatif", "zhao", tmp_path, monkeypatch)
    assert new_quotas(at) == {"A": 90, "B": 60, "C": 60}
    assert not button(at, "保存").disabled


# --- sign-in ---------------------------------------------------------------------------------


def test_wrong_password_is_refused_and_shows_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUOTAPOOL_USERS", str(users_file(tmp_path)))
    at = sign_in(start("whatif"), "wang", "wrong")
    assert [e.value for e in at.error] == ["用户名或密码不正确。"]
    assert not at.dataframe


def test_a_broken_users_file_blocks_sign_in_and_names_the_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "users.toml"
    broken.write_text('[users.x]\nrole = "planner"\npassword = "plain"\n', encoding="utf-8")
    monkeypatch.setenv("QUOTAPOOL_USERS", str(broken))
    at = start("whatif")
    assert at.error and "scrypt" in at.code[0].value
    assert not at.dataframe


# --- pools and loans -------------------------------------------------------------------------


def pool_metrics(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def open_loan(at: AppTest, borrower: str, pool: str = "admin") -> AppTest:
    at.selectbox(key="loan_pool").set_value(pool)
    at.selectbox(key="loan_borrower").set_value(borrower)
    at.selectbox(key="loan_purpose").set_value("引进生")
    button(at, "提交借用").click()
    return rerun(at)


def test_pools_page_starts_a_demo_ledger_and_shows_the_pool_cards() -> None:
    at = start("pools")
    admin = pool_metrics(at)[:4]
    assert admin == [("容量", "1"), ("已借出", "0"), ("可借", "1"), ("本年到期待收回", "0")]


def test_a_refused_loan_shows_its_rule_and_writes_nothing() -> None:
    at = start("loans")
    at = open_loan(at, "M02")  # M02 still has 5 own vacancies
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "loan.borrower_has_vacancy" in errors[0] and "M02" in errors[0]
    assert pool_metrics(at)[1] == ("已借出", "0")
    from pools.ledger import Ledger

    kinds = {e["kind"] for e in Ledger.open(f"sqlite:///{Path('ledger.db').resolve()}").events()}
    assert "loan_opened" not in kinds


def test_an_approver_opens_a_loan_recorded_under_their_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pools.ledger import Ledger

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    Ledger.create(url, FIXTURES / "units.csv", actor="setup").close()
    at = signed_in("loans", "wang", tmp_path, monkeypatch)
    at = open_loan(at, "M01")
    assert any("已开立借用" in s.value for s in at.success)
    assert pool_metrics(at)[:3] == [("容量", "1"), ("已借出", "1"), ("可借", "0")]
    events = Ledger.open(url).events()
    assert events[-1]["actor"] == "wang"
    assert [e["kind"] for e in events].count("loan_opened") == 1


def test_a_viewer_cannot_write_to_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pools.ledger import Ledger

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    Ledger.create(url, FIXTURES / "units.csv", actor="setup").close()
    at = signed_in("pools", "li", tmp_path, monkeypatch)
    # The pools page shows the pools and loans but no write form: the loan desk, where the
    # writes are, is not among a viewer's pages (test_role_filtering.py).
    labels = {b.label for b in at.button}
    for label in ("提交借用", "提交归还", "提交评估", "导入并更新", "重建"):
        assert label not in labels, label
    assert any("只有审批人" in i.value for i in at.info)


def test_a_viewer_is_refused_by_the_write_path_itself() -> None:
    """Behind the disabled buttons, every ledger write checks the role again."""
    viewer = access.User("li", "viewer")
    with pytest.raises(access.AccessDenied):
        access.require(viewer, access.Action.WRITE_LEDGER)


def test_a_new_snapshot_shows_what_was_returned_automatically() -> None:
    at = open_loan(start("loans"), "M01")
    assert pool_metrics(at)[1] == ("已借出", "1")
    snapshot = (FIXTURES / "units-next.csv").read_bytes()  # M01 drops to 39: one vacancy
    at.file_uploader(key="sync_upload").set_value(("units-next.csv", snapshot, "text/csv"))
    button(at, "导入并更新").click()
    rerun(at)
    returned = [d.value for d in at.dataframe if "未归还 outstanding" not in d.value.columns]
    assert returned and returned[0]["unit_id"].tolist() == ["M01"]
    assert pool_metrics(at)[1] == ("已借出", "0")


def test_loans_list_shows_status_in_words() -> None:
    at = open_loan(start("loans"), "M01")
    loans = [d.value for d in at.dataframe if "未归还 outstanding" in d.value.columns]
    assert loans and loans[0]["状态 status"].tolist() == ["使用中"]


# --- audit trail -----------------------------------------------------------------------------


def test_audit_trail_filters_by_loan_and_actor_and_verifies_the_chain() -> None:
    open_loan(start("loans"), "M01")
    at = start("audit")
    events = next(d.value for d in at.dataframe if "事件 kind" in d.value.columns)
    assert "loan_opened" in events["事件 kind"].tolist()
    assert set(events["经办人 actor"]) == {"demo"}
    (loan_id,) = at.selectbox(key="audit_loan").options[1:]
    at.selectbox(key="audit_loan").set_value(loan_id)
    rerun(at)
    only = next(d.value for d in at.dataframe if "事件 kind" in d.value.columns)
    assert only["事件 kind"].tolist() == ["loan_opened"]
    at.selectbox(key="audit_actor").set_value("demo")
    rerun(at)
    assert len(next(d.value for d in at.dataframe if "事件 kind" in d.value.columns)) == 1
    button(at, "校验完整性").click()
    rerun(at)
    assert any(s.value.startswith("校验通过") for s in at.success)
    assert [b.label for b in at.get("download_button")] == ["导出 CSV", "导出 Excel", "导出 JSON"]


def test_the_audit_trail_reads_in_words_and_local_time() -> None:
    """Issue 8.5: what each event did in words with its figures, not a JSON payload; the
    recording time in Beijing time, not UTC ISO with microseconds."""
    open_loan(start("loans"), "M01")
    at = start("audit")
    events = next(d.value for d in at.dataframe if "事件 kind" in d.value.columns)
    details = events["内容 payload"].tolist()
    assert not any(str(d).startswith("{") for d in details)
    assert any("行政编制周转池 → M01" in str(d) for d in details)
    assert all(len(str(t)) == 19 and "T" not in str(t) for t in events["记录时间 at"])


def test_event_filter_by_actor_and_effective_date_inclusive() -> None:
    """Issue 8.5: the period is when events took effect, not when they were recorded (all
    three were recorded on 3 December here)."""
    import datetime as dt

    from pools import reporting

    events = pd.DataFrame(
        {
            "seq": [1, 2, 3],
            "actor": ["wang", "li", "wang"],
            "at": ["2026-12-03T08:00:00", "2026-12-03T09:00:00", "2026-12-03T10:00:00"],
            "effective": ["2026-11-01", "2026-11-02", "2026-11-03"],
        }
    )
    assert reporting.filter_events(events, "wang")["seq"].tolist() == [1, 3]
    day2, day3 = dt.date(2026, 11, 2), dt.date(2026, 11, 3)
    assert reporting.filter_events(events, None, day2, day3)["seq"].tolist() == [2, 3]
    assert reporting.filter_events(events, "wang", day2, day3)["seq"].tolist() == [3]
    assert reporting.filter_events(events, None)["seq"].tolist() == [1, 2, 3]


def test_loan_status_words_and_quotas_due_this_year() -> None:
    from pools import reporting

    def loan(loan_id: str, status: str, end: str | None, pool: str = "institutional") -> dict:
        return {"loan_id": loan_id, "status": status, "end": end, "pool": pool, "outstanding": 2}

    assert reporting.loan_display_status(loan("L1", "closed", None), set()) == "returned"
    assert reporting.loan_display_status(loan("L2", "expired", "2026-01-01"), set()) == "overdue"
    assert reporting.loan_display_status(loan("L3", "open", "2026-12-01"), {"L3"}) == "expiring"
    assert reporting.loan_display_status(loan("L4", "open", None), set()) == "in_use"
    loans = [
        loan("L1", "open", "2026-12-31"),  # ends this year: 2
        loan("L2", "expired", "2025-06-30"),  # overdue, still out: 2
        loan("L3", "open", "2027-01-01"),  # next year: not counted
        loan("L4", "closed", "2026-05-01"),  # already back: not counted
        loan("L5", "open", None, "admin"),  # no term: comes back by 空一还一 only
        loan("L6", "open", "2026-03-01", "unit:M01"),  # unit-to-unit: 2
    ]
    assert reporting.recovering_in_year(loans, 2026) == {"institutional": 4, "unit": 2}


# --- overview --------------------------------------------------------------------------------


def test_overview_shows_alerts_and_city_totals_with_the_special_account_apart() -> None:
    at = start("overview")
    metrics = dict(pool_metrics(at))
    assert metrics["核定编制"] == "200"
    assert metrics["实有人数（本单位编制）"] == "187"
    assert metrics["超编单位数"] == "1"
    assert metrics["行政编制周转池 · 已借出"] == "0 / 1"
    assert any(e.label.startswith("超编单位: 1") for e in at.expander)


# --- OIDC sign-in (Streamlit's st.login) -----------------------------------------------------

AUTH_SECRETS = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "quotapool",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://id.example.gov.cn/.well-known/openid-configuration",
}


def oidc_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: dict) -> AppTest:
    path = tmp_path / "users.toml"
    path.write_text(
        '[users.wang]\nrole = "approver"\nemail = "wang@example.gov.cn"\n', encoding="utf-8"
    )
    monkeypatch.setenv("QUOTAPOOL_USERS", str(path))
    at = AppTest.from_function(run_app, args=("whatif",), default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH_SECRETS
    at.user = user
    return rerun(at)


def test_oidc_mode_asks_to_sign_in_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    at = oidc_app(tmp_path, monkeypatch, {"is_logged_in": False})
    assert [b.label for b in at.button] == ["使用单位账号登录"]
    assert not at.dataframe
    # st.login needs Authlib: when it is missing the page says how to install it
    authlib_missing = importlib.util.find_spec("authlib") is None
    assert any("Authlib" in w.value for w in at.warning) is authlib_missing


def test_oidc_identity_gets_its_role_from_the_users_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = oidc_app(
        tmp_path, monkeypatch, {"is_logged_in": True, "email": "wang@example.gov.cn", "name": "W"}
    )
    assert any("**W**" in c.value and "审批人" in c.value for c in at.sidebar.caption)
    assert new_quotas(at) == {"A": 90, "B": 60, "C": 60}


def test_an_unlisted_oidc_identity_is_a_viewer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = oidc_app(tmp_path, monkeypatch, {"is_logged_in": True, "email": "x@example.com"})
    assert any("查看人" in c.value for c in at.sidebar.caption)
    assert button(at, "求解").disabled


# --- more what-if paths ----------------------------------------------------------------------


def test_an_edited_enrolment_cell_is_solved_again() -> None:
    """A's pupils edited from 1900 to 950: need 50, below its 80 quota that nobody may take
    (80 occupied). B (need 50, 70 quota, 60 occupied) and C (need 60) are covered too, so
    nothing needs to move and the fewest-moves stage keeps every quota: 80 / 70 / 60."""
    at = AppTest.from_function(run_app, args=("whatif",), default_timeout=TIMEOUT)
    at.session_state["enrolment_editor_0"] = {
        "edited_rows": {0: {"primary": 950}},
        "added_rows": [],
        "deleted_rows": [],
    }
    rerun(at)
    assert new_quotas(at) == {"A": 80, "B": 70, "C": 60}


def test_a_multi_year_scenario_is_edited_as_rows_and_planned_per_year(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Same enrolment in 2027 and 2028. 2027 as the one-year plan: A 90, B 60, C 60. 2028
    starts from it: A now has 90 people (80 + the 10 it gained), so every county is at its
    release limit (90 / 60 / 60) and the plan stays."""
    monkeypatch.setenv("QUOTAPOOL_SCENARIO", str(FIXTURES / "city-two-years.toml"))
    at = start("whatif")
    editor = next(d for d in at.dataframe if d.key == "enrolment_editor_0")
    assert list(editor.value.columns) == ["county_id", "level", "students", "year"]
    table = plan_table(at)
    years = table["年度 year"].astype(int).tolist()
    assert years == [2027, 2027, 2027, 2028, 2028, 2028]
    assert table["调整后编制 new"].astype(int).tolist() == [90, 60, 60, 90, 60, 60]


def test_the_2001_standards_need_a_class_for_every_county() -> None:
    at = start("whatif")
    at.radio(key="wi_edition").set_value("2001")
    button(at, "求解").click()
    rerun(at)
    reports = [c.value for c in at.code]
    assert any("counties.csv" in r and "class" in r for r in reports), reports
    assert not [d for d in at.dataframe if "调整后编制 new" in d.value.columns]


def test_a_bundled_scenario_can_be_loaded_from_the_list() -> None:
    at = start("whatif")
    files = at.selectbox(key="bundled").options
    assert "city-two-years" in files
    at.selectbox(key="bundled").set_value(FIXTURES / "city-two-years.toml")
    next(b for b in at.button if b.key == "load_bundled").click()
    rerun(at)
    assert plan_table(at)["年度 year"].astype(int).tolist() == [2027] * 3 + [2028] * 3


def test_a_saved_scenario_loads_back_with_its_settings() -> None:
    at = start("whatif")
    at.number_input(key="wi_extra").set_value(10)
    button(at, "求解").click()
    rerun(at)
    at.text_input(key="save_name").set_value("追加十个")
    button(at, "保存").click()
    rerun(at)
    at.number_input(key="wi_extra").set_value(0)
    button(at, "求解").click()
    rerun(at)
    assert new_quotas(at)["A"] == 90
    at.selectbox(key="load_saved_name").set_value("追加十个")
    next(b for b in at.button if b.key == "load_saved").click()
    rerun(at)
    assert new_quotas(at) == {"A": 100, "B": 60, "C": 60}
    assert at.number_input(key="wi_extra").value == 10


def test_edits_survive_when_the_editor_state_is_dropped_as_on_another_page() -> None:
    at = AppTest.from_function(run_app, args=("whatif",), default_timeout=TIMEOUT)
    at.session_state["enrolment_editor_0"] = {
        "edited_rows": {0: {"primary": 950}},
        "added_rows": [],
        "deleted_rows": [],
    }
    rerun(at)
    del at.session_state["enrolment_editor_0"]  # what Streamlit does to unrendered widgets
    rerun(at)
    assert new_quotas(at) == {"A": 80, "B": 70, "C": 60}  # still the edited enrolment


def ledger_with_an_expired_loan(tmp_path: Path) -> str:
    """A ledger started on 2020-01-01 where S01 (institutional, made full: 100 people on 100
    quotas, so it may borrow) got 2 quotas for 1 year on 2020-01-02: ended 2021-01-02,
    so today it is expired and awaits its evaluation."""
    import datetime as dt

    from pools.ledger import Ledger

    units = tmp_path / "units-full.csv"
    units.write_text(
        (FIXTURES / "units.csv")
        .read_text(encoding="utf-8")
        .replace(
            "S01,市第一医院,CITY,municipal,institutional,100,90",
            "S01,市第一医院,CITY,municipal,institutional,100,100",
        ),
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger.create(url, units, actor="setup", effective=dt.date(2020, 1, 1)) as ledger:
        ledger.open_loan(
            pool="institutional",
            unit_id="S01",
            count=2,
            purpose="重点领域",
            actor="setup",
            term_years=1,
            effective=dt.date(2020, 1, 2),
        )
    return url


def test_an_expired_loan_is_overdue_and_its_evaluation_is_recorded(
    tmp_path: Path,
) -> None:
    from pools.ledger import Ledger

    url = ledger_with_an_expired_loan(tmp_path)
    at = start("loans")
    loans = next(d.value for d in at.dataframe if "未归还 outstanding" in d.value.columns)
    assert loans["状态 status"].tolist() == ["已到期待评估"]
    at.selectbox(key="eval_loan").set_value("L000007")
    at.number_input(key="eval_score").set_value(85)
    at.radio(key="eval_decision").set_value("return")
    button(at, "提交评估").click()
    rerun(at)
    assert any("已记录评估" in s.value for s in at.success)
    loans = next(d.value for d in at.dataframe if "未归还 outstanding" in d.value.columns)
    assert loans["状态 status"].tolist() == ["已归还"]
    events = Ledger.open(url).events(loan_id="L000007")
    evaluated = [e for e in events if e["kind"] == "loan_evaluated"]
    assert len(evaluated) == 1 and evaluated[0]["actor"] == "demo"
    assert evaluated[0]["payload"]["score"] == 85


def test_only_expired_loans_can_be_picked_for_an_evaluation() -> None:
    at = open_loan(start("loans"), "M01")  # open, not expired
    assert at.selectbox(key="eval_loan").options == []


def test_an_extension_ending_in_the_past_is_refused_with_its_rule(tmp_path: Path) -> None:
    import datetime as dt

    from pools.ledger import Ledger

    url = ledger_with_an_expired_loan(tmp_path)
    at = start("loans")
    at.selectbox(key="eval_loan").set_value("L000007")
    at.radio(key="eval_decision").set_value("extend")
    at.date_input(key="eval_new_end").set_value(dt.date(2020, 6, 1))
    button(at, "提交评估").click()
    rerun(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "evaluate.new_end" in errors[0] and "延期" in errors[0]
    assert not [e for e in Ledger.open(url).events() if e["kind"] == "loan_evaluated"]


def test_a_loan_returned_by_hand_frees_the_pool() -> None:
    at = open_loan(start("loans"), "M01")
    assert pool_metrics(at)[1] == ("已借出", "1")
    loan_id = at.selectbox(key="ret_loan").options[0]
    at.selectbox(key="ret_loan").set_value(loan_id)
    button(at, "提交归还").click()
    rerun(at)
    button(at, "确认归还").click()  # a manual return is confirmed after its consequence is shown
    rerun(at)
    assert any("已归还" in s.value for s in at.success)
    assert pool_metrics(at)[1] == ("已借出", "0")


def test_overview_lists_overdue_loans_and_the_ended_pool_period(tmp_path: Path) -> None:
    ledger_with_an_expired_loan(tmp_path)
    at = start("overview")
    labels = [e.label for e in at.expander]
    assert "已到期未评估的借用: 1" in labels
    assert "事业周转池到期待重建: 1" in labels


def test_the_real_entry_script_opens_on_the_what_if_page() -> None:
    """`streamlit run app.py` runs the file as __main__: the same through AppTest.from_file."""
    import app

    at = AppTest.from_file(app.__file__, default_timeout=TIMEOUT)
    rerun(at)
    assert at.title[0].value == "教师编制调配：模拟测算"
    assert new_quotas(at) == {"A": 90, "B": 60, "C": 60}


def test_a_postgres_url_without_a_ledger_is_reported_not_created(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only a SQLite file is created on the fly (demo mode); another database is named."""
    monkeypatch.setenv("QUOTAPOOL_DB", "postgresql+psycopg://nobody:s3cret@127.0.0.1:1/none")
    at = start("pools")
    assert at.error and "postgresql" in at.error[0].value
    shown = " ".join([e.value for e in at.error] + [c.value for c in at.caption])
    assert "s3cret" not in shown  # the password is never shown


def test_a_saved_multi_year_scenario_keeps_every_policy_setting(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from app_ui import scenarios

    scenario = (FIXTURES / "city-two-years.toml").read_text(encoding="utf-8")
    custom = environment / "custom.toml"
    custom.write_text(
        scenario.replace("counties.csv", str(FIXTURES / "counties.csv"))
        .replace("enrolment-years.csv", str(FIXTURES / "enrolment-years.csv"))
        .replace('solver = "exact"', 'solver = "exact"\nattrition_years = 3'),
        encoding="utf-8",
    )
    monkeypatch.setenv("QUOTAPOOL_SCENARIO", str(custom))
    at = start("whatif")
    at.text_input(key="save_name").set_value("三年")
    button(at, "保存").click()
    rerun(at)
    saved = scenarios.ScenarioStore(environment / "scenarios").load("三年")
    assert saved.policy["attrition_years"] == 3, json.dumps(saved.policy)


def test_a_unit_to_unit_loan_and_a_lender_without_spare_quota() -> None:
    """M02 has 30 - 25 = 5 spare quotas and may lend 2 to M01 (two-rights separation);
    M03 (20/20) has none to lend."""
    at = start("loans")
    at.selectbox(key="loan_pool").set_value("unit")
    at.selectbox(key="loan_lender").set_value("M03")
    at = open_loan(at, "M01", pool="unit")
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "unit.lender_no_spare" in errors[0]
    at.selectbox(key="loan_lender").set_value("M02")
    at.number_input(key="loan_count").set_value(2)
    at = open_loan(at, "M01", pool="unit")
    assert any("已开立借用" in s.value for s in at.success)
    loans = next(d.value for d in at.dataframe if "未归还 outstanding" in d.value.columns)
    assert loans[["来源 pool", "借用单位 unit_id", "未归还 outstanding"]].values.tolist() == [
        ["unit:M02", "M01", 2]
    ]


def test_the_audit_trail_filters_by_unit() -> None:
    open_loan(start("loans"), "M01")
    at = start("audit")
    at.selectbox(key="audit_unit").set_value("M01")
    rerun(at)
    events = next(d.value for d in at.dataframe if "事件 kind" in d.value.columns)
    assert events["事件 kind"].tolist() == ["unit_registered", "loan_opened"]


def test_verify_reports_an_altered_event(environment: Path) -> None:
    import sqlite3

    start("audit")  # creates the demo ledger
    with sqlite3.connect(environment / "ledger.db") as db:  # an intruder with file access
        db.execute("DROP TRIGGER ledger_events_no_update")
        db.execute("UPDATE ledger_events SET actor = 'mallory' WHERE seq = 2")
    at = start("audit")
    button(at, "校验完整性").click()
    rerun(at)
    assert [e.value for e in at.error] == ["校验未通过："]
    assert any("event 2" in m.value for m in at.markdown)


def test_the_institutional_pool_is_rebuilt_only_after_its_period(tmp_path: Path) -> None:
    at = start("loans")  # a new ledger: its period runs five more years
    button(at, "重建").click()
    rerun(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "institutional.period_running" in errors[0]


def test_an_ended_institutional_pool_is_rebuilt(tmp_path: Path) -> None:
    """The fixture ledger's pool period ran 2020-01-01 .. 2025-01-01: it may be rebuilt."""
    from pools.ledger import Ledger

    url = ledger_with_an_expired_loan(tmp_path)
    at = start("loans")
    button(at, "重建").click()
    rerun(at)
    assert any(s.value.startswith("已重建") for s in at.success)
    assert Ledger.open(url).events()[-1]["kind"] == "pool_rebuilt"


def test_a_newly_opened_loan_is_preselected_for_return() -> None:
    at = open_loan(start("loans"), "M01")
    assert at.selectbox(key="ret_loan").value == at.selectbox(key="ret_loan").options[0]


# --- pages by role ---------------------------------------------------------------------------


def test_the_pages_listed_follow_the_role() -> None:
    """A viewer (and a planner: neither writes to the ledger) is not given the loan desk."""
    import app

    def names(role: access.Role) -> list[str]:
        return [page.name for page in app.pages_for(access.User("x", role))]

    assert names("viewer") == ["overview", "whatif", "projection", "pools", "audit"]
    assert names("planner") == ["overview", "whatif", "projection", "pools", "audit"]
    assert names("approver") == ["overview", "whatif", "projection", "pools", "loans", "audit"]


WRITE_BUTTONS = ("提交借用", "提交归还", "提交评估", "导入并更新", "重建")


def test_a_viewer_asking_for_the_loan_desk_gets_no_write_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = signed_in("loans", "li", tmp_path, monkeypatch)
    assert at.title[0].value == "教师编制调配：模拟测算"  # the default page instead
    assert not {b.label for b in at.button} & set(WRITE_BUTTONS)


def test_an_approver_gets_the_loan_desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pools.ledger import Ledger

    Ledger.create(f"sqlite:///{tmp_path / 'ledger.db'}", FIXTURES / "units.csv", actor="x").close()
    at = signed_in("loans", "wang", tmp_path, monkeypatch)
    assert at.title[0].value == "借用办理"
    assert {b.label for b in at.button} >= set(WRITE_BUTTONS)


# --- issue 8.1: the settings form shows what the plan was solved with --------------------------

SCENARIOS = Path(__file__).resolve().parents[2] / "data" / "scenarios"


def told_to_browser(widget) -> bool:  # type: ignore[no-untyped-def]
    """Whether this run sent the widget's value to the browser to show (not only a default
    that a browser still showing an older value would ignore)."""
    return bool(widget.proto.set_value)


def scenario_plan(path: Path) -> tuple[dict[str, int], dict]:
    """New quota per county and the summary of a scenario file, planned without the app."""
    from optimizer.plan import make_plan
    from optimizer.scenario import load_inputs, load_scenario

    scenario = load_scenario(path)
    counties, enrolment = load_inputs(scenario)
    result = make_plan(counties, enrolment, scenario.standards, scenario.policy)
    table = result.table
    return dict(zip(table["county_id"], table["new"].astype(int), strict=True)), result.summary


def load_bundled(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="bundled").set_value(SCENARIOS / f"{name}.toml")
    next(b for b in at.button if b.key == "load_bundled").click()
    return rerun(at)


def settings_widgets(at: AppTest) -> list:  # type: ignore[type-arg]
    levels = [at.number_input(key=f"wi_standard_{level}") for level in LEVELS]
    policy = [at.number_input(key="wi_extra"), *(at.selectbox(key=k) for k in POLICY_KEYS)]
    return [at.radio(key="wi_edition"), *levels, *policy]


LEVELS = ("primary", "junior", "senior")
POLICY_KEYS = ("wi_objective", "wi_solver")


def test_a_loaded_bundled_scenario_fills_the_form_and_solves_to_its_own_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """baseline (2014 standards, HiGHS) then standards_2001 (2001 table, exact): the form shows
    the 2001 scenario's settings, and solving it unchanged gives that scenario's plan."""
    monkeypatch.setenv("QUOTAPOOL_SCENARIO", str(SCENARIOS / "baseline.toml"))
    at = start("whatif")
    assert at.selectbox(key="wi_solver").value == "highs"
    at = load_bundled(at, "standards_2001")
    assert at.radio(key="wi_edition").value == "2001"
    assert at.selectbox(key="wi_solver").value == "exact"
    assert all(told_to_browser(w) for w in settings_widgets(at))
    button(at, "求解").click()
    at = rerun(at)
    expected, summary = scenario_plan(SCENARIOS / "standards_2001.toml")
    assert new_quotas(at) == expected
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["最大缺口比例"] == f"{summary['max_relative_shortfall']:.1%}"  # issue 8.8
    assert metrics["调整编制数"] == f"{summary['moved']:,}"
    heading = at.header[0].value
    assert "standards_2001" in heading and "2001 年城乡分类标准" in heading
    assert any("exact" in c.value and "公平优先" in c.value for c in at.caption)


def test_switching_language_redraws_the_form_in_english_keeping_the_standard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUOTAPOOL_SCENARIO", str(SCENARIOS / "baseline.toml"))
    at = load_bundled(start("whatif"), "standards_2001")
    at.number_input(key="wi_extra").set_value(7)  # typed, never solved
    at = rerun(at)
    at.sidebar.button_group[0].set_value("en")
    at = rerun(at)
    edition = at.radio(key="wi_edition")
    assert edition.value == "2001" and told_to_browser(edition)
    assert edition.options == ["2014 unified standard", "2001 standard by county class"]
    assert at.selectbox(key="wi_objective").options[0].startswith("fair")
    assert all(told_to_browser(w) for w in settings_widgets(at))
    assert at.number_input(key="wi_extra").value == 0  # the form shows what was solved
    assert at.header[0].value == "Plan: standards_2001 · 2001 standard by county class"
    assert new_quotas(at) == scenario_plan(SCENARIOS / "standards_2001.toml")[0]


def test_an_upload_fills_the_form_again_from_the_scenario() -> None:
    at = start("whatif")
    at.number_input(key="wi_extra").set_value(5)  # typed, never solved
    counties = (FIXTURES / "counties.csv").read_bytes()
    enrolment = (FIXTURES / "enrolment.csv").read_bytes()
    at.file_uploader(key="up_counties").set_value(("counties.csv", counties, "text/csv"))
    at.file_uploader(key="up_enrolment").set_value(("enrolment.csv", enrolment, "text/csv"))
    button(at, "读入上传的文件").click()
    at = rerun(at)
    extra = at.number_input(key="wi_extra")
    assert extra.value == 0 and told_to_browser(extra)
    assert new_quotas(at) == {"A": 90, "B": 60, "C": 60}


# --- issue 8.2: effective date, forms emptied after a write, a confirmed manual return --------


def test_a_loan_carries_its_effective_date_and_the_form_is_emptied_after_it() -> None:
    import datetime as dt

    from pools.ledger import Ledger

    at = start("loans")
    assert at.date_input(key="loan_effective").value == dt.date.today()
    first_key = at.session_state["open_loan_key"]
    effective = dt.date.today() + dt.timedelta(days=3)
    at.date_input(key="loan_effective").set_value(effective)
    at.text_input(key="loan_reason").set_value("引进生到岗")
    at.text_input(key="loan_document").set_value("临编〔2026〕12号")
    at = open_loan(at, "M01")
    assert any("已开立借用" in s.value for s in at.success)
    for key in ("loan_reason", "loan_document"):
        assert at.text_input(key=key).value == "" and told_to_browser(at.text_input(key=key))
    assert at.session_state["open_loan_key"] != first_key
    # the next loan (unit to unit, M02 lends 2 to M01) does not carry the previous 文号
    at.selectbox(key="loan_lender").set_value("M02")
    at.number_input(key="loan_count").set_value(2)
    at.date_input(key="loan_effective").set_value(effective)
    at = open_loan(at, "M01", pool="unit")
    opened = [e for e in Ledger.open(ledger_url()).events() if e["kind"] == "loan_opened"]
    assert [(e["document"], e["reason"]) for e in opened] == [
        ("临编〔2026〕12号", "引进生到岗"),
        ("", ""),
    ]
    assert opened[0]["effective"] == effective.isoformat()


def ledger_url() -> str:
    return f"sqlite:///{Path('ledger.db').resolve()}"


def borrowed_from_m02(count: int = 2) -> AppTest:
    """M02 (30 quotas, 25 people) lends 2 to M01 (40 / 40): M01's 2 new people are on them."""
    at = start("loans")
    at.selectbox(key="loan_lender").set_value("M02")
    at.number_input(key="loan_count").set_value(count)
    return open_loan(at, "M01", pool="unit")


def returned(url: str) -> list[dict]:
    from pools.ledger import Ledger

    return [e for e in Ledger.open(url).events() if e["kind"] == "loan_returned"]


def test_a_manual_return_shows_who_goes_over_quota_and_waits_for_a_confirmation() -> None:
    """Returning M01's 2 borrowed quotas moves its 2 people onto its own 40: 42 / 40."""
    at = borrowed_from_m02()
    loan_id = at.selectbox(key="ret_loan").options[0]
    at.text_input(key="ret_document").set_value("归〔2026〕3号")
    button(at, "提交归还").click()
    at = rerun(at)
    assert any("M01 归还后将超编：42/40" in w.value for w in at.warning)
    assert not returned(ledger_url())  # nothing written before the confirmation
    button(at, "取消").click()
    at = rerun(at)
    assert not returned(ledger_url()) and not [b for b in at.button if b.label == "确认归还"]
    button(at, "提交归还").click()
    at = rerun(at)
    button(at, "确认归还").click()
    at = rerun(at)
    assert any(f"已归还: {loan_id}" in s.value for s in at.success)
    events = returned(ledger_url())
    assert [(e["payload"]["loan_id"], e["document"]) for e in events] == [
        (loan_id, "归〔2026〕3号")
    ]
    ret_document = at.text_input(key="ret_document")
    assert ret_document.value == "" and told_to_browser(ret_document)


def test_a_refused_return_is_refused_before_any_confirmation() -> None:
    at = borrowed_from_m02()
    at.number_input(key="ret_count").set_value(5)  # only 2 are out
    button(at, "提交归还").click()
    at = rerun(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "return.too_many" in errors[0]
    assert not [b for b in at.button if b.label == "确认归还"]
    assert not returned(ledger_url())
