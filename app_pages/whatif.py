"""教师编制调配（模拟）: teacher-quota allocation, what-if."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app_ui import config, messages, scenarios, session
from app_ui.components import inputs, saved, teacher_apply
from app_ui.components.plan_view import show_plan
from app_ui.components.settings_form import settings_form
from app_ui.components.uncertainty import uncertainty_panel
from app_ui.labels import lang, t
from app_ui.plain import plain
from app_ui.session import WhatIfSession
from app_ui.signin import current_user
from optimizer.plan import PlanResult
from pools import access
from pools.access import Action
from pools.tabular import InputErrors


def starting_session() -> WhatIfSession | None:
    """The what-if inputs in this session: the starting scenario until another is loaded."""
    current = session.get()
    if current is not None:
        return current
    loaded = inputs.read_scenario(config.starting_scenario_path())
    return None if loaded is None else session.store(loaded)


# Cached by value: changing only the policy re-solves without re-reading the tables, and
# going back to an earlier setting answers at once.
@st.cache_data(show_spinner=False, max_entries=64)
def _checked_inputs(
    counties: pd.DataFrame, enrolment: pd.DataFrame, class_required: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return scenarios.check_inputs(counties, enrolment, class_required=class_required)


@st.cache_data(show_spinner=False, max_entries=64)
def _plan(
    counties: pd.DataFrame,
    enrolment: pd.DataFrame,
    standards: Any,
    policy: Any,
    departures: pd.DataFrame | None = None,
) -> Any:
    from optimizer.plan import make_plan

    return make_plan(counties, enrolment, standards, policy, departures=departures)


def solve(current: WhatIfSession) -> PlanResult | None:
    """The plan of the session's tables and settings, or None after showing why the input was
    rejected."""
    try:
        counties, enrolment = _checked_inputs(
            current.counties, current.enrolment, current.class_required
        )
    except InputErrors as errors:
        messages.show_input_errors(errors)
        return None
    result: PlanResult = _plan(
        counties, enrolment, current.standards, current.policy, current.departures
    )
    return result


def render() -> None:
    user = current_user()
    current = starting_session()
    projected = current is not None and current.projected
    st.title(t("whatif_title_projected" if projected else "whatif_title"))
    if current is None:
        return
    editable = access.can(user, Action.RUN_SCENARIO)
    st.caption(f"{t('scenario')}: **{plain(current.name)}**")
    if editable:
        inputs.bundled_section(current)
        inputs.upload_section(current)
        saved.load_saved_section(current)
    left, right = st.columns([3, 1])
    with left:
        counties = inputs.county_editor(current, editable)
        enrolment = inputs.enrolment_editor(current, editable)
    # Keep the edits in the session: an editor's own state is dropped when another page is
    # shown. Cell edits re-applied to tables that already hold them change nothing.
    current.counties, current.enrolment = counties, enrolment
    with right:
        settings_form(current, editable, lang())
    if not editable:
        st.info(t("viewer_cannot_run"))
        saved.compare_section(None)
        return
    result = solve(current)
    if result is None:
        return
    info = scenarios.scenario_info(current.name, current.edits(), current.standards, current.policy)
    show_plan(info, current.standards, current.policy, result, (counties, enrolment))
    if result.summary.get("status") == "optimal":
        uncertainty_panel(current, info)
        teacher_apply.apply_section(result, info)  # approvers: apply to the ledger (SPEC 2.9)
    saved.save_section(current, result, user)
    optimal = result.summary.get("status") == "optimal"
    saved.compare_section(result.table if optimal else None, result.summary, info)
