"""The engine: an initial labelled set, then train → evaluate → query → label, until told to stop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alloop.loop.initial import INITIAL_STRATEGIES, draw_initial, initial_count

if TYPE_CHECKING:
    from alloop.loop.engine import ActiveLearner, CycleResult


def __getattr__(name: str) -> Any:
    """The engine (and the classifiers it imports) loads on first use, so the CLI starts fast."""
    if name in ("ActiveLearner", "CycleResult"):
        from alloop.loop import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["INITIAL_STRATEGIES", "ActiveLearner", "CycleResult", "draw_initial", "initial_count"]
