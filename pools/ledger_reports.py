"""The ledger's reports for people (SPEC 3.7): the loans register (借用台账) and the audit
trail, as report-grade workbooks (`pools.report_book`), the same from the CLI
(`quotapool loan list --xlsx`, `quotapool audit log --xlsx`) and from the app.

Each workbook ends with a sheet 说明 stating what produced it: the ledger (its URL without
password), the date it is read as of, the filters, the number of events and the hash of the
chain's head, so that a filed copy can be checked against the ledger later.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from pools.audit_words import (
    DEFAULT_ZONE,
    ZONE_SETTING,
    describe,
    event_name,
    pool_name,
    recorded_local,
)
from pools.report_book import (
    WHOLE_FORMAT,
    Column,
    NoteLine,
    Report,
    write_report,
)
from pools.reporting import expiring_loans, loan_display_status

if TYPE_CHECKING:
    from pools.ledger import Ledger

LOAN_STATUS_WORDS = {
    "in_use": ("使用中", "in use"),
    "expiring": ("即将到期", "expiring soon"),
    "overdue": ("已到期待评估", "overdue"),
    "returned": ("已归还", "returned"),
    "reversed": ("已冲销", "reversed"),
}
QUOTAS = ("编制数", "Quotas")
TERM = ("期限", "Term")
LOANS_COLUMNS = (
    Column("loan_id", "借用编号", "Loan"),
    Column("source", "来源", "Source"),
    Column("lender", "出借单位", "Lender"),
    Column("borrower", "借用单位", "Borrower", max_width=30),
    Column("count", "借用数", "Lent", WHOLE_FORMAT, total=True, group=QUOTAS),
    Column("returned", "已归还", "Returned", WHOLE_FORMAT, total=True, group=QUOTAS),
    Column("outstanding", "未归还", "Outstanding", WHOLE_FORMAT, total=True, group=QUOTAS),
    Column("purpose", "用途", "Purpose", wrap=True, max_width=24),
    Column("term", "年限", "Years", group=TERM),
    Column("opened", "开始日期", "Opened", group=TERM),
    Column("end", "到期日期", "Ends", group=TERM),
    Column("status", "状态", "Status"),
    Column("document", "文号", "Document", wrap=True, max_width=24),
    Column("actor", "经办人", "Recorded by"),
)
TIME = ("时间", "Time")
CONCERNS = ("涉及", "Concerns")
LOANS_TITLE = "编制周转池借用台账 / Register of quota loans"
AUDIT_TITLE = "编制周转池审计记录 / Audit trail of the quota ledger"
LEDGER_SECTION = "台账 Ledger"
FILTER_SECTION = "筛选条件 Filters"
TABLE_SECTION = "本表 This table"
ALL = "全部 all"


def _audit_columns() -> tuple[Column, ...]:
    zone = os.environ.get(ZONE_SETTING) or DEFAULT_ZONE
    zone_zh, zone_en = ("北京时间", "Beijing time") if zone == DEFAULT_ZONE else (zone, zone)
    return (
        Column("seq", "事件编号", "Event no."),
        Column("recorded", f"记录时间（{zone_zh}）", f"Recorded ({zone_en})", group=TIME),
        Column("effective", "生效日期", "Effective", group=TIME),
        Column("event", "事件", "Event"),
        Column("unit", "单位", "Unit", group=CONCERNS),
        Column("loan", "借用编号", "Loan", group=CONCERNS),
        Column("document", "文号", "Document", wrap=True, max_width=20),
        Column("actor", "经办人", "Actor"),
        Column("reason", "事由", "Reason", wrap=True, max_width=24),
        Column("details", "内容", "Details", wrap=True, max_width=48),
    )


# --- the loans register ----------------------------------------------------------------------


def unit_names(ledger: Ledger, events: Iterable[Mapping[str, Any]] = ()) -> dict[str, str]:
    """Unit names: the ledger's current units, and removed ones by the name they were
    registered under in `events`."""
    names: dict[str, str] = {}
    for event in events:
        payload = event.get("payload") or {}
        if event.get("kind") == "unit_registered":
            names[str(payload["unit_id"])] = str(payload.get("name", ""))
    for unit in ledger.status()["units"]:
        names[str(unit["unit_id"])] = str(unit["name"])
    return names


def unit_text(unit_id: Any, names: Mapping[str, str]) -> str | None:
    if not unit_id:
        return None
    name = names.get(str(unit_id))
    return f"{unit_id} {name}" if name else str(unit_id)


def term_text(opened: str, end: str | None, lang: str = "zh") -> str:
    """A loan's term in words: '3 年', '18 个月', or '至归还' when it has no end."""
    if not end:
        return "空一还一" if lang == "zh" else "until vacated"
    days = (dt.date.fromisoformat(end[:10]) - dt.date.fromisoformat(opened[:10])).days
    months = round(days / 30.4375)
    if months % 12 == 0:
        years = months // 12
        return f"{years} 年" if lang == "zh" else f"{years} years"
    return f"{months} 个月" if lang == "zh" else f"{months} months"


def loans_register(
    loans: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    status: Mapping[str, Any],
    names: Mapping[str, str],
    lang: str = "zh",
) -> pd.DataFrame:
    """One row per loan in words: source, lender and borrower by name, quotas lent, returned
    and outstanding, purpose, term, dates, status, 文号 and who recorded it."""
    opened = {str(e["payload"].get("loan_id")): e for e in events if e.get("kind") == "loan_opened"}
    expiring = expiring_loans(dict(status))
    words = 0 if lang == "zh" else 1
    rows = []
    for loan in loans:
        record = opened.get(str(loan["loan_id"]), {})
        shown = LOAN_STATUS_WORDS[loan_display_status(dict(loan), expiring)][words]
        rows.append(
            {
                "loan_id": loan["loan_id"],
                "source": pool_name(str(loan["pool"]), lang),
                "lender": unit_text(loan.get("lender"), names),
                "borrower": unit_text(loan["unit_id"], names),
                "count": int(loan["count"]),
                "returned": int(loan["count"]) - int(loan["outstanding"]),
                "outstanding": int(loan["outstanding"]),
                "purpose": loan["purpose"],
                "term": term_text(str(loan["opened"]), loan.get("end"), lang),
                "opened": str(loan["opened"]),
                "end": loan.get("end"),
                "status": shown,
                # the loan's 文号 as corrected (`ledger correct`), else its opening event's
                "document": loan.get("document") or record.get("document") or None,
                "actor": loan.get("actor"),
            }
        )
    return pd.DataFrame(rows, columns=[column.key for column in LOANS_COLUMNS])


def loans_register_book(
    ledger: Ledger,
    *,
    unit: str | None = None,
    open_only: bool = False,
    lang: str = "zh",
    source: str,
    today: dt.date | None = None,
) -> bytes:
    """借用台账 as a workbook: the loans (of `unit`, open ones only if asked) and 说明."""
    status = ledger.status()
    loans = ledger.loans(unit_id=unit, include_closed=not open_only)
    events = ledger.events()
    frame = loans_register(loans, events, status, unit_names(ledger, events), lang)
    filters = [("单位 Unit", unit or ALL), ("仅未结清 Open loans only", _yes_no(open_only))]
    notes = ledger_notes(ledger, status, filters, len(frame), source, today)
    report = Report("借用台账 Loans", LOANS_TITLE, LOANS_COLUMNS, frame, frozen=1)
    return write_report([report], notes, today=today)


# --- the audit trail -------------------------------------------------------------------------


def audit_trail(
    events: Sequence[Mapping[str, Any]], names: Mapping[str, str], lang: str = "zh"
) -> pd.DataFrame:
    """One row per event in the reader's words: recorded time in the office's zone, effective
    date, event name, unit and loan concerned, 文号, actor, reason, and what it did."""
    borrowers: dict[str, str] = {}
    rows = []
    for event in events:
        payload = dict(event.get("payload") or {})
        loan = payload.get("loan_id")
        if event.get("kind") == "loan_opened":
            borrowers[str(loan)] = str(payload.get("borrower"))
        unit = payload.get("unit_id") or payload.get("borrower") or borrowers.get(str(loan))
        rows.append(
            {
                "seq": int(event["seq"]),
                "recorded": recorded_local(str(event.get("recorded_at") or event.get("at"))),
                "effective": str(event["effective"])[:10],
                "event": event_name(str(event["kind"]), lang),
                "unit": unit_text(unit, names),
                "loan": loan,
                "document": event.get("document") or None,
                "actor": event.get("actor"),
                "reason": event.get("reason") or None,
                "details": describe({"kind": event["kind"], "payload": payload}, lang) or None,
            }
        )
    return pd.DataFrame(rows, columns=[column.key for column in _audit_columns()])


def audit_trail_book(
    ledger: Ledger,
    events: Sequence[Mapping[str, Any]],
    filters: Sequence[tuple[str, Any]],
    *,
    lang: str = "zh",
    source: str,
    today: dt.date | None = None,
) -> bytes:
    """The audit trail as a workbook: `events` (already filtered as `filters` say) and 说明."""
    status = ledger.status()
    frame = audit_trail(events, unit_names(ledger, ledger.events()), lang)
    zone = os.environ.get(ZONE_SETTING) or DEFAULT_ZONE
    notes = ledger_notes(ledger, status, filters, len(frame), source, today)
    notes.append((TABLE_SECTION, "记录时间的时区 Time zone of recorded times", zone, None))
    report = Report("审计记录 Audit", AUDIT_TITLE, _audit_columns(), frame, unit="", frozen=1)
    return write_report([report], notes, today=today)


def audit_filters(
    unit: str | None,
    loan: str | None,
    actor: str | None,
    start: dt.date | None,
    end: dt.date | None,
) -> list[tuple[str, Any]]:
    """The audit filters as 说明 lists them; dates are effective dates."""
    return [
        ("单位 Unit", unit or ALL),
        ("借用编号 Loan", loan or ALL),
        ("经办人 Actor", actor or ALL),
        ("生效日期起 Effective from", start.isoformat() if start else ALL),
        ("生效日期止 Effective until", end.isoformat() if end else ALL),
    ]


# --- 说明 ------------------------------------------------------------------------------------


def _yes_no(flag: bool) -> str:
    return "是 yes" if flag else "否 no"


def ledger_notes(
    ledger: Ledger,
    status: Mapping[str, Any],
    filters: Sequence[tuple[str, Any]],
    rows: int,
    source: str,
    today: dt.date | None = None,
) -> list[NoteLine]:
    """What a ledger report was made from: the ledger (URL without its password), the date it
    is read as of, its events and head hash, the filters, the rows shown and the producer."""
    from pools.storage import redact

    head = status["head"]
    lines: list[NoteLine] = [
        (LEDGER_SECTION, "数据库 Database", redact(str(ledger.url)), None),
        (LEDGER_SECTION, "截至日期 As of", str(status["as_of"]), None),
        (LEDGER_SECTION, "事件数 Events in the ledger", int(head["seq"]), None),
        (LEDGER_SECTION, "链头哈希 Hash of the last event", f"#{head['seq']}", str(head["hash"])),
        (LEDGER_SECTION, "演示台账 Demo ledger", _yes_no(bool(status.get("demo"))), None),
    ]
    lines.extend((FILTER_SECTION, item, value, None) for item, value in filters)
    lines.append((TABLE_SECTION, "行数 Rows", rows, None))
    lines.append((TABLE_SECTION, "生成方式 Produced by", source, None))
    day = today or dt.date.today()
    lines.append((TABLE_SECTION, "制表日期 Date", day.isoformat(), None))
    return lines
