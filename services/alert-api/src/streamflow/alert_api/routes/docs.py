"""``/docs``: Swagger UI served from assets vendored into the package, nothing from a CDN.

FastAPI's default ``/docs`` loads Swagger UI's script and style from a CDN, so on a machine
without the internet it is a blank page. This router serves the page, a small initializer and
swagger-ui-dist's bundle and stylesheet (``static/swagger-ui/``, with their licence) from this
origin, so the page's Content-Security-Policy (guard.py ``DOCS_CSP``) allows scripts and styles
from 'self' only. The page is a static file with no inline script, which
``fastapi.openapi.docs.get_swagger_ui_html`` would emit (ADR 0091). Included only when
``STREAMFLOW_API_DOCS`` is on (off in prod by default).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from streamflow.alert_api.static_files import listed_file, read_static

router = APIRouter(include_in_schema=False)

PAGE = "/docs"
ASSETS = "/docs/assets"
_FILES: dict[str, tuple[str, str]] = {
    # URL name -> (file under static/, media type)
    "swagger-ui-bundle.js": ("swagger-ui/swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": ("swagger-ui/swagger-ui.css", "text/css"),
    "docs-init.js": ("docs-init.js", "text/javascript"),
    "LICENSE": ("swagger-ui/LICENSE", "text/plain"),
    "NOTICE": ("swagger-ui/NOTICE", "text/plain"),
    "swagger-ui-bundle.js.LICENSE.txt": (
        "swagger-ui/swagger-ui-bundle.js.LICENSE.txt",
        "text/plain",
    ),
}


@router.get(PAGE)
async def docs_page() -> HTMLResponse:
    """Swagger UI over ``/openapi.json``."""
    return HTMLResponse(read_static("docs.html"), headers={"Cache-Control": "no-cache"})


@router.get(ASSETS + "/{name}")
async def docs_asset(name: str) -> Response:
    """One vendored file (only those listed: never a path under ``static/``)."""
    return listed_file(_FILES, name, "docs asset", "public, max-age=86400")
