"""API keys: HMAC-SHA256 hashes with a server-side pepper, scopes, a key cache, rate limits.

A key is ``sfk_<random>``; the database stores only ``hmac_sha256(pepper, key)``. A keyed hash
(not scrypt) is enough because keys are 256-bit random, not passwords, and it keeps verification
cheap at thousands of requests per second; verified keys are also cached in-process for
``key_cache_ttl_s`` so revocation takes effect within that time (ADR 0051).

401 = no key or an unknown/revoked key; 403 = a valid key without the route's scope;
429 = the key's per-minute budget is spent (a fixed-window counter per key in PostgreSQL, shared
by every worker and pod: ADR 0090). Failed authentication is also throttled per client address,
before any lookup (guard.py), with a bucket per address shared by every worker and pod
(limits.py).
"""

from __future__ import annotations

import hmac
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from starlette.datastructures import State

from streamflow.alert_api.problems import ProblemError

KEY_PREFIX = "sfk_"
HEADER = "X-API-Key"
_CACHE_MAX = 10_000


class Scope(StrEnum):
    """What a key may do."""

    READ = "alerts:read"
    WRITE = "alerts:write"
    ADMIN = "admin"
    """Rule what-ifs and publishing rule sets to ``fraud.rules`` (ADR 0104)."""


def generate_key() -> str:
    """A new random plaintext key (shown once, never stored)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str, pepper: str) -> str:
    """The stored form of a key."""
    # hmac.digest: OpenSSL's one-shot HMAC, several times cheaper than an hmac.new object.
    return hmac.digest(pepper.encode(), key.encode(), "sha256").hex()


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A verified key."""

    key_id: str
    name: str
    scopes: frozenset[str]
    rate_limit_per_minute: int | None  # None: the default; 0: exempt


Hit = Callable[[str, int], Awaitable[tuple[int, float]]]
"""Counts ``n`` requests of a key: (requests in the current window, seconds until it ends)."""

HIT_SQL = """
insert into app.api_rate_limits as r (key_id, window_start, hits)
values ($1, date_trunc('minute', now()), $2)
on conflict (key_id) do update set
    hits = case when r.window_start = excluded.window_start then r.hits + $2 else $2 end,
    window_start = excluded.window_start
returning hits, extract(epoch from r.window_start + interval '1 minute' - now())::float8
"""
"""One round trip: take ``$2`` requests of the key's one-minute window in PostgreSQL (V034)."""

LEASE_SHARE = 100
"""A worker leases at most 1/100 of a key's budget at a time..."""
MAX_LEASE = 50
"""...and at most 50 requests: keys of <= 199 requests a minute are counted request by request."""


def lease_size(budget: int) -> int:
    """How many requests of a ``budget``-per-minute key one round trip reserves."""
    return max(1, min(MAX_LEASE, budget // LEASE_SHARE))


@dataclass(slots=True)
class _Lease:
    tokens: int
    until: float
    exhausted: bool


@dataclass
class RateLimiter:
    """Per-key budgets shared by every worker and pod: a fixed one-minute window per key, counted
    in PostgreSQL by :data:`HIT_SQL` (ADR 0090).

    A worker reserves :func:`lease_size` requests per round trip and spends them locally until
    the window ends, so the window's total never exceeds the budget, and a busy key costs one
    upsert per lease rather than per request. The price is that tokens another worker holds
    unspent cannot be used here: near the limit, up to ``(workers - 1) * (lease - 1)`` requests
    of the window may be refused early. Exempt keys (limit 0) never touch the database. A key
    found over its budget is refused locally until its window ends.
    """

    hit: Hit
    default_per_minute: int
    clock: Callable[[], float] = time.monotonic
    _leases: dict[str, _Lease] = field(default_factory=dict)

    async def check(self, key: ApiKey) -> float | None:
        """None if the request may go ahead, else the seconds until it may be retried."""
        limit = key.rate_limit_per_minute
        if limit == 0:
            return None
        now = self.clock()
        lease = self._leases.get(key.key_id)
        if lease is not None and now < lease.until:
            if lease.tokens > 0:
                lease.tokens -= 1
                return None
            if lease.exhausted:
                return lease.until - now
        budget = limit if limit is not None else self.default_per_minute
        size = lease_size(budget)
        hits, window_left = await self.hit(key.key_id, size)
        granted = max(0, min(size, budget - (hits - size)))
        if len(self._leases) >= _CACHE_MAX:
            self._leases.clear()
        self._leases[key.key_id] = _Lease(max(0, granted - 1), now + window_left, granted == 0)
        return window_left if granted == 0 else None


Lookup = Callable[[str], Awaitable[ApiKey | None]]


class KeyVerifier:
    """Resolves plaintext keys to :class:`ApiKey` through the database, with a TTL cache."""

    def __init__(
        self,
        lookup: Lookup,
        pepper: str,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._pepper = pepper
        self._ttl = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[ApiKey, float]] = {}

    def cached(self, key: str) -> ApiKey | None:
        """The key's record if this process verified it recently (no database lookup)."""
        if not key.startswith(KEY_PREFIX) or len(key) > 128:
            return None
        cached = self._cache.get(hash_key(key, self._pepper))
        return cached[0] if cached is not None and cached[1] > self._clock() else None

    async def verify(self, key: str) -> ApiKey | None:
        """The key's record if it is known and not revoked, else None."""
        if not key.startswith(KEY_PREFIX) or len(key) > 128:
            return None
        digest = hash_key(key, self._pepper)
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        found = await self._lookup(digest)
        if found is not None and self._ttl > 0:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[digest] = (found, now + self._ttl)
        return found


_header = APIKeyHeader(name=HEADER, auto_error=False, description="An API key (make demo).")


async def authorize(request: Request, key: str | None, scope: Scope) -> ApiKey:
    """The verified key of a request holding ``scope``, else the 401/403/429 problem.

    Every route's ``ReadKey``/``WriteKey`` dependency comes here; the list route's own handlers
    (routes/alert_list.py) call :func:`check_key` directly, so every route answers auth the same
    way.
    """
    verified = await check_key(request.app.state, key, scope)
    request.state.api_key = verified
    return verified


async def check_key(state: State, key: str | None, scope: Scope) -> ApiKey:
    """:func:`authorize` against the app's ``state`` (its ``verifier`` and ``rate_limiter``)."""
    if not key:
        raise ProblemError(401, f"missing {HEADER} header", headers={"WWW-Authenticate": "ApiKey"})
    verified: ApiKey | None = await state.verifier.verify(key)
    if verified is None:
        raise ProblemError(
            401, "unknown or revoked API key", headers={"WWW-Authenticate": "ApiKey"}
        )
    if scope.value not in verified.scopes:
        raise ProblemError(403, f"this API key lacks the {scope.value} scope")
    retry = await state.rate_limiter.check(verified)
    if retry is not None:
        raise ProblemError(
            429,
            "rate limit exceeded for this API key",
            headers={"Retry-After": str(max(1, math.ceil(retry)))},
        )
    return verified


def require(scope: Scope) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency admitting requests whose key holds ``scope``."""

    async def dependency(request: Request, key: Annotated[str | None, Security(_header)]) -> ApiKey:
        return await authorize(request, key, scope)

    return dependency


ReadKey = Annotated[ApiKey, Depends(require(Scope.READ))]
WriteKey = Annotated[ApiKey, Depends(require(Scope.WRITE))]
AdminKey = Annotated[ApiKey, Depends(require(Scope.ADMIN))]
