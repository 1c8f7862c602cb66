"""CPU seconds per thread group of a process tree, from /proc (where a job's microseconds go).

A JVM names its threads (``C2 CompilerThread0``, ``kafka-producer-network-thread | ...``, a
Flink task's ``score -> (Sink: ...) (1/1)#0``), so a job's CPU splits by what spends it. Digits
are folded (``C2 CompilerThread0`` and ``...1`` are one group). The JIT compilers' share tells
whether a measured window was still warming up (docs/adr/0081). Also how a bench stops a job's
process group (:func:`stop_group`).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from contextlib import suppress
from pathlib import Path

JIT_PREFIXES = ("C# CompilerThre",)
"""HotSpot's JIT compiler threads (C1 and C2), as grouped: Linux keeps 15 characters of a
thread's name, and the digits are folded."""
_DIGITS = re.compile(r"\d+")


def _scan() -> tuple[dict[int, int], dict[int, float]]:
    """Every process's parent and CPU seconds (user + system) so far, from one pass over /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return parents, cpu


def _members(root: int, parents: dict[int, int]) -> set[int]:
    members, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        kids = [c for c, p in parents.items() if p == pid and c not in members]
        members.update(kids)
        frontier.extend(kids)
    return members


def tree_pids(root: int) -> set[int]:
    """``root`` and all its descendants."""
    return _members(root, _scan()[0])


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and all its descendants so far."""
    parents, cpu = _scan()
    return sum(cpu.get(pid, 0.0) for pid in _members(root, parents))


def thread_cpu(root: int) -> dict[str, float]:
    """CPU seconds (user + system) so far per thread group of ``root``'s tree."""
    ticks = os.sysconf("SC_CLK_TCK")
    groups: dict[str, float] = {}
    for pid in tree_pids(root):
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                stat = (task / "stat").read_text()
            except OSError:
                continue
            name = _DIGITS.sub("#", stat[stat.index("(") + 1 : stat.rindex(")")])
            fields = stat.rsplit(")", 1)[1].split()
            groups[name] = groups.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return groups


def jit_seconds(groups: dict[str, float]) -> float:
    """The JIT compiler threads' CPU seconds in ``groups``."""
    return sum(v for k, v in groups.items() if k.startswith(JIT_PREFIXES))


def split(before: dict[str, float], after: dict[str, float], events: int) -> dict[str, float]:
    """µs of CPU per event of each thread group between two readings, largest first; groups
    under 1% of the total are summed as ``other``."""
    deltas = {k: after[k] - before.get(k, 0.0) for k in after}
    total = sum(deltas.values())
    if events <= 0 or total <= 0:
        return {}
    out: dict[str, float] = {}
    other = 0.0
    for name, secs in sorted(deltas.items(), key=lambda kv: -kv[1]):
        if secs >= 0.01 * total:
            out[name] = round(secs / events * 1e6, 1)
        else:
            other += secs
    if other > 0:
        out["other"] = round(other / events * 1e6, 1)
    return out


def stop_group(proc: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    """Stop a job started with ``start_new_session=True``: SIGTERM its process group, SIGKILL
    the group after ``timeout_s`` or once the leader is gone.

    The MiniCluster's JVM is in the group and can hang in its shutdown hooks after SIGTERM,
    outliving the Python leader; left alone it kept ~2-5% of a core busy under every later
    measurement of the run (found in ``make bench``, 2026-12-05).
    """
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout_s)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
