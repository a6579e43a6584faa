"""The argument parsers of the `project` and `sweep` sub-commands, without their work.

Building the parser imports nothing heavy: each handler imports its module (pandas, numpy,
the optimiser) only when its command runs, so `quotapool --help` answers at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any


def lazy(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """A handler that imports `module` when the command runs and calls its `name`."""

    def handler(args: argparse.Namespace) -> int:
        return int(getattr(importlib.import_module(module), name)(args))

    return handler


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, got {text!r}")
    return value


def register_project(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "project",
        help="projected enrolment or departures, as files for quotapool plan",
        description="Project enrolment (cohort progression) or departures (retirements by "
        "the 2025 statutory schedule plus other departures) into files of SPEC 3.1.",
    )
    kinds = parser.add_subparsers(dest="projection", required=True, metavar="WHAT")
    _register_enrolment(kinds)
    _register_departures(kinds)


def _register_enrolment(kinds: Any) -> None:
    parser = kinds.add_parser(
        "enrolment",
        help="pupils per county, level and year by cohort progression",
        description="From pupils by county, grade and year (at least 2 consecutive years) "
        "and optionally births by county and year, project pupils per county, level and "
        "year with a band (default 10th–90th percentile).",
    )
    parser.add_argument("--history", required=True, type=Path, metavar="FILE")
    parser.add_argument("--births", type=Path, metavar="FILE", help="births by county and year")
    parser.add_argument("--years", required=True, type=positive_int, metavar="N")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help=".csv or .xlsx")
    parser.add_argument("--grades-out", type=Path, metavar="FILE", help="also per grade")
    parser.add_argument("--window", type=positive_int, default=3, metavar="K")
    parser.add_argument("--band", type=band, default=(0.10, 0.90), metavar="LOW,HIGH")
    parser.add_argument("--draws", type=positive_int, default=200, metavar="N")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument(
        "--levels",
        type=levels,
        default=None,
        metavar="LEVEL=A-B,...",
        help="grades of each level (default primary=1-6,junior=7-9,senior=10-12)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=lazy("optimizer.project_cli", "enrolment_command"))


def _register_departures(kinds: Any) -> None:
    parser = kinds.add_parser(
        "departures",
        help="expected departures per county and year from a staff roster",
        description="Statutory retirements (2025 progressive schedule) plus other departures "
        "at a rate, per county (or unit) and year.",
    )
    parser.add_argument("--roster", required=True, type=Path, metavar="FILE")
    parser.add_argument("--from", dest="start", required=True, type=date, metavar="DATE")
    parser.add_argument("--years", required=True, type=positive_int, metavar="N")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help=".csv or .xlsx")
    rate = parser.add_mutually_exclusive_group()
    rate.add_argument("--rate", type=share, default=0.01, help="other departures a year (0.01)")
    rate.add_argument(
        "--rate-history", type=Path, metavar="FILE", help="estimate the rate from past departures"
    )
    parser.add_argument("--counties", type=Path, metavar="FILE", help="counties file to update")
    parser.add_argument("--counties-out", type=Path, metavar="FILE")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=lazy("optimizer.project_cli", "departures_command"))


def register_sweep(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="plans over many drawn enrolment futures, and one robust plan",
        description=(
            "Draw N enrolment futures around the scenario's figures (its [projection] bands, "
            "or [uncertainty] relative_error), solve each exactly, and write the per-county "
            "distributions, every draw (sweep.parquet) and the robust plan (robust/)."
        ),
    )
    parser.add_argument("scenario", type=Path, metavar="SCENARIO.toml")
    parser.add_argument("--draws", type=int, required=True, metavar="N", help="futures to draw")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="default 0")
    parser.add_argument(
        "--engine", default="local", metavar="local|ray|dask", help="default: local processes"
    )
    parser.add_argument("--address", metavar="ADDR", help="the Ray or Dask cluster to use")
    parser.add_argument(
        "--quantile", type=float, default=0.0, metavar="q", help="leave out the worst q of futures"
    )
    parser.add_argument("--workers", type=int, metavar="N", help="local processes (default: CPUs)")
    parser.add_argument("--batch", type=int, metavar="N", help="draws per task (default ≤ 25)")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=lazy("optimizer.sweep_cli", "run_sweep"))


# --- argument types --------------------------------------------------------------------------


def band(text: str) -> tuple[float, float]:
    """'10,90' (percent) or '0.1,0.9' -> (0.1, 0.9)."""
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be LOW,HIGH such as 10,90, got {text!r}") from None
    if high > 1:
        low, high = low / 100, high / 100
    if not 0 <= low < high <= 1:
        raise argparse.ArgumentTypeError(f"must be 0 ≤ LOW < HIGH ≤ 100, got {text!r}")
    return low, high


def levels(text: str) -> dict[str, tuple[int, int]]:
    """'primary=1-5,junior=6-9,senior=10-12' (五四制) -> {'primary': (1, 5), ...}."""
    from optimizer.projection import check_levels

    found: dict[str, tuple[int, int]] = {}
    try:
        for part in text.split(","):
            name, grades = part.split("=")
            first, last = grades.split("-")
            found[name.strip()] = (int(first), int(last))
        check_levels(found)
    except ValueError as exc:
        message = str(exc) if found else "must be LEVEL=FIRST-LAST,... such as primary=1-6"
        raise argparse.ArgumentTypeError(f"{message} ({text!r})") from None
    return found


def date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, got {text!r}") from None


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a share per year in [0, 1), got {text!r}")
    return value
