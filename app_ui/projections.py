"""Projected enrolment and departures for the app (SPEC 2.10), computed by the optimizer.

No projection rule lives here. A projection is the bundled `projected_5y` scenario with its
[projection] files replaced by the planner's uploads (each written to a temporary folder under
its own name, so that every message names the planner's file) and its horizon set; the plan
inputs come from `optimizer.scenario.load_plan_inputs`, exactly as `quotapool plan` reads the
scenario, and the bands from `optimizer.projection.project_enrolment` at the band chosen.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from app_ui import config
from optimizer.need import Standards
from optimizer.plan import Policy

if TYPE_CHECKING:
    from optimizer.scenario import Projection, Scenario

BUNDLED_NAME = "projected_5y.toml"
FILE_KINDS = ("history", "births", "roster", "counties")  # what a planner may upload
BANDS = ((0.10, 0.90), (0.05, 0.95), (0.25, 0.75))


def bundled_scenario_path() -> Path:
    """The bundled projected scenario (next to the starting scenario, else the sample's)."""
    beside = config.starting_scenario_path().parent / BUNDLED_NAME
    return beside if beside.is_file() else config.SAMPLE_SCENARIO.parent / BUNDLED_NAME


@dataclass(frozen=True)
class ProjectionResult:
    """What the projection page shows and sends to the what-if page."""

    name: str
    counties: pd.DataFrame  # with attrition = departures over the horizon (with a roster)
    enrolment: pd.DataFrame  # county_id, level, students, year: the plan's input
    departures: pd.DataFrame | None  # county_id, year, attrition: the plan's input
    bands: pd.DataFrame  # county_id, level, year, students, low, high
    departures_detail: pd.DataFrame | None  # county_id, year, retirements, other_departures
    notes: list[str]
    standards: Standards
    policy: Policy


def project(
    uploads: Mapping[str, tuple[str, bytes]], years: int, band: tuple[float, float]
) -> ProjectionResult:
    """The bundled files, or the uploaded ones where given (history needed then), projected
    over `years`; raises InputErrors naming the planner's files."""
    from optimizer.scenario import load_scenario

    bundled = load_scenario(bundled_scenario_path())
    with tempfile.TemporaryDirectory(prefix="quotapool-projection-") as tmp:
        paths = {kind: _written(Path(tmp), kind, *uploads[kind]) for kind in uploads}
        spec = bundled.projection
        assert spec is not None
        if paths:  # the planner's files: births and roster only if given
            spec = dataclasses.replace(
                spec,
                history=paths.get("history", spec.history),
                births=paths.get("births"),
                roster=paths.get("roster"),
                departures_history=None,
            )
        spec = dataclasses.replace(spec, years=years)
        counties = paths.get("counties", bundled.counties)
        scenario = dataclasses.replace(bundled, projection=spec, counties=counties)
        return _projected(scenario, band)


def _written(folder: Path, kind: str, name: str, content: bytes) -> Path:
    path = folder / kind / Path(name).name
    path.parent.mkdir()
    path.write_bytes(content)
    return path


def _projected(scenario: Scenario, band: tuple[float, float]) -> ProjectionResult:
    from optimizer.projection import project_enrolment
    from optimizer.scenario import load_plan_inputs

    assert scenario.projection is not None
    spec = scenario.projection
    inputs = load_plan_inputs(scenario)
    settings = dataclasses.replace(spec.settings(), band=band)
    projected = project_enrolment(spec.history, spec.births, settings)
    detail, notes = _departures_detail(spec, int(inputs.enrolment["year"].min()))
    return ProjectionResult(
        name=scenario.name,
        counties=inputs.counties.reset_index(drop=True),
        enrolment=inputs.enrolment.reset_index(drop=True),
        departures=None if inputs.departures is None else inputs.departures.reset_index(drop=True),
        bands=projected.enrolment,
        departures_detail=detail,
        notes=[*projected.notes, *notes],
        standards=scenario.standards,
        policy=scenario.policy,
    )


def _departures_detail(spec: Projection, first_year: int) -> tuple[pd.DataFrame | None, list[str]]:
    """Retirements and other departures per county and year, counted as the scenario counts
    them (`optimizer.scenario.projected_inputs` gives only their sum, `attrition`)."""
    from optimizer import departures as dep

    if spec.roster is None:
        return None, []
    start = spec.start or dt.date(first_year, 1, 1)
    rates, other_rate = None, spec.other_rate
    if spec.departures_history is not None:
        rates, other_rate = dep.estimate_other_rate(spec.departures_history)
    settings = dep.DepartureSettings(start, spec.years, other_rate)
    found = dep.project_departures(dep.read_roster(spec.roster), settings, rates)
    return found.table, list(found.notes)


def city_total(bands: pd.DataFrame) -> pd.DataFrame:
    """The city's students per level and year; its band is the sum of the counties' bands
    (wider than the city's own band would be: counties do not all err the same way)."""
    columns = ["students", "low", "high"]
    return bands.groupby(["level", "year"], sort=False)[columns].sum().reset_index()


def departures_by_year(detail: pd.DataFrame, county: str | None = None) -> pd.DataFrame:
    """Retirements and other departures per year, of one county or the whole city."""
    rows = detail if county is None else detail[detail["county_id"] == county]
    return rows.groupby("year")[["retirements", "other_departures"]].sum().reset_index()
