"""How long does a person wait in the labelling page? Prints keypress-to-next-item latencies.

Starts `alloop label` with the defaults (bert-frozen, margin) on the amazon-in titles with two
annotators, drives Debian's Chromium with the keyboard through several batches (while the pool is
still being embedded, then with trained models), and saves a screenshot. Usage:

    python bench/label_browser.py [--data PATH] [--batches 4] [--query-size 10] [--screenshot FILE]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "amazon-in-products" / "amazon_in_products.parquet"
LATENCIES = "performance.getEntriesByName('alloop:key-to-item').map((e) => e.duration)"
"""The page's keypress -> next item on screen times (ms), from the browser's performance timeline."""
LAST_LATENCY = f"({LATENCIES}).at(-1)"
ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-sandbox"]


def shrink(path: Path) -> None:
    """A 64-colour palette keeps the committed PNG small and the text crisp."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--query-size", type=int, default=10)
    parser.add_argument("--screenshot", type=Path, default=ROOT / "docs" / "label_screenshot.png")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from alloop.labelling.storage.store import LabelStore

    folder = Path(tempfile.mkdtemp(prefix="alloop-label-bench-"))
    gold = pd.read_parquet(args.data, columns=["category"])["category"]
    (folder / "labels.txt").write_text("\n".join(sorted(gold.unique())) + "\n")
    store = LabelStore.open(folder / "project", create=True)
    tokens = {name: store.add_annotator(name) for name in ("alice", "bob")}
    store.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "alloop", "label", "--project", str(folder / "project")]
    command += ["--data", str(args.data), "--labels-file", str(folder / "labels.txt"), "--gold", "category"]
    command += ["--query-size", str(args.query_size), "--overlap", "0.2", "--port", str(port)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['alice']}"}, timeout=10)
    bob = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['bob']}"}, timeout=10)
    while True:
        try:
            api.get("/api/stats").raise_for_status()
            break
        except httpx.TransportError:
            time.sleep(0.1)
    print(f"server answering {time.perf_counter() - started:.1f} s after start")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
            page.goto(f"{url}/#token={tokens['alice']}")
            page.wait_for_function("document.body.dataset.itemId")
            keys = page.eval_on_selector_all(
                "#buttons button",
                "bs => Object.fromEntries(bs.map(b => [b.dataset.label, b.querySelector('kbd').innerText]))",
            )
            batch_ends: list[tuple[str, float, float]] = []
            for batch in range(args.batches):
                if batch == 1:  # the first batch runs while the pool is embedded; then wait for it
                    while api.get("/api/stats").json()["model"]["phase"].startswith(("embedding", "loading")):
                        time.sleep(1)
                for i in range(args.query_size):
                    item = page.evaluate("document.body.dataset.itemId")
                    t0 = time.perf_counter()
                    page.keyboard.press(keys[gold[int(item)]])
                    page.wait_for_function("(old) => document.body.dataset.itemId !== old", arg=item)
                    wall = (time.perf_counter() - t0) * 1000
                    if i == args.query_size - 1:
                        in_page = page.evaluate(LAST_LATENCY)
                        model = api.get("/api/stats").json()["model"]
                        state = f"model v{model['version']}, {model['phase']}"
                        batch_ends.append((state, in_page, wall))
                # bob labels too (overlap items first), sometimes disagreeing
                for j in range(3):
                    nxt = bob.get("/api/next").json()
                    label = gold[int(nxt["item_id"])] if j else sorted(keys)[0]
                    bob.post("/api/labels", json={"item_id": nxt["item_id"], "label": label})
            time.sleep(4.5)  # one stats refresh
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.screenshot), full_page=True)
            shrink(args.screenshot)
            all_latencies = page.evaluate(LATENCIES)
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    print("keypress of a batch's last label -> next item's text on screen (ms):")
    for batch, (state, in_page, wall) in enumerate(batch_ends):
        print(f"  batch {batch + 1}: {in_page:6.1f} in page, {wall:6.1f} incl. Playwright   [{state}]")
    print(
        f"all {len(all_latencies)} labels: median {statistics.median(all_latencies):.1f} ms, "
        f"max {max(all_latencies):.1f} ms (in page)"
    )
    print(f"screenshot: {args.screenshot}")


if __name__ == "__main__":
    main()
