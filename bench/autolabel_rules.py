"""Where the auto-labelling scan should start (``alloop.loop.autolabel``), on synthetic scores with
a known answer: for each rule, the mean share of a large population accepted and the share of
draws whose accepted precision fell below the target (the stated risk is 5%).

    python bench/autolabel_rules.py            # about a minute

Rules: a fixed-sequence scan (thresholds from the most confident down, each tested at the full
level, stopping at the first failure) starting at 10% or 25% of the labelled items, or at
``start_count`` (the fewest accepted items with which the bound passes while half the allowed
share is wrong: what alloop uses); and two or three such scans from different starts, each at a
share of the level (Bonferroni), keeping the lowest threshold any passes.
"""

from __future__ import annotations

import math
import os
import platform
from datetime import UTC, datetime

import numpy as np
from scipy.stats import beta

from alloop.loop.autolabel import start_count

TARGET, LEVEL = 0.95, 0.95
CURVES = {
    # name: (Beta a, Beta b of the confidences, chance a prediction of confidence c is right)
    "rising to 0.985": (4.0, 1.2, lambda c: np.minimum(0.6 + 0.4 * np.power(c, 1.5), 0.985)),
    "rising to 0.985, steeper": (4.0, 1.2, lambda c: np.clip(0.6 + 0.42 * c**1.5, 0, 0.985)),
    "flat top at 0.975": (4.0, 1.2, lambda c: np.clip(0.55 + 0.45 * c**2, 0, 0.975)),
}


def scan(c: np.ndarray, right: np.ndarray, level: float, start: int) -> float | None:
    n = len(c)
    order = np.argsort(-c, kind="stable")
    ordered, wrong = c[order], np.cumsum(~right[order])
    ks = np.arange(max(1, start), n + 1, max(1, round(0.01 * n)))
    if not len(ks):
        return None
    values = ordered[ks - 1]
    accepted = np.searchsorted(-ordered, -values, side="right")
    errors = wrong[accepted - 1]
    bounds = np.zeros(len(ks))
    some = accepted > errors
    bounds[some] = beta.ppf(1 - level, (accepted - errors)[some], errors[some] + 1)
    failed = np.flatnonzero(bounds < TARGET)
    last = (failed[0] if len(failed) else len(ks)) - 1
    return float(values[last]) if last >= 0 else None


def fewest(level: float) -> int:
    return math.ceil(math.log(1 - level) / math.log(TARGET))


def rule(name: str, c: np.ndarray, right: np.ndarray) -> float | None:
    n = len(c)
    if name == "start at 10%":
        return scan(c, right, LEVEL, max(fewest(LEVEL), math.ceil(0.1 * n)))
    if name == "start at 25%":
        return scan(c, right, LEVEL, max(fewest(LEVEL), math.ceil(0.25 * n)))
    if name == "start_count (alloop)":
        return scan(c, right, LEVEL, max(fewest(LEVEL), min(start_count(TARGET, LEVEL), n)))
    shares = (0.05, 0.25) if name == "2 scans" else (0.05, 0.15, 0.35)
    level = 1 - (1 - LEVEL) / len(shares)
    found = [scan(c, right, level, max(fewest(level), math.ceil(f * n))) for f in shares]
    found = [t for t in found if t is not None]
    return min(found) if found else None


def main() -> None:
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs; target "
        f"{TARGET}, confidence {LEVEL}, 150 draws per cell; cells: coverage / share of draws below target"
    )
    rules = ["start at 10%", "start at 25%", "start_count (alloop)", "2 scans", "3 scans"]
    rng = np.random.default_rng(0)
    print("| curve | labelled | best possible | " + " | ".join(rules) + " |")
    print("|---" * (3 + len(rules)) + "|")
    for curve, (a, b, p) in CURVES.items():
        population = rng.beta(a, b, 400_000)
        chance = p(population)
        order = np.argsort(-population)
        cumulative = np.cumsum(chance[order]) / np.arange(1, len(order) + 1)
        best = (np.flatnonzero(cumulative >= TARGET).max() + 1) / len(order)
        for n in (400, 1100, 2000):
            cells = []
            for name in rules:
                covered, below = [], 0
                for _ in range(150):
                    c = rng.beta(a, b, n)
                    t = rule(name, c, rng.random(n) < p(c))
                    if t is None:
                        covered.append(0.0)
                        continue
                    accepted = population >= t
                    covered.append(accepted.mean())
                    below += chance[accepted].mean() < TARGET
                cells.append(f"{np.mean(covered):.3f} / {below / 150:.3f}")
            print(f"| {curve} | {n:,} | {best:.2f} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
