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


class InputRefused(RuleViolation):
    """A request refused as bad input (a date out of range, a setting out of bounds, text a
    database cannot store): the command line exits 2 and names the field; nothing written."""


def refuse(violation: Violation | None) -> None:
    """Raise `RuleViolation` for a violation found; nothing for None."""
    if violation is not None:
        raise RuleViolation(violation)


def refuse_input(violation: Violation | None) -> None:
    """Raise `InputRefused` for a violation found; nothing for None."""
    if violation is not None:
        raise InputRefused(violation)


def first(*found: Violation | None) -> Violation | None:
    """The first violation found, in the order given."""
    return next((violation for violation in found if violation is not None), None)
