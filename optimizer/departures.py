"""Expected departures per county (or unit) and year from a staff roster (SPEC 2.10).

**Statutory retirement** follows the NPC Standing Committee decision of 13 September 2024
(in force 1 January 2025), which raises the age step by step by birth month:

| group | age before | first raised | +1 month per | cap (reached by those born) |
|---|---|---|---|---|
| men | 60 | born 1965-01: 60y1m | 4 birth months | 63 (1976-09 or later) |
| women, cadre posts (干部) | 55 | born 1970-01: 55y1m | 4 birth months | 58 (1981-09 or later) |
| women, worker posts (工人) | 50 | born 1975-01: 50y1m | 2 birth months | 55 (1984-11 or later) |

So the delay in months is 0 for those born before the first raised month, otherwise
min(cap, 1 + ⌊months since that month / step⌋). A person retires on the day they reach the
age (the birth day in the retirement month, or its last day if shorter). Everything is
computed on arrays of month numbers (year × 12 + month − 1), never row by row.

**Periods**: year i of the horizon runs from `start` + i years to the day before
`start` + i + 1 years and is labelled by the calendar year it starts in. People already past
their age on `start` (still on the roster) are counted in the first year.

**Other departures** (transfers, resignations, deaths): a rate per year of the people still
in post at the start of the year after that year's retirements, from a setting or estimated
from a history of past departures (Σ departures / Σ headcount per county, the city's rate
where a county has none). Expected counts are rounded on the running total, so the yearly
figures add up to the rounded total. Nobody joins: the roster is a closed cohort.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pools.tabular import Column, InputError, InputErrors, read_table

SEX_NAMES = {"male": "男", "female": "女"}
CATEGORY_SPELLINGS = {
    "cadre": "cadre",
    "干部": "cadre",
    # Teachers are professional and technical staff, who retire as cadres do.
    "专业技术人员": "cadre",
    "专技": "cadre",
    "管理人员": "cadre",
    "worker": "worker",
    "工人": "worker",
    "工勤技能人员": "worker",
    "工勤": "worker",
}

ROSTER_SCHEMA: tuple[Column, ...] = (
    Column("person_id", ("人员编号", "工号", "身份证号"), unique=True),
    Column("county_id", ("区划代码",), required=False),
    Column("unit_id", ("单位代码",), required=False),
    Column("date_of_birth", ("出生日期", "出生年月")),
    Column(
        "sex",
        ("性别",),
        kind="choice",
        choices={"male": "male", "m": "male", "男": "male", "female": "female", "f": "female"}
        | {"女": "female"},
    ),
    Column(
        "category",
        ("类别", "人员类别", "身份"),
        kind="choice",
        required=False,
        choices=CATEGORY_SPELLINGS,
    ),
)
DEPARTURE_HISTORY_SCHEMA: tuple[Column, ...] = (
    Column("county_id", ("区划代码",)),
    Column("year", ("年度",), kind="int"),
    Column("departures", ("其他减员", "减员人数"), kind="int", minimum=0),
    Column("headcount", ("在编人数", "年初人数"), kind="int", minimum=0),
)


@dataclass(frozen=True)
class Schedule:
    """One group's statutory retirement age as raised from 1 January 2025."""

    base_years: int
    first_raised: tuple[int, int]  # (year, month) of birth: the first to get +1 month
    months_per_step: int  # birth months per extra month of age
    cap_months: int  # largest delay

    def delay_months(self, birth_month: np.ndarray) -> np.ndarray:
        """Months added to the base age for births in these month numbers (year·12 + m − 1)."""
        first = self.first_raised[0] * 12 + self.first_raised[1] - 1
        since = birth_month - first
        delay = np.minimum(1 + np.maximum(since, 0) // self.months_per_step, self.cap_months)
        return np.where(since >= 0, delay, 0)

    def age_months(self, birth_month: np.ndarray) -> np.ndarray:
        return self.base_years * 12 + self.delay_months(birth_month)


MEN = Schedule(60, (1965, 1), 4, 36)
WOMEN_CADRES = Schedule(55, (1970, 1), 4, 36)
WOMEN_WORKERS = Schedule(50, (1975, 1), 2, 60)


@dataclass(frozen=True)
class DepartureSettings:
    start: dt.date
    years: int = 5
    other_rate: float = 0.01  # other departures per year, share of those in post

    def __post_init__(self) -> None:
        if self.years < 1:
            raise ValueError("years must be at least 1")
        if not 0 <= self.other_rate < 1:
            raise ValueError(f"other_rate must be in [0, 1), got {self.other_rate}")


@dataclass
class Roster:
    key: str  # "county_id" or "unit_id"
    ids: np.ndarray  # object [person]: county or unit
    birth: np.ndarray  # datetime64[D] [person]
    sex: np.ndarray  # object: male / female
    category: np.ndarray  # object: cadre / worker / None


@dataclass
class Departures:
    table: pd.DataFrame  # key, year, in_post, retirements, other_departures, attrition
    key: str
    notes: list[str]
    method: dict[str, Any]


# --- dates -----------------------------------------------------------------------------------

_DATE = r"^\s*(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*(?:[-/.月]?\s*(\d{1,2}))?\s*[日号]?(?:[\sT].*)?$"


def parse_dates(cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[D], ok mask): 1965-03-12, 1965/3/12, 19650312, 1965年3月12日, 1965.03 (day 1)."""
    codes, distinct = pd.factorize(cells.astype("string"), use_na_sentinel=False)
    if len(distinct) < len(cells):  # a roster repeats birth dates: parse each spelling once
        dates, ok = parse_dates(pd.Series(distinct, dtype="string"))
        return dates[codes], ok[codes]
    parts = cells.astype("string").str.extract(_DATE)
    year = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    month = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    day = pd.to_numeric(parts[2], errors="coerce").fillna(1)
    day_values = day.to_numpy(dtype=np.float64, na_value=np.nan)
    ok = np.isfinite(year) & np.isfinite(month) & (month >= 1) & (month <= 12) & (day_values >= 1)
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("int64")
    month_start = months.astype("datetime64[M]").astype("datetime64[D]")
    length = ((months + 1).astype("datetime64[M]").astype("datetime64[D]") - month_start).astype(
        np.int64
    )
    ok &= day_values <= length
    offset = np.where(ok, day_values - 1, 0).astype("int64")
    return month_start + offset.astype("timedelta64[D]"), ok


def month_number(dates: np.ndarray) -> np.ndarray:
    """year·12 + month − 1 of datetime64 values."""
    return dates.astype("datetime64[M]").astype(np.int64) + 1970 * 12


def add_months(dates: np.ndarray, months: np.ndarray) -> np.ndarray:
    """The same day `months` later, or the last day of that month if it is shorter."""
    start = dates.astype("datetime64[M]")
    day = (dates - start.astype("datetime64[D]")).astype(np.int64)
    target = start + months.astype("timedelta64[M]")
    first = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - first).astype(np.int64)
    return first + np.minimum(day, length - 1).astype("timedelta64[D]")


def retirement_dates(birth: np.ndarray, sex: np.ndarray, category: np.ndarray) -> np.ndarray:
    """The statutory retirement day of each person (datetime64[D])."""
    months = month_number(birth)
    female = sex == "female"
    worker = female & (category == "worker")
    age = np.where(
        female,
        np.where(worker, WOMEN_WORKERS.age_months(months), WOMEN_CADRES.age_months(months)),
        MEN.age_months(months),
    )
    return add_months(birth, age)


def retirement_age(birth: dt.date, sex: str, category: str | None = None) -> tuple[int, int]:
    """(years, months) of the statutory age for one person: the schedule, readable in tests."""
    months = np.array([birth.year * 12 + birth.month - 1])
    schedule = MEN if sex == "male" else WOMEN_WORKERS if category == "worker" else WOMEN_CADRES
    age = int(schedule.age_months(months)[0])
    return divmod(age, 12)


# --- reading ---------------------------------------------------------------------------------


def _label(schema: tuple[Column, ...], name: str) -> str:
    return next(column.label for column in schema if column.name == name)


def read_roster(path: str | Path) -> Roster:
    """The checked roster; raises InputErrors naming file, row and column for every problem."""
    file = Path(path).name
    frame, errors = read_table(path, ROSTER_SCHEMA)
    if errors:
        raise InputErrors(errors)
    if frame.empty:
        raise InputErrors([InputError(file, "has no people")])
    key = _roster_key(frame, file)
    birth, ok = parse_dates(frame["date_of_birth"])
    errors += _row_errors(
        frame,
        ~ok,
        file,
        "date_of_birth",
        lambda row: f"'{row}' is not a date (e.g. 1975-03-12, 1975/3/12, 19750312, 1975年3月)",
        frame["date_of_birth"],
    )
    errors += _row_errors(frame, frame[key].isna().to_numpy(), file, key, lambda _: "is empty")
    needs_category = (frame["sex"] == "female").to_numpy() & frame["category"].isna().to_numpy()
    errors += _row_errors(
        frame,
        needs_category,
        file,
        "category",
        lambda _: (
            "is empty, but a woman's retirement age depends on it (干部/cadre: 55→58, "
            "工人/worker: 50→55; teachers are 干部)"
        ),
    )
    if errors:
        raise InputErrors(errors)
    return Roster(
        key=key,
        ids=frame[key].to_numpy(dtype=object),
        birth=birth,
        sex=frame["sex"].to_numpy(dtype=object),
        category=frame["category"].to_numpy(dtype=object),
    )


def _roster_key(frame: pd.DataFrame, file: str) -> str:
    counties, units = frame["county_id"].notna().any(), frame["unit_id"].notna().any()
    if counties:
        return "county_id"
    if units:
        return "unit_id"
    raise InputErrors(
        [InputError(file, "needs a county_id [区划代码] or a unit_id [单位代码] column", row=1)]
    )


def _row_errors(
    frame: pd.DataFrame,
    bad: np.ndarray,
    file: str,
    column: str,
    message: Any,
    values: pd.Series | None = None,
) -> list[InputError]:
    rows = frame.index.to_numpy()[bad]
    shown = values.to_numpy()[bad] if values is not None else [None] * len(rows)
    label = _label(ROSTER_SCHEMA, column)
    return [
        InputError(file, message(value), row=int(row), column=label)
        for row, value in zip(rows, shown, strict=True)
    ]


def estimate_other_rate(path: str | Path) -> tuple[dict[str, float], float]:
    """Per-county and city rates Σ departures / Σ headcount from a history of departures."""
    from optimizer.projection import read_rows

    file = Path(path).name
    frame = read_rows(path, DEPARTURE_HISTORY_SCHEMA)
    sums = frame.groupby("county_id", sort=False)[["departures", "headcount"]].sum()
    usable = sums[sums["headcount"] > 0]
    rates = (usable["departures"] / usable["headcount"]).astype(float).to_dict()
    headcount = int(sums["headcount"].sum())
    if headcount == 0:
        raise InputErrors(
            [InputError(file, "every headcount is 0: no rate can be estimated", column="headcount")]
        )
    return {str(k): float(v) for k, v in rates.items()}, float(sums["departures"].sum() / headcount)


# --- counting --------------------------------------------------------------------------------


def period_starts(start: dt.date, years: int) -> np.ndarray:
    """start, start + 1 year, ... start + years (29 February becomes 28 February)."""
    return np.array([_years_later(start, i) for i in range(years + 1)], dtype="datetime64[D]")


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def project_departures(
    roster: Roster,
    settings: DepartureSettings,
    rates: dict[str, float] | None = None,
) -> Departures:
    """Retirements and other departures per county (or unit) and year of the horizon."""
    years = settings.years
    starts = period_starts(settings.start, years)
    retire = retirement_dates(roster.birth, roster.sex, roster.category)
    period = np.searchsorted(starts, retire, side="right") - 1
    overdue = int((period < 0).sum())
    period = np.maximum(period, 0)  # already past the age: leaves in the first year
    codes, ids = pd.factorize(pd.Series(roster.ids), sort=False)
    within = period < years
    counts = np.bincount(
        codes[within] * years + period[within], minlength=len(ids) * years
    ).reshape(len(ids), years)
    in_post = np.bincount(codes, minlength=len(ids)).astype(np.float64)
    default = settings.other_rate
    rate = np.array([(rates or {}).get(str(i), default) for i in ids], dtype=np.float64)
    others = _other_departures(in_post, counts, rate)
    stock = in_post[:, None] - np.cumsum(counts + others, axis=1) + counts + others
    labels = [starts[i].astype(object).year for i in range(years)]
    table = pd.DataFrame(
        {
            roster.key: np.repeat(np.asarray(ids, dtype=object), years),
            "year": np.tile(labels, len(ids)),
            "in_post": stock.reshape(-1).astype(np.int64),
            "retirements": counts.reshape(-1),
            "other_departures": others.reshape(-1),
            "attrition": (counts + others).reshape(-1),
        }
    )
    notes = []
    if overdue:
        notes.append(
            f"{overdue} people were already past their statutory age on {settings.start}; "
            "counted as retiring in the first year"
        )
    method = {
        "method": "statutory retirement ages of the 2024 NPC Standing Committee decision "
        "(from 2025-01-01, raised by birth month) plus other departures at a rate per year",
        "start": settings.start.isoformat(),
        "years": years,
        "other_rate": "estimated from history" if rates is not None else settings.other_rate,
    }
    return Departures(table, roster.key, notes, method)


def _other_departures(in_post: np.ndarray, retirements: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Whole expected other departures [key, year], rounded on the running total."""
    years = retirements.shape[1]
    expected = np.zeros(retirements.shape)
    stock = in_post.copy()
    for i in range(years):
        expected[:, i] = rate * np.maximum(stock - retirements[:, i], 0)
        stock = stock - retirements[:, i] - expected[:, i]
    running = np.rint(np.cumsum(expected, axis=1)).astype(np.int64)
    return np.diff(running, axis=1, prepend=0)


def horizon_attrition(departures: Departures) -> pd.Series:
    """Departures over the whole horizon per county (or unit)."""
    return departures.table.groupby(departures.key, sort=False)["attrition"].sum()


def counties_with_attrition(
    counties: pd.DataFrame, counties_file: str, roster_file: str, departures: Departures
) -> pd.DataFrame:
    """The counties table with `attrition` = departures over the horizon, at most `occupied`.

    Every county of the table needs people in the roster and every roster county a row in
    the table (else InputErrors). A county whose departures exceed its teachers in post (the
    roster counts more people than `occupied`) is capped at `occupied`, stated in the notes.
    """
    from optimizer.io import COUNTY_ID

    if departures.key != "county_id":
        raise InputErrors(
            [InputError(roster_file, "has no county_id [区划代码]: cannot update counties", row=1)]
        )
    totals = horizon_attrition(departures)
    listed = set(counties["county_id"].tolist())
    missing = counties[~counties["county_id"].isin(totals.index)]
    problems = [
        InputError(
            counties_file,
            f"county '{cid}' has nobody in {roster_file}",
            int(str(row)),
            COUNTY_ID.label,
        )
        for row, cid in missing["county_id"].items()
    ]
    problems += [
        InputError(roster_file, f"county '{cid}' is not in {counties_file}", column=COUNTY_ID.label)
        for cid in sorted(set(totals.index) - listed)
    ]
    if problems:
        raise InputErrors(problems)
    out = counties.copy()
    attrition = out["county_id"].map(totals).astype("int64")
    capped = attrition > out["occupied"]
    departures.notes += [
        f"county '{cid}': departures over the horizon exceed the teachers in post "
        f"({counties_file}); attrition capped at occupied"
        for cid in out.loc[capped, "county_id"]
    ]
    out["attrition"] = attrition.where(~capped, out["occupied"]).astype("int64")
    return out
