"""The FastAPI app: the labelling page and the JSON API, built by ``create_app(service)``.

Every ``/api`` call needs ``Authorization: Bearer TOKEN`` (401 otherwise). Handlers are plain
functions, run in a thread pool, because the store's SQLite calls block; a label is committed
before its 200 is sent. The page gets a strict Content-Security-Policy (no inline script) on top
of rendering every item text with ``textContent``, so a product title cannot inject markup.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alloop.labelling.api.auth import Who
from alloop.labelling.api.body import Utf8Json
from alloop.labelling.api.errors import MAX_BODY_BYTES, TOO_LARGE, install_error_handlers
from alloop.labelling.api.guidance import suggest_router
from alloop.labelling.api.review import router as review_router
from alloop.labelling.api.schema import document_errors
from alloop.labelling.api.search import search_router
from alloop.labelling.domain.service import Answer, LabelService

STATIC = (
    "index.html",
    "app.js",
    "app.css",
    "review.js",
    "search.js",
    "suggest.js",
    "chart.js",
    "similar.js",
    "tree.js",
)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
MEDIA = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css"}


class LabelIn(BaseModel):
    """``POST /api/labels``: ``{"item_id": ..., "label": ...}``, or ``"skip": true``, or
    ``"unsure": true``. Unknown keys are refused, so a typo cannot pass as a skip, and types are
    strict: ``"item_id": true`` is not item "1", and ``"skip": "yes"`` or ``1`` is not a skip."""

    model_config = ConfigDict(extra="forbid", strict=True)
    item_id: Annotated[StrictStr | StrictInt, Field(description="the item's id, as GET /api/next gave it")]
    label: Annotated[StrictStr | None, Field(max_length=500)] = None
    skip: StrictBool = False
    unsure: StrictBool = False
    source: Literal["queue", "search"] = "queue"
    """how the item was found: handed out by GET /api/next, or by GET /api/search"""
    also: Annotated[
        list[StrictStr | StrictInt],
        Field(max_length=50, description="ids from the item's `similar` list to give the same label"),
    ] = []


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413, whether or not the client sent a
    Content-Length, before anything parses them."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await JSONResponse({"detail": TOO_LARGE}, status_code=413)(scope, receive, send)
        total = 0

        async def limited() -> Message:
            nonlocal total
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > self.limit:
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, limited, send)


def create_app(service: LabelService) -> FastAPI:
    """One app per service: no module-level state, so tests can run several side by side."""
    app = FastAPI(
        title="alloop labelling",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(Utf8Json)  # inside BodyLimit (added last, so outermost): never an unbounded read
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    pages = {
        name: resources.files("alloop.labelling.api").joinpath("static", name).read_bytes() for name in STATIC
    }

    app.state.service = service
    app.include_router(search_router(service))

    install_error_handlers(app)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        if request.url.path == "/":
            response.headers["Content-Security-Policy"] = CSP
        return response

    @app.get("/", include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(pages["index.html"])

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in pages or name == "index.html":
            raise HTTPException(404, "not found")
        return Response(pages[name], media_type=MEDIA["." + name.rsplit(".", 1)[1]])

    @app.get("/api/me")
    def me(who: Who) -> dict[str, Any]:
        """Who the token belongs to, their role, and the label set in button order."""
        config = service.config
        return {
            "annotator": who.name,
            "role": who.role,
            "labels": list(config.labels),
            "tree": service.tree is not None,
            "query_size": config.query_size,
        }

    @app.get("/api/next")
    def next_item(who: Who) -> dict[str, Any]:
        """The item to label; ``{"item_id": null, "done": true}`` when none is left."""
        item = service.next_item(who)
        if item is None:
            return {"item_id": None, "done": True, "message": "nothing left to label"}
        return {**item, "done": False}

    @app.post("/api/labels")
    def post_label(body: LabelIn, who: Who) -> dict[str, Any]:
        """Answers 200 only once the label is committed to label.db."""
        answer = Answer(
            str(body.item_id),
            body.label,
            body.skip,
            body.unsure,
            source=body.source,
            also=tuple(str(i) for i in body.also),
        )
        return service.submit(who, answer)

    @app.post("/api/undo")
    def undo(who: Who) -> dict[str, Any]:
        """Take back your latest answer; GET /api/next then returns that item again."""
        result = service.undo(who)
        if result is None:
            raise HTTPException(404, "nothing to undo")
        return result

    @app.get("/api/recent")
    def recent(who: Who, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> dict[str, Any]:
        return {"items": service.recent(who, limit)}

    @app.get("/api/stats")
    def stats(who: Who) -> dict[str, Any]:
        return service.stats(who)

    app.include_router(review_router)

    app.include_router(suggest_router(service))
    document_errors(app)
    return app
