"""Errors to HTTP status codes, in one place: the domain raises ``alloop.errors`` types and
never names a status; this module answers each with its code and a ``{"detail": ...}`` body."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from alloop.errors import AlloopBug, AlloopError, ConflictError, NotFoundError, StorageError

MAX_BODY_BYTES = 16 * 1024
TOO_LARGE = f"request body too large: the limit is {MAX_BODY_BYTES} bytes"
NOT_UTF8 = "malformed request body: send JSON encoded as UTF-8"
STATUS: tuple[tuple[type[Exception], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (StorageError, 503),  # read-only, full, locked or damaged: the server's place, not the request
    (AlloopError, 422),
)
"""Most specific first: the first type an error is an instance of gives its status."""


def status_of(exc: Exception) -> int:
    """The HTTP status for a domain error; a bug (or anything unknown) is a 500."""
    if isinstance(exc, AlloopBug):
        return 500
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 500)


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app can answer with goes through here."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        detail = TOO_LARGE if exc.status_code == 413 else exc.detail
        if exc.status_code == 400:  # FastAPI's only 400: a body it could not decode (not UTF-8)
            return JSONResponse({"detail": NOT_UTF8}, status_code=422)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
            parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
        return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)

    @app.exception_handler(AlloopError)
    async def refused(request: Request, exc: AlloopError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status_of(exc))
