"""`quotapool plan apply` from the command line (SPEC 2.9, 3.5): the baseline plan written by
`quotapool plan`, applied once; status, log and verify show it; automatic checkpoints at
every plan application (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import quotapool
from pools.autocheckpoint import DIR_ENV, EVERY_ENV, KEY_FILE_ENV, ON_PLAN_ENV
from pools.checkpoint import load_public_key, read_checkpoint, write_key_pair
from pools.ledger import Ledger

from .conftest import DAY0, city, fixed_clock
from .teacher_plan_files import write_plan_dir

ROOT = Path(__file__).resolve().parents[2]
START = [("T1", 100, 90), ("T2", 50, 58), ("T3", 30, 32)]


def main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    status = quotapool.main([*argv, "--json"])
    out, _ = capsys.readouterr()
    return status, json.loads(out)


@pytest.fixture
def db(any_url: str) -> str:
    Ledger.create(any_url, city(), actor="tester", effective=DAY0, clock=fixed_clock).close()
    return any_url


def test_baseline_plan_applied_once_from_the_command_line(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plans"
    assert (
        quotapool.main(["plan", str(ROOT / "data/scenarios/baseline.toml"), "--out", str(out)]) == 0
    )
    capsys.readouterr()
    plan = str(out / "baseline")
    args = ("plan", "apply", plan, "--db", db, "--doc", "市编办〔2026〕12号", "--actor", "王芳")
    status, applied = main(capsys, *args, "--date", "2026-02-01")
    assert status == 0, applied
    assert applied["total_before"] == applied["total_after"] == 34460
    assert len(applied["counties"]) == 10 and sum(c["change"] for c in applied["counties"]) == 0
    summary = json.loads((out / "baseline" / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["scenario"]["sha256"]) == {"counties", "enrolment"}
    assert len(applied["scenario_hash"]) == 64
    status, refused = main(capsys, *args, "--date", "2026-02-02")
    assert status == 1 and refused["error"]["rule"] == "teacher.plan_already_applied"
    status, before = main(capsys, "ledger", "status", "--db", db, "--as-of", "2026-01-31")
    status, after = main(capsys, "ledger", "status", "--db", db)
    assert before["teacher"]["counties"] == []
    quotas = {c["county_id"]: c["quota"] for c in after["teacher"]["counties"]}
    assert quotas == {c["county_id"]: c["after"] for c in applied["counties"]}
    assert {c["last_plan"] for c in after["teacher"]["counties"]} == {applied["application"]}
    status, log = main(capsys, "audit", "log", "--db", db)
    kinds = [e["kind"] for e in log["events"]]
    assert kinds.count("teacher_county_registered") == 10
    assert kinds[-1] == "teacher_plan_completed"
    status, county = main(capsys, "audit", "log", "--db", db, "--unit", "339902")
    assert [e["kind"] for e in county["events"]] == [
        "teacher_county_registered",
        "teacher_quota_allocated",
    ]
    assert quotapool.main(["audit", "verify", "--db", db]) == 0
    assert quotapool.main(["audit", "log", "--db", db, "--lang", "en"]) == 0
    text = capsys.readouterr().out
    assert "teacher plan completed" in text and "city teacher total 34460 → 34460" in text


def test_plan_apply_input_errors_name_the_file(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "empty"
    missing.mkdir()
    status = quotapool.main(
        ["plan", "apply", str(missing), "--db", db, "--doc", "D", "--actor", "王芳"]
    )
    assert status == 2
    assert f"{missing / 'summary.json'}: is missing" in capsys.readouterr().err
    status, refused = main(
        capsys, "plan", "apply", str(missing), "--db", db, "--doc", "D", "--actor", "王芳"
    )
    assert status == 2 and "summary.json: is missing" in refused["error"]["message_en"]


def test_plan_help_stays_and_names_apply(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["plan", "--help"], ["plan", "apply", "--help"]):
        with pytest.raises(SystemExit) as done:
            quotapool.main(argv)
        assert done.value.code == 0
    text = capsys.readouterr().out
    assert "SCENARIO.toml" in text and "quotapool plan apply PLAN_DIR" in text
    assert "--doc" in text and "--year" in text


# ---- automatic checkpoints at every plan application (issue 13) ------------------------


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_key_pair(tmp_path / "office.key", tmp_path / "office.pub")
    out = tmp_path / "checkpoints"
    out.mkdir()
    monkeypatch.delenv(EVERY_ENV, raising=False)
    monkeypatch.setenv(DIR_ENV, str(out))
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "office.key"))
    return out


def test_a_checkpoint_right_after_each_plan_application(
    db: str, keys: Path, tmp_path: Path
) -> None:
    with Ledger.open(db, clock=fixed_clock) as ledger:
        head = ledger.status()["head"]["seq"]
        result = ledger.apply_teacher_plan(
            write_plan_dir(tmp_path / "p1", START), actor="王芳", document="D1", effective=DAY0,
            key="K1",
        )  # fmt: skip
        assert result["checkpoint"] is not None
        written = sorted(keys.iterdir())
        assert [path.name for path in written] == [f"checkpoint-{head + 8:012d}.json"]
        assert Path(result["checkpoint"]) == written[0]
        checkpoint = read_checkpoint(written[0])
        assert checkpoint.size == head + 8  # the whole group, committed
        public = load_public_key(tmp_path / "office.pub")
        assert ledger.verify([(written[0].name, checkpoint)], public)["ok"]
        # a keyed retry writes nothing, so no new checkpoint either
        again = ledger.apply_teacher_plan(
            tmp_path / "p1", actor="王芳", document="D1", effective=DAY0, key="K1"
        )
        assert again["replayed"] and again["checkpoint"] is None
        # a loan (not a plan) writes no checkpoint when only plans ask for them
        ledger.open_loan(
            pool="institutional", unit_id="I1", count=1, purpose="高层次人才", actor="王芳",
            effective=DAY0,
        )  # fmt: skip
        assert len(list(keys.iterdir())) == 1


def test_checkpoints_on_plans_can_be_turned_off(
    db: str, keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ON_PLAN_ENV, "0")
    with Ledger.open(db, clock=fixed_clock) as ledger:
        result = ledger.apply_teacher_plan(
            write_plan_dir(tmp_path / "p1", START), actor="王芳", document="D1", effective=DAY0
        )
    assert result["checkpoint"] is None and list(keys.iterdir()) == []
    monkeypatch.setenv(ON_PLAN_ENV, "maybe")
    with pytest.raises(Exception, match=ON_PLAN_ENV):
        Ledger.open(db)
