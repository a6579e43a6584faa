"""pools.reporting: read-only views for people, and the preview of a manual return."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from pools.ledger import Ledger
from pools.reporting import city_totals, preview_return
from pools.rules import RuleViolation
from pools.units import Unit

DAY = date(2026, 1, 6)


def organ(unit_id: str, approved: int, headcount: int) -> Unit:
    return Unit(
        unit_id, f"unit {unit_id}", "C00", "municipal", "administrative", approved, headcount
    )


@pytest.fixture
def lent(make_ledger: Callable[..., Ledger]) -> tuple[Ledger, str]:
    """B (30 quotas, 25 people) lends 2 to A (40 / 40): A hires 2 people on them."""
    ledger = make_ledger([organ("A", 40, 40), organ("B", 30, 25)])
    result = ledger.open_loan(
        pool="unit:B", unit_id="A", count=2, purpose="项目", actor="t", effective=DAY
    )
    return ledger, result["loan_id"]


def test_a_return_preview_names_the_unit_it_puts_over_quota_and_writes_nothing(
    lent: tuple[Ledger, str],
) -> None:
    ledger, loan_id = lent
    events = len(ledger.events())
    preview = preview_return(ledger.state(), loan_id, None, DAY, "t")
    assert (preview.borrower, preview.count) == ("A", 2)
    assert [(u.unit_id, u.headcount, u.own_limit) for u in preview.over_quota] == [("A", 42, 40)]
    assert len(ledger.events()) == events
    assert ledger.state().units["A"].headcount == 40  # the state was not touched
    done = ledger.return_loan(loan_id, actor="t", effective=DAY)  # the preview was right
    assert ledger.state().units["A"].headcount == 42 and done["loan"]["status"] == "closed"


def test_a_return_preview_refuses_as_the_write_would(lent: tuple[Ledger, str]) -> None:
    ledger, loan_id = lent
    with pytest.raises(RuleViolation) as refused:
        preview_return(ledger.state(), loan_id, 3, DAY, "t")
    assert refused.value.rule == "return.too_many"


def test_city_totals_add_the_unit_figures_to_the_ledger_totals(lent: tuple[Ledger, str]) -> None:
    ledger, _ = lent
    totals = city_totals(ledger.status())
    assert (totals["approved"], totals["headcount"]) == (70, 65)
    assert (totals["vacancies"], totals["over_quota_units"], totals["unit_loans_lent"]) == (3, 0, 2)
