"""The ledger as a transparency log (SPEC 3.6): checkpoints, inclusion proofs, consistency.

Leaf i is the i-th stored event, as the canonical text its hash chain seals
(`pools.storage.row_json`): leaf hash = SHA-256(0x00 ‖ that text). So the Merkle tree needs
no key: an auditor holding a signed checkpoint (`pools.checkpoint`) and the office's public
key can check, without trusting the database or its owner,

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
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pools.checkpoint import Checkpoint, checkpoint_problems, sign_checkpoint
from pools.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
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


def read_log(url: str | Path) -> LedgerLog:
    """Every stored event of the ledger at `url`, read in one consistent snapshot."""
    store = Store(url)
    try:
        leaves, seqs, loans, first = [], [], [], ""
        with store.read() as (conn, head):
            for row in store.rows(conn, upto=head.seq):
                leaves.append(leaf_hash(row_json(row).encode()))  # the text is not kept
                seqs.append(int(row[0]))
                loans.append(orjson.loads(row[9]).get("loan_id"))
                first = first or str(row[1])  # event_id
        return LedgerLog(store.url, first, seqs, loans, MerkleTree(leaves))
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


def checkpoint_log(
    log: LedgerLog, key: Ed25519PrivateKey, time: datetime | None = None
) -> Checkpoint:
    return sign_checkpoint(key, log.ledger_id, log.size, log.tree.root(), time)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def prove_loan(log: LedgerLog, loan_id: str, checkpoint: Checkpoint) -> dict[str, Any]:
    """Inclusion proofs of a loan's events in the tree a checkpoint signed (JSON)."""
    if checkpoint.size > log.size:
        raise ValueError(f"the checkpoint has {checkpoint.size} events, the ledger {log.size}")
    wanted = [i for i in range(checkpoint.size) if log.loans[i] == loan_id]
    if not wanted:
        raise ValueError(f"no event of loan '{loan_id}' in the first {checkpoint.size} events")
    texts = _event_texts(log.url, [log.seqs[i] for i in wanted])
    return {
        "format": PROOF_FORMAT,
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


def proof_problems(proof: Any, checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> list[str]:
    """Why a proof document does not show its loan's events under this checkpoint (offline)."""
    problems = checkpoint_problems(checkpoint, public_key)
    if not isinstance(proof, dict) or proof.get("format") != PROOF_FORMAT:
        return [*problems, "not a quotapool inclusion proof"]
    if (proof.get("ledger_id"), proof.get("size")) != (checkpoint.ledger_id, checkpoint.size):
        problems.append("the proof is for another ledger or tree size than the checkpoint")
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
    leaf = leaf_hash(text.encode())
    if not verify_inclusion(index, checkpoint.size, leaf, path, checkpoint.root):
        problems.append(f"{where}: not in the signed tree (inclusion proof fails)")
    return problems


class Finding(NamedTuple):
    """One reason a ledger does not extend a checkpoint: a rule name and what is wrong."""

    rule: str  # checkpoint.signature | checkpoint.other_ledger | checkpoint.truncated | …
    message: str


def checkpoint_findings(
    ledger_id: str, tree: MerkleTree, checkpoint: Checkpoint, public_key: Ed25519PublicKey
) -> list[Finding]:
    """Why the ledger with this id and tree does not extend this checkpoint (empty when it
    does), each with its rule name."""
    signature = checkpoint_problems(checkpoint, public_key)
    found = [Finding("checkpoint.signature", problem) for problem in signature]
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
    if not verify_consistency(checkpoint.size, tree.size, proof, checkpoint.root, tree.root()):
        found.append(
            Finding(
                "checkpoint.rewritten",
                f"the first {checkpoint.size} events are not the ones signed: history rewritten",
            )
        )
    return found


def ledger_problems(
    log: LedgerLog, checkpoint: Checkpoint, public_key: Ed25519PublicKey
) -> list[str]:
    """Why the stored ledger does not extend this checkpoint (empty when it does)."""
    return [f.message for f in checkpoint_findings(log.ledger_id, log.tree, checkpoint, public_key)]
