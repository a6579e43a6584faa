"""Reading large input files.

    python bench/bench_inputs.py [ROWS ...]         (default: 40000 320000 1000000)
    python bench/bench_inputs.py --xlsx [ROWS ...]  (default: 1900000)

CSV: each size is a counties file (county_id, name, quota, occupied); the bad version has a
different wrong count on every row ("x<i>"), so nothing is shared between rows. Printed: the
seconds to read each version and their ratio. Error collection is linear and stops after
QUOTAPOOL_MAX_INPUT_ERRORS (200) errors, so the ratio stays near 1 as the file grows.

--xlsx: the same counties as a workbook whose sheet declares no <dimension> (as some
exporters write it), its ids in the shared strings as Excel stores them, just under the row
cap (QUOTAPOOL_MAX_FILE_ROWS, 2,000,000); it unpacks to ~218 MB, so the byte cap is raised to
300 MB for it (QUOTAPOOL_MAX_FILE_BYTES). Each read runs in a fresh process; printed: wall
and CPU seconds and the peak resident memory, for opening the sheet (its values read) and for
`read_table` (read and checked).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import openpyxl

from optimizer.io import COUNTIES_SCHEMA
from pools.tabular import read_table

NAMES = ("东湖区", "西岭区", "南港区", "北山县", "临川市", "青石县", "白沙区")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def write(path: Path, rows: int, bad: bool) -> Path:
    lines = ["county_id,name,quota,occupied"]
    lines += [f"C{i},county {i},{f'x{i}' if bad else 100 + i % 7},90" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_workbook(path: Path, rows: int) -> Path:
    """A counties workbook of `rows` rows under its headers, streamed to the zip (never whole
    in memory); its sheet has no <dimension> and its rows no numbers, both optional."""
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    with zipfile.ZipFile(buffer) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_STRINGS}"/></Types>'.encode(),
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        f'<Relationship Id="rIdStrings" Type="{_RELATIONSHIP}" Target="sharedStrings.xml"/>'
        "</Relationships>".encode(),
    )
    headers = ("county_id", "name", "quota", "occupied")
    strings = [*headers, *NAMES]  # then C0, C1, … at len(strings) + i
    cell = '<c t="s"><v>{}</v></c>'.format
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                target.writestr(name, data)
        with target.open("xl/sharedStrings.xml", "w", force_zip64=True) as xml:
            xml.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}">'.encode())
            xml.write("".join(f"<si><t>{text}</t></si>" for text in strings).encode())
            _stream(xml, rows, lambda i: f"<si><t>C{i}</t></si>")
            xml.write(b"</sst>")
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as xml:
            xml.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">'.encode())
            xml.write(("<sheetData><row>" + "".join(map(cell, range(4))) + "</row>").encode())
            _stream(
                xml,
                rows,
                lambda i: (
                    f"<row>{cell(len(strings) + i)}{cell(len(headers) + i % 7)}"
                    f"<c><v>{100 + i % 7}</v></c><c><v>90</v></c></row>"
                ),
            )
            xml.write(b"</sheetData></worksheet>")
    return path


def _stream(xml: io.BufferedIOBase | zipfile.ZipExtFile, rows: int, text) -> None:  # type: ignore[no-untyped-def]
    for start in range(0, rows, 10_000):
        xml.write("".join(text(i) for i in range(start, min(rows, start + 10_000))).encode())


def timed(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    _, errors = read_table(path, COUNTIES_SCHEMA)
    return time.perf_counter() - start, len(errors)


_MEASURE = """
import resource, sys, time
from pathlib import Path
from optimizer.io import COUNTIES_SCHEMA
from pools.tabular import _open, read_table
path, what = Path(sys.argv[1]), sys.argv[2]
wall, cpu = time.perf_counter(), time.process_time()
if what == "open":
    rows = len(_open(path, 0).table_under(0))
else:
    frame, errors = read_table(path, COUNTIES_SCHEMA)
    assert not errors, errors
    rows = len(frame)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(f"{rows:>10,} {wall:>7.1f} {cpu:>7.1f} {peak:>9,.0f}")
"""


def main_xlsx(sizes: list[int]) -> None:
    print(f"{'':<10} {'rows':>10} {'wall s':>7} {'CPU s':>7} {'peak MiB':>9}")
    env = os.environ | {"QUOTAPOOL_MAX_FILE_BYTES": "300000000"}
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            path = write_workbook(Path(tmp) / f"counties{rows}.xlsx", rows)
            for what in ("open", "read_table"):
                run = [sys.executable, "-c", _MEASURE, str(path), what]
                result = subprocess.run(run, capture_output=True, text=True, env=env)
                print(f"{what:<10} {result.stdout.strip()}{result.stderr.strip()}")


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
    arguments = sys.argv[1:]
    if arguments[:1] == ["--xlsx"]:
        main_xlsx([int(arg) for arg in arguments[1:]] or [1_900_000])
    else:
        main([int(arg) for arg in arguments] or [40_000, 320_000, 1_000_000])
