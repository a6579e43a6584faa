"""Sign-in in the three modes of `pools.access` (demo, passwords, OIDC) and the signed-in
user of this session."""

from __future__ import annotations

import importlib.util

import streamlit as st

from app_ui import config
from app_ui.labels import LABELS, t
from app_ui.plain import plain
from pools import access
from pools.access import User

CURRENT_USER_KEY = "_current_user"


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: nothing configured
        return False


def signed_in_user() -> User | None:
    """The signed-in user, or None after showing the sign-in form."""
    mode = access.sign_in_mode(_oidc_configured(), access.users_file_path())
    if mode == "none":
        _not_configured()
        return None
    if mode == "demo":
        return access.DEMO_USER if _demo_allowed() else None
    path = access.users_file_path()
    try:
        users = access.load_users(path) if path is not None else {}
    except access.UsersFileError as error:
        st.error(t("users_file_error"))
        st.code("\n".join([str(error.path), *error.problems]))
        return None
    if mode == "oidc":
        return _oidc_user(users)
    user = st.session_state.get("user")
    if isinstance(user, User):
        return user
    _password_form(users)
    return None


def _not_configured() -> None:
    """The whole page when no sign-in is configured and demo mode was not asked for: in both
    languages, since nobody has picked one yet."""
    zh, en = LABELS["sign_in_not_configured"]
    st.title(LABELS["sign_in_not_configured_title"][0])
    st.subheader(LABELS["sign_in_not_configured_title"][1])
    st.error(zh)
    st.error(en)


def _demo_allowed() -> bool:
    """Demo mode makes every visitor an approver: only on an address of this machine."""
    if config.served_on_loopback_only():
        return True
    st.error(t("demo_refused").format(address=st.get_option("server.address") or "0.0.0.0"))
    return False


def _oidc_user(users: dict[str, access.StoredUser]) -> User | None:
    if not st.user.is_logged_in:
        if importlib.util.find_spec("authlib") is None:
            st.warning(t("oidc_needs_authlib"))
        st.button(t("sign_in_oidc"), on_click=st.login)
        return None
    email, name = st.user.get("email"), st.user.get("name")
    return access.oidc_user(
        users,
        email if isinstance(email, str) else None,
        name if isinstance(name, str) else None,
    )


def _password_form(users: dict[str, access.StoredUser]) -> None:
    st.title(t("app_title"))
    with st.form("sign_in"):
        username = st.text_input(t("username"), key="sign_in_username")
        password = st.text_input(t("password"), type="password", key="sign_in_password")
        submitted = st.form_submit_button(t("sign_in"))
    if submitted:
        user = access.authenticate(users, username, password)
        if user is None:
            st.error(t("sign_in_failed"))
        else:
            st.session_state["user"] = user
            st.rerun()


def _sign_out() -> None:
    if st.session_state.get("user") is not None:
        del st.session_state["user"]
    elif _oidc_configured():
        st.logout()


def remember(user: User) -> None:
    st.session_state[CURRENT_USER_KEY] = user


def current_user() -> User:
    user = st.session_state.get(CURRENT_USER_KEY)
    assert isinstance(user, User), "pages run only after sign-in"
    return user


def sidebar(user: User) -> None:
    with st.sidebar:
        name, role = plain(user.display_name), t(f"role_{user.role}")
        st.caption(f"{t('signed_in_as')}: **{name}** ({role})")
        if user.source == "demo":
            st.warning(t("demo_mode"))
        else:
            st.button(t("sign_out"), on_click=_sign_out, key="sign_out")
