"""Automatic checkpoints (SPEC 3.6, issue 13): a signed checkpoint file every N events.

Configured by the environment, so that the command line and the app (one `Ledger` API) do
the same without new options on every command:

- ``QUOTAPOOL_CHECKPOINT_EVERY=N`` — after a write commits that takes the ledger across a
  multiple of N events, sign a checkpoint of the whole ledger as it then stands;
- ``QUOTAPOOL_CHECKPOINT_DIR=DIR`` — where (default: the current directory), as
  ``checkpoint-<events, 12 digits>.json`` (written aside and renamed: whole or absent);
- ``QUOTAPOOL_CHECKPOINT_KEY=FILE`` — the Ed25519 private key (``quotapool audit keygen``).

The write has committed before the checkpoint is made: a checkpoint that cannot be written
is logged (logger ``quotapool``), never turned into a failed write. Copy the files away from
the database's machine; `audit verify --checkpoint` checks the ledger against them. Making
one reads every event (O(n)), so choose N accordingly (e.g. 1,000).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pools.checkpoint import CheckpointError, load_private_key, write_checkpoint
from pools.transparency import checkpoint_log, read_log

EVERY_ENV = "QUOTAPOOL_CHECKPOINT_EVERY"
DIR_ENV = "QUOTAPOOL_CHECKPOINT_DIR"
KEY_FILE_ENV = "QUOTAPOOL_CHECKPOINT_KEY"

log = logging.getLogger("quotapool")


@dataclass(frozen=True)
class AutoCheckpoints:
    every: int
    directory: Path
    key: Ed25519PrivateKey

    @classmethod
    def from_env(cls) -> AutoCheckpoints | None:
        """The settings of the environment; None when not asked for. CheckpointError (the
        setting named) when they cannot be used."""
        text = os.environ.get(EVERY_ENV, "").strip()
        if not text:
            return None
        try:
            every = int(text)
        except ValueError:
            every = 0
        if every <= 0:
            raise CheckpointError(f"{EVERY_ENV}: not a whole number > 0: {text!r}")
        key_file = os.environ.get(KEY_FILE_ENV, "").strip()
        if not key_file:
            raise CheckpointError(f"{EVERY_ENV} is set but {KEY_FILE_ENV} (the signing key) is not")
        directory = Path(os.environ.get(DIR_ENV, "").strip() or ".")
        if not directory.is_dir():
            raise CheckpointError(f"{DIR_ENV}: {directory} is not a directory")
        return cls(every, directory, load_private_key(Path(key_file)))

    def due(self, before: int, after: int) -> bool:
        """Whether a write from `before` to `after` events crossed a multiple of `every`."""
        return after // self.every > before // self.every

    def after_write(self, url: str, before: int, after: int) -> Path | None:
        """Write a checkpoint if the write just committed made one due; its path, or None."""
        if not self.due(before, after):
            return None
        try:
            checkpoint = checkpoint_log(read_log(url), self.key)
            path = self.directory / f"checkpoint-{checkpoint.size:012d}.json"
            write_checkpoint(checkpoint, path)
        except Exception:  # the write has committed: say so, do not fail it
            log.exception("automatic checkpoint after event %d could not be written", after)
            return None
        log.info("checkpoint of %d events written to %s", checkpoint.size, path)
        return path
