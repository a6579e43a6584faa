"""Departures from a roster (SPEC 2.10): the 2025 retirement schedule, counts per year, bad rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.departures import (
    DepartureSettings,
    Roster,
    parse_dates,
    project_departures,
    read_roster,
    retirement_age,
    retirement_dates,
)
from pools.tabular import InputErrors


def test_a_man_born_march_1965_retires_at_60_and_1_month() -> None:
    """Men: 60, raised from 1965-01 births by one month per 4 birth months. March 1965 is 2
    months after January 1965, so 1 + ⌊2 / 4⌋ = 1 month: 60 years 1 month, in April 2025."""
    assert retirement_age(dt.date(1965, 3, 10), "male") == (60, 1)
    assert retirement_on(dt.date(1965, 3, 10), "male") == dt.date(2025, 4, 10)


def test_a_woman_cadre_born_may_1972_retires_at_55_and_8_months() -> None:
    """Women in cadre posts: 55, raised from 1970-01 births by one month per 4 birth months.
    May 1972 is 28 months after January 1970: 1 + ⌊28 / 4⌋ = 8 months, so 55 years 8 months,
    reached in January 2028 (May 2027 + 8 months)."""
    assert retirement_age(dt.date(1972, 5, 20), "female", "cadre") == (55, 8)
    assert retirement_on(dt.date(1972, 5, 20), "female", "cadre") == dt.date(2028, 1, 20)


def test_a_woman_worker_born_january_1977_retires_at_51_and_1_month() -> None:
    """Women in worker posts: 50, raised from 1975-01 births by one month per 2 birth months.
    January 1977 is 24 months after January 1975: 1 + ⌊24 / 2⌋ = 13 months, so 50 years 13
    months = 51 years 1 month, reached in February 2028."""
    assert retirement_age(dt.date(1977, 1, 5), "female", "worker") == (51, 1)
    assert retirement_on(dt.date(1977, 1, 5), "female", "worker") == dt.date(2028, 2, 5)


@pytest.mark.parametrize(
    ("born", "sex", "category", "age"),
    [
        ((1964, 12), "male", None, (60, 0)),  # before the reform's first month
        ((1965, 1), "male", None, (60, 1)),  # the decision's own example
        ((1965, 5), "male", None, (60, 2)),  # the next 4-month step
        ((1976, 8), "male", None, (62, 11)),
        ((1976, 9), "male", None, (63, 0)),  # the cap, reached from September 1976
        ((1990, 1), "male", None, (63, 0)),
        ((1969, 12), "female", "cadre", (55, 0)),
        ((1970, 1), "female", "cadre", (55, 1)),
        ((1981, 9), "female", "cadre", (58, 0)),
        ((1974, 12), "female", "worker", (50, 0)),
        ((1975, 1), "female", "worker", (50, 1)),
        ((1975, 3), "female", "worker", (50, 2)),  # one month per 2 birth months
        ((1984, 10), "female", "worker", (54, 11)),
        ((1984, 11), "female", "worker", (55, 0)),  # the cap
    ],
)
def test_the_schedule_at_its_steps_and_caps(
    born: tuple[int, int], sex: str, category: str | None, age: tuple[int, int]
) -> None:
    assert retirement_age(dt.date(*born, 1), sex, category) == age


def retirement_on(born: dt.date, sex: str, category: str | None = None) -> dt.date:
    dates = retirement_dates(
        np.array([born], dtype="datetime64[D]"), np.array([sex]), np.array([category])
    )
    return dates[0].astype(dt.date)


def add_months_by_hand(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day: Python dates, one at a time."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


@settings(max_examples=200)
@given(
    born=st.dates(dt.date(1955, 1, 1), dt.date(2000, 12, 31)),
    sex=st.sampled_from(["male", "female"]),
    category=st.sampled_from(["cadre", "worker"]),
)
def test_vectorised_dates_match_the_schedule_person_by_person(
    born: dt.date, sex: str, category: str
) -> None:
    years, months = retirement_age(born, sex, category)
    assert retirement_on(born, sex, category) == add_months_by_hand(born, years * 12 + months)


def test_dates_in_the_spellings_of_rosters() -> None:
    good = ["1975-03-12", "1975/3/12", "19750312", "1975年3月12日", "1975.03", "197503"]
    cells = pd.Series([*good, "1975-02-30", "x", "1975-03-12 00:00:00"])
    dates, ok = parse_dates(cells)
    assert ok.tolist() == [True] * 6 + [False, False, True]
    shown = [str(d) for d in dates[ok]]
    assert shown == ["1975-03-12"] * 4 + ["1975-03-01"] * 2 + ["1975-03-12"]


def roster(rows: list[tuple[str, str, str, str | None]]) -> Roster:
    """(county, date of birth, sex, category) per person."""
    return Roster(
        key="county_id",
        ids=np.array([r[0] for r in rows], dtype=object),
        birth=np.array([r[1] for r in rows], dtype="datetime64[D]"),
        sex=np.array([r[2] for r in rows], dtype=object),
        category=np.array([r[3] for r in rows], dtype=object),
    )


def test_retirements_fall_in_the_year_they_are_reached() -> None:
    """From 2027-01-01 for 3 years. A man born 1966-06-15: 60 + 1 + ⌊17/4⌋ = 60y5m, retires
    2026-11-15, already past: counted in 2027 (and noted). A woman cadre born 1972-05-20
    retires 2028-01-20 (2028). A woman worker born 1977-01-05 retires 2028-02-05 (2028). A
    man born 1990 stays. A man born 1967-03-01: 60 + 1 + ⌊26/4⌋ = 60y7m, 2027-10-01 (2027)."""
    people = roster(
        [
            ("A", "1966-06-15", "male", None),
            ("A", "1972-05-20", "female", "cadre"),
            ("B", "1977-01-05", "female", "worker"),
            ("B", "1990-01-01", "male", "cadre"),
            ("B", "1967-03-01", "male", "worker"),
        ]
    )
    result = project_departures(people, DepartureSettings(dt.date(2027, 1, 1), 3, other_rate=0))
    table = result.table.set_index(["county_id", "year"])
    assert table["retirements"].to_dict() == {
        ("A", 2027): 1,
        ("A", 2028): 1,
        ("A", 2029): 0,
        ("B", 2027): 1,
        ("B", 2028): 1,
        ("B", 2029): 0,
    }
    assert table.loc[("B", 2029), "in_post"] == 1
    assert "1 people were already past their statutory age" in result.notes[0]


def test_other_departures_at_a_rate_add_up_to_the_rounded_total() -> None:
    """1,000 young teachers, nobody retires, 10 % leave a year: 100, 90, 81, 72.9 → the running
    totals 100, 190, 271, 343.9 round to 100, 190, 271, 344: yearly 100, 90, 81, 73."""
    people = roster([("A", "1995-01-01", "female", "cadre")] * 1000)
    result = project_departures(people, DepartureSettings(dt.date(2027, 1, 1), 4, 0.1))
    assert result.table["other_departures"].tolist() == [100, 90, 81, 73]
    assert result.table["attrition"].tolist() == [100, 90, 81, 73]
    assert result.table["in_post"].tolist() == [1000, 900, 810, 729]


def test_a_roster_with_bad_rows_is_refused_naming_each(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        "人员编号,区划代码,出生日期,性别,类别\n"
        "1,A,1975-03-12,女,干部\n"
        "2,A,1975-13-01,男,\n"
        "3,A,1980-01-01,女,\n"
        "1,B,1980-01-01,男,工人\n"
        "5,B,1980-01-01,x,工人\n",
        encoding="utf-8",
    )
    with pytest.raises(InputErrors) as caught:
        read_roster(path)
    assert [str(e) for e in caught.value.errors] == [
        "roster.csv, row 6, column 'sex [性别]': 'x' is not one of f, female, m, male, 女, 男",
        "roster.csv, row 5, column 'person_id [人员编号]': duplicate person_id '1' "
        "(first seen in row 2)",
    ]
    path.write_text(path.read_text(encoding="utf-8").replace(",x,", ",男,").replace("1,B", "4,B"))
    with pytest.raises(InputErrors) as caught:
        read_roster(path)
    messages = [str(e) for e in caught.value.errors]
    where = "roster.csv, row 3, column 'date_of_birth [出生日期]'"
    assert messages[0].startswith(f"{where}: '1975-13-01' is not a date")
    assert messages[1].startswith("roster.csv, row 4, column 'category [类别]': is empty, but a")
    assert len(messages) == 2
