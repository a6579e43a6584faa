"""Exact optimality certificates for one stage of a plan, and the exact set of its optima.

A MILP solver decides with floating-point tolerances; the stage values of this problem can
differ by one part in 10⁹ (scaled needs reach 10¹¹ with the 2001 standards), so a solver's
"optimal" is a candidate, never a proof. This module checks a candidate in whole-number
arithmetic and, for a proven optimum, describes every optimum of the stage as a box
L ≤ x ≤ U (with Σ x = total) — the way the next stage keeps this one's optimum exactly.

Why a box. After the fair level (kept as the floors x_i ≥ ceil(n_i(1 − t*))), each remaining
stage minimises a separable convex function F(x) = Σ f_i(x_i) over whole numbers in a box with
Σ x_i = T: the scaled shortfall max(0, N_i − D·x_i), the movement |x_i − c_i|, or the
tie-break position_i·x_i. Write c_i(u) = f_i(u + 1) − f_i(u) for the cost of county i's unit
u → u + 1; convexity makes c_i non-decreasing in u. Then (the classical exchange argument):

- x is optimal iff no exchange improves it: A = max over counties above their lower bound of
  the cost of their last unit c_i(x_i − 1) is at most B = min over counties below their upper
  bound of the cost of their next unit c_i(x_i);
- when it is, with λ = A, the optimal plans are exactly those with Σ x = T and
  L_i = lo_i + #{u ∈ [lo_i, hi_i) : c_i(u) < λ} ≤ x_i ≤ lo_i + #{u : c_i(u) ≤ λ} = U_i
  (every unit cheaper than λ is taken, none dearer, the units costing exactly λ are
  interchangeable, and all of them give the same F).

The fair level is certified the same way: a level t is optimal iff no plan reaches the
largest attainable level below it (`better_level`); the stage-1 floors at a level are
`optimizer.exact.stage1_floor`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from optimizer.exact import Problem, feasible_at_level

UnitCost = Callable[[np.ndarray], np.ndarray]
"""Cost per county of the unit u → u + 1 (u one whole number per county), non-decreasing."""


@dataclass(frozen=True)
class Box:
    """lower ≤ x ≤ upper per county (whole numbers); with Σ x = total, a stage's optima."""

    lower: np.ndarray
    upper: np.ndarray


# ---------------------------------------------------------------- the stage costs


def shortfall_cost(problem: Problem) -> UnitCost:
    """Δ max(0, N_i − D·x): −D below floor(n_i), −frac(n_i)·D across n_i, then 0."""
    need = problem.scaled_need
    whole = np.asarray(need // problem.scale, dtype=np.int64)
    frac = need - whole.astype(need.dtype) * problem.scale
    crossing = whole + (np.asarray(frac, dtype=object) > 0).astype(np.int64)

    def cost(u: np.ndarray) -> np.ndarray:
        return np.where(u < whole, -problem.scale, np.where(u < crossing, -frac, 0))

    return cost


def movement_cost(problem: Problem) -> UnitCost:
    """Δ |x − current|: −1 below the current quota, +1 from it on."""
    return lambda u: np.where(u < problem.current, -1, 1)


def position_cost(problem: Problem) -> UnitCost:
    """Δ position·x: the tie-break that fills the first-listed county first."""
    positions = np.arange(problem.size)
    return lambda u: positions


STAGE_COSTS: dict[str, Callable[[Problem], UnitCost]] = {
    "shortfall": shortfall_cost,
    "movement": movement_cost,
    "tiebreak": position_cost,
}


# ---------------------------------------------------------------- certificates


def _units_below(cost: UnitCost, box: Box, level: object, strict: bool) -> np.ndarray:
    """#{u ∈ [lower, upper) : cost(u) < level (or ≤ when not strict)}, by bisection per county."""
    first, last = box.lower.copy(), box.upper.copy()
    while np.any(first < last):
        middle = (first + last) // 2
        costs = cost(middle)
        below = np.asarray(costs < level if strict else costs <= level, dtype=bool)
        open_ = first < last
        first = np.where(open_ & below, middle + 1, first)
        last = np.where(open_ & ~below, middle, last)
    return first - box.lower


def exchange_gap(cost: UnitCost, box: Box, x: np.ndarray) -> tuple[object, object] | None:
    """(A, B): the dearest unit taken and the cheapest unit left; None if either is absent."""
    taken, room = x > box.lower, x < box.upper
    if not taken.any() or not room.any():
        return None
    return max(cost(x - 1)[taken].tolist()), min(cost(x)[room].tolist())


def optimal_box(cost: UnitCost, box: Box, x: np.ndarray) -> Box | None:
    """Every optimum of the stage as a box, if `x` is one of them; None if `x` is not optimal."""
    x = np.asarray(x, dtype=np.int64)
    gap = exchange_gap(cost, box, x)
    if gap is None:  # every county at one of its bounds on the only side it can move to
        return Box(x.copy(), x.copy())
    taken_cost, left_cost = gap
    if taken_cost > left_cost:  # type: ignore[operator]
        return None
    lower = box.lower + _units_below(cost, box, taken_cost, strict=True)
    upper = box.lower + _units_below(cost, box, taken_cost, strict=False)
    # Tightened by Σ x = Σ x_given: each county gets at least what the others cannot hold.
    total = int(x.sum())
    return Box(
        np.maximum(lower, total - (int(upper.sum()) - upper)),
        np.minimum(upper, total - (int(lower.sum()) - lower)),
    )


def polish(cost: UnitCost, box: Box, x: np.ndarray, limit: int) -> tuple[np.ndarray, int]:
    """An optimum reached from `x` by improving exchanges, and how many units moved.

    While the dearest unit taken costs more than the cheapest unit left, move one quota from
    the first to the second: F falls by the difference each time, so this ends at a plan
    that `optimal_box` certifies. A solver within its tolerance leaves at most a few such
    exchanges (units whose costs differ by one part in 10⁹); more than `limit` means the
    solver's plan was not near an optimum, and polishing stops (None is then certified).
    """
    x = np.asarray(x, dtype=np.int64).copy()
    for moved in range(limit + 1):
        taken, room = np.flatnonzero(x > box.lower), np.flatnonzero(x < box.upper)
        if len(taken) == 0 or len(room) == 0:
            return x, moved
        last, following = cost(x - 1), cost(x)
        giver = max(taken.tolist(), key=lambda i: last[i])
        taker = min(room.tolist(), key=lambda i: following[i])
        if not last[giver] > following[taker]:
            return x, moved
        x[giver] -= 1
        x[taker] += 1
    return x, limit + 1


def better_level(problem: Problem, level: Fraction) -> Fraction | None:
    """The largest attainable largest-relative-shortfall below `level` that a plan reaches,
    or None when none does (then `level`, if some plan attains it, is the optimum t*).

    County i's levels are 1 − k/n_i (k whole); the largest below t has k = floor(n_i(1 − t)) + 1.
    Feasibility changes only at these breakpoints, so checking the largest one below `level`
    (or 0) decides whether anything below `level` is feasible.
    """
    if level <= 0:
        return None
    a, b = level.numerator, level.denominator
    best = Fraction(0)
    for need in (int(n) for n in problem.scaled_need if int(n) > 0):
        k = need * (b - a) // (problem.scale * b) + 1
        if need - k * problem.scale >= 0:
            best = max(best, Fraction(need - k * problem.scale, need))
    return best if feasible_at_level(problem, best) else None
