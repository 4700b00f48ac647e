"""The label set of a labelling project as a category tree, and partial labels.

A tree project's label set is its leaves, each written as its full path joined with `` > ``
(``Electronics > Audio > Headphones``): those strings are what label.db, the API and every export
hold, so everything keyed by a label string keeps working. A project is a tree exactly when one of
its labels holds `` > ``; a flat label set stays flat.

A **partial label** is an inner node of the tree (``Electronics > Audio``): the annotator knew the
branch but not the leaf. It is stored like any answer (status ``label``, the node's path), counts
at its level, is trained on (``alloop.loop.partial``), and the item goes back into the model's
ranking so someone can give its leaf later.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alloop.data.taxonomy import DISPLAY_SEP, NodePath, Taxonomy, display, split_path
from alloop.errors import AlloopError


def is_tree(labels: Sequence[str]) -> bool:
    return any(DISPLAY_SEP in label for label in labels)


def tree_of(labels: Sequence[str]) -> Taxonomy:
    """The tree whose leaves are ``labels`` (display paths). A label that is also the parent of
    another (``A`` and ``A > B``) is a category that takes items itself."""
    paths = [split_path(label, DISPLAY_SEP) for label in labels]
    nodes = {p[:k] for p in paths for k in range(1, len(p))}
    return Taxonomy(paths, [p for p in paths if p in nodes])


def labels_from_paths(lines: Iterable[str], sep: str) -> tuple[str, ...]:
    """Label-file lines (one path each, names split on ``sep``) as display paths, in tree order.
    A line ending with the separator declares a category that has children and takes items."""
    paths: list[NodePath] = []
    inner: list[NodePath] = []
    marker = sep.strip() or sep
    for line in lines:
        path = split_path(line, sep)
        if not path:
            continue
        if any(not part for part in path):
            raise AlloopError(f"label path {line.strip()!r} has an empty level")
        if any(DISPLAY_SEP in part for part in path):
            raise AlloopError(f"a category name in {line.strip()!r} holds {DISPLAY_SEP!r}")
        paths.append(path)
        if line.strip().endswith(marker):
            inner.append(path)
    tree = Taxonomy(paths, inner)
    return tuple(tree.names)


@dataclass(frozen=True)
class LabelTree:
    """A project's tree: which label strings are classes (leaves) and which are partial (inner
    nodes that are not classes themselves)."""

    taxonomy: Taxonomy
    classes: frozenset[str]
    partial_nodes: frozenset[str]

    @classmethod
    def of(cls, labels: Sequence[str]) -> LabelTree | None:
        """None for a flat label set."""
        if not is_tree(labels):
            return None
        taxonomy = tree_of(labels)
        inner = {
            display(node)
            for level in range(1, taxonomy.depth + 1)
            for node in taxonomy.nodes(level)
            if not taxonomy.is_leaf(node)
        }
        return cls(taxonomy, frozenset(labels), frozenset(inner))

    def is_partial(self, label: str | None) -> bool:
        return label is not None and label in self.partial_nodes

    def accepts(self, label: str) -> bool:
        return label in self.classes or label in self.partial_nodes

    def leaves_under(self, label: str) -> tuple[int, ...]:
        """Class codes (indices into the label set) at or below a node."""
        return self.taxonomy.leaves_under(split_path(label, DISPLAY_SEP))

    def summary(self, per_class: Mapping[str, int], partial: Mapping[str, int]) -> list[dict[str, Any]]:
        """Per top-level branch: full labels below it, partial labels at or below it, its leaves
        and how many of them have no label yet. What ``label-stats`` prints instead of 1,000 rows."""
        rows: dict[str, dict[str, Any]] = {}
        for label in self.taxonomy.names:
            top = label.split(DISPLAY_SEP, 1)[0]
            row = rows.setdefault(top, {"branch": top, "labels": 0, "partial": 0, "leaves": 0, "missing": 0})
            n = per_class.get(label, 0)
            row["labels"] += n
            row["leaves"] += 1
            row["missing"] += n == 0
        for node, n in partial.items():
            top = node.split(DISPLAY_SEP, 1)[0]
            if top in rows:
                rows[top]["partial"] += n
        return list(rows.values())


def partial_counts(per_class: Counter[str], tree: LabelTree) -> dict[str, int]:
    """Final partial labels by node (only nodes with some), sorted."""
    return {node: n for node, n in sorted(per_class.items()) if n and tree.is_partial(node)}
