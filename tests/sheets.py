"""Sheets as planners make them, for the reader's tests: the same rows as a CSV or a workbook."""

from __future__ import annotations

from pathlib import Path

import openpyxl


def sheet(path: Path, rows: list[list[object]]) -> Path:
    """The rows as .xlsx (cells as given) or, for any other suffix, as UTF-8 CSV (cells joined
    by commas, None as an empty cell)."""
    if path.suffix == ".xlsx":
        book = openpyxl.Workbook()
        ws = book.active
        assert ws is not None
        for row in rows:
            ws.append(row)
        book.save(path)
    else:
        text = "".join(",".join("" if c is None else str(c) for c in row) + "\n" for row in rows)
        path.write_text(text, encoding="utf-8")
    return path
