"""`report.html` and its PNGs, rebuilt from ``results.db`` alone."""

from __future__ import annotations

import base64
import html
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from alloop.data.taxonomy import Taxonomy, display
from alloop.loop.stopping import (
    PLATEAU_CYCLES,
    PLATEAU_EPSILON,
    STABILIZING_CHECKS,
    STABILIZING_KAPPA,
    UNCERTAINTY_THRESHOLD,
)
from alloop.report import figures, levels, stats, trust
from alloop.report.verdict import verdict
from alloop.simulate.store import ResultStore

MAX_SHOWN_CLASSES = 40
"""Classes one heat map or confusion matrix shows: beyond this (a category tree of hundreds of
leaves) the picture is taller than a screen and megabytes large, so it keeps the classes that need
attention (lowest F1, most confused); per_class.csv keeps them all."""


def most_confused(matrix: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` classes with the most errors, as true or as predicted class, in index
    order (ties by index, so the choice is deterministic)."""
    errors = matrix.sum(axis=0) + matrix.sum(axis=1) - 2 * np.diag(matrix)
    return np.sort(np.argsort(-errors, kind="stable")[:k])


CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
.note { color: #555; font-size: 13px; }
code { background: #f5f5f5; padding: 1px 4px; }
"""


def _fmt(value: float, digits: int = 3) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _labels(mean: float, reached: int, seeds: int) -> str:
    if reached == 0:
        return "not reached"
    text = f"{mean:,.0f}"
    return text if reached == seeds else f"{text} ({reached}/{seeds} seeds)"


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as people read it: strategy, AULC ± sd, final F1, labels to 95%, p vs random."""
    rows = []
    for r in summary.itertuples():
        rows.append(
            {
                "strategy": r.strategy,
                "AULC ± sd": f"{_fmt(r.aulc_mean)} ± {_fmt(r.aulc_sd)}",
                "AULC 95% interval": f"[{_fmt(r.aulc_ci_low)}, {_fmt(r.aulc_ci_high)}]",
                "final macro-F1 ± sd": f"{_fmt(r.final_f1_mean)} ± {_fmt(r.final_f1_sd)}",
                "labels to 90% of ceiling": _labels(r.labels_to_90_mean, r.labels_to_90_reached, r.seeds),
                "labels to 95% of ceiling": _labels(r.labels_to_95_mean, r.labels_to_95_reached, r.seeds),
                "p vs random (Wilcoxon)": _fmt(r.p_vs_random, 4),
                "p vs margin": _fmt(getattr(r, "p_vs_margin", math.nan), 4),
                "classes per batch": _fmt(getattr(r, "classes_per_batch", math.nan), 1),
            }
        )
    return pd.DataFrame(rows)


READS_TEST_LABELS = {
    "stabilizing": "no",
    "plateau": "yes (test macro-F1)",
    "uncertainty": "no",
    "coverage-plateau": "no",
}
"""Whether a label-free stopping signal looks at the test labels (a real user has none)."""


def stopping_table(points: pd.DataFrame) -> pd.DataFrame:
    """Per criterion and strategy: how often it fired, labels and F1 there, and the best F1 of the
    same seeds (so the F1 at stop never reads above the best)."""
    rows = []
    for (criterion, strategy), g in points.groupby(["criterion", "strategy"], sort=False):
        fired = g[g["fired"]]
        best = fired if len(fired) else g
        rows.append(
            {
                "criterion": criterion,
                "reads test labels": READS_TEST_LABELS.get(str(criterion), "-"),
                "strategy": strategy,
                "fired in": f"{len(fired)}/{len(g)} seeds",
                "labels at stop": f"{fired['labels'].mean():,.0f}" if len(fired) else "never fired",
                "F1 at stop": _fmt(float(fired["f1"].mean())) if len(fired) else "-",
                "best F1 of those runs": _fmt(float(best["best_f1"].mean())),
            }
        )
    return pd.DataFrame(rows)


RUN_COLUMNS = {
    "strategy": "strategy",
    "seed": "seed",
    "aulc": "AULC",
    "final_f1": "final macro-F1",
    "final_labels": "labels at the end",
    "ceiling_f1": "full-pool macro-F1",
    "labels_to_90": "labels to 90% of full pool",
    "labels_to_95": "labels to 95% of full pool",
}


def runs_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (strategy, seed) with readable headers; a target never reached reads so."""
    out = runs[list(RUN_COLUMNS)].rename(columns=RUN_COLUMNS)
    for column in ("AULC", "final macro-F1", "full-pool macro-F1"):
        out[column] = out[column].map(_fmt)
    for column in ("labels to 90% of full pool", "labels to 95% of full pool"):
        out[column] = out[column].map(lambda v: "not reached" if v != v else f"{v:,.0f}")
    return out


def config_table(config: dict) -> pd.DataFrame:
    """The run's options as `alloop run` names them; unset options read 'not set'."""
    flat = {k: v for k, v in config.items() if k != "model"}
    flat.update(config.get("model", {}) or {})
    rows = [
        {
            "option": "--" + k.replace("_", "-"),
            "value": "not set"
            if v is None
            else (", ".join(map(str, v)) if isinstance(v, list | tuple) else str(v)),
        }
        for k, v in flat.items()
    ]
    return pd.DataFrame(rows)


def label_names(codes: list[int], classes: list[str], taxonomy: Taxonomy | None) -> list[str]:
    """Class names of stored label codes; a partial label (a parent category) reads "PARENT > ?"."""
    return [
        classes[c] if c >= 0 or taxonomy is None else display(taxonomy.node_of(c)) + " > ?" for c in codes
    ]


def render_report(run_dir: Path) -> Path:
    """Write the CSV exports, the PNGs and a self-contained report.html into ``run_dir``: rendered
    into a temporary folder there and renamed into place, replacing only report files alloop wrote
    (``alloop.outputs``)."""
    from alloop.outputs import write_into

    ResultStore.open_existing(run_dir).close()  # not a run folder: refused before anything is made
    write_into(run_dir, lambda work: _render(run_dir, work), " (a report file of this name)")
    return run_dir / "report.html"


def _render(run_dir: Path, work: Path) -> None:
    """The report of ``run_dir/results.db``, written into ``work``."""
    store = ResultStore.open_existing(run_dir)  # read from the run
    try:
        config = store.get("config", {})
        classes: list[str] = store.get("classes", [])
        test_labels = np.asarray(store.get("test_labels", []), dtype=np.int64)
        pool_counts = store.get("pool_class_counts")
        stored_tree = store.get("taxonomy")
        stored_inner = store.get("taxonomy_inner", [])
        cycles, queried, per_class = store.cycles(), store.queried(), store.per_class()
        ceilings = store.ceilings()
        finals = store.final_predictions()
    finally:
        store.close()
    taxonomy = Taxonomy(map(tuple, stored_tree), map(tuple, stored_inner)) if stored_tree else None
    if cycles.empty:
        from alloop.errors import AlloopError

        raise AlloopError(f"{run_dir} holds no finished cycle yet; nothing to report")
    queried["label"] = label_names(queried["label"].tolist(), classes, taxonomy)
    cycles.to_csv(work / "cycles.csv", index=False)
    queried.to_csv(work / "queried.csv", index=False)
    per_class.to_csv(work / "per_class.csv", index=False)
    runs = stats.per_run(cycles, ceilings)
    summary = stats.summary(runs, queried=queried)
    points = stats.stopping_points(cycles)
    points.to_csv(work / "stopping.csv", index=False)
    runs.to_csv(work / "runs.csv", index=False)
    summary.to_csv(work / "summary.csv", index=False)

    model = config.get("model", {}) if isinstance(config, dict) else {}
    source = str(config.get("data", "")).removeprefix("hub:")
    title = f"{Path(source).name or source}: {model.get('classifier', '?')}, {len(classes)} classes"
    cycles = cycles.assign(would_stop=cycles["would_stop"].fillna(""))
    pngs = {"learning curves": figures.learning_curves(cycles, ceilings, work / "learning_curves.png", title)}
    pngs["queried classes"] = figures.queried_classes(
        queried, classes, pool_counts, work / "queried_classes.png"
    )
    final = per_class[per_class["cycle"] == per_class.groupby(["strategy", "seed"])["cycle"].transform("max")]
    heat = final.pivot_table(index="class", columns="strategy", values="f1", aggfunc="mean")
    heat = heat[list(dict.fromkeys(cycles["strategy"]))]
    heat_title = "Final per-class F1 (mean over seeds)"
    if len(heat) > MAX_SHOWN_CLASSES:
        heat_title += f":\nthe {MAX_SHOWN_CLASSES} lowest of {len(heat)} classes"
        lowest = heat.mean(axis=1).sort_values(kind="stable").index[:MAX_SHOWN_CLASSES]
        heat = heat.loc[lowest]
    pngs["per-class F1"] = figures.per_class_heatmap(heat, work / "per_class_f1.png", heat_title)
    pngs["stopping"] = figures.stopping_signals(cycles, work / "stopping.png")
    confusions = []
    for strategy in dict.fromkeys(cycles["strategy"]):
        matrix = sum(
            confusion_matrix(test_labels, pred, labels=range(len(classes)))
            for (s, _), pred in finals.items()
            if s == strategy
        )
        present = np.flatnonzero(np.bincount(test_labels, minlength=len(classes)))
        matrix = np.asarray(matrix)[np.ix_(present, present)]
        title = f"{strategy}: final model, summed over seeds"
        if len(present) > MAX_SHOWN_CLASSES:
            title += f"; the {MAX_SHOWN_CLASSES} of {len(present)} classes with the most errors"
            keep = most_confused(matrix, MAX_SHOWN_CLASSES)
            present, matrix = present[keep], matrix[np.ix_(keep, keep)]
        names = [classes[i] for i in present]
        path = figures.confusion(matrix, names, work / f"confusion_{strategy}.png", title)
        confusions.append((strategy, path))

    seeds = sorted(cycles["seed"].unique().tolist())
    found = verdict(cycles, runs, int(sum(pool_counts)) if pool_counts else None)
    tree_table = levels.level_table(cycles, ceilings)
    tree_lines = levels.level_lines(tree_table) if len(tree_table) else []
    target = float(config.get("target_precision", math.nan)) if isinstance(config, dict) else math.nan
    confidence = float(config.get("precision_confidence", math.nan)) if isinstance(config, dict) else math.nan
    auto_lines = trust.verdict_lines(cycles, target, confidence) if trust.has_auto(cycles) else []
    (work / "verdict.txt").write_text(
        "\n".join([*found.lines(), *auto_lines, *tree_lines]) + "\n", encoding="utf-8"
    )
    auto_parts: list[str] = []
    if auto_lines:
        drawn = []
        if (cycles["auto_coverage_estimated"].fillna(0) > 0).any():  # else the sentence says it all
            figure = trust.coverage_figure(cycles, target, work / "auto_labelling.png", title)
            drawn = [_img(figure, "auto-labelling coverage and precision")]
        auto_parts = [
            "<h2>Auto-labelling at the target precision</h2>",
            f"<p class='note'>Each cycle, out-of-fold predictions on the labelled items choose the lowest "
            f"confidence threshold whose predictions reach {target:.0%} precision with {confidence:.0%} "
            "confidence (a one-sided Clopper-Pearson bound, thresholds scanned as a fixed sequence from "
            "the most confident down; docs/trust.md). Estimated: the share of the unlabelled stop set it "
            "accepts, from labels alone. On test: the share of the test set it accepts and the precision "
            "of those items against their true labels, which the estimate never sees.</p>",
            *(f"<p>{html.escape(line)}</p>" for line in auto_lines),
            *drawn,
        ]
    tree_parts: list[str] = []
    if tree_lines:
        tree_table.to_csv(work / "levels.csv", index=False)
        tree_parts = [
            "<h2>Per level of the category tree</h2>",
            "<p class='note'>A parent's probability is the sum of its leaves'; the predicted category at "
            "a level is the most probable node there. Hierarchical F1 (Kiritchenko et al. 2005) counts a "
            "prediction's ancestors it shares with the true path, micro-averaged over items.</p>",
            *(f"<p>{html.escape(line)}</p>" for line in tree_lines),
            *(
                _img(path, f"learning curve, {what}")
                for what, path in levels.level_curves(cycles, ceilings, work, title)
            ),
        ]
    parts = [
        f"<h1>alloop report</h1><p class='note'>{html.escape(title)}; seeds {html.escape(str(seeds))}; "
        f"rendered {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from <code>results.db</code>.</p>",
        "<h2>Verdict</h2>",
        *(f"<p>{html.escape(line)}</p>" for line in [*found.lines(), *auto_lines]),
        *tree_parts,
        "<h2>Summary</h2>",
        _table(summary_table(summary)),
        "<p class='note'>AULC: area under the macro-F1 learning curve over the label axis, divided by "
        "its range (an average F1). Ceiling: macro-F1 of the same classifier trained on the whole pool "
        "(once per seed, or once per run when its fit does not depend on the seed; mean "
        f"{_fmt(float(ceilings['macro_f1'].mean()) if len(ceilings) else math.nan)}). "
        "p: two-sided paired Wilcoxon signed-rank test of AULC against random over seeds; with n seeds "
        f"the smallest possible p is 2/2<sup>n</sup> ({_fmt(2 / 2 ** len(seeds), 4)} here).</p>",
        "<h2>Learning curves</h2>",
        _img(pngs["learning curves"], "learning curves"),
        *auto_parts,
        "<h2>Classes queried</h2>",
        _img(pngs["queried classes"], "queried classes"),
        "<h2>Final per-class F1</h2>",
        _img(pngs["per-class F1"], "per-class F1"),
        "<h2>Stopping without test labels</h2>",
        "<p class='note'>Recorded every cycle whether or not <code>--stop</code> asked for them: "
        "stabilizing fires when Cohen's kappa between consecutive models' predictions on a fixed "
        f"unlabelled stop set stays at least {STABILIZING_KAPPA} over {STABILIZING_CHECKS} checks; "
        f"plateau when test macro-F1 changes by less than {PLATEAU_EPSILON} over {PLATEAU_CYCLES} "
        "cycles; uncertainty when the mean 1 - max p over the unlabelled stop set falls below "
        f"{UNCERTAINTY_THRESHOLD}. A criterion that never fired within the run's budget shows '-'.</p>",
        _table(stopping_table(points)),
        _img(pngs["stopping"], "stopping signals"),
        "<h2>Confusion matrices of the final models</h2>",
        *(_img(path, f"confusion matrix {s}") for s, path in confusions),
        "<h2>Per run</h2>",
        _table(runs_table(runs)),
        "<h2>Configuration</h2>",
        _table(config_table(config if isinstance(config, dict) else {})),
    ]
    page = "<!doctype html><html><head><meta charset='utf-8'><title>alloop report</title>"
    page += f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n"
    (work / "report.html").write_text(page, encoding="utf-8")
