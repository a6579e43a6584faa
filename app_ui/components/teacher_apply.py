"""应用到台账: the approver applies the plan on the what-if page to the ledger (SPEC 2.9).

The plan on screen is written to a temporary plan directory by the writer `quotapool plan`
uses (`optimizer.output.write_plan`) and read back by `pools.teacher_plans.read_plan`, so
the app applies exactly what the command line would apply from the same files. A review
runs the ledger's own command on a fresh fold (`Ledger.preview_teacher_plan`): the
consequence (counties and changes, total before → after), or the refusal in plain words
(stale plan, already applied), before anything is written. The confirmation applies the
reviewed plan through `ledger_access.write` (role checked again).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app_ui.labels import t
from app_ui.ledger_access import flash, ledger, refusal, write
from app_ui.signin import current_user
from optimizer.plan import PlanResult
from pools import access
from pools.access import Action
from pools.rules import RuleViolation
from pools.teacher_plans import TeacherPlan, read_plan

PENDING = "teacher_apply_pending"  # (plan, document, preview) after a review
DOCUMENT = "teacher_apply_document"


def plan_on_screen(result: PlanResult, info: Mapping[str, Any]) -> TeacherPlan:
    """The plan shown, as `quotapool plan apply` would read it from its files."""
    from optimizer import output

    with tempfile.TemporaryDirectory(prefix="quotapool-apply-") as tmp:
        folder = Path(tmp) / "plan"
        output.write_plan(folder, result.table, result.summary, scenario_info=info)
        return read_plan(folder)


def apply_section(result: PlanResult, info: Mapping[str, Any]) -> None:
    """For approvers, below an optimal plan: 文号, review, confirm."""
    if not access.can(current_user(), Action.WRITE_LEDGER):
        return
    if result.summary.get("status") != "optimal":
        return
    with st.container(border=True):
        st.subheader(t("teacher_apply_title"))
        st.caption(t("teacher_apply_hint"))
        document = st.text_input(t("document"), key=DOCUMENT)
        if st.button(t("teacher_apply_review"), key="teacher_apply_review"):
            _review(result, info, document)
        _confirm(result, info)


def _review(result: PlanResult, info: Mapping[str, Any], document: str) -> None:
    st.session_state.pop(PENDING, None)
    if not document.strip():
        st.warning(t("teacher_apply_need_doc"))
        return
    the_ledger = ledger()
    if the_ledger is None:
        return
    plan = plan_on_screen(result, info)
    try:
        preview = the_ledger.preview_teacher_plan(
            plan, actor=current_user().actor, document=document
        )
    except RuleViolation as error:
        refusal(error)
        return
    st.session_state[PENDING] = (plan, document, preview, the_ledger.teacher()["counties"] == [])


def consequence_table(preview: Mapping[str, Any]) -> pd.DataFrame:
    rows = [c for c in preview["counties"] if c["change"]]
    return pd.DataFrame(
        {
            t("teacher_county"): [f"{c['county_id']} {c['name']}" for c in rows],
            t("teacher_before"): [c["before"] for c in rows],
            t("teacher_after"): [c["after"] for c in rows],
            t("teacher_change"): [c["change"] for c in rows],
        }
    )


def _confirm(result: PlanResult, info: Mapping[str, Any]) -> None:
    pending = st.session_state.get(PENDING)
    if pending is None:
        return
    plan, document, preview, first = pending
    year = f" ({preview['year']})" if preview["year"] is not None else ""
    text = t("teacher_apply_consequence").format(
        plan=preview["plan_id"][:12],
        year=year,
        changed=sum(1 for c in preview["counties"] if c["change"]),
        before=preview["total_before"],
        after=preview["total_after"],
        extra=preview["extra_quota"],
    )
    st.info(text)
    if first:
        st.caption(t("teacher_apply_first").format(count=len(preview["counties"])))
    st.dataframe(consequence_table(preview), hide_index=True)
    yes, no = st.columns(2)
    confirmed = yes.button(t("teacher_apply_confirm"), key="teacher_apply_confirm", type="primary")
    cancelled = no.button(t("cancel"), key="teacher_apply_cancel")
    if cancelled:
        st.session_state.pop(PENDING, None)
        flash("info", t("teacher_apply_cancelled"))
        st.rerun()
    if not confirmed:
        return
    st.session_state.pop(PENDING, None)
    if plan_on_screen(result, info).plan_id != plan.plan_id:  # edited since the review
        st.warning(t("teacher_apply_changed"))
        return
    the_ledger = ledger()
    if the_ledger is None:
        return
    done = write(
        lambda: the_ledger.apply_teacher_plan(plan, actor=current_user().actor, document=document)
    )
    if done is not None:
        st.success(f"{t('teacher_apply_done')} {done['plan_id'][:12]} · 文号 {done['document']}")
