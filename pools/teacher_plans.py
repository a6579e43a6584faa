"""Reading a plan directory written by `quotapool plan` (SPEC 3.4) for `quotapool plan apply`.

A plan directory holds plan.csv (a row per county, and per year in a multi-year plan) and
summary.json (status, totals, the scenario). What the ledger needs of it:

- the plan's id: SHA-256 over the bytes of plan.csv and of summary.json (the files as
  written: the same directory always has the same id; a plan recomputed later differs at
  least in its `seconds`);
- the scenario's content hash: SHA-256 of the canonical JSON of summary.json's `scenario`
  record without its `file` (where the scenario lay is not what it says): its name,
  standards, policy, edits and, for `quotapool plan`, the SHA-256 of each input file;
  empty when the summary has none;
- the status (only an optimal plan is applied: `pools.rules.teacher_quota.plan_optimal`);
- the year applied: a multi-year plan is applied one year at a time, `year` (default the
  first); its rows give each county's `current` and `new`;
- the declared `extra_quota`: the scenario policy's, in the first year only (later years of
  a multi-year plan keep the total, SPEC 2.5); without a policy, total_after − total_before.

Bad input (a missing file, a missing column, a figure that is not a whole number ≥ 0, a
county twice, a year not in the plan) raises `InputErrors` naming the file, row and column.
No pandas: the files are small and `quotapool plan apply --help` stays quick.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pools.events import canonical_json
from pools.input_errors import InputError, InputErrors

PLAN_FILE = "plan.csv"
SUMMARY_FILE = "summary.json"
NEEDED = ("county_id", "name", "current", "new")


@dataclass(frozen=True)
class PlanCounty:
    county_id: str
    name: str
    current: int
    new: int

    @property
    def change(self) -> int:
        return self.new - self.current


@dataclass(frozen=True)
class TeacherPlan:
    """One year of a plan, as the ledger applies it."""

    source: str  # the directory, for messages
    plan_id: str
    scenario_hash: str
    scenario: str  # its name
    status: str
    year: int | None  # None: a one-year plan
    years: tuple[int, ...]
    extra_quota: int
    counties: tuple[PlanCounty, ...]

    @property
    def current(self) -> dict[str, int]:
        return {county.county_id: county.current for county in self.counties}

    @property
    def total_before(self) -> int:
        return sum(county.current for county in self.counties)

    @property
    def total_after(self) -> int:
        return sum(county.new for county in self.counties)


def plan_id_of(csv_bytes: bytes, summary_bytes: bytes) -> str:
    digest = hashlib.sha256()
    for name, content in ((PLAN_FILE, csv_bytes), (SUMMARY_FILE, summary_bytes)):
        digest.update(f"{name}\n{len(content)}\n".encode())
        digest.update(content)
    return digest.hexdigest()


def scenario_hash_of(summary: dict[str, Any]) -> str:
    scenario = summary.get("scenario")
    if not isinstance(scenario, dict):
        return ""
    content = {key: value for key, value in scenario.items() if key != "file"}  # not a place
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def read_plan(directory: str | Path, year: int | None = None) -> TeacherPlan:
    """The plan in `directory` (one year of it: `year`, default the first)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise InputErrors([InputError(str(folder), "is not a plan directory (quotapool plan)")])
    summary_path, csv_path = folder / SUMMARY_FILE, folder / PLAN_FILE
    summary_bytes = _read(summary_path)
    summary = _summary(summary_path, summary_bytes)
    status = str(summary.get("status"))
    if status != "optimal":  # refused by rule (teacher.plan_not_optimal); no plan.csv needed
        csv_bytes = csv_path.read_bytes() if csv_path.is_file() else b""
        return TeacherPlan(
            str(folder), plan_id_of(csv_bytes, summary_bytes), scenario_hash_of(summary),
            _scenario_name(summary, folder), status, year, (), 0, (),
        )  # fmt: skip
    csv_bytes = _read(csv_path)
    rows, has_year = _rows(csv_path, csv_bytes)
    years = tuple(sorted({row_year for _, row_year, _ in rows if row_year is not None}))
    if year is not None and has_year and year not in years:
        raise InputErrors(
            [InputError(str(csv_path), f"the plan has no year {year}; its years: {list(years)}")]
        )
    if year is not None and not has_year:
        raise InputErrors([InputError(str(csv_path), "--year given, but the plan has one year")])
    chosen = (year if year is not None else years[0]) if has_year else None
    counties = _counties(csv_path, [(n, r) for n, y, r in rows if y == chosen])
    return TeacherPlan(
        str(folder),
        plan_id_of(csv_bytes, summary_bytes),
        scenario_hash_of(summary),
        _scenario_name(summary, folder),
        status,
        chosen,
        years,
        _extra_quota(summary, first_year=chosen is None or chosen == years[0]),
        counties,
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        missing = InputError(str(path), "is missing (write it with quotapool plan)")
        raise InputErrors([missing]) from None
    except OSError as exc:
        raise InputErrors([InputError(str(path), f"cannot be read: {exc}")]) from exc


def _summary(path: Path, content: bytes) -> dict[str, Any]:
    try:
        summary = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputErrors([InputError(str(path), f"is not JSON: {exc}")]) from exc
    if not isinstance(summary, dict) or "status" not in summary:
        raise InputErrors([InputError(str(path), "has no 'status': not a plan summary")])
    return summary


def _rows(path: Path, content: bytes) -> tuple[list[tuple[int, int | None, dict[str, str]]], bool]:
    """(row number as a spreadsheet shows it, year, fields) of every row, and whether the
    plan has a year column."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputErrors([InputError(str(path), f"is not UTF-8 text: {exc}")]) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [column for column in NEEDED if column not in header]
    if missing:
        raise InputErrors(
            [InputError(str(path), f"lacks the column(s) {missing}; it has {header}", row=1)]
        )
    has_year = "year" in header
    rows: list[tuple[int, int | None, dict[str, str]]] = []
    errors: list[InputError] = []
    for number, row in enumerate(reader, start=2):
        year = None
        if has_year:
            year = _whole(row.get("year"))
            if year is None:
                errors.append(_bad(path, number, "year", row.get("year"), "a year"))
                continue
        rows.append((number, year, row))
    if errors:
        raise InputErrors(errors)
    if not rows:
        raise InputErrors([InputError(str(path), "has no county rows")])
    return rows, has_year


def _counties(path: Path, rows: list[tuple[int, dict[str, str]]]) -> tuple[PlanCounty, ...]:
    errors: list[InputError] = []
    seen: dict[str, int] = {}
    counties: list[PlanCounty] = []
    for number, row in rows:
        county_id = (row.get("county_id") or "").strip()
        if not county_id:
            errors.append(InputError(str(path), "county_id is empty", number, "county_id"))
            continue
        if county_id in seen:
            message = f"county {county_id} is listed twice (first in row {seen[county_id]})"
            errors.append(InputError(str(path), message, number, "county_id"))
            continue
        seen[county_id] = number
        figures = {}
        for column in ("current", "new"):
            value = _whole(row.get(column))
            if value is None or value < 0:
                errors.append(_bad(path, number, column, row.get(column), "a whole number ≥ 0"))
            figures[column] = value or 0
        counties.append(
            PlanCounty(county_id, (row.get("name") or "").strip(), figures["current"],
                       figures["new"])
        )  # fmt: skip
    if errors:
        raise InputErrors(errors)
    return tuple(counties)


def _whole(text: str | None) -> int | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def _bad(path: Path, row: int, column: str, value: object, what: str) -> InputError:
    return InputError(str(path), f"{value!r} is not {what}", row, column)


def _extra_quota(summary: dict[str, Any], *, first_year: bool) -> int:
    if not first_year:
        return 0
    scenario = summary.get("scenario")
    policy = scenario.get("policy") if isinstance(scenario, dict) else None
    if isinstance(policy, dict) and isinstance(policy.get("extra_quota"), int | float):
        return int(policy["extra_quota"])
    before, after = summary.get("total_before"), summary.get("total_after")
    if isinstance(before, int | float) and isinstance(after, int | float):
        return int(after) - int(before)
    return 0


def _scenario_name(summary: dict[str, Any], folder: Path) -> str:
    scenario = summary.get("scenario")
    if isinstance(scenario, dict) and scenario.get("name"):
        return str(scenario["name"])
    return folder.name
