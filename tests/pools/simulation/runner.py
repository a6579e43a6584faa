"""The deterministic simulator: a seed → a run of random ledger commands, checked every step.

One `random.Random` per episode (seeded with the text "<seed>:<episode>", so an episode can be
replayed without the ones before it), a simulated clock, no wall-clock time in any decision,
no iteration over sets. Each step:

1. the clock may move on (days; sometimes a year or two, past loan terms and pool periods);
2. a writer is picked among several `Ledger` objects on the same database (each with its own
   cache; from time to time one is replaced by a fresh object, as a restarted process);
3. a command is drawn — sync of a random snapshot, loan open on every pool kind (valid and
   invalid requests, keyed or not, retries of a key exact and differing), return by hand,
   evaluation, pool rebuild, a second init, quota-use plan approval (valid and invalid,
   keyed, retries exact and differing) and withdrawal, problems opened and closed by hand
   (hires post against plans, plans lapse and automatic problems come and go through
   sync), teacher plans applied (fresh, stale, twice, keyed), chain key rotations (the
   writers then restart with the new key; one still holding the old key is refused) and 文号
   corrections — with a date that is usually valid and sometimes
   backdated or too far ahead;
4. the model says which rules the request breaks; the ledger must refuse exactly when that set
   is not empty, naming one of them, and otherwise do what the model does (same loan id);
5. sometimes a crash is armed at one step of the write (`faults`): afterwards the ledger must
   hold the whole command or nothing (as the crash point says), the client re-sends the
   request (a keyed loan: one loan, not two) and the writer that crashed goes on with its cache;
6. the status (seen by the writer and by one other) must equal the model and keep every
   invariant; every `verify_every` steps and at the end of an episode `audit verify` passes
   and a fresh Ledger (full replay) agrees with the live ones.

A failure raises `SimulationFailure` carrying the seed, the step and the command that replays
the run. SQLite runs on a tmpfs file (/dev/shm when there is one) with ``synchronous=OFF``:
durability is relaxed for the simulator only (a crash here is simulated, not a power cut).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time as wallclock
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event

import pools.storage
from pools.events import DEMO_KEY
from pools.ledger import Ledger
from pools.rules import RuleViolation, Settings
from pools.rules.violations import Violation
from pools.teacher_plans import PlanCounty, TeacherPlan
from pools.units import Unit

from .faults import FaultPlan, SimulatedCrash, installed
from .model import (
    ADMIN_PURPOSES,
    ADMINISTRATIVE,
    CHANNELS,
    COUNTY,
    INSTITUTIONAL,
    INSTITUTIONAL_PURPOSES,
    MUNICIPAL,
    PROBLEM_KINDS,
    MLoan,
    Model,
    ModelSettings,
    MTeacherPlan,
    MUnit,
)

START = date(2026, 1, 1)
CRASH_POINTS = (
    "statement:0",  # before the insert
    "statement:1",  # between the events and the head
    "statement:2",  # before any later statement of the transaction (else before the commit)
    "before_commit",
    "after_commit",
    "answer_lost",  # committed and answered, but the answer never reached the client
)
ACTOR = "模拟器"


class SimulationFailure(AssertionError):
    def __init__(self, seed: int, step: int, detail: str, replay: str):
        super().__init__(f"seed={seed} step={step}: {detail}\nreplay: {replay}")
        self.seed, self.step, self.replay = seed, step, replay


@dataclass
class Config:
    seed: int
    steps: int
    url: str | None = None  # a PostgreSQL URL; None: SQLite files in a tmpfs directory
    episode_steps: int = 500  # a fresh database every so many steps
    verify_every: int = 250
    crash_rate: float = 0.08
    first_step: int = 0  # replay from this step's episode on
    processes: bool = True  # a few steps in real processes (every 20th episode, 5 steps)

    def replay_command(self, step: int) -> str:
        episode_start = (step // self.episode_steps) * self.episode_steps
        target = (" --pg URL" if self.url else "") + ("" if self.processes else " --no-processes")
        return (
            f"python -m tests.pools.simulation --seed {self.seed} --steps {step + 1} "
            f"--first-step {episode_start} --episode-steps {self.episode_steps}{target}"
        )


@dataclass
class Report:
    steps: int = 0
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    verified: int = 0
    events: int = 0
    trace: Any = field(default_factory=hashlib.sha256)  # of every outcome, in order

    @property
    def digest(self) -> str:
        """The run's fingerprint: equal for two runs of one seed (determinism)."""
        return self.trace.hexdigest()

    def lines(self) -> list[str]:
        rate = self.steps / self.seconds if self.seconds else 0.0
        out = [
            f"{self.steps} steps in {self.seconds:.1f} s: {rate:,.0f} steps/s; "
            f"{self.events} events written; audit verify + full replay {self.verified} times"
        ]
        width = max((len(k) for k in self.outcomes), default=10)
        out += [f"  {k:<{width}}  {n:>8}" for k, n in sorted(self.outcomes.items())]
        out.append("accepted / refused / other (replays, crashes) per command:")
        for kind, (accepted, refused, other) in sorted(self.shares().items()):
            total = accepted + refused + other
            out.append(
                f"  {kind:<14} {accepted / total:>4.0%} accepted {refused / total:>4.0%} refused "
                f"{other / total:>4.0%} other  (of {total:,})"
            )
        return out

    def shares(self) -> dict[str, tuple[int, int, int]]:
        """Per command kind: how many were accepted (written: ok, also on a retry or in a
        process), refused by a rule, or neither (a keyed replay, a crash)."""
        found: dict[str, list[int]] = {}
        for key, n in self.outcomes.items():
            kind, outcome = key.split(": ", 1)
            if kind == "crash armed":
                continue
            counts = found.setdefault(kind, [0, 0, 0])
            counts[_verdict(outcome)] += n
        return {kind: (a, r, o) for kind, (a, r, o) in found.items()}


def _verdict(outcome: str) -> int:
    """0 accepted, 1 refused, 2 other, for an outcome as `Runner.count` records it."""
    for prefix in ("retry: ", "process: "):
        outcome = outcome.removeprefix(prefix)
    if outcome.startswith("ok"):
        return 0
    return 1 if "refused" in outcome else 2


class SimClock:
    """The injected clock: the simulated day at 09:00 UTC, a microsecond later each call."""

    def __init__(self, day: date):
        self.day = day
        self._tick = 0

    def __call__(self) -> datetime:
        self._tick += 1
        return datetime.combine(self.day, time(9), UTC) + timedelta(microseconds=self._tick)


@contextmanager
def relaxed_sqlite() -> Iterator[None]:
    """Engines made meanwhile run SQLite with synchronous=OFF (the simulator only)."""
    original = pools.storage.make_engine

    def make_engine(url: Any, *args: Any, **kwargs: Any) -> sa.engine.Engine:
        engine = original(url, *args, **kwargs)
        if engine.dialect.name == "sqlite":

            @sa_event.listens_for(engine, "connect")
            def _relax(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA synchronous=OFF")
                cursor.close()

        return engine

    pools.storage.make_engine = make_engine  # type: ignore[assignment]
    try:
        yield
    finally:
        pools.storage.make_engine = original


def _unit(m: MUnit) -> Unit:
    return Unit(m.unit_id, m.name, m.region, m.level, m.kind, m.approved, m.headcount)


def _copy(m: MUnit) -> MUnit:
    return MUnit(*m.record())


# ---- one episode ----------------------------------------------------------------------------


class Episode:
    """One database, one model, several writers; `step` runs one random command."""

    def __init__(self, cfg: Config, index: int, url: str, plan: FaultPlan, report: Report):
        self.cfg = cfg
        self.rng = random.Random(f"{cfg.seed}:{index}")
        self.url = url
        self.plan = plan
        self.report = report
        self.clock = SimClock(START + timedelta(days=self.rng.randrange(0, 3 * 365)))
        self.step_no = 0
        self.next_key = 0
        self.next_unit = 0
        rng = self.rng
        share = rng.choice(["0.2", "0.2", "0.25", "0.5", "0.3"])
        self.model = Model(
            ModelSettings(
                admin_share=share,
                institutional_capacity=rng.randint(2, 10),
                term_years=rng.randint(1, 2),
                pool_period_years=rng.randint(1, 3),
                problems_block=rng.random() < 0.8,
                problem_deadline_days=rng.choice([0, 30, 90]),
            )
        )
        ms = self.model.settings
        self.settings = Settings(
            admin_share=float(share),
            institutional_capacity=ms.institutional_capacity,
            term_years=ms.term_years,
            pool_period_years=ms.pool_period_years,
            problems_block=ms.problems_block,
            problem_deadline_days=ms.problem_deadline_days,
        )
        self.index = index
        self.request = "init"
        self.writers: list[Ledger] = []
        self.key: str | None = None  # the chain key (None: the demo key) and the ones before
        self.old_keys: list[str] = []
        self.teacher_plans: list[tuple[MTeacherPlan, str | None]] = []  # and its key

    def _writer(self) -> Ledger:
        """A new writer (a process started afresh) with the chain keys of the moment."""
        return Ledger.open(self.url, key=self.key, old_keys=self.old_keys, clock=self.clock)

    # ---- set-up -----------------------------------------------------------------------

    def city(self) -> list[MUnit]:
        rng = self.rng
        units = []
        for n in range(rng.randint(3, 5)):  # municipal administrative organs
            approved = rng.randint(3, 30)
            full = rng.random() < 0.5
            headcount = approved if full else rng.randint(0, approved)
            units.append(MUnit(f"A{n + 1}", f"机关{n + 1}", "C00", MUNICIPAL, ADMINISTRATIVE,
                               approved, headcount))  # fmt: skip
        units.append(MUnit("C1", "县机关", "C01", COUNTY, ADMINISTRATIVE, 6, 6))
        for n in range(rng.randint(2, 4)):
            approved = rng.randint(3, 20)
            headcount = approved if rng.random() < 0.5 else rng.randint(0, approved)
            level = MUNICIPAL if n % 2 == 0 else COUNTY
            region = "C00" if level == MUNICIPAL else "C01"
            units.append(MUnit(f"I{n + 1}", f"事业{n + 1}", region, level, INSTITUTIONAL,
                               approved, headcount))  # fmt: skip
        return units

    def init(self) -> None:
        units = self.city()
        day = self.clock.day

        def create() -> Ledger:
            return Ledger.create(
                self.url, [_unit(u) for u in units], actor=ACTOR, settings=self.settings,
                effective=day, clock=self.clock,
            )  # fmt: skip

        unanswered = False  # the last attempt committed but the client got no answer
        while not self.model.initialised:  # a crash during init: the client runs it again
            point = self._maybe_arm(None)
            try:
                ledger = create()
            except SimulatedCrash as crash:
                self.count("init", f"crash:{crash.point}")
                if crash.committed:
                    self.model.init([_copy(u) for u in units], day)
                unanswered = crash.committed
                self._expect_head(self.model.seq, f"init crashed at {crash.point}")
                continue
            except RuleViolation as refusal:
                self.fail(f"init refused: {refusal.rule}")
            finally:
                self.plan.disarm()
            self.count("init", "ok" if point is None else f"ok ({point})")
            self.model.init([_copy(u) for u in units], day)
            unanswered = point == "answer_lost"
            ledger.close()
        if unanswered or self.rng.random() < 0.2:  # the client runs it again: it exists
            try:
                create().close()
            except RuleViolation as refusal:
                self.check(refusal.rule == "ledger.exists", f"init again: {refusal.rule}")
                self.count("init", f"again: refused {refusal.rule}")
            else:
                self.fail("a second init of the same ledger was accepted")
        for _ in range(self.rng.randint(1, 4)):
            self.writers.append(self._writer())
        self.check_status(self.writers[0])

    def close(self) -> None:
        for ledger in self.writers:
            ledger.close()

    # ---- helpers ----------------------------------------------------------------------

    def count(self, kind: str, outcome: str) -> None:
        self.report.outcomes[f"{kind}: {outcome}"] += 1
        self.report.trace.update(f"{self.step_no} {kind}: {outcome}\n".encode())

    def fail(self, detail: str) -> None:
        step = self.index * self.cfg.episode_steps + max(self.step_no - 1, 0)
        detail += f"\n  request: {self.request}\n  clock: {self.clock.day}"
        raise SimulationFailure(self.cfg.seed, step, detail, self.cfg.replay_command(step))

    def check(self, ok: bool, detail: str) -> None:
        if not ok:
            self.fail(detail)

    def _maybe_arm(self, ledger: Ledger | None) -> str | None:
        if self.rng.random() >= self.cfg.crash_rate:
            return None
        point = self.rng.choice(CRASH_POINTS)
        if point != "answer_lost":
            self.plan.arm(point, None if ledger is None else ledger.store)
        return point

    def _expect_head(self, seq: int, why: str) -> None:
        probe = Ledger(self.url, clock=self.clock)
        try:
            with probe.store.read() as (_conn, head):
                self.check(head.seq == seq, f"{why}: head is {head.seq}, model says {seq}")
        finally:
            probe.close()

    def effective(self) -> date:
        """Usually the clock's day (or the ledger's last date, if a write went ahead of it);
        sometimes backdated or too far ahead."""
        rng, model, today = self.rng, self.model, self.clock.day
        base = today if model.last_day is None else max(today, model.last_day)
        roll = rng.random()
        if roll < 0.03 and model.last_day is not None:
            return model.last_day - timedelta(days=rng.randint(1, 40))
        if roll < 0.05:
            return today + timedelta(days=rng.randint(32, 90))
        if roll < 0.08:
            return today + timedelta(days=rng.randint(1, 31))
        return base

    # ---- a step -----------------------------------------------------------------------

    def step(self) -> None:
        rng = self.rng
        self.step_no += 1
        roll = rng.random()
        if roll < 0.25:
            self.clock.day += timedelta(days=rng.randint(1, 20))
        elif roll < 0.26:
            self.clock.day += timedelta(days=rng.randint(200, 800))
        if rng.random() < 0.01 and len(self.writers) > 0:  # a writer process restarts
            index = rng.randrange(len(self.writers))
            self.writers[index].close()
            self.writers[index] = self._writer()
        writer = rng.randrange(len(self.writers))
        model, today = self.model, self.clock.day
        owed = sum(1 for loan in model.loans.values() if loan.outstanding)  # returned more
        due = any(loan.status(today) == "expired" for loan in model.loans.values())
        ended = model.period_end is not None and model.period_end <= today
        planned = bool(model.open_plans())
        troubled = len(model.open_problems())  # closed by hand more often as they pile up
        kind = rng.choices(
            ["sync", "open", "return", "evaluate", "rebuild", "init", "approve", "withdraw",
             "problem_open", "problem_close", "teacher", "rotate", "correct"],
            weights=[28, 42, min(30, 2 * owed) or 1, 14 if due else 1, 8 if ended else 1, 1, 12,
                     3 if planned else 1, 3, min(40, 4 * troubled) or 1, 2, 1, 1.5],
        )[0]  # fmt: skip
        command = getattr(self, f"draw_{kind}")()
        in_process = kind not in ("teacher", "rotate")  # a plan object; keys change
        if in_process and self.cfg.processes and self.index % 20 == 0 and self.step_no % 100 == 50:
            self.run_in_process(kind, command, writer)
        else:
            self.run(kind, command, writer)
        if self.step_no % self.cfg.verify_every == 0:
            self.verify_all()

    def run(self, kind: str, command: Callable[[Ledger], Any], writer: int) -> None:
        """Run a drawn command (a closure that knows its expectation), with a crash maybe."""
        ledger = self.writers[writer]
        self.request = f"writer {writer}: {command.desc}"  # type: ignore[attr-defined]
        point = self._maybe_arm(ledger) if kind != "init" else None
        try:
            outcome = command(ledger)
        except SimulatedCrash as crash:
            self.count(kind, f"crash:{crash.point}" + (" (replay)" if crash.replay else ""))
            self.after_crash(kind, command, writer, crash.committed and not crash.replay)
            return
        finally:
            self.plan.disarm()
        if point is not None and self.plan.hit is None and point != "answer_lost":
            self.count("crash armed", "not reached (nothing written)")
        if point == "answer_lost" and outcome.startswith("ok"):
            self.count(kind, f"{outcome}; answer lost")
            self.after_crash(kind, command, writer, True, retried_by_model=True)
            return
        self.count(kind, outcome)
        self.check_status(ledger)
        other = self.rng.randrange(len(self.writers))
        if other != writer and self.rng.random() < 0.3:
            self.check_status(self.writers[other])

    def run_in_process(self, kind: str, command: Callable[[Ledger], Any], writer: int) -> None:
        """The command in a real process that may die mid-write (`os._exit` at a crash point)."""
        self.request = f"real process: {command.desc}"  # type: ignore[attr-defined]
        point = self.rng.choice((*CRASH_POINTS[:-1], ""))
        remote = RemoteLedger(self.url, self.clock.day, point, self.key, self.old_keys)
        try:
            outcome = command(remote)
        except SimulatedCrash as crash:
            self.count(
                kind, f"process died at {crash.point}" + (" (replay)" if crash.replay else "")
            )
            self.after_crash(kind, command, writer, crash.committed and not crash.replay)
            return
        self.count(kind, f"process: {outcome}")
        self.check_status(self.writers[writer])

    def after_crash(
        self,
        kind: str,
        command: Callable[[Ledger], Any],
        writer: int,
        committed: bool,
        retried_by_model: bool = False,
    ) -> None:
        """Whole or nothing; the crashed writer's cache holds no half command; the client
        re-sends the request (drawn commands re-check against the model as it now is)."""
        if committed and not retried_by_model:  # the crashed run applied nothing to the model
            command.apply_committed()  # type: ignore[attr-defined]
        self._expect_head(self.model.seq, f"after a crash ({kind}, committed={committed})")
        roll = self.rng.random()
        if roll < 0.4:  # the process died: a new Ledger object takes its place
            self.writers[writer].close()
            self.writers[writer] = self._writer()
            self.check_status(self.writers[writer])
        elif roll < 0.6:  # it lives on, and reads at once
            self.check_status(self.writers[writer])
        # else it lives on and reads only later, after other writers may have moved the head
        # past what its cache held: a half-applied command must not survive in that cache
        if self.rng.random() < 0.8:
            again = self.rng.randrange(len(self.writers))
            outcome = command.again(self.writers[again])  # type: ignore[attr-defined]
            self.count(kind, f"retry: {outcome}")
            self.check_status(self.writers[again])

    # ---- checks -----------------------------------------------------------------------

    def check_status(self, ledger: Ledger) -> None:
        status = ledger.status()
        want = self.model.status_view(self.clock.day)
        got = {
            "as_of": status["as_of"],
            "seq": status["head"]["seq"],
            "admin": {k: status["pools"]["admin"][k] for k in want["admin"]},  # type: ignore[attr-defined]
            "institutional": status["pools"]["institutional"],
            "totals": status["totals"],
            "units": [{k: u[k] for k in _UNIT_KEYS} for u in status["units"]],
            "loans": [{k: loan[k] for k in _LOAN_KEYS} for loan in status["loans"]],
            "alerts": sorted(
                (a["kind"], a.get("loan_id") or a.get("unit_id") or a.get("pool"))
                for a in status["alerts"]
            ),
            "useplans": status["useplans"],
            "problems": status["problems"],
            "teacher": status["teacher"],
        }
        want["alerts"] = sorted(want["alerts"])  # type: ignore[type-var]
        if got != want:
            diffs = [
                f"{k}: ledger {got[k]!r}\n   model  {want[k]!r}" for k in want if got[k] != want[k]
            ]
            self.fail("status differs from the model:\n  " + "\n  ".join(diffs))
        self.check_invariants(status)

    def check_invariants(self, status: dict[str, Any]) -> None:
        """What holds whatever the model says (SPEC 4): pools add up, no quota counted twice,
        空一还一 applied."""
        for name, pool in status["pools"].items():
            self.check(pool["lent"] + pool["available"] == pool["capacity"], f"{name} pool sums")
        loans = status["loans"]
        by_unit: dict[str, list[int]] = {}
        for u in status["units"]:
            by_unit[u["unit_id"]] = [0, 0, 0]
        for name in ("admin", "institutional"):
            lent = sum(x["outstanding"] for x in loans if x["pool"] == name)
            self.check(lent == status["pools"][name]["lent"], f"{name} pool lent ≠ its loans")
        for x in loans:
            if x["lender"] is None:
                by_unit[x["unit_id"]][0] += x["outstanding"]
            else:
                by_unit[x["unit_id"]][1] += x["outstanding"]
                by_unit[x["lender"]][2] += x["outstanding"]
        for u in status["units"]:
            figures = [u["pool_headcount"], u["borrowed"], u["lent"]]
            self.check(figures == by_unit[u["unit_id"]], f"{u['unit_id']} counted twice: {u}")
            owes = any(x["unit_id"] == u["unit_id"] for x in loans)
            self.check(not (owes and u["vacancies"] > 0), f"空一还一 not applied to {u}")
        totals = status["totals"]
        self.check(
            totals["in_post"]
            == totals["headcount"] + totals["borrowed_headcount"] + totals["pool_headcount"],
            "city totals",
        )

    def verify_all(self) -> None:
        self.report.verified += 1
        result = self.writers[0].verify()
        self.check(result["ok"], f"audit verify: {result['problems'][:3]}")
        fresh = self._writer()
        try:
            replayed = fresh.status()
            for ledger in self.writers:
                self.check(ledger.status() == replayed, "a live ledger differs from a full replay")
            self.check(
                replayed["head"]["seq"] == self.model.seq, "the replayed head is not the model's"
            )
        finally:
            fresh.close()

    # ---- the commands -------------------------------------------------------------------
    # Each draw_* returns a callable(ledger) -> outcome text that runs the command, checks it
    # against the model and applies it to the model when it commits; `.again` re-sends it
    # after a crash, `.apply_committed` applies it when a crash happened after the commit.

    def _expect(self, kind: str, broken: set[str], attempt: Callable[[], Any]) -> tuple[str, Any]:
        """Run `attempt`; refused exactly when `broken`, naming one of them."""
        try:
            result = attempt()
        except SimulatedCrash:
            self.check(not broken, f"{kind} reached its write although {sorted(broken)} broken")
            raise
        except RuleViolation as refusal:
            self.check(
                bool(broken), f"{kind} refused by {refusal.rule}; the model finds no rule broken"
            )
            self.check(
                refusal.rule in broken,
                f"{kind} refused by {refusal.rule}, not one of {sorted(broken)}",
            )
            return f"refused {refusal.rule}", None
        self.check(not broken, f"{kind} accepted although the model finds {sorted(broken)} broken")
        return "ok", result

    def draw_sync(self) -> Any:
        rng, model = self.rng, self.model
        snapshot = [_copy(u) for u in model.units.values()]
        allow = False
        for _ in range(rng.randint(1, 3)):
            over = [u for u in snapshot if u.unit_id in model.units and self._room(u) < 0]
            planned = [u for u in snapshot if model.open_plans(u.unit_id)]
            change = rng.choices(
                ["departure", "hire", "over", "grow", "shrink", "new", "remove", "mass",
                 "flip", "rename", "none", "fix"],
                weights=[20, 28, 5, 12, 8, 5, 4, 1, 3, 3, 9, 12 if over else 0],
            )[0]  # fmt: skip
            if not snapshot:
                break
            u = rng.choice(snapshot)
            if change == "departure":
                u.headcount = max(0, u.headcount - rng.randint(1, 3))
            elif change == "hire" and planned and rng.random() < 0.7:
                # hires against the unit's plans (posted, no hire without a plan), up to full
                u = rng.choice(planned)
                reserved = sum(plan.remaining for plan in model.open_plans(u.unit_id))
                u.headcount += max(0, min(reserved, self._room(u)))
            elif change == "hire":
                u.headcount += min(rng.randint(1, 3), u.vacancies)
            elif change == "fix":  # back within quota: the sync closes its automatic problem
                u = rng.choice(over)
                u.headcount = max(0, u.headcount + self._room(u))
            elif change == "over":
                u.headcount += rng.randint(1, 2)
            elif change == "grow":
                u.approved += rng.randint(1, 3)
            elif change == "shrink":
                u.approved = max(0, u.approved - rng.randint(1, 2))
            elif change == "new":
                self.next_unit += 1
                level = rng.choice([MUNICIPAL, COUNTY])
                approved = rng.randint(0, 12)
                snapshot.append(MUnit(
                    f"N{self.next_unit}", f"新单位{self.next_unit}",
                    "C00" if level == MUNICIPAL else "C01", level,
                    rng.choice([ADMINISTRATIVE, INSTITUTIONAL]), approved,
                    rng.randint(0, approved + 1),
                ))  # fmt: skip
            elif change == "remove" and len(snapshot) > 4:
                snapshot.remove(u)
            elif change == "mass" and len(snapshot) > 5:
                for victim in rng.sample(snapshot, min(len(snapshot) - 1, rng.randint(2, 3))):
                    snapshot.remove(victim)
                allow = rng.random() < 0.5
            elif change == "flip":
                if rng.random() < 0.5:
                    u.level = COUNTY if u.level == MUNICIPAL else MUNICIPAL
                    u.region = "C00" if u.level == MUNICIPAL else "C01"
                else:
                    u.kind = INSTITUTIONAL if u.kind == ADMINISTRATIVE else ADMINISTRATIVE
            elif change == "rename":
                u.name += "·"
        if rng.random() < 0.3:
            rng.shuffle(snapshot)
        day = self.effective()
        units = [_unit(u) for u in snapshot]

        def run(ledger: Ledger) -> str:
            broken = model.sync_broken(snapshot, allow, day, self.clock.day)
            outcome, result = self._expect(
                "sync",
                broken,
                lambda: ledger.sync(units, actor=ACTOR, effective=day, allow_removals=allow),
            )
            if result is not None:
                counts = model.sync(snapshot, day)
                did = {
                    "changes": len(result["changes"]),
                    "expired": len(result["expired"]),
                    "lapsed": len(result.get("lapsed", [])),
                    "posted": sum(p["count"] for p in result.get("posted", [])),
                    "problems_opened": len(result["problems_opened"]),
                    "problems_closed": len(result["problems_closed"]),
                }
                self.check(
                    did == {k: counts[k] for k in did}, f"sync did {did}; the model {counts}"
                )
                self.check(
                    sum(r.get("count", 1) for r in result["returns"]) == counts["returns"],
                    f"sync returned {result['returns']}; the model {counts['returns']}",
                )
            return outcome

        desc = (
            f"sync(effective={day}, allow_removals={allow}, units={[u.record() for u in snapshot]})"
        )
        return self._command(run, lambda: model.sync(snapshot, day), desc)

    def _command(self, run: Callable[[Ledger], str], apply: Callable[[], Any], desc: str) -> Any:
        """`run` with `.again` (re-send it), `.apply_committed` (what the model applies when a
        crash came after the commit) and `.desc` (the request, for a failure's message)."""
        run.again = run  # type: ignore[attr-defined]
        run.apply_committed = apply  # type: ignore[attr-defined]
        run.desc = desc  # type: ignore[attr-defined]
        return run

    def _plain(
        self,
        kind: str,
        broken: Callable[[], set[str]],
        call: Callable[[Ledger], Any],
        apply: Callable[[], Any],
        desc: str,
    ) -> Any:
        """A command whose acceptance the model applies as it is (`apply`), nothing to compare
        in its answer: refused exactly when `broken()` (judged when it runs) is not empty."""

        def run(ledger: Ledger) -> str:
            outcome, result = self._expect(kind, broken(), lambda: call(ledger))
            if result is not None:
                apply()
            return outcome

        return self._command(run, apply, desc)

    def _pick_unit(self, pool: str = "") -> str:
        """A borrower: mostly one the pool lends to with no vacancy (a loan it may get)."""
        rng, units = self.rng, list(self.model.units.values())
        if rng.random() < 0.03:
            return "ZZ9"  # not in the ledger
        if rng.random() < 0.8:
            full = [
                u
                for u in units
                if u.vacancies == 0
                and not u.over
                and (pool != "admin" or u.admin_organ)
                and (pool != "institutional" or u.kind == INSTITUTIONAL)
            ]
            clear = [u for u in full if not self.model.blocked(u.unit_id)]
            if clear or full:
                return rng.choice(clear or full).unit_id
            eligible = [  # none full: one the pool lends to, which may still have a vacancy
                u
                for u in units
                if (pool != "admin" or u.admin_organ)
                and (pool != "institutional" or u.kind == INSTITUTIONAL)
            ]
            if eligible and rng.random() < 0.5:
                return rng.choice(eligible).unit_id
        return rng.choice(units).unit_id

    def _room(self, u: MUnit) -> int:
        """A snapshot unit's vacancies as the ledger will count them (its own quota less what
        it lent, which a snapshot does not carry); negative when over quota."""
        known = self.model.units.get(u.unit_id)
        return u.approved - (known.lent if known else 0) - u.headcount

    def draw_open(self) -> Any:
        rng, model = self.rng, self.model
        keys = list(model.keys)
        roll = rng.random()
        if keys and roll < 0.15:  # a key again: the same request, or a different one
            key = rng.choice(keys)
            loan = model.loans[model.keys[key]]
            pool, uid, count, purpose = loan.pool, loan.borrower, loan.count, loan.purpose
            day, document, reason, term = loan.opened, loan.document, loan.reason, None
            if rng.random() < 0.4:
                what = rng.choice(["count", "purpose", "unit", "day", "reason"])
                if what == "count":
                    count += 1
                elif what == "purpose":
                    purpose = "别的用途"
                elif what == "unit":
                    uid = self._pick_unit()
                elif what == "day":
                    day = self.effective()
                else:
                    reason = "另一理由"
        else:
            key = None
            if roll < 0.55:
                self.next_key += 1
                key = f"k{self.next_key}"
            room = {  # mostly a pool with room left: a full one is refused (pool.capacity)
                "admin": model.admin_capacity() > model.pool_lent("admin"),
                "institutional": model.inst_capacity > model.pool_lent("institutional"),
            }
            full = rng.random() < 0.7
            kind = rng.choices(
                ["admin", "institutional", "unit", "bogus"],
                weights=[40 if room["admin"] or full else 4,
                         35 if room["institutional"] or full else 4, 23, 2],
            )[0]  # fmt: skip
            uid = self._pick_unit(kind)
            if kind == "unit":
                lender = rng.choice(list(model.units.values()))
                spare = [u for u in model.units.values() if u.vacancies > 0 and u.unit_id != uid]
                if spare and rng.random() < 0.8:
                    lender = rng.choice(spare)
                pool = f"unit:{'ZZ8' if rng.random() < 0.02 else lender.unit_id}"
            else:
                pool = "pool9" if kind == "bogus" else kind
            count = rng.choice([1, 1, 1, 2, 2, 3]) if rng.random() > 0.03 else rng.choice([0, -1])
            purposes = {
                "admin": ADMIN_PURPOSES, "institutional": INSTITUTIONAL_PURPOSES,
            }.get(kind, ("专项任务",))  # fmt: skip
            purpose = rng.choice(purposes)
            if rng.random() < 0.05:
                purpose = rng.choice(["其他", "  ", ""])
            term = None
            if rng.random() < 0.1:
                term = rng.choice([1, 2, 3, 0, 51])
            day = self.effective()
            document = rng.choice(["", "", "编办〔2026〕1号"])
            reason = ""

        def attempt(ledger: Ledger) -> Any:
            return ledger.open_loan(
                pool=pool, unit_id=uid, count=count, purpose=purpose, actor=ACTOR,
                term_years=term, key=key, effective=day, reason=reason, document=document,
            )  # fmt: skip

        def run(ledger: Ledger) -> str:
            earlier = model.keys.get(key) if key else None
            if term is not None and not 1 <= term <= 50:
                broken = {"loan.term"}
            elif earlier is not None:
                stored = model.loans[earlier]
                if model.key_request_differs(stored, pool, uid, count, purpose, term, day,
                                             document, reason):  # fmt: skip
                    broken = {"loan.key_conflict"}
                else:
                    return self._replayed(ledger, attempt, stored)
            else:
                broken = model.open_broken(pool, uid, count, purpose, term, day, self.clock.day)
            outcome, result = self._expect("open", broken, lambda: attempt(ledger))
            if result is not None:
                expected = f"L{model.seq + 1 + self._due(day):06d}"
                warned = [w["rule"] for w in result.get("warnings", [])]
                self.check(
                    warned == (["problem.open_blocks"] if model.warned(uid) else []),
                    f"open warned {warned}",
                )
                loan = apply()
                self.check(
                    (result["loan_id"], result["replayed"]) == (loan.loan_id, False)
                    and loan.loan_id == expected,
                    f"opened {result['loan_id']} (replayed {result['replayed']}); "
                    f"the model opens {loan.loan_id}",
                )
                lender = loan.lender
                if lender is None:
                    capacity = model.admin_capacity() if pool == "admin" else model.inst_capacity
                    self.check(model.pool_lent(pool) <= capacity, "a pool lent beyond capacity")
                return f"ok {pool.split(':')[0]}" + (" keyed" if key else "")
            return outcome

        def apply() -> MLoan:
            return model.open(pool, uid, count, purpose, term, day, key, document, reason)

        desc = (
            f"open_loan(pool={pool!r}, unit_id={uid!r}, count={count}, purpose={purpose!r}, "
            f"term_years={term}, key={key!r}, effective={day}, reason={reason!r}, "
            f"document={document!r})"
        )
        return self._command(run, apply, desc)

    def _due(self, day: date) -> int:
        return self.model.lapsing(day) + sum(
            1
            for loan in self.model.loans.values()
            if loan.outstanding and not loan.expired and loan.end is not None and loan.end <= day
        )

    def _replayed(self, ledger: Ledger, attempt: Callable[[Ledger], Any], loan: MLoan) -> str:
        try:
            result = attempt(ledger)
        except SimulatedCrash as crash:
            crash.replay = True  # a replay writes nothing: nothing to apply to the model
            raise
        except RuleViolation as refusal:
            self.fail(f"a retry under key {loan.key} was refused: {refusal.rule}")
        self.check(
            result["replayed"] and result["loan_id"] == loan.loan_id,
            f"a retry under key {loan.key} answered {result['loan_id']} "
            f"(replayed {result['replayed']}), not {loan.loan_id}",
        )
        return "replayed"

    def _pick_loan(self, prefer: Callable[[MLoan], bool]) -> str:
        rng, loans = self.rng, list(self.model.loans.values())
        if not loans or rng.random() < 0.04:
            return "L999999"
        good = [loan for loan in loans if prefer(loan)]
        if good and rng.random() < 0.85:
            return rng.choice(good).loan_id
        return rng.choice(loans).loan_id

    def draw_return(self) -> Any:
        rng, model = self.rng, self.model
        loan_id = self._pick_loan(lambda loan: loan.outstanding > 0)
        loan = model.loans.get(loan_id)
        count: int | None = None
        if loan is not None and loan.outstanding and rng.random() < 0.6:
            count = rng.randint(1, loan.outstanding)
        elif rng.random() < 0.2:
            count = rng.choice([0, 99])
        day = self.effective()

        return self._plain(
            "return",
            lambda: model.return_broken(loan_id, count, day, self.clock.day),
            lambda ledger: ledger.return_loan(loan_id, count=count, actor=ACTOR, effective=day),
            lambda: model.return_loan(loan_id, count, day),
            f"return_loan({loan_id!r}, count={count}, effective={day})",
        )

    def draw_evaluate(self) -> Any:
        rng, model = self.rng, self.model
        today = self.clock.day
        loan_id = self._pick_loan(lambda loan: loan.status(today) == "expired")
        score = rng.randint(0, 100) if rng.random() > 0.05 else rng.choice([-1, 101])
        decision = rng.choice(
            ["extend", "return", "extend", "return", "renew"][: 4 + (rng.random() < 0.05)]
        )
        day = self.effective()
        new_end: date | None = day + timedelta(days=rng.randint(30, 800))
        if rng.random() < 0.05:
            new_end = day - timedelta(days=rng.randint(0, 10))

        def run(ledger: Ledger) -> str:
            broken = model.evaluate_broken(loan_id, score, decision, new_end, day, self.clock.day)
            outcome, result = self._expect(
                "evaluate",
                broken,
                lambda: ledger.evaluate_loan(
                    loan_id,
                    score=score,
                    decision=decision,
                    new_end=new_end,
                    actor=ACTOR,
                    effective=day,
                ),
            )
            if result is not None:
                model.evaluate(loan_id, score, decision, new_end, day)
                return f"ok {decision}"
            return outcome

        desc = (
            f"evaluate_loan({loan_id!r}, score={score}, decision={decision!r}, "
            f"new_end={new_end}, effective={day})"
        )
        apply = lambda: model.evaluate(loan_id, score, decision, new_end, day)  # noqa: E731
        return self._command(run, apply, desc)

    def draw_rebuild(self) -> Any:
        rng, model = self.rng, self.model
        capacity = rng.randint(0, 12) if rng.random() > 0.03 else -1
        day = self.effective()

        return self._plain(
            "rebuild",
            lambda: model.rebuild_broken(capacity, day, self.clock.day),
            lambda ledger: ledger.rebuild_pool(actor=ACTOR, capacity=capacity, effective=day),
            lambda: model.rebuild(capacity, day),
            f"rebuild_pool(capacity={capacity}, effective={day})",
        )

    def draw_approve(self) -> Any:
        """A quota-use plan: mostly for a unit with free vacancies, sometimes beyond them or
        invalid; keyed or not; a key again, exact or differing (or a loan's key)."""
        rng, model = self.rng, self.model
        keys = list(model.plan_keys)
        roll = rng.random()
        until: date | None
        if keys and roll < 0.15:
            key: str | None = rng.choice(keys)
            plan = model.plans[model.plan_keys[key]]  # type: ignore[index]
            uid, count, channel, purpose = plan.unit_id, plan.count, plan.channel, plan.purpose
            until, day, document, reason = plan.until, plan.approved_on, plan.document, plan.reason
            if rng.random() < 0.4:
                what = rng.choice(["count", "channel", "until", "day", "document"])
                if what == "count":
                    count += 1
                elif what == "channel":
                    channel = next(c for c in CHANNELS if c != channel)
                elif what == "until":
                    until += timedelta(days=1)
                elif what == "day":
                    day = self.effective()
                else:
                    document = "编办〔2026〕9号"
        else:
            key = None
            if roll < 0.5:
                self.next_key += 1
                key = f"p{self.next_key}"
            elif roll < 0.52 and model.keys:
                key = rng.choice(list(model.keys))  # a loan's key: refused
            units = list(model.units.values())
            free = [u for u in units if model.free(u.unit_id) > 0]
            if free and rng.random() < 0.85:
                unit = rng.choice(free)
                uid = unit.unit_id
                spare = model.free(uid)
                count = rng.randint(1, spare) if rng.random() < 0.85 else spare + 1
            else:
                uid = rng.choice(units).unit_id if rng.random() > 0.03 else "ZZ9"
                count = rng.choice([1, 2, 0]) if rng.random() > 0.1 else -1
            channel = rng.choice(CHANNELS) if rng.random() > 0.03 else "猎头"
            purpose = (
                rng.choice(["补充教师", "窗口服务", "专业技术"]) if rng.random() > 0.03 else " "
            )
            day = self.effective()
            until = None
            if rng.random() < 0.4:
                until = day + timedelta(days=rng.randint(-5, 500))
            document = rng.choice(["", "编办〔2026〕3号"])
            reason = ""

        def attempt(ledger: Ledger) -> Any:
            return ledger.approve_plan(
                unit_id=uid, count=count, channel=channel, purpose=purpose, actor=ACTOR,
                until=until, key=key, effective=day, reason=reason, document=document,
            )  # fmt: skip

        def run(ledger: Ledger) -> str:
            if key is not None and key in model.keys:
                broken = {"useplan.key_conflict"}
            elif key is not None and key in model.plan_keys:
                stored = model.plans[model.plan_keys[key]]
                if model.plan_request_differs(stored, uid, count, channel, purpose, until, day,
                                              document, reason):  # fmt: skip
                    broken = {"useplan.key_conflict"}
                else:
                    try:
                        result = attempt(ledger)
                    except SimulatedCrash as crash:
                        crash.replay = True
                        raise
                    except RuleViolation as refusal:
                        self.fail(f"a retry under key {key} was refused: {refusal.rule}")
                    self.check(
                        result["replayed"] and result["plan_id"] == stored.plan_id,
                        f"a retry under key {key} answered {result['plan_id']}, "
                        f"not {stored.plan_id}",
                    )
                    return "replayed"
            else:
                broken = model.approve_broken(uid, count, channel, purpose, until, day,
                                              self.clock.day)  # fmt: skip
            warned = model.warned(uid) if uid in model.units else False
            outcome, result = self._expect("approve", broken, lambda: attempt(ledger))
            if result is not None:
                plan = apply()
                self.check(
                    (result["plan_id"], result["replayed"]) == (plan.plan_id, False),
                    f"approved {result['plan_id']}; the model {plan.plan_id}",
                )
                got = [w["rule"] for w in result.get("warnings", [])]
                self.check(got == (["problem.open_blocks"] if warned else []), f"warned {got}")
                self.check(model.reserved(uid) <= model.units[uid].vacancies,
                           "a plan reserved beyond the vacancies")  # fmt: skip
                return "ok" + (" keyed" if key else "")
            return outcome

        def apply() -> Any:
            return model.approve(uid, count, channel, purpose, until, day, ACTOR, key, document,
                                 reason)  # fmt: skip

        desc = (
            f"approve_plan(unit_id={uid!r}, count={count}, channel={channel!r}, "
            f"purpose={purpose!r}, until={until}, key={key!r}, effective={day}, "
            f"document={document!r}, reason={reason!r})"
        )
        return self._command(run, apply, desc)

    def draw_withdraw(self) -> Any:
        rng, model = self.rng, self.model
        plans = list(model.plans)
        open_ids = [p.plan_id for p in model.open_plans()]
        if open_ids and rng.random() < 0.85:
            plan_id = rng.choice(open_ids)
        elif plans and rng.random() < 0.8:
            plan_id = rng.choice(plans)
        else:
            plan_id = "UP999999"
        reason = "计划调整" if rng.random() > 0.05 else ""
        day = self.effective()

        return self._plain(
            "withdraw",
            lambda: model.withdraw_broken(plan_id, reason, day, self.clock.day),
            lambda ledger: ledger.withdraw_plan(plan_id, actor=ACTOR, reason=reason, effective=day),
            lambda: model.withdraw(plan_id, day),
            f"withdraw_plan({plan_id!r}, reason={reason!r}, effective={day})",
        )

    def draw_problem_open(self) -> Any:
        rng, model = self.rng, self.model
        uid = rng.choice(list(model.units)) if rng.random() > 0.03 else "ZZ9"
        kind = rng.choice(PROBLEM_KINDS) if rng.random() > 0.03 else "迟到"
        day = self.effective()
        deadline = day + timedelta(days=rng.randint(0, 120) if rng.random() > 0.05 else -1)
        reason, document = "月比对发现", rng.choice(["", "编办〔2026〕7号"])

        def run(ledger: Ledger) -> str:
            broken = model.problem_open_broken(uid, kind, deadline, day, self.clock.day)
            outcome, result = self._expect(
                "problem_open",
                broken,
                lambda: ledger.open_problem(
                    unit_id=uid,
                    kind=kind,
                    deadline=deadline,
                    actor=ACTOR,
                    effective=day,
                    reason=reason,
                    document=document,
                ),
            )
            if result is not None:
                problem = apply()
                self.check(
                    result["problem"]["problem_id"] == problem.problem_id,
                    f"opened {result['problem']['problem_id']}; the model {problem.problem_id}",
                )
            return outcome

        def apply() -> Any:
            return model.open_problem(uid, kind, deadline, day, ACTOR, reason, document)

        desc = f"open_problem(unit_id={uid!r}, kind={kind!r}, deadline={deadline}, effective={day})"
        return self._command(run, apply, desc)

    def draw_problem_close(self) -> Any:
        rng, model = self.rng, self.model
        open_ids = [p.problem_id for p in model.open_problems()]
        if open_ids and rng.random() < 0.85:
            problem_id = rng.choice(open_ids)
        elif model.problems and rng.random() < 0.8:
            problem_id = rng.choice(list(model.problems))
        else:
            problem_id = "PB999999"
        reason = "整改到位" if rng.random() > 0.05 else "  "
        day = self.effective()

        return self._plain(
            "problem_close",
            lambda: model.problem_close_broken(problem_id, reason, day, self.clock.day),
            lambda ledger: ledger.close_problem(
                problem_id, actor=ACTOR, reason=reason, effective=day
            ),
            lambda: model.close_problem(problem_id, reason, day),
            f"close_problem({problem_id!r}, reason={reason!r}, effective={day})",
        )

    def _teacher_plan(self) -> MTeacherPlan:
        """A small random plan: from the ledger's county quotas (or new counties on the first
        one), quota moved between counties plus `extra_quota`; sometimes stale (a county's
        current is not the ledger's), not optimal, or declaring the wrong extra quota."""
        rng, model = self.rng, self.model
        current = {c: (a.name, a.quota) for c, a in model.teacher.items()}
        if not current:
            current = {
                f"T{n}": (f"区县{n}", rng.randint(20, 200)) for n in range(1, rng.randint(3, 5))
            }
        rows = {c: [name, quota, quota] for c, (name, quota) in current.items()}
        ids = list(rows)
        for _ in range(rng.randint(0, 3)):  # move quota between counties
            giver, taker = rng.choice(ids), rng.choice(ids)
            moved = rng.randint(0, min(5, rows[giver][2]))
            rows[giver][2] -= moved
            rows[taker][2] += moved
        extra = rng.choice([0, 0, 0, 1, 2, 5])
        rows[rng.choice(ids)][2] += extra
        if model.teacher and rng.random() < 0.1:
            rows[rng.choice(ids)][1] += rng.choice([-1, 1])  # computed from other figures
        declared = extra if rng.random() > 0.05 else extra + 1
        status = "optimal" if rng.random() > 0.03 else "infeasible"
        self.next_key += 1
        digest = hashlib.sha256(f"{self.cfg.seed}:{self.index}:{self.next_key}".encode())
        return MTeacherPlan(
            digest.hexdigest(), hashlib.sha256(digest.digest()).hexdigest(), status, declared,
            tuple((c, str(name), int(cur), int(new)) for c, (name, cur, new) in rows.items()),
        )  # fmt: skip

    def draw_teacher(self) -> Any:
        """SPEC 2.9: a teacher plan applied — fresh, stale, or one applied before (again
        under its key: answered as before; without it: refused)."""
        rng, model = self.rng, self.model
        key: str | None
        if self.teacher_plans and rng.random() < 0.3:
            plan, key = rng.choice(self.teacher_plans)
            done = model.applications.get(plan.plan_id)
            if done is not None and key is not None and rng.random() < 0.6:
                day, document = date.fromisoformat(str(done["effective"])), str(done["document"])
            else:
                day, document = self.effective(), "教育〔2026〕2号"
            if key is not None and rng.random() < 0.3:
                key = None
        else:
            plan = self._teacher_plan()
            self.next_key += 1
            key = f"t{self.next_key}" if rng.random() < 0.5 else None
            self.teacher_plans.append((plan, key))
            day = self.effective()
            document = "教育〔2026〕2号" if rng.random() > 0.03 else " "
        reason = ""
        teacher_plan = TeacherPlan(
            "simulator", plan.plan_id, plan.scenario_hash, "simulated", plan.status, None, (),
            plan.extra_quota, tuple(PlanCounty(*row) for row in plan.counties),
        )  # fmt: skip

        def attempt(ledger: Ledger) -> Any:
            return ledger.apply_teacher_plan(
                teacher_plan, actor=ACTOR, document=document, key=key, effective=day
            )

        def run(ledger: Ledger) -> str:
            if key is not None and key in model.teacher_keys and document.strip():
                if model.teacher_request_differs(key, plan, day, document, reason):
                    broken = {"teacher.key_conflict"}
                else:
                    try:
                        result = attempt(ledger)
                    except SimulatedCrash as crash:
                        crash.replay = True
                        raise
                    except RuleViolation as refusal:
                        self.fail(f"a retry under key {key} was refused: {refusal.rule}")
                    self.check(result["replayed"], f"a retry under key {key} was not replayed")
                    return "replayed"
            else:
                broken = model.teacher_broken(plan, document, day, self.clock.day)
            outcome, result = self._expect("teacher", broken, lambda: attempt(ledger))
            if result is not None:
                done = apply()
                got = {k: result[k] for k in done}
                self.check(got == done, f"applied {got}; the model {done}")
                self.check(result["replayed"] is False, "a first application was replayed")
                return "ok" + (" keyed" if key else "")
            return outcome

        def apply() -> Any:
            return model.apply_teacher(plan, day, ACTOR, key, document, reason)

        desc = f"apply_teacher_plan({plan}, key={key!r}, effective={day}, document={document!r})"
        return self._command(run, apply, desc)

    def draw_rotate(self) -> Any:
        """The chain key rotated by one writer: the others (old key) are refused until they
        start again with the new key; rotating to the key in use is refused (so is the
        client's retry of a rotation that committed although its answer was lost)."""
        rng, model = self.rng, self.model
        day = self.effective()
        same = rng.random() < 0.1
        new_key = (
            (self.key or DEMO_KEY) if same else f"sim-key-{self.cfg.seed}-{self.index}-{model.seq}"
        )

        def switch() -> None:  # the rotation committed: every writer restarts with the new key
            model.rotate(day)
            self.old_keys.append(self.key or DEMO_KEY)
            self.key = new_key
            for index, writer in enumerate(self.writers):
                writer.close()
                self.writers[index] = self._writer()

        def run(ledger: Ledger) -> str:
            in_use = new_key == (self.key or DEMO_KEY)
            broken = model.date_broken(day, self.clock.day) | (
                {"ledger.key_rotation"} if in_use else set()
            )
            outcome, result = self._expect(
                "rotate", broken, lambda: ledger.rotate_key(new_key, actor=ACTOR, effective=day)
            )
            if result is None:
                return outcome
            stale = [w for w in self.writers if w is not ledger]
            if stale:  # a writer still holding the old key is refused, writing nothing
                units = [_unit(u) for u in model.units.values()]
                try:
                    rng.choice(stale).sync(units, actor=ACTOR, effective=day)
                except RuleViolation as refusal:
                    self.check(refusal.rule == "ledger.wrong_key", f"old key: {refusal.rule}")
                    self.count("rotate", "old-key writer refused ledger.wrong_key")
                else:
                    self.fail("a writer with the old chain key wrote after the rotation")
            switch()
            return outcome

        desc = f"rotate_key({'the key in use' if same else new_key!r}, effective={day})"
        return self._command(run, switch, desc)

    def draw_correct(self) -> Any:
        """The 文号 of an event corrected (a reversing entry): an earlier event, or none."""
        rng, model = self.rng, self.model
        target = rng.randint(1, model.seq) if rng.random() > 0.05 else model.seq + 50
        current = model.current_document(target) if target <= model.seq else ""
        new = (
            current
            if rng.random() < 0.05
            else rng.choice(["编办〔2026〕11号", "编办〔2027〕1号", ""])
        )
        day = self.effective()
        document = rng.choice(["", "更正〔2026〕1号"])

        def run(ledger: Ledger) -> str:
            broken = model.correct_broken(target, new, day, self.clock.day)
            old = model.current_document(target) if target <= model.seq else ""
            outcome, result = self._expect(
                "correct",
                broken,
                lambda: ledger.correct(
                    target,
                    actor=ACTOR,
                    reason="文号录入有误",
                    document=new,
                    correction_document=document,
                    effective=day,
                ),
            )
            if result is not None:
                model.correct(target, new, day, document)
                made = result["corrections"]
                want = [{"field": "document", "old": old, "new": new, "event": model.seq}]
                self.check(made == want, f"corrected {made}; the model {want}")
            return outcome

        desc = f"correct({target}, document={new!r}, effective={day})"
        return self._command(run, lambda: model.correct(target, new, day, document), desc)

    def draw_init(self) -> Any:
        units = [_unit(u) for u in self.model.units.values()]
        day = self.effective()

        def run(ledger: Ledger) -> str:
            outcome, _ = self._expect(
                "init",
                {"ledger.exists"} | self.model.date_broken(day, self.clock.day),
                lambda: Ledger.create(
                    self.url,
                    units,
                    key=self.key,
                    actor=ACTOR,
                    settings=self.settings,
                    effective=day,
                    clock=self.clock,
                ),
            )
            return outcome

        return self._command(run, lambda: None, f"Ledger.create(effective={day}) again")


_UNIT_KEYS = (
    "unit_id", "name", "region", "level", "kind", "approved", "headcount", "pool_headcount",
    "borrowed", "lent", "usable", "vacancies", "over_quota",
)  # fmt: skip
_LOAN_KEYS = (
    "loan_id", "pool", "unit_id", "lender", "count", "outstanding", "purpose", "opened", "end",
    "status", "returned", "key", "evaluations",
)  # fmt: skip


class RemoteLedger:
    """A Ledger whose every call runs in a new process (`child`), which may die at `point`:
    its death reaches the caller as `SimulatedCrash`, a refusal as `RuleViolation`."""

    def __init__(self, url: str, day: date, point: str, key: str | None, old_keys: list[str]):
        self.url, self.day, self.point = url, day, point
        self.key, self.old_keys = key, old_keys

    def __getattr__(self, method: str) -> Callable[..., Any]:
        from .child import DIED, encode

        def call(*args: Any, **kwargs: Any) -> Any:
            request = {
                "url": self.url, "day": self.day.isoformat(), "point": self.point,
                "key": self.key, "old_keys": self.old_keys,
                "method": method, "args": encode(list(args)), "kwargs": encode(kwargs),
            }  # fmt: skip
            done = subprocess.run(
                [sys.executable, "-m", "tests.pools.simulation.child", json.dumps(request)],
                capture_output=True, text=True, cwd=Path(__file__).resolve().parents[3],
            )  # fmt: skip
            if done.returncode == DIED:  # where it died: "died at <point>" (a point past the
                raise SimulatedCrash(done.stderr.split("died at ")[-1].strip())  # last statement)
            if done.returncode != 0:
                raise RuntimeError(f"writer process failed: {done.stderr.strip()[-2000:]}")
            answer = json.loads(done.stdout.strip().splitlines()[-1])
            if "refused" in answer:
                raise RuleViolation(Violation(answer["refused"], answer["en"], answer["zh"]))
            return answer["result"]

        return call


# ---- the run --------------------------------------------------------------------------------


@contextmanager
def _databases(cfg: Config) -> Iterator[Callable[[int], str]]:
    """URL of a fresh database for each episode."""
    if cfg.url is not None:
        engine = sa.create_engine(pools.storage.normalise_url(cfg.url))

        def fresh_pg(_index: int) -> str:
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS ledger_events, ledger_head CASCADE")
            return str(cfg.url)

        try:
            yield fresh_pg
        finally:
            engine.dispose()
        return
    shm = Path("/dev/shm")
    root = Path(tempfile.mkdtemp(prefix="quotapool-sim-", dir=shm if shm.is_dir() else None))

    def fresh_sqlite(index: int) -> str:
        return f"sqlite:///{root}/episode-{index}.db"

    try:
        yield fresh_sqlite
    finally:
        shutil.rmtree(root, ignore_errors=True)


def simulate(cfg: Config, progress: Callable[[str], None] | None = None) -> Report:
    """Run steps [first_step's episode start, steps) of the seed's run; raise on a failure."""
    report = Report()
    started = wallclock.perf_counter()  # for the steps/s figure only, never for a decision
    plan = FaultPlan()
    first_episode = cfg.first_step // cfg.episode_steps
    last_episode = (cfg.steps - 1) // cfg.episode_steps
    with ExitStack() as stack:
        stack.enter_context(relaxed_sqlite())
        stack.enter_context(installed(plan))
        fresh = stack.enter_context(_databases(cfg))
        for index in range(first_episode, last_episode + 1):
            url = fresh(index)
            episode = Episode(cfg, index, url, plan, report)
            steps = min(cfg.episode_steps, cfg.steps - index * cfg.episode_steps)
            try:
                episode.init()
                for _ in range(steps):
                    episode.step()
                    report.steps += 1
                episode.verify_all()
                report.events += episode.model.seq
            except SimulationFailure:
                raise
            except Exception as exc:  # a traceback out of the ledger is a failure too
                episode.fail(f"{type(exc).__name__}: {exc}")
            finally:
                episode.close()
                if url.startswith("sqlite:///"):
                    for suffix in ("", "-wal", "-shm"):
                        Path(url[len("sqlite:///") :] + suffix).unlink(missing_ok=True)
            if progress is not None:
                elapsed = wallclock.perf_counter() - started
                progress(f"episode {index}: {report.steps} steps, {report.steps / elapsed:,.0f}/s")
    report.seconds = wallclock.perf_counter() - started
    return report


__all__ = ["Config", "Report", "SimulationFailure", "simulate"]
