"""How fast is a teacher-quota plan? Prints figures; asserts nothing (speed is not a unit test).

    python bench/bench_plan.py [--sizes 2850,2850x5,30000,200000,300000] [--scale-only]
                               [--root OTHER_CHECKOUT] [--counties 2850] [--milp-counties 200]

0. Plans at every scale (issue 15): for each size (units, × years) a generated instance
   (bench/gen_national.py), then in fresh processes the files floor (pandas reads the two
   CSVs, computes need and bounds and writes one plan-sized CSV) and the whole
   `quotapool plan` run (imports, validation, solve, plan.csv + plan.xlsx + summary.json):
   wall and CPU seconds (best of --scale-runs), peak RSS, and the ratios plan / floor.
   --root runs the plan of another checkout (e.g. `git archive 9d212af | tar -x -C /tmp/base`) for
   before/after figures from one command.
1. Generates the national instance (bench/gen_national.py) in a temporary directory.
2. The floor: one fresh process that reads the same CSVs with pandas, computes need and
   solves only the stage-1 LP relaxation with highspy (imports included).
3. The whole `quotapool plan` run on that scenario (fresh process, imports, validation,
   plan.csv / plan.xlsx / summary.json), and a fresh process that only reads the CSVs with
   pandas and calls `make_plan` (the optimiser's share of the run).
4. In-process, per backend: build and solve seconds and peak traced memory. The exact method
   runs on the national instance; the MILP backends (a sequence of 4 MILPs each) on the first
   --milp-counties counties, with --time-limit seconds per stage.
5. The bundled 10-county sample city: `make_plan` median over repeats, after imports.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pandas as pd  # noqa: E402
from gen_national import write  # noqa: E402

FLOOR_SCRIPT = r"""
import resource, sys
import numpy as np, pandas as pd, highspy
folder = sys.argv[1]
counties = pd.read_csv(f"{folder}/counties.csv", dtype={"county_id": str})
enrolment = pd.read_csv(f"{folder}/enrolment.csv", dtype={"county_id": str})
standard = enrolment["level"].map({"primary": 19.0, "junior": 13.5, "senior": 12.5})
enrolment["need"] = enrolment["students"] / standard
need = enrolment.groupby("county_id")["need"].sum()
need = need.reindex(counties["county_id"]).fillna(0).to_numpy()
quota = counties["quota"].to_numpy(float)
release = (counties["occupied"] - counties["attrition"]).to_numpy(float)
lower = np.maximum(np.minimum(quota, release), 0)
lower = np.maximum(lower, counties["min_quota"].fillna(0).to_numpy(float))
upper = np.where(counties["max_gain"].notna(), quota + counties["max_gain"].fillna(0), np.inf)
n = len(quota)
# variables x_0..x_{n-1}, t;  rows: x_i + need_i t >= need_i,  sum x = total
h = highspy.Highs(); h.setOptionValue("output_flag", False)
lp = highspy.HighsLp(); lp.num_col_ = n + 1; lp.num_row_ = n + 1
lp.col_cost_ = np.r_[np.zeros(n), 1.0]
lp.col_lower_ = np.r_[lower, 0.0]; lp.col_upper_ = np.r_[upper, 1.0]
lp.row_lower_ = np.r_[need, quota.sum()]; lp.row_upper_ = np.r_[np.full(n, np.inf), quota.sum()]
lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
lp.a_matrix_.start_ = np.r_[np.arange(0, 2 * n + 1, 2), 3 * n]
lp.a_matrix_.index_ = np.r_[np.column_stack([np.arange(n), np.full(n, n)]).ravel(), np.arange(n)]
lp.a_matrix_.value_ = np.r_[np.column_stack([np.ones(n), need]).ravel(), np.ones(n)]
h.passModel(lp); h.run()
print("floor LP level", h.getInfo().objective_function_value, file=sys.stderr)
print("maxrss_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""

# The cost of reading the files and writing a plan's worth of CSV: the bar `quotapool plan`
# is measured against (issue 15: at most 3× its time and its memory at every size).
FILES_FLOOR_SCRIPT = r"""
import resource, sys
import numpy as np, pandas as pd
folder, out = sys.argv[1], sys.argv[2]
counties = pd.read_csv(f"{folder}/counties.csv", dtype={"county_id": str})
enrolment = pd.read_csv(f"{folder}/enrolment.csv", dtype={"county_id": str})
standard = enrolment["level"].map({"primary": 19.0, "junior": 13.5, "senior": 12.5})
enrolment["need"] = enrolment["students"] / standard
keys = ["county_id", "year"] if "year" in enrolment.columns else ["county_id"]
need = enrolment.groupby(keys, sort=False)["need"].sum().reset_index()
plan = need.merge(counties, on="county_id", how="left")
quota = plan["quota"].to_numpy(float)
release = (plan["occupied"] - plan["attrition"]).to_numpy(float)
plan["lowest_allowed"] = np.maximum(np.maximum(np.minimum(quota, release), 0),
                                    plan["min_quota"].fillna(0).to_numpy(float))
plan["highest_allowed"] = (plan["quota"] + plan["max_gain"]).astype("Int64")
plan["shortfall_before"] = np.maximum(plan["need"] - quota, 0)
plan["coverage_before"] = quota / plan["need"]
plan["relative_shortfall_before"] = plan["shortfall_before"] / plan["need"]
plan["label"] = np.where(plan["shortfall_before"] > 0, "short", "covered")
plan.to_csv(out, index=False, encoding="utf-8-sig", float_format="%.10g")
print("columns", len(plan.columns), "rows", len(plan), file=sys.stderr)
print("maxrss_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""

CORE_SCRIPT = r"""
import resource, sys
import pandas as pd
from optimizer.plan import make_plan
folder = sys.argv[1]
counties = pd.read_csv(f"{folder}/counties.csv", dtype={"county_id": str})
for column in ("min_quota", "max_gain"):
    counties[column] = counties[column].astype("Int64")
enrolment = pd.read_csv(f"{folder}/enrolment.csv", dtype={"county_id": str})
result = make_plan(counties, enrolment)
print("core", result.summary["status"], result.summary["max_relative_shortfall"], file=sys.stderr)
print("maxrss_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""

CLI_SCRIPT = r"""
import resource, sys, quotapool
status = quotapool.main(sys.argv[1:])
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("maxrss_kb", max(own, workers), file=sys.stderr)
sys.exit(status)
"""


def timed_process(arguments: list[str], root: Path = ROOT) -> tuple[float, int, str, float]:
    """Wall seconds, peak RSS (kB), stderr and CPU seconds (user + system) of a fresh Python
    process (code from `root`). On a shared machine wall time follows the neighbours' load;
    CPU time much less so."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *arguments], capture_output=True, text=True, env=env, cwd=root
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if done.returncode != 0:
        print(done.stdout, done.stderr, file=sys.stderr)
        raise SystemExit(f"process failed: {arguments[:2]}")
    rss = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("maxrss")]
    return seconds, rss[-1] if rss else 0, done.stderr, cpu


def best_of(runs: int, arguments: list[str], root: Path = ROOT) -> tuple[float, int]:
    return best_of_with_cpu(runs, arguments, root)[:2]


def best_of_with_cpu(
    runs: int, arguments: list[str], root: Path = ROOT
) -> tuple[float, int, float]:
    """Best wall seconds, largest peak RSS (kB) and least CPU seconds over `runs` runs."""
    results = [timed_process(arguments, root) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results), min(r[3] for r in results)


def parse_size(text: str) -> tuple[int, int]:
    """'200000' -> (200000, 1); '2850x5' -> (2850, 5): units and years."""
    units, _, years = text.lower().partition("x")
    return int(units.replace("_", "")), int(years or 1)


def scale_table(sizes: list[tuple[int, int]], runs: int, roots: dict[str, Path]) -> None:
    """Issue 15's table: per size, the files floor and each root's whole `quotapool plan`."""
    names = list(roots)
    head = f"{'units':>7} {'years':>5} {'floor s':>7} {'cpu s':>6} {'MB':>5}"
    for name in names:
        head += f" | {name + ' s':>9} {'ratio':>6} {'cpu s':>6} {'ratio':>6} {'MB':>5} {'ratio':>6}"
    print(head)
    for units, years in sizes:
        with tempfile.TemporaryDirectory(prefix="quotapool-scale-") as temp:
            folder = Path(temp) / "instance"
            scenario = write(folder, units, years)
            floor_args = ["-c", FILES_FLOOR_SCRIPT, str(folder), str(Path(temp) / "floor.csv")]
            floor, floor_kb, floor_cpu = best_of_with_cpu(runs, floor_args)
            line = f"{units:7d} {years:5d} {floor:7.2f} {floor_cpu:6.2f} {floor_kb / 1024:5.0f}"
            for name in names:
                out = Path(temp) / f"out-{name}"
                plan_args = ["-c", CLI_SCRIPT, "plan", str(scenario), "--out", str(out)]
                seconds, kb, cpu = best_of_with_cpu(runs, plan_args, roots[name])
                line += f" | {seconds:9.2f} {seconds / floor:5.1f}×"
                line += f" {cpu:6.2f} {cpu / floor_cpu:5.1f}×"
                line += f" {kb / 1024:5.0f} {kb / floor_kb:5.1f}×"
            print(line, flush=True)


def read_inputs(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    counties = pd.read_csv(folder / "counties.csv", dtype={"county_id": str})
    for column in ("min_quota", "max_gain"):
        counties[column] = counties[column].astype("Int64")
    enrolment = pd.read_csv(folder / "enrolment.csv", dtype={"county_id": str})
    return counties, enrolment


def problem_of(counties: pd.DataFrame, enrolment: pd.DataFrame):
    """The whole-number problem `make_plan` solves (single year), built as make_plan does."""
    import numpy as np

    from optimizer.exact import Problem
    from optimizer.need import compute_need
    from optimizer.plan import county_limits

    need = compute_need(counties, enrolment)
    current = counties["quota"].to_numpy(np.int64)
    total = int(current.sum())
    limits = county_limits(
        current,
        counties["occupied"].to_numpy(np.int64),
        counties["attrition"].to_numpy(np.int64),
        counties["min_quota"].fillna(0).to_numpy(np.int64),
        counties["max_gain"].fillna(0).to_numpy(np.int64),
        counties["max_gain"].notna().to_numpy(),
        total,
    )
    return Problem(need.scaled, need.scale, current, limits.lower, limits.upper, total)


def bench_backend(name: str, counties: pd.DataFrame, enrolment: pd.DataFrame, limit: float):
    """(build s, solve s, peak traced MB or None, note). Timed without tracemalloc."""
    from optimizer.backends import solve_milp
    from optimizer.certify import Box
    from optimizer.exact import solve_exact
    from optimizer.model import build_stage

    started = time.perf_counter()
    problem = problem_of(counties, enrolment)  # need, bounds: the data part of building
    ids = counties["county_id"].tolist()
    prepared = time.perf_counter()
    peak = None
    if name == "exact":
        solution = solve_exact(problem, "fair")
        build_seconds, solve_seconds = prepared - started, time.perf_counter() - prepared
        tracemalloc.start()  # a second, traced run for memory: tracing slows Python down
        solve_exact(problem_of(counties, enrolment), "fair")
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    else:
        # The driver builds each stage's model just before solving it: time building one full
        # set of stage models on its own and count the rest of the driver as solving.
        began = time.perf_counter()
        for stage in ("level", "shortfall", "movement", "tiebreak"):
            build_stage(problem, ids, stage, [("keep", Box(problem.lower, problem.upper))])
        stage_build = time.perf_counter() - began
        build_seconds = prepared - started + stage_build
        began = time.perf_counter()
        try:
            solution = solve_milp(problem, "fair", name, ids, time_limit=limit)
        except Exception as failure:  # time limit: report, do not crash the benchmark
            return build_seconds, time.perf_counter() - began, None, f"failed: {failure}"
        solve_seconds = time.perf_counter() - began - stage_build
    reference = solve_exact(problem, "fair")  # the exact plan of the same instance
    same = "same plan as exact" if (solution.x == reference.x).all() else "DIFFERS from exact"
    level = float(solution.fair_level or 0)
    return build_seconds, solve_seconds, peak, f"level {level:.9f}, {same}"


def city_seconds(repeats: int) -> float:
    from optimizer.io import load_teacher_inputs
    from optimizer.plan import make_plan

    data = ROOT / "data" / "teachers"
    counties, enrolment = load_teacher_inputs(data / "counties.csv", data / "enrolment.csv")
    make_plan(counties, enrolment)  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        make_plan(counties, enrolment)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sizes",
        default="2850,2850x5,30000,200000,300000",
        help="units[xYEARS], comma-separated (default: %(default)s)",
    )
    parser.add_argument("--scale-runs", type=int, default=1, help="fresh runs per size (best of)")
    parser.add_argument(
        "--root",
        action="append",
        default=[],
        metavar="[NAME=]DIR",
        help="also time `quotapool plan` from this checkout (repeatable), e.g. before=/tmp/base",
    )
    parser.add_argument("--scale-only", action="store_true", help="print only the scale table")
    parser.add_argument("--counties", type=int, default=2850)
    parser.add_argument("--milp-counties", type=int, default=200)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=3, help="fresh-process runs (best of)")
    parser.add_argument("--repeats", type=int, default=50, help="city make_plan repeats")
    args = parser.parse_args()
    roots = {}
    for text in args.root:
        name, _, directory = text.rpartition("=")
        roots[name or Path(directory).name] = Path(directory).resolve()
    roots["plan"] = ROOT
    print("`quotapool plan` at every scale against the files floor (fresh processes)")
    scale_table([parse_size(size) for size in args.sizes.split(",")], args.scale_runs, roots)
    if args.scale_only:
        return
    print()
    with tempfile.TemporaryDirectory(prefix="quotapool-bench-") as temp:
        folder = Path(temp) / "national"
        scenario = write(folder, args.counties)
        print(f"national instance: {args.counties} counties × 3 levels in {folder}")
        floor, floor_rss = best_of(args.runs, ["-c", FLOOR_SCRIPT, str(folder)])
        core, core_rss = best_of(args.runs, ["-c", CORE_SCRIPT, str(folder)])
        cli_args = ["-c", CLI_SCRIPT, "plan", str(scenario), "--out", str(Path(temp) / "out")]
        whole, whole_rss = best_of(args.runs, cli_args)
        print(
            f"floor (pandas read + stage-1 LP relaxation, highspy): {floor:.2f} s, "
            f"{floor_rss / 1024:.0f} MB RSS"
        )
        print(
            f"pandas read + make_plan (exact, fair):                 {core:.2f} s, "
            f"{core_rss / 1024:.0f} MB RSS  = {core / floor:.2f}× floor"
        )
        print(
            f"whole `quotapool plan` (validate, solve, csv+xlsx+json): {whole:.2f} s, "
            f"{whole_rss / 1024:.0f} MB RSS  = {whole / floor:.2f}× floor"
        )
        counties, enrolment = read_inputs(folder)
        print("\nbackend   counties  build s  solve s  peak MB  result   (peak MB: traced Python")
        print(
            "                                             memory; MILP solvers allocate natively)"
        )
        for name in ("exact", "highs", "cbc", "ortools"):
            size = args.counties if name == "exact" else args.milp_counties
            rows = counties.iloc[:size]
            subset = enrolment[enrolment["county_id"].isin(rows["county_id"])]
            build, solve, peak, note = bench_backend(name, rows, subset, args.time_limit)
            memory = f"{peak:8.1f}" if peak is not None else "  native"
            print(f"{name:8s} {size:9d} {build:8.3f} {solve:8.3f} {memory}  {note}")
    print(
        f"\n10-county sample city, make_plan median of {args.repeats}: "
        f"{city_seconds(args.repeats) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
