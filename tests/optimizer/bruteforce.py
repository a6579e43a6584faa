"""A reference solver by enumeration, for tiny instances only: the definition, not an algorithm."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np

from optimizer.exact import Problem, max_relative_shortfall, movement, total_shortfall_scaled


def feasible_plans(problem: Problem):
    """Every whole-number plan within the bounds whose total is right."""
    ranges = [
        range(int(lo), min(int(hi), problem.total) + 1)
        for lo, hi in zip(problem.lower, problem.upper, strict=True)
    ]
    for x in itertools.product(*ranges):
        if sum(x) == problem.total:
            yield np.array(x, dtype=np.int64)


def objective_key(problem: Problem, x: np.ndarray, objective: str) -> tuple:
    short = total_shortfall_scaled(problem, x)
    moved = movement(problem, x)
    tie = sum(i * int(v) for i, v in enumerate(x))
    if objective == "fair":
        return (max_relative_shortfall(problem, x), short, moved, tie)
    if objective == "shortfall":
        return (Fraction(0), short, moved, tie)
    return (Fraction(0), moved, short, tie)


def brute_force(problem: Problem, objective: str) -> np.ndarray | None:
    best = None
    best_key = None
    for x in feasible_plans(problem):
        key = objective_key(problem, x, objective)
        if best_key is None or key < best_key:
            best, best_key = x, key
    return best
