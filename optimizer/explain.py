"""Each county's row in words with its own numbers (issue 8): why it got what it got.

One sentence per county in Chinese and one in English, from the limit that decided it
(`optimizer.plan.limited_by`) and the figures behind that limit, e.g.
"在编 2,960 − 预计减员 260 = 2,700，只出不进，不能再减". The plan table carries both
(`explanation_zh`, `explanation`), so plan.csv, plan.xlsx and the app say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np


def _figures(values: np.ndarray, rows: np.ndarray) -> list[str]:
    """The rows' values as people read them: thousands separators, one decimal only when
    needed (one comprehension: this runs for every county of a plan)."""
    return [f"{v:,.0f}" if v.is_integer() else f"{v:,.1f}" for v in values[rows].astype(float)]


def sentences(
    codes: list[str],
    need: np.ndarray,
    current: np.ndarray,
    new: np.ndarray,
    occupied: np.ndarray,
    departures: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    level: Fraction | None,
) -> tuple[list[str], list[str]]:
    """(Chinese, English) sentence per county, built a limit at a time: a national plan of
    200,000 schools formats only the figures each sentence needs, without a call per row."""
    size = len(codes)
    chinese, english = [""] * size, [""] * size
    short = np.maximum(np.asarray(need, dtype=float) - new, 0.0)
    figures = {
        "need": need,
        "current": current,
        "new": new,
        "occupied": occupied,
        "leaving": departures,
        "kept": np.asarray(occupied) - np.asarray(departures),
        "lower": lower,
        "upper": upper,
        "short": short,
    }
    labels = np.asarray(codes, dtype=object)
    for code, (used, write) in _SENTENCES.items():
        rows = np.flatnonzero(labels == code)
        if len(rows) == 0 or (code == "common_level" and level is None):
            continue
        shown = {name: _figures(np.asarray(figures[name]), rows) for name in used}
        share = f"{float(level):.1%}" if level is not None else ""
        for position, row in enumerate(rows.tolist()):
            values = {name: shown[name][position] for name in used}
            chinese[row], english[row] = write(values, share)
    return chinese, english


Values = dict[str, str]
_SENTENCES: dict[str, tuple[tuple[str, ...], Callable[[Values, str], tuple[str, str]]]] = {
    "cap": (
        ("upper", "short"),
        lambda v, _: (
            f"最多可达 {v['upper']}，已到上限，仍缺 {v['short']}",
            f"at its cap of {v['upper']}, still {v['short']} short",
        ),
    ),
    "floor": (
        ("need", "lower"),
        lambda v, _: (
            f"需求 {v['need']}，最低编制 {v['lower']}，保留到最低编制",
            f"need {v['need']}, kept at its floor of {v['lower']}",
        ),
    ),
    "release_limit": (
        ("occupied", "leaving", "kept"),
        lambda v, _: (
            f"在编 {v['occupied']} − 预计减员 {v['leaving']} = {v['kept']}，只出不进，不能再减",
            f"{v['occupied']} in post − {v['leaving']} leaving = {v['kept']}: "
            "it cannot give up more",
        ),
    ),
    "covered": (
        ("need", "new"),
        lambda v, _: (
            f"需求 {v['need']}，调整后 {v['new']}，已满足",
            f"need {v['need']}, now {v['new']}: covered",
        ),
    ),
    "class_minimum": (
        ("need", "new"),
        lambda v, _: (
            f"按班师比核定需求 {v['need']}，调整后 {v['new']}，已满足",
            f"need {v['need']} (set by the class minimum), now {v['new']}: covered",
        ),
    ),
    "common_level": (
        ("new", "short"),
        lambda v, share: (
            f"与各县共担最大缺口比例 {share}：调整后 {v['new']}，缺 {v['short']}",
            f"shares the common largest shortfall of {share}: now {v['new']}, {v['short']} short",
        ),
    ),
    "keeps_current": (
        ("current", "short"),
        lambda v, _: (
            f"保持现有 {v['current']}，缺 {v['short']}",
            f"keeps its {v['current']}, {v['short']} short",
        ),
    ),
    "total_used": (
        ("new", "short"),
        lambda v, _: (
            f"全市总量已分配完：调整后 {v['new']}，缺 {v['short']}",
            f"the city total is used up: now {v['new']}, {v['short']} short",
        ),
    ),
}
