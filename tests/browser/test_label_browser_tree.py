"""A real browser (Debian's Chromium via Playwright) labels in a 600-leaf category tree with the
keyboard alone: by type-ahead search, by a top-3 key, by breadcrumbs, and with a partial label."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import httpx
import pandas as pd
import pytest
from label_support import Server, bearer, new_project, wait_for_model
from tree_data import tree_catalogue

from alloop.data.taxonomy import DISPLAY_SEP

SELECTED = "document.querySelector('#tree-list li[aria-selected=true]')?.dataset.path"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("browser-tree")
    data = tree_catalogue(folder / "data", per_leaf=2)
    tokens, args = new_project(folder / "project", data, ["alice"])
    args += ["--classifier", "tfidf", "--query-size", "20"]
    server = Server(args, folder / "server.log").start(tokens["alice"])
    try:  # a failed seeding stops the server too
        frame = pd.read_parquet(data)
        with httpx.Client(base_url=server.url, headers=bearer(tokens["alice"]), timeout=60) as api:
            for pos in range(0, len(frame), 30):  # 40 labels through the API: two model rounds
                body = {"item_id": str(pos), "label": frame["path"][pos]}
                api.post("/api/labels", json=body).raise_for_status()
        wait_for_model(server.url, tokens["alice"], version=2)
        yield {
            "url": server.url,
            "token": tokens["alice"],
            "frame": frame,
            "db": folder / "project" / "label.db",
            "log": folder / "server.log",
        }
    finally:
        server.stop()


def stored(db, item_id: str) -> str:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT l.label FROM labels l JOIN items i USING (pos) WHERE i.item_id = ?", (item_id,)
        ).fetchone()
    return row[0]


def next_shown(page, old: str) -> str:
    page.wait_for_function("(old) => (document.body.dataset.itemId || '') !== old", arg=old)
    return page.evaluate("document.body.dataset.itemId")


def select(page, path: str) -> None:
    """↓ until the row of ``path`` is highlighted."""
    for _ in range(60):
        if page.evaluate(SELECTED) == path:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{path!r} never highlighted; rows: {page.inner_text('#tree-list')[:500]}")


def test_keyboard_labelling_in_a_600_leaf_tree(site, browser, tmp_path):
    frame, db = site["frame"], site["db"]
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site['url']}/#token={site['token']}")
    page.wait_for_function("document.body.dataset.itemId && document.body.dataset.mode === 'tree'")
    page.wait_for_function("document.querySelectorAll('#tree-counts details').length === 6")
    # no wall of 600 names: no flat buttons, a short list, counts collapsed by branch
    assert page.evaluate("document.querySelectorAll('#buttons button').length") == 0
    assert page.evaluate("document.querySelectorAll('#tree-list li').length") <= 20
    assert page.evaluate("document.querySelectorAll('#tree-counts .leaf').length") == 0
    assert "560 of 600 categories have no label yet" in page.inner_text("#tree-counts")
    assert page.evaluate("document.activeElement.id") == "tree-input"

    # 1. type-ahead: a few letters of the leaf's name, Enter picks the best match
    item = page.evaluate("document.body.dataset.itemId")
    gold = frame["path"][int(item)]
    leaf = gold.split(DISPLAY_SEP)[-1]
    words = " ".join(w[:4].lower() for w in leaf.split())  # "Crimson Kettle" -> "crim kett"
    if leaf == "Accessories":
        words = " ".join(gold.lower().split(DISPLAY_SEP)[1:])  # the path's words find it too
    page.keyboard.type(words)
    page.wait_for_function(f"{SELECTED} === {gold!r}")
    page.keyboard.press("Enter")
    item_2 = next_shown(page, item)
    assert stored(db, item) == gold

    # 2. the model's top 3: the best is pre-selected; key 2 takes the second
    top = page.evaluate("[...document.querySelectorAll('#tree-list li.top')].map((li) => li.dataset.path)")
    assert len(top) == 3 and page.evaluate(SELECTED) == top[0]
    assert page.evaluate("document.querySelector('#tree-list li.top kbd').textContent") == "1"
    page.keyboard.press("2")
    item_3 = next_shown(page, item_2)
    assert stored(db, item_2) == top[1]

    # 3. breadcrumbs: pick the branch, then its child, then the leaf; ← goes back up
    gold = frame["path"][int(item_3)]
    top_level, mid, _ = gold.split(DISPLAY_SEP)
    select(page, top_level)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"document.getElementById('tree-crumbs').textContent.includes({top_level!r})")
    page.keyboard.press("ArrowLeft")  # back to the top...
    page.wait_for_function("document.getElementById('tree-stop').hidden")
    select(page, top_level)
    page.keyboard.press("Enter")  # ...and in again: Enter opens a branch
    select(page, f"{top_level}{DISPLAY_SEP}{mid}")
    page.keyboard.press("Enter")
    crumbs = page.eval_on_selector_all("#tree-crumbs button", "bs => bs.map((b) => b.textContent)")
    assert crumbs == ["All categories", top_level, mid]
    select(page, gold)
    page.screenshot(path=str(tmp_path / "tree.png"), full_page=True)
    page.keyboard.press("Enter")
    item_4 = next_shown(page, item_3)
    assert stored(db, item_3) == gold

    # 4. a partial label: open the item's branch and stop there with Shift+Enter
    gold = frame["path"][int(item_4)]
    branch = DISPLAY_SEP.join(gold.split(DISPLAY_SEP)[:2])
    select(page, gold.split(DISPLAY_SEP)[0])
    page.keyboard.press("ArrowRight")
    select(page, branch)
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#tree-stop-name") == branch
    page.keyboard.press("Shift+Enter")
    item_5 = next_shown(page, item_4)
    assert stored(db, item_4) == branch
    page.wait_for_function("document.getElementById('tree-counts').textContent.includes('1 partial')")
    with httpx.Client(base_url=site["url"], headers=bearer(site["token"])) as api:
        stats = api.get("/api/stats").json()
    assert stats["partial"] == {branch: 1}

    # skip and undo from the keyboard
    page.keyboard.press("Alt+s")
    item_6 = next_shown(page, item_5)
    page.keyboard.press("Alt+z")
    assert next_shown(page, item_6) == item_5
    latencies = page.evaluate("performance.getEntriesByName('alloop:key-to-item').map((e) => e.duration)")
    assert len(latencies) == 5  # Enter, 2, Enter, Shift+Enter, Alt+s: each measured
    assert not errors, errors
    assert "Warning" not in site["log"].read_text()  # no library warning reaches the terminal
    context.close()


def test_a_reviewer_settles_a_tree_item_by_typing_its_path(site, browser):
    from alloop.labelling.storage.store import LabelStore

    frame, db = site["frame"], site["db"]
    store = LabelStore.open(db.parent)
    rita = store.add_annotator("rita", "reviewer")
    bob = store.add_annotator("bob")
    store.close()
    gold = frame["path"][33]
    with httpx.Client(base_url=site["url"], timeout=60) as api:
        for token, label in ((site["token"], gold), (bob, "Clothing > Audio")):  # a tie
            answer = api.post("/api/labels", headers=bearer(token), json={"item_id": "33", "label": label})
            answer.raise_for_status()
    page = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
    page.goto(f"{site['url']}/#token={rita}")
    page.wait_for_function("document.body.dataset.itemId")
    page.keyboard.press("Alt+r")  # plain letters go to the category search
    page.wait_for_function("document.body.dataset.reviewItemId === '33'")
    assert page.evaluate("document.querySelectorAll('#review-buttons button[data-label]').length") == 0
    assert page.evaluate("document.activeElement.id") == "review-path"
    page.keyboard.type(gold)
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('review-message').textContent.startsWith('decided')")
    with sqlite3.connect(db) as conn:
        decided = conn.execute("SELECT label FROM adjudications WHERE pos = 33").fetchone()
    assert decided == (gold,)
    page.keyboard.press("Escape")  # an empty field: back to labelling
    page.wait_for_function("!document.getElementById('app').hidden")
