"""Every word the app shows, in Chinese and English: one table, one lookup.

`t(key)` answers in the language picked in the sidebar (Chinese unless English is picked).
Table headers that people share (plan, counties, loans, events) carry both languages at
once, whatever the switch says. Widgets whose options are translated register their key
with `translated()`, so that a language switch can show their selection in the new words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sized
from typing import Any

import streamlit as st

from pools.audit_words import EVENT_NAMES

# ---- quota-use plans (SPEC 2.7) and the problem ledger (SPEC 2.8), issue 11 -------------------
BOOK_LABELS: dict[str, tuple[str, str]] = {
    "useplans_title": ("用编计划", "Quota-use plans"),
    "useplans_none": ("尚无用编计划。", "No quota-use plans yet."),
    "approve_plan": ("批准用编计划", "Approve a quota-use plan"),
    "submit_approve_plan": ("批准计划", "Approve the plan"),
    "plan_approved": ("已批准用编计划", "Quota-use plan approved"),
    "withdraw_plan": ("撤销用编计划", "Withdraw a quota-use plan"),
    "submit_withdraw_plan": ("撤销计划", "Withdraw the plan"),
    "plan_withdrawn": ("已撤销用编计划", "Quota-use plan withdrawn"),
    "problems_title": ("问题台账", "Rectification problems"),
    "problems_none": ("没有问题记录。", "No problems recorded."),
    "record_hire": ("登记进人", "Record a hire"),
    "hire_count": ("进人数", "People hired"),
    "submit_record_hire": ("登记进人", "Record the hire"),
    "hire_recorded": ("已登记进人（按用编计划核销）", "Hire recorded (posted to the plans)"),
    "snap_books": (
        "用编计划与问题台账（月比对）",
        "Quota-use plans and problems (monthly comparison)",
    ),
    "snap_posted": (
        "{unit_id} 进人 {count} 名，核销用编计划 {plan_id}",
        "{unit_id}: {count} hired, posted to plan {plan_id}",
    ),
    "snap_unplanned": (
        "{unit_id} 无计划进人 {count} 名",
        "{unit_id}: {count} hired without a plan",
    ),
    "snap_lapsed": (
        "用编计划 {plan_id}（{unit_id}）过期，未使用 {count} 名",
        "plan {plan_id} ({unit_id}) lapsed, {count} unused",
    ),
    "snap_problem_opened": (
        "登记问题 {problem_id}：{unit_id} {kind}，整改期限 {deadline}",
        "problem {problem_id} recorded: {unit_id} {kind}, deadline {deadline}",
    ),
    "snap_problem_closed": (
        "问题 {problem_id} 原因已消除，自动销号",
        "problem {problem_id} closed: its cause has gone",
    ),
    "problem_report_xlsx": ("导出 {quarter} 季通报（Excel）", "Quarterly report {quarter} (Excel)"),
    "problems_only_open": ("只看未销号问题", "Open problems only"),
    "open_problem": ("登记问题", "Record a problem"),
    "submit_open_problem": ("登记问题", "Record the problem"),
    "problem_opened": ("已登记问题", "Problem recorded"),
    "close_problem": ("问题销号", "Close a problem"),
    "submit_close_problem": ("销号", "Close the problem"),
    "problem_closed": ("已销号", "Problem closed"),
    "unit": ("单位", "Unit"),
    "channel_open_recruitment": ("公开招聘", "Open recruitment (公开招聘)"),
    "channel_selection": ("选调", "Selection (选调)"),
    "channel_military_transfer": ("军转安置", "Military transfer (军转安置)"),
    "channel_talent": ("人才引进", "Talent import (人才引进)"),
    "channel_other": ("其他", "Other (其他)"),
    "book_status_open": ("有效", "open"),
    "book_status_used": ("已用完", "used"),
    "book_status_lapsed": ("过期失效", "lapsed"),
    "book_status_withdrawn": ("已撤销", "withdrawn"),
    "book_status_closed": ("已销号", "closed"),
    "book_col_plan_id": ("计划编号", "Plan"),
    "book_col_problem_id": ("问题编号", "Problem"),
    "book_col_unit_id": ("单位", "Unit"),
    "book_col_count": ("计划数", "Quotas"),
    "book_col_channel": ("用编形式", "Channel"),
    "book_col_purpose": ("用途", "Purpose"),
    "book_col_approved_on": ("批准日期", "Approved on"),
    "book_col_until": ("有效期至", "Valid to"),
    "book_col_document": ("文号", "Document no."),
    "book_col_approved": ("批准", "Approved"),
    "book_col_used": ("已使用", "Used"),
    "book_col_lapsed": ("过期", "Lapsed"),
    "book_col_withdrawn": ("撤销", "Withdrawn"),
    "book_col_reserved": ("未使用计划数", "Still reserved"),
    "book_col_status": ("状态", "Status"),
    "book_col_kind": ("问题类型", "Kind"),
    "book_col_opened_on": ("登记日期", "Recorded on"),
    "book_col_deadline": ("整改期限", "Deadline"),
    "book_col_age_days": ("已挂账天数", "Age (days)"),
    "book_col_automatic": ("月比对自动登记", "Automatic"),
    "book_col_closed_on": ("销号日期", "Closed on"),
    "book_col_close_reason": ("销号理由", "Closing reason"),
}

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
    "demo_refused": (
        "演示模式（未配置登录，人人都是审批人）只能在本机地址上运行，当前地址 {address}"
        " 对网络开放。请配置登录（.streamlit/users.toml 或单点登录），"
        "或用 make app（仅本机 127.0.0.1）启动。",
        "Demo mode (no sign-in configured, every visitor an approver) runs only on an address"
        " of this machine, and {address} is open to the network. Configure sign-in"
        " (.streamlit/users.toml or OIDC) or start with make app (127.0.0.1 only).",
    ),
    "sign_in_not_configured_title": ("未配置登录", "Sign-in is not configured"),
    "sign_in_not_configured": (
        "本应用未配置登录，因此不提供任何功能。请配置用户文件（QUOTAPOOL_USERS 或"
        " .streamlit/users.toml）或单点登录（.streamlit/secrets.toml 的 [auth]）；"
        "仅在本机演示时，可用 make app（设置 QUOTAPOOL_DEMO=1，只监听 127.0.0.1）启动。",
        "This app has no sign-in configured, so it offers nothing. Configure a users file"
        " (QUOTAPOOL_USERS or .streamlit/users.toml) or OIDC ([auth] in"
        " .streamlit/secrets.toml); for a demonstration on this machine only, start it with"
        " make app (which sets QUOTAPOOL_DEMO=1 and listens on 127.0.0.1).",
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
    "input_problems": ("输入有误（共 {count} 处）：", "input rejected ({count} problem(s)):"),
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
    "download_json": ("下载测算摘要 JSON", "Download summary (JSON)"),
    "edited_mark": ("（已修改）", " (edited)"),
    "edits_made": (
        "在本页修改过的数据和设置（已记入下载文件）",
        "Edits made on this page (recorded in the downloads)",
    ),
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
        "请先用 `quotapool ledger init --db URL --units FILE --chain-key-file KEY`"
        "（演示可用 `--demo`）建立台账。",
        "Create it first with `quotapool ledger init --db URL --units FILE "
        "--chain-key-file KEY` (or `--demo` for a demonstration).",
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
    "loan_status_reversed": ("已冲销", "reversed (entered in error)"),
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
    "snapshot_applied": (
        "名册已导入：新增单位 {registered} 个，变更 {updated} 个，撤销 {removed} 个；"
        "写入事件 {events} 条",
        "Snapshot applied: {registered} units registered, {updated} updated, {removed} removed;"
        " {events} events written",
    ),
    "new_units": ("新增单位", "New units"),
    "capacity_change": (
        "{pool}容量 {before} → {after}，已借出 {lent}",
        "{pool}: capacity {before} → {after}, lent {lent}",
    ),
    "capacity_basis": ("（空编 {base} 的 {share}）", " ({share} of {base} vacancies)"),
    "expired_loans": ("已到期待评估的借用", "Loans expired, awaiting evaluation"),
    "new_alerts": ("新增预警", "New alerts"),
    "no_new_alerts": ("没有新增预警。", "No new alerts."),
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
    "export_xlsx": ("导出 Excel", "Export Excel"),
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
    "alert_unplanned_hire": ("无计划进人", "Hires without a plan"),
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
    # pages and roles (added with the split of app.py)
    "page_loan_desk": ("借用办理", "Loan desk"),
    "loan_desk_title": ("借用办理", "Loan desk"),
    "loan_desk_hint": (
        "办理借用、归还、评估和导入名册请到“借用办理”页。",
        "Open, return and evaluate loans and apply snapshots on the Loan desk page.",
    ),
    "language_zh": ("中文", "中文"),
    "language_en": ("English", "English"),
    # what the plan on screen was solved with
    "solved_with": ("测算口径", "Solved with"),
    "solved_extra": ("追加编制", "extra quotas"),
    # writes: effective date, confirmation of a manual return
    "effective": ("生效日期", "Effective date"),
    "return_preview": (
        "将归还借用 {loan}（借用单位 {unit}）的 {count} 个编制，人员转入本单位编制。",
        "Returning {count} of loan {loan} (borrower {unit}): its people move onto own quota.",
    ),
    "will_be_over_quota": (
        "{unit} 归还后将超编：{headcount}/{limit}",
        "{unit} will be over quota: {headcount}/{limit}",
    ),
    "no_over_quota": ("归还后没有单位超编。", "No unit will be over quota after the return."),
    "then_auto_returns": (
        "随后空一还一自动收回：{returns}",
        "Then returned automatically (return one when one is vacated): {returns}",
    ),
    "confirm_return": ("确认归还", "Confirm the return"),
    "cancel": ("取消", "Cancel"),
    # audit events
    # Event names: one table for the app and `quotapool audit log` (pools.audit_words).
    **{f"event_{kind}": names for kind, names in EVENT_NAMES.items()},
    **BOOK_LABELS,  # issue 11
    # Streamlit's own words where Streamlit lets them be set (issue 8.6)
    "choose_option": ("请选择", "Choose an option"),
    "choose_options": ("请选择（可多选）", "Choose options"),
    "choose_or_add": ("请选择或输入", "Choose or add an option"),
    "no_options": ("没有可选项", "No options to select"),
    "upload_help": (
        "把文件拖到框内，或点“Browse files”选择文件（CSV 或 Excel .xlsx，单个文件不超过 200MB）。",
        "Drop the file in the box or click Browse files (CSV or Excel .xlsx, up to 200MB a file).",
    ),
    "return_cancelled": ("已取消归还，未作任何记录。", "Return cancelled; nothing was recorded."),
    # projection page (SPEC 2.10)
    "page_projection": ("生源与减员预测", "Projection"),
    "projection_title": ("生源与减员预测", "Projected enrolment and departures"),
    "projection_intro": (
        "按年级递进法预测各区县在校生（一年级由六年前出生人口推算），按法定退休年龄"
        "（2025 年起渐进式延迟）和其他减员率预测减员。",
        "Enrolment is projected by cohort progression (grade 1 from births six years"
        " earlier); departures from the roster by statutory retirement age (raised"
        " gradually from 2025) plus other departures at a rate per year.",
    ),
    "projection_files": ("预测所用文件", "Files to project from"),
    "projection_use_bundled": ("使用示例文件预测", "Project the bundled files"),
    "projection_upload_run": ("用上传的文件预测", "Project the uploaded files"),
    "projection_need_history": (
        "请至少上传历年在校生表（按年级）。",
        "Upload at least the enrolment history (by grade).",
    ),
    "projection_upload_history": ("历年在校生（按年级）history", "Enrolment history by grade"),
    "projection_upload_births": ("出生人口 births（可选）", "Births (optional)"),
    "projection_upload_roster": (
        "在编教师名册 roster（可选，用于预测减员）",
        "Teacher roster (optional: projects departures)",
    ),
    "projection_upload_counties": (
        "区县编制表 counties（可选，默认示例区县）",
        "Counties table (optional; default: the bundled counties)",
    ),
    "projection_upload_help": (
        "未上传名册时不预测减员；上传名册时其他减员率按每年 1% 计。",
        "Without a roster no departures are projected; with one, other departures are"
        " counted at 1% a year.",
    ),
    "projection_years": ("预测年数", "Years to project"),
    "projection_band": ("区间", "Band"),
    "projection_band_option": ("第 {low} – {high} 百分位", "{low}th – {high}th percentile"),
    "projection_of": (
        "预测结果：{name}（{first}–{last} 年）",
        "Projection: {name} ({first}–{last})",
    ),
    "projection_where": ("查看", "Show"),
    "projection_city": ("全市合计", "Whole city"),
    "projection_city_band": (
        "全市区间为各区县区间之和（各区县误差不会同向，实际区间更窄）。",
        "The city's band is the sum of the counties' bands (wider than the city's own:"
        " counties do not all err the same way).",
    ),
    "projection_enrolment": ("预测在校生数", "Projected students"),
    "projection_departures": ("预测减员（人）", "Projected departures (people)"),
    "projection_no_roster": (
        "未提供名册，未预测减员。",
        "No roster given: no departures projected.",
    ),
    "projection_table": ("各区县预测在校生", "Projected students per county"),
    "projection_notes": ("预测说明", "Notes on the projection"),
    "year": ("年度", "Year"),
    "county": ("区县", "County"),
    "students": ("在校生数", "Students"),
    "level": ("学段", "Level"),
    "people": ("人数", "People"),
    "departure_kind": ("减员类型", "Kind"),
    "retirements": ("退休", "Retirements"),
    "other_departures": ("其他减员", "Other departures"),
    "send_to_whatif": ("送入模拟测算", "Send to what-if"),
    "sent_to_whatif": (
        "已送入模拟测算：{name}（多年方案，含逐年减员）。",
        "Sent to the what-if page: {name} (multi-year, with departures per year).",
    ),
    "whatif_title_projected": (
        "教师编制调配：模拟测算（预测方案）",
        "Teacher quota allocation: what-if (projected)",
    ),
    # uncertainty panel on the what-if page (SPEC 2.11)
    "uncertainty": ("不确定性分析（稳健方案）", "Uncertainty (robust plan)"),
    "uncertainty_intro": (
        "按相对误差随机生成多种生源情景，逐一求解，并求出在各情景下都稳妥的稳健方案。"
        "多年方案逐年分析；扇形图显示第一年。",
        "Draws many enrolment futures at a relative error, solves each, and finds one"
        " robust plan that holds up across them. A multi-year scenario is swept in every"
        " year; the fan shows the first year.",
    ),
    "sweep_draws": ("情景数", "Futures (draws)"),
    "sweep_error": ("相对误差（在校生数标准差占比）", "Relative error (sd of enrolment, share)"),
    "sweep_quantile": (
        "忽略最差情景的比例（分位数）",
        "Leave out the worst share of futures (quantile)",
    ),
    "sweep_seed": ("随机种子", "Seed"),
    "sweep_workers": ("本机工作进程数", "Local worker processes"),
    "sweep_run": ("运行不确定性分析", "Run the sweep"),
    "sweep_running": ("正在求解 {done}/{total} 个情景…", "Solving futures {done}/{total}…"),
    "sweep_done": (
        "已求解 {draws} 个情景（种子 {seed}，{seconds} 秒）。",
        "{draws} futures solved (seed {seed}, {seconds} s).",
    ),
    "sweep_year": ("分析年度：{year}", "Year swept: {year}"),
    "sweep_stale": (
        "输入或设置已改变，请重新运行不确定性分析。",
        "The inputs or settings have changed: run the sweep again.",
    ),
    "sweep_infeasible": (
        "第一年没有满足全部约束的方案，无法分析：",
        "No plan meets every limit of the first year; nothing to sweep:",
    ),
    "plan_current": ("当前方案", "Current plan"),
    "plan_robust": ("稳健方案", "Robust plan"),
    "plan_kind": ("方案", "Plan"),
    "sweep_worst": ("各情景中最大缺口比例", "Largest shortfall over all futures"),
    "sweep_expected": ("期望缺口总数", "Expected total shortfall"),
    "sweep_moved": ("调整编制数", "Quotas moved"),
    "sweep_fan": (
        "各区县缺口分布（第 10–90 百分位，横线为中位数）",
        "Shortfall per county over the futures (p10–p90, tick at the median)",
    ),
    "shortfall": ("缺编数", "Shortfall"),
    "sweep_robust_table": ("稳健方案", "The robust plan"),
    "download_robust_csv": ("下载稳健方案 CSV", "Download the robust plan (CSV)"),
    "download_robust_xlsx": ("下载稳健方案 Excel", "Download the robust plan (Excel)"),
}

# teacher plan applied to the ledger (SPEC 2.9), on the what-if page
LABELS.update(
    {
        "teacher_apply_title": ("应用到台账", "Apply to the ledger"),
        "teacher_apply_hint": (
            "将本页方案作为一组事件记入台账：各区县调出的编制进入市级教师编制池，再调入各区县。"
            "须填写批准文号；同一方案只能应用一次。",
            "Record the plan on this page in the ledger as one group of events: quota released"
            " by counties into the city's teacher pool, then allocated to counties. A document"
            " number is required; a plan is applied once.",
        ),
        "teacher_apply_review": ("预览应用结果", "Review the consequence"),
        "teacher_apply_confirm": ("确认应用到台账", "Confirm: apply to the ledger"),
        "teacher_apply_need_doc": ("请填写文号。", "Enter the document number."),
        "teacher_apply_consequence": (
            "将应用方案 {plan}{year}：{changed} 个区县编制变动，全市教职工编制 {before} → {after}"
            "（新增 {extra}）。",
            "Plan {plan}{year} will be applied: {changed} counties change, city teacher total"
            " {before} → {after} (extra {extra}).",
        ),
        "teacher_apply_first": (
            "台账尚无教职工编制账户：将按方案的现有编制登记 {count} 个区县。",
            "The ledger has no teacher accounts yet: {count} counties will be registered from"
            " the plan's current quotas.",
        ),
        "teacher_apply_done": ("已应用到台账：方案", "Applied to the ledger: plan"),
        "teacher_apply_cancelled": ("未应用。", "Not applied."),
        "teacher_apply_changed": (
            "方案已改变，请重新预览。",
            "The plan has changed since the review: review it again.",
        ),
        "teacher_county": ("区县", "County"),
        "teacher_before": ("现有编制", "Before"),
        "teacher_after": ("调整后编制", "After"),
        "teacher_change": ("增减", "Change"),
    }
)


LEVEL_LABELS = {
    "primary": ("小学", "primary"),
    "junior": ("初中", "junior"),
    "senior": ("高中", "senior"),
}

# Bilingual table headers: shared tables keep both languages whatever the switch says. Plan
# columns take their Chinese from optimizer.output.HEADERS_ZH, except the reason column.
PLAN_HEADERS_ZH = {"limited_by": "决定因素", "explanation": "说明"}
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
ENROLMENT_HEADERS = {
    "level": "学段 level",
    "students": "在校生数 students",
    "year": "年度 year",
    "classes": "班级数 classes",
}
COMPARISON_HEADERS = {"county_id": COUNTY_HEADERS["county_id"], "county": COUNTY_HEADERS["name"]}
RETURN_HEADERS = {
    "loan_id": "借用编号 loan_id",
    "unit_id": "借用单位 unit_id",
    "pool": "来源 pool",
    "count": "收回数量 count",
}
CLASSES = ("urban", "town", "rural")
CLASS_LABELS = {"urban": ("城市", "urban"), "town": ("县镇", "town"), "rural": ("农村", "rural")}
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

LANGUAGE_KEY = "lang"
_SHOWN_IN = "_labels_shown_in"  # the language the previous run showed
_TRANSLATED = "_labels_translated_keys"


def lang() -> str:
    return "en" if st.session_state.get(LANGUAGE_KEY) == "en" else "zh"


def t(key: str) -> str:
    zh, en = LABELS[key]
    return en if lang() == "en" else zh


def choice_placeholder(options: Sized, several: bool = False) -> str:
    """What an empty select box says: Streamlit's own words are English only."""
    if not len(options):
        return t("no_options")
    return t("choose_options" if several else "choose_option")


def t_or(key: str, fallback: str) -> str:
    """The label of `key` if the table has one (e.g. an alert kind), else `fallback`."""
    return t(key) if key in LABELS else fallback


def level_label(level: str) -> str:
    zh, en = LEVEL_LABELS[level]
    return f"{zh} {en}"


def class_label(county_class: str) -> str:
    zh, en = CLASS_LABELS.get(county_class, (county_class, county_class))
    return f"{zh} {en}" if zh != en else zh


def words_column(
    codes: Iterable[Any], words: Callable[[str], str], label: str | None = None
) -> Any:
    """A table column whose codes (loan_opened, admin…) are shown in the app's words; the
    table's data keep the codes."""
    return st.column_config.SelectboxColumn(
        label, options=sorted({str(code) for code in codes}), format_func=lambda c: words(str(c))
    )


def event_label(kind: str) -> str:
    return t_or(f"event_{kind}", kind)


def pool_label(pool: str) -> str:
    """A loan's source in words: a pool, or the lending unit of a unit-to-unit loan."""
    if pool.startswith("unit:"):
        return f"{t('lender')} {pool.removeprefix('unit:')}"
    return t_or(f"pool_choice_{pool}", pool)


def translated(key: str) -> str:
    """Register a widget key whose options are shown through `t`, and return it."""
    st.session_state.setdefault(_TRANSLATED, set()).add(key)
    return key


def language_changed() -> bool:
    """Whether this run shows another language than the previous one (and remember this one)."""
    previous = st.session_state.get(_SHOWN_IN)
    st.session_state[_SHOWN_IN] = lang()
    return previous is not None and previous != lang()


def refresh_translated(keys: Iterable[str] | None = None) -> None:
    """Set translated widgets to their own value, so the browser shows it in the new words.

    A widget's value travels as its shown text; after a language switch the browser's old text
    matches no option, and a radio would show nothing picked. Call before the widgets render.
    """
    for key in keys if keys is not None else st.session_state.get(_TRANSLATED, set()):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
