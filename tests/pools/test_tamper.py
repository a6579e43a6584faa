"""Tampering: any altered, removed or reordered event makes `audit verify` fail and say where.

The attacker here has write access to the database (so drops the append-only triggers first);
without the chain key the hashes cannot be forged, and with it the replay still catches an
event that breaks the rules or the invariants.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from pools.events import DEMO_KEY, canonical_json, chain_hash
from pools.ledger import Ledger
from pools.storage import events_table, head_table, row_body

from .conftest import DAY0, changed, city, fixed_clock

D1 = date(2026, 2, 1)
D2 = date(2026, 3, 1)


@pytest.fixture
def ledger(any_url: str) -> Ledger:
    """A ledger with three loans and a sync that returns one quota (events 11–16)."""
    made = Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    made.open_loan(
        pool="admin", unit_id="A1", count=2, purpose="引进生", actor="王芳", effective=D1
    )
    made.open_loan(
        pool="admin", unit_id="A2", count=1, purpose="引进生", actor="王芳", effective=D1
    )
    made.open_loan(
        pool="unit:I2", unit_id="I1", count=3, purpose="项目", actor="李强", effective=D1
    )
    made.sync(changed(city(), A1=9), actor="王芳", effective=D2)
    assert made.verify()["ok"]
    return made


def loan_seq(ledger: Ledger, unit_id: str) -> int:
    return next(
        e["seq"]
        for e in ledger.events()
        if e["kind"] == "loan_opened" and e["payload"]["borrower"] == unit_id
    )


def raw(ledger: Ledger, *statements: tuple[str, dict]) -> None:
    """Run SQL as an attacker with database access: triggers off, then the changes."""
    with ledger.store.engine.connect() as conn, conn.begin():
        if ledger.store.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS ledger_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS ledger_events_no_delete")
        else:
            conn.exec_driver_sql(
                "DROP TRIGGER IF EXISTS ledger_events_append_only ON ledger_events"
            )
        for sql, params in statements:
            conn.execute(sa.text(sql), params)
    ledger._state = None  # a tampered database is read afresh


def first_problem(ledger: Ledger) -> dict:
    result = ledger.verify()
    assert result["ok"] is False
    return result["problems"][0]


def test_database_refuses_update_and_delete(ledger: Ledger) -> None:
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), ledger.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE ledger_events SET actor = 'x' WHERE seq = 3"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), ledger.store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM ledger_events WHERE seq = 3"))
    assert ledger.verify()["ok"]


def test_changed_payload_is_found(ledger: Ledger) -> None:
    seq = loan_seq(ledger, "A2")
    with ledger.store.engine.connect() as conn:
        payload = json.loads(
            conn.execute(
                sa.select(events_table.c.payload).where(events_table.c.seq == seq)
            ).scalar_one()
        )
    payload["count"] = 3
    raw(
        ledger,
        (
            "UPDATE ledger_events SET payload = :p WHERE seq = :s",
            {"p": json.dumps(payload), "s": seq},
        ),
    )
    problem = first_problem(ledger)
    assert problem["seq"] == seq
    assert "does not match its hash" in problem["problem"]


def test_changed_actor_is_found(ledger: Ledger) -> None:
    raw(ledger, ("UPDATE ledger_events SET actor = '张三' WHERE seq = 5", {}))
    assert first_problem(ledger)["seq"] == 5


def test_deleted_event_is_found(ledger: Ledger) -> None:
    seq = loan_seq(ledger, "A2")
    raw(ledger, ("DELETE FROM ledger_events WHERE seq = :s", {"s": seq}))
    problem = first_problem(ledger)
    assert problem["seq"] == seq + 1
    assert "missing" in problem["problem"]


def test_deleted_and_renumbered_event_is_found(ledger: Ledger) -> None:
    """Delete event n and shift the later ones down: the chain breaks at the new n."""
    seq = loan_seq(ledger, "A2")
    raw(
        ledger,
        ("DELETE FROM ledger_events WHERE seq = :s", {"s": seq}),
        ("UPDATE ledger_events SET seq = seq - 1 WHERE seq > :s", {"s": seq}),
    )
    problem = first_problem(ledger)
    assert problem["seq"] == seq
    assert "does not chain" in problem["problem"]


def test_swapped_events_are_found(ledger: Ledger) -> None:
    """Swap the contents of two loan events (each keeps its position)."""
    a, b = loan_seq(ledger, "A1"), loan_seq(ledger, "A2")
    columns = [
        c.name for c in events_table.columns if c.name not in ("seq", "event_id", "idem_key")
    ]
    sets = ", ".join(f"{c} = (SELECT {c} FROM ledger_events WHERE seq = :other)" for c in columns)
    raw(
        ledger,
        ("UPDATE ledger_events SET seq = -1 WHERE seq = :s", {"s": a}),
        (f"UPDATE ledger_events SET {sets} WHERE seq = -1", {"other": b}),
        (f"UPDATE ledger_events SET {sets.replace(':other', '-1')} WHERE seq = :s", {"s": b}),
        ("UPDATE ledger_events SET seq = :s WHERE seq = -1", {"s": a}),
    )
    # after the swap, event a carries b's hash and prev_hash: it no longer chains onto a − 1
    assert first_problem(ledger)["seq"] == a


def test_removed_tail_is_found_through_the_head(ledger: Ledger) -> None:
    head = ledger.status()["head"]["seq"]
    raw(ledger, ("DELETE FROM ledger_events WHERE seq = :s", {"s": head}))
    problem = first_problem(ledger)
    assert "removed" in problem["problem"]
    assert problem["seq"] == head


def test_wrong_key_fails_at_the_first_event(ledger: Ledger, any_url: str) -> None:
    other = Ledger.open(any_url, key="not-the-key")
    problem = first_problem(other)
    assert problem["seq"] == 1
    assert "QUOTAPOOL_LEDGER_KEY" in problem["problem"]
    other.close()


def test_forged_chain_that_breaks_an_invariant_is_found(ledger: Ledger) -> None:
    """With the key, an attacker re-seals the chain after raising a loan to 9 quotas (the
    admin pool holds 3): the hashes check out, the replay does not."""
    seq = loan_seq(ledger, "A2")
    with ledger.store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(events_table).where(events_table.c.seq >= seq).order_by(events_table.c.seq)
        ).all()
        prev = conn.execute(
            sa.select(events_table.c.hash).where(events_table.c.seq == seq - 1)
        ).scalar_one()
    statements = []
    for row in rows:
        body = row_body(row)
        if row.seq == seq:
            body["payload"]["count"] = 9
        digest = chain_hash(DEMO_KEY.encode(), prev, canonical_json(body))
        statements.append(
            (
                "UPDATE ledger_events SET payload = :p, prev_hash = :ph, hash = :h WHERE seq = :s",
                {"p": canonical_json(body["payload"]), "ph": prev, "h": digest, "s": row.seq},
            )
        )
        prev = digest
    statements.append((f"UPDATE {head_table.name} SET hash = :h WHERE id = 1", {"h": prev}))
    raw(ledger, *statements)
    problem = first_problem(ledger)
    assert problem["seq"] == seq
    assert "pool.capacity" in problem["problem"]


def test_reformatted_payload_is_found(ledger: Ledger) -> None:
    """The same values written with spaces (json.dumps' default): the stored text is no longer
    the text that was sealed, so the event no longer matches its hash."""
    seq = loan_seq(ledger, "A2")
    with ledger.store.engine.connect() as conn:
        text = conn.execute(
            sa.select(events_table.c.payload).where(events_table.c.seq == seq)
        ).scalar_one()
    reformatted = json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False)
    assert reformatted != text and json.loads(reformatted) == json.loads(text)
    raw(
        ledger,
        ("UPDATE ledger_events SET payload = :p WHERE seq = :s", {"p": reformatted, "s": seq}),
    )
    problem = first_problem(ledger)
    assert problem["seq"] == seq
    assert "does not match its hash" in problem["problem"]


def test_every_altered_event_is_reported(ledger: Ledger) -> None:
    """SPEC 3.6: verify reports every problem it finds, not just the first, each with its rule."""
    raw(ledger, ("UPDATE ledger_events SET actor = '张三' WHERE seq IN (3, 12)", {}))
    result = ledger.verify()
    assert result["ok"] is False
    assert [(p["seq"], p["rule"]) for p in result["problems"]] == [
        (3, "chain.hash"),
        (12, "chain.hash"),
    ]
