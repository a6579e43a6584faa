"""The exact, structure-exploiting solution of the teacher-quota reallocation (no MIP solver).

The problem: whole-number quotas x_i with lower_i ≤ x_i ≤ upper_i and Σ x_i = total, need
n_i = scaled_i / scale (see `optimizer.need`). Objectives, each lexicographic:

- fair:      (max_i relative shortfall, Σ shortfall, Σ |x_i − current_i|)
- shortfall: (Σ shortfall, Σ |x_i − current_i|)
- movement:  (Σ |x_i − current_i|, Σ shortfall)

Why it is exact.

Stage 1 (fair only). A plan with max relative shortfall ≤ t exists iff every county can reach
need_i(t) = max(lower_i, ceil(n_i(1 − t))) within its cap and Σ need_i(t) ≤ total. Both
conditions are monotone in t and change only where n_i(1 − t) is a whole number k, i.e. at
t = 1 − k/n_i; ceil makes the feasible set closed on the left, so the smallest feasible t (t*)
is one of these breakpoints. A float bisection brackets t*; the few breakpoints inside the
(widened, exactly re-checked) bracket are then compared with exact rational arithmetic.
Keeping stage 1 optimal is exactly x_i ≥ ceil(n_i(1 − t*)).

Stages 2 and 3. Both remaining criteria are separable: the cost of giving county i its next
unit (x → x+1) is the vector (Δshortfall, Δmovement) with Δshortfall = −1 while x + 1 ≤ n_i,
−frac(n_i) for the one unit that crosses n_i, then 0; Δmovement = −1 while x < current_i, +1
after. Both components are non-decreasing in x, so the vector is non-decreasing in the
lexicographic order (also when the order of the two criteria is swapped, as for `movement`).
Lexicographic order on pairs is a total order compatible with addition, so the classical
greedy for separable convex resource allocation is exact: start every county at its lower
bound and hand out the remaining units cheapest first. Units of one county with the same
marginal vector form a segment (at most four per county), so the greedy is one lexsort of
segments. Ties are broken by the county's position in the input (first listed first), which
makes the plan unique; the MILP backends reproduce the same rule by a last stage that
minimises Σ position_i · x_i over the set of lexicographic optima.

Shortfalls are compared scaled by `scale` (whole numbers), so no float decides anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

OBJECTIVES = ("fair", "shortfall", "movement")


@dataclass(frozen=True)
class Problem:
    """One year's reallocation, all in whole numbers. Arrays are aligned by county position."""

    scaled_need: np.ndarray  # N_i = need_i · scale (int64 or object of Python ints)
    scale: int  # D
    current: np.ndarray  # int64
    lower: np.ndarray  # int64, L_i ≥ 0
    upper: np.ndarray  # int64; counties without a cap carry `total` (no county can hold more)
    total: int  # T = Σ current + extra

    @property
    def size(self) -> int:
        return len(self.current)

    def is_feasible(self) -> bool:
        return bool(
            np.all(self.lower <= self.upper)
            and int(self.lower.sum()) <= self.total <= int(self.upper.sum())
        )


@dataclass(frozen=True)
class Solution:
    x: np.ndarray  # int64 new quotas
    fair_level: Fraction | None  # t* for the fair objective, else None
    floor: np.ndarray  # the lower bounds the last stages started from (stage-1 floor for fair)
    polished: int = 0  # units a MILP backend's plans were moved by exact exchanges


# ---------------------------------------------------------------- exact measures of a plan


def shortfall_scaled(problem: Problem, x: np.ndarray) -> np.ndarray:
    """Shortfall per county times scale: max(0, N_i − D·x_i), whole numbers."""
    gap = problem.scaled_need - np.asarray(x).astype(problem.scaled_need.dtype) * problem.scale
    return np.where(gap > 0, gap, 0)


def total_shortfall_scaled(problem: Problem, x: np.ndarray) -> int:
    return int(sum(int(v) for v in shortfall_scaled(problem, x)))


def movement(problem: Problem, x: np.ndarray) -> int:
    """Σ |x_i − current_i|: the movement objective's measure (each moved quota counted twice,
    once where it leaves and once where it arrives)."""
    return int(np.abs(np.asarray(x, dtype=np.int64) - problem.current).sum())


def quotas_moved(problem: Problem, x: np.ndarray) -> int:
    """Σ max(0, x_i − current_i): the quotas moved, each counted once (SPEC 3.7), extra
    quota from the city pool included."""
    return int(np.maximum(np.asarray(x, dtype=np.int64) - problem.current, 0).sum())


def max_relative_shortfall(problem: Problem, x: np.ndarray) -> Fraction:
    """max_i max(0, n_i − x_i)/n_i exactly (0 when every need is met or zero)."""
    gaps = shortfall_scaled(problem, x)
    short = np.flatnonzero(gaps > 0)
    if len(short) == 0:
        return Fraction(0)
    # Floats shortlist the counties that may hold the maximum; fractions decide among them.
    ratios = gaps[short].astype(float) / problem.scaled_need[short].astype(float)
    near = short[ratios >= ratios.max() * (1 - 1e-9)]
    return max(Fraction(int(gaps[i]), int(problem.scaled_need[i])) for i in near)


def at_level(problem: Problem, x: np.ndarray, level: Fraction) -> np.ndarray:
    """Mask of counties whose relative shortfall equals `level` exactly (none when level is 0)."""
    gaps = shortfall_scaled(problem, x)
    mask = np.zeros(problem.size, dtype=bool)
    if level <= 0:
        return mask
    short = np.flatnonzero(gaps > 0)
    ratios = gaps[short].astype(float) / problem.scaled_need[short].astype(float)
    for i in short[np.abs(ratios - float(level)) <= 1e-9 * float(level)]:
        mask[i] = Fraction(int(gaps[i]), int(problem.scaled_need[i])) == level
    return mask


# ---------------------------------------------------------------- stage 1: the fair level


def _as_objects(values: np.ndarray) -> np.ndarray:
    """Python ints (unbounded) from int64 or object arrays: exact products, no overflow."""
    return np.asarray(values).astype(object)


@dataclass(frozen=True)
class LevelTargets:
    """The needs a level must cover: per county, the `rank`-th largest over the rows of
    `scaled` (rows are futures, `optimizer.robust`; a plain plan has one row and rank 1)."""

    scaled: np.ndarray  # [rows, counties], scaled like Problem.scaled_need
    rank: int = 1

    @classmethod
    def of(cls, problem: Problem) -> LevelTargets:
        return cls(np.asarray(problem.scaled_need).reshape(1, -1))

    def collapsed(self) -> LevelTargets:
        """One row of each county's ranked need: what every level asks of it. Exact because
        ceil(n(1 − t)) never decreases as n grows, so ranking the needs first and rounding
        after gives the same floor as rounding each future and ranking (for any t ≤ 1)."""
        if self.scaled.shape[0] == 1:
            return self
        return LevelTargets(_ranked(self.scaled, self.rank).reshape(1, -1))


def _ranked(values: np.ndarray, rank: int) -> np.ndarray:
    """Per column, the rank-th largest value over the rows."""
    if values.shape[0] == 1:
        return values[0]
    return np.sort(values, axis=0)[values.shape[0] - rank]


def stage1_floor(
    problem: Problem, level: Fraction, targets: LevelTargets | None = None
) -> np.ndarray:
    """max(L_i, ceil(n_i(1 − t))) exactly, as Python ints (object array); with targets,
    n_i(1 − t) is taken in every row and ranked."""
    targets = (targets or LevelTargets.of(problem)).collapsed()
    a, b = level.numerator, level.denominator
    numerators = _as_objects(targets.scaled) * (b - a)
    ceil = -((-numerators) // (problem.scale * b))
    return np.maximum(_ranked(ceil, targets.rank), _as_objects(problem.lower))


def feasible_at_level(
    problem: Problem, level: Fraction, targets: LevelTargets | None = None
) -> bool:
    """Whether some plan has largest relative shortfall ≤ `level` (exact)."""
    floor = stage1_floor(problem, level, targets)
    return bool(np.all(floor <= _as_objects(problem.upper))) and int(floor.sum()) <= problem.total


def _feasible_at_float(problem: Problem, need: np.ndarray, rank: int, level: float) -> bool:
    floor = np.maximum(_ranked(np.ceil(need * (1.0 - level)), rank), problem.lower)
    return bool(np.all(floor <= problem.upper)) and float(floor.sum()) <= problem.total


def fair_level(problem: Problem, targets: LevelTargets | None = None) -> Fraction:
    """t*: the smallest achievable largest relative shortfall (problem must be feasible)."""
    targets = (targets or LevelTargets.of(problem)).collapsed()
    if feasible_at_level(problem, Fraction(0), targets):
        return Fraction(0)
    need = targets.scaled.astype(float) / problem.scale
    lo, hi = 0.0, 1.0  # infeasible at lo, feasible at hi = 1 (every floor is then L_i)
    for _ in range(64):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if _feasible_at_float(problem, need, targets.rank, mid):
            hi = mid
        else:
            lo = mid
    # Floats may misjudge a breakpoint; widen until the bracket is confirmed exactly.
    widen = 1e-9
    while True:
        lo_q = max(Fraction(0), Fraction(lo) - Fraction(widen))
        hi_q = min(Fraction(1), Fraction(hi) + Fraction(widen))
        if feasible_at_level(problem, hi_q, targets) and (
            lo_q == 0 or not feasible_at_level(problem, lo_q, targets)
        ):
            break
        widen *= 1000
    candidates = _breakpoints_between(targets.scaled.ravel(), problem.scale, lo_q, hi_q)
    # Binary search for the first feasible breakpoint in (lo_q, hi_q]; hi_q's own
    # feasibility guarantees one exists.
    first, last = 0, len(candidates) - 1
    while first < last:
        middle = (first + last) // 2
        if feasible_at_level(problem, candidates[middle], targets):
            last = middle
        else:
            first = middle + 1
    return candidates[first]


def _breakpoints_between(
    scaled: np.ndarray, scale: int, lo: Fraction, hi: Fraction
) -> list[Fraction]:
    """Every t = 1 − k/n (k whole, n = scaled/scale) with lo < t ≤ hi, sorted, exact."""
    positive = np.flatnonzero(scaled > 0)
    n = scaled[positive].astype(float) / scale
    k_min = np.floor(n * (1 - float(hi))).astype(np.int64) - 1
    k_max = np.ceil(n * (1 - float(lo))).astype(np.int64) + 1
    counts = np.maximum(k_max - k_min + 1, 0)
    owners = np.repeat(np.arange(len(positive)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    ks = k_min[owners] + offsets
    levels_float = 1 - ks / n[owners]
    slack = 1e-9
    near = (levels_float > float(lo) - slack) & (levels_float <= float(hi) + slack) & (ks >= 0)
    found = {
        Fraction(int(scaled[positive[i]]) - int(k) * scale, int(scaled[positive[i]]))
        for i, k in zip(owners[near], ks[near], strict=True)
    }
    return sorted(t for t in found if lo < t <= hi)


# ---------------------------------------------------------------- stages 2 and 3: the greedy


def _dense_rank(values: np.ndarray) -> np.ndarray:
    """Ranks usable by lexsort for int64 or Python-int object arrays alike."""
    if values.dtype != object:
        return values
    _, inverse = np.unique(values, return_inverse=True)
    return inverse.reshape(-1)


def _shortfall_marginals(
    scaled: np.ndarray, scale: int, county: np.ndarray, units: np.ndarray
) -> np.ndarray:
    """Δ Σ_rows max(0, N − D·x) of giving `county` its unit `units` → `units` + 1.

    Per row: −D while the unit stays below floor(n), −frac(n)·D for the unit that crosses n
    (u = floor(n) when n is not whole), then 0. Summed over the rows with sorted keys
    (county, floor(n)), so that many futures cost a sort, not a product.
    """
    rows, size = scaled.shape
    whole = np.asarray(scaled // scale, dtype=np.int64)
    frac = scaled - whole.astype(scaled.dtype) * scale
    if rows == 1:  # one plan: no sort needed
        below, cut = whole[0][county], frac[0][county]
        return np.where(units < below, -scale, np.where((units == below) & (cut > 0), -cut, 0))
    base = int(max(int(whole.max(initial=0)), int(units.max(initial=0)))) + 2
    owner = np.broadcast_to(np.arange(size, dtype=np.int64), (rows, size))
    keys = np.sort((owner * base + whole).ravel())
    queries = county.astype(np.int64) * base + units
    at_most = np.searchsorted(keys, queries, side="right") - county.astype(np.int64) * rows
    above = rows - at_most  # rows whose floor(n) is above the unit
    crossing = np.asarray(frac > 0, dtype=bool)
    cross_keys = (owner * base + whole)[crossing]
    cross_fracs = frac[crossing]
    order = np.argsort(cross_keys, kind="stable")
    cross_keys, cross_fracs = cross_keys[order], cross_fracs[order]
    distinct, first = np.unique(cross_keys, return_index=True)
    crossed: np.ndarray = np.zeros(len(queries), dtype=scaled.dtype)
    if len(distinct):
        sums = np.add.reduceat(cross_fracs, first)
        spot = np.minimum(np.searchsorted(distinct, queries), len(distinct) - 1)
        crossed = np.where(distinct[spot] == queries, sums[spot], crossed)
    return -scale * above.astype(scaled.dtype) - crossed


def greedy_fill(
    problem: Problem,
    floor: np.ndarray,
    movement_first: bool = False,
    targets: LevelTargets | None = None,
) -> np.ndarray:
    """Lexicographically cheapest way to add total − Σ floor units on top of `floor`.

    Cost of a unit is (Δshortfall, Δmovement), or (Δmovement, Δshortfall) when
    `movement_first`; ties go to the county listed first. With targets of several rows
    (futures), Δshortfall is summed over them (the expected shortfall, up to a factor).
    """
    floor = np.asarray([int(v) for v in floor], dtype=np.int64)
    remaining = problem.total - int(floor.sum())
    if remaining < 0:
        raise ValueError("floors exceed the total")
    size = problem.size
    if remaining == 0 or size == 0:
        return floor
    scaled = (targets or LevelTargets.of(problem)).scaled
    top = np.minimum(problem.upper, floor + remaining)  # a county never takes more than R
    whole = np.asarray(scaled // problem.scale, dtype=np.int64)  # floor(n) per row
    crossing = whole + np.asarray(scaled % problem.scale > 0, dtype=np.int64)  # ceil(n)
    cuts = np.concatenate(
        [np.stack([floor, top, problem.current], axis=1), whole.T, crossing.T], axis=1
    )
    cuts = np.sort(np.clip(cuts, floor[:, None], top[:, None]), axis=1)
    starts, ends = cuts[:, :-1].ravel(), cuts[:, 1:].ravel()
    county = np.repeat(np.arange(size), cuts.shape[1] - 1)
    keep = ends > starts
    starts, ends, county = starts[keep], ends[keep], county[keep]
    # Marginal of the segment's first unit (the whole segment shares it by construction).
    d_short = _dense_rank(_shortfall_marginals(scaled, problem.scale, county, starts))
    d_move = np.where(starts < problem.current[county], -1, 1)
    first, second = (d_move, d_short) if movement_first else (d_short, d_move)
    order = np.lexsort((starts, county, second, first))
    lengths = (ends - starts)[order]
    before = np.cumsum(lengths) - lengths
    taken = np.clip(remaining - before, 0, lengths)
    added = np.bincount(county[order], weights=taken, minlength=size)
    return floor + added.astype(np.int64)


def solve_exact(problem: Problem, objective: str = "fair") -> Solution:
    """The lexicographically optimal plan (unique by the first-listed tie-break)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose one of {OBJECTIVES}")
    if not problem.is_feasible():
        raise ValueError("infeasible problem: explain it before solving")
    level = None
    floor = problem.lower
    if objective == "fair":
        level = fair_level(problem)
        floor = np.asarray(stage1_floor(problem, level), dtype=np.int64)
    x = greedy_fill(problem, floor, movement_first=objective == "movement")
    return Solution(x=x, fair_level=level, floor=floor)
