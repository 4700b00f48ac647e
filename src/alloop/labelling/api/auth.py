"""The one token check of the labelling API: every ``/api`` route depends on ``Who``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from alloop.labelling.storage.store import Annotator


def current_annotator(request: Request) -> Annotator:
    """The annotator whose token is in ``Authorization: Bearer TOKEN``; 401 otherwise."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "missing token: send the header Authorization: Bearer TOKEN")
    found = request.app.state.service.authenticate(token.strip())
    if found is None:
        raise HTTPException(401, "invalid token; `alloop annotators add NAME --project DIR` makes one")
    return found


Who = Annotated[Annotator, Depends(current_annotator)]
