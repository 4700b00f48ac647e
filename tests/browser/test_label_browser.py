"""A real browser (Debian's Chromium via Playwright) labels amazon-in titles with the keyboard."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pandas as pd
import pytest
from label_support import Server, bearer, new_project, small_amazon, wait_for_model

EVIL = '<img src=x onerror="window.__xss=1">Evil <b>bold</b> title'
QUERY_SIZE = 5
LATENCIES = "performance.getEntriesByName('alloop:key-to-item').map((e) => e.duration)"
"""The page's keypress -> next item on screen times (ms), from the browser's performance timeline."""
LAST_LATENCY = f"({LATENCIES}).at(-1)"


@pytest.fixture(scope="module")
def site(amazon_sample, tmp_path_factory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("browser")
    data = small_amazon(amazon_sample, folder / "data", per_class=10, extra=[EVIL])
    tokens, args = new_project(folder / "project", data, ["alice", "bob"])
    args += ["--gold", "category", "--classifier", "tfidf", "--query-size", str(QUERY_SIZE)]
    server = Server(args, folder / "server.log").start(tokens["alice"])
    frame = pd.read_parquet(data)
    yield {"url": server.url, "tokens": tokens, "gold": frame["category"], "evil_id": str(len(frame) - 1)}
    server.stop()


def shown_item(page) -> str:
    return page.evaluate("document.body.dataset.itemId || ''")


def wait_for_new_item(page, previous: str) -> str:
    page.wait_for_function("(old) => (document.body.dataset.itemId || '') !== old", arg=previous)
    return shown_item(page)


def test_keyboard_labelling_with_live_retraining(site, browser, tmp_path):
    url, tokens, gold = site["url"], site["tokens"], site["gold"]
    # an item whose title is HTML, labelled through the API so it shows in the recent list
    with httpx.Client(base_url=url, headers=bearer(tokens["alice"])) as api:
        first = api.get("/api/next").json()["item_id"]
        api.post("/api/labels", json={"item_id": first, "label": gold[int(first)]}).raise_for_status()
        answer = api.post("/api/labels", json={"item_id": site["evil_id"], "label": "stores"})
        assert answer.status_code == 200, answer.text

    # bypass_csp lets Playwright evaluate its probes; it also means the escaping checked below
    # holds by itself, without the page's Content-Security-Policy (tested in test_label_api)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url}/#token={tokens['alice']}")
    page.wait_for_function("document.body.dataset.itemId")
    assert "token" not in page.url  # the token leaves the address bar at once
    keys = page.eval_on_selector_all(
        "#buttons button",
        "bs => Object.fromEntries(bs.map(b => [b.dataset.label, b.querySelector('kbd').textContent]))",
    )
    assert list(keys.values())[:10] == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "a"]

    # the escaped title: shown as text, no element injected, no script run
    page.wait_for_function("document.querySelectorAll('#recent-list li').length >= 2")
    assert EVIL in page.inner_text("#recent-list")
    assert page.evaluate("document.querySelectorAll('#recent-list img, #recent-list b').length") == 0
    assert page.evaluate("window.__xss === undefined")

    # label a batch with the keyboard alone: 1-9 then letters
    item = shown_item(page)
    timings = []
    for _ in range(QUERY_SIZE - 2):  # with the two API labels: one batch
        assert page.inner_text("#item-fields") and item
        started = time.perf_counter()
        page.keyboard.press(keys[gold[int(item)]])
        item = wait_for_new_item(page, item)
        timings.append(time.perf_counter() - started)
    batch_end = page.evaluate(LAST_LATENCY)

    # new items from the retrained model arrive while labelling goes on
    wait_for_model(url, tokens["alice"])  # a busy machine may retrain slower than keys are pressed
    sources = []
    for _ in range(3 * QUERY_SIZE):
        source = page.inner_text("#item-source")
        sources.append(source)
        if "margin" in source:
            break
        page.keyboard.press(keys[gold[int(item)]])
        item = wait_for_new_item(page, item)
    assert "chosen by margin · model v" in sources[-1], sources
    page.wait_for_function("document.getElementById('f1').textContent !== '\\u2013'")  # estimate shown
    page.wait_for_function("Number(document.getElementById('n-labelled').textContent) >= 5")

    # skip, undo, and unsure from the keyboard
    skipped = item
    page.keyboard.press("s")
    item = wait_for_new_item(page, item)
    page.keyboard.press("z")
    item = wait_for_new_item(page, item)
    assert item == skipped  # undo brings the skipped item back
    page.keyboard.press("u")
    item = wait_for_new_item(page, item)

    # change a recent label with the keyboard: Tab to its select, arrow to another label
    page.wait_for_function("document.querySelector('#recent-list select')")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('#recent-list') && document.activeElement.value"):
            break
    target = page.evaluate("document.activeElement.getAttribute('aria-label').split(' ').pop()")
    before = page.evaluate("document.activeElement.value")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # arrows only move the choice; Enter saves it
    page.wait_for_function("document.getElementById('message').textContent.startsWith('changed')")
    with httpx.Client(base_url=url, headers=bearer(tokens["alice"])) as api:
        recent = {
            r["item_id"]: r["label"] for r in api.get("/api/recent", params={"limit": 50}).json()["items"]
        }
    assert recent[target] != before

    # a second annotator in another browser gets a different item
    other = browser.new_context(bypass_csp=True).new_page()
    other.goto(f"{url}/#token={tokens['bob']}")
    other.wait_for_function("document.body.dataset.itemId")
    assert shown_item(other) != shown_item(page)
    assert other.inner_text("#who") == "labelling as bob"

    page.screenshot(path=str(tmp_path / "page.png"))
    assert not errors, errors
    print(
        f"\nkeypress to next item on screen: last label of the batch {batch_end:.1f} ms (in page); "
        f"per label {min(timings) * 1000:.0f}-{max(timings) * 1000:.0f} ms (Playwright round trip)"
    )
    context.close()
