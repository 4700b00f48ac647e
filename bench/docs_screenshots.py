"""The screenshots of docs/labelling.md, taken from the real labelling page (Debian's Chromium).

Starts `alloop label` on the amazon-in titles (`--classifier tfidf`, so no encoder is loaded)
with two annotators and a reviewer, labels through the JSON API with the data's own labels
(bob disagreeing on a few overlap items, so there is something to review), waits for a model,
then saves three full-page screenshots into docs/screenshots/: the labelling page with the
model's suggestion, a search, and the reviewer's view. Prints what each shows. Usage:

    python bench/docs_screenshots.py [--data PATH] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "amazon-in-products" / "amazon_in_products.parquet"
ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-sandbox"]
GUIDELINES = """# How to label

- Label what the product **is**, not what it is used with: a phone case is *accessories*.
- Sets and combos: the class of the main item.
- Not sure after reading the title and the sub-category? Press `u` (unsure): a reviewer decides.
"""


def shrink(path: Path) -> None:
    """A 64-colour palette keeps the committed PNG small and the text crisp."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--labels", type=int, default=60, help="labels alice gives before the shots")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from alloop.labelling.storage.store import LabelStore

    folder = Path(tempfile.mkdtemp(prefix="alloop-docs-shots-"))
    gold = pd.read_parquet(args.data, columns=["category"])["category"]
    (folder / "labels.txt").write_text("\n".join(sorted(gold.unique())) + "\n")
    (folder / "guidelines.md").write_text(GUIDELINES)
    store = LabelStore.open(folder / "project", create=True)
    tokens = {name: store.add_annotator(name) for name in ("alice", "bob")}
    tokens["rita"] = store.add_annotator("rita", role="reviewer")
    store.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "alloop", "label", "--project", str(folder / "project")]
    command += ["--data", str(args.data), "--labels-file", str(folder / "labels.txt"), "--gold", "category"]
    command += ["--classifier", "tfidf", "--query-size", "10", "--overlap", "0.3", "--port", str(port)]
    command += [
        "--show",
        "sub_category",
        "--show",
        "discount_price",
        "--guidelines",
        str(folder / "guidelines.md"),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    print(f"server log: {folder / 'server.log'}")
    clients = {
        # no keep-alive: a connection the server closed while idle is never reused (a reset)
        name: httpx.Client(
            base_url=url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        for name, token in tokens.items()
    }
    alice, bob = clients["alice"], clients["bob"]
    while True:
        try:
            alice.get("/api/stats").raise_for_status()
            break
        except httpx.TransportError:
            time.sleep(0.2)
    classes = sorted(gold.unique())
    try:
        for i in range(args.labels):  # alice answers with the data's labels; bob follows on some
            item = alice.get("/api/next").json()["item_id"]
            alice.post("/api/labels", json={"item_id": item, "label": gold[int(item)]}).raise_for_status()
            if i % 4 == 0:
                other = bob.get("/api/next").json()["item_id"]
                label = gold[int(other)]
                if i % 12 == 0:  # a disagreement: one class along
                    label = classes[(classes.index(label) + 1) % len(classes)]
                bob.post("/api/labels", json={"item_id": other, "label": label}).raise_for_status()
        deadline = time.monotonic() + 300
        while (item := alice.get("/api/next").json()).get("suggestion") is None:
            # an item handed out before the first model has no suggestion: answer it, take the next
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"no model suggestion after 300 s: {alice.get('/api/stats').json()['model']}"
                )
            if alice.get("/api/stats").json()["model"].get("version"):
                label = gold[int(item["item_id"])]
                alice.post(
                    "/api/labels", json={"item_id": item["item_id"], "label": label}
                ).raise_for_status()
            time.sleep(0.5)
        stats = alice.get("/api/stats").json()
        args.out.mkdir(parents=True, exist_ok=True)
        shots = {name: args.out / f"label-{name}.png" for name in ("page", "search", "review")}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
            page = context.new_page()
            page.goto(f"{url}/#token={tokens['alice']}")
            page.wait_for_function("document.body.dataset.itemId")
            page.wait_for_function("!document.getElementById('suggestion').hidden")
            page.wait_for_function("document.querySelectorAll('#recent-list li').length > 0")
            time.sleep(4.5)  # one stats refresh, so the chart and the counts are drawn
            page.screenshot(path=str(shots["page"]), full_page=True)

            page.keyboard.press("/")
            page.keyboard.type("guitar")
            page.keyboard.press("Enter")
            page.wait_for_function("document.activeElement.closest('#search-results')")
            page.keyboard.press("ArrowDown")
            page.screenshot(path=str(shots["search"]), full_page=True)

            rita = context.new_page()
            rita.goto(f"{url}/#token={tokens['rita']}")
            rita.wait_for_function("document.body.dataset.itemId")
            rita.wait_for_function(
                "document.getElementById('review-toggle')?.textContent.includes('Review (')"
            )
            rita.keyboard.press("Shift+R")
            rita.wait_for_function("document.body.dataset.reviewItemId")
            rita.screenshot(path=str(shots["review"]), full_page=True)
            review = rita.inner_text("#review-meta")
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    for path in shots.values():
        shrink(path)
    model = stats["model"]
    print(f"alice answered {args.labels}+ items; model v{model['version']}, macro-F1 {model['macro_f1']:.3f}")
    print(f"review view: {' '.join(review.split())}")
    for name, path in shots.items():
        print(f"{name}: {path.relative_to(ROOT)} ({path.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
