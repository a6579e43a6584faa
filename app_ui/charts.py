"""Charts of a teacher-quota plan: DataFrame in, altair chart out, no Streamlit.

Each chart has a `*_data` function that shapes the plan table into the long format the chart
draws, so that what is drawn can be tested as numbers. The plan table is the one
`optimizer.plan.make_plan` returns (columns county_id, name, need, current, new, ...; plus
`year` for a multi-year plan, of which one year is drawn).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import altair as alt
import pandas as pd


@dataclass(frozen=True)
class ChartLabels:
    """Words on the charts; the app passes the ones of the chosen language."""

    county: str = "区县"
    quota: str = "编制数"
    need: str = "需求"
    current: str = "现有编制"
    new: str = "调整后编制"
    coverage: str = "保障率（编制 / 需求）"
    before: str = "调整前"
    after: str = "调整后"
    scenario: str = "方案"
    series: str = "口径"


ENGLISH = ChartLabels(
    county="County",
    quota="Quota",
    need="Need",
    current="Current",
    new="New",
    coverage="Coverage (quota / need)",
    before="Before",
    after="After",
    scenario="Scenario",
    series="Series",
)


def one_year(table: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """The rows of one plan year (the last one unless `year` is given); all rows if single-year."""
    if "year" not in table.columns or table["year"].isna().all():
        return table
    chosen = int(table["year"].max()) if year is None else year
    return table.loc[table["year"] == chosen]


def county_labels(table: pd.DataFrame) -> pd.Series:
    """The county's name, or "id name" where two counties share a name."""
    names = table["name"].astype(str)
    ids = table["county_id"].astype(str)
    shared = names.duplicated(keep=False)
    return names.where(~shared, ids + " " + names)


def need_current_new_data(
    table: pd.DataFrame, labels: ChartLabels = ChartLabels(), year: int | None = None
) -> pd.DataFrame:
    """Long table: one row per county and series (need, current, new) with its value."""
    rows = one_year(table, year)
    wide = pd.DataFrame(
        {
            "county": county_labels(rows).to_numpy(),
            labels.need: rows["need"].astype(float).to_numpy(),
            labels.current: rows["current"].astype(float).to_numpy(),
            labels.new: rows["new"].astype(float).to_numpy(),
        }
    )
    return wide.melt(id_vars="county", var_name="series", value_name="value")


def need_current_new_chart(
    table: pd.DataFrame, labels: ChartLabels = ChartLabels(), year: int | None = None
) -> alt.Chart:
    """Grouped bars per county: need, current quota and new quota side by side."""
    data = need_current_new_data(table, labels, year)
    order = [labels.need, labels.current, labels.new]
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("county:N", title=labels.county, sort=list(dict.fromkeys(data["county"]))),
            xOffset=alt.XOffset("series:N", sort=order),
            y=alt.Y("value:Q", title=labels.quota),
            color=alt.Color("series:N", title=labels.series, sort=order),
            tooltip=[
                alt.Tooltip("county:N", title=labels.county),
                alt.Tooltip("series:N", title=labels.series),
                alt.Tooltip("value:Q", title=labels.quota, format=",.1f"),
            ],
        )
    )


def _coverage(quota: pd.Series, need: pd.Series) -> pd.Series:
    """quota / need; a county without need has no coverage to show (NaN, not infinity)."""
    need = need.astype(float)
    return quota.astype(float) / need.where(need > 0)


def coverage_data(
    table: pd.DataFrame, labels: ChartLabels = ChartLabels(), year: int | None = None
) -> pd.DataFrame:
    """Long table: one row per county and moment (before, after) with quota / need."""
    rows = one_year(table, year)
    before = (
        rows["coverage_before"]
        if "coverage_before" in rows.columns
        else _coverage(rows["current"], rows["need"])
    )
    after = (
        rows["coverage_after"]
        if "coverage_after" in rows.columns
        else _coverage(rows["new"], rows["need"])
    )
    wide = pd.DataFrame(
        {
            "county": county_labels(rows).to_numpy(),
            labels.before: before.astype(float).to_numpy(),
            labels.after: after.astype(float).to_numpy(),
        }
    )
    return wide.melt(id_vars="county", var_name="moment", value_name="coverage")


def coverage_chart(
    table: pd.DataFrame, labels: ChartLabels = ChartLabels(), year: int | None = None
) -> alt.LayerChart:
    """Coverage ratio per county before and after the plan, with the 100 % line."""
    data = coverage_data(table, labels, year)
    order = [labels.before, labels.after]
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("county:N", title=labels.county, sort=list(dict.fromkeys(data["county"]))),
            xOffset=alt.XOffset("moment:N", sort=order),
            y=alt.Y("coverage:Q", title=labels.coverage, axis=alt.Axis(format="%")),
            color=alt.Color("moment:N", title=labels.series, sort=order),
            tooltip=[
                alt.Tooltip("county:N", title=labels.county),
                alt.Tooltip("moment:N", title=labels.series),
                alt.Tooltip("coverage:Q", title=labels.coverage, format=".1%"),
            ],
        )
    )
    full = (
        alt.Chart(pd.DataFrame({"coverage": [1.0]}))
        .mark_rule(strokeDash=[4, 4])
        .encode(y="coverage:Q")
    )
    return alt.LayerChart(layer=[bars, full])


def comparison_data(plans: Mapping[str, pd.DataFrame], year: int | None = None) -> pd.DataFrame:
    """Long table: one row per scenario and county with its new quota and change.

    Counties are matched by `county_id`; the order is that of the first plan.
    """
    frames = []
    for scenario, table in plans.items():
        rows = one_year(table, year)
        frames.append(
            pd.DataFrame(
                {
                    "scenario": scenario,
                    "county_id": rows["county_id"].astype(str).to_numpy(),
                    "county": county_labels(rows).to_numpy(),
                    "new": rows["new"].astype(int).to_numpy(),
                    "change": (rows["new"].astype(int) - rows["current"].astype(int)).to_numpy(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["scenario", "county_id", "county", "new", "change"])
    return pd.concat(frames, ignore_index=True)


def comparison_chart(
    plans: Mapping[str, pd.DataFrame], labels: ChartLabels = ChartLabels(), year: int | None = None
) -> alt.Chart:
    """Change of quota per county (new − current), one bar per scenario, side by side."""
    data = comparison_data(plans, year)
    scenarios = list(plans)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("county:N", title=labels.county, sort=list(dict.fromkeys(data["county"]))),
            xOffset=alt.XOffset("scenario:N", sort=scenarios),
            y=alt.Y("change:Q", title=f"{labels.new} − {labels.current}"),
            color=alt.Color("scenario:N", title=labels.scenario, sort=scenarios),
            tooltip=[
                alt.Tooltip("scenario:N", title=labels.scenario),
                alt.Tooltip("county:N", title=labels.county),
                alt.Tooltip("new:Q", title=labels.new),
                alt.Tooltip("change:Q", title=f"{labels.new} − {labels.current}"),
            ],
        )
    )
