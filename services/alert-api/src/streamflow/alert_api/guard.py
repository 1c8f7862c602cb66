"""What every request passes before routing, and what every response carries (ADR 0090).

- **Body limit.** A request whose ``Content-Length`` exceeds ``max_body_bytes`` is answered 413
  before anything reads or parses it. A chunked body is read up to the limit first, then
  replayed to the app, or refused with 413.
- **Failed authentication, per client address.** Every 401 under ``/v1/`` spends a token of its
  address's bucket (``unauth_burst``, refilled at ``unauth_per_minute``). Once the bucket is
  empty, requests under ``/v1/`` from that address get 429 with ``Retry-After``. That happens
  before any key lookup, so a flood of bad keys stops costing database queries. A key this
  process has already verified still passes, so a shared address (NAT) does not lock out its
  good clients. The buckets are per process, like ADR 0051's key cache.
- **Security headers on every response.**
  - ``X-Content-Type-Options: nosniff``.
  - ``X-Frame-Options: DENY``.
  - ``Referrer-Policy: no-referrer``.
  - ``Content-Security-Policy``: ``default-src 'none'; frame-ancestors 'none'`` for JSON. The
    console route sets its own policy (routes/console.py). The docs page (routes/docs.py) gets
    scripts and styles from 'self' only: Swagger UI is vendored, nothing comes from a CDN
    (ADR 0091).

:class:`~streamflow.alert_api.fast_path.AlertApi` calls :meth:`Guard.admit` for every HTTP
request. The FastAPI path gets :meth:`Guard.wrap_send`; the list's fast path adds
:meth:`Guard.headers` itself.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from streamflow.alert_api.auth import KeyVerifier
from streamflow.alert_api.problems import problem_response
from streamflow.alert_api.telemetry import observe

GUARDED_PREFIX = "/v1/"
"""Where authentication is required, and so where failed authentication is throttled."""
_KEY_HEADER = b"x-api-key"
_CONTENT_LENGTH = b"content-length"
_TRANSFER_ENCODING = b"transfer-encoding"
_CSP = b"content-security-policy"
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# Swagger UI's stylesheet draws its icons as data: SVGs; its calls go to /openapi.json and,
# with "Try it out", to this API: all 'self'.
DOCS_CSP = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_MAX_ADDRESSES = 65_536


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class AddressThrottle:
    """A token bucket per client address, spent by each failed authentication."""

    def __init__(
        self,
        burst: int,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = _MAX_ADDRESSES,
    ) -> None:
        self._burst = float(burst)
        self._rate = per_minute / 60.0
        self._clock = clock
        self._max = max_addresses
        self._buckets: dict[str, _Bucket] = {}

    def _refilled(self, address: str) -> _Bucket | None:
        bucket = self._buckets.get(address)
        if bucket is not None:
            now = self._clock()
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
        return bucket

    def retry_after(self, address: str) -> float | None:
        """None while the address may still try, else the seconds until it may again."""
        bucket = self._refilled(address)
        if bucket is None or bucket.tokens >= 1.0:
            return None
        return (1.0 - bucket.tokens) / self._rate

    def spend(self, address: str) -> None:
        """Count one failed authentication of ``address``."""
        bucket = self._refilled(address)
        if bucket is None:
            if len(self._buckets) >= self._max:
                self._forget_full()
            bucket = self._buckets[address] = _Bucket(self._burst, self._clock())
        bucket.tokens = max(0.0, bucket.tokens - 1.0)

    def _forget_full(self) -> None:
        now = self._clock()
        for address, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self._rate >= self._burst:
                del self._buckets[address]
        if len(self._buckets) >= self._max:  # all of them are throttled: start afresh
            self._buckets.clear()


def client_address(scope: Scope) -> str:
    """The peer's address (behind a proxy, the proxy's: see ADR 0090)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class Guard:
    """The checks before routing and the headers of every response (module docstring)."""

    def __init__(
        self,
        max_body_bytes: int,
        throttle: AddressThrottle,
        verifier: KeyVerifier,
        docs_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.throttle = throttle
        self._verifier = verifier
        self._docs_paths = docs_paths
        self.api_headers = [*SECURITY_HEADERS, (_CSP, API_CSP)]
        self._docs_headers = [*SECURITY_HEADERS, (_CSP, DOCS_CSP)]

    def headers(self, path: str) -> list[tuple[bytes, bytes]]:
        """The security headers of a response to ``path``."""
        return self._docs_headers if path in self._docs_paths else self.api_headers

    async def admit(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """The ``receive`` to serve the request with, or None once it has been refused."""
        length: bytes | None = None
        key: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == _CONTENT_LENGTH:
                length = value
            elif name == _KEY_HEADER:
                key = value
            elif name == _TRANSFER_ENCODING:
                chunked = True
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await self._refuse(scope, receive, send, 413, self._too_large())
            return None
        path: str = scope["path"]
        if path.startswith(GUARDED_PREFIX):
            retry = self.throttle.retry_after(client_address(scope))
            if retry is not None and not self._verified(key):
                detail = "too many failed authentications from this address"
                headers = {"Retry-After": str(max(1, math.ceil(retry)))}
                await self._refuse(scope, receive, send, 429, detail, headers)
                return None
        if chunked and length is None:
            replay = await self._read_limited(receive)
            if replay is None:
                await self._refuse(scope, receive, send, 413, self._too_large())
                return None
            return replay
        return receive

    def observe(self, scope: Scope, status: int) -> None:
        """Spend the address's token when a request under ``/v1/`` failed authentication."""
        if status == 401 and scope["path"].startswith(GUARDED_PREFIX):
            self.throttle.spend(client_address(scope))

    def wrap_send(self, scope: Scope, send: Send) -> Send:
        """``send`` adding the security headers (a route's own CSP wins) and observing 401s."""
        extra = self.headers(scope["path"])

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                own_csp = any(name == _CSP for name, _ in headers)
                headers.extend(h for h in extra if not (own_csp and h[0] == _CSP))
                message = {**message, "headers": headers}
                self.observe(scope, message["status"])
            await send(message)

        return guarded

    def _verified(self, key: bytes | None) -> bool:
        return key is not None and self._verifier.cached(key.decode("latin-1")) is not None

    def _too_large(self) -> str:
        return f"the request body exceeds {self.max_body_bytes} bytes"

    async def _read_limited(self, receive: Receive) -> Receive | None:
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return None
            if not message.get("more_body", False):
                break
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        return replay

    async def _refuse(  # noqa: PLR0917 - the request's three ASGI parts, then the answer
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        detail: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        start = time.perf_counter()
        response = problem_response(Request(scope, receive), status, detail, headers=headers)
        response.raw_headers.extend(self.api_headers)
        await response(scope, receive, send)
        observe(scope["method"], "guard", status, time.perf_counter() - start)
