"""A column of an input table's schema, without pandas: modules that only declare schemas
(and `quotapool --help`) do not pay for importing it. Files are read by `pools.tabular`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Column:
    """One column of a schema: canonical English name, accepted aliases, type and limits."""

    name: str
    aliases: tuple[str, ...] = ()
    kind: Literal["text", "int", "number", "choice"] = "text"
    required: bool = True
    default: Any = None
    choices: Mapping[str, str] = field(default_factory=dict)  # accepted spelling -> canonical
    minimum: float | None = None
    unique: bool = False
    # Columns sharing a group name are each optional, but a file must carry at least one of
    # them (the wide enrolment layout: a column per level, any of primary/junior/senior).
    one_of: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} [{self.aliases[0]}]" if self.aliases else self.name
