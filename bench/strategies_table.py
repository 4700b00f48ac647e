"""Markdown tables for docs/strategies.md from the evidence runs' stored results.

python bench/strategies_table.py runs/evidence-bert-frozen runs/evidence-tfidf
python bench/strategies_table.py --classifiers runs/evidence-core-hybrid runs/evidence-core-bert-frozen
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def fmt(v: float, digits: int = 3) -> str:
    return "-" if pd.isna(v) else f"{v:.{digits}f}"


def strategy_table(run: Path) -> str:
    s = pd.read_csv(run / "summary.csv")
    lines = [
        "| strategy | AULC ± sd | final macro-F1 ± sd | labels to 95% of ceiling | p vs random | p vs margin "
        "| classes per batch |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in s.itertuples():
        reached = r.labels_to_95_reached
        labels = "not reached" if reached == 0 else f"{r.labels_to_95_mean:,.0f} ({reached}/{r.seeds})"
        lines.append(
            f"| {r.strategy} | {fmt(r.aulc_mean)} ± {fmt(r.aulc_sd)} | {fmt(r.final_f1_mean)} ± "
            f"{fmt(r.final_f1_sd)} | {labels} | {fmt(r.p_vs_random, 4)} | {fmt(r.p_vs_margin, 4)} "
            f"| {fmt(r.classes_per_batch, 1)} |"
        )
    ceiling = s["ceiling_f1"].mean()
    return "\n".join(lines) + f"\n\nFull-pool ceiling (macro-F1): {fmt(ceiling)}.\n"


def stopping_table(run: Path) -> str:
    """As the report's: the best F1 is taken over the seeds where the criterion fired, so the F1 at
    stop never reads above it; plateau is marked as reading test labels."""
    p = pd.read_csv(run / "stopping.csv")
    lines = [
        "| criterion | reads test labels | strategy | fired in | labels at stop | F1 at stop "
        "| best F1 of those runs |",
        "|---|---|---|---|---|---|---|",
    ]
    for (criterion, strategy), g in p.groupby(["criterion", "strategy"], sort=False):
        fired = g[g["fired"]]
        reads = "yes" if criterion == "plateau" else "no"
        lines.append(
            f"| {criterion} | {reads} | {strategy} | {len(fired)}/{len(g)} | "
            f"{fired['labels'].mean():,.0f} | {fmt(fired['f1'].mean())} | {fmt(fired['best_f1'].mean())} |"
            if len(fired)
            else f"| {criterion} | {reads} | {strategy} | 0/{len(g)} | never fired | - "
            f"| {fmt(g['best_f1'].mean())} |"
        )
    return "\n".join(lines) + "\n"


def classifier_table(runs: list[Path], target: float = 0.80) -> str:
    """One row per run folder (a classifier on a data set): each strategy's AULC and final F1 over
    seeds, where its mean curve first reaches ``target`` macro-F1, and the median cycle time."""
    lines = [
        f"| run | strategy | AULC ± sd | macro-F1 at the end ± sd | labels to mean F1 ≥ {target:.2f} "
        "| p vs random | median s per cycle | full-pool F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        s = pd.read_csv(run / "summary.csv").set_index("strategy")
        cycles = pd.read_csv(run / "cycles.csv")
        for strategy, r in s.iterrows():
            mine = cycles[cycles["strategy"] == strategy]
            curve = mine.groupby("n_labelled")["macro_f1"].mean()
            hit = curve[curve >= target]
            reach = f"{int(hit.index[0]):,}" if len(hit) else f"not within {int(curve.index.max()):,}"
            seconds = mine[mine["cycle"] > 0]["seconds"].median()
            lines.append(
                f"| {run.name.removeprefix('evidence-')} | {strategy} "
                f"| {fmt(r.aulc_mean)} ± {fmt(r.aulc_sd)} "
                f"| {fmt(r.final_f1_mean)} ± {fmt(r.final_f1_sd)} at {int(r.final_labels):,} | {reach} "
                f"| {fmt(r.p_vs_random, 4)} | {fmt(seconds, 2)} | {fmt(r.ceiling_f1)} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    if sys.argv[1:2] == ["--classifiers"]:
        print(classifier_table([Path(a) for a in sys.argv[2:]]))
        return
    for arg in sys.argv[1:]:
        run = Path(arg)
        print(f"## {run.name}\n\n{strategy_table(run)}\n{stopping_table(run)}")


if __name__ == "__main__":
    main()
