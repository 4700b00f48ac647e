"""A real browser (Debian's Chromium via Playwright), keyboard only: a class nobody labelled is
flagged, found by search, labelled from the results, and the flag goes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import httpx
import pandas as pd
import pytest
from label_support import Server, bearer, new_project, small_amazon

MISSING = "music"
TARGET_TITLE = "AHUJA Wireless Microphone AWM-700U2"
"""A music title of the small data set; searched for by two of its words."""


@pytest.fixture(scope="module")
def site(amazon_sample, tmp_path_factory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("browser-classes")
    data = small_amazon(amazon_sample, folder / "data", per_class=6)
    tokens, args = new_project(folder / "project", data, ["alice"])
    args += ["--classifier", "tfidf", "--query-size", "50"]  # no retrain reorders anything meanwhile
    server = Server(args, folder / "server.log").start(tokens["alice"])
    frame = pd.read_parquet(data)
    yield {"url": server.url, "token": tokens["alice"], "frame": frame, "db": folder / "project" / "label.db"}
    server.stop()


def test_find_and_label_a_missing_class_from_the_keyboard(site, browser, tmp_path):
    frame, token = site["frame"], site["token"]
    target = str(frame.index[frame["title"] == TARGET_TITLE][0])
    with httpx.Client(base_url=site["url"], headers=bearer(token)) as api:
        # every class but one already has a label, given by API without being handed out
        for label, rows in frame.groupby("category"):
            if label != MISSING:
                body = {"item_id": str(rows.index[-1]), "label": label}
                api.post("/api/labels", json=body).raise_for_status()
        assert api.get("/api/stats").json()["missing_classes"] == [MISSING]

    context = browser.new_context(viewport={"width": 1280, "height": 1000}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site['url']}/#token={token}")
    page.wait_for_function("document.body.dataset.itemId")
    on_screen = page.evaluate("document.body.dataset.itemId")

    # the missing class is listed near the buttons, and its button is marked
    page.wait_for_function("!document.getElementById('missing-classes').hidden")
    assert page.inner_text("#missing-classes").startswith("No label yet (1): music")
    assert page.eval_on_selector_all("#buttons button.missing", "bs => bs.map(b => b.dataset.label)") == [
        MISSING
    ]
    key = page.eval_on_selector(f'#buttons button[data-label="{MISSING}"] kbd', "k => k.textContent")

    # "/" focuses the search box; typed keys search, they do not label the item on screen
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search-input"
    page.keyboard.type("ahuja microphone")
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement.closest('#search-results')")  # the first result
    for _ in range(30):
        if page.evaluate("document.activeElement.dataset.itemId") == target:
            break
        page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.itemId") == target
    assert "not labelled yet" in page.evaluate("document.activeElement.textContent")
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)

    # the class key labels the highlighted result; the flag goes
    page.keyboard.press(key)
    shows = "(text) => document.activeElement.textContent.includes(text)"
    page.wait_for_function(shows, arg=f"you: {MISSING}")  # the result says it is labelled now
    assert "found by search" in page.inner_text("#message")
    page.wait_for_function("document.getElementById('missing-classes').hidden")
    assert page.eval_on_selector_all("#buttons button.missing", "bs => bs.length") == 0
    assert page.evaluate("document.body.dataset.itemId") == on_screen  # the queue's item stays
    with sqlite3.connect(site["db"]) as db:
        row = db.execute(
            "SELECT l.label, l.source FROM labels l JOIN items i USING (pos) WHERE i.item_id = ?", (target,)
        ).fetchone()
    assert row == (MISSING, "search")

    # Esc goes back to the queue, where the class keys label the item on screen again
    page.keyboard.press("Escape")
    page.keyboard.press("1")
    page.wait_for_function("(old) => document.body.dataset.itemId !== old", arg=on_screen)
    assert not errors, errors
    context.close()
