"""Synthetic, seeded enrolment histories, births and teacher rosters (all invented).

    python bench/gen_history.py            # rewrite the bundled sample in data/teachers/

The bundled files (the ten divisions of 示例市, see data/README.md):

- `enrolment_history.csv`: pupils by division, grade 1–12 and year, 2020–2026 (Chinese
  headers 区划代码, 年级, 年度, 在校生数);
- `births.csv`: births by division and year, 2014–2026 (区划代码, 年度, 出生人数);
- `roster.csv`: one row per teacher in post (人员编号, 区划代码, 出生日期, 性别, 类别), as many as
  `occupied` in counties.csv, ages 22–62 with an older staff in the rural divisions;
- `departures_history.csv`: other departures (not retirements) per division, 2022–2026.

How the history is made, per county: births rise 1.5 % a year to a 2016 peak, then fall
7 % a year to 2023 and 3 % a year after (a falling birth cohort), with county-specific
slopes and 3 % noise. Grade 1 = births six years earlier × an entry ratio (0.92–1.12:
migration), grade g+1 next year = grade g × a progression ratio (about 0.995 in primary,
0.98 into junior, 0.62 into senior high, 0.985 within it). Every ratio has a county offset, a
slow random-walk drift (sd 0.004 a year) and yearly noise (sd 0.012), so that no method
sees the truth; 12 years of burn-in before the first recorded year.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from optimizer.departures import retirement_dates  # noqa: E402

SAMPLE = ROOT / "data" / "teachers"
GRADES = 12
LAG = 6
BURN_IN = 12
# progression ratio of grade g -> g+1, g = 1..11
PROGRESSION = np.array([0.995] * 5 + [0.98, 0.99, 0.99, 0.62, 0.985, 0.985])

# The ten divisions of data/teachers/counties.csv: id, name, class, 2027 primary pupils.
SAMPLE_COUNTIES = [
    ("339902", "urban", 58_400),
    ("339903", "urban", 47_300),
    ("339904", "urban", 36_800),
    ("339981", "town", 41_500),
    ("339982", "town", 33_200),
    ("339921", "town", 27_900),
    ("339922", "rural", 22_600),
    ("339923", "rural", 19_400),
    ("339924", "rural", 16_800),
    ("339925", "rural", 15_300),
]


@dataclass(frozen=True)
class Synthetic:
    history: pd.DataFrame  # county_id, grade, year, students
    births: pd.DataFrame  # county_id, year, births


def birth_trend(years: np.ndarray, fall: np.ndarray) -> np.ndarray:
    """[county, year] relative births: +1.5 %/year to 2016, then −fall to 2023, −3 % after."""
    y = years[None, :].astype(float)
    rise = 1.015 ** np.minimum(y - 2016, 0)
    down = (1 - fall[:, None]) ** np.clip(y - 2016, 0, 7)
    after = 0.97 ** np.maximum(y - 2023, 0)
    return rise * down * after


def synthetic(
    ids: list[str],
    scale: np.ndarray,
    first_year: int,
    last_year: int,
    seed: int,
    kinds: list[str] | None = None,
) -> Synthetic:
    """History of grades 1–12 for first_year..last_year and births first_year − 6..last_year."""
    rng = np.random.default_rng(seed)
    n = len(ids)
    kinds = kinds or [("urban", "town", "rural")[i % 3] for i in range(n)]
    migration = np.array([{"urban": 0.05, "town": 0.0, "rural": -0.05}[k] for k in kinds])
    start = first_year - BURN_IN
    birth_years = np.arange(start - LAG - GRADES, last_year + 1)
    fall = np.clip(0.07 - migration * 0.4 + rng.normal(0, 0.01, n), 0.02, 0.12)
    births = scale[:, None] * birth_trend(birth_years, fall)
    births *= 1 + rng.normal(0, 0.03, births.shape)
    births = np.rint(births)

    entry_mean = np.clip(1.02 + migration + rng.normal(0, 0.03, n), 0.9, 1.15)
    offset = rng.normal(0, 0.01, (n, GRADES - 1)) + migration[:, None] * 0.1
    drift_entry = np.zeros(n)
    drift = np.zeros((n, GRADES - 1))

    def births_in(year: int) -> np.ndarray:
        return births[:, year - birth_years[0]]

    # Initial state at `start`: each cohort from its births and the mean ratios.
    state = np.empty((n, GRADES))
    for g in range(GRADES):
        cohort = births_in(start - LAG - g) * entry_mean
        state[:, g] = cohort * np.prod(PROGRESSION[:g]) * np.prod(1 + offset[:, :g], axis=1)
    rows = []
    for year in range(start + 1, last_year + 1):
        drift_entry += rng.normal(0, 0.004, n)
        drift += rng.normal(0, 0.004, drift.shape)
        entry = entry_mean + drift_entry + rng.normal(0, 0.012, n)
        ratios = PROGRESSION[None] * (1 + offset) + drift + rng.normal(0, 0.012, drift.shape)
        new = np.empty_like(state)
        new[:, 0] = births_in(year - LAG) * entry
        new[:, 1:] = state[:, :-1] * np.maximum(ratios, 0)
        state = np.rint(np.maximum(new, 0))
        if year >= first_year:
            rows.append(state.copy())
    students = np.stack(rows, axis=2)  # [county, grade, year]
    years = np.arange(first_year, last_year + 1)
    history = pd.DataFrame(
        {
            "county_id": np.repeat(np.asarray(ids, dtype=object), GRADES * len(years)),
            "grade": np.tile(np.repeat(np.arange(1, GRADES + 1), len(years)), n),
            "year": np.tile(years, n * GRADES),
            "students": students.reshape(-1).astype(np.int64),
        }
    )
    keep = birth_years >= first_year - LAG
    birth_frame = pd.DataFrame(
        {
            "county_id": np.repeat(np.asarray(ids, dtype=object), keep.sum()),
            "year": np.tile(birth_years[keep], n),
            "births": births[:, keep].reshape(-1).astype(np.int64),
        }
    )
    return Synthetic(history, birth_frame)


def synthetic_roster(
    ids: list[str], sizes: np.ndarray, kinds: list[str], on: dt.date, seed: int
) -> pd.DataFrame:
    """Teachers in post on `on`: person_id, county_id, date_of_birth, sex, category."""
    rng = np.random.default_rng(seed)
    county = np.repeat(np.asarray(ids, dtype=object), sizes)
    kind = np.repeat(np.asarray(kinds, dtype=object), sizes)
    total = int(sizes.sum())
    rural = kind == "rural"
    female = rng.random(total) < np.where(kind == "urban", 0.75, np.where(rural, 0.55, 0.65))
    # Ages: a broad spread up to the statutory age plus an older bulge in the rural divisions.
    oldest = np.where(female, 55.0, 60.0)
    age = np.where(
        rng.random(total) < np.where(rural, 0.2, 0.08),
        rng.normal(oldest - 7, 4, total),
        rng.uniform(23, oldest, total),
    )
    age = np.clip(age, 22, 62.5)
    worker = rng.random(total) < 0.04
    worker &= ~(female & (age >= 50))  # women workers over 50 have mostly retired
    born = np.datetime64(on) - np.rint(age * 365.25).astype("timedelta64[D]")
    # Nobody is in post past the statutory age: those who would be are made younger.
    category = np.where(worker, "worker", "cadre")
    sex = np.where(female, "female", "male")
    retires = retirement_dates(born, sex, category)
    past = retires <= np.datetime64(on)
    younger = (np.datetime64(on) - retires) + rng.integers(30, 1500, total).astype("timedelta64[D]")
    born = np.where(past, born + younger, born)
    return pd.DataFrame(
        {
            "人员编号": [f"T{i:06d}" for i in range(1, total + 1)],
            "区划代码": county,
            "出生日期": np.datetime_as_string(born, unit="D"),
            "性别": np.where(female, "女", "男"),
            "类别": np.where(worker, "工人", "干部"),
        }
    )


def sample_departures_history(
    ids: list[str], sizes: np.ndarray, kinds: list[str], seed: int
) -> pd.DataFrame:
    """Other departures 2022–2026: about 1 % a year, more in the rural divisions."""
    rng = np.random.default_rng(seed)
    rows = []
    for county, size, kind in zip(ids, sizes, kinds, strict=True):
        rate = {"urban": 0.008, "town": 0.01, "rural": 0.014}[kind]
        for year in range(2022, 2027):
            rows.append((county, year, int(rng.poisson(rate * size)), int(size)))
    return pd.DataFrame(rows, columns=["区划代码", "年度", "其他减员", "在编人数"])


def write_sample(folder: Path = SAMPLE) -> None:
    ids = [county for county, _, _ in SAMPLE_COUNTIES]
    kinds = [kind for _, kind, _ in SAMPLE_COUNTIES]
    scale = np.array([primary / 6 * 1.15 for _, _, primary in SAMPLE_COUNTIES])
    data = synthetic(ids, scale, 2020, 2026, seed=20261, kinds=kinds)
    history = data.history.rename(
        columns={"county_id": "区划代码", "grade": "年级", "year": "年度", "students": "在校生数"}
    )
    history.to_csv(folder / "enrolment_history.csv", index=False, encoding="utf-8-sig")
    births = data.births.rename(
        columns={"county_id": "区划代码", "year": "年度", "births": "出生人数"}
    )
    births.to_csv(folder / "births.csv", index=False, encoding="utf-8-sig")
    counties = pd.read_csv(folder / "counties.csv", dtype={"区划代码": str}, encoding="utf-8-sig")
    sizes = counties.set_index("区划代码").loc[ids, "在编人数"].to_numpy()
    roster = synthetic_roster(ids, sizes, kinds, dt.date(2027, 1, 1), seed=20262)
    roster.to_csv(folder / "roster.csv", index=False, encoding="utf-8-sig")
    departures = sample_departures_history(ids, sizes, kinds, seed=20263)
    departures.to_csv(folder / "departures_history.csv", index=False, encoding="utf-8-sig")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLE, help="folder (default: the sample)")
    write_sample(parser.parse_args().out)


if __name__ == "__main__":
    main()
