"""Plan directories for the teacher-plan tests, written as `quotapool plan` writes them
(plan.csv with the SPEC 3.4 columns, summary.json with status, totals and the scenario)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

COLUMNS = (
    "county_id", "name", "need", "current", "new", "change", "shortfall_before",
    "shortfall_after", "limited_by",
)  # fmt: skip

Row = tuple[str, int, int]  # county, current, new


def write_plan_dir(
    path: Path,
    rows: Sequence[Row],
    *,
    status: str = "optimal",
    extra: int = 0,
    years: Sequence[int] | None = None,
    later: Sequence[Sequence[Row]] = (),
    seconds: float = 0.01,
) -> Path:
    """A plan directory: `rows` (the first year), and `later` years' rows for a multi-year
    plan with `years`."""
    path.mkdir(parents=True, exist_ok=True)
    with (path / "plan.csv").open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow((*COLUMNS[:2], "year", *COLUMNS[2:]) if years else COLUMNS)
        for position, year_rows in enumerate([rows, *later]):
            for county, current, new in year_rows:
                cells: list[object] = [county, f"县 {county}"]
                if years:
                    cells.append(years[position])
                cells += [new, current, new, new - current, 0, 0, "covered"]
                writer.writerow(cells)
    summary = {
        "status": status,
        "objective": "fair",
        "solver": "exact",
        "seconds": seconds,
        "total_before": sum(current for _, current, _ in rows),
        "total_after": sum(new for _, _, new in rows),
        "scenario": {"name": path.name, "policy": {"extra_quota": extra}},
    }
    (path / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    return path
