"""Late and reversing entries (issue 13, SPEC 3.5): the ledger never goes back in time except
through an explicit, audited entry. A late entry (补录) is announced by an `entry_backdated`
event carrying why; a reversing entry (冲销) undoes a loan opening or a return recorded in
error, from its own date. The original events stay; `status --as-of D` answers what was
effective on D as recorded now, `--known-at T` as the ledger stood at T.

The small city (`conftest.city`): the administrative pool holds 3 (20% of 15 vacancies);
A1, A2 are full municipal organs, X1 is over quota, I2 lends from its 10 spare quotas."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pools.audit_words import describe
from pools.events import EntryBackdated, EntryReversed, LoanReturned
from pools.ledger import Ledger
from pools.reporting import loan_display_status
from pools.rules import RuleViolation
from pools.state import InvariantBroken

from .conftest import DAY0, changed, city
from .test_inputs import Clock
from .test_units_and_cli import run, run_json

JAN10, FEB1, FEB20 = date(2026, 1, 10), date(2026, 2, 1), date(2026, 2, 20)
MAR1, MAR5 = date(2026, 3, 1), date(2026, 3, 5)
ADMIN = {"pool": "admin", "purpose": "引进生", "actor": "王芳"}


def _ledger(url: str, clock: Clock) -> Ledger:
    return Ledger.create(url, city(), actor="王芳", effective=DAY0, clock=clock)


def _admin(ledger: Ledger, clock: Clock, unit_id: str, count: int, day: date) -> str:
    clock.move_to(max(day, clock.now.date()))
    done = ledger.open_loan(**ADMIN, unit_id=unit_id, count=count, effective=day)
    return str(done["loan_id"])


def _lent(status: dict[str, Any]) -> int:
    return int(status["pools"]["admin"]["lent"])


def _kinds(ledger: Ledger, after: int) -> list[str]:
    return [e["kind"] for e in ledger.events() if e["seq"] > after]


def test_a_late_return_counts_from_its_own_date_as_recorded_now(any_url: str) -> None:
    clock = Clock(DAY0)
    ledger = _ledger(any_url, clock)
    loan = _admin(ledger, clock, "A1", 1, JAN10)
    clock.move_to(MAR1)
    ledger.sync(changed(city(), I2=31), actor="王芳", effective=MAR1)
    before_late = clock.move_to(MAR5)
    with pytest.raises(RuleViolation) as refused:  # no going back without saying why
        ledger.return_loan(loan, actor="王芳", effective=FEB1)
    assert refused.value.rule == "ledger.backdated"
    head = ledger.status()["head"]["seq"]
    clock.move_to(date(2026, 3, 6))
    with ledger.late_entry("离职通知 3 月才送达"):
        ledger.return_loan(loan, actor="王芳", effective=FEB1, document="人社〔2026〕2号")
    events = [e for e in ledger.events() if e["seq"] > head]
    assert [e["kind"] for e in events] == ["entry_backdated", "loan_returned"]
    assert events[0]["reason"] == "离职通知 3 月才送达" and events[0]["effective"] == "2026-03-01"
    assert events[0]["payload"] == {"effective": "2026-02-01"}
    assert events[1]["effective"] == "2026-02-01"
    assert describe(events[0], "en") == "the entries that follow take effect on 2026-02-01"
    # as recorded now: returned from 1 February; the ledger's own date stays 1 March
    assert _lent(ledger.status(as_of=date(2026, 2, 15))) == 0
    assert _lent(ledger.status(as_of=date(2026, 1, 20))) == 1
    assert ledger.status()["as_of"] == "2026-03-06" and ledger.state().effective == MAR1
    # as the ledger stood before the late entry: the old answer, exactly
    assert _lent(ledger.status(as_of=date(2026, 2, 15), known_at=before_late)) == 1
    assert ledger.loans(as_of=date(2026, 2, 15))[0]["status"] == "closed"
    assert ledger.verify()["ok"]
    fresh = Ledger.open(any_url, clock=clock)  # a replay from the events agrees
    assert _lent(fresh.status(as_of=date(2026, 2, 15))) == 0 and fresh.verify()["ok"]


def _capacity_grows_on_march_1(ledger: Ledger, clock: Clock) -> None:
    clock.move_to(MAR1)
    ledger.sync(changed(city(), A3=(45, 20)), actor="王芳", effective=MAR1)
    assert ledger.status()["pools"]["admin"]["capacity"] == 6


def test_a_late_entry_that_breaks_its_own_date_is_refused(any_url: str) -> None:
    """Now the pool has room (A3's quota rose on 1 March: capacity 6), but on 1 February it
    held 3 and had lent 2: a late loan of 2 dated then is refused, nothing written."""
    clock = Clock(DAY0)
    ledger = _ledger(any_url, clock)
    _admin(ledger, clock, "A1", 2, JAN10)
    _capacity_grows_on_march_1(ledger, clock)
    count = len(ledger.events())
    with ledger.late_entry("补录"), pytest.raises(RuleViolation) as refused:
        ledger.open_loan(**ADMIN, unit_id="A2", count=2, effective=FEB1)
    assert refused.value.rule == "ledger.late_entry_conflict"
    assert "as of 2026-02-01" in refused.value.message_en
    assert "pool has 1 quota available" in refused.value.message_en
    assert len(ledger.events()) == count and ledger.verify()["ok"]
    with ledger.late_entry("补录"):  # one fits
        ledger.open_loan(**ADMIN, unit_id="A2", count=1, effective=FEB1)
    assert _lent(ledger.status(as_of=FEB1)) == 3 and ledger.verify()["ok"]


def test_a_late_entry_that_breaks_a_later_event_is_refused_naming_it(any_url: str) -> None:
    """On 20 February A1's second loan took the pool's last quota: a late loan dated
    1 February would leave that loan without room, so it is refused naming it."""
    clock = Clock(DAY0)
    ledger = _ledger(any_url, clock)
    _admin(ledger, clock, "A1", 2, JAN10)
    second = _admin(ledger, clock, "A1", 1, FEB20)
    _capacity_grows_on_march_1(ledger, clock)
    with ledger.late_entry("补录"), pytest.raises(RuleViolation) as refused:
        ledger.open_loan(**ADMIN, unit_id="A2", count=1, effective=FEB1)
    seq = next(e["seq"] for e in ledger.events() if e["payload"].get("loan_id") == second)
    assert refused.value.rule == "ledger.late_entry_conflict"
    assert f"event {seq}" in refused.value.message_en
    assert "as of 2026-02-20" in refused.value.message_en
    assert "补录后台账截至 2026-02-20 将不一致" in refused.value.message_zh


def test_a_late_entry_needs_a_reason_and_a_date_the_ledger_covers(any_url: str) -> None:
    clock = Clock(DAY0)
    ledger = _ledger(any_url, clock)
    _capacity_grows_on_march_1(ledger, clock)
    for reason, day, says in (("  ", FEB1, "says why"), ("补录", date(2025, 12, 1), "began")):
        with ledger.late_entry(reason), pytest.raises(RuleViolation) as refused:
            ledger.open_loan(**ADMIN, unit_id="A2", count=1, effective=day)
        assert refused.value.rule == "ledger.late_entry" and says in refused.value.message_en
    with ledger.late_entry("不需要"):  # not late: an ordinary write, no announcement
        ledger.open_loan(**ADMIN, unit_id="A2", count=1, effective=MAR1)
    assert "entry_backdated" not in _kinds(ledger, 0)


def test_the_fold_takes_a_backdated_event_only_inside_a_late_entry(any_url: str) -> None:
    """Written past the commands: an event dated before the ledger's last is an invariant
    broken unless the `entry_backdated` event of its own write announced that date."""
    clock = Clock(DAY0)
    ledger = _ledger(any_url, clock)
    loan = _admin(ledger, clock, "A1", 2, JAN10)
    _capacity_grows_on_march_1(ledger, clock)
    back = LoanReturned(loan, 1, "manual")

    def bare(batch: Any) -> None:
        batch._day = FEB1.isoformat()
        batch.emit(back)

    with pytest.raises(InvariantBroken) as broken:
        ledger._write(FEB1, "x", "r", "", bare)
    assert broken.value.rule == "ledger.backdated"

    def announced_other_day(batch: Any) -> None:
        batch.emit(EntryBackdated("2026-01-20"), day=MAR1.isoformat(), reason="补录")
        batch._day = FEB1.isoformat()
        batch.emit(back)

    with pytest.raises(InvariantBroken) as broken:
        ledger._write(FEB1, "x", "r", "", announced_other_day)
    assert broken.value.rule == "ledger.backdated"

    def unexplained(batch: Any) -> None:
        batch.emit(EntryBackdated(FEB1.isoformat()), day=MAR1.isoformat(), reason="")

    with pytest.raises(InvariantBroken) as broken:
        ledger._write(FEB1, "x", "r", "", unexplained)
    assert broken.value.rule == "ledger.late_entry"
    assert ledger.verify()["ok"]


# ---- reversing entries (冲销) ---------------------------------------------------------------


def _seq_of(ledger: Ledger, kind: str, loan_id: str) -> int:
    return max(
        e["seq"] for e in ledger.events()
        if e["kind"] == kind and e["payload"].get("loan_id") == loan_id
    )  # fmt: skip


def test_a_loan_opened_in_error_is_reversed_from_its_own_date(any_url: str) -> None:
    clock = Clock(DAY0)
    ledger = _ledger(any_url, clock)
    loan = _admin(ledger, clock, "A1", 2, JAN10)
    _capacity_grows_on_march_1(ledger, clock)
    before = clock.move_to(MAR5)
    stored = ledger.events()
    clock.move_to(date(2026, 3, 6))
    opened = _seq_of(ledger, "loan_opened", loan)
    done = ledger.reverse(opened, actor="李主任", reason="借用录错单位", document="冲〔2026〕1号")
    after = ledger.events()
    assert after[: len(stored)] == stored  # the original stays as sealed
    assert [e["kind"] for e in after[len(stored) :]] == ["entry_reversed"]
    assert after[-1]["effective"] == "2026-03-06" and after[-1]["payload"] == {
        "seq": opened, "target": "loan_opened", "loan_id": loan, "count": 2, "cause": ""
    }  # fmt: skip
    assert done["reversal"] == after[-1]["seq"] and done["loan"]["outstanding"] == 0
    assert describe(after[-1]) == f"冲销第 {opened} 条（开立借用，{loan}，2 名）"
    assert loan_display_status(ledger.loans()[0], set()) == "reversed"
    assert done["loan"]["reversed_by"] == after[-1]["seq"]
    for day in (None, date(2026, 1, 20)):  # as recorded now the loan never held the pool
        status = ledger.status(as_of=day)
        assert _lent(status) == 0 and status["units"][0]["pool_headcount"] == 0
    assert _lent(ledger.status(as_of=date(2026, 1, 20), known_at=before)) == 2
    assert ledger.verify()["ok"]
    with pytest.raises(RuleViolation) as refused:
        ledger.reverse(opened, actor="李主任", reason="again")
    assert (
        refused.value.rule == "ledger.reversal" and "already reversed" in refused.value.message_en
    )
    with pytest.raises(RuleViolation) as refused:
        ledger.reverse(1, actor="李主任", reason="the ledger itself")
    assert (
        refused.value.rule == "ledger.reversal"
        and "only a loan opening" in refused.value.message_en
    )


def test_an_opening_with_later_events_is_reversed_after_them(any_url: str) -> None:
    clock = Clock(DAY0)
    ledger = _ledger(any_url, clock)
    loan = _admin(ledger, clock, "A1", 2, JAN10)
    clock.move_to(FEB1)
    ledger.return_loan(loan, count=1, actor="王芳", effective=FEB1)
    opened, returned = _seq_of(ledger, "loan_opened", loan), _seq_of(ledger, "loan_returned", loan)
    with pytest.raises(RuleViolation) as refused:
        ledger.reverse(opened, actor="李主任", reason="录错")
    clock.move_to(MAR5)
    assert (
        refused.value.rule == "ledger.reversal"
        and "reverse the returns" in refused.value.message_en
    )
    ledger.reverse(returned, actor="李主任", reason="归还录错")
    assert ledger.loans()[0]["outstanding"] == 2
    ledger.reverse(opened, actor="李主任", reason="借用录错")
    assert _lent(ledger.status()) == 0 and ledger.verify()["ok"]
    for day in (JAN10, FEB1):  # as recorded now: neither the loan nor its return happened
        assert _lent(ledger.status(as_of=day)) == 0 and ledger.loans(as_of=day) == []


def test_a_return_recorded_in_error_owes_again(any_url: str) -> None:
    """I2 lends 3 of its spare quotas to the full institutional unit I1 (two-rights
    separation); a return by hand of all 3 is reversed: I1's 3 people move back onto the
    loan, I2 lends them again, the loan reopens."""
    clock = Clock(DAY0)
    ledger = _ledger(any_url, clock)
    clock.move_to(JAN10)
    loan = ledger.open_loan(
        pool="unit:I2", unit_id="I1", count=3, purpose="项目", actor="王芳", effective=JAN10
    )["loan_id"]
    clock.move_to(FEB1)
    ledger.return_loan(loan, actor="王芳", effective=FEB1)
    units = {u["unit_id"]: u for u in ledger.status()["units"]}
    assert (units["I1"]["headcount"], units["I2"]["lent"]) == (53, 0)
    returned = _seq_of(ledger, "loan_returned", loan)
    ledger.reverse(returned, actor="李主任", reason="归还录错")
    units = {u["unit_id"]: u for u in ledger.status()["units"]}
    assert (units["I1"]["headcount"], units["I1"]["borrowed"], units["I2"]["lent"]) == (50, 3, 3)
    assert ledger.loans()[0]["status"] == "open" and ledger.loans()[0]["outstanding"] == 3
    assert ledger.verify()["ok"]
    with pytest.raises(RuleViolation) as refused:
        ledger.reverse(returned, actor="李主任", reason="again")
    assert "already reversed" in refused.value.message_en


def test_verify_catches_a_reversal_that_misstates_its_event(any_url: str) -> None:
    """Written past the command: the reversal names the ledger's first event as the return
    it undoes. The fold finds the loan's returns consistent; verify reads the record."""
    clock = Clock(DAY0)
    ledger = _ledger(any_url, clock)
    loan = _admin(ledger, clock, "A1", 2, JAN10)
    ledger.return_loan(loan, count=1, actor="王芳", effective=JAN10)
    forged = EntryReversed(1, "loan_returned", loan, 1, "manual")
    ledger._write(JAN10, "x", "r", "", lambda batch: batch.emit(forged))
    problems = ledger.verify()["problems"]
    assert [p["rule"] for p in problems] == ["ledger.reversal"]


def test_verify_replays_late_entries_in_date_order(
    any_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A late entry that slipped past the write's own check (here: switched off) is caught by
    audit verify's replay in order of effective date."""
    clock = Clock(DAY0)
    ledger = _ledger(any_url, clock)
    _admin(ledger, clock, "A1", 2, JAN10)
    _admin(ledger, clock, "A1", 1, FEB20)
    _capacity_grows_on_march_1(ledger, clock)
    monkeypatch.setattr(Ledger, "_check_as_of", lambda *_args: None)
    with ledger.late_entry("补录"):
        ledger.open_loan(**ADMIN, unit_id="A2", count=1, effective=FEB1)
    problems = ledger.verify()["problems"]
    assert [p["rule"] for p in problems] == ["ledger.late_entry_conflict"]


# ---- the command line -----------------------------------------------------------------------


def test_late_entries_and_reversals_on_the_command_line(
    any_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from .test_inputs import demo_cli_ledger

    demo_cli_ledger(capsys, any_url)
    common = ("--db", any_url, "--actor", "王芳")
    loan = ("loan", "open", *common, "--pool", "admin", "--count", "1", "--purpose", "引进生")
    status, opened = run_json(capsys, *loan, "--unit", "M001", "--date", "2027-01-20")
    assert status == 0, opened
    status, later = run_json(capsys, *loan, "--unit", "M003", "--date", "2027-02-02")
    assert status == 0, later
    status, out, err = run(capsys, "loan", "return", *common, "--loan", opened["loan_id"],
                           "--date", "2027-01-25")  # fmt: skip
    assert status == 1 and "ledger.backdated" in out + err
    status, back = run_json(capsys, "loan", "return", *common, "--loan", opened["loan_id"],
                            "--date", "2027-01-25", "--late-entry", "通知迟到")  # fmt: skip
    assert status == 0, back
    status, seen = run_json(capsys, "ledger", "status", "--db", any_url, "--as-of", "2027-01-30")
    assert seen["pools"]["admin"]["lent"] == 0  # returned on 25 January, as recorded now
    returned = max(e["seq"] for e in run_json(capsys, "audit", "log", "--db", any_url)[1]["events"])
    status, reversed_ = run_json(capsys, "ledger", "reverse", "--db", any_url, "--seq",
                                 str(returned), "--actor", "李主任", "--reason", "归还录错",
                                 "--date", "2027-02-03")  # fmt: skip
    assert status == 0, reversed_
    assert reversed_["loan"]["outstanding"] == 1
    status, seen = run_json(capsys, "ledger", "status", "--db", any_url, "--as-of", "2027-01-30")
    assert seen["pools"]["admin"]["lent"] == 1  # that return never happened, as recorded now
    status, verified = run_json(capsys, "audit", "verify", "--db", any_url)
    assert verified["ok"], verified


@pytest.mark.parametrize(
    ("snapshot", "rule", "says"),
    [
        ({"I1": 2}, "ledger.reversal", "cannot move back"),  # I1's people left since
        ({"I2": 40}, "unit.lender_no_spare", "spare"),  # I2 filled its quota since
    ],
)
def test_a_return_is_reversed_only_while_people_and_quota_are_there(
    any_url: str, snapshot: dict[str, int], rule: str, says: str
) -> None:
    clock = Clock(JAN10)
    ledger = _ledger(any_url, clock)
    loan = ledger.open_loan(
        pool="unit:I2", unit_id="I1", count=3, purpose="项目", actor="王芳", effective=JAN10
    )["loan_id"]
    ledger.return_loan(loan, actor="王芳", effective=JAN10)
    returned = _seq_of(ledger, "loan_returned", loan)
    moved = {unit_id: count + 3 * (unit_id == "I1") for unit_id, count in {"I1": 50}.items()}
    ledger.sync(changed(city(), **(moved | snapshot)), actor="王芳", effective=FEB1)
    count = len(ledger.events())
    with pytest.raises(RuleViolation) as refused:
        ledger.reverse(returned, actor="李主任", reason="归还录错", effective=FEB1)
    assert refused.value.rule == rule and says in refused.value.message_en
    assert len(ledger.events()) == count
