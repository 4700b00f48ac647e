"""A category tree: the classes a classifier sees are its leaves; every other level is derived.

A category is identified by its full path, top-down (``("Electronics", "Accessories")``), so one
name under two parents is two categories. Paths may end at different depths (real trees are
unbalanced). Flat data is a one-level tree whose paths are ``(name,)``: its leaves, their order and
their display names are exactly the flat class list.

A node that is both a parent and an item's final label (an "inner category") is refused unless it
is declared: in a ``--taxonomy`` file, by a line that ends with the separator (``Electronics >``).
Undeclared, such a row is ambiguous (a partial label, or a category of its own?), so the rows are
named and the user decides. A declared inner category is a class like a leaf; summing
probabilities upward includes its own mass.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path as FilePath

import numpy as np

from alloop.errors import AlloopError, NotFoundError

NodePath = tuple[str, ...]
DISPLAY_SEP = " > "


def display(path: Sequence[str]) -> str:
    """The path as people read it: names joined with `` > ``."""
    return DISPLAY_SEP.join(path)


def _rows(rows: Sequence[object], limit: int = 5) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" (and {len(rows) - limit} more)" if len(rows) > limit else "")


def split_path(value: str, sep: str) -> NodePath:
    """Split one path cell on ``sep``; surrounding blanks are dropped, as are empty trailing parts."""
    parts = [p.strip() for p in str(value).split(sep.strip() or sep)]
    while parts and not parts[-1]:
        parts.pop()
    return tuple(parts)


def paths_from_levels(
    levels: Sequence[Sequence[object]], row_names: Sequence[object] | None = None, names: Sequence[str] = ()
) -> list[NodePath]:
    """Per-row paths from one sequence of values per level (top-down); a missing or empty value ends
    the path. A filled level below an empty one cannot be a tree: refused, naming the rows."""
    n = len(levels[0]) if levels else 0
    row_names = list(row_names) if row_names is not None else list(range(n))
    paths: list[NodePath] = []
    gaps: list[object] = []
    for i in range(n):
        cells = [_cell(level[i]) for level in levels]
        depth = len(cells)
        while depth and not cells[depth - 1]:
            depth -= 1
        path = tuple(cells[:depth])
        if any(not c for c in path):
            gaps.append(row_names[i])
        paths.append(path)
    if gaps:
        where = f" (levels {', '.join(map(repr, names))})" if names else ""
        raise AlloopError(
            f"rows {_rows(gaps)} have an empty level above a filled one{where}; a path must be filled "
            "from the top level down"
        )
    return paths


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    return str(value).strip()


class Taxonomy:
    """A tree of categories built from paths. Leaves (the classes) are in sorted path order."""

    def __init__(self, paths: Iterable[Sequence[str]], inner_classes: Iterable[Sequence[str]] = ()):
        nodes: set[NodePath] = set()
        for raw in paths:
            path = tuple(raw)
            if not path or any(not p for p in path):
                raise AlloopError(f"category path {display(path)!r} has an empty name")
            for k in range(1, len(path) + 1):
                nodes.add(path[:k])
        if not nodes:
            raise AlloopError("the category tree is empty")
        children: dict[NodePath, list[NodePath]] = {}
        for node in nodes:
            children.setdefault(node[:-1], []).append(node)
        self._children = {k: tuple(sorted(v)) for k, v in children.items()}
        self._nodes = frozenset(nodes)
        inner = {tuple(p) for p in inner_classes}
        unknown = sorted(inner - self._nodes)
        if unknown:
            raise AlloopError(f"declared category {display(unknown[0])!r} is not in the tree")
        terminal = {n for n in nodes if n not in self._children} | inner
        self.leaves: tuple[NodePath, ...] = tuple(sorted(terminal))
        self._leaf_index = {p: i for i, p in enumerate(self.leaves)}
        self.depth: int = max(len(n) for n in nodes)
        self._inner = frozenset(inner)

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def flat(cls, names: Iterable[str]) -> Taxonomy:
        """A one-level tree: the flat class list."""
        return cls([(str(n),) for n in names])

    @classmethod
    def from_file(cls, file: str | FilePath, sep: str = DISPLAY_SEP) -> Taxonomy:
        """One path per line, names split on ``sep``; blank lines and ``#`` comments are skipped. A
        line ending with the separator declares a category that has children and also takes items."""
        file = FilePath(file)
        if not file.is_file():
            raise NotFoundError(f"taxonomy file {str(file)!r} not found")
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AlloopError(f"cannot read taxonomy file {str(file)!r}: {exc}") from exc
        paths: list[NodePath] = []
        inner: list[NodePath] = []
        marker = sep.strip() or sep
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            path = split_path(line, sep)
            if line.endswith(marker):
                inner.append(path)
            if not path:
                continue
            paths.append(path)
        if not paths:
            raise AlloopError(f"taxonomy file {str(file)!r} has no paths")
        return cls(paths, inner)

    # --- queries ------------------------------------------------------------------------------
    @property
    def is_flat(self) -> bool:
        return self.depth == 1

    @property
    def names(self) -> list[str]:
        """The leaves' display names, in class order."""
        return [display(p) for p in self.leaves]

    def __len__(self) -> int:
        return len(self.leaves)

    def __contains__(self, node: object) -> bool:
        return isinstance(node, tuple) and node in self._nodes

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Taxonomy) and self._nodes == other._nodes and self._inner == other._inner

    def __hash__(self) -> int:
        return hash((self._nodes, self._inner))

    def __repr__(self) -> str:
        return f"Taxonomy({len(self.leaves)} leaves, depth {self.depth})"

    @property
    def inner_classes(self) -> tuple[NodePath, ...]:
        """Categories declared to take items although they have sub-categories."""
        return tuple(sorted(self._inner))

    @property
    def parents(self) -> tuple[NodePath, ...]:
        """The categories that have sub-categories, sorted: what a partial label can name."""
        return tuple(sorted(k for k in self._children if k))

    def partial_code(self, node: Sequence[str]) -> int:
        """A partial label (a parent category) as an integer beside the leaf codes: -2 - its index
        in ``parents`` (-1 stays "no label")."""
        node = tuple(node)
        try:
            return -2 - self.parents.index(node)
        except ValueError:
            raise NotFoundError(f"{display(node)!r} is not a category with sub-categories") from None

    def node_of(self, code: int) -> NodePath:
        """The category a leaf code (>= 0) or a partial code (<= -2) stands for."""
        if code >= 0:
            return self.leaves[code]
        return self.parents[-2 - code]

    def leaf_index(self, path: Sequence[str]) -> int:
        try:
            return self._leaf_index[tuple(path)]
        except KeyError:
            raise NotFoundError(f"{display(path)!r} is not a leaf of the category tree") from None

    def is_leaf(self, node: Sequence[str]) -> bool:
        return tuple(node) in self._leaf_index

    def nodes(self, level: int) -> tuple[NodePath, ...]:
        """Categories at ``level`` (1 = top), sorted; leaves that end above it are not included."""
        self._check_level(level)
        return tuple(sorted(n for n in self._nodes if len(n) == level))

    def parent(self, node: Sequence[str]) -> NodePath | None:
        node = self._check_node(node)
        return node[:-1] if len(node) > 1 else None

    def children(self, node: Sequence[str] = ()) -> tuple[NodePath, ...]:
        """Children of ``node``; of the root (``()``) they are the top level."""
        node = tuple(node)
        if node:
            self._check_node(node)
        return self._children.get(node, ())

    def ancestors(self, node: Sequence[str]) -> tuple[NodePath, ...]:
        """The node's ancestors, top-down, without the node itself."""
        node = self._check_node(node)
        return tuple(node[:k] for k in range(1, len(node)))

    def leaves_under(self, node: Sequence[str]) -> tuple[int, ...]:
        """Indices of the leaves at or below ``node``."""
        node = self._check_node(node) if node else ()
        k = len(node)
        return tuple(i for i, leaf in enumerate(self.leaves) if leaf[:k] == node)

    def level_label(self, leaf: Sequence[str], level: int) -> NodePath:
        """The leaf's ancestor at ``level``; a leaf that ends above that level maps to itself."""
        self._check_level(level)
        leaf = self._check_node(leaf)
        return leaf[:level]

    def level_nodes(self, level: int) -> tuple[NodePath, ...]:
        """The categories an evaluation at ``level`` distinguishes: the nodes at that level plus the
        leaves that end above it (which map to themselves), sorted."""
        self._check_level(level)
        return tuple(sorted({leaf[:level] for leaf in self.leaves}))

    def level_codes(self, level: int) -> np.ndarray:
        """For each leaf, the index of its ``level_label`` in ``level_nodes(level)``."""
        nodes = self.level_nodes(level)
        code = {n: i for i, n in enumerate(nodes)}
        return np.array([code[leaf[:level]] for leaf in self.leaves], dtype=np.int64)

    def level_matrix(self, level: int) -> np.ndarray:
        """0/1 matrix (leaves by level_nodes): leaf probabilities @ it = probabilities at ``level``."""
        codes = self.level_codes(level)
        out = np.zeros((len(self.leaves), int(codes.max()) + 1), dtype=np.float64)
        out[np.arange(len(codes)), codes] = 1.0
        return out

    # --- validation ---------------------------------------------------------------------------
    def check_paths(self, paths: Sequence[Sequence[str]], row_names: Sequence[object] | None = None) -> None:
        """Refuse data paths this tree cannot hold: unknown or contradicting (a name under another
        parent), deeper than a leaf, or ending at a parent that is not declared to take items."""
        row_names = list(row_names) if row_names is not None else list(range(len(paths)))
        deeper: list[object] = []
        unknown: list[object] = []
        inner: list[object] = []
        first: dict[str, NodePath] = {}
        for row, raw in zip(row_names, paths, strict=True):
            path = tuple(raw)
            if path in self._leaf_index:
                continue
            if path in self._nodes:
                inner.append(row)
                first.setdefault("inner", path)
            elif any(self._is_closed_leaf(path[:k]) for k in range(1, len(path))):
                deeper.append(row)
                first.setdefault("deeper", path)
            else:
                unknown.append(row)
                first.setdefault("unknown", path)
        if deeper:
            raise AlloopError(
                f"rows {_rows(deeper)} go deeper than the category tree (e.g. {display(first['deeper'])!r} "
                "continues below a leaf); add the path to the taxonomy or shorten the labels"
            )
        if unknown:
            raise AlloopError(
                f"rows {_rows(unknown)} have a category path that is not in the category tree (e.g. "
                f"{display(first['unknown'])!r}); fix the labels or add the path to the taxonomy"
            )
        if inner:
            path = first["inner"]
            raise AlloopError(
                f"rows {_rows(inner)} stop at {display(path)!r}, which has sub-categories; give them a "
                f"full path, or declare it as a category of its own with a taxonomy line "
                f"{display(path) + DISPLAY_SEP.rstrip()!r}"
            )

    def _is_closed_leaf(self, node: NodePath) -> bool:
        return node in self._leaf_index and node not in self._inner

    def _check_node(self, node: Sequence[str]) -> NodePath:
        node = tuple(node)
        if node not in self._nodes:
            raise NotFoundError(f"{display(node)!r} is not in the category tree")
        return node

    def _check_level(self, level: int) -> None:
        if not 1 <= level <= self.depth:
            raise AlloopError(f"level {level} is outside the category tree's levels 1 to {self.depth}")


def taxonomy_from_data(
    paths: Sequence[NodePath], row_names: Sequence[object] | None = None, declared: Taxonomy | None = None
) -> Taxonomy:
    """The tree for a data set: the declared one (every path checked against it), or the one the
    paths themselves form (refused where a row stops at a node other rows continue below)."""
    if declared is not None:
        declared.check_paths(paths, row_names)
        return declared
    tree = Taxonomy(paths)
    tree.check_paths(paths, row_names)
    return tree
