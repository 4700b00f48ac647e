"""How long does a person wait in the labelling page? Prints keypress-to-next-item latencies.

Starts `alloop label` with the defaults (bert-frozen, margin) on the amazon-in titles with two
annotators, drives Debian's Chromium with the keyboard through several batches (while the pool is
still being embedded, then with trained models), and saves a screenshot. Usage:

    python bench/label_browser.py [--data PATH] [--batches 4] [--query-size 10] [--screenshot FILE]

Tree mode (``--tree 2000``): the labels are a category tree of about that many leaves, amazon-in's
category > sub_category with each sub-category split into numbered product types (a synthetic
third level: the gold leaf of a title is drawn from a hash of its row number), written as a
labels file of paths. The page is the tree picker; every item is labelled from the keyboard, in
turn by type-ahead (type the leaf's words, ↓ to the gold path if needed, Enter), by the model's
top-1 key ``1`` and by breadcrumbs (→ into the branch, Enter on the leaf). Prints the median and
p95 of keypress -> next item on screen (the page's ``alloop:key-to-item`` measure) per method.

    python bench/label_browser.py --tree 2000 --items 60 --classifier tfidf \\
        --screenshot docs/label_tree_screenshot.png
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
PICKER = "performance.getEntriesByName('alloop:tree-picker').map((e) => e.duration)"
"""Tree mode: the picker's own share of each next item (its re-render), in ms."""
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
    parser.add_argument("--screenshot", type=Path, default=None)
    parser.add_argument("--tree", type=int, default=0, help="leaves of a category tree (tree mode)")
    parser.add_argument("--items", type=int, default=60, help="items labelled in tree mode")
    parser.add_argument("--classifier", default=None, help="the project's classifier [default: alloop's]")
    parser.add_argument(
        "--idle", action="store_true", help="tree mode: press each key only while no model trains"
    )
    args = parser.parse_args()
    if args.tree:
        return tree_main(args)
    args.screenshot = args.screenshot or ROOT / "docs" / "label_screenshot.png"
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


def tree_frame(data: Path, leaves: int) -> pd.DataFrame:
    """amazon-in titles with a 3-level path: category > sub_category > "<sub_category> type NN",
    NN in 1..k with k chosen so the tree has about ``leaves`` leaves."""
    frame = pd.read_parquet(data, columns=["title", "category", "sub_category"]).reset_index(drop=True)
    subs = frame.groupby(["category", "sub_category"]).size()
    per = max(1, round(leaves / len(subs)))
    kind = (pd.util.hash_array(frame.index.to_numpy()) % per + 1).astype(int)
    frame["leaf"] = [f"{s} type {k:02d}" for s, k in zip(frame["sub_category"], kind, strict=True)]
    frame["path"] = frame["category"] + " > " + frame["sub_category"] + " > " + frame["leaf"]
    frame.attrs["paths"] = [f"{c} > {s} > {s} type {k:02d}" for c, s in subs.index for k in range(1, per + 1)]
    return frame


def stats(api: httpx.Client, server: subprocess.Popen) -> dict:
    """``/api/stats``; a keep-alive connection the busy server dropped is retried."""
    for _ in range(20):
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            return api.get("/api/stats").json()
        except httpx.TransportError:
            time.sleep(0.5)
    raise RuntimeError("no answer from /api/stats")


def busy(api: httpx.Client, server: subprocess.Popen) -> bool:
    """Whether the server's trainer is training."""
    return bool(stats(api, server)["model"]["training"])


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def tree_main(args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    from alloop.labelling.storage.store import LabelStore

    folder = Path(tempfile.mkdtemp(prefix="alloop-label-tree-bench-"))
    frame = tree_frame(args.data, args.tree)
    frame.to_parquet(folder / "data.parquet")
    (folder / "labels.txt").write_text("\n".join(frame.attrs["paths"]) + "\n")
    n_leaves = len(frame.attrs["paths"])
    store = LabelStore.open(folder / "project", create=True)
    token = store.add_annotator("alice")
    store.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "alloop", "label", "--project", str(folder / "project")]
    command += ["--data", str(folder / "data.parquet"), "--labels-file", str(folder / "labels.txt")]
    command += ["--query-size", str(args.query_size), "--port", str(port)]
    if args.classifier:
        command += ["--classifier", args.classifier]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    while True:
        try:
            api.get("/api/stats").raise_for_status()
            break
        except httpx.TransportError:
            time.sleep(0.1)
    print(f"server log: {folder / 'server.log'}")
    print(f"tree of {n_leaves} leaves (19 > 111 > {n_leaves // 111} per sub-category), {len(frame):,} items")
    selected = "document.querySelector('#tree-list li[aria-selected=true]')?.dataset.path"
    by_method: dict[str, list[float]] = {"type-ahead": [], "top-3 key": [], "breadcrumbs": []}
    misses: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, bypass_csp=True)
            page.goto(f"{url}/#token={token}")
            page.wait_for_function("document.body.dataset.itemId && document.body.dataset.mode === 'tree'")

            def select(path: str) -> bool:
                for _ in range(80):
                    if page.evaluate(selected) == path:
                        return True
                    page.keyboard.press("ArrowDown")
                field = page.evaluate("document.getElementById('tree-input').value")
                misses.append(f"{path!r} not offered for {field!r}: {page.inner_text('#tree-list')[:200]!r}")
                page.keyboard.press("Escape")
                page.keyboard.press("Escape")
                return False

            def breadcrumbs(top: str, sub: str, gold: str) -> None:
                select(top)
                page.keyboard.press("ArrowRight")
                select(f"{top} > {sub}")
                page.keyboard.press("ArrowRight")
                select(gold)
                page.keyboard.press("Enter")

            for i in range(args.items):
                if args.idle:  # the page and the API alone, no training in the server meanwhile
                    while busy(api, server):
                        time.sleep(0.5)
                item = page.evaluate("document.body.dataset.itemId")
                gold = frame["path"][int(item)]
                top, sub, leaf = gold.split(" > ")
                has_top = page.evaluate("document.querySelectorAll('#tree-list li.top').length") > 0
                method = ("type-ahead", "top-3 key", "breadcrumbs")[i % 3]
                if method == "top-3 key" and not has_top:
                    method = "type-ahead"  # no model yet
                if method == "type-ahead":
                    page.keyboard.type(" ".join(w[:5] for w in leaf.lower().split()))
                    if select(gold):
                        page.keyboard.press("Enter")
                    else:  # counted below, labelled by breadcrumbs instead
                        method = "breadcrumbs"
                        breadcrumbs(top, sub, gold)
                elif method == "top-3 key":
                    page.keyboard.press("1")
                else:
                    breadcrumbs(top, sub, gold)
                page.wait_for_function("(old) => document.body.dataset.itemId !== old", arg=item)
                by_method[method].append(page.evaluate(LAST_LATENCY))
            picker = page.evaluate(PICKER)
            deadline = time.monotonic() + 300
            while stats(api, server)["model"]["version"] < 1 and time.monotonic() < deadline:
                time.sleep(1)  # the screenshot shows the model's top 3
            page.keyboard.press("Alt+s")
            time.sleep(4.5)  # one stats refresh
            if args.screenshot:
                args.screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.screenshot), full_page=True)
                shrink(args.screenshot)
            model = stats(api, server)["model"]
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    print(f"model at the end: v{model['version']} ({model['classifier']}), phase {model['phase']}")
    print("keypress -> next item on screen, picker ready (ms, in page):")
    everything = [v for values in by_method.values() for v in values]
    for method, values in [*by_method.items(), ("all", everything)]:
        if values:
            print(
                f"  {method:12s} n={len(values):3d}  median {statistics.median(values):6.1f}  "
                f"p95 {p95(values):6.1f}  max {max(values):6.1f}"
            )
    print(
        f"  of which the picker's re-render: median {statistics.median(picker):.1f}, p95 {p95(picker):.1f}, "
        f"max {max(picker):.1f} ms ({len(picker)} items shown)"
    )
    print(f"type-ahead misses (gold path not offered, labelled by breadcrumbs instead): {len(misses)}")
    for miss in misses:
        print(f"  {miss}")
    if args.screenshot:
        print(f"screenshot: {args.screenshot}")


if __name__ == "__main__":
    main()
