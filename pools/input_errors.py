"""The input-error types every layer shares, kept free of pandas.

`quotapool --help` and the command-line error handling import them without paying for pandas;
`pools.tabular`, which finds the errors, re-exports them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InputError:
    """One problem in one place of one input file."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None

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
        self.errors = list(errors)
        super().__init__(self.report())

    def report(self) -> str:
        head = f"input rejected ({len(self.errors)} problem{'s' if len(self.errors) != 1 else ''}):"
        return "\n".join([head, *(f"  {error}" for error in self.errors)])
