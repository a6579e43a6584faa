"""MILP backends (HiGHS, CBC through PuLP, SCIP through OR-Tools) and the lexicographic driver.

A backend is a `Backend`: it takes a `LinearModel` and a time limit and returns a
`BackendResult` whose status says what the solver itself reported (`SolveStatus`).
`solve_milp` runs the stages of an objective (e.g. fair: level → shortfall → movement →
tie-break) with the backend and never trusts a solver's "optimal": each stage's plan is
certified in whole-number arithmetic (`optimizer.certify`) and the next stage keeps the exact
set of that stage's optima as bounds on each county's quota. A level the certificate beats is
improved by asking the backend again at the better level; a later stage's plan that a
solver's tolerance left a few exchanges short of the optimum is finished by exact exchanges
(counted in `Solution.polished`), and one further off ends in `SolverFailure`. A backend
answers exactly or not at all.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Protocol

import numpy as np

from optimizer.certify import STAGE_COSTS, Box, better_level, optimal_box, polish
from optimizer.exact import Problem, Solution, max_relative_shortfall, stage1_floor
from optimizer.model import LinearModel, build_stage

TOLERANCE = 1e-9  # HiGHS feasibility tolerances (SCIP slowed down badly with it: kept default)
MAX_LEVEL_ROUNDS = 50  # re-solves of the level stage at a certified better level
MAX_POLISH = 100  # exchanges that may finish a stage a solver left within its tolerance


class SolveStatus(StrEnum):
    """What a solver reported for one model."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"  # stopped by the time limit before proving an optimum
    ERROR = "error"


@dataclass(frozen=True)
class BackendResult:
    status: SolveStatus
    values: np.ndarray | None = None  # variable values when OPTIMAL


class Backend(Protocol):
    def __call__(self, model: LinearModel, time_limit: float | None = None) -> BackendResult: ...


class SolverFailure(RuntimeError):
    """A MILP backend did not give a certified optimum (time limit, numerical trouble)."""


@contextlib.contextmanager
def _native_stdout_silenced() -> Iterator[None]:
    """HiGHS 1.12's MIP prints a debug line from C++ straight to file descriptor 1 even with
    output_flag off; it would corrupt `--json` output, so fd 1 points at /dev/null meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def solve_highs(model: LinearModel, time_limit: float | None = None) -> BackendResult:
    """HiGHS through highspy: the CSR arrays are passed as they are."""
    import highspy

    lower, upper, integer = model.bounds()
    starts, columns, values, row_lower, row_upper = model.csr()
    lp = highspy.HighsLp()
    lp.num_col_ = model.num_vars
    lp.num_row_ = model.num_rows
    lp.col_cost_ = model.cost()
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = columns
    lp.a_matrix_.value_ = values
    kinds = highspy.HighsVarType
    lp.integrality_ = [kinds.kInteger if flag else kinds.kContinuous for flag in integer]
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 0.0)
    # Stage-1 levels of different plans can differ by 1e-7 or less; with the default 1e-6
    # tolerances HiGHS accepted a worse level on a 200-county instance (and took 25 s).
    highs.setOptionValue("mip_feasibility_tolerance", TOLERANCE)
    highs.setOptionValue("primal_feasibility_tolerance", TOLERANCE)
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    highs.passModel(lp)
    with _native_stdout_silenced():
        highs.run()
    status = highs.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        return BackendResult(SolveStatus.OPTIMAL, np.asarray(highs.getSolution().col_value))
    if status == highspy.HighsModelStatus.kInfeasible:
        return BackendResult(SolveStatus.INFEASIBLE)
    if status == highspy.HighsModelStatus.kTimeLimit:
        return BackendResult(SolveStatus.TIME_LIMIT)
    return BackendResult(SolveStatus.ERROR)


def _rows(
    model: LinearModel,
) -> Iterator[tuple[int, np.ndarray, np.ndarray, float, float]]:
    starts, columns, values, row_lower, row_upper = model.csr()
    for r in range(model.num_rows):
        span = slice(starts[r], starts[r + 1])
        yield r, columns[span], values[span], row_lower[r], row_upper[r]


def solve_cbc(model: LinearModel, time_limit: float | None = None) -> BackendResult:
    """CBC through PuLP."""
    import pulp

    lower, upper, integer = model.bounds()
    problem = pulp.LpProblem("quota", pulp.LpMinimize)
    variables = [
        problem.add_variable(
            f"v{j}",
            lowBound=None if np.isinf(lower[j]) else float(lower[j]),
            upBound=None if np.isinf(upper[j]) else float(upper[j]),
            cat=pulp.LpInteger if integer[j] else pulp.LpContinuous,
        )
        for j in range(model.num_vars)
    ]
    problem += pulp.lpSum(w * variables[j] for j, w in model.objective.items())
    for r, columns, values, lo, hi in _rows(model):
        expression = pulp.LpAffineExpression(
            [(variables[j], float(v)) for j, v in zip(columns, values, strict=True)]
        )
        if lo == hi:
            problem += expression == float(lo), f"r{r}"
        else:
            if not np.isinf(lo):
                problem += expression >= float(lo), f"r{r}_lo"
            if not np.isinf(hi):
                problem += expression <= float(hi), f"r{r}_hi"
    with warnings.catch_warnings():
        # PuLP 3.3 flags its bundled CBC for removal in 4.0; it is the CBC this project ships.
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(msg=False, gapRel=0.0, gapAbs=0.0, timeLimit=time_limit)
    problem.solve(solver)
    if problem.status == pulp.LpStatusOptimal and problem.sol_status == pulp.LpSolutionOptimal:
        return BackendResult(SolveStatus.OPTIMAL, np.array([v.varValue or 0.0 for v in variables]))
    if problem.status == pulp.LpStatusInfeasible:
        return BackendResult(SolveStatus.INFEASIBLE)
    # CBC reports "Stopped" only when a limit stops it, and the time limit is the only one set
    # (gaps are 0); with or without a plan found, it did not prove an optimum.
    stopped = problem.status == pulp.LpStatusNotSolved or (
        problem.sol_status == pulp.LpSolutionIntegerFeasible
    )
    return BackendResult(SolveStatus.TIME_LIMIT if stopped else SolveStatus.ERROR)


def solve_ortools(model: LinearModel, time_limit: float | None = None) -> BackendResult:
    """SCIP through OR-Tools' linear solver wrapper."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("SCIP")
    if solver is None:
        return BackendResult(SolveStatus.ERROR)
    lower, upper, integer = model.bounds()
    infinity = solver.infinity()
    variables = [
        (solver.IntVar if integer[j] else solver.NumVar)(
            -infinity if np.isinf(lower[j]) else float(lower[j]),
            infinity if np.isinf(upper[j]) else float(upper[j]),
            f"v{j}",
        )
        for j in range(model.num_vars)
    ]
    for r, columns, values, lo, hi in _rows(model):
        row = solver.RowConstraint(
            -infinity if np.isinf(lo) else float(lo),
            infinity if np.isinf(hi) else float(hi),
            model.row_names[r],
        )
        for j, v in zip(columns, values, strict=True):
            row.SetCoefficient(variables[j], float(v))
    objective = solver.Objective()
    for j, w in model.objective.items():
        objective.SetCoefficient(variables[j], w)
    objective.SetMinimization()
    if time_limit is not None:
        solver.SetTimeLimit(int(time_limit * 1000))
    parameters = pywraplp.MPSolverParameters()
    parameters.SetDoubleParam(parameters.RELATIVE_MIP_GAP, 0.0)
    status = solver.Solve(parameters)
    if status == pywraplp.Solver.OPTIMAL:
        return BackendResult(SolveStatus.OPTIMAL, np.array([v.solution_value() for v in variables]))
    if status == pywraplp.Solver.INFEASIBLE:
        return BackendResult(SolveStatus.INFEASIBLE)
    # FEASIBLE: a plan without a proof of optimality, which with a zero gap means a limit
    # stopped SCIP; NOT_SOLVED / ABNORMAL are errors.
    if status == pywraplp.Solver.FEASIBLE:
        return BackendResult(SolveStatus.TIME_LIMIT)
    return BackendResult(SolveStatus.ERROR)


BACKENDS: dict[str, Backend] = {
    "highs": solve_highs,
    "cbc": solve_cbc,
    "ortools": solve_ortools,
}


def _run(
    problem: Problem,
    ids: list[str],
    stage: str,
    keeps: list[tuple[str, Box]],
    backend: Backend,
    time_limit: float | None,
) -> np.ndarray:
    """One stage's plan from the backend, as whole numbers that satisfy every kept bound."""
    built = build_stage(problem, ids, stage, keeps)
    result = backend(built.model, time_limit)
    if result.status != SolveStatus.OPTIMAL or result.values is None:
        raise SolverFailure(f"stage '{stage}' ended with status '{result.status}'")
    x = np.rint(result.values[built.x]).astype(np.int64)
    inside = all(np.all((box.lower <= x) & (x <= box.upper)) for _, box in keeps)
    if int(x.sum()) != problem.total or not inside:
        raise SolverFailure(f"stage '{stage}': the rounded plan breaks a whole-number limit")
    return x


def _fair_floor(
    problem: Problem, ids: list[str], backend: Backend, time_limit: float | None
) -> tuple[Fraction, np.ndarray]:
    """t* and its floors: the backend's level, re-solved at a better level while one exists."""
    keeps: list[tuple[str, Box]] = []
    for _ in range(MAX_LEVEL_ROUNDS):
        x = _run(problem, ids, "level", keeps, backend, time_limit)
        level = max_relative_shortfall(problem, x)
        better = better_level(problem, level)
        if better is None:
            return level, np.asarray(stage1_floor(problem, level), dtype=np.int64)
        floor = np.asarray(stage1_floor(problem, better), dtype=np.int64)
        keeps = [("keep_better_level", Box(floor, problem.upper))]
    raise SolverFailure(f"stage 'level' not certified after {MAX_LEVEL_ROUNDS} rounds")


STAGE_ORDER = {
    "fair": ("shortfall", "movement", "tiebreak"),
    "shortfall": ("shortfall", "movement", "tiebreak"),
    "movement": ("movement", "shortfall", "tiebreak"),
}


def _certified_stage(
    problem: Problem,
    ids: list[str],
    stage: str,
    keeps: list[tuple[str, Box]],
    backend: Backend,
    time_limit: float | None,
) -> tuple[np.ndarray, Box, int]:
    """The stage's plan (polished to an optimum), the box of all its optima, units polished."""
    box = keeps[-1][1] if keeps else Box(problem.lower, problem.upper)
    cost = STAGE_COSTS[stage](problem)
    x, moved = polish(cost, box, _run(problem, ids, stage, keeps, backend, time_limit), MAX_POLISH)
    optima = optimal_box(cost, box, x)
    if optima is None:
        raise SolverFailure(
            f"stage '{stage}': the plan it returned is more than {MAX_POLISH} exchanges from "
            'an optimum; use solver = "exact"'
        )
    return x, optima, moved


def solve_milp(
    problem: Problem,
    objective: str,
    solver: str,
    ids: list[str] | None = None,
    time_limit: float | None = None,
) -> Solution:
    """The same lexicographic problem as `solve_exact`, as a sequence of certified MILPs."""
    backend = BACKENDS[solver]
    ids = ids or [f"C{i}" for i in range(problem.size)]
    keeps: list[tuple[str, Box]] = []
    level: Fraction | None = None
    start, polished = problem.lower, 0
    try:
        if objective == "fair":
            level, start = _fair_floor(problem, ids, backend, time_limit)
            keeps = [("keep_stage1", Box(start, problem.upper))]
        for stage in STAGE_ORDER[objective]:
            x, optima, moved = _certified_stage(problem, ids, stage, keeps, backend, time_limit)
            keeps = [(f"keep_{stage}", optima)]  # inside every earlier box: only it binds
            polished += moved
    except SolverFailure as failure:
        raise SolverFailure(f"{solver}: {failure}") from failure
    return Solution(x=x, fair_level=level, floor=np.asarray(start), polished=polished)
