"""Projected enrolment (SPEC 2.10): exact cohorts, entry from births, levels, bands, bad history."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.io import read_enrolment
from optimizer.projection import ProjectionSettings, project_enrolment
from pools.tabular import InputErrors

HISTORY_YEARS = range(2020, 2024)


def entries(year: int) -> int:
    """Pupils entering grade 1 in `year`: halving each year from 64,000 in 2020.

    Cohorts that entered before 2020 are only seen in higher grades; they are any even
    numbers (2,000 + 10 × the year's last two digits), so that halving them stays whole.
    """
    if year >= 2020:
        return 64_000 // 2 ** (year - 2020)
    return 2_000 + 10 * (year % 100)


def cohort_history(entry: dict[int, int] | None = None) -> pd.DataFrame:
    """Grades 1–12 of county A, 2020–2023: every ratio 1 except grade 9 → 10, which is 0.5.

    Grade g in year t holds the cohort that entered in t − g + 1, halved from grade 10 on.
    """
    entry_of = entry or {}
    rows = []
    for year in HISTORY_YEARS:
        for grade in range(1, 13):
            entered = year - grade + 1
            pupils = entry_of.get(entered, entries(entered))
            rows.append(("A", grade, year, pupils // 2 if grade >= 10 else pupils))
    return pd.DataFrame(rows, columns=["county_id", "grade", "year", "students"])


def write(frame: pd.DataFrame, path: Path, headers: dict[str, str] | None = None) -> Path:
    frame.rename(columns=headers or {}).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def grade_figures(result: pd.DataFrame, county: str = "A") -> dict[tuple[int, int], int]:
    rows = result[result["county_id"] == county]
    return {
        (int(g), int(y)): int(s)
        for g, y, s in zip(rows["grade"], rows["year"], rows["students"], strict=True)
    }


def test_constant_ratios_reproduce_the_exact_cohorts(tmp_path: Path) -> None:
    """With every ratio constant in the history, the projection is the cohorts themselves.

    Grade 1 halves every year (64,000 in 2020 … 8,000 in 2023), so its growth ratio is 0.5
    and 2024–2029 enter 4,000, 2,000, 1,000, 500, 250, 125. Grade g in year T is then the
    cohort that entered in T − g + 1, halved from grade 10 on (the 9 → 10 ratio 0.5).
    """
    history = write(cohort_history(), tmp_path / "history.csv")
    result = project_enrolment(history, None, ProjectionSettings(years=6))
    expected = {
        (grade, year): entries(year - grade + 1) // (2 if grade >= 10 else 1)
        for grade in range(1, 13)
        for year in range(2024, 2030)
    }
    assert grade_figures(result.grades) == expected
    assert not any("no usable ratio" in note for note in result.notes)


def test_a_cohort_entering_grade_1_reaches_grade_7_six_years_later(tmp_path: Path) -> None:
    """8,000 pupils enter grade 1 in 2023; every ratio is 1 through grade 7, so 2029's grade 7
    holds exactly those 8,000, and grade 2 in 2024 and grade 4 in 2026 hold them as well."""
    history = write(cohort_history(), tmp_path / "history.csv")
    figures = grade_figures(project_enrolment(history, None, ProjectionSettings(years=6)).grades)
    assert figures[(7, 2029)] == figures[(4, 2026)] == figures[(2, 2024)] == 8_000


def test_grade_1_from_births_six_years_earlier(tmp_path: Path) -> None:
    """Births 2014–2017 of 80,000 / 40,000 / 20,000 / 10,000 became grade 1 in 2020–2023 at an
    entry ratio of exactly 0.8 (64,000 … 8,000). Births of 2018–2023 then give grade 1 in
    2024–2029: 0.8 × births, here 50,000 → 40,000, 45,000 → 36,000 and so on; a rise the
    grade-1 trend alone (halving) would never show.
    """
    births_by_year = {2014: 80_000, 2015: 40_000, 2016: 20_000, 2017: 10_000}
    births_by_year |= {2018: 50_000, 2019: 45_000, 2020: 40_000, 2021: 35_000}
    births_by_year |= {2022: 30_000, 2023: 25_000}
    births = pd.DataFrame(
        [("A", year, count) for year, count in births_by_year.items()],
        columns=["区划代码", "年度", "出生人数"],
    )
    history = write(cohort_history(), tmp_path / "history.csv")
    result = project_enrolment(
        history, write(births, tmp_path / "births.csv"), ProjectionSettings(years=6)
    )
    figures = grade_figures(result.grades)
    for year in range(2024, 2030):
        assert figures[(1, year)] == births_by_year[year - 6] * 8 // 10
    assert figures[(7, 2029)] == 8_000  # the cohorts already in school are unchanged


def test_births_beyond_the_horizon_fall_back_to_grade_1_growth(tmp_path: Path) -> None:
    """Births known to 2019 cover grade 1 of 2024–2025 only; 2026 follows the 0.5 growth."""
    births = pd.DataFrame(
        [("A", y, 10 * entries(y + 6) // 8) for y in range(2014, 2020)],
        columns=["county_id", "year", "births"],
    )
    history = write(cohort_history(), tmp_path / "history.csv")
    result = project_enrolment(
        history, write(births, tmp_path / "births.csv"), ProjectionSettings(years=3)
    )
    figures = grade_figures(result.grades)
    assert [figures[(1, y)] for y in (2024, 2025, 2026)] == [4_000, 2_000, 1_000]


def test_levels_are_written_in_the_enrolment_format_with_year(tmp_path: Path) -> None:
    history = write(cohort_history(), tmp_path / "history.csv")
    result = project_enrolment(history, None, ProjectionSettings(years=2))
    out = tmp_path / "projected.csv"
    result.enrolment.to_csv(out, index=False)
    enrolment, errors = read_enrolment(out)
    assert errors == []
    assert set(enrolment["level"]) == {"primary", "junior", "senior"}
    assert sorted(enrolment["year"].unique()) == [2024, 2025]


def test_a_history_without_spread_has_a_band_of_zero_width(tmp_path: Path) -> None:
    history = write(cohort_history(), tmp_path / "history.csv")
    result = project_enrolment(history, None, ProjectionSettings(years=3))
    table = result.enrolment
    assert (table["low"] == table["students"]).all()
    assert (table["high"] == table["students"]).all()


# --- bad history -----------------------------------------------------------------------------


def rejected(path: Path) -> list[str]:
    with pytest.raises(InputErrors) as caught:
        project_enrolment(path, None, ProjectionSettings())
    return [str(error) for error in caught.value.errors]


def test_a_missing_grade_names_the_county_year_and_grade_column(tmp_path: Path) -> None:
    history = cohort_history()
    history = history[~((history["grade"] == 5) & (history["year"] == 2022))]
    errors = rejected(write(history, tmp_path / "h.csv"))
    assert errors == [
        "h.csv, row 2, column 'grade [年级]': county 'A', year 2022: no row for grade 5 "
        "(every grade 1–12 is needed)"
    ]


def test_a_county_with_one_year_is_named(tmp_path: Path) -> None:
    only_2023 = cohort_history().query("year == 2023").assign(county_id="B")
    history = pd.concat([cohort_history(), only_2023], ignore_index=True)
    errors = rejected(write(history, tmp_path / "h.csv"))
    assert len(errors) == 1
    assert errors[0].startswith("h.csv, row 50, column 'year [年度]': county 'B' has only one year")


def test_a_file_with_one_year_cannot_be_projected(tmp_path: Path) -> None:
    errors = rejected(write(cohort_history().query("year == 2021"), tmp_path / "h.csv"))
    assert errors == [
        "h.csv, column 'year [年度]': has only one year (2021); cohort progression needs at "
        "least 2 consecutive years"
    ]


def test_cell_errors_duplicates_and_grades_outside_the_levels(tmp_path: Path) -> None:
    history = cohort_history()
    text = write(history, tmp_path / "h.csv", {"students": "在校生数"}).read_text("utf-8-sig")
    text += "A,13,2023,5\nA,1,2023,8000\nA,2,2023,-3\n"
    (tmp_path / "h.csv").write_text(text, encoding="utf-8")
    errors = rejected(tmp_path / "h.csv")
    assert errors[0] == "h.csv, row 52, column 'students [在校生数]': -3 is below the minimum 0"
    errors = rejected(write(pd.read_csv(tmp_path / "h.csv").iloc[:-1], tmp_path / "h.csv"))
    assert errors == [
        "h.csv, row 50, column 'grade [年级]': grade 13 is in no school level (levels: "
        "primary 1–6, junior 7–9, senior 10–12)",
        "h.csv, row 51, column 'year [年度]': duplicate row for county_id A, grade 1, year 2023 "
        "(first seen in row 38)",
    ]


def test_a_zero_cohort_falls_back_to_the_city_ratio_and_says_so(tmp_path: Path) -> None:
    """County B has no grade-11 pupils in any year (no senior school beyond grade 10): its
    ratio 11 → 12 cannot be estimated, so the city's (A's, 1.0) is used, and noted."""
    second = cohort_history().assign(county_id="B")
    second.loc[second["grade"] == 11, "students"] = 0
    history = write(pd.concat([cohort_history(), second]), tmp_path / "h.csv")
    result = project_enrolment(history, None, ProjectionSettings(years=2))
    assert any("county 'B' grade 11→12: no usable ratio" in note for note in result.notes)
    b = grade_figures(result.grades, "B")
    assert b[(12, 2024)] == 0  # its grade 11 of 2023 was empty
    assert b[(11, 2024)] == 0  # grade 10 → 11 was 0 in every year


# --- properties ------------------------------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> pd.DataFrame:
    counties = draw(st.integers(1, 3))
    years = draw(st.integers(2, 5))
    counts = draw(
        st.lists(
            st.integers(0, 5_000),
            min_size=counties * 12 * years,
            max_size=counties * 12 * years,
        )
    )
    return pd.DataFrame(
        {
            "county_id": np.repeat([f"C{i}" for i in range(counties)], 12 * years),
            "grade": np.tile(np.repeat(np.arange(1, 13), years), counties),
            "year": np.tile(np.arange(2018, 2018 + years), 12 * counties),
            "students": counts,
        }
    )


@settings(max_examples=40)
@given(
    history=histories(),
    years=st.integers(1, 7),
    window=st.integers(1, 4),
    with_births=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_projections_are_whole_non_negative_and_levels_sum_their_grades(
    tmp_path_factory: pytest.TempPathFactory,
    history: pd.DataFrame,
    years: int,
    window: int,
    with_births: bool,
    seed: int,
) -> None:
    folder = tmp_path_factory.mktemp("p")
    births = None
    if with_births:
        rng = np.random.default_rng(seed)
        counties = history["county_id"].unique()
        frame = pd.DataFrame(
            [(c, y, int(rng.integers(0, 6_000))) for c in counties for y in range(2010, 2022)],
            columns=["county_id", "year", "births"],
        )
        births = write(frame, folder / "births.csv")
    settings_ = ProjectionSettings(years=years, window=window, draws=20, seed=seed)
    result = project_enrolment(write(history, folder / "h.csv"), births, settings_)
    for table in (result.grades, result.enrolment):
        figures = table[["students", "low", "high"]]
        assert all(dtype.kind == "i" for dtype in figures.dtypes)
        assert (figures >= 0).all().all()
        assert (table["low"] <= table["students"]).all()
        assert (table["students"] <= table["high"]).all()
    levels = {"primary": range(1, 7), "junior": range(7, 10), "senior": range(10, 13)}
    grades = result.grades.set_index(["county_id", "grade", "year"])["students"]
    for row in result.enrolment.itertuples():
        total = sum(grades[(row.county_id, grade, row.year)] for grade in levels[row.level])
        assert row.students == total
    counties = history["county_id"].nunique()
    assert len(result.enrolment) == counties * 3 * years
