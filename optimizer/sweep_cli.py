"""`quotapool sweep SCENARIO.toml --draws N --out DIR` (SPEC 2.11, 3.5).

Writes, only once every draw is solved (bad input writes nothing, exit 2):

- `DIR/robust/` — plan.csv, plan.xlsx and summary.json of the robust plan (`write_plan`);
  its `need` is per county the need the plan is measured against: the largest over the
  futures (with --quantile q, the need met in all but the worst q share of them); one block
  of rows per plan year, with a `year` column, for a multi-year scenario;
- `DIR/distribution.csv` — per (year and) county p10/p50/p90 of need, of the optimal quota
  and of the shortfall under the baseline plan, with the baseline and robust quotas;
- `DIR/sweep.parquet` — every draw's figures: draw, (year,) county_id, need, optimal_quota,
  baseline_shortfall.

Exit status: 0 written, 2 input or settings refused, 1 no plan meets the limits.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from tqdm import tqdm

from optimizer.exact import max_relative_shortfall, quotas_moved, total_shortfall_scaled
from optimizer.sweep import (
    Engine,
    EngineUnavailable,
    Infeasible,
    LocalWorkers,
    RobustPath,
    RobustPlan,
    SweepDraws,
    SweepInstance,
    SweepSettings,
    check_engine,
    county_distribution,
    draw_table,
    expected_shortfall,
    local_worker_count,
    robust_plan,
    run_draws,
    sweep_instance,
    worst_relative_shortfall,
)
from pools.tabular import InputErrors

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
# The parts of a sweep's wall time (draw and solve are summed over the workers, inside draws).
WALL_PARTS = ("draws_wall", "robust", "aggregate")


class Refused(Exception):
    """Settings or input refused before anything was computed or written."""


@dataclass(frozen=True)
class SweepOutcome:
    instance: SweepInstance
    draws: SweepDraws
    robust: RobustPath
    settings: SweepSettings
    seconds: dict[str, float]


def run_sweep(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
    except Refused as exc:
        return _refuse(str(exc), [{"message": str(exc)}], args.json)
    workers = _early_workers(settings)
    try:
        return _run(args, settings, workers)
    finally:
        if workers is not None:
            workers.close()


def _early_workers(settings: SweepSettings) -> LocalWorkers | None:
    """Local workers start now and import while the scenario is read (several, local only)."""
    count = local_worker_count(settings)
    return LocalWorkers(count) if settings.engine is Engine.LOCAL and count > 1 else None


def _run(args: argparse.Namespace, settings: SweepSettings, workers: LocalWorkers | None) -> int:
    from optimizer.scenario import load_scenario

    try:
        scenario = load_scenario(args.scenario)
        if Path(args.out).exists() and not Path(args.out).is_dir():
            raise Refused(f"--out must be a directory, and {args.out} is a file")
        check_engine(settings)
        instance = sweep_instance(scenario)
    except InputErrors as errors:
        return _refuse(errors.report(), [error.as_dict() for error in errors.errors], args.json)
    except (Refused, EngineUnavailable) as exc:
        return _refuse(str(exc), [{"message": str(exc)}], args.json)
    except Infeasible as exc:
        return _infeasible(exc, args.json)
    try:
        outcome = sweep(instance, settings, workers)
    except EngineUnavailable as exc:
        return _refuse(str(exc), [{"message": str(exc)}], args.json)
    document = write_sweep(Path(args.out), scenario, outcome)
    if args.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        print(_success_text(document))
    return EXIT_OK


def _settings(args: argparse.Namespace) -> SweepSettings:
    names = [engine.value for engine in Engine]
    if args.engine not in names:
        raise Refused(f"unknown engine {args.engine!r} (choose one of: {', '.join(names)})")
    settings = SweepSettings(
        draws=args.draws,
        seed=args.seed,
        engine=Engine(args.engine),
        address=args.address,
        quantile=args.quantile,
        workers=args.workers,
        batch=args.batch,
    )
    problems = settings.problems()
    if problems:
        raise Refused("; ".join(problems))
    return settings


def _refuse(message: str, errors: list[dict[str, Any]], as_json: bool) -> int:
    print(f"✗ sweep refused, nothing written: {message}", file=sys.stderr)
    if as_json:
        print(json.dumps({"status": "rejected", "errors": errors}, ensure_ascii=False, indent=2))
    return EXIT_BAD_INPUT


def _infeasible(exc: Infeasible, as_json: bool) -> int:
    lines = "\n".join(f"  {line}" for line in [*exc.english, *exc.chinese])
    print(f"✗ sweep: no plan meets every limit of the first year, nothing written\n{lines}")
    if as_json:
        document = {"status": "infeasible", "explanation": exc.english}
        document["explanation_zh"] = exc.chinese
        print(json.dumps(document, ensure_ascii=False, indent=2))
    return EXIT_FAILED


# --- the computation -------------------------------------------------------------------------


def sweep(
    instance: SweepInstance, settings: SweepSettings, workers: LocalWorkers | None = None
) -> SweepOutcome:
    """Every draw on the engine (progress on stderr), then the robust plan."""
    with tqdm(total=settings.draws, desc="sweep", unit="draw", file=sys.stderr) as bar:
        draws = run_draws(instance.base, settings, bar.update, workers)
    started = time.perf_counter()
    robust = robust_plan(instance, draws, settings.quantile)
    seconds = {
        "draw": draws.draw_seconds,
        "solve": draws.solve_seconds,
        "draws_wall": draws.wall_seconds,
        "robust": time.perf_counter() - started,
    }
    return SweepOutcome(instance, draws, robust, settings, seconds)


def sweep_document(outcome: SweepOutcome) -> dict[str, Any]:
    """What the sweep found, as plain data (summary.json's `sweep`, and --json). Figures are
    over every plan year: the largest relative shortfall of any year, the expected total
    shortfall and the quotas moved summed over the years (`per_year` has each year's)."""
    instance, draws, robust = outcome.instance, outcome.draws, outcome.robust
    settings = outcome.settings
    per_year: list[dict[str, Any]] = []
    for index, (plan, step) in enumerate(zip(robust.years, instance.baseline_path, strict=True)):
        needs, baseline = draws.path_needs[:, index], step.solution.x
        per_year.append(
            {
                "year": plan.year,
                "robust": {
                    "max_relative_shortfall": float(plan.solution.fair_level or 0),
                    "expected_total_shortfall": float(plan.expected_shortfall),
                    "moved": quotas_moved(plan.problem, plan.solution.x),
                },
                "baseline": {
                    "max_relative_shortfall": worst_relative_shortfall(
                        step.problem, needs, baseline, settings.quantile
                    ),
                    "expected_total_shortfall": float(
                        expected_shortfall(step.problem, needs, baseline)
                    ),
                    "moved": quotas_moved(step.problem, baseline),
                },
            }
        )
    spread = instance.base.correlation
    document: dict[str, Any] = {
        "year": instance.year,
        "years": instance.years,
        "note": _year_note(instance),
        "source": instance.source,
        "correlation": {"city": spread.city, "level": spread.level},
        "draws": settings.draws,
        "seed": settings.seed,
        "engine": settings.engine.value,
        "quantile": settings.quantile,
        "robust": _over_years([year["robust"] for year in per_year]),
        "baseline": _over_years([year["baseline"] for year in per_year]),
        "seconds": {key: round(value, 6) for key, value in outcome.seconds.items()},
    }
    if len(per_year) > 1:
        document["per_year"] = per_year
    return document


def _over_years(figures: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "max_relative_shortfall": max(f["max_relative_shortfall"] for f in figures),
        "expected_total_shortfall": sum(f["expected_total_shortfall"] for f in figures),
        "moved": sum(f["moved"] for f in figures),
    }


def _year_note(instance: SweepInstance) -> str | None:
    if len(instance.years) <= 1:
        return None
    return (
        f"multi-year scenario ({instance.years[0]}–{instance.years[-1]}): every year is "
        f"drawn (each future a path over the years) and the robust plan is made year by "
        f"year, each year from the previous year's robust plan"
    )


def robust_summary(outcome: SweepOutcome, document: dict[str, Any]) -> dict[str, Any]:
    """summary.json of the robust plan: the plan fields of SPEC 3.4 (over every plan year, as
    `make_plan` combines years), each year's own under `per_year`, and the sweep."""
    robust, instance = outcome.robust, outcome.instance
    years = [_year_summary(plan) for plan in robust.years]
    worst = max(Fraction(year["max_relative_shortfall_exact"]) for year in years)
    short = sum((Fraction(year["total_shortfall_exact"]) for year in years), Fraction(0))
    summary = {
        "status": "optimal",
        "objective": "robust",
        "solver": "exact",
        "seconds": round(sum(outcome.seconds[key] for key in WALL_PARTS), 6),
        "total_before": int(instance.limits.current.sum()),
        "total_after": years[-1]["total_after"],
        "max_relative_shortfall": float(worst),
        "max_relative_shortfall_exact": str(worst),
        "total_shortfall": float(short),
        "total_shortfall_exact": str(short),
        "expected_total_shortfall": float(robust.expected_shortfall),
        "expected_total_shortfall_exact": str(robust.expected_shortfall),
        "moved": sum(year["moved"] for year in years),
        "extra_quota": instance.extra,
        "counties": len(instance.ids),
        "counties_by_limit": years[-1]["counties_by_limit"],
        **({"year": instance.year} if instance.year is not None else {}),
    }
    if len(years) > 1:
        summary["years"] = instance.years
        summary["per_year"] = years
    summary["sweep"] = document
    return summary


def _year_summary(plan: RobustPlan) -> dict[str, Any]:
    x, problem = plan.solution.x, plan.problem
    worst = max_relative_shortfall(problem, x)
    short = Fraction(total_shortfall_scaled(problem, x), problem.scale)
    return {
        **({"year": plan.year} if plan.year is not None else {}),
        "total_after": int(x.sum()),
        "max_relative_shortfall": float(worst),
        "max_relative_shortfall_exact": str(worst),
        "total_shortfall": float(short),
        "total_shortfall_exact": str(short),
        "expected_total_shortfall": float(plan.expected_shortfall),
        "expected_total_shortfall_exact": str(plan.expected_shortfall),
        "moved": quotas_moved(problem, x),
        "counties_by_limit": {code: plan.codes.count(code) for code in dict.fromkeys(plan.codes)},
    }


# --- the files ---------------------------------------------------------------------------------


def robust_table(outcome: SweepOutcome) -> Any:
    """The robust plan as a plan table (what robust/plan.csv holds), year after year."""
    import pandas as pd

    from optimizer.plan import plan_frame

    instance, frames = outcome.instance, []
    for plan in outcome.robust.years:
        frame = plan_frame(
            instance.ids,
            instance.names,
            plan.requirement,
            plan.limits,
            plan.solution.x,
            plan.codes,
            plan.solution.fair_level,
        )
        if plan.year is not None:
            frame.insert(0, "year", plan.year)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def write_sweep(out: Path, scenario: Any, outcome: SweepOutcome) -> dict[str, Any]:
    """robust/, distribution.csv and sweep.parquet under `out`, each written atomically."""
    import pyarrow.parquet as pq

    from optimizer.cli import scenario_info
    from optimizer.output import write_plan

    started = time.perf_counter()
    instance, robust = outcome.instance, outcome.robust
    distribution = county_distribution(instance, outcome.draws, robust)
    table = draw_table(instance, outcome.draws)
    outcome.seconds["aggregate"] = time.perf_counter() - started
    document = sweep_document(outcome)
    plan = robust_table(outcome)
    out.mkdir(parents=True, exist_ok=True)
    summary = robust_summary(outcome, document)
    write_plan(out / "robust", plan, summary, scenario_info=scenario_info(scenario))
    _atomic(out / "distribution.csv", lambda path: _write_csv(distribution, path))
    _atomic(out / "sweep.parquet", lambda path: pq.write_table(table, path))
    files = {name: str(out / name) for name in ("robust", "distribution.csv", "sweep.parquet")}
    return {
        "status": "optimal",
        "scenario": scenario.name,
        "out": str(out),
        "files": files,
        **document,
    }


def _write_csv(frame: Any, path: Path) -> None:
    # As plan.csv: the BOM lets Excel on zh-CN open the UTF-8 file with its names intact, and
    # no text cell runs as a formula.
    from pools.csv_safe import neutralised_frame

    neutralised_frame(frame).to_csv(path, index=False, encoding="utf-8-sig", float_format="%.10g")


def _atomic(target: Path, write: Callable[[Path], None]) -> None:
    """Write beside the target, then rename over it: the file is whole or absent."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        write(Path(name))
        os.chmod(name, 0o644)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _success_text(document: dict[str, Any]) -> str:
    robust, baseline = document["robust"], document["baseline"]
    share = document["quantile"]
    where = f"all but the worst {share:.0%} of futures" if share else "any future"
    lines = [
        f"✓ {document['scenario']}: {document['draws']} futures ({document['source']}, "
        f"seed {document['seed']}, {document['engine']}) → {document['out']}",
        f"  robust plan: largest shortfall {robust['max_relative_shortfall']:.1%} in {where}, "
        f"expected total shortfall {robust['expected_total_shortfall']:,.1f}, "
        f"{robust['moved']} moved",
        f"  baseline plan: largest shortfall {baseline['max_relative_shortfall']:.1%}, "
        f"expected total shortfall {baseline['expected_total_shortfall']:,.1f}",
    ]
    if document["note"]:
        lines.append(f"  note: {document['note']}")
    return "\n".join(lines)
