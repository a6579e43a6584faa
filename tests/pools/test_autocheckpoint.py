"""Automatic checkpoints (issue 13): with QUOTAPOOL_CHECKPOINT_EVERY / _DIR / _KEY set, a
write that takes the ledger across a multiple of N events leaves a signed checkpoint file
that the ledger then verifies against; a bad setting is named; a checkpoint that cannot be
written never fails the write that has committed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pools.autocheckpoint import DIR_ENV, EVERY_ENV, KEY_FILE_ENV
from pools.checkpoint import load_public_key, read_checkpoint, write_key_pair
from pools.ledger import Ledger, LedgerError

from .conftest import DAY0, city, fixed_clock
from .test_transparency import D1


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_key_pair(tmp_path / "office.key", tmp_path / "office.pub")
    out = tmp_path / "checkpoints"
    out.mkdir()
    monkeypatch.setenv(EVERY_ENV, "3")
    monkeypatch.setenv(DIR_ENV, str(out))
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "office.key"))
    return out


def open_loan(ledger: Ledger, unit_id: str) -> None:
    ledger.open_loan(
        pool="institutional", unit_id=unit_id, count=1, purpose="高层次人才", actor="王芳",
        effective=D1,
    )  # fmt: skip


def test_a_checkpoint_every_n_events_and_the_ledger_extends_them(
    any_url: str, settings: Path, tmp_path: Path
) -> None:
    ledger = Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    assert [p.name for p in sorted(settings.iterdir())] == ["checkpoint-000000000010.json"]
    open_loan(ledger, "I1")  # 11 events: none due
    assert len(list(settings.iterdir())) == 1
    open_loan(ledger, "I3")  # 12: a multiple of 3
    files = sorted(settings.iterdir())
    assert [p.name for p in files][-1] == "checkpoint-000000000012.json"
    assert read_checkpoint(files[-1]).size == 12
    public = load_public_key(tmp_path / "office.pub")
    checkpoints = [(p.name, read_checkpoint(p)) for p in files]
    assert ledger.verify(checkpoints, public)["ok"]
    ledger.close()


def test_a_bad_setting_is_named(any_url: str, settings: Path, monkeypatch) -> None:
    monkeypatch.setenv(EVERY_ENV, "often")
    with pytest.raises(LedgerError, match=EVERY_ENV):
        Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    monkeypatch.setenv(EVERY_ENV, "3")
    monkeypatch.delenv(KEY_FILE_ENV)
    with pytest.raises(LedgerError, match=KEY_FILE_ENV):
        Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)


def test_a_checkpoint_that_cannot_be_written_does_not_fail_the_write(
    any_url: str, settings: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    settings.rename(settings.with_name("gone"))
    open_loan(ledger, "I1")
    open_loan(ledger, "I3")  # due, but the directory is gone
    assert len(ledger.events()) == 12
    assert "could not be written" in caplog.text
    ledger.close()
