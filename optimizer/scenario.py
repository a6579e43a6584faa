"""Scenario files (SPEC 3.2): one TOML file names the inputs, the standards and the policy.

```toml
name = "2027 baseline"          # also the output directory name; default: the file's stem
counties = "counties.csv"       # paths relative to the scenario file
enrolment = "enrolment.csv"
standards = "2001"              # shorthand for a built-in table ("2014", the default, or "2001")

[standards]                     # ... or a table: students per staff, overriding `base`
base = "2014"
primary = 19
junior = 13.5
senior = 12.5
[standards.rural]               # optional per county class: urban / town / rural
primary = 23
[standards.staff_per_class]     # optional 班师比, used where enrolment gives `classes`
primary = 1.9

[policy]
extra_quota = 0
objective = "fair"              # fair | shortfall | movement
solver = "highs"                # exact | highs | cbc | ortools
```

Instead of `enrolment`, a scenario may name projections (SPEC 2.10): enrolment is then projected
from the history, and with a roster the counties' `attrition` becomes the expected departures
over the horizon (spread over its years as `attrition_years` says, by default every year):

```toml
[projection]
history = "enrolment_history.csv" # pupils by county, grade and year
births = "births.csv"             # optional: grade 1 from births six years earlier
roster = "roster.csv"             # optional: attrition from retirements and other departures
years = 5                         # plan years after the last history year
levels = { primary = [1, 5], junior = [6, 9], senior = [10, 12] }  # optional (五四制)
window = 3                        # optional: ratios are the mean of the last K years
start = 2027-01-01                # optional: departures counted from (default: 1 January of
                                  # the first projected year)
other_rate = 0.01                 # optional: other departures a year, or instead:
departures_history = "past.csv"   # estimate it from past departures
```

A sweep (`quotapool sweep`, SPEC 2.11) draws enrolment futures around the figures. With a
[projection] it reads the projection's bands; otherwise, or to override them:

```toml
[uncertainty]
relative_error = 0.05             # a county-level's enrolment is normal, sd 5 % of its figure;
                                  # a `relative_error` column in counties overrides it per county
city_correlation = 0.3            # optional: two counties' errors correlate by 0.3 (default 0)
level_correlation = 0.6           # optional: two levels of one county (≥ city; default: city)
```

Every mistake (unknown key, wrong type, unknown objective or solver, a standard ≤ 0, a name
that cannot be a directory) is an `InputError` naming the scenario file and the key, all of
them reported at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tomllib
import types
import typing
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import pandas as pd

from optimizer.io import cross_check, load_teacher_inputs, read_counties, read_departures
from optimizer.need import (
    CLASSES,
    LEVELS,
    STAFF_PER_CLASS,
    STANDARDS_2001,
    STANDARDS_2014,
    Standards,
)
from optimizer.plan import OBJECTIVES, SOLVERS, Policy

if typing.TYPE_CHECKING:
    from optimizer.projection import ProjectionSettings
from pools.tabular import InputError, InputErrors

TOP_KEYS = (
    "name",
    "description",
    "counties",
    "enrolment",
    "departures",
    "projection",
    "uncertainty",
    "standards",
    "policy",
)
PROJECTION_KEYS = (
    "history",
    "births",
    "roster",
    "years",
    "window",
    "start",
    "other_rate",
    "departures_history",
    "levels",
)
BASES = {"2014": None, "2001": STANDARDS_2001}  # base table -> its per-class standards
# Characters no output directory name may hold, on any system a planner may copy plans to.
_FORBIDDEN_IN_NAME = re.compile(r'[/\\<>:"|?*\x00-\x1f\x7f]')
MAX_NAME_LENGTH = 100
# A file name is at most 255 bytes on Linux, macOS and Windows file systems (NAME_MAX); the
# name is a directory name, and the product writes names next to it that are up to 24 bytes
# longer (".<name>.xxxxxxxx.tmp" while staging, "<name>-edited-robust-plan.xlsx" downloads).
NAME_MAX_BYTES = 255
MAX_NAME_BYTES = 200
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{device}{number}" for device in ("COM", "LPT") for number in range(10)
}


@dataclass(frozen=True)
class Projection:
    """A scenario's [projection] table: which files are projected, over how many years."""

    history: Path
    years: int
    births: Path | None = None
    roster: Path | None = None
    window: int = 3
    start: dt.date | None = None
    other_rate: float = 0.01
    departures_history: Path | None = None
    levels: Mapping[str, tuple[int, int]] | None = None  # None: primary 1–6, junior 7–9, …

    def settings(self) -> ProjectionSettings:
        from optimizer.projection import ProjectionSettings

        settings = ProjectionSettings(years=self.years, window=self.window)
        return dataclasses.replace(settings, levels=self.levels) if self.levels else settings

    def files(self) -> dict[str, Path]:
        named = {
            "history": self.history,
            "births": self.births,
            "roster": self.roster,
            "departures_history": self.departures_history,
        }
        return {key: path for key, path in named.items() if path is not None}

    def record(self, relative: Callable[[Path], str]) -> dict[str, Any]:
        """What summary.json says about the projection: files, content hashes, method."""
        from optimizer.projection import file_sha256

        settings = self.settings()
        record: dict[str, Any] = {
            "files": {
                key: {"file": relative(path), "sha256": file_sha256(path)}
                for key, path in self.files().items()
            },
            "years": self.years,
            "enrolment": settings.describe(),
        }
        if self.roster is not None:
            rate = "estimated from departures_history" if self.departures_history else None
            record["departures"] = {
                "method": "statutory retirement ages of the 2024 NPC Standing Committee "
                "decision plus other departures at a rate per year",
                "start": self.start.isoformat() if self.start else "1 January of the first year",
                "other_rate": rate or self.other_rate,
            }
        return record


@dataclass(frozen=True)
class Uncertainty:
    """A scenario's [uncertainty] table: the spread of a sweep's futures (SPEC 2.11)."""

    # standard deviation of enrolment, as a share of the figure (None: the projection's bands)
    relative_error: float | None = None
    city_correlation: float = 0.0  # of two counties' errors (`optimizer.sweep_worker`)
    # of two levels' errors in one county, ≥ city_correlation (None: city_correlation)
    level_correlation: float | None = None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: where its inputs are and how to plan them."""

    name: str
    path: Path
    counties: Path
    enrolment: Path | None  # None when the enrolment is projected
    standards: Standards
    policy: Policy
    description: str = ""
    projection: Projection | None = None
    departures: Path | None = None  # departures per county and year, optional
    uncertainty: Uncertainty | None = None  # how far enrolment may stray (sweeps only)

    @property
    def dir_name(self) -> str:
        """The output directory of this scenario's plan (the name, already checked safe)."""
        return self.name


class _Checker:
    """Collects the errors of one scenario file, keyed by dotted TOML key."""

    def __init__(self, file: str):
        self.file = file
        self.errors: list[InputError] = []

    def error(self, key: str, message: str) -> None:
        self.errors.append(InputError(self.file, message, row=None, column=key))

    def unknown_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                self.error(
                    f"{prefix}{key}",
                    f"unknown key '{prefix}{key}' (allowed: {', '.join(allowed)})",
                )

    def text(self, table: Mapping[str, Any], key: str, prefix: str = "") -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(f"{prefix}{key}", f"must be a non-empty text, got {value!r}")
            return None
        return value.strip()

    def standard(self, value: Any, key: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(key, f"must be a number (students or staff), got {value!r}")
            return None
        if not value > 0:  # also catches nan
            self.error(key, f"must be greater than 0, got {value}")
            return None
        return value


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario file; raises InputErrors naming the file and each key."""
    path = Path(path)
    check = _Checker(path.name)
    data = _read_toml(path)
    check.unknown_keys(data, TOP_KEYS, "")
    name = _scenario_name(data, path, check)
    description = check.text(data, "description") or ""
    counties = _input_path(data, "counties", path, check)
    projection = None
    enrolment = None
    if "projection" in data:
        projection = _projection(data["projection"], path, check)
        if "enrolment" in data:
            check.error("enrolment", "give either enrolment or [projection], not both")
    else:
        enrolment = _input_path(data, "enrolment", path, check)
    departures = _input_path(data, "departures", path, check) if "departures" in data else None
    if departures is not None and projection is not None and projection.roster is not None:
        check.error("departures", "give either departures or a [projection] roster, not both")
    standards = _standards(data.get("standards"), check)
    policy = _policy(data.get("policy", {}), check)
    uncertainty = _uncertainty(data["uncertainty"], check) if "uncertainty" in data else None
    if check.errors:
        raise InputErrors(check.errors)
    assert counties and standards and policy and name  # no errors: all were set
    assert enrolment or projection
    return Scenario(
        name,
        path,
        counties,
        enrolment,
        standards,
        policy,
        description,
        projection,
        departures,
        uncertainty,
    )


@dataclass(frozen=True)
class PlanInputs:
    """What `make_plan` reads for a scenario."""

    counties: pd.DataFrame
    enrolment: pd.DataFrame
    departures: pd.DataFrame | None = None  # per county and year, when the scenario has them


def load_plan_inputs(scenario: Scenario) -> PlanInputs:
    """The scenario's validated tables, with its departures per year when it has them (a
    `departures` file, or a [projection] roster); raises InputErrors naming every problem."""
    if scenario.projection is not None:
        return projected_inputs(scenario, scenario.projection)
    counties, enrolment = load_inputs(scenario)
    if scenario.departures is None:
        return PlanInputs(counties, enrolment)
    departures, errors = read_departures(scenario.departures, counties)
    if errors:
        raise InputErrors(errors)
    return PlanInputs(counties, enrolment, departures)


def load_inputs(scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scenario's validated counties and enrolment; raises InputErrors for both files.

    A scenario with [projection] gets the projected enrolment and, with a roster, the
    counties with the projected departures as `attrition`: the same tables as reading the
    files that `quotapool project` writes.
    """
    if scenario.projection is not None:
        inputs = projected_inputs(scenario, scenario.projection)
        return inputs.counties, inputs.enrolment
    assert scenario.enrolment is not None
    return load_teacher_inputs(
        scenario.counties,
        scenario.enrolment,
        class_required=scenario.standards.by_class is not None,
    )


def projected_inputs(scenario: Scenario, spec: Projection) -> PlanInputs:
    from optimizer import departures as dep
    from optimizer.projection import project_enrolment

    counties, errors = read_counties(scenario.counties)
    try:
        projected = project_enrolment(spec.history, spec.births, spec.settings()).enrolment
    except InputErrors as rejected:
        raise InputErrors([*errors, *rejected.errors]) from None
    if errors:
        raise InputErrors(errors)
    enrolment = projected[["county_id", "level", "students", "year"]].copy()
    enrolment.index = pd.Index(range(2, len(enrolment) + 2), name="row", dtype="int64")
    enrolment["year"] = enrolment["year"].astype("Int64")
    per_year = None
    if spec.roster is not None:
        start = spec.start or dt.date(int(enrolment["year"].min()), 1, 1)
        rates, other_rate = None, spec.other_rate
        if spec.departures_history is not None:
            rates, other_rate = dep.estimate_other_rate(spec.departures_history)
        settings_out = dep.DepartureSettings(start, spec.years, other_rate)
        departures = dep.project_departures(dep.read_roster(spec.roster), settings_out, rates)
        counties = dep.counties_with_attrition(
            counties, scenario.counties.name, spec.roster.name, departures
        )
        per_year = departures.table[["county_id", "year", "attrition"]]
    problems = cross_check(
        counties,
        enrolment,
        scenario.counties.name,
        spec.history.name,
        class_required=scenario.standards.by_class is not None,
    )
    if problems:
        raise InputErrors(problems)
    return PlanInputs(counties, enrolment, per_year)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise InputErrors([InputError(path.name, f"scenario file not found: {path}")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputErrors([InputError(path.name, f"is not valid TOML: {exc}")]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputErrors([InputError(path.name, f"cannot be read: {exc}")]) from exc


def _scenario_name(data: Mapping[str, Any], path: Path, check: _Checker) -> str | None:
    if "name" not in data:
        return _fits_the_file_system(unicodedata.normalize("NFC", path.stem), check)
    name = check.text(data, "name")
    if name is None:
        return None
    name = unicodedata.normalize("NFC", name)
    if _FORBIDDEN_IN_NAME.search(name) or name.startswith(".") or name.endswith("."):
        check.error(
            "name",
            f"'{name}' cannot be a directory name: no / \\ < > : \" | ? *, control characters, "
            "or a leading or trailing dot",
        )
        return None
    if name.split(".")[0].strip().upper() in _WINDOWS_DEVICES:
        check.error("name", f"'{name}' is a device name on Windows and cannot be a directory")
        return None
    if len(name) > MAX_NAME_LENGTH:
        check.error("name", f"is longer than {MAX_NAME_LENGTH} characters")
        return None
    return _fits_the_file_system(name, check)


def _fits_the_file_system(name: str, check: _Checker) -> str | None:
    """The name, when the directory named after it (and the names written next to it) fit
    in the bytes a file system allows a name; counted in UTF-8 bytes, not characters (a
    Chinese character is 3 bytes)."""
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        check.error(
            "name",
            f"is {size} bytes in UTF-8, longer than the {MAX_NAME_BYTES} bytes a scenario name "
            f"may take (a file system allows {NAME_MAX_BYTES} bytes per name, and the output "
            "directory's working names are longer than the name); shorten it",
        )
        return None
    return name


def _input_path(
    data: Mapping[str, Any], key: str, path: Path, check: _Checker, prefix: str = ""
) -> Path | None:
    if key not in data:
        also = " (or a [projection] table)" if key == "enrolment" else ""
        check.error(
            f"{prefix}{key}", f"missing: the {key} file, relative to the scenario file{also}"
        )
        return None
    value = check.text(data, key, prefix)
    return (path.parent / value).resolve() if value else None


def _projection(value: Any, path: Path, check: _Checker) -> Projection | None:
    if not isinstance(value, dict):
        check.error("projection", f"must be a table, got {value!r}")
        return None
    check.unknown_keys(value, PROJECTION_KEYS, "projection.")
    before = len(check.errors)
    files = {
        key: _input_path(value, key, path, check, prefix="projection.")
        for key in ("history", "births", "roster", "departures_history")
        if key in value or key == "history"
    }
    numbers = {
        key: _whole(value[key], f"projection.{key}", check)
        for key in ("years", "window")
        if key in value
    }
    if "years" not in value:
        check.error("projection.years", "missing: the number of years to project and plan")
    start = value.get("start")
    if start is not None and (isinstance(start, dt.datetime) or not isinstance(start, dt.date)):
        check.error("projection.start", f"must be a date such as 2027-01-01, got {start!r}")
    rate = value.get("other_rate", 0.01)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate < 1:
        check.error("projection.other_rate", f"must be a share per year in [0, 1), got {rate!r}")
    if "other_rate" in value and "departures_history" in value:
        check.error("projection.other_rate", "give other_rate or departures_history, not both")
    if ("other_rate" in value or "departures_history" in value) and "roster" not in value:
        check.error("projection.roster", "missing: other departures need a roster")
    levels = _projection_levels(value.get("levels"), check)
    if len(check.errors) > before:
        return None
    history = files.get("history")
    assert history is not None and "years" in numbers
    return Projection(
        history=history,
        years=int(numbers["years"] or 0),
        births=files.get("births"),
        roster=files.get("roster"),
        window=int(numbers.get("window") or 3),
        start=start,
        other_rate=float(rate),
        departures_history=files.get("departures_history"),
        levels=levels,
    )


def _projection_levels(value: Any, check: _Checker) -> dict[str, tuple[int, int]] | None:
    """[projection.levels] primary = [1, 5], junior = [6, 9], … (五四制), checked."""
    from optimizer.projection import check_levels

    if value is None:
        return None
    pairs = isinstance(value, dict) and all(
        isinstance(grades, list)
        and len(grades) == 2
        and all(isinstance(g, int) and not isinstance(g, bool) for g in grades)
        for grades in value.values()
    )
    if not pairs:
        check.error("projection.levels", f"must map levels to [first, last] grades, got {value!r}")
        return None
    levels = {str(name): (grades[0], grades[1]) for name, grades in value.items()}
    try:
        check_levels(levels)
    except ValueError as exc:
        check.error("projection.levels", str(exc))
        return None
    return levels


def _uncertainty(value: Any, check: _Checker) -> Uncertainty | None:
    if not isinstance(value, dict):
        check.error("uncertainty", f"must be a table, got {value!r}")
        return None
    keys = ("relative_error", "city_correlation", "level_correlation")
    check.unknown_keys(value, keys, "uncertainty.")
    shares: dict[str, float | None] = {}
    for key in keys:
        share = value.get(key)
        if share is not None and (
            isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1
        ):
            check.error(f"uncertainty.{key}", f"must be a share in [0, 1], got {share!r}")
            return None
        shares[key] = None if share is None else float(share)
    city, level = shares["city_correlation"] or 0.0, shares["level_correlation"]
    if level is not None and level < city:
        check.error(
            "uncertainty.level_correlation",
            f"must be at least city_correlation ({city}): two levels of one county share the "
            f"city-wide factor too, got {level}",
        )
        return None
    return Uncertainty(shares["relative_error"], city, level)


def _whole(value: Any, key: str, check: _Checker) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        check.error(key, f"must be a whole number of 1 or more, got {value!r}")
        return None
    return value


def _standards(value: Any, check: _Checker) -> Standards | None:
    if value is None:
        return Standards()
    if isinstance(value, str | int) and not isinstance(value, bool):
        value = {"base": str(value)}
    if not isinstance(value, dict):
        check.error("standards", f'must be "2014", "2001" or a table, got {value!r}')
        return None
    allowed = ("base", *LEVELS, *CLASSES, "staff_per_class")
    check.unknown_keys(value, allowed, "standards.")
    base = value.get("base", "2014")
    if str(base) not in BASES:
        check.error("standards.base", f'must be "2014" or "2001", got {base!r}')
        return None
    per_level: dict[str, float] = dict(STANDARDS_2014)
    per_level.update(_levels(value, "standards.", check))
    base_classes = BASES[str(base)]
    by_class = {cls: dict(table) for cls, table in (base_classes or {}).items()}
    for cls in CLASSES:
        if cls not in value:
            continue
        table = value[cls]
        if not isinstance(table, dict):
            check.error(f"standards.{cls}", f"must be a table of levels, got {table!r}")
            continue
        check.unknown_keys(table, LEVELS, f"standards.{cls}.")
        by_class.setdefault(cls, {}).update(_levels(table, f"standards.{cls}.", check))
    per_room = {**STAFF_PER_CLASS, **_staff_per_class(value.get("staff_per_class", {}), check)}
    return Standards(per_level=per_level, by_class=by_class or None, staff_per_class=per_room)


def _staff_per_class(table: Any, check: _Checker) -> dict[str, float]:
    """[standards.staff_per_class]: staff per class per level (班师比, SPEC 2.10)."""
    if not isinstance(table, dict):
        check.error("standards.staff_per_class", f"must be a table of levels, got {table!r}")
        return {}
    check.unknown_keys(table, LEVELS, "standards.staff_per_class.")
    return _levels(table, "standards.staff_per_class.", check)


def _levels(table: Mapping[str, Any], prefix: str, check: _Checker) -> dict[str, float]:
    levels = {}
    for level in LEVELS:
        if level in table:
            standard = check.standard(table[level], f"{prefix}{level}")
            if standard is not None:
                levels[level] = standard
    return levels


def _policy(value: Any, check: _Checker) -> Policy | None:
    if not isinstance(value, dict):
        check.error("policy", f"must be a table, got {value!r}")
        return None
    fields = {field.name: field for field in dataclasses.fields(Policy)}
    check.unknown_keys(value, tuple(fields), "policy.")
    settings: dict[str, Any] = {}
    for key, setting in value.items():
        if key not in fields:
            continue
        problem = _policy_problem(key, setting)
        if problem:
            check.error(f"policy.{key}", problem)
        else:
            settings[key] = setting
    if len(settings) != len([key for key in value if key in fields]):
        return None
    try:
        return Policy(**settings)
    except (TypeError, ValueError) as exc:  # the policy's own checks, whatever they are
        check.error("policy", str(exc))
        return None


def _policy_problem(key: str, value: Any) -> str | None:
    """Why `value` cannot be policy setting `key`, or None when it can."""
    if key == "objective" and value not in OBJECTIVES:
        return f"unknown objective {value!r} (choose one of: {', '.join(OBJECTIVES)})"
    if key == "solver" and value not in SOLVERS:
        return f"unknown solver {value!r} (choose one of: {', '.join(SOLVERS)})"
    if key == "extra_quota" and (isinstance(value, bool) or not isinstance(value, int)):
        return f"must be a whole number of quotas, got {value!r}"
    if key == "extra_quota" and value < 0:
        return f"must be 0 or more, got {value}"
    accepted = _accepted_types(typing.get_type_hints(Policy)[key])
    if not _is_one_of(value, accepted):
        names = " or ".join(t.__name__ for t in accepted)
        return f"must be {names}, got {value!r}"
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if key != "extra_quota" and numeric and not value > 0:
        return f"must be greater than 0, got {value}"
    return None


def _accepted_types(hint: Any) -> tuple[type, ...]:
    """The concrete types of an annotation such as `int | None` (None is never written)."""
    is_union = typing.get_origin(hint) in (Union, types.UnionType)
    options = typing.get_args(hint) if is_union else (hint,)
    return tuple(t for t in options if isinstance(t, type) and t is not type(None))


def _is_one_of(value: Any, accepted: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in accepted
    if isinstance(value, int) and float in accepted:
        return True  # 5 is a fine number of seconds
    return isinstance(value, accepted)
