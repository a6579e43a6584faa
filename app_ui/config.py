"""The app's settings, from environment variables (all optional; see app.py)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from app_ui import scenarios

APP_DIR = Path(__file__).resolve().parent.parent
SAMPLE_SCENARIO = APP_DIR / "data" / "scenarios" / "baseline.toml"
SAMPLE_UNITS = APP_DIR / "data" / "units" / "units-2026-10.csv"
DEFAULT_DB_FILE = "quotapool-ledger.db"


def ledger_url() -> str:
    """QUOTAPOOL_DB as a SQLAlchemy URL (a bare path is a SQLite file), as the CLI reads it."""
    from pools.storage import normalise_url  # SQLAlchemy only when the ledger is needed

    return normalise_url(os.environ.get("QUOTAPOOL_DB", DEFAULT_DB_FILE))


def starting_scenario_path() -> Path:
    return Path(os.environ.get("QUOTAPOOL_SCENARIO", SAMPLE_SCENARIO))


def units_snapshot_path() -> Path:
    """The units snapshot a new demo ledger starts from."""
    return Path(os.environ.get("QUOTAPOOL_UNITS", SAMPLE_UNITS))


def scenario_store() -> scenarios.ScenarioStore:
    configured = os.environ.get("QUOTAPOOL_SCENARIOS_DIR")
    return scenarios.ScenarioStore(
        Path(configured) if configured else scenarios.default_store_dir(ledger_url())
    )


def is_loopback(address: str | None) -> bool:
    """Whether a server address reaches this machine only. No address (Streamlit's default)
    means every interface, so it is not loopback."""
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def served_on_loopback_only() -> bool:
    """Whether this app's server listens on this machine only (server.address)."""
    import streamlit as st

    return is_loopback(st.get_option("server.address"))
