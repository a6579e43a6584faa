"""Sweeps of the what-if scenario for the app (SPEC 2.11), computed by `optimizer.sweep`.

No rule lives here. The what-if tables are written as CSV files to a temporary folder and
named by a `Scenario` with `[uncertainty] relative_error`, so that the sweep reads them through
the same readers as `quotapool sweep`; the draws, the robust plan, its summary and its files
come from the functions the command calls (`sweep_instance`, `run_draws`, `robust_plan`,
`sweep_document`, `robust_summary`, `output.write_plan`). With the same files, seed, draws and
quantile the app's robust plan is the command's, figure for figure.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from app_ui.scenarios import drop_empty_optional
from optimizer.need import Standards
from optimizer.plan import Policy

if TYPE_CHECKING:
    from optimizer.scenario import Scenario
    from optimizer.sweep_cli import SweepOutcome

DEFAULT_DRAWS = 200
MAX_DRAWS = 2000
DEFAULT_ERROR = 0.05


@dataclass(frozen=True)
class SweepRequest:
    draws: int = DEFAULT_DRAWS
    relative_error: float = DEFAULT_ERROR
    quantile: float = 0.0
    seed: int = 0
    workers: int = 1  # 1: in this process; more: local worker processes


@dataclass(frozen=True)
class WhatIfTables:
    """The what-if scenario as the sweep reads it."""

    name: str
    counties: pd.DataFrame
    enrolment: pd.DataFrame
    departures: pd.DataFrame | None
    standards: Standards
    policy: Policy

    def fingerprint(self, request: SweepRequest) -> str:
        """Changes whenever the tables, settings or request do: a shown sweep is stale then."""
        digest = hashlib.sha256(repr((self.standards, self.policy, request)).encode())
        for frame in (self.counties, self.enrolment, self.departures):
            digest.update(b"-" if frame is None else frame.to_csv(index=False).encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class SweepView:
    """What the panel shows and downloads."""

    outcome: SweepOutcome
    document: dict[str, Any]  # sweep_document: headline figures of both plans
    summary: dict[str, Any]  # robust_summary: the robust plan's summary.json
    plan: pd.DataFrame  # the robust plan (plan_frame, with year for a multi-year scenario)
    fan: pd.DataFrame  # county, plan (current / robust), p10, p50, p90 of the shortfall


def scenario_of(folder: Path, tables: WhatIfTables, relative_error: float) -> Scenario:
    """A scenario naming the tables written into `folder`."""
    from optimizer.scenario import Scenario, Uncertainty

    paths = {}
    for kind in ("counties", "enrolment", "departures"):
        frame = getattr(tables, kind)
        if frame is not None:
            paths[kind] = folder / f"{kind}.csv"
            drop_empty_optional(frame).to_csv(paths[kind], index=False)
    return Scenario(
        name=tables.name,
        path=folder / "whatif.toml",
        counties=paths["counties"],
        enrolment=paths["enrolment"],
        standards=tables.standards,
        policy=tables.policy,
        departures=paths.get("departures"),
        uncertainty=Uncertainty(relative_error=relative_error),
    )


def run(
    tables: WhatIfTables, request: SweepRequest, progress: Callable[[int], None] | None = None
) -> SweepView:
    """The sweep of the what-if scenario; raises InputErrors or `optimizer.sweep.Infeasible`."""
    from optimizer.sweep import SweepSettings, robust_plan, run_draws, sweep_instance
    from optimizer.sweep_cli import SweepOutcome, robust_summary, sweep_document

    with tempfile.TemporaryDirectory(prefix="quotapool-sweep-") as tmp:
        instance = sweep_instance(scenario_of(Path(tmp), tables, request.relative_error))
    settings = SweepSettings(
        draws=request.draws, seed=request.seed, quantile=request.quantile, workers=request.workers
    )
    draws = run_draws(instance.base, settings, progress)
    started = time.perf_counter()
    robust = robust_plan(instance, draws, request.quantile)
    seconds = {"draw": draws.draw_seconds, "solve": draws.solve_seconds}
    seconds |= {"draws_wall": draws.wall_seconds, "robust": time.perf_counter() - started}
    outcome = SweepOutcome(instance, draws, robust, settings, seconds)
    started = time.perf_counter()
    fan = shortfall_fan(outcome)
    seconds["aggregate"] = time.perf_counter() - started
    document = sweep_document(outcome)
    return SweepView(
        outcome, document, robust_summary(outcome, document), robust_table(outcome), fan
    )


def robust_table(outcome: SweepOutcome) -> pd.DataFrame:
    """The robust plan as `quotapool sweep` writes it to robust/plan.csv."""
    from optimizer.sweep_cli import robust_table as table

    return table(outcome)


def shortfall_fan(outcome: SweepOutcome) -> pd.DataFrame:
    """Per county and plan (`current`, `robust`) the p10, p50 and p90 of its shortfall over
    the futures, in quotas."""
    from optimizer.sweep import futures_shortfall, scaled_to_float

    instance, needs = outcome.instance, outcome.draws.needs
    problem = instance.base.problem
    rows = []
    for plan, x in (("current", instance.baseline.x), ("robust", outcome.robust.solution.x)):
        gaps = scaled_to_float(futures_shortfall(problem, needs, x), problem.scale)
        p10, p50, p90 = np.percentile(gaps, [10, 50, 90], axis=0)
        rows.append(
            pd.DataFrame(
                {"county_id": instance.ids, "county": instance.names, "plan": plan}
                | {"p10": p10, "p50": p50, "p90": p90}
            )
        )
    return pd.concat(rows, ignore_index=True)


def robust_files(view: SweepView, info: Mapping[str, Any]) -> dict[str, bytes]:
    """plan.csv, plan.xlsx and summary.json of the robust plan, written by `write_plan` as
    `quotapool sweep` writes robust/ (with the app's scenario record)."""
    from optimizer.output import write_plan

    with tempfile.TemporaryDirectory(prefix="quotapool-robust-") as tmp:
        target = write_plan(Path(tmp) / "robust", view.plan, view.summary, scenario_info=info)
        return {name: (target / name).read_bytes() for name in ("plan.csv", "plan.xlsx")}
