"""`audit log` streams (issue 14): one valid JSON document however long, the same events as
the list API, `--limit N` and `--since SEQ` (or a date) with the other filters, and a reader
that goes away (`| head -1`) ends it quietly."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from pools.ledger import Ledger

from .conftest import DAY0, changed, city, fixed_clock
from .test_units_and_cli import run, run_json

ROOT = Path(__file__).resolve().parents[2]


def busy_ledger(url: str) -> Ledger:
    ledger = Ledger.create(url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    first = ledger.open_loan(pool="unit:I2", unit_id="I1", count=2, purpose="项目", actor="王芳")
    ledger.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳")
    ledger.sync(changed(city(), A4=4), actor="王芳", effective=date(2026, 2, 1))  # a departure
    ledger.return_loan(first["loan_id"], count=1, actor="王芳", effective=date(2026, 3, 1))
    return ledger


def test_the_json_log_is_one_document_with_every_event(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with busy_ledger(sqlite_url) as ledger:
        everything = ledger.events()
    status, log = run_json(capsys, "audit", "log", "--db", sqlite_url)
    assert status == 0 and log == {"events": json.loads(json.dumps(everything))}
    assert [e["seq"] for e in log["events"]] == list(range(1, len(everything) + 1))
    assert len(everything) > 10


def test_limit_and_since_a_sequence_number(
    any_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    busy_ledger(any_url).close()
    _, log = run_json(capsys, "audit", "log", "--db", any_url, "--since", "11", "--limit", "2")
    assert [e["seq"] for e in log["events"]] == [11, 12]
    _, log = run_json(capsys, "audit", "log", "--db", any_url, "--since", "13")
    assert [e["seq"] for e in log["events"]] == [13, 14]
    _, log = run_json(capsys, "audit", "log", "--db", any_url, "--since", "2026-02-01")
    assert [e["seq"] for e in log["events"]] == [13, 14]
    # a unit's events from 13 on include the return of a loan it borrowed at event 11
    _, log = run_json(capsys, "audit", "log", "--db", any_url, "--unit", "I1", "--since", "12")
    assert [(e["seq"], e["kind"]) for e in log["events"]] == [(14, "loan_returned")]
    _, log = run_json(capsys, "audit", "log", "--db", any_url, "--since", "99")
    assert log == {"events": []}
    status, out, _err = run(capsys, "audit", "log", "--db", any_url, "--limit", "1")
    assert status == 0 and len(out.splitlines()) == 1
    for bad in ("0", "-1", "two", "١٢"):
        with pytest.raises(SystemExit):
            run(capsys, "audit", "log", "--db", any_url, "--limit", bad)


def test_a_missing_ledger_prints_one_json_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, document = run_json(capsys, "audit", "log", "--db", f"sqlite:///{tmp_path}/none.db")
    assert status == 2 and "no ledger" in document["error"]["message_en"]


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    units = ROOT / "data" / "units" / "units-2026-10.csv"
    with Ledger.create(url, units, actor="王芳", effective=date(2026, 10, 8)):
        pass
    command = f"{sys.executable} quotapool.py audit log --db {url} {{}} | head -1"
    for extra in ("", "--json"):
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command.format(extra)],
            cwd=ROOT, capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        assert b"Traceback" not in done.stderr and len(done.stdout.splitlines()) == 1
