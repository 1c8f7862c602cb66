"""The analyst console: one static page (plain HTML/JS) served by the API itself.

The page carries one inline ``<style>`` and one inline ``<script>``; its Content-Security-Policy
allows exactly those two (by SHA-256, computed from the page), requests to this origin, and
nothing else: no other script, style, frame, form target or base URL (ADR 0090).
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

router = APIRouter(include_in_schema=False)

_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


@cache
def page() -> str:
    """The console's HTML (read once per process)."""
    return (resources.files("streamflow.alert_api") / "static" / "console.html").read_text("utf-8")


def _sha256(text: str) -> str:
    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    )


@cache
def content_security_policy() -> str:
    """The page's CSP: its own inline script and style by hash, this origin for the API calls."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for tag, body in _INLINE.findall(page()):
        hashes[tag].append(_sha256(body))
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + (" ".join(hashes["script"]) or "'none'"),
            "style-src " + (" ".join(hashes["style"]) or "'none'"),
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
