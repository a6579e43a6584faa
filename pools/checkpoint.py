"""Signed checkpoints of the ledger (SPEC 3.6): who signed which tree of how many events, when.

A checkpoint is a small JSON document kept outside the database (a file, another office, a
timestamp service): the ledger id, the number of events, the Merkle root over them
(`pools.merkle`), the time, the signing key's id and an Ed25519 signature (`cryptography`)
over a fixed text form of those fields. With it, anyone holding the public key can check
that the ledger still extends what was signed, without trusting the database or its owner.

The signed text is line-based, like a C2SP signed note, so that it reads the same in any
language and cannot be re-ordered:

    quotapool checkpoint v1
    <ledger id>
    <size>
    <root, base64>
    <time, ISO 8601 UTC>
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HEADER = "quotapool checkpoint v1"
FIELDS = ("ledger_id", "size", "root", "time", "key_id", "signature")


class CheckpointError(ValueError):
    """A checkpoint or key file that cannot be used, with the file and field named."""


@dataclass(frozen=True)
class Checkpoint:
    ledger_id: str
    size: int
    root: bytes
    time: str
    key_id: str
    signature: bytes = b""

    def signed_text(self) -> bytes:
        lines = [HEADER, self.ledger_id, str(self.size), _b64(self.root), self.time]
        return ("\n".join(lines) + "\n").encode()

    def as_json(self) -> dict[str, Any]:
        return {
            "ledger_id": self.ledger_id,
            "size": self.size,
            "root": _b64(self.root),
            "time": self.time,
            "key_id": self.key_id,
            "signature": _b64(self.signature),
        }

    @classmethod
    def from_json(cls, document: Any, source: str = "checkpoint") -> Checkpoint:
        if not isinstance(document, dict):
            raise CheckpointError(f"{source}: is not a JSON object")
        missing = [field for field in FIELDS if field not in document]
        if missing:
            raise CheckpointError(f"{source}: missing {', '.join(missing)}")
        size = document["size"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise CheckpointError(f"{source}, field 'size': not a whole number ≥ 0: {size!r}")
        return cls(
            ledger_id=_text(document, "ledger_id", source),
            size=size,
            root=_unb64(document, "root", source),
            time=_text(document, "time", source),
            key_id=_text(document, "key_id", source),
            signature=_unb64(document, "signature", source),
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _text(document: dict[str, Any], field: str, source: str) -> str:
    value = document[field]
    if not isinstance(value, str) or "\n" in value:
        raise CheckpointError(f"{source}, field '{field}': not a one-line text: {value!r}")
    return value


def _unb64(document: dict[str, Any], field: str, source: str) -> bytes:
    value = document[field]
    try:
        return base64.b64decode(str(value), validate=True)
    except ValueError as exc:
        raise CheckpointError(f"{source}, field '{field}': not base64: {value!r}") from exc


# ---------------------------------------------------------------- keys


def key_id(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: what the ledger and checkpoints name a key by."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def write_key_pair(private_path: Path, public_path: Path) -> str:
    """A new Ed25519 key pair as PEM files (the private one readable by its owner only)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private)
    public_path.write_bytes(public)
    return key_id(key.public_key())


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: not a readable PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path}: not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: not a readable PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path}: not an Ed25519 key")
    return key


# ---------------------------------------------------------------- signing and checking


def sign_checkpoint(
    key: Ed25519PrivateKey, ledger_id: str, size: int, root: bytes, time: datetime | None = None
) -> Checkpoint:
    moment = (time or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    unsigned = Checkpoint(ledger_id, size, root, moment, key_id(key.public_key()))
    return Checkpoint(**{**unsigned.__dict__, "signature": key.sign(unsigned.signed_text())})


def checkpoint_problems(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> list[str]:
    """Why this checkpoint cannot be trusted under this key (empty when it can)."""
    if checkpoint.key_id != key_id(public_key):
        return [f"signed by key {checkpoint.key_id[:16]}…, not {key_id(public_key)[:16]}…"]
    try:
        public_key.verify(checkpoint.signature, checkpoint.signed_text())
    except InvalidSignature:
        return ["the signature does not match its fields (altered, or signed by another key)"]
    return []


def write_checkpoint(checkpoint: Checkpoint, path: Path) -> None:
    """Written aside and renamed into place: a checkpoint file is whole or absent."""
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(json.dumps(checkpoint.as_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(staging, path)


def read_checkpoint(path: Path) -> Checkpoint:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc})") from exc
    return Checkpoint.from_json(document, str(path))
