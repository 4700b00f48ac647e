"""Request bodies are UTF-8 JSON and nothing else, checked before anything parses them.

Python's ``json.loads`` on bytes guesses UTF-16 and UTF-32 and skips a UTF-8 byte-order mark,
so without this check a body in another encoding would be read, and a label committed. A body
nested deeper than ``MAX_DEPTH`` (no request of this API nests more than 3) is refused with its
own message instead of exhausting the parser's recursion."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alloop.labelling.api.errors import NOT_UTF8

MAX_DEPTH = 32
TOO_DEEP = f"malformed request body: JSON nested deeper than {MAX_DEPTH} levels"
BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def body_problem(body: bytes) -> str | None:
    """Why ``body`` is refused, or None for UTF-8 text without a byte-order mark whose brackets
    nest at most ``MAX_DEPTH`` deep (what is inside strings does not count)."""
    if not body:
        return None
    if body.startswith(BOMS) or b"\x00" in body[:4]:  # a BOM, or UTF-16/32 text without one
        return NOT_UTF8
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    if text.count("[") + text.count("{") <= MAX_DEPTH:  # the common case: nothing to scan
        return None
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return TOO_DEEP
        elif ch in "]}":
            depth -= 1
    return None


class Utf8Json:
    """ASGI middleware: reads a request's body (``BodyLimit`` caps it first), answers 422 when
    ``body_problem`` finds one, else hands the same bytes on."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []
        while True:
            try:
                message = await receive()
            except HTTPException as exc:  # BodyLimit's 413, raised outside the app's handlers here
                answer = JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
                return await answer(scope, receive, send)
            if message["type"] != "http.request":  # the client went away
                return None
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = body_problem(body)
        if problem is not None:
            return await JSONResponse({"detail": problem}, status_code=422)(scope, receive, send)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
