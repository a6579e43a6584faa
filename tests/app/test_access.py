"""Roles, permissions, password hashing and the sign-in mode (pools/access.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pools import access
from pools.access import Action, StoredUser, User


def _user(role: str) -> User:
    return User(f"u-{role}", role)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", {Action.READ}),
        ("planner", {Action.READ, Action.RUN_SCENARIO, Action.SAVE_SCENARIO}),
        ("approver", set(Action)),
    ],
)
def test_each_role_may_do_exactly_its_actions(role: str, allowed: set[Action]) -> None:
    for action in Action:
        assert access.can(_user(role), action) is (action in allowed), (role, action)


def test_only_an_approver_writes_to_the_ledger() -> None:
    assert not access.can(_user("viewer"), Action.WRITE_LEDGER)
    assert not access.can(_user("planner"), Action.WRITE_LEDGER)
    assert access.can(_user("approver"), Action.WRITE_LEDGER)


def test_nobody_signed_in_and_unknown_roles_may_do_nothing() -> None:
    assert not any(access.can(None, action) for action in Action)
    assert not any(access.can(_user("admin"), action) for action in Action)


def test_require_raises_for_a_refused_action_and_returns_the_user_otherwise() -> None:
    planner = _user("planner")
    assert access.require(planner, Action.SAVE_SCENARIO) is planner
    with pytest.raises(access.AccessDenied):
        access.require(planner, Action.WRITE_LEDGER)
    with pytest.raises(access.AccessDenied):
        access.require(None, Action.READ)


def test_password_hash_round_trip_and_wrong_password() -> None:
    encoded = access.hash_password("正确的密码 correct")
    assert encoded.startswith("scrypt$16384$8$1$")
    assert "correct" not in encoded
    assert access.verify_password("正确的密码 correct", encoded)
    assert not access.verify_password("正确的密码 Correct", encoded)
    assert not access.verify_password("", encoded)


def test_the_hash_is_the_standard_scrypt_of_the_password() -> None:
    """Independent check: recompute scrypt with hashlib from the stored salt and parameters."""
    encoded = access.hash_password("s3cret", salt=b"0123456789abcdef")
    _, n, r, p, _salt, key = encoded.split("$")
    expected = hashlib.scrypt(
        b"s3cret", salt=b"0123456789abcdef", n=int(n), r=int(r), p=int(p), dklen=32
    )
    assert access._unb64(key) == expected


def test_salts_differ_so_equal_passwords_give_different_hashes() -> None:
    assert access.hash_password("same") != access.hash_password("same")


@pytest.mark.parametrize(
    "bad", ["", "plain-text", "scrypt$x$8$1$aa$bb", "bcrypt$16384$8$1$aa$bb", "scrypt$16384$8$1"]
)
def test_malformed_hashes_never_match(bad: str) -> None:
    assert not access.verify_password("anything", bad)


def test_empty_password_cannot_be_stored() -> None:
    with pytest.raises(ValueError):
        access.hash_password("")


USERS_TOML = """
[users.wang]
name = "王芳"
role = "approver"
password = "{wang}"
email = "Wang@Example.gov.cn"

[users.li]
role = "viewer"
password = "{li}"
"""


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    path = tmp_path / "users.toml"
    path.write_text(
        USERS_TOML.format(wang=access.hash_password("pw-wang"), li=access.hash_password("pw-li")),
        encoding="utf-8",
    )
    return path


def test_authenticate_against_the_users_file(users_file: Path) -> None:
    users = access.load_users(users_file)
    wang = access.authenticate(users, "wang", "pw-wang")
    assert wang == User("wang", "approver", "王芳", "Wang@Example.gov.cn", "password")
    assert wang is not None and wang.actor == "wang"
    assert access.authenticate(users, "wang", "pw-li") is None
    assert access.authenticate(users, "nobody", "pw-wang") is None
    li = access.authenticate(users, " li ", "pw-li")
    assert li is not None and li.role == "viewer" and li.display_name == "li"


def test_oidc_identity_gets_the_role_listed_for_its_email_else_viewer(users_file: Path) -> None:
    users = access.load_users(users_file)
    listed = access.oidc_user(users, "wang@example.gov.cn", "Wang F.")
    assert (listed.username, listed.role, listed.source) == ("wang", "approver", "oidc")
    stranger = access.oidc_user(users, "x@example.com", "X")
    assert (stranger.username, stranger.role) == ("x@example.com", "viewer")


def test_plain_text_passwords_and_unknown_roles_are_rejected_naming_the_user(
    tmp_path: Path,
) -> None:
    path = tmp_path / "users.toml"
    path.write_text(
        '[users.a]\nrole = "planner"\npassword = "hunter2"\n[users.b]\nrole = "boss"\n',
        encoding="utf-8",
    )
    with pytest.raises(access.UsersFileError) as caught:
        access.load_users(path)
    problems = caught.value.problems
    assert any("'a'" in p and "scrypt" in p for p in problems)
    assert any("'b'" in p and "boss" in p for p in problems)


def test_missing_or_broken_users_file_is_an_error_not_demo_mode(tmp_path: Path) -> None:
    with pytest.raises(access.UsersFileError, match="not found"):
        access.load_users(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[users.a\n", encoding="utf-8")
    with pytest.raises(access.UsersFileError, match="TOML"):
        access.load_users(broken)


def test_users_file_path_prefers_the_environment_then_the_default_file(tmp_path: Path) -> None:
    assert access.users_file_path({}, tmp_path) is None
    default = tmp_path / ".streamlit" / "users.toml"
    default.parent.mkdir()
    default.write_text("", encoding="utf-8")
    assert access.users_file_path({}, tmp_path) == default
    named = tmp_path / "elsewhere.toml"  # returned even though missing: reported, not ignored
    assert access.users_file_path({"QUOTAPOOL_USERS": str(named)}, tmp_path) == named


def test_sign_in_mode() -> None:
    assert access.sign_in_mode(True, Path("u.toml")) == "oidc"
    assert access.sign_in_mode(False, Path("u.toml")) == "password"
    assert access.sign_in_mode(False, None, demo=True) == "demo"
    assert access.sign_in_mode(False, Path("u.toml"), demo=True) == "password"


def test_without_sign_in_or_demo_asked_for_the_app_fails_closed() -> None:
    assert access.sign_in_mode(False, None, demo=False) == "none"


@pytest.mark.parametrize(
    ("value", "asked"), [("1", True), (" 1 ", True), ("", False), ("0", False), ("yes", False)]
)
def test_demo_mode_is_asked_for_with_quotapool_demo_1_only(value: str, asked: bool) -> None:
    assert access.demo_requested({"QUOTAPOOL_DEMO": value}) is asked
    assert access.demo_requested({}) is False


def test_the_demo_user_is_labelled_as_such() -> None:
    assert access.DEMO_USER.source == "demo"
    assert access.DEMO_USER.actor == "demo"


def test_stored_user_without_password_cannot_sign_in_with_a_password() -> None:
    users = {"sso": StoredUser("sso", "planner", None, "", "sso@example.com")}
    assert access.authenticate(users, "sso", "") is None
