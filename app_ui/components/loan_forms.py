"""The approver's forms: open, return and evaluate loans, rebuild the institutional pool and
apply a headcount snapshot.

Every write is done through `ledger_access.write` (role checked again, refusals shown with
their rule); after a write the page shows the ledger again with a message.
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import streamlit as st

from app_ui.components.pool_view import LAST_SYNC_RETURNS
from app_ui.labels import t, translated
from app_ui.ledger_access import flash, unit_label, write
from app_ui.signin import current_user
from pools.ledger import Ledger
from pools.tabular import InputErrors

OPEN_KEY = "open_loan_key"  # one key per filled-in form: submitted twice, one loan


def open_loan_form(the_ledger: Ledger, status: dict[str, Any]) -> None:
    units = {u["unit_id"]: u for u in status["units"]}
    key = st.session_state.setdefault(OPEN_KEY, uuid.uuid4().hex)
    with st.form("open_loan"):
        st.subheader(t("open_loan"))
        request = _open_loan_fields(units, the_ledger)
        submitted = st.form_submit_button(t("submit_open"))
    if not submitted:
        return
    result = write(lambda: the_ledger.open_loan(**request, actor=current_user().actor, key=key))
    if result is None:
        return
    if result["replayed"]:
        flash("info", f"{t('replayed')} {result['loan_id']}")
    else:
        flash("success", f"{t('opened')}: {result['loan_id']}")
    del st.session_state[OPEN_KEY]
    st.rerun()


def _open_loan_fields(units: dict[str, dict[str, Any]], the_ledger: Ledger) -> dict[str, Any]:
    source = st.selectbox(
        t("from_pool"),
        ["admin", "institutional", "unit"],
        format_func=lambda p: t(f"pool_choice_{p}"),
        key=translated("loan_pool"),
    )
    lender = st.selectbox(
        t("lender"), list(units), format_func=unit_label(units), key="loan_lender"
    )
    borrower = st.selectbox(
        t("borrower"), list(units), format_func=unit_label(units), key="loan_borrower"
    )
    count = st.number_input(t("count"), min_value=1, value=1, step=1, key="loan_count")
    settings = the_ledger.settings()
    purposes = sorted({*settings.admin_purposes, *settings.institutional_purposes})
    purpose = st.selectbox(t("purpose"), purposes, accept_new_options=True, key="loan_purpose")
    term = st.number_input(t("term_years"), min_value=0, value=0, step=1, key="loan_term")
    reason = st.text_input(t("reason"), key="loan_reason")
    document = st.text_input(t("document"), key="loan_document")
    return {
        "pool": f"unit:{lender}" if source == "unit" else str(source),
        "unit_id": str(borrower),
        "count": int(count),
        "purpose": str(purpose or ""),
        "term_years": int(term) or None,
        "reason": reason,
        "document": document,
    }


def _fresh_choice(key: str, options: list[str]) -> None:
    """Forget a picked loan that is no longer offered, so the list starts at its first one."""
    if st.session_state.get(key) not in options:
        st.session_state.pop(key, None)


def return_form(the_ledger: Ledger, loans: list[dict[str, Any]]) -> None:
    open_loans = [x["loan_id"] for x in loans if x["status"] != "closed"]
    _fresh_choice("ret_loan", open_loans)
    with st.form("return_loan"):
        st.subheader(t("return_loan"))
        loan_id = st.selectbox(t("loan"), open_loans, key="ret_loan")
        count = st.number_input(t("return_count"), min_value=0, value=0, step=1, key="ret_count")
        reason = st.text_input(t("reason"), key="ret_reason")
        submitted = st.form_submit_button(t("submit_return"))
    if submitted and loan_id:
        result = write(
            lambda: the_ledger.return_loan(
                str(loan_id), actor=current_user().actor, count=int(count) or None, reason=reason
            )
        )
        if result is not None:
            flash("success", f"{t('returned_done')}: {loan_id}")
            st.rerun()


def evaluate_form(the_ledger: Ledger, loans: list[dict[str, Any]]) -> None:
    expired = [x["loan_id"] for x in loans if x["status"] == "expired"]
    _fresh_choice("eval_loan", expired)
    with st.form("evaluate_loan"):
        st.subheader(t("evaluate_loan"))
        if not expired:
            st.caption(t("no_expired"))
        loan_id = st.selectbox(t("loan"), expired, key="eval_loan")
        request = _evaluation_fields()
        submitted = st.form_submit_button(t("submit_evaluate"))
    if submitted and loan_id:
        result = write(
            lambda: the_ledger.evaluate_loan(str(loan_id), actor=current_user().actor, **request)
        )
        if result is not None:
            flash("success", f"{t('evaluated')}: {loan_id}")
            st.rerun()


def _evaluation_fields() -> dict[str, Any]:
    score = st.number_input(
        t("score"), min_value=0, max_value=100, value=80, step=1, key="eval_score"
    )
    decision = st.radio(
        t("decision"),
        ["extend", "return"],
        horizontal=True,
        format_func=lambda d: t(f"decision_{d}"),
        key=translated("eval_decision"),
    )
    new_end = st.date_input(
        t("new_end"), value=date.today() + timedelta(days=365), key="eval_new_end"
    )
    reason = st.text_input(t("reason"), key="eval_reason")
    return {
        "score": int(score),
        "decision": str(decision),
        "new_end": new_end if decision == "extend" else None,
        "reason": reason,
    }


def rebuild_form(the_ledger: Ledger, status: dict[str, Any]) -> None:
    """到期重建: start the institutional pool's next period (the ledger checks it has ended)."""
    figures = status["pools"]["institutional"]
    with st.form("rebuild_pool"):
        st.subheader(t("rebuild"))
        st.caption(f"{t('period_end')}: {figures.get('period_end') or '—'}")
        capacity = st.number_input(
            t("capacity"),
            min_value=0,
            value=int(the_ledger.settings().institutional_capacity),
            step=1,
            key="rebuild_capacity",
        )
        submitted = st.form_submit_button(t("submit_rebuild"))
    if submitted:
        result = write(
            lambda: the_ledger.rebuild_pool(actor=current_user().actor, capacity=int(capacity))
        )
        if result is not None:
            flash("success", f"{t('rebuilt')}: {result.get('period_end', '')}")
            st.rerun()


def sync_form(the_ledger: Ledger) -> None:
    with st.form("sync_units"):
        st.subheader(t("sync"))
        upload = st.file_uploader(t("sync_file"), type=["csv", "xlsx"], key="sync_upload")
        reason = st.text_input(t("reason"), key="sync_reason")
        submitted = st.form_submit_button(t("submit_sync"))
    if not (submitted and upload is not None):
        return
    with tempfile.TemporaryDirectory(prefix="quotapool-units-") as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            result = write(lambda: the_ledger.sync(path, actor=current_user().actor, reason=reason))
        except InputErrors as errors:
            st.error(t("input_rejected"))
            st.code(errors.report())
            return
    if result is None:
        return
    flash("success", f"{t('synced')}: {len(result['changes'])}")
    st.session_state[LAST_SYNC_RETURNS] = result["returns"]
    st.rerun()
