"""The reference ladder of issue #20: what each layer of work costs, measured in the same run.

Absolute figures on these 2-core machines drift several-fold between days, so the scorer and the
ingestor are judged against references measured in the same run (docs/adr/0081):

- Scorer (``bench/ladder_scorer.py``, in the PyFlink env; rungs in ``bench/ladder_job.py``): L0
  the JVM alone (customer-keyed Kafka source -> exactly-once keyed sink), L1 + a Python keyed
  function with one bytes ValueState, L2 + decode/validation, L3 + the scoring core, L4 + every
  side output, L5 the real job: µs of job CPU per event and events/s, absolute and x L1; then
  L1 + L5 pairs back to back, whose median ratio is issue #20's (``--scorer-pairs``).
- Ingestor (``bench/ladder_ingestor.py``, here): raw COPY of the payload into an unindexed table,
  + validation, + the payload's type, + each index of bronze.transactions, the real path, a
  re-read: client + server CPU µs per row and rows/s, absolute and x raw COPY.

Before every rung the 1-minute load average is recorded; above 1.0 the rung waits up to 5
minutes for it to drop, then runs anyway and is marked ``loaded``.

Writes ``bench/results/ladder.json`` (``--out``); bench/aggregate.py prints it into
docs/benchmarks.md. Command: ``scripts/uv.sh run python bench/ladder.py [--events 200000]
[--rows 200000] [--part scorer,ingestor]``. Part of ``make bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import ladder_ingestor  # noqa: E402
from bench.load_gate import LOAD_LIMIT, MAX_WAIT_S  # noqa: E402

RESULT = ROOT / "bench" / "results" / "ladder.json"
FLINK_PYTHON = ROOT / "services" / "fraud-scorer" / ".venv" / "bin" / "python"
COMMAND = "scripts/uv.sh run python bench/ladder.py"


def run_scorer(args: argparse.Namespace) -> dict[str, Any]:
    """The scorer ladder, in the PyFlink environment (a process of its own)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(FLINK_PYTHON.parent), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(FLINK_PYTHON.parent.parent)
    with tempfile.TemporaryDirectory(prefix="ladder-") as tmp:
        out = Path(tmp) / "scorer.json"
        command = [
            str(FLINK_PYTHON),
            str(ROOT / "bench" / "ladder_scorer.py"),
            f"--events={args.events}",
            f"--rungs={args.rungs}",
            f"--load-limit={args.load_limit}",
            f"--load-wait-s={args.load_wait_s}",
            f"--out={out}",
        ]
        if args.scorer_pairs is not None:  # else ladder_scorer.PAIRS
            command.append(f"--pairs={args.scorer_pairs}")
        subprocess.run(command, env=env, cwd=ROOT, check=True)  # noqa: S603 - our own script
        scorer: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return scorer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="scorer: records per rung")
    parser.add_argument("--rungs", default="L0,L0m,L1,L2,L3,L4,L5", help="scorer rungs to run")
    parser.add_argument("--rows", type=int, default=200_000, help="ingestor: rows per rung")
    parser.add_argument(
        "--pairs",
        type=int,
        default=ladder_ingestor.PAIRS,
        help="ingestor: raw COPY + ingestor pairs, the ladder's own and the rest back to back "
        "(the ratio is their median)",
    )
    parser.add_argument(
        "--scorer-pairs",
        type=int,
        default=None,
        help="scorer: L1 + L5 pairs, the ladder's own and the rest back to back "
        "(the ratio is their median; default: bench/ladder_scorer.py's PAIRS)",
    )
    parser.add_argument("--part", default="scorer,ingestor", help="which ladders to run")
    parser.add_argument("--load-limit", type=float, default=LOAD_LIMIT)
    parser.add_argument("--load-wait-s", type=float, default=MAX_WAIT_S)
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args()
    parts = {p.strip() for p in args.part.split(",") if p.strip()}
    if not parts or parts - {"scorer", "ingestor"}:
        parser.error("--part takes scorer, ingestor or both")
    result: dict[str, Any] = {
        "component": "ladder",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_limit": args.load_limit,
        "load_wait_max_s": args.load_wait_s,
        "command": COMMAND
        + ("" if parts == {"scorer", "ingestor"} else f" --part {','.join(sorted(parts))}"),
        "scorer": None,
        "ingestor": None,
        "errors": {},
    }
    if "scorer" in parts:
        try:
            result["scorer"] = run_scorer(args)
        except (subprocess.CalledProcessError, OSError, ValueError) as exc:
            result["errors"]["scorer"] = repr(exc)
            traceback.print_exc()
    if "ingestor" in parts:
        try:
            result["ingestor"] = asyncio.run(
                ladder_ingestor.run(args.rows, args.load_limit, args.load_wait_s, args.pairs)
            )
        except Exception as exc:  # reported; the scorer's part is still written
            result["errors"]["ingestor"] = repr(exc)
            traceback.print_exc()
    result["loaded"] = any(
        bool(part and part.get("loaded")) for part in (result["scorer"], result["ingestor"])
    )
    loads = [
        rung["load_before"]
        for part in (result["scorer"], result["ingestor"])
        for rung in ((part or {}).get("rungs") or {}).values()
        if isinstance(rung.get("load_before"), int | float)
    ]
    if loads:  # the headline table's load column: the busiest moment before a rung
        result["load_average_before"] = max(loads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
