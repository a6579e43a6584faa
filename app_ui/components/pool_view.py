"""The pools as everyone may see them: a card per pool, the loans and their status."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from app_ui import numbers
from app_ui.components.downloads import csv_and_report
from app_ui.labels import LOAN_HEADERS, RETURN_HEADERS, lang, pool_label, t, words_column
from app_ui.messages import alert_text
from app_ui.plain import plain
from pools.ledger import Ledger
from pools.reporting import (
    SnapshotReport,
    expiring_loans,
    loan_display_status,
    recovering_in_year,
)

LAST_SNAPSHOT = "last_snapshot"
REGISTER_SOURCE = "应用：借用台账 the app's loans table"


def pool_cards(status: dict[str, Any], loans: list[dict[str, Any]]) -> None:
    due = recovering_in_year(loans, date.fromisoformat(status["as_of"]).year)
    for column, pool in zip(st.columns(2), ("admin", "institutional"), strict=True):
        figures = status["pools"][pool]
        with column.container(border=True):
            st.subheader(t(f"pool_{pool}"))
            cells = st.columns(4)
            cells[0].metric(t("capacity"), numbers.whole(figures["capacity"]))
            cells[1].metric(t("lent"), numbers.whole(figures["lent"]))
            cells[2].metric(t("available"), numbers.whole(figures["available"]))
            cells[3].metric(t("recover_this_year"), numbers.whole(due.get(pool, 0)))
            if figures.get("suspended"):
                st.warning(t("pool_suspended"))


def loans_table(
    status: dict[str, Any], loans: list[dict[str, Any]], the_ledger: Ledger | None = None
) -> None:
    """The loans and their status; with `the_ledger`, the register's downloads under them."""
    st.subheader(t("loans"))
    if not loans:
        st.info(t("no_loans"))
        return
    expiring = expiring_loans(status)
    frame = pd.DataFrame(loans)
    frame["status"] = [t(f"loan_status_{loan_display_status(x, expiring)}") for x in loans]
    shown = frame[list(LOAN_HEADERS)].rename(columns=LOAN_HEADERS)
    numbers.show_table(shown, config={LOAN_HEADERS["pool"]: pool_column(frame["pool"])})
    if the_ledger is not None:
        _register_downloads(the_ledger, shown)


def _register_downloads(the_ledger: Ledger, shown: pd.DataFrame) -> None:
    """借用台账 as CSV (the table as shown) and as the office's report workbook."""
    from pools.ledger_reports import loans_register_book

    language = lang()

    def workbook() -> bytes:
        return loans_register_book(the_ledger, lang=language, source=REGISTER_SOURCE)

    csv_and_report(shown, workbook, "loans-register")


def pool_column(pools: pd.Series, label: str | None = None) -> Any:
    """Loan sources shown in words (行政编制周转池, 出借单位 M02), kept as codes in the data."""
    return words_column(pools, pool_label, label)


def last_snapshot() -> None:
    """What the last headcount snapshot did, shown once after it, as `quotapool ledger sync`
    prints it: units changed, pool capacity before → after, 空一还一 returns per loan, loans
    that expired, and the alerts it raised."""
    report = st.session_state.pop(LAST_SNAPSHOT, None)
    if not isinstance(report, SnapshotReport):
        return
    st.success(t("snapshot_applied").format(**report.changes, events=report.events))
    if report.registered:
        st.caption(f"{t('new_units')}: {plain(', '.join(report.registered))}")
    for pool, figures in report.capacity.items():
        st.markdown(f"- {capacity_line(pool, figures)}")  # figures and pool names only
    st.markdown(f"**{t('auto_returns')}**")
    if report.returns:
        returns = pd.DataFrame(report.returns)
        numbers.show_table(
            returns,
            labels=RETURN_HEADERS,
            config={"pool": pool_column(returns["pool"], RETURN_HEADERS["pool"])},
            key="auto_returns",
        )
    else:
        st.caption(t("no_auto_returns"))
    if report.expired:
        st.warning(f"{t('expired_loans')}: {plain(', '.join(report.expired))}")
    st.markdown(f"**{t('new_alerts')}**")
    for alert in report.new_alerts:
        st.warning(plain(alert_text(alert)))
    if not report.new_alerts:
        st.caption(t("no_new_alerts"))
    _snapshot_books(report)


def _snapshot_books(report: SnapshotReport) -> None:
    """The quota book after a snapshot, as `ledger sync` prints it (SPEC 2.7/2.8)."""
    lines = [
        *(t("snap_posted").format(**item) for item in report.posted),
        *(t("snap_unplanned").format(**item) for item in report.unplanned),
        *(t("snap_lapsed").format(**item) for item in report.lapsed),
        *(t("snap_problem_opened").format(**item) for item in report.problems_opened),
        *(t("snap_problem_closed").format(problem_id=p) for p in report.problems_closed),
    ]
    if not lines:
        return
    st.markdown(f"**{t('snap_books')}**")
    for line in lines:
        st.markdown(f"- {plain(line)}")


def capacity_line(pool: str, figures: dict[str, Any]) -> str:
    line = t("capacity_change").format(
        pool=t(f"pool_{pool}"),
        before=numbers.whole(figures["capacity_before"]),
        after=numbers.whole(figures["capacity"]),
        lent=numbers.whole(figures["lent"]),
    )
    if "vacancy_base" not in figures:
        return line
    basis = t("capacity_basis").format(
        share=numbers.percent(figures["share"]), base=numbers.whole(figures["vacancy_base"])
    )
    return f"{line}{basis}"
