"""Numbers that say whether a strategy beats random: AULC, labels to reach the ceiling, and
paired tests across seeds."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from scipy import stats

BASELINE = "random"
TARGETS = (0.90, 0.95)


def aulc(n_labelled: np.ndarray, macro_f1: np.ndarray) -> float:
    """Normalised area under the learning curve: the trapezoid area of macro-F1 over the
    label-count axis, divided by that axis' range, so it reads as an average F1 (0 to 1)."""
    n = np.asarray(n_labelled, dtype=float)
    f = np.asarray(macro_f1, dtype=float)
    if len(n) == 1 or n[-1] == n[0]:
        return float(f[-1])
    return float(np.trapezoid(f, n) / (n[-1] - n[0]))


def labels_to_reach(n_labelled: np.ndarray, macro_f1: np.ndarray, threshold: float) -> float:
    """The first label count at which macro-F1 reaches ``threshold``; NaN when it never does."""
    hit = np.flatnonzero(np.asarray(macro_f1) >= threshold)
    return float(np.asarray(n_labelled)[hit[0]]) if len(hit) else math.nan


def per_run(cycles: pd.DataFrame, ceilings: pd.DataFrame) -> pd.DataFrame:
    """One row per (strategy, seed): AULC, final F1, and labels to 90%/95% of that seed's ceiling."""
    ceiling = dict(zip(ceilings["seed"], ceilings["macro_f1"], strict=True)) if len(ceilings) else {}
    rows = []
    for (strategy, seed), group in cycles.groupby(["strategy", "seed"], sort=False):
        group = group.sort_values("cycle")
        n, f = group["n_labelled"].to_numpy(), group["macro_f1"].to_numpy()
        row = {
            "strategy": strategy,
            "seed": int(seed),
            "aulc": aulc(n, f),
            "final_f1": float(f[-1]),
            "final_labels": int(n[-1]),
            "ceiling_f1": ceiling.get(seed, math.nan),
        }
        for target in TARGETS:
            level = ceiling.get(seed, math.nan) * target
            row[f"labels_to_{round(target * 100)}"] = (
                labels_to_reach(n, f, level) if level == level else math.nan
            )
        rows.append(row)
    return pd.DataFrame(rows)


def mean_sd_ci(values: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, sample standard deviation and a 95% t-interval of the mean (NaN with one value)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return (math.nan,) * 4
    mean = float(v.mean())
    if len(v) < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.975, len(v) - 1) * sd / math.sqrt(len(v)))
    return mean, sd, mean - half, mean + half


def paired_wilcoxon(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired samples (NaN below 2 pairs; 1 when equal).

    With n seeds the smallest p it can give is 2 / 2**n: 0.0625 for 5 seeds.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2:
        return math.nan
    if np.allclose(x, y):
        return 1.0
    return float(stats.wilcoxon(x, y).pvalue)


def classes_per_batch(queried: pd.DataFrame) -> pd.DataFrame:
    """Mean number of distinct (gold) classes in a queried batch, per (strategy, seed)."""
    distinct = queried.groupby(["strategy", "seed", "cycle"])["label"].nunique()
    return distinct.groupby(["strategy", "seed"]).mean().rename("classes_per_batch").reset_index()


def paired_differences(runs: pd.DataFrame, a: str, b: str, column: str = "aulc") -> np.ndarray:
    """``a`` minus ``b`` on ``column``, seed by seed, over the seeds both ran: the paired design
    (every strategy of a seed starts from the same initial set). The one pairing rule of the
    summary and the verdict."""
    mine = runs[runs["strategy"] == a].set_index("seed")[column]
    theirs = runs[runs["strategy"] == b].set_index("seed")[column]
    common = mine.index.intersection(theirs.index)
    return (mine[common] - theirs[common]).to_numpy(dtype=float)


def paired_p(runs: pd.DataFrame, a: str, b: str, column: str = "aulc") -> float:
    """Wilcoxon signed-rank p of ``a`` against ``b`` on ``column`` over the seeds both ran (NaN
    for a strategy against itself or with fewer than 2 common seeds)."""
    if a == b:
        return math.nan
    diff = paired_differences(runs, a, b, column)
    return paired_wilcoxon(diff, np.zeros_like(diff)) if len(diff) else math.nan


def stopping_points(cycles: pd.DataFrame) -> pd.DataFrame:
    """Where each label-free criterion first fired (or would have), per (strategy, seed):
    labels used and F1 there, against the best F1 of the run."""
    rows = []
    criteria = ["stabilizing", "plateau", "uncertainty"]
    if "auto_coverage_estimated" in cycles and cycles["auto_coverage_estimated"].notna().any():
        criteria.append("coverage-plateau")  # recorded since auto-labelling is measured
    for (strategy, seed), group in cycles.groupby(["strategy", "seed"], sort=False):
        group = group.sort_values("cycle")
        fired = group["would_stop"].apply(lambda v: json.loads(v) if isinstance(v, str) and v else [])
        for criterion in criteria:
            hit = np.flatnonzero([criterion in f for f in fired])
            row = {"strategy": strategy, "seed": int(seed), "criterion": criterion, "fired": bool(len(hit))}
            row["labels"] = float(group["n_labelled"].iloc[hit[0]]) if len(hit) else math.nan
            row["f1"] = float(group["macro_f1"].iloc[hit[0]]) if len(hit) else math.nan
            row["best_f1"] = float(group["macro_f1"].max())
            rows.append(row)
    return pd.DataFrame(rows)


def summary(
    runs: pd.DataFrame, baseline: str = BASELINE, queried: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per strategy across seeds, with paired tests of its AULC against ``baseline`` and margin."""
    diversity = classes_per_batch(queried) if queried is not None and len(queried) else None
    rows = []
    for strategy, group in runs.groupby("strategy", sort=False):
        mean, sd, lo, hi = mean_sd_ci(group["aulc"])
        f_mean, f_sd, _, _ = mean_sd_ci(group["final_f1"])
        row = {
            "strategy": strategy,
            "seeds": len(group),
            "aulc_mean": mean,
            "aulc_sd": sd,
            "aulc_ci_low": lo,
            "aulc_ci_high": hi,
            "final_f1_mean": f_mean,
            "final_f1_sd": f_sd,
            "final_labels": int(group["final_labels"].max()),
            "ceiling_f1": float(group["ceiling_f1"].mean()),
        }
        for target in TARGETS:
            column = f"labels_to_{round(target * 100)}"
            row[f"{column}_mean"] = mean_sd_ci(group[column])[0]
            row[f"{column}_reached"] = int(group[column].notna().sum())
        row["p_vs_random"] = paired_p(runs, str(strategy), baseline)
        row["p_vs_margin"] = paired_p(runs, str(strategy), "margin")
        if diversity is not None:
            mine = diversity[diversity["strategy"] == strategy]["classes_per_batch"]
            row["classes_per_batch"] = float(mine.mean()) if len(mine) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)
