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
settled, and the item can compete on its leaf margin inside that category."""


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
    """Uncertain parents and uncertain leaves within confident parents, taking turns: the most
    uncertain top-level decision (smallest top-level margin) first, then the smallest leaf margin
    inside a predicted category of at least ``CONFIDENT_PARENT`` probability, and so on. (Ranking
    every uncertain parent ahead of every leaf made it the same as ``level-margin`` on amazon-in:
    a pool always holds a batch of items with an unsure parent.)"""
    p = check_proba(proba)
    k = min(check_k(k), len(p))
    confidence, inside = within_parent_margin(p, tree)
    parents = top_k(margin(level_proba(p, tree, 1)), k, rng)
    settled = np.flatnonzero(confidence >= CONFIDENT_PARENT)
    leaves = settled[top_k(inside[settled], k, rng)] if len(settled) else np.empty(0, dtype=np.int64)
    chosen: list[int] = []
    taken: set[int] = set()
    queues = [list(parents), list(leaves)]
    turn = 0
    while len(chosen) < k and any(queues):
        queue = queues[turn % 2] or queues[(turn + 1) % 2]
        item = int(queue.pop(0))
        if item not in taken:
            taken.add(item)
            chosen.append(item)
            turn += 1
    if len(chosen) < k:  # both lists ran dry of new items: the rest by top-level margin
        rest = [int(i) for i in top_k(margin(level_proba(p, tree, 1)), len(p), rng) if int(i) not in taken]
        chosen += rest[: k - len(chosen)]
    return np.array(chosen, dtype=np.int64)


def balanced_branch_margin(
    proba: np.ndarray, k: int, rng: np.random.Generator, *, tree: Taxonomy | None = None, level: int = 1
) -> np.ndarray:
    """Smallest leaf margin, the predicted categories at ``level`` (top level by default) taking
    turns, so a batch covers the tree's branches. Without a tree, the leaves take turns
    (``balanced-margin``)."""
    p = check_proba(proba)
    groups = level_proba(p, tree, level).argmax(axis=1)
    return classes_take_turns(margin(p), groups, k, rng)
