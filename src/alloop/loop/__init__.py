"""The engine: an initial labelled set, then train → evaluate → query → label, until told to stop."""

from alloop.loop.engine import ActiveLearner, CycleResult
from alloop.loop.initial import INITIAL_STRATEGIES, draw_initial, initial_count

__all__ = ["INITIAL_STRATEGIES", "ActiveLearner", "CycleResult", "draw_initial", "initial_count"]
