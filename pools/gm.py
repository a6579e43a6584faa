"""Chinese national cryptography (国密) for signed checkpoints: SM2 signatures, SM3 hashing.

The option SPEC 3.6 welcomes (issue 13): an office that must use the national algorithms
signs its checkpoints with SM2 (GB/T 32918.2) and builds the Merkle tree with SM3
(GB/T 32905) instead of Ed25519 and SHA-256 (`pools.checkpoint`, `pools.merkle`).

- SM3 comes from `cryptography` (OpenSSL's C code, a dependency already): a Merkle tree of
  a million events needs two million hashes, far too many for a pure-Python SM3.
- SM2 comes from `gmalg` (pure Python, MIT, no dependencies), installed by the pip extra
  ``gm``: ``pip install 'quotapool[gm]'``. It is imported only when an SM2 key is used, so
  everything else works without it; without it an SM2 key is refused by name
  (`GmUnavailable`). Signing takes ~20 ms and verifying ~45 ms, once per checkpoint.

Keys are PEM files in the standard layouts, the same bytes as ``openssl genpkey -algorithm
SM2`` writes (PKCS#8 ``PRIVATE KEY``, SubjectPublicKeyInfo ``PUBLIC KEY``, id-ecPublicKey
with the SM2 curve 1.2.156.10197.1.301), so keys move to and from OpenSSL 3, Tongsuo or
GmSSL. A signature is the DER SEQUENCE {r, s} over the signed bytes with the default
distinguishing identifier 1234567812345678 (GB/T 35276), as ``openssl pkeyutl -rawin
-digest sm3 -pkeyopt distid:1234567812345678`` makes and checks it.

These two layouts have fixed lengths for SM2 (a 32-byte secret, a 65-byte uncompressed
point), so they are read and written as a fixed prefix and the key bytes rather than with a
general ASN.1 library: `cryptography` reads no SM2 key, and a prefix compared byte for byte
accepts nothing else.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

EXTRA = "pip install 'quotapool[gm]'"
DEFAULT_ID = b"1234567812345678"  # GB/T 35276's default user id, as OpenSSL and GmSSL use
ORDER = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123  # n of the curve

_SM3 = hashes.SM3()
# DER of the curve's OID 1.2.156.10197.1.301, and of AlgorithmIdentifier {id-ecPublicKey
# 1.2.840.10045.2.1, that curve}
_SM2_OID = bytes.fromhex("06082a811ccf5501822d")
_ALGORITHM = bytes.fromhex("301306072a8648ce3d0201") + _SM2_OID
# SubjectPublicKeyInfo: SEQUENCE { algorithm, BIT STRING (0 unused bits) 04‖x‖y }
_PUBLIC_PREFIX = bytes.fromhex("3059") + _ALGORITHM + bytes.fromhex("034200")
# PKCS#8: SEQUENCE { 0, algorithm, OCTET STRING ECPrivateKey { 1, OCTET STRING d,
# [1] BIT STRING 04‖x‖y } }
_PRIVATE_PREFIX = bytes.fromhex("308187020100") + _ALGORITHM + bytes.fromhex("046d306b0201010420")
_PRIVATE_MIDDLE = bytes.fromhex("a144034200")
_POINT, _SECRET = 65, 32


class GmUnavailable(ImportError):
    """SM2 was asked for but the optional package that provides it is not installed."""


def sm3(data: bytes) -> bytes:
    """SM3 digest (GB/T 32905), 32 bytes."""
    digest = hashes.Hash(_SM3)
    digest.update(data)
    return digest.finalize()


def _gmalg() -> Any:
    try:
        import gmalg
    except ImportError as exc:
        raise GmUnavailable(
            f"SM2 (国密) needs the optional package gmalg: {EXTRA} (the extra 'gm')"
        ) from exc
    return gmalg


# ---------------------------------------------------------------- keys


@dataclass(frozen=True)
class Sm2PublicKey:
    point: bytes  # 04 ‖ x ‖ y, 65 bytes, on the curve (checked when read)

    def verify(self, signature: bytes, data: bytes) -> None:
        """Like `cryptography`'s verify: returns, or raises InvalidSignature."""
        try:
            r, s = decode_dss_signature(signature)
        except ValueError as exc:
            raise InvalidSignature("not a DER SM2 signature") from exc
        if not (0 < r < ORDER and 0 < s < ORDER):
            raise InvalidSignature("r or s out of range")
        signer = _gmalg().SM2(uid=DEFAULT_ID, pk=self.point)
        if not signer.verify(data, r.to_bytes(_SECRET, "big"), s.to_bytes(_SECRET, "big")):
            raise InvalidSignature("the SM2 signature does not match")

    def pem(self) -> bytes:
        return _pem("PUBLIC KEY", _PUBLIC_PREFIX + self.point)


@dataclass(frozen=True)
class Sm2PrivateKey:
    secret: bytes  # d, 32 bytes, 1 ≤ d ≤ n - 2
    public: Sm2PublicKey

    @classmethod
    def generate(cls) -> Sm2PrivateKey:
        secret, point = _gmalg().SM2().generate_keypair()
        return cls(secret.rjust(_SECRET, b"\0"), Sm2PublicKey(point))

    def public_key(self) -> Sm2PublicKey:
        return self.public

    def sign(self, data: bytes) -> bytes:
        """SM2 signature of `data` (SM3 over Z‖data, Z with the default id), DER {r, s}."""
        signer = _gmalg().SM2(self.secret, DEFAULT_ID, self.public.point)
        r, s = signer.sign(data)
        return encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))

    def pem(self) -> bytes:
        der = _PRIVATE_PREFIX + self.secret + _PRIVATE_MIDDLE + self.public.point
        return _pem("PRIVATE KEY", der)


def _pem(label: str, der: bytes) -> bytes:
    text = base64.b64encode(der).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""]).encode()


def _der(pem: bytes, label: str) -> bytes | None:
    """The DER inside a PEM block with this label; None when the text is not one."""
    text = pem.decode("ascii", errors="replace").strip().splitlines()
    if (
        len(text) < 3
        or text[0] != f"-----BEGIN {label}-----"
        or text[-1] != f"-----END {label}-----"
    ):
        return None
    try:
        return base64.b64decode("".join(text[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        return None


def is_sm2_pem(pem: bytes) -> bool:
    """Whether a PEM key names the SM2 curve (in its algorithm, near the start), whatever
    else it holds: such a key is read here, and refused here by name if it cannot be."""
    der = _der(pem, "PRIVATE KEY") or _der(pem, "PUBLIC KEY") or b""
    return _SM2_OID in der[:40]


def private_key_from_pem(pem: bytes) -> Sm2PrivateKey:
    """An SM2 private key from PEM (ValueError saying why not)."""
    der = _der(pem, "PRIVATE KEY") or b""
    end = len(_PRIVATE_PREFIX) + _SECRET
    if (
        len(der) != end + len(_PRIVATE_MIDDLE) + _POINT
        or not der.startswith(_PRIVATE_PREFIX)
        or der[end : end + len(_PRIVATE_MIDDLE)] != _PRIVATE_MIDDLE
    ):
        raise ValueError("not an unencrypted SM2 private key in the PKCS#8 layout of openssl")
    secret, point = der[len(_PRIVATE_PREFIX) : end], der[-_POINT:]
    if not 0 < int.from_bytes(secret, "big") < ORDER - 1:
        raise ValueError("the SM2 secret is out of range")
    if _gmalg().SM2().generate_pk(secret) != point:
        raise ValueError("the public key stored with the SM2 secret is not its own")
    return Sm2PrivateKey(secret, Sm2PublicKey(point))


def public_key_from_pem(pem: bytes) -> Sm2PublicKey:
    """An SM2 public key from PEM (ValueError saying why not)."""
    der = _der(pem, "PUBLIC KEY") or b""
    if len(der) != len(_PUBLIC_PREFIX) + _POINT or not der.startswith(_PUBLIC_PREFIX):
        raise ValueError("not an uncompressed SM2 public key in the SubjectPublicKeyInfo layout")
    point = der[len(_PUBLIC_PREFIX) :]
    sm2 = _gmalg().SM2()
    try:
        valid = point[0] == 4 and sm2.verify_pk(point)
    except Exception:  # gmalg refuses a malformed point with errors of its own
        valid = False
    if not valid:
        raise ValueError("the SM2 public key is not a point of the curve")
    return Sm2PublicKey(point)


def write_pem_pair(key: Sm2PrivateKey, private_path: Path, public_path: Path) -> None:
    """The pair as PEM files, the private one created for its owner only and never over
    an existing file."""
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key.pem())
    public_path.write_bytes(key.public.pem())
