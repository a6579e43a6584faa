"""Readers never wait; writers wait at most $QUOTAPOOL_LOCK_TIMEOUT (issue 14).

One connection holds the write lock (a write transaction open mid-write: head locked, an
event's worth of change not committed). Every read command answers from the last committed
state; a write gives up after the lock timeout with LedgerBusy (the CLI: exit 75, and with
--json the error every refusal prints: ``{"error": {"rule": "ledger.busy", …, "retry":
true}}``), nothing written; once the holder commits, writes go through."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pools import cli
from pools.ledger import Ledger, LedgerBusy, LedgerError
from pools.storage import LOCK_TIMEOUT_ENV, Store

from .conftest import DAY0, city, fixed_clock
from .test_units_and_cli import run, run_json


@contextmanager
def write_lock_held(url: str) -> Iterator[None]:
    """Another writer, stalled mid-write: head locked, the head row changed, not committed."""
    holder = Store(url)
    try:
        with holder.write() as (conn, _head):
            conn.exec_driver_sql("UPDATE ledger_head SET effective = effective WHERE id = 1")
            yield
            raise _Rollback
    except _Rollback:
        pass
    finally:
        holder.dispose()


class _Rollback(Exception):
    pass


def test_readers_answer_and_writers_give_up_while_a_write_is_stalled(
    any_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "0.5")
    Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock).close()
    with write_lock_held(any_url):
        status, state = run_json(capsys, "ledger", "status", "--db", any_url)
        assert status == 0 and state["head"]["seq"] == 10
        status, log = run_json(capsys, "audit", "log", "--db", any_url)
        assert status == 0 and len(log["events"]) == 10
        status, verified = run_json(capsys, "audit", "verify", "--db", any_url)
        assert status == 0 and verified["ok"]
        with Ledger.open(any_url, clock=fixed_clock) as ledger:
            assert ledger.status()["head"]["seq"] == 10

        status, out, err = run(
            capsys, "loan", "open", "--db", any_url, "--pool", "admin", "--unit", "A1",
            "--count", "1", "--purpose", "引进生", "--actor", "王芳", "--json",
        )  # fmt: skip
        assert status == cli.EXIT_BUSY == 75
        error = __import__("json").loads(out)["error"]  # the shape of every refusal
        assert error["rule"] == "ledger.busy"
        assert "try again" in error["message_en"] and "请稍后重试" in error["message_zh"]
        assert error["retry"] is True and error["lock_timeout"] == 0.5
        assert "try again" in err and "请稍后重试" in err
        with Ledger.open(any_url, clock=fixed_clock) as ledger, pytest.raises(LedgerBusy):
            ledger.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳")
    with Ledger.open(any_url, clock=fixed_clock) as ledger:  # released: the write goes through
        assert ledger.status()["head"]["seq"] == 10  # nothing was written while busy
        ledger.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳")
        assert ledger.verify()["ok"]


@pytest.mark.parametrize("text", ["0", "-3", "soon", "nan", "1e9"])
def test_a_bad_lock_timeout_is_named(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, text)
    with pytest.raises(LedgerError, match=LOCK_TIMEOUT_ENV):
        Ledger.open(sqlite_url)
