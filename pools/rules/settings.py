"""Policy settings (SPEC: a rule that is policy is a setting with the SPEC's value as default).

`Settings` is stored in the ledger's first event, so every later check (and every replay) uses
the values the ledger was made with.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from pools.rules.problems import DEFAULT_PROBLEM_KINDS
from pools.rules.violations import Violation


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
    max_removed_share: float = 0.05  # a snapshot dropping more units is refused unless allowed
    # ---- SPEC 2.8 (issue 11): rectification problems ----
    problem_kinds: tuple[str, ...] = DEFAULT_PROBLEM_KINDS
    problems_block: bool = True  # an open problem refuses new loans/plans; False: a warning
    problem_deadline_days: int = 90  # deadline of a problem the monthly comparison opens

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["admin_purposes"] = list(self.admin_purposes)
        data["institutional_purposes"] = list(self.institutional_purposes)
        data["problem_kinds"] = list(self.problem_kinds)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("admin_purposes", "institutional_purposes", "problem_kinds"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)


# Whole-number settings and their bounds (terms: 1 to 50 years, as a loan's term).
_WHOLE_BOUNDS: dict[str, tuple[int, int]] = {
    "institutional_capacity": (0, 10_000_000),
    "term_years": (1, 50),
    "admin_term_years": (1, 50),
    "pool_period_years": (1, 50),
    "expiry_warning_days": (0, 3650),
    "max_future_days": (0, 366),
    "problem_deadline_days": (0, 3650),
}
# Shares: admin_share in (0, 1]; max_removed_share in [0, 1].
_SHARE_BOUNDS: dict[str, bool] = {"admin_share": False, "max_removed_share": True}


def settings_valid(settings: Settings) -> Violation | None:
    """Every setting is a number in its range (checked before a ledger is created, and by the
    fold on the first event): a share in (0, 1], a capacity a whole number ≥ 0, a term 1–50
    years, a number of days whole and bounded; purposes are named."""
    for name, zero_ok in _SHARE_BOUNDS.items():
        value = getattr(settings, name)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if (
            not ok
            or not math.isfinite(value)
            or not (0 <= value <= 1)
            or (value == 0 and not zero_ok)
        ):
            low = "[0" if zero_ok else "(0"
            return _bad(name, value, f"a share in {low}, 1]", f"须为 {low}, 1] 之间的比例")
    for name, (low_int, high) in _WHOLE_BOUNDS.items():
        value = getattr(settings, name)
        if value is None and name == "admin_term_years":
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not low_int <= value <= high:
            return _bad(
                name, value, f"a whole number from {low_int} to {high}",
                f"须为 {low_int} 至 {high} 的整数",
            )  # fmt: skip
    if not isinstance(settings.problems_block, bool):
        return _bad("problems_block", settings.problems_block, "true or false", "须为是或否")
    for name in ("admin_purposes", "institutional_purposes", "problem_kinds"):
        value = getattr(settings, name)
        if not value or not all(isinstance(item, str) and item.strip() for item in value):
            return _bad(
                name, list(value), "one or more names, each non-empty", "须列出至少一项名称"
            )
    return None


def _bad(name: str, value: object, expected_en: str, expected_zh: str) -> Violation:
    return Violation(
        "settings.invalid",
        f"setting {name} = {value!r}: expected {expected_en}; nothing was written",
        f"设置 {name} = {value!r} 无效：{expected_zh}；未写入任何内容",
    )
