"""quotapool's app for planners: `streamlit run app.py`.

The entry only: page configuration, the language switch, sign-in, and the pages the
signed-in user's role may see (a viewer is not shown the pages that write). Each page is a
file in `app_pages/`; what the pages share is in `app_ui/` (words in `app_ui.labels`, the
what-if session in `app_ui.session`, components in `app_ui.components`). Teacher-quota plans
come from `optimizer.plan.make_plan`, pools and loans from the ledger (`pools.ledger`, read
through `pools.reporting`), who may do what from `pools.access`. No business rule lives in
the app.

Settings (environment variables, all optional):
- QUOTAPOOL_DB: the ledger (SQLAlchemy URL or a file path; default sqlite file
  quotapool-ledger.db in the working directory). A missing SQLite ledger is created from the
  sample units snapshot so that the pools page is alive on first run.
- QUOTAPOOL_SCENARIO: the what-if page's starting scenario (default: the bundled sample city).
- QUOTAPOOL_UNITS: the units snapshot a new ledger starts from (default: the bundled sample).
- QUOTAPOOL_SCENARIOS_DIR: where saved what-if scenarios go (default: next to the ledger).
- QUOTAPOOL_USERS: the users file (default .streamlit/users.toml); see pools/access.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from app_pages import audit, loan_desk, overview, pools, projection, whatif
from app_ui import labels, navigation, signin
from app_ui.labels import t
from pools import access
from pools.access import Action, User


@dataclass(frozen=True)
class PageSpec:
    """A page, and what its user must be allowed to do for it to be listed."""

    name: str  # also its URL path
    render: Callable[[], None]
    title: str  # key in the translation table
    icon: str
    needs: Action = Action.READ


PAGES = (
    PageSpec("overview", overview.render, "page_overview", ":material/dashboard:"),
    PageSpec("whatif", whatif.render, "page_whatif", ":material/school:"),
    PageSpec("projection", projection.render, "page_projection", ":material/trending_down:"),
    PageSpec("pools", pools.render, "page_pools", ":material/account_balance:"),
    PageSpec(
        "loans", loan_desk.render, "page_loan_desk", ":material/edit_note:", Action.WRITE_LEDGER
    ),
    PageSpec("audit", audit.render, "page_audit", ":material/receipt_long:"),
)
DEFAULT_PAGE = "whatif"
PAGE_ICON = "🏫"


def pages_for(user: User) -> list[PageSpec]:
    """The pages `user` may see, in menu order."""
    return [page for page in PAGES if access.can(user, page.needs)]


def _language_switch() -> None:
    with st.sidebar:
        st.segmented_control(
            labels.LABELS["language"][0],
            ["zh", "en"],
            format_func=lambda code: t(f"language_{code}"),
            default="zh",
            key=labels.LANGUAGE_KEY,
        )
    if labels.language_changed():
        labels.refresh_translated()  # before any page draws its widgets


def main(start: str = DEFAULT_PAGE) -> None:
    # An emoji favicon is drawn by the page itself; a ":material/…:" page icon as favicon would
    # be fetched from fonts.gstatic.com (issue 8.9: nothing leaves the machine).
    st.set_page_config(page_title="quotapool", page_icon=PAGE_ICON, layout="wide")
    _language_switch()
    user = signin.signed_in_user()
    if user is None:
        st.stop()
    signin.remember(user)
    signin.sidebar(user)
    shown = pages_for(user)
    default = start if start in {p.name for p in shown} else DEFAULT_PAGE
    pages = {
        p.name: st.Page(
            p.render, title=t(p.title), icon=p.icon, url_path=p.name, default=p.name == default
        )
        for p in shown
    }
    navigation.remember(pages)
    st.navigation(list(pages.values())).run()


if __name__ == "__main__":
    main()
