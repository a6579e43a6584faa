"""应用到台账 on the what-if page (SPEC 2.9): an approver reviews the plan on screen (the
consequence, or the refusal in plain words) and confirms it into the ledger; planners and
viewers get no such action. The city of fixtures/city.toml: A 80 → 90, B 70 → 60, C 60,
total 210 (see test_app_pages.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pools.ledger import Ledger

from ..pools.teacher_plan_files import write_plan_dir
from .test_app_pages import FIXTURES, button, environment, rerun, signed_in, start  # noqa: F401

REVIEW, CONFIRM = "预览应用结果", "确认应用到台账"


def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def review(at, document: str = "市编办〔2026〕12号"):  # type: ignore[no-untyped-def]
    at.text_input(key="teacher_apply_document").set_value(document)
    button(at, REVIEW).click()
    return rerun(at)


def test_an_approver_reviews_then_applies_the_plan_on_screen(tmp_path: Path) -> None:
    at = review(start("whatif"))
    info = [i.value for i in at.info if "全市教职工编制" in i.value]
    assert info == [
        f"将应用方案 {info[0].split('方案 ')[1][:12]}：2 个区县编制变动，全市教职工编制 "
        "210 → 210（新增 0）。"
    ]
    assert any("登记 3 个区县" in c.value for c in at.caption)
    table = next(d.value for d in at.dataframe if "增减" in d.value.columns)
    assert table.to_dict("list") == {
        "区县": ["A 甲县", "B 乙县"],
        "现有编制": [80, 70],
        "调整后编制": [90, 60],
        "增减": [10, -10],
    }
    with Ledger.open(url(tmp_path)) as ledger:
        assert ledger.teacher()["counties"] == []  # a review writes nothing
    button(at, CONFIRM).click()
    at = rerun(at)
    assert any("已应用到台账" in s.value for s in at.success)
    with Ledger.open(url(tmp_path)) as ledger:
        quotas = {c["county_id"]: c["quota"] for c in ledger.teacher()["counties"]}
        events = ledger.events()
    assert quotas == {"A": 90, "B": 60, "C": 60}
    assert events[-1]["kind"] == "teacher_plan_completed"
    assert (events[-1]["actor"], events[-1]["document"]) == ("demo", "市编办〔2026〕12号")
    # the same plan again: refused in plain words before anything is written
    at = review(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "teacher.plan_already_applied" in errors[0]
    assert "已经应用过" in errors[0]
    assert not [b for b in at.button if b.label == CONFIRM]


def test_a_stale_plan_is_refused_naming_the_counties(tmp_path: Path) -> None:
    Ledger.create(url(tmp_path), FIXTURES / "units.csv", actor="setup").close()
    with Ledger.open(url(tmp_path)) as ledger:
        moved = write_plan_dir(tmp_path / "earlier", [("A", 80, 81), ("B", 70, 69), ("C", 60, 60)])
        ledger.apply_teacher_plan(moved, actor="setup", document="D0")
    at = review(start("whatif"))
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "teacher.stale_plan" in errors[0]
    assert "A：台账 81，方案 80" in errors[0] and "B：台账 69，方案 70" in errors[0]
    assert not [b for b in at.button if b.label == CONFIRM]


def test_a_review_needs_the_document_number(tmp_path: Path) -> None:
    at = review(start("whatif"), document=" ")
    assert any("请填写文号" in w.value for w in at.warning)
    assert not [b for b in at.button if b.label == CONFIRM]


@pytest.mark.parametrize("name", ["zhao", "li"])
def test_only_approvers_may_apply(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = signed_in("whatif", name, tmp_path, monkeypatch)
    assert not [b for b in at.button if b.label == REVIEW]
