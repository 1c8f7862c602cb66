"""The analyst console: one static page (plain HTML/JS) served by the API itself.

The page carries one inline ``<style>`` and one inline ``<script>``; its Content-Security-Policy
allows exactly those two (by SHA-256, computed from the page), requests to this origin, and
nothing else: no other script, style, frame, form target or base URL (ADR 0090). The quality
dashboard (ADR 0102) adds scripts and one stylesheet from this origin: the vendored charting
library (uPlot, with its licence) and the dashboard's own script, served from an allow-list under
``/console/assets/`` (never an arbitrary path under ``static/``). The page's inline script,
quality.js and rules.js share their DOM helpers from one more such script, dom.js (loaded first).
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from streamflow.alert_api.static_files import listed_file, read_static

router = APIRouter(include_in_schema=False)

ASSETS = "/console/assets"
_ASSETS: dict[str, tuple[str, str]] = {
    # URL name -> (file under static/, media type)
    "uPlot.iife.min.js": ("uplot/uPlot.iife.min.js", "text/javascript"),
    "uPlot.min.css": ("uplot/uPlot.min.css", "text/css"),
    "uPlot.LICENSE": ("uplot/LICENSE", "text/plain"),
    "uPlot.VERSION": ("uplot/VERSION", "text/plain"),
    "dom.js": ("dom.js", "text/javascript"),
    "quality.js": ("quality.js", "text/javascript"),
    "rules.js": ("rules.js", "text/javascript"),
}

_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


@cache
def page() -> str:
    """The console's HTML (read once per process)."""
    return read_static("console.html").decode("utf-8")


def _sha256(text: str) -> str:
    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    )


@cache
def content_security_policy() -> str:
    """The page's CSP: its own inline script and style by hash, scripts and styles of this
    origin (the allow-listed assets), this origin for the API calls."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for tag, body in _INLINE.findall(page()):
        hashes[tag].append(_sha256(body))
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join([*hashes["script"], "'self'"]),
            "style-src " + " ".join([*hashes["style"], "'self'"]),
            "connect-src 'self'",
            "img-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/console")


@router.get("/console")
async def console() -> HTMLResponse:
    """The page; it asks for an API key and calls the JSON API with it."""
    return HTMLResponse(
        page(),
        headers={"Cache-Control": "no-store", "Content-Security-Policy": content_security_policy()},
    )


@router.get(ASSETS + "/{name}")
async def console_asset(name: str) -> Response:
    """One of the console's static files (only those listed)."""
    return listed_file(_ASSETS, name, "console asset", "no-cache")
