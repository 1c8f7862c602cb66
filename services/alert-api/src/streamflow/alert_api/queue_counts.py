"""The queue counters' upkeep: every API process folds ``app.alert_counts`` in the background.

V047's triggers append one delta row per key and statement to ``app.alert_counts`` (never an
update of a shared row, so writers never wait for each other); :func:`rollup_forever` calls
``app.rollup_alert_counts()`` every ``queue_counts_rollup_interval_s`` so a read sums one row per
key plus the deltas since. The function takes an advisory lock (one fold at a time per
database); failures are logged and retried at the next interval (the counts stay exact
meanwhile, the table only grows).
"""

from __future__ import annotations

import asyncio
import logging

from streamflow.alert_api.config import Settings
from streamflow.alert_api.db import Database

log = logging.getLogger(__name__)

ROLLUP_SQL = "select app.rollup_alert_counts()"


async def rollup_once(db: Database) -> int:
    """Fold the counters' delta rows; the rows removed (0 if another process is folding)."""
    return int(await db.fetchval(ROLLUP_SQL) or 0)


async def rollup_forever(db: Database, settings: Settings) -> None:
    """Fold at every interval until cancelled."""
    while True:
        await asyncio.sleep(settings.queue_counts_rollup_interval_s)
        try:
            await rollup_once(db)
        except Exception as exc:  # database trouble: retry at the next interval, never give up
            log.warning("queue counter rollup failed: %r", exc)
