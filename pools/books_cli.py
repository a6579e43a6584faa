"""`quotapool useplan | problem`: quota-use plans (SPEC 2.7) and rectification problems
(SPEC 2.8) from the command line (SPEC 3.5).

The same conventions as `pools.cli`: `--db URL`, `--json` prints exactly one JSON document;
exit 0 done, 1 refused by a rule (named), 2 bad input or no usable ledger.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path
from typing import Any

from pools.cli import (
    _common,
    _date,
    _open,
    _run,
    _save_workbook,
    _writer,
    _writes,
    _writing,
    _xlsx_option,
)
from pools.csv_safe import neutralised_cell
from pools.rules.useplans import CHANNEL_ALIASES


def register(subparsers: Any) -> None:
    """Add `useplan` and `problem` to the `quotapool` command."""
    useplan = subparsers.add_parser("useplan", help="quota-use plans (用编计划)")
    cmds = useplan.add_subparsers(dest="useplan_command", required=True, metavar="ACTION")
    p = cmds.add_parser("approve", help="approve a plan: it reserves free vacancies")
    _common(p, _cmd_approve)
    p.add_argument("--unit", required=True, help="unit id")
    p.add_argument("--count", required=True, type=int, help="number of quotas")
    p.add_argument(
        "--channel",
        required=True,
        help="hiring channel (用编形式): " + ", ".join(sorted(CHANNEL_ALIASES)),
    )
    p.add_argument("--purpose", required=True, help="what the hires are for")
    p.add_argument("--until", type=_date, help="validity end (default: 31 December)")
    p.add_argument("--key", help="idempotency key: the same key twice approves one plan")
    _writer(p)

    p = cmds.add_parser("withdraw", help="withdraw (撤销) a plan, with a reason")
    _common(p, _cmd_withdraw)
    p.add_argument("--plan", required=True)
    _writer_with_reason(p, "why it is withdrawn")

    p = cmds.add_parser("hire", help="record hires by hand: posted against the unit's plans")
    _common(p, _cmd_hire)
    p.add_argument("--unit", required=True, help="unit id")
    p.add_argument("--count", required=True, type=int, help="people hired onto own quota")
    _writer(p)

    p = cmds.add_parser("status", help="approved / used / lapsed / still reserved")
    _common(p, _cmd_status)
    p.add_argument("--unit", help="only this unit's plans")
    p.add_argument("--year", type=int, help="only plans approved in this year")
    p.add_argument("--as-of", type=_date, help="as at the end of this date")
    _xlsx_option(p, "the plans and their figures by channel")

    problem = subparsers.add_parser("problem", help="rectification problems (问题台账)")
    cmds = problem.add_subparsers(dest="problem_command", required=True, metavar="ACTION")
    p = cmds.add_parser("open", help="record a problem against a unit")
    _common(p, _cmd_problem_open)
    p.add_argument("--unit", required=True)
    p.add_argument("--kind", required=True, help="e.g. 超编进人 (the ledger's problem_kinds)")
    p.add_argument("--deadline", required=True, type=_date, help="rectification deadline")
    _writer(p)

    p = cmds.add_parser("close", help="close (销号) a problem, with a reason")
    _common(p, _cmd_problem_close)
    p.add_argument("--problem", required=True)
    _writer_with_reason(p, "how it was rectified")

    p = cmds.add_parser("list", help="list problems")
    _common(p, _cmd_problem_list)
    p.add_argument("--unit", help="only this unit's problems")
    p.add_argument("--open", action="store_true", help="only open problems")

    p = cmds.add_parser("report", help="quarterly report (季通报): open problems by unit, kind")
    _common(p, _cmd_problem_report)
    p.add_argument("--quarter", required=True, help="e.g. 2026Q4")
    p.add_argument("--out", help="also write the report as CSV to this file")
    _xlsx_option(p, "the 季通报")


def _writer_with_reason(parser: argparse.ArgumentParser, why: str) -> None:
    """`_writer`'s options with the reason required (a withdrawal, a closing)."""
    parser.add_argument("--actor", required=True, help="who does this (操作人)")
    parser.add_argument("--reason", required=True, help=why)
    parser.add_argument("--date", type=_date, help="effective date YYYY-MM-DD (default: today)")
    parser.add_argument("--doc", default="", help="document number (文号)")


# ---- quota-use plans ----------------------------------------------------------------------


def _cmd_approve(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _writing(args) as ledger:
            return ledger.approve_plan(
                unit_id=args.unit,
                count=args.count,
                channel=args.channel,
                purpose=args.purpose,
                until=args.until,
                key=args.key,
                **_writes(args),
            )

    def show(result: dict[str, Any]) -> None:
        again = (
            " (already approved with this key; nothing new written)" if result["replayed"] else ""
        )
        print(f"quota-use plan {result['plan_id']} approved{again}")
        _show_plan(result["plan"])
        unit = result["unit"]
        if unit is not None:
            print(
                f"  {unit['unit_id']}: own vacancies {unit['vacancies']}, reserved "
                f"{unit['reserved']}, free {unit['free_vacancies']}"
            )
        _show_warnings(result)

    return _run(args, action, show)


def _cmd_withdraw(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _writing(args) as ledger:
            return ledger.withdraw_plan(
                args.plan, actor=args.actor, reason=args.reason, effective=args.date,
                document=args.doc,
            )  # fmt: skip

    def show(result: dict[str, Any]) -> None:
        print(f"quota-use plan {result['plan_id']} withdrawn")
        _show_plan(result["plan"])

    return _run(args, action, show)


def _cmd_hire(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _writing(args) as ledger:
            return ledger.record_hire(args.unit, args.count, **_writes(args))

    def show(result: dict[str, Any]) -> None:
        print(f"{result['unit_id']}: {result['hired']} hired")
        show_sync_books(result)
        for alert in result["alerts"]:
            print(f"  [{alert['kind']}] {alert['message']}")

    return _run(args, action, show)


def _cmd_status(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _open(args) as ledger:
            found = ledger.useplans(unit_id=args.unit, year=args.year, as_of=args.as_of)
            if args.xlsx:
                from pools.books_reports import useplans_book

                book = useplans_book(
                    ledger, unit=args.unit, year=args.year, as_of=args.as_of,
                    source="quotapool useplan status --xlsx",
                )  # fmt: skip
                found["xlsx"] = _save_workbook(book, args.xlsx)
            return found

    def show(result: dict[str, Any]) -> None:
        head = f"{'approved':>8} {'used':>5} {'lapsed':>6} {'withdrawn':>9} {'reserved':>8}"

        def row(label: str, figures: dict[str, Any]) -> str:
            return (
                f"  {label:<12} {figures['approved']:>8} {figures['used']:>5} "
                f"{figures['lapsed']:>6} {figures['withdrawn']:>9} {figures['reserved']:>8}"
            )

        print(f"quota-use plans: {len(result['plans'])}")
        for plan in result["plans"]:
            _show_plan(plan)
        for title, rows, key in (
            ("by unit", result["by_unit"], "unit_id"),
            ("by channel", result["by_channel"], "channel"),
            ("by year", result["by_year"], "year"),
        ):
            print(f"  {title:<12} {head}")
            for figures in rows:
                print(row(str(figures[key]), figures))
        print(row("city", result["city"]))
        if result.get("xlsx"):
            print(f"workbook written: {result['xlsx']}")

    return _run(args, action, show)


def _show_plan(plan: dict[str, Any]) -> None:
    print(
        f"  {plan['plan_id']}  {plan['unit_id']:<8} {plan['count']} {plan['channel']}  "
        f"{plan['purpose']}  valid to {plan['until']}  used {plan['used']}, lapsed "
        f"{plan['lapsed']}, withdrawn {plan['withdrawn']}, reserved {plan['reserved']}  "
        f"{plan['status']}"
    )


def show_status_books(result: dict[str, Any]) -> None:
    """The `ledger status` lines of the books: plans and open problems, in figures."""
    city, problems = result["useplans"]["city"], result["problems"]
    print(
        f"quota-use plans: approved {city['approved']}, used {city['used']}, lapsed "
        f"{city['lapsed']}, withdrawn {city['withdrawn']}, still reserved {city['reserved']}"
    )
    kinds = ", ".join(f"{kind} {n}" for kind, n in problems["by_kind"].items())
    effect = "block new quota" if problems["blocking"] else "warn only"
    print(f"open problems: {problems['open']}{f' ({kinds})' if kinds else ''}; they {effect}")


def show_sync_books(result: dict[str, Any]) -> None:
    """What `ledger sync` did with the books: hires posted to plans, hires without a plan,
    plans lapsed, problems the monthly comparison (月比对) opened and closed."""
    for item in result.get("lapsed", []):
        print(f"  plan lapsed: {item['plan_id']} ({item['unit_id']}), {item['count']} unused")
    for item in result.get("posted", []):
        print(f"  hires posted: {item['unit_id']} {item['count']} to plan {item['plan_id']}")
    for item in result.get("unplanned", []):
        print(f"  hires without a plan (无计划进人): {item['unit_id']} {item['count']}")
    for item in result.get("problems_opened", []):
        print(
            f"  problem opened (月比对): {item['problem_id']} {item['unit_id']} {item['kind']}, "
            f"deadline {item['deadline']}"
        )
    for problem_id in result.get("problems_closed", []):
        print(f"  problem closed, cause gone: {problem_id}")


def _show_warnings(result: dict[str, Any]) -> None:
    for warning in result.get("warnings", []):
        print(f"  warning [{warning['rule']}]: {warning['message_en']} / {warning['message_zh']}")


# ---- problems -----------------------------------------------------------------------------


def _cmd_problem_open(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _writing(args) as ledger:
            return ledger.open_problem(
                unit_id=args.unit, kind=args.kind, deadline=args.deadline, **_writes(args)
            )

    def show(result: dict[str, Any]) -> None:
        print(f"problem {result['problem']['problem_id']} opened")
        _show_problem(result["problem"])

    return _run(args, action, show)


def _cmd_problem_close(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _writing(args) as ledger:
            return ledger.close_problem(
                args.problem, actor=args.actor, reason=args.reason, effective=args.date,
                document=args.doc,
            )  # fmt: skip

    def show(result: dict[str, Any]) -> None:
        print(f"problem {result['problem']['problem_id']} closed (销号)")
        _show_problem(result["problem"])

    return _run(args, action, show)


def _cmd_problem_list(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _open(args) as ledger:
            return {"problems": ledger.problems(unit_id=args.unit, only_open=args.open)}

    def show(result: dict[str, Any]) -> None:
        print(f"{len(result['problems'])} problems")
        for item in result["problems"]:
            _show_problem(item)

    return _run(args, action, show)


REPORT_COLUMNS = (
    "unit_id", "unit_name", "kind", "problem_id", "document", "opened_on", "deadline",
    "age_days", "past_deadline", "automatic",
)  # fmt: skip


def report_csv(rows: list[dict[str, Any]]) -> str:
    """The 季通报 as CSV text (UTF-8 with a BOM when written, so Excel reads the Chinese)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: neutralised_cell(v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def _cmd_problem_report(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _open(args) as ledger:
            report = ledger.problem_report(args.quarter)
            if args.xlsx:
                from pools.books_reports import problem_report_book

                book = problem_report_book(
                    ledger, args.quarter, source="quotapool problem report --xlsx"
                )
                report["xlsx"] = _save_workbook(book, args.xlsx)
        if args.out:
            Path(args.out).write_text(report_csv(report["problems"]), encoding="utf-8-sig")
            report["out"] = args.out
        return report

    def show(result: dict[str, Any]) -> None:
        print(
            f"季通报 {result['quarter']} ({result['from']} – {result['to']}): "
            f"{len(result['problems'])} open problems on {result['as_of']}"
        )
        for row in result["problems"]:
            late = "  past deadline" if row["past_deadline"] else ""
            print(
                f"  {row['unit_id']:<8} {row['kind']:<8} {row['problem_id']}  opened "
                f"{row['opened_on']}, {row['age_days']} days{late}"
            )
        if result.get("out"):
            print(f"written: {result['out']}")
        if result.get("xlsx"):
            print(f"workbook written: {result['xlsx']}")

    return _run(args, action, show)


def _show_problem(item: dict[str, Any]) -> None:
    auto = " (automatic)" if item["automatic"] else ""
    closed = f", closed {item['closed_on']}: {item['close_reason']}" if item["closed_on"] else ""
    doc = f" {item['document']}" if item["document"] else ""
    print(
        f"  {item['problem_id']}  {item['unit_id']:<8} {item['kind']}{auto}{doc}  opened "
        f"{item['opened_on']}, deadline {item['deadline']}, {item['status']}{closed}"
    )
