"""python -m tests.pools.simulation --seed S --steps N [--pg URL]: run the simulator, print
steps per second and the count of every command kind and outcome; on a failure print the seed,
the step and the command that replays it, and exit 1."""

from __future__ import annotations

import argparse
import sys

from .runner import Config, SimulationFailure, simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.pools.simulation", description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, default=1, help="run seeds seed, seed+1, …")
    parser.add_argument("--first-step", type=int, default=0, help="skip episodes before it")
    parser.add_argument("--episode-steps", type=int, default=500)
    parser.add_argument("--verify-every", type=int, default=250)
    parser.add_argument("--crash-rate", type=float, default=0.08)
    parser.add_argument(
        "--pg",
        metavar="URL",
        help="PostgreSQL database (its ledger tables "
        "are dropped before each episode); default: SQLite on tmpfs",
    )
    parser.add_argument(
        "--no-processes", action="store_true", help="no steps in real writer processes"
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    for seed in range(args.seed, args.seed + args.seeds):
        cfg = Config(
            seed=seed, steps=args.steps, url=args.pg, episode_steps=args.episode_steps,
            verify_every=args.verify_every, crash_rate=args.crash_rate,
            first_step=args.first_step, processes=not args.no_processes,
        )  # fmt: skip
        where = "PostgreSQL" if args.pg else "SQLite (tmpfs, synchronous=OFF)"
        print(f"seed={seed} steps={args.steps} on {where}", flush=True)
        try:
            report = simulate(cfg, None if args.quiet else lambda line: print(line, flush=True))
        except SimulationFailure as failure:
            print(f"FAILED {failure}", file=sys.stderr)
            return 1
        print("\n".join(report.lines()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
