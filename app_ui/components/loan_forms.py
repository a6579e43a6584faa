"""The approver's forms: open, return and evaluate loans, rebuild the institutional pool and
apply a headcount snapshot.

Every write names its effective date (today by default) and is done through
`ledger_access.write` (role checked again, refusals shown with their rule). After a successful
write the form is emptied (文号, 事由, idempotency key…), so that the next write cannot carry
the previous one's document number. A manual return is confirmed after its consequence is
shown (who will be over quota, what 空一还一 returns next).
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import streamlit as st

from app_ui import form_state, messages
from app_ui.components.pool_view import LAST_SNAPSHOT
from app_ui.labels import choice_placeholder, t, translated
from app_ui.ledger_access import flash, refusal, unit_label, write
from app_ui.signin import current_user
from pools.ledger import Ledger
from pools.reporting import ReturnPreview, preview_return, snapshot_report
from pools.rules import RuleViolation
from pools.tabular import InputErrors

OPEN_KEY = "open_loan_key"  # one key per filled-in form: submitted twice, one loan
PENDING_RETURN = "pending_return"


def today_of(status: dict[str, Any]) -> date:
    """The ledger's today: the default effective date of a write."""
    return date.fromisoformat(status["as_of"])


def _text_fields(prefix: str) -> tuple[str, str]:
    """事由 and 文号 of a form."""
    reason = st.text_input(t("reason"), key=f"{prefix}_reason")
    document = st.text_input(t("document"), key=f"{prefix}_document")
    return reason, document


def open_loan_form(the_ledger: Ledger, status: dict[str, Any]) -> None:
    units = {u["unit_id"]: u for u in status["units"]}
    form_state.seed(
        "open_loan",
        {"loan_count": 1, "loan_term": 0, "loan_effective": today_of(status)}
        | {"loan_reason": "", "loan_document": "", OPEN_KEY: uuid.uuid4().hex},
    )
    with st.form("open_loan"):
        st.subheader(t("open_loan"))
        request = _open_loan_fields(units, the_ledger)
        submitted = st.form_submit_button(t("submit_open"))
    if not submitted:
        return
    result = write(
        lambda: the_ledger.open_loan(
            **request, actor=current_user().actor, key=st.session_state[OPEN_KEY]
        )
    )
    if result is None:
        return
    if result["replayed"]:
        flash("info", f"{t('replayed')} {result['loan_id']}")
    else:
        flash("success", f"{t('opened')}: {result['loan_id']}")
    form_state.clear("open_loan")
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
    count = st.number_input(t("count"), min_value=1, step=1, key="loan_count")
    settings = the_ledger.settings()
    purposes = sorted({*settings.admin_purposes, *settings.institutional_purposes})
    purpose = st.selectbox(
        t("purpose"),
        purposes,
        accept_new_options=True,
        placeholder=t("choose_or_add"),
        key="loan_purpose",
    )
    term = st.number_input(t("term_years"), min_value=0, step=1, key="loan_term")
    effective = st.date_input(t("effective"), key="loan_effective")
    reason, document = _text_fields("loan")
    return {
        "pool": f"unit:{lender}" if source == "unit" else str(source),
        "unit_id": str(borrower),
        "count": int(count),
        "purpose": str(purpose or ""),
        "term_years": int(term) or None,
        "effective": effective,
        "reason": reason,
        "document": document,
    }


def _fresh_choice(key: str, options: list[str]) -> None:
    """A picked loan that is no longer offered gives way to the list's first one (set, not
    forgotten: the browser would go on showing a forgotten pick)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0] if options else None


def return_form(the_ledger: Ledger, status: dict[str, Any], loans: list[dict[str, Any]]) -> None:
    """Ask for a return; the write waits for the confirmation (`confirm_return`)."""
    open_loans = [x["loan_id"] for x in loans if x["status"] != "closed"]
    _fresh_choice("ret_loan", open_loans)
    form_state.seed(
        "return_loan",
        {"ret_count": 0, "ret_effective": today_of(status), "ret_reason": "", "ret_document": ""},
    )
    with st.form("return_loan"):
        st.subheader(t("return_loan"))
        loan_id = st.selectbox(
            t("loan"), open_loans, placeholder=choice_placeholder(open_loans), key="ret_loan"
        )
        count = st.number_input(t("return_count"), min_value=0, step=1, key="ret_count")
        effective = st.date_input(t("effective"), key="ret_effective")
        reason, document = _text_fields("ret")
        submitted = st.form_submit_button(t("submit_return"))
    if submitted and loan_id:
        request = {
            "loan_id": str(loan_id),
            "count": int(count) or None,
            "effective": effective,
            "reason": reason,
            "document": document,
        }
        _ask_to_confirm(the_ledger, request)
    confirm_return(the_ledger)


def _ask_to_confirm(the_ledger: Ledger, request: dict[str, Any]) -> None:
    """Work out what the return would do (refusals show at once) and wait for a yes."""
    st.session_state.pop(PENDING_RETURN, None)
    try:
        preview = preview_return(
            the_ledger.state(date.max),  # a fresh fold: the cache is shared by every session
            request["loan_id"],
            request["count"],
            request["effective"],
            current_user().actor,
        )
    except RuleViolation as error:
        refusal(error)
        return
    st.session_state[PENDING_RETURN] = (request, preview)


def consequence_lines(preview: ReturnPreview) -> list[str]:
    """The consequence of a return, in the chosen language."""
    lines = [
        t("return_preview").format(loan=preview.loan_id, unit=preview.borrower, count=preview.count)
    ]
    for unit in preview.over_quota:
        lines.append(
            t("will_be_over_quota").format(
                unit=unit.unit_id, headcount=unit.headcount, limit=unit.own_limit
            )
        )
    if not preview.over_quota:
        lines.append(t("no_over_quota"))
    automatic = [f"{r['loan_id']} {r['unit_id']} ×{r['count']}" for r in preview.returns[1:]]
    if automatic:
        lines.append(t("then_auto_returns").format(returns=", ".join(automatic)))
    return lines


def confirm_return(the_ledger: Ledger) -> None:
    pending = st.session_state.get(PENDING_RETURN)
    if pending is None:
        return
    request, preview = pending
    with st.container(border=True):
        show = st.warning if preview.over_quota else st.info
        show("\n\n".join(consequence_lines(preview)))
        yes, no = st.columns(2)
        confirmed = yes.button(t("confirm_return"), key="ret_confirm", type="primary")
        cancelled = no.button(t("cancel"), key="ret_cancel")
    if cancelled:
        st.session_state.pop(PENDING_RETURN, None)
        flash("info", t("return_cancelled"))
        st.rerun()
    if confirmed:
        st.session_state.pop(PENDING_RETURN, None)
        result = write(lambda: the_ledger.return_loan(actor=current_user().actor, **request))
        if result is not None:
            flash("success", f"{t('returned_done')}: {request['loan_id']}")
            form_state.clear("return_loan")
            st.rerun()


def evaluate_form(the_ledger: Ledger, status: dict[str, Any], loans: list[dict[str, Any]]) -> None:
    expired = [x["loan_id"] for x in loans if x["status"] == "expired"]
    _fresh_choice("eval_loan", expired)
    today = today_of(status)
    form_state.seed(
        "evaluate_loan",
        {"eval_score": 80, "eval_decision": "extend", "eval_new_end": today + timedelta(days=365)}
        | {"eval_effective": today, "eval_reason": "", "eval_document": ""},
    )
    with st.form("evaluate_loan"):
        st.subheader(t("evaluate_loan"))
        if not expired:
            st.caption(t("no_expired"))
        loan_id = st.selectbox(
            t("loan"), expired, placeholder=choice_placeholder(expired), key="eval_loan"
        )
        request = _evaluation_fields()
        submitted = st.form_submit_button(t("submit_evaluate"))
    if submitted and loan_id:
        result = write(
            lambda: the_ledger.evaluate_loan(str(loan_id), actor=current_user().actor, **request)
        )
        if result is not None:
            flash("success", f"{t('evaluated')}: {loan_id}")
            form_state.clear("evaluate_loan")
            st.rerun()


def _evaluation_fields() -> dict[str, Any]:
    score = st.number_input(t("score"), min_value=0, max_value=100, step=1, key="eval_score")
    decision = st.radio(
        t("decision"),
        ["extend", "return"],
        horizontal=True,
        format_func=lambda d: t(f"decision_{d}"),
        key=translated("eval_decision"),
    )
    new_end = st.date_input(t("new_end"), key="eval_new_end")
    effective = st.date_input(t("effective"), key="eval_effective")
    reason, document = _text_fields("eval")
    return {
        "score": int(score),
        "decision": str(decision),
        "new_end": new_end if decision == "extend" else None,
        "effective": effective,
        "reason": reason,
        "document": document,
    }


def rebuild_form(the_ledger: Ledger, status: dict[str, Any]) -> None:
    """到期重建: start the institutional pool's next period (the ledger checks it has ended)."""
    figures = status["pools"]["institutional"]
    form_state.seed(
        "rebuild_pool", {"rebuild_capacity": int(the_ledger.settings().institutional_capacity)}
    )
    with st.form("rebuild_pool"):
        st.subheader(t("rebuild"))
        st.caption(f"{t('period_end')}: {figures.get('period_end') or '—'}")
        capacity = st.number_input(t("capacity"), min_value=0, step=1, key="rebuild_capacity")
        submitted = st.form_submit_button(t("submit_rebuild"))
    if submitted:
        result = write(
            lambda: the_ledger.rebuild_pool(actor=current_user().actor, capacity=int(capacity))
        )
        if result is not None:
            flash("success", f"{t('rebuilt')}: {result.get('period_end', '')}")
            form_state.clear("rebuild_pool")
            st.rerun()


def sync_form(the_ledger: Ledger) -> None:
    form_state.seed("sync_units", {"sync_reason": ""})
    with st.form("sync_units"):
        st.subheader(t("sync"))
        upload = st.file_uploader(
            t("sync_file"), type=["csv", "xlsx"], help=t("upload_help"), key="sync_upload"
        )
        reason = st.text_input(t("reason"), key="sync_reason")
        submitted = st.form_submit_button(t("submit_sync"))
    if not (submitted and upload is not None):
        return
    alerts_before = the_ledger.status()["alerts"]
    with tempfile.TemporaryDirectory(prefix="quotapool-units-") as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            result = write(lambda: the_ledger.sync(path, actor=current_user().actor, reason=reason))
        except InputErrors as errors:
            messages.show_input_errors(errors)
            return
    if result is None:
        return
    st.session_state[LAST_SNAPSHOT] = snapshot_report(result, alerts_before)
    form_state.clear("sync_units")
    st.rerun()
