"""The what-if inputs: a scenario file read into the session, a bundled one or uploaded
files loaded in its place, and the editable counties and enrolment tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app_ui import config, messages, numbers, scenarios
from app_ui.labels import (
    CLASSES,
    COUNTY_HEADERS,
    ENROLMENT_HEADERS,
    LEVEL_LABELS,
    class_label,
    level_label,
    t,
)
from app_ui.session import WhatIfSession
from pools.tabular import InputErrors


def read_scenario(path: Path) -> WhatIfSession | None:
    """A scenario file's checked inputs and settings; None after showing what is wrong."""
    from optimizer.scenario import load_plan_inputs, load_scenario

    try:
        scenario = load_scenario(path)
        inputs = load_plan_inputs(scenario)
    except InputErrors as errors:
        messages.show_input_errors(errors, f"{t('sample_missing')} {path}")
        return None
    departures = inputs.departures
    return WhatIfSession(
        name=scenario.name,
        counties=inputs.counties.reset_index(drop=True),
        enrolment=inputs.enrolment.reset_index(drop=True),
        standards=scenario.standards,
        policy=scenario.policy,
        departures=None if departures is None else departures.reset_index(drop=True),
        projected=scenario.projection is not None,
        relative_error=scenario.uncertainty.relative_error if scenario.uncertainty else None,
    )


def bundled_section(session: WhatIfSession) -> None:
    """Start again from one of the scenario files next to the starting one."""
    files = sorted(config.starting_scenario_path().parent.glob("*.toml"))
    if not files:
        return
    with st.expander(t("load_bundled")):
        chosen = st.selectbox(t("scenario"), files, format_func=lambda p: p.stem, key="bundled")
        if st.button(t("load"), key="load_bundled") and chosen is not None:
            loaded = read_scenario(chosen)
            if loaded is None:
                return
            session.replace(
                loaded.name,
                loaded.counties,
                loaded.enrolment,
                loaded.standards,
                loaded.policy,
                departures=loaded.departures,
                projected=loaded.projected,
                relative_error=loaded.relative_error,
            )
            st.rerun()


def upload_section(session: WhatIfSession) -> None:
    with st.expander(t("upload")):
        kinds = ["csv", "xlsx"]
        counties_file = st.file_uploader(
            t("upload_counties"), type=kinds, help=t("upload_help"), key="up_counties"
        )
        enrolment_file = st.file_uploader(
            t("upload_enrolment"), type=kinds, help=t("upload_help"), key="up_enrolment"
        )
        if not st.button(t("upload_load"), key="up_load"):
            return
        if counties_file is None or enrolment_file is None:
            st.warning(t("upload_need_both"))
            return
        try:
            counties, enrolment = scenarios.check_uploaded(
                (counties_file.name, counties_file.getvalue()),
                (enrolment_file.name, enrolment_file.getvalue()),
                class_required=session.class_required,
            )
        except InputErrors as errors:
            messages.show_input_errors(errors)
            return
        session.replace(Path(counties_file.name).stem, counties, enrolment)
        st.success(t("upload_loaded"))


def county_editor(session: WhatIfSession, editable: bool) -> pd.DataFrame:
    st.subheader(t("counties_table"))
    counties = session.counties
    number = st.column_config.NumberColumn
    config: dict[str, Any] = {
        column: number(COUNTY_HEADERS[column], min_value=0, step=1, format=numbers.WHOLE_FORMAT)
        for column in ("quota", "occupied", "attrition", "min_quota", "max_gain")
    }
    config["county_id"] = st.column_config.TextColumn(COUNTY_HEADERS["county_id"])
    config["name"] = st.column_config.TextColumn(COUNTY_HEADERS["name"])
    if "class" in counties.columns:
        config["class"] = st.column_config.SelectboxColumn(
            COUNTY_HEADERS["class"], options=CLASSES, format_func=lambda c: class_label(str(c))
        )
    return st.data_editor(
        counties,
        key=f"counties_editor_{session.version}",
        hide_index=True,
        column_config=config,
        disabled=True if not editable else ["county_id"],
    )


def multi_year_config() -> dict[str, Any]:
    """The multi-year enrolment editor's columns, headed in both languages like the others."""
    column = st.column_config
    return {
        "county_id": column.TextColumn(COUNTY_HEADERS["county_id"]),
        "level": column.SelectboxColumn(
            ENROLMENT_HEADERS["level"],
            options=list(LEVEL_LABELS),
            format_func=lambda lv: level_label(str(lv)),
        ),
        "students": column.NumberColumn(
            ENROLMENT_HEADERS["students"], min_value=0, step=1, format=numbers.WHOLE_FORMAT
        ),
        "year": column.NumberColumn(ENROLMENT_HEADERS["year"], format="%d"),
        "classes": column.NumberColumn(
            ENROLMENT_HEADERS["classes"], min_value=0, step=1, format=numbers.WHOLE_FORMAT
        ),
    }


def enrolment_editor(session: WhatIfSession, editable: bool) -> pd.DataFrame:
    """Students per county and level; returns the long table the optimiser reads."""
    st.subheader(t("enrolment_table"))
    enrolment = session.enrolment
    key = f"enrolment_editor_{session.version}"
    if scenarios.is_multi_year(enrolment):  # one row per county, level and year
        return st.data_editor(
            enrolment,
            key=key,
            hide_index=True,
            column_config=multi_year_config(),
            disabled=not editable or ["county_id", "level", "year"],
        )
    wide = scenarios.enrolment_wide(enrolment, session.counties)
    config: dict[str, Any] = {"county_id": st.column_config.TextColumn(COUNTY_HEADERS["county_id"])}
    for level in LEVEL_LABELS:
        config[level] = st.column_config.NumberColumn(
            level_label(level), min_value=0, step=1, format=numbers.WHOLE_FORMAT
        )
    edited = st.data_editor(
        wide,
        key=key,
        hide_index=True,
        column_config=config,
        disabled=True if not editable else ["county_id"],
    )
    return scenarios.enrolment_long(edited)
