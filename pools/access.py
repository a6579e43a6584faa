"""Who may do what: users, the three roles, password checks and the sign-in mode.

Everything here is a plain function over plain data so that the app stays a thin UI and the
rules can be tested without Streamlit.

Roles are cumulative: a viewer reads; a planner also runs and saves what-if scenarios; an
approver also writes to the ledger (opens, returns and evaluates loans, applies headcount
snapshots). A ledger event always carries the signed-in user's name as its actor.

Sign-in modes, chosen from what is configured (see `sign_in_mode`):
- ``oidc``: Streamlit's built-in OpenID Connect login (`st.login`) when the app's secrets hold
  an ``[auth]`` section. Roles come from the users file by e-mail; anyone not listed is a viewer.
- ``password``: users with hashed passwords in a TOML users file, given by the
  ``QUOTAPOOL_USERS`` environment variable or found at ``.streamlit/users.toml``.
- ``demo``: neither is configured and demo mode is asked for (``QUOTAPOOL_DEMO=1``, which
  ``make app`` sets); one demo user (an approver) so that the first command needs no setup.
  The app labels this mode clearly and runs it only on an address of this machine.
- ``none``: neither is configured and demo mode is not asked for: the app fails closed,
  showing only that sign-in is not configured.

Users file (TOML)::

    [users.wang]
    name = "王芳"                  # shown in the app; optional
    role = "approver"              # viewer | planner | approver
    password = "scrypt$16384$8$1$<salt>$<hash>"   # from: python -m pools.access hash-password
    email = "wang@example.gov.cn"  # optional: matches the OIDC identity

Passwords are hashed with the standard library's `hashlib.scrypt` (a memory-hard function, so
guessing is expensive) and compared with `hmac.compare_digest` (constant time): no extra
dependency to install or keep patched, and nothing that leaks by timing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

ROLES = ("viewer", "planner", "approver")
Role = Literal["viewer", "planner", "approver"]
SignInMode = Literal["oidc", "password", "demo", "none"]

USERS_ENV = "QUOTAPOOL_USERS"
DEMO_ENV = "QUOTAPOOL_DEMO"  # "1": demo mode when no sign-in is configured (make app sets it)
DEFAULT_USERS_FILE = Path(".streamlit") / "users.toml"

# scrypt cost: n=2**14, r=8 needs 16 MiB and ~50 ms per check, the common interactive setting.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
_SCHEME = "scrypt"


class Action(StrEnum):
    """What a signed-in person may try to do."""

    READ = "read"
    RUN_SCENARIO = "run_scenario"
    SAVE_SCENARIO = "save_scenario"
    WRITE_LEDGER = "write_ledger"


PERMISSIONS: Mapping[str, frozenset[Action]] = {
    "viewer": frozenset({Action.READ}),
    "planner": frozenset({Action.READ, Action.RUN_SCENARIO, Action.SAVE_SCENARIO}),
    "approver": frozenset(Action),
}


@dataclass(frozen=True)
class User:
    """A signed-in person. `username` is what the ledger records as the actor."""

    username: str
    role: Role
    name: str = ""
    email: str | None = None
    source: SignInMode = "password"

    @property
    def display_name(self) -> str:
        return self.name or self.username

    @property
    def actor(self) -> str:
        return self.username


@dataclass(frozen=True)
class StoredUser:
    """One entry of the users file."""

    username: str
    role: Role
    password_hash: str | None = None
    name: str = ""
    email: str | None = None

    def as_user(self, source: SignInMode) -> User:
        return User(self.username, self.role, self.name, self.email, source)


DEMO_USER = User("demo", "approver", "演示用户 Demo user", None, "demo")


class AccessDenied(Exception):
    """The signed-in user's role does not allow the action."""

    def __init__(self, user: User, action: Action):
        self.user = user
        self.action = action
        super().__init__(f"{user.username} ({user.role}) may not {action.value}")


class UsersFileError(Exception):
    """The users file cannot be used; `problems` lists what is wrong, naming the user."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


# --- permissions ---------------------------------------------------------------------------


def can(user: User | None, action: Action) -> bool:
    """Whether `user` may do `action`; nobody signed in may do nothing."""
    return user is not None and action in PERMISSIONS.get(user.role, frozenset())


def require(user: User | None, action: Action) -> User:
    """Return the user if allowed, else raise AccessDenied (a second check behind the UI)."""
    if user is None:
        raise AccessDenied(User("(nobody)", "viewer"), action)
    if not can(user, action):
        raise AccessDenied(user, action)
    return user


# --- passwords -----------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # maxmem must cover 128 * n * r bytes plus scrypt's own overhead.
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256 * n * r + 2**20
    )


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Encode `password` as ``scrypt$n$r$p$salt$key`` (URL-safe base64, no padding)."""
    if not password:
        raise ValueError("an empty password cannot be stored")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    return "$".join([_SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(key)])


def verify_password(password: str, encoded: str) -> bool:
    """True when `password` matches `encoded`; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != _SCHEME:
            return False
        expected = _unb64(key)
        actual = _scrypt(password, _unb64(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A fixed hash checked for unknown user names, so that a wrong name costs the same time as a
# wrong password and does not reveal which names exist.
_DUMMY_HASH = hash_password("not a password", salt=b"\0" * SALT_BYTES)


def authenticate(users: Mapping[str, StoredUser], username: str, password: str) -> User | None:
    """The user for a correct name and password, else None."""
    stored = users.get(username.strip())
    if stored is None or stored.password_hash is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, stored.password_hash):
        return None
    return stored.as_user("password")


def oidc_user(users: Mapping[str, StoredUser], email: str | None, name: str | None) -> User:
    """The user for an OIDC identity: the role listed for that e-mail, else a viewer."""
    wanted = (email or "").strip().lower()
    for stored in users.values():
        if wanted and (stored.email or "").strip().lower() == wanted:
            return User(stored.username, stored.role, stored.name or name or "", email, "oidc")
    return User(email or name or "oidc-user", "viewer", name or "", email, "oidc")


# --- configuration -------------------------------------------------------------------------


def users_file_path(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path | None:
    """Where the users file is: ``$QUOTAPOOL_USERS``, else ``.streamlit/users.toml`` if present.

    A path named by the environment variable is returned even when it does not exist, so that
    a mistyped path is reported instead of silently falling back to demo mode.
    """
    env = os.environ if env is None else env
    if env.get(USERS_ENV):
        return Path(env[USERS_ENV])
    default = (cwd or Path.cwd()) / DEFAULT_USERS_FILE
    return default if default.is_file() else None


def parse_users(data: Mapping[str, Any], path: Path) -> dict[str, StoredUser]:
    """The users in a parsed users file; raises UsersFileError listing every problem."""
    problems: list[str] = []
    users: dict[str, StoredUser] = {}
    table = data.get("users", {})
    if not isinstance(table, Mapping):
        raise UsersFileError(path, ["[users] must be a table of users"])
    for username, entry in table.items():
        if not isinstance(entry, Mapping):
            problems.append(f"user '{username}': must be a table")
            continue
        role = entry.get("role")
        if role not in ROLES:
            problems.append(f"user '{username}': role '{role}' is not one of {', '.join(ROLES)}")
            continue
        password = entry.get("password")
        if password is not None and not str(password).startswith(_SCHEME + "$"):
            problems.append(
                f"user '{username}': password must be a scrypt hash "
                "(python -m pools.access hash-password), never the password itself"
            )
            continue
        users[str(username)] = StoredUser(
            str(username),
            role,
            None if password is None else str(password),
            str(entry.get("name", "")),
            None if entry.get("email") is None else str(entry["email"]),
        )
    if problems:
        raise UsersFileError(path, problems)
    return users


def load_users(path: Path) -> dict[str, StoredUser]:
    """Read and check the users file; raises UsersFileError."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsersFileError(path, ["file not found"]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsersFileError(path, [f"not valid TOML: {exc}"]) from exc
    return parse_users(data, path)


def demo_requested(env: Mapping[str, str] | None = None) -> bool:
    """Whether demo mode was asked for: ``QUOTAPOOL_DEMO=1`` exactly."""
    env = os.environ if env is None else env
    return env.get(DEMO_ENV, "").strip() == "1"


def sign_in_mode(
    oidc_configured: bool, users_file: Path | None, demo: bool | None = None
) -> SignInMode:
    """OIDC when configured, else passwords when a users file is given, else the demo user
    when demo mode is asked for (`demo_requested()` unless given), else none: fail closed."""
    if oidc_configured:
        return "oidc"
    if users_file is not None:
        return "password"
    if demo_requested() if demo is None else demo:
        return "demo"
    return "none"


def _hash_password_command(argv: list[str]) -> int:
    """`python -m pools.access hash-password`: print the hash line for a users file."""
    import getpass

    if argv[:1] != ["hash-password"]:
        print("usage: python -m pools.access hash-password", file=sys.stderr)
        return 2
    password = getpass.getpass("password: ")
    if password != getpass.getpass("again: "):
        print("the two passwords differ", file=sys.stderr)
        return 1
    print(f'password = "{hash_password(password)}"')
    return 0


if __name__ == "__main__":
    sys.exit(_hash_password_command(sys.argv[1:]))
