"""`quotapool audit keygen | checkpoint | prove | check-proof | verify --checkpoint` (SPEC 3.6,
issue 13): an outsider holding a signed checkpoint and the office's public key checks the
history from the command line; every problem is data with its rule, exit 0 / 1 / 2."""

# ruff: noqa: F811  (the tests take the `ledger` fixture of test_transparency)
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from pools.ledger import Ledger

from .test_tamper import raw
from .test_transparency import D2, ledger, loan_of, reseal_from  # noqa: F401 (the fixture)
from .test_units_and_cli import run, run_json


@pytest.fixture
def office(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    status, made = run_json(capsys, "audit", "keygen", "--out", str(tmp_path / "office"))
    assert status == 0
    run(capsys, "audit", "keygen", "--out", str(tmp_path / "other"))
    return {
        "key": made["private_key"],
        "pub": made["public_key"],
        "other_pub": str(tmp_path / "other.pub"),
        "dir": str(tmp_path),
    }


def checkpoint(capsys: pytest.CaptureFixture[str], book: Ledger, office: dict, name: str) -> str:
    out = str(Path(office["dir"]) / name)
    status, made = run_json(
        capsys, "audit", "checkpoint", "--db", book.url, "--key-file", office["key"],
        "--out", out,
    )  # fmt: skip
    assert status == 0 and made["size"] == len(book.events())
    return out


def verify(capsys: pytest.CaptureFixture[str], book: Ledger, pub: str, *files: str):
    argv = ["audit", "verify", "--db", book.url, "--pubkey", pub]
    for file in files:
        argv += ["--checkpoint", file]
    return run_json(capsys, *argv)


def rules(result: dict) -> set[str]:
    return {problem["rule"] for problem in result["problems"]}


def test_keygen_writes_a_private_key_for_its_owner_only_and_never_overwrites(
    tmp_path: Path, office: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stat.S_IMODE(Path(office["key"]).stat().st_mode) == 0o600
    assert Path(office["pub"]).read_text().startswith("-----BEGIN PUBLIC KEY-----")
    before = Path(office["key"]).read_bytes()
    status, _out, err = run(capsys, "audit", "keygen", "--out", str(tmp_path / "office"))
    assert status == 2 and "already exists" in err
    assert Path(office["key"]).read_bytes() == before


def test_an_honest_ledger_verifies_against_its_checkpoints(
    ledger: Ledger,
    office: dict,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = checkpoint(capsys, ledger, office, "first.json")
    ledger.open_loan(
        pool="admin", unit_id="A2", count=1, purpose="引进生", actor="王芳", effective=D2
    )
    second = checkpoint(capsys, ledger, office, "second.json")
    status, result = verify(capsys, ledger, office["pub"], first, second)
    assert (status, result["ok"], result["problems"]) == (0, True, [])
    assert result["checkpoints"] == [first, second]


def test_verify_reports_truncation_against_a_checkpoint(
    ledger: Ledger,
    office: dict,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger.open_loan(
        pool="admin", unit_id="A2", count=1, purpose="引进生", actor="王芳", effective=D2
    )
    signed = checkpoint(capsys, ledger, office, "cp.json")
    last = len(ledger.events())
    with ledger.store.engine.connect() as conn:
        before = conn.exec_driver_sql(f"SELECT hash FROM ledger_events WHERE seq = {last - 1}")
        previous = before.scalar()
    raw(
        ledger,
        ("DELETE FROM ledger_events WHERE seq = :s", {"s": last}),
        ("UPDATE ledger_head SET seq = :s, hash = :h WHERE id = 1", {"s": last - 1, "h": previous}),
    )
    assert run_json(capsys, "audit", "verify", "--db", ledger.url)[0] == 0  # the chain can't tell
    status, result = verify(capsys, ledger, office["pub"], signed)
    assert status == 1 and rules(result) == {"checkpoint.truncated"}
    assert signed in result["problems"][0]["problem"]


def test_verify_reports_a_resealed_rewrite_and_every_other_problem(
    ledger: Ledger,
    office: dict,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed = checkpoint(capsys, ledger, office, "cp.json")
    raw(ledger, ("UPDATE ledger_events SET actor = '张三' WHERE seq = 4", {}))
    raw(ledger, *reseal_from(ledger, 4))
    status, result = verify(capsys, ledger, office["pub"], signed)
    assert status == 1 and rules(result) == {"checkpoint.rewritten"}
    raw(ledger, ("UPDATE ledger_events SET reason = 'x' WHERE seq = 3", {}))  # not resealed
    status, result = verify(capsys, ledger, office["pub"], signed)
    assert status == 1 and {"chain.hash", "checkpoint.rewritten"} <= rules(result)
    status, out, _ = run(
        capsys, "audit", "verify", "--db", ledger.url, "--pubkey", office["pub"],
        "--checkpoint", signed,
    )  # fmt: skip
    assert status == 1 and "[checkpoint.rewritten]" in out and "[chain.hash]" in out


def test_a_checkpoint_under_another_key_or_ledger_is_reported(
    ledger: Ledger,
    office: dict,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    signed = checkpoint(capsys, ledger, office, "cp.json")
    status, result = verify(capsys, ledger, office["other_pub"], signed)
    assert status == 1 and rules(result) == {"checkpoint.signature"}
    document = json.loads(Path(signed).read_text())
    document["ledger_id"] = "someone-else"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    status, result = verify(capsys, ledger, office["pub"], str(forged))
    assert status == 1 and rules(result) == {"checkpoint.signature", "checkpoint.other_ledger"}


def test_bad_checkpoint_or_key_files_exit_2_named(
    ledger: Ledger,
    office: dict,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    signed = checkpoint(capsys, ledger, office, "cp.json")
    junk = tmp_path / "junk.txt"
    junk.write_text("not a key")
    status, _out, err = run(capsys, "audit", "verify", "--db", ledger.url, "--checkpoint", signed)
    assert status == 2 and "--pubkey" in err
    status, _out, err = run(
        capsys, "audit", "verify", "--db", ledger.url, "--checkpoint", signed,
        "--pubkey", str(junk),
    )  # fmt: skip
    assert status == 2 and str(junk) in err
    status, _out, err = run(
        capsys, "audit", "verify", "--db", ledger.url, "--checkpoint", str(junk),
        "--pubkey", office["pub"],
    )  # fmt: skip
    assert status == 2 and str(junk) in err
    status, _out, err = run(
        capsys, "audit", "checkpoint", "--db", ledger.url, "--key-file", str(junk),
        "--out", str(tmp_path / "x.json"),
    )  # fmt: skip
    assert status == 2 and str(junk) in err and not (tmp_path / "x.json").exists()


def test_a_loan_proof_checks_offline_and_a_forged_one_fails(
    ledger: Ledger,
    office: dict,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    signed = checkpoint(capsys, ledger, office, "cp.json")
    loan = loan_of(ledger, "A1")
    proof = tmp_path / "proof.json"
    status, _out, _err = run(
        capsys, "audit", "prove", "--db", ledger.url, "--loan", loan, "--checkpoint", signed,
        "--out", str(proof),
    )  # fmt: skip
    assert status == 0 and len(json.loads(proof.read_text())["events"]) >= 2
    ledger.close()  # offline: no database from here on
    check = ["audit", "check-proof", str(proof), "--checkpoint", signed, "--pubkey", office["pub"]]
    status, result = run_json(capsys, *check)
    assert (status, result["ok"], result["loan_id"]) == (0, True, loan)
    document = json.loads(proof.read_text())
    document["events"][0]["event"] = document["events"][0]["event"].replace("王芳", "张三")
    proof.write_text(json.dumps(document, ensure_ascii=False))
    status, result = run_json(capsys, *check)
    assert status == 1 and any("inclusion proof fails" in p for p in result["problems"])
    proof.write_text("{")
    assert run(capsys, *check)[0] == 2


def test_prove_prints_json_and_refuses_an_unknown_loan(
    ledger: Ledger,
    office: dict,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed = checkpoint(capsys, ledger, office, "cp.json")
    loan = loan_of(ledger, "I1")
    status, proof = run_json(
        capsys, "audit", "prove", "--db", ledger.url, "--loan", loan, "--checkpoint", signed
    )
    assert status == 0 and proof["loan_id"] == loan and proof["events"]
    status, refused = run_json(
        capsys, "audit", "prove", "--db", ledger.url, "--loan", "nope", "--checkpoint", signed
    )
    assert status == 1 and "nope" in refused["error"]["message_en"]
