"""`ledger init` in bulk (issue 14): many events go in chunks (COPY on PostgreSQL,
executemany on SQLite) inside the one transaction, and read back exactly as sealed."""

from __future__ import annotations

import pytest

from pools import storage
from pools.ledger import Ledger
from pools.units import Unit

from .conftest import DAY0, city, fixed_clock


def test_init_in_chunks_stores_every_event_as_sealed(
    any_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "APPEND_CHUNK", 4)  # 11 events: chunks of 4, 4 and 3
    units = [*city(), Unit("N1", '名称, "引号"\n换行\t\\', "C01", "county", "institutional", 3, 1)]
    with Ledger.create(any_url, units, actor="王芳", effective=DAY0, clock=fixed_clock) as made:
        sealed = made.events()
    with Ledger.open(any_url, clock=fixed_clock) as ledger:
        assert ledger.events() == sealed and len(sealed) == 11
        assert ledger.verify()["ok"]
        assert ledger.state().units["N1"].name == '名称, "引号"\n换行\t\\'


def test_payload_as_dict_is_asdict() -> None:
    """The fast path of `Payload.as_dict` gives what `dataclasses.asdict` gives."""
    from dataclasses import asdict

    from pools.events import LoanOpened, UnitRegistered, UnitUpdated

    for payload in (
        UnitRegistered("U1", "n", "r", "county", "institutional", 3, 2, "", ""),
        UnitUpdated("U1", {"headcount": [2, 3]}),
        LoanOpened("L1", "admin", "U1", 1, "引进生", None),
    ):
        assert payload.as_dict() == asdict(payload)
        assert list(payload.as_dict()) == list(asdict(payload))
