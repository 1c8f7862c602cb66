"""The rule what-if's worker process: ``python -m streamflow.alert_api.whatif_worker WHATIF_ID``.

The API starts it per run (:func:`spawn`) with its settings pickled on stdin. It lowers its own
priority (``whatif_nice``), caps its CPU time (RLIMIT_CPU) and sleeps between batches so it uses at
most ``whatif_cpu_share`` of one core, reads at most ``whatif_max_rows`` rows of
``app.scored_transactions`` (the newest, if there are more), and writes its progress
(``rows_done``, ``heartbeat_at``) every batch and its result to ``app.rule_whatifs`` (ADR 0104).
The API's event loop never runs a replay step.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pickle
import resource
import signal
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from streamflow.alert_api.config import Settings
from streamflow.alert_api.whatif import (
    FRAUD,
    LEGIT,
    UNLABELLED,
    LabelEvent,
    StoredRow,
    WhatIf,
    row_view,
)
from streamflow.events import RuleSet, decode

log = logging.getLogger("streamflow.alert_api.whatif")

BATCH_ROWS = 2_000
"""Rows between two progress writes (and two duty-cycle pauses)."""

_CLAIM_SQL = """
update app.rule_whatifs set status = 'running', started_at = now(), heartbeat_at = now()
where whatif_id = $1 and status = 'queued'
returning days, warmup_days, base_rules::text, candidate_rules::text, now() as now
"""
# The newest ``cap`` rows at most: the event time of the cap-th newest row bounds the start.
_CUTOFF_SQL = """
select event_time from app.scored_transactions
where event_time >= $1 and event_time <= $2
order by event_time desc offset $3 limit 1
"""
_COUNT_SQL = """
select count(*) from app.scored_transactions where event_time >= $1 and event_time <= $2
"""
# A transaction's label: confirmed fraud if an analyst confirmed any of its alerts, legit if they
# dismissed one (and confirmed none); applied to merchant risk when the verdict was given.
_LABELS_SQL = """
select transaction_id, merchant_id,
       bool_or(status = 'confirmed_fraud') as fraud,
       extract(epoch from max(status_updated_at))::float8 as at
from app.alerts
where status in ('confirmed_fraud', 'false_positive') and detected_at >= $1
group by transaction_id, merchant_id
"""
_ROWS_SQL = """
select transaction_id, extract(epoch from event_time)::float8, customer_id, card_id,
       merchant_id, amount::float8, currency, channel, latitude, longitude
from app.scored_transactions
where event_time >= $1 and event_time <= $2
order by event_time, transaction_id
limit $3
"""
_PROGRESS_SQL = """
update app.rule_whatifs set rows_done = $2, heartbeat_at = now() where whatif_id = $1
"""
_WINDOW_SQL = """
update app.rule_whatifs set window_start = $2, window_end = $3, rows_total = $4,
       heartbeat_at = now()
where whatif_id = $1
"""
_DONE_SQL = """
update app.rule_whatifs set status = 'done', finished_at = now(), heartbeat_at = now(),
       rows_done = $2, result = $3::jsonb
where whatif_id = $1
"""
_FAILED_SQL = """
update app.rule_whatifs set status = 'failed', finished_at = now(), error = $2
where whatif_id = $1 and status in ('queued', 'running')
"""


class BudgetSpentError(RuntimeError):
    """The run reached its wall-clock or CPU budget."""


class DutyCycle:
    """Sleeps after each batch so CPU time stays at most ``share`` of the wall time."""

    def __init__(self, share: float, clock: Callable[[], float] = time.process_time) -> None:
        self.share = share
        self._clock = clock
        self._mark = clock()

    def pause_s(self) -> float:
        """The pause owed for the CPU used since the last call."""
        now = self._clock()
        used, self._mark = now - self._mark, now
        return used * (1.0 - self.share) / self.share


async def _connect(settings: Settings) -> Any:
    return await asyncpg.connect(
        dsn=settings.pg.dsn(),
        timeout=settings.db_connect_timeout_s,
        server_settings={
            "application_name": f"{settings.client_id}-whatif",
            # bounded by the run's own budget instead (a cursor fetch may wait on the snapshot)
            "statement_timeout": "0",
            "TimeZone": "UTC",
        },
    )


async def run(settings: Settings, whatif_id: int) -> str:
    """Run one queued what-if to its end; returns its final status (``done``/``failed``), or
    ``skipped`` if it was not queued (another worker took it, or it was marked failed)."""
    writer = await _connect(settings)
    try:
        claimed = await writer.fetchrow(_CLAIM_SQL, whatif_id)
        if claimed is None:
            return "skipped"
        try:
            rows, result = await _replay(settings, whatif_id, claimed, writer)
        except (Exception, asyncio.CancelledError) as exc:
            reason = _reason(exc)
            log.warning("what-if %s failed: %s", whatif_id, reason)
            await asyncio.shield(writer.execute(_FAILED_SQL, whatif_id, reason))
            if isinstance(exc, asyncio.CancelledError):
                raise
            return "failed"
        await writer.execute(_DONE_SQL, whatif_id, rows, json.dumps(result, allow_nan=False))
        return "done"
    finally:
        await writer.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, asyncio.CancelledError):
        return "the worker was stopped (API shutdown)"
    if isinstance(exc, BudgetSpentError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:500]


async def _replay(
    settings: Settings, whatif_id: int, claimed: Any, writer: Any
) -> tuple[int, dict[str, Any]]:
    started_wall, started_cpu = time.monotonic(), time.process_time()
    base = decode(RuleSet, claimed["base_rules"])
    candidate = decode(RuleSet, claimed["candidate_rules"])
    window_end: datetime = claimed["now"]
    window_start = window_end - timedelta(days=claimed["days"])
    start = window_start - timedelta(days=claimed["warmup_days"])
    cap = settings.whatif_max_rows
    reader = await _connect(settings)
    try:
        cutoff = await reader.fetchval(_CUTOFF_SQL, start, window_end, cap - 1)
        capped = cutoff is not None and cutoff > start
        if capped:
            start = cutoff
        total = int(await reader.fetchval(_COUNT_SQL, start, window_end))
        total = min(total, cap)
        await writer.execute(_WINDOW_SQL, whatif_id, window_start, window_end, total)
        labels, events = _labels(await reader.fetch(_LABELS_SQL, start - timedelta(days=1)))
        whatif = WhatIf(base, candidate, window_start.timestamp(), events)
        duty = DutyCycle(settings.whatif_cpu_share)
        done = 0
        async with reader.transaction(isolation="repeatable_read", readonly=True):
            cursor = reader.cursor(_ROWS_SQL, start, window_end, cap, prefetch=BATCH_ROWS)
            async for record in cursor:
                txid = record[0]
                label = labels.get(txid)
                scenario = UNLABELLED if label is None else (FRAUD if label else LEGIT)
                whatif.feed(StoredRow(row_view(*record), int(bool(label)), scenario))
                done += 1
                if done % BATCH_ROWS == 0:
                    await writer.execute(_PROGRESS_SQL, whatif_id, done)
                    _check_budget(settings, started_wall, started_cpu)
                    await asyncio.sleep(duty.pause_s())
    finally:
        await reader.close()
    wall = time.monotonic() - started_wall
    cpu = time.process_time() - started_cpu
    result = whatif.result() | {
        "window_start": window_start.isoformat(),
        "window_end": window_end.isoformat(),
        "replay_start": start.isoformat(),
        "capped": capped,
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "rows_per_second": round(done / wall, 1) if wall > 0 else None,
    }
    return done, result


def _labels(records: Sequence[Any]) -> tuple[dict[str, bool], list[LabelEvent]]:
    labels: dict[str, bool] = {}
    events = []
    for txid, merchant, fraud, at in records:
        labels[txid] = labels.get(txid, False) or bool(fraud)
        if at is not None:
            events.append(LabelEvent(at, merchant, bool(fraud)))
    return labels, events


def _check_budget(settings: Settings, started_wall: float, started_cpu: float) -> None:
    if time.monotonic() - started_wall > settings.whatif_max_seconds:
        raise BudgetSpentError(
            f"stopped after its wall-clock budget of {settings.whatif_max_seconds:g} s "
            "(STREAMFLOW_API_WHATIF_MAX_SECONDS)"
        )
    if time.process_time() - started_cpu > _cpu_budget_s(settings):
        raise BudgetSpentError("stopped after its CPU budget")


def _cpu_budget_s(settings: Settings) -> float:
    return settings.whatif_max_seconds * settings.whatif_cpu_share


def lower_priority(settings: Settings) -> None:
    """Nice the process and cap its CPU time (the kernel's backstop to the budget check)."""
    os.nice(settings.whatif_nice)
    limit = int(_cpu_budget_s(settings)) + 30
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (limit, hard))


async def spawn(settings: Settings, whatif_id: int) -> asyncio.subprocess.Process:
    """Start the worker for one what-if; its settings go over stdin (secrets never in argv)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "streamflow.alert_api.whatif_worker",
        str(whatif_id),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdin is not None
    proc.stdin.write(pickle.dumps(settings))
    await proc.stdin.drain()
    proc.stdin.close()
    return proc


class Workers:
    """The worker processes this API process started; reaped when they end, stopped (SIGTERM:
    the run is marked failed) when the API shuts down."""

    def __init__(self) -> None:
        self._running: dict[int, asyncio.subprocess.Process] = {}
        self._reapers: set[asyncio.Task[None]] = set()

    async def start(self, settings: Settings, db: Any, whatif_id: int) -> None:
        """Start the worker of ``whatif_id``; if it cannot start, the run is marked failed."""
        try:
            proc = await spawn(settings, whatif_id)
        except OSError as exc:
            log.error("what-if %s: the worker did not start: %s", whatif_id, exc)
            await db.fetchval(_FAILED_SQL, whatif_id, f"the worker did not start: {exc}")
            return
        self._running[whatif_id] = proc
        reaper = asyncio.create_task(self._reap(whatif_id, proc), name=f"whatif-{whatif_id}")
        self._reapers.add(reaper)
        reaper.add_done_callback(self._reapers.discard)

    async def _reap(self, whatif_id: int, proc: asyncio.subprocess.Process) -> None:
        try:
            code = await proc.wait()
            if code not in (0, 1):
                log.warning("what-if %s: the worker exited with %s", whatif_id, code)
        finally:
            self._running.pop(whatif_id, None)

    async def stop(self, grace_s: float = 5.0) -> None:
        """SIGTERM every running worker and wait for it (SIGKILL after ``grace_s``)."""
        for proc in list(self._running.values()):
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        for proc in list(self._running.values()):
            try:
                await asyncio.wait_for(proc.wait(), grace_s)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for reaper in list(self._reapers):
            reaper.cancel()


async def _main_async(settings: Settings, whatif_id: int) -> str:
    task = asyncio.create_task(run(settings, whatif_id))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        return await task
    return "failed"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = pickle.load(sys.stdin.buffer)  # noqa: S301 - written by the API that started us
    if not isinstance(settings, Settings) or len(args) != 1:
        print("usage: whatif_worker WHATIF_ID (settings pickled on stdin)", file=sys.stderr)
        return 2
    lower_priority(settings)
    status = asyncio.run(_main_async(settings, int(args[0])))
    log.info("what-if %s: %s", args[0], status)
    return 0 if status != "failed" else 1


if __name__ == "__main__":
    sys.exit(main())
