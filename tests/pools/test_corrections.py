"""Corrections of a record (issue 13): a wrong 文号 or reason is corrected by an appended
event, as a reversing entry in a book of accounts; the sealed event never changes."""

from __future__ import annotations

import pytest

from pools.events import RecordCorrected
from pools.ledger import Ledger
from pools.rules import RuleViolation
from pools.state import InvariantBroken

from .conftest import DAY0, city, fixed_clock
from .test_units_and_cli import run, run_json

LOAN = {"pool": "admin", "unit_id": "A1", "count": 1, "purpose": "引进生", "actor": "王芳"}


@pytest.fixture
def ledger(any_url: str) -> Ledger:
    made = Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=fixed_clock)
    made.open_loan(**LOAN, document="错号〔2026〕1号")
    return made


def _loan_seq(ledger: Ledger) -> int:
    return next(e["seq"] for e in ledger.events() if e["kind"] == "loan_opened")


def test_a_wrong_document_number_is_corrected_by_an_appended_event(ledger: Ledger) -> None:
    seq = _loan_seq(ledger)
    before = ledger.events()
    done = ledger.correct(seq, actor="李主任", reason="文号录入错误", document="市编办〔2026〕7号")
    after = ledger.events()
    assert after[: len(before)] == before  # nothing sealed changed
    assert after[-1]["kind"] == "record_corrected" and after[-1]["payload"] == {
        "seq": seq, "field": "document", "old": "错号〔2026〕1号", "new": "市编办〔2026〕7号"
    }  # fmt: skip
    assert done["corrections"][0]["event"] == after[-1]["seq"]
    assert ledger.loans()[0]["document"] == "市编办〔2026〕7号"
    assert ledger.verify()["ok"]
    # a second correction replaces the first one's value
    ledger.correct(seq, actor="李主任", reason="再次更正", document="市编办〔2026〕8号")
    assert ledger.loans()[0]["document"] == "市编办〔2026〕8号"
    fresh = Ledger.open(ledger.url, clock=fixed_clock)  # a replay gives the same
    assert fresh.loans()[0]["document"] == "市编办〔2026〕8号" and fresh.verify()["ok"]


@pytest.mark.parametrize(
    ("target", "new", "says"),
    [(999, "x", "no event 999"), (None, "错号〔2026〕1号", "already")],
)
def test_a_correction_that_names_nothing_to_correct_is_refused(
    ledger: Ledger, target: int | None, new: str, says: str
) -> None:
    seq = target or _loan_seq(ledger)
    count = len(ledger.events())
    with pytest.raises(RuleViolation) as refused:
        ledger.correct(seq, actor="李主任", reason="r", document=new)
    assert refused.value.rule == "ledger.correction" and says in refused.value.message_en
    assert len(ledger.events()) == count


def test_a_correction_of_another_field_or_of_a_stale_value_is_caught(
    ledger: Ledger,
) -> None:
    """What happened (counts, units) is never corrected by rewriting; and a correction must
    replace the value the ledger holds now."""
    seq = _loan_seq(ledger)
    count = len(ledger.events())
    with pytest.raises(InvariantBroken) as broken:
        ledger._write(
            None, "x", "r", "", lambda batch: batch.emit(RecordCorrected(seq, "payload", "", "3"))
        )
    assert broken.value.rule == "ledger.correction"
    assert len(ledger.events()) == count and ledger.verify()["ok"]
    # written past the command (which reads the stored value): audit verify catches it
    stale = RecordCorrected(seq, "document", "not what it says", "新号")
    ledger._write(None, "x", "r", "", lambda batch: batch.emit(stale))
    problems = ledger.verify()["problems"]
    assert [(p["rule"], p["seq"]) for p in problems] == [("ledger.correction", seq)]


def test_correct_on_the_command_line(ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    seq = str(_loan_seq(ledger))
    db = ["--db", ledger.url, "--actor", "李主任", "--reason", "文号录入错误"]
    status, done = run_json(capsys, "ledger", "correct", *db, "--seq", seq, "--new-doc", "新号")
    assert status == 0 and done["corrections"][0]["new"] == "新号"
    status, _refused = run_json(capsys, "ledger", "correct", *db, "--seq", seq)
    assert status != 0
    status, out, _err = run(capsys, "audit", "log", "--db", ledger.url)
    assert f"第 {seq} 条记录的文号：错号〔2026〕1号 → 新号" in out
