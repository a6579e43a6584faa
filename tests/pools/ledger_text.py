"""Small ledgers written as text, e.g. in a test's docstring (as beancount's tests do).

    settings institutional_capacity=5 pool_period_years=2
    unit A1 municipal administrative 10/10        # id level kind approved/headcount
    unit I2 municipal institutional 40/30
    2026-02-01 open admin A1 2 引进生              # pool borrower count purpose [term=N] [key=K]
    2026-02-01 open unit:I2 A1 1 项目
    2026-03-01 sync A1=9 I2=41/30                 # headcount, or approved/headcount
    2026-03-01 return @1 1                        # loan (@n: the n-th opened) [count]
    2027-02-01 evaluate @1 80 extend 2028-02-01
    2028-01-05 rebuild 250                        # [capacity]
    2026-02-01 open admin A3 1 引进生 ! loan.borrower_has_vacancy
    2026-02-01 forge loan_opened loan_id=L9 pool=admin borrower=A1 count=9 purpose=引进生 end=

A line is a unit, the settings, or a dated command; ``! rule`` at its end says the command is
refused by that rule (the test fails otherwise, and if a command without it is refused).
``forge`` seals a payload onto the chain without running a command or the fold: what someone
holding the key could write, for `audit verify` to catch (forged lines come last).
``headcount UNIT N`` records a bare headcount change without the 空一还一 that `sync` runs.
``#`` starts a comment; words are split as a shell would (``" "`` is a blank purpose).

`run_ledger(text)` runs it all in memory (no database) through the real commands, and returns
the state, the sealed events and what each line did; `verify_events` runs `audit verify`'s
passes over the events as stored rows.
"""

from __future__ import annotations

import shlex
import uuid
from dataclasses import dataclass, field
from datetime import date

from pools import commands
from pools.commands import Batch
from pools.events import GENESIS, Event, UnitUpdated, payload_from_dict, seal
from pools.rules import RuleViolation, Settings
from pools.state import State, fold
from pools.storage import Head, event_row
from pools.units import Unit
from pools.verify import Verification, verify_rows
from pools.vocabulary import parse_day

KEY = b"ledger-text-test-key"
DAY0 = date(2026, 1, 5)
RECORDED = "2026-01-05T09:00:00.000000+00:00"


@dataclass
class Line:
    number: int
    text: str
    day: date | None
    verb: str
    words: list[str]
    refused_by: str | None  # the rule the line expects to refuse it


@dataclass
class Ledger:
    state: State
    events: list[Event] = field(default_factory=list)
    results: list[object] = field(default_factory=list)  # per command line: result or refusal

    def loan(self, loan_id: str) -> object:
        return self.state.loans[loan_id]


def parse_lines(text: str) -> tuple[Settings, list[Unit], list[Line]]:
    settings = Settings()
    units: list[Unit] = []
    lines: list[Line] = []
    for number, raw in enumerate(text.splitlines(), 1):
        body = raw.split("#", 1)[0].strip()
        if not body:
            continue
        refused_by = None
        if " ! " in f" {body} ":
            body, refused_by = (part.strip() for part in body.rsplit("!", 1))
        words = shlex.split(body)
        head, rest = words[0], words[1:]
        if head == "settings":
            values = dict(word.split("=", 1) for word in rest)
            settings = Settings(**{k: _number(v) for k, v in values.items()})  # type: ignore[arg-type]
        elif head == "unit":
            unit_id, level, kind, figures = rest
            approved, headcount = (int(x) for x in figures.split("/"))
            region = "C00" if level == "municipal" else "C01"
            units.append(Unit(unit_id, f"unit {unit_id}", region, level, kind, approved, headcount))
        else:
            lines.append(Line(number, raw.strip(), parse_day(head), rest[0], rest[1:], refused_by))
    return settings, units, lines


def ledger_in_docstring(doc: str | None) -> str:
    """The ledger of a test's docstring: everything after its first paragraph."""
    assert doc and "\n\n" in doc, "the docstring holds a paragraph, a blank line, a ledger"
    return doc.split("\n\n", 1)[1]


def run_ledger(text: str) -> Ledger:
    """Run the ledger of `text` in memory; every expectation (``! rule``) is checked."""
    settings, units, lines = parse_lines(text)
    ledger = Ledger(State())
    _command(ledger, DAY0, lambda batch: commands.init_ledger(batch, settings, units))
    for line in lines:
        assert line.day is not None
        if line.verb == "forge":
            ledger.events.append(_forged(ledger, line))
            continue
        try:
            result = _command(ledger, line.day, lambda batch, line=line: _run(batch, ledger, line))
        except RuleViolation as refusal:
            ledger.state = fold(ledger.events)  # a refused command leaves nothing behind
            assert line.refused_by == refusal.rule, f"line {line.number} {line.text}: {refusal}"
            ledger.results.append(refusal)
            continue
        assert line.refused_by is None, f"line {line.number} {line.text}: was not refused"
        ledger.results.append(result)
    return ledger


def verify_events(events: list[Event]) -> Verification:
    """`audit verify`'s passes over `events` as the database would store them."""
    rows = [tuple(event_row(event).values()) for event in events]
    last = events[-1]
    return verify_rows(rows, Head(last.seq, last.hash, last.effective), KEY)


def _command(ledger: Ledger, day: date, run: object) -> object:
    batch = Batch(ledger.state, KEY, RECORDED, day, "tester")
    result = run(batch)  # type: ignore[operator]
    ledger.events.extend(batch.events)
    return result


def _run(batch: Batch, ledger: Ledger, line: Line) -> object:
    line.words = [_loan_alias(ledger, word) for word in line.words]
    words, options = _options(line.words)
    verb = line.verb
    if verb == "open":
        pool, borrower, count, purpose = words
        from pools.rules import known_pool

        return commands.open_loan(
            batch,
            pool=known_pool(pool),
            unit_id=borrower,
            count=int(count),
            purpose=purpose,
            term_years=int(options["term"]) if "term" in options else None,
            idem_key=options.get("key"),
        )
    if verb == "sync":
        changes = dict(word.split("=", 1) for word in line.words)
        units = []
        for unit in ledger.state.units.values():
            approved, headcount = unit.approved, unit.headcount
            if unit.unit_id in changes:
                figures = changes[unit.unit_id]
                if "/" in figures:
                    approved, headcount = (int(x) for x in figures.split("/"))
                else:
                    headcount = int(figures)
            units.append(
                Unit(unit.unit_id, unit.name, unit.region, unit.level, unit.kind, approved,
                     headcount, unit.sector, unit.parent)
            )  # fmt: skip
        return commands.sync_units(batch, units)
    if verb == "return":
        return commands.return_loan(batch, words[0], int(words[1]) if len(words) > 1 else None)
    if verb == "evaluate":
        from pools.rules.institutional_pool import decision_named

        loan_id, score, decision, *new_end = words
        return commands.evaluate_loan(
            batch,
            loan_id,
            score=int(score),
            decision=decision_named(decision),
            new_end=parse_day(new_end[0]) if new_end else None,
        )
    if verb == "rebuild":
        return commands.rebuild_pool(batch, int(words[0]) if words else None)
    if verb == "headcount":  # a bare unit_updated event, with no 空一还一 after it
        unit_id, figure = words
        unit = ledger.state.units[unit_id]
        return batch.emit(UnitUpdated(unit_id, {"headcount": [unit.headcount, int(figure)]}))
    raise ValueError(f"line {line.number}: unknown command {verb!r}")


def _loan_alias(ledger: Ledger, word: str) -> str:
    """``@n``: the id of the n-th loan the ledger opened (1-based)."""
    if word.startswith("@") and word[1:].isdigit():
        return list(ledger.state.loans)[int(word[1:]) - 1]
    if "=@" in word:
        name, alias = word.split("=", 1)
        return f"{name}={_loan_alias(ledger, alias)}"
    return word


def _forged(ledger: Ledger, line: Line) -> Event:
    """A payload sealed onto the chain as it stands, not applied: for verify to judge."""
    kind, *pairs = (_loan_alias(ledger, word) for word in line.words)
    data: dict[str, object] = {}
    for pair in pairs:
        name, value = pair.split("=", 1)
        data[name] = None if value == "" else _number(value)
    payload = payload_from_dict(kind, data)
    previous = ledger.events[-1] if ledger.events else None
    assert line.day is not None
    return seal(
        KEY,
        seq=previous.seq + 1 if previous else 1,
        event_id=uuid.uuid4().hex,
        idem_key=None,
        recorded_at=RECORDED,
        effective=line.day.isoformat(),
        actor="forger",
        reason="",
        document="",
        payload=payload,
        prev_hash=previous.hash if previous else GENESIS,
    )


def _options(words: list[str]) -> tuple[list[str], dict[str, str]]:
    plain = [word for word in words if "=" not in word]
    options = dict(word.split("=", 1) for word in words if "=" in word)
    return plain, options


def _number(text: str) -> object:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text
