"""Quota-use plans (用编计划) and the quarterly problem report (季通报) as report workbooks
(SPEC 3.7), with the same writer and 说明 sheet as the loans register and the audit trail
(`pools.ledger_reports`). The command line (`useplan status --xlsx`, `problem report --xlsx`)
and the app's pools page call these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from pools.ledger_reports import ALL, ledger_notes, unit_names, unit_text
from pools.report_book import WHOLE_FORMAT, Column, Report, write_report

if TYPE_CHECKING:
    from pools.ledger import Ledger

QUOTAS = ("编制数", "Quotas")
DATES = ("日期", "Dates")
PLANS_TITLE = "用编计划执行情况 / Quota-use plans"
CHANNELS_TITLE = "用编计划按用编形式汇总 / Quota-use plans by hiring channel"
PROBLEMS_TITLE = "问题整改季度通报 / Quarterly report of rectification problems"
PROBLEM_COUNTS_TITLE = "未整改问题按单位和类型汇总 / Open problems by unit and kind"

FIGURE_COLUMNS = (
    Column("approved", "批准", "Approved", WHOLE_FORMAT, total=True, group=QUOTAS),
    Column("used", "已使用", "Used", WHOLE_FORMAT, total=True, group=QUOTAS),
    Column("lapsed", "过期", "Lapsed", WHOLE_FORMAT, total=True, group=QUOTAS),
    Column("withdrawn", "撤销", "Withdrawn", WHOLE_FORMAT, total=True, group=QUOTAS),
    Column("reserved", "未使用计划数", "Still reserved", WHOLE_FORMAT, total=True, group=QUOTAS),
)
PLAN_COLUMNS = (
    Column("plan_id", "计划编号", "Plan"),
    Column("unit", "单位", "Unit", max_width=30),
    Column("channel", "用编形式", "Channel"),
    Column("purpose", "用途", "Purpose", wrap=True, max_width=24),
    *FIGURE_COLUMNS,
    Column("approved_on", "批准日期", "Approved on", group=DATES),
    Column("until", "有效期至", "Valid until", group=DATES),
    Column("status", "状态", "Status"),
    Column("document", "文号", "Document", wrap=True, max_width=24),
    Column("actor", "经办人", "Recorded by"),
)
CHANNEL_COLUMNS = (Column("channel", "用编形式", "Channel"), *FIGURE_COLUMNS)
PROBLEM_COLUMNS = (
    Column("unit", "单位", "Unit", max_width=30),
    Column("kind", "问题类型", "Kind"),
    Column("problem_id", "问题编号", "Problem"),
    Column("document", "文号", "Document", wrap=True, max_width=24),
    Column("opened_on", "登记日期", "Recorded on", group=DATES),
    Column("deadline", "整改期限", "Deadline", group=DATES),
    Column("age_days", "已登记天数", "Days open", WHOLE_FORMAT),
    Column("past_deadline", "逾期未整改", "Past deadline"),
    Column("automatic", "来源", "Source"),
)
PROBLEM_COUNT_COLUMNS = (
    Column("unit", "单位", "Unit", max_width=30),
    Column("kind", "问题类型", "Kind"),
    Column("count", "未整改问题数", "Open problems", WHOLE_FORMAT, total=True),
    Column("past_deadline", "其中逾期", "Of which past deadline", WHOLE_FORMAT, total=True),
)
PLAN_STATUS_WORDS = {
    "open": ("执行中", "open"),
    "used": ("已用完", "used"),
    "lapsed": ("已过期", "lapsed"),
    "withdrawn": ("已撤销", "withdrawn"),
}
ITEMS = "单位：个（编制数：名）  Unit: items (quotas: persons)"


def plans_frame(
    plans: Sequence[Mapping[str, Any]], names: Mapping[str, str], lang: str = "zh"
) -> pd.DataFrame:
    """One row per quota-use plan, in words."""
    words = 0 if lang == "zh" else 1
    rows = [
        {
            **{column.key: plan.get(column.key) for column in PLAN_COLUMNS},
            "approved": int(plan["count"]),
            "unit": unit_text(plan["unit_id"], names),
            "status": PLAN_STATUS_WORDS.get(str(plan["status"]), (plan["status"],) * 2)[words],
            "document": plan.get("document") or None,
        }
        for plan in plans
    ]
    return pd.DataFrame(rows, columns=[column.key for column in PLAN_COLUMNS])


def useplans_book(
    ledger: Ledger,
    *,
    unit: str | None = None,
    year: int | None = None,
    as_of: dt.date | None = None,
    lang: str = "zh",
    source: str,
    today: dt.date | None = None,
) -> bytes:
    """用编计划 as a workbook: every plan (of `unit`, approved in `year`), the figures by
    hiring channel, and 说明."""
    found = ledger.useplans(unit_id=unit, year=year, as_of=as_of)
    status = ledger.status(as_of=as_of)
    plans = plans_frame(found["plans"], unit_names(ledger), lang)
    channels = pd.DataFrame(found["by_channel"], columns=[column.key for column in CHANNEL_COLUMNS])
    filters = [
        ("单位 Unit", unit or ALL),
        ("批准年度 Year approved", year or ALL),
    ]
    notes = ledger_notes(ledger, status, filters, len(plans), source, today)
    reports = [
        Report("用编计划 Plans", PLANS_TITLE, PLAN_COLUMNS, plans, frozen=1),
        Report("按用编形式 Channels", CHANNELS_TITLE, CHANNEL_COLUMNS, channels),
    ]
    return write_report(reports, notes, today=today)


def problems_frame(
    rows: Sequence[Mapping[str, Any]], names: Mapping[str, str], lang: str = "zh"
) -> pd.DataFrame:
    """The 季通报's rows in words: unit by name, yes/no and the problem's source."""
    zh = lang == "zh"
    yes, no = ("是", "否") if zh else ("yes", "no")
    auto, manual = ("月比对自动登记", "人工登记") if zh else ("monthly comparison", "by hand")
    shown = [
        {
            **{column.key: row.get(column.key) for column in PROBLEM_COLUMNS},
            "unit": unit_text(row["unit_id"], names),
            "document": row.get("document") or None,
            "past_deadline": yes if row.get("past_deadline") else no,
            "automatic": auto if row.get("automatic") else manual,
        }
        for row in rows
    ]
    return pd.DataFrame(shown, columns=[column.key for column in PROBLEM_COLUMNS])


def problem_counts(rows: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> pd.DataFrame:
    """Open problems counted by unit and kind (and how many of them are past deadline)."""
    counts: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        figures = counts.setdefault((str(row["unit_id"]), str(row["kind"])), [0, 0])
        figures[0] += 1
        figures[1] += 1 if row.get("past_deadline") else 0
    shown = [
        {"unit": unit_text(unit, names), "kind": kind, "count": n, "past_deadline": late}
        for (unit, kind), (n, late) in sorted(counts.items())
    ]
    return pd.DataFrame(shown, columns=[column.key for column in PROBLEM_COUNT_COLUMNS])


def problem_report_book(
    ledger: Ledger,
    quarter: str,
    *,
    lang: str = "zh",
    source: str,
    today: dt.date | None = None,
) -> bytes:
    """季通报 as a workbook: the open problems of `quarter` by unit, kind and age, their
    counts by unit and kind, and 说明."""
    report = ledger.problem_report(quarter)
    names = unit_names(ledger)
    rows = report["problems"]
    status = ledger.status()
    filters = [
        ("季度 Quarter", f"{report['quarter']} ({report['from']} – {report['to']})"),
        ("天数计至 Ages counted to", report["as_of"]),
    ]
    notes = ledger_notes(ledger, status, filters, len(rows), source, today)
    title = f"{PROBLEMS_TITLE}（{report['quarter']}）"
    reports = [
        Report("季通报 Report", title, PROBLEM_COLUMNS, problems_frame(rows, names, lang), ITEMS),
        Report(
            "按单位和类型 Counts",
            PROBLEM_COUNTS_TITLE,
            PROBLEM_COUNT_COLUMNS,
            problem_counts(rows, names),
            "单位：个  Unit: items",
        ),
    ]
    return write_report(reports, notes, today=today)
