"""Input hardening of the ledger (issues 13 and 14): time, idempotency, settings and inputs.

Every test here was written against an attack that worked on the code before it: the write
dated decades ahead that froze the ledger, dates that crashed a command, keys replayed for a
different request, settings that broke the ledger for good, text a database cannot store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from pools.ledger import Ledger
from pools.rules import RuleViolation, violations

from .conftest import DAY0, changed, city
from .test_units_and_cli import run

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "units"
OCTOBER = str(DATA / "units-2026-10.csv")
NOVEMBER = str(DATA / "units-2026-11.csv")


class Clock:
    """A clock the test moves forward: what a write records as the time it was made."""

    def __init__(self, day: date = DAY0) -> None:
        self.now = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)

    def __call__(self) -> datetime:
        return self.now

    def move_to(self, day: date) -> datetime:
        self.now = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
        return self.now


def demo_cli_ledger(capsys: pytest.CaptureFixture[str], url: str) -> None:
    status, _out, err = run(capsys, "ledger", "init", "--db", url, "--units", OCTOBER, "--demo")
    assert status == 0, err


# ---- 1. time ---------------------------------------------------------------------------


def test_a_write_far_ahead_is_refused_and_the_ledger_stays_writable(
    any_url: str, future_dates_checked: None
) -> None:
    clock = Clock()
    with Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=clock) as ledger:
        with pytest.raises(RuleViolation) as refused:
            ledger.sync(changed(city(), A3=21), actor="王芳", effective=date(2062, 1, 1))
        assert refused.value.rule == "ledger.future_dated"
        with pytest.raises(RuleViolation) as refused:
            ledger.sync(changed(city(), A3=21), actor="王芳", effective=DAY0 + timedelta(32))
        assert refused.value.rule == "ledger.future_dated"
        # at most the setting (31 days) ahead; and the ledger goes on as normal
        ledger.sync(changed(city(), A3=21), actor="王芳", effective=DAY0 + timedelta(31))
        clock.move_to(DAY0 + timedelta(40))
        ledger.sync(changed(city(), A3=22), actor="王芳")
        assert ledger.verify()["ok"]


@pytest.mark.parametrize(
    "argv",
    [
        ("ledger", "status", "--as-of", "9999-12-31"),
        ("ledger", "status", "--as-of", "1900-01-01"),
        ("ledger", "status", "--known-at", "9999-12-31"),
        ("ledger", "sync", "--units", NOVEMBER, "--actor", "王芳", "--date", "9999-12-30"),
        ("loan", "list", "--db", "x.db"),
    ],
)
def test_no_date_crashes_a_command(
    any_url: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    demo_cli_ledger(capsys, any_url)
    if argv[:2] == ("loan", "list"):  # the API too: a date out of range is refused, not a crash
        with Ledger.open(any_url) as ledger:
            with pytest.raises(violations.InputRefused) as refused:
                ledger.status(as_of=date(9999, 12, 31))
            assert refused.value.rule == "ledger.date_range"
            with pytest.raises(violations.InputRefused):
                ledger.sync(OCTOBER, actor="王芳", effective=date(9999, 12, 30))
        return
    with pytest.raises(SystemExit) as exited:
        run(capsys, *argv, "--db", any_url)
    assert exited.value.code == 2
    assert "outside the dates a ledger can mean" in capsys.readouterr().err


def test_known_at_reproduces_a_past_answer_exactly(any_url: str) -> None:
    clock = Clock(date(2026, 10, 8))
    october = date(2026, 10, 8)
    with Ledger.create(any_url, city(), actor="王芳", effective=october, clock=clock) as ledger:
        recorded_then = clock.move_to(date(2026, 10, 20))
        ledger.open_loan(
            pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳",
            effective=date(2026, 10, 20),
        )  # fmt: skip
        answer_then = ledger.status(as_of=date(2026, 11, 1))
        plain_then = ledger.status()
        clock.move_to(date(2026, 10, 28))
        ledger.open_loan(
            pool="admin", unit_id="A2", count=1, purpose="引进生", actor="王芳",
            effective=date(2026, 10, 28),
        )  # fmt: skip
        assert ledger.status(as_of=date(2026, 11, 1)) != answer_then  # recorded since
        assert ledger.status(as_of=date(2026, 11, 1), known_at=recorded_then) == answer_then
        assert ledger.status(known_at=recorded_then) == plain_then


def test_known_at_on_the_command_line(any_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    demo_cli_ledger(capsys, any_url)
    status, out, err = run(
        capsys, "ledger", "status", "--db", any_url, "--json", "--known-at", "1990-01-01"
    )
    assert status == 0, err
    assert json.loads(out)["head"]["seq"] == 0  # nothing was recorded by 1990
    status, out, _ = run(capsys, "ledger", "status", "--db", any_url, "--json", "--known-at",
                         "2200-01-01T00:00:00+08:00")  # fmt: skip
    assert status == 0 and json.loads(out)["head"]["seq"] > 0


def test_status_never_calls_a_later_state_today(any_url: str, future_dates_checked: None) -> None:
    clock = Clock()
    with Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=clock) as ledger:
        ahead = DAY0 + timedelta(20)
        ledger.sync(changed(city(), A3=21), actor="王芳", effective=ahead)
        today = ledger.status(as_of=DAY0)
        plain = ledger.status()
        assert today["as_of"] == DAY0.isoformat()
        assert plain["as_of"] == ahead.isoformat()  # it shows the later write: it says so
        assert plain["head"] != today["head"]


# ---- 2. idempotency --------------------------------------------------------------------

D1 = DAY0 + timedelta(10)


def admin_loan(ledger: Ledger, **changes: object) -> dict:
    request: dict = dict(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳",
                         key="K1", effective=D1, document="临编〔2026〕3号")  # fmt: skip
    return ledger.open_loan(**(request | changes))


def test_an_exact_retry_gets_its_loan_after_the_ledger_moved_on(any_url: str) -> None:
    with Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=Clock()) as ledger:
        first = admin_loan(ledger)
        ledger.sync(changed(city(), A4=6), actor="王芳", effective=D1 + timedelta(5))
        head = ledger.status()["head"]
        again = admin_loan(ledger)  # dated D1, before the ledger's last event
        assert (again["loan_id"], again["replayed"]) == (first["loan_id"], True)
        assert ledger.status()["head"] == head
        # an unstated effective date (today by default) is not compared
        assert admin_loan(ledger, effective=None)["replayed"]


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"term_years": 2}, ["term"]),
        ({"count": 2}, ["count"]),
        (
            {"document": "临编〔2026〕4号", "effective": D1 + timedelta(1)},
            ["effective", "document"],
        ),
        ({"unit_id": "A2", "reason": "again"}, ["unit", "reason"]),
    ],
)
def test_a_different_request_under_a_used_key_is_refused_naming_each_field(
    any_url: str, changes: dict, fields: list[str]
) -> None:
    with Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=Clock()) as ledger:
        first = admin_loan(ledger)
        head = ledger.status()["head"]
        with pytest.raises(RuleViolation) as refused:
            admin_loan(ledger, **changes)
        assert refused.value.rule == "loan.key_conflict"
        assert f"differs in {', '.join(fields)}:" in refused.value.message_en
        assert first["loan_id"] in refused.value.message_en
        assert ledger.status()["head"] == head


def test_keys_are_trimmed_and_an_empty_key_is_refused(
    any_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with Ledger.create(any_url, city(), actor="王芳", effective=DAY0, clock=Clock()) as ledger:
        first = admin_loan(ledger, key=" K1 ")
        assert admin_loan(ledger, key="K1")["loan_id"] == first["loan_id"]
        for empty in ("", "  "):
            with pytest.raises(violations.InputRefused) as refused:
                admin_loan(ledger, key=empty)
            assert refused.value.rule == "idempotency.empty_key"
        assert len(ledger.loans()) == 1
    status, out, _err = run(
        capsys, "loan", "open", "--db", any_url, "--pool", "admin", "--unit", "A1", "--count",
        "1", "--purpose", "引进生", "--actor", "王芳", "--key", "", "--json",
    )  # fmt: skip
    assert status == 2 and json.loads(out)["error"]["rule"] == "idempotency.empty_key"


def _quotapool_into_a_closed_pipe(*argv: str) -> subprocess.CompletedProcess[bytes]:
    """Run `quotapool ARGV` with standard output a pipe whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-c", "import sys, quotapool; sys.exit(quotapool.main())", *argv],
            stdout=write_end, stderr=subprocess.PIPE, cwd=ROOT, timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)


def test_a_broken_pipe_never_turns_a_committed_write_into_a_failure(
    any_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    demo_cli_ledger(capsys, any_url)
    opened = _quotapool_into_a_closed_pipe(
        "loan", "open", "--db", any_url, "--pool", "admin", "--unit", "M003", "--count", "1",
        "--purpose", "引进生", "--actor", "王芳", "--json",
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr.decode()
    assert b"Traceback" not in opened.stderr
    with Ledger.open(any_url) as ledger:
        assert len(ledger.loans()) == 1
    logged = _quotapool_into_a_closed_pipe("audit", "log", "--db", any_url)
    assert logged.returncode == 0 and b"Traceback" not in logged.stderr, logged.stderr.decode()


# ---- 3. settings and inputs ----------------------------------------------------------------


@pytest.mark.parametrize(
    "setting",
    [
        ("--admin-share", "nan"),
        ("--admin-share", "5"),
        ("--admin-share", "-1"),
        ("--admin-share", "1e308"),
        ("--institutional-capacity", "-5"),
        ("--term-years", "100000"),
        ("--max-removed-share", "inf"),
    ],
)
def test_init_refuses_a_bad_setting_and_writes_nothing(
    any_url: str, capsys: pytest.CaptureFixture[str], setting: tuple[str, str]
) -> None:
    status, out, err = run(
        capsys, "ledger", "init", "--db", any_url, "--units", OCTOBER, "--demo", "--json", *setting
    )
    assert status == 2, err
    error = json.loads(out)["error"]
    assert error["rule"] == "settings.invalid"
    assert setting[0][2:].replace("-", "_") in error["message_en"]
    status, _out, err = run(capsys, "ledger", "status", "--db", any_url)
    assert status == 2 and "no ledger" in err


def test_a_loan_term_beyond_fifty_years_is_refused(
    any_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    demo_cli_ledger(capsys, any_url)
    status, out, err = run(
        capsys, "loan", "open", "--db", any_url, "--pool", "institutional", "--unit", "S012",
        "--count", "1", "--purpose", "高层次人才", "--actor", "李强", "--term-years", "100000",
        "--json",
    )  # fmt: skip
    assert status == 1, err
    assert json.loads(out)["error"]["rule"] == "loan.term"


def test_a_truncated_snapshot_is_refused_unless_removals_are_allowed(
    any_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    demo_cli_ledger(capsys, any_url)
    lines = Path(NOVEMBER).read_text(encoding="utf-8").splitlines(keepends=True)
    truncated = tmp_path / "units-truncated.csv"
    truncated.write_text("".join(lines[:11]), encoding="utf-8")  # 10 of 432 units
    with Ledger.open(any_url) as ledger:
        head = ledger.status()["head"]
    sync = ("ledger", "sync", "--db", any_url, "--units", str(truncated), "--actor", "王芳")
    status, out, _err = run(capsys, *sync, "--json")
    assert status == 1 and json.loads(out)["error"]["rule"] == "sync.mass_removal"
    with Ledger.open(any_url) as ledger:
        assert ledger.status()["head"] == head
    status, out, err = run(capsys, *sync, "--allow-removals", "--json")
    assert status == 0, err
    assert sum(c["change"] == "removed" for c in json.loads(out)["changes"]) == 422


@pytest.mark.parametrize(
    ("option", "value", "rule"),
    [
        ("--key", "k" * 201, "input.too_long"),
        ("--actor", "a" * 201, "input.too_long"),
        ("--doc", "d" * 201, "input.too_long"),
        ("--reason", "why\x00not", "input.nul_byte"),
        ("--actor", "王\x00芳", "input.nul_byte"),
    ],
)
def test_database_limits_are_checked_before_the_database_sees_the_text(
    any_url: str, capsys: pytest.CaptureFixture[str], option: str, value: str, rule: str
) -> None:
    demo_cli_ledger(capsys, any_url)
    request = {"--pool": "admin", "--unit": "M003", "--count": "1", "--purpose": "引进生",
               "--actor": "王芳", "--key": "K1"} | {option: value}  # fmt: skip
    argv = [word for pair in request.items() for word in pair]
    status, out, err = run(capsys, "loan", "open", "--db", any_url, *argv, "--json")
    assert status == 2, err
    error = json.loads(out)["error"]
    assert error["rule"] == rule and option in error["message_en"]
    with Ledger.open(any_url) as ledger:
        assert ledger.loans() == []


def test_the_stateful_model_adds_years_to_29_february() -> None:
    from .test_stateful import plus_years

    assert plus_years(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert plus_years(date(2028, 2, 29), 4) == date(2032, 2, 29)
    assert plus_years(date(2026, 10, 8), 2) == date(2028, 10, 8)


def test_the_text_limits_are_the_columns_lengths() -> None:
    from pools.rules.ledger import TEXT_LIMITS
    from pools.storage import events_table

    columns = {"--key": "idem_key", "--actor": "actor", "--doc": "document"}
    for option, column in columns.items():
        assert TEXT_LIMITS[option] == events_table.c[column].type.length
