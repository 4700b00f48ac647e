"""``RunConfig``: every option of ``alloop run`` and its default, defined once. The CLI reads
its defaults from here, so this module stays light (no torch, scikit-learn or pandas): ``alloop
--help`` imports it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alloop.data.sources import DEFAULT_DATA
from alloop.errors import AlloopError
from alloop.loop.autolabel import (
    DEFAULT_CONFIDENCE,
    DEFAULT_TARGET_PRECISION,
    check_confidence,
    check_precision,
)
from alloop.loop.initial import INITIAL_STRATEGIES
from alloop.loop.oracle import check_noise
from alloop.loop.query import check_query_options
from alloop.loop.stopping import LabelBudget, MaxCycles, StoppingCriterion, TargetF1, label_free
from alloop.models import ModelConfig
from alloop.models.config import has_text_encoder
from alloop.strategies import (
    NEAR_DUPLICATE_THRESHOLD,
    SEED_STRATEGIES,
    Strategy,
    get_strategy,
)

if TYPE_CHECKING:
    from alloop.data.taxonomy import Taxonomy

DEFAULT_QUERY_SIZE = 50
DEFAULT_CYCLES = 20
DEFAULT_SEEDS = 3
"""``alloop run``'s grid by default: 100 -> 1,100 labels over three seeds, enough for the curves to
separate and for the verdict to tell a trend, in a few minutes with the hybrid on a CPU."""


@dataclass(frozen=True)
class RunConfig:
    """Every option of ``alloop run``; saved with the results so a run can be resumed or repeated."""

    data: str = DEFAULT_DATA
    text: tuple[str, ...] = ("title",)
    label: tuple[str, ...] = ("category",)
    """Label column; several name the levels of a category tree, top-down."""
    label_sep: str | None = None
    """Split one path column into levels on this separator."""
    taxonomy: str | None = None
    """A file declaring the category tree, one path per line."""
    oracle_partial: float = 0.0
    """Share of queried items the simulated annotator answers with the parent category only."""
    oracle_noise: float = 0.0
    """Share of items the simulated annotator answers wrong (fixed per item by the seed)."""
    oracle_noise_kind: str = "uniform"
    """``uniform``: any other class; ``confusion``: a class the classifier confuses with the right one."""
    target_precision: float = DEFAULT_TARGET_PRECISION
    """Auto-labelling: the precision the threshold must reach (``loop.autolabel``), every cycle."""
    precision_confidence: float = DEFAULT_CONFIDENCE
    """Auto-labelling: with what confidence the threshold's precision reaches the target."""
    query_level: int | None = None
    """The tree level that ``level-margin`` (and ``balanced-branch-margin``) score; top level when unset."""
    id_column: str | None = None
    test_size: float = 0.2
    balanced_test: bool = False
    strategies: tuple[str, ...] = SEED_STRATEGIES
    initial: float = 100
    initial_strategy: str = "stratified"
    query_size: int = DEFAULT_QUERY_SIZE
    cycles: int | None = DEFAULT_CYCLES
    budget: int | None = None
    target_f1: float | None = None
    seed: int = 0
    seeds: int = DEFAULT_SEEDS
    ceiling: bool = True
    stop: tuple[str, ...] = ()
    stop_set_size: int = 1000
    no_near_duplicates: bool = False
    near_duplicate_threshold: float = NEAR_DUPLICATE_THRESHOLD
    pool_subsample: int | None = None
    near_labelled_subsample: int | None = None
    model: ModelConfig = field(default_factory=ModelConfig)

    @property
    def seed_list(self) -> list[int]:
        return [self.seed + i for i in range(self.seeds)]

    def validate(self) -> RunConfig:
        """Fail before any slow work, with the option's name in the message."""
        chosen = [self.strategy(name) for name in self.strategies]
        check_query_options(
            chosen,
            self.model,
            self.query_size,
            self.pool_subsample,
            self.near_duplicate_threshold,
            self.seed,
            self.near_labelled_subsample,
        )
        if not self.strategies:
            raise AlloopError("no strategy chosen; pass `strategies` NAME")
        if len(set(self.strategies)) != len(self.strategies):
            raise AlloopError("a strategy is given twice in `strategies`")
        if self.initial_strategy not in INITIAL_STRATEGIES:
            raise AlloopError(
                f"unknown `initial_strategy` {self.initial_strategy!r}; "
                f"choose from {', '.join(INITIAL_STRATEGIES)}"
            )
        if self.initial_strategy == "kmeans":
            self.model.require_embeddings("`initial_strategy` kmeans")
        if self.initial_strategy == "label-names" and not has_text_encoder(self.model.classifier):
            raise AlloopError(
                "`initial_strategy` label-names embeds the class names with a text encoder, but "
                f"`classifier` {self.model.classifier} has no text encoder; choose kmeans or another "
                "classifier"
            )
        if self.model.max_steps is not None and self.model.max_steps < 1:
            raise AlloopError(f"`max_steps` must be at least 1, got {self.model.max_steps}")
        if self.seeds < 1:
            raise AlloopError(f"`seeds` must be at least 1, got {self.seeds}")
        if self.cycles is None and self.budget is None and self.target_f1 is None and not self.stop:
            raise AlloopError("no stopping criterion: give `cycles`, `budget`, `target_f1` or `stop`")
        check_noise(self.oracle_noise, self.oracle_noise_kind)
        check_precision(self.target_precision, "`target_precision`")
        check_confidence(self.precision_confidence, "`precision_confidence`")
        if not 0.0 <= self.oracle_partial < 1.0:
            raise AlloopError(f"`oracle_partial` must be at least 0 and below 1, got {self.oracle_partial}")
        if self.query_level is not None and self.query_level < 1:
            raise AlloopError(f"`query_level` must be 1 (the top level) or more, got {self.query_level}")
        if self.stop_set_size < 10:
            raise AlloopError(f"`stop_set_size` must be at least 10, got {self.stop_set_size}")
        self.stopping()
        return self

    def stopping(self) -> list[StoppingCriterion]:
        criteria: list[StoppingCriterion] = []
        if self.cycles is not None:
            criteria.append(MaxCycles(self.cycles))
        if self.budget is not None:
            criteria.append(LabelBudget(self.budget))
        if self.target_f1 is not None:
            criteria.append(TargetF1(self.target_f1))
        return criteria + label_free(self.stop)

    def strategy(self, name: str, tree: Taxonomy | None = None) -> Strategy:
        """The strategy ``name``, behind the near-duplicate guard when asked for; one that knows
        the category tree gets ``tree`` and ``--query-level``."""
        threshold = self.near_duplicate_threshold
        return get_strategy(
            name,
            threshold if self.no_near_duplicates else None,
            threshold=threshold,
            tree=tree,
            query_level=self.query_level,
        )

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        values = dict(values)
        model = dict(values.get("model", {}))
        model.setdefault("graph_weight", 0.0)  # recorded before label spreading: resume as it began
        values["model"] = ModelConfig(**model)
        if isinstance(values.get("label"), str):  # recorded before category trees
            values["label"] = (values["label"],)
        for key in ("text", "strategies", "stop", "label"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)
