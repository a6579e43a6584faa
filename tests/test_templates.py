"""The input templates in data/templates read back through the same reader as planners' files
(issue 8.7): CSV with Chinese headers, .xlsx with a note row above the headers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from optimizer.io import read_counties, read_departures, read_enrolment
from pools.tabular import notes, read_table
from pools.units import UNITS_SCHEMA

TEMPLATES = Path(__file__).resolve().parents[1] / "data" / "templates"


def read(name: str, suffix: str) -> pd.DataFrame:
    path = TEMPLATES / f"{name}{suffix}"
    if name == "counties":
        frame, errors = read_counties(path)
    elif name.startswith("enrolment"):
        frame, errors = read_enrolment(path)
    elif name == "departures":
        counties, _ = read_counties(TEMPLATES / "counties.csv")
        frame, errors = read_departures(path, counties)
    else:
        frame, errors = read_table(path, UNITS_SCHEMA)
    assert errors == [], errors
    return frame


@pytest.mark.parametrize(
    ("name", "rows"),
    [("counties", 2), ("enrolment", 3), ("enrolment_wide", 6), ("units", 2), ("departures", 3)],
)
def test_every_template_reads_back_the_same_as_csv_and_xlsx(name: str, rows: int) -> None:
    from_csv = read(name, ".csv")
    from_xlsx = read(name, ".xlsx")
    assert len(from_csv) == rows
    assert notes(from_csv) == []  # headers on row 1
    assert [n.message for n in notes(from_xlsx)] == [
        "headers found on row 2 (rows above them skipped)"
    ]
    assert from_csv.index.min() == 2
    assert list(from_xlsx.index) == [i + 1 for i in from_csv.index]  # below the note row
    pd.testing.assert_frame_equal(from_xlsx.reset_index(drop=True), from_csv.reset_index(drop=True))


def test_the_wide_template_reads_as_the_long_one() -> None:
    wide = read("enrolment_wide", ".csv").reset_index(drop=True)
    assert wide[["county_id", "level", "students"]].values.tolist() == [
        ["339902", "primary", 58400],
        ["339902", "junior", 26900],
        ["339902", "senior", 21800],
        ["339923", "primary", 19400],
        ["339923", "junior", 9100],
        ["339923", "senior", 5100],
    ]
    assert wide["classes"].tolist()[0] == 1300
