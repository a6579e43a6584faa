"""Need per county = Σ students / students-per-staff, exact (SPEC 2.5)."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optimizer.need import STANDARDS_2001, STANDARDS_2014, Standards, compute_need


def counties(*rows: tuple[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame({"county_id": [r[0] for r in rows], "class": [r[1] for r in rows]})


def enrolment(rows: list[tuple[str, str, int]], years: list[int] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["county_id", "level", "students"])
    frame["year"] = pd.array(years if years else [None] * len(rows), dtype="Int64")
    return frame


def test_2014_standard_is_19_13_5_12_5_students_per_staff():
    """1900/19 + 270/13.5 + 250/12.5 = 100 + 20 + 20 = 140 staff."""
    need = compute_need(
        counties(("A", None)),
        enrolment([("A", "primary", 1900), ("A", "junior", 270), ("A", "senior", 250)]),
    )
    assert need.exact(0) == 140
    assert STANDARDS_2014 == {"primary": 19, "junior": 13.5, "senior": 12.5}


def test_2001_standard_follows_the_county_class():
    """Same 2300 primary, 1800 junior, 1350 senior pupils in three classes of county:
    urban 2300/19 + 1800/13.5 + 1350/12.5 = 121 1/19 + 133 1/3 + 108;
    town 2300/21 + 1800/16 + 1350/13 = 109 11/21 + 112.5 + 103 11/13;
    rural 2300/23 + 1800/18 + 1350/13.5 = 100 + 100 + 100 = 300."""
    rows = [
        (cid, level, n)
        for cid in ("U", "T", "R")
        for level, n in (("primary", 2300), ("junior", 1800), ("senior", 1350))
    ]
    need = compute_need(
        counties(("U", "urban"), ("T", "town"), ("R", "rural")),
        enrolment(rows),
        Standards.of_2001(),
    )
    assert need.exact(0) == Fraction(2300, 19) + Fraction(1800 * 2, 27) + 108
    assert need.exact(1) == Fraction(2300, 21) + Fraction(225, 2) + Fraction(1350, 13)
    assert need.exact(2) == 300
    assert STANDARDS_2001["town"] == {"primary": 21, "junior": 16, "senior": 13}


def test_a_county_without_class_uses_the_per_level_standards_under_2001():
    need = compute_need(
        counties(("A", None)), enrolment([("A", "primary", 190)]), Standards.of_2001()
    )
    assert need.exact(0) == 10


def test_rows_are_summed_and_missing_levels_count_as_zero():
    """Two primary rows 95 + 95 = 190 pupils -> 10 staff; county B has no rows -> 0."""
    need = compute_need(
        counties(("A", None), ("B", None)), enrolment([("A", "primary", 95), ("A", "primary", 95)])
    )
    assert [need.exact(0), need.exact(1)] == [10, 0]


def test_one_year_is_selected_from_multi_year_enrolment():
    rows = [("A", "primary", 190), ("A", "primary", 380)]
    need = compute_need(counties(("A", None)), enrolment(rows, [2027, 2028]), year=2028)
    assert need.exact(0) == 20


def test_decimal_standards_are_taken_as_typed_not_as_binary_floats():
    """0.1 is not exact in binary; as the decimal 1/10, 3 pupils / 0.1 = 30 staff exactly."""
    standards = Standards(per_level={"primary": 0.1, "junior": 13.5, "senior": 12.5})
    need = compute_need(counties(("A", None)), enrolment([("A", "primary", 3)]), standards)
    assert need.exact(0) == 30


def test_unknown_county_in_enrolment_is_a_programming_error():
    with pytest.raises(ValueError, match="not in counties"):
        compute_need(counties(("A", None)), enrolment([("Z", "primary", 1)]))


@given(
    st.lists(
        st.tuples(st.sampled_from(["primary", "junior", "senior"]), st.integers(0, 10**6)),
        max_size=6,
    ),
    st.sampled_from([None, "urban", "town", "rural"]),
)
def test_scaled_need_equals_the_exact_rational_sum(rows, county_class):
    """need = Σ students / standard, as exact fractions, for any mix of levels and class."""
    frame = enrolment([("A", level, n) for level, n in rows])
    standards = Standards.of_2001()
    need = compute_need(counties(("A", county_class)), frame, standards)
    table = standards.for_class(county_class)
    expected = sum((Fraction(n) / Fraction(str(table[level])) for level, n in rows), Fraction(0))
    assert need.exact(0) == expected
    assert need.scaled[0] == expected * need.scale  # whole number, exact


def with_classes(rows: list[tuple[str, str, int, int | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["county_id", "level", "students", "classes"])
    frame["classes"] = pd.array(frame["classes"].tolist(), dtype="Int64")
    return frame


def test_class_minimum_raises_the_need_of_small_schools_only():
    """SPEC 2.10, staff per class 1.9 / 3.4 / 3.7 (the bundled defaults).
    A (teaching points): 120 primary pupils in 12 classes: 120/19 = 6 6/19 by the ratio,
    12 × 1.9 = 22.8 by classes, so 22.8; plus 135 junior pupils in 3 classes: 135/13.5 = 10
    against 3 × 3.4 = 10.2, so 10.2. Need 33. B: 1900 pupils in 40 classes: 100 against 76,
    so 100 (the ratio). C gives no classes: 100 by the ratio alone."""
    need = compute_need(
        counties(("A", None), ("B", None), ("C", None)),
        with_classes(
            [
                ("A", "primary", 120, 12),
                ("A", "junior", 135, 3),
                ("B", "primary", 1900, 40),
                ("C", "primary", 1900, None),
            ]
        ),
    )
    assert [need.exact(i) for i in range(3)] == [33, 100, 100]
    assert need.by_classes is not None and need.by_classes.tolist() == [True, False, False]


def test_class_minimum_staff_per_class_is_a_setting():
    """12 classes × 2.5 staff = 30 > 120/19."""
    standards = Standards(staff_per_class={"primary": 2.5, "junior": 3.4, "senior": 3.7})
    need = compute_need(counties(("A", None)), with_classes([("A", "primary", 120, 12)]), standards)
    assert need.exact(0) == 30


@given(
    students=st.integers(0, 5000),
    classes=st.integers(0, 200),
    per_class=st.sampled_from([1.7, 1.9, 2, 3.4, 3.75]),
)
def test_class_minimum_is_the_larger_of_both_exactly(students: int, classes: int, per_class):
    standards = Standards(staff_per_class={"primary": per_class, "junior": 1, "senior": 1})
    need = compute_need(
        counties(("A", None)), with_classes([("A", "primary", students, classes)]), standards
    )
    expected = max(Fraction(students, 19), classes * Fraction(str(per_class)))
    assert need.exact(0) == expected
