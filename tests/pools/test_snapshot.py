"""Snapshots of the folded state (issue 14): a fresh process starts from the latest trusted
snapshot and folds only the tail; a snapshot that fails its MAC, has another format or sits on
another event is ignored (full replay) and reported by `audit verify`, which also compares
every snapshot with the full replay."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pools import snapshot as snap
from pools.ledger import Ledger
from pools.rules.violations import RuleViolation
from pools.snapshot import decode_state, encode_state, make_snapshot, states_equal
from pools.state import State, fold

from .conftest import DAY0, changed, city, fixed_clock
from .test_roles import as_role, refused
from .test_roles import roles as roles  # a fixture


@pytest.fixture(autouse=True)
def _every_three(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(snap.SNAPSHOT_EVERY_ENV, "3")


def full_fold(ledger: Ledger) -> State:
    with ledger.store.read() as (conn, head):
        return fold(ledger.store.events(conn, upto=head.seq))


def stored(url: str) -> list[tuple[int, str, str, bytes, str]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT seq, hash, format_version, body, mac FROM ledger_snapshots ORDER BY seq"
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def replace_snapshot(url: str, **values: object) -> None:
    """Overwrite columns of the (only) stored snapshot, as someone with database access."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        sets = ", ".join(f"{name} = :{name}" for name in values)
        conn.execute(sa.text(f"UPDATE ledger_snapshots SET {sets}"), values)
    engine.dispose()


def build(url: str) -> Ledger:
    """A city with loans: snapshots are written on the way (every 3 events)."""
    ledger = Ledger.create(url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    ledger.open_loan(pool="admin", unit_id="A1", count=2, purpose="引进生", actor="王芳")
    ledger.open_loan(pool="institutional", unit_id="I1", count=5, purpose="重点领域", actor="王芳")
    ledger.open_loan(pool="unit:I2", unit_id="I1", count=3, purpose="项目", actor="王芳")
    return ledger


def test_every_state_attribute_has_a_declared_type() -> None:
    """The codec reads the State's declarations: an attribute added to State without one
    would turn snapshots off (declare it on the class, next to the others)."""
    names = [name for name, _ in snap._schema()]
    assert names == list(vars(State()))


def test_a_fresh_ledger_starts_from_the_snapshot_and_equals_the_full_replay(
    any_url: str,
) -> None:
    build(any_url).close()
    rows = stored(any_url)
    assert len(rows) == 1  # older snapshots are dropped when a newer one is written
    with Ledger.open(any_url, clock=fixed_clock) as ledger:
        with ledger.store.read() as (conn, head):
            assert ledger._from_snapshot(conn, head) is not None  # it is used
        assert states_equal(ledger.state(), full_fold(ledger))
        ledger.open_loan(pool="admin", unit_id="A2", count=1, purpose="引进生", actor="王芳")
        assert states_equal(ledger.state(), full_fold(ledger))
        assert ledger.verify()["ok"]


def test_a_snapshot_altered_without_the_key_is_ignored_and_reported(any_url: str) -> None:
    """Someone with database access makes the admin pool look emptier and bigger... with a
    body that claims A3 has 1,000 quotas: writes must not see it."""
    build(any_url).close()
    _seq, _digest, _fmt, body, _mac = stored(any_url)[0]
    state = decode_state(bytes(body))
    state.units["A3"].approved = 1_000
    state.admin_vacancies += 970
    replace_snapshot(any_url, body=encode_state(state))  # the old MAC stays
    with Ledger.open(any_url, clock=fixed_clock) as ledger:
        assert ledger.state().units["A3"].approved == 30
        with pytest.raises(RuleViolation) as refused:  # the true pool has 3, 2 lent
            ledger.open_loan(pool="admin", unit_id="A2", count=5, purpose="引进生", actor="王芳")
        assert refused.value.rule == "pool.capacity"
        found = ledger.verify()
    assert not found["ok"]
    assert [p["rule"] for p in found["problems"]] == ["snapshot.untrusted"]
    assert "MAC" in found["problems"][0]["problem"]


def test_a_snapshot_forged_with_the_key_is_caught_by_verify(any_url: str) -> None:
    """With the chain key (the demo key is public) a forged snapshot passes its MAC; `audit
    verify` compares it with the full replay and says so."""
    build(any_url).close()
    seq, _digest, _fmt, body, _mac = stored(any_url)[0]
    with Ledger.open(any_url, clock=fixed_clock) as ledger:
        state = decode_state(bytes(body))
        state.units["A3"].headcount = 1
        forged = make_snapshot(ledger._key, state)
        replace_snapshot(any_url, body=forged.body, mac=forged.mac)
        found = ledger.verify()
    assert [p["rule"] for p in found["problems"]] == ["snapshot.state"]
    assert found["problems"][0]["seq"] == seq
    assert "differs from the replayed state" in found["problems"][0]["problem"]


def test_a_snapshot_of_another_format_or_moved_to_another_event_is_ignored(
    any_url: str,
) -> None:
    build(any_url).close()
    seq, digest, fmt, body, _mac = stored(any_url)[0]
    with Ledger.open(any_url, clock=fixed_clock) as ledger:
        key = ledger._key
        old_format = "msgpack-0:0000000000000000"
        replace_snapshot(
            any_url,
            format_version=old_format,
            mac=snap.snapshot_mac(key, seq, digest, old_format, bytes(body)),
        )
        with ledger.store.read() as (conn, head):
            assert ledger._from_snapshot(conn, head) is None
        found = ledger.verify()
        assert [p["rule"] for p in found["problems"]] == ["snapshot.untrusted"]
        assert "format" in found["problems"][0]["problem"]
        # the right format, but named after another hash than the event at its seq has
        other = "0" * 64
        replace_snapshot(
            any_url,
            format_version=fmt,
            hash=other,
            mac=snap.snapshot_mac(key, seq, other, fmt, bytes(body)),
        )
        with ledger.store.read() as (conn, head):
            assert ledger._from_snapshot(conn, head) is None
        assert "another hash" in ledger.verify()["problems"][0]["problem"]


def test_a_body_that_is_not_a_state_is_ignored(any_url: str) -> None:
    """Whatever bytes sit in a body with a valid MAC, decoding builds data or fails: nothing
    runs (no pickle), and the ledger falls back to the full replay."""
    build(any_url).close()
    seq, digest, fmt, _body, _mac = stored(any_url)[0]
    junk = b"\x80\x04\x95cos\nsystem\n"  # a pickle's opening, for good measure
    with Ledger.open(any_url, clock=fixed_clock) as ledger:
        replace_snapshot(
            any_url, body=junk, mac=snap.snapshot_mac(ledger._key, seq, digest, fmt, junk)
        )
        with ledger.store.read() as (conn, head):
            assert ledger._from_snapshot(conn, head) is None
        assert states_equal(ledger.state(), full_fold(ledger))
        assert [p["rule"] for p in ledger.verify()["problems"]] == ["snapshot.state"]


def test_snapshots_can_be_turned_off(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(snap.SNAPSHOT_EVERY_ENV, "0")
    build(sqlite_url).close()
    assert stored(sqlite_url) == []
    monkeypatch.setenv(snap.SNAPSHOT_EVERY_ENV, "many")
    with pytest.raises(Exception, match="QUOTAPOOL_SNAPSHOT_EVERY"):
        Ledger.open(sqlite_url)


# ---- the property: snapshot + tail == full fold -------------------------------------------

operation = st.one_of(
    st.tuples(st.just("open"), st.sampled_from(["admin", "institutional", "unit:I2", "unit:A3"]),
              st.sampled_from(["A1", "A2", "I1", "I3", "C1"]), st.integers(1, 4)),
    st.tuples(st.just("return"), st.integers(0, 5), st.integers(1, 3)),
    st.tuples(st.just("sync"), st.sampled_from(["A3", "A4", "I2", "A1"]), st.integers(0, 45)),
    st.tuples(st.just("later"), st.integers(1, 800)),
)  # fmt: skip
PURPOSES = {"admin": "引进生", "institutional": "重点领域"}


def run_operation(ledger: Ledger, op: tuple, day: date) -> date:
    try:
        if op[0] == "open":
            _, pool, unit_id, count = op
            ledger.open_loan(
                pool=pool, unit_id=unit_id, count=count, purpose=PURPOSES.get(pool, "项目"),
                actor="王芳", effective=day,
            )  # fmt: skip
        elif op[0] == "return":
            loans = [loan for loan in ledger.loans() if loan["status"] != "closed"]
            if loans:
                loan = loans[op[1] % len(loans)]
                ledger.return_loan(loan["loan_id"], count=op[2], actor="王芳", effective=day)
        elif op[0] == "sync":
            ledger.sync(changed(city(), **{op[1]: op[2]}), actor="王芳", effective=day)
        else:
            return day + timedelta(days=op[1])
    except RuleViolation:
        pass
    return day


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(operation, max_size=14), every=st.integers(1, 5), split=st.integers(0, 14))
def test_state_via_snapshot_and_tail_equals_the_full_fold(
    ops: list[tuple], every: int, split: int
) -> None:
    """Random ledgers, snapshots every `every` events: a fresh ledger object (a new process)
    sees the state of the full fold, before and after more writes."""
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setenv(snap.SNAPSHOT_EVERY_ENV, str(every))
        url = f"sqlite:///{Path(folder) / 'ledger.db'}"
        Ledger.create(url, city(), actor="王芳", effective=DAY0, clock=fixed_clock).close()
        day = DAY0
        for index, op in enumerate(ops):
            with Ledger.open(url, clock=fixed_clock) as ledger:  # a fresh process per write
                if index == split:  # and once in a while a snapshot with a tail after it
                    assert states_equal(ledger.state(), full_fold(ledger))
                day = run_operation(ledger, op, day)
        with Ledger.open(url, clock=fixed_clock) as ledger:
            assert states_equal(ledger.state(), full_fold(ledger))
            assert ledger.state().units == full_fold(ledger).units
            assert ledger.verify()["ok"]


@pytest.mark.postgres
def test_the_writer_role_writes_and_prunes_snapshots_and_the_reader_reads_them(
    pg_url: str, roles: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(snap.SNAPSHOT_EVERY_ENV, "1")
    build(pg_url).close()
    with Ledger.open(pg_url) as owner:
        owner.store.grant(roles["writer"], roles["reader"])
    with Ledger.open(as_role(pg_url, roles["writer"]), clock=fixed_clock) as ledger:
        ledger.open_loan(pool="admin", unit_id="A2", count=1, purpose="引进生", actor="王芳")
        head = ledger.state().seq
    assert [row[0] for row in stored(pg_url)] == [head]  # written, and the older one deleted
    assert "permission denied" in refused(
        as_role(pg_url, roles["writer"]), "UPDATE ledger_snapshots SET mac = ''"
    )
    with Ledger.open(as_role(pg_url, roles["reader"]), clock=fixed_clock) as ledger:
        with ledger.store.read() as (conn, now):
            assert ledger._from_snapshot(conn, now) is not None
        assert ledger.verify()["ok"]


def test_a_snapshot_holds_plans_problems_teacher_accounts_corrections_and_keys(
    any_url: str, tmp_path: Path
) -> None:
    """Every part of the quota book round-trips through a snapshot: a fresh ledger object
    starting from it equals the full fold, answers keyed retries and refuses as the fold
    would (an open problem still blocks, a plan applied still cannot be applied again)."""
    from .teacher_plan_files import write_plan_dir

    plan = write_plan_dir(tmp_path / "p1", [("T1", 100, 90), ("T2", 50, 60)])
    ledger = Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    ledger.approve_plan(
        unit_id="A3", count=2, channel="公开招聘", purpose="招录", actor="王芳", key="P-1"
    )
    ledger.open_problem(
        unit_id="A4", kind="其他", deadline=DAY0 + timedelta(days=90), actor="王芳", document="D"
    )
    loan = ledger.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳")
    ledger.return_loan(loan["loan_id"], actor="王芳", key="R-1")
    ledger.apply_teacher_plan(plan, actor="王芳", document="市编办〔2026〕7号")
    ledger.correct(1, actor="王芳", reason="更正", document="市编办〔2026〕1号")
    ledger.close()
    with Ledger.open(any_url, clock=fixed_clock) as fresh:
        with fresh.store.read() as (conn, head):
            assert fresh._from_snapshot(conn, head) is not None
        state = fresh.state()
        assert states_equal(state, full_fold(fresh))
        assert state.teacher.quotas() == {"T1": 90, "T2": 60}
        assert state.keyed["R-1"].payload.kind == "loan_returned"
        again = fresh.return_loan(loan["loan_id"], actor="王芳", key="R-1")
        assert again["replayed"] is True
        with pytest.raises(RuleViolation) as blocked:
            fresh.approve_plan(unit_id="A4", count=1, channel="选调", purpose="x", actor="王芳")
        assert blocked.value.rule == "problem.open_blocks"
        with pytest.raises(RuleViolation) as twice:
            fresh.apply_teacher_plan(plan, actor="王芳", document="市编办〔2026〕7号")
        assert twice.value.rule in {"teacher.plan_already_applied", "teacher.stale_plan"}
        assert fresh.verify()["ok"]


def test_a_snapshot_written_before_a_key_rotation_is_checked_under_the_old_key(
    any_url: str,
) -> None:
    old, new = "office-key-one-1234", "office-key-two-5678"
    ledger = Ledger.create(
        any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock, key=old
    )
    ledger.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳")
    ledger.rotate_key(new, actor="李主任")
    ledger.close()
    assert stored(any_url)  # a snapshot MAC'd under the old key is there
    with Ledger.open(any_url, key=new, old_keys=[old], clock=fixed_clock) as auditor:
        assert auditor.verify()["ok"], auditor.verify()["problems"][:3]
    with Ledger.open(any_url, key=new, clock=fixed_clock) as writer:
        writer.open_loan(pool="admin", unit_id="A2", count=1, purpose="引进生", actor="王芳")
        assert states_equal(writer.state(), full_fold(writer))
    with Ledger.open(any_url, key=new, old_keys=[old], clock=fixed_clock) as auditor:
        assert auditor.verify()["ok"], auditor.verify()["problems"][:3]
