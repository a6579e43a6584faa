"""Projected enrolment by cohort progression, with a band per figure (SPEC 2.10).

Method, per county:

- **Grades move up.** Grade g+1 next year = grade g this year × the progression ratio of
  grade g, estimated as the mean of the county's last K valid ratios (K = `window`, default 3)
  S[g+1, t+1] / S[g, t]. A ratio with a zero cohort under it is not valid; a county with no
  valid ratio for a grade takes the city's pooled ratio of the last K years (stated in the
  notes).
- **Grade 1 enters.** With births: grade 1 in year T = births in year T − 6 × the county's
  entry ratio (mean of its last K ratios grade 1 / births six years earlier). Without births
  for that county and year (no births file, or a horizon beyond the known births): grade 1
  next year = grade 1 this year × its growth ratio (mean of the last K year-on-year ratios).
- **Levels** are sums of grades (primary 1–6, junior 7–9, senior 10–12: a setting). Point
  figures are rounded to whole pupils per grade, then summed, so a level always equals the
  sum of its grades.
- **Band** (default 10th–90th percentile): simulation of `draws` futures. Each ratio of each
  future is the point estimate × (1 + e), e bootstrapped from the one-step-ahead relative
  errors of the estimator in the history (the ratio of year t against the mean of the K
  ratios before it), pooled over the counties per grade. Part of the error is drawn once per
  future and kept over the horizon (`persistence`: the estimate itself is off), the rest
  afresh each year (the year's own noise). With too little history for one-step errors, the
  spread of the counties' ratios around the city's pooled ratio is used instead (noted).
  Bands are percentiles of the simulated figures, widened to contain the point figure.

Checks (all reported at once, naming file, row and column): grades outside the levels, a
duplicate county-grade-year, a county with one year, missing grades or years, fewer than two
years in all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.need import LEVELS
from pools.tabular import Column, InputError, InputErrors, read_table

DEFAULT_LEVEL_GRADES: dict[str, tuple[int, int]] = {
    "primary": (1, 6),
    "junior": (7, 9),
    "senior": (10, 12),
}
ENTRY_LAG = 6  # pupils enter grade 1 in the year they turn six
MIN_RESIDUALS = 5  # fewer one-step errors than this for a grade: use the cross-county spread
CHUNK = 256  # counties simulated at once (bounds memory at national scale)

HISTORY_SCHEMA: tuple[Column, ...] = (
    Column("county_id", ("区划代码",)),
    Column("grade", ("年级",), kind="int", minimum=1),
    Column("year", ("年度",), kind="int"),
    Column("students", ("在校生数",), kind="int", minimum=0),
)
BIRTHS_SCHEMA: tuple[Column, ...] = (
    Column("county_id", ("区划代码",)),
    Column("year", ("年度", "出生年份"), kind="int"),
    Column("births", ("出生人数",), kind="int", minimum=0),
)


@dataclass(frozen=True)
class ProjectionSettings:
    """How enrolment is projected; every field is a planner's setting."""

    years: int = 5  # horizon: projected years after the last history year
    window: int = 3  # K: ratios are the mean of the last K years
    band: tuple[float, float] = (0.10, 0.90)
    draws: int = 200  # simulated futures behind the band
    seed: int = 2025
    persistence: float = 0.5  # share of the error variance drawn once per future
    max_ratio: float = 3.0  # no cohort more than triples in a year (tiny cohorts, new schools)
    levels: Mapping[str, tuple[int, int]] = field(
        default_factory=lambda: dict(DEFAULT_LEVEL_GRADES)
    )

    def __post_init__(self) -> None:
        low, high = self.band
        if self.years < 1 or self.window < 1 or self.draws < 1:
            raise ValueError("years, window and draws must be at least 1")
        if not 0 <= low < high <= 1:
            raise ValueError(f"band must be two quantiles 0 ≤ low < high ≤ 1, got {self.band}")
        if not self.max_ratio > 0:
            raise ValueError(f"max_ratio must be positive, got {self.max_ratio}")
        if not 0 <= self.persistence <= 1:
            raise ValueError(f"persistence must be between 0 and 1, got {self.persistence}")
        check_levels(self.levels)

    @property
    def grades(self) -> int:
        """The highest grade of any level."""
        return max(last for _, last in self.levels.values())

    def describe(self) -> dict[str, Any]:
        return {
            "method": "cohort progression (mean of last K ratios); entry from births six "
            "years earlier × entry ratio, else grade-1 growth; band from bootstrapped "
            "one-step-ahead ratio errors",
            "window": self.window,
            "band": list(self.band),
            "draws": self.draws,
            "seed": self.seed,
            "persistence": self.persistence,
            "max_ratio": self.max_ratio,
            "levels": {level: list(grades) for level, grades in self.levels.items()},
        }


def check_levels(levels: Mapping[str, tuple[int, int]]) -> None:
    """Levels must be school levels of SPEC 3.1 covering grades 1..G without gap or overlap."""
    unknown = sorted(set(levels) - set(LEVELS))
    if unknown or not levels:
        raise ValueError(f"levels must be some of {', '.join(LEVELS)}, got {sorted(levels)}")
    ranges = sorted((int(first), int(last)) for first, last in levels.values())
    expected = 1
    for first, last in ranges:
        if first != expected or last < first:
            raise ValueError(
                "levels must cover grades 1, 2, … in order without gap or overlap, got "
                + ", ".join(f"{name} {a}–{b}" for name, (a, b) in levels.items())
            )
        expected = last + 1


@dataclass(frozen=True)
class History:
    """Enrolment by county, grade and consecutive years, as an array."""

    counties: tuple[str, ...]
    years: np.ndarray  # int64, consecutive
    students: np.ndarray  # float64 [county, grade - 1, year]


@dataclass(frozen=True)
class Births:
    """Births by county (aligned with History.counties) and year; NaN where unknown."""

    first_year: int
    counts: np.ndarray  # float64 [county, year - first_year]

    def of(self, years: np.ndarray) -> np.ndarray:
        """Births [county, len(years)] for the given years, NaN outside the file."""
        index = np.asarray(years, dtype=np.int64) - self.first_year
        inside = (index >= 0) & (index < self.counts.shape[1])
        out = np.full((self.counts.shape[0], len(index)), np.nan)
        out[:, inside] = self.counts[:, index[inside]]
        return out


@dataclass(frozen=True)
class Fit:
    """Estimated ratios and the error pools behind the band."""

    history: History
    ratios: np.ndarray  # [county, transition]: 0 grade-1 growth, g progression grade g -> g+1
    entry: np.ndarray  # [county] grade 1 / births six years earlier (NaN: no births)
    births: Births | None
    errors: list[np.ndarray]  # relative errors per transition
    entry_errors: np.ndarray
    notes: list[str]
    max_ratio: float = 3.0


@dataclass
class EnrolmentProjection:
    enrolment: pd.DataFrame  # county_id, level, year, students, low, high
    grades: pd.DataFrame  # county_id, grade, year, students, low, high
    notes: list[str]
    method: dict[str, Any]


# --- reading ---------------------------------------------------------------------------------


def read_rows(path: str | Path, schema: tuple[Column, ...]) -> pd.DataFrame:
    """A table with at least one row and no cell errors; raises InputErrors otherwise."""
    frame, errors = read_table(path, schema)
    if not errors and frame.empty:
        errors.append(InputError(Path(path).name, "has no rows"))
    if errors:
        raise InputErrors(errors)
    return frame


def read_history(path: str | Path, settings: ProjectionSettings) -> History:
    """The checked enrolment history; raises InputErrors naming file, row and column."""
    return history_from_frame(read_rows(path, HISTORY_SCHEMA), Path(path).name, settings)


def _label(schema: tuple[Column, ...], name: str) -> str:
    return next(column.label for column in schema if column.name == name)


def history_from_frame(frame: pd.DataFrame, file: str, settings: ProjectionSettings) -> History:
    """Array form of a typed history table (index = spreadsheet rows)."""
    grade_col, year_col = _label(HISTORY_SCHEMA, "grade"), _label(HISTORY_SCHEMA, "year")
    top = settings.grades
    errors = [
        InputError(
            file,
            f"grade {grade} is in no school level (levels: {_levels_text(settings)})",
            row=int(str(row)),
            column=grade_col,
        )
        for row, grade in frame["grade"][frame["grade"] > top].items()
    ]
    errors += _duplicate_errors(frame, ["county_id", "grade", "year"], file, year_col)
    if errors:
        raise InputErrors(errors)
    years = np.arange(int(frame["year"].min()), int(frame["year"].max()) + 1, dtype=np.int64)
    if len(years) < 2:
        raise InputErrors(
            [
                InputError(
                    file,
                    f"has only one year ({years[0]}); cohort progression needs at least 2 "
                    "consecutive years",
                    column=year_col,
                )
            ]
        )
    codes, counties = pd.factorize(frame["county_id"], sort=False)
    errors = _coverage_errors(frame, codes, list(counties), years, top, file)
    if errors:
        raise InputErrors(errors)
    students = np.full((len(counties), top, len(years)), np.nan)
    grade_index = frame["grade"].to_numpy(dtype=np.int64) - 1
    year_index = frame["year"].to_numpy(dtype=np.int64) - years[0]
    students[codes, grade_index, year_index] = frame["students"].to_numpy(dtype=np.float64)
    return History(tuple(str(c) for c in counties), years, students)


def _levels_text(settings: ProjectionSettings) -> str:
    return ", ".join(f"{name} {a}–{b}" for name, (a, b) in settings.levels.items())


def _duplicate_errors(
    frame: pd.DataFrame, keys: list[str], file: str, column: str
) -> list[InputError]:
    repeated = frame.duplicated(keys, keep=False)
    if not repeated.any():
        return []
    groups = frame[repeated].groupby(keys, sort=False)
    errors = []
    for key, rows in groups:
        first, *others = rows.index.tolist()
        what = ", ".join(f"{name} {value}" for name, value in zip(keys, key, strict=True))
        errors += [
            InputError(file, f"duplicate row for {what} (first seen in row {first})", row, column)
            for row in others
        ]
    return errors


def _coverage_errors(
    frame: pd.DataFrame,
    codes: np.ndarray,
    counties: list[Any],
    years: np.ndarray,
    top: int,
    file: str,
) -> list[InputError]:
    """A county with one year; grades 1..top missing in some county-year; years with a gap."""
    errors: list[InputError] = []
    present = np.zeros((len(counties), top, len(years)), dtype=bool)
    present[codes, frame["grade"].to_numpy() - 1, frame["year"].to_numpy() - years[0]] = True
    first_rows = pd.Series(frame.index.to_numpy()).groupby(codes).min().to_dict()
    year_col, grade_col = _label(HISTORY_SCHEMA, "year"), _label(HISTORY_SCHEMA, "grade")
    span = f"{years[0]}–{years[-1]}"
    for c, county in enumerate(counties):
        has_year = present[c].any(axis=0)
        if has_year.sum() == 1:
            only = int(years[has_year.argmax()])
            errors.append(
                InputError(
                    file,
                    f"county '{county}' has only one year ({only}); cohort progression needs "
                    f"every year {span} as the other counties have",
                    row=int(first_rows[c]),
                    column=year_col,
                )
            )
            continue
        for y in np.flatnonzero(~has_year):
            errors.append(
                InputError(
                    file,
                    f"county '{county}' has no rows for {years[y]} (every county needs every "
                    f"year {span})",
                    row=int(first_rows[c]),
                    column=year_col,
                )
            )
        for y in np.flatnonzero(has_year):
            missing = np.flatnonzero(~present[c, :, y]) + 1
            if len(missing):
                errors.append(
                    InputError(
                        file,
                        f"county '{county}', year {years[y]}: no row for grade "
                        f"{', '.join(map(str, missing))} (every grade 1–{top} is needed)",
                        row=int(first_rows[c]),
                        column=grade_col,
                    )
                )
    return errors


def read_births(path: str | Path, history: History) -> tuple[Births, list[str]]:
    """Births aligned with the history's counties; notes for counties it lacks or adds."""
    frame, file = read_rows(path, BIRTHS_SCHEMA), Path(path).name
    errors = _duplicate_errors(frame, ["county_id", "year"], file, _label(BIRTHS_SCHEMA, "year"))
    if errors:
        raise InputErrors(errors)
    return births_from_frame(frame, history, file)


def births_from_frame(frame: pd.DataFrame, history: History, file: str) -> tuple[Births, list[str]]:
    position = {county: i for i, county in enumerate(history.counties)}
    index = frame["county_id"].map(position)
    known = index.notna().to_numpy()
    notes = []
    unknown = sorted(set(frame.loc[~known, "county_id"].tolist()))
    if unknown:
        notes.append(f"{file}: counties not in the history are ignored: {', '.join(unknown)}")
    listed = set(frame["county_id"].tolist())
    without = [county for county in history.counties if county not in listed]
    if without:
        notes.append(
            f"{file}: no births for {', '.join(without)}; their grade 1 follows its own growth"
        )
    first = int(frame["year"].min())
    counts = np.full((len(history.counties), int(frame["year"].max()) - first + 1), np.nan)
    counts[
        index[known].to_numpy(dtype=np.int64),
        frame.loc[known, "year"].to_numpy(dtype=np.int64) - first,
    ] = frame.loc[known, "births"].to_numpy(dtype=np.float64)
    return Births(first, counts), notes


# --- estimating ------------------------------------------------------------------------------


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is zero or unknown."""
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    usable = np.isfinite(denominator) & (denominator > 0) & np.isfinite(numerator)
    np.divide(numerator, denominator, out=out, where=usable)
    return out


def last_k_mean(ratios: np.ndarray, k: int) -> np.ndarray:
    """Mean over the last axis of the last k valid (non-NaN) values; NaN where none is."""
    valid = ~np.isnan(ratios)
    from_end = np.cumsum(valid[..., ::-1], axis=-1)[..., ::-1]  # valid values at or after t
    take = valid & (from_end <= k)
    count = take.sum(axis=-1)
    total = np.where(take, ratios, 0.0).sum(axis=-1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def one_step_errors(ratios: np.ndarray, k: int) -> np.ndarray:
    """Relative errors r_t / (mean of the k valid ratios before t) − 1, flattened, finite."""
    found = []
    for t in range(1, ratios.shape[-1]):
        estimate = last_k_mean(ratios[..., :t], k)
        found.append(ratio(ratios[..., t], estimate) - 1)
    if not found:
        return np.empty(0)
    values = np.stack(found).ravel()
    return values[np.isfinite(values)]


def cross_county_errors(ratios: np.ndarray, pooled: float) -> np.ndarray:
    """Fallback spread: each county's ratios relative to the city's pooled ratio."""
    if not np.isfinite(pooled) or pooled <= 0:
        return np.empty(0)
    values = (ratios / pooled - 1).ravel()
    return values[np.isfinite(values)]


def pooled_ratio(numerator: np.ndarray, denominator: np.ndarray, k: int) -> np.ndarray:
    """The city's ratio over its last k years: Σ numerators / Σ denominators (last axis)."""
    usable = np.isfinite(numerator) & np.isfinite(denominator) & (denominator > 0)
    top = np.where(usable, numerator, 0.0)[..., -k:].sum(axis=(0, -1))
    bottom = np.where(usable, denominator, 0.0)[..., -k:].sum(axis=(0, -1))
    return ratio(top, bottom)


def transitions(students: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(after, before) [county, transition, year pair] of every ratio the method estimates.

    Transition 0 is grade 1's growth (grade 1 next year / grade 1 this year); transition g ≥ 1
    is progression (grade g+1 next year / grade g this year).
    """
    after = np.concatenate([students[:, :1, 1:], students[:, 1:, 1:]], axis=1)
    before = np.concatenate([students[:, :1, :-1], students[:, :-1, :-1]], axis=1)
    return after, before


def transition_name(index: int) -> str:
    return f"grade {index}→{index + 1}" if index else "grade 1 growth"


def fit(history: History, births: Births | None, settings: ProjectionSettings) -> Fit:
    """Point ratios per county and the error pools of every transition."""
    k = settings.window
    notes: list[str] = []
    after, before = transitions(history.students)
    past = ratio(after, before)  # [county, transition, year pair]
    city = pooled_ratio(after, before, k)
    point = _fill_from_city(last_k_mean(past, k), city, history, notes)
    point = _capped(point, settings.max_ratio, "growth or progression", notes)
    errors = _error_pools(past, city, k, notes)
    entry, entry_errors = _entry_fit(history, births, settings, notes)
    return Fit(history, point, entry, births, errors, entry_errors, notes, settings.max_ratio)


def _error_pools(past: np.ndarray, city: np.ndarray, k: int, notes: list[str]) -> list[np.ndarray]:
    """One-step-ahead relative errors per transition; the cross-county spread where too few."""
    pools = []
    thin = []
    for index in range(past.shape[1]):
        pool = one_step_errors(past[:, index], k)
        if len(pool) < MIN_RESIDUALS:
            pool = cross_county_errors(past[:, index], float(city[index]))
            thin.append(transition_name(index))
        pools.append(pool)
    if thin:
        notes.append(
            f"band: fewer than {MIN_RESIDUALS} one-step errors of the ratios for "
            f"{', '.join(thin)}; the spread of the counties' ratios around the city's is used"
        )
    return pools


def _entry_fit(
    history: History, births: Births | None, settings: ProjectionSettings, notes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Entry ratios grade 1 / births six years earlier per county (NaN: none) and their errors."""
    if births is None:
        return np.full(len(history.counties), np.nan), np.empty(0)
    k = settings.window
    entrants = history.students[:, 0, :]
    born = births.of(history.years - ENTRY_LAG)
    past = ratio(entrants, born)
    entry = _capped(last_k_mean(past, k), settings.max_ratio, "entry", notes)
    errors = one_step_errors(past, k)
    if len(errors) < MIN_RESIDUALS:
        errors = cross_county_errors(past, float(pooled_ratio(entrants[None], born[None], k)[0]))
    return entry, errors


def _capped(estimate: np.ndarray, cap: float, what: str, notes: list[str]) -> np.ndarray:
    """Ratios above `cap` (a cohort of a handful of pupils before) are held at it, noted."""
    above = int(np.count_nonzero(estimate > cap))
    if above:
        notes.append(f"{above} {what} ratio(s) above {cap:g} held at {cap:g}")
    return np.minimum(estimate, cap)


def _fill_from_city(
    estimate: np.ndarray, city: np.ndarray, history: History, notes: list[str]
) -> np.ndarray:
    """Counties without a valid ratio (zero cohorts) take the city's; stated in the notes."""
    city = np.where(np.isfinite(city), city, 1.0)  # the whole city has no such pupils: keep
    missing = np.isnan(estimate)
    notes += [
        f"county '{history.counties[c]}' {transition_name(int(t))}: no usable ratio (zero "
        f"cohort in every year); the city's ratio {city[t]:.4f} is used"
        for c, t in zip(*np.nonzero(missing), strict=True)
    ]
    return np.where(missing, city[None, :], estimate)


# --- projecting ------------------------------------------------------------------------------


def simulate(
    model: Fit,
    horizon: int,
    draws: int,
    rng: np.random.Generator | None,
    persistence: float = 0.5,
    counties: slice = slice(None),
) -> np.ndarray:
    """Pupils [draw, county, grade, year] over the horizon; rng None = the point projection."""
    s = model.history.students[counties, :, -1]
    state = np.broadcast_to(s, (draws, *s.shape)).copy()
    grades = s.shape[1]
    years = model.history.years[-1] + np.arange(1, horizon + 1)
    births_ahead = (
        model.births.of(years - ENTRY_LAG)[counties]
        if model.births is not None
        else np.full((s.shape[0], horizon), np.nan)
    )
    entry = model.entry[counties]
    point = model.ratios[counties]
    shape = (draws, s.shape[0])
    pools = [*model.errors, model.entry_errors]  # the last one: entry ratios against births
    fixed = _bootstrap(pools, rng, shape, _share(persistence, None))
    out = np.empty((draws, s.shape[0], grades, horizon))
    for h in range(horizon):
        noise = fixed + _bootstrap(pools, rng, shape, _share(persistence, h))
        step = point[None] * (1 + noise[..., :-1])
        step = np.clip(step, 0.0, model.max_ratio)
        moved = np.empty_like(state)
        moved[:, :, 1:] = state[:, :, :-1] * step[:, :, 1:]
        entry_ratio = entry[None] * (1 + noise[..., -1])
        by_births = births_ahead[None, :, h] * np.clip(entry_ratio, 0.0, model.max_ratio)
        use_births = np.isfinite(births_ahead[:, h]) & np.isfinite(entry)
        moved[:, :, 0] = np.where(use_births[None], by_births, state[:, :, 0] * step[:, :, 0])
        out[..., h] = moved
        state = moved
    return out


def _share(persistence: float, h: int | None) -> float:
    """Scale of the once-per-future (h None) or the per-year part of the error."""
    return float(np.sqrt(persistence if h is None else 1 - persistence))


def _bootstrap(
    pools: list[np.ndarray],
    rng: np.random.Generator | None,
    shape: tuple[int, int],
    scale: float,
) -> np.ndarray:
    """Relative errors [*shape, pool] drawn from each pool; zeros without an rng or a pool."""
    out = np.zeros((*shape, len(pools)))
    if rng is None:
        return out
    for index, pool in enumerate(pools):
        if len(pool):
            out[..., index] = pool[rng.integers(0, len(pool), size=shape)]
    return out * scale


def level_matrix(settings: ProjectionSettings, grades: int) -> np.ndarray:
    """[grade, level] 1 where the grade belongs to the level (levels within the grades)."""
    matrix = np.zeros((grades, len(settings.levels)))
    for column, (first, last) in enumerate(settings.levels.values()):
        matrix[first - 1 : last, column] = 1
    return matrix


def project(model: Fit, settings: ProjectionSettings) -> EnrolmentProjection:
    """Point figures and bands for every county, grade, level and projected year."""
    horizon = settings.years
    point = np.rint(simulate(model, horizon, 1, None)[0]).astype(np.int64)  # [c, grade, year]
    grades = point.shape[1]
    levels = level_matrix(settings, grades)
    low_g: list[np.ndarray] = []
    high_g: list[np.ndarray] = []
    low_l: list[np.ndarray] = []
    high_l: list[np.ndarray] = []
    rng = np.random.default_rng(settings.seed)
    for start in range(0, len(model.history.counties), CHUNK):
        part = slice(start, start + CHUNK)
        paths = simulate(model, horizon, settings.draws, rng, settings.persistence, part)
        by_level = np.einsum("dcgh,gl->dclh", paths, levels)
        for bands, figures in ((low_g, high_g), paths), ((low_l, high_l), by_level):
            low, high = np.quantile(figures, settings.band, axis=0)
            bands[0].append(low)
            bands[1].append(high)
    level_point = np.einsum("cgh,gl->clh", point, levels.astype(np.int64))  # whole sums
    years = model.history.years[-1] + np.arange(1, horizon + 1)
    counties = model.history.counties
    grade_table = _long_table(
        counties, "grade", list(range(1, grades + 1)), years, point, low_g, high_g
    )
    level_table = _long_table(
        counties, "level", list(settings.levels), years, level_point, low_l, high_l
    )
    return EnrolmentProjection(level_table, grade_table, list(model.notes), settings.describe())


def _long_table(
    counties: tuple[str, ...],
    key: str,
    keys: list[Any],
    years: np.ndarray,
    point: np.ndarray,
    lows: list[np.ndarray],
    highs: list[np.ndarray],
) -> pd.DataFrame:
    """One row per county, key and year (county-major), with whole-number figures."""
    c, k, h = point.shape
    low = np.minimum(np.rint(np.concatenate(lows)).astype(np.int64), point)
    high = np.maximum(np.rint(np.concatenate(highs)).astype(np.int64), point)
    return pd.DataFrame(
        {
            "county_id": np.repeat(np.asarray(counties, dtype=object), k * h),
            key: np.tile(np.repeat(np.asarray(keys), h), c),
            "year": np.tile(years, c * k),
            "students": point.reshape(-1),
            "low": low.reshape(-1),
            "high": high.reshape(-1),
        }
    )


def project_enrolment(
    history_path: str | Path,
    births_path: str | Path | None,
    settings: ProjectionSettings,
) -> EnrolmentProjection:
    """Read, check, fit and project; raises InputErrors for bad history or births."""
    history = read_history(history_path, settings)
    births: Births | None = None
    notes: list[str] = []
    if births_path is not None:
        births, notes = read_births(births_path, history)
    result = project(fit(history, births, settings), settings)
    result.notes[:0] = notes
    return result


def file_sha256(path: str | Path) -> str:
    """Content hash of an input file, recorded so that a projection can be traced to it."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
