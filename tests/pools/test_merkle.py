"""RFC 6962 / 9162 Merkle hashing and proofs: the Certificate Transparency test vectors, every
leaf and size pair, and forged proofs a hostile server might send (each must fail)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pools.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# The eight leaves and tree heads of RFC 6962's reference test (Certificate Transparency).
DATA = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
LEAVES = [leaf_hash(d) for d in DATA]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, audit path)
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
# (first size, second size, consistency proof)
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip

TREE = MerkleTree(LEAVES)


def hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def test_roots_of_every_size_match_rfc_6962():
    assert EMPTY_ROOT.hex() == ROOTS[0] == root_of([]).hex()
    for size in range(9):
        assert TREE.root(size).hex() == ROOTS[size]
        assert root_of(LEAVES[:size]).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_rfc_6962(index: int, size: int, path: list[str]):
    assert hexes(TREE.inclusion_proof(index, size)) == path
    proof = [bytes.fromhex(p) for p in path]
    root = bytes.fromhex(ROOTS[size])
    assert verify_inclusion(index, size, LEAVES[index], proof, root)
    assert not verify_inclusion(index, size, LEAVES[index], proof, bytes.fromhex(ROOTS[0]))


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_consistency_proofs_match_rfc_6962(first: int, second: int, path: list[str]):
    assert hexes(TREE.consistency_proof(first, second)) == path
    proof = [bytes.fromhex(p) for p in path]
    old, new = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
    assert verify_consistency(first, second, proof, old, new)


def random_leaves(count: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(f"event {i} {salt}".encode()) for i in range(count)]


@settings(max_examples=40)
@given(size=st.integers(1, 70), data=st.data())
def test_every_leaf_proves_and_no_other_leaf_does(size: int, data):
    leaves = random_leaves(size)
    tree = MerkleTree(leaves)
    root = tree.root()
    index = data.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(index)
    assert verify_inclusion(index, size, leaves[index], proof, root)
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index)) if size > 1 else None
    if other is not None:
        assert not verify_inclusion(other, size, leaves[index], proof, root)  # moved
        assert not verify_inclusion(index, size, leaves[other], proof, root)  # swapped
    # (The size only shapes the walk; what binds a tree is its root, signed with its size.)
    if proof:
        forged = [*proof[:-1], bytes(32)]
        assert not verify_inclusion(index, size, leaves[index], forged, root)
        assert not verify_inclusion(index, size, leaves[index], proof[:-1], root)  # short
    assert not verify_inclusion(index, size, leaves[index], [*proof, bytes(32)], root)  # long


@settings(max_examples=40)
@given(second=st.integers(1, 70), data=st.data())
def test_a_tree_proves_it_extends_each_earlier_tree_and_a_rewritten_one_cannot(second, data):
    leaves = random_leaves(second)
    tree = MerkleTree(leaves)
    first = data.draw(st.integers(1, second))
    proof = tree.consistency_proof(first, second)
    old, new = tree.root(first), tree.root(second)
    assert verify_consistency(first, second, proof, old, new)
    # A ledger whose first `first` events were rewritten (one changed) and then extended.
    changed = data.draw(st.integers(0, first - 1))
    rewritten = [*leaves[:changed], leaf_hash(b"forged"), *leaves[changed + 1 :]]
    other = MerkleTree(rewritten)
    assert not verify_consistency(first, second, other.consistency_proof(first), old, other.root())
    assert not verify_consistency(first, second, proof, old, other.root())
    if first < second:
        truncated = MerkleTree(leaves[: second - 1])  # the newest event deleted
        assert not verify_consistency(second, second - 1, [], new, truncated.root())
        if proof:
            assert not verify_consistency(first, second, proof[:-1], old, new)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        TREE.inclusion_proof(8, 8)
    with pytest.raises(ValueError):
        TREE.consistency_proof(0, 8)
    assert not verify_consistency(0, 8, [], EMPTY_ROOT, TREE.root())
    assert not verify_inclusion(-1, 8, LEAVES[0], [], TREE.root())
