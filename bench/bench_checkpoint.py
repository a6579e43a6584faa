"""Checkpoints and proofs at scale: how long an auditor waits, and how much memory it takes.

    python bench/bench_checkpoint.py                  # a 1,000,000-event SQLite ledger
    python bench/bench_checkpoint.py --events 100000

Writes a ledger of N events in bulk (as bench/bench_ledger.py does), then times, in one
process: reading every event and building the Merkle tree (`read_log`), signing a checkpoint,
a consistency proof from the half-way checkpoint to the whole ledger and its verification,
and the inclusion proofs of one loan. Against the floor of reading the same rows from SQLite
and SHA-256-hashing each one. Prints seconds and peak memory (RSS growth); asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ledger import write_bulk
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pools.checkpoint import sign_checkpoint
from pools.merkle import verify_consistency, verify_inclusion
from pools.transparency import prove_loan, read_log
from pools.units import read_units

UNITS = Path(__file__).resolve().parents[1] / "data" / "units" / "units-2026-10.csv"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, action, floor: float | None = None):
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    ratio = f"  ({seconds / floor:.1f}× the floor)" if floor else ""
    print(f"{label:<52} {seconds:8.3f} s{ratio}   peak RSS {rss_mb():7.0f} MB")
    return result, seconds


def floor_read_and_hash(path: Path) -> int:
    """Read every event row with sqlite3 and SHA-256 each: what any check must at least do."""
    count = 0
    with sqlite3.connect(path) as conn:
        for row in conn.execute("SELECT * FROM ledger_events ORDER BY seq"):
            hashlib.sha256(repr(row).encode()).digest()
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.db"
        url = f"sqlite:///{path}"
        print(f"writing a ledger of about {args.events:,} events …", flush=True)
        written = write_bulk(url, read_units(UNITS), args.events)
        size_mb = path.stat().st_size / 2**20
        print(f"{written:,} events in {size_mb:,.0f} MB; start RSS {rss_mb():.0f} MB")
        _, floor = timed("floor: read every row and SHA-256 it", lambda: floor_read_and_hash(path))
        log, _ = timed("read_log: every event, leaves and tree", lambda: read_log(url), floor)
        key = Ed25519PrivateKey.generate()
        half = log.size // 2
        old_root = log.tree.root(half)
        checkpoint, _ = timed(
            "sign a checkpoint of the whole ledger",
            lambda: sign_checkpoint(key, log.ledger_id, log.size, log.tree.root()),
        )
        proof, _ = timed(
            "consistency proof, half-way → whole", lambda: log.tree.consistency_proof(half)
        )
        ok, _ = timed(
            "verify that consistency proof",
            lambda: verify_consistency(half, log.size, proof, old_root, checkpoint.root),
        )
        loan = next(loan for loan in reversed(log.loans) if loan)
        document, _ = timed(
            f"inclusion proofs of loan {loan}", lambda: prove_loan(log, loan, checkpoint)
        )
        first = document["events"][0]
        print(
            f"consistency proof: {len(proof)} hashes, verified {ok}; loan {loan}: "
            f"{len(document['events'])} events, {len(first['path'])} hashes each"
        )
        index = first["index"]
        leaf = log.tree.levels[0][index]
        path_hashes = log.tree.inclusion_proof(index)
        assert verify_inclusion(index, log.size, leaf, path_hashes, checkpoint.root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
