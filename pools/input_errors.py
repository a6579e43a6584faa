"""The input-error types every layer shares, kept free of pandas.

`quotapool --help` and the command-line error handling import them without paying for pandas;
`pools.tabular`, which finds the errors, re-exports them.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class InputError:
    """One problem in one place of one input file."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    hidden: int = field(default=0, compare=False)  # "… and N more": N errors left out

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "column": self.column, "message": self.message}


class InputErrors(Exception):
    """Input was rejected; `errors` lists every problem found."""

    def __init__(self, errors: Iterable[InputError]):
        from pools.input_limits import max_errors

        self.errors = capped(list(errors), max_errors())
        super().__init__(self.report())

    def report(self) -> str:
        head = f"input rejected ({len(self.errors)} problem{'s' if len(self.errors) != 1 else ''}):"
        return "\n".join([head, *(f"  {error}" for error in self.errors)])


MORE = "… and {more:,} more problems"  # the last line when errors are left out


def capped(errors: list[InputError], limit: int) -> list[InputError]:
    """The first `limit` errors, then one line saying how many more there were (a line of the
    kind already there is counted, not repeated)."""
    hidden = [error for error in errors if error.hidden]
    shown = [error for error in errors if not error.hidden]
    more = len(shown) - limit + sum(error.hidden for error in hidden)
    if more <= 0:
        return errors
    file = shown[limit].file if len(shown) > limit else hidden[0].file
    return [*shown[:limit], InputError(file, MORE.format(more=more), hidden=more)]


def close_matches(
    value: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6
) -> list[str]:
    """Up to `n` candidates that look like `value` (difflib), best first, compared as a person
    reads them: full-width and half-width alike, case and surrounding spaces ignored."""
    by_key: dict[str, str] = {}
    for candidate in candidates:
        by_key.setdefault(_key(candidate), candidate)
    found = difflib.get_close_matches(_key(value), list(by_key), n=n, cutoff=cutoff)
    return [by_key[key] for key in found]


def did_you_mean(suggestions: Iterable[str]) -> str:
    """'; did you mean 'a', 'b' or 'c'?' or '' when there is nothing to suggest."""
    quoted = [f"'{s}'" for s in suggestions]
    if not quoted:
        return ""
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f"; did you mean {listed}?"


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().lower()
