"""审计记录: the audit trail, filtered, verified and exported."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from app_ui import numbers
from app_ui.labels import EVENT_HEADERS, event_label, t, words_column
from app_ui.ledger_access import ledger, unit_label
from pools.ledger import Ledger
from pools.reporting import filter_events


def _verify(the_ledger: Ledger) -> None:
    if not st.button(t("verify"), key="verify", type="primary"):
        return
    result = the_ledger.verify()
    if result["ok"]:
        st.success(f"{t('verify_ok')}: {result['events']}")
    else:
        st.error(t("verify_failed"))
        for problem in result["problems"]:
            st.markdown(f"- {problem['seq'] or ''} {problem['problem']}")


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


def _exports(shown: pd.DataFrame, table: pd.DataFrame) -> None:
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
    if "payload" in table.columns:
        table["payload"] = table["payload"].map(lambda p: json.dumps(p, ensure_ascii=False))
    numbers.show_table(
        table.rename(columns=EVENT_HEADERS),
        plain={EVENT_HEADERS["seq"]},
        config={EVENT_HEADERS["kind"]: words_column(table.get("kind", []), event_label)},
    )
    _exports(shown, table)
