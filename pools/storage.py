"""Where events live: SQLAlchemy Core on SQLite (embedded default) or PostgreSQL (shared).

Three tables, created by the program (`Store.create_schema`, under the write lock, so that
several first runs at once create them once):

- ``ledger_events``: one row per event, never updated or deleted (database triggers refuse
  UPDATE and DELETE, and on PostgreSQL TRUNCATE of either table). On PostgreSQL the program
  should run as a writer role that owns nothing (`Store.grant`, ``quotapool ledger grant``):
  only the owner could drop or disable the triggers. The payload is stored as the canonical
  JSON text that was hashed. ``idem_key`` is UNIQUE, so one client key can never open two loans.
- ``ledger_head``: one row holding the last sequence number, hash and effective date. Every
  writer locks it first, so appends are serialised and each append reads the latest state:
  on PostgreSQL with ``SELECT … FOR UPDATE`` (READ COMMITTED: after the lock every committed
  event is visible); on SQLite every write transaction is ``BEGIN IMMEDIATE`` (the database
  write lock is taken before anything is read), with WAL, a busy timeout and
  ``synchronous=FULL`` so that an acknowledged event survives a crash.

- ``ledger_snapshots``: the folded state at some event, MAC'd under the chain key
  (`pools.snapshot`): a cache, so no append-only triggers (see `snapshots_table`).

Readers never take the write lock (SQLite reads begin DEFERRED: WAL readers take no lock;
PostgreSQL reads lock no row). Writers wait at most $QUOTAPOOL_LOCK_TIMEOUT seconds (SQLite's
busy timeout, PostgreSQL's lock_timeout), then `LedgerBusy`.

A bare path is accepted as a SQLite file; ``postgresql://`` URLs use the psycopg 3 driver.
Schema changes after the first release go through Alembic migrations (none yet).
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine

from pools.events import GENESIS, Event, body_json, canonical_json, payload_from_dict
from pools.snapshot import StoredSnapshot

APPEND_CHUNK = 10_000  # rows per COPY / executemany when a write appends many events
LOCK_TIMEOUT_ENV = "QUOTAPOOL_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 30.0  # seconds a writer waits for the ledger before it gives up


class LedgerBusy(Exception):
    """Another write held the ledger longer than the lock timeout: nothing was written; try
    again. (`quotapool` exits with EX_TEMPFAIL, 75, and with --json prints `as_dict()` as its
    error, in the shape of every refusal.)"""

    RULE = "ledger.busy"

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.message_en = (
            f"ledger busy: another write held it for more than {seconds:g} s; nothing was "
            "written, try again"
        )
        self.message_zh = f"台账正忙：其他写入占用超过 {seconds:g} 秒，未写入，请稍后重试"
        super().__init__(f"{self.message_en} ({self.message_zh})")

    def as_dict(self) -> dict[str, Any]:
        """A refusal's rule and messages, and the hint that the same request may be retried
        as it is (after a wait of about the lock timeout)."""
        return {
            "rule": self.RULE,
            "message_en": self.message_en,
            "message_zh": self.message_zh,
            "retry": True,
            "lock_timeout": self.seconds,
        }


def lock_timeout() -> float:
    """Seconds a writer waits for the ledger ($QUOTAPOOL_LOCK_TIMEOUT, default 30); ValueError
    naming the variable if it is not a number of seconds > 0 (at most a day)."""
    text = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (0 < seconds <= 86_400):
        raise ValueError(
            f"{LOCK_TIMEOUT_ENV} must be a number of seconds in (0, 86400], not {text!r}"
        )
    return seconds


def is_busy(exc: BaseException) -> bool:
    """A database error that means "the lock was not granted in time": SQLite's busy/locked,
    PostgreSQL's lock_timeout (SQLSTATE 55P03), raw or wrapped by SQLAlchemy."""
    seen = 0
    error: BaseException | None = exc
    while error is not None and seen < 5:
        if isinstance(error, sqlite3.OperationalError):
            text = str(error).lower()
            if "locked" in text or "busy" in text:
                return True
        if getattr(error, "sqlstate", None) == "55P03":
            return True
        error = getattr(error, "orig", None) or error.__cause__
        seen += 1
    return False


metadata = sa.MetaData()

events_table = sa.Table(
    "ledger_events",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.String(32), nullable=False, unique=True),
    sa.Column("idem_key", sa.String(200), nullable=True, unique=True),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sa.Column("effective", sa.String(10), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("document", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

head_table = sa.Table(
    "ledger_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("effective", sa.String(10), nullable=False),
)

# A cache of the folded state (`pools.snapshot`): one row per snapshot, MAC'd under the chain
# key. No append-only triggers: deleting or spoiling a snapshot costs only a full replay (it
# is then ignored, and `audit verify` says so); one cannot be forged without the key, and with
# the key `audit verify` compares every snapshot with the full replay. Writes keep the latest.
snapshots_table = sa.Table(
    "ledger_snapshots",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("format_version", sa.String(80), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("mac", sa.String(64), nullable=False),
)

_SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER IF NOT EXISTS ledger_events_no_update BEFORE UPDATE ON ledger_events
       BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS ledger_events_no_delete BEFORE DELETE ON ledger_events
       BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END""",
]
_POSTGRES_APPEND_ONLY = [
    """CREATE OR REPLACE FUNCTION ledger_events_append_only() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'ledger events are append-only'; END $$""",
    "DROP TRIGGER IF EXISTS ledger_events_append_only ON ledger_events",
    """CREATE TRIGGER ledger_events_append_only BEFORE UPDATE OR DELETE ON ledger_events
       FOR EACH ROW EXECUTE FUNCTION ledger_events_append_only()""",
    # TRUNCATE fires no row trigger: refuse it with a statement trigger, on both tables
    "DROP TRIGGER IF EXISTS ledger_events_no_truncate ON ledger_events",
    """CREATE TRIGGER ledger_events_no_truncate BEFORE TRUNCATE ON ledger_events
       FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_append_only()""",
    "DROP TRIGGER IF EXISTS ledger_head_no_truncate ON ledger_head",
    """CREATE TRIGGER ledger_head_no_truncate BEFORE TRUNCATE ON ledger_head
       FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_append_only()""",
]

# Least privilege on PostgreSQL (`Store.grant`, `quotapool ledger grant`): the owner (who
# created the tables) keeps DDL; the writer role the program runs as may only append events
# and move the head, and write snapshots (a cache: it deletes the older ones); a reader role
# only reads. {writer} / {reader} are quoted identifiers.
_POSTGRES_WRITER_GRANTS = [
    "REVOKE ALL ON ledger_events, ledger_head, ledger_snapshots FROM PUBLIC",
    "REVOKE ALL ON ledger_events, ledger_head, ledger_snapshots FROM {writer}",
    "GRANT USAGE ON SCHEMA public TO {writer}",
    "GRANT SELECT, INSERT ON ledger_events TO {writer}",
    "GRANT SELECT, UPDATE ON ledger_head TO {writer}",
    "GRANT SELECT, INSERT, DELETE ON ledger_snapshots TO {writer}",
]
_POSTGRES_READER_GRANTS = [
    "REVOKE ALL ON ledger_events, ledger_head, ledger_snapshots FROM {reader}",
    "GRANT USAGE ON SCHEMA public TO {reader}",
    "GRANT SELECT ON ledger_events, ledger_head, ledger_snapshots TO {reader}",
]


class GrantError(ValueError):
    """Roles that cannot be given least-privilege access as asked (named)."""


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    effective: str


def normalise_url(url: str | Path) -> str:
    """A SQLAlchemy URL: bare paths become SQLite files, postgresql:// uses psycopg 3."""
    text = str(url)
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix) :]
    return text


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def make_engine(url: str | Path, seconds: float = DEFAULT_LOCK_TIMEOUT) -> Engine:
    """An engine whose writers wait at most `seconds` for a lock (SQLite's busy timeout;
    PostgreSQL's lock_timeout, per session). Readers never wait: SQLite WAL readers take no
    lock, PostgreSQL plain reads take none that a writer holds."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": seconds})
        _configure_sqlite(engine, seconds)
        return engine
    return sa.create_engine(
        url,
        isolation_level="READ COMMITTED",
        connect_args={"options": f"-c lock_timeout={max(1, round(seconds * 1000))}"},
    )


def _configure_sqlite(engine: Engine, seconds: float) -> None:
    @sa_event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={max(1, round(seconds * 1000))}")  # before anything
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @sa_event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # reads (and SQLAlchemy's own, e.g. inspecting tables) begin DEFERRED: a WAL reader
        # takes no lock, so it never waits for a writer; writes ask for IMMEDIATE
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Store:
    """Transactions, the head lock and event rows. Knows nothing of the rules."""

    def __init__(self, url: str | Path):
        self.url = normalise_url(url)
        self.lock_timeout = lock_timeout()
        self.engine = make_engine(self.url, self.lock_timeout)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        mark = "?" if self.is_sqlite else "%s"  # sqlite3 and psycopg parameter styles
        columns = [column.name for column in events_table.columns]
        self._columns = columns
        self._snapshots: bool | None = None  # the snapshot table exists (asked once)
        self._sql = {
            "head": "SELECT seq, hash, effective FROM ledger_head WHERE id = 1"
            + ("" if self.is_sqlite else " FOR UPDATE"),
            "insert": f"INSERT INTO ledger_events ({', '.join(columns)}) "
            f"VALUES ({', '.join([mark] * len(columns))})",
            "copy": f"COPY ledger_events ({', '.join(columns)}) FROM STDIN",
            "move_head": f"UPDATE ledger_head SET seq = {mark}, hash = {mark}, "
            f"effective = {mark} WHERE id = 1",
        }

    def dispose(self) -> None:
        self.engine.dispose()

    def create_schema(self) -> None:
        """Create the tables, triggers and head row if missing, in one transaction that first
        takes the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock, as DDL
        is transactional there), so that several first runs at once never race on CREATE
        TABLE (a raw pg_type duplicate-key error): one creates, the others find it made."""
        statements = _SQLITE_APPEND_ONLY if self.is_sqlite else _POSTGRES_APPEND_ONLY
        with self.engine.connect() as conn, self._busy():
            conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                if not self.is_sqlite:
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
                existed = sa.inspect(conn).has_table("ledger_head")
                metadata.create_all(conn)  # what is missing (the snapshot table, say)
                # triggers only on new tables: redoing them locks the tables exclusively,
                # which deadlocks with a write already under way (`grant` redoes them)
                for statement in [] if existed else statements:
                    conn.exec_driver_sql(statement)
                conn.execute(
                    head_table.insert().from_select(
                        ["id", "seq", "hash", "effective"],
                        sa.select(
                            sa.literal(1), sa.literal(0), sa.literal(GENESIS), sa.literal("")
                        ).where(~sa.exists().where(head_table.c.id == 1)),
                    )
                )
        self._snapshots = True

    def grant(self, writer: str, reader: str | None = None) -> list[str]:
        """Run as the tables' owner on PostgreSQL: make sure the append-only triggers (with
        TRUNCATE) are in place, then give `writer` INSERT/SELECT on the events and
        SELECT/UPDATE on the head, and `reader` SELECT only; nothing else for either (no
        DELETE, TRUNCATE, DDL or trigger changes: they own nothing). Returns the statements
        run. GrantError if the roles are missing, a superuser or an owner of the tables."""
        if self.is_sqlite:
            raise GrantError(
                "SQLite has no roles: protect the database file with file permissions instead"
            )
        quote = self.engine.dialect.identifier_preparer.quote
        done = []
        with self.engine.begin() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
            owners = set(
                conn.exec_driver_sql(
                    "SELECT tableowner FROM pg_tables WHERE tablename IN "
                    "('ledger_events', 'ledger_head')"
                ).scalars()
            )
            if not owners:
                raise GrantError("no ledger tables here: create the ledger (as its owner) first")
            for role in [writer] + ([reader] if reader else []):
                found = conn.execute(
                    sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}
                ).first()
                if found is None:
                    raise GrantError(f"role '{role}' does not exist (CREATE ROLE it first)")
                if found[0] or role in owners:
                    raise GrantError(
                        f"role '{role}' is a superuser or owns the ledger tables: it could "
                        "disable the triggers; use a role of its own"
                    )
            statements = list(_POSTGRES_APPEND_ONLY) + [
                s.format(writer=quote(writer)) for s in _POSTGRES_WRITER_GRANTS
            ]
            if reader:
                statements += [s.format(reader=quote(reader)) for s in _POSTGRES_READER_GRANTS]
            for statement in statements:
                conn.exec_driver_sql(statement)
                done.append(" ".join(statement.split()))
        return done

    def has_schema(self) -> bool:
        return sa.inspect(self.engine).has_table("ledger_head")

    @contextmanager
    def write(self) -> Iterator[tuple[Connection, Head]]:
        """A write transaction with the ledger head locked; commits on normal exit.

        SQLAlchemy owns the connection and the transaction; the three statements of the hot
        path (lock/read the head, insert events, move the head) go straight to the driver's
        cursor inside that transaction, which makes an append several times cheaper (the
        statement-building layer costs more than SQLite's own commit).

        LedgerBusy if the lock is not granted within the lock timeout (nothing written)."""
        with self.engine.connect() as conn, self._busy():
            conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                cursor.execute(self._sql["head"])
                seq, digest, effective = cursor.fetchone()
                cursor.close()
                yield conn, Head(int(seq), digest, effective)

    @contextmanager
    def _busy(self) -> Iterator[None]:
        """A lock not granted within the lock timeout becomes LedgerBusy."""
        try:
            yield
        except Exception as exc:
            if is_busy(exc):
                raise LedgerBusy(self.lock_timeout) from exc
            raise

    @contextmanager
    def read(self) -> Iterator[tuple[Connection, Head]]:
        """A read-only transaction (one consistent snapshot of the ledger)."""
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_begin="DEFERRED")
            with conn.begin():
                row = conn.execute(
                    sa.select(head_table.c.seq, head_table.c.hash, head_table.c.effective).where(
                        head_table.c.id == 1
                    )
                ).one()
                yield conn, Head(int(row.seq), row.hash, row.effective)

    def append(self, conn: Connection, events: list[Event]) -> None:
        """Insert events and move the head, inside the transaction `write` opened. Many
        events (a million units at `init`) go in chunks: COPY on PostgreSQL, executemany on
        SQLite, never a list of every row at once."""
        if not events:
            return
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        columns = self._columns
        if len(events) == 1:
            cursor.execute(
                self._sql["insert"], tuple(map(event_row(events[0]).__getitem__, columns))
            )
        else:
            chunk = APPEND_CHUNK
            for start in range(0, len(events), chunk):
                rows = [
                    tuple(map(event_row(event).__getitem__, columns))
                    for event in events[start : start + chunk]
                ]
                if self.is_sqlite:
                    cursor.executemany(self._sql["insert"], rows)
                else:
                    with cursor.copy(self._sql["copy"]) as copy:
                        for row in rows:
                            copy.write_row(row)
        last = events[-1]
        cursor.execute(self._sql["move_head"], (last.seq, last.hash, last.effective))
        cursor.close()

    def events(
        self,
        conn: Connection,
        after: int = 0,
        upto: int | None = None,
        until: str | None = None,
        batch: int = 20_000,
        *,
        by_date: bool = False,
    ) -> Iterator[Event]:
        """Events in sequence order (`by_date`: in order of effective date, then sequence,
        as `pools.state.fold_as_of` reads them): seq in (after, upto], effective on or
        before `until`."""
        for row in self.rows(conn, after, upto, until, batch, by_date=by_date):
            yield event_from_row(row)

    def rows(
        self,
        conn: Connection,
        after: int = 0,
        upto: int | None = None,
        until: str | None = None,
        batch: int = 20_000,
        *,
        by_date: bool = False,
    ) -> Iterator[tuple[Any, ...]]:
        """Raw rows (plain tuples, columns in table order) in sequence order.

        One query on the driver's own cursor, fetched `batch` rows at a time (on PostgreSQL a
        server-side cursor), so a million events never sit in memory and no row object is
        built per event: replay spends its time on the events, not on the database layer."""
        mark = "?" if self.is_sqlite else "%s"
        sql = f"SELECT {', '.join(self._columns)} FROM ledger_events WHERE seq > {mark}"
        params: list[Any] = [after]
        if upto is not None:
            sql += f" AND seq <= {mark}"
            params.append(upto)
        if until is not None:
            sql += f" AND effective <= {mark}"
            params.append(until)
        driver = conn.connection.driver_connection
        assert driver is not None
        # psycopg: a named cursor lives on the server, inside this transaction (a unique name:
        # a replay stopped early may not have closed its cursor yet when the next one opens)
        cursor = driver.cursor() if self.is_sqlite else driver.cursor(name=f"rows_{uuid4().hex}")
        try:
            order = " ORDER BY effective, seq" if by_date else " ORDER BY seq"
            cursor.execute(sql + order, params)
            while page := cursor.fetchmany(batch):
                yield from page
        finally:
            cursor.close()

    # ---- snapshots (`pools.snapshot`) ---------------------------------------------------

    def has_snapshots(self, conn: Connection) -> bool:
        """The snapshot table exists (a ledger made before it had none: then no snapshots)."""
        if self._snapshots is None:
            self._snapshots = sa.inspect(conn).has_table("ledger_snapshots")
        return self._snapshots

    def latest_snapshot(
        self, conn: Connection, upto: int
    ) -> tuple[StoredSnapshot, str | None] | None:
        """The latest snapshot at or before event `upto`, with the hash of the event stored at
        its seq (None if there is none)."""
        if not self.has_snapshots(conn):
            return None
        row = conn.execute(
            sa.select(snapshots_table)
            .where(snapshots_table.c.seq <= upto)
            .order_by(snapshots_table.c.seq.desc())
            .limit(1)
        ).first()
        return None if row is None else (StoredSnapshot(*row), self._event_hash(conn, row.seq))

    def all_snapshots(self, conn: Connection) -> Iterator[tuple[StoredSnapshot, str | None]]:
        """Every stored snapshot, oldest first, with the hash of the event at its seq."""
        if not self.has_snapshots(conn):
            return
        seqs = conn.execute(sa.select(snapshots_table.c.seq).order_by("seq")).scalars().all()
        for seq in seqs:
            row = conn.execute(sa.select(snapshots_table).where(snapshots_table.c.seq == seq)).one()
            yield StoredSnapshot(*row), self._event_hash(conn, seq)

    def snapshot_seq(self, conn: Connection) -> int:
        """The seq of the latest snapshot (0: none)."""
        if not self.has_snapshots(conn):
            return 0
        return int(conn.execute(sa.select(sa.func.max(snapshots_table.c.seq))).scalar() or 0)

    def save_snapshot(self, conn: Connection, snapshot: StoredSnapshot) -> None:
        """Store a snapshot in the write's transaction and drop the older ones."""
        conn.execute(snapshots_table.delete().where(snapshots_table.c.seq < snapshot.seq))
        conn.execute(
            snapshots_table.insert().values(
                seq=snapshot.seq,
                hash=snapshot.hash,
                format_version=snapshot.format_version,
                body=snapshot.body,
                mac=snapshot.mac,
            )
        )

    def row(self, conn: Connection, seq: int) -> tuple[Any, ...] | None:
        """One stored event row, columns in table order as `rows` yields them (None: no
        event `seq`): a plain query, without the server-side cursor `rows` opens."""
        found = conn.execute(
            sa.select(*(events_table.c[name] for name in self._columns)).where(
                events_table.c.seq == seq
            )
        ).first()
        return None if found is None else tuple(found)

    def _event_hash(self, conn: Connection, seq: int) -> str | None:
        return conn.execute(
            sa.select(events_table.c.hash).where(events_table.c.seq == seq)
        ).scalar()

    def find_key(self, conn: Connection, key: str) -> int | None:
        seq = conn.execute(
            sa.select(events_table.c.seq).where(events_table.c.idem_key == key)
        ).scalar()
        return None if seq is None else int(seq)


def event_row(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "event_id": event.event_id,
        "idem_key": event.idem_key,
        "recorded_at": event.recorded_at,
        "effective": event.effective,
        "actor": event.actor,
        "reason": event.reason,
        "document": event.document,
        "kind": event.kind,
        "payload": canonical_json(event.payload.as_dict()),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def row_body(row: Any) -> dict[str, Any]:
    """What the hash of a stored row seals, as a dict (`canonical_json` of it is `row_json`).
    Columns in table order, read by position."""
    seq, event_id, idem_key, recorded_at, effective, actor, reason, document, kind, text = row[:10]
    return {
        "seq": int(seq),
        "event_id": event_id,
        "idem_key": idem_key,
        "recorded_at": recorded_at,
        "effective": effective,
        "actor": actor,
        "reason": reason,
        "document": document,
        "kind": kind,
        "payload": orjson.loads(text),
    }


def row_json(row: Any) -> str:
    """The text the hash of a stored row seals, around the payload text exactly as stored."""
    seq, event_id, idem_key, recorded_at, effective, actor, reason, document, kind, text = row[:10]
    return body_json(
        int(seq), event_id, idem_key, recorded_at, effective, actor, reason, document, kind, text
    )


def event_from_row(row: Any) -> Event:
    """An event from a row of `Store.rows` (columns in table order, read by position)."""
    seq, event_id, idem_key, recorded_at, effective, actor, reason, document, kind = row[:9]
    text, prev_hash, digest = row[9:12]
    return Event(
        int(seq), event_id, idem_key, recorded_at, effective, actor, reason, document,
        payload_from_dict(kind, orjson.loads(text)), prev_hash, digest,
    )  # fmt: skip
