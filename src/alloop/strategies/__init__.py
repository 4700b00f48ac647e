"""Query strategies: pure functions from the unlabelled pool's probabilities to a batch of indices.

Each strategy takes the probability matrix of the unlabelled items only (rows align with the
unlabelled positions the loop passes in), the batch size and a seeded RNG, and returns distinct
row indices, most useful first.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from alloop.errors import AlloopError
from alloop.strategies import balanced, coverage, diversity, tree, uncertainty
from alloop.strategies.dedupe import NEAR_DUPLICATE_THRESHOLD, without_near_duplicates
from alloop.strategies.selection import check_k, top_k

if TYPE_CHECKING:
    from alloop.data.taxonomy import Taxonomy


@dataclass(frozen=True)
class Strategy:
    """A named query strategy. The flags tell the loop what to compute for it: the pool's
    probabilities (``needs_proba``; random skips scoring) and embeddings (``needs_embeddings``,
    of the unlabelled and of the labelled items)."""

    name: str
    select: Callable[..., np.ndarray]
    needs_proba: bool = True
    needs_embeddings: bool = False
    description: str = ""
    knows_tree: bool = False
    """Its ``select`` takes ``tree=`` and ``level=`` keywords (``get_strategy`` binds them)."""

    def __call__(
        self,
        proba: np.ndarray,
        k: int,
        rng: np.random.Generator,
        embeddings: np.ndarray | None = None,
        labelled_embeddings: np.ndarray | None = None,
    ) -> np.ndarray:
        """``proba``: (unlabelled items, classes), or (unlabelled items, 0) when not needed."""
        if self.needs_embeddings:
            return self.select(proba, k, rng, embeddings=embeddings, labelled_embeddings=labelled_embeddings)
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
        Strategy(
            "badge",
            diversity.badge,
            needs_embeddings=True,
            description="k-means++ over gradient embeddings (Ash et al. 2020)",
        ),
        Strategy(
            "coreset",
            diversity.coreset,
            needs_proba=False,
            needs_embeddings=True,
            description="k-center greedy over embeddings (Sener & Savarese 2018)",
        ),
        Strategy(
            "cluster-margin",
            diversity.cluster_margin,
            needs_embeddings=True,
            description="margin candidates, one per embedding cluster (Citovsky et al. 2021)",
        ),
        Strategy(
            "balanced-margin",
            balanced.balanced_margin,
            description="smallest margin, the predicted classes taking turns",
        ),
        Strategy(
            "level-margin",
            tree.level_margin,
            knows_tree=True,
            description="smallest margin between categories at --query-level (the top level by default)",
        ),
        Strategy(
            "top-down-margin",
            tree.top_down_margin,
            knows_tree=True,
            description="uncertain top-level categories first, then uncertain leaves within confident ones",
        ),
        Strategy(
            "balanced-branch-margin",
            tree.balanced_branch_margin,
            knows_tree=True,
            description="smallest leaf margin, the predicted top-level categories taking turns",
        ),
        Strategy(
            "coverage-margin",
            coverage.coverage_margin,
            description="half by smallest margin, half at random among the more confident half of the pool",
        ),
        Strategy(
            "balanced-cluster-margin",
            balanced.balanced_cluster_margin,
            needs_embeddings=True,
            description="cluster-margin over candidates the predicted classes take turns to give",
        ),
    )
}
SEED_STRATEGIES = ("random", "least-confidence", "entropy", "margin")
DEDUP_SUFFIX = "+dedup"
STRATEGY_NAMES = (*STRATEGIES, *(f"{name}{DEDUP_SUFFIX}" for name in STRATEGIES))
"""Every name ``--strategy`` takes, in ``alloop run`` and ``alloop label`` alike."""


def check_threshold(threshold: float) -> float:
    if not 0.0 < threshold < 1.0:
        raise AlloopError(f"`near_duplicate_threshold` must be between 0 and 1, got {threshold}")
    return threshold


def get_strategy(
    name: str,
    near_duplicates: float | None = None,
    *,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    tree: Taxonomy | None = None,
    query_level: int | None = None,
) -> Strategy:
    """The strategy called ``name``. ``near_duplicates`` (a cosine threshold) wraps it in the
    near-duplicate guard (``--no-near-duplicates``); ``NAME+dedup`` wraps it too, at
    ``near_duplicates`` when given, else at ``threshold`` (``--near-duplicate-threshold``). A
    strategy that knows the category tree gets ``tree`` and ``query_level`` bound here."""
    if name.endswith(DEDUP_SUFFIX):  # e.g. margin+dedup: the guard for this strategy alone
        base = name.removesuffix(DEDUP_SUFFIX)
        return get_strategy(
            base,
            near_duplicates if near_duplicates is not None else threshold,
            tree=tree,
            query_level=query_level,
        )
    try:
        strategy = STRATEGIES[name]
    except KeyError:
        raise AlloopError(
            f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)} (or NAME{DEDUP_SUFFIX})"
        ) from None
    if strategy.knows_tree and (tree is not None or query_level is not None):
        bound = functools.partial(strategy.select, tree=tree, level=query_level or 1)
        strategy = dataclasses.replace(strategy, select=bound)
    if near_duplicates is None:
        return strategy
    return without_near_duplicates(strategy, check_threshold(near_duplicates))


__all__ = [
    "NEAR_DUPLICATE_THRESHOLD",
    "SEED_STRATEGIES",
    "STRATEGIES",
    "STRATEGY_NAMES",
    "Strategy",
    "check_threshold",
    "get_strategy",
    "random_sampling",
    "top_k",
]
