"""标准与政策: the settings form of the what-if page.

The form always shows the settings the plan on screen was computed from: its widgets are
filled from the session (`fill`) when the inputs were replaced (load, upload), when the
language was switched, or when Streamlit dropped their state (another page was shown).
Submitting applies the values to the session, and the plan follows.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_ui.labels import level_label, t, t_or, translated
from app_ui.session import EDITIONS, WhatIfSession
from optimizer.need import LEVELS
from optimizer.plan import OBJECTIVES, SOLVERS

EDITION_KEY = "wi_edition"
EXTRA_KEY = "wi_extra"
OBJECTIVE_KEY = "wi_objective"
SOLVER_KEY = "wi_solver"
_FILLED_FOR = "_wi_filled_for"  # (session version, language) the widgets were last filled for


def standard_key(level: str) -> str:
    return f"wi_standard_{level}"


def form_values(session: WhatIfSession) -> dict[str, Any]:
    """The widget values that show the session's settings."""
    values: dict[str, Any] = {EDITION_KEY: session.edition}
    for level in LEVELS:
        values[standard_key(level)] = float(session.standards.per_level[level])
    values[EXTRA_KEY] = int(session.policy.extra_quota)
    values[OBJECTIVE_KEY] = session.policy.objective
    values[SOLVER_KEY] = session.policy.solver
    return values


def fill(session: WhatIfSession, language: str) -> None:
    """Fill the widgets from the session if they may show something else (call before them)."""
    values = form_values(session)
    marker = (session.version, language)
    if st.session_state.get(_FILLED_FOR) == marker and all(k in st.session_state for k in values):
        return
    for key, value in values.items():
        st.session_state[key] = value
    st.session_state[_FILLED_FOR] = marker


def settings_form(session: WhatIfSession, editable: bool, language: str) -> None:
    """Standards and policy; submitting applies them to the session (the plan follows)."""
    fill(session, language)
    with st.form("whatif_settings"):
        st.subheader(t("settings"))
        edition = st.radio(
            t("edition"),
            EDITIONS,
            format_func=lambda e: t(f"edition_{e}"),
            horizontal=True,
            disabled=not editable,
            key=translated(EDITION_KEY),
        )
        per_level = _standards_inputs(editable)
        policy = _policy_inputs(editable)
        submitted = st.form_submit_button(t("solve"), disabled=not editable, type="primary")
    if submitted and editable:
        session.apply_settings(str(edition), per_level, policy)


def _standards_inputs(editable: bool) -> dict[str, float]:
    st.caption(t("per_level"))
    per_level = {}
    for column, level in zip(st.columns(len(LEVELS)), LEVELS, strict=True):
        per_level[level] = column.number_input(
            level_label(level),
            min_value=0.5,
            step=0.5,
            disabled=not editable,
            key=standard_key(level),
        )
    return per_level


def _policy_inputs(editable: bool) -> dict[str, Any]:
    extra = st.number_input(
        t("extra_quota"), min_value=0, step=1, disabled=not editable, key=EXTRA_KEY
    )
    objective = st.selectbox(
        t("objective"),
        OBJECTIVES,
        format_func=lambda o: t_or(f"objective_{o}", o),
        disabled=not editable,
        key=translated(OBJECTIVE_KEY),
    )
    solver = st.selectbox(t("solver"), SOLVERS, disabled=not editable, key=SOLVER_KEY)
    return {"extra_quota": int(extra), "objective": str(objective), "solver": str(solver)}
