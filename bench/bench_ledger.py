"""Ledger speed: appends through the real write path, and replay of a large ledger.

    python bench/bench_ledger.py                       # 100,000 appends, 1,000,000 replayed
    python bench/bench_ledger.py --appends 5000 --replay 100000 --backend sqlite

For each backend (SQLite file in a temporary directory; PostgreSQL in a throw-away database
on $QUOTAPOOL_BENCH_PG or $QUOTAPOOL_TEST_PG, default postgres@127.0.0.1:5432):

1. append: N one-quota institutional loans, one `Ledger.open_loan` call each (one transaction
   each: head lock, rules, hash, invariants, insert, commit — what a planner's click costs);
2. replay: a ledger of M events (open a loan, a departure, its 空一还一 return, over and over,
   on the sample city) is written in bulk, then folded from scratch (`Ledger.state`) and
   verified from scratch (`Ledger.verify`: hash chain + rules + invariants).

Prints events per second and seconds. Nothing here asserts a speed.

    python bench/bench_ledger.py --scale 10000,100000,1000000 --init-units 1000000

The scale figures of issue 14 (`bench/bench_ledger_scale.py`): per ledger size and backend,
appends per second through the API and the CLI (a fresh process per write) against a floor
measured in the same run (a bare INSERT + COMMIT loop, same durability settings; for the CLI
a fresh process that imports the ledger and does one INSERT + COMMIT), `ledger status`
latency while 8 writer processes run, `audit verify` and streaming `audit log --json` time
and peak memory, and `ledger init` of generated units (time and peak memory).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pools import commands
from pools.commands import Batch
from pools.events import UnitUpdated, ledger_key
from pools.ledger import Ledger
from pools.rules import Settings
from pools.state import State
from pools.storage import Store
from pools.units import Unit, read_units
from pools.vocabulary import INSTITUTIONAL_POOL

UNITS = Path(__file__).resolve().parents[1] / "data" / "units" / "units-2026-10.csv"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DAY = date(2026, 10, 8)
BENCH_SETTINGS = Settings(institutional_capacity=10_000_000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=100_000)
    parser.add_argument("--replay", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--scale",
        help="comma-separated ledger sizes in events (e.g. 10000,100000,1000000): run the "
        "scale figures of issue 14 instead of the append/replay pair",
    )
    parser.add_argument("--api-writes", type=int, default=300, help="API appends per size")
    parser.add_argument("--cli-writes", type=int, default=8, help="CLI appends per size")
    parser.add_argument("--init-units", type=int, default=0, help="also time `ledger init` "
                        "of this many generated units")  # fmt: skip
    args = parser.parse_args(argv)
    units = read_units(UNITS)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if args.scale or args.init_units:
        from bench_ledger_scale import run_scale

        sizes = [int(size) for size in args.scale.split(",")] if args.scale else []
        return run_scale(backends, sizes, args.api_writes, args.cli_writes, args.init_units)
    print(f"units: {len(units)} (sample city); appends: {args.appends:,}; replay: {args.replay:,}")
    for backend in backends:
        try:
            with database(backend) as make_url:
                if args.appends:
                    bench_appends(backend, make_url(), units, args.appends)
                if args.replay:
                    bench_replay(backend, make_url(), units, args.replay)
        except ConnectionError as exc:
            print(f"{backend}: skipped ({exc})")
    return 0


@contextmanager
def database(backend: str) -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty databases of one backend; all removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield lambda: f"sqlite:///{tmp}/{uuid.uuid4().hex}.db"
        return
    server = sa.engine.make_url(
        os.environ.get("QUOTAPOOL_BENCH_PG") or os.environ.get("QUOTAPOOL_TEST_PG") or PG_DEFAULT
    )
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:
        raise ConnectionError(f"PostgreSQL not reachable: {exc}") from exc
    names: list[str] = []

    def make() -> str:
        name = f"quotapool_bench_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        names.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    try:
        yield make
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def full_institutional(units: list[Unit]) -> list[str]:
    return [u.unit_id for u in units if u.kind == "institutional" and u.headcount == u.approved]


def bench_appends(backend: str, url: str, units: list[Unit], count: int) -> None:
    ledger = Ledger.create(url, units, actor="bench", settings=BENCH_SETTINGS, effective=DAY)
    borrowers = full_institutional(units)
    started = time.perf_counter()
    for n in range(count):
        ledger.open_loan(
            pool="institutional", unit_id=borrowers[n % len(borrowers)], count=1,
            purpose="高层次人才", actor="bench", effective=DAY,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    report(backend, f"append {count:,} loan events (one transaction each)", count, seconds)
    ledger.close()


def bench_replay(backend: str, url: str, units: list[Unit], count: int) -> None:
    started = time.perf_counter()
    written = write_bulk(url, units, count)
    report(
        backend, f"bulk-write {written:,} events (setup)", written, time.perf_counter() - started
    )
    ledger = Ledger.open(url)
    started = time.perf_counter()
    state = ledger.state(as_of=date(9999, 12, 31))
    report(
        backend,
        f"replay {state.seq:,} events (fold from scratch)",
        state.seq,
        time.perf_counter() - started,
    )
    started = time.perf_counter()
    result = ledger.verify()
    seconds = time.perf_counter() - started
    assert result["ok"], result["problems"]
    report(
        backend,
        f"verify {result['events']:,} events (chain + rules + invariants)",
        result["events"],
        seconds,
    )
    ledger.close()


def write_bulk(url: str, units: list[Unit], count: int, chunk: int = 20_000) -> int:
    """A valid ledger of about `count` events: loan, departure, 空一还一 return, repeated."""
    store = Store(url)
    store.create_schema()
    state = State()
    key = ledger_key()
    recorded = datetime.now(UTC).isoformat(timespec="microseconds")
    pending: list = []

    def batch() -> Batch:
        return Batch(state, key, recorded, DAY, "bench", "bench", "")

    def flush() -> None:
        with store.write() as (conn, _head):
            store.append(conn, pending)
        pending.clear()

    first = batch()
    commands.init_ledger(first, BENCH_SETTINGS, units)
    pending.extend(first.events)
    borrowers = full_institutional(units)
    n = 0
    while state.seq < count:
        uid = borrowers[n % len(borrowers)]
        n += 1
        step = batch()
        commands.open_loan(
            step, pool=INSTITUTIONAL_POOL, unit_id=uid, count=1, purpose="高层次人才"
        )
        unit = state.units[uid]
        step.emit(UnitUpdated(uid, {"headcount": [unit.headcount, unit.headcount - 1]}))
        commands.settle(step, [uid])
        pending.extend(step.events)
        if len(pending) >= chunk:
            flush()
    flush()
    store.dispose()
    return state.seq


def report(backend: str, what: str, events: int, seconds: float) -> None:
    rate = events / seconds if seconds else float("inf")
    print(f"{backend:<9} {what:<58} {seconds:9.2f} s  {rate:12,.0f} events/s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
