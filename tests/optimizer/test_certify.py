"""The exact certificates: each stage's optima are exactly the box `optimal_box` gives, a level
is optimal exactly when `better_level` finds nothing, and polishing ends at an optimum.
Checked against brute-force enumeration of every whole-number plan."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from optimizer.certify import (
    STAGE_COSTS,
    Box,
    better_level,
    optimal_box,
    polish,
    shortfall_cost,
)
from optimizer.exact import Problem, fair_level, max_relative_shortfall, movement, shortfall_scaled


@st.composite
def small_problems(draw) -> Problem:
    size = draw(st.integers(1, 4))
    scale = draw(st.sampled_from([1, 2, 6, 27]))
    needs = draw(st.lists(st.integers(0, 9 * scale), min_size=size, max_size=size))
    current = draw(st.lists(st.integers(0, 8), min_size=size, max_size=size))
    lower = [draw(st.integers(0, c)) for c in current]
    upper = [c + draw(st.integers(0, 3)) for c in current]
    total = sum(current) + draw(st.integers(0, 3))
    problem = Problem(
        np.array(needs, dtype=np.int64),
        scale,
        np.array(current, dtype=np.int64),
        np.array(lower, dtype=np.int64),
        np.array(upper, dtype=np.int64),
        total,
    )
    assume(problem.is_feasible())
    return problem


def plans(problem: Problem, box: Box) -> list[np.ndarray]:
    ranges = [range(int(lo), int(hi) + 1) for lo, hi in zip(box.lower, box.upper, strict=True)]
    return [np.array(x) for x in itertools.product(*ranges) if sum(x) == problem.total]


def stage_value(problem: Problem, stage: str, x: np.ndarray) -> int:
    if stage == "shortfall":
        return int(sum(int(v) for v in shortfall_scaled(problem, x)))
    if stage == "movement":
        return movement(problem, x)
    return int(np.dot(np.arange(problem.size), x))


def in_box(x: np.ndarray, box: Box) -> bool:
    return bool(np.all((box.lower <= x) & (x <= box.upper)))


STAGES = st.sampled_from(["shortfall", "movement", "tiebreak"])


def enumerated(problem: Problem, stage: str):
    """(the whole box, every plan in it, the stage's best value, the stage's unit cost)."""
    box = Box(problem.lower, problem.upper)
    candidates = plans(problem, box)
    best = min(stage_value(problem, stage, x) for x in candidates)
    return box, candidates, best, STAGE_COSTS[stage](problem)


@settings(max_examples=150)
@given(problem=small_problems(), stage=STAGES)
def test_the_box_holds_exactly_the_optima(problem: Problem, stage: str):
    box, candidates, best, cost = enumerated(problem, stage)
    for x in candidates:
        optima = optimal_box(cost, box, x)
        if stage_value(problem, stage, x) == best:
            assert optima is not None
            assert {tuple(y) for y in candidates if in_box(y, optima)} == {
                tuple(y) for y in candidates if stage_value(problem, stage, y) == best
            }
        else:
            assert optima is None  # a worse plan is never certified


@settings(max_examples=100)
@given(problem=small_problems(), stage=STAGES)
def test_polishing_any_plan_ends_at_an_optimum(problem: Problem, stage: str):
    box, candidates, best, cost = enumerated(problem, stage)
    for x in candidates:
        polished, moved = polish(cost, box, x, limit=1000)
        assert stage_value(problem, stage, polished) == best
        assert moved == 0 or stage_value(problem, stage, x) > best


@settings(max_examples=150)
@given(problem=small_problems())
def test_better_level_finds_a_better_level_exactly_when_one_exists(problem: Problem):
    t_star = fair_level(problem)
    attained = {
        max_relative_shortfall(problem, x)
        for x in plans(problem, Box(problem.lower, problem.upper))
    }
    for level in attained:
        better = better_level(problem, level)
        if level == t_star:
            assert better is None
        else:
            assert better is not None and t_star <= better < level


def test_golden_shortfall_box():
    """Needs 2.5 and 4 (scale 2: scaled 5 and 8), quotas 0..5, total 6.

    Unit costs (Δ scaled shortfall): county 0 has two units at −2, then −1 (the unit that
    crosses 2.5), then 0; county 1 has four units at −2, then 0. Six units go out and six
    cost −2, so the only optimum is x = (2, 4). (3, 3) took the −1 unit and left a −2 one.
    """
    problem = Problem(np.array([5, 8]), 2, np.array([3, 3]), np.array([0, 0]), np.array([5, 5]), 6)
    cost = shortfall_cost(problem)
    box = Box(problem.lower, problem.upper)
    assert optimal_box(cost, box, np.array([3, 3])) is None
    optima = optimal_box(cost, box, np.array([2, 4]))
    assert optima is not None
    assert (optima.lower.tolist(), optima.upper.tolist()) == ([2, 4], [2, 4])


def test_golden_level():
    """Needs 10 and 10, total 15: the best split is 7 + 8, so t* = 3/10.

    Below 2/5 the largest level each county can attain is 1 − 7/10 = 3/10 (floors 7 + 7 ≤ 15:
    feasible); below 3/10 it is 1 − 8/10 (floors 8 + 8 > 15: infeasible)."""
    problem = Problem(
        np.array([10, 10]), 1, np.array([10, 5]), np.array([0, 0]), np.array([15, 15]), 15
    )
    assert fair_level(problem) == Fraction(3, 10)
    assert better_level(problem, Fraction(2, 5)) == Fraction(3, 10)
    assert better_level(problem, Fraction(3, 10)) is None
