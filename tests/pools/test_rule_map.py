"""One test per rule function of `pools.rules`, each on a small ledger written in its
docstring (`ledger_text`): the function itself, the command it refuses (``! rule``), and,
where the fold checks it too, `audit verify` catching a forged event that breaks it.
"""

from __future__ import annotations

from datetime import date

import pytest

import pools.verify
from pools.results import SyncResult
from pools.rules import Settings
from pools.rules.admin_pool import admin_borrower_eligible, admin_pool_active, admin_pool_capacity
from pools.rules.institutional_pool import (
    evaluation_allowed,
    institutional_borrower_eligible,
    institutional_period_running,
    loan_status_on,
    rebuild_allowed,
)
from pools.rules.loans import (
    borrower_has_no_vacancy,
    pool_has_room,
    pool_purpose_approved,
    return_allowed,
    return_one_when_vacated,
    special_account_totals,
)
from pools.rules.monitoring import alerts
from pools.rules.unit_loans import lender_has_spare, unit_loan_parties, unit_purpose_given
from pools.rules.units import (
    is_over_quota,
    over_quota_only_loses_people,
    own_vacancies,
    usable_quota,
)
from pools.storage import Head, event_row
from pools.verify import verify_rows
from pools.vocabulary import (
    ADMIN_POOL,
    INSTITUTIONAL_POOL,
    Decision,
    LoanStatus,
    PoolRef,
    PoolRefError,
)

from .ledger_text import Ledger, ledger_in_docstring, run_ledger, verify_events


@pytest.fixture
def ledger(request: pytest.FixtureRequest) -> Ledger:
    """The ledger written in the requesting test's docstring, run in memory."""
    return run_ledger(ledger_in_docstring(request.function.__doc__))


def rules_found(ledger: Ledger) -> list[str]:
    return [problem.rule for problem in verify_events(ledger.events).problems]


# ---- 2.1 ------------------------------------------------------------------------------------


def test_quota_accounting(ledger: Ledger) -> None:
    """Own vacancies = approved − lent − headcount; usable = approved + borrowed − lent.

    unit I1 municipal institutional 50/50
    unit I2 municipal institutional 40/30
    unit X1 municipal administrative 10/12
    2026-02-01 open unit:I2 I1 4 项目
    """
    i1, i2, x1 = (ledger.state.units[u] for u in ("I1", "I2", "X1"))
    assert (own_vacancies(40, 4, 30), usable_quota(40, 0, 4), usable_quota(50, 4, 0)) == (6, 36, 54)
    assert (i2.vacancies, i2.usable, i1.usable, i2.approved) == (6, 36, 54, 40)
    assert is_over_quota(10, 0, 12) and x1.over_quota and not is_over_quota(10, 0, 10)
    assert own_vacancies(10, 0, 12) == 0


def test_over_quota_only_loses_people(ledger: Ledger) -> None:
    """只出不进: an over-quota unit may not borrow.

    unit A1 municipal administrative 10/10
    unit A3 municipal administrative 30/20
    unit X1 municipal administrative 10/12
    2026-02-01 open admin X1 1 引进生 ! unit.over_quota
    2026-02-01 open admin A1 1 引进生
    """
    assert over_quota_only_loses_people(ledger.state, "A1") is None
    found = over_quota_only_loses_people(ledger.state, "X1")
    assert found is not None and found.rule == "unit.over_quota"


# ---- 2.2 ------------------------------------------------------------------------------------


def test_admin_pool_capacity_and_suspension(ledger: Ledger) -> None:
    """floor(20 % × 15 vacancies) = 3; organs over quota as a whole: capacity 0, no loans.

    unit A1 municipal administrative 10/10
    unit A3 municipal administrative 30/20
    unit A4 municipal administrative 10/5
    unit X1 municipal administrative 10/12
    2026-02-01 sync A4=0 X1=31
    2026-02-01 open admin A1 1 引进生 ! admin.pool_suspended
    """
    assert admin_pool_capacity(Settings(), 15, 0) == 3
    assert admin_pool_capacity(Settings(admin_share=0.5), 15, 0) == 7
    assert admin_pool_capacity(Settings(), 15, 1) == 0
    first_sync = ledger.results[0]
    assert isinstance(first_sync, SyncResult)
    assert first_sync.pools_before.admin.capacity == 3
    assert ledger.state.admin_suspended and ledger.state.admin_capacity == 0
    found = admin_pool_active(ledger.state)
    assert found is not None and found.rule == "admin.pool_suspended"


def test_admin_pool_lends_only_to_municipal_administrative_organs(ledger: Ledger) -> None:
    """County organs and institutional units may not borrow from the administrative pool.

    unit A3 municipal administrative 30/20
    unit C1 county administrative 10/10
    unit I1 municipal institutional 10/10
    2026-02-01 open admin C1 1 引进生 ! admin.borrower_not_eligible
    2026-02-01 open admin I1 1 引进生 ! admin.borrower_not_eligible
    """
    found = admin_borrower_eligible(ledger.state, "C1")
    assert found is not None and found.rule == "admin.borrower_not_eligible"
    assert admin_borrower_eligible(ledger.state, "A3") is None


def test_turnover_pools_lend_only_for_approved_purposes(ledger: Ledger) -> None:
    """Each turnover pool has its own list of purposes (a setting).

    unit A1 municipal administrative 10/10
    unit A3 municipal administrative 30/20
    unit I1 municipal institutional 10/10
    2026-02-01 open admin A1 1 普通招录 ! admin.purpose
    2026-02-01 open institutional I1 1 引进生 ! institutional.purpose
    2026-02-01 open admin A1 1 博士选调生
    """
    settings = ledger.state.settings
    assert pool_purpose_approved(settings, ADMIN_POOL, "引进生") is None
    found = pool_purpose_approved(settings, INSTITUTIONAL_POOL, "引进生")
    assert found is not None and found.rule == "institutional.purpose"


def test_no_pool_lends_beyond_its_capacity(ledger: Ledger) -> None:
    """Capacity 3: 2 + 2 is refused, 2 + 1 fits; a forged loan beyond it is caught by verify.

    unit A1 municipal administrative 10/10
    unit A2 municipal administrative 20/20
    unit A3 municipal administrative 30/15
    2026-02-01 open admin A1 2 引进生
    2026-02-01 open admin A2 2 引进生 ! pool.capacity
    2026-02-01 open admin A2 1 引进生
    2026-02-01 forge loan_opened loan_id=L9 pool=admin borrower=A2 count=1 purpose=引进生 end=
    """
    assert pool_has_room(ledger.state, ADMIN_POOL, 0) is None
    found = pool_has_room(ledger.state, ADMIN_POOL, 1)
    assert found is not None and found.rule == "pool.capacity"
    assert rules_found(ledger)[:2] == ["pool.capacity", "pool.capacity"]  # replay, rules at open


def test_borrower_with_an_own_vacancy_may_not_borrow(ledger: Ledger) -> None:
    """Pool or borrowed quota only for a unit with no own vacancy.

    unit A1 municipal administrative 10/10
    unit A3 municipal administrative 30/20
    2026-02-01 open admin A3 1 引进生 ! loan.borrower_has_vacancy
    """
    assert borrower_has_no_vacancy(ledger.state, "A1") is None
    found = borrower_has_no_vacancy(ledger.state, "A3")
    assert found is not None and found.rule == "loan.borrower_has_vacancy"


def test_return_one_when_vacated(ledger: Ledger) -> None:
    """A bare headcount drop leaves A1 with a vacancy while it owes: the oldest loan is due, and
    verify finds 空一还一 not applied; `sync` returns it.

    unit A1 municipal administrative 10/10
    unit A3 municipal administrative 30/15
    unit I2 municipal institutional 40/30
    2026-02-01 open admin A1 1 引进生
    2026-02-01 open unit:I2 A1 1 项目
    2026-03-01 headcount A1 9
    """
    admin_loan, unit_loan = ledger.state.loans
    due = return_one_when_vacated(ledger.state, "A1")
    assert due is not None and due.loan_id == admin_loan
    assert return_one_when_vacated(ledger.state, "A3") is None  # a vacancy, but owes nothing
    assert rules_found(ledger) == ["loan.return_one_when_vacated"]
    settled = run_ledger(
        ledger_in_docstring(test_return_one_when_vacated.__doc__).replace(
            "headcount A1 9", "sync A1=9"
        )
    )
    assert settled.state.loans[admin_loan].status is LoanStatus.CLOSED
    assert settled.state.loans[unit_loan].outstanding == 1
    assert return_one_when_vacated(settled.state, "A1") is None
    assert verify_events(settled.events).ok


def test_vacancy_return_needs_a_vacancy(ledger: Ledger) -> None:
    """A forged 空一还一 return for a unit without a vacancy breaks the fold.

    unit A1 municipal administrative 10/10
    unit A3 municipal administrative 30/15
    2026-02-01 open admin A1 1 引进生
    2026-02-01 forge loan_returned loan_id=@1 count=1 cause=vacancy
    """
    assert rules_found(ledger) == ["loan.vacancy_return_without_vacancy"]


def test_special_account_totals(ledger: Ledger) -> None:
    """Pool quotas are never in approved totals; the people on them are in post.

    unit A1 municipal administrative 10/10
    unit A3 municipal administrative 30/15
    unit I2 municipal institutional 40/30
    unit I1 municipal institutional 50/50
    2026-02-01 open admin A1 2 引进生
    2026-02-01 open unit:I2 I1 3 项目
    """
    totals = special_account_totals(ledger.state.units.values())
    assert (totals.approved, totals.headcount) == (130, 105)
    assert (totals.pool_headcount, totals.borrowed_headcount, totals.in_post) == (2, 3, 110)


def test_returns_by_hand(ledger: Ledger) -> None:
    """At most what is outstanding; never from a closed loan.

    unit I1 municipal institutional 50/50
    2026-02-01 open institutional I1 2 高层次人才
    2026-03-01 return @1 3 ! return.too_many
    2026-03-01 return @1
    2026-03-01 return @1 ! return.closed
    """
    loan = ledger.state.loans[next(iter(ledger.state.loans))]
    found = return_allowed(loan, 1)
    assert found is not None and found.rule == "return.closed"


# ---- 2.3 ------------------------------------------------------------------------------------


def test_institutional_pool_lends_only_to_institutional_units(ledger: Ledger) -> None:
    """County institutional units are eligible; administrative organs are not.

    unit A1 municipal administrative 10/10
    unit I3 county institutional 20/20
    2026-02-01 open institutional A1 1 高层次人才 ! institutional.borrower_not_eligible
    2026-02-01 open institutional I3 1 高层次人才
    """
    found = institutional_borrower_eligible(ledger.state, "A1")
    assert found is not None and found.rule == "institutional.borrower_not_eligible"
    assert institutional_borrower_eligible(ledger.state, "I3") is None


def test_institutional_period_and_rebuild(ledger: Ledger) -> None:
    """A 2-year period ends 2028-01-05: no loans after it until rebuilt; no rebuild before it,
    nor below what is still lent.

    settings pool_period_years=2 institutional_capacity=5
    unit I1 municipal institutional 50/50
    2026-02-01 open institutional I1 3 高层次人才 term=5
    2027-12-01 rebuild ! institutional.period_running
    2028-01-05 open institutional I1 1 高层次人才 ! institutional.period_ended
    2028-01-05 rebuild 2 ! institutional.capacity_below_lent
    2028-01-05 rebuild 250
    2028-01-05 open institutional I1 1 高层次人才
    """
    state = ledger.state
    assert state.inst_period_end == date(2030, 1, 5) and state.inst_capacity == 250
    assert institutional_period_running(state, date(2030, 1, 4)) is None
    found = institutional_period_running(state, date(2030, 1, 5))
    assert found is not None and found.rule == "institutional.period_ended"
    found = rebuild_allowed(state, date(2030, 1, 5), 3)
    assert found is not None and found.rule == "institutional.capacity_below_lent"


def test_expired_loans_and_their_evaluation(ledger: Ledger) -> None:
    """A 1-year loan from 2026-02-01 expires on 2027-02-01 and only then is evaluated.

    unit I1 municipal institutional 50/50
    2026-02-01 open institutional I1 2 高层次人才 term=1
    2027-01-31 evaluate @1 80 extend 2028-02-01 ! evaluate.not_expired
    2027-02-01 evaluate @1 101 return ! evaluate.score
    2027-02-01 evaluate @1 80 keep ! evaluate.decision
    2027-02-01 evaluate @1 80 extend 2027-02-01 ! evaluate.new_end
    2027-02-10 evaluate @1 85 extend 2028-02-01
    """
    loan = next(iter(ledger.state.loans.values()))
    assert (loan.status, loan.end, loan.evaluations[0].decision) == (
        LoanStatus.OPEN,
        date(2028, 2, 1),
        Decision.EXTEND,
    )
    assert loan_status_on(LoanStatus.OPEN, date(2028, 2, 1), date(2028, 2, 1)) == "expired"
    assert loan_status_on(LoanStatus.OPEN, date(2028, 2, 1), date(2028, 1, 31)) == "open"
    found = evaluation_allowed(loan, LoanStatus.EXPIRED, 50, Decision.RETURN, None, date.today())
    assert found is None


# ---- 2.4 ------------------------------------------------------------------------------------


def test_unit_loan_parties_and_purpose(ledger: Ledger) -> None:
    """The lender is another unit of the ledger; the purpose is stated (专编专用).

    unit I1 municipal institutional 50/50
    unit I2 municipal institutional 40/30
    2026-02-01 open unit:I2 I2 1 项目 ! unit.self_loan
    2026-02-01 open unit:ZZ I1 1 项目 ! loan.unknown_unit
    2026-02-01 open unit:I2 I1 1 " " ! unit.purpose_missing
    2026-02-01 open nowhere I1 1 项目 ! loan.unknown_pool
    2026-02-01 open unit:I2 I1 0 项目 ! loan.count
    """
    found = unit_loan_parties(ledger.state, "I1", "I1")
    assert found is not None and found.rule == "unit.self_loan"
    assert unit_loan_parties(ledger.state, "I2", "I1") is None
    assert unit_purpose_given("项目") is None
    with pytest.raises(PoolRefError):
        PoolRef.parse("nowhere")
    assert PoolRef.parse("unit:I2").lender == "I2" and str(PoolRef.parse("admin")) == "admin"


def test_lender_keeps_ownership_but_not_the_quota_in_use(ledger: Ledger) -> None:
    """I2 has 10 spare quotas: 11 is refused, 10 lent; a forged 11th is caught by verify.

    unit I1 municipal institutional 50/50
    unit I2 municipal institutional 40/30
    unit I3 county institutional 20/20
    2026-02-01 open unit:I2 I1 11 项目 ! unit.lender_no_spare
    2026-02-01 open unit:I2 I1 10 项目
    2026-02-01 forge loan_opened loan_id=L9 pool=unit:I2 borrower=I3 count=1 purpose=项目 end=
    """
    i2 = ledger.state.units["I2"]
    assert (i2.approved, i2.lent, i2.vacancies) == (40, 10, 0)
    found = lender_has_spare(ledger.state, "I2", 1)
    assert found is not None and found.rule == "unit.lender_no_spare"
    assert rules_found(ledger)[:2] == ["unit.lender_no_spare", "unit.lender_no_spare"]


# ---- 2.6 ------------------------------------------------------------------------------------


def test_monitoring_alerts(ledger: Ledger) -> None:
    """Over quota, a loan 90 days before its end, an overdue loan, a pool below what it lent.

    settings institutional_capacity=5
    unit A1 municipal administrative 10/10
    unit A3 municipal administrative 30/10
    unit X1 municipal administrative 10/12
    unit I1 municipal institutional 50/50
    2026-02-01 open institutional I1 1 高层次人才 term=1
    2026-02-01 open admin A1 4 引进生
    2026-03-01 sync A3=25
    """
    kinds = lambda day: {alert.kind for alert in alerts(ledger.state, day)}  # noqa: E731
    assert "over_quota" in kinds(date(2026, 3, 1)) and "pool_below_lent" in kinds(date(2026, 3, 1))
    assert "loan_expiring" not in kinds(date(2026, 11, 2))
    assert "loan_expiring" in kinds(date(2026, 11, 3))
    assert "loan_overdue" in kinds(date(2027, 2, 1))


# ---- audit verify ---------------------------------------------------------------------------


def test_verify_reports_every_problem(ledger: Ledger) -> None:
    """Two forged loans against two different rules: both are reported, in ledger order.

    unit A1 municipal administrative 10/10
    unit A3 municipal administrative 30/15
    unit I1 municipal institutional 50/50
    2026-02-01 forge loan_opened loan_id=L8 pool=institutional borrower=I1 count=1 purpose=旅游 end=
    2026-02-01 forge loan_opened loan_id=L9 pool=admin borrower=I1 count=1 purpose=引进生 end=
    """
    problems = verify_events(ledger.events).problems
    assert [(p.rule, p.seq) for p in problems] == [
        ("institutional.purpose", 5),
        ("admin.borrower_not_eligible", 6),
    ]


def test_verify_lists_a_pass_s_problems_up_to_a_limit(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the wrong key every event fails its hash: the first ones are listed, the rest
    counted, and the replay still finds nothing else wrong.

    unit A1 municipal administrative 10/10
    unit A3 municipal administrative 30/15
    2026-02-01 open admin A1 1 引进生
    """
    monkeypatch.setattr(pools.verify, "MAX_LISTED", 2)
    rows = [tuple(event_row(event).values()) for event in ledger.events]
    last = ledger.events[-1]
    found = verify_rows(rows, Head(last.seq, last.hash, last.effective), b"another key")
    assert [(p.rule, p.seq) for p in found.problems] == [
        ("chain.hash", 1),
        ("chain.hash", 2),
        ("chain.more", None),
    ]
    assert found.problems[-1].message == "2 more chain problems not listed"
    assert found.as_dict()["problems"][0] | {} == {
        "seq": 1,
        "rule": "chain.hash",
        "problem": found.problems[0].message,
    }
