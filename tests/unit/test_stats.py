"""Report statistics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from alloop.report import aulc, labels_to_reach, mean_sd_ci, paired_wilcoxon, per_run, summary


def test_aulc_is_trapezoid_area_over_the_label_range():
    # (0.2+0.4)/2*100 + (0.4+0.6)/2*100 = 30 + 50 = 80, over a range of 200
    assert aulc(np.array([100, 200, 300]), np.array([0.2, 0.4, 0.6])) == pytest.approx(0.4)
    # uneven spacing: (0.5+0.5)/2*10 + (0.5+0.9)/2*30 = 5 + 21 = 26, over 40
    assert aulc(np.array([10, 20, 50]), np.array([0.5, 0.5, 0.9])) == pytest.approx(0.65)
    assert aulc(np.array([100]), np.array([0.3])) == pytest.approx(0.3)


def test_labels_to_reach():
    n, f = np.array([100, 150, 200, 250]), np.array([0.3, 0.5, 0.45, 0.7])
    assert labels_to_reach(n, f, 0.5) == 150
    assert labels_to_reach(n, f, 0.6) == 250
    assert math.isnan(labels_to_reach(n, f, 0.9))


def test_mean_sd_ci_matches_the_t_interval():
    values = np.array([0.61, 0.64, 0.59, 0.66, 0.63])
    mean, sd, lo, hi = mean_sd_ci(values)
    low, high = scipy_stats.t.interval(0.95, 4, loc=values.mean(), scale=scipy_stats.sem(values))
    assert mean == pytest.approx(0.626) and sd == pytest.approx(values.std(ddof=1))
    assert (lo, hi) == pytest.approx((low, high))
    assert math.isnan(mean_sd_ci(np.array([0.5]))[1])


def test_wilcoxon_paired():
    better = np.array([0.60, 0.62, 0.65, 0.61, 0.63])
    worse = better - np.array([0.01, 0.02, 0.03, 0.04, 0.05])
    assert paired_wilcoxon(better, worse) == pytest.approx(0.0625)  # 2 / 2**5: the floor for 5 seeds
    assert paired_wilcoxon(better, better) == 1.0
    assert math.isnan(paired_wilcoxon(better[:1], worse[:1]))


def test_per_run_and_summary_on_a_toy_grid():
    rows = []
    for seed in (0, 1, 2, 3, 4):
        for strategy, gain in (("random", 0.0), ("margin", 0.1)):
            for cycle, n in enumerate((100, 200, 300)):
                rows.append((strategy, seed, cycle, n, 0.3 + 0.1 * cycle + gain * cycle / 2 + 0.01 * seed))
    cycles = pd.DataFrame(rows, columns=["strategy", "seed", "cycle", "n_labelled", "macro_f1"])
    ceilings = pd.DataFrame({"seed": range(5), "n_labelled": 1000, "macro_f1": [0.6] * 5})
    runs = per_run(cycles, ceilings)
    margin0 = runs[(runs["strategy"] == "margin") & (runs["seed"] == 0)].iloc[0]
    # margin, seed 0: F1 0.30, 0.45, 0.60 -> AULC (0.375*100 + 0.525*100) / 200 = 0.45
    assert margin0["aulc"] == pytest.approx(0.45)
    assert margin0["labels_to_90"] == 300  # 0.54 first reached at 300
    table = summary(runs).set_index("strategy")
    assert table.loc["margin", "aulc_mean"] == pytest.approx(0.47)
    assert table.loc["margin", "p_vs_random"] == pytest.approx(0.0625)
    assert math.isnan(table.loc["random", "p_vs_random"])
    assert table.loc["random", "labels_to_95_reached"] == 0  # random tops out at 0.54 < 0.57
