"""What-if scenarios for the app: edited tables checked as inputs, saved scenarios, comparisons.

No allocation rule lives here: edited tables are checked by the same reader as the files
(`optimizer.io.load_teacher_inputs`), and plans come from `optimizer.plan.make_plan`. This
module only reshapes tables for editing and keeps named scenarios on disk.

Saved scenarios are JSON files, one per scenario, in a directory (by default next to the
ledger database), written to a temporary file and renamed so that a crash never leaves a
half-written scenario and several planners can save at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from app_ui import charts
from optimizer.need import Standards
from optimizer.plan import Policy

LEVELS = ("primary", "junior", "senior")
COUNTY_COLUMNS = ("county_id", "name", "quota", "occupied", "attrition", "min_quota", "max_gain")
NULLABLE_INT_COLUMNS = {"min_quota", "max_gain", "year"}
INT_COLUMNS = {"quota", "occupied", "attrition", "students"}


# --- enrolment as the planner edits it ------------------------------------------------------


def is_multi_year(enrolment: pd.DataFrame) -> bool:
    return "year" in enrolment.columns and bool(enrolment["year"].notna().any())


def enrolment_wide(enrolment: pd.DataFrame, counties: pd.DataFrame) -> pd.DataFrame:
    """Students as one row per county and one column per level (single-year enrolment).

    Rows follow the counties table; repeated rows of a county and level are summed, as the
    optimiser does; a missing level is 0.
    """
    sums = enrolment.groupby(["county_id", "level"], sort=False)["students"].sum()
    wide = sums.unstack("level").reindex(index=counties["county_id"], columns=list(LEVELS))
    wide = wide.fillna(0).astype("int64").reset_index()
    wide.columns.name = None
    return wide


def enrolment_long(wide: pd.DataFrame) -> pd.DataFrame:
    """The inverse of `enrolment_wide`: one row per county and level."""
    long = wide.melt(id_vars="county_id", value_vars=list(LEVELS), var_name="level")
    long = long.rename(columns={"value": "students"})
    order = {level: position for position, level in enumerate(LEVELS)}
    long["_county"] = long["county_id"].map({c: i for i, c in enumerate(wide["county_id"])})
    long["_level"] = long["level"].map(order)
    long = long.sort_values(["_county", "_level"]).drop(columns=["_county", "_level"])
    return long.reset_index(drop=True)


def check_inputs(
    counties: pd.DataFrame, enrolment: pd.DataFrame, *, class_required: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Edited tables checked exactly like uploaded files; raises InputErrors naming row and column.

    The tables are written to CSV files named counties.csv and enrolment.csv in a temporary
    directory and read back through `optimizer.io`, so the app and the command line share
    every rule and every message.
    """
    from optimizer.io import load_teacher_inputs

    with tempfile.TemporaryDirectory(prefix="quotapool-edit-") as tmp:
        counties_path = Path(tmp) / "counties.csv"
        enrolment_path = Path(tmp) / "enrolment.csv"
        drop_empty_optional(counties).to_csv(counties_path, index=False)
        drop_empty_optional(enrolment).to_csv(enrolment_path, index=False)
        return load_teacher_inputs(counties_path, enrolment_path, class_required=class_required)


def drop_empty_optional(frame: pd.DataFrame) -> pd.DataFrame:
    """Optional columns that are entirely empty are left out rather than written blank."""
    empty = [c for c in frame.columns if c in {"year", "class"} and frame[c].isna().all()]
    return frame.drop(columns=empty)


def check_uploaded(
    counties_file: tuple[str, bytes],
    enrolment_file: tuple[str, bytes],
    *,
    class_required: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Uploaded files (name, content) read by `optimizer.io`; raises InputErrors."""
    from optimizer.io import load_teacher_inputs

    with tempfile.TemporaryDirectory(prefix="quotapool-upload-") as tmp:
        paths = []
        for subdir, (name, content) in (("c", counties_file), ("e", enrolment_file)):
            # each file in its own folder: both uploads may carry the same name
            path = Path(tmp) / subdir / Path(name).name
            path.parent.mkdir()
            path.write_bytes(content)
            paths.append(path)
        return load_teacher_inputs(paths[0], paths[1], class_required=class_required)


# --- comparing plans ------------------------------------------------------------------------


def comparison_table(plans: Mapping[str, pd.DataFrame], year: int | None = None) -> pd.DataFrame:
    """One row per county: its new quota in each scenario and the difference to the first one.

    Columns: county_id, county, then `<scenario>` (new quota) for each scenario, then
    `Δ <scenario>` (new quota minus the first scenario's) for each later scenario. A county
    missing from a scenario shows an empty cell.
    """
    long = charts.comparison_data(plans, year)
    if long.empty:
        return pd.DataFrame(columns=["county_id", "county"])
    names = long.drop_duplicates("county_id").set_index("county_id")["county"]
    wide = long.pivot(index="county_id", columns="scenario", values="new")
    wide = wide.reindex(index=names.index, columns=list(plans)).astype("Int64")
    first = next(iter(plans))
    for scenario in list(plans)[1:]:
        wide[f"Δ {scenario}"] = wide[scenario] - wide[first]
    wide.insert(0, "county", names)
    wide.columns.name = None
    return wide.reset_index()


# --- saved scenarios ------------------------------------------------------------------------


@dataclass
class SavedScenario:
    """A what-if scenario as a planner saved it: inputs, settings and the plan it gave."""

    name: str
    counties: pd.DataFrame
    enrolment: pd.DataFrame
    standards: dict[str, Any]  # {"per_level": {...}, "by_class": {...} | None}
    policy: dict[str, Any]  # {"extra_quota": ..., "objective": ..., "solver": ...}
    plan: pd.DataFrame
    summary: dict[str, Any]
    saved_by: str = ""
    saved_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    departures: pd.DataFrame | None = None  # per county and year, when the scenario has them
    projected: bool = False  # enrolment and departures came from a projection


def standards_as_dict(standards: Standards) -> dict[str, Any]:
    """Standards as saved: {"per_level": {...}, "by_class": {class: {...}} | None}."""
    by_class = standards.by_class
    return {
        "per_level": dict(standards.per_level),
        "by_class": None if by_class is None else {k: dict(v) for k, v in by_class.items()},
    }


def standards_from_dict(saved: Mapping[str, Any]) -> Standards:
    return Standards(per_level=saved["per_level"], by_class=saved["by_class"])


def saved_scenario(
    name: str,
    counties: pd.DataFrame,
    enrolment: pd.DataFrame,
    standards: Standards,
    policy: Policy,
    plan: pd.DataFrame,
    summary: dict[str, Any],
    saved_by: str,
    departures: pd.DataFrame | None = None,
    projected: bool = False,
) -> SavedScenario:
    """A scenario to save, with every setting (e.g. attrition_years) of its policy, and its
    departures per year when it has them."""
    return SavedScenario(
        name=name,
        counties=counties,
        enrolment=enrolment,
        standards=standards_as_dict(standards),
        policy=asdict(policy),
        plan=plan,
        summary=summary,
        saved_by=saved_by,
        departures=departures,
        projected=projected,
    )


def saved_settings(saved: SavedScenario) -> tuple[Standards, Policy]:
    """The standards and policy a saved scenario was solved with."""
    return standards_from_dict(saved.standards), Policy(**saved.policy)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # to_json turns pandas' NA/NaN into null and numpy numbers into JSON numbers
    return json.loads(frame.to_json(orient="records", force_ascii=False))


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records)
    for column in frame.columns:
        if column in NULLABLE_INT_COLUMNS:
            frame[column] = frame[column].astype("Int64")
        elif column in INT_COLUMNS:
            frame[column] = frame[column].astype("int64")
    return frame


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars in a summary
        return value.item()
    return str(value)


class ScenarioStore:
    """Named scenarios as JSON files in `directory`."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def _path(self, name: str) -> Path:
        # names are free text (Chinese, spaces, slashes): the file is named by a digest
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:24]
        return self.directory / f"{digest}.json"

    def save(self, scenario: SavedScenario) -> Path:
        """Write (or replace) the scenario atomically; returns its file."""
        name = scenario.name.strip()
        if not name:
            raise ValueError("a saved scenario needs a name")
        document = {
            "name": name,
            "saved_by": scenario.saved_by,
            "saved_at": scenario.saved_at,
            "standards": scenario.standards,
            "policy": scenario.policy,
            "summary": scenario.summary,
            "counties": _records(scenario.counties),
            "enrolment": _records(scenario.enrolment),
            "plan": _records(scenario.plan),
            "departures": None if scenario.departures is None else _records(scenario.departures),
            "projected": scenario.projected,
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self._path(name)
        handle, temp = tempfile.mkstemp(dir=self.directory, prefix=".saving-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(document, out, ensure_ascii=False, indent=1, default=_json_default)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return target

    def names(self) -> list[str]:
        """Saved scenario names, oldest saved first."""
        documents = [self._read(path) for path in self.directory.glob("*.json")]
        documents.sort(key=lambda d: (d.get("saved_at", ""), d["name"]))
        return [d["name"] for d in documents]

    def load(self, name: str) -> SavedScenario:
        path = self._path(name.strip())
        if not path.is_file():
            raise KeyError(name)
        document = self._read(path)
        return SavedScenario(
            name=document["name"],
            counties=_frame(document["counties"]),
            enrolment=_frame(document["enrolment"]),
            standards=document["standards"],
            policy=document["policy"],
            plan=_frame(document["plan"]),
            summary=document["summary"],
            saved_by=document.get("saved_by", ""),
            saved_at=document.get("saved_at", ""),
            departures=_frame(departures) if (departures := document.get("departures")) else None,
            projected=bool(document.get("projected", False)),
        )

    def delete(self, name: str) -> None:
        self._path(name.strip()).unlink(missing_ok=True)

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        return json.loads(path.read_text(encoding="utf-8"))


STORE_DIR_NAME = "quotapool-scenarios"


def default_store_dir(ledger_url: str, cwd: Path | None = None) -> Path:
    """Saved scenarios go next to a SQLite ledger file, else under the working directory."""
    from sqlalchemy.engine import make_url

    base = cwd or Path.cwd()
    url = make_url(ledger_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return (base / Path(url.database)).parent / STORE_DIR_NAME
    return base / STORE_DIR_NAME


def plan_csv(table: pd.DataFrame) -> bytes:
    """plan.csv as bytes, written by the same code as `quotapool plan`."""
    from optimizer import output

    with tempfile.TemporaryDirectory(prefix="quotapool-download-") as tmp:
        path = Path(tmp) / "plan.csv"
        output.write_csv(output.plan_table(table), path)
        return path.read_bytes()


def plan_xlsx(
    table: pd.DataFrame,
    summary: Mapping[str, Any],
    inputs: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> bytes:
    """plan.xlsx (formatted for people) as bytes, written by the same code as `quotapool plan`;
    `inputs` (counties, enrolment) add students and staff as the command's workbook has them."""
    from optimizer import output

    counties, enrolment = inputs if inputs is not None else (None, None)
    with tempfile.TemporaryDirectory(prefix="quotapool-download-") as tmp:
        path = Path(tmp) / "plan.xlsx"
        output.write_xlsx(
            output.plan_table(table), summary, path, counties=counties, enrolment=enrolment
        )
        return path.read_bytes()


# --- what was edited in the app, and the files that say so -----------------------------------

ENROLMENT_KEYS = ("county_id", "level", "year")


class Inputs(Protocol):
    @property
    def counties(self) -> pd.DataFrame: ...
    @property
    def enrolment(self) -> pd.DataFrame: ...
    @property
    def standards(self) -> Standards: ...
    @property
    def policy(self) -> Policy: ...


def _plain_value(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return None if pd.isna(value) else value


def table_edits(
    table: str, before: pd.DataFrame, after: pd.DataFrame, keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Cells of `after` that differ from `before`, rows matched by their `keys` columns
    (vectorised: a national table is edited as fast as a city's)."""
    if before.equals(after):
        return []
    keys = tuple(k for k in keys if k in before.columns and k in after.columns)
    fields = [c for c in after.columns if c in before.columns and c not in keys]
    both = before.merge(after, on=list(keys), suffixes=("__old", "__new"))
    edits = []
    for field_name in fields:
        old, new = both[f"{field_name}__old"], both[f"{field_name}__new"]
        same = (old.isna() & new.isna()) | (old == new).fillna(False).astype(bool)
        for index in both.index[~same.to_numpy()]:
            where = {k: _plain_value(both.at[index, k]) for k in keys}
            edits.append(
                {"table": table, **where, "field": field_name}
                | {"old": _plain_value(old[index]), "new": _plain_value(new[index])}
            )
    return edits


def settings_edits(before: Inputs, after: Inputs) -> list[dict[str, Any]]:
    """Standards and policy values changed in the settings form."""
    old = {"standards": standards_as_dict(before.standards), "policy": asdict(before.policy)}
    new = {"standards": standards_as_dict(after.standards), "policy": asdict(after.policy)}
    edits = []
    for part in ("standards", "policy"):
        for field_name in new[part]:
            if old[part].get(field_name) != new[part][field_name]:
                edits.append(
                    {"table": part, "field": field_name}
                    | {"old": old[part].get(field_name), "new": new[part][field_name]}
                )
    return edits


def edits_between(before: Inputs, after: Inputs) -> list[dict[str, Any]]:
    """Every difference between two versions of a scenario's inputs and settings."""
    return [
        *table_edits("counties", before.counties, after.counties, ("county_id",)),
        *table_edits("enrolment", before.enrolment, after.enrolment, ENROLMENT_KEYS),
        *settings_edits(before, after),
    ]


def edit_text(edit: dict[str, Any]) -> str:
    """One edit for people: where, which field, old → new."""
    where = [str(edit[k]) for k in ("county_id", "level", "year") if edit.get(k) is not None]
    place = f"{edit['table']} {' '.join(where)}".strip()
    return f"{place} {edit['field']}: {edit['old']} → {edit['new']}"


def scenario_info(
    name: str, edits: list[dict[str, Any]], standards: Standards, policy: Policy
) -> dict[str, Any]:
    """What produced a plan, for its files: the scenario (and whether it was edited), the
    standards and policy it was solved with, and every edit made in the app."""
    return {
        "name": f"{name} (edited)" if edits else name,
        "source": name,
        "edited": bool(edits),
        "standards": standards_as_dict(standards),
        "policy": asdict(policy),
        "edits": edits,
    }


def plan_json(summary: Mapping[str, Any], info: Mapping[str, Any]) -> bytes:
    """summary.json with the scenario that produced it, written as `quotapool plan` writes it."""
    from optimizer import output

    with tempfile.TemporaryDirectory(prefix="quotapool-download-") as tmp:
        path = Path(tmp) / "summary.json"
        output.write_json(output.summary_document(summary, info), path)
        return path.read_bytes()


def summary_for_people(summary: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
    """The summary sheet's content: the scenario's edits one per line, not as JSON records."""
    from optimizer import output

    return output.summary_document(summary, readable_info(info))


def readable_info(info: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario record for a workbook's 测算依据 sheet: the edits one per line."""
    return {**info, "edits": "\n".join(edit_text(e) for e in info["edits"]) or "—"}
