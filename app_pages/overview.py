"""总览与预警: alerts, and the city's totals with the special account (专户) apart."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_ui import numbers
from app_ui.labels import t, t_or
from app_ui.ledger_access import ledger
from app_ui.messages import alert_text
from app_ui.plain import plain
from pools.reporting import city_totals


def _alerts(alerts: list[dict[str, Any]]) -> None:
    st.header(t("alerts"))
    if not alerts:
        st.success(t("no_alerts"))
    for kind in dict.fromkeys(a["kind"] for a in alerts):
        found = [a for a in alerts if a["kind"] == kind]
        label = f"{t_or(f'alert_{kind}', kind)}: {len(found)}"
        with st.expander(label, expanded=kind != "over_quota"):
            for alert in found:
                st.markdown(f"- {plain(alert_text(alert))}")


def _totals(status: dict[str, Any]) -> None:
    totals = city_totals(status)
    st.header(t("city_totals"))
    cells = st.columns(4)
    cells[0].metric(t("approved"), numbers.whole(totals["approved"]))
    cells[1].metric(t("headcount"), numbers.whole(totals["headcount"]))
    cells[2].metric(t("vacancies"), numbers.whole(totals["vacancies"]))
    cells[3].metric(t("over_quota_units"), numbers.whole(totals["over_quota_units"]))
    st.header(t("special_account"))
    cells = st.columns(4)
    for cell, pool in zip(cells[:2], ("admin", "institutional"), strict=True):
        figures = status["pools"][pool]
        cell.metric(
            f"{t(f'pool_{pool}')} · {t('lent')}",
            f"{numbers.whole(figures['lent'])} / {numbers.whole(figures['capacity'])}",
        )
    cells[2].metric(t("pool_headcount"), numbers.whole(totals["pool_headcount"]))
    cells[3].metric(t("unit_loans"), numbers.whole(totals["unit_loans_lent"]))


def render() -> None:
    st.title(t("overview_title"))
    the_ledger = ledger()
    if the_ledger is None:
        return
    status = the_ledger.status()
    _alerts(status["alerts"])
    _totals(status)
