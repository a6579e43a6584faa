"""The exact method equals the definition: enumeration of every plan on tiny instances.

The brute force below is the objective written out (lexicographic keys compared exactly, ties
to the plan that gives more to the first-listed county, i.e. the smallest Σ position·x); it
checks the claims of `optimizer.exact` (breakpoint search for stage 1, greedy exactness for
stages 2 and 3, tie-break) rather than trusting them.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from optimizer.exact import (
    Problem,
    fair_level,
    max_relative_shortfall,
    movement,
    solve_exact,
    total_shortfall_scaled,
)


def feasible_plans(problem: Problem):
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
        return (short, moved, tie)
    return (moved, short, tie)


def brute_force(problem: Problem, objective: str) -> np.ndarray:
    return min(feasible_plans(problem), key=lambda x: objective_key(problem, x, objective))


@st.composite
def problems(draw, max_counties: int = 4, max_quota: int = 10) -> Problem:
    """Small random instances: fractional needs, floors, release limits, caps, extra quota."""
    size = draw(st.integers(1, max_counties))
    scale = draw(st.sampled_from([1, 2, 19, 27, 19 * 27 * 25]))
    needs = draw(st.lists(st.integers(0, (max_quota + 4) * scale), min_size=size, max_size=size))
    current = draw(st.lists(st.integers(0, max_quota), min_size=size, max_size=size))
    lower = [draw(st.integers(0, c)) for c in current]
    lower = [lo if draw(st.booleans()) else draw(st.integers(0, max_quota)) for lo in lower]
    gains = draw(st.lists(st.one_of(st.none(), st.integers(0, 6)), min_size=size, max_size=size))
    total = sum(current) + draw(st.integers(-3, 6))
    upper = [total if g is None else c + g for c, g in zip(current, gains, strict=True)]
    problem = Problem(
        scaled_need=np.array(needs, dtype=np.int64),
        scale=scale,
        current=np.array(current, dtype=np.int64),
        lower=np.array(lower, dtype=np.int64),
        upper=np.array(upper, dtype=np.int64),
        total=total,
    )
    assume(total >= 0 and problem.is_feasible())
    return problem


@pytest.mark.parametrize("objective", ["fair", "shortfall", "movement"])
@settings(max_examples=300)
@given(problem=problems())
def test_exact_equals_enumeration(problem: Problem, objective: str):
    x = solve_exact(problem, objective).x
    assert np.array_equal(x, brute_force(problem, objective))


@settings(max_examples=200)
@given(problem=problems())
def test_fair_level_is_the_smallest_achievable_largest_relative_shortfall(problem: Problem):
    best = min(max_relative_shortfall(problem, x) for x in feasible_plans(problem))
    assert fair_level(problem) == best


def random_feasible_plan(problem: Problem, rng: np.random.Generator) -> np.ndarray:
    """Start at the lower bounds, hand the remaining units out at random within the caps."""
    x = problem.lower.copy()
    while (remaining := problem.total - int(x.sum())) > 0:
        room = problem.upper - x
        weights = rng.random(problem.size) * (room > 0)
        share = rng.multinomial(remaining, weights / weights.sum())
        x += np.minimum(share, room)
    return x


@st.composite
def larger_problems(draw) -> Problem:
    """Up to 40 counties with realistic-ish magnitudes (too big to enumerate)."""
    size = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scale = 19 * 27 * 25
    current = rng.integers(0, 3000, size)
    occupied = rng.integers(0, 3200, size)
    lower = np.minimum(current, occupied)
    needs = rng.integers(0, 4000 * scale, size)
    capped = rng.random(size) < 0.3
    total = int(current.sum()) + int(rng.integers(0, 500))
    upper = np.where(capped, current + rng.integers(0, 300, size), total)
    problem = Problem(needs.astype(np.int64), scale, current, lower, upper.astype(np.int64), total)
    assume(problem.is_feasible())
    return problem


@settings(max_examples=60)
@given(problem=larger_problems(), seed=st.integers(0, 2**32 - 1))
def test_no_feasible_plan_beats_the_exact_plan(problem: Problem, seed: int):
    """Random feasible plans are never better: stage 1, then stages 2 and 3 at the same level."""
    solution = solve_exact(problem, "fair")
    x = solution.x
    assert int(x.sum()) == problem.total
    assert np.all(problem.lower <= x) and np.all(x <= problem.upper)
    assert x.dtype == np.int64
    level = solution.fair_level
    assert level == max_relative_shortfall(problem, x)
    best = (total_shortfall_scaled(problem, x), movement(problem, x))
    rng = np.random.default_rng(seed)
    for _ in range(20):
        other = random_feasible_plan(problem, rng)
        other_level = max_relative_shortfall(problem, other)
        assert other_level >= level
        # Same level: the stage-1 floor is respected by a random plan started from it.
        start = Problem(
            problem.scaled_need,
            problem.scale,
            problem.current,
            solution.floor,
            problem.upper,
            problem.total,
        )
        same_level = random_feasible_plan(start, rng)
        assert max_relative_shortfall(problem, same_level) <= level
        other_key = (total_shortfall_scaled(problem, same_level), movement(problem, same_level))
        assert other_key >= best


def test_stage_one_is_not_the_rounded_lp_level():
    """Needs 10, 20, 30 (scale 1), total 50, no limits. The LP level is 1 − 50/60 = 1/6, but
    whole quotas at 1/6 need ceil(8.33) + ceil(16.67) + 25 = 51 > 50; the next breakpoint
    1 − 8/10 = 1 − 16/20 = 1 − 24/30 = 1/5 needs 8 + 16 + 24 = 48 ≤ 50, and the breakpoints in
    between (1 − 17/20 = 0.15 < 1/6 and none other) do not exist, so t* = 1/5."""
    problem = Problem(
        np.array([10, 20, 30]),
        1,
        np.array([8, 20, 22]),
        np.zeros(3, dtype=np.int64),
        np.full(3, 50),
        50,
    )
    assert fair_level(problem) == Fraction(1, 5)


def test_huge_scaled_needs_use_python_integers_exactly():
    """Needs near 2^70 overflow int64; the method must stay exact on Python integers.
    Two counties with needs 3·2^69 and 2^69 (scale 2^60, i.e. 1536 and 512 staff), total 1000,
    no limits: level t with 1536(1 − t) + 512(1 − t) ≤ 1000 → t = 1 − 1000/2048 = 131/256 is
    a breakpoint of county 1 (k = 750: 1 − 750/1536 = 131/256) and of county 2 (k = 250)."""
    big = 2**69
    needs = np.array([3 * big, big], dtype=object)
    problem = Problem(
        needs, 2**60, np.array([500, 500]), np.zeros(2, dtype=np.int64), np.full(2, 1000), 1000
    )
    solution = solve_exact(problem, "fair")
    assert solution.fair_level == Fraction(131, 256)
    assert solution.x.tolist() == [750, 250]
