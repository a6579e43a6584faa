"""`make_plan`: validated tables in, an optimal and explained teacher-quota plan out.

Data flow: need (`optimizer.need`, exact) → bounds and infeasibility check (here) → solve
(`optimizer.exact`, or a MILP backend via `optimizer.backends`) → table with the reason each
county got what it got (`limited_by`) and a summary. Multi-year enrolment is planned year by
year, each year starting from the previous year's plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from optimizer.backends import SolverFailure, solve_milp
from optimizer.exact import (
    OBJECTIVES,
    Problem,
    Solution,
    at_level,
    max_relative_shortfall,
    movement,
    quotas_moved,
    shortfall_scaled,
    solve_exact,
    total_shortfall_scaled,
)
from optimizer.explain import sentences
from optimizer.need import ExactNeed, Standards, needs_by_year

SOLVERS = ("exact", "highs", "cbc", "ortools")

# Why a county got what it got. Checked in this order; the first that applies is reported.
LIMITED_BY_ZH = {
    "cap": "已达最多增编",
    "floor": "已到最低编制",
    "release_limit": "可释放编制已用尽（只出不进）",
    "class_minimum": "按班师比核定的需求已满足",
    "covered": "需求已满足",
    "common_level": "与其他县共担最大缺口比例",
    "keeps_current": "保持现有编制",
    "total_used": "全市总量已分配完",
    "infeasible": "方案不可行",
}
LIMITED_BY_EN = {
    "cap": "reached its maximum gain (max_gain)",
    "floor": "held at its floor (min_quota)",
    "release_limit": "gave up all it can release: vacancies plus expected departures",
    "class_minimum": "need set by the class-based minimum (classes × staff per class), covered",
    "covered": "need fully covered",
    "common_level": "shares the common (largest) relative shortfall",
    "keeps_current": "keeps its current quota",
    "total_used": "the city total is used up where it reduces shortfall as much",
    "infeasible": "no plan satisfies all limits",
}

TABLE_COLUMNS = [
    "county_id",
    "name",
    "need",
    "current",
    "new",
    "change",
    "shortfall_before",
    "shortfall_after",
    "coverage_before",
    "coverage_after",
    "relative_shortfall_after",
    "lowest_allowed",
    "highest_allowed",
    "limited_by",
    "limited_by_zh",
    "explanation_zh",
    "explanation",
]


@dataclass(frozen=True)
class Policy:
    """Settings of one plan (SPEC 3.2 [policy])."""

    extra_quota: int = 0  # quotas the city pool adds for teachers (first year only)
    objective: str = "fair"
    solver: str = "exact"  # "exact" = the structure-exploiting exact method, no MIP
    # Years over which `attrition` (expected departures over the horizon) is spread; None =
    # the number of enrolment years (1 when enrolment has no year). Each year may release its
    # vacancies plus its share of departures.
    attrition_years: int | None = None
    time_limit: float | None = None  # seconds per MILP stage (MILP backends only)


@dataclass
class PlanResult:
    table: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CountyLimits:
    """Per-county whole-number limits of one year, aligned by county position."""

    current: np.ndarray
    lower: np.ndarray  # max(min_quota, min(current, occupied − departures), 0)
    upper: np.ndarray  # current + max_gain, or the total for counties without a cap
    has_cap: np.ndarray  # bool
    floor_binds: np.ndarray  # bool: the min_quota floor is above the release limit
    release_limit: np.ndarray  # min(current, occupied − departures), at least 0
    min_quota: np.ndarray
    occupied: np.ndarray | None = None  # people in post at the start of the year
    departures: np.ndarray | None = None  # this year's expected departures


def _int_column(counties: pd.DataFrame, column: str, default: int) -> np.ndarray:
    if column not in counties.columns:
        return np.full(len(counties), default, dtype=np.int64)
    values = pd.to_numeric(counties[column], errors="raise")
    return np.asarray(values.fillna(default).to_numpy(), dtype=np.int64)


def _optional_int_column(counties: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(values with 0 for missing, mask of present values)."""
    if column not in counties.columns:
        return np.zeros(len(counties), dtype=np.int64), np.zeros(len(counties), dtype=bool)
    values = pd.to_numeric(counties[column], errors="raise")
    present = values.notna().to_numpy()
    return np.asarray(values.fillna(0).to_numpy(), dtype=np.int64), np.asarray(present)


def county_limits(
    current: np.ndarray,
    occupied: np.ndarray,
    departures: np.ndarray,
    min_quota: np.ndarray,
    max_gain: np.ndarray,
    has_cap: np.ndarray,
    total: int,
) -> CountyLimits:
    """SPEC 2.5: max(min_quota, min(current, occupied − departures)) ≤ new ≤ current + max_gain."""
    release = np.maximum(np.minimum(current, occupied - departures), 0)
    lower = np.maximum(release, min_quota)
    upper = np.where(has_cap, current + max_gain, max(total, 0))
    return CountyLimits(
        current=current,
        lower=lower,
        upper=upper,
        has_cap=has_cap,
        floor_binds=min_quota > release,
        release_limit=release,
        min_quota=min_quota,
        occupied=occupied,
        departures=departures,
    )


# ---------------------------------------------------------------- infeasibility


def _county_label(ids: list[str], names: list[str], i: int) -> str:
    return f"{ids[i]} {names[i]}".strip()


def explain_infeasible(
    ids: list[str], names: list[str], limits: CountyLimits, total: int, extra: int
) -> tuple[list[str], list[str]]:
    """Plain-language sentences (English, Chinese) naming the limits that conflict."""
    english: list[str] = []
    chinese: list[str] = []
    base = f"current quotas {total - extra}" + (f" + extra {extra}" if extra else "")
    for i in np.flatnonzero(limits.has_cap & (limits.lower > limits.upper)):
        who = _county_label(ids, names, int(i))
        floor_kind = "floor (min_quota)" if limits.floor_binds[i] else "release limit"
        cap = int(limits.upper[i])
        gain = cap - int(limits.current[i])
        english.append(
            f"County {who}: its {floor_kind} {int(limits.lower[i])} is above its cap "
            f"{cap} (current {int(limits.current[i])} + max_gain {gain})."
        )
        chinese.append(
            f"{who}：最低应保留 {int(limits.lower[i])}，高于最多可达 {cap}"
            f"（现有 {int(limits.current[i])} + 最多增编 {gain}）。"
        )
    floors = int(limits.lower.sum())
    if floors > total:
        share = np.argsort(-limits.lower, kind="stable")[:3]
        named = ", ".join(
            f"{_county_label(ids, names, int(i))} {int(limits.lower[i])}"
            f" ({'floor' if limits.floor_binds[i] else 'release limit'})"
            for i in share
        )
        floor_part = int(limits.lower[limits.floor_binds].sum())
        english.append(
            f"The counties' lower limits add up to {floors} but the city total is {total} "
            f"({base}): floors (min_quota) {floor_part}, release limits (quota that cannot "
            f"be given up: occupied minus expected departures, at most current) "
            f"{floors - floor_part}. Largest: {named}."
        )
        chinese.append(
            f"各县最低应保留编制合计 {floors}，超过全市总量 {total}："
            f"最低编制 {floor_part}，不可释放编制 {floors - floor_part}。"
        )
    capped = bool(limits.has_cap.all())
    if capped and int(limits.upper.sum()) < total:
        english.append(
            f"Every county has a cap (current + max_gain) and the caps add up to "
            f"{int(limits.upper.sum())}, less than the city total {total} ({base}) that must "
            f"be placed."
        )
        chinese.append(f"各县最多可达编制合计 {int(limits.upper.sum())}，少于全市总量 {total}。")
    if total < 0:
        english.append(f"The city total {total} ({base}) is negative.")
        chinese.append(f"全市总量 {total} 为负数。")
    return english, chinese


# ---------------------------------------------------------------- limited_by


def limited_by(
    problem: Problem,
    limits: CountyLimits,
    x: np.ndarray,
    stage1_floor: np.ndarray | None = None,
    level: Fraction | None = None,
    by_classes: np.ndarray | None = None,
) -> list[str]:
    """Which limit decided each county's quota (codes of LIMITED_BY_ZH), by tight bounds.

    The first that holds, in this order:
    1. `cap`: at its cap (current + max_gain) and still short;
    2. `floor`: at its floor (min_quota, above what it could release to) and holding more
       than its need — only the floor keeps it there, whether it gained to reach the floor or
       would otherwise have given quota up;
    3. `release_limit`: at its release limit (min(current, occupied − departures)) and holding
       more than its need, having given something up or while another county is short;
    4. `class_minimum`: no shortfall, and the class-based minimum (classes × staff per class,
       SPEC 2.10) set its need above what its pupils alone give;
       `covered`: no shortfall otherwise;
    5. `common_level` (fair plans): held at the stage-1 floor ceil(need·(1 − t*)), the common
       largest relative shortfall rounded up to a whole quota, either above its own lower
       bound or exactly at t*;
    6. `keeps_current`: short, and kept its current quota;
    7. `floor` / `release_limit`: short, yet pushed down to that lower bound;
    8. `total_used`: short; the city total went to counties where it reduces shortfall as much.
    """
    x = np.asarray(x, dtype=np.int64)
    gaps = shortfall_scaled(problem, x)
    short = gaps > 0
    surplus = (x.astype(problem.scaled_need.dtype) * problem.scale - problem.scaled_need) > 0
    at_lower = x == limits.lower
    lower_code = np.where(limits.floor_binds, "floor", "release_limit")
    level_mask = np.zeros(problem.size, dtype=bool)
    if stage1_floor is not None and level is not None:
        at_floor = x == stage1_floor
        level_mask = at_floor & ((stage1_floor > limits.lower) | at_level(problem, x, level))
    codes = np.select(
        [
            limits.has_cap & (x == limits.upper) & short,
            at_lower & surplus & (limits.floor_binds | (x < limits.current) | bool(short.any())),
            ~short & (by_classes if by_classes is not None else False),
            ~short,
            level_mask,
            x == limits.current,
            at_lower,
        ],
        [
            "cap",
            lower_code,
            "class_minimum",
            "covered",
            "common_level",
            "keeps_current",
            lower_code,
        ],
        default="total_used",
    )
    return [str(code) for code in codes]


# ---------------------------------------------------------------- one year


@dataclass
class YearOutcome:
    status: str
    table: pd.DataFrame
    summary: dict[str, Any]
    new: np.ndarray | None


def _solve(problem: Problem, policy: Policy, ids: list[str]) -> Solution:
    if policy.solver == "exact":
        return solve_exact(problem, policy.objective)
    return solve_milp(problem, policy.objective, policy.solver, ids, policy.time_limit)


def plan_frame(
    ids: list[str],
    names: list[str],
    need: ExactNeed,
    limits: CountyLimits,
    new: np.ndarray | None,
    codes: list[str],
    level: Fraction | None = None,
) -> pd.DataFrame:
    need_f = need.need
    current = limits.current
    positive = need_f > 0
    safe_need = np.where(positive, need_f, 1.0)  # no division warnings; masked below
    size = len(ids)
    columns: dict[str, Any] = {
        "county_id": ids,
        "name": names,
        "need": need_f,
        "current": current,
        "shortfall_before": np.maximum(need_f - current, 0.0),
        "coverage_before": np.where(positive, current / safe_need, np.nan),
        "lowest_allowed": limits.lower,
        "highest_allowed": pd.arrays.IntegerArray(
            np.asarray(limits.upper, dtype=np.int64), ~np.asarray(limits.has_cap, dtype=bool)
        ),
        "limited_by": codes,
        "limited_by_zh": [LIMITED_BY_ZH[c] for c in codes],
    }
    if new is None:
        missing = np.ones(size, dtype=bool)
        columns["new"] = pd.arrays.IntegerArray(np.zeros(size, dtype=np.int64), missing)
        columns["change"] = pd.arrays.IntegerArray(np.zeros(size, dtype=np.int64), missing.copy())
        for column in ("shortfall_after", "coverage_after", "relative_shortfall_after"):
            columns[column] = np.full(size, np.nan)
        columns["explanation_zh"] = columns["explanation"] = [""] * size
    else:
        gaps = np.maximum(need_f - new, 0.0)
        columns["new"] = new
        columns["change"] = new - current
        columns["shortfall_after"] = gaps
        columns["coverage_after"] = np.where(positive, new / safe_need, np.nan)
        columns["relative_shortfall_after"] = np.where(positive, gaps / safe_need, 0.0)
        columns["explanation_zh"], columns["explanation"] = _explained(
            codes, need_f, limits, new, level
        )
    return pd.DataFrame({name: columns[name] for name in TABLE_COLUMNS})


def _explained(
    codes: list[str],
    need: np.ndarray,
    limits: CountyLimits,
    new: np.ndarray,
    level: Fraction | None,
) -> tuple[list[str], list[str]]:
    zeros = np.zeros_like(limits.current)
    occupied = limits.occupied if limits.occupied is not None else zeros
    leaving = limits.departures if limits.departures is not None else zeros
    return sentences(
        codes, need, limits.current, new, occupied, leaving, limits.lower, limits.upper, level
    )


def _plan_year(
    ids: list[str],
    names: list[str],
    need: ExactNeed,
    limits: CountyLimits,
    total: int,
    extra: int,
    policy: Policy,
) -> YearOutcome:
    problem = Problem(
        scaled_need=need.scaled,
        scale=need.scale,
        current=limits.current,
        lower=limits.lower,
        upper=limits.upper,
        total=total,
    )
    base: dict[str, Any] = {
        "total_before": int(limits.current.sum()),
        "extra_quota": extra,
        "total_need": float(Fraction(int(need.scaled.sum()), need.scale)),
    }
    if not problem.is_feasible() or total < 0:
        english, chinese = explain_infeasible(ids, names, limits, total, extra)
        table = plan_frame(ids, names, need, limits, None, ["infeasible"] * len(ids))
        summary = {**base, "status": "infeasible", "explanation": english}
        summary["explanation_zh"] = chinese
        return YearOutcome("infeasible", table, summary, None)
    try:
        solution = _solve(problem, policy, ids)
    except SolverFailure as failure:
        table = plan_frame(ids, names, need, limits, None, ["infeasible"] * len(ids))
        summary = {**base, "status": "error", "explanation": [str(failure)]}
        return YearOutcome("error", table, summary, None)
    x = solution.x
    stage1 = solution.floor if solution.fair_level is not None else None
    codes = limited_by(problem, limits, x, stage1, solution.fair_level, need.by_classes)
    worst = max_relative_shortfall(problem, x)
    short = Fraction(total_shortfall_scaled(problem, x), need.scale)
    summary = {
        **base,
        "status": "optimal",
        "total_after": int(x.sum()),
        "max_relative_shortfall": float(worst),
        "max_relative_shortfall_exact": str(worst),
        "total_shortfall": float(short),
        "total_shortfall_exact": str(short),
        "moved": quotas_moved(problem, x),
        "movement": movement(problem, x),
        "counties_by_limit": {code: codes.count(code) for code in dict.fromkeys(codes)},
    }
    if solution.fair_level is not None:
        summary["fair_level_exact"] = str(solution.fair_level)
    if solution.polished:
        summary["polished"] = solution.polished  # units a MILP backend's plan was moved by
    table = plan_frame(ids, names, need, limits, x, codes, solution.fair_level)
    return YearOutcome("optimal", table, summary, x)


# ---------------------------------------------------------------- the public entry point


def _enrolment_years(enrolment: pd.DataFrame) -> list[int] | list[None]:
    if "year" not in enrolment.columns or enrolment["year"].isna().all():
        return [None]
    if enrolment["year"].isna().any():
        raise ValueError("enrolment mixes rows with and without a year")
    return [int(y) for y in sorted(enrolment["year"].unique())]


def attrition_schedule(attrition: np.ndarray, years: int) -> np.ndarray:
    """Departures per county per year [county, year]: even split, remainder to the earliest."""
    years = max(years, 1)
    base, remainder = np.divmod(attrition, years)
    extra = np.arange(years)[None, :] < remainder[:, None]
    return base[:, None] + extra.astype(np.int64)


def unenrolled_warnings(
    ids: list[str], names: list[str], enrolment: pd.DataFrame, years: list[int] | list[None]
) -> tuple[list[str], list[str]]:
    """(English, Chinese) warnings for counties without any enrolment row in a year.

    Such a county is planned with need 0 (it keeps what nobody can release, above its floor):
    a district whose schools all moved away is rare but real, and refusing the whole
    scenario for it helped nobody. A mistyped id shows up here too, so it is said aloud.
    """
    english: list[str] = []
    chinese: list[str] = []
    rows = pd.Index(ids).get_indexer(pd.Index(enrolment["county_id"].astype(str)))
    if years == [None]:
        spot = np.zeros(len(enrolment), dtype=np.int64)
    else:
        spot = pd.Index(list(years)).get_indexer(pd.Index(enrolment["year"].astype("Int64")))
    keep = (rows >= 0) & (spot >= 0)
    present = np.zeros((len(years), len(ids)), dtype=bool)
    present[spot[keep], rows[keep]] = True
    for index, year in enumerate(years):
        when, when_zh = ("", "") if year is None else (f" for {year}", f"{year}年")
        for i in np.flatnonzero(~present[index]).tolist():
            who = f"{ids[i]} ({names[i]})" if names[i] else ids[i]
            english.append(f"County {who} has no enrolment rows{when}: planned with need 0.")
            chinese.append(f"{who}：{when_zh}无在校生数据，按需求 0 测算。")
    return english, chinese


def _validate(policy: Policy) -> None:
    if policy.objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {policy.objective!r}; choose one of {OBJECTIVES}")
    if policy.solver not in SOLVERS:
        raise ValueError(f"unknown solver {policy.solver!r}; choose one of {SOLVERS}")
    if policy.attrition_years is not None and policy.attrition_years < 1:
        raise ValueError("attrition_years must be at least 1")


def departures_by_year(
    departures: pd.DataFrame, ids: list[str], years: list[int] | list[None]
) -> np.ndarray:
    """[county, year] whole departures from a (county_id, year, attrition) table; 0 where a
    county has no row for a year."""
    table = departures.pivot_table(
        index="county_id", columns="year", values="attrition", aggfunc="sum", fill_value=0
    )
    table = table.reindex(index=ids, columns=[y for y in years if y is not None], fill_value=0)
    return np.asarray(table.to_numpy(), dtype=np.int64).reshape(len(ids), -1)


@dataclass(frozen=True)
class CountyColumns:
    """The counties table as whole-number arrays, aligned by county position."""

    ids: list[str]
    names: list[str]
    current: np.ndarray
    occupied: np.ndarray
    attrition: np.ndarray
    min_quota: np.ndarray  # 0 where none is set
    max_gain: np.ndarray  # 0 where none is set (see has_cap)
    has_cap: np.ndarray


def county_columns(counties: pd.DataFrame) -> CountyColumns:
    ids = [str(c) for c in counties["county_id"].tolist()]
    names = [str(n) for n in counties["name"].tolist()] if "name" in counties else [""] * len(ids)
    min_quota, _ = _optional_int_column(counties, "min_quota")
    max_gain, has_cap = _optional_int_column(counties, "max_gain")
    return CountyColumns(
        ids,
        names,
        _int_column(counties, "quota", 0),
        _int_column(counties, "occupied", 0),
        _int_column(counties, "attrition", 0),
        min_quota,
        max_gain,
        has_cap,
    )


def departures_schedule(
    table: CountyColumns,
    departures: pd.DataFrame | None,
    years: list[int] | list[None],
    policy: Policy,
) -> np.ndarray:
    """Departures [county, year]: the per-year table when given for a multi-year plan, else
    `attrition` spread evenly over `attrition_years` (default: the years planned)."""
    if departures is not None and years != [None]:
        return departures_by_year(departures, table.ids, years)
    return attrition_schedule(table.attrition, policy.attrition_years or len(years))


def first_year_limits(
    table: CountyColumns,
    departures: pd.DataFrame | None,
    years: list[int] | list[None],
    policy: Policy,
) -> tuple[CountyLimits, int]:
    """The limits and city total of the first plan year, as `make_plan` sets them."""
    leaving = departures_schedule(table, departures, years, policy)[:, 0]
    total = int(table.current.sum()) + policy.extra_quota
    limits = county_limits(
        table.current,
        table.occupied,
        leaving,
        table.min_quota,
        table.max_gain,
        table.has_cap,
        total,
    )
    return limits, total


def make_plan(
    counties: pd.DataFrame,
    enrolment: pd.DataFrame,
    standards: Standards | None = None,
    policy: Policy | None = None,
    departures: pd.DataFrame | None = None,
) -> PlanResult:
    """The optimal plan for validated tables (see the module docs of `optimizer.exact`).

    `departures` (county_id, year, attrition), when given for a multi-year plan, sets each
    year's departures; otherwise `attrition` is spread evenly (`attrition_schedule`).
    """
    started = time.perf_counter()
    standards = standards or Standards()
    policy = policy or Policy()
    _validate(policy)
    table = county_columns(counties)
    ids, names = table.ids, table.names
    current, occupied = table.current, table.occupied
    min_quota, max_gain, has_cap = table.min_quota, table.max_gain, table.has_cap
    cap_over_horizon = current + max_gain
    years = _enrolment_years(enrolment)
    spread = departures_schedule(table, departures, years, policy)
    needs = needs_by_year(counties, enrolment, standards, years)
    outcomes: list[YearOutcome] = []
    for index, year in enumerate(years):
        extra = policy.extra_quota if index == 0 else 0
        total = int(current.sum()) + extra
        leaving = spread[:, index] if index < spread.shape[1] else np.zeros_like(current)
        limits = county_limits(current, occupied, leaving, min_quota, max_gain, has_cap, total)
        need = needs[index]
        outcome = _plan_year(ids, names, need, limits, total, extra, policy)
        if year is not None:
            outcome.table.insert(0, "year", year)
            outcome.summary["year"] = year
        outcomes.append(outcome)
        if outcome.new is None:
            break
        # Next year starts from this plan: the people who left are gone, and a county that
        # gained quota fills it (that is what the quota was moved for).
        gained = np.maximum(outcome.new - current, 0)
        occupied = occupied - leaving + gained
        current = outcome.new
        # max_gain caps the gain over the whole horizon, measured from the starting quota.
        max_gain = np.maximum(cap_over_horizon - current, 0)
    result = _combine(outcomes, years, policy, time.perf_counter() - started)
    warnings, warnings_zh = unenrolled_warnings(ids, names, enrolment, years)
    if warnings:
        result.summary["warnings"] = warnings
        result.summary["warnings_zh"] = warnings_zh
    return result


def _combine(
    outcomes: list[YearOutcome], years: list[int] | list[None], policy: Policy, seconds: float
) -> PlanResult:
    first, last = outcomes[0], outcomes[-1]
    failed = next((o for o in outcomes if o.status != "optimal"), None)
    summary: dict[str, Any] = {
        "status": failed.status if failed else "optimal",
        "objective": policy.objective,
        "solver": policy.solver,
        "seconds": round(seconds, 6),
        "counties": len(first.table),
        "total_before": first.summary["total_before"],
        "extra_quota": policy.extra_quota,
    }
    table = pd.concat([o.table for o in outcomes], ignore_index=True)
    if failed is not None:
        explanation = list(failed.summary.get("explanation", []))
        explanation_zh = list(failed.summary.get("explanation_zh", []))
        if "year" in failed.summary:
            explanation = [f"In {failed.summary['year']}: {s}" for s in explanation]
            explanation_zh = [f"{failed.summary['year']}年：{s}" for s in explanation_zh]
        summary["explanation"] = explanation
        summary["explanation_zh"] = explanation_zh
        summary.update({"total_after": None, "max_relative_shortfall": None})
        summary.update({"total_shortfall": None, "moved": None, "movement": None})
    else:
        summary["total_after"] = last.summary["total_after"]
        summary["max_relative_shortfall"] = max(
            o.summary["max_relative_shortfall"] for o in outcomes
        )
        summary["total_shortfall"] = sum(o.summary["total_shortfall"] for o in outcomes)
        summary["moved"] = sum(o.summary["moved"] for o in outcomes)
        summary["movement"] = sum(o.summary["movement"] for o in outcomes)
        for key in ("max_relative_shortfall_exact", "total_shortfall_exact", "fair_level_exact"):
            if key in last.summary and len(outcomes) == 1:
                summary[key] = last.summary[key]
        summary["counties_by_limit"] = last.summary["counties_by_limit"]
        polished = sum(o.summary.get("polished", 0) for o in outcomes)
        if polished:
            summary["polished"] = polished
    if years != [None]:
        summary["years"] = [y for y in years if y is not None]
        summary["per_year"] = [o.summary for o in outcomes]
    return PlanResult(table=table, summary=summary)
