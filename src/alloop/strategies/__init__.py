"""Query strategies: pure functions from the unlabelled pool's probabilities to a batch of indices.

Each strategy takes the probability matrix of the unlabelled items only (rows align with the
unlabelled positions the loop passes in), the batch size and a seeded RNG, and returns distinct
row indices, most useful first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from alloop.errors import AlloopError
from alloop.strategies import uncertainty
from alloop.strategies.selection import check_k, top_k


@dataclass(frozen=True)
class Strategy:
    """A named query strategy. ``needs_proba`` is False for strategies that ignore the model,
    so the loop can skip scoring the pool for them."""

    name: str
    select: Callable[[np.ndarray, int, np.random.Generator], np.ndarray]
    needs_proba: bool = True
    description: str = ""

    def __call__(self, proba: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        return self.select(proba, k, rng)


def random_sampling(proba: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k distinct items uniformly at random: the baseline every strategy must beat."""
    n = len(proba)
    return rng.choice(n, size=min(check_k(k), n), replace=False).astype(np.int64)


def _by_score(score: Callable[[np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    def select(proba: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        return top_k(score(proba), k, rng)

    select.__doc__ = score.__doc__
    return select


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy("random", random_sampling, needs_proba=False, description="uniform at random"),
        Strategy(
            "least-confidence",
            _by_score(uncertainty.least_confidence),
            description="lowest top-class probability",
        ),
        Strategy("entropy", _by_score(uncertainty.entropy), description="highest predictive entropy"),
        Strategy("margin", _by_score(uncertainty.margin), description="smallest top-1 minus top-2 gap"),
    )
}


def get_strategy(name: str) -> Strategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise AlloopError(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}") from None


__all__ = ["STRATEGIES", "Strategy", "get_strategy", "random_sampling", "top_k"]
