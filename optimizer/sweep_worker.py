"""What a sweep's worker runs: draw futures and solve each exactly (SPEC 2.11).

Kept apart from `optimizer.sweep` and free of pandas, so that a local worker process starts
in the time numpy takes to import (about 0.2 s, not 0.8 s): with a few thousand draws the
workers' start-up is a visible share of a sweep.
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import dataclass, replace

import numpy as np

from optimizer.exact import Problem, solve_exact
from optimizer.need import NeedWeights


@dataclass(frozen=True)
class SweepBase:
    """The first plan year, shipped to every worker once. Arrays are [county, level]."""

    problem: Problem  # point need, bounds and total
    weights: NeedWeights
    students: np.ndarray  # int64 point enrolment
    sigma: np.ndarray  # float standard deviation of the enrolment
    classes: np.ndarray | None  # int64 classes (the class minimum of SPEC 2.10), fixed
    objective: str  # each future's own plan follows the scenario's objective


def draw_students(base: SweepBase, seed: int, draw: int) -> np.ndarray:
    """The enrolment of future `draw`: whole pupils, never below 0."""
    noise = np.random.default_rng([seed, draw]).standard_normal(base.students.shape)
    return np.maximum(np.rint(base.students + base.sigma * noise), 0).astype(np.int64)


@dataclass(frozen=True)
class BatchResult:
    start: int  # the first draw number; rows are draws start, start + 1, …
    needs: np.ndarray  # [draw, county] scaled needs (int64, or Python ints)
    optimal: np.ndarray  # [draw, county] int64 optimal quotas of each future
    by_classes: np.ndarray | None  # [draw, county] bool: the class minimum set the need
    draw_seconds: float
    solve_seconds: float


def solve_batch(base: SweepBase, seed: int, start: int, stop: int) -> BatchResult:
    """Draw futures start … stop − 1 and solve each exactly (runs on a worker)."""
    started = time.perf_counter()
    students = np.stack([draw_students(base, seed, draw) for draw in range(start, stop)])
    classes = None if base.classes is None else np.broadcast_to(base.classes, students.shape)
    needs, by_classes = base.weights.scaled(students, classes)
    drawn = time.perf_counter()
    optimal = np.stack(
        [solve_exact(replace(base.problem, scaled_need=need), base.objective).x for need in needs]
    )
    solved = time.perf_counter()
    return BatchResult(start, needs, optimal, by_classes, drawn - started, solved - drawn)


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
