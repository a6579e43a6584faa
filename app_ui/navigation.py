"""Going from one page to another: the entry remembers the pages it listed, by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

_PAGES = "_navigation_pages"


def remember(pages: Mapping[str, Any]) -> None:
    """The pages of this run (`st.Page` objects) by their URL path."""
    st.session_state[_PAGES] = dict(pages)


def go(name: str) -> None:
    """Show page `name` if this user's menu has it (else stay)."""
    page = st.session_state.get(_PAGES, {}).get(name)
    if page is not None:
        st.switch_page(page)
