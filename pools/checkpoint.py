"""Signed checkpoints of the ledger (SPEC 3.6): who signed which tree of how many events, when.

A checkpoint is a small JSON document kept outside the database (a file, another office, a
timestamp service): the ledger id, the number of events, the Merkle root over them
(`pools.merkle`), the time, the signing key's id and a signature over a fixed text form of
those fields. With it, anyone holding the public key can check that the ledger still extends
what was signed, without trusting the database or its owner.

Two algorithms, chosen by the key: Ed25519 over a SHA-256 tree (`cryptography`; the
default), or SM2 over an SM3 tree (国密, `pools.gm`, the pip extra ``gm``). The document
names the algorithm in ``"algorithm"`` (``"sm2-sm3"``); a document without it is Ed25519,
and an Ed25519 checkpoint is written without it, byte for byte as before the option.

The signed text is line-based, like a C2SP signed note, so that it reads the same in any
language and cannot be re-ordered:

    quotapool checkpoint v1            (SM2: "quotapool checkpoint v1 sm2-sm3")
    <ledger id>
    <size>
    <root, base64>
    <time, ISO 8601 UTC>

The SM2 header names the algorithm, so the tree's hash is signed too.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pools import gm
from pools.gm import Sm2PrivateKey, Sm2PublicKey
from pools.merkle import SHA256, SM3, TreeHash

HEADER = "quotapool checkpoint v1"
FIELDS = ("ledger_id", "size", "root", "time", "key_id", "signature")
ED25519, SM2_SM3 = "ed25519", "sm2-sm3"
TREE_HASHES: dict[str, TreeHash] = {ED25519: SHA256, SM2_SM3: SM3}  # algorithm → tree hash

PrivateKey = Ed25519PrivateKey | Sm2PrivateKey
PublicKey = Ed25519PublicKey | Sm2PublicKey


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
    algorithm: str = ED25519

    @property
    def tree_hash(self) -> TreeHash:
        """The hash of the Merkle tree whose root this checkpoint signed."""
        return TREE_HASHES[self.algorithm]

    def signed_text(self) -> bytes:
        header = HEADER if self.algorithm == ED25519 else f"{HEADER} {self.algorithm}"
        lines = [header, self.ledger_id, str(self.size), _b64(self.root), self.time]
        return ("\n".join(lines) + "\n").encode()

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "ledger_id": self.ledger_id,
            "size": self.size,
            "root": _b64(self.root),
            "time": self.time,
            "key_id": self.key_id,
            "signature": _b64(self.signature),
        }
        if self.algorithm != ED25519:  # the default is left out: old readers, same bytes
            document["algorithm"] = self.algorithm
        return document

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
            algorithm=_algorithm(document, source),
        )


def _algorithm(document: dict[str, Any], source: str) -> str:
    value = document.get("algorithm", ED25519)
    if value not in TREE_HASHES:
        known = ", ".join(TREE_HASHES)
        raise CheckpointError(f"{source}, field 'algorithm': {value!r} is not one of {known}")
    return str(value)


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


def algorithm_of(key: PrivateKey | PublicKey) -> str:
    return SM2_SM3 if isinstance(key, Sm2PrivateKey | Sm2PublicKey) else ED25519


def tree_hash_of(key: PrivateKey | PublicKey) -> TreeHash:
    """The hash of the Merkle trees that this key signs or checks checkpoints of."""
    return TREE_HASHES[algorithm_of(key)]


def key_id(public_key: PublicKey) -> str:
    """The hash of the raw public key, hex: what the ledger and checkpoints name a key by
    (SHA-256 of the 32 Ed25519 bytes; SM3 of the 65-byte SM2 point)."""
    if isinstance(public_key, Sm2PublicKey):
        return gm.sm3(public_key.point).hex()
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def write_key_pair(private_path: Path, public_path: Path, algorithm: str = ED25519) -> str:
    """A new key pair as PEM files (the private one readable by its owner only, never
    written over an existing file): Ed25519, or SM2 with `algorithm` SM2_SM3."""
    if algorithm == SM2_SM3:
        sm2 = Sm2PrivateKey.generate()
        gm.write_pem_pair(sm2, private_path, public_path)
        return key_id(sm2.public)
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


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path}: not a readable PEM {what} ({exc})") from exc


def _sm2(path: Path, pem: bytes, read: Callable[[bytes], Any], what: str) -> Any:
    """An SM2 key read by `read`; CheckpointError naming the file (and the extra to install
    when SM2 is not available)."""
    try:
        return read(pem)
    except gm.GmUnavailable as exc:
        raise CheckpointError(f"{path}: an SM2 {what}, but {exc}") from exc
    except ValueError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc


def load_private_key(path: Path) -> PrivateKey:
    pem = _read(path, "private key")
    if gm.is_sm2_pem(pem):
        return cast(Sm2PrivateKey, _sm2(path, pem, gm.private_key_from_pem, "private key"))
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CheckpointError(f"{path}: not a readable PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path}: not an Ed25519 or SM2 key")
    return key


def load_public_key(path: Path) -> PublicKey:
    pem = _read(path, "public key")
    if gm.is_sm2_pem(pem):
        return cast(Sm2PublicKey, _sm2(path, pem, gm.public_key_from_pem, "public key"))
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CheckpointError(f"{path}: not a readable PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path}: not an Ed25519 or SM2 key")
    return key


# ---------------------------------------------------------------- signing and checking


def sign_checkpoint(
    key: PrivateKey, ledger_id: str, size: int, root: bytes, time: datetime | None = None
) -> Checkpoint:
    """A checkpoint of the tree (size, root), signed with `key` under its algorithm (the
    root must be of a tree built with `tree_hash_of(key)`)."""
    moment = (time or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    algorithm = algorithm_of(key)
    unsigned = Checkpoint(
        ledger_id, size, root, moment, key_id(key.public_key()), algorithm=algorithm
    )
    return dataclasses.replace(unsigned, signature=key.sign(unsigned.signed_text()))


def checkpoint_problems(checkpoint: Checkpoint, public_key: PublicKey) -> list[str]:
    """Why this checkpoint cannot be trusted under this key (empty when it can)."""
    if checkpoint.algorithm != algorithm_of(public_key):
        return [
            f"signed with {checkpoint.algorithm}, but the key given is an "
            f"{algorithm_of(public_key)} key: check it with the key that signed it"
        ]
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
