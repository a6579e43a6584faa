"""The teacher-allocation input files: counties and enrolment (SPEC 3.1).

Each file is read and checked on its own by `pools.tabular` (encodings, .xlsx, Chinese or
English headers and values, titles above the headers, totals rows), then the two are checked
against each other. Every problem in both files is collected before anything is raised, so a
planner fixes them all in one pass. Enrolment comes long (a row per county and level) or wide
(a row per county, a column per level, as the app shows it); both read as the long table.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from pools.input_errors import close_matches
from pools.tabular import (
    FOUND,
    NOTES,
    Column,
    InputError,
    InputErrors,
    read_first_layout,
    read_table,
)

LEVEL_NAMES = {"primary": "小学", "junior": "初中", "senior": "高中"}
CLASS_NAMES = {"urban": "城市", "town": "县镇", "rural": "农村"}


def _both_spellings(names: dict[str, str]) -> dict[str, str]:
    """Accepted spelling -> canonical English value, for English and Chinese."""
    return {**{english: english for english in names}, **{zh: en for en, zh in names.items()}}


COUNTY_ID = Column("county_id", ("区划代码",), unique=True)
COUNTIES_SCHEMA: tuple[Column, ...] = (
    COUNTY_ID,
    Column("name", ("区划名称",)),
    Column("quota", ("教职工编制",), kind="int", minimum=0),
    Column("occupied", ("在编人数",), kind="int", minimum=0),
    Column("attrition", ("预计减员",), kind="int", required=False, default=0, minimum=0),
    Column("min_quota", ("最低编制",), kind="int", required=False, minimum=0),
    Column("max_gain", ("最多增编",), kind="int", required=False, minimum=0),
    Column(
        "class",
        ("城乡类别",),
        kind="choice",
        required=False,
        choices=_both_spellings(CLASS_NAMES),
    ),
    # A sweep's spread of this county's enrolment (SPEC 2.11), overriding [uncertainty].
    Column("relative_error", ("相对误差",), kind="number", required=False, minimum=0),
)

ENROLMENT_SCHEMA: tuple[Column, ...] = (
    Column("county_id", ("区划代码",)),  # not unique here: one row per county and level
    Column("level", ("学段",), kind="choice", choices=_both_spellings(LEVEL_NAMES)),
    Column("students", ("在校生数",), kind="int", minimum=0),
    Column("year", ("年度",), kind="int", required=False),
    # Classes per level: with them a level's need is at least classes × staff per class.
    Column("classes", ("班级数",), kind="int", required=False, minimum=0),
)

# The layout the app shows and planners keep: a row per county (and year), a column of students
# per level, and optionally a column of classes per level. Read, then melted into the above.
WIDE_ENROLMENT_SCHEMA: tuple[Column, ...] = (
    Column("county_id", ("区划代码",)),
    Column("year", ("年度",), kind="int", required=False),
    *(
        Column(
            level,
            (zh, f"{zh}在校生数", f"{zh}在校生", f"{zh}学生数", f"{level}_students"),
            kind="int",
            required=False,
            minimum=0,
            one_of="level",
        )
        for level, zh in LEVEL_NAMES.items()
    ),
    *(
        Column(
            f"{level}_classes", (f"{zh}班级数", f"{zh}班数"), kind="int", required=False, minimum=0
        )
        for level, zh in LEVEL_NAMES.items()
    ),
)

# Expected departures per county and year (what `quotapool project departures` writes):
# a multi-year plan then releases each year's own departures instead of an even share.
DEPARTURES_SCHEMA: tuple[Column, ...] = (
    Column("county_id", ("区划代码",)),
    Column("year", ("年度",), kind="int"),
    Column("attrition", ("预计减员",), kind="int", minimum=0),
)

_NULLABLE_INTS = {"counties": ("min_quota", "max_gain"), "enrolment": ("year", "classes")}


def _label(schema: tuple[Column, ...], name: str) -> str:
    return next(column.label for column in schema if column.name == name)


def read_counties(path: str | Path) -> tuple[pd.DataFrame, list[InputError]]:
    """The counties table and every problem found in it on its own."""
    frame, errors = read_table(path, COUNTIES_SCHEMA)
    file = Path(path).name
    if not errors and frame.empty:
        errors.append(InputError(file, "has no county rows"))
    if not frame.empty:
        errors.extend(_attrition_errors(frame, file))
    frame = _with_nullable_ints(frame, _NULLABLE_INTS["counties"])
    errors.extend(_relative_error_problems(frame, file))
    return _optional_number(frame, "relative_error"), errors


def _relative_error_problems(counties: pd.DataFrame, file: str) -> list[InputError]:
    values = pd.to_numeric(counties["relative_error"]) if "relative_error" in counties else None
    if values is None:
        return []
    return [
        InputError(
            file,
            f"must be a share in [0, 1], got {value}",
            row=int(str(row)),
            column=_label(COUNTIES_SCHEMA, "relative_error"),
        )
        for row, value in values[values > 1].items()
    ]


def _optional_number(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """An optional number column as floats, dropped when no row gives it: files without it
    read as they always did."""
    if name not in frame.columns:
        return frame
    values = pd.to_numeric(frame[name])
    return frame.drop(columns=name) if values.isna().all() else frame.assign(**{name: values})


def read_enrolment(path: str | Path) -> tuple[pd.DataFrame, list[InputError]]:
    """The enrolment table and every problem found in it on its own.

    A wide file (a column per level) is melted into the long table; a row of it becomes one
    row per level with a count, all keeping the spreadsheet's row number, and a problem names
    the level's own column.
    """
    layout, frame, errors = read_first_layout(path, (ENROLMENT_SCHEMA, WIDE_ENROLMENT_SCHEMA))
    file = Path(path).name
    if layout == 1:
        frame, wide_errors = _melted(frame, file)
        errors = [*errors, *wide_errors]
    if not errors and frame.empty:
        errors.append(InputError(file, "has no enrolment rows"))
    if not frame.empty:
        errors.extend(_mixed_year_errors(frame, file))
    frame = _with_nullable_ints(frame, _NULLABLE_INTS["enrolment"])
    if "classes" in frame.columns and frame["classes"].isna().all():
        # Only files that give classes carry the column: tables and editors stay as they were.
        frame = frame.drop(columns="classes")
    return frame, list(dict.fromkeys(errors))  # a wide row's levels share its row's problems


def _melted(wide: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[InputError]]:
    """The wide table as the long one: a row per county, level (and year) with a count.

    A blank count means the county has no such level (no row); classes without students are
    an error in the students' cell.
    """
    columns = [c.name for c in ENROLMENT_SCHEMA]
    found = set(wide.attrs.get(FOUND, []))
    parts = []
    errors: list[InputError] = []
    for order, level in enumerate(LEVEL_NAMES):
        if level not in found:
            continue
        students = wide[level]
        given = students.notna().to_numpy(dtype=bool)
        classes = wide[f"{level}_classes"] if f"{level}_classes" in found else None
        if classes is not None:
            orphans = classes.notna().to_numpy(dtype=bool) & ~given
            errors.extend(
                InputError(
                    file,
                    "is empty while the level's classes are given",
                    row=int(str(row)),
                    column=_label(WIDE_ENROLMENT_SCHEMA, level),
                )
                for row in wide.index[orphans]
            )
        part = pd.DataFrame(
            {
                "county_id": wide["county_id"][given],
                "level": level,
                "students": students[given],
                "year": wide["year"][given],
                "classes": classes[given] if classes is not None else pd.NA,
                "_order": order,
            }
        )
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=columns), errors
    long = pd.concat(parts).sort_values(["row", "_order"], kind="stable")[columns]
    if long["students"].notna().all():
        long["students"] = long["students"].astype("int64")
    long.attrs = {NOTES: list(wide.attrs.get(NOTES, []))}
    return long, errors


def read_departures(
    path: str | Path, counties: pd.DataFrame
) -> tuple[pd.DataFrame, list[InputError]]:
    """Departures per county and year, checked against the counties (one row per pair)."""
    frame, errors = read_table(path, DEPARTURES_SCHEMA)
    file = Path(path).name
    if errors or frame.empty:
        return frame, errors or [InputError(file, "has no departures rows")]
    known = set(counties["county_id"].tolist())
    label = _label(DEPARTURES_SCHEMA, "county_id")
    hint = county_hints(counties)
    for row, county_id in frame["county_id"].items():
        if county_id not in known:
            message = f"county '{county_id}' is not in counties{hint(county_id)}"
            errors.append(InputError(file, message, int(str(row)), label))
    repeated = frame.duplicated(["county_id", "year"], keep="first")
    for row in frame.index[repeated]:
        errors.append(
            InputError(file, "a second row for this county and year", int(str(row)), label)
        )
    return frame, errors


HINTED_IDS = 20  # suggestions for this many distinct unknown ids; a wrong file gets no more
LARGE = 5_000  # above this many counties, only ids and names sharing a beginning compete


def county_hints(counties: pd.DataFrame) -> Callable[[str], str]:
    """ "; did you mean '339901' (东湖区) or ...?" for an id that is not in the counties: the
    closest ids (a mistyped digit) and the counties whose name it resembles (a name typed in
    the id column), up to 3, or '' when nothing is close. The lookup is built at the first
    unknown id: files without one pay nothing."""
    name_of: dict[str, str] = {}
    id_of_name: dict[str, str] = {}
    hints: dict[str, str] = {}

    def hint(value: str) -> str:
        value = str(value)
        if value in hints or len(hints) >= HINTED_IDS:
            return hints.get(value, "")
        if not name_of:
            names = counties["name"] if "name" in counties else pd.Series("", counties.index)
            for county_id, name in zip(counties["county_id"], names, strict=True):
                if not pd.isna(county_id):
                    name_of[str(county_id)] = "" if pd.isna(name) else str(name)
            id_of_name.update((name, i) for i, name in reversed(name_of.items()) if name)
        close_ids = close_matches(value, _nearby(value, list(name_of)))
        by_name = [id_of_name[n] for n in close_matches(value, _nearby(value, list(id_of_name)))]
        chosen = list(dict.fromkeys([*by_name[:1], *close_ids, *by_name]))
        shown = [f"'{c}' ({name_of[c]})" if name_of.get(c) else f"'{c}'" for c in chosen[:3]]
        hints[value] = "" if not shown else f"; did you mean {_listed(shown)}?"
        return hints[value]

    return hint


def _nearby(value: str, candidates: list[str]) -> list[str]:
    """Candidates worth comparing: all of a small table; of a large one, those sharing ever
    longer beginnings with the value until at most LARGE remain (none if that fails)."""
    length = 1
    while len(candidates) > LARGE and length <= len(value):
        candidates = [c for c in candidates if c[:length] == value[:length]]
        length += 1
    return candidates if len(candidates) <= LARGE else []


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _with_nullable_ints(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """Optional whole-number columns are always nullable Int64, whether or not a cell is empty."""
    frame = frame.copy()
    for name in names:
        frame[name] = frame[name].astype("Int64")
    return frame


def _attrition_errors(counties: pd.DataFrame, file: str) -> list[InputError]:
    """More departures than teachers in post cannot happen; it is a typing mistake."""
    exceeds = counties["attrition"].astype("Int64") > counties["occupied"].astype("Int64")
    too_many = counties[exceeds.fillna(False).astype(bool)]
    return [
        InputError(
            file,
            f"attrition {row.attrition} is more than the {row.occupied} teachers in post",
            row=int(index),
            column=_label(COUNTIES_SCHEMA, "attrition"),
        )
        for index, row in zip(too_many.index, too_many.itertuples(), strict=True)
    ]


def _mixed_year_errors(enrolment: pd.DataFrame, file: str) -> list[InputError]:
    """Either every row has a year (a multi-year plan) or none has (one year)."""
    years = enrolment["year"]
    if years.isna().all() or years.notna().all():
        return []
    return [
        InputError(
            file,
            "year is empty while other rows give one (fill in every year or none)",
            row=int(index),
            column=_label(ENROLMENT_SCHEMA, "year"),
        )
        for index in years[years.isna()].index
    ]


def cross_check(
    counties: pd.DataFrame,
    enrolment: pd.DataFrame,
    counties_file: str,
    enrolment_file: str,
    *,
    class_required: bool = False,
) -> list[InputError]:
    """Problems that show only when the two files are read together."""
    errors: list[InputError] = []
    # Python sets, not Series.isin: isin on pandas' Arrow strings is slow for 10^4 rows.
    enrolled = enrolment["county_id"].dropna()
    listed = counties["county_id"].dropna()
    known = set(listed.tolist())
    unknown = enrolled[[county_id not in known for county_id in enrolled.tolist()]]
    unknown = unknown[~unknown.index.duplicated()]  # a wide file's row: once, not per level
    hint = county_hints(counties)
    errors.extend(
        InputError(
            enrolment_file,
            f"county '{county_id}' is not in {counties_file}{hint(county_id)}",
            row=int(str(index)),
            column=_label(ENROLMENT_SCHEMA, "county_id"),
        )
        for index, county_id in unknown.items()
    )
    # A county listed without any enrolment row is planned with need 0 and a warning
    # (`optimizer.plan.unenrolled_warnings`): a district whose schools all moved is real.
    if class_required:
        missing = counties[counties["class"].isna()]
        errors.extend(
            InputError(
                counties_file,
                "is empty, but the scenario's standards depend on the county class "
                "(urban/town/rural, 城市/县镇/农村)",
                row=int(str(index)),
                column=_label(COUNTIES_SCHEMA, "class"),
            )
            for index in missing.index
        )
    return errors


def load_teacher_inputs(
    counties_path: str | Path,
    enrolment_path: str | Path,
    *,
    class_required: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validated counties and enrolment; raises InputErrors listing every problem in both files.

    `class_required` is set when the standards differ by county class (the 2001 table): a
    county without a class would then silently get the class-free standard.
    """
    counties, county_errors = read_counties(counties_path)
    enrolment, enrolment_errors = read_enrolment(enrolment_path)
    errors = [*county_errors, *enrolment_errors]
    if not counties.empty and not enrolment.empty:  # both files have their columns and rows
        errors += cross_check(
            counties,
            enrolment,
            Path(counties_path).name,
            Path(enrolment_path).name,
            class_required=class_required,
        )
    if errors:
        raise InputErrors(errors)
    return counties, enrolment
