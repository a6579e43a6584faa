"""The words the ledger's layers share: pools, loan statuses, return causes, decisions, days.

Text from outside (the command line, the app, a stored event payload) is parsed into these
types once, where it comes in, and the domain (`pools.rules`, `pools.state`,
`pools.commands`) works with the types only. Going out, the one JSON conversion
(`pools.results.to_json`) and the event encoders write the same strings as always, so stored
payloads, their hashes and the SPEC 3.3 documents are unchanged.

The enums are `StrEnum`s: a member equals, and serialises as, the string it replaces
(``LoanStatus.CLOSED == "closed"``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final


class PoolKind(StrEnum):
    ADMIN = "admin"  # 行政编制周转池 (SPEC 2.2)
    INSTITUTIONAL = "institutional"  # 事业编制周转池 (SPEC 2.3)
    UNIT = "unit"  # a unit lending to another unit (SPEC 2.4)


UNIT_POOL_PREFIX: Final = "unit:"
_POOL_NAMES: Final = {
    PoolKind.ADMIN: ("administrative pool", "行政编制周转池"),
    PoolKind.INSTITUTIONAL: ("institutional pool", "事业编制周转池"),
}


class PoolRefError(ValueError):
    """Text that names no pool."""


@dataclass(frozen=True, slots=True)
class PoolRef:
    """Where a loan's quotas come from: a turnover pool, or a lending unit (``unit:<id>``)."""

    kind: PoolKind
    lender: str | None = None  # the lending unit, for PoolKind.UNIT only

    @staticmethod
    def parse(text: str) -> PoolRef:
        """``admin`` | ``institutional`` | ``unit:<lender_id>``; PoolRefError otherwise."""
        return parse_pool(text)

    @property
    def is_turnover_pool(self) -> bool:
        """The admin or institutional pool (a special account 专户), not a unit."""
        return self.kind is not PoolKind.UNIT

    @property
    def text(self) -> str:
        """The pool as the command line, the JSON documents and stored payloads write it."""
        if self.kind is PoolKind.UNIT:
            return f"{UNIT_POOL_PREFIX}{self.lender}"
        return self.kind.value

    @property
    def name_en(self) -> str:
        return _POOL_NAMES[self.kind][0] if self.is_turnover_pool else f"unit {self.lender}"

    @property
    def name_zh(self) -> str:
        return _POOL_NAMES[self.kind][1] if self.is_turnover_pool else f"单位 {self.lender} "

    def __str__(self) -> str:
        return self.text


ADMIN_POOL: Final = PoolRef(PoolKind.ADMIN)
INSTITUTIONAL_POOL: Final = PoolRef(PoolKind.INSTITUTIONAL)
TURNOVER_POOLS: Final = (ADMIN_POOL, INSTITUTIONAL_POOL)


def unit_pool(lender: str) -> PoolRef:
    return PoolRef(PoolKind.UNIT, lender)


@functools.lru_cache(maxsize=8192)  # a replay parses the same few pools again and again
def parse_pool(text: str) -> PoolRef:
    """`PoolRef.parse` (cached; the fold calls it directly)."""
    if text == PoolKind.ADMIN.value:
        return ADMIN_POOL
    if text == PoolKind.INSTITUTIONAL.value:
        return INSTITUTIONAL_POOL
    if isinstance(text, str) and text.startswith(UNIT_POOL_PREFIX):
        return unit_pool(text[len(UNIT_POOL_PREFIX) :])
    raise PoolRefError(f"unknown pool {text!r} (admin, institutional or unit:<lender_id>)")


class LoanStatus(StrEnum):
    OPEN = "open"
    EXPIRED = "expired"  # the term ended: awaiting its performance evaluation
    CLOSED = "closed"  # every quota came back


class ReturnCause(StrEnum):
    VACANCY = "vacancy"  # 空一还一
    MANUAL = "manual"  # by hand: task done, term over
    EVALUATION = "evaluation"  # a performance evaluation decided "return"


class KeyMode(StrEnum):
    """Which chain key a ledger was created with (recorded in its first event)."""

    OWN = "own"  # an explicit key ($QUOTAPOOL_LEDGER_KEY or --chain-key-file)
    DEMO = "demo"  # the built-in, public demo key: for trying the product only
    LEGACY = "legacy"  # created before keys were recorded: nothing to check against


class Decision(StrEnum):
    """The decision of a performance evaluation (绩效评估)."""

    EXTEND = "extend"
    RETURN = "return"


# The members the fold compares on every event, as module constants: on Python 3.11 reading
# `LoanStatus.CLOSED` from the class costs several times a global lookup.
KIND_ADMIN: Final = PoolKind.ADMIN
KIND_UNIT: Final = PoolKind.UNIT
STATUS_OPEN: Final = LoanStatus.OPEN
STATUS_CLOSED: Final = LoanStatus.CLOSED
CAUSE_VACANCY: Final = ReturnCause.VACANCY
CAUSE_EVALUATION: Final = ReturnCause.EVALUATION

# Decoding stored text: a dict lookup (a replay decodes a million of these; Enum(value) costs
# several times more). None means the text names no member.
RETURN_CAUSE_OF: Final = {cause.value: cause for cause in ReturnCause}
DECISION_OF: Final = {decision.value: decision for decision in Decision}


# ---- days ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)  # a ledger has few distinct days and replays each often
def parse_day(text: str) -> date:
    """An ISO date (YYYY-MM-DD) as stored; ValueError otherwise."""
    return date.fromisoformat(text)


def parse_optional_day(text: str | None) -> date | None:
    return None if text is None else parse_day(text)


def day_text(day: date | None) -> str | None:
    """A day as stored and printed (ISO), None stays None."""
    return None if day is None else day.isoformat()


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a year without it."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_days(day: date, days: int) -> date:
    return day + timedelta(days=days)
