"""The ledger for the app's pages: one `Ledger` per URL for the server, writes checked
against the signed-in user, refusals shown with their rule, and messages that survive the
rerun after a write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from app_ui import config, messages
from app_ui.labels import lang, t
from app_ui.plain import plain
from app_ui.signin import current_user
from pools import access
from pools.access import Action
from pools.ledger import Ledger, LedgerError
from pools.rules import RuleViolation
from pools.storage import redact
from pools.tabular import InputErrors

T = TypeVar("T")
FLASH_KEY = "_flash"


@st.cache_resource(show_spinner=False)
def _ledger_for(url: str) -> Ledger:
    """One Ledger per URL for the whole server: it caches the folded state and locks writes."""
    return Ledger.open(url)


def ledger() -> Ledger | None:
    """The ledger, created from the sample units in demo mode; None after saying what is wrong."""
    url = config.ledger_url()
    try:
        return _ledger_for(url)
    except LedgerError as error:
        if current_user().source != "demo" or not url.startswith("sqlite:///"):
            st.error(f"{t('no_ledger')} {plain(redact(url))}")
            st.caption(f"{plain(error)} — {t('no_ledger_hint')}")
            return None
    return _create_demo_ledger(url)


def _create_demo_ledger(url: str) -> Ledger | None:
    units = config.units_snapshot_path()
    try:
        Ledger.create(url, units, actor=current_user().actor, reason="demo ledger").close()
    except InputErrors as errors:
        messages.show_input_errors(errors, f"{t('no_ledger')} {redact(url)}")
        return None
    except Exception:
        # Another session may have created it a moment ago; if not, opening says why.
        try:
            return _ledger_for(url)
        except LedgerError as error:
            st.error(f"{t('no_ledger')} {plain(redact(url))}")
            st.caption(plain(error))
            return None
    st.toast(f"{t('ledger_created')} {plain(units.name)}")
    return _ledger_for(url)


def write(action: Callable[[], T]) -> T | None:
    """Run one ledger write for the signed-in approver; a refusal shows its rule."""
    access.require(current_user(), Action.WRITE_LEDGER)  # second line of defence behind the UI
    try:
        return action()
    except RuleViolation as error:
        refusal(error)
        return None


def refusal(error: RuleViolation) -> None:
    message = error.message_en if lang() == "en" else error.message_zh
    close = "）" if lang() == "zh" else ")"
    st.error(f"{t('refused')}{error.rule}{close}: {plain(message)}")


def flash(kind: str, text: str) -> None:
    """Keep a message across the rerun that shows the ledger after a write."""
    st.session_state.setdefault(FLASH_KEY, []).append((kind, text))


def show_flash() -> None:
    for kind, text in st.session_state.pop(FLASH_KEY, []):
        getattr(st, kind)(text)


def unit_label(units: dict[str, dict[str, Any]]) -> Callable[[str], str]:
    return lambda unit_id: f"{unit_id} {units[unit_id]['name']}" if unit_id in units else unit_id
