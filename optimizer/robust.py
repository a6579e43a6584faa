"""One plan that holds up across many enrolment futures (SPEC 2.11), exactly.

Futures s = 1..S give each county a need n_i^s (scaled by the same D, as `optimizer.need`
does). A robust plan ranks plans by

1. the largest relative shortfall over every county and every future,
   max_{i,s} max(0, n_i^s − x_i)/n_i^s — or, with a quantile q, per county the value met
   in all but the worst q share of its futures;
2. then the expected total shortfall, (1/S) Σ_s Σ_i max(0, n_i^s − x_i);
3. then the quotas moved, Σ |x_i − current_i|; ties to the county listed first.

Why the exact method of `optimizer.exact` carries over.

Stage 1. A plan reaches level t in every future iff x_i ≥ R_i(t) = max_s ceil(n_i^s(1 − t))
for every i (and x_i ≥ its lower bound). With a quantile, R_i(t) is the ⌈(1 − q)·S⌉-th
smallest of the S values instead: x_i ≥ R_i(t) then holds in at least that many futures,
and no smaller x_i does. Each ceil(n_i^s(1 − t)) is a non-increasing step function of t
with steps at 1 − k/n_i^s, and a maximum or an order statistic of such functions is one
too, with its steps among theirs. So feasibility (every R_i(t) within its cap and
Σ max(L_i, R_i(t)) ≤ total) is monotone in t and changes only at the breakpoints
1 − k/n_i^s of the pairs (i, s): the bisection of `optimizer.exact.fair_level` over those
breakpoints, settled in rational arithmetic, finds the smallest feasible level t*, and
keeping stage 1 optimal is exactly x_i ≥ max(L_i, R_i(t*)).

Stages 2 and 3. The expected shortfall is separable over counties; each county's part
Σ_s max(0, n_i^s − x_i) is a sum of convex functions of x_i, so it is convex, and its
marginal cost of unit u → u + 1 is the sum over futures of −1, −frac(n_i^s) or 0 — non-
decreasing in u. With Δmovement (−1 below the current quota, +1 from it) the pair is
non-decreasing in the lexicographic order, so the greedy of `optimizer.exact.greedy_fill`
over per-county segments (cut at every floor(n_i^s), ceil(n_i^s), the current quota and
the bounds) is exact, as for one future. Shortfalls are compared scaled by D, in whole
numbers. `tests/optimizer/test_robust.py` checks all of it against enumeration of every
plan on small instances.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from optimizer.exact import LevelTargets, Problem, Solution, fair_level, greedy_fill, stage1_floor


def futures_targets(scaled_needs: np.ndarray, quantile: float = 0.0) -> LevelTargets:
    """The level targets of S futures ([S, counties] scaled needs); `quantile` q leaves out
    the worst q share of each county's futures (0 = every future counts)."""
    needs = np.asarray(scaled_needs)
    if needs.ndim != 2 or needs.shape[0] == 0:
        raise ValueError("futures must be a [futures, counties] array with at least one row")
    if not 0 <= quantile < 1:
        raise ValueError(f"quantile must be at least 0 and below 1, got {quantile}")
    rows = needs.shape[0]
    kept = max(1, math.ceil((1 - quantile) * rows))  # the futures a county must cover
    return LevelTargets(needs, rank=rows - kept + 1)


def solve_robust(problem: Problem, targets: LevelTargets) -> Solution:
    """The robust plan for `problem`'s bounds and total under the futures in `targets`."""
    if targets.scaled.shape[1] != problem.size:
        raise ValueError("futures and counties do not match")
    if not problem.is_feasible():
        raise ValueError("infeasible problem: explain it before solving")
    level: Fraction = fair_level(problem, targets)
    floor = np.asarray(stage1_floor(problem, level, targets), dtype=np.int64)
    x = greedy_fill(problem, floor, targets=targets)
    return Solution(x=x, fair_level=level, floor=floor)
