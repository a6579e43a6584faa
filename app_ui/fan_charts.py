"""Charts of projections and sweeps: DataFrame in, Altair chart out, no Streamlit.

- `fan_chart`: projected students per year, a line for the figure and a shaded band from
  `low` to `high`, one colour per school level;
- `departures_chart`: departures per year as stacked bars (retirements, other departures);
- `shortfall_fan_chart`: per county the shortfall over the futures of a sweep, p10–p90 as a
  bar and p50 as a tick, one colour per plan (current and robust).

Words come in as arguments, so that the app passes the ones of the chosen language.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd


def fan_chart(
    bands: pd.DataFrame, level_words: Mapping[str, str], year: str, students: str, level: str
) -> alt.LayerChart:
    """`bands`: level, year, students, low, high (one county, or the city's sums)."""
    data = bands.assign(level=bands["level"].map(lambda code: level_words.get(code, code)))
    order = list(dict.fromkeys(data["level"]))
    base = alt.Chart(data).encode(
        x=alt.X("year:O", title=year),
        color=alt.Color("level:N", title=level, sort=order),
    )
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y("low:Q", title=students), y2=alt.Y2("high:Q")
    )
    tooltip = [
        alt.Tooltip("level:N", title=level),
        alt.Tooltip("year:O", title=year),
        alt.Tooltip("students:Q", title=students, format=","),
        alt.Tooltip("low:Q", format=","),
        alt.Tooltip("high:Q", format=","),
    ]
    line = base.mark_line(point=True).encode(y="students:Q", tooltip=tooltip)
    return alt.LayerChart(layer=[band, line])


def departures_data(by_year: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """Long table: year, kind (in words), people; `kinds` maps columns to their words."""
    long = by_year.melt(id_vars="year", value_vars=list(kinds), var_name="kind", value_name="n")
    return long.assign(kind=long["kind"].map(kinds))


def departures_chart(
    by_year: pd.DataFrame, kinds: Mapping[str, str], year: str, people: str, kind: str
) -> alt.Chart:
    """Stacked bars per year: retirements and other departures (columns named in `kinds`)."""
    data = departures_data(by_year, kinds)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title=year),
            y=alt.Y("n:Q", title=people, stack=True),
            color=alt.Color("kind:N", title=kind, sort=list(kinds.values())),
            tooltip=[
                alt.Tooltip("year:O", title=year),
                alt.Tooltip("kind:N", title=kind),
                alt.Tooltip("n:Q", title=people, format=","),
            ],
        )
    )


def shortfall_fan_chart(
    data: pd.DataFrame, county: str, shortfall: str, plan: str
) -> alt.LayerChart:
    """`data`: county, plan, p10, p50, p90 (shortfall in quotas): a bar from p10 to p90 and a
    tick at p50 per county, plans side by side."""
    counties = list(dict.fromkeys(data["county"]))
    plans = list(dict.fromkeys(data["plan"]))
    base = alt.Chart(data).encode(
        x=alt.X("county:N", title=county, sort=counties),
        xOffset=alt.XOffset("plan:N", sort=plans),
        color=alt.Color("plan:N", title=plan, sort=plans),
    )
    tooltip = [
        alt.Tooltip("county:N", title=county),
        alt.Tooltip("plan:N", title=plan),
        *(alt.Tooltip(f"{p}:Q", format=",.1f") for p in ("p10", "p50", "p90")),
    ]
    spread = base.mark_bar(opacity=0.5).encode(
        y=alt.Y("p10:Q", title=shortfall), y2="p90:Q", tooltip=tooltip
    )
    middle = base.mark_tick(thickness=2).encode(y="p50:Q", tooltip=tooltip)
    return alt.LayerChart(layer=[spread, middle])
