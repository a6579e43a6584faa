"""Reading a file whose every row is wrong, against reading the same file's valid version.

    python bench/bench_inputs.py [ROWS ...]      (default: 40000 320000 1000000)

Each size is a counties file (county_id, name, quota, occupied); the bad version has a
different wrong count on every row ("x<i>"), so nothing is shared between rows. Printed: the
seconds to read each version and their ratio. Error collection is linear and stops after
QUOTAPOOL_MAX_INPUT_ERRORS (200) errors, so the ratio stays near 1 as the file grows.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from optimizer.io import COUNTIES_SCHEMA
from pools.tabular import read_table


def write(path: Path, rows: int, bad: bool) -> Path:
    lines = ["county_id,name,quota,occupied"]
    lines += [f"C{i},county {i},{f'x{i}' if bad else 100 + i % 7},90" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def timed(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    _, errors = read_table(path, COUNTIES_SCHEMA)
    return time.perf_counter() - start, len(errors)


def main(sizes: list[int]) -> None:
    print(f"{'rows':>10} {'valid s':>9} {'all wrong s':>12} {'errors':>7} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            good = write(Path(tmp) / f"good{rows}.csv", rows, bad=False)
            bad = write(Path(tmp) / f"bad{rows}.csv", rows, bad=True)
            good_s, good_errors = timed(good)
            bad_s, bad_errors = timed(bad)
            assert good_errors == 0
            ratio = bad_s / good_s
            print(f"{rows:>10,} {good_s:>9.2f} {bad_s:>12.2f} {bad_errors:>7} {ratio:>6.1f}")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [40_000, 320_000, 1_000_000])
