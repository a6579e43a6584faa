"""审计记录: the audit trail, filtered, verified and exported."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from app_ui import numbers
from app_ui.labels import EVENT_HEADERS, event_label, lang, t, words_column
from app_ui.ledger_access import ledger, unit_label
from app_ui.plain import plain
from pools.audit_words import describe, recorded_local
from pools.csv_safe import neutralised_frame
from pools.ledger import Ledger
from pools.ledger_reports import audit_filters, audit_trail_book
from pools.report_book import XLSX_MIME
from pools.reporting import filter_events

AUDIT_SOURCE = "应用：审计记录 the app's audit trail"


def _verify(the_ledger: Ledger) -> None:
    if not st.button(t("verify"), key="verify", type="primary"):
        return
    result = the_ledger.verify()
    if result["ok"]:
        st.success(f"{t('verify_ok')}: {result['events']}")
    else:
        st.error(t("verify_failed"))
        for problem in result["problems"]:
            st.markdown(f"- {problem['seq'] or ''} {plain(problem['problem'])}")


def _all_or(value: Any, label: Any = str) -> str:
    return t("all") if value is None else label(value)


def _filters(the_ledger: Ledger) -> tuple[Any, Any, Any, date | None, date | None]:
    """Unit, loan, actor and recorded-date range picked above the table."""
    units = {u["unit_id"]: u for u in the_ledger.status()["units"]}
    every = the_ledger.events_frame()
    columns = st.columns(4)
    unit = columns[0].selectbox(
        t("filter_unit"),
        [None, *units],
        key="audit_unit",
        format_func=lambda u: _all_or(u, unit_label(units)),
    )
    loan_ids = [x["loan_id"] for x in the_ledger.loans()]
    loan = columns[1].selectbox(
        t("filter_loan"), [None, *loan_ids], key="audit_loan", format_func=_all_or
    )
    actors = sorted(every["actor"].unique()) if not every.empty else []
    actor = columns[2].selectbox(
        t("filter_actor"), [None, *actors], key="audit_actor", format_func=_all_or
    )
    dates = columns[3].date_input(t("filter_dates"), value=[], key="audit_dates")
    picked = list(dates) if isinstance(dates, tuple | list) else [dates]
    start, end = [*picked, None, None][:2]
    return unit, loan, actor, start, end or start  # one day picked: that day


def _exports(
    the_ledger: Ledger, shown: pd.DataFrame, table: pd.DataFrame, filters: list[tuple[str, Any]]
) -> None:
    records = [{str(k): v for k, v in row.items()} for row in shown.to_dict("records")]
    language = lang()
    first, second, third = st.columns(3)
    first.download_button(
        t("export_csv"),
        neutralised_frame(table).to_csv(index=False).encode("utf-8-sig"),
        file_name="audit-log.csv",
        mime="text/csv",
    )
    second.download_button(
        t("export_xlsx"),
        lambda: audit_trail_book(the_ledger, records, filters, lang=language, source=AUDIT_SOURCE),
        file_name="audit-log.xlsx",
        mime=XLSX_MIME,
    )
    third.download_button(
        t("export_json"),
        json.dumps({"events": records}, ensure_ascii=False, indent=1, default=str),
        file_name="audit-log.json",
        mime="application/json",
    )


def render() -> None:
    st.title(t("audit_title"))
    the_ledger = ledger()
    if the_ledger is None:
        return
    _verify(the_ledger)
    unit, loan, actor, start, end = _filters(the_ledger)
    events = the_ledger.events_frame(unit_id=unit, loan_id=loan)
    shown = filter_events(events, actor, start, end)
    st.caption(f"{numbers.whole(len(shown))} {t('events_shown')}")
    view = [c for c in EVENT_HEADERS if c in shown.columns]
    table = shown[view].copy()
    if "payload" in table.columns:  # what the event did, in words and figures
        table["payload"] = [
            describe({"kind": kind, "payload": payload}, lang())
            for kind, payload in zip(shown["kind"], shown["payload"], strict=True)
        ]
    if "at" in table.columns:  # recorded in UTC; read in the office's time zone
        table["at"] = table["at"].map(recorded_local)
    numbers.show_table(
        table.rename(columns=EVENT_HEADERS),
        plain={EVENT_HEADERS["seq"]},
        config={EVENT_HEADERS["kind"]: words_column(table.get("kind", []), event_label)},
    )
    _exports(the_ledger, shown, table, audit_filters(unit, loan, actor, start, end))
