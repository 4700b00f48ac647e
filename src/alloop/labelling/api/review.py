"""``/api/review``: the reviewer's queue of ties, unsure answers and disagreements, and the
adjudications that settle them. Reviewers only: 401 without a token, 403 for an annotator."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from starlette.exceptions import HTTPException

from alloop.labelling.api.auth import current_annotator
from alloop.labelling.domain.service import LabelService
from alloop.labelling.storage.store import Annotator

NOT_A_REVIEWER = (
    "only a reviewer can review; the project's owner can run "
    "`alloop annotators set-role NAME --role reviewer --project DIR`"
)


class DecisionIn(BaseModel):
    """``POST /api/review``: ``{"item_id": ..., "label": ...}``, strict types, no other keys."""

    model_config = ConfigDict(extra="forbid", strict=True)
    item_id: Annotated[StrictStr | StrictInt, Field(description="the item's id, as GET /api/review gave it")]
    label: Annotated[StrictStr, Field(max_length=500, description="the final label, from the label set")]


def current_reviewer(request: Request) -> Annotator:
    """The token's owner (401 as for every call) if a reviewer, else 403."""

    who = current_annotator(request)
    if who.role != "reviewer":
        raise HTTPException(403, NOT_A_REVIEWER)
    return who


Reviewer = Annotated[Annotator, Depends(current_reviewer)]
router = APIRouter()


def _service(request: Request) -> LabelService:
    return request.app.state.service  # type: ignore[no-any-return]


@router.get("/api/review")
def next_for_review(request: Request, who: Reviewer) -> dict[str, Any]:
    """The next item needing review, with every annotator's answer and name;
    ``{"item_id": null, "done": true}`` when none is left."""
    return _service(request).review_next()


@router.post("/api/review")
def decide(request: Request, body: DecisionIn, who: Reviewer) -> dict[str, Any]:
    """Set the item's final label; answers once it is committed, with the next item."""
    return _service(request).adjudicate(who, str(body.item_id), body.label)
