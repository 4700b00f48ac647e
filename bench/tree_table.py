"""Markdown tables for docs/taxonomy.md from the runs of bench/tree_evidence.sh.

For a tree run: per strategy, the mean over seeds of leaf macro-F1, top-level macro-F1 (from the
leaf model's probabilities summed up the tree) and hierarchical F1 at 1,100 and 2,000 labels, the
mean leaf macro-F1 over the curve (AULC), and the labels at which the mean leaf curve first
reaches 90% of the full-pool leaf macro-F1. For a flat run of the top level: macro-F1 at 1,100 and
2,000 labels.

    python bench/tree_table.py runs/tree-amazon runs/tree-amazon-flat-top
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from alloop.simulate.store import ResultStore

AT = (1100, 2000)


def at(curve: pd.DataFrame, column: str, n: int) -> str:
    row = curve[curve["n_labelled"] == n]
    return f"{row[column].iloc[0]:.3f}" if len(row) and column in row else "-"


def reach(curve: pd.DataFrame, column: str, target: float) -> str:
    hit = curve[curve[column] >= target]
    return f"{int(hit['n_labelled'].iloc[0]):,}" if len(hit) else f"> {int(curve['n_labelled'].max()):,}"


def table(folder: Path) -> None:
    store = ResultStore.open_existing(folder)
    try:
        cycles, ceilings = store.cycles(), store.ceilings()
    finally:
        store.close()
    tree = "macro_f1_level_1" in cycles
    seeds = cycles.groupby("strategy")["seed"].nunique()
    ceiling = float(ceilings["macro_f1"].mean()) if len(ceilings) else float("nan")
    print(f"\n{folder.name}: seeds {seeds.to_dict()}; full-pool macro-F1 (leaf) {ceiling:.3f}", end="")
    if tree and "macro_f1_level_1" in ceilings:
        print(f", top level {ceilings['macro_f1_level_1'].mean():.3f}, hF1 {ceilings['hier_f1'].mean():.3f}")
    else:
        print()
    columns = ["macro_f1", *(["macro_f1_level_1", "hier_f1"] if tree else [])]
    names = {"macro_f1": "leaf F1", "macro_f1_level_1": "top F1", "hier_f1": "hF1"}
    head = [f"{names[c]} @{n:,}" for n in AT for c in columns]
    tail = " | mean leaf F1, 100-2,000 | labels to 90% of full-pool leaf F1 |"
    print("| strategy | " + " | ".join(head) + tail)
    print("|---|" + "---|" * (len(head) + 2))
    for strategy, group in cycles.groupby("strategy", sort=False):
        curve = group.groupby("n_labelled")[columns].mean().reset_index()
        cells = [at(curve, c, n) for n in AT for c in columns]
        aulc = float(np.mean(curve["macro_f1"]))
        cells += [f"{aulc:.3f}", reach(curve, "macro_f1", 0.9 * ceiling)]
        print(f"| {strategy} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", type=Path)
    for folder in parser.parse_args().runs:
        table(folder)


if __name__ == "__main__":
    main()
