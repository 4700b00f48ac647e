"""Diversity-aware strategies, the near-duplicate guard, the k-means cold start and the
label-free stopping criteria, on hand-built embeddings and values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alloop.errors import AlloopError
from alloop.loop.initial import draw_initial
from alloop.loop.stopping import LoopState, MeanUncertainty, Plateau, Stabilizing, label_free
from alloop.strategies import get_strategy
from alloop.strategies.diversity import badge, cluster_margin, coreset
from alloop.strategies.uncertainty import margin


def clusters(centres: np.ndarray, per: int, spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``per`` points around each centre; returns points and their cluster ids."""
    rng = np.random.default_rng(seed)
    points = np.concatenate([c + spread * rng.normal(size=(per, len(c))) for c in centres])
    return points, np.repeat(np.arange(len(centres)), per)


def max_cosine(x: np.ndarray) -> float:
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -1)
    return float(sims.max())


def test_near_duplicate_guard_keeps_a_batch_free_of_near_duplicates():
    # 10 products, each with 5 colour/size variants (cosine > 0.99 within a product); the variants
    # of products 0-3 are the most uncertain, so plain margin fills the batch with them
    directions = np.eye(10)
    emb, product = clusters(directions, per=5, spread=0.01)
    proba = np.tile([0.6, 0.4], (50, 1))
    proba[product < 4] = [0.51, 0.49]
    plain = get_strategy("margin")(proba, 8, np.random.default_rng(0))
    assert max_cosine(emb[plain]) > 0.95  # the failure users report
    guarded = get_strategy("margin", near_duplicates=0.95)(proba, 8, np.random.default_rng(0), emb, None)
    assert len(guarded) == 8 and len(set(guarded.tolist())) == 8
    assert max_cosine(emb[guarded]) <= 0.95
    assert set(product[guarded]) >= {0, 1, 2, 3}  # still takes the most uncertain products first
    same = get_strategy("margin+dedup")(proba, 8, np.random.default_rng(0), emb, None)
    assert same.tolist() == guarded.tolist()


def test_guard_returns_fewer_items_rather_than_a_duplicate():
    emb = np.tile([1.0, 0.0], (6, 1)) + 1e-4 * np.arange(6)[:, None]
    picked = get_strategy("random", near_duplicates=0.95)(np.empty((6, 0)), 3, np.random.default_rng(0), emb)
    assert len(picked) == 1


def test_coreset_covers_every_uncovered_cluster():
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10], [5, 20]], dtype=float)
    emb, cluster = clusters(centres, per=30, spread=0.3)
    labelled = emb[cluster == 0][:5]  # the labelled set sits in cluster 0
    picked = coreset(np.empty((len(emb), 0)), 4, np.random.default_rng(0), emb, labelled)
    assert sorted(cluster[picked].tolist()) == [1, 2, 3, 4]
    # k-center: after the batch, every point is within the clusters' spread of a centre
    centers = np.concatenate([labelled, emb[picked]])
    radius = np.sqrt(((emb[:, None, :] - centers[None]) ** 2).sum(-1)).min(axis=1).max()
    assert radius < 3.0  # the farthest point from any chosen item: inside its own cluster


def test_badge_starts_from_the_largest_gradient_and_takes_one_confident_item_at_most():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(40, 6))
    proba = np.zeros((40, 3))
    proba[:, 0] = 1.0  # 30 confident items: gradient embedding exactly zero, all at the origin
    proba[30:] = rng.dirichlet(np.ones(3), size=10)  # 10 uncertain ones
    a = proba.copy()
    a[np.arange(40), proba.argmax(1)] -= 1
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(emb, axis=1)
    picked = badge(proba, 5, np.random.default_rng(1), emb)
    assert picked[0] == int(np.argmax(norms))
    # the origin is one point to k-means++: once one confident item is in, the rest are at distance 0
    assert len(set(picked.tolist()) & set(range(30))) <= 1
    assert len(set(picked.tolist())) == 5


def test_cluster_margin_takes_one_uncertain_item_per_cluster():
    centres = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float)
    emb, cluster = clusters(centres, per=20, spread=0.05)
    rng = np.random.default_rng(0)
    proba = np.column_stack([np.full(60, 0.9), np.full(60, 0.1)])
    uncertain = rng.choice(60, 30, replace=False)
    proba[uncertain] = np.column_stack([0.55 + 0.001 * np.arange(30), 0.45 - 0.001 * np.arange(30)])
    picked = cluster_margin(proba, 3, np.random.default_rng(0), emb)
    assert sorted(cluster[picked].tolist()) == [0, 1, 2]
    assert set(picked.tolist()) <= set(uncertain.tolist())
    scores = margin(proba)
    assert np.all(np.diff(scores[picked]) <= 0)  # most uncertain first


def test_kmeans_cold_start_picks_a_representative_per_cluster_without_labels():
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    emb, cluster = clusters(centres, per=[50][0], spread=0.5)
    labels = np.full(len(emb), -99)  # no labels at all: kmeans must not need them
    picked = draw_initial(labels, 4, "kmeans", np.random.default_rng(0), emb)
    assert sorted(cluster[picked].tolist()) == [0, 1, 2, 3]
    with pytest.raises(AlloopError, match="needs embeddings"):
        draw_initial(labels, 4, "kmeans", np.random.default_rng(0))


def state(**kw) -> LoopState:
    base = {"cycle": 5, "n_labelled": 100, "n_unlabelled": 900, "macro_f1": 0.5}
    return LoopState(**{**base, **kw})


def test_stabilizing_needs_three_consecutive_high_kappas():
    rule = Stabilizing()
    assert rule.reason(state(kappa_history=(math.nan, 0.995, 0.992))) is None  # only 2 checks
    assert rule.reason(state(kappa_history=(math.nan, 0.995, 0.98, 0.999, 0.996))) is None
    assert rule.reason(state(kappa_history=(math.nan, 0.9, 0.991, 0.999, 0.996))) is not None


def test_plateau_and_uncertainty():
    plateau = Plateau(epsilon=0.005, cycles=3)
    assert plateau.reason(state(f1_history=(0.5, 0.6, 0.602, 0.604, 0.603))) is not None
    assert plateau.reason(state(f1_history=(0.5, 0.6, 0.602, 0.604, 0.61))) is None
    assert plateau.reason(state(f1_history=(0.6, 0.601, 0.602))) is None  # not enough cycles yet
    uncertainty = MeanUncertainty(threshold=0.15)
    assert uncertainty.reason(state(uncertainty=0.1)) is not None
    assert uncertainty.reason(state(uncertainty=0.2)) is None
    assert uncertainty.reason(state()) is None  # NaN: not measured


def test_label_free_names():
    assert [type(c).__name__ for c in label_free(["plateau", "stabilizing"])] == ["Plateau", "Stabilizing"]
    with pytest.raises(AlloopError, match="unknown `stop`"):
        label_free(["patience"])


def test_balanced_cluster_margin_covers_classes_plain_cluster_margin_leaves_out():
    # 4 embedding clusters; the model predicts class 0 in clusters 0-2 and class 1 in cluster 3;
    # class 0's items are all more uncertain than class 1's, so margin candidates skip class 1
    centres = np.eye(4)
    emb, cluster = clusters(centres, per=30, spread=0.05)
    proba = np.tile([0.55, 0.45], (120, 1)) + np.linspace(0, 0.01, 120)[:, None] * [1, -1]
    proba[cluster == 3] = [0.2, 0.8]
    proba[cluster == 3] += np.linspace(0, 0.01, 30)[:, None] * [-1, 1]
    plain = cluster_margin(proba, 4, np.random.default_rng(0), emb, candidates_per_item=2)
    balanced = get_strategy("balanced-cluster-margin")(
        proba, 4, np.random.default_rng(0), embeddings=emb, labelled_embeddings=None
    )
    assert 3 not in cluster[plain].tolist()
    assert 3 in cluster[balanced].tolist()
    assert len(set(balanced.tolist())) == 4
    scores = margin(proba)
    assert np.all(np.diff(scores[balanced]) <= 0)  # most uncertain first
