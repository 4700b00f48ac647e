"""Markdown tables for docs/strategies.md from the evidence runs' stored results.

python bench/strategies_table.py runs/evidence-bert-frozen runs/evidence-tfidf
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
    p = pd.read_csv(run / "stopping.csv")
    lines = [
        "| criterion | strategy | fired in | labels at stop | F1 at stop | best F1 of run |",
        "|---|---|---|---|---|---|",
    ]
    for (criterion, strategy), g in p.groupby(["criterion", "strategy"], sort=False):
        fired = g[g["fired"]]
        lines.append(
            f"| {criterion} | {strategy} | {len(fired)}/{len(g)} | "
            f"{fired['labels'].mean():,.0f} | {fmt(fired['f1'].mean())} | {fmt(g['best_f1'].mean())} |"
            if len(fired)
            else f"| {criterion} | {strategy} | 0/{len(g)} | - | - | {fmt(g['best_f1'].mean())} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        run = Path(arg)
        print(f"## {run.name}\n\n{strategy_table(run)}\n{stopping_table(run)}")
