"""quotapool's app for planners: `streamlit run app.py`.

A thin UI over the same functions as the command line: teacher-quota plans come from
`optimizer.plan.make_plan`, inputs are checked by `optimizer.io`, pools and loans live in the
ledger (`pools.ledger`), who may do what is decided by `pools.access`, charts are built by
`optimizer.charts`. No business rule lives in this file.

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

import os
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from optimizer import charts, whatif
from pools import access
from pools.access import Action, User
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
    "load": ("载入", "Load"),
    "no_saved": ("还没有保存的方案。", "No saved scenarios yet."),
}

LEVEL_LABELS = {"primary": ("小学", "primary"), "junior": ("初中", "junior"),
                "senior": ("高中", "senior")}  # fmt: skip

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
    """QUOTAPOOL_DB as a URL; a bare path means a SQLite file."""
    value = os.environ.get("QUOTAPOOL_DB", DEFAULT_DB_FILE)
    return value if "://" in value else f"sqlite:///{value}"


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


def _starting_scenario() -> dict[str, Any] | None:
    """The what-if inputs in this session: the sample city until something else is loaded."""
    state = st.session_state.get("whatif")
    if state is not None:
        return state
    from optimizer.scenario import load_inputs, load_scenario

    path = Path(os.environ.get("QUOTAPOOL_SCENARIO", SAMPLE_SCENARIO))
    try:
        scenario = load_scenario(path)
        counties, enrolment = load_inputs(scenario)
    except InputErrors as errors:
        st.error(f"{t('sample_missing')} {path}")
        st.code(errors.report())
        return None
    state = {
        "name": scenario.name,
        "counties": counties.reset_index(drop=True),
        "enrolment": enrolment.reset_index(drop=True),
        "standards": scenario.standards,
        "policy": scenario.policy,
        "version": 0,
    }
    st.session_state["whatif"] = state
    return state


def _replace_inputs(state: dict[str, Any], counties: pd.DataFrame, enrolment: pd.DataFrame,
                    name: str) -> None:  # fmt: skip
    state["counties"] = counties.reset_index(drop=True)
    state["enrolment"] = enrolment.reset_index(drop=True)
    state["name"] = name
    state["version"] += 1  # new editor keys: edits of the old tables are dropped


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
        return st.data_editor(enrolment, key=key, hide_index=True, disabled=not editable or
                              ["county_id", "level", "year"])  # fmt: skip
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


def _solve(state: dict[str, Any], counties: pd.DataFrame, enrolment: pd.DataFrame) -> Any:
    """The plan for the edited tables, or None after showing why the input was rejected."""
    from optimizer.plan import make_plan

    standards = state["standards"]
    try:
        checked_counties, checked_enrolment = whatif.check_inputs(
            counties, enrolment, class_required=standards.by_class is not None
        )
    except InputErrors as errors:
        st.error(t("input_rejected"))
        st.code(errors.report())
        return None
    return make_plan(checked_counties, checked_enrolment, standards, state["policy"])


def plan_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """The plan with bilingual headers and the reason in the chosen language."""
    from optimizer.plan import LIMITED_BY_EN, LIMITED_BY_ZH

    reasons = LIMITED_BY_EN if lang() == "en" else LIMITED_BY_ZH
    shown = table.assign(limited_by=table["limited_by"].map(lambda c: reasons.get(c, c)))
    columns = [c for c in PLAN_COLUMNS if c in shown.columns]
    return shown[columns].rename(columns={c: plan_header(c) for c in columns})


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


def _show_plan(name: str, result: Any) -> None:
    st.header(f"{t('plan')}: {name}")
    _show_summary(result.summary)
    if result.summary.get("status") != "optimal":
        return
    table = result.table
    st.dataframe(plan_for_display(table), hide_index=True, key="plan_table")
    left, right = st.columns(2)
    with left:
        st.subheader(t("chart_need"))
        st.altair_chart(charts.need_current_new_chart(table, chart_labels()))
    with right:
        st.subheader(t("chart_coverage"))
        st.altair_chart(charts.coverage_chart(table, chart_labels()))
    csv_bytes, xlsx_bytes = whatif.plan_downloads(table, result.summary)
    first, second = st.columns(2)
    first.download_button(
        t("download_csv"), csv_bytes, file_name=f"{name}-plan.csv", mime="text/csv"
    )
    second.download_button(
        t("download_xlsx"),
        xlsx_bytes,
        file_name=f"{name}-plan.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _save_section(state: dict[str, Any], counties: pd.DataFrame, enrolment: pd.DataFrame,
                  result: Any, user: User) -> None:  # fmt: skip
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
    standards = state["standards"]
    scenario_store().save(
        whatif.SavedScenario(
            name=name.strip(),
            counties=counties,
            enrolment=enrolment,
            standards={
                "per_level": dict(standards.per_level),
                "by_class": None
                if standards.by_class is None
                else {k: dict(v) for k, v in standards.by_class.items()},
            },
            policy={
                "extra_quota": state["policy"].extra_quota,
                "objective": state["policy"].objective,
                "solver": state["policy"].solver,
            },
            plan=result.table,
            summary=result.summary,
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
    st.altair_chart(charts.comparison_chart(plans, chart_labels()))


def _load_saved_section(state: dict[str, Any], editable: bool) -> None:
    from optimizer.need import Standards
    from optimizer.plan import Policy

    names = scenario_store().names()
    if not names or not editable:
        return
    with st.expander(t("load_saved")):
        chosen = st.selectbox(t("scenario"), names, key="load_saved_name")
        if st.button(t("load"), key="load_saved"):
            saved = scenario_store().load(chosen)
            _replace_inputs(state, saved.counties, saved.enrolment, saved.name)
            state["standards"] = Standards(
                per_level=saved.standards["per_level"], by_class=saved.standards["by_class"]
            )
            state["policy"] = Policy(**saved.policy)
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
        _upload_section(state)
        _load_saved_section(state, editable)
    inputs, settings = st.columns([3, 1])
    with inputs:
        counties = _county_editor(state, editable)
        enrolment = _enrolment_editor(state, editable)
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


# --- the app ---------------------------------------------------------------------------------

PAGES = {
    "whatif": (whatif_page, "page_whatif", ":material/school:"),
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
