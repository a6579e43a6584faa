"""`quotapool project enrolment|departures`: projection files for multi-year plans (SPEC 2.10).

- `project enrolment --history FILE [--births FILE] --years N --out FILE` writes projected
  pupils per county, level and year (the `enrolment` format of SPEC 3.1 with `year`) plus
  `low` and `high` (the band); `--grades-out FILE` also writes the figures per grade.
- `project departures --roster FILE --from DATE --years N --out FILE` writes expected
  departures per county (or unit) and year: `attrition` = `retirements` +
  `other_departures`. With `--counties FILE --counties-out FILE` it also writes the counties
  file with `attrition` = the departures over the horizon, ready for `quotapool plan`.

Bad input exits 2 with every problem named (file, row, column) and nothing written; every
output is written to a temporary file beside it and renamed into place once all are ready.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pools.input_errors import InputError, InputErrors

if TYPE_CHECKING:
    import pandas as pd

EXIT_OK = 0


# --- files -----------------------------------------------------------------------------------


def write_tables(outputs: Sequence[tuple[pd.DataFrame, Path]]) -> None:
    """Write every table to a temporary file beside its target, then rename them all."""
    written: list[tuple[Path, Path]] = []
    try:
        for frame, target in outputs:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent
            )
            os.close(handle)
            written.append((Path(name), target))
            _write_table(frame, Path(name))
        for temporary, target in written:
            os.replace(temporary, target)
    finally:
        for temporary, _ in written:
            temporary.unlink(missing_ok=True)


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame.to_excel(path, index=False, engine="xlsxwriter")
    else:
        frame.to_csv(path, index=False, encoding="utf-8-sig")  # BOM: Excel shows the Chinese


def _output_errors(paths: Sequence[Path | None], inputs: Sequence[Path | None]) -> list[InputError]:
    """Outputs that would overwrite an input or each other, or are not .csv / .xlsx."""
    errors = []
    given = [path for path in paths if path is not None]
    sources = {path.resolve() for path in inputs if path is not None}
    for path in given:
        if path.suffix.lower() not in (".csv", ".xlsx"):
            errors.append(InputError(str(path), "output must end in .csv or .xlsx"))
        if path.resolve() in sources:
            errors.append(InputError(str(path), "output would overwrite an input file"))
    if len({path.resolve() for path in given}) < len(given):
        errors.append(InputError(str(given[-1]), "two outputs name the same file"))
    return errors


def inputs_record(**paths: Path | None) -> dict[str, Any]:
    from optimizer.projection import file_sha256

    return {
        name: {"file": str(path), "sha256": file_sha256(path)}
        for name, path in paths.items()
        if path is not None
    }


def json_errors(command: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """With --json, a rejection also prints one JSON document, {"errors": [...]}, on stdout."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except InputErrors as rejected:
            if args.json:
                errors = [error.as_dict() for error in rejected.errors]
                print(json.dumps({"errors": errors}, ensure_ascii=False, indent=2))
            raise

    return run


# --- enrolment -------------------------------------------------------------------------------


def run_enrolment(args: argparse.Namespace) -> int:
    from optimizer.projection import ProjectionSettings, project_enrolment

    errors = _output_errors([args.out, args.grades_out], [args.history, args.births])
    if errors:
        raise InputErrors(errors)
    settings = ProjectionSettings(
        years=args.years, window=args.window, band=args.band, draws=args.draws, seed=args.seed
    )
    if args.levels is not None:
        settings = dataclasses.replace(settings, levels=args.levels)
    result = project_enrolment(args.history, args.births, settings)
    outputs = [(result.enrolment, args.out)]
    if args.grades_out is not None:
        outputs.append((result.grades, args.grades_out))
    write_tables(outputs)
    document = {
        "out": str(args.out),
        "grades_out": str(args.grades_out) if args.grades_out else None,
        "rows": len(result.enrolment),
        "years": sorted(int(y) for y in result.enrolment["year"].unique()),
        "counties": int(result.enrolment["county_id"].nunique()),
        "inputs": inputs_record(history=args.history, births=args.births),
        "method": result.method,
        "notes": result.notes,
        "totals": _totals(result.enrolment, "level", ["students", "low", "high"]),
    }
    _print(document, args.json, _enrolment_text)
    return EXIT_OK


def _totals(table: pd.DataFrame, key: str, columns: list[str]) -> list[dict[str, Any]]:
    """Sums over the counties per key and year (the city's figures)."""
    sums = table.groupby([key, "year"], sort=False)[columns].sum().reset_index()
    return [
        {
            str(name): value.item() if hasattr(value, "item") else value
            for name, value in row.items()
        }
        for row in sums.to_dict("records")
    ]


def _enrolment_text(document: dict[str, Any]) -> str:
    lines = [
        f"projected enrolment for {document['counties']} counties, "
        f"{document['years'][0]}–{document['years'][-1]} → {document['out']}"
    ]
    lines += [
        f"  {row['level']:<8} {row['year']}: {row['students']:>10,} "
        f"(band {row['low']:,}–{row['high']:,})"
        for row in document["totals"]
    ]
    return "\n".join(lines + [f"  note: {note}" for note in document["notes"]])


# --- departures ------------------------------------------------------------------------------


def run_departures(args: argparse.Namespace) -> int:
    from optimizer.departures import (
        DepartureSettings,
        counties_with_attrition,
        estimate_other_rate,
        project_departures,
        read_roster,
    )
    from optimizer.io import read_counties

    if (args.counties is None) != (args.counties_out is None):
        raise InputErrors([InputError("--counties", "give --counties and --counties-out together")])
    errors = _output_errors(
        [args.out, args.counties_out], [args.roster, args.counties, args.rate_history]
    )
    if errors:
        raise InputErrors(errors)
    settings = DepartureSettings(start=args.start, years=args.years, other_rate=args.rate)
    roster = read_roster(args.roster)
    rates = None
    if args.rate_history is not None:  # per county; the city's rate for counties it lacks
        rates, city = estimate_other_rate(args.rate_history)
        settings = dataclasses.replace(settings, other_rate=city)
    result = project_departures(roster, settings, rates)
    outputs = [(result.table, args.out)]
    if args.counties is not None:
        counties, errors = read_counties(args.counties)
        if errors:
            raise InputErrors(errors)
        counties = counties_with_attrition(counties, args.counties.name, args.roster.name, result)
        outputs.append((counties, args.counties_out))
    write_tables(outputs)
    sums = result.table.groupby("year", sort=True)[["retirements", "other_departures"]].sum()
    document = {
        "out": str(args.out),
        "counties_out": str(args.counties_out) if args.counties_out else None,
        "by": result.key,
        "people": len(roster.ids),
        "inputs": inputs_record(
            roster=args.roster, counties=args.counties, rate_history=args.rate_history
        ),
        "method": result.method,
        "notes": result.notes,
        "totals": [
            {
                "year": int(str(year)),
                "retirements": int(row.retirements),
                "other_departures": int(row.other_departures),
                "attrition": int(row.retirements + row.other_departures),
            }
            for year, row in sums.iterrows()
        ],
    }
    _print(document, args.json, _departures_text)
    return EXIT_OK


def _print(document: dict[str, Any], as_json: bool, text: Callable[[dict[str, Any]], str]) -> None:
    if as_json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        print(text(document))


def _departures_text(document: dict[str, Any]) -> str:
    lines = [f"expected departures of {document['people']:,} people by {document['by']}"]
    lines += [
        f"  {row['year']}: {row['attrition']:>8,} = {row['retirements']:,} retirements "
        f"+ {row['other_departures']:,} others"
        for row in document["totals"]
    ]
    lines.append(
        f"→ {document['out']}" + (f", {document['counties_out']}" * bool(document["counties_out"]))
    )
    return "\n".join(lines + [f"  note: {note}" for note in document["notes"]])


enrolment_command = json_errors(run_enrolment)
departures_command = json_errors(run_departures)
