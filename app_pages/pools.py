"""周转池与调借: the pools and the loans, as everyone may see them."""

from __future__ import annotations

import streamlit as st

from app_ui import books_view
from app_ui.components.pool_view import loans_table, pool_cards
from app_ui.labels import t
from app_ui.ledger_access import ledger, show_flash
from app_ui.signin import current_user
from pools import access
from pools.access import Action


def render() -> None:
    st.title(t("pools_title"))
    the_ledger = ledger()
    if the_ledger is None:
        return
    show_flash()
    status = the_ledger.status()
    loans = the_ledger.loans()
    pool_cards(status, loans)
    loans_table(status, loans, the_ledger)
    if access.can(current_user(), Action.WRITE_LEDGER):
        st.caption(t("loan_desk_hint"))
    else:
        st.info(t("cannot_write"))
    books_view.render(the_ledger, status)  # SPEC 2.7/2.8: quota-use plans and problems
