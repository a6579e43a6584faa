"""The units snapshot (SPEC 3.1): one row per unit with its approved quota and headcount.

A snapshot is read with the shared table reader (`pools.tabular`), so English or Chinese
headers, UTF-8/GBK CSV and .xlsx all work and every bad cell is reported with file, row and
column. Besides the SPEC columns the file may carry `sector` [行业/领域] and `parent`
[上级单位]. `headcount` is the number of people on the unit's *own* quota: people hired on
pool quota or on quota borrowed from another unit are tracked by the ledger, not the file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pools.input_errors import InputError, InputErrors
from pools.schema import Column

if TYPE_CHECKING:  # the table reader (and pandas) load only when a snapshot is read
    import pandas as pd

MUNICIPAL = "municipal"
COUNTY = "county"
ADMINISTRATIVE = "administrative"
INSTITUTIONAL = "institutional"

LEVELS = {"municipal": MUNICIPAL, "市级": MUNICIPAL, "市": MUNICIPAL, "county": COUNTY}
LEVELS |= {"县级": COUNTY, "县": COUNTY, "区县": COUNTY}
KINDS = {"administrative": ADMINISTRATIVE, "行政": ADMINISTRATIVE, "行政编制": ADMINISTRATIVE}
KINDS |= {"institutional": INSTITUTIONAL, "事业": INSTITUTIONAL, "事业编制": INSTITUTIONAL}

UNITS_SCHEMA = (
    Column("unit_id", ("单位代码", "单位编码"), unique=True),
    Column("name", ("单位名称",)),
    Column("region", ("所属区划", "区划")),
    Column("level", ("层级",), kind="choice", choices=LEVELS),
    Column("kind", ("编制类型",), kind="choice", choices=KINDS),
    Column("approved", ("核定编制",), kind="int", minimum=0),
    Column("headcount", ("实有人数",), kind="int", minimum=0),
    Column("sector", ("行业", "领域", "行业领域"), required=False, default=""),
    Column("parent", ("上级单位",), required=False, default=""),
)


@dataclass(frozen=True)
class Unit:
    """One unit as a snapshot describes it."""

    unit_id: str
    name: str
    region: str
    level: str
    kind: str
    approved: int
    headcount: int
    sector: str = ""
    parent: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_units(path: str | Path) -> list[Unit]:
    """Read and validate a units snapshot; raises `InputErrors` naming file, row and column."""
    from pools.tabular import read_table

    frame, errors = read_table(path, UNITS_SCHEMA)
    if not errors:
        errors = _parent_errors(frame, Path(path).name)
    if errors:
        raise InputErrors(errors)
    return units_from_frame(frame)


def units_from_frame(frame: pd.DataFrame) -> list[Unit]:
    """Typed units from a validated frame (as `read_table` returns it), column by column (a
    million rows: no dict per row)."""
    rows = len(frame)

    def column(name: str) -> list[Any]:
        return frame[name].tolist() if name in frame.columns else [None] * rows

    return [
        Unit(
            unit_id=str(unit_id),
            name=str(name),
            region=str(region),
            level=str(level),
            kind=str(kind),
            approved=int(approved),
            headcount=int(headcount),
            sector=str(sector or ""),
            parent=str(parent or ""),
        )
        for unit_id, name, region, level, kind, approved, headcount, sector, parent in zip(
            *map(column, ("unit_id", "name", "region", "level", "kind", "approved",
                          "headcount", "sector", "parent")),
            strict=True,
        )
    ]  # fmt: skip


def _parent_errors(frame: pd.DataFrame, file: str) -> list[InputError]:
    """A parent, when given, must be another unit of the same snapshot."""
    known = set(frame["unit_id"])
    errors = []
    for row, parent in frame["parent"].items():
        if parent and parent not in known:
            errors.append(
                InputError(
                    file,
                    f"parent unit '{parent}' is not in this file",
                    row=int(row),  # type: ignore[call-overload]
                    column="parent [上级单位]",
                )
            )
    return errors
