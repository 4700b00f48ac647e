"""Stopping criteria: when to stop asking the oracle. Any one that fires ends the loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from alloop.errors import AlloopError


@dataclass(frozen=True)
class LoopState:
    """What a criterion may look at after a cycle's evaluation."""

    cycle: int
    n_labelled: int
    n_unlabelled: int
    macro_f1: float


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
            raise AlloopError(f"--cycles must be at least 0, got {self.n}")

    def reason(self, state: LoopState) -> str | None:
        return f"{self.n} cycles" if state.cycle >= self.n else None


@dataclass(frozen=True)
class LabelBudget:
    """Stop once ``n`` items in total (the initial set included) carry labels."""

    n: int

    def __post_init__(self) -> None:
        if self.n < 1:
            raise AlloopError(f"--budget must be at least 1, got {self.n}")

    def reason(self, state: LoopState) -> str | None:
        return f"budget of {self.n}" if state.n_labelled >= self.n else None


@dataclass(frozen=True)
class TargetF1:
    """Stop when test macro-F1 reaches ``target``."""

    target: float

    def __post_init__(self) -> None:
        if not 0.0 < self.target <= 1.0:
            raise AlloopError(f"--target-f1 must be in (0, 1], got {self.target}")

    def reason(self, state: LoopState) -> str | None:
        if state.macro_f1 >= self.target:
            return f"target F1 {self.target}"
        return None


class PoolExhausted:
    """Always on: nothing left to ask about."""

    def reason(self, state: LoopState) -> str | None:
        return "pool exhausted" if state.n_unlabelled == 0 else None


def first_reason(criteria: list[StoppingCriterion], state: LoopState) -> str | None:
    for criterion in criteria:
        found = criterion.reason(state)
        if found:
            return found
    return None
