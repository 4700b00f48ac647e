"""``GET /api/search``: items found by words in their text, with whether each is labelled yet.

An annotator uses it to label examples of a class the queue has not shown (the page lists the
classes with no label yet); such a label is sent to ``POST /api/labels`` with
``"source": "search"`` and counts like any other. The results say whether each item already has
a label (from anyone: the count only, never another annotator's answer), what the caller answered
on it, and whether another annotator holds it right now (labelling it would be refused with 409).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query

from alloop.errors import AlloopError
from alloop.labelling.api.auth import Who
from alloop.labelling.domain.service import LEASE_SECONDS, LabelService
from alloop.labelling.storage.search import QueryError, SearchIndex
from alloop.labelling.storage.store import Annotator

MAX_RESULTS = 100


def search_router(service: LabelService) -> APIRouter:
    """The search endpoint of one service; builds the project's word index if it lacks one."""
    index = SearchIndex(service.store)
    router = APIRouter()

    @router.get("/api/search")
    def search(
        who: Who,
        q: Annotated[str, Query(description="words of the item's text")] = "",
        limit: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 20,
    ) -> dict[str, Any]:
        """Items holding every word of ``q``, best match first."""
        try:
            matches = index.search(q, limit)
        except QueryError as exc:
            raise AlloopError(str(exc)) from None
        return {
            "query": q,
            "method": "fts5" if index.fts else "like",
            "items": describe(service, who, [m.pos for m in matches]),
        }

    return router


def describe(service: LabelService, who: Annotator, positions: list[int]) -> list[dict[str, Any]]:
    """One search result per position, as the page shows it."""
    held = service.store.active_assignments(time.time() - LEASE_SECONDS)
    items, tally = service.items, service.tally
    out = []
    for pos in positions:
        mine = service.store.label_of(pos, who.id)
        out.append(
            {
                "item_id": items.ids[pos],
                "text": items.texts[pos],
                "labelled": tally.n_labels(pos) > 0,
                "n_labels": tally.n_labels(pos),
                "yours": None if mine is None else {"status": mine.status, "label": mine.label},
                "held": held.get(pos, who.id) != who.id and mine is None,
            }
        )
    return out
