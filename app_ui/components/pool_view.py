"""The pools as everyone may see them: a card per pool, the loans and their status."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from app_ui.labels import LOAN_HEADERS, t
from pools.reporting import expiring_loans, loan_display_status, recovering_in_year

LAST_SYNC_RETURNS = "last_sync_returns"


def pool_cards(status: dict[str, Any], loans: list[dict[str, Any]]) -> None:
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


def loans_table(status: dict[str, Any], loans: list[dict[str, Any]]) -> None:
    st.subheader(t("loans"))
    if not loans:
        st.info(t("no_loans"))
        return
    expiring = expiring_loans(status)
    frame = pd.DataFrame(loans)
    frame["status"] = [t(f"loan_status_{loan_display_status(x, expiring)}") for x in loans]
    st.dataframe(frame[list(LOAN_HEADERS)].rename(columns=LOAN_HEADERS), hide_index=True)


def last_sync_returns() -> None:
    """What the last snapshot returned automatically (空一还一), shown once after it."""
    returns = st.session_state.pop(LAST_SYNC_RETURNS, None)
    if returns is None:
        return
    st.markdown(f"**{t('auto_returns')}**")
    if returns:
        st.dataframe(pd.DataFrame(returns), hide_index=True, key="auto_returns")
    else:
        st.caption(t("no_auto_returns"))
