"""``GET /api/guidelines`` and ``GET /api/model-history``: what the page shows beside the item
(the project's guidelines, the model's quality over time). Both need a token, like every call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from alloop.labelling.api.auth import Who
from alloop.labelling.domain import history
from alloop.labelling.domain.guidelines import KEY, served
from alloop.labelling.domain.service import LabelService


def suggest_router(service: LabelService) -> APIRouter:
    """The guidelines are rendered once here: they change only with a restart (``--guidelines``)."""
    router = APIRouter()
    guidelines = served(service.store.get_meta(KEY))

    @router.get("/api/guidelines")
    def get_guidelines(who: Who) -> dict[str, Any]:
        """The project's guidelines: ``file``, ``markdown`` and ``html`` (raw HTML escaped);
        all null when the project has none."""
        return guidelines

    @router.get("/api/model-history")
    def model_history(who: Who) -> dict[str, Any]:
        """One point per model version: ``labels`` trained on, ``macro_f1`` and how it was
        estimated (``gold`` or ``cv``; null when it could not be)."""
        return {"points": history.history(service.store)}

    return router
