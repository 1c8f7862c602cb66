"""bench/thread_cpu.stop_group: a job's whole process group is gone afterwards.

The MiniCluster's JVM can hang in its shutdown hooks after SIGTERM and outlive the job's Python
leader; a stand-in child that ignores SIGTERM plays that part here, with real processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.integration.bench_modules import bench_module

CHILD = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(300)"
LEADER = (
    "import subprocess, sys, time\n"
    f"subprocess.Popen([sys.executable, '-c', {CHILD!r}])\n"
    "print('up', flush=True)\n"
    "time.sleep(300)"
)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stop_group_leaves_no_member_that_ignored_sigterm() -> None:
    stop_group = bench_module("thread_cpu").stop_group
    leader = subprocess.Popen(
        [sys.executable, "-c", LEADER], stdout=subprocess.PIPE, start_new_session=True
    )
    assert leader.stdout is not None
    assert leader.stdout.readline() == b"up\n"
    time.sleep(0.3)  # the child has set its handler
    stop_group(leader, timeout_s=5)
    assert leader.returncode is not None
    deadline = time.monotonic() + 10
    while _group_alive(leader.pid) and time.monotonic() < deadline:
        time.sleep(0.1)  # SIGKILLed members are reaped by init
    assert not _group_alive(leader.pid)
