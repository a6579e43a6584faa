"""Signed checkpoints: a checkpoint verifies only under its own key and only with the fields
it was signed with; files that cannot be used are refused with the file and field named."""

from __future__ import annotations

import dataclasses
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pools.checkpoint import (
    Checkpoint,
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
from pools.merkle import leaf_hash, root_of

# An Ed25519 checkpoint file as written before the SM2 option existed (fixed key, root and
# time; Ed25519 signatures are deterministic): the default path must write exactly these
# bytes and read and verify them as before (no "algorithm" field means Ed25519).
GOLDEN = (
    "{\n"
    '  "ledger_id": "ledger-1",\n'
    '  "size": 2,\n'
    '  "root": "dHfK2WW/uKhAsAS1jbISsTwD10fg/khtDbD0VA711/c=",\n'
    '  "time": "2026-12-02T09:30:00+00:00",\n'
    '  "key_id": "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c",\n'
    '  "signature": "328Ymc+UW5dWlSqYHvtH5M25nvxrjPdnzkQVHCbaMCX2dF8apLA/6CIVBCG1dJYPBHUQ3X5z1L7'
    'MO/4t2k+yBQ=="\n'
    "}\n"
)

ROOT = root_of([leaf_hash(b"event 1"), leaf_hash(b"event 2")])
WHEN = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def keys(tmp_path: Path):
    ident = write_key_pair(tmp_path / "office.key", tmp_path / "office.pub")
    return (
        load_private_key(tmp_path / "office.key"),
        load_public_key(tmp_path / "office.pub"),
        ident,
    )


def test_a_checkpoint_verifies_under_its_key_and_survives_a_file(keys, tmp_path: Path):
    private, public, ident = keys
    checkpoint = sign_checkpoint(private, "ledger-1", 2, ROOT, WHEN)
    assert checkpoint.key_id == ident == key_id(public)
    assert checkpoint.time == "2026-12-02T09:30:00+00:00"
    write_checkpoint(checkpoint, tmp_path / "cp.json")
    assert read_checkpoint(tmp_path / "cp.json") == checkpoint
    assert checkpoint_problems(checkpoint, public) == []


def test_the_private_key_file_is_for_its_owner_only(keys, tmp_path: Path):
    mode = stat.S_IMODE((tmp_path / "office.key").stat().st_mode)
    assert mode == 0o600
    with pytest.raises(FileExistsError):  # never overwrites a key
        write_key_pair(tmp_path / "office.key", tmp_path / "other.pub")


@pytest.mark.parametrize(
    "change",
    [
        {"ledger_id": "ledger-2"},
        {"size": 3},
        {"root": root_of([leaf_hash(b"forged")])},
        {"time": "2026-12-03T09:30:00+00:00"},
    ],
)
def test_any_altered_field_breaks_the_signature(keys, change):
    private, public, _ = keys
    checkpoint = dataclasses.replace(sign_checkpoint(private, "ledger-1", 2, ROOT, WHEN), **change)
    assert checkpoint_problems(checkpoint, public) != []


def test_another_key_is_named(keys, tmp_path: Path):
    private, _, _ = keys
    write_key_pair(tmp_path / "other.key", tmp_path / "other.pub")
    checkpoint = sign_checkpoint(private, "ledger-1", 2, ROOT, WHEN)
    problems = checkpoint_problems(checkpoint, load_public_key(tmp_path / "other.pub"))
    assert problems and "signed by key" in problems[0]
    # Claiming the other key's id does not help: the signature is still the first key's.
    other = load_public_key(tmp_path / "other.pub")
    forged = dataclasses.replace(checkpoint, key_id=key_id(other))
    assert checkpoint_problems(forged, other) != []


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("not json", "not a readable checkpoint"),
        ("[1]", "not a JSON object"),
        ('{"ledger_id": "x"}', "missing size, root, time, key_id, signature"),
        (
            '{"ledger_id": "x", "size": -1, "root": "", "time": "t", "key_id": "k", '
            '"signature": ""}',
            "field 'size'",
        ),
        (
            '{"ledger_id": "x", "size": 1, "root": "@@", "time": "t", "key_id": "k", '
            '"signature": ""}',
            "field 'root'",
        ),
        (
            '{"ledger_id": "a\\nb", "size": 1, "root": "", "time": "t", "key_id": "k", '
            '"signature": ""}',
            "field 'ledger_id'",
        ),
    ],
)
def test_unusable_checkpoint_files_are_named(tmp_path: Path, text: str, fragment: str):
    path = tmp_path / "cp.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CheckpointError, match=r"cp\.json") as caught:
        read_checkpoint(path)
    assert fragment in str(caught.value)


def test_key_files_of_the_wrong_kind_are_refused(tmp_path: Path):
    (tmp_path / "bad.pem").write_text("hello", encoding="utf-8")
    with pytest.raises(CheckpointError, match=r"bad\.pem"):
        load_private_key(tmp_path / "bad.pem")
    with pytest.raises(CheckpointError, match=r"bad\.pem"):
        load_public_key(tmp_path / "bad.pem")


def test_the_signed_text_is_fixed():
    """The exact bytes signed: a verifier in another language can rebuild them."""
    checkpoint = Checkpoint("ledger-1", 2, b"\x01\x02", "2026-12-02T09:30:00+00:00", "k")
    assert checkpoint.signed_text() == (
        b"quotapool checkpoint v1\nledger-1\n2\nAQI=\n2026-12-02T09:30:00+00:00\n"
    )
    assert json.loads(json.dumps(checkpoint.as_json()))["root"] == "AQI="


def test_the_default_checkpoint_is_byte_for_byte_what_it_was(tmp_path: Path):
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    checkpoint = sign_checkpoint(key, "ledger-1", 2, ROOT, WHEN)
    write_checkpoint(checkpoint, tmp_path / "cp.json")
    assert (tmp_path / "cp.json").read_text(encoding="utf-8") == GOLDEN
    (tmp_path / "old.json").write_text(GOLDEN, encoding="utf-8")
    old = read_checkpoint(tmp_path / "old.json")
    assert old == checkpoint and old.algorithm == "ed25519"
    assert checkpoint_problems(old, key.public_key()) == []
