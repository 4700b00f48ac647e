"""The answer a user reads first: which strategy, by how much, how sure, how many labels, how long.

Everything here is derived from the per-run table (``stats.per_run``) and the cycles; the same
sentences go to the top of report.html and to the terminal summary.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from alloop.report.stats import BASELINE, TARGETS, paired_differences, paired_wilcoxon

ALPHA = 0.05
EXTRAPOLATE_AT_MOST = 3
"""An extrapolated label count is shown only up to this multiple of the labels a run used."""
POWER = 0.80
WILCOXON_EFFICIENCY = 3 / math.pi
"""Asymptotic efficiency of the signed-rank test against the paired t-test under normality."""


def min_seeds_for(alpha: float = ALPHA) -> int:
    """Fewest seeds with which a two-sided paired signed-rank test can reach ``alpha`` at all."""
    n = 1
    while 2 / 2**n >= alpha:
        n += 1
    return n


def seeds_needed(differences: np.ndarray, alpha: float = ALPHA, power: float = POWER) -> int | None:
    """Seeds a paired test would need to detect the observed mean difference with ``power``.

    A normal approximation on the paired differences (effect size mean/sd), corrected for the
    signed-rank test's efficiency; never fewer than the test's own minimum. None when the
    observed difference is zero (no number of seeds finds an effect that is not there).
    """
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    if len(d) == 0 or np.isclose(d.mean(), 0.0, atol=1e-12):
        return None
    floor = min_seeds_for(alpha)
    sd = d.std(ddof=1) if len(d) > 1 else 0.0
    if sd == 0.0:
        return floor
    effect = abs(d.mean()) / sd
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return max(floor, math.ceil((z / effect) ** 2 / WILCOXON_EFFICIENCY))


def _power_law(n: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return a - b * np.power(n, -c)


def extrapolate_labels(n_labelled: np.ndarray, macro_f1: np.ndarray, target: float) -> float:
    """Labels at which an inverse power law ``a - b n^-c`` fitted to the curve reaches ``target``.

    Learning curves of linear and fine-tuned text classifiers follow this shape closely; the
    answer is an estimate, and NaN when the fit fails or levels off below ``target``.
    """
    n, f = np.asarray(n_labelled, dtype=float), np.asarray(macro_f1, dtype=float)
    if len(n) < 4 or n.min() <= 0:
        return math.nan
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (a, b, c), _ = optimize.curve_fit(
                _power_law,
                n,
                f,
                p0=(min(1.0, f.max() + 0.05), 1.0, 0.5),
                bounds=([0.0, 0.0, 0.01], [1.0, np.inf, 3.0]),
                maxfev=20_000,
            )
    except (RuntimeError, ValueError):
        return math.nan
    if a <= target:
        return math.nan
    return float((b / (a - target)) ** (1.0 / c))


@dataclass(frozen=True)
class Verdict:
    """Plain-language findings, most important first."""

    headline: str
    evidence: str
    labels: list[str]
    timing: str

    def lines(self) -> list[str]:
        return [self.headline, self.evidence, *self.labels, self.timing]


def _versus(runs: pd.DataFrame, best: str, other: str) -> str:
    """One clause on the runner-up: the gap, the seeds won, and whether that is conclusive."""
    diff = paired_differences(runs, best, other)
    n, wins = len(diff), int((diff > 0).sum())
    p = paired_wilcoxon(diff, np.zeros_like(diff)) if n > 1 else math.nan
    status = "conclusive" if p < ALPHA else "not conclusive"
    needed = seeds_needed(diff)
    more = f", about {needed} seeds would settle it" if status != "conclusive" and needed else ""
    return (
        f"Against the runner-up, {other}: AULC {float(np.mean(diff)):+.3f}, ahead in {wins} of {n} seeds "
        f"({status}{more})."
    )


def _evidence(runs: pd.DataFrame, best: str, other: str) -> str:
    diff = paired_differences(runs, best, other)
    n = len(diff)
    wins = int((diff > 0).sum())
    if n < 2:
        return f"With one seed there is no evidence either way: run with --seeds {min_seeds_for()} or more."
    p = paired_wilcoxon(diff, np.zeros_like(diff))
    needed = seeds_needed(diff)
    if p < ALPHA:
        return (
            f"Conclusive: {best} beat {other} in {wins} of {n} seeds "
            f"(paired Wilcoxon signed-rank test on AULC, p = {p:.3f} < {ALPHA})."
        )
    floor = min_seeds_for()
    reason = (
        f"with {n} seeds no paired test can reach p < {ALPHA} (the smallest possible p is {2 / 2**n:.3f})"
        if n < floor
        else f"p = {p:.3f}"
    )
    more = (
        f"about {needed} seeds would be needed to confirm a difference of this size"
        if needed is not None
        else "the two are tied"
    )
    return f"Not conclusive: {best} beat {other} in {wins} of {n} seeds, but {reason}; {more}."


def _fmt_labels(value: float) -> str:
    return f"{value:,.0f}"


def _labels_sentence(
    cycles: pd.DataFrame, runs: pd.DataFrame, strategy: str, target: float, pool_size: int | None
) -> str:
    """Labels one strategy needed (mean over seeds) to reach ``target`` x the full-pool F1."""
    column = f"labels_to_{round(target * 100)}"
    mine = runs[runs["strategy"] == strategy]
    reached = mine[column].notna()
    if reached.all():
        return f"{strategy} {_fmt_labels(float(mine[column].mean()))}"
    curve = cycles[cycles["strategy"] == strategy].groupby("n_labelled")["macro_f1"].mean()
    level = float(mine["ceiling_f1"].mean()) * target
    estimate = extrapolate_labels(curve.index.to_numpy(), curve.to_numpy(), level)
    done = f"{int(reached.sum())} of {len(mine)} seeds reached it within {int(mine['final_labels'].max()):,}"
    if math.isnan(estimate):
        return f"{strategy} not reached ({done}; the curve levels off below it)"
    if pool_size is not None and estimate > pool_size:
        return f"{strategy} not reached ({done}; extrapolated, beyond the pool's {pool_size:,} items)"
    if estimate > EXTRAPOLATE_AT_MOST * curve.index.max():
        return (
            f"{strategy} not reached ({done}; the curve points past {EXTRAPOLATE_AT_MOST}x the labels "
            "used, too far to estimate)"
        )
    return f"{strategy} ~{_fmt_labels(round(estimate, -1))} (estimate, extrapolated from the curve; {done})"


def verdict(cycles: pd.DataFrame, runs: pd.DataFrame, pool_size: int | None = None) -> Verdict:
    """What the run says, in sentences a person can act on."""
    by_aulc = runs.groupby("strategy", sort=False)["aulc"].mean().sort_values(ascending=False)
    finals = runs.groupby("strategy", sort=False)["final_f1"].mean()
    best = str(by_aulc.index[0])
    labels_at_end = int(runs["final_labels"].max())
    if BASELINE in by_aulc.index and best != BASELINE:
        gain = by_aulc[best] - by_aulc[BASELINE]
        headline = (
            f"Best strategy: {best}. Its mean AULC (average macro-F1 over the label range) is "
            f"{by_aulc[best]:.3f} against {by_aulc[BASELINE]:.3f} for random (+{gain:.3f}); "
            f"macro-F1 at {labels_at_end:,} labels {finals[best]:.3f} against {finals[BASELINE]:.3f}."
        )
        evidence = _evidence(runs, best, BASELINE)
    elif best == BASELINE:
        runner = str(by_aulc.index[1]) if len(by_aulc) > 1 else None
        headline = "No strategy beat random on average: random has the highest mean AULC " + (
            f"({by_aulc[best]:.3f}; next {runner}, {by_aulc[runner]:.3f})."
            if runner
            else f"({by_aulc[best]:.3f})."
        )
        evidence = _evidence(runs, best, runner) if runner else "Only random was run."
    else:
        runner = str(by_aulc.index[1]) if len(by_aulc) > 1 else None
        headline = f"Best strategy: {best} (mean AULC {by_aulc[best]:.3f}); no random baseline was run."
        evidence = (
            _evidence(runs, best, runner)
            if runner
            else "Add --strategy random to compare against a baseline."
        )
    rivals = [str(s) for s in by_aulc.index if s not in (best, BASELINE)]
    if best != BASELINE and BASELINE in by_aulc.index and rivals:
        evidence += " " + _versus(runs, best, rivals[0])

    labels: list[str] = []
    if runs["ceiling_f1"].notna().any():
        ceiling = float(runs["ceiling_f1"].mean())
        order = [best, *([BASELINE] if BASELINE in by_aulc.index and best != BASELINE else [])]
        for target in TARGETS:
            parts = [_labels_sentence(cycles, runs, s, target, pool_size) for s in order]
            labels.append(
                f"Labels to reach {target:.0%} of the full-pool macro-F1 ({ceiling * target:.3f} of "
                f"{ceiling:.3f}): " + "; ".join(parts) + "."
            )
    else:
        labels.append(
            "The full-pool ceiling was not computed (--no-ceiling), so labels-to-target is not known."
        )

    per_run = cycles.groupby(["strategy", "seed"], sort=False)["seconds"].sum()
    per_strategy = per_run.groupby(level=0, sort=False).mean()
    timing = (
        "Time per run (one seed, all cycles): "
        + ", ".join(f"{s} {t:,.1f} s" for s, t in per_strategy.items())
        + "."
    )
    return Verdict(headline, evidence, labels, timing)
