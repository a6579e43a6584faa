"""The what-if page's uncertainty panel (SPEC 2.11): a sweep of the scenario on screen.

The planner picks the number of futures, the relative error of enrolment, the quantile, the
seed and how many local processes solve; the sweep (`app_ui.sweeps`, i.e. `optimizer.sweep`
as `quotapool sweep` runs it) reports per county the shortfall over the futures under the
current plan and under the robust plan, the headline figures of both, and the robust plan
to download. A sweep shown is the one of the inputs on screen: after any edit it is dropped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import partial
from typing import Any

import streamlit as st

from app_ui import fan_charts, messages, numbers, scenarios, sweeps
from app_ui.components.plan_view import download_stem, plan_for_display, plan_header, show_chart
from app_ui.labels import lang, t
from app_ui.numbers import fraction, percent, whole
from app_ui.session import WhatIfSession
from pools.tabular import InputErrors

RESULT_KEY = "sweep_result"  # (fingerprint, SweepView) of the last sweep run


def tables_of(current: WhatIfSession) -> sweeps.WhatIfTables:
    return sweeps.WhatIfTables(
        current.name,
        current.counties,
        current.enrolment,
        current.departures,
        current.standards,
        current.policy,
    )


def _request(current: WhatIfSession) -> sweeps.SweepRequest:
    default_error = current.relative_error
    if default_error is None:
        default_error = sweeps.DEFAULT_ERROR
    left, middle, right = st.columns(3)
    draws = left.number_input(
        t("sweep_draws"), 1, sweeps.MAX_DRAWS, sweeps.DEFAULT_DRAWS, step=50, key="sweep_draws"
    )
    error = middle.number_input(
        t("sweep_error"),
        0.0,
        1.0,
        float(default_error),
        step=0.01,
        format="%.3f",
        key=f"sweep_error_{current.version}",  # a new scenario brings its own default
    )
    quantile = right.number_input(
        t("sweep_quantile"), 0.0, 0.5, 0.0, step=0.05, format="%.2f", key="sweep_quantile"
    )
    left, right = st.columns(2)
    seed = left.number_input(t("sweep_seed"), 0, 2**31 - 1, 0, step=1, key="sweep_seed")
    cpus = os.cpu_count() or 1
    workers = right.number_input(t("sweep_workers"), 1, cpus, 1, step=1, key="sweep_workers")
    return sweeps.SweepRequest(int(draws), float(error), float(quantile), int(seed), int(workers))


def _run(tables: sweeps.WhatIfTables, request: sweeps.SweepRequest) -> sweeps.SweepView | None:
    """The sweep with a progress bar; None after showing why it could not run."""
    from optimizer.sweep import Infeasible

    bar = st.progress(0.0, text=t("sweep_running").format(done=0, total=request.draws))
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        text = t("sweep_running").format(done=done, total=request.draws)
        bar.progress(done / request.draws, text=text)

    try:
        view = sweeps.run(tables, request, advance)
    except InputErrors as errors:
        messages.show_input_errors(errors)
        return None
    except Infeasible as exc:
        st.error(t("sweep_infeasible"))
        st.code("\n".join(exc.chinese if lang() == "zh" else exc.english))
        return None
    finally:
        bar.empty()
    return view


def _headline(view: sweeps.SweepView) -> None:
    document = view.document
    for key, label in (("baseline", "plan_current"), ("robust", "plan_robust")):
        figures = document[key]
        cells = st.columns(4)
        cells[0].markdown(f"**{t(label)}**")
        cells[1].metric(t("sweep_worst"), percent(figures["max_relative_shortfall"]))
        cells[2].metric(t("sweep_expected"), fraction(figures["expected_total_shortfall"]))
        cells[3].metric(t("sweep_moved"), whole(figures["moved"]))


def _fan(view: sweeps.SweepView) -> None:
    st.markdown(f"**{t('sweep_fan')}**")
    words = {"current": t("plan_current"), "robust": t("plan_robust")}
    data = view.fan.assign(plan=view.fan["plan"].map(words))
    show_chart(fan_charts.shortfall_fan_chart(data, t("county"), t("shortfall"), t("plan_kind")))


def _robust_table(view: sweeps.SweepView) -> None:
    from optimizer.output import FRACTIONAL, RATIOS

    st.markdown(f"**{t('sweep_robust_table')}**")
    numbers.show_table(
        plan_for_display(view.plan),
        fractions={plan_header(c) for c in FRACTIONAL},
        percents={plan_header(c) for c in RATIOS},
        plain={plan_header("year")},
        key="robust_plan_table",
    )


def _robust_file(view: sweeps.SweepView, info: Mapping[str, Any], name: str) -> bytes:
    return sweeps.robust_files(view, info)[name]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _downloads(view: sweeps.SweepView, info: Mapping[str, Any]) -> None:
    # Files are written only when a button is clicked, as the plan's downloads are; the
    # workbook's 测算依据 sheet lists the edits one per line, as the plan's does.
    stem = f"{download_stem(info)}-robust"
    readable = scenarios.readable_info(info)
    kinds = (("csv", "text/csv"), ("xlsx", XLSX))
    for column, (kind, mime) in zip(st.columns(2), kinds, strict=True):
        column.download_button(
            t(f"download_robust_{kind}"),
            partial(_robust_file, view, readable, f"plan.{kind}"),
            f"{stem}-plan.{kind}",
            mime,
            key=f"robust_{kind}",
        )


def show(view: sweeps.SweepView, info: Mapping[str, Any]) -> None:
    outcome = view.outcome
    seconds = f"{outcome.draws.wall_seconds + outcome.seconds['robust']:.1f}"
    settings = outcome.settings
    done = t("sweep_done").format(draws=settings.draws, seed=settings.seed, seconds=seconds)
    st.success(done)
    if len(outcome.instance.years) > 1:
        st.caption(t("sweep_year").format(year=outcome.instance.year))
    _headline(view)
    _fan(view)
    _robust_table(view)
    _downloads(view, info)


def uncertainty_panel(current: WhatIfSession, info: Mapping[str, Any]) -> None:
    """The panel under the plan: settings, run button, and the sweep of these inputs."""
    with st.expander(t("uncertainty")):
        st.caption(t("uncertainty_intro"))
        request = _request(current)
        tables = tables_of(current)
        key = tables.fingerprint(request)
        if st.button(t("sweep_run"), key="sweep_run"):
            view = _run(tables, request)
            st.session_state[RESULT_KEY] = None if view is None else (key, view)
        shown = st.session_state.get(RESULT_KEY)
        if shown is None:
            return
        if shown[0] != key:
            st.info(t("sweep_stale"))
            return
        show(shown[1], info)
