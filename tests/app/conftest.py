"""What every app test shares: the app is served on this machine only and in demo mode when
no sign-in is configured, as `make app` does.

Demo mode (no sign-in configured) runs only when asked for (QUOTAPOOL_DEMO=1) and only on a
loopback address (issue 8.9, issue 14); AppTest has no server, so the address that `make app`
passes is set here, and put back after each test. A test of the app failing closed unsets
QUOTAPOOL_DEMO itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit import config


@pytest.fixture(autouse=True)
def demo_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAPOOL_DEMO", "1")


@pytest.fixture(autouse=True)
def served_on_loopback() -> Iterator[str]:
    before = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield "127.0.0.1"
    config.set_option("server.address", before)
