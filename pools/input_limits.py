"""How far an input file is read: the settings that bound a file's size, its rows and the
errors reported, kept free of pandas.

Each has a generous default and an environment variable; a bad value of the variable is
refused with its name (`InputErrors`), never read as something else.

- the largest file in bytes, 200,000,000 (an .xlsx: also its unpacked contents),
  `QUOTAPOOL_MAX_FILE_BYTES`;
- the most rows in one table, 2,000,000, `QUOTAPOOL_MAX_FILE_ROWS`;
- the errors listed before "… and N more problems", 200, `QUOTAPOOL_MAX_INPUT_ERRORS`.

Counts in a file are whole numbers from 0 to `MAX_COUNT` written with ASCII digits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MAX_COUNT = 10**9  # the largest count (headcount, quota, pupils, year…) a file may hold

_SETTINGS = {
    "max_bytes": ("QUOTAPOOL_MAX_FILE_BYTES", 200_000_000),
    "max_rows": ("QUOTAPOOL_MAX_FILE_ROWS", 2_000_000),
    "max_errors": ("QUOTAPOOL_MAX_INPUT_ERRORS", 200),
}


@dataclass(frozen=True)
class InputLimits:
    """Bounds on reading one file; `from_env()` gives the defaults overridden by the
    environment."""

    max_bytes: int = _SETTINGS["max_bytes"][1]
    max_rows: int = _SETTINGS["max_rows"][1]
    max_errors: int = _SETTINGS["max_errors"][1]

    @classmethod
    def from_env(cls) -> InputLimits:
        """Raises InputErrors naming the variable whose value is not a whole number ≥ 1."""
        from pools.input_errors import InputError, InputErrors

        values: dict[str, int] = {}
        for field, (variable, _) in _SETTINGS.items():
            text = os.environ.get(variable, "").strip()
            if not text:
                continue
            if not (text.isascii() and text.isdigit() and len(text) < 19) or int(text) < 1:
                raise InputErrors(
                    [InputError(variable, f"'{text}' is not a whole number of at least 1")]
                )
            values[field] = int(text)
        return cls(**values)


def max_errors() -> int:
    """The errors listed before "… and N more"; the default when the variable is unusable
    (its own error is reported by `InputLimits.from_env` when a file is read)."""
    try:
        return InputLimits.from_env().max_errors
    except Exception:
        return InputLimits.max_errors
