"""Auto-labelling at a guaranteed precision: which predictions can be trusted without a person.

The rule, from the labels alone (never a test set):

1. **Out-of-fold probabilities** (``out_of_fold``): the labelled items are split into
   ``CV_FOLDS`` folds; each fold is scored by a classifier (built by the run's factory, through
   the classifier protocol) trained on the other folds. Every labelled item then has a
   prediction from a model that never saw its label.
2. **A threshold on the confidence** (the top class's probability, ``choose_threshold``): the
   lowest threshold whose accepted items (confidence at or above it) have a precision of at
   least ``target`` *with stated confidence*, by a one-sided Clopper-Pearson lower bound on the
   accepted labelled items' precision (an exact binomial bound: it never claims more than the
   counts allow, even for a few dozen items).
3. Thresholds are scanned from the most confident down, as a **fixed-sequence test** (the
   "Learn then Test" construction of Angelopoulos et al. 2021): the scan starts where the
   ``start_count`` most confident labelled items are accepted, moves down ``STEP_FRACTION`` of
   them at a time, and stops at the first threshold whose bound falls below the target. Each
   step is tested at the full error level ``1 - confidence`` and yet the chance that the chosen
   threshold's precision is below the target stays at most ``1 - confidence``: a threshold is
   only reached once every one above it has passed, so only one false pass can matter. Picking
   the best of many thresholds, each at the full level, would not hold it (the unit tests show
   it failing). The start is the fewest accepted items with which the bound can pass while half
   the allowed share of them is wrong (153 for 95% precision at 95% confidence): a start with
   fewer ends the scan at the first unlucky error. It depends on the target and the confidence
   only, never on the outcomes, so the guarantee holds; bench/autolabel_rules.py compares starts.
4. **Applying it** (``decide``): an unlabelled item is auto-accepted when **every one** of the
   five fold models gives the same class a probability at or above the threshold, and that class
   is the label the model trained on every label gives it. The threshold was learnt on single fold
   models' confidences, so it is applied to single fold models, each of which must pass; their mean
   (the rule before) is a different, smoother score, and a model trained on every label is more
   confident than the ones the threshold was learnt on. Measured on amazon-in and PriceRunner
   (docs/trust.md): with the mean, 1 of 47 points fell below the target on the unlabelled pool and
   2 on the test set; with every fold model, none on the pool and 1 on the test set (by 0.2
   points), for about a third less coverage.

Why not conformal risk control: it bounds the *expected* value of a loss averaged over items;
precision is a ratio over the accepted items, which that loss cannot express, and an expected
value is not "at least 95% with 95% confidence". The binomial bound gives that statement.

What the guarantee assumes: the labelled items are a random sample of the items the threshold
is applied to. Active learning picks hard items on purpose, so the labelled set of ``margin``
is harder than the catalogue: the bound then errs on the safe side (measured in docs/trust.md)
but no longer carries its stated confidence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from alloop.errors import AlloopError
from alloop.models.base import Classifier, with_pool

DEFAULT_TARGET_PRECISION = 0.95
"""``--target-precision`` / ``--min-precision``: a common bar for trusting a product's category."""
DEFAULT_CONFIDENCE = 0.95
"""How sure the rule is that the precision reaches the target (one minus the error level)."""
CV_FOLDS = 5
MIN_LABELS = 10
"""Fewer labels than this: no out-of-fold estimate (some fold would train on a handful)."""
STEP_FRACTION = 0.01
"""Each step of the scan accepts this share of the labelled items more."""


def percent(value: float) -> str:
    """A share as people write it: 95%, or 99.9% when the whole percent would round it."""
    whole = round(value * 100)
    return f"{whole}%" if abs(value * 100 - whole) < 1e-9 else f"{value:.1%}"


def check_precision(value: float, option: str = "`target_precision`") -> float:
    """A precision target must lie strictly between 0 and 1 (1 cannot be certified from a sample)."""
    if not isinstance(value, int | float) or math.isnan(value) or not 0.0 < value < 1.0:
        raise AlloopError(f"{option} must be above 0 and below 1 (e.g. 0.95), got {value}")
    return float(value)


def check_confidence(value: float, option: str = "`precision_confidence`") -> float:
    if not isinstance(value, int | float) or math.isnan(value) or not 0.5 <= value < 1.0:
        raise AlloopError(f"{option} must be at least 0.5 and below 1 (e.g. 0.95), got {value}")
    return float(value)


def precision_lower_bound(n_accepted: int, n_errors: int, confidence: float) -> float:
    """One-sided Clopper-Pearson lower bound on a precision observed as ``n_accepted - n_errors``
    right of ``n_accepted``: the true precision is at least this with probability ``confidence``."""
    from scipy.stats import beta

    right = n_accepted - n_errors
    if right <= 0:
        return 0.0
    return float(beta.ppf(1.0 - confidence, right, n_errors + 1))


def fewest_to_pass(target: float, confidence: float) -> int:
    """The fewest accepted items that can show ``target`` at ``confidence`` (all of them right)."""
    return math.ceil(math.log(1.0 - confidence) / math.log(target))


def start_count(target: float, confidence: float) -> int:
    """The fewest accepted items with which the bound reaches ``target`` while half the allowed
    share of them is wrong: where the scan starts (module docstring)."""
    from scipy.stats import beta

    k = fewest_to_pass(target, confidence)
    while True:
        wrong = math.floor(k * (1.0 - target) / 2)
        if beta.ppf(1.0 - confidence, k - wrong, wrong + 1) >= target:
            return k
        k += 1


@dataclass(frozen=True)
class Threshold:
    """The chosen confidence threshold and the evidence for it. ``value`` is None when no
    threshold passes: nothing is auto-accepted."""

    value: float | None
    target: float
    confidence: float
    n_labelled: int
    """labelled items the rule saw (out-of-fold)"""
    n_accepted: int = 0
    """of them, those at or above the threshold"""
    n_errors: int = 0
    lower_bound: float = 0.0
    """the Clopper-Pearson lower bound on the accepted items' precision"""

    @property
    def observed_precision(self) -> float:
        return (self.n_accepted - self.n_errors) / self.n_accepted if self.n_accepted else math.nan

    def accepts(self, confidence: np.ndarray) -> np.ndarray:
        """Which of these confidences are auto-accepted."""
        confidence = np.asarray(confidence, dtype=float)
        if self.value is None:
            return np.zeros(len(confidence), dtype=bool)
        return confidence >= self.value

    def describe(self) -> str:
        """One line a person can check."""
        if self.value is None:
            return (
                f"no confidence threshold reaches {percent(self.target)} precision with "
                f"{percent(self.confidence)} confidence on {self.n_labelled:,} labelled items yet"
            )
        return (
            f"threshold {self.value:.3f}: {self.n_accepted - self.n_errors:,} of {self.n_accepted:,} "
            f"labelled items above it were right out of fold; precision >= {self.lower_bound:.3f} "
            f"with {percent(self.confidence)} confidence"
        )


def choose_threshold(
    confidence: np.ndarray,
    correct: np.ndarray,
    target: float = DEFAULT_TARGET_PRECISION,
    level: float = DEFAULT_CONFIDENCE,
) -> Threshold:
    """The lowest confidence threshold whose accepted items' precision is at least ``target``
    with probability ``level``, by a fixed-sequence scan of Clopper-Pearson bounds (module
    docstring). ``confidence`` and ``correct`` are the out-of-fold top-class probabilities of the
    labelled items and whether the top class was their label."""
    target, level = check_precision(target), check_confidence(level)
    scores = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=bool)
    if scores.shape != right.shape:
        raise AlloopError(f"{len(scores)} confidences but {len(right)} outcomes")
    n = len(scores)
    none = Threshold(None, target, level, n)
    if n == 0:
        return none
    from scipy.stats import beta

    order = np.argsort(-scores, kind="stable")
    ordered = scores[order]
    wrong_so_far = np.cumsum(~right[order])
    start = max(fewest_to_pass(target, level), min(start_count(target, level), n))
    steps = np.arange(start, n + 1, max(1, round(STEP_FRACTION * n)))
    if not len(steps):
        return none
    values = ordered[steps - 1]
    accepted = np.searchsorted(-ordered, -values, side="right")  # ties are accepted together
    errors = wrong_so_far[accepted - 1]
    bounds = np.zeros(len(steps))
    some = accepted > errors
    bounds[some] = beta.ppf(1.0 - level, (accepted - errors)[some], errors[some] + 1)
    failed = np.flatnonzero(bounds < target)
    last = (failed[0] if len(failed) else len(steps)) - 1  # the scan stops at its first failure
    if last < 0:
        return none
    return Threshold(
        float(values[last]), target, level, n, int(accepted[last]), int(errors[last]), float(bounds[last])
    )


def out_of_fold(
    make_classifier: Callable[[], Classifier],
    texts: Sequence[str],
    labels: np.ndarray,
    n_classes: int,
    seed: int = 0,
    folds: int = CV_FOLDS,
    pool_texts: Sequence[str] | None = None,
) -> np.ndarray:
    """(len(texts), n_classes) probabilities, each row from a classifier trained on the other
    folds. ``pool_texts``: the unlabelled pool a classifier may learn label-free features from
    (the hybrid's n-grams and neighbour graph; built once and shared, so this costs nothing)."""
    return calibrate(make_classifier, texts, labels, n_classes, seed, folds, pool_texts).proba


@dataclass(frozen=True)
class AutoLabelling:
    """What the simulation loop needs to measure auto-labelling each cycle: a fresh classifier of
    the run's kind for each fold, the target and the confidence."""

    make_classifier: Callable[[], Classifier]
    target: float = DEFAULT_TARGET_PRECISION
    confidence: float = DEFAULT_CONFIDENCE
    folds: int = CV_FOLDS
    seed: int = 0


@dataclass(frozen=True)
class Calibration:
    """The out-of-fold view of the labelled items that the threshold rule (and the label-error
    finder) work from, and the fold models that produced it (empty when read back from disk)."""

    proba: np.ndarray
    labels: np.ndarray
    models: tuple[Classifier, ...] = ()

    def least_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Each class's least probability across the fold models, for ``texts``: the score the
        threshold is applied to (``decide``). At or above a threshold over 0.5, every fold model
        predicts that class with at least that confidence."""
        if not self.models:
            raise AlloopError("no fold models to score with; calibrate again")
        return np.min([m.predict_proba(list(texts)) for m in self.models], axis=0)

    @property
    def predicted(self) -> np.ndarray:
        return self.proba.argmax(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        return self.proba.max(axis=1)

    @property
    def correct(self) -> np.ndarray:
        return self.predicted == self.labels

    def threshold(
        self, target: float = DEFAULT_TARGET_PRECISION, level: float = DEFAULT_CONFIDENCE
    ) -> Threshold:
        return choose_threshold(self.confidence, self.correct, target, level)


def calibrate(
    make_classifier: Callable[[], Classifier],
    texts: Sequence[str],
    labels: np.ndarray,
    n_classes: int,
    seed: int = 0,
    folds: int = CV_FOLDS,
    pool_texts: Sequence[str] | None = None,
) -> Calibration:
    """The labelled items' out-of-fold probabilities (``out_of_fold``) and the fold models that
    gave them, kept to score the unlabelled items the same way (``Calibration.least_proba``)."""
    from sklearn.model_selection import KFold

    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    proba = np.zeros((n, n_classes))
    models: list[Classifier] = []
    if n < 2:
        return Calibration(proba, labels)
    splits = KFold(n_splits=min(folds, n), shuffle=True, random_state=seed).split(np.arange(n))
    for train, held_out in splits:
        model = make_classifier()
        if pool_texts is not None:
            with_pool(model, pool_texts)
        model.fit([texts[i] for i in train], labels[train])
        proba[held_out] = model.predict_proba([texts[i] for i in held_out])
        models.append(model)
    return Calibration(proba, labels, tuple(models))


@dataclass(frozen=True)
class Coverage:
    """What one threshold gives on a set of items: the share auto-accepted and, where the true
    labels are known (simulation's test set), the precision actually achieved."""

    share: float
    n_accepted: int
    precision: float = math.nan


def decide(threshold: Threshold, ensemble: np.ndarray, predicted: np.ndarray | None = None) -> np.ndarray:
    """Which items are auto-accepted: a class's least probability across the fold models
    (``ensemble``, rows from ``Calibration.least_proba``) clears the threshold, and that class is the
    model's prediction (``predicted``, when the labels shipped come from a model trained on every
    label).

    Why the fold models and not the model trained on every label: the threshold was learnt on
    their scores. A model trained on all the labels is more confident than one trained on four
    fifths of them, so the same threshold accepts more of its predictions, and measured on
    amazon-in their precision fell below the target up to 3x as often (docs/trust.md)."""
    ensemble = np.asarray(ensemble, dtype=float)
    accepted = threshold.accepts(ensemble.max(axis=1)) if len(ensemble) else np.zeros(0, dtype=bool)
    if predicted is not None:
        accepted &= ensemble.argmax(axis=1) == np.asarray(predicted)
    return accepted


def coverage(
    threshold: Threshold,
    ensemble: np.ndarray,
    predicted: np.ndarray | None = None,
    truth: np.ndarray | None = None,
) -> Coverage:
    """The share of items ``decide`` accepts and, with ``truth``, the precision of their labels
    (``predicted``, else the ensemble's top class)."""
    ensemble = np.asarray(ensemble, dtype=float)
    if len(ensemble) == 0:
        return Coverage(math.nan, 0)
    accepted = decide(threshold, ensemble, predicted)
    labels = ensemble.argmax(axis=1) if predicted is None else np.asarray(predicted)
    n = int(accepted.sum())
    precision = math.nan
    if truth is not None and n:
        precision = float((labels[accepted] == np.asarray(truth)[accepted]).mean())
    return Coverage(n / len(ensemble), n, precision)
