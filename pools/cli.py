"""`quotapool ledger | loan | audit`: the ledger from the command line (SPEC 3.3).

Every command takes `--db URL` (default $QUOTAPOOL_DB, else sqlite:///quotapool-ledger.db; a
bare file path is a SQLite file, postgresql:// URLs work the same) and `--json`, which prints
exactly one JSON document on standard output. Exit status: 0 done, 1 refused by a rule (the
rule is named) or verification failed, 2 bad input or no usable ledger.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pools.rules import RuleViolation, Settings
from pools.rules.violations import InputRefused
from pools.vocabulary import Decision, ReturnCause

if TYPE_CHECKING:  # the ledger pulls in SQLAlchemy (~0.4 s): only commands that use it pay
    from pools.ledger import Ledger

DEFAULT_DB = "sqlite:///quotapool-ledger.db"
EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_BUSY = 75  # EX_TEMPFAIL (sysexits.h): the ledger was busy past the lock timeout; retry

Handler = Callable[[argparse.Namespace], int]


def register(subparsers: Any) -> None:
    """Add `ledger`, `loan` and `audit` to the `quotapool` command."""
    ledger = subparsers.add_parser("ledger", help="the loan ledger: init, sync, status")
    ledger_cmds = ledger.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    _init_parser(ledger_cmds)
    _sync_parser(ledger_cmds)
    _status_parser(ledger_cmds)
    _rebuild_parser(ledger_cmds)
    _grant_parser(ledger_cmds)
    _rotate_key_parser(ledger_cmds)
    _correct_parser(ledger_cmds)
    _reverse_parser(ledger_cmds)

    loan = subparsers.add_parser("loan", help="open, return, evaluate or list loans")
    loan_cmds = loan.add_subparsers(dest="loan_command", required=True, metavar="ACTION")
    _loan_open_parser(loan_cmds)
    _loan_return_parser(loan_cmds)
    _loan_evaluate_parser(loan_cmds)
    _loan_list_parser(loan_cmds)

    audit = subparsers.add_parser("audit", help="the audit trail: log and verify")
    audit_cmds = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    _audit_log_parser(audit_cmds)
    _audit_verify_parser(audit_cmds)
    _audit_keygen_parser(audit_cmds)
    _audit_checkpoint_parser(audit_cmds)
    _audit_prove_parser(audit_cmds)
    _audit_check_proof_parser(audit_cmds)
    _plan_apply_parser(subparsers)

    from pools import books_cli  # SPEC 2.7/2.8 (issue 11): useplan, problem

    books_cli.register(subparsers)


# ---- parsers ---------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser, handler: Handler) -> None:
    parser.add_argument(
        "--db",
        default=os.environ.get("QUOTAPOOL_DB", DEFAULT_DB),
        help="database URL or SQLite file (default: $QUOTAPOOL_DB or %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--chain-key-file",
        metavar="FILE",
        help="file holding the ledger's chain (hash) key (default: $QUOTAPOOL_LEDGER_KEY)",
    )
    parser.set_defaults(handler=handler)


def _writer(parser: argparse.ArgumentParser, actor_required: bool = True) -> None:
    parser.add_argument("--actor", required=actor_required, help="who does this (操作人)")
    parser.add_argument("--date", type=_date, help="effective date YYYY-MM-DD (default: today)")
    parser.add_argument("--reason", default="", help="why (事由)")
    parser.add_argument("--doc", default="", help="document number (文号)")
    parser.add_argument(
        "--late-entry",
        metavar="REASON",
        help="record this write late (补录): --date may then lie before the ledger's last "
        "event; REASON says why it is late (the ledger must stay consistent at every date)",
    )


def _init_parser(cmds: Any) -> None:
    p = cmds.add_parser("init", help="create a ledger from a units snapshot")
    _common(p, _cmd_init)
    p.add_argument("--units", required=True, help="units file (CSV or .xlsx)")
    _writer(p, actor_required=False)
    defaults = Settings()
    p.add_argument("--admin-share", type=float, default=defaults.admin_share)
    p.add_argument("--institutional-capacity", type=int, default=defaults.institutional_capacity)
    p.add_argument("--term-years", type=int, default=defaults.term_years)
    p.add_argument("--pool-period-years", type=int, default=defaults.pool_period_years)
    p.add_argument("--expiry-warning-days", type=int, default=defaults.expiry_warning_days)
    p.add_argument(
        "--max-future-days",
        type=int,
        default=defaults.max_future_days,
        help="how many days after it is recorded a write may take effect (default %(default)s)",
    )
    p.add_argument(
        "--max-removed-share",
        type=float,
        default=defaults.max_removed_share,
        help="a snapshot dropping more of the units is refused without --allow-removals "
        "(default %(default)s)",
    )
    p.add_argument(
        "--problem-kinds",
        type=lambda text: tuple(k.strip() for k in text.replace("，", ",").split(",") if k.strip()),
        default=defaults.problem_kinds,
        help="the kinds of rectification problems, comma-separated (default: "
        + ",".join(defaults.problem_kinds)
        + ")",
    )
    p.add_argument(
        "--problems-warn-only",
        action="store_true",
        help="an open problem only warns on a new loan or quota-use plan for its unit, "
        "instead of refusing it",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="use the built-in, public demo chain key (for trying the product only); without "
        "it a chain key is required ($QUOTAPOOL_LEDGER_KEY or --chain-key-file)",
    )


def _sync_parser(cmds: Any) -> None:
    p = cmds.add_parser("sync", help="apply a new headcount snapshot")
    _common(p, _cmd_sync)
    p.add_argument("--units", required=True, help="units file (CSV or .xlsx)")
    p.add_argument(
        "--allow-removals",
        action="store_true",
        help="apply a snapshot that drops more units than the setting max_removed_share",
    )
    _writer(p)


def _status_parser(cmds: Any) -> None:
    p = cmds.add_parser("status", help="pools, units, loans and alerts")
    _common(p, _cmd_status)
    p.add_argument("--as-of", type=_date, help="state at the end of this date")
    p.add_argument(
        "--known-at",
        type=_instant,
        metavar="TIME",
        help="as the ledger stood at this recording time (YYYY-MM-DD: the end of that day, "
        "or an ISO time; UTC unless it says otherwise): only events recorded by then",
    )
    p.add_argument("--all-units", action="store_true", help="list every unit, not only notable")


def _rebuild_parser(cmds: Any) -> None:
    p = cmds.add_parser(
        "rebuild", help="rebuild the institutional pool after its period (到期重建)"
    )
    _common(p, _cmd_rebuild)
    p.add_argument("--capacity", type=int, help="new capacity (default: the setting)")
    _writer(p)


def _rotate_key_parser(cmds: Any) -> None:
    p = cmds.add_parser(
        "rotate-key", help="change the chain key (an event sealed under the key in use)"
    )
    _common(p, _cmd_rotate_key)
    p.add_argument(
        "--new-chain-key-file", required=True, metavar="FILE", help="file holding the new key"
    )
    _writer(p)


def _correct_parser(cmds: Any) -> None:
    p = cmds.add_parser(
        "correct",
        help="correct an event's 文号 or reason by appending a correction (更正记录)",
    )
    _common(p, _cmd_correct)
    p.add_argument("--seq", type=int, required=True, help="the event to correct")
    p.add_argument("--new-doc", help="the document number (文号) it should have had")
    p.add_argument("--new-reason", help="the reason (事由) it should have had")
    _writer(p)


def _reverse_parser(cmds: Any) -> None:
    p = cmds.add_parser(
        "reverse",
        help="undo a loan opening or a return recorded in error by a reversing entry (冲销)",
    )
    _common(p, _cmd_reverse)
    p.add_argument("--seq", type=int, required=True, help="the event to reverse")
    _writer(p)


def _old_keys_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--old-chain-key-file",
        action="append",
        default=[],
        metavar="FILE",
        help="a chain key the ledger was sealed with before a rotation (repeatable)",
    )


def _grant_parser(cmds: Any) -> None:
    p = cmds.add_parser(
        "grant", help="PostgreSQL: least-privilege grants for a writer (and a reader) role"
    )
    _common(p, _cmd_grant)
    p.add_argument("--writer", required=True, help="role the program writes as (owns nothing)")
    p.add_argument("--reader", help="role that may only read the ledger")


def _loan_open_parser(cmds: Any) -> None:
    p = cmds.add_parser("open", help="lend quotas to a unit")
    _common(p, _cmd_loan_open)
    p.add_argument("--pool", required=True, help="admin | institutional | unit:<lender_id>")
    p.add_argument("--unit", required=True, help="borrowing unit id")
    p.add_argument("--count", required=True, type=int)
    p.add_argument("--purpose", required=True, help="e.g. 引进生, 博士选调生, 高层次人才")
    p.add_argument("--term-years", type=int, help="loan term (default: the setting)")
    p.add_argument("--key", help="idempotency key: the same key twice opens one loan")
    _writer(p)


def _loan_return_parser(cmds: Any) -> None:
    p = cmds.add_parser("return", help="return quotas of a loan by hand")
    _common(p, _cmd_loan_return)
    p.add_argument("--loan", required=True)
    p.add_argument("--count", type=int, help="default: all outstanding")
    p.add_argument("--key", help="idempotency key: the same key twice returns once")
    _writer(p)


def _loan_evaluate_parser(cmds: Any) -> None:
    p = cmds.add_parser("evaluate", help="performance evaluation of an expired loan")
    _common(p, _cmd_loan_evaluate)
    p.add_argument("--loan", required=True)
    p.add_argument("--score", required=True, type=int, help="0–100")
    p.add_argument("--decision", required=True, choices=[d.value for d in Decision])
    p.add_argument("--until", type=_date, help="new end date when extending")
    p.add_argument("--key", help="idempotency key: the same key twice records one evaluation")
    _writer(p)


def _loan_list_parser(cmds: Any) -> None:
    p = cmds.add_parser("list", help="list loans")
    _common(p, _cmd_loan_list)
    p.add_argument("--unit", help="only loans this unit borrowed or lent")
    p.add_argument("--open", action="store_true", help="only loans not yet closed")
    _xlsx_option(p, "the loans register (借用台账)")


def _audit_log_parser(cmds: Any) -> None:
    p = cmds.add_parser("log", help="the events, in sequence order")
    _common(p, _cmd_audit_log)
    p.add_argument("--unit", help="only events concerning this unit")
    p.add_argument("--loan", help="only events of this loan")
    p.add_argument(
        "--since",
        type=_seq_or_date,
        help="only events from this sequence number on (a whole number), or effective on or "
        "after this date (YYYY-MM-DD)",
    )
    p.add_argument("--until", type=_date, help="only events effective on or before this date")
    p.add_argument("--limit", type=_count, help="at most this many events")
    p.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="language of the lines (default zh)"
    )
    _xlsx_option(p, "the audit trail")


def _xlsx_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--xlsx", metavar="FILE", help=f"also write {what} as a report workbook")


def _audit_verify_parser(cmds: Any) -> None:
    p = cmds.add_parser("verify", help="recompute the hash chain and replay every event")
    _common(p, _cmd_audit_verify)
    p.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a signed checkpoint the ledger must extend (repeatable; needs --pubkey)",
    )
    p.add_argument("--pubkey", help="public key (PEM) that signed the checkpoints")
    _old_keys_option(p)


def _audit_keygen_parser(cmds: Any) -> None:
    p = cmds.add_parser("keygen", help="a new key pair for signing checkpoints")
    p.add_argument("--out", required=True, help="writes NAME.key (owner only) and NAME.pub")
    p.add_argument(
        "--algorithm",
        choices=("ed25519", "sm2"),
        default="ed25519",
        help="ed25519 (default), or sm2: 国密 SM2 signatures over an SM3 tree (extra 'gm')",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=_cmd_audit_keygen)


def _audit_checkpoint_parser(cmds: Any) -> None:
    p = cmds.add_parser("checkpoint", help="write a signed checkpoint of the ledger")
    _common(p, _cmd_audit_checkpoint)
    p.add_argument("--key-file", required=True, help="private key (PEM) from audit keygen")
    p.add_argument("--out", required=True, help="checkpoint file to write")


def _audit_prove_parser(cmds: Any) -> None:
    p = cmds.add_parser("prove", help="inclusion proofs of a loan's events under a checkpoint")
    _common(p, _cmd_audit_prove)
    p.add_argument("--loan", required=True)
    p.add_argument("--checkpoint", required=True, metavar="FILE", help="a signed checkpoint")
    p.add_argument("--out", help="write the proof to this file (default: standard output)")


def _audit_check_proof_parser(cmds: Any) -> None:
    p = cmds.add_parser("check-proof", help="check an inclusion proof offline (no database)")
    p.add_argument("proof", help="proof file from audit prove")
    p.add_argument("--checkpoint", required=True, metavar="FILE")
    p.add_argument("--pubkey", required=True, help="public key (PEM) of the office")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(handler=_cmd_audit_check_proof)


def _date(text: str) -> date:
    from pools.rules.ledger import day_in_range

    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date (YYYY-MM-DD)") from None
    problem = day_in_range("the date", day)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem.message_en)
    return day


def _seq_or_date(text: str) -> int | date:
    """A sequence number (ASCII digits, ≥ 1) or a date."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        return _count(text)
    return _date(text)


def _count(text: str) -> int:
    """A whole number ≥ 1 written in ASCII digits."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or int(text) < 1 or len(text) > 18:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number ≥ 1")
    return int(text)


def _instant(text: str) -> datetime:
    """A recording time: a date (the end of that day, UTC) or an ISO date and time."""
    if len(text.strip()) == 10:
        day = _date(text.strip())
        return datetime.combine(day, time.max, tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a time (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM])"
        ) from None
    _date(moment.date().isoformat())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# ---- running -------------------------------------------------------------------------


def _run(args: argparse.Namespace, action: Callable[[], Any], show: Callable[[Any], None]) -> int:
    """Run one ledger action; map refusals and ledger errors to exit statuses."""
    status, result = _attempt(args, action)
    if status != EXIT_OK:
        return status
    with _printing():  # a write is committed by now: a reader gone away does not undo it
        if args.json:
            _print_json(result)
        else:
            show(result)
    return EXIT_OK


def _attempt(args: argparse.Namespace, action: Callable[[], Any]) -> tuple[int, Any]:
    """(EXIT_OK, the action's result), or the exit status of its failure, said (`_failed`)."""
    from sqlalchemy.exc import SQLAlchemyError

    from pools.ledger import LedgerBusy, LedgerError

    unusable: tuple[type[Exception], ...] = (
        LedgerError,
        SQLAlchemyError,
        _BadInput,
        *_driver_errors(),
    )
    try:
        result = action()
    except LedgerBusy as busy:
        return _failed(args, busy.as_dict(), f"error: {busy}", EXIT_BUSY), None
    except InputRefused as refusal:
        return _failed(args, refusal.as_dict(), f"error: {refusal}", EXIT_BAD_INPUT), None
    except RuleViolation as refusal:
        return _failed(args, refusal.as_dict(), f"refused: {refusal}", EXIT_REFUSED), None
    except unusable as problem:
        error = {"rule": None, "message_en": str(problem)}
        return _failed(args, error, f"error: {problem}", EXIT_BAD_INPUT), None
    return EXIT_OK, result


def _run_streamed(
    args: argparse.Namespace,
    items: Generator[dict[str, Any], None, None],
    line: Callable[[dict[str, Any]], str],
) -> int:
    """Print a stream of records as they come: with --json one document
    ``{"events": [...]}``, else a line each. Problems opening the ledger map to exit statuses
    as in `_run`; a reader gone away (`| head`) ends the printing quietly."""
    import orjson

    status, first = _attempt(args, lambda: next(items, None))  # opens the ledger
    if status != EXIT_OK:
        return status
    out = sys.stdout
    try:
        with _printing():
            if args.json:
                out.write('{"events": [')
            record = first
            while record is not None:
                if args.json:
                    text = orjson.dumps(record, default=str).decode()
                    out.write(text if record is first else ",\n" + text)
                else:
                    out.write(line(record))
                record = next(items, None)
            if args.json:
                out.write("]}\n")
    except Exception as problem:  # the database went away mid-stream
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        items.close()
    return EXIT_OK


def _failed(args: argparse.Namespace, error: dict[str, Any], line: str, status: int) -> int:
    """Say why a command did not go through: the JSON error (with --json), a line on
    standard error; return its exit status."""
    with _printing():
        if args.json:
            _print_json({"error": error})
    print(line, file=sys.stderr)
    return status


@contextmanager
def _printing() -> Iterator[None]:
    """Printing to standard output whose reader may have gone (`quotapool … --json | head`):
    a broken pipe ends the printing, not the command, so its exit status tells what was done
    (0 after a committed write: a retry must not write it again)."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_to_devnull()


def _stdout_to_devnull() -> None:
    """Point standard output at /dev/null, so that flushing it at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file behind sys.stdout
        pass


def _chain_key(args: argparse.Namespace) -> bytes | None:
    """The chain key from --chain-key-file (None: $QUOTAPOOL_LEDGER_KEY or the demo key)."""
    name = getattr(args, "chain_key_file", None)
    return _key_file(name) if name else None


def _key_file(name: str) -> bytes:
    """A chain key read from a file (whitespace around it ignored)."""
    try:
        key = Path(name).read_bytes().strip()
    except OSError as exc:
        raise _BadInput(f"{name}: not a readable chain key file ({exc})") from exc
    if not key:
        raise _BadInput(f"{name}: the chain key file is empty")
    return key


def _driver_errors() -> tuple[type[Exception], ...]:
    """Errors of the database drivers themselves: the hot write path talks to the driver's
    cursor, so a refused privilege there (a reader role writing) is not wrapped by SQLAlchemy."""
    import sqlite3

    errors: list[type[Exception]] = [sqlite3.Error]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - installed with the project
        return tuple(errors)
    return (*errors, psycopg.Error)


def _open(args: argparse.Namespace) -> Ledger:
    from pools.ledger import Ledger

    old_keys = [_key_file(name) for name in getattr(args, "old_chain_key_file", [])]
    return Ledger.open(args.db, key=_chain_key(args), old_keys=old_keys)


DEMO_NOTE = (
    "note: this is a DEMO ledger, sealed with the built-in public demo key: anyone can forge "
    "its hash chain; create a real ledger with QUOTAPOOL_LEDGER_KEY (演示台账，勿用于正式数据)"
)


@contextmanager
def _writing(args: argparse.Namespace) -> Iterator[Ledger]:
    """The ledger for one write; afterwards, a demo ledger says so on standard error."""
    with _open(args) as ledger, ledger.late_entry(getattr(args, "late_entry", None)):
        yield ledger
        _note_demo(ledger)


def _note_demo(ledger: Ledger) -> None:
    """Say on standard error that a ledger is a demo one (every write, and status)."""
    from pools.vocabulary import KeyMode

    if ledger.key_mode() is KeyMode.DEMO:
        print(DEMO_NOTE, file=sys.stderr)


def _writes(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "actor": args.actor,
        "effective": args.date,
        "reason": args.reason,
        "document": args.doc,
    }


def _cmd_init(args: argparse.Namespace) -> int:
    settings = Settings(
        admin_share=args.admin_share,
        institutional_capacity=args.institutional_capacity,
        term_years=args.term_years,
        pool_period_years=args.pool_period_years,
        expiry_warning_days=args.expiry_warning_days,
        max_future_days=args.max_future_days,
        max_removed_share=args.max_removed_share,
        problem_kinds=args.problem_kinds,
        problems_block=not args.problems_warn_only,
    )
    writes = _writes(args)
    writes["actor"] = args.actor or os.environ.get("USER") or "quotapool"

    def action() -> dict[str, Any]:
        from pools.ledger import Ledger

        with Ledger.create(
            args.db,
            args.units,
            settings=settings,
            key=_chain_key(args),
            demo=args.demo,
            **writes,
        ) as ledger:
            status = ledger.status(as_of=args.date, lists=False)
            _note_demo(ledger)
            return {
                "db": _safe_url(ledger.url),
                "events": status["head"]["seq"],
                "units": len(ledger.state().units),
                "pools": status["pools"],
                "alerts": status["alerts"],
                "demo": status["demo"],
            }

    def show(result: dict[str, Any]) -> None:
        print(f"ledger created at {result['db']}: {result['units']} units, "
              f"{result['events']} events")  # fmt: skip
        _show_pools(result["pools"])
        _show_alerts(result["alerts"])

    return _run(args, action, show)


def _cmd_sync(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _writing(args) as ledger:
            return ledger.sync(args.units, allow_removals=args.allow_removals, **_writes(args))

    def show(result: dict[str, Any]) -> None:
        kinds: dict[str, int] = {}
        for change in result["changes"]:
            kinds[change["change"]] = kinds.get(change["change"], 0) + 1
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "no changes"
        print(f"snapshot applied: {summary}; {result['events']} events written")
        for item in result["returns"]:
            print(
                f"  空一还一: {item['unit_id']} returned 1 quota of loan {item['loan_id']} "
                f"({item['pool']})"
            )
        for loan_id in result["expired"]:
            print(f"  expired: loan {loan_id} awaits its performance evaluation")
        from pools.books_cli import show_sync_books  # SPEC 2.7/2.8 (issue 11)

        show_sync_books(result)
        before, after = result["pools_before"]["admin"], result["pools"]["admin"]
        print(
            f"administrative pool capacity {before['capacity']} -> {after['capacity']} "
            f"({after['share']:.0%} of {after['vacancy_base']} vacancies), lent {after['lent']}"
        )
        _show_pools(result["pools"])
        _show_alerts(result["alerts"])

    return _run(args, action, show)


def _cmd_status(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _open(args) as ledger:
            _note_demo(ledger)
            return ledger.status(as_of=args.as_of, known_at=args.known_at)

    def show(result: dict[str, Any]) -> None:
        print(f"ledger as of {result['as_of']} (event {result['head']['seq']})")
        if result["demo"]:
            print("DEMO ledger: sealed with the built-in public demo key (演示台账)")
        elif result["chain_key"] == "legacy":
            print("legacy ledger: created before chain keys were recorded; writes are not checked")
        _show_pools(result["pools"])
        totals = result["totals"]
        print(
            f"city: approved {totals['approved']}, on own quota {totals['headcount']}, "
            f"on borrowed quota {totals['borrowed_headcount']}, on pool quota (专户) "
            f"{totals['pool_headcount']}, in post {totals['in_post']}"
        )
        units = result["units"]
        notable = [
            u for u in units if args.all_units or u["over_quota"] or u["pool_headcount"]
            or u["borrowed"] or u["lent"]
        ]  # fmt: skip
        print(f"units: {len(units)} ({len(notable)} shown)")
        if notable:
            print(
                f"  {'unit':<10} {'approved':>8} {'headcount':>9} {'pool':>5} {'borrowed':>8} "
                f"{'lent':>5} {'vacancies':>9}  over quota"
            )
        for u in notable:
            print(
                f"  {u['unit_id']:<10} {u['approved']:>8} {u['headcount']:>9} "
                f"{u['pool_headcount']:>5} {u['borrowed']:>8} {u['lent']:>5} {u['vacancies']:>9}"
                f"  {'yes' if u['over_quota'] else ''}  {u['name']}"
            )
        if result["loans"]:
            print(f"open loans: {len(result['loans'])}")
            for loan in result["loans"]:
                _show_loan(loan)
        from pools.books_cli import show_status_books  # SPEC 2.7/2.8 (issue 11)

        show_status_books(result)
        _show_alerts(result["alerts"])
        _show_teacher(result["teacher"])

    return _run(args, action, show)


def _cmd_rebuild(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _writing(args) as ledger:
            return ledger.rebuild_pool(capacity=args.capacity, **_writes(args))

    def show(result: dict[str, Any]) -> None:
        print(
            f"institutional pool rebuilt: capacity {result['capacity']}, lent {result['lent']}, "
            f"period ends {result['period_end']}"
        )

    return _run(args, action, show)


def _cmd_rotate_key(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        new_key = _key_file(args.new_chain_key_file)
        with _writing(args) as ledger:
            return ledger.rotate_key(new_key, **_writes(args))

    def show(result: dict[str, Any]) -> None:
        print(
            f"chain key rotated at event {result['seq']}: {result['previous_fingerprint'][:12]}… "
            f"→ {result['fingerprint'][:12]}…; from now on write with the new key, and keep the "
            "old one for audit verify (--old-chain-key-file)"
        )

    return _run(args, action, show)


def _cmd_correct(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _writing(args) as ledger:
            return ledger.correct(
                args.seq,
                actor=args.actor,
                reason=args.reason,
                document=args.new_doc,
                reason_text=args.new_reason,
                correction_document=args.doc,
                effective=args.date,
            )

    def show(result: dict[str, Any]) -> None:
        for done in result["corrections"]:
            print(
                f"event {result['seq']}: {done['field']} {done['old']!r} → {done['new']!r} "
                f"(correction recorded as event {done['event']}; the original stays)"
            )

    return _run(args, action, show)


def _cmd_reverse(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _writing(args) as ledger:
            return ledger.reverse(args.seq, **_writes(args))

    def show(result: dict[str, Any]) -> None:
        loan = result["loan"]
        print(
            f"event {result['seq']} reversed by event {result['reversal']} (the original stays); "
            f"loan {loan['loan_id']} now owes {loan['outstanding']}"
        )
        for item in result["returns"]:
            print(f"  then returned {item['count']} of loan {item['loan_id']} ({item['cause']})")

    return _run(args, action, show)


def _cmd_grant(args: argparse.Namespace) -> int:
    from pools.storage import GrantError, Store

    def action() -> dict[str, Any]:
        _open(args).close()  # a ledger must be there
        store = Store(args.db)
        try:
            statements = store.grant(args.writer, args.reader)
        except GrantError as problem:
            raise _BadInput(str(problem)) from problem
        finally:
            store.dispose()
        return {"writer": args.writer, "reader": args.reader, "statements": statements}

    def show(result: dict[str, Any]) -> None:
        reader = f"; {result['reader']} may only read" if result["reader"] else ""
        print(
            f"{result['writer']} may append events and move the head, nothing else{reader}; "
            "TRUNCATE, UPDATE and DELETE of events are refused by triggers"
        )

    return _run(args, action, show)


def _cmd_loan_open(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _writing(args) as ledger:
            return ledger.open_loan(
                pool=args.pool,
                unit_id=args.unit,
                count=args.count,
                purpose=args.purpose,
                term_years=args.term_years,
                key=args.key,
                **_writes(args),
            )

    def show(result: dict[str, Any]) -> None:
        loan = result["loan"]
        again = " (already opened with this key; nothing new written)" if result["replayed"] else ""
        print(f"loan {result['loan_id']} opened{again}")
        _show_loan(loan)
        if loan["lender"] is None:
            pool = result["pools"][loan["pool"]]
            print(
                f"  {loan['pool']} pool: capacity {pool['capacity']}, lent {pool['lent']}, "
                f"available {pool['available']}"
            )

    return _run(args, action, show)


def _cmd_loan_return(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _writing(args) as ledger:
            return ledger.return_loan(args.loan, count=args.count, key=args.key, **_writes(args))

    def show(result: dict[str, Any]) -> None:
        for item in result["returns"]:
            count, cause = item.get("count", 1), item.get("cause", ReturnCause.VACANCY.value)
            print(f"returned {count} of loan {item['loan_id']} ({cause})")
        _show_loan(result["loan"])
        _show_alerts(result["alerts"])

    return _run(args, action, show)


def _cmd_loan_evaluate(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _writing(args) as ledger:
            return ledger.evaluate_loan(
                args.loan,
                score=args.score,
                decision=args.decision,
                new_end=args.until,
                key=args.key,
                **_writes(args),
            )

    def show(result: dict[str, Any]) -> None:
        print(f"loan {args.loan} evaluated: score {args.score}, {args.decision}")
        _show_loan(result["loan"])

    return _run(args, action, show)


def _cmd_loan_list(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        with _open(args) as ledger:
            loans = ledger.loans(unit_id=args.unit, include_closed=not args.open)
            result: dict[str, Any] = {"loans": loans}
            if args.xlsx:
                from pools.ledger_reports import loans_register_book

                source = "quotapool loan list --xlsx"
                book = loans_register_book(
                    ledger, unit=args.unit, open_only=args.open, source=source
                )
                result["xlsx"] = _save_workbook(book, args.xlsx)
            return result

    def show(result: dict[str, Any]) -> None:
        print(f"{len(result['loans'])} loans")
        for loan in result["loans"]:
            _show_loan(loan)
        _show_workbook(result)

    return _run(args, action, show)


def _cmd_audit_log(args: argparse.Namespace) -> int:
    """The events, streamed: read in batches and written as they come (constant memory; the
    JSON is still one document, ``{"events": [...]}``)."""
    since_seq = args.since if isinstance(args.since, int) else None
    since_day = args.since if isinstance(args.since, date) else None

    def events() -> Generator[dict[str, Any], None, None]:
        with _open(args) as ledger:
            yield from ledger.iter_events(
                unit_id=args.unit,
                loan_id=args.loan,
                since_seq=since_seq,
                effective_since=since_day,
                effective_until=args.until,
                limit=args.limit,
            )

    def line(event: dict[str, Any]) -> str:
        from pools.audit_words import describe, event_name, recorded_local

        document = "文号" if args.lang == "zh" else "doc."
        doc = f"  {document} {event['document']}" if event["document"] else ""
        return (
            f"{event['seq']:>6}  {event['effective']}  "
            f"{event_name(event['kind'], args.lang)}  {event['actor']}{doc}  "
            f"{describe(event, args.lang)}  ({recorded_local(event['recorded_at'])})\n"
        )

    if args.xlsx:  # a workbook holds every event anyway: read them, then lay them out
        return _audit_log_workbook(args, list(events()), line)
    return _run_streamed(args, events(), line)


def _audit_log_workbook(
    args: argparse.Namespace, events: list[dict[str, Any]], line: Callable[[Any], str]
) -> int:
    """`audit log --xlsx FILE`: the events as printed, and the audit trail as a report."""

    def action() -> dict[str, Any]:
        from pools.ledger_reports import audit_filters, audit_trail_book

        since = args.since if isinstance(args.since, date) else None
        filters = audit_filters(args.unit, args.loan, None, since, args.until)
        if isinstance(args.since, int):
            filters.append(("自事件 From event", args.since))
        with _open(args) as ledger:
            book = audit_trail_book(
                ledger, events, filters, lang=args.lang, source="quotapool audit log --xlsx"
            )
        return {"events": events, "xlsx": _save_workbook(book, args.xlsx)}

    def show(result: dict[str, Any]) -> None:
        for event in result["events"]:
            print(line(event), end="")
        _show_workbook(result)

    return _run(args, action, show)


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    outcome: dict[str, Any] = {}
    from pools.checkpoint import CheckpointError, load_public_key, read_checkpoint

    try:
        if args.checkpoint and not args.pubkey:
            raise CheckpointError("--checkpoint needs --pubkey (the key that signed it)")
        public_key = load_public_key(Path(args.pubkey)) if args.pubkey else None
        checkpoints = [(name, read_checkpoint(Path(name))) for name in args.checkpoint]
    except CheckpointError as problem:
        return _bad_input(args, str(problem))

    def action() -> dict[str, Any]:
        with _open(args) as ledger:
            outcome.update(ledger.verify(checkpoints, public_key))
            if checkpoints:
                outcome["checkpoints"] = [name for name, _ in checkpoints]
            return outcome

    def show(result: dict[str, Any]) -> None:
        if result["ok"]:
            print(
                f"ok: {result['events']} events, hash chain intact, every invariant holds; "
                f"head {result['head']['seq']} {result['head']['hash']}"
            )
        else:
            print(f"FAILED after checking {result['events']} events:")
            for problem in result["problems"]:
                where = f"event {problem['seq']}: " if problem["seq"] else ""
                print(f"  {where}{problem['problem']} [{problem['rule']}]")

    status = _run(args, action, show)
    if status == EXIT_OK and not outcome.get("ok"):
        return EXIT_REFUSED
    return status


def _cmd_audit_keygen(args: argparse.Namespace) -> int:
    from pools.checkpoint import ED25519, SM2_SM3, write_key_pair
    from pools.gm import GmUnavailable

    private, public = Path(args.out + ".key"), Path(args.out + ".pub")
    existing = [str(path) for path in (private, public) if path.exists()]
    if existing:
        return _bad_input(args, f"{', '.join(existing)} already exists; not overwritten")
    algorithm = SM2_SM3 if args.algorithm == "sm2" else ED25519
    try:
        key_id = write_key_pair(private, public, algorithm)
    except GmUnavailable as exc:
        return _bad_input(args, f"--algorithm sm2: {exc}")
    except OSError as exc:
        return _bad_input(args, f"cannot write the key pair: {exc}")
    result = {
        "private_key": str(private),
        "public_key": str(public),
        "key_id": key_id,
        "algorithm": algorithm,
    }
    with _printing():
        if args.json:
            _print_json(result)
        else:
            print(
                f"{algorithm} private key {private} (keep it secret), public key {public}, "
                f"key id {key_id}"
            )
    return EXIT_OK


def _cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    from pools.checkpoint import CheckpointError, load_private_key, tree_hash_of, write_checkpoint
    from pools.transparency import checkpoint_log, read_log

    try:
        key = load_private_key(Path(args.key_file))
    except CheckpointError as problem:
        return _bad_input(args, str(problem))

    def action() -> dict[str, Any]:
        with _open(args) as ledger:  # the tree is hashed as the key's algorithm says
            checkpoint = checkpoint_log(read_log(ledger.url, tree_hash_of(key)), key)
        try:
            write_checkpoint(checkpoint, Path(args.out))
        except OSError as exc:
            raise _BadInput(f"cannot write {args.out}: {exc}") from exc
        return {"checkpoint": args.out, **checkpoint.as_json()}

    def show(result: dict[str, Any]) -> None:
        print(
            f"checkpoint {result['checkpoint']}: ledger {result['ledger_id']}, "
            f"{result['size']} events, root {result['root']}"
        )

    return _run(args, action, show)


def _cmd_audit_prove(args: argparse.Namespace) -> int:
    from pools.checkpoint import CheckpointError, read_checkpoint
    from pools.transparency import prove_loan, read_log

    try:
        checkpoint = read_checkpoint(Path(args.checkpoint))
    except CheckpointError as problem:
        return _bad_input(args, str(problem))
    refused: list[str] = []

    def action() -> dict[str, Any]:
        with _open(args) as ledger:
            log = read_log(ledger.url, checkpoint.tree_hash)
        if checkpoint.size > log.size or log.tree.root(checkpoint.size) != checkpoint.root:
            refused.append(
                f"the ledger does not extend checkpoint {args.checkpoint}; run audit verify"
            )
            return {"error": {"rule": "checkpoint.rewritten", "message_en": refused[0]}}
        try:
            proof = prove_loan(log, args.loan, checkpoint)
        except ValueError as exc:
            refused.append(str(exc))
            return {"error": {"rule": None, "message_en": str(exc)}}
        if args.out:
            Path(args.out).write_text(_json_text(proof) + "\n", encoding="utf-8")
        return proof

    def show(result: dict[str, Any]) -> None:
        if refused:
            return
        if args.out:
            print(f"{len(result['events'])} events of loan {args.loan} proved: {args.out}")
        else:
            _print_json(result)

    status = _run(args, action, show)
    if status == EXIT_OK and refused:
        print(f"error: {refused[0]}", file=sys.stderr)
        return EXIT_REFUSED
    return status


def _cmd_audit_check_proof(args: argparse.Namespace) -> int:
    from pools.checkpoint import CheckpointError, load_public_key, read_checkpoint
    from pools.transparency import proof_problems

    try:
        checkpoint = read_checkpoint(Path(args.checkpoint))
        public_key = load_public_key(Path(args.pubkey))
        proof = json.loads(Path(args.proof).read_text(encoding="utf-8"))
    except CheckpointError as problem:
        return _bad_input(args, str(problem))
    except (OSError, ValueError) as exc:
        return _bad_input(args, f"{args.proof}: not a readable proof ({exc})")
    problems = proof_problems(proof, checkpoint, public_key)
    result = {
        "ok": not problems,
        "loan_id": proof.get("loan_id") if isinstance(proof, dict) else None,
        "events": len(proof.get("events") or []) if isinstance(proof, dict) else 0,
        "size": checkpoint.size,
        "problems": problems,
    }
    if args.json:
        _print_json(result)
    elif problems:
        print("FAILED:")
        for text in problems:
            print(f"  {text}")
    else:
        print(
            f"ok: {result['events']} events of loan {result['loan_id']} are in the "
            f"{checkpoint.size} events signed by {checkpoint.key_id[:16]}… at {checkpoint.time}"
        )
    return EXIT_OK if not problems else EXIT_REFUSED


def _save_workbook(book: bytes, target: str) -> str:
    from pools.report_book import save

    try:
        save(book, target)
    except OSError as exc:
        raise _BadInput(f"{target}: cannot write the workbook ({exc})") from exc
    return target


class _BadInput(Exception):
    """Bad input found while running a command (exit 2)."""


def _bad_input(args: argparse.Namespace, message: str) -> int:
    with _printing():
        if getattr(args, "json", False):
            _print_json({"error": {"rule": None, "message_en": message}})
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


# ---- printing ------------------------------------------------------------------------


def _json_text(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, default=str)


def _print_json(document: Any) -> None:
    print(_json_text(document))


def _safe_url(url: str) -> str:
    from pools.storage import redact

    return redact(url)


def _show_pools(pools: dict[str, Any]) -> None:
    admin, inst = pools["admin"], pools["institutional"]
    state = " (suspended: organs over quota as a whole)" if admin.get("suspended") else ""
    print(
        f"administrative pool: capacity {admin['capacity']}, lent {admin['lent']}, "
        f"available {admin['available']}{state}"
    )
    print(
        f"institutional pool:  capacity {inst['capacity']}, lent {inst['lent']}, "
        f"available {inst['available']}, period ends {inst['period_end']}"
    )


def _show_workbook(result: dict[str, Any]) -> None:
    if result.get("xlsx"):
        print(f"workbook written: {result['xlsx']}")


def _show_loan(loan: dict[str, Any]) -> None:
    end = f", ends {loan['end']}" if loan["end"] else ""
    print(
        f"  {loan['loan_id']}  {loan['pool']:<13} -> {loan['unit_id']:<8} "
        f"{loan['outstanding']}/{loan['count']} outstanding  {loan['purpose']}  "
        f"{loan['status']}{end}"
    )


def _show_alerts(alerts: list[dict[str, Any]]) -> None:
    if not alerts:
        print("alerts: none")
        return
    print(f"alerts: {len(alerts)}")
    for alert in alerts:
        print(f"  [{alert['kind']}] {alert['message']}")


# ---- teacher plans in the ledger (SPEC 2.9): `quotapool plan apply` ----------------------
# `quotapool plan SCENARIO.toml...` takes scenario files, so `plan apply` cannot be an argparse
# sub-command of `plan`: `quotapool.main` turns a leading `plan apply` into the hidden command
# `plan-apply` registered here (a scenario file literally named `apply` is planned as
# `quotapool plan ./apply`).

PLAN_APPLY = "plan-apply"


def plan_apply_argv(argv: list[str]) -> list[str]:
    """`plan apply ...` as the hidden command `plan-apply ...`; any other command as given."""
    return [PLAN_APPLY, *argv[2:]] if argv[:2] == ["plan", "apply"] else argv


def _plan_apply_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(  # no help=: not listed, reached as `quotapool plan apply`
        PLAN_APPLY,
        prog="quotapool plan apply",
        description="Apply a teacher plan written by `quotapool plan` to the ledger (SPEC "
        "2.9): each county's teacher quota becomes an account (the first plan registers them "
        "from its `current`), and the plan is one group of events, quota released by counties "
        "into the city's teacher pool and allocated from it. Refused if the plan is not "
        "optimal, was applied before, or its `current` differs from the ledger's quotas.",
    )
    p.add_argument("plan_dir", metavar="PLAN_DIR", help="a plan directory (plan.csv, summary.json)")
    _common(p, _cmd_plan_apply)
    p.add_argument("--year", type=int, help="the year of a multi-year plan (default: the first)")
    p.add_argument("--key", help="idempotency key: the same key twice applies the plan once")
    p.add_argument("--actor", required=True, help="who does this (操作人)")
    p.add_argument("--doc", required=True, help="document number (文号) of the approval")
    p.add_argument("--date", type=_date, help="effective date YYYY-MM-DD (default: today)")
    p.add_argument("--reason", default="", help="why (事由)")


def _cmd_plan_apply(args: argparse.Namespace) -> int:
    def action() -> dict[str, Any]:
        from pools.input_errors import InputErrors

        with _writing(args) as ledger:
            try:
                return ledger.apply_teacher_plan(
                    args.plan_dir, year=args.year, key=args.key, **_writes(args)
                )
            except InputErrors as errors:  # a bad plan directory: one JSON error with --json
                raise _BadInput(errors.report()) from errors

    def show(result: dict[str, Any]) -> None:
        year = f" (year {result['year']})" if result["year"] is not None else ""
        if result["replayed"]:
            print(f"plan {result['plan_id'][:12]}{year} was applied with this key at event "
                  f"{result['seq']}; nothing new written")  # fmt: skip
        else:
            print(f"plan {result['plan_id'][:12]}{year} applied: {result['events']} events "
                  f"from event {result['seq']}, 文号 {result['document']}")  # fmt: skip
        _show_teacher_changes(result)
        if result.get("checkpoint"):
            print(f"checkpoint written: {result['checkpoint']}")

    return _run(args, action, show)


def _show_teacher_changes(result: dict[str, Any]) -> None:
    changed = [c for c in result["counties"] if c["change"]]
    print(f"  counties: {len(result['counties'])}, changed: {len(changed)}")
    for county in changed:
        print(f"  {county['county_id']:<8} {county['before']:>7} -> {county['after']:>7} "
              f"({county['change']:+d})  {county['name']}")  # fmt: skip
    print(f"  city teacher total: {result['total_before']} -> {result['total_after']} "
          f"(extra_quota {result['extra_quota']})")  # fmt: skip


def _show_teacher(teacher: dict[str, Any]) -> None:
    """`ledger status`: the teacher quota accounts, if the ledger has any."""
    if not teacher["counties"]:
        return
    last = teacher["applications"][-1] if teacher["applications"] else None
    applied = (
        f"; last plan {last['plan_id'][:12]} on {last['effective']}, 文号 {last['document']}"
        if last
        else ""
    )
    print(f"teacher quotas (教职工编制): {len(teacher['counties'])} counties, total "
          f"{teacher['total']}{applied}")  # fmt: skip
    for county in teacher["counties"]:
        print(f"  {county['county_id']:<8} {county['quota']:>7}  {county['name']}")
