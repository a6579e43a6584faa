"""How fast is a sweep? Prints figures; asserts nothing (speed is not a unit test).

    python bench/bench_sweep.py [--draws 1000] [--workers 2] [--counties 2850] [--seed 1]

1. Generates the national instance (bench/gen_national.py) with [uncertainty] relative_error
   = 0.05, and reads it as `quotapool sweep` does.
2. The floor: the single national exact solve, --draws times in this one process (no draw,
   no need computation, no shipping): the least any engine could take per draw.
3. The sweep's draws on the local engine with --workers processes (process start-up,
   shipping the base, drawing, exact needs, solving, streaming back), against floor / workers.
4. What follows the draws in `quotapool sweep`: the robust plan (optimizer.robust over every
   draw), the distributions and the per-draw table, and writing the files.
Peak memory is the largest resident set of this process and of any one worker.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gen_national import write  # noqa: E402

from optimizer.exact import solve_exact  # noqa: E402
from optimizer.scenario import load_scenario  # noqa: E402
from optimizer.sweep import (  # noqa: E402
    LocalWorkers,
    SweepSettings,
    local_worker_count,
    robust_plan,
    run_draws,
    sweep_instance,
)
from optimizer.sweep_cli import SweepOutcome, write_sweep  # noqa: E402


def megabytes(usage: resource.struct_rusage) -> float:
    return usage.ru_maxrss / 1024  # Linux reports kilobytes


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--counties", type=int, default=2850)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        scenario_path = write(Path(folder) / "national", counties=args.counties)
        with scenario_path.open("a", encoding="utf-8") as handle:
            handle.write("\n[uncertainty]\nrelative_error = 0.05\n")
        started = time.perf_counter()
        scenario = load_scenario(scenario_path)
        instance = sweep_instance(scenario)
        print(
            f"instance: {len(instance.ids)} counties, read in {time.perf_counter() - started:.2f} s"
        )

        base = instance.base
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.draws):
            solve_exact(base.problem, base.objective)
        floor = time.perf_counter() - started
        floor_cpu = time.process_time() - cpu
        print(
            f"floor: {args.draws} × one national exact solve in one process: {floor:.2f} s "
            f"({floor / args.draws * 1000:.2f} ms a solve); floor / {args.workers} cores = "
            f"{floor / args.workers:.2f} s"
        )

        settings = SweepSettings(draws=args.draws, seed=args.seed, workers=args.workers)
        children = cpu_seconds(resource.RUSAGE_CHILDREN)
        # As `quotapool sweep` does: the workers start while the scenario is read.
        workers = LocalWorkers(local_worker_count(settings))
        try:
            instance = sweep_instance(load_scenario(scenario_path))
            draws = run_draws(instance.base, settings, workers=workers)
        finally:
            workers.close()
        workers_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - children
        ratio = draws.wall_seconds / (floor / args.workers)
        print(
            f"sweep draws, local engine, {args.workers} workers: {draws.wall_seconds:.2f} s, "
            f"{args.draws / draws.wall_seconds:.1f} draws/s; {ratio:.2f}× floor / cores "
            f"(target ≤ 1.2×)"
        )
        print(
            f"  in the workers: draw + exact need {draws.draw_seconds:.2f} s, "
            f"solve {draws.solve_seconds:.2f} s (summed over workers); the rest of the wall "
            f"time is process start-up, shipping and waiting"
        )
        print(
            f"  CPU seconds (blind to other load on the machine): floor {floor_cpu:.2f} s, "
            f"workers {workers_cpu:.2f} s ({workers_cpu / floor_cpu:.2f}× the floor's)"
        )

        started = time.perf_counter()
        robust = robust_plan(instance, draws, settings.quantile)
        robust_seconds = time.perf_counter() - started
        print(f"robust plan over {args.draws} futures (optimizer.robust): {robust_seconds:.2f} s")
        seconds = {"draw": draws.draw_seconds, "solve": draws.solve_seconds}
        seconds |= {"draws_wall": draws.wall_seconds, "robust": robust_seconds}
        outcome = SweepOutcome(instance, draws, robust, settings, seconds)
        started = time.perf_counter()
        write_sweep(Path(folder) / "out", scenario, outcome)
        writing = time.perf_counter() - started
        aggregate = outcome.seconds["aggregate"]
        print(
            f"distributions and per-draw table: {aggregate:.2f} s; writing robust/, "
            f"distribution.csv and sweep.parquet: {writing - aggregate:.2f} s"
        )
        total = draws.wall_seconds + robust_seconds + writing
        print(f"whole sweep after reading: {total:.2f} s ({args.draws / total:.1f} draws/s)")
        parent = megabytes(resource.getrusage(resource.RUSAGE_SELF))
        worker = megabytes(resource.getrusage(resource.RUSAGE_CHILDREN))
        print(f"peak memory: this process {parent:.0f} MB, largest worker {worker:.0f} MB")


if __name__ == "__main__":
    main()
