"""What a sweep's worker runs: draw futures and solve each exactly (SPEC 2.11).

Kept apart from `optimizer.sweep` and free of pandas, so that a local worker process starts
in the time numpy takes to import (about 0.2 s, not 0.8 s): with a few thousand draws the
workers' start-up is a visible share of a sweep. (A multi-year path imports `optimizer.plan`
for the limits of its later years, once per worker.)

A future is a path over the plan years: draw d gives every county and level one standard
score z (`draw_noise`), and its enrolment in year y is the point figure of y plus z times
the spread of y. A county that turns out above its forecast in the first year stays as far
above it, in units of each year's spread, in the later ones.

The errors of the counties may move together (`Correlation`): z_{i,l} = √c·C + √(l − c)·K_i
+ √(1 − l)·E_{i,l} with C one city-wide standard normal per draw, K_i one per county and
E_{i,l} one per county and level, all independent. Two counties' errors then correlate by c
(`city`), two levels of one county by l (`level`, at least c). With c = l = 0 (the default)
z = E, drawn first from the draw's generator: the futures of a sweep without correlation.
"""

from __future__ import annotations

import math
import os
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from optimizer.exact import Problem, Solution, solve_exact
from optimizer.need import NeedWeights

if TYPE_CHECKING:  # optimizer.plan imports pandas: only a multi-year path needs it
    from optimizer.plan import CountyLimits


@dataclass(frozen=True)
class Correlation:
    """How the enrolment errors of a draw move together (see the module docstring)."""

    city: float = 0.0  # correlation of two counties' errors (the city-wide factor's share)
    level: float = 0.0  # correlation of two levels' errors in one county (≥ city)

    def __post_init__(self) -> None:
        if not 0 <= self.city <= self.level <= 1:
            raise ValueError(f"need 0 ≤ city ≤ level ≤ 1 correlation, got {self}")


@dataclass(frozen=True)
class YearBase:
    """One plan year's point figures and spread. Arrays are [county, level]."""

    year: int | None
    students: np.ndarray  # int64 point enrolment
    sigma: np.ndarray  # float standard deviation of the enrolment
    classes: np.ndarray | None  # int64 classes (the class minimum of SPEC 2.10), fixed
    leaving: np.ndarray  # int64 expected departures of the year, per county


@dataclass(frozen=True)
class PathState:
    """Where a plan year starts, as `optimizer.plan.make_plan` carries it from year to year."""

    current: np.ndarray  # int64 quotas
    occupied: np.ndarray  # int64 people in post
    min_quota: np.ndarray
    max_gain: np.ndarray  # what a capped county may still gain over the horizon
    has_cap: np.ndarray  # bool
    cap: np.ndarray  # starting quota + max_gain: the horizon's cap of a capped county

    def limits(self, leaving: np.ndarray, total: int) -> CountyLimits:
        """The year's `CountyLimits` (SPEC 2.5's limits live in `optimizer.plan`)."""
        from optimizer.plan import county_limits

        return county_limits(
            self.current,
            self.occupied,
            leaving,
            self.min_quota,
            self.max_gain,
            self.has_cap,
            total,
        )

    def after(self, new: np.ndarray, leaving: np.ndarray) -> PathState:
        """The next year's start, as `make_plan` sets it: the people who left are gone, and a
        county that gained quota fills it; max_gain is what is left of the horizon's cap."""
        gained = np.maximum(new - self.current, 0)
        occupied = self.occupied - leaving + gained
        max_gain = np.maximum(self.cap - new, 0)
        return replace(self, current=new, occupied=occupied, max_gain=max_gain)


@dataclass(frozen=True)
class SweepBase:
    """The plan years, shipped to every worker once."""

    problem: Problem  # the first year: point need, bounds and total
    weights: NeedWeights
    years: tuple[YearBase, ...]  # every plan year, in order (one for a one-year scenario)
    start: PathState  # where the first year starts
    objective: str  # each future's own plan follows the scenario's objective
    correlation: Correlation = Correlation()

    def point_needs(self) -> np.ndarray:
        """[year, county] scaled needs of the point figures."""
        return self.needs(np.stack([year.students for year in self.years]))[0]

    def needs(self, students: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Scaled needs [..., year, county] of enrolment [..., year, county, level], and
        where the class minimum set them."""
        classes = None
        if self.years[0].classes is not None:
            fixed = np.stack([year.classes for year in self.years if year.classes is not None])
            classes = np.broadcast_to(fixed, students.shape)
        return self.weights.scaled(students, classes)


@dataclass(frozen=True)
class PathYear:
    """One year of a plan path: where it started, the year's problem and its plan."""

    state: PathState
    problem: Problem
    solution: Solution


Solver = Callable[[int, Problem], Solution]  # (year index, the year's problem) → its plan


def plan_path(base: SweepBase, needs: np.ndarray, solve: Solver) -> list[PathYear]:
    """Every plan year with needs [year, county], each year starting from the previous
    year's plan as `make_plan` does; later years' totals are the quotas held (the city's
    extra quota comes in the first year only)."""
    state, path = base.start, []
    for index, year in enumerate(base.years):
        if index == 0:
            problem = replace(base.problem, scaled_need=needs[0])
        else:
            total = int(state.current.sum())
            limits = state.limits(year.leaving, total)
            scale = base.problem.scale
            problem = Problem(needs[index], scale, state.current, limits.lower, limits.upper, total)
        solution = solve(index, problem)
        path.append(PathYear(state, problem, solution))
        state = state.after(solution.x, year.leaving)
    return path


def optimal_path(base: SweepBase, needs: np.ndarray) -> list[PathYear]:
    """Each year planned exactly with the scenario's objective."""
    return plan_path(base, needs, lambda _, problem: solve_exact(problem, base.objective))


def point_path(base: SweepBase) -> list[PathYear]:
    """The plan on the point figures: the baseline plan, and one draw's worth of work."""
    return optimal_path(base, base.point_needs())


def draw_noise(
    shape: tuple[int, int], correlation: Correlation, seed: int, draw: int
) -> np.ndarray:
    """Standard scores [county, level] of future `draw` (see the module docstring)."""
    rng = np.random.default_rng([seed, draw])
    own = rng.standard_normal(shape)
    if correlation.city == 0 and correlation.level == 0:
        return own
    city = rng.standard_normal()
    county = rng.standard_normal(shape[0])
    c, level = correlation.city, correlation.level
    return math.sqrt(c) * city + math.sqrt(level - c) * county[:, None] + math.sqrt(1 - level) * own


def draw_students(base: SweepBase, seed: int, draw: int) -> np.ndarray:
    """The enrolment [year, county, level] of future `draw`: whole pupils, never below 0."""
    z = draw_noise(base.years[0].students.shape, base.correlation, seed, draw)
    return np.stack(
        [np.maximum(np.rint(year.students + year.sigma * z), 0) for year in base.years]
    ).astype(np.int64)


@dataclass(frozen=True)
class BatchResult:
    start: int  # the first draw number; rows are draws start, start + 1, …
    needs: np.ndarray  # [draw, year, county] scaled needs (int64, or Python ints)
    optimal: np.ndarray  # [draw, year, county] int64 optimal quotas of each future
    by_classes: np.ndarray | None  # [draw, year, county] bool: the class minimum set the need
    draw_seconds: float
    solve_seconds: float
    draw_cpu: float = 0.0  # CPU seconds of the worker (blind to other load on the machine)
    solve_cpu: float = 0.0
    worker: int = 0  # the process that ran it


def solve_batch(base: SweepBase, seed: int, start: int, stop: int) -> BatchResult:
    """Draw futures start … stop − 1 and solve each path exactly (runs on a worker)."""
    started, cpu = time.perf_counter(), time.process_time()
    students = np.stack([draw_students(base, seed, draw) for draw in range(start, stop)])
    needs, by_classes = base.needs(students)
    drawn, drawn_cpu = time.perf_counter(), time.process_time()
    optimal = np.stack(
        [np.stack([year.solution.x for year in optimal_path(base, path)]) for path in needs]
    )
    solved, solved_cpu = time.perf_counter(), time.process_time()
    return BatchResult(
        start,
        needs,
        optimal,
        by_classes,
        drawn - started,
        solved - drawn,
        drawn_cpu - cpu,
        solved_cpu - drawn_cpu,
        os.getpid(),
    )


_WORKER_BASE: list[SweepBase] = []  # a local worker's base, set once by the pool initializer


def install(base: SweepBase) -> None:
    _WORKER_BASE[:] = [base]


def installed_batch(seed: int, start: int, stop: int) -> BatchResult:
    return solve_batch(_WORKER_BASE[0], seed, start, stop)


_BASES: dict[str, SweepBase] = {}  # bases a pre-started worker has read, by file


def warm() -> int:
    """Nothing: submitted once per worker so that it starts (and imports) right away."""
    return os.getpid()


def batch_from_file(path: str, seed: int, start: int, stop: int) -> BatchResult:
    """A batch on a worker started before the base existed: the base is read from `path`
    once per worker, then kept."""
    if path not in _BASES:
        with open(path, "rb") as handle:
            _BASES[path] = pickle.load(handle)
    return solve_batch(_BASES[path], seed, start, stop)
