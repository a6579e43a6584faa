"""How fast is a sweep? Prints figures; asserts nothing (speed is not a unit test).

    python bench/bench_sweep.py [--draws 1000] [--workers 2] [--counties 2850] [--seed 1]
                                [--repeat 3] [--years 1]

1. Generates the national instance (bench/gen_national.py) with [uncertainty] relative_error
   = 0.05, and reads it as `quotapool sweep` does.
2. The floor: the single national exact solve (every plan year, as `make_plan` chains them),
   --draws times in this one process (no draw, no need computation, no shipping): the least
   any engine could take per draw.
3. The sweep's draws on the local engine with --workers processes (process start-up,
   shipping the base, drawing, exact needs, solving, streaming back), against floor / workers.
   Floor and sweep alternate --repeat times in the same run; each round prints its wall and
   CPU ratios (CPU seconds do not see the other load of a shared machine; wall seconds do).
4. What follows the draws in `quotapool sweep`: the robust plan (optimizer.robust over every
   draw), the distributions and the per-draw table, and writing the files.
Peak memory is the largest resident set of this process and of any one worker.

Every import but the standard library's is inside `main`: local workers are spawned, and a
spawned worker runs this script's top level again (as `__mp_main__`); importing pandas there
would cost every worker half a second before its first draw.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

    from gen_national import write

    from optimizer.scenario import load_scenario
    from optimizer.sweep import (
        LocalWorkers,
        SweepSettings,
        local_worker_count,
        robust_plan,
        run_draws,
        sweep_instance,
    )
    from optimizer.sweep_cli import SweepOutcome, write_sweep
    from optimizer.sweep_worker import point_path

    with tempfile.TemporaryDirectory() as folder:
        scenario_path = write(Path(folder) / "national", counties=args.counties, years=args.years)
        with scenario_path.open("a", encoding="utf-8") as handle:
            handle.write("\n[uncertainty]\nrelative_error = 0.05\n")
        started = time.perf_counter()
        scenario = load_scenario(scenario_path)
        instance = sweep_instance(scenario)
        print(
            f"instance: {len(instance.ids)} counties × {len(instance.base.years)} year(s), "
            f"read in {time.perf_counter() - started:.2f} s"
        )
        settings = SweepSettings(draws=args.draws, seed=args.seed, workers=args.workers)
        walls, cpus, paths = [], [], []
        for round_number in range(1, args.repeat + 1):
            base = instance.base
            started, cpu = time.perf_counter(), time.process_time()
            for _ in range(args.draws):
                point_path(base)
            floor = time.perf_counter() - started
            floor_cpu = time.process_time() - cpu
            children = cpu_seconds(resource.RUSAGE_CHILDREN)
            # As `quotapool sweep` does: the workers start while the scenario is read.
            workers = LocalWorkers(local_worker_count(settings))
            try:
                instance = sweep_instance(load_scenario(scenario_path))
                draws = run_draws(instance.base, settings, workers=workers)
            finally:
                workers.close()
            workers_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - children
            wall_ratio = draws.wall_seconds / (floor / args.workers)
            cpu_ratio = workers_cpu / floor_cpu
            path_ratio = draws.busiest_cpu / (floor_cpu / args.workers)
            walls.append(wall_ratio)
            cpus.append(cpu_ratio)
            paths.append(path_ratio)
            print(
                f"round {round_number}: floor {args.draws} × one exact solve in one process "
                f"{floor:.2f} s ({floor / args.draws * 1000:.2f} ms a solve, CPU {floor_cpu:.2f} "
                f"s); sweep draws on {args.workers} local workers {draws.wall_seconds:.2f} s, "
                f"{args.draws / draws.wall_seconds:.1f} draws/s"
            )
            print(
                f"  wall: {wall_ratio:.2f}× floor / cores (target ≤ 1.2×); CPU: workers "
                f"{workers_cpu:.2f} s = {cpu_ratio:.2f}× the floor's (start-up included); "
                f"busiest worker's draw + solve CPU {path_ratio:.2f}× floor CPU / cores"
            )
            busy = draws.draw_cpu + draws.solve_cpu
            print(
                f"  in the workers, CPU summed: draw + exact need {draws.draw_cpu:.2f} s, "
                f"solve {draws.solve_cpu:.2f} s ({draws.solve_cpu / floor_cpu:.2f}× the "
                f"floor's); start-up, reading the base and shipping results "
                f"{workers_cpu - busy:.2f} s (wall: draw {draws.draw_seconds:.2f} s, solve "
                f"{draws.solve_seconds:.2f} s); gathering in the parent "
                f"{draws.gather_seconds:.2f} s"
            )
        if args.repeat > 1:
            print(
                f"median over {args.repeat} rounds: wall {statistics.median(walls):.2f}×, "
                f"CPU {statistics.median(cpus):.2f}×, busiest worker "
                f"{statistics.median(paths):.2f}× (best wall {min(walls):.2f}×)"
            )

        started, cpu = time.perf_counter(), time.process_time()
        robust = robust_plan(instance, draws, settings.quantile)
        robust_seconds = time.perf_counter() - started
        print(
            f"robust plan over {args.draws} futures (optimizer.robust): {robust_seconds:.2f} s "
            f"(CPU {time.process_time() - cpu:.2f} s)"
        )
        seconds = {"draw": draws.draw_seconds, "solve": draws.solve_seconds}
        seconds |= {"draws_wall": draws.wall_seconds, "robust": robust_seconds}
        outcome = SweepOutcome(instance, draws, robust, settings, seconds)
        started, cpu = time.perf_counter(), time.process_time()
        write_sweep(Path(folder) / "out", scenario, outcome)
        writing = time.perf_counter() - started
        aggregate = outcome.seconds["aggregate"]
        print(
            f"distributions and per-draw table: {aggregate:.2f} s; writing robust/, "
            f"distribution.csv and sweep.parquet: {writing - aggregate:.2f} s (both: CPU "
            f"{time.process_time() - cpu:.2f} s)"
        )
        total = draws.wall_seconds + robust_seconds + writing
        print(f"whole sweep after reading: {total:.2f} s ({args.draws / total:.1f} draws/s)")
        parent = megabytes(resource.getrusage(resource.RUSAGE_SELF))
        worker = megabytes(resource.getrusage(resource.RUSAGE_CHILDREN))
        print(f"peak memory: this process {parent:.0f} MB, largest worker {worker:.0f} MB")


if __name__ == "__main__":
    main()
