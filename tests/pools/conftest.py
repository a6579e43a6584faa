"""Fixtures for the ledger tests: a fixed clock, a small hand-made city, SQLite and PostgreSQL.

PostgreSQL: $QUOTAPOOL_TEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
names a server; one uniquely named database is created per test session and dropped after.
If the server cannot be reached the PostgreSQL tests skip with the reason, except when $CI is
set: CI has the server, so there they fail instead of hiding behind a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from pools.ledger import Ledger
from pools.units import Unit

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DAY0 = date(2026, 1, 5)


def fixed_clock() -> datetime:
    return datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def unit(
    unit_id: str,
    approved: int,
    headcount: int,
    level: str = "municipal",
    kind: str = "administrative",
) -> Unit:
    region = "C00" if level == "municipal" else "C01"
    return Unit(unit_id, f"unit {unit_id}", region, level, kind, approved, headcount)


def city() -> list[Unit]:
    """The small city of the rule tests.

    Municipal administrative organs: A1 10/10 and A2 20/20 (full), A3 30/20 (10 vacancies),
    A4 10/5 (5 vacancies), X1 10/12 (over quota by 2). Own vacancies 0+0+10+5+0 = 15, so the
    administrative pool holds floor(0.2 × 15) = 3; as a whole they hold 67 people on 80
    quotas, not over quota. C1 is a full county organ, I1 (50/50) and I3 (county, 20/20) are
    full institutional units, I2 (40/30) has 10 spare quotas.
    """
    return [
        unit("A1", 10, 10),
        unit("A2", 20, 20),
        unit("A3", 30, 20),
        unit("A4", 10, 5),
        unit("X1", 10, 12),
        unit("C1", 10, 10, level="county"),
        unit("I1", 50, 50, kind="institutional"),
        unit("I2", 40, 30, kind="institutional"),
        unit("I3", 20, 20, level="county", kind="institutional"),
    ]


def changed(units: list[Unit], **headcounts: int | tuple[int, int]) -> list[Unit]:
    """A copy of `units` with new headcounts (or (approved, headcount) pairs)."""
    out = []
    for item in units:
        change = headcounts.get(item.unit_id)
        if change is None:
            out.append(item)
        elif isinstance(change, tuple):
            out.append(Unit(**(item.as_dict() | {"approved": change[0], "headcount": change[1]})))
        else:
            out.append(Unit(**(item.as_dict() | {"headcount": change})))
    return out


@pytest.fixture(autouse=True)
def _clock_stands_still(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' injected clock stands still on 2026-01-05 while their writes move through
    the years (terms, periods, evaluations), so the rule that a write takes effect at most
    `max_future_days` after it is recorded (`ledger.future_dated`) would refuse them. It is
    set aside here, in the tests' set-up only; the tests of that rule ask for the fixture
    `future_dates_checked` and run it as the product does."""
    if "future_dates_checked" not in request.fixturenames:
        from pools import commands

        monkeypatch.setattr(commands, "not_future_dated", lambda *_args: None, raising=False)


@pytest.fixture
def future_dates_checked() -> None:
    """Run with the rule `ledger.future_dated` as the product runs it (see above)."""


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/ledger.db"  # type: ignore[str-bytes-safe]


@pytest.fixture
def make_ledger(sqlite_url: str) -> Iterator[Callable[..., Ledger]]:
    """make_ledger(units=city(), **settings-free kwargs) -> a fresh ledger on SQLite."""
    made: list[Ledger] = []

    def make(units: list[Unit] | None = None, **kwargs: object) -> Ledger:
        ledger = Ledger.create(
            sqlite_url,
            units if units is not None else city(),
            actor="tester",
            effective=DAY0,
            clock=fixed_clock,
            **kwargs,  # type: ignore[arg-type]
        )
        made.append(ledger)
        return ledger

    yield make
    for ledger in made:
        ledger.close()


def _pg_server_url() -> str:
    return os.environ.get("QUOTAPOOL_TEST_PG", PG_DEFAULT)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this session (dropped afterwards)."""
    server = sa.engine.make_url(_pg_server_url())
    if server.drivername in ("postgresql", "postgres"):
        server = server.set(drivername="postgresql+psycopg")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL not reachable at {server.render_as_string()}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: the PostgreSQL tests must run)")
        pytest.skip(message)
    name = f"quotapool_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """The session database, emptied for each test."""
    engine = sa.create_engine(pg_database)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "DROP TABLE IF EXISTS ledger_events, ledger_head, ledger_snapshots CASCADE"
        )
    engine.dispose()
    yield pg_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"  # type: ignore[str-bytes-safe]
    return str(request.getfixturevalue("pg_url"))
