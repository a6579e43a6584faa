"""The deterministic simulator (SPEC 4) as a test: short runs of several seeds on SQLite and on
PostgreSQL, the run a function of its seed, a broken rule found, and the ledger bug it found.

`make simulate` runs the long version (≥ 100,000 steps); see `tests/pools/simulation`.
"""

from __future__ import annotations

import pytest

from pools.ledger import Ledger

from .conftest import DAY0, city, fixed_clock
from .simulation import Config, Report, SimulationFailure, simulate

# the simulator's clock moves with its dates: it runs `ledger.future_dated` as the product does
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("future_dates_checked")]

KINDS = (
    "init", "sync", "open", "return", "evaluate", "rebuild", "approve", "withdraw",
    "problem_open", "problem_close", "teacher", "rotate", "correct",
)  # fmt: skip


@pytest.mark.parametrize(("seed", "processes"), [(11, True), (12, False), (13, False)])
def test_simulation_on_sqlite(seed: int, processes: bool) -> None:
    """700 steps a seed (2,100 in all), two episodes each: every check of every step holds
    (seed 11: four of its steps in real writer processes, which may die mid-write)."""
    cfg = Config(seed=seed, steps=700, episode_steps=350, verify_every=100, processes=processes)
    report = simulate(cfg)
    assert report.steps == 700
    seen = {outcome.split(":")[0] for outcome in report.outcomes}
    assert set(KINDS) <= seen
    assert any("crash:" in outcome for outcome in report.outcomes)
    assert any(outcome.startswith("open: ok") for outcome in report.outcomes)
    assert any(outcome.startswith("open: replayed") for outcome in report.outcomes)
    assert any(outcome.startswith("approve: ok") for outcome in report.outcomes)
    assert any(outcome.endswith("problem.open_blocks") for outcome in report.outcomes)
    assert any(outcome.startswith("teacher: ok") for outcome in report.outcomes)
    assert any(outcome.startswith("rotate: ok") for outcome in report.outcomes)
    in_processes = sum(n for k, n in report.outcomes.items() if "process" in k)
    assert in_processes == (4 if processes else 0)  # steps 50, 150, 250 and 350


def test_a_short_run_accepts_some_of_each_main_command() -> None:
    """Problems are closed (by hand, and by syncs that remove their cause) and loans open: the
    run exercises acceptances, not mostly refusals; the summary says the share of each."""
    report = simulate(
        Config(seed=3, steps=600, episode_steps=300, verify_every=150, processes=False)
    )
    shares = report.shares()
    for kind in ("open", "return", "approve", "problem_close"):
        assert shares[kind][0] > 0, (kind, shares[kind])
    accepted, refused, other = shares["open"]
    assert accepted / (accepted + refused + other) >= 0.15  # was 6-9 % while problems piled up
    assert any(line.startswith("  open ") and "% accepted" in line for line in report.lines())


def test_outcomes_are_told_apart_as_accepted_refused_or_other() -> None:
    report = Report()
    report.outcomes.update({
        "open: ok admin keyed": 3, "open: retry: ok unit": 1, "open: process: ok admin": 1,
        "open: refused pool.capacity": 4, "open: retry: refused loan.term": 1,
        "open: replayed": 2, "open: crash:before_commit": 1, "crash armed: not reached": 9,
        "rotate: old-key writer refused ledger.wrong_key": 1,
    })  # fmt: skip
    assert report.shares() == {"open": (5, 5, 3), "rotate": (0, 1, 0)}
    assert "  open            38% accepted  38% refused  23% other  (of 13)" in report.lines()


@pytest.mark.postgres
def test_simulation_on_postgresql(pg_url: str) -> None:
    report = simulate(
        Config(seed=21, steps=300, url=pg_url, episode_steps=150, verify_every=75, processes=False)
    )
    assert report.steps == 300
    assert any("crash:" in outcome for outcome in report.outcomes)


def test_a_run_is_a_function_of_its_seed() -> None:
    first = simulate(Config(seed=5, steps=200, episode_steps=100, verify_every=50, processes=False))
    again = simulate(Config(seed=5, steps=200, episode_steps=100, verify_every=50, processes=False))
    other = simulate(Config(seed=6, steps=200, episode_steps=100, verify_every=50, processes=False))
    assert (first.digest, first.outcomes, first.events) == (
        again.digest,
        again.outcomes,
        again.events,
    )
    assert first.digest != other.digest


def test_an_episode_replays_on_its_own() -> None:
    """--first-step skips the episodes before: the second episode alone runs as in the whole."""
    whole = simulate(Config(seed=7, steps=200, episode_steps=100, verify_every=50, processes=False))
    second = simulate(
        Config(
            seed=7, steps=200, episode_steps=100, verify_every=50, first_step=100, processes=False
        )
    )
    assert second.steps == 100 and whole.steps == 200
    assert set(second.outcomes) <= set(whole.outcomes)


def test_a_broken_capacity_rule_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the pool capacity rule disabled (in the command and in the fold), the simulator
    fails naming the seed, the step, the request and the command that replays it."""
    import pools.rules.loans
    import pools.state

    monkeypatch.setattr(pools.rules.loans, "pool_has_room", lambda *_a: None)
    monkeypatch.setattr(pools.state, "pool_has_room", lambda *_a: None)
    with pytest.raises(SimulationFailure) as failure:
        simulate(Config(seed=1, steps=3000, episode_steps=500, processes=False))
    text = str(failure.value)
    assert "seed=1 step=" in text and "pool.capacity" in text
    assert "python -m tests.pools.simulation --seed 1 --steps" in text


def test_verify_after_a_lender_that_was_paid_back_leaves(sqlite_url: str) -> None:
    """Found by the simulator (seed 1, step 250): `audit verify` raised KeyError when a unit
    whose loans were all closed had left the ledger since (the recount looked it up)."""
    ledger = Ledger.create(sqlite_url, city(), actor="t", effective=DAY0, clock=fixed_clock)
    loan = ledger.open_loan(
        pool="unit:I2", unit_id="A1", count=1, purpose="专项", actor="t", effective=DAY0
    )
    ledger.return_loan(loan["loan_id"], actor="t", effective=DAY0)
    ledger.sync([u for u in city() if u.unit_id != "I2"], actor="t", effective=DAY0)
    assert ledger.verify()["ok"]


def test_a_broken_free_vacancy_rule_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """With SPEC 2.7's reservation limit disabled (command and fold), the simulator fails on a
    plan the model refuses (`useplan.free_vacancies`)."""
    import pools.books
    import pools.state

    monkeypatch.setattr(pools.books, "plan_within_free_vacancies", lambda *_a: None)
    monkeypatch.setattr(pools.state, "plan_within_free_vacancies", lambda *_a: None)
    with pytest.raises(SimulationFailure) as failure:
        simulate(Config(seed=1, steps=3000, episode_steps=500, processes=False))
    assert "useplan.free_vacancies" in str(failure.value)


def test_a_problem_that_no_longer_blocks_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """With SPEC 2.8's block disabled (an open problem lets a loan or plan through), the
    simulator fails naming `problem.open_blocks`."""
    import pools.books
    import pools.state

    monkeypatch.setattr(pools.books, "problem_open_blocks", lambda *_a: None)
    monkeypatch.setattr(pools.state, "open_problem_refusal", lambda *_a: None)
    with pytest.raises(SimulationFailure) as failure:
        simulate(Config(seed=1, steps=3000, episode_steps=500, processes=False))
    assert "problem.open_blocks" in str(failure.value)


def test_a_keyed_retry_after_its_document_was_corrected(sqlite_url: str) -> None:
    """Found by the simulator (seed 300, step 2907): after the 文号 of a keyed loan was
    corrected, the client's retry of its original request (same key, same parameters) was
    refused `loan.key_conflict`: the key's request was compared with the corrected register,
    not with what the client sent (SPEC 3.3: the retry succeeds with the first loan)."""
    ledger = Ledger.create(sqlite_url, city(), actor="t", effective=DAY0, clock=fixed_clock)
    asked = {"pool": "admin", "unit_id": "A1", "count": 1, "purpose": "引进生", "actor": "t"}
    first = ledger.open_loan(**asked, key="k", document="错号", effective=DAY0)
    seq = next(e["seq"] for e in ledger.events() if e["kind"] == "loan_opened")
    ledger.correct(seq, actor="t", reason="文号录入有误", document="正号", effective=DAY0)
    again = ledger.open_loan(**asked, key="k", document="错号", effective=DAY0)
    assert again["replayed"] and again["loan_id"] == first["loan_id"]
    assert ledger.loans()[0]["document"] == "正号"  # the register still shows the correction


def test_a_stale_teacher_plan_let_through_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """With SPEC 2.9's stale-plan rule disabled (command and fold), the simulator fails on a
    plan computed from quotas that are not the ledger's (`teacher.stale_plan`)."""
    import pools.commands
    import pools.teacher_book

    monkeypatch.setattr(pools.commands, "plan_not_stale", lambda *_a: None)
    monkeypatch.setattr(pools.teacher_book, "plan_not_stale", lambda *_a: None)
    with pytest.raises(SimulationFailure) as failure:
        simulate(Config(seed=6, steps=5000, episode_steps=500, processes=False))
    assert "teacher.stale_plan" in str(failure.value)
