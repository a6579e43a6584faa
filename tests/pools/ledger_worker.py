"""A separate writer process for the concurrency and crash tests (run as a script).

    python ledger_worker.py open URL ACK_FILE START_AT WORKER ATTEMPTS
        open one-quota admin loans for A1/A2 until ATTEMPTS requests were made
    python ledger_worker.py same-key URL ACK_FILE START_AT WORKER
        open the same loan with one idempotency key
    python ledger_worker.py stream URL ACK_FILE START_AT WORKER
        open institutional loans and sync departures that return them, until killed
    python ledger_worker.py useplan URL ACK_FILE START_AT WORKER ATTEMPTS
        approve one-quota quota-use plans for A3 until ATTEMPTS requests were made

Every request the ledger acknowledges (a committed write) is appended to ACK_FILE *after*
the commit, one JSON line each, flushed and fsynced: the parent checks that everything in
that file is in the ledger. A process started with `spawn` semantics: nothing is inherited.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from pools.ledger import Ledger
from pools.rules import RuleViolation
from pools.units import Unit


def acknowledge(handle: object, record: dict) -> None:
    handle.write(json.dumps(record) + "\n")  # type: ignore[attr-defined]
    handle.flush()  # type: ignore[attr-defined]
    os.fsync(handle.fileno())  # type: ignore[attr-defined]


def main(argv: list[str]) -> int:
    mode, url, ack_path, start_at, worker = argv[:5]
    ledger = Ledger.open(url)
    refused: dict[str, int] = {}
    with open(ack_path, "a", encoding="utf-8") as ack:
        time.sleep(max(0.0, float(start_at) - time.time()))  # all workers start together
        if mode == "open":
            for attempt in range(int(argv[5])):
                borrower = "A1" if attempt % 2 else "A2"
                try:
                    result = ledger.open_loan(
                        pool="admin", unit_id=borrower, count=1, purpose="引进生",
                        actor=f"worker-{worker}", key=f"w{worker}-{attempt}",
                    )  # fmt: skip
                except RuleViolation as refusal:
                    refused[refusal.rule] = refused.get(refusal.rule, 0) + 1
                    continue
                acknowledge(ack, {"loan_id": result["loan_id"], "worker": worker})
        elif mode == "useplan":  # SPEC 2.7 (issue 11): reservations under contention
            for attempt in range(int(argv[5])):
                try:
                    result = ledger.approve_plan(
                        unit_id="A3", count=1, channel="公开招聘", purpose="招录",
                        actor=f"worker-{worker}", key=f"p{worker}-{attempt}",
                    )  # fmt: skip
                except RuleViolation as refusal:
                    refused[refusal.rule] = refused.get(refusal.rule, 0) + 1
                    continue
                acknowledge(ack, {"plan_id": result["plan_id"], "worker": worker})
        elif mode == "same-key":
            result = ledger.open_loan(
                pool="admin", unit_id="A1", count=1, purpose="引进生", actor=f"worker-{worker}",
                key="the-one-key",
            )  # fmt: skip
            acknowledge(ack, {"loan_id": result["loan_id"], "replayed": result["replayed"]})
        elif mode == "stream":
            n = 0
            while True:
                opened = ledger.open_loan(
                    pool="institutional", unit_id="I1", count=1, purpose="高层次人才",
                    actor=f"worker-{worker}", key=f"s{worker}-{n}",
                )  # fmt: skip
                acknowledge(ack, {"loan_id": opened["loan_id"], "kind": "loan_opened"})
                # one person leaves I1: the snapshot triggers 空一还一 for the loan just opened
                units = [
                    Unit(u.unit_id, u.name, u.region, u.level, u.kind, u.approved,
                         u.headcount - (u.unit_id == "I1"), u.sector, u.parent)
                    for u in ledger.state().units.values()
                ]  # fmt: skip
                synced = ledger.sync(units, actor=f"worker-{worker}")
                assert [r["loan_id"] for r in synced["returns"]] == [opened["loan_id"]]
                acknowledge(ack, {"loan_id": opened["loan_id"], "kind": "loan_returned"})
                n += 1
    print(json.dumps({"worker": worker, "refused": refused}))
    ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
