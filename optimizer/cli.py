"""`quotapool plan SCENARIO.toml... --out DIR`: batch teacher-quota plans (SPEC 3.3).

Each scenario becomes `DIR/<name>/` with plan.csv, plan.xlsx and summary.json. Scenarios run
in parallel worker processes; one that fails is reported (its input errors, or why no plan
exists) while the others are still written. Exit status: 0 all planned, 2 some input was
rejected, 1 some scenario had no feasible plan or failed otherwise.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import multiprocessing
import os
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimizer import arguments
from pools.input_errors import InputError, InputErrors

if TYPE_CHECKING:
    from optimizer.scenario import PlanInputs, Scenario

# pandas, tqdm and the optimiser are imported where a plan is made, not here: `quotapool
# --help` and `quotapool plan --help` only build the parser.

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
PLANNED = "optimal"
REJECTED = "rejected"  # input files or scenario file refused: nothing written
INFEASIBLE = "infeasible"  # inputs fine, but no plan meets every limit: summary.json only
ERROR = "error"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="teacher-quota plans; plan apply: a plan into the ledger",
        description=(
            "Read each scenario (TOML), check its counties and enrolment files, compute "
            "every county's need and the optimal reallocation, and write "
            "DIR/<name>/plan.csv, plan.xlsx and summary.json."
        ),
        epilog="quotapool plan apply PLAN_DIR --db URL --doc 文号 --actor NAME applies a "
        "written plan to the ledger (quotapool plan apply --help).",
    )
    parser.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO.toml")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="plans go here")
    parser.add_argument(
        "--jobs",
        type=arguments.positive_int,
        default=None,
        metavar="N",
        help="worker processes (default: one per scenario, at most one per CPU; 1 = no workers)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run_plan)
    arguments.register_sweep(subparsers)


# --- the command -----------------------------------------------------------------------------


def run_plan(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from optimizer.scenario import load_scenario

    out = Path(args.out)
    paths = [Path(path) for path in args.scenarios]
    outcomes: dict[int, dict[str, Any]] = {}
    runnable: list[tuple[int, Scenario]] = []
    for position, path in enumerate(paths):
        try:
            runnable.append((position, load_scenario(path)))
        except InputErrors as errors:
            outcomes[position] = _rejected(path.stem, path, errors.errors)
    try:
        _refuse_clashes([scenario for _, scenario in runnable], out)
    except InputErrors as errors:
        return _refuse_batch(errors, args.json)

    jobs = args.jobs or max(1, min(len(runnable), os.cpu_count() or 1))
    for outcome in outcomes.values():
        _report(outcome, args.json)
    with tqdm(total=len(runnable), desc="plans", unit="scenario", file=sys.stderr) as bar:
        for position, outcome in _run_all(runnable, out, jobs):
            outcomes[position] = outcome
            bar.update(1)
            _report(outcome, args.json)
    ordered = [outcomes[position] for position in range(len(paths))]
    if args.json:
        print(json.dumps({"scenarios": ordered}, ensure_ascii=False, indent=2))
    else:
        print(_tally(ordered))
    return exit_status(ordered)


def exit_status(outcomes: Sequence[dict[str, Any]]) -> int:
    statuses = {outcome["status"] for outcome in outcomes}
    if REJECTED in statuses:
        return EXIT_BAD_INPUT
    if statuses - {PLANNED}:
        return EXIT_FAILED
    return EXIT_OK


def _refuse_clashes(scenarios: Sequence[Scenario], out: Path) -> None:
    """Two scenarios writing one directory would overwrite each other: refuse before running."""
    errors: list[InputError] = []
    if out.exists() and not out.is_dir():
        errors.append(InputError(str(out), "--out must be a directory, and this is a file"))
    seen: dict[str, Scenario] = {}
    for scenario in scenarios:
        # Windows and macOS file systems do not tell 'Baseline' from 'baseline'.
        key = unicodedata.normalize("NFC", scenario.dir_name).casefold()
        if key in seen:
            first = seen[key]
            errors.append(
                InputError(
                    scenario.path.name,
                    f"scenario name '{scenario.name}' is already used by {first.path} "
                    "(each scenario writes DIR/<name>/: give them different names)",
                    column="name",
                )
            )
        else:
            seen[key] = scenario
    if errors:
        raise InputErrors(errors)


def _refuse_batch(errors: InputErrors, as_json: bool) -> int:
    print(errors.report(), file=sys.stderr)
    if as_json:
        document = {"scenarios": [], "errors": [error.as_dict() for error in errors.errors]}
        print(json.dumps(document, ensure_ascii=False, indent=2))
    return EXIT_BAD_INPUT


def _run_all(
    runnable: Sequence[tuple[int, Scenario]], out: Path, jobs: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(position, outcome) as each scenario finishes."""
    if jobs == 1 or len(runnable) <= 1:
        for position, scenario in runnable:
            yield position, plan_scenario(str(scenario.path), str(out))
        return
    # spawn: the same behaviour on Linux, macOS and Windows, and no fork of a threaded parent
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {
            pool.submit(plan_scenario, str(scenario.path), str(out)): (position, scenario)
            for position, scenario in runnable
        }
        for future in concurrent.futures.as_completed(futures):
            position, scenario = futures[future]
            try:
                yield position, future.result()
            except Exception as exc:  # a worker that died takes its scenario with it
                yield position, _failed(scenario.name, scenario.path, exc)


# --- one scenario (runs in a worker process) -------------------------------------------------


def plan_scenario(scenario_path: str, out_dir: str) -> dict[str, Any]:
    """Plan one scenario and write its directory; the outcome is plain data for the parent."""
    from optimizer.output import summary_document, write_plan
    from optimizer.plan import make_plan
    from optimizer.scenario import load_plan_inputs, load_scenario

    path = Path(scenario_path)
    try:
        scenario = load_scenario(path)
    except InputErrors as errors:
        return _rejected(path.stem, path, errors.errors)
    try:
        inputs = load_plan_inputs(scenario)
    except InputErrors as errors:
        return _rejected(scenario.name, path, errors.errors)
    target = Path(out_dir) / scenario.dir_name
    try:
        result = make_plan(
            inputs.counties,
            inputs.enrolment,
            scenario.standards,
            scenario.policy,
            departures=inputs.departures,
        )
        status = str(result.summary.get("status", ERROR))
        table = result.table if status == PLANNED else None
        _add_reading_notes(result.summary, inputs)
        write_plan(
            target,
            table,
            result.summary,
            scenario_info=scenario_info(scenario),
            counties=inputs.counties,
            enrolment=inputs.enrolment,
        )
    except Exception as exc:  # reported per scenario; the batch goes on
        return _failed(scenario.name, path, exc)
    return {
        "name": scenario.name,
        "file": str(path),
        "status": status,
        "dir": str(target),
        "summary": summary_document(result.summary),
    }


def _add_reading_notes(summary: dict[str, Any], inputs: PlanInputs) -> None:
    """What the reader skipped or doubted (a title row, a totals row that does not add up)
    goes with the plan's warnings, on the command line and in summary.json."""
    from pools.tabular import notes

    found = [
        str(note)
        for frame in (inputs.counties, inputs.enrolment, inputs.departures)
        if frame is not None
        for note in notes(frame)
    ]
    if found:
        summary["warnings"] = [*summary.get("warnings", []), *found]


def _relative_to(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()


def scenario_info(scenario: Scenario) -> dict[str, Any]:
    """What summary.json records about the scenario, so a plan can be traced to its inputs."""
    standards = scenario.standards
    return {
        "name": scenario.name,
        "description": scenario.description,
        "file": str(scenario.path),
        # Relative to the scenario file, as written in it: the same plan from another
        # checkout or machine gives the same summary.json.
        "counties": _relative_to(scenario.counties, scenario.path.parent),
        "enrolment": (
            _relative_to(scenario.enrolment, scenario.path.parent) if scenario.enrolment else None
        ),
        "departures": (
            _relative_to(scenario.departures, scenario.path.parent) if scenario.departures else None
        ),
        "projection": (
            scenario.projection.record(lambda path: _relative_to(path, scenario.path.parent))
            if scenario.projection
            else None
        ),
        "standards": {
            "per_level": dict(standards.per_level),
            "by_class": (
                {cls: dict(table) for cls, table in standards.by_class.items()}
                if standards.by_class is not None
                else None
            ),
            "staff_per_class": dict(standards.staff_per_class),
        },
        "policy": dataclasses.asdict(scenario.policy),
        # what the inputs held: the scenario's content hash (`quotapool plan apply`) covers them
        "sha256": _input_hashes(scenario),
    }


def _input_hashes(scenario: Scenario) -> dict[str, str]:
    from optimizer.output import file_sha256

    files = {
        "counties": scenario.counties,
        "enrolment": scenario.enrolment,
        "departures": scenario.departures,
    }
    return {role: file_sha256(Path(path)) for role, path in files.items() if path}


def _rejected(name: str, path: Path, errors: Sequence[InputError]) -> dict[str, Any]:
    return {
        "name": name,
        "file": str(path),
        "status": REJECTED,
        "dir": None,
        "errors": [error.as_dict() for error in errors],
    }


def _failed(name: str, path: Path, exc: BaseException) -> dict[str, Any]:
    message = f"{type(exc).__name__}: {exc}"
    return {
        "name": name,
        "file": str(path),
        "status": ERROR,
        "dir": None,
        "errors": [{"file": path.name, "row": None, "column": None, "message": message}],
    }


# --- what the planner reads ------------------------------------------------------------------


def _report(outcome: dict[str, Any], as_json: bool) -> None:
    """One line per planned scenario on stdout; failures with their reasons on stderr."""
    from tqdm import tqdm

    # tqdm.write prints above the progress bar instead of through it
    if outcome["status"] == PLANNED:
        if not as_json:
            tqdm.write(_success_line(outcome), file=sys.stdout)
        for warning in outcome["summary"].get("warnings") or []:
            tqdm.write(f"  ⚠ {outcome['name']}: {warning}", file=sys.stderr)
        return
    tqdm.write(_failure_text(outcome), file=sys.stderr)


def _success_line(outcome: dict[str, Any]) -> str:
    summary = outcome["summary"]
    share = summary.get("max_relative_shortfall")
    largest = f"{share:.1%}" if isinstance(share, int | float) else "?"
    return (
        f"✓ {outcome['name']}: {summary.get('status')} "
        f"({summary.get('objective')}, {summary.get('solver')}, {summary.get('seconds', 0):.2f} s)"
        f" · {summary.get('moved')} quotas moved · largest shortfall {largest}"
        f" · total shortfall {summary.get('total_shortfall', 0):,.1f} → {outcome['dir']}"
    )


def _failure_text(outcome: dict[str, Any]) -> str:
    name, status = outcome["name"], outcome["status"]
    if status == REJECTED:
        errors = [InputError(**error) for error in outcome["errors"]]
        return f"✗ {name} ({outcome['file']}): nothing written; " + InputErrors(errors).report()
    if "summary" in outcome:
        summary = outcome["summary"]
        explanation = [*(summary.get("explanation") or []), *(summary.get("explanation_zh") or [])]
        lines = [f"✗ {name}: {status}, no plan written (see {outcome['dir']}/summary.json)"]
        return "\n".join([*lines, *(f"  {line}" for line in explanation)])
    lines = [f"✗ {name}: {status}, nothing written"]
    return "\n".join([*lines, *(f"  {error['message']}" for error in outcome["errors"])])


def _tally(outcomes: Sequence[dict[str, Any]]) -> str:
    planned = sum(outcome["status"] == PLANNED for outcome in outcomes)
    text = f"{planned} of {len(outcomes)} scenario{'s' if len(outcomes) != 1 else ''} planned"
    failed = [f"{o['name']} ({o['status']})" for o in outcomes if o["status"] != PLANNED]
    return text + (f"; failed: {', '.join(failed)}" if failed else "")
