"""Eight `ledger init` at once on one database (issue 14): exactly one creates the ledger, the
seven others are refused as `ledger.exists` (exit 1), never a raw database error such as
PostgreSQL's pg_type duplicate key from racing CREATE TABLEs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from pools.ledger import Ledger

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "data" / "units" / "units-2026-10.csv"

# wait for a common start time, then run the command line in this process
STARTER = (
    "import sys, time; sys.path.insert(0, sys.argv[1]); import quotapool; "
    "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); "
    "sys.exit(quotapool.main(sys.argv[3:]))"
)


def test_eight_simultaneous_inits_make_one_ledger(any_url: str) -> None:
    start_at = time.time() + 4.0  # every process imported and waiting by then
    argv = ["ledger", "init", "--db", any_url, "--units", str(UNITS), "--demo", "--json",
            "--actor", "王芳", "--date", "2026-10-08"]  # fmt: skip
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, str(ROOT), str(start_at), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        results.append((worker.returncode, json.loads(out), err))
    created = [document for status, document, _ in results if status == 0]
    refused = [document for status, document, _ in results if status != 0]
    assert len(created) == 1, [(s, e[-300:]) for s, _, e in results]
    assert len(refused) == 7
    for status, document, err in results:
        assert status in (0, 1), err
        assert "Traceback" not in err and "pg_type" not in err
        if status == 1:
            assert document["error"]["rule"] == "ledger.exists"
            assert "already initialised" in err
    with Ledger.open(any_url) as ledger:
        found = ledger.verify()
        assert found["ok"] and found["events"] == created[0]["events"]
