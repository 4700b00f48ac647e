"""Markdown tables for docs/taxonomy.md from the runs of bench/tree_evidence.sh.

Only seeds that every strategy ran to the end count (a run cut off mid-way still gives whole
seeds). For a tree run: per strategy, the mean (± standard deviation over seeds) of leaf macro-F1,
top-level macro-F1 (from the leaf model's probabilities summed up the tree) and hierarchical F1 at
1,100 and 2,000 labels, the mean leaf macro-F1 over the curve (AULC), and the labels to 90% of the
full-pool leaf macro-F1: where the mean curve first reaches it, and per seed (the median of the
seeds that reach it, and how many do). For a flat run of the top level: the same for its macro-F1.

    python bench/tree_table.py runs/tree-amazon runs/tree-amazon-flat-top
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from alloop.simulate.store import ResultStore

AT = (1100, 2000)


def complete_seeds(cycles: pd.DataFrame) -> list[int]:
    """Seeds every strategy has run to the end: a run cut off mid-seed (the grid goes seed by seed)
    still gives whole seeds, and a mean is only taken over seeds all strategies share."""
    last = cycles.groupby(["strategy", "seed"])["n_labelled"].max().unstack("strategy")
    done = last[(last == cycles["n_labelled"].max()).all(axis=1)]
    return sorted(int(s) for s in done.index)


def at(per_seed: pd.DataFrame, column: str, n: int) -> str:
    """Mean and standard deviation over seeds at ``n`` labels."""
    values = per_seed[per_seed["n_labelled"] == n][column] if column in per_seed else pd.Series([])
    if not len(values):
        return "-"
    sd = f" ± {values.std(ddof=1):.3f}" if len(values) > 1 else ""
    return f"{values.mean():.3f}{sd}"


def reach(curve: pd.DataFrame, column: str, target: float) -> str:
    hit = curve[curve[column] >= target]
    return f"{int(hit['n_labelled'].iloc[0]):,}" if len(hit) else f"> {int(curve['n_labelled'].max()):,}"


def reach_per_seed(per_seed: pd.DataFrame, column: str, target: float) -> str:
    """Per seed, the first label count reaching ``target``: the median of the seeds that do, and
    how many do within the run."""
    firsts = [
        int(g[g[column] >= target]["n_labelled"].min())
        for _, g in per_seed.groupby("seed")
        if (g[column] >= target).any()
    ]
    n = per_seed["seed"].nunique()
    return f"{int(np.median(firsts)):,} ({len(firsts)}/{n})" if firsts else f"- (0/{n})"


def table(folder: Path) -> None:
    store = ResultStore.open_existing(folder)
    try:
        cycles, ceilings = store.cycles(), store.ceilings()
    finally:
        store.close()
    seeds = complete_seeds(cycles)
    cycles = cycles[cycles["seed"].isin(seeds)]
    if len(ceilings) and ceilings["seed"].isin(seeds).any():
        ceilings = ceilings[ceilings["seed"].isin(seeds)]
    tree = "macro_f1_level_1" in cycles
    ceiling = float(ceilings["macro_f1"].mean()) if len(ceilings) else float("nan")
    print(f"\n{folder.name}: complete seeds {seeds}; full-pool macro-F1 (leaf) {ceiling:.3f}", end="")
    if tree and "macro_f1_level_1" in ceilings:
        print(f", top level {ceilings['macro_f1_level_1'].mean():.3f}, hF1 {ceilings['hier_f1'].mean():.3f}")
    else:
        print()
    columns = ["macro_f1", *(["macro_f1_level_1", "hier_f1"] if tree else [])]
    names = {"macro_f1": "leaf F1", "macro_f1_level_1": "top F1", "hier_f1": "hF1"}
    head = [f"{names[c]} @{n:,}" for n in AT for c in columns]
    tail = (
        " | mean leaf F1, 100-2,000 | labels to 90% of full-pool leaf F1: mean curve"
        " | per seed: median (seeds reaching) |"
    )
    print("| strategy | " + " | ".join(head) + tail)
    print("|---|" + "---|" * (len(head) + 3))
    for strategy, group in cycles.groupby("strategy", sort=False):
        curve = group.groupby("n_labelled")[columns].mean().reset_index()
        cells = [at(group, c, n) for n in AT for c in columns]
        aulc = group.groupby("seed")["macro_f1"].mean()
        sd = f" ± {aulc.std(ddof=1):.3f}" if len(aulc) > 1 else ""
        cells += [
            f"{aulc.mean():.3f}{sd}",
            reach(curve, "macro_f1", 0.9 * ceiling),
            reach_per_seed(group, "macro_f1", 0.9 * ceiling),
        ]
        print(f"| {strategy} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", type=Path)
    for folder in parser.parse_args().runs:
        table(folder)


if __name__ == "__main__":
    main()
