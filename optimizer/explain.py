"""Each county's row in words with its own numbers (issue 8): why it got what it got.

One sentence per county in Chinese and one in English, from the limit that decided it
(`optimizer.plan.limited_by`) and the figures behind that limit, e.g.
"在编 2,960 − 预计减员 260 = 2,700，只出不进，不能再减". The plan table carries both
(`explanation_zh`, `explanation`), so plan.csv, plan.xlsx and the app say the same thing.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np


def _n(value: float) -> str:
    """A figure as people read it: thousands separators, one decimal only when needed."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


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
    """(Chinese, English) sentence per county."""
    chinese, english = [], []
    for i, code in enumerate(codes):
        zh, en = _sentence(
            code,
            float(need[i]),
            int(current[i]),
            int(new[i]),
            int(occupied[i]),
            int(departures[i]),
            int(lower[i]),
            int(upper[i]),
            level,
        )
        chinese.append(zh)
        english.append(en)
    return chinese, english


def _sentence(
    code: str,
    need: float,
    current: int,
    new: int,
    occupied: int,
    leaving: int,
    lower: int,
    upper: int,
    level: Fraction | None,
) -> tuple[str, str]:
    short = max(need - new, 0.0)
    if code == "cap":
        return (
            f"最多可达 {_n(upper)}，已到上限，仍缺 {_n(short)}",
            f"at its cap of {_n(upper)}, still {_n(short)} short",
        )
    if code == "floor":
        return (
            f"需求 {_n(need)}，最低编制 {_n(lower)}，保留到最低编制",
            f"need {_n(need)}, kept at its floor of {_n(lower)}",
        )
    if code == "release_limit":
        kept = occupied - leaving
        return (
            f"在编 {_n(occupied)} − 预计减员 {_n(leaving)} = {_n(kept)}，只出不进，不能再减",
            f"{_n(occupied)} in post − {_n(leaving)} leaving = {_n(kept)}: it cannot give up more",
        )
    if code in ("covered", "class_minimum"):
        basis = "按班师比核定" if code == "class_minimum" else ""
        basis_en = " (set by the class minimum)" if code == "class_minimum" else ""
        return (
            f"{basis}需求 {_n(need)}，调整后 {_n(new)}，已满足",
            f"need {_n(need)}{basis_en}, now {_n(new)}: covered",
        )
    if code == "common_level" and level is not None:
        share = f"{float(level):.1%}"
        return (
            f"与各县共担最大缺口比例 {share}：调整后 {_n(new)}，缺 {_n(short)}",
            f"shares the common largest shortfall of {share}: now {_n(new)}, {_n(short)} short",
        )
    if code == "keeps_current":
        return (
            f"保持现有 {_n(current)}，缺 {_n(short)}",
            f"keeps its {_n(current)}, {_n(short)} short",
        )
    if code == "total_used":
        return (
            f"全市总量已分配完：调整后 {_n(new)}，缺 {_n(short)}",
            f"the city total is used up: now {_n(new)}, {_n(short)} short",
        )
    return "", ""
