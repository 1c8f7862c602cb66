"""The retention of ``app.scored_transactions``, the API's projection of scored transactions.

Every API process runs :func:`prune_forever` in the background: every
``timeline_prune_interval_s`` it calls ``app.prune_scored_transactions`` (V036) with
``timeline_retention_days`` until a call deletes less than a batch. The function takes an
advisory lock, so concurrent processes do not prune twice; failures are logged and retried at the
next interval (the projection only grows meanwhile; no request depends on pruning).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from streamflow.alert_api.config import Settings
from streamflow.alert_api.db import Database

log = logging.getLogger(__name__)

PRUNE_BATCH = 10_000
_PRUNE_SQL = "select app.prune_scored_transactions($1::interval, $2::integer)"


async def prune_once(db: Database, retention_days: float, batch: int = PRUNE_BATCH) -> int:
    """Delete projected transactions older than the retention (by event time); rows deleted."""
    keep = timedelta(days=retention_days)
    total = 0
    while True:
        deleted = int(await db.fetchval(_PRUNE_SQL, keep, batch) or 0)
        total += deleted
        if deleted < batch:
            return total


async def prune_forever(db: Database, settings: Settings) -> None:
    """Prune at every interval until cancelled."""
    while True:
        await asyncio.sleep(settings.timeline_prune_interval_s)
        try:
            deleted = await prune_once(db, settings.timeline_retention_days)
        except Exception as exc:  # database trouble: retry at the next interval, never give up
            log.warning("scored-transaction projection prune failed: %r", exc)
            continue
        if deleted:
            log.info(
                "pruned %d projected transactions older than %.1f days",
                deleted,
                settings.timeline_retention_days,
            )
