"""Teacher need per county from enrolment and staffing standards, kept exact.

Need of a county = Σ over school levels of students / students-per-staff (SPEC 2.5). A
standard such as 13.5 is the fraction p/q = 27/2, so students / standard = students·q/p.
With D = lcm of the numerators p of every standard in use, the scaled need N = need·D is a
whole number. Every later comparison (shortfalls, relative shortfalls, fractional parts) is
done on N and D, so the optimiser never depends on floating-point rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas loads where tables are read: a sweep's workers never need it
    import pandas as pd

LEVELS = ("primary", "junior", "senior")
LEVEL_LABELS_ZH = {"primary": "小学", "junior": "初中", "senior": "高中"}
CLASSES = ("urban", "town", "rural")
CLASS_LABELS_ZH = {"urban": "城市", "town": "县镇", "rural": "农村"}

# The 2014 unified urban-rural standard: students per teaching staff.
STANDARDS_2014: dict[str, float] = {"primary": 19, "junior": 13.5, "senior": 12.5}
# The 2001 standard differs by county class.
STANDARDS_2001: dict[str, dict[str, float]] = {
    "urban": {"primary": 19, "junior": 13.5, "senior": 12.5},
    "town": {"primary": 21, "junior": 16, "senior": 13},
    "rural": {"primary": 23, "junior": 18, "senior": 13.5},
}

# Staff per class (班师比) for the class-based minimum of SPEC 2.10, used where the enrolment
# file gives `classes`. Provinces set their own; these bundled figures are illustrative.
STAFF_PER_CLASS: dict[str, float] = {"primary": 1.9, "junior": 3.4, "senior": 3.7}

# Largest value that numpy int64 arithmetic may reach here without any risk of overflow.
INT64_SAFE = 2**62


@dataclass(frozen=True)
class Standards:
    """Students per staff, per level; optionally per county class (the 2001 table)."""

    per_level: Mapping[str, float] = field(default_factory=lambda: dict(STANDARDS_2014))
    by_class: Mapping[str, Mapping[str, float]] | None = None
    # Staff per class per level: a level's need is at least classes × this (SPEC 2.10).
    staff_per_class: Mapping[str, float] = field(default_factory=lambda: dict(STAFF_PER_CLASS))

    @classmethod
    def of_2001(cls) -> Standards:
        return cls(per_level=dict(STANDARDS_2014), by_class=STANDARDS_2001)

    def for_class(self, county_class: str | None) -> Mapping[str, float]:
        """The per-level standards that apply to a county of this class (None = no class)."""
        if self.by_class is not None and county_class is not None and county_class in self.by_class:
            return {**self.per_level, **self.by_class[county_class]}
        return self.per_level


def as_fraction(standard: float | int | str | Fraction) -> Fraction:
    """A standard as the exact decimal the planner typed (13.5 -> 27/2, not a binary float)."""
    value = Fraction(str(standard)) if not isinstance(standard, Fraction) else standard
    if value <= 0:
        raise ValueError(f"a staffing standard must be positive, got {standard}")
    return value


@dataclass(frozen=True)
class ExactNeed:
    """Need per county as whole numbers scaled by `scale`: need_i = scaled[i] / scale."""

    county_ids: tuple[str, ...]
    scaled: np.ndarray  # int64, or object (Python ints) when int64 could overflow
    scale: int
    # Counties where, at some level, classes × staff-per-class is above students / ratio:
    # the class-based minimum set (part of) their need.
    by_classes: np.ndarray | None = None

    @property
    def need(self) -> np.ndarray:
        """Need as floats, for display only."""
        if self.scaled.dtype != object:
            return self.scaled.astype(float) / self.scale
        return np.asarray([int(v) / self.scale for v in self.scaled], dtype=float)

    def exact(self, position: int) -> Fraction:
        return Fraction(int(self.scaled[position]), self.scale)


def _county_classes(counties: pd.DataFrame) -> list[str | None]:
    import pandas as pd

    if "class" not in counties.columns:
        return [None] * len(counties)
    return [None if pd.isna(value) else str(value) for value in counties["class"].tolist()]


def county_level_sums(
    enrolment: pd.DataFrame, county_ids: list[str], column: str, year: int | None
) -> np.ndarray:
    """Σ `column` as an int array [county, level] in the order of `county_ids` (missing = 0)."""
    return _level_sums_by_year(enrolment, county_ids, column, [year])[0]


def students_by_county_level(
    enrolment: pd.DataFrame, county_ids: list[str], year: int | None = None
) -> np.ndarray:
    """Students as an int array [county, level] in the order of `county_ids` (missing = 0)."""
    return county_level_sums(enrolment, county_ids, "students", year)


def has_classes(enrolment: pd.DataFrame) -> bool:
    return "classes" in enrolment.columns and bool(enrolment["classes"].notna().any())


@dataclass(frozen=True)
class NeedWeights:
    """Whole-number weights of the exact need: per level, scaled need = max(students ×
    per_student, classes × per_class), summed over levels; need = scaled need / scale."""

    per_student: np.ndarray  # [counties, levels] Python ints (object)
    per_class: np.ndarray  # [levels] Python ints (object)
    scale: int

    def scaled(
        self, students: np.ndarray, classes: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Scaled need per county for students [..., counties, levels] (several draws at
        once if there are leading axes), and where the class minimum set it."""
        bound = int(np.max(students, initial=0)) * int(max(self.per_student.sum(axis=1), default=0))
        if classes is not None:
            bound = max(bound, int(np.max(classes, initial=0)) * int(self.per_class.sum()))
        dtype: type = np.int64 if bound < INT64_SAFE else object
        by_ratio: np.ndarray = students.astype(dtype) * self.per_student.astype(dtype)
        by_classes = None
        if classes is not None:
            by_rooms: np.ndarray = classes.astype(dtype) * self.per_class.astype(dtype)
            by_classes = np.asarray((by_rooms > by_ratio).any(axis=-1), dtype=bool)
            by_ratio = np.maximum(by_ratio, by_rooms)
        return np.asarray(by_ratio.sum(axis=-1), dtype=dtype), by_classes


def need_weights(
    counties: pd.DataFrame, standards: Standards | None = None, with_classes: bool = False
) -> NeedWeights:
    """The weights for these counties' classes and standards.

    With p/q the students per staff and a/b the staff per class, both need terms times
    D = lcm(every p, and every b when classes are given) are whole numbers: students·q·(D/p)
    and classes·a·(D/b).
    """
    standards = standards or Standards()
    county_classes = _county_classes(counties)
    # Each distinct class (None included) has one vector of per-level standards.
    per_class = {cls: standards.for_class(cls) for cls in set(county_classes)}
    fractions = {
        cls: [as_fraction(table[level]) for level in LEVELS] for cls, table in per_class.items()
    }
    per_room = [as_fraction(standards.staff_per_class[level]) for level in LEVELS]
    room_denominators = [f.denominator for f in per_room] if with_classes else []
    scale = math.lcm(
        1, *(f.numerator for values in fractions.values() for f in values), *room_denominators
    )
    weights = {
        cls: [f.denominator * (scale // f.numerator) for f in values]
        for cls, values in fractions.items()
    }
    rows = np.array([weights[c] for c in county_classes], dtype=object).reshape(-1, len(LEVELS))
    rooms = np.array([f.numerator * (scale // f.denominator) for f in per_room], dtype=object)
    return NeedWeights(rows, rooms, scale)


def _level_sums_by_year(
    enrolment: pd.DataFrame, county_ids: list[str], column: str, years: Sequence[int | None]
) -> np.ndarray:
    """Σ `column` as [year, county, level] in one pass over the rows (None = every row)."""
    import pandas as pd

    rows = pd.Index(county_ids).get_indexer(pd.Index(enrolment["county_id"].astype(str)))
    columns = pd.Index(LEVELS).get_indexer(pd.Index(enrolment["level"].astype(str)))
    if (columns < 0).any():
        unknown_levels = sorted(set(enrolment["level"].astype(str)) - set(LEVELS))
        raise ValueError(f"unknown school level(s) in enrolment: {unknown_levels}")
    if (rows < 0).any():
        unknown = sorted(set(enrolment["county_id"].astype(str)) - set(county_ids))
        raise ValueError(f"enrolment names counties that are not in counties: {unknown}")
    values = pd.to_numeric(enrolment[column]).fillna(0).to_numpy(dtype=np.int64)
    if list(years) == [None]:
        spot = np.zeros(len(enrolment), dtype=np.int64)
    else:
        spot = pd.Index(list(years)).get_indexer(pd.Index(enrolment["year"].astype("Int64")))
        keep = spot >= 0  # rows of other years are not planned
        spot, rows, columns, values = spot[keep], rows[keep], columns[keep], values[keep]
    sums = np.zeros((len(years), len(county_ids), len(LEVELS)), dtype=np.int64)
    np.add.at(sums, (spot, rows, columns), values)
    return sums


def needs_by_year(
    counties: pd.DataFrame,
    enrolment: pd.DataFrame,
    standards: Standards | None = None,
    years: Sequence[int | None] = (None,),
) -> list[ExactNeed]:
    """Exact need per county for each year (None = all rows), reading the rows once.

    A level's need is students / students-per-staff, or, where the enrolment gives
    `classes`, max(that, classes × staff-per-class) (SPEC 2.10); see `NeedWeights`.
    """
    county_ids = [str(c) for c in counties["county_id"].tolist()]
    with_classes = has_classes(enrolment)
    weights = need_weights(counties, standards, with_classes)
    students = _level_sums_by_year(enrolment, county_ids, "students", years)
    classes = _level_sums_by_year(enrolment, county_ids, "classes", years) if with_classes else None
    needs = []
    for index in range(len(years)):
        scaled, by_classes = weights.scaled(
            students[index], None if classes is None else classes[index]
        )
        needs.append(ExactNeed(tuple(county_ids), scaled, weights.scale, by_classes))
    return needs


def compute_need(
    counties: pd.DataFrame,
    enrolment: pd.DataFrame,
    standards: Standards | None = None,
    year: int | None = None,
) -> ExactNeed:
    """Exact need per county (in the order of `counties`) for one year (None = all rows)."""
    return needs_by_year(counties, enrolment, standards, [year])[0]
