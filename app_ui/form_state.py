"""Form widgets whose values the app sets: defaults, and clearing after a successful write.

Widgets here get their value only through Streamlit's session state (never `value=`), so that
what the app sets is what the browser shows: a key deleted from the session state would leave
the browser showing, and sending back, the old value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

_CLEAR = "_form_clear_"


def seed(form: str, defaults: Mapping[str, Any]) -> None:
    """Give each widget of `form` its default: when it has no value yet, or after `clear`."""
    cleared = bool(st.session_state.pop(_CLEAR + form, False))
    for key, value in defaults.items():
        if cleared or key not in st.session_state:
            st.session_state[key] = value


def clear(form: str) -> None:
    """Empty `form` on the next run (its widgets are already drawn in this one)."""
    st.session_state[_CLEAR + form] = True
