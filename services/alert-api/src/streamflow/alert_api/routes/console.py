"""The analyst console: one static page (plain HTML/JS) served by the API itself."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

router = APIRouter(include_in_schema=False)


def _page() -> str:
    return (resources.files("streamflow.alert_api") / "static" / "console.html").read_text("utf-8")


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/console")


@router.get("/console")
async def console() -> HTMLResponse:
    """The page; it asks for an API key and calls the JSON API with it."""
    return HTMLResponse(_page(), headers={"Cache-Control": "no-store"})
