"""The initial labelled set: how many items, and which."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from alloop.errors import AlloopError

if TYPE_CHECKING:
    from alloop.data.taxonomy import Taxonomy

INITIAL_STRATEGIES = ("stratified", "random", "kmeans", "label-names")
"""How a simulation draws its initial labelled set (``stratified`` reads the gold labels; the
others read none: ``label-names`` ranks the pool by similarity to the class names)."""
LABEL_FREE_STARTS = ("label-names", "kmeans", "random")
"""The cold starts that need no label, for labelling with people: the class names embedded
(``label_name_representatives``), k-means representatives, or random. One vocabulary with
``INITIAL_STRATEGIES``: the names they share mean the same draw."""


def initial_count(initial: float, pool_size: int) -> int:
    """``--initial 0.2`` is a fraction of the pool, ``--initial 100`` a count."""
    if initial <= 0:
        raise AlloopError(f"`initial` must be positive (a fraction below 1 or a count), got {initial}")
    if initial < 1:
        count = round(initial * pool_size)
    elif float(initial).is_integer():
        count = int(initial)
    else:
        raise AlloopError(f"`initial` {initial} is neither a fraction below 1 nor a whole count")
    if count < 1:
        raise AlloopError(f"`initial` {initial} selects no item of a pool of {pool_size}")
    if count >= pool_size:
        raise AlloopError(
            f"`initial` {initial} asks for {count} items but the pool has {pool_size}; "
            "leave some to query, e.g. `initial` 0.1"
        )
    return count


def stratified_draw(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` positions with each class in proportion to the pool (largest remainders), and every
    class at least once when ``n`` allows. Uses the gold labels, as the seed does: a real user
    has none, which is what ``random`` is for."""
    classes, counts = np.unique(labels, return_counts=True)
    quota = n * counts / counts.sum()
    take = np.floor(quota).astype(np.int64)
    remainder_order = np.lexsort((rng.random(len(classes)), -(quota - take)))
    take[remainder_order[: n - take.sum()]] += 1
    if n >= len(classes):
        for c in np.flatnonzero(take == 0):
            take[np.argmax(take)] -= 1
            take[c] = 1
    take = np.minimum(take, counts)
    picks = [
        rng.choice(np.flatnonzero(labels == c), t, replace=False) for c, t in zip(classes, take, strict=True)
    ]
    return rng.permutation(np.concatenate(picks)).astype(np.int64)


KMEANS_INIT = 3
"""k-means restarts of the cold start: the best of 3 seeded runs, for 9k items a second or two."""
KMEANS_EXACT_MAX = 20_000
"""Up to this many items the cold start runs exact k-means; beyond, mini-batch k-means (bounded time)."""


def kmeans_representatives(
    embeddings: np.ndarray, k: int, seed: int, candidates: np.ndarray | None = None
) -> np.ndarray:
    """The label-free cold start of both front ends: cluster the ``candidates``' embeddings (all
    rows when None) into ``k`` groups and take the member nearest each centre, largest group
    first, so the first labels cover the pool instead of its densest corner.

    Returns ``min(k, len(candidates))`` distinct positions into ``embeddings``.
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans

    candidates = np.arange(len(embeddings)) if candidates is None else np.asarray(candidates, np.int64)
    k = min(int(k), len(candidates))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    x = np.asarray(embeddings, dtype=np.float32)[candidates]
    model = (
        KMeans(k, n_init=KMEANS_INIT, random_state=seed)
        if len(x) <= KMEANS_EXACT_MAX
        else MiniBatchKMeans(k, n_init=KMEANS_INIT, random_state=seed)
    )
    clusters = model.fit_predict(x)
    distances = model.transform(x)
    sizes = np.bincount(clusters, minlength=k)
    chosen = [
        int(candidates[members[np.argmin(distances[members, cluster])]])
        for cluster in np.argsort(-sizes, kind="stable")
        if len(members := np.flatnonzero(clusters == cluster))
    ]
    if len(chosen) < k:  # duplicates left clusters empty: fill up with other candidates, seeded
        rest = np.setdiff1d(candidates, chosen)
        chosen += np.random.default_rng(seed).permutation(rest)[: k - len(chosen)].tolist()
    return np.array(chosen, dtype=np.int64)


def draw_initial(
    labels: np.ndarray,
    initial: float,
    how: str,
    rng: np.random.Generator,
    embeddings: np.ndarray | None = None,
    name_similarity: np.ndarray | None = None,
    first: Sequence[int] = (),
) -> np.ndarray:
    """Positions of the initial labelled set in the pool. ``kmeans`` needs the pool's embeddings,
    ``label-names`` the ``(n_items, n_classes)`` similarity of the items to the class names (classes
    in ``first`` take their turns first, e.g. ``branch_turns``); ``stratified`` reads the gold
    labels; the others use no label."""
    n = initial_count(initial, len(labels))
    if how == "stratified":
        return stratified_draw(labels, n, rng)
    if how == "random":
        return rng.choice(len(labels), n, replace=False).astype(np.int64)
    if how == "kmeans":
        if embeddings is None:
            raise AlloopError("`initial_strategy` kmeans needs embeddings; this classifier has none")
        return kmeans_representatives(embeddings, n, int(rng.integers(2**31 - 1)))
    if how == "label-names":
        if name_similarity is None:
            raise AlloopError("`initial_strategy` label-names needs a classifier with a text encoder")
        return label_name_representatives(name_similarity, n, int(rng.integers(2**31 - 1)), first=first)
    raise AlloopError(f"unknown `initial_strategy` {how!r}; choose from {', '.join(INITIAL_STRATEGIES)}")


LABEL_NAME_TEMPLATE = "{name} products"
"""How a class name is put into words before it is embedded (``{name}`` is the name, with ``_``
read as a space). On amazon-in's pool the first 20 items covered 17 of 19 classes with it, 14 with
the bare name and 15 with "a product in the category {name}" (bench/results/cold_start_cpu.txt)."""


def class_name_texts(labels: Sequence[str], template: str = LABEL_NAME_TEMPLATE) -> list[str]:
    """The texts embedded for each class: ``smart_home_products`` reads as words, not one token."""
    return [template.format(name=" ".join(label.replace("_", " ").split())) for label in labels]


def cosine_similarity(items: np.ndarray, names: np.ndarray) -> np.ndarray:
    """``(n_items, n_classes)`` cosines of two sets of dense vectors (normalised here, so vectors
    that already are unit length cost one matrix product)."""
    a = np.asarray(items, dtype=np.float32)
    b = np.asarray(names, dtype=np.float32)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def label_name_representatives(
    similarity: np.ndarray,
    k: int,
    seed: int,
    candidates: np.ndarray | None = None,
    first: Sequence[int] = (),
) -> np.ndarray:
    """The cold start that needs neither labels nor clusters: round-robin over the classes, each
    taking its most similar candidate not picked yet, so the first ``n_classes`` items are one
    guess per class and a rare class is not drowned by the densest corner of the pool.

    ``similarity`` is ``(n_items, n_classes)``, e.g. the cosine of the frozen encoder's embeddings
    of the item texts and of the class names (``cosine_similarity``); non-finite entries are no
    evidence (a class with none left drops out). Classes in ``first`` (those with no label yet)
    take their turns first. When every class has run out of evidence the rest is filled in a
    seeded random order. Returns
    ``min(k, len(candidates))`` distinct positions.
    """
    similarity = np.asarray(similarity, dtype=np.float32)
    n_items, n_classes = similarity.shape
    candidates = np.arange(n_items) if candidates is None else np.asarray(candidates, np.int64)
    k = min(int(k), len(candidates))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    order = list(dict.fromkeys([*(int(c) for c in first), *range(n_classes)]))
    depth = min(len(candidates), 2 * k)  # a class picks at most k, and at most k are taken by others
    ranked: dict[int, np.ndarray] = {}
    for c in order:
        scores = similarity[candidates, c]
        top = np.argpartition(-scores, depth - 1)[:depth] if depth < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((candidates[top], -scores[top]))]  # ties: the earlier position first
        ranked[c] = candidates[top[np.isfinite(scores[top])]]
    chosen: list[int] = []
    taken: set[int] = set()
    cursor = dict.fromkeys(order, 0)
    active = [c for c in order if len(ranked[c])]
    while len(chosen) < k and active:
        for c in list(active):
            row, i = ranked[c], cursor[c]
            while i < len(row) and int(row[i]) in taken:
                i += 1
            if i == len(row):
                active.remove(c)
                continue
            cursor[c] = i + 1
            taken.add(int(row[i]))
            chosen.append(int(row[i]))
            if len(chosen) == k:
                break
    if len(chosen) < k:
        rest = np.setdiff1d(candidates, chosen)
        chosen += np.random.default_rng(seed).permutation(rest)[: k - len(chosen)].tolist()
    return np.array(chosen, dtype=np.int64)


def branch_turns(tree: Taxonomy) -> list[int]:
    """Leaf indices in the order they take turns in the label-names cold start over a category
    tree: the first leaf of each top-level branch, then the second of each, and so on, so the
    first items cover the branches before any branch's second leaf. The leaves' names are embedded
    as their full path ("PARENT > LEAF" via ``Taxonomy.names``), which tells apart one name under
    two parents."""
    branches: dict[tuple[str, ...], list[int]] = {}
    for i, leaf in enumerate(tree.leaves):
        branches.setdefault(leaf[:1], []).append(i)
    rounds = max(len(b) for b in branches.values())
    return [b[r] for r in range(rounds) for b in branches.values() if r < len(b)]


def label_turns(labels: Sequence[str], sep: str = " > ") -> list[int]:
    """``branch_turns`` for labels given as display paths ("PARENT > LEAF", as a labelling
    project's tree labels are): label indices, the top-level branches taking turns. Flat labels
    keep their order."""
    branches: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        branches.setdefault(label.split(sep, 1)[0], []).append(i)
    rounds = max((len(b) for b in branches.values()), default=0)
    return [b[r] for r in range(rounds) for b in branches.values() if r < len(b)]
