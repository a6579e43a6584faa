"""Text from data is data in the app: a unit named like a formula is neutralised in every CSV
the app offers, and Markdown in a name is shown as written, never rendered (issue 14)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from app_ui.plain import MARKDOWN_CHARACTERS, plain
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


def every_text(at: Any) -> list[str]:
    """The source of every text element the page drew (markdown, alerts, captions, toasts)."""
    kinds = ("markdown", "caption", "error", "warning", "info", "success", "toast", "subheader")
    return [str(element.value) for kind in kinds for element in at.get(kind)]


def test_markdown_in_a_unit_name_is_shown_as_written_in_the_alerts(
    environment: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (FIXTURES / "units.csv").read_text(encoding="utf-8")
    before = "M01,市委办公室,CITY,municipal,administrative,40,40"
    text = text.replace(before, f"M01,{IMAGE},CITY,municipal,administrative,40,45")  # over
    units = environment / "hostile-units.csv"
    units.write_text(text, encoding="utf-8")
    monkeypatch.setenv("QUOTAPOOL_UNITS", str(units))
    start("pools")  # the demo ledger, from the snapshot with the hostile name (over quota)
    for page in ("overview",):
        at = start(page)
        texts = every_text(at)
        assert any(plain(IMAGE) in text for text in texts), texts  # shown, escaped
        link = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(")  # [..](, neither bracket escaped
        assert not any(link.search(text) for text in texts), texts


@pytest.mark.parametrize(
    "text",
    [IMAGE, "**bold** _it_ `code` <img src=x> :red[x] $x$ # h", "a\\b [l](u) ~s~ | t |"],
)
def test_plain_text_escapes_every_markdown_character(text: str) -> None:
    """Every character Markdown (with Streamlit's :directives:, $math$ and HTML) gives a
    meaning is escaped with a backslash, which CommonMark shows as the character itself."""
    escaped = plain(text)
    unescaped = re.sub(r"\\.", "", escaped)  # drop each backslash pair: what is left is bare
    assert not set(unescaped) & set(MARKDOWN_CHARACTERS), escaped
    assert re.sub(r"\\(.)", r"\1", escaped) == text  # nothing else changed
    assert "\n" not in plain("one\ntwo")  # no new block from a line break in a name
