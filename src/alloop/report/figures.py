"""The report's figures, each a PNG a person can read: labelled axes, a legend, a title."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from alloop.loop.stopping import STABILIZING_KAPPA, UNCERTAINTY_THRESHOLD
from alloop.report.stats import mean_sd_ci

FIXED_COLOURS = {
    "random": "#7f7f7f",
    "least-confidence": "#1f77b4",
    "entropy": "#2ca02c",
    "margin": "#d62728",
}
OTHER_COLOURS = ["#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]


def subplots(*grid: int, figsize: tuple[float, float], dpi: int) -> tuple[Figure, Any]:
    """A figure drawn straight to a file: matplotlib's object API, no pyplot and no global
    backend switch, so importing alloop changes nothing in a notebook's plotting."""
    fig = Figure(figsize=figsize, dpi=dpi)
    return fig, fig.subplots(*grid)


def colours(strategies: Sequence[str]) -> dict[str, str]:
    others = iter(OTHER_COLOURS * 3)
    return {s: FIXED_COLOURS.get(s) or next(others) for s in strategies}


def learning_curves(cycles: pd.DataFrame, ceilings: pd.DataFrame, path: Path, title: str) -> Path:
    """Mean macro-F1 per label count with a 95% band over seeds, and the full-pool ceiling."""
    strategies = list(dict.fromkeys(cycles["strategy"]))
    palette = colours(strategies)
    n_seeds = cycles["seed"].nunique()
    fig, ax = subplots(figsize=(9, 5.5), dpi=120)
    for strategy in strategies:
        group = cycles[cycles["strategy"] == strategy]
        points = [(n, *mean_sd_ci(g["macro_f1"].to_numpy())) for n, g in group.groupby("n_labelled")]
        n, mean, _, lo, hi = (np.array(v, dtype=float) for v in zip(*points, strict=True))
        ax.plot(n, mean, marker="o", markersize=2.5, color=palette[strategy], label=strategy)
        if n_seeds > 1:
            ax.fill_between(n, lo, hi, color=palette[strategy], alpha=0.15, linewidth=0)
    if len(ceilings):
        level = float(ceilings["macro_f1"].mean())
        ax.axhline(level, color="black", linestyle="--", linewidth=1)
        ax.annotate(
            f"full pool ({int(ceilings['n_labelled'].iloc[0]):,} labels): {level:.3f}",
            xy=(0.99, level),
            xycoords=("axes fraction", "data"),
            ha="right",
            va="bottom",
            fontsize=9,
        )
    ax.set_xlabel("labelled items")
    ax.set_ylabel("test macro-F1")
    band = f"mean and 95% interval over {n_seeds} seeds" if n_seeds > 1 else "one seed"
    ax.set_title(f"{title}\n{band}", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(title="strategy", loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    return path


def queried_classes(
    queried: pd.DataFrame, classes: Sequence[str], pool_counts: Sequence[int] | None, path: Path
) -> Path:
    """Share of each class among the items each strategy queried (all seeds), beside the pool's."""
    strategies = list(dict.fromkeys(queried["strategy"]))
    palette = colours(strategies)
    shares = {
        s: queried[queried["strategy"] == s]["label"]
        .value_counts(normalize=True)
        .reindex(classes, fill_value=0)
        for s in strategies
    }
    y = np.arange(len(classes))
    height = 0.8 / (len(strategies) + (1 if pool_counts is not None else 0))
    fig, ax = subplots(figsize=(9, max(4, 0.45 * len(classes) + 1.5)), dpi=120)
    for i, s in enumerate(strategies):
        ax.barh(y + i * height, 100 * shares[s].to_numpy(), height, color=palette[s], label=s)
    if pool_counts is not None:
        pool = 100 * np.asarray(pool_counts, dtype=float) / np.sum(pool_counts)
        ax.barh(y + len(strategies) * height, pool, height, color="white", edgecolor="black", label="pool")
    ax.set_yticks(y + 0.4 - height / 2, classes, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("share of queried items (%)")
    ax.set_ylabel("class")
    ax.set_title("Classes of the items each strategy queried")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    return path


LABEL_CHARS = 48
"""Longest class name on an axis; a longer one (a deep category path) keeps its end, the leaf."""


def short(name: object) -> str:
    text = str(name)
    return text if len(text) <= LABEL_CHARS else "…" + text[-(LABEL_CHARS - 1) :]


def per_class_heatmap(
    final_f1: pd.DataFrame, path: Path, title: str = "Final per-class F1 (mean over seeds)"
) -> Path:
    """Final per-class F1 (mean over seeds): classes down, strategies across."""
    fig, ax = subplots(figsize=(2.2 + 1.3 * final_f1.shape[1], 1.2 + 0.38 * final_f1.shape[0]), dpi=120)
    image = ax.imshow(final_f1.to_numpy(), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(final_f1.shape[1]), final_f1.columns, rotation=30, ha="right", fontsize=9)
    ax.set_yticks(range(final_f1.shape[0]), [short(c) for c in final_f1.index], fontsize=8)
    for (i, j), v in np.ndenumerate(final_f1.to_numpy()):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v < 0.6 else "black")
    ax.set_xlabel("strategy")
    ax.set_ylabel("class")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="F1")
    fig.tight_layout()
    fig.savefig(path)
    return path


def confusion(matrix: np.ndarray, classes: Sequence[str], path: Path, title: str) -> Path:
    """Row-normalised confusion matrix: each row shows where one true class's items went."""
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros_like(matrix, dtype=float), where=rows > 0)
    size = 2.5 + 0.42 * len(classes)
    fig, ax = subplots(figsize=(size + 1.5, size), dpi=110)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    names = [short(c) for c in classes]
    ax.set_xticks(range(len(classes)), names, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(classes)), names, fontsize=7)
    for (i, j), v in np.ndenumerate(share):
        if v >= 0.05:
            ax.text(
                j, i, f"{v:.2f}", ha="center", va="center", fontsize=6, color="white" if v > 0.5 else "black"
            )
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label="share of the true class", fraction=0.046)
    fig.tight_layout()
    fig.savefig(path)
    return path


def stopping_signals(cycles: pd.DataFrame, path: Path) -> Path:
    """The label-free stopping signals against labels used (mean over seeds), with thresholds."""
    strategies = list(dict.fromkeys(cycles["strategy"]))
    palette = colours(strategies)
    fig, (left, right) = subplots(1, 2, figsize=(12, 4.5), dpi=110)
    for strategy in strategies:
        group = cycles[cycles["strategy"] == strategy].groupby("n_labelled")
        left.plot(group["kappa"].mean(), color=palette[strategy], label=strategy, marker="o", markersize=2)
        right.plot(
            group["uncertainty"].mean(), color=palette[strategy], label=strategy, marker="o", markersize=2
        )
    for ax, level, name in (
        (left, STABILIZING_KAPPA, "stabilizing"),
        (right, UNCERTAINTY_THRESHOLD, "uncertainty"),
    ):
        ax.axhline(level, color="black", linestyle="--", linewidth=1, label=f"{name} threshold {level}")
    left.set_title("Agreement with the previous model on the stop set")
    left.set_ylabel("Cohen's kappa")
    right.set_title("Mean uncertainty on the unlabelled stop set")
    right.set_ylabel("mean 1 - max p")
    for ax in (left, right):
        ax.set_xlabel("labelled items")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return path
