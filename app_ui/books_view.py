"""The pools page's quota-use plans (用编计划, SPEC 2.7) and problem ledger (问题台账, SPEC 2.8):
tables for everyone, forms for those who may write to the ledger (approvers).

The forms call the ledger's own functions through `ledger_access.write` (role checked again,
a refusal shown with its rule in the app's language); no rule lives here. After a successful
write the form is emptied, so the next write cannot carry the previous 文号.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from app_ui import form_state
from app_ui.components.downloads import csv_and_report
from app_ui.labels import lang, t
from app_ui.ledger_access import flash, unit_label, write
from app_ui.signin import current_user
from pools import access
from pools.access import Action
from pools.ledger import Ledger
from pools.rules.useplans import Channel

PLANS_SOURCE = "quotapool 应用：周转池页 / app: pools page"
PLAN_KEY = "useplan_key"  # one idempotency key per filled-in form: submitted twice, one plan
PLAN_COLUMNS = (
    "plan_id", "unit_id", "count", "channel", "purpose", "approved_on", "until", "document",
    "used", "lapsed", "withdrawn", "reserved", "status",
)  # fmt: skip
PROBLEM_COLUMNS = (
    "problem_id", "unit_id", "kind", "document", "opened_on", "deadline", "age_days",
    "automatic", "status", "closed_on", "close_reason",
)  # fmt: skip


def _choose_first_if_gone(key: str, options: list[str]) -> None:
    """A selectbox over ledger ids whose chosen id has gone (closed, withdrawn) or that had
    none shows the first one that is there."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0] if options else None


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    for column in ("status",):
        if column in frame:
            frame[column] = frame[column].map(lambda s: t(f"book_status_{s}"))
    return frame.rename(columns={c: f"{t(f'book_col_{c}')} {c}" for c in columns})


def render(the_ledger: Ledger, status: dict[str, Any]) -> None:
    """Both sections, below the pools and loans."""
    writer = access.can(current_user(), Action.WRITE_LEDGER)
    units = {u["unit_id"]: u for u in status["units"]}
    today = date.fromisoformat(status["as_of"])
    plans_section(the_ledger, status, units, today, writer)
    problems_section(the_ledger, units, today, writer)


# ---- quota-use plans ------------------------------------------------------------------------


def plans_section(
    the_ledger: Ledger,
    status: dict[str, Any],
    units: dict[str, dict[str, Any]],
    today: date,
    writer: bool,
) -> None:
    st.header(t("useplans_title"))
    books = status["useplans"]
    city = books["city"]
    cols = st.columns(4)
    for col, name in zip(cols, ("approved", "used", "lapsed", "reserved"), strict=True):
        col.metric(t(f"book_col_{name}"), city[name])
    if books["plans"]:
        shown = _frame(books["plans"], PLAN_COLUMNS)
        st.dataframe(shown, hide_index=True)
        language = lang()

        def workbook() -> bytes:
            from pools.books_reports import useplans_book

            return useplans_book(the_ledger, lang=language, source=PLANS_SOURCE)

        csv_and_report(shown, workbook, "useplans")
    else:
        st.caption(t("useplans_none"))
    if not writer:
        return
    left, right = st.columns(2)
    with left:
        approve_form(the_ledger, units, today)
    with right:
        withdraw_form(the_ledger, books["plans"], today)
        hire_form(the_ledger, units, today)


def approve_form(the_ledger: Ledger, units: dict[str, dict[str, Any]], today: date) -> None:
    form_state.seed(
        "approve_plan",
        {"plan_count": 1, "plan_purpose": "", "plan_document": "", "plan_reason": ""}
        | {"plan_until": date(today.year, 12, 31), PLAN_KEY: uuid.uuid4().hex},
    )
    with st.form("approve_plan"):
        st.subheader(t("approve_plan"))
        unit_id = st.selectbox(
            t("unit"), list(units), format_func=unit_label(units), key="plan_unit"
        )
        count = st.number_input(t("book_col_count"), min_value=1, step=1, key="plan_count")
        channel = st.selectbox(
            t("book_col_channel"),
            [c.value for c in Channel],
            format_func=lambda c: t(f"channel_{Channel(c).name.lower()}"),
            key="plan_channel",
        )
        purpose = st.text_input(t("book_col_purpose"), key="plan_purpose")
        until = st.date_input(t("book_col_until"), key="plan_until")
        document = st.text_input(t("document"), key="plan_document")
        reason = st.text_input(t("reason"), key="plan_reason")
        submitted = st.form_submit_button(t("submit_approve_plan"))
    if not submitted:
        return
    result = write(
        lambda: the_ledger.approve_plan(
            unit_id=unit_id,
            count=int(count),
            channel=channel,
            purpose=purpose,
            until=until,
            actor=current_user().actor,
            key=st.session_state[PLAN_KEY],
            effective=today,
            reason=reason,
            document=document,
        )
    )
    _done("approve_plan", result, "plan_approved", lambda r: r["plan_id"])


def withdraw_form(the_ledger: Ledger, plans: list[dict[str, Any]], today: date) -> None:
    open_plans = [p["plan_id"] for p in plans if p["status"] == "open"]
    plan_id, reason, document = _pick_with_reason("withdraw_plan", "plan_id", open_plans)
    if plan_id is None:
        return
    result = write(
        lambda: the_ledger.withdraw_plan(
            plan_id, actor=current_user().actor, reason=reason, document=document, effective=today
        )
    )
    _done("withdraw_plan", result, "plan_withdrawn", lambda r: r["plan_id"])


def hire_form(the_ledger: Ledger, units: dict[str, dict[str, Any]], today: date) -> None:
    """A hire recorded by hand (SPEC 2.7): posted against the unit's plans by the ledger."""
    form_state.seed("record_hire", {"hire_count": 1, "hire_document": "", "hire_reason": ""})
    with st.form("record_hire"):
        st.subheader(t("record_hire"))
        unit_id = st.selectbox(
            t("unit"), list(units), format_func=unit_label(units), key="hire_unit"
        )
        count = st.number_input(t("hire_count"), min_value=1, step=1, key="hire_count")
        document = st.text_input(t("document"), key="hire_document")
        reason = st.text_input(t("reason"), key="hire_reason")
        submitted = st.form_submit_button(t("submit_record_hire"))
    if not submitted:
        return
    result = write(
        lambda: the_ledger.record_hire(
            unit_id,
            int(count),
            actor=current_user().actor,
            effective=today,
            reason=reason,
            document=document,
        )
    )
    _done("record_hire", result, "hire_recorded", lambda r: f"{r['unit_id']} {r['hired']}")


def _pick_with_reason(form: str, id_column: str, options: list[str]) -> tuple[str | None, str, str]:
    """A form that picks one open plan or problem and states a reason and a 文号: the id
    chosen once submitted (None before), the reason and the 文号."""
    form_state.seed(form, {f"{form}_reason": "", f"{form}_document": ""})
    with st.form(form):
        st.subheader(t(form))
        _choose_first_if_gone(f"{form}_id", options)
        chosen = st.selectbox(t(f"book_col_{id_column}"), options, key=f"{form}_id")
        reason = st.text_input(t("reason"), key=f"{form}_reason")
        document = st.text_input(t("document"), key=f"{form}_document")
        submitted = st.form_submit_button(t(f"submit_{form}"))
    return (chosen if submitted else None), reason, document


def _done(
    form: str, result: dict[str, Any] | None, message: str, written: Callable[[dict], str]
) -> None:
    """After a write: say what was written (and any warning it carries), empty the form and
    show the ledger as it now is. A refused write (None) was shown by `write`."""
    if result is None:
        return
    flash("success", f"{t(message)}: {written(result)}")
    for warning in result.get("warnings", []):
        flash("warning", warning["message_zh"] if lang() == "zh" else warning["message_en"])
    form_state.clear(form)
    st.rerun()


# ---- problems -------------------------------------------------------------------------------


def problems_section(
    the_ledger: Ledger, units: dict[str, dict[str, Any]], today: date, writer: bool
) -> None:
    st.header(t("problems_title"))
    only_open = st.toggle(t("problems_only_open"), value=True, key="problems_only_open")
    problems = the_ledger.problems(only_open=only_open)
    if problems:
        st.dataframe(_frame(problems, PROBLEM_COLUMNS), hide_index=True)
    else:
        st.caption(t("problems_none"))
    _quarterly_report(the_ledger, today)
    if not writer:
        return
    left, right = st.columns(2)
    with left:
        open_problem_form(the_ledger, units, today)
    with right:
        open_ids = [p["problem_id"] for p in problems if p["status"] == "open"]
        if not only_open:
            open_ids = [p["problem_id"] for p in the_ledger.problems(only_open=True)]
        close_problem_form(the_ledger, open_ids, today)


def _quarterly_report(the_ledger: Ledger, today: date) -> None:
    """季通报 of the quarter the ledger is in, as the office's report workbook."""
    from pools.report_book import XLSX_MIME

    quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    language = lang()

    def workbook() -> bytes:
        from pools.books_reports import problem_report_book

        return problem_report_book(the_ledger, quarter, lang=language, source=PLANS_SOURCE)

    left, _right = st.columns(2)  # laid out as the tables' CSV / Excel pairs
    left.download_button(
        t("problem_report_xlsx").format(quarter=quarter),
        workbook,
        file_name=f"problems-{quarter}.xlsx",
        mime=XLSX_MIME,
        key="problem_report_xlsx",
    )


def open_problem_form(the_ledger: Ledger, units: dict[str, dict[str, Any]], today: date) -> None:
    kinds = list(the_ledger.settings().problem_kinds)
    form_state.seed(
        "open_problem",
        {"problem_document": "", "problem_reason": "", "problem_deadline": today + timedelta(90)},
    )
    with st.form("open_problem"):
        st.subheader(t("open_problem"))
        unit_id = st.selectbox(
            t("unit"), list(units), format_func=unit_label(units), key="problem_unit"
        )
        kind = st.selectbox(t("book_col_kind"), kinds, key="problem_kind")
        deadline = st.date_input(t("book_col_deadline"), key="problem_deadline")
        document = st.text_input(t("document"), key="problem_document")
        reason = st.text_input(t("reason"), key="problem_reason")
        submitted = st.form_submit_button(t("submit_open_problem"))
    if not submitted:
        return
    result = write(
        lambda: the_ledger.open_problem(
            unit_id=unit_id,
            kind=kind,
            deadline=deadline,
            actor=current_user().actor,
            reason=reason,
            document=document,
            effective=today,
        )
    )
    _done("open_problem", result, "problem_opened", lambda r: r["problem"]["problem_id"])


def close_problem_form(the_ledger: Ledger, open_ids: list[str], today: date) -> None:
    problem_id, reason, document = _pick_with_reason("close_problem", "problem_id", open_ids)
    if problem_id is None:
        return
    result = write(
        lambda: the_ledger.close_problem(
            problem_id,
            actor=current_user().actor,
            reason=reason,
            document=document,
            effective=today,
        )
    )
    _done("close_problem", result, "problem_closed", lambda r: r["problem"]["problem_id"])
