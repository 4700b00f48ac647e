"""Stopping criteria: when to stop asking the oracle. Any one that fires ends the loop.

Some need test labels (``--target-f1``, ``plateau`` on test F1, as in simulation); the others
work without any: ``stabilizing`` watches whether consecutive models still disagree on a fixed
unlabelled stop set, ``uncertainty`` whether the model is still unsure about the pool, and the
two coverage rules how much of the pool can be auto-labelled at the target precision
(``loop.autolabel``, estimated from the labels alone): ``coverage:SHARE`` stops once that share
is reached, ``coverage-plateau`` once it stops growing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

from alloop.errors import AlloopError

STABILIZING_KAPPA = 0.99
STABILIZING_CHECKS = 3
PLATEAU_EPSILON = 0.005
PLATEAU_CYCLES = 3
UNCERTAINTY_THRESHOLD = 0.15
COVERAGE_EPSILON = 0.01
COVERAGE_CYCLES = 3
"""The label-free criteria's thresholds, defined here only: the CLI's help and the report read them."""


@dataclass(frozen=True)
class LoopState:
    """What a criterion may look at after a cycle's evaluation. Histories run from cycle 0 to now."""

    cycle: int
    n_labelled: int
    n_unlabelled: int
    macro_f1: float
    f1_history: tuple[float, ...] = ()
    kappa_history: tuple[float, ...] = ()
    uncertainty: float = math.nan
    coverage_history: tuple[float, ...] = ()
    """estimated share of the unlabelled pool auto-labelled at the target precision, per cycle"""


class StoppingCriterion(Protocol):
    def reason(self, state: LoopState) -> str | None:
        """A short reason to stop, or None to go on."""
        ...


@dataclass(frozen=True)
class MaxCycles:
    """Stop after ``n`` query rounds (cycle 0, the baseline, queries the first batch)."""

    n: int

    def __post_init__(self) -> None:
        if self.n < 0:
            raise AlloopError(f"`cycles` must be at least 0, got {self.n}")

    def reason(self, state: LoopState) -> str | None:
        return f"{self.n} cycles" if state.cycle >= self.n else None


@dataclass(frozen=True)
class LabelBudget:
    """Stop once ``n`` items in total (the initial set included) carry labels."""

    n: int

    def __post_init__(self) -> None:
        if self.n < 1:
            raise AlloopError(f"`budget` must be at least 1, got {self.n}")

    def reason(self, state: LoopState) -> str | None:
        return f"budget of {self.n}" if state.n_labelled >= self.n else None


@dataclass(frozen=True)
class TargetF1:
    """Stop when test macro-F1 reaches ``target``."""

    target: float

    def __post_init__(self) -> None:
        if not 0.0 < self.target <= 1.0:
            raise AlloopError(f"`target_f1` must be in (0, 1], got {self.target}")

    def reason(self, state: LoopState) -> str | None:
        return f"target F1 {self.target}" if state.macro_f1 >= self.target else None


@dataclass(frozen=True)
class Stabilizing:
    """Stabilizing predictions (Bloodgood & Vijay-Shanker 2009): Cohen's kappa between consecutive
    models' predictions on the unlabelled stop set stays >= ``kappa`` over ``window`` checks."""

    kappa: float = STABILIZING_KAPPA
    window: int = STABILIZING_CHECKS
    name: str = field(default="stabilizing", init=False)

    def reason(self, state: LoopState) -> str | None:
        recent = [k for k in state.kappa_history[-self.window :] if not math.isnan(k)]
        if len(recent) == self.window and min(recent) >= self.kappa:
            return f"stabilizing: kappa >= {self.kappa} over {self.window} checks"
        return None


@dataclass(frozen=True)
class Plateau:
    """The macro-F1 change between consecutive cycles stays below ``epsilon`` over ``cycles`` cycles."""

    epsilon: float = PLATEAU_EPSILON
    cycles: int = PLATEAU_CYCLES
    name: str = field(default="plateau", init=False)

    def reason(self, state: LoopState) -> str | None:
        f1 = state.f1_history
        if len(f1) <= self.cycles:
            return None
        changes = [abs(f1[i] - f1[i - 1]) for i in range(len(f1) - self.cycles, len(f1))]
        return (
            f"plateau: F1 change < {self.epsilon} over {self.cycles} cycles"
            if max(changes) < self.epsilon
            else None
        )


@dataclass(frozen=True)
class MeanUncertainty:
    """The mean least-confidence (1 - max p) over the unlabelled stop set falls below ``threshold``."""

    threshold: float = UNCERTAINTY_THRESHOLD
    name: str = field(default="uncertainty", init=False)

    def reason(self, state: LoopState) -> str | None:
        if not math.isnan(state.uncertainty) and state.uncertainty < self.threshold:
            return f"uncertainty: mean {state.uncertainty:.3f} < {self.threshold}"
        return None


@dataclass(frozen=True)
class CoverageReached:
    """``coverage:SHARE``: the estimated auto-labelling coverage at the target precision reaches
    ``share`` (estimated from the labels alone, so it works without test labels)."""

    share: float

    def __post_init__(self) -> None:
        if not 0.0 < self.share <= 1.0:
            raise AlloopError(f"`stop` coverage:SHARE needs a share above 0 and at most 1, got {self.share}")

    @property
    def name(self) -> str:
        return f"coverage:{self.share:g}"

    def reason(self, state: LoopState) -> str | None:
        now = state.coverage_history[-1] if state.coverage_history else math.nan
        if not math.isnan(now) and now >= self.share:
            return f"coverage: {now:.1%} of the pool auto-labelled >= {self.share:.0%}"
        return None


@dataclass(frozen=True)
class CoveragePlateau:
    """The estimated auto-labelling coverage, once above zero, grew by less than ``epsilon`` over
    the last ``cycles`` cycles: more labels no longer buy more trusted predictions."""

    epsilon: float = COVERAGE_EPSILON
    cycles: int = COVERAGE_CYCLES
    name: str = field(default="coverage-plateau", init=False)

    def reason(self, state: LoopState) -> str | None:
        history = state.coverage_history
        if len(history) <= self.cycles:
            return None
        now, before = history[-1], history[-1 - self.cycles]
        if math.isnan(now) or math.isnan(before) or now <= 0.0:
            return None
        if now - before < self.epsilon:
            return f"coverage-plateau: coverage grew by < {self.epsilon:.0%} over {self.cycles} cycles"
        return None


class PoolExhausted:
    """Always on: nothing left to ask about."""

    def reason(self, state: LoopState) -> str | None:
        return "pool exhausted" if state.n_unlabelled == 0 else None


LabelFree = Stabilizing | Plateau | MeanUncertainty | CoveragePlateau
LABEL_FREE: dict[str, type[LabelFree]] = {
    "stabilizing": Stabilizing,
    "plateau": Plateau,
    "uncertainty": MeanUncertainty,
    "coverage-plateau": CoveragePlateau,
}
"""The criteria of ``--stop``; the loop records each one's value every cycle, fired or not."""
LABEL_FREE_HELP = (
    f"stabilizing (kappa >= {STABILIZING_KAPPA} between consecutive models on the stop set, "
    f"{STABILIZING_CHECKS} checks), plateau (F1 change < {PLATEAU_EPSILON} over {PLATEAU_CYCLES} cycles), "
    f"uncertainty (mean 1 - max p on the stop set < {UNCERTAINTY_THRESHOLD}), coverage-plateau (the "
    f"share auto-labelled at the target precision grew < {COVERAGE_EPSILON:.0%} over {COVERAGE_CYCLES} "
    "cycles), "
    "coverage:SHARE (that share reached, e.g. coverage:0.5)"
)
"""One sentence on the three, for ``--help`` and the report."""


def label_free(names: tuple[str, ...] | list[str]) -> list[StoppingCriterion]:
    criteria: list[StoppingCriterion] = []
    for name in dict.fromkeys(names):
        if name.startswith("coverage:"):
            criteria.append(CoverageReached(_share(name)))
        elif name in LABEL_FREE:
            criteria.append(LABEL_FREE[name]())
        else:
            choices = ", ".join([*LABEL_FREE, "coverage:SHARE"])
            raise AlloopError(f"unknown `stop` {name!r}; choose from {choices}")
    return criteria


def _share(name: str) -> float:
    value = name.removeprefix("coverage:")
    try:
        return float(value)
    except ValueError:
        raise AlloopError(f"`stop` {name!r}: give the share as a number, e.g. coverage:0.5") from None


def first_reason(criteria: list[StoppingCriterion], state: LoopState) -> str | None:
    for criterion in criteria:
        found = criterion.reason(state)
        if found:
            return found
    return None
