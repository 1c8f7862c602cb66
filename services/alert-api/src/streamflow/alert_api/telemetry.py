"""Request metrics as a plain ASGI middleware (cheaper than BaseHTTPMiddleware on the hot path),
served on a port of their own (``metrics_host``/``metrics_port``), never on the API's (ADR 0090).

With several uvicorn workers the metrics are kept in prometheus_client's multiprocess mode: the
supervisor sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers start, and its /metrics server
sums every worker's counters and histograms (``__main__.py``).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "http_requests", "HTTP requests by route and status.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route.",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)

# The labelled children per (method, route template, status): a bounded set, looked up once
# instead of through prometheus_client's locked labels() on every request.
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (never the raw path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            observe(scope["method"], _route(scope), status, time.perf_counter() - start)


def observe(method: str, route: str, status: int, seconds: float) -> None:
    """Count one request and record its latency (also called by the list route's fast path)."""
    key = (method, route, status)
    children = _CHILDREN.get(key)
    if children is None:
        children = _CHILDREN[key] = (
            REQUESTS.labels(method, route, str(status)),
            LATENCY.labels(method, route),
        )
    children[0].inc()
    children[1].observe(seconds)


def _route(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def serve_metrics(host: str, port: int, multiprocess_dir: str | None = None) -> Any:
    """Serve /metrics on ``host:port`` from a daemon thread; the server (for ``shutdown()``).

    ``multiprocess_dir``: the workers' metric files (several workers); None: this process's own.
    """
    registry: CollectorRegistry = REGISTRY
    if multiprocess_dir is not None:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server
