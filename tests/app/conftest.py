"""What every app test shares: the app is served on this machine only, as `make app` does.

Demo mode (no sign-in configured) runs only on a loopback address (issue 8.9); AppTest has no
server, so the address that `make app` passes is set here, and put back after each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit import config


@pytest.fixture(autouse=True)
def served_on_loopback() -> Iterator[str]:
    before = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield "127.0.0.1"
    config.set_option("server.address", before)
