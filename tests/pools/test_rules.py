"""Each rule of SPEC 2.1–2.4 on its own, on the small city of `conftest.city()`.

Every refusal is checked twice: the rule it names, and that nothing was written (the ledger
head did not move).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from pools.ledger import Ledger
from pools.rules import RuleViolation, Settings

from .conftest import DAY0, changed, city, unit

D1 = date(2026, 2, 1)
D2 = date(2026, 3, 1)

MakeLedger = Callable[..., Ledger]


def units_of(ledger: Ledger) -> dict[str, dict]:
    return {u["unit_id"]: u for u in ledger.status()["units"]}


def refused(ledger: Ledger, rule: str, action: Callable[[], object]) -> RuleViolation:
    """Run `action`, expect a refusal naming `rule`, and check that nothing was written."""
    head = ledger.status()["head"]
    with pytest.raises(RuleViolation) as caught:
        action()
    assert caught.value.rule == rule, caught.value
    assert caught.value.message_en and caught.value.message_zh
    assert ledger.status()["head"] == head
    assert ledger.verify()["ok"]
    return caught.value


def admin_loan(ledger: Ledger, unit_id: str, count: int = 1, **kw: object) -> dict:
    args = {"purpose": "引进生", "actor": "王芳", "effective": D1} | kw
    return ledger.open_loan(pool="admin", unit_id=unit_id, count=count, **args)  # type: ignore[arg-type]


def inst_loan(ledger: Ledger, unit_id: str, count: int = 1, **kw: object) -> dict:
    args = {"purpose": "高层次人才", "actor": "李强", "effective": D1} | kw
    return ledger.open_loan(pool="institutional", unit_id=unit_id, count=count, **args)  # type: ignore[arg-type]


# ---- 2.1 units and quota accounting ----------------------------------------------------


def test_vacancies_are_approved_minus_headcount(make_ledger: MakeLedger) -> None:
    """A3 30/20 → 10 vacancies; A1 10/10 → 0; X1 10/12 → 0 vacancies and over quota."""
    units = units_of(make_ledger())
    assert (units["A3"]["vacancies"], units["A1"]["vacancies"], units["X1"]["vacancies"]) == (
        10,
        0,
        0,
    )
    assert units["X1"]["over_quota"] and not units["A1"]["over_quota"]


def test_usable_quota_is_approved_plus_borrowed_minus_lent(make_ledger: MakeLedger) -> None:
    """I2 (40/30) lends 4 to I1 (50/50): I2 usable 40 − 4 = 36, I1 usable 50 + 4 = 54;
    approved quotas stay 40 and 50 (ownership stays with the lender)."""
    ledger = make_ledger()
    ledger.open_loan(
        pool="unit:I2", unit_id="I1", count=4, purpose="重点项目", actor="李强", effective=D1
    )
    units = units_of(ledger)
    assert (units["I2"]["usable"], units["I2"]["approved"], units["I2"]["lent"]) == (36, 40, 4)
    assert (units["I1"]["usable"], units["I1"]["approved"], units["I1"]["borrowed"]) == (54, 50, 4)
    assert units["I2"]["vacancies"] == 6  # 40 − 4 lent − 30 in post


def test_over_quota_unit_is_flagged_and_may_not_borrow(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    alerts = ledger.status()["alerts"]
    assert [a["unit_id"] for a in alerts if a["kind"] == "over_quota"] == ["X1"]
    refused(ledger, "unit.over_quota", lambda: admin_loan(ledger, "X1"))


def test_over_quota_snapshot_is_recorded_and_flagged(make_ledger: MakeLedger) -> None:
    """A snapshot is a fact: X1 growing from 12 to 13 is recorded, and X1 stays flagged."""
    ledger = make_ledger()
    ledger.sync(changed(city(), X1=13), actor="王芳", effective=D1)
    assert units_of(ledger)["X1"]["headcount"] == 13
    assert any(
        a["kind"] == "over_quota" and a["unit_id"] == "X1" for a in ledger.status()["alerts"]
    )


# ---- 2.2 administrative turnover pool ---------------------------------------------------


def test_admin_capacity_is_a_fifth_of_municipal_admin_vacancies(make_ledger: MakeLedger) -> None:
    """Vacancies 10 (A3) + 5 (A4) = 15 → floor(0.2 × 15) = 3. County and institutional units'
    vacancies (I2's 10) do not count."""
    pools = make_ledger().status()["pools"]
    assert pools["admin"] == pools["admin"] | {"capacity": 3, "lent": 0, "available": 3}


def test_admin_share_is_a_setting(make_ledger: MakeLedger) -> None:
    """share 0.5: floor(0.5 × 15) = 7."""
    ledger = make_ledger(settings=Settings(admin_share=0.5))
    assert ledger.status()["pools"]["admin"]["capacity"] == 7


def test_admin_capacity_recomputed_at_every_headcount_update(make_ledger: MakeLedger) -> None:
    """A3 hires 5 (vacancies 5 + 5 = 10 → capacity 2); then A3 loses 10 (vacancies 15 + 5 = 20
    → capacity 4)."""
    ledger = make_ledger()
    ledger.sync(changed(city(), A3=25), actor="王芳", effective=D1)
    assert ledger.status()["pools"]["admin"]["capacity"] == 2
    ledger.sync(changed(city(), A3=15), actor="王芳", effective=D2)
    assert ledger.status()["pools"]["admin"]["capacity"] == 4


def test_capacity_below_lent_recalls_nothing_but_blocks_new_loans(make_ledger: MakeLedger) -> None:
    """Lend all 3, then A3 hires 10 (vacancies 5 → capacity 1): lent stays 3, available
    1 − 3 = −2, an alert, and a new loan is refused."""
    ledger = make_ledger()
    admin_loan(ledger, "A1", 2)
    admin_loan(ledger, "A2", 1)
    ledger.sync(changed(city(), A3=30), actor="王芳", effective=D2)
    status = ledger.status()
    assert status["pools"]["admin"] | {} == status["pools"]["admin"] | {
        "capacity": 1,
        "lent": 3,
        "available": -2,
    }
    assert len([loan for loan in status["loans"] if loan["pool"] == "admin"]) == 2
    assert any(a["kind"] == "pool_below_lent" for a in status["alerts"])
    refused(ledger, "pool.capacity", lambda: admin_loan(ledger, "A2", 1, effective=D2))


def test_admin_pool_never_lends_beyond_capacity(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    admin_loan(ledger, "A1", 2)
    refused(ledger, "pool.capacity", lambda: admin_loan(ledger, "A2", 2))
    admin_loan(ledger, "A2", 1)  # exactly the last one fits


def test_admin_pool_lends_nothing_while_organs_over_quota_as_a_whole(
    make_ledger: MakeLedger,
) -> None:
    """A4 loses everyone (10 vacancies) and X1 grows to 31: 10+20+20+0+31 = 81 people on
    80 quotas, so the organs as a whole are over quota and the pool is suspended (capacity 0),
    although floor(0.2 × (10 + 10)) would be 4."""
    ledger = make_ledger()
    ledger.sync(changed(city(), A4=0, X1=31), actor="王芳", effective=D1)
    status = ledger.status()
    assert status["pools"]["admin"]["suspended"] is True
    assert status["pools"]["admin"]["capacity"] == 0
    assert any(a["kind"] == "pool_suspended" for a in status["alerts"])
    refused(ledger, "admin.pool_suspended", lambda: admin_loan(ledger, "A1"))


@pytest.mark.parametrize("borrower", ["C1", "I1"])
def test_admin_pool_lends_only_to_municipal_administrative_organs(
    make_ledger: MakeLedger, borrower: str
) -> None:
    ledger = make_ledger()
    refused(ledger, "admin.borrower_not_eligible", lambda: admin_loan(ledger, borrower))


def test_admin_pool_lends_only_to_organs_without_own_vacancy(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    refused(ledger, "loan.borrower_has_vacancy", lambda: admin_loan(ledger, "A3"))


def test_admin_pool_lends_only_for_approved_purposes(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    refused(ledger, "admin.purpose", lambda: admin_loan(ledger, "A1", purpose="普通招录"))
    admin_loan(ledger, "A1", purpose="博士选调生")


def test_pool_quotas_are_a_special_account(make_ledger: MakeLedger) -> None:
    """A1 borrows 2: its approved (10) and own headcount (10) are unchanged, pool_headcount 2;
    the city's approved total (200) is unchanged; people in post rise by 2."""
    ledger = make_ledger()
    before = units_of(ledger)
    admin_loan(ledger, "A1", 2)
    after = units_of(ledger)
    assert (after["A1"]["approved"], after["A1"]["headcount"]) == (10, 10)
    assert after["A1"]["pool_headcount"] == 2
    assert sum(u["approved"] for u in after.values()) == sum(u["approved"] for u in before.values())
    in_post = lambda units: sum(u["headcount"] + u["pool_headcount"] for u in units.values())  # noqa: E731
    assert in_post(after) == in_post(before) + 2
    totals = ledger.status()["totals"]
    assert (totals["approved"], totals["pool_headcount"]) == (200, 2)
    assert totals["in_post"] == totals["headcount"] + 2  # nobody else borrowed


def test_return_one_when_one_is_vacated(make_ledger: MakeLedger) -> None:
    """A1 borrows 2. One leaves (10 → 9): one quota returns, the person moves onto own quota
    (headcount back to 10, pool_headcount 1). Then A1's approved grows 10 → 11: the second
    returns too. One loan_returned event per quota, each naming the loan."""
    ledger = make_ledger()
    loan_id = admin_loan(ledger, "A1", 2)["loan_id"]
    result = ledger.sync(changed(city(), A1=9), actor="王芳", effective=D2)
    assert result["returns"] == [{"loan_id": loan_id, "unit_id": "A1", "pool": "admin"}]
    a1 = units_of(ledger)["A1"]
    assert (a1["headcount"], a1["pool_headcount"], a1["vacancies"]) == (10, 1, 0)
    assert ledger.status()["pools"]["admin"]["lent"] == 1
    ledger.sync(changed(city(), A1=(11, 10)), actor="王芳", effective=D2)
    a1 = units_of(ledger)["A1"]
    assert (a1["approved"], a1["headcount"], a1["pool_headcount"]) == (11, 11, 0)
    returns = [e for e in ledger.events(loan_id=loan_id) if e["kind"] == "loan_returned"]
    assert [(e["payload"]["count"], e["payload"]["cause"]) for e in returns] == [
        (1, "vacancy"),
        (1, "vacancy"),
    ]
    assert ledger.loans(unit_id="A1")[0]["status"] == "closed"


def test_return_happens_in_the_same_transaction_as_the_change(make_ledger: MakeLedger) -> None:
    """The return event directly follows the headcount change that caused it."""
    ledger = make_ledger()
    admin_loan(ledger, "A1", 1)
    ledger.sync(changed(city(), A1=9), actor="王芳", effective=D2)
    kinds = [e["kind"] for e in ledger.events(unit_id="A1")][-2:]
    assert kinds == ["unit_updated", "loan_returned"]


# ---- 2.3 institutional turnover pool -----------------------------------------------------


def test_institutional_capacity_is_a_setting_defaulting_to_400(make_ledger: MakeLedger) -> None:
    assert make_ledger().status()["pools"]["institutional"]["capacity"] == 400


def test_institutional_pool_never_lends_beyond_capacity(make_ledger: MakeLedger) -> None:
    ledger = make_ledger(settings=Settings(institutional_capacity=5))
    inst_loan(ledger, "I1", 4)
    refused(ledger, "pool.capacity", lambda: inst_loan(ledger, "I3", 2))
    inst_loan(ledger, "I3", 1)


def test_institutional_pool_lends_only_to_institutional_units(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    refused(ledger, "institutional.borrower_not_eligible", lambda: inst_loan(ledger, "A1"))
    inst_loan(ledger, "I3")  # a county institutional unit is eligible


def test_institutional_pool_purposes(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    refused(ledger, "institutional.purpose", lambda: inst_loan(ledger, "I1", purpose="引进生"))


def test_institutional_loan_term_defaults_to_five_years(make_ledger: MakeLedger) -> None:
    loan = inst_loan(make_ledger(), "I1")["loan"]
    assert (loan["opened"], loan["end"]) == ("2026-02-01", "2031-02-01")


def test_expired_loan_is_flagged_then_evaluated_and_extended(make_ledger: MakeLedger) -> None:
    """A 1-year loan from 2026-02-01 ends 2027-02-01: 90 days before it is 'expiring'; a sync
    on the end date expires it (overdue until evaluated); extend to 2028-02-01 reopens it."""
    ledger = make_ledger()
    loan_id = inst_loan(ledger, "I1", 2, term_years=1)["loan_id"]
    kinds = lambda d: [a["kind"] for a in ledger.status(as_of=d)["alerts"]]  # noqa: E731
    assert "loan_expiring" not in kinds(date(2026, 11, 2))  # 91 days before the end
    assert "loan_expiring" in kinds(date(2026, 11, 3))  # 90 days before
    refused(
        ledger,
        "evaluate.not_expired",
        lambda: ledger.evaluate_loan(
            loan_id, score=80, decision="extend", new_end=date(2028, 2, 1), actor="李强",
            effective=date(2027, 1, 31),
        ),
    )  # fmt: skip
    result = ledger.sync(city(), actor="王芳", effective=date(2027, 2, 1))
    assert result["expired"] == [loan_id]
    assert ledger.loans()[0]["status"] == "expired"
    assert any(a["kind"] == "loan_overdue" for a in result["alerts"])
    ledger.evaluate_loan(
        loan_id, score=85, decision="extend", new_end=date(2028, 2, 1), actor="李强",
        effective=date(2027, 2, 10),
    )  # fmt: skip
    loan = ledger.loans()[0]
    assert (loan["status"], loan["end"], loan["outstanding"]) == ("open", "2028-02-01", 2)
    assert loan["evaluations"][0]["score"] == 85


def test_evaluation_return_sends_quotas_back_to_the_pool(make_ledger: MakeLedger) -> None:
    """Return decision: both quotas go back (lent 0), the two people move onto I1's own quota
    (50 → 52, over its 50: flagged)."""
    ledger = make_ledger()
    loan_id = inst_loan(ledger, "I1", 2, term_years=1)["loan_id"]
    refused(
        ledger,
        "evaluate.score",
        lambda: ledger.evaluate_loan(
            loan_id, score=101, decision="return", actor="x", effective=date(2027, 3, 1)
        ),
    )
    ledger.evaluate_loan(
        loan_id, score=40, decision="return", actor="李强", effective=date(2027, 3, 1)
    )
    status = ledger.status()
    assert status["pools"]["institutional"]["lent"] == 0
    assert ledger.loans()[0]["status"] == "closed"
    i1 = units_of(ledger)["I1"]
    assert (i1["headcount"], i1["pool_headcount"], i1["over_quota"]) == (52, 0, True)


def test_institutional_pool_period_and_rebuild(make_ledger: MakeLedger) -> None:
    """The pool's period (2 years here) ends 2028-01-05: loans are refused until it is rebuilt;
    rebuilding before the end is refused; after it, capacity and a new period are set."""
    ledger = make_ledger(settings=Settings(pool_period_years=2))
    assert ledger.status()["pools"]["institutional"]["period_end"] == "2028-01-05"
    refused(
        ledger,
        "institutional.period_running",
        lambda: ledger.rebuild_pool(actor="李强", effective=date(2027, 12, 1)),
    )
    after = date(2028, 1, 5)
    refused(ledger, "institutional.period_ended", lambda: inst_loan(ledger, "I1", effective=after))
    pool = ledger.rebuild_pool(actor="李强", capacity=250, effective=after)
    assert (pool["capacity"], pool["period_end"]) == (250, "2030-01-05")
    inst_loan(ledger, "I1", effective=after)


def test_institutional_return_one_when_one_is_vacated(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    loan_id = inst_loan(ledger, "I1", 3)["loan_id"]
    ledger.sync(changed(city(), I1=48), actor="王芳", effective=D2)
    loan = ledger.loans()[0]
    assert (loan["loan_id"], loan["outstanding"]) == (loan_id, 1)
    assert ledger.status()["pools"]["institutional"]["lent"] == 1


# ---- 2.4 loans between units -------------------------------------------------------------


def unit_loan(ledger: Ledger, lender: str, borrower: str, count: int, **kw: object) -> dict:
    args = {"purpose": "重点实验室项目", "actor": "李强", "effective": D1} | kw
    return ledger.open_loan(pool=f"unit:{lender}", unit_id=borrower, count=count, **args)  # type: ignore[arg-type]


def test_lender_cannot_lend_quota_in_use(make_ledger: MakeLedger) -> None:
    """I2 has 10 spare quotas: 11 is refused, 10 is fine, then nothing more."""
    ledger = make_ledger()
    refused(ledger, "unit.lender_no_spare", lambda: unit_loan(ledger, "I2", "I1", 11))
    unit_loan(ledger, "I2", "I1", 10)
    refused(ledger, "unit.lender_no_spare", lambda: unit_loan(ledger, "I2", "I3", 1))


def test_lender_cannot_hire_into_lent_quota(make_ledger: MakeLedger) -> None:
    """I2 lends 10 (approved 40, 30 in post): hiring one more puts I2 over quota — the
    snapshot is recorded and I2 flagged (31 > 40 − 10)."""
    ledger = make_ledger()
    unit_loan(ledger, "I2", "I1", 10)
    ledger.sync(changed(city(), I2=31), actor="王芳", effective=D2)
    i2 = units_of(ledger)["I2"]
    assert (i2["approved"], i2["lent"], i2["over_quota"]) == (40, 10, True)


def test_unit_loan_needs_a_purpose(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    refused(ledger, "unit.purpose_missing", lambda: unit_loan(ledger, "I2", "I1", 1, purpose=" "))


def test_unit_cannot_lend_to_itself(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    refused(ledger, "unit.self_loan", lambda: unit_loan(ledger, "I2", "I2", 1))


def test_unit_loan_comes_back_when_borrower_gets_a_vacancy(make_ledger: MakeLedger) -> None:
    """I2 lends 3 to I1; I1 loses one: one quota returns to I2 (lent 2, vacancies 8)."""
    ledger = make_ledger()
    unit_loan(ledger, "I2", "I1", 3)
    ledger.sync(changed(city(), I1=49), actor="王芳", effective=D2)
    units = units_of(ledger)
    assert (units["I2"]["lent"], units["I2"]["vacancies"]) == (2, 8)
    assert (units["I1"]["borrowed"], units["I1"]["headcount"]) == (2, 50)


def test_unit_loan_returned_when_task_done(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    loan_id = unit_loan(ledger, "I2", "I1", 3)["loan_id"]
    ledger.return_loan(loan_id, actor="李强", effective=D2, reason="task done")
    assert units_of(ledger)["I2"]["lent"] == 0
    refused(
        ledger, "return.closed", lambda: ledger.return_loan(loan_id, actor="李强", effective=D2)
    )


def test_unit_loan_expires_and_is_evaluated(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    loan_id = unit_loan(ledger, "I2", "I1", 2, term_years=2)["loan_id"]
    ledger.evaluate_loan(
        loan_id, score=70, decision="return", actor="李强", effective=date(2028, 2, 1)
    )
    assert units_of(ledger)["I2"]["lent"] == 0


def test_the_city_units_match_the_docstring() -> None:
    """Guard for the hand calculations above."""
    units = {u.unit_id: u for u in city()}
    admin = [u for u in units.values() if u.level == "municipal" and u.kind == "administrative"]
    assert sum(max(0, u.approved - u.headcount) for u in admin) == 15
    assert unit("Z", 1, 1).region == "C00"
    assert DAY0 < D1 < D2
