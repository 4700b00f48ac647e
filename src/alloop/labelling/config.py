"""A labelling project's settings: what the data is (fixed at creation) and how the loop runs.

Stored in the project's ``label.db`` so that a restart needs only ``--project``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from alloop.checks import check_input_file
from alloop.data.taxonomy import Taxonomy
from alloop.errors import AlloopError, NotFoundError
from alloop.loop.initial import LABEL_FREE_STARTS
from alloop.loop.query import check_query_options
from alloop.models import ModelConfig
from alloop.strategies import NEAR_DUPLICATE_THRESHOLD, Strategy, get_strategy

COLD_STARTS = LABEL_FREE_STARTS
"""The first items before any model; label-names is the default of new projects (older ones
keep the cold start their stored config names)."""
DATA_KEYS = ("data", "text", "labels", "gold", "gold_levels", "label_sep", "id_column")
"""Settings that define the items and the label set: fixed once a project holds data."""
MODEL_KEYS = tuple(f.name for f in fields(ModelConfig))
"""Options that go into the project's ``ModelConfig`` (``--classifier``, ``--precision``, ...)."""
FLAT_STRATEGY = "margin"
"""The strategy of a flat label set when none is chosen: best or level on both data sets measured
(docs/strategies.md)."""
TREE_STRATEGY = "balanced-branch-margin"
"""The strategy of a category tree when none is chosen: the one never far from the best at any level
on amazon-in (111 leaves) and Best Buy (220 leaves), where flat margin fell behind random at the
leaves (docs/taxonomy.md, "Evidence: strategies on a tree")."""


@dataclass(frozen=True)
class LabelConfig:
    """Everything ``alloop label`` needs. Data keys are fixed at creation; loop keys (and the
    ``ModelConfig``) may change between runs (e.g. a faster classifier), since labels do not
    depend on them."""

    data: str
    labels: tuple[str, ...]
    text: tuple[str, ...] = ("title",)
    gold: str | None = None
    gold_levels: tuple[str, ...] = ()
    """a category tree's known paths, one column per level top-down (``--label``, repeated)"""
    label_sep: str | None = None
    """the separator of a path column (``--label-sep``): ``gold`` holds whole paths"""
    id_column: str | None = None
    strategy: str | None = None
    """None: ``FLAT_STRATEGY`` for a flat label set, ``TREE_STRATEGY`` for a category tree"""
    query_size: int = 10
    overlap: float = 0.0
    overlap_raters: int = 2
    cold_start: str = "label-names"
    seed: int = 0
    near_duplicate_threshold: float = NEAR_DUPLICATE_THRESHOLD
    pool_subsample: int | None = None
    near_labelled_subsample: int | None = None
    suggest: bool = True
    """show the model's predicted label with each item (``--suggest on|off``)"""
    show: tuple[str, ...] = ()
    """columns shown on the page under the text, never given to the model (``--show``)"""
    model: ModelConfig = field(default_factory=ModelConfig)
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def classifier(self) -> str:
        return self.model.classifier

    @cached_property
    def taxonomy(self) -> Taxonomy | None:
        """The category tree whose leaves are ``labels``, in their order; None for a flat label set.
        Built once per config: ``/api/stats`` asks for the strategy's name on every call."""
        from alloop.labelling.domain.tree import is_tree, tree_of

        if not is_tree(self.labels):
            return None
        tree = tree_of(self.labels)
        if tuple(tree.names) != tuple(self.labels):
            raise AssertionError("a tree project's labels are not in the tree's leaf order (a bug)")
        return tree

    @property
    def strategy_name(self) -> str:
        """The strategy the loop runs: the chosen one, else the default for this label set."""
        if self.strategy is not None:
            return self.strategy
        return TREE_STRATEGY if self.taxonomy is not None else FLAT_STRATEGY

    def get_strategy(self) -> Strategy:
        """The live loop's strategy (``NAME+dedup`` guarded at ``near_duplicate_threshold``); one
        that knows the category tree gets the project's tree."""
        return get_strategy(self.strategy_name, threshold=self.near_duplicate_threshold, tree=self.taxonomy)

    def validate(self) -> LabelConfig:
        if not self.text:
            raise AlloopError("no text column given; pass `text_columns` COLUMN (repeatable)")
        check_labels(self.labels)
        check_query_options(
            [self.get_strategy()],
            self.model,
            self.query_size,
            self.pool_subsample,
            self.near_duplicate_threshold,
            self.seed,
            self.near_labelled_subsample,
        )
        if self.cold_start not in COLD_STARTS:
            raise AlloopError(f"unknown `cold_start` {self.cold_start!r}; choose {', '.join(COLD_STARTS)}")
        if not 0.0 <= self.overlap <= 1.0:
            raise AlloopError(f"`overlap` is a share between 0 and 1, got {self.overlap}")
        if self.overlap_raters < 2:
            raise AlloopError(f"`overlap_raters` must be at least 2, got {self.overlap_raters}")
        return self

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> LabelConfig:
        """From option names as the CLI gives them (``classifier``, ``precision``, ``model`` the
        encoder) or as stored (``model`` a dict of ``ModelConfig`` fields); unknown keys are
        ignored, so a project written by another version still opens."""
        values = dict(values)
        nested = values.pop("model", None)
        model: dict[str, Any] = dict(nested) if isinstance(nested, dict) else {}
        if nested is not None and not isinstance(nested, dict):
            model["model"] = nested  # the flat option: the encoder's hub id or folder
        model.update({k: values.pop(k) for k in MODEL_KEYS if k in values})
        known = {f.name for f in fields(cls)}
        clean = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in known}
        return cls(**clean, model=ModelConfig(**model))

    def merged(self, given: dict[str, Any]) -> LabelConfig:
        """This stored config with the options given again on the command line. Data keys must
        match what the project holds; changing them would silently mix two data sets."""
        for key in DATA_KEYS:
            value = given.get(key)
            if value is None:
                continue
            stored = getattr(self, key)
            same = _same_path(value, stored) if key == "data" else value == stored
            if not same:
                raise AlloopError(
                    f"this project was created with `{key}` {_show(stored)}, not {_show(value)}; "
                    "drop the option to resume it, or use a new `project`"
                )
        given = {k: v for k, v in given.items() if v is not None and k not in DATA_KEYS}
        loop = {k: v for k, v in given.items() if k not in MODEL_KEYS}
        model = {k: v for k, v in given.items() if k in MODEL_KEYS}
        return replace(self, **loop, model=replace(self.model, **model)).validate()


def check_labels(labels: tuple[str, ...] | list[str]) -> None:
    if len(labels) < 2:
        raise AlloopError(f"the label set needs at least 2 labels, got {len(labels)}")
    if any(not label.strip() for label in labels):
        raise AlloopError("the label set holds an empty label")
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise AlloopError(f"label {label!r} appears twice in the label set")
        seen.add(label)


def parse_labels(
    labels: str | None, labels_file: Path | None, label_sep: str | None = None
) -> tuple[str, ...] | None:
    """``--labels a,b,c`` or ``--labels-file`` (one label per line, so labels may hold commas). A
    file whose lines are paths (levels joined with `` > ``, or ``label_sep``) is a category tree:
    its labels are the leaves' full paths (``alloop.labelling.domain.tree``)."""
    from alloop.labelling.domain.tree import labels_from_paths

    if labels is not None and labels_file is not None:
        raise AlloopError("give either `labels` or `labels_file`, not both")
    if labels is not None:
        parsed = tuple(p.strip() for p in labels.split(",") if p.strip())
    elif labels_file is not None:
        check_input_file(labels_file, "`labels_file`")
        try:
            lines = labels_file.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise NotFoundError(f"labels file not found: {labels_file}") from None
        except UnicodeDecodeError:
            raise AlloopError(f"labels file {labels_file} is not UTF-8 text") from None
        kept = [line for line in lines if line.strip() and not line.strip().startswith("#")]
        sep = label_sep or " > "
        if any(sep.strip() and sep.strip() in line for line in kept):
            parsed = labels_from_paths(kept, sep)
        else:
            parsed = tuple(line.strip() for line in kept)
    else:
        return None
    check_labels(parsed)
    return parsed


def _same_path(a: str, b: str) -> bool:
    return a == b or Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)
