"""The model's suggestion in a real browser (Debian's Chromium via Playwright), keyboard only:
Enter accepts it, a class key overrides it; a recent label changes only when confirmed; a
#token= link logs in from the login form without a reload; guidelines and --show fields show."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pandas as pd
import pytest
from label_support import Server, bearer, new_project, small_amazon, wait_for_model

GUIDELINES = "# Rules\n\nLabel the **main** product.\n\n<script>window.__xss = 1</script>\n"


@pytest.fixture(scope="module")
def site(amazon_sample, tmp_path_factory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("browser-suggest")
    data = small_amazon(amazon_sample, folder / "data", per_class=10)
    (folder / "rules.md").write_text(GUIDELINES)
    tokens, args = new_project(folder / "project", data, ["alice"])
    args += ["--gold", "category", "--classifier", "tfidf", "--query-size", "5"]
    args += ["--show", "sub_category", "--guidelines", str(folder / "rules.md")]
    server = Server(args, folder / "server.log").start(tokens["alice"])
    yield {"url": server.url, "token": tokens["alice"], "frame": pd.read_parquet(data)}
    server.stop()


def shown_item(page) -> str:
    return page.evaluate("document.body.dataset.itemId || ''")


def wait_for_new_item(page, previous: str) -> str:
    page.wait_for_function("(old) => (document.body.dataset.itemId || '') !== old", arg=previous)
    return shown_item(page)


def test_suggestions_accepted_with_enter_and_overridden_with_a_key(site, browser):
    url, token, frame = site["url"], site["token"], site["frame"]
    gold = frame["category"]
    api = httpx.Client(base_url=url, headers=bearer(token))
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # the login form, then a #token= link in the same tab: logged in without a reload
    page.goto(f"{url}/")
    page.wait_for_selector("#login-form", state="visible")
    page.evaluate("window.__sameDocument = true")
    page.evaluate(f"location.hash = '#token={token}'")
    page.wait_for_function("document.body.dataset.itemId")
    assert page.evaluate("window.__sameDocument === true") and "token" not in page.url

    # the guidelines: a panel that ? opens and closes, the <script> in them shown as text
    page.wait_for_selector("#guidelines", state="visible")
    page.keyboard.press("?")
    assert page.evaluate("document.getElementById('guidelines').open")
    assert "window.__xss = 1" in page.inner_text("#guidelines-body")
    assert page.evaluate("window.__xss === undefined")
    page.keyboard.press("?")
    assert not page.evaluate("document.getElementById('guidelines').open")

    keys = page.eval_on_selector_all(
        "#buttons button",
        "bs => Object.fromEntries(bs.map(b => [b.dataset.label, b.querySelector('kbd').textContent]))",
    )
    # class keys until the first model's suggestions arrive (retrain every 5 labels)
    item = shown_item(page)
    shown = page.text_content("#item-shown")
    assert shown == "sub_category" + frame["sub_category"][int(item)]  # --show, under the title
    for answered in range(20):
        if page.is_visible("#suggestion"):
            break
        if answered == 5:  # the first retrain is due: on a busy machine it may take a while
            wait_for_model(url, token)
        page.keyboard.press(keys[gold[int(item)]])
        item = wait_for_new_item(page, item)
    assert page.is_visible("#suggestion"), "no suggestion after 20 labels"

    # Enter accepts the suggestion shown (pre-selected on its button)
    suggested = page.get_attribute("#suggestion", "data-label")
    assert page.get_attribute("#buttons button.suggested", "data-label") == suggested
    accepted = item
    page.keyboard.press("Enter")
    item = wait_for_new_item(page, item)
    # another class key overrides the next one
    page.wait_for_selector("#suggestion", state="visible")
    offered = page.get_attribute("#suggestion", "data-label")
    override = next(label for label in keys if label != offered)
    overridden = item
    page.keyboard.press(keys[override])
    item = wait_for_new_item(page, item)
    recent = {r["item_id"]: r["label"] for r in api.get("/api/recent", params={"limit": 50}).json()["items"]}
    assert recent[accepted] == suggested and recent[overridden] == override
    rate = api.get("/api/stats").json()["suggestions"]
    assert (rate["with_suggestion"], rate["accepted"]) == (2, 1)
    page.wait_for_selector("#quality svg circle")  # the quality chart has the first model
    page.wait_for_function("document.getElementById('suggest-rate').textContent.includes('of 2')")

    # the recent list: arrow keys move the choice without saving; Enter saves it once
    posts: list[dict] = []
    page.on(
        "request",
        lambda r: (
            posts.append(json.loads(r.post_data))
            if r.method == "POST" and r.url.endswith("/api/labels")
            else None
        ),
    )
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('#recent-list') && document.activeElement.value"):
            break
    target = page.evaluate("document.activeElement.closest('li').dataset.itemId")
    before = page.evaluate("document.activeElement.value")
    down = page.evaluate("document.activeElement.selectedIndex < document.activeElement.length / 2")
    page.keyboard.press("ArrowDown" if down else "ArrowUp")
    page.keyboard.press("ArrowDown" if down else "ArrowUp")
    moved = page.evaluate("document.activeElement.value")
    assert moved != before
    assert page.is_visible(f'#recent-list li[data-item-id="{target}"] button.save')
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('message').textContent.startsWith('changed')")
    assert posts == [{"item_id": target, "label": moved}]  # one save, after Enter, of the final choice
    recent = {r["item_id"]: r["label"] for r in api.get("/api/recent", params={"limit": 50}).json()["items"]}
    assert recent[target] == moved
    assert not errors, errors
    context.close()
    api.close()
