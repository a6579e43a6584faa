"""The what-if session: the scenario a planner is working on, typed, kept in Streamlit's
session state between reruns and pages.

`standards` and `policy` are always the settings the plan on screen is computed from; the
settings form shows them (`form_seed`), and is filled again from them whenever the inputs are
replaced (`version` changes) or the language is switched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from optimizer.need import LEVELS, STANDARDS_2001, Standards
from optimizer.plan import Policy

SESSION_KEY = "whatif"
EDITIONS = ("2014", "2001")


@dataclass(frozen=True)
class Origin:
    """A scenario's inputs and settings as they were loaded, before any edit in the app."""

    counties: pd.DataFrame
    enrolment: pd.DataFrame
    standards: Standards
    policy: Policy


@dataclass
class WhatIfSession:
    name: str
    counties: pd.DataFrame
    enrolment: pd.DataFrame
    standards: Standards
    policy: Policy
    version: int = 0  # changes when the inputs are replaced: new editors, form filled again
    # The inputs as loaded (file, upload or saved scenario): what the edits are counted from.
    origin: Origin | None = None
    # Departures per county and year (county_id, year, attrition) of a multi-year scenario,
    # when it has them (a projection's roster); None: `attrition` spread evenly.
    departures: pd.DataFrame | None = None
    projected: bool = False  # enrolment and departures come from a projection (SPEC 2.10)
    relative_error: float | None = None  # the scenario's [uncertainty], for a sweep (SPEC 2.11)

    def __post_init__(self) -> None:
        if self.origin is None:
            self.origin = Origin(self.counties, self.enrolment, self.standards, self.policy)

    @property
    def class_required(self) -> bool:
        return self.standards.by_class is not None

    @property
    def edition(self) -> str:
        return "2014" if self.standards.by_class is None else "2001"

    def replace(
        self,
        name: str,
        counties: pd.DataFrame,
        enrolment: pd.DataFrame,
        standards: Standards | None = None,
        policy: Policy | None = None,
        *,
        departures: pd.DataFrame | None = None,
        projected: bool = False,
        relative_error: float | None = None,
    ) -> None:
        """Start from other inputs (and settings, when given); edits of the old ones are dropped,
        and so are the old departures unless new ones are given."""
        self.name = name
        self.counties = counties.reset_index(drop=True)
        self.enrolment = enrolment.reset_index(drop=True)
        self.departures = None if departures is None else departures.reset_index(drop=True)
        self.projected = projected
        self.relative_error = relative_error
        self.standards = standards if standards is not None else self.standards
        self.policy = policy if policy is not None else self.policy
        self.origin = Origin(self.counties, self.enrolment, self.standards, self.policy)
        self.version += 1

    def edits(self) -> list[dict[str, Any]]:
        """Every edit made in the app since the inputs were loaded: table, county, field, old
        and new value (see `app_ui.scenarios.edits_between`)."""
        from app_ui.scenarios import edits_between

        assert self.origin is not None
        return edits_between(self.origin, self)

    def apply_settings(
        self, edition: str, per_level: Mapping[str, float], policy: Mapping[str, Any]
    ) -> None:
        """The settings form's values; unchanged values keep the very objects they came from."""
        self.standards = standards_for(self.standards, edition, per_level)
        self.policy = dataclasses.replace(self.policy, **policy)


def standards_for(current: Standards, edition: str, per_level: Mapping[str, float]) -> Standards:
    """The standards of the form: the 2014 table, or the 2001 table by county class (the
    scenario's own one if it has it), with the per-level figures typed in."""
    by_class = None
    if edition == "2001":
        by_class = current.by_class if current.by_class is not None else STANDARDS_2001
    levels = {level: float(per_level[level]) for level in LEVELS}
    same_levels = all(float(current.per_level[level]) == levels[level] for level in LEVELS)
    if same_levels and by_class == current.by_class:
        return current
    return Standards(per_level=levels, by_class=by_class)


def get() -> WhatIfSession | None:
    session = st.session_state.get(SESSION_KEY)
    return session if isinstance(session, WhatIfSession) else None


def store(session: WhatIfSession) -> WhatIfSession:
    st.session_state[SESSION_KEY] = session
    return session
