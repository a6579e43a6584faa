"""Policy settings (SPEC: a rule that is policy is a setting with the SPEC's value as default).

`Settings` is stored in the ledger's first event, so every later check (and every replay) uses
the values the ledger was made with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Settings:
    """Policy settings with the SPEC's values as defaults."""

    admin_share: float = 0.20  # share of municipal administrative vacancies the pool may lend
    admin_purposes: tuple[str, ...] = ("引进生", "博士选调生")
    institutional_purposes: tuple[str, ...] = ("重点领域", "重点岗位", "高层次人才", "急需紧缺人才")
    institutional_capacity: int = 400
    term_years: int = 5  # institutional and unit-to-unit loans
    admin_term_years: int | None = None  # admin loans end by 空一还一; a term is optional
    pool_period_years: int = 5  # the institutional pool is rebuilt after this
    expiry_warning_days: int = 90
    max_future_days: int = 31  # how far after its recording a write may take effect

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["admin_purposes"] = list(self.admin_purposes)
        data["institutional_purposes"] = list(self.institutional_purposes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("admin_purposes", "institutional_purposes"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)
