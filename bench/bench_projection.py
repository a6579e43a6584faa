"""How good and how fast are the projections? Prints figures; asserts nothing.

    python bench/bench_projection.py [--counties 300] [--origins 8] [--skip-speed]

(a) Backtest on a synthetic history (bench/gen_history.py: drifting, noisy ratios, a falling
    birth cohort; 300 counties in cities of 10, 2000–2027): for each origin year k, project
    from the years up to k and compare with years k+1..k+5. Prints the mean absolute
    percentage error (MAPE) by horizon and the share of actual figures inside the 10–90 band
    (target: 80 %), per county and level, and per city and level (the city band from the
    same simulated futures summed over its counties).
(b) Speed, each in a fresh process (imports included): national enrolment (2,850 counties ×
    12 grades × 10 past years, plus births) and a province roster (1,000,000 teachers,
    generated here, not committed), against a process that only reads the same files with
    pandas (the floor), as a ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from gen_history import synthetic, synthetic_roster  # noqa: E402

from optimizer.projection import (  # noqa: E402
    ProjectionSettings,
    births_from_frame,
    fit,
    history_from_frame,
    level_matrix,
    project,
    simulate,
)

HORIZON = 5
CITY = 10  # counties per city


def backtest(counties: int, origins: int, seed: int, keep: int | None) -> None:
    ids = [f"C{i:04d}" for i in range(counties)]
    rng = np.random.default_rng(seed)
    scale = rng.lognormal(np.log(6000), 0.6, counties)
    first, last = 2000, 2027
    data = synthetic(ids, scale, first, last, seed=seed)
    settings = ProjectionSettings(years=HORIZON)
    levels = level_matrix(settings, 12)
    truth = history_from_frame(data.history, "truth", settings).students  # [c, g, y]
    truth_levels = np.einsum("cgy,gl->cly", truth, levels)
    city_of = np.arange(counties) // CITY
    errors: dict[str, list[list[float]]] = {"county": [[] for _ in range(HORIZON)]}
    errors["city"] = [[] for _ in range(HORIZON)]
    inside: dict[str, list[list[bool]]] = {"county": [[] for _ in range(HORIZON)]}
    inside["city"] = [[] for _ in range(HORIZON)]
    for origin in range(last - HORIZON - origins + 1, last - HORIZON + 1):
        since = origin - keep + 1 if keep else first
        past = data.history[data.history["year"].between(since, origin)]
        history = history_from_frame(past.reset_index(drop=True), "history", settings)
        births, _ = births_from_frame(data.births[data.births["year"] <= origin], history, "births")
        model = fit(history, births, settings)
        result = project(model, settings)
        point = result.enrolment["students"].to_numpy().reshape(counties, 3, HORIZON)
        low = result.enrolment["low"].to_numpy().reshape(counties, 3, HORIZON)
        high = result.enrolment["high"].to_numpy().reshape(counties, 3, HORIZON)
        actual = truth_levels[:, :, origin - first + 1 : origin - first + 1 + HORIZON]
        paths = simulate(model, HORIZON, settings.draws, np.random.default_rng(origin))
        city_paths = np.stack(
            [
                np.einsum("dcgh,gl->dlh", paths[:, city_of == c], levels)
                for c in range(city_of[-1] + 1)
            ],
            axis=1,
        )
        city_low, city_high = np.quantile(city_paths, settings.band, axis=0)
        city_point = np.stack([point[city_of == c].sum(0) for c in range(city_of[-1] + 1)])
        city_actual = np.stack([actual[city_of == c].sum(0) for c in range(city_of[-1] + 1)])
        for h in range(HORIZON):
            for name, p, a, lo, hi in (
                ("county", point, actual, low, high),
                ("city", city_point, city_actual, city_low, city_high),
            ):
                usable = a[..., h] > 0
                errors[name][h] += list(np.abs(p[..., h] - a[..., h])[usable] / a[..., h][usable])
                inside[name][h] += list(
                    ((lo[..., h] <= a[..., h]) & (a[..., h] <= hi[..., h])).ravel()
                )
    used = f"the last {keep} years" if keep else "every year from 2000"
    print(f"(a) backtest: {counties} counties, {origins} origins, {used}, horizon {HORIZON} years")
    print("    horizon  MAPE county  MAPE city  coverage county  coverage city (10–90: 80 %)")
    for h in range(HORIZON):
        print(
            f"    {h + 1:>7}  {np.mean(errors['county'][h]):>10.2%}"
            f"  {np.mean(errors['city'][h]):>9.2%}"
            f"  {np.mean(inside['county'][h]):>15.1%}  {np.mean(inside['city'][h]):>13.1%}"
        )


FLOOR_ENROLMENT = """
import sys, pandas as pd
for path in sys.argv[1:]:
    pd.read_csv(path, dtype={"county_id": str})
"""
FLOOR_ROSTER = """
import sys, pandas as pd
pd.read_csv(sys.argv[1], dtype=str)
"""


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def against_floor(what: str, run: float, floor: float) -> str:
    return (
        f"    {what} {run:.2f} s; pandas reading the same files {floor:.2f} s; {run / floor:.1f}×"
    )


def speed(seed: int) -> None:
    python = sys.executable
    quotapool = [python, "-c", "import sys, quotapool; sys.exit(quotapool.main())"]
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        ids = [f"{110000 + i}" for i in range(2850)]
        scale = np.random.default_rng(seed).lognormal(np.log(6000), 0.6, len(ids))
        data = synthetic(ids, scale, 2016, 2025, seed=seed)
        data.history.to_csv(base / "history.csv", index=False)
        data.births.to_csv(base / "births.csv", index=False)
        floor = timed(
            [python, "-c", FLOOR_ENROLMENT, str(base / "history.csv"), str(base / "births.csv")]
        )
        run = timed(
            [
                *quotapool,
                *("project", "enrolment", "--history", str(base / "history.csv")),
                *("--births", str(base / "births.csv"), "--years", "5"),
                *("--out", str(base / "projected.csv")),
            ]
        )
        print(
            f"(b) national enrolment: {len(data.history):,} history rows "
            "(2,850 counties × 12 grades × 10 years)"
        )
        print(against_floor("project enrolment", run, floor))
        sizes = np.full(100, 10_000)
        roster = synthetic_roster(
            [f"{330100 + i}" for i in range(100)],
            sizes,
            ["urban", "town", "rural", "town"] * 25,
            dt.date(2027, 1, 1),
            seed=seed,
        )
        roster.to_csv(base / "roster.csv", index=False, encoding="utf-8-sig")
        floor = timed([python, "-c", FLOOR_ROSTER, str(base / "roster.csv")])
        run = timed(
            [
                *quotapool,
                *("project", "departures", "--roster", str(base / "roster.csv")),
                *("--from", "2027-01-01", "--years", "5", "--out", str(base / "departures.csv")),
            ]
        )
        print(f"    province roster: {len(roster):,} teachers in 100 counties")
        print(against_floor("project departures", run, floor))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=300)
    parser.add_argument("--origins", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--history-years", type=int, default=None, help="only the last N years")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-backtest", action="store_true")
    args = parser.parse_args()
    if not args.skip_backtest:
        backtest(args.counties, args.origins, args.seed, args.history_years)
    if not args.skip_speed:
        speed(args.seed)


if __name__ == "__main__":
    main()
