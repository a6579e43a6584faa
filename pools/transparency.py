"""The ledger as a transparency log (SPEC 3.6): checkpoints, inclusion proofs, consistency.

Leaf i is the i-th stored event, as the canonical text its hash chain seals
(`pools.storage.row_json`): leaf hash = SHA-256(0x00 ‖ that text), or SM3 for a checkpoint
signed with SM2 (`Checkpoint.tree_hash`). So the Merkle tree needs no key: an auditor
holding a signed checkpoint (`pools.checkpoint`) and the office's public key can check,
without trusting the database or its owner,

- that the ledger still extends the checkpoint: its first `size` events have the signed
  root (a consistency proof from the checkpoint to today's tree); deleting the newest
  events, rewriting an old one or re-creating the ledger is caught, also by someone who
  knows the hash key;
- that the events of a loan are in the checkpointed history (inclusion proofs), offline,
  from a proof document alone.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from pools.checkpoint import (
    ED25519,
    Checkpoint,
    PrivateKey,
    PublicKey,
    checkpoint_problems,
    sign_checkpoint,
    tree_hash_of,
)
from pools.merkle import SHA256, MerkleTree, TreeHash, verify_consistency, verify_inclusion
from pools.storage import Store, row_json

PROOF_FORMAT = "quotapool inclusion proof v1"


@dataclass(frozen=True)
class LedgerLog:
    """The stored events as Merkle leaves, with what proofs need to find them."""

    url: str
    ledger_id: str  # the first event's id: a ledger created again gets another
    seqs: list[int]
    loans: list[str | None]  # the loan each event concerns, if any
    tree: MerkleTree

    @property
    def size(self) -> int:
        return self.tree.size


def read_log(url: str | Path, hashing: TreeHash = SHA256) -> LedgerLog:
    """Every stored event of the ledger at `url`, read in one consistent snapshot, as the
    leaves of a tree built with `hashing` (the one of the checkpoint or key at hand)."""
    store = Store(url)
    leaf_hash = hashing.leaf
    try:
        leaves, seqs, loans, first = [], [], [], ""
        with store.read() as (conn, head):
            for row in store.rows(conn, upto=head.seq):
                leaves.append(leaf_hash(row_json(row).encode()))  # the text is not kept
                seqs.append(int(row[0]))
                loans.append(orjson.loads(row[9]).get("loan_id"))
                first = first or str(row[1])  # event_id
        return LedgerLog(store.url, first, seqs, loans, MerkleTree(leaves, hashing))
    finally:
        store.dispose()


def _event_texts(url: str, seqs: list[int]) -> dict[int, str]:
    """The sealed text of a few events, read again by sequence number."""
    store = Store(url)
    try:
        with store.read() as (conn, _):
            found = {seq: store.row(conn, seq) for seq in seqs}
            return {seq: row_json(row) for seq, row in found.items() if row is not None}
    finally:
        store.dispose()


def checkpoint_log(log: LedgerLog, key: PrivateKey, time: datetime | None = None) -> Checkpoint:
    """A checkpoint of the whole log signed with `key`; the log must have been read with
    the key's tree hash (`read_log(url, tree_hash_of(key))`)."""
    if log.tree.hashing != tree_hash_of(key):
        raise ValueError(
            f"the log was hashed with {log.tree.hashing.name}, the key signs "
            f"{tree_hash_of(key).name} trees: read it with read_log(url, tree_hash_of(key))"
        )
    return sign_checkpoint(key, log.ledger_id, log.size, log.tree.root(), time)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def prove_loan(log: LedgerLog, loan_id: str, checkpoint: Checkpoint) -> dict[str, Any]:
    """Inclusion proofs of a loan's events in the tree a checkpoint signed (JSON); the log
    is read with the checkpoint's tree hash."""
    if log.tree.hashing != checkpoint.tree_hash:
        raise ValueError(f"the log is not hashed with {checkpoint.tree_hash.name}")
    if checkpoint.size > log.size:
        raise ValueError(f"the checkpoint has {checkpoint.size} events, the ledger {log.size}")
    wanted = [i for i in range(checkpoint.size) if log.loans[i] == loan_id]
    if not wanted:
        raise ValueError(f"no event of loan '{loan_id}' in the first {checkpoint.size} events")
    texts = _event_texts(log.url, [log.seqs[i] for i in wanted])
    algorithm = {} if checkpoint.algorithm == ED25519 else {"algorithm": checkpoint.algorithm}
    return {
        "format": PROOF_FORMAT,
        **algorithm,  # the default is left out: the same document as before the option
        "ledger_id": checkpoint.ledger_id,
        "size": checkpoint.size,
        "root": _b64(checkpoint.root),
        "loan_id": loan_id,
        "events": [
            {
                "seq": log.seqs[i],
                "index": i,
                "event": texts[log.seqs[i]],
                "path": [_b64(node) for node in log.tree.inclusion_proof(i, checkpoint.size)],
            }
            for i in wanted
        ],
    }


def proof_problems(proof: Any, checkpoint: Checkpoint, public_key: PublicKey) -> list[str]:
    """Why a proof document does not show its loan's events under this checkpoint (offline).
    The leaves and path are hashed with the checkpoint's tree hash."""
    problems = checkpoint_problems(checkpoint, public_key)
    if not isinstance(proof, dict) or proof.get("format") != PROOF_FORMAT:
        return [*problems, "not a quotapool inclusion proof"]
    if (proof.get("ledger_id"), proof.get("size")) != (checkpoint.ledger_id, checkpoint.size):
        problems.append("the proof is for another ledger or tree size than the checkpoint")
    if proof.get("algorithm", ED25519) != checkpoint.algorithm:
        problems.append(
            f"the proof is for a {proof.get('algorithm', ED25519)} checkpoint, "
            f"this checkpoint is {checkpoint.algorithm}"
        )
    for item in proof.get("events") or [{}]:
        problems += _event_problems(item, proof.get("loan_id"), checkpoint)
    return problems


def _event_problems(item: Any, loan_id: Any, checkpoint: Checkpoint) -> list[str]:
    try:
        text, index = str(item["event"]), int(item["index"])
        path = [base64.b64decode(node, validate=True) for node in item["path"]]
        body = orjson.loads(text)
    except (KeyError, TypeError, ValueError):
        return [f"event entry {item!r:.60}: malformed"]
    where = f"event at index {index}"
    problems = []
    if body.get("payload", {}).get("loan_id") != loan_id:
        problems.append(f"{where}: not an event of loan '{loan_id}'")
    if int(body.get("seq", -1)) != item.get("seq"):
        problems.append(f"{where}: its sequence number differs from the proof's")
    hashing = checkpoint.tree_hash
    leaf = hashing.leaf(text.encode())
    if not verify_inclusion(index, checkpoint.size, leaf, path, checkpoint.root, hashing):
        problems.append(f"{where}: not in the signed tree (inclusion proof fails)")
    return problems


class Finding(NamedTuple):
    """One reason a ledger does not extend a checkpoint: a rule name and what is wrong."""

    rule: str  # checkpoint.signature | checkpoint.other_ledger | checkpoint.truncated | …
    message: str


def checkpoint_findings(
    ledger_id: str, tree: MerkleTree, checkpoint: Checkpoint, public_key: PublicKey
) -> list[Finding]:
    """Why the ledger with this id and tree does not extend this checkpoint (empty when it
    does), each with its rule name. A tree hashed otherwise than the checkpoint's is not
    compared (its roots differ whatever the history): the signature finding says why."""
    signature = checkpoint_problems(checkpoint, public_key)
    found = [Finding("checkpoint.signature", problem) for problem in signature]
    if tree.hashing != checkpoint.tree_hash:  # the key is of another algorithm: said above
        if not signature:
            raise ValueError(f"a {tree.hashing.name} tree for a {checkpoint.algorithm} checkpoint")
        return found
    if checkpoint.ledger_id != ledger_id:
        found.append(
            Finding(
                "checkpoint.other_ledger",
                f"the checkpoint is of ledger {checkpoint.ledger_id}, this is {ledger_id}: "
                "re-created or replaced",
            )
        )
    if checkpoint.size > tree.size:
        found.append(
            Finding(
                "checkpoint.truncated",
                f"the ledger has {tree.size} events but the checkpoint signed {checkpoint.size}: "
                "events were deleted",
            )
        )
        return found
    if checkpoint.size == 0:
        return found
    proof = tree.consistency_proof(checkpoint.size)
    hashing = checkpoint.tree_hash
    if not verify_consistency(
        checkpoint.size, tree.size, proof, checkpoint.root, tree.root(), hashing
    ):
        found.append(
            Finding(
                "checkpoint.rewritten",
                f"the first {checkpoint.size} events are not the ones signed: history rewritten",
            )
        )
    return found


def ledger_problems(log: LedgerLog, checkpoint: Checkpoint, public_key: PublicKey) -> list[str]:
    """Why the stored ledger does not extend this checkpoint (empty when it does)."""
    return [f.message for f in checkpoint_findings(log.ledger_id, log.tree, checkpoint, public_key)]
