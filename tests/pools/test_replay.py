"""The replay path: the hashed text rebuilt from stored columns, rows read in pages from the
driver's cursor, and the fold that pauses the garbage collector while it runs."""

from __future__ import annotations

import gc
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pools.events import LoanOpened, body_json, canonical_json, chain_hash, seal
from pools.ledger import Ledger
from pools.state import InvariantBroken, fold
from pools.storage import event_from_row, event_row, row_json

from .conftest import DAY0, changed, city, fixed_clock

D1 = date(2026, 2, 1)
D2 = date(2026, 3, 1)

# any text a planner could type: quotes, backslashes, control characters, CJK, emoji
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)


@settings(max_examples=200)
@given(
    seq=st.integers(min_value=1, max_value=10**12),
    idem_key=st.none() | texts,
    fields=st.lists(texts, min_size=9, max_size=9),
    count=st.integers(min_value=-(2**40), max_value=2**40),
)
def test_body_json_is_the_canonical_json_of_the_body(
    seq: int, idem_key: str | None, fields: list[str], count: int
) -> None:
    """The text `seal` hashes and `verify` rebuilds is exactly canonical_json(event.body())."""
    event_id, recorded_at, effective, actor, reason, document, loan_id, pool, purpose = fields
    payload = LoanOpened(loan_id, pool, "B1", count, purpose, None)
    event = seal(
        b"k", seq=seq, event_id=event_id, idem_key=idem_key, recorded_at=recorded_at,
        effective=effective, actor=actor, reason=reason, document=document, payload=payload,
        prev_hash="p",
    )  # fmt: skip
    expected = canonical_json(event.body())
    assert event.hash == chain_hash(b"k", "p", expected)
    stored = event_row(event)
    row = tuple(stored.values())
    assert row_json(row) == expected
    assert body_json(
        seq, event_id, idem_key, recorded_at, effective, actor, reason, document,
        "loan_opened", canonical_json(payload.as_dict()),
    ) == expected  # fmt: skip
    assert event_from_row(row) == event


@pytest.fixture
def ledger(any_url: str) -> Ledger:
    """Events 1–10 on DAY0 (init), 11–13 on D1 (loans), 14–15 on D2 (sync, 空一还一)."""
    made = Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    for borrower in ("A1", "A2"):
        made.open_loan(
            pool="admin", unit_id=borrower, count=1, purpose="引进生", actor="王芳", effective=D1
        )
    made.open_loan(
        pool="unit:I2", unit_id="I1", count=2, purpose="项目", actor="李强", effective=D1
    )
    made.sync(changed(city(), A1=9), actor="王芳", effective=D2)
    return made


def test_rows_are_the_same_in_any_page_size(ledger: Ledger) -> None:
    with ledger.store.read() as (conn, head):
        whole = list(ledger.store.rows(conn))
        assert [row[0] for row in whole] == list(range(1, head.seq + 1))
        for batch in (1, 2, 7, head.seq, head.seq + 1):
            assert list(ledger.store.rows(conn, batch=batch)) == whole
        window = list(ledger.store.rows(conn, after=3, upto=12, until=D1.isoformat(), batch=4))
    assert window == [row for row in whole if 3 < row[0] <= 12 and row[4] <= D1.isoformat()]
    assert [row[0] for row in window] == list(range(4, 13))


def test_a_replay_stopped_early_leaves_the_transaction_usable(ledger: Ledger) -> None:
    """Stop a fold half-way through its cursor, then read again in the same transaction."""
    with ledger.store.read() as (conn, head):
        events = ledger.store.events(conn, batch=2)
        early = fold(events, until=DAY0.isoformat())
        again = fold(ledger.store.events(conn, batch=2))
        events.close()
    assert early.seq == 10
    assert (again.seq, again.hash) == (head.seq, head.hash)
    assert ledger.verify()["ok"]


def test_the_garbage_collector_runs_again_after_a_replay(ledger: Ledger) -> None:
    with ledger.store.read() as (conn, _head):
        events = list(ledger.store.events(conn))
    assert gc.isenabled()
    fold(events)
    assert gc.isenabled()
    with pytest.raises(InvariantBroken):
        fold(events[:3] + events[4:])  # event 4 missing
    assert gc.isenabled()
    gc.disable()  # a caller that had it off keeps it off
    try:
        fold(events)
        assert not gc.isenabled()
    finally:
        gc.enable()
