"""Text from data is data in the app: a unit named like a formula is neutralised in every CSV
the app offers, and Markdown in a name is shown as written, never rendered (issue 14)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from pools.ledger import Ledger
from tests.app.test_app_pages import (  # noqa: F401  (environment: the autouse fixture)
    FIXTURES,
    environment,
    start,
)
from tests.app.test_planner_grade import downloads, offered  # noqa: F401  (fixture)

FORMULA = '=HYPERLINK("http://example.invalid/x","click")'
IMAGE = "![x](http://example.invalid/b.png)"


def units_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    text = (FIXTURES / "units.csv").read_text(encoding="utf-8")
    text = text.replace("市委办公室", f'"{name.replace(chr(34), chr(34) * 2)}"', 1)
    units = tmp_path / "hostile-units.csv"
    units.write_text(text, encoding="utf-8")
    monkeypatch.setenv("QUOTAPOOL_UNITS", str(units))


def cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def test_the_audit_log_csv_neutralises_formulas_in_names_and_reasons(
    environment: Path,  # noqa: F811
    offered: dict[str, tuple[str, Any]],  # noqa: F811
) -> None:
    Ledger.create(
        f"sqlite:///{environment / 'ledger.db'}",
        FIXTURES / "units.csv",
        actor="demo",
        reason=FORMULA,
        document="@SUM(A1)",
    ).close()
    start("audit")
    ((name, data),) = [file for file in downloads(offered).values() if file[0].endswith(".csv")]
    assert name == "audit-log.csv"
    texts = cells(data)
    assert "'" + FORMULA in texts and "'@SUM(A1)" in texts
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in texts), texts
