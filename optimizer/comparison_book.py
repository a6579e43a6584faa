"""The scenario comparison as a report-grade workbook (SPEC 3.7): the new quota of every county
in each scenario side by side with the change against the first, the headline figures of each
scenario side by side, and 测算依据 naming each scenario's standards, policy and edits.

Laid out by `pools.report_book`, as plan.xlsx is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from optimizer.output import OBJECTIVE_TEXT, basis_lines, moved_and_movement, summary_document
from pools.report_book import (
    CHANGE_FORMAT,
    FRACTION_FORMAT,
    RATIO_FORMAT,
    WHOLE_FORMAT,
    Column,
    NoteLine,
    Report,
    write_report,
)

TITLE = "教师编制调整方案对比 / Comparison of teacher quota plans"
HEADLINE_TITLE = "教师编制调整方案主要指标对比 / Headline figures of the plans"
NEW_QUOTA = ("调整后编制", "New quota")


@dataclass(frozen=True)
class Compared:
    """A scenario in the comparison: its name (as in the table), its plan's summary and what
    produced it (`app_ui.scenarios.scenario_info`, plus e.g. who saved it)."""

    name: str
    summary: Mapping[str, Any]
    info: Mapping[str, Any] = field(default_factory=dict)
    plan: pd.DataFrame | None = None


def county_columns(names: Sequence[str]) -> tuple[Column, ...]:
    """County, then each scenario's new quota, then each later one's change against the
    first (`app_ui.scenarios.comparison_table`'s columns)."""
    first = names[0] if names else ""
    change = (f"与 {first} 相比增减", f"change vs {first}")
    return (
        Column("county_id", "区划代码", "County"),
        Column("county", "区划名称", "Name"),
        *(Column(name, name, name, WHOLE_FORMAT, total=True, group=NEW_QUOTA) for name in names),
        *(
            Column(f"Δ {name}", name, f"Δ {name}", CHANGE_FORMAT, total=True, group=change)
            for name in names[1:]
        ),
    )


HEADLINE_COLUMNS = (
    Column("scenario", "方案", "Scenario"),
    Column("total_before", "调整前编制总数", "Quota before", WHOLE_FORMAT),
    Column("total_after", "调整后编制总数", "Quota after", WHOLE_FORMAT),
    Column("moved", "调整编制数", "Quotas moved", WHOLE_FORMAT),
    Column("total_shortfall", "缺口合计", "Total shortfall", FRACTION_FORMAT),
    Column("max_relative_shortfall", "最大相对缺口", "Largest relative shortfall", RATIO_FORMAT),
    Column("objective", "优化目标", "Objective", wrap=True, max_width=36),
)


def headline(compared: Sequence[Compared]) -> pd.DataFrame:
    """One row per scenario: quota before and after, quotas moved (each once), shortfall."""
    rows = []
    for scenario in compared:
        summary = scenario.summary
        plan = scenario.plan if scenario.plan is not None else pd.DataFrame()
        moved, _ = moved_and_movement(summary, plan)
        objective = summary.get("objective")
        rows.append(
            {
                "scenario": scenario.name,
                "total_before": summary.get("total_before"),
                "total_after": summary.get("total_after"),
                "moved": moved,
                "total_shortfall": summary.get("total_shortfall"),
                "max_relative_shortfall": summary.get("max_relative_shortfall"),
                "objective": OBJECTIVE_TEXT.get(str(objective), objective),
            }
        )
    return pd.DataFrame(rows, columns=[column.key for column in HEADLINE_COLUMNS])


def comparison_notes(compared: Sequence[Compared], today: dt.date) -> list[NoteLine]:
    """Each scenario's 测算依据 (inputs, standards, policy, edits), its name in front."""
    lines: list[NoteLine] = []
    for scenario in compared:
        document = summary_document(scenario.summary, {"name": scenario.name, **scenario.info})
        for section, item, content, digest in basis_lines(document, today):
            if item.startswith("制表日期"):
                continue
            lines.append((f"{scenario.name} · {section}", item, content, digest))
        for key, item in (("saved_by", "保存人 Saved by"), ("saved_at", "保存时间 Saved at")):
            if scenario.info.get(key):
                lines.append((f"{scenario.name} · 方案 Scenario", item, scenario.info[key], None))
    lines.append(("本表 This table", "制表日期 Date", today.isoformat(), None))
    return lines


def comparison_book(
    table: pd.DataFrame, compared: Sequence[Compared], today: dt.date | None = None
) -> bytes:
    """The comparison workbook: counties side by side, headline figures, 测算依据."""
    day = today or dt.date.today()
    names = [scenario.name for scenario in compared]
    counties = Report("方案对比 Comparison", TITLE, county_columns(names), table, frozen=2)
    figures = Report(
        "主要指标 Headline", HEADLINE_TITLE, HEADLINE_COLUMNS, headline(compared), frozen=1
    )
    return write_report(
        [counties, figures],
        comparison_notes(compared, day),
        notes_sheet_name="测算依据 Basis",
        notes_title="测算依据 Basis of the comparison",
        today=day,
    )
