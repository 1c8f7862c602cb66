"""The API's packaged static files (``static/``), served only by name from an allow-list."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources

from fastapi.responses import Response

from streamflow.alert_api.problems import ProblemError


@cache
def read_static(relative: str) -> bytes:
    """A file of ``static/`` (read once per process)."""
    path = resources.files("streamflow.alert_api") / "static"
    for part in relative.split("/"):
        path = path / part
    return path.read_bytes()


def listed_file(
    files: Mapping[str, tuple[str, str]], name: str, what: str, cache_control: str
) -> Response:
    """The file listed as ``name`` in ``files`` (name -> (path under static/, media type));
    a 404 problem for any other name, so no request can reach another path under static/."""
    entry = files.get(name)
    if entry is None:
        raise ProblemError(404, f"no {what} {name}")
    relative, media_type = entry
    # Starlette adds "; charset=utf-8" to text types
    return Response(
        read_static(relative), media_type=media_type, headers={"Cache-Control": cache_control}
    )
