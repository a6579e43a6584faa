"""Least privilege on PostgreSQL (issue 13, item 3): the program writes as a role that may only
append events and move the head; TRUNCATE, DELETE, UPDATE of events and disabling the
triggers are refused for it, TRUNCATE even for the owner; and what the owner (who can do
anything) does to the history is caught by `audit verify --checkpoint`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pools.ledger import Ledger

from .conftest import DAY0, changed, city, fixed_clock
from .test_tamper import raw
from .test_transparency import D1, D2, reseal_from
from .test_units_and_cli import run, run_json

pytestmark = pytest.mark.postgres


def as_role(url: str, role: str) -> str:
    return sa.engine.make_url(url).set(username=role).render_as_string(hide_password=False)


@pytest.fixture
def roles(pg_url: str) -> Iterator[dict[str, str]]:
    """A writer and a reader login role (cluster-wide, so uniquely named), dropped after."""
    tag = uuid.uuid4().hex[:8]
    names = {"writer": f"qp_writer_{tag}", "reader": f"qp_reader_{tag}"}
    engine = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for name in names.values():
            conn.exec_driver_sql(f'CREATE ROLE "{name}" LOGIN')
    try:
        yield names
    finally:
        with engine.connect() as conn:
            for name in names.values():
                conn.exec_driver_sql(f'DROP OWNED BY "{name}"')
                conn.exec_driver_sql(f'DROP ROLE "{name}"')
        engine.dispose()


def refused(url: str, sql: str) -> str:
    """Run `sql` in its own transaction; it must fail. Returns the database's message."""
    engine = sa.create_engine(url)
    try:
        with pytest.raises(sa.exc.DBAPIError) as error, engine.begin() as conn:
            conn.exec_driver_sql(sql)
        return str(error.value.orig)
    finally:
        engine.dispose()


def make_ledger(url: str) -> Ledger:
    made = Ledger.create(url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    made.open_loan(
        pool="admin", unit_id="A1", count=2, purpose="引进生", actor="王芳", effective=D1
    )
    return made


def test_truncate_is_refused_even_for_the_owner(pg_url: str) -> None:
    make_ledger(pg_url).close()
    assert "append-only" in refused(pg_url, "TRUNCATE ledger_events")
    assert "append-only" in refused(pg_url, "TRUNCATE ledger_head")
    assert "append-only" in refused(pg_url, "TRUNCATE ledger_events, ledger_head CASCADE")


def test_the_writer_role_appends_and_can_do_nothing_else(
    pg_url: str, roles: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    make_ledger(pg_url).close()
    status, granted = run_json(
        capsys, "ledger", "grant", "--db", pg_url, "--writer", roles["writer"],
        "--reader", roles["reader"],
    )  # fmt: skip
    assert status == 0 and granted["writer"] == roles["writer"]

    writer = as_role(pg_url, roles["writer"])
    with Ledger.open(writer) as ledger:  # normal work, as the writer
        ledger.open_loan(
            pool="admin", unit_id="A2", count=1, purpose="引进生", actor="王芳", effective=D2
        )
        ledger.sync(changed(city(), A1=9), actor="王芳", effective=D2)
        assert ledger.verify()["ok"]
    status, _out, _err = run(
        capsys, "loan", "open", "--db", writer, "--pool", "unit:I2", "--unit", "I1",
        "--count", "1", "--purpose", "项目", "--actor", "李强", "--date", "2026-03-02",
    )  # fmt: skip
    assert status == 0

    assert "permission denied" in refused(writer, "TRUNCATE ledger_events")
    assert "permission denied" in refused(writer, "DELETE FROM ledger_events WHERE seq = 3")
    assert "permission denied" in refused(writer, "UPDATE ledger_events SET actor = 'x'")
    assert "owner" in refused(writer, "ALTER TABLE ledger_events DISABLE TRIGGER ALL")
    assert "owner" in refused(writer, "DROP TRIGGER ledger_events_append_only ON ledger_events")
    assert "owner" in refused(writer, "DROP TABLE ledger_events")
    assert "permission denied" in refused(writer, "CREATE TABLE junk (x int)")

    reader = as_role(pg_url, roles["reader"])
    status, state = run_json(capsys, "ledger", "status", "--db", reader)
    assert status == 0 and state["head"]["seq"] > 0
    assert "permission denied" in refused(reader, "INSERT INTO ledger_head VALUES (2, 0, '', '')")
    status, _out, err = run(
        capsys, "ledger", "rebuild", "--db", reader, "--actor", "x", "--date", "2031-02-01"
    )
    assert status == 2 and "permission denied" in err
    with Ledger.open(reader) as ledger, pytest.raises(Exception, match="permission denied"):
        ledger.rebuild_pool(actor="x")


def test_grant_refuses_a_superuser_or_missing_role(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_ledger(pg_url).close()
    status, _out, err = run(capsys, "ledger", "grant", "--db", pg_url, "--writer", "postgres")
    assert status == 2 and "superuser" in err
    status, _out, err = run(capsys, "ledger", "grant", "--db", pg_url, "--writer", "nobody_x")
    assert status == 2 and "nobody_x" in err


def test_grant_on_sqlite_says_to_use_file_permissions(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_ledger(sqlite_url).close()
    status, _out, err = run(capsys, "ledger", "grant", "--db", sqlite_url, "--writer", "w")
    assert status == 2 and "file permissions" in err


def test_the_owner_rewriting_history_is_caught_against_a_checkpoint(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The owner can disable the triggers and knows the (demo) key: it rewrites an old event
    and re-seals the chain. `audit verify` alone passes; against a checkpoint it fails."""
    ledger = make_ledger(pg_url)
    keys = str(tmp_path / "office")
    assert run(capsys, "audit", "keygen", "--out", keys)[0] == 0
    checkpoint = str(tmp_path / "cp.json")
    status, _out, _err = run(
        capsys, "audit", "checkpoint", "--db", pg_url, "--key-file", keys + ".key",
        "--out", checkpoint,
    )  # fmt: skip
    assert status == 0
    raw(ledger, ("UPDATE ledger_events SET actor = '张三' WHERE seq = 5", {}))
    raw(ledger, *reseal_from(ledger, 5))
    ledger.close()
    assert run_json(capsys, "audit", "verify", "--db", pg_url)[0] == 0
    status, result = run_json(
        capsys, "audit", "verify", "--db", pg_url, "--checkpoint", checkpoint,
        "--pubkey", keys + ".pub",
    )  # fmt: skip
    assert status == 1
    assert [p["rule"] for p in result["problems"]] == ["checkpoint.rewritten"]
