"""Reads Prometheus's HTTP API (``/api/v1/query_range``) for the quality dashboard (ADR 0102).

The standard library's HTTP client in a worker thread, with the settings' deadline: a dashboard
request makes two small GETs, which is not worth a new dependency. Every failure (refused,
timed out, not JSON, an error answer) becomes :class:`PrometheusUnavailableError` with a short
reason that the endpoint reports in its body; nothing here raises anything else.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from streamflow.alert_api.quality import PrometheusAnswerError


class PrometheusUnavailableError(RuntimeError):
    """Prometheus could not be asked, or did not answer a query successfully."""


def _get(url: str, timeout: float) -> dict[str, Any]:
    # The URL is the setting's (http or https only: config.py's pattern) plus a query string.
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(4 * 1024 * 1024)
    except urllib.error.HTTPError as exc:
        # Prometheus answers a bad query with 400 and a JSON error body.
        try:
            answer: dict[str, Any] = json.loads(exc.read(65536))
        except (ValueError, OSError):
            raise PrometheusUnavailableError(f"Prometheus answered HTTP {exc.code}") from exc
        return answer
    except urllib.error.URLError as exc:
        raise PrometheusUnavailableError(f"Prometheus unreachable: {exc.reason}") from exc
    except (TimeoutError, OSError) as exc:
        raise PrometheusUnavailableError(f"Prometheus unreachable: {exc}") from exc
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        raise PrometheusUnavailableError("Prometheus answered something that is not JSON") from exc
    if not isinstance(parsed, dict):
        raise PrometheusUnavailableError("Prometheus answered an unexpected JSON shape")
    return parsed


async def query_range(
    base_url: str, query: str, *, start: float, end: float, step: int, deadline_s: float
) -> dict[str, Any]:
    """The JSON answer of one range query (raises :class:`PrometheusUnavailableError`)."""
    params = urllib.parse.urlencode(
        {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": str(step)}
    )
    url = base_url.rstrip("/") + "/api/v1/query_range?" + params
    answer = await asyncio.to_thread(_get, url, deadline_s)
    if answer.get("status") != "success":
        raise PrometheusUnavailableError(
            f"Prometheus refused the query: {answer.get('error') or answer.get('status')}"
        )
    return answer


__all__ = ["PrometheusAnswerError", "PrometheusUnavailableError", "query_range"]
