"""Teacher plans executed in the ledger (SPEC 2.9): each rule refused by the command, broken
in the fold, reported by verify; the group atomic; --as-of before and after; keyed retries."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from pools.commands import Batch, apply_teacher_plan
from pools.events import TeacherPlanCompleted
from pools.input_errors import InputErrors
from pools.ledger import Ledger
from pools.rules import RuleViolation
from pools.state import InvariantBroken, State, fold
from pools.teacher_book import TeacherBook
from pools.teacher_plans import read_plan
from pools.verify import teacher_groups

from .conftest import DAY0, city, fixed_clock
from .teacher_plan_files import write_plan_dir

START = [("T1", 100, 90), ("T2", 50, 58), ("T3", 30, 32)]  # 180 → 180
SECOND = [("T1", 90, 85), ("T2", 58, 63), ("T3", 32, 32)]  # from START's new


@pytest.fixture
def ledger(any_url: str) -> Ledger:
    made = Ledger.create(any_url, city(), actor="tester", effective=DAY0, clock=fixed_clock)
    yield made
    made.close()


def apply(ledger: Ledger, plan: Path, day: date = date(2026, 2, 1), **kwargs: object) -> dict:
    kwargs.setdefault("document", "市编办〔2026〕7号")
    return ledger.apply_teacher_plan(plan, actor="王芳", effective=day, **kwargs)  # type: ignore[arg-type]


def quotas(ledger: Ledger, as_of: date | None = None) -> dict[str, int]:
    return {c["county_id"]: c["quota"] for c in ledger.teacher(as_of)["counties"]}


def test_first_plan_registers_counties_and_applies_once(ledger: Ledger, tmp_path: Path) -> None:
    plan = write_plan_dir(tmp_path / "p1", START)
    head = ledger.status()["head"]["seq"]
    result = apply(ledger, plan)
    assert not result["replayed"]
    assert [(c["county_id"], c["before"], c["after"]) for c in result["counties"]] == [
        ("T1", 100, 90), ("T2", 50, 58), ("T3", 30, 32),
    ]  # fmt: skip
    # 3 registrations, started, 1 release, 2 allocations, completed
    assert result["events"] == 8 and ledger.status()["head"]["seq"] == head + 8
    kinds = [e["kind"] for e in ledger.events()[head:]]
    assert kinds == [
        "teacher_county_registered", "teacher_county_registered", "teacher_county_registered",
        "teacher_plan_started", "teacher_quota_released", "teacher_quota_allocated",
        "teacher_quota_allocated", "teacher_plan_completed",
    ]  # fmt: skip
    group = ledger.events()[head + 3 :]
    assert {e["document"] for e in group} == {"市编办〔2026〕7号"}
    assert {e["actor"] for e in group} == {"王芳"}
    plan_id = read_plan(plan).plan_id
    assert all(e["payload"]["plan_id"] == plan_id for e in group)
    assert quotas(ledger) == {"T1": 90, "T2": 58, "T3": 32}
    with pytest.raises(RuleViolation) as refused:
        apply(ledger, plan, date(2026, 3, 1))
    assert refused.value.rule == "teacher.plan_already_applied"
    assert ledger.status()["head"]["seq"] == head + 8  # nothing written
    assert ledger.verify()["ok"]


def test_stale_plan_refused_naming_counties_and_figures(ledger: Ledger, tmp_path: Path) -> None:
    apply(ledger, write_plan_dir(tmp_path / "p1", START))
    head = ledger.status()["head"]["seq"]
    stale = write_plan_dir(tmp_path / "stale", [("T1", 100, 95), ("T2", 50, 55), ("T3", 32, 32)])
    with pytest.raises(RuleViolation) as refused:
        apply(ledger, stale, date(2026, 3, 1))
    assert refused.value.rule == "teacher.stale_plan"
    assert "T1: ledger 90, plan 100" in refused.value.message_en
    assert "T2: ledger 58, plan 50" in refused.value.message_en
    assert "T3" not in refused.value.message_en  # it matches
    assert "T1：台账 90，方案 100" in refused.value.message_zh
    # a county the plan lacks, or one the ledger lacks, is stale too
    missing = write_plan_dir(tmp_path / "missing", [("T1", 90, 90), ("T2", 58, 58)])
    with pytest.raises(RuleViolation, match="T3: ledger 32, plan absent"):
        apply(ledger, missing, date(2026, 3, 1))
    assert ledger.status()["head"]["seq"] == head
    assert quotas(ledger) == {"T1": 90, "T2": 58, "T3": 32}
    # the plan computed from the ledger's figures goes through
    apply(ledger, write_plan_dir(tmp_path / "p2", SECOND), date(2026, 3, 1))
    assert quotas(ledger) == {"T1": 85, "T2": 63, "T3": 32}


def test_total_changes_only_by_extra_quota(ledger: Ledger, tmp_path: Path) -> None:
    apply(ledger, write_plan_dir(tmp_path / "p1", START))
    assert ledger.teacher()["total"] == 180  # conserved
    extra = write_plan_dir(tmp_path / "extra", [("T1", 90, 90), ("T2", 58, 61), ("T3", 32, 34)],
                           extra=5)  # fmt: skip
    result = apply(ledger, extra, date(2026, 3, 1))
    assert (result["total_before"], result["total_after"], result["extra_quota"]) == (180, 185, 5)
    assert ledger.teacher()["total"] == 185
    head = ledger.status()["head"]["seq"]
    # a plan whose figures change the total by other than its extra_quota is refused
    bent = write_plan_dir(tmp_path / "bent", [("T1", 90, 91), ("T2", 61, 61), ("T3", 34, 34)])
    with pytest.raises(RuleViolation) as refused:
        apply(ledger, bent, date(2026, 4, 1))
    assert refused.value.rule == "teacher.total_changed"
    assert "from 185 to 186" in refused.value.message_en
    assert ledger.status()["head"]["seq"] == head


def test_plan_not_optimal_refused(ledger: Ledger, tmp_path: Path) -> None:
    plan = write_plan_dir(tmp_path / "inf", START, status="infeasible")
    (plan / "plan.csv").unlink()  # an infeasible scenario writes summary.json only
    with pytest.raises(RuleViolation) as refused:
        apply(ledger, plan)
    assert refused.value.rule == "teacher.plan_not_optimal"
    assert ledger.teacher()["counties"] == []


def test_a_failure_mid_group_writes_nothing(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = ledger.status()["head"]["seq"]
    calls = []
    real = TeacherBook.on_allocated

    def second_fails(self: TeacherBook, p: object) -> object:
        calls.append(p)
        if len(calls) == 2:
            raise RuntimeError("disk full, say")
        return real(self, p)  # type: ignore[arg-type]

    monkeypatch.setattr(TeacherBook, "on_allocated", second_fails)
    with pytest.raises(RuntimeError):
        apply(ledger, write_plan_dir(tmp_path / "p1", START))
    monkeypatch.undo()
    assert len(calls) == 2  # it failed inside the group, after registrations and a release
    assert ledger.status()["head"]["seq"] == head
    assert ledger.teacher()["counties"] == []
    reopened = Ledger.open(ledger.url)
    assert reopened.teacher()["counties"] == [] and reopened.verify()["ok"]
    reopened.close()


def test_as_of_before_and_after(ledger: Ledger, tmp_path: Path) -> None:
    apply(ledger, write_plan_dir(tmp_path / "p1", START), date(2026, 2, 1))
    apply(ledger, write_plan_dir(tmp_path / "p2", SECOND), date(2026, 3, 1))
    assert quotas(ledger, date(2026, 1, 31)) == {}
    assert quotas(ledger, date(2026, 2, 1)) == {"T1": 90, "T2": 58, "T3": 32}
    assert quotas(ledger, date(2026, 2, 28)) == {"T1": 90, "T2": 58, "T3": 32}
    assert quotas(ledger, date(2026, 3, 1)) == {"T1": 85, "T2": 63, "T3": 32}
    status = ledger.status(as_of=date(2026, 2, 15))["teacher"]
    assert status["total"] == 180 and len(status["applications"]) == 1
    assert {c["last_applied"] for c in status["counties"]} == {"2026-02-01"}
    current = ledger.status()["teacher"]
    assert [a["effective"] for a in current["applications"]] == ["2026-02-01", "2026-03-01"]


def test_keyed_retry_answers_with_the_application(ledger: Ledger, tmp_path: Path) -> None:
    plan = write_plan_dir(tmp_path / "p1", START)
    first = apply(ledger, plan, key="K1")
    head = ledger.status()["head"]["seq"]
    again = apply(ledger, plan, key=" K1 ")  # trimmed: the same key
    assert again["replayed"] and again["seq"] == first["seq"] and again["events"] == 0
    assert again["counties"] == first["counties"]
    assert ledger.status()["head"]["seq"] == head
    with pytest.raises(RuleViolation) as refused:
        apply(ledger, plan, key="K1", document="另一文号")
    assert refused.value.rule == "teacher.key_conflict"
    assert "document" in refused.value.message_en and "plan," not in refused.value.message_en
    other = write_plan_dir(tmp_path / "p2", SECOND)
    with pytest.raises(RuleViolation, match=r"differs in plan") as refused:
        apply(ledger, other, key="K1")
    assert refused.value.rule == "teacher.key_conflict"
    assert ledger.status()["head"]["seq"] == head


def test_multi_year_plan_applies_one_year_at_a_time(ledger: Ledger, tmp_path: Path) -> None:
    plan = write_plan_dir(tmp_path / "multi", START, years=[2027, 2028], later=[SECOND], extra=0)
    first = apply(ledger, plan)  # default: the first year
    assert first["year"] == 2027 and quotas(ledger) == {"T1": 90, "T2": 58, "T3": 32}
    second = apply(ledger, plan, date(2026, 3, 1), year=2028)
    assert second["year"] == 2028 and quotas(ledger) == {"T1": 85, "T2": 63, "T3": 32}
    with pytest.raises(RuleViolation, match=r"teacher\.plan_already_applied"):
        apply(ledger, plan, date(2026, 4, 1), year=2028)
    with pytest.raises(InputErrors, match="no year 2030"):
        apply(ledger, plan, date(2026, 4, 1), year=2030)


def test_bad_plan_directories_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputErrors, match="not a plan directory"):
        read_plan(tmp_path / "nowhere")
    plan = write_plan_dir(tmp_path / "p", START)
    (plan / "summary.json").unlink()
    with pytest.raises(InputErrors, match=r"summary\.json: is missing"):
        read_plan(plan)
    plan = write_plan_dir(tmp_path / "q", START)
    text = (plan / "plan.csv").read_text(encoding="utf-8-sig").replace("current", "currant")
    (plan / "plan.csv").write_text(text, encoding="utf-8")
    with pytest.raises(InputErrors, match=r"plan\.csv.*lacks the column\(s\) \['current'\]"):
        read_plan(plan)
    plan = write_plan_dir(tmp_path / "r", [("T1", 100, 90), ("T1", 50, 60), ("T3", 30, -1)])
    with pytest.raises(InputErrors) as bad:
        read_plan(plan)
    found = {(e.row, e.column) for e in bad.value.errors}
    assert found == {(3, "county_id"), (4, "new")}
    assert all(e.file.endswith("plan.csv") for e in bad.value.errors)
    plan = write_plan_dir(tmp_path / "s", START)
    (plan / "summary.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputErrors, match=r"summary\.json: is not JSON"):
        read_plan(plan)


def test_plan_id_and_scenario_hash(tmp_path: Path) -> None:
    one = read_plan(write_plan_dir(tmp_path / "a", START))
    same = read_plan(write_plan_dir(tmp_path / "b", START))
    assert one.scenario_hash != same.scenario_hash  # the scenario records differ (name)
    assert one.plan_id != same.plan_id
    again = read_plan(tmp_path / "a")
    assert again.plan_id == one.plan_id and len(one.plan_id) == 64
    recomputed = read_plan(write_plan_dir(tmp_path / "a", START, seconds=0.02))
    assert recomputed.plan_id != one.plan_id  # a plan computed again is another plan
    summary = json.loads((tmp_path / "a" / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"]["policy"]["extra_quota"] == 0


# ---- the fold and verify: the same rules on events that bypassed the command ----------


def _batch(state: State, day: date = date(2026, 2, 1)) -> Batch:
    return Batch(state, b"k", "2026-02-01T00:00:00+00:00", day, "tester", "", "文号")


def _ledger_events(tmp_path: Path) -> tuple[list, State]:
    from pools.commands import init_ledger
    from pools.rules import Settings

    state = State()
    batch = Batch(state, b"k", "2026-01-05T00:00:00+00:00", DAY0, "tester")
    init_ledger(batch, Settings(), city())
    events = list(batch.events)
    batch = _batch(state)
    apply_teacher_plan(batch, read_plan(write_plan_dir(tmp_path / "p1", START)))
    return events + batch.events, state


def test_fold_breaks_on_a_stale_or_repeated_group(tmp_path: Path) -> None:
    events, state = _ledger_events(tmp_path)
    plan = read_plan(write_plan_dir(tmp_path / "stale", START, seconds=0.5))
    from pools import commands

    # emit a stale group by skipping the command's check: the fold refuses it
    original = commands.plan_not_stale
    commands.plan_not_stale = lambda *a: None  # type: ignore[assignment]
    try:
        with pytest.raises(InvariantBroken) as broken:
            apply_teacher_plan(_batch(state), plan)
    finally:
        commands.plan_not_stale = original
    assert broken.value.rule == "teacher.stale_plan"
    again = fold(events)
    commands.plan_not_applied = lambda *a: None  # type: ignore[assignment]
    commands.plan_not_stale = lambda *a: None  # type: ignore[assignment]
    try:
        with pytest.raises(InvariantBroken) as broken:
            apply_teacher_plan(_batch(again), read_plan(tmp_path / "p1"))
    finally:
        from pools.rules import teacher_quota

        commands.plan_not_applied = teacher_quota.plan_not_applied
        commands.plan_not_stale = original
    assert broken.value.rule == "teacher.plan_already_applied"


def test_fold_breaks_on_a_total_that_changed(tmp_path: Path) -> None:
    events, _ = _ledger_events(tmp_path)
    completed = events[-1]
    assert isinstance(completed.payload, TeacherPlanCompleted)
    state = fold(events[:-1])
    assert teacher_groups(state)[0].rule == "teacher.group_incomplete"  # verify's end pass
    forged = completed._replace(payload=TeacherPlanCompleted(completed.payload.plan_id, 180, 181))
    with pytest.raises(InvariantBroken) as broken:
        state.apply(forged)
    assert broken.value.rule == "teacher.total_changed"
    with pytest.raises(InvariantBroken, match="interrupted"):
        intruder = events[4]._replace(seq=len(events), effective=completed.effective)
        fold(events[:-1]).apply(intruder)  # a unit event inside the group


def test_concurrent_applications_of_one_plan_write_it_once(any_url: str, tmp_path: Path) -> None:
    """Eight writers, each with its own Ledger (as separate processes would be), apply the
    same plan at once: the write lock serialises them, one applies it, seven are refused."""
    from concurrent.futures import ThreadPoolExecutor

    Ledger.create(any_url, city(), actor="tester", effective=DAY0, clock=fixed_clock).close()
    plan = write_plan_dir(tmp_path / "p1", START)

    def one(n: int) -> str:
        with Ledger.open(any_url, clock=fixed_clock) as writer:
            try:
                apply(writer, plan, document=f"D{n}")
            except RuleViolation as refused:
                return refused.rule
            return "applied"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(one, range(8)))
    assert outcomes == ["applied"] + ["teacher.plan_already_applied"] * 7
    with Ledger.open(any_url) as ledger:
        assert quotas(ledger) == {"T1": 90, "T2": 58, "T3": 32}
        assert [e["kind"] for e in ledger.events()].count("teacher_plan_completed") == 1
        assert ledger.verify()["ok"]
