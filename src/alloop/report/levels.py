"""The report's view of a category tree: which strategy wins at which level, labels to 90%/95%
of the full-pool F1 per level, and a learning curve per level. Absent for flat data."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from alloop.report import figures
from alloop.report.stats import BASELINE, TARGETS, aulc, labels_to_reach

LEVEL = re.compile(r"^macro_f1_level_(\d+)$")


def level_metrics(cycles: pd.DataFrame) -> list[tuple[str, str]]:
    """(column, what it is) for each tree metric in ``cycles``, top level first; empty when flat."""
    levels = sorted((int(m.group(1)), c) for c in cycles.columns if (m := LEVEL.match(c)))
    if not levels:
        return []
    out = [(c, f"level {k} macro-F1") for k, c in levels]
    out.append(("macro_f1", "leaf macro-F1"))
    if "hier_f1" in cycles:
        out.append(("hier_f1", "hierarchical F1"))
    return out


def level_table(cycles: pd.DataFrame, ceilings: pd.DataFrame) -> pd.DataFrame:
    """Per (metric, strategy): mean AULC and final value over seeds, the ceiling, and mean labels
    to reach 90%/95% of it (over the seeds that reached it, with how many did)."""
    rows = []
    for column, what in level_metrics(cycles):
        ceiling = ceilings.set_index("seed")[column] if column in ceilings else pd.Series(dtype=float)
        for strategy, group in cycles.groupby("strategy", sort=False):
            per_seed = []
            for seed, run in group.groupby("seed"):
                run = run.sort_values("cycle")
                n, f = run["n_labelled"].to_numpy(), run[column].to_numpy(dtype=float)
                top = float(ceiling.get(seed, math.nan))
                per_seed.append(
                    {
                        "aulc": aulc(n, f),
                        "final": float(f[-1]),
                        "ceiling": top,
                        **{t: labels_to_reach(n, f, top * t) if top == top else math.nan for t in TARGETS},
                    }
                )
            seeds = pd.DataFrame(per_seed)
            row = {"metric": what, "column": column, "strategy": strategy}
            row |= {k: float(seeds[k].mean()) for k in ("aulc", "final", "ceiling")}
            for t in TARGETS:
                row[f"labels_to_{round(t * 100)}"] = (
                    float(seeds[t].mean()) if seeds[t].notna().any() else math.nan
                )
                row[f"seeds_reached_{round(t * 100)}"] = int(seeds[t].notna().sum())
            row["seeds"] = len(seeds)
            rows.append(row)
    return pd.DataFrame(rows)


def level_lines(table: pd.DataFrame) -> list[str]:
    """One sentence per level: the winner by AULC (against random when run) and labels to target."""
    lines = []
    for _, rows in table.groupby("column", sort=False):
        rows = rows.sort_values("aulc", ascending=False)
        best = rows.iloc[0]
        what = str(best["metric"])
        text = f"{what[0].upper()}{what[1:]}: best {best['strategy']} (AULC {best['aulc']:.3f}"
        if BASELINE in set(rows["strategy"]) and best["strategy"] != BASELINE:
            base = rows[rows["strategy"] == BASELINE].iloc[0]
            text += f", random {base['aulc']:.3f}"
        elif len(rows) > 1:
            text += f", next {rows.iloc[1]['strategy']} {rows.iloc[1]['aulc']:.3f}"
        text += f"; final {best['final']:.3f})."
        if best["ceiling"] == best["ceiling"]:
            parts = []
            for t in TARGETS:
                key = round(t * 100)
                reach = [
                    f"{r['strategy']} {r[f'labels_to_{key}']:,.0f}"
                    + (
                        f" ({r[f'seeds_reached_{key}']} of {r['seeds']} seeds)"
                        if r[f"seeds_reached_{key}"] < r["seeds"]
                        else ""
                    )
                    if r[f"labels_to_{key}"] == r[f"labels_to_{key}"]
                    else f"{r['strategy']} not reached"
                    for _, r in rows.iterrows()
                ]
                parts.append(f"{t:.0%}: " + ", ".join(reach))
            text += f" Labels to reach the full-pool {best['ceiling']:.3f}: " + "; ".join(parts) + "."
        lines.append(text)
    return lines


def level_curves(
    cycles: pd.DataFrame, ceilings: pd.DataFrame, run_dir: Path, title: str
) -> list[tuple[str, Path]]:
    """A learning-curve PNG per tree metric (the leaf one is learning_curves.png already)."""
    out = []
    for column, what in level_metrics(cycles):
        if column == "macro_f1":
            continue
        top = ceilings.assign(macro_f1=ceilings[column]) if column in ceilings else ceilings.iloc[0:0]
        path = figures.learning_curves(
            cycles.assign(macro_f1=cycles[column]),
            top,
            run_dir / f"learning_curves_{column.removeprefix('macro_f1_')}.png",
            f"{title}: {what}",
        )
        out.append((what, path))
    return out
