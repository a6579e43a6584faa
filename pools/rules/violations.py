"""A broken rule as data (`Violation`) and as the exception a refused command raises."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Violation:
    """A rule broken: its stable code (e.g. ``admin.purpose``) and what is wrong, in English
    and in Chinese."""

    rule: str
    message_en: str
    message_zh: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message_en} / {self.message_zh}"


class RuleViolation(Exception):
    """A request refused by a rule; nothing was written."""

    def __init__(self, violation: Violation):
        self.violation = violation
        self.rule = violation.rule
        self.message_en = violation.message_en
        self.message_zh = violation.message_zh
        super().__init__(str(violation))

    def as_dict(self) -> dict[str, str]:
        return self.violation.as_dict()


def refuse(violation: Violation | None) -> None:
    """Raise `RuleViolation` for a violation found; nothing for None."""
    if violation is not None:
        raise RuleViolation(violation)


def first(*found: Violation | None) -> Violation | None:
    """The first violation found, in the order given."""
    return next((violation for violation in found if violation is not None), None)
