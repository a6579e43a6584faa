"""Automatic checkpoints (SPEC 3.6, issue 13): a signed checkpoint file every N events.

Configured by the environment, so that the command line and the app (one `Ledger` API) do
the same without new options on every command:

- ``QUOTAPOOL_CHECKPOINT_EVERY=N`` — after a write commits that takes the ledger across a
  multiple of N events, sign a checkpoint of the whole ledger as it then stands;
- ``QUOTAPOOL_CHECKPOINT_DIR=DIR`` — where (default: the current directory), as
  ``checkpoint-<events, 12 digits>.json`` (written aside and renamed: whole or absent);
- ``QUOTAPOOL_CHECKPOINT_KEY=FILE`` — the Ed25519 or SM2 private key (``quotapool audit
  keygen``);
- ``QUOTAPOOL_CHECKPOINT_ON_PLAN=1|0`` — also right after every teacher-plan application
  commits (SPEC 2.9, issue 13). Default: on when a key and a directory are both set (then
  ``QUOTAPOOL_CHECKPOINT_EVERY`` may be left unset: checkpoints at plans only).

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

from pools.checkpoint import (
    CheckpointError,
    PrivateKey,
    load_private_key,
    tree_hash_of,
    write_checkpoint,
)
from pools.transparency import checkpoint_log, read_log

EVERY_ENV = "QUOTAPOOL_CHECKPOINT_EVERY"
DIR_ENV = "QUOTAPOOL_CHECKPOINT_DIR"
KEY_FILE_ENV = "QUOTAPOOL_CHECKPOINT_KEY"
ON_PLAN_ENV = "QUOTAPOOL_CHECKPOINT_ON_PLAN"

log = logging.getLogger("quotapool")


@dataclass(frozen=True)
class AutoCheckpoints:
    every: int | None  # None: not every N events
    directory: Path
    key: PrivateKey  # Ed25519, or SM2 (its checkpoints then over an SM3 tree)
    on_plan: bool = False  # also after every teacher-plan application

    @classmethod
    def from_env(cls) -> AutoCheckpoints | None:
        """The settings of the environment; None when not asked for. CheckpointError (the
        setting named) when they cannot be used."""
        text = os.environ.get(EVERY_ENV, "").strip()
        key_file = os.environ.get(KEY_FILE_ENV, "").strip()
        dir_text = os.environ.get(DIR_ENV, "").strip()
        on_plan = _on_plan(bool(key_file and dir_text))
        if not text and not on_plan:
            return None
        every = None
        if text:
            try:
                every = int(text)
            except ValueError:
                every = 0
            if every <= 0:
                raise CheckpointError(f"{EVERY_ENV}: not a whole number > 0: {text!r}")
        if not key_file:
            setting = EVERY_ENV if text else ON_PLAN_ENV
            raise CheckpointError(f"{setting} is set but {KEY_FILE_ENV} (the signing key) is not")
        directory = Path(dir_text or ".")
        if not directory.is_dir():
            raise CheckpointError(f"{DIR_ENV}: {directory} is not a directory")
        return cls(every, directory, load_private_key(Path(key_file)), on_plan)

    def due(self, before: int, after: int) -> bool:
        """Whether a write from `before` to `after` events crossed a multiple of `every`."""
        if self.every is None:
            return False
        return after // self.every > before // self.every

    def after_plan(self, url: str, after: int) -> Path | None:
        """After a teacher plan's application committed: a checkpoint, if the settings ask
        for one at every plan (its path), else None."""
        if not self.on_plan:
            return None
        return self._write(url, after)

    def after_write(self, url: str, before: int, after: int) -> Path | None:
        """Write a checkpoint if the write just committed made one due; its path, or None."""
        if not self.due(before, after):
            return None
        return self._write(url, after)

    def _write(self, url: str, after: int) -> Path | None:
        try:
            checkpoint = checkpoint_log(read_log(url, tree_hash_of(self.key)), self.key)
            path = self.directory / f"checkpoint-{checkpoint.size:012d}.json"
            write_checkpoint(checkpoint, path)
        except Exception:  # the write has committed: say so, do not fail it
            log.exception("automatic checkpoint after event %d could not be written", after)
            return None
        log.info("checkpoint of %d events written to %s", checkpoint.size, path)
        return path


def _on_plan(default: bool) -> bool:
    """QUOTAPOOL_CHECKPOINT_ON_PLAN: 1/true/yes/on or 0/false/no/off; unset: `default`."""
    text = os.environ.get(ON_PLAN_ENV, "").strip().lower()
    if not text:
        return default
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise CheckpointError(f"{ON_PLAN_ENV}: say 1 or 0, not {text!r}")
