"""``GET /v1/alerts`` answered straight from ASGI, outside Starlette's middleware and routing.

The list is the API's hot path. Through FastAPI a request passes seven middleware layers, the
router, Starlette's request/response wrappers and three ``send`` wrappers around the real work
(auth, the query, the page), and that layering is a sizeable part of the list's CPU per request
(measured in ADR 0054). :class:`AlertApi` is the FastAPI application with one change: a plain
``GET /v1/alerts`` goes to :func:`serve_alert_list`, which runs the same
:func:`~streamflow.alert_api.routes.alert_list.answer` as the declared route (auth, the
validated query, the page) and writes the response itself. Errors are answered by the app's own
exception handlers, so every 401/403/422/429/503 is byte-for-byte what the route gives, and the
request is counted in the same Prometheus metrics under the route template.

Everything else — other methods (HEAD), other paths, and every request when CORS is configured
(its headers come from CORSMiddleware) — goes through FastAPI unchanged; the declared route still
serves those and documents the endpoint in OpenAPI.

Every HTTP request, on either path, first passes the app's
:class:`~streamflow.alert_api.guard.Guard` (body limit, throttling of failed authentication), and
every response carries its security headers (ADR 0090).
"""

from __future__ import annotations

import inspect
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from streamflow.alert_api.guard import Guard
from streamflow.alert_api.routes.alert_list import answer
from streamflow.alert_api.telemetry import observe

PATH = "/v1/alerts"
_KEY_HEADER = b"x-api-key"
_JSON = b"application/json"


class AlertApi(FastAPI):
    """FastAPI behind the :class:`Guard`, with ``GET /v1/alerts`` served by
    :func:`serve_alert_list`."""

    def __init__(
        self, *, fast_list: bool = True, guard: Guard | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.fast_list = fast_list
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guard = self.guard
        if scope["type"] != "http" or guard is None:
            await super().__call__(scope, receive, send)
            return
        admitted = await guard.admit(scope, receive, send)
        if admitted is None:  # refused (413, 429)
            return
        if self.fast_list and scope["path"] == PATH and scope["method"] == "GET":
            await serve_alert_list(self, guard, scope, admitted, send)
            return
        await super().__call__(scope, admitted, guard.wrap_send(scope, send))


async def serve_alert_list(
    app: FastAPI, guard: Guard, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer one ``GET /v1/alerts`` request (see the module docstring)."""
    start = time.perf_counter()
    key: str | None = None
    for name, value in scope["headers"]:
        if name == _KEY_HEADER:  # ASGI header names are lower-case bytes
            key = value.decode("latin-1")
            break
    # As Starlette's QueryParams: latin-1, blank values kept, the last of a repeated name wins.
    query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
    try:
        body = await answer(app.state, key, query)
    except Exception as exc:  # every error goes to the app's own handler
        response = await _problem(app, Request(scope, receive), exc)
        response.raw_headers.extend(guard.api_headers)
        await response(scope, receive, send)
        status = response.status_code
        guard.observe(scope, status)
    else:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", _JSON),
                    *guard.api_headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        status = 200
    observe("GET", PATH, status, time.perf_counter() - start)


async def _problem(app: FastAPI, request: Request, exc: Exception) -> Response:
    """The response the app's exception handler for ``exc`` gives (nearest registered class)."""
    for cls in type(exc).__mro__:
        handler = app.exception_handlers.get(cls)
        if handler is not None:
            response = handler(request, exc)
            return await response if inspect.isawaitable(response) else response
    raise exc
