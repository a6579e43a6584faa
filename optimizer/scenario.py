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

Every mistake (unknown key, wrong type, unknown objective or solver, a standard ≤ 0, a name
that cannot be a directory) is an `InputError` naming the scenario file and the key, all of
them reported at once.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import pandas as pd

from optimizer.io import load_teacher_inputs
from optimizer.need import (
    CLASSES,
    LEVELS,
    STAFF_PER_CLASS,
    STANDARDS_2001,
    STANDARDS_2014,
    Standards,
)
from optimizer.plan import OBJECTIVES, SOLVERS, Policy
from pools.tabular import InputError, InputErrors

TOP_KEYS = ("name", "description", "counties", "enrolment", "standards", "policy")
BASES = {"2014": None, "2001": STANDARDS_2001}  # base table -> its per-class standards
# Characters no output directory name may hold, on any system a planner may copy plans to.
_FORBIDDEN_IN_NAME = re.compile(r'[/\\<>:"|?*\x00-\x1f\x7f]')
MAX_NAME_LENGTH = 100
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{device}{number}" for device in ("COM", "LPT") for number in range(10)
}


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: where its inputs are and how to plan them."""

    name: str
    path: Path
    counties: Path
    enrolment: Path
    standards: Standards
    policy: Policy
    description: str = ""

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
    enrolment = _input_path(data, "enrolment", path, check)
    standards = _standards(data.get("standards"), check)
    policy = _policy(data.get("policy", {}), check)
    if check.errors:
        raise InputErrors(check.errors)
    assert counties and enrolment and standards and policy and name  # no errors: all were set
    return Scenario(name, path, counties, enrolment, standards, policy, description)


def load_inputs(scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scenario's validated counties and enrolment; raises InputErrors for both files."""
    return load_teacher_inputs(
        scenario.counties,
        scenario.enrolment,
        class_required=scenario.standards.by_class is not None,
    )


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
        return path.stem
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
    return name


def _input_path(data: Mapping[str, Any], key: str, path: Path, check: _Checker) -> Path | None:
    if key not in data:
        check.error(key, f"missing: the {key} file, relative to the scenario file")
        return None
    value = check.text(data, key)
    return (path.parent / value).resolve() if value else None


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
