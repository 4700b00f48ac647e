"""The report's verdict: which strategy, by how much, how sure, how many labels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from alloop.report.html import stopping_table
from alloop.report.stats import per_run, stopping_points
from alloop.report.verdict import extrapolate_labels, min_seeds_for, seeds_needed, verdict

LABELS = np.arange(100, 1101, 50)


def curve(n: np.ndarray, top: float, rate: float = 0.5) -> np.ndarray:
    return top - 2.0 * np.power(n, -rate)


def grid(gains: dict[str, list[float]], ceiling: float = 0.85) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cycles of a power-law learning curve per strategy and seed, shifted by the given gain."""
    rows = []
    for strategy, per_seed in gains.items():
        for seed, gain in enumerate(per_seed):
            for cycle, n in enumerate(LABELS):
                f1 = float(curve(n, 0.80) + gain * min(1.0, cycle / 4))
                rows.append(
                    {"strategy": strategy, "seed": seed, "cycle": cycle, "n_labelled": int(n),
                     "macro_f1": f1, "seconds": 0.5 if strategy == "random" else 1.0, "would_stop": ""}
                )  # fmt: skip
    cycles = pd.DataFrame(rows)
    ceilings = pd.DataFrame({"seed": range(len(next(iter(gains.values())))), "macro_f1": ceiling})
    return cycles, per_run(cycles, ceilings)


def test_a_clear_winner_over_enough_seeds_is_called_conclusive():
    cycles, runs = grid(
        {
            "random": [0.0] * 8,
            "margin": [0.06, 0.05, 0.07, 0.06, 0.05, 0.06, 0.07, 0.05],
            "entropy": [0.01] * 8,
        }
    )
    found = verdict(cycles, runs, pool_size=7000)
    assert found.headline.startswith("Best strategy: margin.")
    assert "(+0.0" in found.headline and "against" in found.headline
    assert found.evidence.startswith("Conclusive: margin beat random in 8 of 8 seeds")
    assert "Against the runner-up, entropy" in found.evidence
    assert "Labels to reach 90% of the full-pool macro-F1" in found.labels[0]
    assert "margin" in found.labels[0] and "random" in found.labels[0]
    assert (
        found.timing == "Time per run (one seed, all cycles): random 10.5 s, margin 21.0 s, entropy 21.0 s."
    )
    text = " ".join(found.lines())
    assert "nan" not in text and "None" not in text and "final_f1" not in text


def test_noise_is_not_conclusive_and_says_how_many_seeds_would_be():
    noise = [0.004, -0.003, 0.002]
    cycles, runs = grid({"random": [0.0, 0.0, 0.0], "margin": noise})
    found = verdict(cycles, runs)
    assert found.evidence.startswith("Not conclusive:")
    assert "with 3 seeds no paired test can reach p < 0.05" in found.evidence
    needed = seeds_needed(
        runs[runs.strategy == "margin"]["aulc"].to_numpy()
        - runs[runs.strategy == "random"]["aulc"].to_numpy()
    )
    assert needed is not None and needed > 3 and f"about {needed} seeds" in found.evidence


def test_random_ahead_is_said_plainly():
    cycles, runs = grid({"random": [0.02] * 4, "margin": [0.0] * 4})
    assert verdict(cycles, runs).headline.startswith("No strategy beat random on average")


def test_labels_not_reached_are_estimated_and_marked_as_such():
    # the curve tends to 0.80; 90% of a 0.85 ceiling (0.765) lies past the 1,100 labels run
    cycles, runs = grid({"random": [0.0] * 3, "margin": [0.0] * 3}, ceiling=0.85)
    found = verdict(cycles, runs, pool_size=100_000)
    assert "(estimate, extrapolated from the curve; 0 of 3 seeds reached it within 1,100)" in found.labels[0]
    estimate = extrapolate_labels(LABELS, curve(LABELS, 0.80), 0.765)
    exact = (2.0 / (0.80 - 0.765)) ** 2  # the power law solved for the target
    assert estimate == pytest.approx(exact, rel=0.02)
    assert f"~{round(exact, -1):,.0f}" in found.labels[0]
    # a target above where the curve levels off is never given a number
    assert math.isnan(extrapolate_labels(LABELS, curve(LABELS, 0.80), 0.81))
    far = verdict(cycles, runs, pool_size=2000)
    assert "beyond the pool's 2,000 items" in far.labels[0]


def test_seed_arithmetic():
    assert min_seeds_for(0.05) == 6  # 2 / 2**6 = 0.031 is the first p below 0.05
    assert seeds_needed(np.array([0.0, 0.0])) is None
    assert seeds_needed(np.array([0.01, 0.01, 0.01])) == 6
    assert seeds_needed(np.array([0.01, -0.008, 0.012, -0.009])) > 50


def test_stopping_table_never_shows_f1_at_stop_above_the_best_and_says_what_reads_test_labels():
    rows = []
    for seed, (stop_at, best_late) in enumerate([(2, 0.9), (None, 0.6), (1, 0.7)]):
        for cycle in range(4):
            f1 = [0.5, 0.65, 0.7, best_late][cycle]
            fired = '["plateau"]' if stop_at is not None and cycle >= stop_at else ""
            rows.append(
                {"strategy": "margin", "seed": seed, "cycle": cycle, "n_labelled": 100 + 50 * cycle,
                 "macro_f1": f1, "would_stop": fired}
            )  # fmt: skip
    table = stopping_table(stopping_points(pd.DataFrame(rows))).set_index("criterion")
    plateau = table.loc["plateau"]
    assert (
        plateau["reads test labels"].startswith("yes")
        and table.loc["stabilizing", "reads test labels"] == "no"
    )
    assert float(plateau["F1 at stop"]) <= float(plateau["best F1 of those runs"])
    assert plateau["fired in"] == "2/3 seeds"
    assert table.loc["uncertainty", "labels at stop"] == "never fired"
