"""Scenario sweeps (SPEC 2.11): many enrolment futures, each solved exactly, on an engine.

Flow: `sweep_instance(scenario)` reads the scenario once and builds a `SweepBase` — every plan
year's point enrolment and its spread, the first year's whole-number problem, where the plan
starts (quotas, people in post, departures per year) and the need weights.
`run_draws(base, settings)` ships the base to the workers of an engine once (local processes,
Ray or Dask) and hands them batches of draw numbers; each worker draws its futures (one path
over the plan years each, `optimizer.sweep_worker`), computes their exact needs
(`optimizer.need`) and plans each path year by year with `optimizer.exact`, as `make_plan`
does. The results come back as they finish and are placed by draw number. `robust_plan` and
`county_distribution` turn them into the robust plan (`optimizer.robust`) and distributions.

Multi-year scenarios (SPEC 2.5's rule: each year starts from the previous year's plan and
moves only what that year releases): every year is swept, and the robust plan is made year
by year — year y's robust plan is robust over the futures' year-y needs, within the limits
that the robust plan of year y − 1 leaves. The limits of a year depend only on the previous
plan and the departures, not on enrolment, so this is the plan `make_plan` would chain, each
year's stage replaced by its robust counterpart; with zero spread it is `make_plan`'s plan.
A horizon-wide robust plan (all years' moves chosen at once) would break that rule's order
and is not made.

Determinism: draw d is drawn from `np.random.default_rng([seed, d])` whichever batch, worker
or engine runs it, and nothing downstream depends on the order in which batches finish, so
every engine and every number of workers gives the same figures, bit for bit.

The spread: a county's enrolment at a level is normal around its figure (correlated between
counties and levels as `[uncertainty]` says, `sweep_worker.Correlation`; independent by
default), rounded to whole pupils and never below 0. Its standard deviation is the
relative error times the figure (`[uncertainty] relative_error`, or the county's
`relative_error` column), or, for a `[projection]`, the projection's 10–90 band read as a
normal spread: (high − low) / (z₀.₉ − z₀.₁).
"""

from __future__ import annotations

import concurrent.futures
import enum
import importlib
import math
import multiprocessing
import os
import pickle
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from statistics import NormalDist
from types import ModuleType
from typing import Any, Literal

import numpy as np
import pandas as pd

from optimizer.exact import Problem, Solution, shortfall_scaled
from optimizer.need import (
    INT64_SAFE,
    ExactNeed,
    need_weights,
    students_by_county_level,
)
from optimizer.plan import CountyLimits
from optimizer.robust import futures_targets, solve_robust
from optimizer.scenario import Scenario
from optimizer.sweep_worker import (
    BatchResult,
    Correlation,
    PathState,
    PathYear,
    SweepBase,
    YearBase,
    batch_from_file,
    install,
    installed_batch,
    plan_path,
    point_path,
    solve_batch,
    warm,
)
from pools.tabular import InputError, InputErrors

MAX_BATCH = 25  # draws per task: tens, so that a task outweighs its shipping
# Where the spread of the futures comes from: [uncertainty] / the counties' relative_error
# column, or the bands of a [projection].
SpreadSource = Literal["relative_error", "projection_band"]


class Engine(enum.Enum):
    LOCAL = "local"  # worker processes on this machine (concurrent.futures), no set-up
    RAY = "ray"  # an existing Ray cluster (ray.init(address=...)), or a local one
    DASK = "dask"  # an existing Dask cluster (distributed.Client(address)), or a local one


class EngineUnavailable(Exception):
    """The engine cannot run: its extra is not installed, or its cluster cannot be reached."""


@dataclass(frozen=True)
class SweepSettings:
    draws: int
    seed: int = 0
    engine: Engine = Engine.LOCAL
    address: str | None = None  # the cluster's scheduler / head (Ray or Dask only)
    quantile: float = 0.0  # the robust plan leaves out the worst q share of futures
    workers: int | None = None  # local worker processes (None: one per CPU; 1: in-process)
    batch: int | None = None  # draws per task (None: up to MAX_BATCH)

    def problems(self) -> list[str]:
        """What is wrong with these settings, in plain words (empty when nothing is)."""
        found = []
        if self.draws < 1:
            found.append(f"--draws must be 1 or more, got {self.draws}")
        if self.seed < 0:
            found.append(f"--seed must be 0 or more, got {self.seed}")
        if not 0 <= self.quantile < 1:
            found.append(f"--quantile must be at least 0 and below 1, got {self.quantile}")
        if self.workers is not None and self.workers < 1:
            found.append(f"--workers must be 1 or more, got {self.workers}")
        if self.batch is not None and self.batch < 1:
            found.append(f"--batch must be 1 or more, got {self.batch}")
        if self.address is not None and self.engine is Engine.LOCAL:
            found.append("--address names a Ray or Dask cluster: give --engine ray or dask")
        return found

    def batches(self) -> list[tuple[int, int]]:
        """[start, stop) draw numbers of each task."""
        size = self.batch or max(1, min(MAX_BATCH, math.ceil(self.draws / 8)))
        return [(start, min(start + size, self.draws)) for start in range(0, self.draws, size)]


# ---------------------------------------------------------------- what every worker gets


# ---------------------------------------------------------------- engines


def _import_extra(module: str, extra: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EngineUnavailable(
            f"the {extra} engine is not installed: pip install 'quotapool[{extra}]' "
            f"(or pip install -e '.[{extra}]' in a checkout)"
        ) from exc


def check_engine(settings: SweepSettings) -> None:
    """Refuse early (EngineUnavailable) when the engine is missing or its cluster is not
    reachable, so that nothing is computed or written for nothing."""
    if settings.engine is Engine.RAY:
        _import_extra("ray", "ray")
    if settings.engine is Engine.DASK:
        _import_extra("distributed", "dask")
    if settings.address is not None and settings.address not in ("auto", "local"):
        _check_reachable(settings.address)


def _check_reachable(address: str) -> None:
    where = address.split("://", 1)[-1].rstrip("/")
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        raise EngineUnavailable(f"--address must be HOST:PORT (or SCHEME://HOST:PORT): {address}")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5):
            pass
    except OSError as exc:
        raise EngineUnavailable(f"cannot reach the cluster at {address}: {exc}") from exc


def local_worker_count(settings: SweepSettings) -> int:
    return min(settings.workers or os.cpu_count() or 1, len(settings.batches()))


class LocalWorkers:
    """Local worker processes started before the scenario is read, so that they start and
    import numpy and the solver (about 0.4 s each, spawned) while the parent reads and checks
    the inputs, instead of after."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pool = concurrent.futures.ProcessPoolExecutor(max_workers=count, mp_context=context)
        self.started = [self.pool.submit(warm) for _ in range(count)]

    def run(self, base: SweepBase, settings: SweepSettings) -> Iterator[BatchResult]:
        """The batches on these workers; the base goes to each of them once, through a file."""
        with tempfile.TemporaryDirectory(prefix="quotapool-sweep-") as folder:
            path = os.path.join(folder, "base.pickle")
            with open(path, "wb") as handle:
                pickle.dump(base, handle, protocol=pickle.HIGHEST_PROTOCOL)
            futures = [
                self.pool.submit(batch_from_file, path, settings.seed, *batch)
                for batch in settings.batches()
            ]
            for future in concurrent.futures.as_completed(futures):
                yield future.result()

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def _local_engine(base: SweepBase, settings: SweepSettings) -> Iterator[BatchResult]:
    batches = settings.batches()
    workers = local_worker_count(settings)
    if workers == 1:
        for start, stop in batches:
            yield solve_batch(base, settings.seed, start, stop)
        return
    # spawn: the same on Linux, macOS and Windows, and no fork of a threaded parent
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=install, initargs=(base,)
    ) as pool:
        futures = [pool.submit(installed_batch, settings.seed, *batch) for batch in batches]
        for future in concurrent.futures.as_completed(futures):
            yield future.result()


def _ray_engine(base: SweepBase, settings: SweepSettings) -> Iterator[BatchResult]:
    ray: Any = _import_extra("ray", "ray")
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(address=settings.address, include_dashboard=False, log_to_driver=False)
        except Exception as exc:  # Ray raises several kinds for a cluster it cannot join
            raise EngineUnavailable(f"cannot start or join Ray: {exc}") from exc
    try:
        shared = ray.put(base)
        task = ray.remote(solve_batch)
        pending = [task.remote(shared, settings.seed, *batch) for batch in settings.batches()]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started_here:
            ray.shutdown()


def _dask_engine(base: SweepBase, settings: SweepSettings) -> Iterator[BatchResult]:
    distributed: Any = _import_extra("distributed", "dask")
    cluster = None
    try:
        if settings.address is None:
            cluster = distributed.LocalCluster(
                n_workers=settings.workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
        client = distributed.Client(cluster or settings.address, timeout="10s")
    except Exception as exc:  # OSError, TimeoutError, …: the cluster is not there
        if cluster is not None:
            cluster.close()
        raise EngineUnavailable(f"cannot start or join Dask: {exc}") from exc
    try:
        shared = client.scatter(base, broadcast=True, hash=False)
        futures = [
            client.submit(solve_batch, shared, settings.seed, *batch, pure=False)
            for batch in settings.batches()
        ]
        for future in distributed.as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


ENGINES: dict[Engine, Callable[[SweepBase, SweepSettings], Iterator[BatchResult]]] = {
    Engine.LOCAL: _local_engine,
    Engine.RAY: _ray_engine,
    Engine.DASK: _dask_engine,
}


# ---------------------------------------------------------------- every draw, in draw order


@dataclass(frozen=True)
class SweepDraws:
    """Every draw's figures, in draw order: arrays [draw, year, county] over the plan years."""

    path_needs: np.ndarray  # scaled needs, int64 (Python ints only if they must)
    path_optimal: np.ndarray  # int64 optimal quotas of each future's own plan path
    path_by_classes: np.ndarray | None  # bool: the class minimum set the need
    draw_seconds: float  # summed over the workers
    solve_seconds: float  # summed over the workers
    wall_seconds: float
    gather_seconds: float = 0.0  # placing the batches in draw order, in the parent
    draw_cpu: float = 0.0  # CPU seconds summed over the workers
    solve_cpu: float = 0.0
    busiest_cpu: float = 0.0  # draw and solve CPU seconds of the busiest worker

    @property
    def needs(self) -> np.ndarray:
        """[draw, county] scaled needs of the first plan year."""
        return self.path_needs[:, 0]

    @property
    def optimal(self) -> np.ndarray:
        """[draw, county] optimal quotas of the first plan year."""
        return self.path_optimal[:, 0]

    @property
    def by_classes(self) -> np.ndarray | None:
        return None if self.path_by_classes is None else self.path_by_classes[:, 0]


def run_draws(
    base: SweepBase,
    settings: SweepSettings,
    progress: Callable[[int], None] | None = None,
    workers: LocalWorkers | None = None,
) -> SweepDraws:
    """Every draw solved on the settings' engine (on `workers` when they were started
    already); `progress` hears how many draws finished."""
    started = time.perf_counter()
    results: dict[int, BatchResult] = {}
    batches = workers.run(base, settings) if workers else ENGINES[settings.engine](base, settings)
    for result in batches:
        results[result.start] = result
        if progress is not None:
            progress(len(result.optimal))
    gathering = time.perf_counter()
    ordered = [results[start] for start in sorted(results)]
    classes = [r.by_classes for r in ordered if r.by_classes is not None]
    needs = _canonical(np.concatenate([r.needs for r in ordered]))
    optimal = np.concatenate([r.optimal for r in ordered])
    done = time.perf_counter()
    return SweepDraws(
        path_needs=needs,
        path_optimal=optimal,
        path_by_classes=np.concatenate(classes) if classes else None,
        draw_seconds=sum(r.draw_seconds for r in ordered),
        solve_seconds=sum(r.solve_seconds for r in ordered),
        wall_seconds=done - started,
        gather_seconds=done - gathering,
        draw_cpu=sum(r.draw_cpu for r in ordered),
        solve_cpu=sum(r.solve_cpu for r in ordered),
        busiest_cpu=_busiest(ordered),
    )


def _busiest(results: list[BatchResult]) -> float:
    busy: dict[int, float] = {}
    for result in results:
        busy[result.worker] = busy.get(result.worker, 0.0) + result.draw_cpu + result.solve_cpu
    return max(busy.values(), default=0.0)


def _canonical(needs: np.ndarray) -> np.ndarray:
    """int64 whenever the values allow, whatever dtype each batch happened to pick."""
    if needs.dtype == object and int(needs.max(initial=0)) < INT64_SAFE:
        return needs.astype(np.int64)
    return needs


# ---------------------------------------------------------------- the instance


class Infeasible(Exception):
    """No plan meets every limit of the first year: nothing to sweep."""

    def __init__(self, english: list[str], chinese: list[str]):
        super().__init__(" ".join(english))
        self.english, self.chinese = english, chinese


@dataclass(frozen=True)
class SweepInstance:
    """The parent's side of a sweep: the counties, the plan years, and the base."""

    ids: list[str]
    names: list[str]
    base: SweepBase
    baseline_path: tuple[PathYear, ...]  # per plan year, the plan on the point figures
    years: list[int]  # every plan year of the scenario (empty when enrolment has no year)
    source: SpreadSource
    extra: int  # extra quotas of the city pool (in the first year's total)

    @property
    def year(self) -> int | None:
        """The first plan year (None when enrolment has no year)."""
        return self.years[0] if self.years else None

    @property
    def baseline(self) -> Solution:
        """The first year's plan on the point figures (the scenario's objective)."""
        return self.baseline_path[0].solution

    @property
    def limits(self) -> CountyLimits:
        """The first year's limits."""
        return self.year_limits(self.baseline_path[0], 0)

    def year_limits(self, step: PathYear, index: int) -> CountyLimits:
        """The limits of plan year `index` on a path that reached `step`."""
        return step.state.limits(self.base.years[index].leaving, step.problem.total)


def sweep_instance(scenario: Scenario) -> SweepInstance:
    """Every plan year of the scenario, ready to sweep; raises InputErrors for bad input and
    for a scenario that says nothing about how far enrolment may stray."""
    from optimizer import plan
    from optimizer.need import county_level_sums, has_classes
    from optimizer.scenario import load_plan_inputs

    inputs = load_plan_inputs(scenario)
    counties, enrolment = inputs.counties, inputs.enrolment
    ids = [str(c) for c in counties["county_id"].tolist()]
    names = [str(n) for n in counties["name"].tolist()]
    years = _years(enrolment)
    planned: list[int] | list[None] = years or [None]
    table = plan.county_columns(counties)
    leaving = plan.departures_schedule(table, inputs.departures, planned, scenario.policy)
    sigma, source = _spread(scenario, counties, enrolment, ids, planned)
    with_classes = has_classes(enrolment)
    bases = tuple(
        YearBase(
            year,
            students_by_county_level(enrolment, ids, year),
            sigma[index],
            county_level_sums(enrolment, ids, "classes", year) if with_classes else None,
            leaving[:, index] if index < leaving.shape[1] else np.zeros_like(table.current),
        )
        for index, year in enumerate(planned)
    )
    weights = need_weights(counties, scenario.standards, with_classes=with_classes)
    start = PathState(
        table.current,
        table.occupied,
        table.min_quota,
        table.max_gain,
        table.has_cap,
        table.current + table.max_gain,
    )
    extra = scenario.policy.extra_quota
    total = int(table.current.sum()) + extra
    limits = start.limits(bases[0].leaving, total)
    scaled, _ = weights.scaled(bases[0].students, bases[0].classes)
    problem = Problem(scaled, weights.scale, limits.current, limits.lower, limits.upper, total)
    if not problem.is_feasible() or total < 0:
        raise Infeasible(*plan.explain_infeasible(ids, names, limits, total, extra))
    correlation = _correlation(scenario)
    objective = scenario.policy.objective
    base = SweepBase(problem, weights, bases, start, objective, correlation)
    return SweepInstance(ids, names, base, tuple(point_path(base)), years, source, extra)


def _years(enrolment: pd.DataFrame) -> list[int]:
    if "year" not in enrolment.columns or enrolment["year"].isna().all():
        return []
    return sorted(int(y) for y in enrolment["year"].dropna().unique())


def _correlation(scenario: Scenario) -> Correlation:
    spread = scenario.uncertainty
    if spread is None:
        return Correlation()
    city, level = spread.city_correlation, spread.level_correlation
    return Correlation(city, city if level is None else level)


def _spread(
    scenario: Scenario,
    counties: pd.DataFrame,
    enrolment: pd.DataFrame,
    ids: list[str],
    years: list[int] | list[None],
) -> tuple[list[np.ndarray], SpreadSource]:
    """Standard deviation of the enrolment per year, county and level, and where it came
    from."""
    given = scenario.uncertainty.relative_error if scenario.uncertainty else None
    # An [uncertainty] table without relative_error keeps a projection's bands; without a
    # projection it means no spread at all (relative_error 0).
    bare = scenario.uncertainty is not None and scenario.projection is None
    if given is not None or bare or "relative_error" in counties.columns:
        column = counties.get("relative_error", pd.Series(np.nan, index=counties.index))
        relative = pd.to_numeric(column).fillna(given or 0.0).to_numpy(dtype=float)
        return [
            students_by_county_level(enrolment, ids, year) * relative[:, None] for year in years
        ], "relative_error"
    if scenario.projection is not None:
        return _band_sigma(scenario, ids, years), "projection_band"
    raise InputErrors(
        [
            InputError(
                scenario.path.name,
                "a sweep needs to know how far enrolment may stray: add [uncertainty] "
                "relative_error = 0.05, a relative_error [相对误差] column to the counties, "
                "or a [projection] (its bands are used)",
                column="uncertainty",
            )
        ]
    )


def _band_sigma(
    scenario: Scenario, ids: list[str], years: list[int] | list[None]
) -> list[np.ndarray]:
    """The projection's band (low, high quantiles) of each year read as a normal spread."""
    from optimizer.need import county_level_sums
    from optimizer.projection import project_enrolment

    spec = scenario.projection
    assert spec is not None
    settings = spec.settings()
    projected = project_enrolment(spec.history, spec.births, settings).enrolment
    normal = NormalDist()
    width = normal.inv_cdf(settings.band[1]) - normal.inv_cdf(settings.band[0])
    sigma = []
    for year in years:
        low = county_level_sums(projected, ids, "low", year)
        high = county_level_sums(projected, ids, "high", year)
        sigma.append(np.asarray((high - low) / width, dtype=float))
    return sigma


# ---------------------------------------------------------------- what the draws tell


def scaled_to_float(scaled: np.ndarray, scale: int) -> np.ndarray:
    """Scaled whole numbers as floats (for people and files; no decision uses them)."""
    if scaled.dtype != object:
        return scaled.astype(float) / scale
    return np.vectorize(lambda value: int(value) / scale, otypes=[float])(scaled)


def futures_shortfall(problem: Problem, needs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """[draw, county] scaled shortfall of plan x in every future."""
    return shortfall_scaled(replace(problem, scaled_need=needs), x)


def expected_shortfall(problem: Problem, needs: np.ndarray, x: np.ndarray) -> Fraction:
    """The mean over the futures of plan x's total shortfall, exactly."""
    gaps = futures_shortfall(problem, needs, x)
    fits = gaps.dtype != object and int(gaps.max(initial=0)) * gaps.size < INT64_SAFE
    total = int(gaps.sum()) if fits else int(gaps.astype(object).sum())
    return Fraction(total, len(needs) * problem.scale)


@dataclass(frozen=True)
class RobustPlan:
    """One plan year of the robust plan with what it was measured against."""

    year: int | None
    solution: Solution
    requirement: ExactNeed  # per county the need the level covers: its worst kept future
    problem: Problem  # the year's bounds with the requirement as need
    limits: CountyLimits  # the year's limits, on the robust path
    codes: list[str]  # limited_by per county, against the requirement
    expected_shortfall: Fraction  # mean over the futures of the year's total shortfall


@dataclass(frozen=True)
class RobustPath:
    """The robust plan of every plan year, each starting from the previous year's."""

    years: tuple[RobustPlan, ...]

    @property
    def solution(self) -> Solution:
        """The first year's robust plan."""
        return self.years[0].solution

    @property
    def level(self) -> Fraction:
        """The largest relative shortfall over every year, county and kept future."""
        return max(plan.solution.fair_level or Fraction(0) for plan in self.years)

    @property
    def expected_shortfall(self) -> Fraction:
        """The mean over the futures of the total shortfall, summed over the years."""
        return sum((plan.expected_shortfall for plan in self.years), Fraction(0))


def robust_plan(instance: SweepInstance, draws: SweepDraws, quantile: float) -> RobustPath:
    """`optimizer.robust` over every draw, year by year; each year's requirement is the
    rank-th largest of its needs."""
    from optimizer.plan import limited_by

    base = instance.base
    targets = [
        futures_targets(draws.path_needs[:, index], quantile) for index in range(len(base.years))
    ]
    path = plan_path(
        base, base.point_needs(), lambda index, problem: solve_robust(problem, targets[index])
    )
    plans = []
    for index, step in enumerate(path):
        needs = draws.path_needs[:, index]
        rows = np.argsort(needs, axis=0, kind="stable")[len(needs) - targets[index].rank]
        columns = np.arange(step.problem.size)
        required = needs[rows, columns]
        classes = draws.path_by_classes
        by_classes = None if classes is None else classes[:, index][rows, columns]
        problem = replace(step.problem, scaled_need=required)
        x, level = step.solution.x, step.solution.fair_level
        limits = instance.year_limits(step, index)
        codes = limited_by(problem, limits, x, step.solution.floor, level, by_classes)
        expected = expected_shortfall(step.problem, needs, x)
        need = ExactNeed(tuple(instance.ids), required, problem.scale, by_classes)
        year = base.years[index].year
        plans.append(RobustPlan(year, step.solution, need, problem, limits, codes, expected))
    return RobustPath(tuple(plans))


def _percentiles(values: np.ndarray, name: str) -> dict[str, np.ndarray]:
    p10, p50, p90 = np.percentile(values, [10, 50, 90], axis=0)
    return {f"{name}_p10": p10, f"{name}_p50": p50, f"{name}_p90": p90}


def baseline_shortfalls(instance: SweepInstance, draws: SweepDraws) -> np.ndarray:
    """[draw, year, county] scaled shortfall of the baseline plan in every future."""
    return np.stack(
        [
            futures_shortfall(step.problem, draws.path_needs[:, index], step.solution.x)
            for index, step in enumerate(instance.baseline_path)
        ],
        axis=1,
    )


def county_distribution(
    instance: SweepInstance, draws: SweepDraws, robust: RobustPath
) -> pd.DataFrame:
    """Per plan year and county: need, optimal quota and the baseline plan's shortfall over
    the futures (a `year` column first when the scenario has years)."""
    scale = instance.base.problem.scale
    all_gaps = baseline_shortfalls(instance, draws)
    frames = []
    for index, step in enumerate(instance.baseline_path):
        gaps = all_gaps[:, index]
        short = scaled_to_float(gaps, scale)
        columns = {
            "county_id": instance.ids,
            "name": instance.names,
            "current": step.state.current,
            "baseline": step.solution.x,
            "robust": robust.years[index].solution.x,
            **_percentiles(scaled_to_float(draws.path_needs[:, index], scale), "need"),
            **_percentiles(draws.path_optimal[:, index], "optimal"),
            **_percentiles(short, "baseline_shortfall"),
            "baseline_shortfall_mean": short.mean(axis=0),
            "baseline_short_share": (gaps > 0).mean(axis=0),
        }
        frame = pd.DataFrame(columns)
        if instance.years:
            frame.insert(0, "year", instance.years[index])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def draw_table(instance: SweepInstance, draws: SweepDraws) -> Any:
    """Every draw's figures per plan year and county (a pyarrow Table, in draw order, year
    order, county order; a `year` column when the scenario has years)."""
    import pyarrow as pa

    rows, years, size = draws.path_optimal.shape
    scale = instance.base.problem.scale
    gaps = baseline_shortfalls(instance, draws)
    county = pa.DictionaryArray.from_arrays(
        pa.array(np.tile(np.arange(size, dtype=np.int32), rows * years)), pa.array(instance.ids)
    )
    columns: dict[str, Any] = {
        "draw": pa.array(np.repeat(np.arange(rows, dtype=np.int32), years * size))
    }
    if instance.years:
        year = np.tile(np.repeat(np.asarray(instance.years, dtype=np.int32), size), rows)
        columns["year"] = pa.array(year)
    return pa.table(
        columns
        | {
            "county_id": county,
            "need": pa.array(scaled_to_float(draws.path_needs, scale).ravel()),
            "optimal_quota": pa.array(draws.path_optimal.ravel()),
            "baseline_shortfall": pa.array(scaled_to_float(gaps, scale).ravel()),
        }
    )


def worst_relative_shortfall(
    problem: Problem, needs: np.ndarray, x: np.ndarray, quantile: float = 0.0
) -> float:
    """The largest relative shortfall of plan x over every county and future (floats); with
    a quantile, per county the value met in all but the worst q share of its futures."""
    gaps = scaled_to_float(futures_shortfall(problem, needs, x), problem.scale)
    need = scaled_to_float(needs, problem.scale)
    shares = np.divide(gaps, need, out=np.zeros_like(gaps), where=need > 0)
    rank = futures_targets(needs, quantile).rank
    return float(np.sort(shares, axis=0)[len(shares) - rank].max(initial=0.0))
