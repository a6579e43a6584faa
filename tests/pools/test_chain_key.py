"""The chain key (issue 13, items 1 and 4; SPEC 3.6): no ledger is created with the public demo
key unless the user says --demo, a demo ledger says so everywhere, the first event records the
key's fingerprint (never the key), and a write under another key, or with none on a ledger
that has its own, is refused before anything is written. Ledgers from before keep working."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from pools import commands
from pools.events import DEMO_FINGERPRINT, FINGERPRINT_FIELD, KEY_ENV, LedgerInitialised
from pools.ledger import Ledger
from pools.rules import RuleViolation

from .conftest import DAY0, city, fixed_clock
from .test_units_and_cli import DATA, run, run_json

OCTOBER = str(DATA / "units-2026-10.csv")
SECRET = "the-office-chain-key-7f3a"
OPEN_LOAN = ["--pool", "admin", "--unit", "M003", "--count", "1", "--purpose", "引进生"]


def event_count(url: str) -> int:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("ledger_events"):
                return 0
            return int(conn.exec_driver_sql("SELECT count(*) FROM ledger_events").scalar() or 0)
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)


def test_init_without_a_key_is_refused_unless_demo(
    any_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _out, err = run(capsys, "ledger", "init", "--db", any_url, "--units", OCTOBER)
    assert status == 2 and KEY_ENV in err and "--demo" in err
    assert event_count(any_url) == 0
    status, made = run_json(capsys, "ledger", "init", "--db", any_url, "--units", OCTOBER, "--demo")
    assert status == 0 and made["demo"] is True


def test_a_demo_ledger_says_so_in_status_and_on_every_write(
    any_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _out, err = run(capsys, "ledger", "init", "--db", any_url, "--units", OCTOBER, "--demo")
    assert status == 0 and "DEMO ledger" in err
    status, out, err = run(capsys, "ledger", "status", "--db", any_url, "--json")
    assert status == 0 and json.loads(out)["demo"] is True and "DEMO ledger" in err
    status, out, err = run(capsys, "ledger", "status", "--db", any_url)
    assert "DEMO ledger" in out
    status, _out, err = run(capsys, "loan", "open", "--db", any_url, *OPEN_LOAN, "--actor", "王芳")
    assert status == 0 and "DEMO ledger" in err
    with Ledger.open(any_url) as ledger:
        assert ledger.status()["demo"] is True and ledger.status()["chain_key"] == "demo"


def test_own_key_ledger_records_the_fingerprint_not_the_key(
    any_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    status, made = run_json(capsys, "ledger", "init", "--db", any_url, "--units", OCTOBER)
    assert status == 0 and made["demo"] is False
    status, _out, err = run(capsys, "loan", "open", "--db", any_url, *OPEN_LOAN, "--actor", "王芳")
    assert status == 0 and "DEMO" not in err
    status, state = run_json(capsys, "ledger", "status", "--db", any_url)
    assert (state["demo"], state["chain_key"]) == (False, "own")
    status, log = run_json(capsys, "audit", "log", "--db", any_url)
    fingerprint = log["events"][0]["payload"]["settings"][FINGERPRINT_FIELD]
    assert len(fingerprint) == 64 and fingerprint != DEMO_FINGERPRINT
    assert SECRET not in json.dumps(log, ensure_ascii=False)
    assert run_json(capsys, "audit", "verify", "--db", any_url)[0] == 0


def test_a_write_under_another_key_or_none_is_refused_before_writing(
    any_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    monkeypatch.setenv(KEY_ENV, SECRET)
    assert run(capsys, "ledger", "init", "--db", any_url, "--units", OCTOBER)[0] == 0
    before = event_count(any_url)

    monkeypatch.setenv(KEY_ENV, "another key")
    status, refused = run_json(capsys, "loan", "open", "--db", any_url, *OPEN_LOAN, "--actor", "x")
    assert status == 1 and refused["error"]["rule"] == "ledger.wrong_key"
    monkeypatch.delenv(KEY_ENV)
    status, _out, err = run(capsys, "loan", "open", "--db", any_url, *OPEN_LOAN, "--actor", "x")
    assert status == 1 and "ledger.wrong_key" in err and KEY_ENV in err
    with Ledger.open(any_url, key="another key") as ledger, pytest.raises(RuleViolation) as exc:
        ledger.sync(OCTOBER, actor="x")
    assert exc.value.rule == "ledger.wrong_key"
    assert event_count(any_url) == before

    status, checked = run_json(capsys, "audit", "verify", "--db", any_url)
    assert status == 1 and ("ledger.wrong_key", 1) in {
        (p["rule"], p["seq"]) for p in checked["problems"]
    }
    key_file = tmp_path / "chain.key"
    key_file.write_text(SECRET + "\n")
    status, _out, _err = run(
        capsys, "loan", "open", "--db", any_url, *OPEN_LOAN, "--actor", "x",
        "--chain-key-file", str(key_file),
    )  # fmt: skip
    assert status == 0 and event_count(any_url) == before + 1
    status, _out, err = run(
        capsys, "ledger", "status", "--db", any_url, "--chain-key-file", str(tmp_path / "none")
    )
    assert status == 2 and "none" in err


def test_demo_with_a_key_is_refused(any_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from pools.ledger import LedgerError

    with pytest.raises(LedgerError, match="demo"):
        Ledger.create(any_url, city(), actor="x", key=SECRET, demo=True)
    monkeypatch.setenv(KEY_ENV, SECRET)
    with pytest.raises(LedgerError, match="demo"):
        Ledger.create(any_url, city(), actor="x", demo=True)


def test_a_legacy_ledger_without_a_fingerprint_keeps_working(
    any_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first event as written before issue 13 (no fingerprint): status says legacy, writes
    and verify work as before."""
    with monkeypatch.context() as patch:
        patch.setattr(
            commands,
            "LedgerInitialised",
            lambda settings: LedgerInitialised(
                {k: v for k, v in settings.items() if k != FINGERPRINT_FIELD}
            ),
        )
        legacy = Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    first = legacy.events()[0]["payload"]["settings"]
    assert FINGERPRINT_FIELD not in first
    assert (legacy.status()["chain_key"], legacy.status()["demo"]) == ("legacy", False)
    legacy.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳")
    assert legacy.verify()["ok"]
    legacy.close()


# ---- legacy ledgers and key rotation -----------------------------------------------------


def _legacy(url: str, monkeypatch: pytest.MonkeyPatch, key: str) -> Ledger:
    with monkeypatch.context() as patch:
        patch.setattr(
            commands,
            "LedgerInitialised",
            lambda settings: LedgerInitialised(
                {k: v for k, v in settings.items() if k != FINGERPRINT_FIELD}
            ),
        )
        return Ledger.create(url, city(), actor="王芳", effective=DAY0, clock=fixed_clock, key=key)


def test_a_legacy_ledger_refuses_a_write_under_another_key(
    any_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No fingerprint to compare with: the key must reproduce the last event's hash."""
    _legacy(any_url, monkeypatch, SECRET).close()
    before = event_count(any_url)
    with (
        Ledger.open(any_url, key="another-key", clock=fixed_clock) as other,
        pytest.raises(RuleViolation) as refused,
    ):
        other.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳")
    assert refused.value.rule == "ledger.wrong_key" and event_count(any_url) == before
    with Ledger.open(any_url, key=SECRET, clock=fixed_clock) as right:
        right.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳")
        assert right.verify()["ok"]


def test_rotation_moves_writing_to_the_new_key_and_verify_needs_both(any_url: str) -> None:
    old, new = SECRET, "the-new-office-key-91c2"
    with Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock, key=old):
        pass
    with Ledger.open(any_url, key=old, clock=fixed_clock) as ledger:
        rotated = ledger.rotate_key(new, actor="李主任", document="市编办〔2026〕9号")
        # this object goes on under the new key
        ledger.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳")
    assert rotated["previous_fingerprint"] != rotated["fingerprint"]
    before = event_count(any_url)
    with (
        Ledger.open(any_url, key=old, clock=fixed_clock) as stale,
        pytest.raises(RuleViolation) as refused,
    ):
        stale.open_loan(pool="admin", unit_id="A2", count=1, purpose="引进生", actor="王芳")
    assert refused.value.rule == "ledger.wrong_key" and event_count(any_url) == before
    with Ledger.open(any_url, key=new, old_keys=[old], clock=fixed_clock) as both:
        assert both.verify()["ok"], both.verify()["problems"][:3]
        assert both.status()["chain_key"] == "own"
    with Ledger.open(any_url, key=new, clock=fixed_clock) as without_old:
        rules = {p["rule"] for p in without_old.verify()["problems"]}
    assert "chain.no_key" in rules and "chain.hash" not in rules
    with Ledger.open(any_url, key=old, clock=fixed_clock) as only_old:
        rules = {p["rule"] for p in only_old.verify()["problems"]}
    assert "ledger.wrong_key" in rules


def test_an_event_sealed_under_the_old_key_after_a_rotation_is_caught(any_url: str) -> None:
    """Whoever kept the old key cannot append behind the rotation: verify checks each event
    under the key in force at it."""
    old, new = SECRET, "the-new-office-key-91c2"
    Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock, key=old).close()
    with Ledger.open(any_url, key=old, clock=fixed_clock) as ledger:
        ledger.rotate_key(new, actor="李主任")
    # forge: bypass the write check, seal the next event with the old key
    with Ledger.open(any_url, key=old, clock=fixed_clock) as forger:
        forger._fingerprint = forger.state().key_fingerprint or ""
        forger.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="x")
    with Ledger.open(any_url, key=new, old_keys=[old], clock=fixed_clock) as auditor:
        problems = auditor.verify()["problems"]
    assert [(p["rule"], p["seq"]) for p in problems if p["rule"] == "chain.hash"] == [
        ("chain.hash", event_count(any_url))
    ]


@pytest.mark.parametrize("target", ["same", "demo"])
def test_rotation_to_the_same_or_the_demo_key_is_refused(any_url: str, target: str) -> None:
    with Ledger.create(
        any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock, key=SECRET
    ) as ledger:
        before = event_count(any_url)
        new = SECRET if target == "same" else "quotapool-demo-ledger-key"
        with pytest.raises(RuleViolation) as refused:
            ledger.rotate_key(new, actor="李主任")
        assert refused.value.rule == "ledger.key_rotation" and event_count(any_url) == before


def test_a_demo_ledger_leaves_demo_mode_by_rotation(any_url: str) -> None:
    with Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock) as ledger:
        assert ledger.status()["demo"] is True
        ledger.rotate_key(SECRET, actor="李主任")
    with Ledger.open(
        any_url, key=SECRET, old_keys=["quotapool-demo-ledger-key"], clock=fixed_clock
    ) as ledger:
        assert ledger.status()["demo"] is False and ledger.verify()["ok"]


def test_rotate_key_on_the_command_line(
    any_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old.key", tmp_path / "new.key"
    old.write_text(SECRET + "\n")
    new.write_text("the-new-office-key-91c2\n")
    keyed = ["--db", any_url, "--chain-key-file"]
    status, _ = run_json(capsys, "ledger", "init", *keyed, str(old), "--units", OCTOBER)
    assert status == 0
    status, rotated = run_json(
        capsys, "ledger", "rotate-key", *keyed, str(old), "--new-chain-key-file", str(new),
        "--actor", "李主任", "--doc", "市编办〔2026〕9号",
    )  # fmt: skip
    assert status == 0 and rotated["fingerprint"] != rotated["previous_fingerprint"]
    status, refused = run_json(capsys, "loan", "open", *keyed, str(old), *OPEN_LOAN, "--actor", "x")
    assert status == 1 and refused["error"]["rule"] == "ledger.wrong_key"
    status, checked = run_json(capsys, "audit", "verify", *keyed, str(new))
    assert status == 1 and "chain.no_key" in {p["rule"] for p in checked["problems"]}
    status, checked = run_json(
        capsys, "audit", "verify", *keyed, str(new), "--old-chain-key-file", str(old)
    )
    assert status == 0 and checked["ok"]
    status, out, _err = run(capsys, "audit", "log", "--db", any_url, "--chain-key-file", str(new))
    assert "更换链密钥" in out and "市编办〔2026〕9号" in out
