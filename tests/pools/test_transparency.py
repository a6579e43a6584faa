"""Checkpoints catch what the hash chain alone cannot (issue 13, items 1–3): an attacker with
write access who also knows the hash key deletes the newest events and rewrites the head,
rewrites an old event and re-seals the chain, or re-creates the ledger. Against a signed
checkpoint each is found; and a loan's inclusion proof checks offline, forged ones do not."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pools.checkpoint import load_private_key, load_public_key, write_key_pair
from pools.events import DEMO_KEY, canonical_json, chain_hash
from pools.ledger import Ledger
from pools.storage import row_body
from pools.transparency import checkpoint_log, ledger_problems, proof_problems, prove_loan, read_log

from .conftest import DAY0, changed, city, fixed_clock
from .test_tamper import raw

D1 = date(2026, 2, 1)
D2 = date(2026, 3, 1)
WHEN = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
def keys(tmp_path: Path):
    write_key_pair(tmp_path / "office.key", tmp_path / "office.pub")
    other = tmp_path / "other"
    write_key_pair(other.with_suffix(".key"), other.with_suffix(".pub"))
    return (
        load_private_key(tmp_path / "office.key"),
        load_public_key(tmp_path / "office.pub"),
        load_public_key(other.with_suffix(".pub")),
    )


@pytest.fixture
def ledger(any_url: str) -> Ledger:
    made = Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    made.open_loan(
        pool="admin", unit_id="A1", count=2, purpose="引进生", actor="王芳", effective=D1
    )
    made.open_loan(
        pool="unit:I2", unit_id="I1", count=3, purpose="项目", actor="李强", effective=D1
    )
    made.sync(changed(city(), A1=9), actor="王芳", effective=D2)
    return made


def loan_of(ledger: Ledger, borrower: str) -> str:
    return next(
        e["payload"]["loan_id"]
        for e in ledger.events()
        if e["kind"] == "loan_opened" and e["payload"]["borrower"] == borrower
    )


def reseal_from(ledger: Ledger, first_seq: int) -> list[tuple[str, dict]]:
    """SQL that recomputes the chain from `first_seq` with the (public) demo key."""
    with ledger.store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT seq, event_id, idem_key, recorded_at, effective, actor, reason, document,"
            " kind, payload, prev_hash, hash FROM ledger_events ORDER BY seq"
        ).fetchall()
    statements, previous = [], None
    for row in rows:
        if row[0] < first_seq:
            previous = row[11]
            continue
        digest = chain_hash(DEMO_KEY.encode(), previous, canonical_json(row_body(row)))
        statements.append(
            (
                "UPDATE ledger_events SET prev_hash = :p, hash = :h WHERE seq = :s",
                {"p": previous, "h": digest, "s": row[0]},
            )
        )
        previous = digest
    statements.append(("UPDATE ledger_head SET hash = :h WHERE id = 1", {"h": previous}))
    return statements


def test_an_honest_ledger_extends_its_checkpoint_and_later_ones(ledger: Ledger, keys):
    private, public, _ = keys
    checkpoint = checkpoint_log(read_log(ledger.url), private, WHEN)
    assert ledger_problems(read_log(ledger.url), checkpoint, public) == []
    ledger.open_loan(
        pool="admin", unit_id="A2", count=1, purpose="引进生", actor="王芳", effective=D2
    )
    later = read_log(ledger.url)
    assert later.size == checkpoint.size + 1
    assert ledger_problems(later, checkpoint, public) == []


def test_deleting_the_newest_events_is_caught(ledger: Ledger, keys):
    """Item 2: tail truncation with the head rewritten passes the chain; not a checkpoint."""
    private, public, _ = keys
    ledger.open_loan(
        pool="admin", unit_id="A2", count=1, purpose="引进生", actor="王芳", effective=D2
    )
    checkpoint = checkpoint_log(read_log(ledger.url), private, WHEN)
    last = read_log(ledger.url).seqs[-1]
    with ledger.store.engine.connect() as conn:
        before = conn.exec_driver_sql(
            f"SELECT hash FROM ledger_events WHERE seq = {last - 1}"
        ).scalar()
    raw(
        ledger,
        ("DELETE FROM ledger_events WHERE seq = :s", {"s": last}),
        ("UPDATE ledger_head SET seq = :s, hash = :h WHERE id = 1", {"s": last - 1, "h": before}),
    )
    assert ledger.verify()["ok"]  # the chain alone cannot tell
    problems = ledger_problems(read_log(ledger.url), checkpoint, public)
    assert any("events were deleted" in p for p in problems)


def test_an_old_event_rewritten_and_resealed_with_the_known_key_is_caught(ledger: Ledger, keys):
    """Item 1: the demo key is public; re-sealing the chain after a rewrite passes verify."""
    private, public, _ = keys
    checkpoint = checkpoint_log(read_log(ledger.url), private, WHEN)
    seq = read_log(ledger.url).seqs[3]
    raw(ledger, ("UPDATE ledger_events SET actor = '张三' WHERE seq = :s", {"s": seq}))
    raw(ledger, *reseal_from(ledger, seq))
    assert ledger.verify()["ok"]  # forged with the known key
    problems = ledger_problems(read_log(ledger.url), checkpoint, public)
    assert any("history rewritten" in p for p in problems)


def test_a_re_created_ledger_is_caught(any_url: str, tmp_path: Path, keys):
    private, public, _ = keys
    first = Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    checkpoint = checkpoint_log(read_log(first.url), private, WHEN)
    with first.store.engine.connect() as conn, conn.begin():
        if first.store.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS ledger_events_no_delete")
        else:
            conn.exec_driver_sql(
                "DROP TRIGGER IF EXISTS ledger_events_append_only ON ledger_events"
            )
        conn.exec_driver_sql("DELETE FROM ledger_events")
        conn.exec_driver_sql("DELETE FROM ledger_head")
    again = Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    problems = ledger_problems(read_log(again.url), checkpoint, public)
    assert any("re-created or replaced" in p for p in problems)


def test_a_checkpoint_signed_by_another_key_is_refused(ledger: Ledger, keys):
    private, _, other = keys
    checkpoint = checkpoint_log(read_log(ledger.url), private, WHEN)
    assert any(
        "signed by key" in p for p in ledger_problems(read_log(ledger.url), checkpoint, other)
    )


def test_a_loan_proves_offline_and_forged_proofs_fail(ledger: Ledger, keys, tmp_path: Path):
    private, public, _ = keys
    log = read_log(ledger.url)
    checkpoint = checkpoint_log(log, private, WHEN)
    loan = loan_of(ledger, "A1")
    proof = json.loads(json.dumps(prove_loan(log, loan, checkpoint)))  # as a file would hold
    assert len(proof["events"]) >= 2  # opened, and returned by the sync (空一还一)
    assert "algorithm" not in proof  # the default proof is the document it always was
    assert proof_problems(proof, checkpoint, public) == []

    altered = copy.deepcopy(proof)
    altered["events"][0]["event"] = altered["events"][0]["event"].replace("王芳", "张三")
    assert any("inclusion proof fails" in p for p in proof_problems(altered, checkpoint, public))

    other_loan = prove_loan(log, loan_of(ledger, "I1"), checkpoint)
    swapped = {**proof, "events": other_loan["events"]}
    assert any("not an event of loan" in p for p in proof_problems(swapped, checkpoint, public))

    moved = copy.deepcopy(proof)
    moved["events"][0]["index"] += 1
    assert any("inclusion proof fails" in p for p in proof_problems(moved, checkpoint, public))

    assert proof_problems({"format": "other"}, checkpoint, public)
    empty = {**proof, "events": []}
    assert any("malformed" in p for p in proof_problems(empty, checkpoint, public))
