"""The API's OpenAPI document (``app.openapi()``) as the app really answers: every error is
``{"detail": "one line"}`` (FastAPI's default document says a 422 holds a list of validation
objects, which this app never sends), and every route lists the errors it may answer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "what was refused and why, in one line"}},
    "required": ["detail"],
}
ERRORS = {
    "401": "no token, or one that belongs to nobody",
    "403": "a reviewer's route asked by an annotator",
    "404": "no such item, or nothing to undo",
    "409": "the item is held by another annotator, or already decided",
    "413": "a body over 16 KiB",
    "422": "a request that is not valid: a wrong type, an unknown label, JSON that is not UTF-8",
    "503": "label.db cannot be written now: read-only, full, locked or damaged",
}


def document_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` describe the error bodies and statuses the app answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["Error"] = ERROR_SCHEMA
        body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, meaning in ERRORS.items():
                    responses[status] = {"description": meaning, "content": body}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
