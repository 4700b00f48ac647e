"""The one engine: the query step both front ends call (``query``), the initial set and k-means
cold start (``draw_initial``), and the simulation loop built on them (``ActiveLearner``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alloop.loop.initial import INITIAL_STRATEGIES, draw_initial, initial_count, kmeans_representatives

if TYPE_CHECKING:
    from alloop.loop.engine import ActiveLearner, CycleResult
    from alloop.loop.query import Query, query

_LAZY = {"ActiveLearner": "engine", "CycleResult": "engine", "Query": "query", "query": "query"}


def __getattr__(name: str) -> Any:
    """The engine and the query step (and the classifiers they import) load on first use, so the
    CLI starts fast."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"alloop.loop.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "INITIAL_STRATEGIES",
    "ActiveLearner",
    "CycleResult",
    "Query",
    "draw_initial",
    "initial_count",
    "kmeans_representatives",
    "query",
]
