"""Figures and tables from a run's stored results."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import pandas as pd

STRATEGY_COLOURS = {
    "random": "#7f7f7f",
    "least-confidence": "#1f77b4",
    "entropy": "#2ca02c",
    "margin": "#d62728",
}


def plot_learning_curves(cycles: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Macro-F1 against labels used, one line per strategy (mean over seeds when there are several)."""
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    for strategy, group in cycles.groupby("strategy", sort=False):
        curve = group.groupby("n_labelled")["macro_f1"].mean()
        ax.plot(
            curve.index,
            curve.to_numpy(),
            marker="o",
            markersize=3,
            label=str(strategy),
            color=STRATEGY_COLOURS.get(str(strategy)),
        )
    ax.set_xlabel("labelled items")
    ax.set_ylabel("test macro-F1")
    ax.set_title(title or "Learning curves")
    ax.grid(alpha=0.3)
    ax.legend(title="strategy")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def summarise(cycles: pd.DataFrame) -> pd.DataFrame:
    """Per strategy: labels used, final and best macro-F1, the stop reason and seconds spent."""
    rows = []
    for strategy, group in cycles.groupby("strategy", sort=False):
        last = group.sort_values("cycle").iloc[-1]
        rows.append(
            {
                "strategy": strategy,
                "cycles": int(last["cycle"]),
                "labels": int(last["n_labelled"]),
                "final_macro_f1": float(last["macro_f1"]),
                "best_macro_f1": float(group["macro_f1"].max()),
                "seconds": float(group["seconds"].sum()),
                "stop_reason": last["stop_reason"],
            }
        )
    return pd.DataFrame(rows)
