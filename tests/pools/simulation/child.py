"""A real writer process for the simulator: one ledger call, and maybe a real death mid-write.

    python -m tests.pools.simulation.child '{"url": …, "day": "2027-03-01", "point": …,
                                             "method": "sync", "args": […], "kwargs": {…}}'

runs `Ledger(url).<method>(*args, **kwargs)` with the simulated clock on `day`. When `point`
names a crash point (`faults`), the process dies there with `os._exit` — no exception, no
rollback by Python, no cleanup: the database alone must make the write all or nothing. Prints
one JSON line: {"result": …} or {"refused": rule, "en": …, "zh": …}; a death prints nothing
and exits with `DIED`.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from typing import Any

DIED = 70


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__date__" in value:
            return date.fromisoformat(value["__date__"])
        if "__unit__" in value:
            from pools.units import Unit

            return Unit(**value["__unit__"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def encode(value: Any) -> Any:
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    if hasattr(value, "unit_id") and hasattr(value, "as_dict"):
        return {"__unit__": value.as_dict()}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def main(request: dict[str, Any]) -> int:
    from pools.ledger import Ledger
    from pools.rules import RuleViolation

    from .faults import FaultPlan, installed
    from .runner import SimClock, relaxed_sqlite

    class DyingPlan(FaultPlan):
        def crash(self, point: str) -> None:
            sys.stderr.write(f"died at {point}\n")
            sys.stderr.flush()
            os._exit(DIED)

    plan = DyingPlan()
    with relaxed_sqlite(), installed(plan):
        ledger = Ledger(
            request["url"],
            key=request.get("key"),
            old_keys=request.get("old_keys", []),
            clock=SimClock(date.fromisoformat(request["day"])),
        )
        if request["point"]:
            plan.arm(request["point"], ledger.store)
        try:
            result = getattr(ledger, request["method"])(
                *decode(request["args"]), **decode(request["kwargs"])
            )
        except RuleViolation as refusal:
            print(json.dumps({"refused": refusal.rule, "en": refusal.message_en,
                              "zh": refusal.message_zh}))  # fmt: skip
            return 0
        print(json.dumps({"result": result}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
