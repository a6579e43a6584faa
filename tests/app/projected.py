"""The bundled projected scenario planned without the app: what the app must show."""

from __future__ import annotations

from app_ui import config
from optimizer.plan import PlanResult

PROJECTED = config.SAMPLE_SCENARIO.parent / "projected_5y.toml"


def projected_plan() -> PlanResult:
    """`make_plan` on `load_plan_inputs(projected_5y)`, departures per year included."""
    from optimizer.plan import make_plan
    from optimizer.scenario import load_plan_inputs, load_scenario

    scenario = load_scenario(PROJECTED)
    inputs = load_plan_inputs(scenario)
    return make_plan(
        inputs.counties,
        inputs.enrolment,
        scenario.standards,
        scenario.policy,
        departures=inputs.departures,
    )
