"""国密 checkpoints (SPEC 3.6's welcomed option, issue 13): SM3 against the standard's
examples, SM2 keys and signatures that OpenSSL also reads and checks, SM3 Merkle trees, and
SM2-signed checkpoints through the library and the `audit` commands. A checkpoint is only
checked under a key of its own algorithm; without the extra 'gm', SM2 is refused by name."""

# ruff: noqa: F811  (the tests take the `ledger` fixture of test_transparency)
from __future__ import annotations

import base64
import copy
import dataclasses
import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature

from pools import gm
from pools.autocheckpoint import DIR_ENV, EVERY_ENV, KEY_FILE_ENV
from pools.checkpoint import (
    ED25519,
    SM2_SM3,
    CheckpointError,
    checkpoint_problems,
    key_id,
    load_private_key,
    load_public_key,
    read_checkpoint,
    sign_checkpoint,
    write_checkpoint,
    write_key_pair,
)
from pools.gm import Sm2PrivateKey, Sm2PublicKey, sm3
from pools.ledger import Ledger
from pools.merkle import (
    SHA256,
    SM3,
    MerkleTree,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from pools.transparency import checkpoint_log, ledger_problems, proof_problems, prove_loan, read_log

from .conftest import DAY0, city, fixed_clock
from .test_tamper import raw
from .test_transparency import WHEN, ledger, loan_of, reseal_from  # noqa: F401 (the fixture)
from .test_units_and_cli import run, run_json

gmalg = pytest.importorskip("gmalg", reason="the extra 'gm' is not installed")


@pytest.fixture
def sm2_keys(tmp_path: Path) -> tuple[Sm2PrivateKey, Sm2PublicKey, Sm2PublicKey]:
    """The office's SM2 key pair (as files) and another office's public key."""
    write_key_pair(tmp_path / "office.key", tmp_path / "office.pub", SM2_SM3)
    write_key_pair(tmp_path / "other.key", tmp_path / "other.pub", SM2_SM3)
    private = load_private_key(tmp_path / "office.key")
    public, other = (
        load_public_key(tmp_path / "office.pub"),
        load_public_key(tmp_path / "other.pub"),
    )
    assert isinstance(private, Sm2PrivateKey)
    assert isinstance(public, Sm2PublicKey) and isinstance(other, Sm2PublicKey)
    return private, public, other


@pytest.fixture
def ed_keys(tmp_path: Path):
    write_key_pair(tmp_path / "ed.key", tmp_path / "ed.pub")
    return load_private_key(tmp_path / "ed.key"), load_public_key(tmp_path / "ed.pub")


# ---------------------------------------------------------------- SM3


@pytest.mark.parametrize(
    ("message", "digest"),
    [
        # GB/T 32905-2016, Appendix A, examples 1 and 2
        (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
        (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
        (b"", "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"),
    ],
)
def test_sm3_gives_the_standards_answers(message: bytes, digest: str) -> None:
    assert sm3(message).hex() == digest
    hasher = gmalg.SM3()  # gmalg's own SM3, the one its SM2 signs with
    hasher.update(message)
    assert hasher.value().hex() == digest


def test_an_sm3_tree_hashes_leaves_and_nodes_with_sm3_and_its_own_domain_bytes() -> None:
    a, b, c = (SM3.leaf(data) for data in (b"event 1", b"event 2", b"event 3"))
    assert a == sm3(b"\x00event 1")
    assert root_of([a, b], SM3) == sm3(b"\x01" + a + b)
    assert root_of([a, b, c], SM3) == sm3(b"\x01" + sm3(b"\x01" + a + b) + c)
    assert root_of([], SM3) == sm3(b"")
    assert root_of([a, b], SM3) != root_of([a, b], SHA256)


def test_sm3_proofs_verify_under_sm3_only() -> None:
    leaves = [SM3.leaf(bytes([i])) for i in range(7)]
    tree = MerkleTree(leaves, SM3)
    for size in range(1, 8):
        root = tree.root(size)
        for index in range(size):
            path = tree.inclusion_proof(index, size)
            assert verify_inclusion(index, size, leaves[index], path, root, SM3)
            if path:  # a one-leaf tree has no node to hash
                assert not verify_inclusion(index, size, leaves[index], path, root, SHA256)
        for first in range(1, size + 1):
            proof = tree.consistency_proof(first, size)
            assert verify_consistency(first, size, proof, tree.root(first), root, SM3)
            if first < size:
                assert not verify_consistency(first, size, proof, tree.root(first), root)


# ---------------------------------------------------------------- SM2 keys and signatures


def test_sm2_signs_and_verifies_and_refuses_other_data_or_keys(sm2_keys, tmp_path) -> None:
    private, public, other = sm2_keys
    assert private.public_key() == public
    signature = private.sign(b"quotapool")
    public.verify(signature, b"quotapool")  # raises if not
    with pytest.raises(InvalidSignature):
        public.verify(signature, b"quotapooL")
    with pytest.raises(InvalidSignature):
        other.verify(signature, b"quotapool")
    with pytest.raises(InvalidSignature):
        public.verify(b"not DER", b"quotapool")
    assert stat.S_IMODE((tmp_path / "office.key").stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        write_key_pair(tmp_path / "office.key", tmp_path / "x.pub", SM2_SM3)


def test_sm2_key_files_are_pem_and_read_back_the_same(sm2_keys, tmp_path: Path) -> None:
    private, public, _ = sm2_keys
    text = (tmp_path / "office.key").read_text()
    assert text.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert (tmp_path / "office.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----\n")
    assert gm.private_key_from_pem(private.pem()) == private
    assert gm.public_key_from_pem(public.pem()) == public
    assert key_id(public) == sm3(public.point).hex()


def test_broken_sm2_key_files_are_refused_by_name(sm2_keys, tmp_path: Path) -> None:
    private, public, other = sm2_keys
    mixed = tmp_path / "mixed.key"  # a secret stored with another key's public point
    mixed.write_bytes(Sm2PrivateKey(private.secret, other).pem())
    with pytest.raises(CheckpointError, match=r"mixed\.key.*not its own"):
        load_private_key(mixed)
    off_curve = tmp_path / "off.pub"
    off_curve.write_bytes(Sm2PublicKey(public.point[:-1] + bytes([public.point[-1] ^ 1])).pem())
    with pytest.raises(CheckpointError, match=r"off\.pub.*not a point of the curve"):
        load_public_key(off_curve)


OPENSSL = shutil.which("openssl")


def _openssl_has_sm2() -> bool:
    if OPENSSL is None:
        return False
    listed = subprocess.run(
        [OPENSSL, "list", "-public-key-algorithms"], capture_output=True, text=True, check=False
    )
    return "SM2" in listed.stdout


@pytest.mark.skipif(not _openssl_has_sm2(), reason="no openssl with SM2 on this machine")
def test_openssl_reads_our_sm2_keys_and_checks_our_signatures_and_we_check_its(
    sm2_keys, tmp_path: Path
) -> None:
    """The standard's Z value, id, DER and key layouts: another implementation agrees."""
    assert OPENSSL is not None
    private = sm2_keys[0]
    message, signature = tmp_path / "message", tmp_path / "message.sig"
    message.write_bytes(b"quotapool checkpoint v1 sm2-sm3\n")
    signature.write_bytes(private.sign(message.read_bytes()))
    check = [OPENSSL, "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "office.pub"),
             "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678",
             "-in", str(message), "-sigfile", str(signature)]  # fmt: skip
    assert subprocess.run(check, capture_output=True, check=False).returncode == 0
    signature.write_bytes(private.sign(b"something else"))
    assert subprocess.run(check, capture_output=True, check=False).returncode != 0

    theirs = tmp_path / "openssl.key"
    subprocess.run([OPENSSL, "genpkey", "-algorithm", "SM2", "-out", str(theirs)], check=True)
    subprocess.run(
        [OPENSSL, "pkeyutl", "-sign", "-inkey", str(theirs), "-rawin", "-digest", "sm3",
         "-pkeyopt", "distid:1234567812345678", "-in", str(message), "-out", str(signature)],
        check=True,
    )  # fmt: skip
    key = load_private_key(theirs)
    assert isinstance(key, Sm2PrivateKey)
    key.public.verify(signature.read_bytes(), message.read_bytes())


# ---------------------------------------------------------------- checkpoints


def test_an_sm2_checkpoint_names_its_algorithm_and_verifies_under_its_key(
    sm2_keys, tmp_path: Path
) -> None:
    private, public, _ = sm2_keys
    root = root_of([SM3.leaf(b"event 1"), SM3.leaf(b"event 2")], SM3)
    checkpoint = sign_checkpoint(private, "ledger-1", 2, root, WHEN)
    assert checkpoint.algorithm == SM2_SM3 and checkpoint.tree_hash is SM3
    assert checkpoint.signed_text().startswith(b"quotapool checkpoint v1 sm2-sm3\nledger-1\n")
    write_checkpoint(checkpoint, tmp_path / "cp.json")
    assert json.loads((tmp_path / "cp.json").read_text())["algorithm"] == "sm2-sm3"
    assert read_checkpoint(tmp_path / "cp.json") == checkpoint
    assert checkpoint_problems(checkpoint, public) == []
    altered = dataclasses.replace(checkpoint, size=3)
    assert checkpoint_problems(altered, public) != []


def test_a_checkpoint_signed_by_another_sm2_key_is_refused(sm2_keys) -> None:
    private, public, other = sm2_keys
    checkpoint = sign_checkpoint(private, "ledger-1", 2, b"\x01" * 32, WHEN)
    assert "signed by key" in checkpoint_problems(checkpoint, other)[0]
    claimed = dataclasses.replace(checkpoint, key_id=key_id(other))  # claiming it helps not
    assert "signature does not match" in checkpoint_problems(claimed, other)[0]
    assert checkpoint_problems(checkpoint, public) == []


def test_algorithms_do_not_cross(sm2_keys, ed_keys) -> None:
    """An SM2 checkpoint is not checked with an Ed25519 key, nor the other way round, nor
    one relabelled as the other algorithm."""
    sm2_private, sm2_public, _ = sm2_keys
    ed_private, ed_public = ed_keys
    sm2_checkpoint = sign_checkpoint(sm2_private, "ledger-1", 2, b"\x01" * 32, WHEN)
    ed_checkpoint = sign_checkpoint(ed_private, "ledger-1", 2, b"\x01" * 32, WHEN)
    assert "signed with sm2-sm3" in checkpoint_problems(sm2_checkpoint, ed_public)[0]
    assert "signed with ed25519" in checkpoint_problems(ed_checkpoint, sm2_public)[0]
    relabelled = dataclasses.replace(sm2_checkpoint, algorithm=ED25519)
    assert checkpoint_problems(relabelled, sm2_public) != []
    assert checkpoint_problems(relabelled, ed_public) != []


def test_an_unknown_algorithm_is_refused_by_field(tmp_path: Path) -> None:
    document = {"ledger_id": "x", "size": 1, "root": "", "time": "t", "key_id": "k",
                "signature": "", "algorithm": "rsa"}  # fmt: skip
    (tmp_path / "cp.json").write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match=r"cp\.json, field 'algorithm': 'rsa'"):
        read_checkpoint(tmp_path / "cp.json")


# ---------------------------------------------------------------- the ledger


def test_an_sm2_log_extends_its_checkpoint_and_a_resealed_rewrite_is_caught(
    ledger: Ledger, sm2_keys, ed_keys
) -> None:
    private, public, _ = sm2_keys
    log = read_log(ledger.url, SM3)
    checkpoint = checkpoint_log(log, private, WHEN)
    assert checkpoint.root == root_of(log.tree.levels[0], SM3)
    assert checkpoint.root != read_log(ledger.url).tree.root()  # not the SHA-256 tree
    assert ledger_problems(read_log(ledger.url, SM3), checkpoint, public) == []
    with pytest.raises(ValueError, match="hashed with sha256"):
        checkpoint_log(read_log(ledger.url), private, WHEN)
    # an SM2 checkpoint under an Ed25519 key: refused as such, not compared
    assert any("signed with sm2-sm3" in p for p in ledger_problems(log, checkpoint, ed_keys[1]))
    seq = log.seqs[3]
    raw(ledger, ("UPDATE ledger_events SET actor = '张三' WHERE seq = :s", {"s": seq}))
    raw(ledger, *reseal_from(ledger, seq))
    assert ledger.verify()["ok"]  # forged with the known chain key
    problems = ledger_problems(read_log(ledger.url, SM3), checkpoint, public)
    assert any("history rewritten" in p for p in problems)


def test_an_sm2_inclusion_proof_checks_and_forged_ones_are_refused(
    ledger: Ledger, sm2_keys, ed_keys
) -> None:
    private, public, _ = sm2_keys
    log = read_log(ledger.url, SM3)
    checkpoint = checkpoint_log(log, private, WHEN)
    proof = json.loads(json.dumps(prove_loan(log, loan_of(ledger, "A1"), checkpoint)))
    assert proof["algorithm"] == "sm2-sm3"
    assert proof_problems(proof, checkpoint, public) == []

    forged = copy.deepcopy(proof)
    forged["events"][0]["event"] = forged["events"][0]["event"].replace("王芳", "张三")
    assert any("inclusion proof fails" in p for p in proof_problems(forged, checkpoint, public))
    # a path of SHA-256 nodes (the default tree's) does not prove an SM3 root
    sha_path = read_log(ledger.url).tree.inclusion_proof(proof["events"][0]["index"])
    swapped = copy.deepcopy(proof)
    swapped["events"][0]["path"] = [base64.b64encode(node).decode() for node in sha_path]
    assert any("inclusion proof fails" in p for p in proof_problems(swapped, checkpoint, public))
    relabelled = {**proof, "algorithm": ED25519}
    assert any("ed25519 checkpoint" in p for p in proof_problems(relabelled, checkpoint, public))
    assert any("signed with sm2-sm3" in p for p in proof_problems(proof, checkpoint, ed_keys[1]))


def test_automatic_checkpoints_sign_with_an_sm2_key(
    any_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_key_pair(tmp_path / "office.key", tmp_path / "office.pub", SM2_SM3)
    out = tmp_path / "checkpoints"
    out.mkdir()
    monkeypatch.setenv(EVERY_ENV, "5")
    monkeypatch.setenv(DIR_ENV, str(out))
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "office.key"))
    made = Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    files = sorted(out.iterdir())
    assert files
    checkpoint = read_checkpoint(files[-1])
    assert checkpoint.algorithm == SM2_SM3
    result = made.verify([(files[-1].name, checkpoint)], load_public_key(tmp_path / "office.pub"))
    assert result["ok"], result["problems"]


# ---------------------------------------------------------------- the commands


def test_keygen_checkpoint_prove_check_proof_and_verify_with_sm2(
    ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    office, other = str(tmp_path / "office"), str(tmp_path / "ed")
    status, made = run_json(capsys, "audit", "keygen", "--out", office, "--algorithm", "sm2")
    assert (status, made["algorithm"]) == (0, "sm2-sm3")
    assert run(capsys, "audit", "keygen", "--out", other)[0] == 0
    signed = str(tmp_path / "cp.json")
    status, checkpoint = run_json(
        capsys, "audit", "checkpoint", "--db", ledger.url, "--key-file", office + ".key",
        "--out", signed,
    )  # fmt: skip
    assert (status, checkpoint["algorithm"], checkpoint["key_id"]) == (0, "sm2-sm3", made["key_id"])
    proof = tmp_path / "proof.json"
    status, _out, _err = run(
        capsys, "audit", "prove", "--db", ledger.url, "--loan", loan_of(ledger, "A1"),
        "--checkpoint", signed, "--out", str(proof),
    )  # fmt: skip
    assert status == 0
    check = ["audit", "check-proof", str(proof), "--checkpoint", signed]
    status, result = run_json(capsys, *check, "--pubkey", office + ".pub")
    assert (status, result["ok"]) == (0, True)
    status, result = run_json(capsys, *check, "--pubkey", other + ".pub")
    assert status == 1 and "signed with sm2-sm3" in result["problems"][0]

    verify = ["audit", "verify", "--db", ledger.url, "--checkpoint", signed, "--pubkey"]
    status, result = run_json(capsys, *verify, office + ".pub")
    assert (status, result["ok"]) == (0, True)
    status, result = run_json(capsys, *verify, other + ".pub")
    assert status == 1
    assert {p["rule"] for p in result["problems"]} == {"checkpoint.signature"}

    document = json.loads(proof.read_text())
    document["events"][0]["event"] = document["events"][0]["event"].replace("王芳", "张三")
    proof.write_text(json.dumps(document, ensure_ascii=False))
    status, result = run_json(capsys, *check, "--pubkey", office + ".pub")
    assert status == 1 and any("inclusion proof fails" in p for p in result["problems"])


def test_without_the_extra_sm2_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_key_pair(tmp_path / "made.key", tmp_path / "made.pub", SM2_SM3)  # while we can
    monkeypatch.setitem(sys.modules, "gmalg", None)  # `import gmalg` now fails
    status, _out, err = run(capsys, "audit", "keygen", "--out", str(tmp_path / "x"),
                            "--algorithm", "sm2")  # fmt: skip
    assert status == 2 and "pip install 'quotapool[gm]'" in err
    assert not (tmp_path / "x.key").exists()
    status, _out, err = run(
        capsys, "audit", "checkpoint", "--db", f"sqlite:///{tmp_path}/no.db",
        "--key-file", str(tmp_path / "made.key"), "--out", str(tmp_path / "cp.json"),
    )  # fmt: skip
    assert status == 2 and "made.key" in err and "quotapool[gm]" in err
    with pytest.raises(CheckpointError, match=r"made\.pub.*quotapool\[gm\]"):
        load_public_key(tmp_path / "made.pub")
