"""SIGKILL the scoring job while a checkpoint is in progress (crash matrix, issue 17 Build 5).

The job runs in a local MiniCluster whose REST endpoint listens on a random port, logged as
"Rest endpoint listening at localhost:<port>" in the job's Flink log. This helper finds that port,
waits for the job's tasks to run, triggers a full checkpoint (``POST /jobs/<id>/checkpoints``),
and kills the job's whole process group (``--pid`` leads it) as soon as that checkpoint is
provably in progress: its ``chk-<n>`` directory exists without ``_metadata`` (Flink writes the
metadata file last, when the checkpoint completes) and the trigger's status is still
``IN_PROGRESS``. After the kill it checks that ``chk-<n>`` never completed, so a restart must resume
from an older checkpoint; exit 1 if the window was missed.

    python scripts/pipeline/faults/kill_in_checkpoint.py --pid PID --log-dir DIR --checkpoints DIR
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REST_LINE = re.compile(r"Rest endpoint listening at [^:\s]+:(\d+)")


def rest_port(log_dir: Path, deadline: float) -> int:
    """The MiniCluster's REST port, from the newest Flink log line that names it."""
    while True:
        logs = sorted(log_dir.glob("*.log"), key=lambda p: p.stat().st_mtime)
        for log in reversed(logs):
            ports = REST_LINE.findall(log.read_text(errors="replace"))
            if ports:
                return int(ports[-1])
        if time.monotonic() > deadline:
            raise SystemExit(f"no 'Rest endpoint listening at' line in {log_dir}/*.log")
        time.sleep(0.5)


def call(port: int, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One REST call; the JSON answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        method="POST" if body is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as reply:  # noqa: S310 (http://127.0.0.1 only)
        answer: dict[str, Any] = json.loads(reply.read() or b"{}")
    return answer


def running_job(port: int, deadline: float) -> str:
    """The id of the job whose every task is RUNNING."""
    while True:
        try:
            for job in call(port, "/jobs/overview").get("jobs", []):
                if job.get("state") == "RUNNING":
                    detail = call(port, f"/jobs/{job['jid']}")
                    if all(v.get("status") == "RUNNING" for v in detail.get("vertices", [])):
                        return str(job["jid"])
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the job's tasks are not all RUNNING")
        time.sleep(0.5)


def in_progress(checkpoints: Path) -> list[Path]:
    """``chk-<n>`` directories that exist but have no ``_metadata`` yet."""
    return [d for d in checkpoints.glob("*/chk-*") if not (d / "_metadata").exists()]


def group_alive(pgid: int) -> bool:
    """True while any non-zombie process of the group exists."""
    out = subprocess.run(
        ["ps", "-eo", "pgid=,stat="],  # noqa: S607 (procps, as scripts/infra/lib.sh uses)
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return any(
        cols[0] == str(pgid) and not cols[1].startswith("Z")
        for cols in (line.split() for line in out.splitlines())
        if len(cols) == 2
    )


def main(argv: list[str] | None = None) -> int:
    """Trigger, kill inside the checkpoint, verify it never completed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pid", type=int, required=True, help="the job's process group leader")
    parser.add_argument("--log-dir", type=Path, required=True)
    parser.add_argument("--checkpoints", type=Path, required=True)
    parser.add_argument("--attempts", type=int, default=20)
    args = parser.parse_args(argv)
    deadline = time.monotonic() + 300
    port = rest_port(args.log_dir, deadline)
    job = running_job(port, deadline)
    print(f"Flink REST on port {port}, job {job} running")
    for attempt in range(1, args.attempts + 1):
        trigger = call(port, f"/jobs/{job}/checkpoints", {"checkpointType": "FULL"})
        request = str(trigger["request-id"])
        until = time.monotonic() + 30
        while time.monotonic() < until:
            pending = in_progress(args.checkpoints)
            if pending:
                status = call(port, f"/jobs/{job}/checkpoints/{request}")["status"]["id"]
                pending = in_progress(args.checkpoints)
                if status == "IN_PROGRESS" and pending:
                    os.killpg(args.pid, signal.SIGKILL)
                    break
            elif call(port, f"/jobs/{job}/checkpoints/{request}")["status"]["id"] != "IN_PROGRESS":
                break  # completed before we saw it: try again
            time.sleep(0.005)
        else:
            continue
        if not pending:
            continue
        gone = time.monotonic() + 30
        while group_alive(args.pid) and time.monotonic() < gone:
            time.sleep(0.1)
        if group_alive(args.pid):
            print(f"process group {args.pid} still alive 30 s after SIGKILL", file=sys.stderr)
            return 1
        names = ", ".join(sorted(d.name for d in pending))
        if any((d / "_metadata").exists() for d in pending):
            print(f"{names} completed before the kill took effect", file=sys.stderr)
            return 1
        print(
            f"killed -9 the scorer (process group {args.pid}) while {names} was in progress "
            f"(full checkpoint triggered over REST, request {request}, attempt {attempt}); "
            f"{names} has no _metadata: it never completed"
        )
        return 0
    print(f"no checkpoint caught in progress in {args.attempts} attempts", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
