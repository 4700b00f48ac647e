"""Agreement between annotators: majority votes, pairwise Cohen's kappa, Fleiss' kappa and the
list of disagreements. Pure functions of the answers, so ``label-stats`` and the page agree."""

from __future__ import annotations

import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from alloop.labelling.storage.store import LabelRow


@dataclass(frozen=True)
class Vote:
    """The final label of an item: the majority of its annotators' labels; None on a tie, which
    is flagged for review rather than broken arbitrarily."""

    label: str | None
    tie: bool
    n_labels: int


@dataclass(frozen=True)
class PairKappa:
    a: str
    b: str
    n_items: int
    kappa: float | None
    """None when undefined: no shared items, or both annotators always gave one same class."""


PATH_SEP = " > "
"""How a category tree's labels write a path (``alloop.labelling.domain.tree``)."""


def most_specific(labels: Sequence[str]) -> list[str]:
    """The answers without those a more specific answer refines: in a category tree a partial
    label (``A > B``) agrees with a leaf under it (``A > B > C``), so it does not vote against
    it. Flat labels never hold `` > ``: for them nothing is dropped."""
    return [a for a in labels if not any(b.startswith(a + PATH_SEP) for b in labels)]


def majority(labels: Sequence[str]) -> Vote:
    """The most frequent answer (None and ``tie`` when two lead); ``n_labels`` counts every answer."""
    counts = Counter(most_specific(labels)).most_common()
    if not counts:
        return Vote(None, False, 0)
    top = [label for label, c in counts if c == counts[0][1]]
    return Vote(top[0] if len(top) == 1 else None, len(top) > 1, len(labels))


def labels_by_item(rows: Iterable[LabelRow]) -> dict[int, dict[int, str]]:
    """Item position -> {annotator id: label}, class answers only (skips and unsures excluded)."""
    out: dict[int, dict[int, str]] = defaultdict(dict)
    for row in rows:
        if row.status == "label" and row.label is not None:
            out[row.pos][row.annotator] = row.label
    return dict(out)


def votes(rows: Iterable[LabelRow]) -> dict[int, Vote]:
    return {pos: majority(list(by.values())) for pos, by in labels_by_item(rows).items()}


def pairwise_cohen(rows: Iterable[LabelRow], names: dict[int, str]) -> list[PairKappa]:
    """Cohen's kappa for every pair of annotators who labelled at least one item in common."""
    by_item = labels_by_item(rows)
    shared: dict[tuple[int, int], list[tuple[str, str]]] = defaultdict(list)
    for by in by_item.values():
        for a, b in combinations(sorted(by), 2):
            shared[(a, b)].append((by[a], by[b]))
    out = []
    for (a, b), pairs in sorted(shared.items()):
        ya, yb = [p[0] for p in pairs], [p[1] for p in pairs]
        kappa: float | None = None
        if len(set(ya) | set(yb)) > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                from sklearn.metrics import cohen_kappa_score

                value = float(cohen_kappa_score(ya, yb))
            kappa = value if np.isfinite(value) else None
        out.append(PairKappa(names.get(a, str(a)), names.get(b, str(b)), len(pairs), kappa))
    return out


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa of an (items, categories) matrix of rating counts.

    Items may have different numbers of raters (an overlap item gets 2, another 3): each item's
    agreement is ``(sum_j n_ij^2 - n_i) / (n_i (n_i - 1))`` and category shares pool all ratings,
    which is Fleiss (1971) exactly when every item has the same number. Items with fewer than 2
    ratings carry no agreement and are dropped. None when undefined (no such item, or every
    rating in one category).
    """
    counts = np.asarray(counts, dtype=np.float64)
    n_i = counts.sum(axis=1)
    counts, n_i = counts[n_i >= 2], n_i[n_i >= 2]
    if len(counts) == 0:
        return None
    p_item = ((counts**2).sum(axis=1) - n_i) / (n_i * (n_i - 1))
    p_cat = counts.sum(axis=0) / n_i.sum()
    p_bar, p_e = p_item.mean(), float((p_cat**2).sum())
    if np.isclose(p_e, 1.0):
        return None
    return float((p_bar - p_e) / (1.0 - p_e))


def fleiss_from_rows(rows: Iterable[LabelRow], labels: Sequence[str]) -> tuple[float | None, int, int]:
    """Fleiss' kappa over items with 2+ labels; also the number of such items and of annotators
    among them (the page shows it from 3 annotators on, when it says more than the pairs)."""
    by_item = {p: by for p, by in labels_by_item(rows).items() if len(by) >= 2}
    index = {label: j for j, label in enumerate(labels)}
    counts = np.zeros((len(by_item), len(labels)))
    raters: set[int] = set()
    for i, by in enumerate(by_item.values()):
        raters.update(by)
        for label in by.values():
            if label in index:
                counts[i, index[label]] += 1
    return fleiss_kappa(counts), len(by_item), len(raters)


@dataclass(frozen=True)
class Disagreement:
    pos: int
    labels: dict[str, str]
    """annotator name -> label"""
    vote: Vote


def disagreements(rows: Iterable[LabelRow], names: dict[int, str]) -> list[Disagreement]:
    """Items whose annotators gave different labels, ties first (they have no final label)."""
    out = []
    for pos, by in labels_by_item(rows).items():
        if len(set(by.values())) > 1:
            named = {names.get(a, str(a)): label for a, label in sorted(by.items())}
            out.append(Disagreement(pos, named, majority(list(by.values()))))
    return sorted(out, key=lambda d: (not d.vote.tie, d.pos))
