"""生源与减员预测: projected enrolment and departures (SPEC 2.10), sent to the what-if page.

The figures come from `optimizer.projection` and `optimizer.departures` through
`app_ui.projections` (the bundled `projected_5y` scenario with the planner's files); this page
only reads the files, draws the projection and hands it to the what-if session.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_ui import fan_charts, messages, navigation, projections, session
from app_ui.components.plan_view import show_chart
from app_ui.labels import LEVEL_LABELS, lang, t
from app_ui.numbers import show_table
from app_ui.plain import plain
from app_ui.session import WhatIfSession
from app_ui.signin import current_user
from pools import access
from pools.access import Action
from pools.tabular import InputErrors

RESULT_KEY = "projection_result"
UPLOAD_KEYS = {kind: f"proj_up_{kind}" for kind in projections.FILE_KINDS}


@st.cache_data(show_spinner=False, max_entries=8)
def _project(
    uploads: tuple[tuple[str, str, bytes], ...], years: int, band: tuple[float, float]
) -> projections.ProjectionResult:
    return projections.project({kind: (name, data) for kind, name, data in uploads}, years, band)


def _band_text(band: tuple[float, float]) -> str:
    low, high = (round(share * 100) for share in band)
    return t("projection_band_option").format(low=low, high=high)


def _settings() -> tuple[int, tuple[float, float]]:
    left, right = st.columns(2)
    years = left.number_input(t("projection_years"), 1, 15, 5, step=1, key="proj_years")
    band = right.selectbox(
        t("projection_band"), projections.BANDS, format_func=_band_text, key="proj_band"
    )
    return int(years), band


def _uploads() -> tuple[tuple[str, str, bytes], ...] | None:
    """The uploaded files (kind, name, content); None when the run button was not pressed."""
    with st.expander(t("projection_files")):
        st.caption(t("projection_upload_help"))
        files = {
            kind: st.file_uploader(
                t(f"projection_upload_{kind}"), type=["csv", "xlsx"], key=UPLOAD_KEYS[kind]
            )
            for kind in projections.FILE_KINDS
        }
        if not st.button(t("projection_upload_run"), key="proj_run_uploaded"):
            return None
    if files["history"] is None:
        st.warning(t("projection_need_history"))
        return None
    return tuple((kind, f.name, f.getvalue()) for kind, f in files.items() if f is not None)


def _run(uploads: tuple[tuple[str, str, bytes], ...], years: int, band: Any) -> None:
    try:
        st.session_state[RESULT_KEY] = _project(uploads, years, tuple(band))
    except InputErrors as errors:
        st.session_state.pop(RESULT_KEY, None)
        messages.show_input_errors(errors)


def _where(result: projections.ProjectionResult) -> str | None:
    """The county shown (None: the whole city)."""
    names = dict(zip(result.counties["county_id"], result.counties["name"], strict=True))
    options: list[str | None] = [None, *names]
    return st.selectbox(
        t("projection_where"),
        options,
        format_func=lambda c: t("projection_city") if c is None else f"{c} {names[c]}",
        key="proj_where",
    )


def _fan(result: projections.ProjectionResult, county: str | None) -> None:
    st.subheader(t("projection_enrolment"))
    if county is None:
        bands = projections.city_total(result.bands)
        st.caption(t("projection_city_band"))
    else:
        bands = result.bands[result.bands["county_id"] == county]
    index = 0 if lang() == "zh" else 1
    words = {level: pair[index] for level, pair in LEVEL_LABELS.items()}
    chart = fan_charts.fan_chart(bands, words, t("year"), t("students"), t("level"))
    show_chart(chart)


def _departures(result: projections.ProjectionResult, county: str | None) -> None:
    st.subheader(t("projection_departures"))
    if result.departures_detail is None:
        st.info(t("projection_no_roster"))
        return
    by_year = projections.departures_by_year(result.departures_detail, county)
    kinds = {"retirements": t("retirements"), "other_departures": t("other_departures")}
    chart = fan_charts.departures_chart(by_year, kinds, t("year"), t("people"), t("departure_kind"))
    show_chart(chart)


def _table(result: projections.ProjectionResult) -> None:
    st.subheader(t("projection_table"))
    wide = result.enrolment.pivot_table(
        index=["county_id", "year"], columns="level", values="students", aggfunc="sum"
    )
    wide = wide.reindex(columns=[c for c in LEVEL_LABELS if c in wide.columns]).reset_index()
    wide.columns.name = None
    index = 0 if lang() == "zh" else 1
    names = {c: pair[index] for c, pair in LEVEL_LABELS.items()}
    show_table(wide, plain=("year",), labels={**names, "county_id": t("county"), "year": t("year")})
    if result.notes:
        with st.expander(t("projection_notes")):
            st.markdown("\n".join(f"- {plain(note)}" for note in result.notes))


def send_to_whatif(result: projections.ProjectionResult) -> WhatIfSession:
    """The projection as the what-if session's multi-year scenario (its edits are dropped)."""
    args = (result.name, result.counties, result.enrolment, result.standards, result.policy)
    current = session.get()
    if current is None:
        current = session.store(WhatIfSession(*args, departures=result.departures, projected=True))
    else:
        current.replace(*args, departures=result.departures, projected=True)
    return current


def render() -> None:
    st.title(t("projection_title"))
    st.caption(t("projection_intro"))
    years, band = _settings()
    if st.button(t("projection_use_bundled"), key="proj_bundled", type="primary"):
        _run((), years, band)
    uploads = _uploads()
    if uploads is not None:
        _run(uploads, years, band)
    result: projections.ProjectionResult | None = st.session_state.get(RESULT_KEY)
    if result is None:
        return
    first, last = int(result.enrolment["year"].min()), int(result.enrolment["year"].max())
    st.success(t("projection_of").format(name=plain(result.name), first=first, last=last))
    if access.can(current_user(), Action.RUN_SCENARIO) and st.button(
        t("send_to_whatif"), key="proj_send"
    ):
        send_to_whatif(result)
        st.toast(t("sent_to_whatif").format(name=plain(result.name)))
        navigation.go("whatif")
    county = _where(result)
    _fan(result, county)
    _departures(result, county)
    _table(result)
