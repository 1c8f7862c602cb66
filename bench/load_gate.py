"""Wait for a quiet machine before a measurement, and say when it never came ("loaded").

Absolute figures on these 2-core machines drift several-fold with whatever else runs (issue #20),
so every measurement records the 1-minute load average just before it starts. When that is above
the limit (1.0), :func:`wait_for_quiet` waits up to ``max_wait_s`` (5 minutes) for it to drop, then
lets the measurement run anyway and marks it ``loaded``: its ratios still count, its absolute
figures are not the machine's.

Stdlib only, so both environments (main and PyFlink) import it. As a script it serves
``scripts/bench.sh``, which gates every component the same way::

    python bench/load_gate.py wait > gate.json              # before a component
    python bench/load_gate.py stamp bench/results/x.json gate.json   # after it succeeded

``stamp`` adds the gate's record to the component's result as ``load_gate`` (bench/aggregate.py
reads it: a loaded result does not replace the last unloaded headline figure).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOAD_LIMIT = 1.0
"""The 1-minute load average above which a machine counts as busy (2 cores)."""
MAX_WAIT_S = 300.0
"""How long to wait for the load to drop before measuring anyway."""


def load_1m() -> float:
    """The 1-minute load average now."""
    return os.getloadavg()[0]


def wait_for_quiet(
    limit: float = LOAD_LIMIT,
    max_wait_s: float = MAX_WAIT_S,
    poll_s: float = 5.0,
    *,
    load: Callable[[], float] = load_1m,
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Wait until the 1-minute load is at most ``limit`` (at most ``max_wait_s``); the record.

    ``load_before`` is the load when the wait ended, i.e. just before the measurement;
    ``loaded`` is true when it was still above ``limit`` then.
    """
    first = load()
    current = first
    started = time.monotonic()
    if current > limit and say is not None:
        say(
            f"load average {current:.2f} > {limit}: waiting up to {max_wait_s:.0f} s for it to drop"
        )
    while current > limit and time.monotonic() - started < max_wait_s:
        sleep(min(poll_s, max(0.0, max_wait_s - (time.monotonic() - started))))
        current = load()
    return {
        "load_at_first_check": round(first, 2),
        "load_before": round(current, 2),
        "waited_s": round(time.monotonic() - started, 1),
        "limit": limit,
        "max_wait_s": max_wait_s,
        "loaded": current > limit,
    }


def stamp(result_file: Path, gate: dict[str, Any]) -> None:
    """Add the gate's record to a component's result file (``load_gate``)."""
    data = json.loads(result_file.read_text(encoding="utf-8"))
    data["load_gate"] = gate
    result_file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """``wait`` prints the gate's record as JSON; ``stamp RESULT GATE`` adds it to RESULT."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    wait = sub.add_parser("wait", help="wait for the load to drop; print the record (JSON)")
    wait.add_argument("--limit", type=float, default=LOAD_LIMIT)
    wait.add_argument("--max-wait-s", type=float, default=MAX_WAIT_S)
    put = sub.add_parser("stamp", help="add a gate record to a component's result file")
    put.add_argument("result", type=Path)
    put.add_argument("gate", type=Path)
    args = parser.parse_args(argv)
    if args.command == "wait":
        gate = wait_for_quiet(
            args.limit, args.max_wait_s, say=lambda text: print(text, file=sys.stderr)
        )
        print(json.dumps(gate))
        return 0
    if not args.result.is_file():
        print(f"{args.result}: no result to stamp", file=sys.stderr)
        return 1
    stamp(args.result, json.loads(args.gate.read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
