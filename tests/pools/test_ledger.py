"""The ledger as a whole: events, idempotency, point-in-time state, sync, audit log, both
databases."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from pools.events import canonical_json
from pools.ledger import Ledger, LedgerError
from pools.rules import RuleViolation
from pools.rules.violations import Violation
from pools.state import fold
from pools.units import Unit

from .conftest import DAY0, changed, city, fixed_clock, unit

D1 = date(2026, 2, 1)
D2 = date(2026, 3, 1)
MakeLedger = Callable[..., Ledger]


def test_every_event_is_attributable_and_chained(any_url: str) -> None:
    ledger = Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    ledger.open_loan(
        pool="admin", unit_id="A1", count=1, purpose="引进生", actor="李强", effective=D1,
        reason="2026 intake", document="临编〔2026〕3号",
    )  # fmt: skip
    events = ledger.events()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["actor"] and e["at"] and e["effective"] and e["hash"] for e in events)
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(events))
    last = events[-1]
    assert (last["kind"], last["actor"], last["document"]) == (
        "loan_opened",
        "李强",
        "临编〔2026〕3号",
    )
    assert last["at"] == "2026-01-05T09:00:00.000000+00:00"  # the injected clock
    assert ledger.verify()["ok"]
    ledger.close()


def test_same_key_twice_is_one_loan(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    first = ledger.open_loan(
        pool="admin", unit_id="A1", count=2, purpose="引进生", actor="王芳", key="K-1", effective=D1
    )
    head = ledger.status()["head"]
    again = ledger.open_loan(
        pool="admin", unit_id="A1", count=2, purpose="引进生", actor="王芳", key="K-1", effective=D1
    )
    assert (again["loan_id"], again["replayed"], first["replayed"]) == (
        first["loan_id"],
        True,
        False,
    )
    assert ledger.status()["head"] == head
    assert ledger.status()["pools"]["admin"]["lent"] == 2
    with pytest.raises(RuleViolation) as caught:
        ledger.open_loan(
            pool="admin", unit_id="A2", count=1, purpose="引进生", actor="王芳", key="K-1",
            effective=D1,
        )  # fmt: skip
    assert caught.value.rule == "loan.key_conflict"


def test_state_is_a_fold_of_the_events(make_ledger: MakeLedger) -> None:
    """Replaying the stored events from scratch gives exactly the cached state."""
    ledger = make_ledger()
    ledger.open_loan(pool="admin", unit_id="A1", count=2, purpose="引进生", actor="a", effective=D1)
    ledger.open_loan(pool="unit:I2", unit_id="I1", count=3, purpose="p", actor="a", effective=D1)
    ledger.sync(changed(city(), A1=9, I1=49), actor="a", effective=D2)
    cached = ledger.state()
    with ledger.store.read() as (conn, _head):
        replayed = fold(ledger.store.events(conn))
    as_json = lambda s: canonical_json(  # noqa: E731
        {
            "units": [u.as_dict() for u in s.units.values()],
            "loans": [loan.as_dict() for loan in s.loans.values()],
            "pools": s.pools_view(),
            "head": [s.seq, s.hash],
        }
    )
    assert as_json(replayed) == as_json(cached)


def test_point_in_time_status(make_ledger: MakeLedger) -> None:
    """As of D1 − 1 day: no loan; as of D1: the loan; as of D2: after the 空一还一 return."""
    ledger = make_ledger()
    ledger.open_loan(pool="admin", unit_id="A1", count=2, purpose="引进生", actor="a", effective=D1)
    ledger.sync(changed(city(), A1=9), actor="a", effective=D2)
    lent = lambda d: ledger.status(as_of=d)["pools"]["admin"]["lent"]  # noqa: E731
    assert (lent(date(2026, 1, 31)), lent(D1), lent(D2)) == (0, 2, 1)
    assert ledger.status(as_of=date(2026, 1, 31))["as_of"] == "2026-01-31"


def test_backdated_write_is_refused(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    ledger.sync(changed(city(), A3=21), actor="a", effective=D2)
    with pytest.raises(RuleViolation) as caught:
        ledger.open_loan(
            pool="admin", unit_id="A1", count=1, purpose="引进生", actor="a", effective=D1
        )
    assert caught.value.rule == "ledger.backdated"


def test_write_without_actor_is_refused(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    with pytest.raises(RuleViolation) as caught:
        ledger.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor=" ")
    assert caught.value.rule == "ledger.actor"


def test_vacancy_returns_oldest_loan_first(make_ledger: MakeLedger) -> None:
    """A1 borrows 1 from the admin pool (first) and 1 from I2 (second); one vacancy returns
    the admin loan, the second vacancy the unit loan."""
    ledger = make_ledger()
    first = ledger.open_loan(
        pool="admin", unit_id="A1", count=1, purpose="引进生", actor="a", effective=D1
    )["loan_id"]
    second = ledger.open_loan(
        pool="unit:I2", unit_id="A1", count=1, purpose="p", actor="a", effective=D1
    )["loan_id"]
    one = ledger.sync(changed(city(), A1=9), actor="a", effective=D2)
    assert [r["loan_id"] for r in one["returns"]] == [first]
    two = ledger.sync(changed(city(), A1=9), actor="a", effective=D2)
    assert [r["loan_id"] for r in two["returns"]] == [second]


def test_sync_registers_and_removes_units(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    units = [u for u in city() if u.unit_id != "C1"] + [unit("N1", 5, 2)]
    result = ledger.sync(units, actor="a", effective=D1)
    assert {(c["unit_id"], c["change"]) for c in result["changes"]} == {
        ("N1", "registered"),
        ("C1", "removed"),
    }
    assert "C1" not in {u["unit_id"] for u in ledger.status()["units"]}


def test_sync_refuses_to_drop_a_unit_with_loans(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    ledger.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="a", effective=D1)
    head = ledger.status()["head"]
    with pytest.raises(RuleViolation) as caught:
        ledger.sync([u for u in city() if u.unit_id != "A1"], actor="a", effective=D2)
    assert caught.value.rule == "sync.unit_with_loans_missing"
    assert ledger.status()["head"] == head


def test_unchanged_snapshot_writes_nothing(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    result = ledger.sync(city(), actor="a", effective=D1)
    assert (result["events"], result["changes"]) == (0, [])


def test_audit_log_filters_by_unit_and_loan(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    loan_id = ledger.open_loan(
        pool="unit:I2", unit_id="I1", count=2, purpose="p", actor="a", effective=D1
    )["loan_id"]
    ledger.sync(changed(city(), I1=49), actor="a", effective=D2)
    by_loan = [e["kind"] for e in ledger.events(loan_id=loan_id)]
    assert by_loan == ["loan_opened", "loan_returned"]
    lender = [e["kind"] for e in ledger.events(unit_id="I2")]
    assert lender == ["unit_registered", "loan_opened", "loan_returned"]
    borrower = [e["kind"] for e in ledger.events(unit_id="I1")]
    assert borrower == ["unit_registered", "loan_opened", "unit_updated", "loan_returned"]


def test_two_ledger_objects_see_each_others_writes(sqlite_url: str) -> None:
    """The cached state catches up from the head: no stale read, no lost update."""
    one = Ledger.create(sqlite_url, city(), actor="a", effective=DAY0, clock=fixed_clock)
    two = Ledger.open(sqlite_url, clock=fixed_clock)
    one.open_loan(pool="admin", unit_id="A1", count=2, purpose="引进生", actor="a", effective=D1)
    with pytest.raises(RuleViolation) as caught:
        two.open_loan(
            pool="admin", unit_id="A2", count=2, purpose="引进生", actor="b", effective=D1
        )
    assert caught.value.rule == "pool.capacity"
    two.open_loan(pool="admin", unit_id="A2", count=1, purpose="引进生", actor="b", effective=D1)
    assert one.status()["pools"]["admin"]["lent"] == 3
    one.close()
    two.close()


def test_init_twice_is_refused(make_ledger: MakeLedger, sqlite_url: str) -> None:
    make_ledger()
    with pytest.raises(RuleViolation) as caught:
        Ledger.create(sqlite_url, city(), actor="a", effective=DAY0)
    assert caught.value.rule == "ledger.exists"


def test_open_missing_ledger_says_so(tmp_path: object) -> None:
    with pytest.raises(LedgerError, match="no ledger"):
        Ledger.open(f"{tmp_path}/nothing.db")


def test_status_json_has_the_spec_fields(make_ledger: MakeLedger) -> None:
    """SPEC 3.3: pools.{admin,institutional}.{capacity,lent,available}; units with headcount
    on own quota and pool_headcount separately; alerts with kind and message."""
    ledger = make_ledger()
    ledger.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="a", effective=D1)
    status = ledger.status()
    for pool in ("admin", "institutional"):
        assert {"capacity", "lent", "available"} <= set(status["pools"][pool])
    a1 = next(u for u in status["units"] if u["unit_id"] == "A1")
    assert a1 | {} == a1 | {
        "approved": 10,
        "headcount": 10,
        "pool_headcount": 1,
        "borrowed": 0,
        "lent": 0,
        "vacancies": 0,
        "over_quota": False,
    }
    assert all({"kind", "message"} <= set(alert) for alert in status["alerts"])
    frame = ledger.units_frame()
    assert list(frame["unit_id"]) == [u.unit_id for u in city()]


def test_units_with_unknown_level_are_rejected_by_the_fold(make_ledger: MakeLedger) -> None:
    with pytest.raises(Exception, match="unknown level"):
        make_ledger([Unit("Q", "q", "C00", "province", "administrative", 1, 1)])


def test_a_refusal_before_any_event_keeps_the_cached_state_and_one_after_drops_it(
    make_ledger: Any,
) -> None:
    """A refused request that emitted nothing leaves the cached fold as it was (the next write
    does not replay the ledger); one that emitted events first (then was refused) is refolded
    from the database, so nothing half-applied survives."""
    from pools.commands import Batch
    from pools.events import UnitRemoved

    ledger = make_ledger()
    cached = ledger.state()
    with pytest.raises(RuleViolation):
        ledger.open_loan(pool="admin", unit_id="A1", count=99, purpose="引进生", actor="王芳")
    assert ledger._state is cached

    def emits_then_refuses(batch: Batch) -> None:
        batch.emit(UnitRemoved("A3"))
        raise RuleViolation(Violation("test.refused", "refused after an event", "拒绝"))

    with pytest.raises(RuleViolation):
        ledger._write(None, "王芳", "", "", emits_then_refuses)
    assert ledger._state is None
    assert "A3" in ledger.state().units and ledger.verify()["ok"]
