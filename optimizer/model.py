"""The reallocation as solver-independent linear models, one per stage.

One function per constraint family, each adding rows with structured names such as `total`,
`shortfall[C03]`, `keep_stage1[C03]`. A `LinearModel` holds variables (bounds, integrality),
sparse rows (CSR) and an objective; backends (`optimizer.backends`) only translate it.

Needs come from the integer-scaled figures of `optimizer.need` (n_i = N_i/D). Rows are
written with coefficients near 1, because solvers decide with tolerances and their plans are
certified exactly afterwards (`optimizer.certify`). "Keep the earlier optimum" constraints
are whole-number bounds on each county's quota: the exact set of the earlier stage's optima.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from optimizer.certify import Box
from optimizer.exact import Problem


@dataclass
class LinearModel:
    """min objective·v subject to row_lower ≤ A v ≤ row_upper, var bounds, integrality."""

    var_names: list[str] = field(default_factory=list)
    var_lower: list[np.ndarray] = field(default_factory=list)
    var_upper: list[np.ndarray] = field(default_factory=list)
    var_integer: list[np.ndarray] = field(default_factory=list)
    row_names: list[str] = field(default_factory=list)
    _rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    _row_lower: list[np.ndarray] = field(default_factory=list)
    _row_upper: list[np.ndarray] = field(default_factory=list)
    objective: dict[int, float] = field(default_factory=dict)

    @property
    def num_vars(self) -> int:
        return len(self.var_names)

    @property
    def num_rows(self) -> int:
        return len(self.row_names)

    def add_variables(
        self, family: str, labels: list[str], lower: ArrayLike, upper: ArrayLike, integer: bool
    ) -> np.ndarray:
        start = self.num_vars
        count = len(labels)
        self.var_names.extend(f"{family}[{label}]" for label in labels)
        self.var_lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (count,)))
        self.var_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (count,)))
        self.var_integer.append(np.full(count, integer))
        return np.arange(start, start + count)

    def add_rows(
        self,
        names: list[str],
        local_row: np.ndarray,
        column: np.ndarray,
        value: np.ndarray,
        lower: ArrayLike,
        upper: ArrayLike,
    ) -> None:
        """Rows given as coordinates (row within this block, variable, coefficient)."""
        start = self.num_rows
        count = len(names)
        self.row_names.extend(names)
        self._rows.append((np.asarray(local_row) + start, np.asarray(column), np.asarray(value)))
        self._row_lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (count,)))
        self._row_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (count,)))

    def set_objective(self, columns: np.ndarray, coefficients: ArrayLike) -> None:
        weights = np.broadcast_to(np.asarray(coefficients, dtype=float), (len(columns),))
        self.objective = {int(c): float(w) for c, w in zip(columns, weights, strict=True)}

    # Arrays the backends consume.
    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cat = np.concatenate
        return cat(self.var_lower), cat(self.var_upper), cat(self.var_integer)

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(row starts, column indices, values, row lower, row upper) in CSR form."""
        rows = np.concatenate([r for r, _, _ in self._rows])
        cols = np.concatenate([c for _, c, _ in self._rows])
        vals = np.concatenate([v for _, _, v in self._rows]).astype(float)
        order = np.lexsort((cols, rows))
        counts = np.bincount(rows, minlength=self.num_rows)
        starts = np.concatenate([[0], np.cumsum(counts)])
        lower = np.concatenate(self._row_lower)
        upper = np.concatenate(self._row_upper)
        return starts, cols[order], vals[order], lower, upper

    def cost(self) -> np.ndarray:
        costs = np.zeros(self.num_vars)
        for column, weight in self.objective.items():
            costs[column] = weight
        return costs


@dataclass
class QuotaModel:
    """The model plus where its variable families live."""

    model: LinearModel
    x: np.ndarray
    level: np.ndarray | None = None  # t (fair stage 1)
    shortfall: np.ndarray | None = None  # s_i = scaled shortfall
    move: np.ndarray | None = None  # m_i = |x_i − current_i|


def _labels(ids: list[str]) -> list[str]:
    return list(ids)


# ---------------------------------------------------------------- one function per family


def add_quotas(model: LinearModel, problem: Problem, ids: list[str]) -> np.ndarray:
    """Whole-number quotas within their bounds (release limit / floor, cap)."""
    return model.add_variables("x", _labels(ids), problem.lower, problem.upper, integer=True)


def add_total(model: LinearModel, x: np.ndarray, total: int) -> None:
    """Σ x_i = total (the city total plus extra quota)."""
    model.add_rows(["total"], np.zeros(len(x), dtype=int), x, np.ones(len(x)), total, total)


def add_relative_level(
    model: LinearModel, problem: Problem, x: np.ndarray, ids: list[str]
) -> np.ndarray:
    """level[i]: (n_i − x_i)/n_i ≤ t, i.e. x_i/n_i + t ≥ 1, for counties with need.

    Divided by n_i so that every coefficient is near 1: written in whole numbers
    (D·x_i + N_i·t ≥ N_i, N_i up to 10¹³) CBC returned t = 1 as "optimal". The level a
    solver finds is only a candidate: `optimizer.backends` certifies it exactly.
    """
    (t,) = model.add_variables("t", ["max_relative_shortfall"], 0.0, 1.0, integer=False)
    needy = np.flatnonzero(problem.scaled_need > 0)
    count = len(needy)
    local = np.concatenate([np.arange(count), np.arange(count)])
    columns = np.concatenate([x[needy], np.full(count, t)])
    inverse_need = float(problem.scale) / problem.scaled_need[needy].astype(float)
    values = np.concatenate([inverse_need, np.ones(count)])
    model.add_rows([f"level[{ids[i]}]" for i in needy], local, columns, values, 1.0, np.inf)
    return np.array([t])


def add_shortfall(
    model: LinearModel, problem: Problem, x: np.ndarray, ids: list[str]
) -> np.ndarray:
    """shortfall[i]: s_i ≥ n_i − x_i, s_i ≥ 0 (in quotas, so coefficients are 1; the exact
    scaled shortfall is recomputed from the whole-number plan and certified)."""
    s = model.add_variables("s", _labels(ids), 0.0, np.inf, integer=False)
    count = len(ids)
    local = np.concatenate([np.arange(count), np.arange(count)])
    columns = np.concatenate([s, x])
    values = np.ones(2 * count)
    rhs = problem.scaled_need.astype(float) / float(problem.scale)
    model.add_rows([f"shortfall[{i}]" for i in ids], local, columns, values, rhs, np.inf)
    return s


def add_movement(model: LinearModel, problem: Problem, x: np.ndarray, ids: list[str]) -> np.ndarray:
    """move_up[i]: m_i − x_i ≥ −c_i and move_down[i]: m_i + x_i ≥ c_i, so m_i ≥ |x_i − c_i|."""
    m = model.add_variables("m", _labels(ids), 0.0, np.inf, integer=False)
    count = len(ids)
    current = problem.current.astype(float)
    local = np.concatenate([np.arange(count), np.arange(count)])
    columns = np.concatenate([m, x])
    model.add_rows(
        [f"move_up[{i}]" for i in ids],
        local,
        columns,
        np.concatenate([np.ones(count), -np.ones(count)]),
        -current,
        np.inf,
    )
    model.add_rows(
        [f"move_down[{i}]" for i in ids],
        local,
        columns,
        np.ones(2 * count),
        current,
        np.inf,
    )
    return m


def add_keep(model: LinearModel, name: str, x: np.ndarray, box: Box, ids: list[str]) -> None:
    """keep_<stage>[i]: L_i ≤ x_i ≤ U_i, the earlier stage's optima (see `optimizer.certify`).

    Whole-number bounds on single variables are exact in every solver, where a kept sum
    (Σ scaled shortfall ≤ S*, S* near 10¹¹) is not: within its tolerance CBC declared the
    optimum infeasible and SCIP let through plans that moved twice as many quotas.
    """
    count = len(x)
    model.add_rows(
        [f"{name}[{i}]" for i in ids],
        np.arange(count),
        x,
        np.ones(count),
        np.asarray(box.lower, dtype=float),
        np.asarray(box.upper, dtype=float),
    )


# ---------------------------------------------------------------- the stages


STAGES = ("level", "shortfall", "movement", "tiebreak")


def build_stage(
    problem: Problem, ids: list[str], stage: str, keeps: Sequence[tuple[str, Box]] = ()
) -> QuotaModel:
    """The model of one stage: minimise `stage` (one of STAGES) over the plans that keep the
    optima already found, each given as a named box (`keep_stage1`, `keep_shortfall`, …)."""
    model = LinearModel()
    x = add_quotas(model, problem, ids)
    add_total(model, x, problem.total)
    built = QuotaModel(model=model, x=x)
    for name, box in keeps:
        add_keep(model, name, x, box, ids)
    if stage == "level":
        built.level = add_relative_level(model, problem, x, ids)
        model.set_objective(built.level, 1.0)
    elif stage == "shortfall":
        built.shortfall = add_shortfall(model, problem, x, ids)
        model.set_objective(built.shortfall, 1.0)
    elif stage == "movement":
        built.move = add_movement(model, problem, x, ids)
        model.set_objective(built.move, 1.0)
    elif stage == "tiebreak":
        # On the set of optima (a box cut by Σx = total) this fills the first-listed
        # counties first: the exact method's tie-break.
        model.set_objective(x, np.arange(len(x), dtype=float))
    else:
        raise ValueError(f"unknown stage {stage!r}; choose one of {STAGES}")
    return built
