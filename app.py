"""quotapool's app for planners: `streamlit run app.py`.

A thin UI over the same functions as the command line: teacher-quota plans come from
`optimizer.plan.make_plan`, inputs are checked by `optimizer.io`, pools and loans live in the
ledger (`pools.ledger`, read through `pools.reporting`), who may do what is decided by
`pools.access`, charts and saved scenarios are `app_ui.charts` and `app_ui.scenarios`. No
business rule lives in this file.

Settings (environment variables, all optional):
- QUOTAPOOL_DB: the ledger (SQLAlchemy URL or a file path; default sqlite file
  quotapool-ledger.db in the working directory). A missing SQLite ledger is created from the
  sample units snapshot so that the pools page is alive on first run.
- QUOTAPOOL_SCENARIO: the what-if page's starting scenario (default: the bundled sample city).
- QUOTAPOOL_UNITS: the units snapshot a new ledger starts from (default: the bundled sample).
- QUOTAPOOL_SCENARIOS_DIR: where saved what-if scenarios go (default: next to the ledger).
- QUOTAPOOL_USERS: the users file (default .streamlit/users.toml); see pools/access.py.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app_ui import charts
from app_ui import scenarios as whatif
from pools import access
from pools.access import Action, User
from pools.reporting import (
    city_totals,
    expiring_loans,
    filter_events,
    loan_display_status,
    recovering_in_year,
)
from pools.tabular import InputErrors

APP_DIR = Path(__file__).resolve().parent
SAMPLE_SCENARIO = APP_DIR / "data" / "scenarios" / "baseline.toml"
SAMPLE_UNITS = APP_DIR / "data" / "units" / "units-2026-10.csv"
DEFAULT_DB_FILE = "quotapool-ledger.db"

# --- labels: Chinese first, English on request -----------------------------------------------

LABELS: dict[str, tuple[str, str]] = {
    "app_title": ("编制周转池与教师编制调配", "Quota pools and teacher-quota reallocation"),
    "language": ("语言 Language", "Language 语言"),
    "page_whatif": ("教师编制调配（模拟）", "Teacher allocation (what-if)"),
    "page_pools": ("周转池与调借", "Pools and loans"),
    "page_audit": ("审计记录", "Audit trail"),
    "page_overview": ("总览与预警", "Overview and alerts"),
    # sign-in
    "demo_mode": (
        "演示模式：未配置登录，所有操作以演示用户“demo”（审批人）记录。",
        "Demo mode: no sign-in configured; everything is recorded as demo user 'demo' (approver).",
    ),
    "signed_in_as": ("当前用户", "Signed in as"),
    "role": ("角色", "Role"),
    "role_viewer": ("查看人", "viewer"),
    "role_planner": ("规划人", "planner"),
    "role_approver": ("审批人", "approver"),
    "sign_in": ("登录", "Sign in"),
    "sign_in_oidc": ("使用单位账号登录", "Sign in with your organisation account"),
    "sign_out": ("退出登录", "Sign out"),
    "oidc_needs_authlib": (
        "单点登录需要安装 Authlib：.venv/bin/pip install 'Authlib>=1.3.2'",
        "OIDC sign-in needs the Authlib package: .venv/bin/pip install 'Authlib>=1.3.2'",
    ),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "sign_in_failed": ("用户名或密码不正确。", "Wrong user name or password."),
    "users_file_error": ("用户配置文件有误，无法登录：", "The users file cannot be used:"),
    # what-if page
    "whatif_title": ("教师编制调配：模拟测算", "Teacher quota allocation: what-if"),
    "scenario": ("方案", "Scenario"),
    "sample_missing": (
        "找不到起始方案文件：",
        "The starting scenario file is missing:",
    ),
    "input_rejected": ("输入有误，未求解：", "Input rejected, nothing solved:"),
    "upload": ("上传方案文件（CSV 或 Excel）", "Upload a scenario's files (CSV or Excel)"),
    "upload_counties": ("区县编制表 counties", "Counties table"),
    "upload_enrolment": ("在校生表 enrolment", "Enrolment table"),
    "upload_load": ("读入上传的文件", "Load the uploaded files"),
    "upload_loaded": ("已读入上传的文件。", "The uploaded files are loaded."),
    "upload_need_both": (
        "请同时上传区县表和在校生表。",
        "Upload both the counties and the enrolment table.",
    ),
    "counties_table": ("区县教职工编制", "Teacher quotas per county"),
    "enrolment_table": ("在校生数（按学段）", "Students per level"),
    "settings": ("标准与政策", "Standards and policy"),
    "edition": ("编制标准", "Staffing standards"),
    "edition_2014": ("2014 年城乡统一标准", "2014 unified standard"),
    "edition_2001": ("2001 年城乡分类标准", "2001 standard by county class"),
    "per_level": ("生师比（每名教职工对应学生数）", "Students per staff"),
    "extra_quota": ("市级周转池追加编制", "Extra quotas from the city pool"),
    "objective": ("目标", "Objective"),
    "objective_fair": (
        "公平优先（最大缺口比例最小）",
        "fair (smallest largest relative shortfall)",
    ),
    "objective_shortfall": ("总缺口最小", "smallest total shortfall"),
    "objective_movement": ("调整最少", "fewest quotas moved"),
    "solver": ("求解器", "Solver"),
    "solve": ("求解", "Solve"),
    "viewer_cannot_run": (
        "查看人只能查看已保存的方案；测算需要规划人或审批人角色。",
        "Viewers see saved scenarios only; running a scenario needs the planner or approver role.",
    ),
    "plan": ("调配方案", "Plan"),
    "status_optimal": ("已求得最优方案", "Optimal plan found"),
    "status_infeasible": ("方案不可行", "No plan satisfies all limits"),
    "status_error": ("求解出错", "The solver failed"),
    "total_before": ("调整前总编制", "Total before"),
    "total_after": ("调整后总编制", "Total after"),
    "max_relative_shortfall": ("最大缺口比例", "Largest relative shortfall"),
    "total_shortfall": ("总缺口", "Total shortfall"),
    "moved": ("调整编制数", "Quotas moved"),
    "seconds": ("用时（秒）", "Seconds"),
    "chart_need": ("需求 / 现有 / 调整后", "Need / current / new"),
    "chart_coverage": ("保障率：调整前后", "Coverage before and after"),
    "download_csv": ("下载方案 CSV", "Download plan (CSV)"),
    "download_xlsx": ("下载方案 Excel", "Download plan (Excel)"),
    "save_as": ("保存方案，名称", "Save the scenario as"),
    "save": ("保存", "Save"),
    "saved": ("已保存：", "Saved:"),
    "save_needs_name": ("请填写方案名称。", "Give the scenario a name."),
    "compare": ("方案对比", "Compare scenarios"),
    "compare_pick": ("选择两个或更多方案", "Pick two or more scenarios"),
    "compare_current": ("当前（未保存）", "current (unsaved)"),
    "compare_hint": ("至少选择两个方案进行对比。", "Pick at least two scenarios to compare."),
    "chart_compare": ("各方案编制增减（按区县）", "Change of quota per county, by scenario"),
    "load_saved": ("载入已保存方案", "Load a saved scenario"),
    "load_bundled": ("载入示例方案", "Load a bundled scenario"),
    "load": ("载入", "Load"),
    "no_saved": ("还没有保存的方案。", "No saved scenarios yet."),
    # ledger pages
    "no_ledger": ("找不到台账：", "No ledger at"),
    "no_ledger_hint": (
        "请先用 `quotapool ledger init --db URL --units FILE` 建立台账。",
        "Create it first with `quotapool ledger init --db URL --units FILE`.",
    ),
    "ledger_created": ("已用示例名册建立演示台账：", "Demo ledger created from the sample units:"),
    "pools_title": ("周转池与调借", "Pools and loans"),
    "pool_admin": ("行政编制周转池", "Administrative turnover pool"),
    "pool_institutional": ("事业编制周转池", "Institutional turnover pool"),
    "capacity": ("容量", "Capacity"),
    "lent": ("已借出", "Lent"),
    "available": ("可借", "Available"),
    "recover_this_year": ("本年到期待收回", "To be recovered this year"),
    "pool_suspended": ("市级行政机关总体超编，暂停出借", "Suspended: municipal organs over quota"),
    "loans": ("借用编制", "Loans"),
    "loan_status_in_use": ("使用中", "in use"),
    "loan_status_expiring": ("即将到期", "expiring soon"),
    "loan_status_overdue": ("已到期待评估", "overdue"),
    "loan_status_returned": ("已归还", "returned"),
    "no_loans": ("暂无借用。", "No loans yet."),
    "open_loan": ("新增借用", "Open a loan"),
    "from_pool": ("来源", "From"),
    "pool_choice_admin": ("行政编制周转池", "administrative pool"),
    "pool_choice_institutional": ("事业编制周转池", "institutional pool"),
    "pool_choice_unit": ("单位调借（两权分离）：出借单位", "unit-to-unit loan, lender"),
    "lender": ("出借单位", "Lender"),
    "borrower": ("借用单位", "Borrowing unit"),
    "count": ("数量", "Count"),
    "purpose": ("用途", "Purpose"),
    "term_years": ("期限（年，0 为默认）", "Term in years (0 = default)"),
    "reason": ("事由", "Reason"),
    "document": ("文号", "Document no."),
    "submit_open": ("提交借用", "Open the loan"),
    "opened": ("已开立借用", "Loan opened"),
    "replayed": ("该申请已处理过，未重复开立：", "Already done, not opened twice:"),
    "refused": ("不予办理（规则：", "Refused (rule: "),
    "return_loan": ("归还借用", "Return a loan"),
    "loan": ("借用编号", "Loan"),
    "return_count": ("归还数量（0 为全部）", "Count to return (0 = all outstanding)"),
    "submit_return": ("提交归还", "Return"),
    "returned_done": ("已归还", "Returned"),
    "evaluate_loan": ("到期绩效评估", "Evaluate an expired loan"),
    "score": ("评分（0–100）", "Score (0–100)"),
    "decision": ("结论", "Decision"),
    "decision_extend": ("延期", "extend"),
    "decision_return": ("收回", "return"),
    "new_end": ("延期至", "Extend until"),
    "submit_evaluate": ("提交评估", "Record the evaluation"),
    "evaluated": ("已记录评估", "Evaluation recorded"),
    "no_expired": ("没有待评估的到期借用。", "No expired loan awaits an evaluation."),
    "rebuild": ("事业编制周转池到期重建", "Rebuild the institutional pool"),
    "period_end": ("本期到期日", "Current period ends"),
    "submit_rebuild": ("重建", "Rebuild"),
    "rebuilt": ("已重建，新一期到期日", "Rebuilt; the new period ends"),
    "sync": ("导入新的人员名册", "Apply a new headcount snapshot"),
    "sync_file": ("单位名册（CSV 或 Excel）", "Units snapshot (CSV or Excel)"),
    "submit_sync": ("导入并更新", "Apply the snapshot"),
    "synced": ("名册已导入：变动单位", "Snapshot applied: units changed"),
    "auto_returns": ("空一还一自动收回", "Returned automatically (return one when one is vacated)"),
    "no_auto_returns": ("本次没有自动收回。", "Nothing was returned automatically."),
    "cannot_write": (
        "只有审批人可以办理借用、归还、评估和导入名册。",
        "Only an approver may open, return or evaluate loans and apply snapshots.",
    ),
    "audit_title": ("审计记录", "Audit trail"),
    "filter_unit": ("单位", "Unit"),
    "filter_loan": ("借用编号", "Loan"),
    "filter_actor": ("经办人", "Actor"),
    "filter_dates": ("日期范围（记录时间）", "Date range (recorded)"),
    "all": ("全部", "all"),
    "verify": ("校验完整性", "Verify the chain"),
    "verify_ok": (
        "校验通过：哈希链完整，全部不变量成立。事件数",
        "Verified: chain intact, every invariant holds. Events",
    ),
    "verify_failed": ("校验未通过：", "Verification failed:"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "export_json": ("导出 JSON", "Export JSON"),
    "events_shown": ("条记录", "events shown"),
    "overview_title": ("总览与预警", "Overview and alerts"),
    "alerts": ("预警", "Alerts"),
    "no_alerts": ("当前没有预警。", "No alerts."),
    "alert_over_quota": ("超编单位", "Over-quota units"),
    "alert_loan_expiring": ("即将到期的借用", "Loans expiring soon"),
    "alert_loan_overdue": ("已到期未评估的借用", "Overdue loans"),
    "alert_pool_below_lent": ("周转池容量低于已借出", "Pool below what is lent"),
    "alert_pool_suspended": ("行政周转池暂停", "Administrative pool suspended"),
    "alert_pool_period_ended": ("事业周转池到期待重建", "Institutional pool period ended"),
    "city_totals": ("全市编制（不含专户）", "City totals (special account excluded)"),
    "approved": ("核定编制", "Approved"),
    "headcount": ("实有人数（本单位编制）", "Headcount on own quota"),
    "vacancies": ("空编", "Vacancies"),
    "over_quota_units": ("超编单位数", "Units over quota"),
    "special_account": (
        "专户（周转池编制，单列管理）",
        "Special account (pool quotas, kept apart)",
    ),
    "pool_headcount": ("周转池编制上的人员", "People on pool quota"),
    "unit_loans": ("单位间调借（已借出）", "Unit-to-unit loans (lent)"),
}

LEVEL_LABELS = {
    "primary": ("小学", "primary"),
    "junior": ("初中", "junior"),
    "senior": ("高中", "senior"),
}

# Plan columns are shown in both languages whatever the switch says: plans are shared.
PLAN_COLUMNS = (
    "year",
    "county_id",
    "name",
    "need",
    "current",
    "new",
    "change",
    "shortfall_before",
    "shortfall_after",
    "coverage_before",
    "coverage_after",
    "limited_by",
)


def plan_header(column: str) -> str:
    from optimizer.output import HEADERS_ZH

    chinese = "决定因素" if column == "limited_by" else HEADERS_ZH.get(column, "")
    return f"{chinese} {column}".strip()


COUNTY_HEADERS = {
    "county_id": "区划代码 county_id",
    "name": "区划名称 name",
    "quota": "教职工编制 quota",
    "occupied": "在编人数 occupied",
    "attrition": "预计减员 attrition",
    "min_quota": "最低编制 min_quota",
    "max_gain": "最多增编 max_gain",
    "class": "城乡类别 class",
}


def lang() -> str:
    return "en" if st.session_state.get("lang") == "en" else "zh"


def t(key: str) -> str:
    zh, en = LABELS[key]
    return en if lang() == "en" else zh


def chart_labels() -> charts.ChartLabels:
    return charts.ENGLISH if lang() == "en" else charts.ChartLabels()


def role_label(role: str) -> str:
    return t(f"role_{role}")


# --- settings --------------------------------------------------------------------------------


def ledger_url() -> str:
    """QUOTAPOOL_DB as a SQLAlchemy URL (a bare path is a SQLite file), as the CLI reads it."""
    from pools.storage import normalise_url  # SQLAlchemy only when the ledger is needed

    return normalise_url(os.environ.get("QUOTAPOOL_DB", DEFAULT_DB_FILE))


def scenario_store() -> whatif.ScenarioStore:
    configured = os.environ.get("QUOTAPOOL_SCENARIOS_DIR")
    return whatif.ScenarioStore(
        Path(configured) if configured else whatif.default_store_dir(ledger_url())
    )


# --- sign-in ---------------------------------------------------------------------------------


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: nothing configured
        return False


def signed_in_user() -> User | None:
    """The signed-in user, or None after showing the sign-in form."""
    mode = access.sign_in_mode(_oidc_configured(), access.users_file_path())
    if mode == "demo":
        return access.DEMO_USER
    path = access.users_file_path()
    try:
        users = access.load_users(path) if path is not None else {}
    except access.UsersFileError as error:
        st.error(t("users_file_error"))
        st.code("\n".join([str(error.path), *error.problems]))
        return None
    if mode == "oidc":
        if not st.user.is_logged_in:
            if importlib.util.find_spec("authlib") is None:
                st.warning(t("oidc_needs_authlib"))
            st.button(t("sign_in_oidc"), on_click=st.login)
            return None
        email, name = st.user.get("email"), st.user.get("name")
        return access.oidc_user(
            users,
            email if isinstance(email, str) else None,
            name if isinstance(name, str) else None,
        )
    user = st.session_state.get("user")
    if isinstance(user, User):
        return user
    _password_form(users)
    return None


def _password_form(users: dict[str, access.StoredUser]) -> None:
    st.title(t("app_title"))
    with st.form("sign_in"):
        username = st.text_input(t("username"), key="sign_in_username")
        password = st.text_input(t("password"), type="password", key="sign_in_password")
        submitted = st.form_submit_button(t("sign_in"))
    if submitted:
        user = access.authenticate(users, username, password)
        if user is None:
            st.error(t("sign_in_failed"))
        else:
            st.session_state["user"] = user
            st.rerun()


def _sign_out() -> None:
    if st.session_state.get("user") is not None:
        del st.session_state["user"]
    elif _oidc_configured():
        st.logout()


def current_user() -> User:
    user = st.session_state.get("_current_user")
    assert isinstance(user, User), "pages run only after sign-in"
    return user


def _sidebar(user: User) -> None:
    with st.sidebar:
        st.caption(f"{t('signed_in_as')}: **{user.display_name}** ({role_label(user.role)})")
        if user.source == "demo":
            st.warning(t("demo_mode"))
        else:
            st.button(t("sign_out"), on_click=_sign_out, key="sign_out")


# --- what-if: teacher allocation -------------------------------------------------------------


def starting_scenario_path() -> Path:
    return Path(os.environ.get("QUOTAPOOL_SCENARIO", SAMPLE_SCENARIO))


def _read_scenario(path: Path) -> dict[str, Any] | None:
    """A scenario file's checked inputs and settings; None after showing what is wrong."""
    from optimizer.scenario import load_inputs, load_scenario

    try:
        scenario = load_scenario(path)
        counties, enrolment = load_inputs(scenario)
    except InputErrors as errors:
        st.error(f"{t('sample_missing')} {path}")
        st.code(errors.report())
        return None
    return {
        "name": scenario.name,
        "counties": counties.reset_index(drop=True),
        "enrolment": enrolment.reset_index(drop=True),
        "standards": scenario.standards,
        "policy": scenario.policy,
    }


def _starting_scenario() -> dict[str, Any] | None:
    """The what-if inputs in this session: the sample city until something else is loaded."""
    state = st.session_state.get("whatif")
    if state is not None:
        return state
    state = _read_scenario(starting_scenario_path())
    if state is None:
        return None
    state["version"] = 0
    st.session_state["whatif"] = state
    return state


def _replace_inputs(
    state: dict[str, Any], counties: pd.DataFrame, enrolment: pd.DataFrame, name: str
) -> None:
    state["counties"] = counties.reset_index(drop=True)
    state["enrolment"] = enrolment.reset_index(drop=True)
    state["name"] = name
    state["version"] += 1  # new editor keys: edits of the old tables are dropped
    for key in [k for k in st.session_state if str(k).startswith("wi_")]:
        del st.session_state[key]  # the settings form shows the new scenario's values


def _bundled_section(state: dict[str, Any]) -> None:
    """Start again from one of the scenario files next to the starting one."""
    files = sorted(starting_scenario_path().parent.glob("*.toml"))
    if not files:
        return
    with st.expander(t("load_bundled")):
        chosen = st.selectbox(t("scenario"), files, format_func=lambda p: p.stem, key="bundled")
        if st.button(t("load"), key="load_bundled") and chosen is not None:
            loaded = _read_scenario(chosen)
            if loaded is None:
                return
            _replace_inputs(state, loaded["counties"], loaded["enrolment"], loaded["name"])
            state["standards"], state["policy"] = loaded["standards"], loaded["policy"]
            st.rerun()


def _upload_section(state: dict[str, Any]) -> None:
    with st.expander(t("upload")):
        kinds = ["csv", "xlsx"]
        counties_file = st.file_uploader(t("upload_counties"), type=kinds, key="up_counties")
        enrolment_file = st.file_uploader(t("upload_enrolment"), type=kinds, key="up_enrolment")
        if not st.button(t("upload_load"), key="up_load"):
            return
        if counties_file is None or enrolment_file is None:
            st.warning(t("upload_need_both"))
            return
        try:
            counties, enrolment = whatif.check_uploaded(
                (counties_file.name, counties_file.getvalue()),
                (enrolment_file.name, enrolment_file.getvalue()),
                class_required=state["standards"].by_class is not None,
            )
        except InputErrors as errors:
            st.error(t("input_rejected"))
            st.code(errors.report())
            return
        _replace_inputs(state, counties, enrolment, Path(counties_file.name).stem)
        st.success(t("upload_loaded"))


def _county_editor(state: dict[str, Any], editable: bool) -> pd.DataFrame:
    st.subheader(t("counties_table"))
    counties: pd.DataFrame = state["counties"]
    number = st.column_config.NumberColumn
    config: dict[str, Any] = {
        column: number(COUNTY_HEADERS[column], min_value=0, step=1, format="%d")
        for column in ("quota", "occupied", "attrition", "min_quota", "max_gain")
    }
    config["county_id"] = st.column_config.TextColumn(COUNTY_HEADERS["county_id"])
    config["name"] = st.column_config.TextColumn(COUNTY_HEADERS["name"])
    if "class" in counties.columns:
        config["class"] = st.column_config.SelectboxColumn(
            COUNTY_HEADERS["class"], options=["urban", "town", "rural"]
        )
    edited = st.data_editor(
        counties,
        key=f"counties_editor_{state['version']}",
        hide_index=True,
        column_config=config,
        disabled=True if not editable else ["county_id"],
    )
    return edited


def _enrolment_editor(state: dict[str, Any], editable: bool) -> pd.DataFrame:
    """Students per county and level; returns the long table the optimiser reads."""
    st.subheader(t("enrolment_table"))
    enrolment: pd.DataFrame = state["enrolment"]
    key = f"enrolment_editor_{state['version']}"
    if whatif.is_multi_year(enrolment):  # one row per county, level and year
        return st.data_editor(
            enrolment,
            key=key,
            hide_index=True,
            disabled=not editable or ["county_id", "level", "year"],
        )
    wide = whatif.enrolment_wide(enrolment, state["counties"])
    config: dict[str, Any] = {"county_id": st.column_config.TextColumn(COUNTY_HEADERS["county_id"])}
    for level, (zh, en) in LEVEL_LABELS.items():
        config[level] = st.column_config.NumberColumn(
            f"{zh} {en}", min_value=0, step=1, format="%d"
        )
    edited = st.data_editor(
        wide,
        key=key,
        hide_index=True,
        column_config=config,
        disabled=True if not editable else ["county_id"],
    )
    return whatif.enrolment_long(edited)


def _settings_form(state: dict[str, Any], editable: bool) -> None:
    """Standards and policy; submitting applies them (the plan follows every change)."""
    from optimizer.need import LEVELS, STANDARDS_2001, Standards
    from optimizer.plan import OBJECTIVES, SOLVERS, Policy

    standards: Standards = state["standards"]
    policy: Policy = state["policy"]
    with st.form("whatif_settings"):
        st.subheader(t("settings"))
        edition = st.radio(
            t("edition"),
            ["2014", "2001"],
            index=0 if standards.by_class is None else 1,
            format_func=lambda e: t(f"edition_{e}"),
            horizontal=True,
            disabled=not editable,
            key="wi_edition",
        )
        st.caption(t("per_level"))
        columns = st.columns(len(LEVELS))
        per_level = {}
        for column, level in zip(columns, LEVELS, strict=True):
            zh, en = LEVEL_LABELS[level]
            per_level[level] = column.number_input(
                f"{zh} {en}",
                min_value=0.5,
                value=float(standards.per_level[level]),
                step=0.5,
                disabled=not editable,
                key=f"wi_standard_{level}",
            )
        extra = st.number_input(
            t("extra_quota"),
            min_value=0,
            value=int(policy.extra_quota),
            step=1,
            disabled=not editable,
            key="wi_extra",
        )
        objective = st.selectbox(
            t("objective"),
            OBJECTIVES,
            index=OBJECTIVES.index(policy.objective),
            format_func=lambda o: t(f"objective_{o}") if f"objective_{o}" in LABELS else o,
            disabled=not editable,
            key="wi_objective",
        )
        solver = st.selectbox(
            t("solver"),
            SOLVERS,
            index=SOLVERS.index(policy.solver),
            disabled=not editable,
            key="wi_solver",
        )
        submitted = st.form_submit_button(t("solve"), disabled=not editable, type="primary")
    if submitted and editable:
        by_class = None
        if edition == "2001":
            by_class = standards.by_class if standards.by_class is not None else STANDARDS_2001
        state["standards"] = Standards(per_level=per_level, by_class=by_class)
        state["policy"] = Policy(
            extra_quota=int(extra),
            objective=str(objective),
            solver=str(solver),
            attrition_years=policy.attrition_years,
            time_limit=policy.time_limit,
        )


# Cached by value: changing only the policy re-solves without re-reading the tables, and
# going back to an earlier setting answers at once.
@st.cache_data(show_spinner=False, max_entries=64)
def _checked_inputs(
    counties: pd.DataFrame, enrolment: pd.DataFrame, class_required: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return whatif.check_inputs(counties, enrolment, class_required=class_required)


@st.cache_data(show_spinner=False, max_entries=64)
def _plan(counties: pd.DataFrame, enrolment: pd.DataFrame, standards: Any, policy: Any) -> Any:
    from optimizer.plan import make_plan

    return make_plan(counties, enrolment, standards, policy)


def _solve(state: dict[str, Any], counties: pd.DataFrame, enrolment: pd.DataFrame) -> Any:
    """The plan for the edited tables, or None after showing why the input was rejected."""
    standards = state["standards"]
    try:
        checked_counties, checked_enrolment = _checked_inputs(
            counties, enrolment, standards.by_class is not None
        )
    except InputErrors as errors:
        st.error(t("input_rejected"))
        st.code(errors.report())
        return None
    return _plan(checked_counties, checked_enrolment, standards, state["policy"])


def plan_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """The plan with bilingual headers and the reason in the chosen language."""
    from optimizer.plan import LIMITED_BY_EN, LIMITED_BY_ZH

    reasons = LIMITED_BY_EN if lang() == "en" else LIMITED_BY_ZH
    shown = table.assign(limited_by=table["limited_by"].map(lambda c: reasons.get(c, c)))
    columns = [c for c in PLAN_COLUMNS if c in shown.columns]
    return shown[columns].rename(columns={c: plan_header(c) for c in columns})


def plan_column_config() -> dict[str, Any]:
    """Need and shortfalls with one decimal, coverage as a percentage."""
    number = st.column_config.NumberColumn
    config: dict[str, Any] = {
        plan_header(c): number(format="%.1f")
        for c in ("need", "shortfall_before", "shortfall_after")
    }
    config.update(
        {plan_header(c): number(format="percent") for c in ("coverage_before", "coverage_after")}
    )
    return config


def _show_summary(summary: dict[str, Any]) -> None:
    status = summary.get("status", "error")
    if status != "optimal":
        st.error(t(f"status_{status}") if f"status_{status}" in LABELS else status)
        lines = summary.get("explanation_zh" if lang() == "zh" else "explanation") or summary.get(
            "explanation", []
        )
        for line in lines:
            st.markdown(f"- {line}")
        return
    st.success(f"{t('status_optimal')} · {summary.get('solver')} · {summary.get('objective')}")
    cells = st.columns(6)
    cells[0].metric(t("total_before"), f"{summary['total_before']:,}")
    cells[1].metric(t("total_after"), f"{summary['total_after']:,}")
    cells[2].metric(t("max_relative_shortfall"), f"{summary['max_relative_shortfall']:.2%}")
    cells[3].metric(t("total_shortfall"), f"{summary['total_shortfall']:,.1f}")
    cells[4].metric(t("moved"), f"{summary['moved']:,}")
    cells[5].metric(t("seconds"), f"{summary['seconds']:.3f}")


def show_chart(chart: Any) -> None:
    """Draw an altair chart without re-validating its schema on every rerun.

    The chart builders' specs are validated in their tests (tests/app/test_charts.py);
    skipping the JSON-schema check here saves most of the time a re-solve takes.
    """
    st.vega_lite_chart(chart.to_dict(validate=False))


def _show_plan(name: str, result: Any) -> None:
    st.header(f"{t('plan')}: {name}")
    _show_summary(result.summary)
    if result.summary.get("status") != "optimal":
        return
    table = result.table
    st.dataframe(plan_for_display(table), hide_index=True, column_config=plan_column_config())
    left, right = st.columns(2)
    with left:
        st.subheader(t("chart_need"))
        show_chart(charts.need_current_new_chart(table, chart_labels()))
    with right:
        st.subheader(t("chart_coverage"))
        show_chart(charts.coverage_chart(table, chart_labels()))
    # Files are written only when a button is clicked: re-solving stays instant.
    first, second = st.columns(2)
    first.download_button(
        t("download_csv"),
        lambda: whatif.plan_csv(table),
        file_name=f"{name}-plan.csv",
        mime="text/csv",
    )
    second.download_button(
        t("download_xlsx"),
        lambda: whatif.plan_xlsx(table, result.summary),
        file_name=f"{name}-plan.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _save_section(
    state: dict[str, Any], counties: pd.DataFrame, enrolment: pd.DataFrame, result: Any, user: User
) -> None:
    if not access.can(user, Action.SAVE_SCENARIO) or result.summary.get("status") != "optimal":
        return
    with st.form("save_scenario"):
        name = st.text_input(t("save_as"), value=state["name"], key="save_name")
        submitted = st.form_submit_button(t("save"))
    if not submitted:
        return
    if not name.strip():
        st.warning(t("save_needs_name"))
        return
    access.require(user, Action.SAVE_SCENARIO)
    scenario_store().save(
        whatif.saved_scenario(
            name.strip(),
            counties,
            enrolment,
            state["standards"],
            state["policy"],
            result.table,
            result.summary,
            saved_by=user.actor,
        )
    )
    st.success(f"{t('saved')} {name.strip()}")


def _compare_section(current: pd.DataFrame | None) -> None:
    st.header(t("compare"))
    store = scenario_store()
    names = store.names()
    current_label = t("compare_current")
    options = ([current_label] if current is not None else []) + names
    if not names:
        st.info(t("no_saved"))
    picked = st.multiselect(t("compare_pick"), options, key="compare_pick")
    if len(picked) < 2:
        st.caption(t("compare_hint"))
        return
    plans = {
        label: current if label == current_label and current is not None else store.load(label).plan
        for label in picked
    }
    table = whatif.comparison_table(plans)
    st.dataframe(table, hide_index=True, key="compare_table")
    st.subheader(t("chart_compare"))
    show_chart(charts.comparison_chart(plans, chart_labels()))


def _load_saved_section(state: dict[str, Any], editable: bool) -> None:
    names = scenario_store().names()
    if not names or not editable:
        return
    with st.expander(t("load_saved")):
        chosen = st.selectbox(t("scenario"), names, key="load_saved_name")
        if st.button(t("load"), key="load_saved"):
            saved = scenario_store().load(chosen)
            _replace_inputs(state, saved.counties, saved.enrolment, saved.name)
            state["standards"], state["policy"] = whatif.saved_settings(saved)
            st.rerun()


def whatif_page() -> None:
    user = current_user()
    st.title(t("whatif_title"))
    state = _starting_scenario()
    if state is None:
        return
    editable = access.can(user, Action.RUN_SCENARIO)
    st.caption(f"{t('scenario')}: **{state['name']}**")
    if editable:
        _bundled_section(state)
        _upload_section(state)
        _load_saved_section(state, editable)
    inputs, settings = st.columns([3, 1])
    with inputs:
        counties = _county_editor(state, editable)
        enrolment = _enrolment_editor(state, editable)
    # Keep the edits in the session: an editor's own state is dropped when another page is
    # shown. Cell edits re-applied to tables that already hold them change nothing.
    state["counties"], state["enrolment"] = counties, enrolment
    with settings:
        _settings_form(state, editable)
    if not editable:
        st.info(t("viewer_cannot_run"))
        _compare_section(None)
        return
    result = _solve(state, counties, enrolment)
    if result is None:
        return
    _show_plan(state["name"], result)
    _save_section(state, counties, enrolment, result, user)
    optimal = result.summary.get("status") == "optimal"
    _compare_section(result.table if optimal else None)


# --- the ledger: pools, loans, audit, overview ------------------------------------------------


@st.cache_resource(show_spinner=False)
def _ledger_for(url: str) -> Any:
    """One Ledger per URL for the whole server: it caches the folded state and locks writes."""
    from pools.ledger import Ledger

    return Ledger.open(url)


def ledger() -> Any:
    """The ledger, created from the sample units in demo mode; None after saying what is wrong."""
    from pools.ledger import Ledger, LedgerError
    from pools.storage import redact

    url = ledger_url()
    try:
        return _ledger_for(url)
    except LedgerError as error:
        if current_user().source != "demo" or not url.startswith("sqlite:///"):
            st.error(f"{t('no_ledger')} {redact(url)}")
            st.caption(f"{error} — {t('no_ledger_hint')}")
            return None
    units = Path(os.environ.get("QUOTAPOOL_UNITS", SAMPLE_UNITS))
    try:
        Ledger.create(url, units, actor=current_user().actor, reason="demo ledger").close()
    except InputErrors as errors:
        st.error(f"{t('no_ledger')} {redact(url)}")
        st.code(errors.report())
        return None
    except Exception:
        # Another session may have created it a moment ago; if not, opening says why.
        try:
            return _ledger_for(url)
        except LedgerError as error:
            st.error(f"{t('no_ledger')} {redact(url)}")
            st.caption(str(error))
            return None
    st.toast(f"{t('ledger_created')} {units.name}")
    return _ledger_for(url)


# Ledger tables keep both languages in their headers, like the plan.
LOAN_HEADERS = {
    "loan_id": "借用编号 loan_id",
    "pool": "来源 pool",
    "unit_id": "借用单位 unit_id",
    "count": "数量 count",
    "outstanding": "未归还 outstanding",
    "purpose": "用途 purpose",
    "opened": "开始 opened",
    "end": "到期 end",
    "status": "状态 status",
    "actor": "经办人 actor",
}
EVENT_HEADERS = {
    "seq": "序号 seq",
    "at": "记录时间 at",
    "effective": "生效日期 effective",
    "kind": "事件 kind",
    "actor": "经办人 actor",
    "reason": "事由 reason",
    "document": "文号 document",
    "payload": "内容 payload",
}


def _flash(kind: str, text: str) -> None:
    """Keep a message across the rerun that shows the ledger after a write."""
    st.session_state.setdefault("_flash", []).append((kind, text))


def _show_flash() -> None:
    for kind, text in st.session_state.pop("_flash", []):
        getattr(st, kind)(text)


def _refusal(error: Any) -> None:
    message = error.message_en if lang() == "en" else error.message_zh
    st.error(
        f"{t('refused')}{error.rule}）: {message}"
        if lang() == "zh"
        else f"{t('refused')}{error.rule}): {message}"
    )


def _unit_label(units: dict[str, dict[str, Any]]) -> Any:
    return lambda unit_id: f"{unit_id} {units[unit_id]['name']}" if unit_id in units else unit_id


def _pool_cards(status: dict[str, Any], loans: list[dict[str, Any]]) -> None:
    from datetime import date

    due = recovering_in_year(loans, date.fromisoformat(status["as_of"]).year)
    for column, pool in zip(st.columns(2), ("admin", "institutional"), strict=True):
        figures = status["pools"][pool]
        with column.container(border=True):
            st.subheader(t(f"pool_{pool}"))
            cells = st.columns(4)
            cells[0].metric(t("capacity"), figures["capacity"])
            cells[1].metric(t("lent"), figures["lent"])
            cells[2].metric(t("available"), figures["available"])
            cells[3].metric(t("recover_this_year"), due.get(pool, 0))
            if figures.get("suspended"):
                st.warning(t("pool_suspended"))


def _loans_table(status: dict[str, Any], loans: list[dict[str, Any]]) -> None:
    st.subheader(t("loans"))
    if not loans:
        st.info(t("no_loans"))
        return
    expiring = expiring_loans(status)
    frame = pd.DataFrame(loans)
    frame["status"] = [t(f"loan_status_{loan_display_status(x, expiring)}") for x in loans]
    st.dataframe(frame[list(LOAN_HEADERS)].rename(columns=LOAN_HEADERS), hide_index=True)


def _write(action: Any) -> Any:
    """Run one ledger write for the signed-in approver; a refusal shows its rule."""
    from pools.rules import RuleViolation

    access.require(current_user(), Action.WRITE_LEDGER)  # second line of defence behind the UI
    try:
        return action()
    except RuleViolation as error:
        _refusal(error)
        return None


def _open_loan_form(the_ledger: Any, status: dict[str, Any], allowed: bool) -> None:
    import uuid

    units = {u["unit_id"]: u for u in status["units"]}
    settings = the_ledger.settings()
    # One key per filled-in form: submitting the same form twice opens one loan, not two.
    key = st.session_state.setdefault("open_loan_key", uuid.uuid4().hex)
    with st.form("open_loan"):
        st.subheader(t("open_loan"))
        source = st.selectbox(
            t("from_pool"),
            ["admin", "institutional", "unit"],
            format_func=lambda p: t(f"pool_choice_{p}"),
            disabled=not allowed,
            key="loan_pool",
        )
        lender = st.selectbox(
            t("lender"),
            list(units),
            format_func=_unit_label(units),
            disabled=not allowed,
            key="loan_lender",
        )
        borrower = st.selectbox(
            t("borrower"),
            list(units),
            format_func=_unit_label(units),
            disabled=not allowed,
            key="loan_borrower",
        )
        count = st.number_input(
            t("count"), min_value=1, value=1, step=1, disabled=not allowed, key="loan_count"
        )
        purposes = sorted({*settings.admin_purposes, *settings.institutional_purposes})
        purpose = st.selectbox(
            t("purpose"),
            purposes,
            accept_new_options=True,
            disabled=not allowed,
            key="loan_purpose",
        )
        term = st.number_input(
            t("term_years"), min_value=0, value=0, step=1, disabled=not allowed, key="loan_term"
        )
        reason = st.text_input(t("reason"), disabled=not allowed, key="loan_reason")
        document = st.text_input(t("document"), disabled=not allowed, key="loan_document")
        submitted = st.form_submit_button(t("submit_open"), disabled=not allowed)
    if not (submitted and allowed):
        return
    pool = f"unit:{lender}" if source == "unit" else str(source)
    result = _write(
        lambda: the_ledger.open_loan(
            pool=pool,
            unit_id=str(borrower),
            count=int(count),
            purpose=str(purpose or ""),
            actor=current_user().actor,
            term_years=int(term) or None,
            key=key,
            reason=reason,
            document=document,
        )
    )
    if result is None:
        return
    if result["replayed"]:
        _flash("info", f"{t('replayed')} {result['loan_id']}")
    else:
        _flash("success", f"{t('opened')}: {result['loan_id']}")
    del st.session_state["open_loan_key"]
    st.rerun()


def _fresh_choice(key: str, options: list[str]) -> None:
    """Forget a picked loan that is no longer offered, so the list starts at its first one."""
    if st.session_state.get(key) not in options:
        st.session_state.pop(key, None)


def _return_form(the_ledger: Any, loans: list[dict[str, Any]], allowed: bool) -> None:
    open_loans = [x["loan_id"] for x in loans if x["status"] != "closed"]
    _fresh_choice("ret_loan", open_loans)
    with st.form("return_loan"):
        st.subheader(t("return_loan"))
        loan_id = st.selectbox(t("loan"), open_loans, disabled=not allowed, key="ret_loan")
        count = st.number_input(
            t("return_count"), min_value=0, value=0, step=1, disabled=not allowed, key="ret_count"
        )
        reason = st.text_input(t("reason"), disabled=not allowed, key="ret_reason")
        submitted = st.form_submit_button(t("submit_return"), disabled=not allowed)
    if submitted and allowed and loan_id:
        result = _write(
            lambda: the_ledger.return_loan(
                str(loan_id), actor=current_user().actor, count=int(count) or None, reason=reason
            )
        )
        if result is not None:
            _flash("success", f"{t('returned_done')}: {loan_id}")
            st.rerun()


def _evaluate_form(the_ledger: Any, loans: list[dict[str, Any]], allowed: bool) -> None:
    from datetime import date, timedelta

    expired = [x["loan_id"] for x in loans if x["status"] == "expired"]
    _fresh_choice("eval_loan", expired)
    with st.form("evaluate_loan"):
        st.subheader(t("evaluate_loan"))
        if not expired:
            st.caption(t("no_expired"))
        loan_id = st.selectbox(t("loan"), expired, disabled=not allowed, key="eval_loan")
        score = st.number_input(
            t("score"),
            min_value=0,
            max_value=100,
            value=80,
            step=1,
            disabled=not allowed,
            key="eval_score",
        )
        decision = st.radio(
            t("decision"),
            ["extend", "return"],
            horizontal=True,
            format_func=lambda d: t(f"decision_{d}"),
            disabled=not allowed,
            key="eval_decision",
        )
        new_end = st.date_input(
            t("new_end"),
            value=date.today() + timedelta(days=365),
            disabled=not allowed,
            key="eval_new_end",
        )
        reason = st.text_input(t("reason"), disabled=not allowed, key="eval_reason")
        submitted = st.form_submit_button(t("submit_evaluate"), disabled=not allowed)
    if submitted and allowed and loan_id:
        result = _write(
            lambda: the_ledger.evaluate_loan(
                str(loan_id),
                score=int(score),
                decision=str(decision),
                new_end=new_end if decision == "extend" else None,
                actor=current_user().actor,
                reason=reason,
            )
        )
        if result is not None:
            _flash("success", f"{t('evaluated')}: {loan_id}")
            st.rerun()


def _rebuild_form(the_ledger: Any, status: dict[str, Any], allowed: bool) -> None:
    """到期重建: start the institutional pool's next period (the ledger checks it has ended)."""
    figures = status["pools"]["institutional"]
    with st.form("rebuild_pool"):
        st.subheader(t("rebuild"))
        st.caption(f"{t('period_end')}: {figures.get('period_end') or '—'}")
        capacity = st.number_input(
            t("capacity"),
            min_value=0,
            value=int(the_ledger.settings().institutional_capacity),
            step=1,
            disabled=not allowed,
            key="rebuild_capacity",
        )
        submitted = st.form_submit_button(t("submit_rebuild"), disabled=not allowed)
    if submitted and allowed:
        result = _write(
            lambda: the_ledger.rebuild_pool(actor=current_user().actor, capacity=int(capacity))
        )
        if result is not None:
            _flash("success", f"{t('rebuilt')}: {result.get('period_end', '')}")
            st.rerun()


def _sync_form(the_ledger: Any, allowed: bool) -> None:
    import tempfile

    with st.form("sync_units"):
        st.subheader(t("sync"))
        upload = st.file_uploader(
            t("sync_file"), type=["csv", "xlsx"], disabled=not allowed, key="sync_upload"
        )
        reason = st.text_input(t("reason"), disabled=not allowed, key="sync_reason")
        submitted = st.form_submit_button(t("submit_sync"), disabled=not allowed)
    if not (submitted and allowed and upload is not None):
        return
    with tempfile.TemporaryDirectory(prefix="quotapool-units-") as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            result = _write(
                lambda: the_ledger.sync(path, actor=current_user().actor, reason=reason)
            )
        except InputErrors as errors:
            st.error(t("input_rejected"))
            st.code(errors.report())
            return
    if result is None:
        return
    _flash("success", f"{t('synced')}: {len(result['changes'])}")
    st.session_state["last_sync_returns"] = result["returns"]
    st.rerun()


def _last_sync_returns() -> None:
    """What the last snapshot returned automatically (空一还一), shown once after it."""
    returns = st.session_state.pop("last_sync_returns", None)
    if returns is None:
        return
    st.markdown(f"**{t('auto_returns')}**")
    if returns:
        st.dataframe(pd.DataFrame(returns), hide_index=True, key="auto_returns")
    else:
        st.caption(t("no_auto_returns"))


def pools_page() -> None:
    st.title(t("pools_title"))
    the_ledger = ledger()
    if the_ledger is None:
        return
    allowed = access.can(current_user(), Action.WRITE_LEDGER)
    _show_flash()
    _last_sync_returns()
    status = the_ledger.status()
    loans = the_ledger.loans()
    _pool_cards(status, loans)
    _loans_table(status, loans)
    if not allowed:
        st.info(t("cannot_write"))
    left, right = st.columns(2)
    with left:
        _open_loan_form(the_ledger, status, allowed)
        _sync_form(the_ledger, allowed)
    with right:
        _return_form(the_ledger, loans, allowed)
        _evaluate_form(the_ledger, loans, allowed)
        _rebuild_form(the_ledger, status, allowed)


def audit_page() -> None:
    import json

    st.title(t("audit_title"))
    the_ledger = ledger()
    if the_ledger is None:
        return
    if st.button(t("verify"), key="verify", type="primary"):
        result = the_ledger.verify()
        if result["ok"]:
            st.success(f"{t('verify_ok')}: {result['events']}")
        else:
            st.error(t("verify_failed"))
            for problem in result["problems"]:
                st.markdown(f"- {problem['seq'] or ''} {problem['problem']}")
    status = the_ledger.status()
    units = {u["unit_id"]: u for u in status["units"]}
    every = the_ledger.events_frame()
    columns = st.columns(4)
    unit = columns[0].selectbox(
        t("filter_unit"),
        [None, *units],
        key="audit_unit",
        format_func=lambda u: t("all") if u is None else _unit_label(units)(u),
    )
    loan_ids = [x["loan_id"] for x in the_ledger.loans()]
    loan = columns[1].selectbox(
        t("filter_loan"),
        [None, *loan_ids],
        key="audit_loan",
        format_func=lambda x: t("all") if x is None else x,
    )
    actors = sorted(every["actor"].unique()) if not every.empty else []
    actor = columns[2].selectbox(
        t("filter_actor"),
        [None, *actors],
        key="audit_actor",
        format_func=lambda x: t("all") if x is None else x,
    )
    dates = columns[3].date_input(t("filter_dates"), value=[], key="audit_dates")
    picked = list(dates) if isinstance(dates, tuple | list) else [dates]
    start, end = [*picked, None, None][:2]
    end = end or start  # one day picked: that day
    events = the_ledger.events_frame(unit_id=unit, loan_id=loan)
    shown = filter_events(events, actor, start, end)
    st.caption(f"{len(shown)} {t('events_shown')}")
    view = [c for c in EVENT_HEADERS if c in shown.columns]
    table = shown[view].copy()
    if "payload" in table.columns:
        table["payload"] = table["payload"].map(lambda p: json.dumps(p, ensure_ascii=False))
    st.dataframe(table.rename(columns=EVENT_HEADERS), hide_index=True)
    records = shown.to_dict("records")
    first, second = st.columns(2)
    first.download_button(
        t("export_csv"),
        table.to_csv(index=False).encode("utf-8-sig"),
        file_name="audit-log.csv",
        mime="text/csv",
    )
    second.download_button(
        t("export_json"),
        json.dumps({"events": records}, ensure_ascii=False, indent=1, default=str),
        file_name="audit-log.json",
        mime="application/json",
    )


def overview_page() -> None:
    st.title(t("overview_title"))
    the_ledger = ledger()
    if the_ledger is None:
        return
    status = the_ledger.status()
    st.header(t("alerts"))
    if not status["alerts"]:
        st.success(t("no_alerts"))
    kinds = list(dict.fromkeys(a["kind"] for a in status["alerts"]))
    for kind in kinds:
        found = [a for a in status["alerts"] if a["kind"] == kind]
        label = t(f"alert_{kind}") if f"alert_{kind}" in LABELS else kind
        with st.expander(f"{label}: {len(found)}", expanded=kind != "over_quota"):
            for alert in found:
                st.markdown(f"- {alert['message']}")
    totals = city_totals(status)
    st.header(t("city_totals"))
    cells = st.columns(4)
    cells[0].metric(t("approved"), f"{totals['approved']:,}")
    cells[1].metric(t("headcount"), f"{totals['headcount']:,}")
    cells[2].metric(t("vacancies"), f"{totals['vacancies']:,}")
    cells[3].metric(t("over_quota_units"), totals["over_quota_units"])
    st.header(t("special_account"))
    cells = st.columns(4)
    pools = status["pools"]
    for cell, pool in zip(cells[:2], ("admin", "institutional"), strict=True):
        figures = pools[pool]
        cell.metric(
            f"{t(f'pool_{pool}')} · {t('lent')}", f"{figures['lent']} / {figures['capacity']}"
        )
    cells[2].metric(t("pool_headcount"), totals["pool_headcount"])
    cells[3].metric(t("unit_loans"), totals["unit_loans_lent"])


# --- the app ---------------------------------------------------------------------------------

PAGES = {
    "overview": (overview_page, "page_overview", ":material/dashboard:"),
    "whatif": (whatif_page, "page_whatif", ":material/school:"),
    "pools": (pools_page, "page_pools", ":material/account_balance:"),
    "audit": (audit_page, "page_audit", ":material/receipt_long:"),
}


def main(start: str = "whatif") -> None:
    st.set_page_config(page_title="quotapool", layout="wide")
    with st.sidebar:
        st.segmented_control(
            LABELS["language"][0],
            ["zh", "en"],
            format_func=lambda code: "中文" if code == "zh" else "English",
            default="zh",
            key="lang",
        )
    user = signed_in_user()
    if user is None:
        st.stop()
    st.session_state["_current_user"] = user
    _sidebar(user)
    pages = [
        st.Page(function, title=t(title), icon=icon, url_path=name, default=name == start)
        for name, (function, title, icon) in PAGES.items()
    ]
    st.navigation(pages).run()


if __name__ == "__main__":
    main()
