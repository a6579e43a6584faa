"""The scale figures of issue 14 (run through `python bench/bench_ledger.py --scale ...`).

Per backend and ledger size (a valid ledger of N events written in bulk by
`bench_ledger.write_bulk`, then one write so that a snapshot exists):

- floor: a bare INSERT + COMMIT loop of event-sized rows into a scratch table of the same
  database, through the same engine (same WAL / synchronous=FULL, same READ COMMITTED);
- API: `Ledger.open_loan` in a loop on one Ledger object (appends per second, ratio to floor);
- CLI: `quotapool loan open` in a fresh process per write (seconds per write) against a fresh
  process that imports the ledger and does one INSERT + COMMIT (the CLI's floor);
- status: `Ledger.open(url).status()` from a fresh object (snapshot + tail) while 8 writer
  processes append: median and worst latency, and how many of the writers' writes went
  through or were busy;
- verify / log: `quotapool audit verify` and `quotapool audit log --json > /dev/null` in a
  child process: seconds and peak resident memory (GNU time).

And `ledger init` of generated units (time, peak memory). Nothing asserts a speed.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from bench_ledger import BENCH_SETTINGS, DAY, UNITS, database, full_institutional, write_bulk

from pools.ledger import Ledger
from pools.rules import RuleViolation
from pools.storage import Store
from pools.units import read_units

ROOT = Path(__file__).resolve().parents[1]
TIME = "/usr/bin/time"
WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from pools.ledger import Ledger, LedgerBusy
    from pools.rules import RuleViolation
    url, seconds, borrowers = sys.argv[2], float(sys.argv[3]), sys.argv[4].split(",")
    done = busy = 0
    with Ledger.open(url) as ledger:
        ledger.state()
        print("ready", flush=True)
        until = time.time() + seconds
        while time.time() < until:
            try:
                ledger.open_loan(pool="institutional", unit_id=borrowers[done % len(borrowers)],
                                 count=1, purpose="高层次人才", actor="bench")
                done += 1
            except LedgerBusy:
                busy += 1
            except RuleViolation:
                pass
    print(done, busy)
    """
)
CLI_FLOOR = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    import pools.ledger, pools.cli  # what `quotapool loan open` imports
    from pools.storage import Store
    store = Store(sys.argv[2])
    with store.engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            conn.exec_driver_sql(
                "INSERT INTO bench_floor (seq, event_id, idem_key, recorded_at, effective, actor,"
                " reason, document, kind, payload, prev_hash, hash) VALUES (" + sys.argv[3]
                + ", 'e', NULL, 'r', '2026-10-08', 'a', '', '', 'k', '{}', 'p', 'h')"
            )
    """
)


def run_scale(
    backends: list[str], sizes: list[int], api_writes: int, cli_writes: int, init_units: int
) -> int:
    units = read_units(UNITS)
    rows: list[dict[str, object]] = []
    for backend in backends:
        try:
            with database(backend) as make_url:
                for size in sizes:
                    rows.append(one_size(backend, make_url(), units, size, api_writes, cli_writes))
                if init_units:
                    rows.append(init_figures(backend, make_url(), init_units))
        except ConnectionError as exc:
            print(f"{backend}: skipped ({exc})")
    print()
    print_table(rows)
    return 0


def one_size(
    backend: str, url: str, units: list, size: int, api_writes: int, cli_writes: int
) -> dict[str, object]:
    started = time.perf_counter()
    written = write_bulk(url, units, size)
    setup = time.perf_counter() - started
    borrowers = full_institutional(units)
    with Ledger.open(url) as ledger:  # the first write folds it all once and leaves a snapshot
        started = time.perf_counter()
        open_loan(ledger, borrowers[0])
        first = time.perf_counter() - started
    floor = floor_rate(url, api_writes)
    with Ledger.open(url) as ledger:
        started = time.perf_counter()
        for n in range(api_writes):
            open_loan(ledger, borrowers[n % len(borrowers)])
        api = api_writes / (time.perf_counter() - started)
    cli_floor = statistics.median(
        child([sys.executable, "-c", CLI_FLOOR, str(ROOT), url, str(10**9 + n)])[0]
        for n in range(cli_writes)
    )
    cli = statistics.median(
        child(
            [sys.executable, "quotapool.py", "loan", "open", "--db", url, "--pool",
             "institutional", "--unit", borrowers[n % len(borrowers)], "--count", "1",
             "--purpose", "高层次人才", "--actor", "bench"]
        )[0]
        for n in range(cli_writes)
    )  # fmt: skip
    status_p50, status_max, writes, busy = status_under_writers(url, borrowers)
    verify_s, verify_kb = child([sys.executable, "quotapool.py", "audit", "verify", "--db", url])
    log_s, log_kb = child(
        [sys.executable, "quotapool.py", "audit", "log", "--db", url, "--json"], quiet=True
    )
    row = {
        "backend": backend, "events": written, "setup s": setup, "1st write s": first,
        "floor /s": floor, "API /s": api, "API ×floor": floor / api,
        "CLI s/write": cli, "CLI floor s": cli_floor, "CLI ×floor": cli / cli_floor,
        "status p50 s": status_p50, "status max s": status_max,
        "8 writers ok/busy": f"{writes}/{busy}",
        "verify s": verify_s, "verify MB": verify_kb / 1024,
        "log s": log_s, "log MB": log_kb / 1024,
    }  # fmt: skip
    print(row, flush=True)
    return row


def open_loan(ledger: Ledger, borrower: str) -> None:
    with contextlib.suppress(RuleViolation):
        ledger.open_loan(
            pool="institutional", unit_id=borrower, count=1, purpose="高层次人才", actor="bench"
        )


def floor_rate(url: str, count: int) -> float:
    """INSERT + COMMIT per row into a scratch copy of the events table, same engine."""
    store = Store(url)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_floor")
        conn.exec_driver_sql("CREATE TABLE bench_floor AS SELECT * FROM ledger_events WHERE 1 = 0")
    mark = "?" if store.is_sqlite else "%s"
    sql = f"INSERT INTO bench_floor VALUES ({', '.join([mark] * 12)})"
    started = time.perf_counter()
    with store.engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE")
        for n in range(count):
            with conn.begin():
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                cursor.execute(
                    sql,
                    (n, f"{n:032x}", None, "2026-10-08T00:00:00.000000+00:00", "2026-10-08",
                     "bench", "", "", "loan_opened", '{"count":1}', "0" * 64, "1" * 64),
                )  # fmt: skip
                cursor.close()
    rate = count / (time.perf_counter() - started)
    store.dispose()
    return rate


def child(argv: list[str], quiet: bool = False) -> tuple[float, float]:
    """Run a process; (wall seconds, peak resident KB) by GNU time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        done = subprocess.run(
            [TIME, "-f", "%e %M", "-o", out.name, *argv],
            cwd=ROOT,
            stdout=subprocess.DEVNULL if quiet else subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if done.returncode not in (0, 1):
            print(f"  ({' '.join(argv[:4])} …: exit {done.returncode}: {done.stderr[-300:]})")
        seconds, kilobytes = out.read().split()[-2:]
    return float(seconds), float(kilobytes)


def status_under_writers(url: str, borrowers: list[str]) -> tuple[float, float, int, int]:
    """Fresh-object status latency while 8 writer processes append for a while."""
    seconds = 15.0
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(ROOT), url, str(seconds), ",".join(borrowers)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    for writer in writers:  # every writer open and about to write
        assert writer.stdout is not None
        writer.stdout.readline()
    until = time.time() + seconds - 3
    latencies = []
    while time.time() < until:
        started = time.perf_counter()
        with Ledger.open(url) as ledger:
            ledger.status()
        latencies.append(time.perf_counter() - started)
    done = busy = 0
    for writer in writers:
        out, err = writer.communicate()
        if writer.returncode:
            print(f"  (writer failed: {err[-300:]})")
            continue
        wrote, was_busy = map(int, out.split()[-2:])
        done, busy = done + wrote, busy + was_busy
    return statistics.median(latencies), max(latencies), done, busy


def init_figures(backend: str, url: str, count: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "units.csv"
        write_units(path, count)
        seconds, kilobytes = child(
            [sys.executable, "quotapool.py", "ledger", "init", "--db", url, "--units",
             str(path), "--demo", "--actor", "bench", "--date", DAY.isoformat()]
        )  # fmt: skip
    row = {"backend": backend, "init units": count, "init s": seconds, "init MB": kilobytes / 1024}
    print(row, flush=True)
    return row


def write_units(path: Path, count: int) -> None:
    """A valid units snapshot of `count` invented units (no one over quota)."""
    with path.open("w", encoding="utf-8") as out:
        out.write("unit_id,name,region,level,kind,approved,headcount\n")
        for n in range(count):
            level = "municipal" if n % 5 == 0 else "county"
            kind = "administrative" if n % 2 == 0 else "institutional"
            approved = 5 + n % 56
            out.write(f"U{n:07d},单位{n},C{n % 300:03d},{level},{kind},{approved},"
                      f"{approved - n % 5}\n")  # fmt: skip


def print_table(rows: list[dict[str, object]]) -> None:
    for group in ({"events"}, {"init units"}):
        chosen = [row for row in rows if group <= set(row)]
        if not chosen:
            continue
        columns = list(chosen[0])
        print("| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))
        for row in chosen:
            print("| " + " | ".join(cell(row[name]) for name in columns) + " |")
        print()


def cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


os.environ.setdefault("PYTHONUNBUFFERED", "1")
_ = BENCH_SETTINGS  # the bulk ledgers' settings (institutional capacity 10,000,000)
