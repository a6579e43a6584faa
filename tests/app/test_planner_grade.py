"""Issue 8 ("Planner-grade app and reports"), the app's items checked through AppTest:
3 downloads that say what produced them, 6 one language at a time, 8 numbers, 9 exposure.

Same small city and ledger as test_app_pages.py (see its docstring for the figures).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from streamlit import config as streamlit_config

from app_ui import config
from tests.app.test_app_pages import FIXTURES, button, environment, rerun, start  # noqa: F401

REPO = Path(__file__).resolve().parents[2]


# --- 9. exposure -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("", False),
        (None, False),
        ("192.168.1.5", False),
        ("::", False),
    ],
)
def test_only_addresses_of_this_machine_are_loopback(address: str | None, loopback: bool) -> None:
    assert config.is_loopback(address) is loopback


def test_demo_mode_refuses_to_run_on_an_address_open_to_the_network() -> None:
    streamlit_config.set_option("server.address", "0.0.0.0")  # put back by conftest
    at = start("whatif")
    assert any("演示模式" in e.value and "0.0.0.0" in e.value for e in at.error)
    assert not at.title  # no page drawn: nobody becomes an approver
    assert not at.dataframe


def test_make_app_binds_to_this_machine_unless_told_otherwise() -> None:
    def dry_run(*extra: str) -> str:
        command = ["make", "-n", "-o", ".venv/.installed", "app", *extra]
        return subprocess.run(command, cwd=REPO, capture_output=True, text=True).stdout

    assert "--server.address=127.0.0.1" in dry_run()
    assert "--server.address=0.0.0.0" in dry_run("QUOTAPOOL_APP_ADDRESS=0.0.0.0")


def test_streamlit_config_sends_nothing_away() -> None:
    text = (REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    assert re.search(r"^gatherUsageStats\s*=\s*false", text, re.M)
    assert re.search(r'^address\s*=\s*"127\.0\.0\.1"', text, re.M)
