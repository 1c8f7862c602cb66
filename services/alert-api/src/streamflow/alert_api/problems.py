"""Errors as RFC 9457 problem details (``application/problem+json``), never a stack trace."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from streamflow.alert_api.db import DatabaseUnavailableError

PROBLEM_TYPE = "application/problem+json"
log = logging.getLogger(__name__)


class FieldProblem(BaseModel):
    """One invalid input."""

    field: str = Field(description="Where: query.min_score, path.alert_id, body.verdict, ...")
    message: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(default="about:blank", description="A URI identifying the problem type.")
    title: str = Field(description="Short summary of the problem type.")
    status: int = Field(ge=100, le=599, description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What happened in this case.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[FieldProblem] | None = Field(default=None, description="Invalid inputs, if any.")


class ProblemError(Exception):
    """Raise to answer with a problem; ``field`` names the input at fault, if any."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        errors: list[FieldProblem] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field
        self.headers = headers
        self.errors = errors


def problem_response(
    request: Request,
    status: int,
    detail: str | None,
    *,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem details response."""
    body = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_TYPE,
        headers=headers,
    )


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


async def _api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    errors = exc.errors or (
        [FieldProblem(field=exc.field, message=exc.detail)] if exc.field else None
    )
    return problem_response(request, exc.status, exc.detail, errors=errors, headers=exc.headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldProblem(field=_loc(e["loc"]), message=e["msg"]) for e in exc.errors()]
    fields = ", ".join(e.field for e in errors)
    return problem_response(request, 422, f"invalid input: {fields}", errors=errors)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:
        allow = allowed_methods(request)
        if allow:
            headers = {**(headers or {}), "Allow": allow}
    return problem_response(request, exc.status_code, detail, headers=headers)


def allowed_methods(request: Request) -> str:
    """Every method the API documents for the request's path ("" for an undocumented path).

    Starlette's 405 names only the methods of the first route matching the path, but FastAPI
    declares each method of a path as a route of its own (``GET`` and ``POST /v1/cases``).
    The table comes from the app's OpenAPI document, built once per process.
    """
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        request.app.state, "allow_table", None
    )
    if table is None:
        table = [
            (
                re.compile(
                    "".join(
                        "[^/]+" if part.startswith("{") else re.escape(part)
                        for part in re.split(r"(\{[^}]+\})", path)
                    )
                ),
                frozenset(method.upper() for method in operations),
            )
            for path, operations in request.app.openapi()["paths"].items()
        ]
        request.app.state.allow_table = table
    methods: set[str] = set()
    for pattern, allowed in table:
        if pattern.fullmatch(request.url.path):
            methods |= allowed
    return ", ".join(sorted(methods))


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable on %s: %r", request.url.path, exc.__cause__ or exc)
    return problem_response(request, 503, str(exc), headers={"Retry-After": "5"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s", request.url.path)
    return problem_response(request, 500, "an unexpected error occurred")


def install(app: FastAPI) -> None:
    """Register the problem-details exception handlers."""
    app.add_exception_handler(ProblemError, _api_problem)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(DatabaseUnavailableError, _unavailable)
    app.add_exception_handler(Exception, _unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries documenting problem responses for the given statuses."""
    ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_TYPE: ref},
        }
        for status in statuses
    }
