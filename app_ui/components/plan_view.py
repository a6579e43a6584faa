"""A solved plan: heading naming what was solved, figures, table, charts and downloads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from app_ui import charts, numbers, scenarios
from app_ui.labels import PLAN_HEADERS_ZH, lang, t, t_or
from app_ui.plain import plain
from optimizer.need import Standards
from optimizer.plan import LIMITED_BY_EN, LIMITED_BY_ZH, TABLE_COLUMNS, PlanResult, Policy

# Plan columns are shown in both languages whatever the switch says: plans are shared. The
# allowed bounds and the Chinese reason column stay in the files (limited_by follows the switch).
# The reason comes right after the change it explains, so it is on screen without scrolling.
HIDDEN_COLUMNS = {
    "relative_shortfall_after",
    "lowest_allowed",
    "highest_allowed",
    "limited_by_zh",
    "explanation_zh",
}
LEADING_COLUMNS = ("year", "county_id", "name", "need", "current", "new", "change", "limited_by")
PLAN_COLUMNS = (
    *LEADING_COLUMNS,
    *(c for c in TABLE_COLUMNS if c not in HIDDEN_COLUMNS and c not in LEADING_COLUMNS),
)


def plan_header(column: str) -> str:
    from optimizer.output import HEADERS_ZH

    chinese = PLAN_HEADERS_ZH.get(column) or HEADERS_ZH.get(column, "")
    return f"{chinese} {column}".strip()


def chart_labels() -> charts.ChartLabels:
    return charts.ENGLISH if lang() == "en" else charts.ChartLabels()


def with_totals(table: pd.DataFrame) -> pd.DataFrame:
    """The plan with a totals row (合计), one per year for a multi-year plan, as in plan.xlsx:
    quotas and shortfalls summed, ratios and reasons left empty."""
    from optimizer.output import SUMMED, TOTAL_LABEL

    summed = [c for c in SUMMED if c in table.columns]
    if "year" in table.columns and table["year"].notna().any():
        rows = [
            {"county_id": f"{TOTAL_LABEL} {year}", "year": year, **group[summed].sum()}
            for year, group in table.groupby("year", sort=True)
        ]
    else:
        rows = [{"county_id": TOTAL_LABEL, **table[summed].sum()}]
    return pd.concat([table, pd.DataFrame(rows)], ignore_index=True)


def plan_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """The plan with its totals, bilingual headers and the reason in the chosen language."""
    reasons = LIMITED_BY_EN if lang() == "en" else LIMITED_BY_ZH
    shown = table.assign(limited_by=table["limited_by"].map(lambda c: reasons.get(c, c)))
    if "explanation_zh" in table.columns and lang() == "zh":  # the county's row in words
        shown = shown.assign(explanation=table["explanation_zh"])
    columns = [c for c in PLAN_COLUMNS if c in shown.columns]
    return with_totals(shown[columns]).rename(columns={c: plan_header(c) for c in columns})


def show_plan_table(table: pd.DataFrame) -> None:
    """The plan table, figures formatted as everywhere in the app (`app_ui.numbers`)."""
    from optimizer.output import FRACTIONAL, RATIOS

    numbers.show_table(
        plan_for_display(table),
        fractions={plan_header(c) for c in FRACTIONAL},
        percents={plan_header(c) for c in RATIOS},
        plain={plan_header("year")},
        config={plan_header("limited_by"): st.column_config.TextColumn(width="large")},
        key="plan_table",
    )


def edition_label(standards: Standards) -> str:
    return t("edition_2014" if standards.by_class is None else "edition_2001")


def objective_label(objective: str) -> str:
    return t_or(f"objective_{objective}", objective)


def solved_with(standards: Standards, policy: Policy) -> str:
    """The settings a plan was computed from, in words."""
    return (
        f"{t('solved_with')}: {edition_label(standards)} · {objective_label(policy.objective)}"
        f" · {t('solver')} {policy.solver} · {t('solved_extra')} {policy.extra_quota}"
    )


def show_summary(summary: dict[str, Any]) -> None:
    status = summary.get("status", "error")
    if status != "optimal":
        st.error(t_or(f"status_{status}", status))
        lines = summary.get("explanation_zh" if lang() == "zh" else "explanation") or summary.get(
            "explanation", []
        )
        for line in lines:
            st.markdown(f"- {plain(line)}")
        return
    objective = objective_label(str(summary.get("objective")))
    st.success(f"{t('status_optimal')} · {summary.get('solver')} · {objective}")
    cells = st.columns(6)
    cells[0].metric(t("total_before"), numbers.whole(summary["total_before"]))
    cells[1].metric(t("total_after"), numbers.whole(summary["total_after"]))
    cells[2].metric(t("max_relative_shortfall"), numbers.percent(summary["max_relative_shortfall"]))
    cells[3].metric(t("total_shortfall"), numbers.fraction(summary["total_shortfall"]))
    cells[4].metric(t("moved"), numbers.whole(summary["moved"]))
    cells[5].metric(t("seconds"), f"{summary['seconds']:.3f}")


def show_chart(chart: Any) -> None:
    """Draw an altair chart without re-validating its schema on every rerun.

    The chart builders' specs are validated in their tests (tests/app/test_charts.py);
    skipping the JSON-schema check here saves most of the time a re-solve takes.
    """
    st.vega_lite_chart(chart.to_dict(validate=False))


def solved_name(info: Mapping[str, Any]) -> str:
    """The scenario's name, marked when its inputs or settings were edited in the app."""
    return f"{info['source']}{t('edited_mark')}" if info["edited"] else str(info["source"])


def show_plan(
    info: Mapping[str, Any],
    standards: Standards,
    policy: Policy,
    result: PlanResult,
    inputs: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> None:
    """The plan of `info` (`scenarios.scenario_info`) solved with `standards` and `policy`;
    `inputs` (counties, enrolment) add students and staff to the downloaded workbook."""
    st.header(f"{t('plan')}: {solved_name(info)} · {edition_label(standards)}")
    st.caption(solved_with(standards, policy))
    if info["edited"]:
        st.caption(f"{t('edits_made')}: {len(info['edits'])}")
    show_summary(result.summary)
    if result.summary.get("status") != "optimal":
        return
    table = result.table
    show_plan_table(table)
    left, right = st.columns(2)
    with left:
        st.subheader(t("chart_need"))
        show_chart(charts.need_current_new_chart(table, chart_labels()))
    with right:
        st.subheader(t("chart_coverage"))
        show_chart(charts.coverage_chart(table, chart_labels()))
    _downloads(info, result, inputs)


def download_stem(info: Mapping[str, Any]) -> str:
    """Downloads are named by what was solved: the scenario, and "edited" if it was."""
    return f"{info['source']}-edited" if info["edited"] else str(info["source"])


def _downloads(
    info: Mapping[str, Any],
    result: PlanResult,
    inputs: tuple[pd.DataFrame, pd.DataFrame] | None,
) -> None:
    # Files are written only when a button is clicked: re-solving stays instant.
    table, summary, stem = result.table, result.summary, download_stem(info)
    first, second, third = st.columns(3)
    first.download_button(
        t("download_csv"),
        lambda: scenarios.plan_csv(table),
        file_name=f"{stem}-plan.csv",
        mime="text/csv",
    )
    second.download_button(
        t("download_xlsx"),
        lambda: scenarios.plan_xlsx(table, scenarios.summary_for_people(summary, info), inputs),
        file_name=f"{stem}-plan.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    third.download_button(
        t("download_json"),
        lambda: scenarios.plan_json(summary, info),
        file_name=f"{stem}-summary.json",
        mime="application/json",
    )
