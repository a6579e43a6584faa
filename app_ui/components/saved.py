"""Saved what-if scenarios: save the one on screen, load one back, compare several."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from app_ui import charts, config, numbers, scenarios
from app_ui.components.downloads import csv_and_report
from app_ui.components.plan_view import chart_labels, show_chart
from app_ui.labels import COMPARISON_HEADERS, choice_placeholder, t
from app_ui.plain import plain
from app_ui.session import WhatIfSession
from optimizer.comparison_book import Compared, comparison_book
from optimizer.plan import PlanResult
from pools import access
from pools.access import Action, User


def save_section(session: WhatIfSession, result: PlanResult, user: User) -> None:
    if not access.can(user, Action.SAVE_SCENARIO) or result.summary.get("status") != "optimal":
        return
    with st.form("save_scenario"):
        name = st.text_input(t("save_as"), value=session.name, key="save_name")
        submitted = st.form_submit_button(t("save"))
    if not submitted:
        return
    if not name.strip():
        st.warning(t("save_needs_name"))
        return
    access.require(user, Action.SAVE_SCENARIO)
    config.scenario_store().save(
        scenarios.saved_scenario(
            name.strip(),
            session.counties,
            session.enrolment,
            session.standards,
            session.policy,
            result.table,
            result.summary,
            saved_by=user.actor,
            departures=session.departures,
            projected=session.projected,
        )
    )
    st.success(f"{t('saved')} {plain(name.strip())}")


def compare_section(
    current: pd.DataFrame | None,
    summary: Mapping[str, Any] | None = None,
    info: Mapping[str, Any] | None = None,
) -> None:
    """Saved scenarios (and the plan on screen, `current` with its `summary` and `info`)
    side by side: per county, a chart, and the downloads (CSV, and the report workbook)."""
    st.header(t("compare"))
    store = config.scenario_store()
    names = store.names()
    current_label = t("compare_current")
    options = ([current_label] if current is not None else []) + names
    if not names:
        st.info(t("no_saved"))
    picked = st.multiselect(
        t("compare_pick"),
        options,
        placeholder=choice_placeholder(options, several=True),
        key="compare_pick",
    )
    if len(picked) < 2:
        st.caption(t("compare_hint"))
        return
    compared = []
    for label in picked:
        if label == current_label and current is not None:
            compared.append(Compared(label, summary or {}, dict(info or {}), current))
        else:
            saved = store.load(label)
            record = {
                "source": saved.name,
                "standards": saved.standards,
                "policy": saved.policy,
                "saved_by": saved.saved_by,
                "saved_at": saved.saved_at,
            }
            compared.append(Compared(label, saved.summary, record, saved.plan))
    plans = {s.name: s.plan for s in compared if s.plan is not None}
    table = scenarios.comparison_table(plans)
    numbers.show_table(table, labels=COMPARISON_HEADERS, key="compare_table")
    csv_and_report(table, lambda: comparison_book(table, compared), "comparison")
    st.subheader(t("chart_compare"))
    show_chart(charts.comparison_chart(plans, chart_labels()))


def load_saved_section(session: WhatIfSession) -> None:
    store = config.scenario_store()
    names = store.names()
    if not names:
        return
    with st.expander(t("load_saved")):
        chosen = st.selectbox(t("scenario"), names, key="load_saved_name")
        if st.button(t("load"), key="load_saved"):
            saved = store.load(chosen)
            standards, policy = scenarios.saved_settings(saved)
            session.replace(
                saved.name,
                saved.counties,
                saved.enrolment,
                standards,
                policy,
                departures=saved.departures,
                projected=saved.projected,
            )
            st.rerun()
