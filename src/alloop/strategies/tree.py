"""Strategies that know the category tree. Every other strategy scores the leaf distribution; these
score a level of the tree, the path top-down, or let the tree's branches take turns.

Each takes the tree as a keyword (``get_strategy`` binds it, with ``--query-level``); without one
(flat data, or a front end that passes none) each falls back to the leaves, so it runs anywhere a
flat strategy runs. A parent's probability is the sum of its leaves' (``Taxonomy.level_matrix``).
"""

from __future__ import annotations

import numpy as np

from alloop.data.taxonomy import Taxonomy
from alloop.strategies.balanced import classes_take_turns
from alloop.strategies.selection import check_k, check_proba, top_k
from alloop.strategies.uncertainty import margin

CONFIDENT_PARENT = 0.5
"""top-down-margin: a top-level category predicted with at least this probability counts as
settled, and the item competes on its leaf margin inside that category."""


def level_proba(proba: np.ndarray, tree: Taxonomy | None, level: int) -> np.ndarray:
    """Probabilities of the categories at ``level`` (the leaves themselves without a tree, or
    below the tree's depth)."""
    if tree is None or tree.is_flat or level >= tree.depth:
        return proba
    return proba @ tree.level_matrix(max(1, level))


def level_margin(
    proba: np.ndarray, k: int, rng: np.random.Generator, *, tree: Taxonomy | None = None, level: int = 1
) -> np.ndarray:
    """Smallest margin between the two most probable categories at ``level`` (``--query-level``)."""
    p = check_proba(proba)
    return top_k(margin(level_proba(p, tree, level)), k, rng)


def within_parent_margin(proba: np.ndarray, tree: Taxonomy | None) -> tuple[np.ndarray, np.ndarray]:
    """Per item: the top-level probability of its most probable top-level category, and the
    margin of its leaves renormalised inside that category."""
    if tree is None or tree.is_flat:
        return np.ones(len(proba)), margin(proba)
    codes = tree.level_codes(1)
    top = proba @ tree.level_matrix(1)
    parent = top.argmax(axis=1)
    inside = np.where(codes[None, :] == parent[:, None], proba, 0.0)
    inside = inside / np.maximum(inside.sum(axis=1, keepdims=True), 1e-12)
    return top.max(axis=1), margin(inside)


def top_down_margin(
    proba: np.ndarray, k: int, rng: np.random.Generator, *, tree: Taxonomy | None = None, level: int = 1
) -> np.ndarray:
    """Uncertain parents first, then uncertain leaves within confident parents: items whose
    top-level category is below ``CONFIDENT_PARENT`` rank by their top-level margin, ahead of the
    others, which rank by their leaf margin inside their predicted category."""
    p = check_proba(proba)
    k = min(check_k(k), len(p))
    confidence, inside = within_parent_margin(p, tree)
    unsure = confidence < CONFIDENT_PARENT
    parents = margin(level_proba(p, tree, 1))
    # two tiers on one scale: margins lie in [-1, 0], so the unsure tier is lifted above every settled item
    score = np.where(unsure, parents + 2.0, inside)
    return top_k(score, k, rng)


def balanced_branch_margin(
    proba: np.ndarray, k: int, rng: np.random.Generator, *, tree: Taxonomy | None = None, level: int = 1
) -> np.ndarray:
    """Smallest leaf margin, the predicted categories at ``level`` (top level by default) taking
    turns, so a batch covers the tree's branches. Without a tree, the leaves take turns
    (``balanced-margin``)."""
    p = check_proba(proba)
    groups = level_proba(p, tree, level).argmax(axis=1)
    return classes_take_turns(margin(p), groups, k, rng)
