"""Merkle tree hashing, inclusion and consistency proofs of RFC 6962 / RFC 9162 (section 2.1).

The ledger's events are the leaves, in sequence order: leaf = H(0x00 ‖ event bytes),
node = H(0x01 ‖ left ‖ right), H = SHA-256 (the default) or SM3 for the national-cryptography
checkpoints (`TreeHash`, `pools.gm`), and the root of n leaves is MTH(D[n]) with the split at
the largest power of two below n. A signed checkpoint holds (size, root); an inclusion proof
shows that one event is in it, and a consistency proof that a later tree extends an earlier
one, so deleting, reordering or rewriting an old event is caught by anyone who kept an earlier
checkpoint, even one who knows the ledger's hash key.

Written here rather than taken from a library: the algorithms are a page of the RFC, and the
libraries available keep their own leaf storage, while these leaves are derived from the
ledger's stored events. The tests check every function against the RFC 6962 test vectors of
Certificate Transparency and the verifiers against forged proofs.

Proof generation answers from the complete aligned subtrees (`MerkleTree.levels`), built
once in O(n) hashes; each proof then costs O(log² n).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pools.gm import sm3

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass(frozen=True)
class TreeHash:
    """The hash a tree is built with: its name (as checkpoints record it) and the leaf and
    node functions of RFC 6962 2.1 over it."""

    name: str
    digest: Callable[[bytes], bytes]
    leaf: Callable[[bytes], bytes]
    node: Callable[[bytes, bytes], bytes]

    @property
    def empty_root(self) -> bytes:
        return self.digest(b"")


# The default keeps the module's own functions: the SHA-256 path is the one it always was.
SHA256 = TreeHash("sha256", lambda data: hashlib.sha256(data).digest(), leaf_hash, node_hash)
SM3 = TreeHash(
    "sm3",
    sm3,
    lambda data: sm3(b"\x00" + data),
    lambda left, right: sm3(b"\x01" + left + right),
)


def _split(size: int) -> int:
    """The largest power of two strictly below `size` (size ≥ 2)."""
    return 1 << ((size - 1).bit_length() - 1)


class MerkleTree:
    """The tree over a fixed list of leaf hashes, with its complete subtrees precomputed."""

    def __init__(self, leaves: Iterable[bytes], hashing: TreeHash = SHA256) -> None:
        level = list(leaves)
        self.size = len(level)
        self.hashing = hashing  # the leaves were hashed with it by the caller
        node = hashing.node
        # levels[j][i] = MTH of leaves [i·2^j, (i+1)·2^j), complete blocks only.
        self.levels: list[list[bytes]] = [level]
        while len(level) > 1:
            level = [node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            self.levels.append(level)

    def _hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]); every left piece of the RFC's split is a complete aligned block."""
        size = end - start
        if size == 0:
            return self.hashing.empty_root
        height = size.bit_length() - 1
        if size == 1 << height and start % size == 0:
            return self.levels[height][start >> height]
        k = _split(size)
        return self.hashing.node(self._hash(start, start + k), self._hash(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """The root of the first `size` leaves (all of them by default)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")
        return self._hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) of RFC 6962 2.1.1."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        return self._path(index, 0, size)

    def _path(self, index: int, start: int, end: int) -> list[bytes]:
        if end - start <= 1:
            return []
        k = _split(end - start)
        if index < k:
            return [*self._path(index, start, start + k), self._hash(start + k, end)]
        return [*self._path(index - k, start + k, end), self._hash(start, start + k)]

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(first, D[second]) of RFC 6962 2.1.2 (0 < first ≤ second)."""
        second = self.size if second is None else second
        if not 0 < first <= second <= self.size:
            raise ValueError(f"no consistency proof from {first} to {second}")
        return self._subproof(first, 0, second, True)

    def _subproof(self, first: int, start: int, end: int, whole: bool) -> list[bytes]:
        if first == end - start:
            return [] if whole else [self._hash(start, end)]
        k = _split(end - start)
        if first <= k:
            return [*self._subproof(first, start, start + k, whole), self._hash(start + k, end)]
        return [*self._subproof(first - k, start + k, end, False), self._hash(start, start + k)]


def root_of(leaves: Sequence[bytes], hashing: TreeHash = SHA256) -> bytes:
    return MerkleTree(leaves, hashing).root()


def verify_inclusion(
    index: int,
    size: int,
    leaf: bytes,
    proof: Sequence[bytes],
    root: bytes,
    hashing: TreeHash = SHA256,
) -> bool:
    """RFC 9162 2.1.3.2: does `proof` show leaf hash `leaf` at `index` in the tree `root`?"""
    if not 0 <= index < size:
        return False
    node = hashing.node
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    first: int,
    second: int,
    proof: Sequence[bytes],
    first_root: bytes,
    second_root: bytes,
    hashing: TreeHash = SHA256,
) -> bool:
    """RFC 9162 2.1.4.2: does `proof` show that tree (second, second_root) extends
    (first, first_root)? Equal sizes need an empty proof and equal roots."""
    if not 0 < first <= second:
        return False
    node = hashing.node
    if first == second:
        return len(proof) == 0 and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: its root is a node of the path
        path = [first_root, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0
