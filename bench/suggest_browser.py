"""Labels per minute in a scripted browser session, the model's suggestion on vs off.

A stand-in model suggests the true (gold) label for 7 of every 10 items in the order they are
handed out (which 7: seeded; else a random other class), so the measurement does not depend on
how good a real model happens to be.
Each run is a fresh project of the amazon-in titles (19 classes) served by the real app (uvicorn
on loopback, no trainer: the stand-in's snapshot is published once); Debian's Chromium, driven by
Playwright, labels ``--labels`` items with the keyboard. Runs alternate off, on, off, on...;
medians over the runs of each mode are printed.

The scripted annotator's think time per item (a keystroke-level model, the constants below):

* read the item: ``--read-ms`` (1,000 ms), the same with and without a suggestion;
* choose a class among n by recall: Hick-Hyman, ``--hick-ms`` x log2(n + 1) (150 ms x log2 20 =
  648 ms for 19 classes); verify a suggestion: the same law for a yes/no choice, 150 ms x log2 3
  = 238 ms;
* press the key: ``--key-ms`` (280 ms, the keystroke-level model's average typist).

So off: read + choose + key; on and right: read + verify + key (Enter); on and wrong: read +
verify + choose + key (the class key). One key per label either way: the suggestion saves
decision time, not keystrokes. The think time is slept before the key; the wall clock covers the
page's own time too (key to next item on screen), which ``--read-ms 0 --hick-ms 0 --key-ms 0``
measures alone. Usage:

    python bench/suggest_browser.py [--data PATH] [--labels 40] [--runs 3] [--accuracy 0.7]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from api_latency import serve_service

from alloop.labelling.domain.queue import Snapshot, permutation
from alloop.labelling.domain.service import LabelService
from alloop.labelling.domain.suggest import Suggestions
from alloop.labelling.storage.project import open_project

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "amazon-in-products" / "amazon_in_products.parquet"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-sandbox"]
LATENCIES = "performance.getEntriesByName('alloop:key-to-item').map((e) => e.duration)"


def stand_in(
    gold: list[str | None], labels: tuple[str, ...], accuracy: float, order: np.ndarray, seed: int
) -> Suggestions:
    """The gold label for ``accuracy`` of the items, else another class: of every 10 items in
    hand-out ``order``, exactly round(10 x accuracy) are right (which ones: seeded), so a short
    run sees the stated accuracy, not a sample's."""
    rng = np.random.default_rng(seed)
    code = {label: i for i, label in enumerate(labels)}
    truth = np.array([code[g] for g in gold], dtype=np.int32)  # type: ignore[index]
    block = np.arange(10) < round(10 * accuracy)
    right = np.empty(len(gold), dtype=bool)
    right[order] = np.concatenate([rng.permutation(block) for _ in range(len(gold) // 10 + 1)])[: len(gold)]
    other = (truth + rng.integers(1, len(labels), len(gold))) % len(labels)
    suggested = np.where(right, truth, other).astype(np.int32)
    p = np.where(right, rng.uniform(0.5, 0.95, len(gold)), rng.uniform(0.3, 0.7, len(gold)))
    return Suggestions(suggested, p.astype(np.float32))


def one_run(browser: Any, data: Path, labels: tuple[str, ...], suggest: bool, args: Any) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="alloop-suggest-browser-") as tmp:
        given = {"data": str(data), "labels": labels, "gold": "category", "classifier": "tfidf"}
        store, config, items = open_project(Path(tmp) / "project", {**given, "suggest": suggest})
        token = store.add_annotator("annotator")
        service = LabelService(store, replace(config, suggest=suggest), items, train=False)
        order = permutation(len(items), config.seed)  # the hand-out order: queue, then the fallback
        queue = tuple(int(p) for p in order[:20])
        model = stand_in(items.gold, labels, args.accuracy, order, args.seed)
        service._publish(Snapshot(queue, "margin", 1, 100, suggestions=model))  # the stand-in, as v1
        server, thread, port, _ = serve_service(service)
        choose = args.hick_ms * math.log2(len(labels) + 1) / 1000
        verify = args.hick_ms * math.log2(3) / 1000
        read, key = args.read_ms / 1000, args.key_ms / 1000
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
            page.goto(f"http://127.0.0.1:{port}/#token={token}")
            page.wait_for_function("document.body.dataset.itemId")
            keys = page.eval_on_selector_all(
                "#buttons button",
                "bs => Object.fromEntries(bs.map(b => [b.dataset.label, b.querySelector('kbd').innerText]))",
            )
            accepted = suggested = 0
            started = time.perf_counter()
            for _ in range(args.labels):
                item = page.evaluate("document.body.dataset.itemId")
                truth = items.gold[items.ids.index(item)]
                offer = page.get_attribute("#suggestion", "data-label")  # None when off: same calls
                if offer is not None:
                    suggested += 1
                    right = offer == truth
                    accepted += right
                    time.sleep(read + verify + (0 if right else choose) + key)
                    page.keyboard.press("Enter" if right else keys[truth])
                else:
                    time.sleep(read + choose + key)
                    page.keyboard.press(keys[truth])
                page.wait_for_function("(old) => document.body.dataset.itemId !== old", arg=item)
            minutes = (time.perf_counter() - started) / 60
            in_page = page.evaluate(LATENCIES)
            page.close()
            stats = service.stats()["suggestions"]
        finally:
            server.should_exit = True
            thread.join(10)
            service.close()
    assert stats["with_suggestion"] == suggested and stats["accepted"] == accepted, stats
    return {
        "per_minute": args.labels / minutes,
        "accepted": accepted / suggested if suggested else float("nan"),
        "key_to_item_ms": statistics.median(in_page),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--labels", type=int, default=40, help="labels per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per mode (alternating off, on)")
    parser.add_argument("--accuracy", type=float, default=0.7, help="how often the stand-in is right")
    parser.add_argument("--read-ms", type=float, default=1000.0)
    parser.add_argument("--hick-ms", type=float, default=150.0)
    parser.add_argument("--key-ms", type=float, default=280.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    gold = pd.read_parquet(args.data, columns=["category"])["category"]
    labels = tuple(sorted(gold.unique()))
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, load avg "
        f"{os.getloadavg()[0]:.1f} at start; {len(gold):,} items, {len(labels)} classes, stand-in right "
        f"{args.accuracy:.0%}; {args.labels} labels x {args.runs} runs per mode, alternating off/on; think "
        f"time: read {args.read_ms:.0f} ms, Hick {args.hick_ms:.0f} ms x log2(n+1), key {args.key_ms:.0f} ms",
        flush=True,
    )
    results: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for run in range(args.runs):
            for suggest in (False, True):
                r = one_run(browser, args.data, labels, suggest, args)
                results[suggest].append(r)
                mode = "on " if suggest else "off"
                taken = f", accepted {r['accepted']:.0%}" if suggest else ""
                print(
                    f"  run {run + 1} suggestions {mode}: {r['per_minute']:5.1f} labels/min, key to next "
                    f"item {r['key_to_item_ms']:5.1f} ms (median, in page){taken}",
                    flush=True,
                )
        browser.close()
    print(f"{'suggestions':>11} {'labels/min':>11} {'key to item ms':>15} {'accepted':>9}")
    for suggest in (False, True):
        runs = results[suggest]
        rate = statistics.median(r["per_minute"] for r in runs)
        latency = statistics.median(r["key_to_item_ms"] for r in runs)
        share = f"{statistics.median(r['accepted'] for r in runs):.0%}" if suggest else "-"
        print(f"{'on' if suggest else 'off':>11} {rate:>11.1f} {latency:>15.1f} {share:>9}")
    print(f"# load avg {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
