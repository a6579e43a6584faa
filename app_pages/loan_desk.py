"""借用办理: the approver's page for writes to the ledger (listed for approvers only)."""

from __future__ import annotations

import streamlit as st

from app_ui.components import loan_forms
from app_ui.components.pool_view import last_snapshot, loans_table, pool_cards
from app_ui.labels import t
from app_ui.ledger_access import ledger, show_flash


def render() -> None:
    st.title(t("loan_desk_title"))
    the_ledger = ledger()
    if the_ledger is None:
        return
    show_flash()
    last_snapshot()
    status = the_ledger.status()
    loans = the_ledger.loans()
    pool_cards(status, loans)
    loans_table(status, loans, the_ledger)
    left, right = st.columns(2)
    with left:
        loan_forms.open_loan_form(the_ledger, status)
        loan_forms.sync_form(the_ledger)
    with right:
        loan_forms.return_form(the_ledger, status, loans)
        loan_forms.evaluate_form(the_ledger, status, loans)
        loan_forms.rebuild_form(the_ledger, status)
