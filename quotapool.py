"""The `quotapool` console command.

Each layer registers its own sub-commands (`optimizer.cli`, `pools.cli`); this module only
builds the parser and maps the errors every layer shares to exit statuses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pools.input_errors import InputErrors  # pandas-free: `quotapool --help` stays quick

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran but what it checked or planned did not succeed
EXIT_BAD_INPUT = 2  # input rejected before anything was written


def build_parser() -> argparse.ArgumentParser:
    from optimizer import arguments
    from optimizer import cli as optimizer_cli
    from pools import cli as pools_cli

    parser = argparse.ArgumentParser(
        prog="quotapool",
        description="Quota-pool allocation optimiser for staffing offices (编办).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    optimizer_cli.register(commands)
    arguments.register_project(commands)
    pools_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from pools.cli import plan_apply_argv

    parser = build_parser()
    args = parser.parse_args(plan_apply_argv(list(sys.argv[1:] if argv is None else argv)))
    try:
        return int(args.handler(args))
    except InputErrors as errors:
        print(errors.report(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
