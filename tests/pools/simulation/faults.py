"""Simulated crashes at every step of a ledger write, injected around `pools.storage.Store`.

A write is: open the transaction and lock the head (`Store.write`), run the command, then
`Store.append` sends its statements (insert the events, move the head, and whatever else the
storage layer writes in the same transaction), then the transaction commits, then the answer
goes back to the client. A crash point stops the write at one of those places:

- ``statement:k`` — before the k-th statement `Store.append` sends through the driver's cursor
  (``statement:0``: before the insert; ``statement:1``: between inserting the events and moving
  the head; higher: before any later statement of the same transaction). A point past the last
  statement falls through to ``before_commit``;
- ``before_commit`` — every statement sent, the commit not yet;
- ``after_commit`` — committed, but the call fails before its answer reaches the client;

The crash is an exception (`SimulatedCrash`) raised at that point: the database rolls back
what it has not committed, exactly as it does for a process that dies there, and the Ledger
object that was writing lives on (its in-process cache must not keep a half-applied command).
The patch is installed on the class, for the simulator only (`installed`), so that
`Ledger.create` (which builds its own Store) can crash as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pools.storage import Store

COMMITTED_POINTS = frozenset({"after_commit"})


class SimulatedCrash(Exception):
    """The simulated process died at `point` during a write."""

    def __init__(self, point: str):
        super().__init__(f"simulated crash at {point}")
        self.point = point
        self.replay = False  # set when the crashed call was a keyed replay (it wrote nothing)

    @property
    def committed(self) -> bool:
        return self.point in COMMITTED_POINTS


class FaultPlan:
    """At most one armed crash point, for the next write (of any store, or of one)."""

    def __init__(self) -> None:
        self.armed: str | None = None
        self.store: Store | None = None
        self.hit: str | None = None

    def arm(self, point: str, store: Store | None = None) -> None:
        self.armed, self.store, self.hit = point, store, None

    def disarm(self) -> None:
        self.armed, self.store = None, None

    def _for(self, store: Store) -> str | None:
        if self.armed is None or (self.store is not None and self.store is not store):
            return None
        return self.armed

    def crash(self, point: str) -> None:
        self.hit = point
        self.disarm()
        raise SimulatedCrash(point)


class _Proxy:
    """Passes everything through to `target`, except the names given."""

    def __init__(self, target: Any, **overrides: Any):
        self._target = target
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


class _CrashingCursor(_Proxy):
    def __init__(self, cursor: Any, before: Callable[[], None]):
        super().__init__(cursor)
        self._before = before

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._before()
        return self._target.execute(*args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> Any:
        self._before()
        return self._target.executemany(*args, **kwargs)


def _crashing_connection(conn: Any, plan: FaultPlan, k: int) -> Any:
    """`conn` whose driver cursors crash before their k-th statement (counted from 0)."""
    sent = [0]

    def before() -> None:
        if sent[0] == k:
            plan.crash(f"statement:{k}")
        sent[0] += 1

    fairy = conn.connection
    driver = fairy.driver_connection
    cursor_of = driver.cursor
    driver_proxy = _Proxy(
        driver, cursor=lambda *a, **kw: _CrashingCursor(cursor_of(*a, **kw), before)
    )
    return _Proxy(conn, connection=_Proxy(fairy, driver_connection=driver_proxy))


@contextmanager
def installed(plan: FaultPlan) -> Iterator[FaultPlan]:
    """Patch `Store.write` and `Store.append` to crash where `plan` is armed (then restore)."""
    original_write = Store.write
    original_append = Store.append

    @contextmanager
    def write(self: Store) -> Iterator[Any]:
        with original_write(self) as opened:
            yield opened
            if plan._for(self) is not None and (plan.armed or "").startswith("statement:"):
                plan.armed = "before_commit"  # the append sent fewer statements than k
            if plan._for(self) == "before_commit":
                plan.crash("before_commit")
        if plan._for(self) == "after_commit":
            plan.crash("after_commit")

    def append(self: Store, conn: Any, events: list[Any]) -> None:
        point = plan._for(self)
        if point is not None and point.startswith("statement:"):
            conn = _crashing_connection(conn, plan, int(point.split(":")[1]))
        original_append(self, conn, events)

    Store.write = write  # type: ignore[method-assign,assignment]
    Store.append = append  # type: ignore[method-assign]
    try:
        yield plan
    finally:
        Store.write = original_write  # type: ignore[method-assign]
        Store.append = original_append  # type: ignore[method-assign]
