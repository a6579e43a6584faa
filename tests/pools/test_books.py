"""Quota-use plans (SPEC 2.7) and rectification problems (SPEC 2.8): golden small cases on the
city of `conftest.city()` (A3 30/20: 10 vacancies; A4 10/5: 5 vacancies; X1 over quota)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from pools import cli
from pools.ledger import Ledger
from pools.rules import RuleViolation, Settings

from .conftest import DAY0, changed, city, fixed_clock

Make = Callable[..., Ledger]
DOC = "编办〔2026〕7号"


def approve(ledger: Ledger, unit_id: str, count: int, **kw: object) -> dict:
    values: dict = {"channel": "公开招聘", "purpose": "招录", "actor": "王芳", "document": DOC}
    values.update(kw)
    return ledger.approve_plan(unit_id=unit_id, count=count, **values)


# ---- plans reserve free vacancies ----------------------------------------------------------


def test_plans_reserve_free_vacancies_and_beyond_is_refused(make_ledger: Make) -> None:
    ledger = make_ledger()
    first = approve(ledger, "A3", 6)
    assert first["plan"]["until"] == "2026-12-31"  # default: 31 December of the year
    assert first["unit"] == {"unit_id": "A3", "vacancies": 10, "reserved": 6, "free_vacancies": 4}
    with pytest.raises(RuleViolation) as refused:
        approve(ledger, "A3", 5)
    assert refused.value.rule == "useplan.free_vacancies"
    assert "4 free vacancies" in refused.value.message_en
    assert approve(ledger, "A3", 4)["unit"]["free_vacancies"] == 0
    assert ledger.verify()["ok"]


def test_a_lender_cannot_lend_reserved_vacancies(make_ledger: Make) -> None:
    ledger = make_ledger()
    approve(ledger, "I2", 8)  # I2 40/30: 10 vacancies, 8 reserved, 2 free
    with pytest.raises(RuleViolation) as refused:
        ledger.open_loan(pool="unit:I2", unit_id="I1", count=3, purpose="专项", actor="王芳")
    assert refused.value.rule == "unit.lender_no_spare"
    ledger.open_loan(pool="unit:I2", unit_id="I1", count=2, purpose="专项", actor="王芳")


def test_channel_vocabulary_and_aliases(make_ledger: Make) -> None:
    ledger = make_ledger()
    assert approve(ledger, "A3", 1, channel="talent")["plan"]["channel"] == "人才引进"
    assert approve(ledger, "A3", 1, channel="军转安置")["plan"]["channel"] == "军转安置"
    with pytest.raises(RuleViolation) as refused:
        approve(ledger, "A3", 1, channel="走后门")
    assert refused.value.rule == "useplan.channel"


def test_withdraw_frees_the_reservation_and_needs_a_reason(make_ledger: Make) -> None:
    ledger = make_ledger()
    plan = approve(ledger, "A4", 5)["plan_id"]
    with pytest.raises(RuleViolation) as refused:
        ledger.withdraw_plan(plan, actor="王芳", reason=" ")
    assert refused.value.rule == "useplan.reason_missing"
    done = ledger.withdraw_plan(plan, actor="王芳", reason="岗位调整")
    assert done["plan"]["status"] == "withdrawn" and done["plan"]["withdrawn"] == 5
    assert done["unit"]["free_vacancies"] == 5
    with pytest.raises(RuleViolation) as again:
        ledger.withdraw_plan(plan, actor="王芳", reason="again")
    assert again.value.rule == "useplan.not_open"


# ---- sync posts hires, oldest plan first; lapse at the end date ---------------------------------


def test_sync_posts_hires_against_the_oldest_plan_first(make_ledger: Make) -> None:
    ledger = make_ledger()
    older = approve(ledger, "A3", 3)["plan_id"]
    newer = approve(ledger, "A3", 4, channel="选调", effective=date(2026, 2, 1))["plan_id"]
    synced = ledger.sync(changed(city(), A3=25), actor="王芳", effective=date(2026, 3, 1))
    assert synced["posted"] == [
        {"plan_id": older, "unit_id": "A3", "count": 3},
        {"plan_id": newer, "unit_id": "A3", "count": 2},
    ]
    assert "unplanned" not in synced
    status = ledger.useplans(unit_id="A3")
    plans = {plan["plan_id"]: plan for plan in status["plans"]}
    assert (plans[older]["status"], plans[older]["used"]) == ("used", 3)
    assert (plans[newer]["status"], plans[newer]["used"], plans[newer]["reserved"]) == (
        "open",
        2,
        2,
    )
    assert status["city"] == {"approved": 7, "used": 5, "lapsed": 0, "withdrawn": 0, "reserved": 2}
    by_channel = {row["channel"]: row for row in status["by_channel"]}
    assert by_channel["选调"]["reserved"] == 2 and by_channel["公开招聘"]["used"] == 3
    assert ledger.verify()["ok"]


def test_unused_part_lapses_after_the_end_date(make_ledger: Make) -> None:
    ledger = make_ledger()
    plan = approve(ledger, "A4", 3, until=date(2026, 6, 30))["plan_id"]
    ledger.sync(changed(city(), A4=6), actor="王芳", effective=date(2026, 6, 30))
    on_end = ledger.useplans()["plans"][0]
    assert (on_end["status"], on_end["used"], on_end["reserved"]) == ("open", 1, 2)  # still valid
    later = ledger.open_problem(
        unit_id="A1", kind="其他", deadline=date(2026, 9, 1), actor="王芳",
        effective=date(2026, 7, 1),
    )  # fmt: skip
    assert later["lapsed"] == [{"plan_id": plan, "unit_id": "A4", "count": 2}]
    after = ledger.useplans()["plans"][0]
    assert (after["status"], after["used"], after["lapsed"], after["reserved"]) == (
        "lapsed", 1, 2, 0,
    )  # fmt: skip
    assert [e["kind"] for e in ledger.events()].count("useplan_lapsed") == 1
    assert ledger.verify()["ok"]


def test_hire_without_a_plan_is_flagged_with_a_problem_not_refused(make_ledger: Make) -> None:
    ledger = make_ledger()
    approve(ledger, "A3", 1)
    synced = ledger.sync(changed(city(), A3=23), actor="王芳", effective=date(2026, 2, 1))
    assert synced["unplanned"] == [{"unit_id": "A3", "count": 2}]
    opened = [(p["unit_id"], p["kind"], p["cause"]) for p in synced["problems_opened"]]
    assert ("A3", "无计划进人", "unplanned_hire") in opened
    assert [
        (a["kind"], a["unit_id"]) for a in synced["alerts"] if a["kind"] == "unplanned_hire"
    ] == [("unplanned_hire", "A3")]
    assert ledger.state().units["A3"].headcount == 23  # the snapshot is the fact


# ---- problems --------------------------------------------------------------------------------


def open_manual(ledger: Ledger, unit_id: str, **kw: object) -> str:
    values: dict = {"kind": "混编混岗", "deadline": date(2026, 6, 30), "actor": "王芳"}
    values.update(kw)
    return ledger.open_problem(unit_id=unit_id, document=DOC, **values)["problem"]["problem_id"]


def test_an_open_problem_blocks_a_loan_and_a_plan_until_closed(make_ledger: Make) -> None:
    ledger = make_ledger()
    problem = open_manual(ledger, "A3")
    with pytest.raises(RuleViolation) as plan_refused:
        approve(ledger, "A3", 1)
    assert plan_refused.value.rule == "problem.open_blocks"
    open_manual(ledger, "A1")  # A1 is full: it could borrow from the admin pool
    with pytest.raises(RuleViolation) as loan_refused:
        ledger.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳")
    assert loan_refused.value.rule == "problem.open_blocks"
    with pytest.raises(RuleViolation) as no_reason:
        ledger.close_problem(problem, actor="王芳", reason="")
    assert no_reason.value.rule == "problem.reason_missing"
    closed = ledger.close_problem(problem, actor="王芳", reason="已整改")
    assert closed["problem"]["status"] == "closed"
    assert approve(ledger, "A3", 1)["plan"]["status"] == "open"  # closing unblocks
    assert ledger.verify()["ok"]


def test_the_warning_setting_lets_the_write_through_with_a_warning(make_ledger: Make) -> None:
    ledger = make_ledger(settings=Settings(problems_block=False))
    open_manual(ledger, "A3")
    result = approve(ledger, "A3", 2)
    assert [w["rule"] for w in result["warnings"]] == ["problem.open_blocks"]
    open_manual(ledger, "A1")
    loan = ledger.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳")
    assert [w["rule"] for w in loan["warnings"]] == ["problem.open_blocks"]
    assert ledger.verify()["ok"]


def test_unknown_problem_kind_is_refused_and_kinds_are_a_setting(make_ledger: Make) -> None:
    ledger = make_ledger(settings=Settings(problem_kinds=("超编进人", "其他")))
    with pytest.raises(RuleViolation) as refused:
        open_manual(ledger, "A3")  # 混编混岗 is not in this ledger's list
    assert refused.value.rule == "problem.kind"
    open_manual(ledger, "A3", kind="其他")


def test_sync_opens_and_closes_automatic_problems(make_ledger: Make) -> None:
    ledger = make_ledger()
    quiet = ledger.sync(city(), actor="王芳", effective=date(2026, 2, 1))
    assert quiet["events"] == 0  # X1 was over quota before: the alerts say so, no new problem
    cut = ledger.sync(changed(city(), A4=(4, 5)), actor="王芳", effective=date(2026, 2, 2))
    assert [(p["unit_id"], p["kind"]) for p in cut["problems_opened"]] == [("A4", "超编进人")]
    a4 = cut["problems_opened"][0]["problem_id"]
    again = ledger.sync(changed(city(), A4=(4, 5)), actor="王芳", effective=date(2026, 3, 1))
    assert again["problems_opened"] == [] and again["problems_closed"] == []  # not twice
    back = ledger.sync(city(), actor="王芳", effective=date(2026, 4, 1))
    assert back["problems_closed"] == [a4]  # back within quota: the cause is gone
    problem = ledger.problems(unit_id="A4")[0]
    assert (problem["status"], problem["automatic"]) == ("closed", True)
    assert ledger.verify()["ok"]


def test_sync_opens_a_problem_for_an_overdue_loan_and_closes_it(make_ledger: Make) -> None:
    ledger = make_ledger()
    loan = ledger.open_loan(
        pool="institutional", unit_id="I1", count=1, purpose="高层次人才", actor="王芳",
        term_years=1,
    )["loan_id"]  # fmt: skip
    synced = ledger.sync(city(), actor="王芳", effective=date(2027, 1, 6))
    overdue = [p for p in synced["problems_opened"] if p["cause"] == "loan_overdue"]
    assert [(p["unit_id"], p["kind"]) for p in overdue] == [("I1", "借用逾期未还")]
    ledger.evaluate_loan(
        loan, score=80, decision="extend", new_end=date(2028, 1, 6), actor="王芳",
        effective=date(2027, 1, 6),
    )  # fmt: skip
    again = ledger.sync(city(), actor="王芳", effective=date(2027, 1, 7))
    assert overdue[0]["problem_id"] in again["problems_closed"]


def test_quarterly_report_lists_open_problems_with_their_age(make_ledger: Make) -> None:
    ledger = make_ledger()
    kept = open_manual(ledger, "A3", effective=date(2026, 10, 10), deadline=date(2027, 1, 31))
    gone = open_manual(
        ledger, "A4", effective=date(2026, 10, 10), kind="其他", deadline=date(2027, 1, 31)
    )
    ledger.close_problem(gone, actor="王芳", reason="已整改", effective=date(2026, 11, 1))
    report = ledger.problem_report("2026q4")
    assert (report["from"], report["to"], report["as_of"]) == (
        "2026-10-01",
        "2026-12-31",
        "2026-11-01",
    )
    assert [
        (r["problem_id"], r["unit_id"], r["kind"], r["age_days"]) for r in report["problems"]
    ] == [
        (kept, "A3", "混编混岗", 22),  # age on the ledger's day (2026-11-01): the quarter runs
    ]
    with pytest.raises(RuleViolation) as bad:
        ledger.problem_report("2026Q5")
    assert bad.value.rule == "problem.quarter"


# ---- idempotency -----------------------------------------------------------------------------


def test_keyed_plan_retry_answers_even_after_the_date_moved(make_ledger: Make) -> None:
    ledger = make_ledger()
    first = approve(ledger, "A3", 2, key="K-7")
    ledger.sync(changed(city(), A4=4), actor="王芳", effective=date(2026, 3, 1))
    again = approve(ledger, "A3", 2, key=" K-7 ")  # trimmed: the same key
    assert again["replayed"] and again["plan_id"] == first["plan_id"]
    assert len(ledger.useplans()["plans"]) == 1


def test_keyed_plan_retry_with_different_fields_is_refused_naming_them(make_ledger: Make) -> None:
    ledger = make_ledger()
    approve(ledger, "A3", 2, key="K-8")
    with pytest.raises(RuleViolation) as refused:
        approve(ledger, "A3", 3, key="K-8", channel="选调")
    assert refused.value.rule == "useplan.key_conflict"
    assert "differs in count, channel" in refused.value.message_en
    ledger.open_loan(pool="admin", unit_id="A1", count=1, purpose="引进生", actor="王芳", key="L-1")
    with pytest.raises(RuleViolation) as other:
        approve(ledger, "A3", 1, key="L-1")
    assert other.value.rule == "useplan.key_conflict"
    with pytest.raises(RuleViolation) as empty:
        approve(ledger, "A3", 1, key="  ")
    assert empty.value.rule == "idempotency.empty_key"


# ---- the command line, status and the audit log -----------------------------------------------


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    parser = argparse.ArgumentParser(prog="quotapool")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([*argv, "--json"])
    status = args.handler(args)
    out, _err = capsys.readouterr()
    return status, json.loads(out)


def test_cli_useplan_and_problem_round_trip(
    make_ledger: Make, sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_ledger().close()
    db = ["--db", sqlite_url]
    status, plan = run_json(
        capsys, "useplan", "approve", *db, "--unit", "A3", "--count", "3", "--channel",
        "公开招聘", "--purpose", "综合岗", "--doc", DOC, "--actor", "王芳", "--date", "2026-01-06",
    )  # fmt: skip
    assert status == 0 and plan["plan"]["reserved"] == 3
    status, refused = run_json(
        capsys, "useplan", "approve", *db, "--unit", "A3", "--count", "8", "--channel",
        "selection", "--purpose", "x", "--actor", "王芳", "--date", "2026-01-06",
    )  # fmt: skip
    assert status == 1 and refused["error"]["rule"] == "useplan.free_vacancies"
    status, problem = run_json(
        capsys, "problem", "open", *db, "--unit", "A1", "--kind", "超职数配备", "--deadline",
        "2026-12-31", "--doc", DOC, "--actor", "王芳", "--date", "2026-01-06",
    )  # fmt: skip
    assert status == 0
    status, loan = run_json(
        capsys, "loan", "open", *db, "--pool", "admin", "--unit", "A1", "--count", "1",
        "--purpose", "引进生", "--actor", "王芳", "--date", "2026-01-06",
    )  # fmt: skip
    assert status == 1 and loan["error"]["rule"] == "problem.open_blocks"
    status, listing = run_json(capsys, "problem", "list", *db, "--open")
    assert [p["unit_id"] for p in listing["problems"]] == ["A1"]
    out = tmp_path / "q1.csv"
    status, report = run_json(
        capsys, "problem", "report", *db, "--quarter", "2026Q1", "--out", str(out)
    )
    assert status == 0 and len(report["problems"]) == 1
    assert out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("unit_id,unit_name,kind")
    status, closed = run_json(
        capsys, "problem", "close", *db, "--problem", problem["problem"]["problem_id"],
        "--reason", "已整改", "--actor", "王芳", "--date", "2026-01-07",
    )  # fmt: skip
    assert status == 0 and closed["problem"]["status"] == "closed"
    status, plans = run_json(capsys, "useplan", "status", *db, "--year", "2026")
    assert plans["city"]["reserved"] == 3
    status, ledger_status = run_json(capsys, "ledger", "status", *db)
    assert ledger_status["useplans"]["city"]["approved"] == 3
    assert ledger_status["problems"]["open"] == 0
    status, log = run_json(capsys, "audit", "log", *db, "--unit", "A3")
    assert "useplan_approved" in [e["kind"] for e in log["events"]]


def test_audit_words_name_the_new_events() -> None:
    from pools.audit_words import describe, event_name

    event = {
        "kind": "useplan_approved",
        "payload": {"plan_id": "UP000002", "unit_id": "A3", "count": 3, "channel": "公开招聘",
                    "purpose": "综合岗", "until": "2026-12-31"},
    }  # fmt: skip
    assert event_name("useplan_approved") == "批准用编计划"
    assert event_name("problem_closed", "en") == "problem closed"
    assert describe(event, "zh") == "UP000002：A3 3 名，公开招聘，用途 综合岗，有效期至 2026-12-31"


def test_replay_refuses_a_plan_beyond_free_vacancies(make_ledger: Make) -> None:
    """The fold checks the rule on every event: a forged approval beyond the free vacancies
    breaks the replay naming the rule."""
    from pools.commands import Batch
    from pools.events import UsePlanApproved, ledger_key
    from pools.state import InvariantBroken

    ledger = make_ledger()
    state = ledger.state()
    batch = Batch(state, ledger_key(), fixed_clock().isoformat(), DAY0, "forger")
    with pytest.raises(InvariantBroken) as broken:
        batch.emit(UsePlanApproved("UP9", "A4", 6, "公开招聘", "x", "2026-12-31"))
    assert broken.value.rule == "useplan.free_vacancies"


def test_keyed_return_and_evaluation_retries(make_ledger: Make) -> None:
    """`loan return` and `loan evaluate` take --key: an exact retry answers with the first
    write even after the ledger moved on; a differing one is refused naming the fields."""
    ledger = make_ledger()
    loan = ledger.open_loan(
        pool="institutional", unit_id="I1", count=2, purpose="高层次人才", actor="王芳",
        term_years=1,
    )["loan_id"]  # fmt: skip
    first = ledger.return_loan(loan, count=1, actor="王芳", key="R-1", effective=date(2026, 2, 1))
    ledger.sync(changed(city(), A4=4), actor="王芳", effective=date(2026, 3, 1))
    again = ledger.return_loan(loan, count=1, actor="王芳", key="R-1", effective=date(2026, 2, 1))
    assert again["replayed"] and not first["replayed"]
    assert again["returns"] == first["returns"]
    assert ledger.state().loans[loan].outstanding == 1  # returned once, not twice
    with pytest.raises(RuleViolation) as refused:
        ledger.return_loan(loan, count=2, actor="王芳", key="R-1", effective=date(2026, 3, 2))
    assert refused.value.rule == "return.key_conflict"
    assert "differs in count, effective" in refused.value.message_en
    with pytest.raises(RuleViolation) as other:
        ledger.evaluate_loan(loan, score=70, decision="extend", actor="王芳", key="R-1")
    assert other.value.rule == "evaluate.key_conflict"
    day = date(2027, 1, 6)
    kw: dict = {"score": 80, "decision": "extend", "new_end": date(2028, 1, 6), "actor": "王芳"}
    ledger.evaluate_loan(loan, key="E-1", effective=day, **kw)
    ledger.sync(changed(city(), A4=4), actor="王芳", effective=date(2027, 2, 1))
    assert ledger.evaluate_loan(loan, key="E-1", effective=day, **kw)["replayed"]
    with pytest.raises(RuleViolation) as differing:
        ledger.evaluate_loan(loan, key="E-1", effective=day, **(kw | {"score": 90}))
    assert differing.value.rule == "evaluate.key_conflict" and "score" in differing.value.message_en
    assert len([e for e in ledger.events() if e["kind"] == "loan_evaluated"]) == 1
    assert ledger.verify()["ok"]


def test_init_takes_the_problem_settings_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", f"sqlite:///{tmp_path}/b.db"]
    units = str(Path(__file__).resolve().parents[2] / "data" / "units" / "units-2026-10.csv")
    status, _ = run_json(
        capsys, "ledger", "init", *db, "--units", units, "--actor", "王芳", "--date",
        "2026-10-08", "--demo", "--problem-kinds", "超编进人，其他", "--problems-warn-only",
    )  # fmt: skip
    assert status == 0
    status, _ = run_json(
        capsys, "problem", "open", *db, "--unit", "S115", "--kind", "其他", "--deadline",
        "2026-12-31", "--actor", "王芳", "--date", "2026-10-09",
    )  # fmt: skip
    status, plan = run_json(
        capsys, "useplan", "approve", *db, "--unit", "S115", "--count", "1", "--channel",
        "other", "--purpose", "x", "--actor", "王芳", "--date", "2026-10-10",
    )  # fmt: skip
    assert status == 0 and [w["rule"] for w in plan["warnings"]] == ["problem.open_blocks"]
    status, refused = run_json(
        capsys, "problem", "open", *db, "--unit", "S115", "--kind", "混编混岗", "--deadline",
        "2026-12-31", "--actor", "王芳", "--date", "2026-10-10",
    )  # fmt: skip
    assert status == 1 and refused["error"]["rule"] == "problem.kind"


def test_replay_refuses_a_loan_to_a_unit_with_an_open_problem(make_ledger: Make) -> None:
    """The fold checks `problem.open_blocks` on every loan event too (when it refuses)."""
    from pools.commands import Batch
    from pools.events import LoanOpened, ledger_key
    from pools.state import InvariantBroken

    ledger = make_ledger()
    open_manual(ledger, "A1")
    batch = Batch(ledger.state(), ledger_key(), fixed_clock().isoformat(), DAY0, "forger")
    with pytest.raises(InvariantBroken) as broken:
        batch.emit(LoanOpened("L9", "admin", "A1", 1, "引进生", None))
    assert broken.value.rule == "problem.open_blocks"


def test_a_unit_leaving_the_ledger_takes_its_open_plans_with_it(make_ledger: Make) -> None:
    ledger = make_ledger()
    plan = approve(ledger, "A4", 2)["plan_id"]
    gone = [u for u in city() if u.unit_id != "A4"]
    ledger.sync(gone, actor="王芳", reason="机构撤并", effective=date(2026, 2, 1))
    withdrawn = ledger.useplans()["plans"][0]
    assert (withdrawn["plan_id"], withdrawn["status"], withdrawn["withdrawn"]) == (
        plan, "withdrawn", 2,
    )  # fmt: skip
    assert ledger.verify()["ok"]


def test_a_unit_leaving_the_ledger_closes_its_open_problems_first(make_ledger: Make) -> None:
    """Its problems, by hand or automatic, are closed with a reason saying it left, before it
    is removed: nothing is left to rectify for a unit that is gone."""
    ledger = make_ledger()
    plan = approve(ledger, "A4", 2)["plan_id"]
    by_hand = open_manual(ledger, "A4")
    cut = ledger.sync(changed(city(), A4=(4, 5)), actor="王芳", effective=date(2026, 2, 1))
    automatic = cut["problems_opened"][0]["problem_id"]  # A4 over quota
    gone = [u for u in city() if u.unit_id != "A4"]
    synced = ledger.sync(gone, actor="王芳", reason="机构撤并", effective=date(2026, 3, 1))
    assert synced["problems_closed"] == [by_hand, automatic]
    closed = {p["problem_id"]: p for p in ledger.problems(unit_id="A4")}
    assert {pid: p["status"] for pid, p in closed.items()} == {
        automatic: "closed", by_hand: "closed",
    }  # fmt: skip
    last = ledger.events()[-4:]
    assert [e["kind"] for e in last] == [
        "problem_closed", "problem_closed", "useplan_withdrawn", "unit_removed",
    ]  # fmt: skip
    assert last[0]["reason"] == (
        "unit A4 left the ledger with the snapshot of 2026-03-01 "
        "(单位 A4 随 2026-03-01 快照移出台账); 机构撤并"
    )
    assert last[2]["reason"] == "机构撤并"  # the plan is withdrawn with the sync's reason
    assert ledger.useplans()["plans"][0]["plan_id"] == plan
    assert ledger.useplans()["plans"][0]["status"] == "withdrawn"
    assert ledger.verify()["ok"]


# ---- hires recorded by hand (SPEC 2.7) -------------------------------------------------------


def test_a_hire_recorded_by_hand_posts_against_plans_and_flags_the_rest(make_ledger: Make) -> None:
    ledger = make_ledger()
    plan = approve(ledger, "A3", 2)["plan"]["plan_id"]
    done = ledger.record_hire("A3", 3, actor="王芳", effective=date(2026, 1, 10))
    assert done["posted"] == [{"plan_id": plan, "unit_id": "A3", "count": 2}]
    assert done["unplanned"] == [{"unit_id": "A3", "count": 1}]
    assert [a["kind"] for a in done["alerts"]] == ["unplanned_hire"]
    assert [p["kind"] for p in done["problems_opened"]] == ["无计划进人"]
    status = ledger.status()
    assert next(u for u in status["units"] if u["unit_id"] == "A3")["headcount"] == 23
    assert ledger.useplans(unit_id="A3")["plans"][0]["status"] == "used"
    assert ledger.verify()["ok"]


def test_a_hire_by_hand_beyond_the_own_vacancies_is_refused(make_ledger: Make) -> None:
    ledger = make_ledger()
    before = len(ledger.events())
    for unit_id, count, rule in (
        ("A4", 6, "hire.no_vacancy"),
        ("X1", 1, "hire.no_vacancy"),
        ("A3", 0, "hire.count"),
        ("ZZ", 1, "useplan.unknown_unit"),
    ):
        with pytest.raises(RuleViolation) as refused:
            ledger.record_hire(unit_id, count, actor="王芳")
        assert refused.value.rule == rule, unit_id
    assert len(ledger.events()) == before


def test_useplan_hire_on_the_command_line(
    make_ledger: Make, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    make_ledger().close()
    status, done = run_json(
        capsys, "useplan", "hire", "--db", sqlite_url, "--unit", "A4", "--count", "1",
        "--actor", "王芳", "--date", "2026-01-06",
    )  # fmt: skip
    assert status == 0 and done["unplanned"] == [{"unit_id": "A4", "count": 1}]


def test_the_fold_refuses_an_event_that_reuses_a_key_of_another_command(make_ledger: Make) -> None:
    """One key, one request: a forged loan under a plan's key breaks the fold (the command
    refuses it earlier, `loan.key_conflict`), so `audit verify` would catch it too."""
    from pools.events import LoanOpened
    from pools.state import InvariantBroken

    ledger = make_ledger()
    approve(ledger, "A3", 1, key="K-1")
    count = len(ledger.events())
    forged = LoanOpened("L999999", "admin", "A1", 1, "引进生", None)
    with pytest.raises(InvariantBroken) as broken:
        ledger._write(None, "x", "", "", lambda batch: batch.emit(forged, idem_key="K-1"))
    assert broken.value.rule == "idempotency.key_reused"
    assert len(ledger.events()) == count and ledger.verify()["ok"]
