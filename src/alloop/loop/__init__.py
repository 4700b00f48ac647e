"""The one engine: the query step both front ends call (``query``), the initial set and k-means
cold start (``draw_initial``), and the simulation loop built on them (``ActiveLearner``)."""

from alloop.loop.engine import ActiveLearner, CycleResult
from alloop.loop.initial import INITIAL_STRATEGIES, draw_initial, initial_count, kmeans_representatives
from alloop.loop.query import Query, query

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
