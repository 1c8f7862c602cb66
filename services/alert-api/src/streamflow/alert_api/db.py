"""The asyncpg pool; database failures all become :class:`DatabaseUnavailableError` (a 503).

The pool is created lazily with ``min_size`` connections at most, so the API starts (and answers
``/healthz``, and 503 elsewhere) while PostgreSQL is down; every connect and acquire has a
deadline so an outage gives a prompt 503 rather than a hang.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from streamflow.alert_api.config import Settings


class DatabaseUnavailableError(RuntimeError):
    """PostgreSQL could not be reached or did not answer in time."""


# Errors that mean "the database is not usable right now", as opposed to a bug in a query.
_OUTAGE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.QueryCanceledError,
    asyncpg.AdminShutdownError,
)


class Database:
    """A lazily created connection pool with deadlines on connect, acquire and statements."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._lock:
            if self._pool is None:
                s = self._settings
                self._pool = await asyncpg.create_pool(
                    dsn=s.pg.dsn(),
                    min_size=s.db_pool_min,
                    max_size=s.db_pool_max,
                    timeout=s.db_connect_timeout_s,
                    command_timeout=s.db_statement_timeout_ms / 1000 + 1,
                    reset=_no_reset,
                    server_settings={
                        "statement_timeout": str(s.db_statement_timeout_ms),
                        "application_name": s.client_id,
                        # The list renders timestamps as text (alert_query.LIST_COLUMNS).
                        "TimeZone": "UTC",
                        "DateStyle": "ISO",
                    },
                )
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A pooled connection; outages (also mid-query) raise :class:`DatabaseUnavailableError`."""
        try:
            pool = self._pool or await self._get_pool()
            conn = await self._acquire(pool)
            try:
                yield conn
            finally:
                await pool.release(conn)
        except _OUTAGE as exc:
            raise DatabaseUnavailableError(_describe(exc)) from exc

    async def _acquire(self, pool: asyncpg.Pool) -> Any:
        # asyncio.timeout rather than acquire(timeout=...): on Python 3.11 the latter goes
        # through asyncio.wait_for, which creates a Task per request (ADR 0053).
        async with asyncio.timeout(self._settings.db_acquire_timeout_s):
            return await pool.acquire()

    async def fetch(self, query: str, *args: object) -> list[Any]:
        """Rows of a parameterised query (the hot path: no context-manager layers)."""
        try:
            pool = self._pool or await self._get_pool()
            conn = await self._acquire(pool)
            try:
                rows: list[Any] = await conn.fetch(query, *args)
            finally:
                await pool.release(conn)
        except _OUTAGE as exc:
            raise DatabaseUnavailableError(_describe(exc)) from exc
        return rows

    async def fetchrow(self, query: str, *args: object) -> Any:
        """The first row of a parameterised query, or None."""
        async with self.connection() as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: object) -> Any:
        """The first value of a parameterised query, or None."""
        async with self.connection() as conn:
            return await conn.fetchval(query, *args)

    async def close(self) -> None:
        """Close the pool (at shutdown)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), timeout=5)
            except (TimeoutError, *_OUTAGE):
                pool.terminate()


async def _no_reset(_conn: Any) -> None:
    """Skip asyncpg's per-release reset (a round trip running RESET ALL etc.): the API never
    changes session state, and the reset doubled the database cost of a list request."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncpg.QueryCanceledError):
        return "the database did not answer in time"
    return "the database is unavailable"
