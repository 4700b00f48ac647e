"""The report's auto-labelling part: how much of the catalogue the model could label on its own at
the target precision, as estimated from the labels alone and as measured on the test set."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from alloop.loop.autolabel import percent
from alloop.report.figures import colours, subplots

COLUMNS = ("auto_coverage_estimated", "auto_coverage_test", "auto_precision_test")
GOAL_STEP = 0.05
"""The coverage goal named in the verdict is the best strategy's final coverage rounded down to this."""


def has_auto(cycles: pd.DataFrame) -> bool:
    """Whether the run measured auto-labelling (runs from before it did not)."""
    return all(c in cycles for c in COLUMNS) and bool(cycles["auto_coverage_estimated"].notna().any())


def curve(cycles: pd.DataFrame) -> pd.DataFrame:
    """Per strategy and label count, the mean over seeds of the estimated and measured coverage and
    of the measured precision (over the seeds where something was accepted)."""
    frame = cycles.copy()
    frame["auto_precision_test"] = frame["auto_precision_test"].where(frame["auto_coverage_test"] > 0)
    return (
        frame.groupby(["strategy", "n_labelled"], sort=False)[list(COLUMNS)]
        .mean()
        .reset_index()
        .rename(
            columns={
                "auto_coverage_estimated": "estimated",
                "auto_coverage_test": "test",
                "auto_precision_test": "precision",
            }
        )
    )


def labels_to_reach(cycles: pd.DataFrame, strategy: str, goal: float) -> tuple[float, int, int]:
    """Mean labels at which each seed's estimated coverage first reached ``goal``, over the seeds
    that reached it; with how many did and how many ran."""
    reached: list[float] = []
    runs = cycles[cycles["strategy"] == strategy].groupby("seed")
    for _, run in runs:
        run = run.sort_values("cycle")
        hit = np.flatnonzero(run["auto_coverage_estimated"].fillna(0).to_numpy() >= goal - 1e-12)
        if len(hit):
            reached.append(float(run["n_labelled"].iloc[hit[0]]))
    return (float(np.mean(reached)) if reached else math.nan), len(reached), runs.ngroups


def shortfalls(cycles: pd.DataFrame, target: float) -> tuple[int, int]:
    """Cycles where something was auto-labelled and the test precision fell below ``target``, of
    the cycles where something was auto-labelled."""
    accepted = cycles[cycles["auto_coverage_test"] > 0]
    return int((accepted["auto_precision_test"] < target).sum()), len(accepted)


def verdict_lines(cycles: pd.DataFrame, target: float, confidence: float) -> list[str]:
    """The verdict's auto-labelling sentences: the best strategy's coverage at the end, checked on
    the test set; which strategy reaches a coverage goal with the fewest labels; and any cycle where
    the measured precision fell below the target."""
    if not has_auto(cycles):
        return []
    table = curve(cycles)
    last = table.loc[table.groupby("strategy", sort=False)["n_labelled"].idxmax()]
    best = last.sort_values("estimated", ascending=False).iloc[0]
    at = f"at >= {percent(target)} precision"
    how = f"threshold chosen from the labels alone, out of fold, with {percent(confidence)} confidence"
    if not best["estimated"] > 0:
        lines = [
            f"Auto-labelling {at}: no strategy's labels certify any threshold yet "
            f"(after {int(best['n_labelled']):,} labels; {how})."
        ]
    else:
        measured = (
            f"measured on the test set: {best['test']:.0%} accepted at {best['precision']:.1%} precision"
            if best["test"] > 0
            else "on the test set nothing was accepted"
        )
        lines = [
            f"Auto-labelling: after {int(best['n_labelled']):,} labels, {best['estimated']:.0%} of the "
            f"listings not yet labelled can be auto-labelled {at} with {best['strategy']} ({measured}; "
            f"{how})."
        ]
        goal = math.floor(best["estimated"] / GOAL_STEP) * GOAL_STEP
        if goal > 0:
            parts = []
            for strategy in dict.fromkeys(cycles["strategy"]):
                mean, n, seeds = labels_to_reach(cycles, str(strategy), goal)
                if n == 0:
                    parts.append((math.inf, f"{strategy} not within the run"))
                else:
                    more = "" if n == seeds else f" ({n} of {seeds} seeds)"
                    parts.append((mean, f"{strategy} {mean:,.0f}{more}"))
            parts.sort(key=lambda p: p[0])
            lines.append(
                f"Labels to auto-label {goal:.0%} of the listings {at} (estimated, mean over seeds): "
                + "; ".join(p[1] for p in parts)
                + "."
            )
    low, total = shortfalls(cycles, target)
    if low:
        lines.append(
            f"Warning: in {low} of {total} cycles with auto-labelled test items the measured precision "
            f"fell below {percent(target)} (a {1 - confidence:.0%} risk per cycle is allowed by the bound)."
        )
    return lines


def coverage_figure(cycles: pd.DataFrame, target: float, path: Path, title: str) -> Path:
    """Left: the share auto-labelled, estimated from labels (solid) and measured on the test set
    (dashed). Right: the precision measured on the auto-labelled test items, against the target."""
    table = curve(cycles)
    strategies = list(dict.fromkeys(table["strategy"]))
    palette = colours(strategies)
    fig, (left, right) = subplots(1, 2, figsize=(12, 4.8), dpi=110)
    for strategy in strategies:
        part = table[table["strategy"] == strategy]
        colour = palette[strategy]
        left.plot(part["n_labelled"], 100 * part["estimated"], color=colour, label=f"{strategy}, estimated")
        left.plot(part["n_labelled"], 100 * part["test"], color=colour, linestyle="--", label="  on test")
        right.plot(part["n_labelled"], 100 * part["precision"], color=colour, marker="o", markersize=2.5)
    right.axhline(100 * target, color="black", linestyle="--", linewidth=1, label=f"target {percent(target)}")
    left.set_ylabel("share auto-labelled (%)")
    left.set_title(f"Auto-labelled at >= {percent(target)} precision")
    right.set_ylabel("precision of the auto-labelled test items (%)")
    right.set_title("Precision measured on the test set")
    for ax in (left, right):
        ax.set_xlabel("labelled items")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    return path
