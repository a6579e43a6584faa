"""MILP backends (HiGHS, CBC through PuLP, SCIP through OR-Tools) and the lexicographic driver.

A backend is one function `solve(model, time_limit) -> (status, values)`, status one of
"optimal", "infeasible", "time_limit", "error". `solve_milp` runs the stages of an objective
(e.g. fair: level → shortfall → movement → tie-break), recomputing each stage's optimum exactly
from the integer plan and keeping it with exact constraints for the next stage.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from fractions import Fraction

import numpy as np

from optimizer.exact import (
    Problem,
    Solution,
    max_relative_shortfall,
    movement,
    total_shortfall_scaled,
)
from optimizer.model import LinearModel, QuotaModel, build_stage, level_floor

TOLERANCE = 1e-9  # HiGHS feasibility tolerances (SCIP slowed down badly with it: kept default)

Backend = Callable[[LinearModel, float | None], tuple[str, np.ndarray | None]]


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


def solve_highs(model: LinearModel, time_limit: float | None = None):
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
        return "optimal", np.asarray(highs.getSolution().col_value)
    if status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible", None
    if status == highspy.HighsModelStatus.kTimeLimit:
        return "time_limit", None
    return "error", None


def _rows(model: LinearModel):
    starts, columns, values, row_lower, row_upper = model.csr()
    for r in range(model.num_rows):
        span = slice(starts[r], starts[r + 1])
        yield r, columns[span], values[span], row_lower[r], row_upper[r]


def solve_cbc(model: LinearModel, time_limit: float | None = None):
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
    status = pulp.LpStatus[problem.status]
    if status == "Optimal" and problem.sol_status == pulp.LpSolutionOptimal:
        return "optimal", np.array([v.varValue or 0.0 for v in variables])
    if status == "Infeasible":
        return "infeasible", None
    return ("time_limit" if time_limit else "error"), None


def solve_ortools(model: LinearModel, time_limit: float | None = None):
    """SCIP through OR-Tools' linear solver wrapper."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("SCIP")
    if solver is None:
        return "error", None
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
        return "optimal", np.array([v.solution_value() for v in variables])
    if status == pywraplp.Solver.INFEASIBLE:
        return "infeasible", None
    return ("time_limit" if time_limit else "error"), None


BACKENDS: dict[str, Backend] = {
    "highs": solve_highs,
    "cbc": solve_cbc,
    "ortools": solve_ortools,
}


class StageFailed(RuntimeError):
    """A backend did not return a proven optimum for one stage."""


def _run(built: QuotaModel, backend: Backend, stage: str, time_limit: float | None):
    status, values = backend(built.model, time_limit)
    if status != "optimal" or values is None:
        raise StageFailed(f"stage '{stage}' ended with status '{status}'")
    return np.rint(values[built.x]).astype(np.int64)


def solve_milp(
    problem: Problem,
    objective: str,
    solver: str,
    ids: list[str] | None = None,
    time_limit: float | None = None,
) -> Solution:
    """The same lexicographic problem as `solve_exact`, as a sequence of MILPs."""
    from optimizer.plan import SolverFailure

    backend = BACKENDS[solver]
    ids = ids or [f"C{i}" for i in range(problem.size)]
    order = {
        "fair": ("shortfall", "movement"),
        "shortfall": ("shortfall", "movement"),
        "movement": ("movement", "shortfall"),
    }[objective]
    kept: dict[str, int] = {}
    floor = problem.lower
    level: Fraction | None = None
    try:
        if objective == "fair":
            x = _run(build_stage(problem, ids, "level"), backend, "level", time_limit)
            level = max_relative_shortfall(problem, x)
            floor = np.maximum(level_floor(problem, level), problem.lower)
        stage1 = floor if objective == "fair" else None
        for stage in order:
            x = _run(
                build_stage(
                    problem,
                    ids,
                    stage,
                    stage1,
                    best_shortfall=kept.get("shortfall"),
                    best_movement=kept.get("movement"),
                ),
                backend,
                stage,
                time_limit,
            )
            kept[stage] = (
                total_shortfall_scaled(problem, x) if stage == "shortfall" else movement(problem, x)
            )
        x = _run(
            build_stage(
                problem,
                ids,
                "tiebreak",
                stage1,
                best_shortfall=kept["shortfall"],
                best_movement=kept["movement"],
            ),
            backend,
            "tiebreak",
            time_limit,
        )
    except StageFailed as failure:
        raise SolverFailure(f"{solver}: {failure}") from failure
    return Solution(x=x, fair_level=level, floor=np.asarray(floor, dtype=np.int64))
