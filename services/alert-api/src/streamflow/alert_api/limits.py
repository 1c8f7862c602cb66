"""Failed-authentication throttling shared by every worker and pod (ADR 0090, "Shared").

The guard's per-address token bucket (guard.AddressThrottle) lives in one process: with W workers
and P pods, an address could fail W x P x burst times before every bucket was empty. Here the
bucket lives in PostgreSQL too, in ``app.api_auth_failures`` (migration V044): one row per
address, a token bucket refilled by the database's clock, so every process counts against the
same number.

- **Good keys pay nothing.** Only a failed authentication (a 401) is counted; the check before
  routing (``retry_after``) reads the process's own bucket, never the database.
- **Failures are counted in the background, coalesced.** ``spend`` spends the local token at once
  (so one process alone behaves exactly as before) and queues the address; one task per process
  sends every queued failure in one upsert (``SPEND_SQL``), and while it runs, new failures queue
  for the next one. A flood therefore costs at most one statement in flight per process, however
  many addresses fail.
- **The database's answer wins.** The upsert returns each address's tokens left across all
  processes; the local bucket takes that (less what queued meanwhile) if it is lower. The next
  request from a throttled address is refused locally, with the shared ``Retry-After``.
- **The price:** a process learns an address is throttled from its own first failure of it (one
  lookup and one 401 each), so an address gets at most ``burst`` failures plus about one per
  process (more only with requests in flight while the upsert runs), not ``burst`` per process.
- If PostgreSQL is unavailable, the local bucket still throttles (per process, as before).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from streamflow.alert_api.config import Settings
from streamflow.alert_api.db import Database, DatabaseUnavailableError
from streamflow.alert_api.guard import AddressThrottle

log = logging.getLogger(__name__)

SpendShared = Callable[[Sequence[str], Sequence[int]], Awaitable[list[tuple[str, float]]]]
"""Spends ``failures[i]`` tokens of ``addresses[i]``; returns each address's tokens left."""

SPEND_SQL = """
insert into app.api_auth_failures as f (address, tokens, updated_at)
select u.address, greatest(0, $3::float8 - u.failures), now()
from unnest($1::text[], $2::int[]) as u(address, failures)
on conflict (address) do update set
    tokens = greatest(0, least($3::float8, f.tokens + extract(epoch from now() - f.updated_at)
                                           * $4::float8)
                         - ($3::float8 - excluded.tokens)),
    updated_at = excluded.updated_at
returning address, tokens
"""
"""One round trip for a batch: refill each address's bucket to now (``$4`` tokens a second, at
most ``$3``), spend its failures, return what is left. A new address starts full."""

PRUNE_SQL = """
delete from app.api_auth_failures where updated_at < now() - make_interval(secs => $1::float8)
"""
"""Rows whose bucket has refilled completely: the same as no row."""

PRUNE_EVERY_S = 60.0
"""How often a process prunes (after a flush, so only while failures happen)."""
MAX_BATCH = 1000
"""Most addresses in one upsert (a flood from many addresses is sent in several)."""
MAX_PENDING = 65_536
"""Most addresses queued; beyond that, a new address's failures stay local (the guard's bucket)."""


class SharedAddressThrottle(AddressThrottle):
    """:class:`~streamflow.alert_api.guard.AddressThrottle` kept in step with a bucket per
    address shared through PostgreSQL (module docstring)."""

    def __init__(
        self,
        burst: int,
        per_minute: int,
        spend_shared: SpendShared,
        prune: Callable[[float], Awaitable[object]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(burst, per_minute, clock)
        self._spend_shared = spend_shared
        self._prune = prune
        self._refill_s = burst / (per_minute / 60.0)
        self._pending: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._pruned_at = clock()

    def spend(self, address: str) -> None:
        """Spend the local token now; queue the failure for the shared count."""
        super().spend(address)
        if address in self._pending or len(self._pending) < MAX_PENDING:
            self._pending[address] = self._pending.get(address, 0) + 1
        if self._task is None or self._task.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop: nothing to share with (a unit test)
                self._pending.clear()
                return
            self._task = loop.create_task(self._flush(), name="auth-failures-flush")

    async def settled(self) -> None:
        """Wait until every failure spent so far has been counted in the database."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _flush(self) -> None:
        while self._pending:
            batch = dict(itertools.islice(self._pending.items(), MAX_BATCH))
            for address in batch:
                del self._pending[address]
            try:
                left = await self._spend_shared(list(batch), list(batch.values()))
            except (DatabaseUnavailableError, asyncpg.PostgresError) as exc:
                # The local buckets already spent these failures: per process until it is back.
                log.warning("failed authentications not shared: %s", exc)
                return
            for address, tokens in left:
                self._adopt(address, tokens)
            # Inside the loop: failures queued while it prunes are sent before the task ends.
            if self._prune is not None and self._clock() - self._pruned_at >= PRUNE_EVERY_S:
                self._pruned_at = self._clock()
                try:
                    await self._prune(self._refill_s)
                except (DatabaseUnavailableError, asyncpg.PostgresError) as exc:
                    log.warning("could not prune app.api_auth_failures: %s", exc)

    def _adopt(self, address: str, shared_tokens: float) -> None:
        """Take the shared count if it is lower, less the failures queued since it was sent."""
        bucket = self._refilled(address)
        if bucket is not None:
            shared = shared_tokens - self._pending.get(address, 0)
            bucket.tokens = max(0.0, min(bucket.tokens, shared))


def pg_spend(db: Database, burst: int, per_minute: int) -> SpendShared:
    """:data:`SpendShared` through the API's pool (:data:`SPEND_SQL`)."""
    rate = per_minute / 60.0

    async def spend(addresses: Sequence[str], failures: Sequence[int]) -> list[tuple[str, float]]:
        rows = await db.fetch(SPEND_SQL, list(addresses), list(failures), float(burst), rate)
        return [(row["address"], float(row["tokens"])) for row in rows]

    return spend


def address_throttle(settings: Settings, db: Database) -> SharedAddressThrottle:
    """The failed-authentication throttle of an app: per address, shared through ``db``."""

    async def prune(older_than_s: float) -> object:
        return await db.fetch(PRUNE_SQL, older_than_s)

    return SharedAddressThrottle(
        settings.unauth_burst,
        settings.unauth_per_minute,
        pg_spend(db, settings.unauth_burst, settings.unauth_per_minute),
        prune,
    )
