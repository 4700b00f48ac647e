"""Review from the keyboard in a real browser (Debian's Chromium via Playwright): two annotators
make a tie, a reviewer settles it, and an annotator's page never shows another person's name or
answer."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from label_support import Server, bearer, new_project, small_amazon

from alloop.labelling.storage.store import LabelStore

ALICE, BOB, RITA = "zz-alice", "zz-bob", "zz-rita"  # names no product title contains


@pytest.fixture(scope="module")
def site(tmp_path_factory, amazon_sample) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("browser-review")
    data = small_amazon(amazon_sample, folder / "data", per_class=3)
    tokens, args = new_project(folder / "project", data, [ALICE, BOB])
    store = LabelStore.open(folder / "project")
    tokens[RITA] = store.add_annotator(RITA, role="reviewer")
    store.close()
    # every item goes to two annotators, so bob gets the item alice just labelled
    args += ["--classifier", "tfidf", "--overlap", "1", "--query-size", "50"]
    server = Server(args, folder / "server.log").start(tokens[ALICE])
    labels = (data.parent / "labels.txt").read_text().split()
    yield {"url": server.url, "tokens": tokens, "labels": labels}
    server.stop()


def open_page(browser, url: str, token: str, errors: list[str]):
    page = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url}/#token={token}")
    page.wait_for_function("document.body.dataset.itemId")
    return page


def test_a_reviewer_settles_a_tie_from_the_keyboard(site, browser):
    url, tokens, labels = site["url"], site["tokens"], site["labels"]
    errors: list[str] = []
    answers: list[object] = []  # every API answer alice's page receives
    alice = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
    alice.on("response", lambda r: answers.append(r) if "/api/" in r.url else None)
    alice.on("pageerror", lambda exc: errors.append(str(exc)))
    alice.goto(f"{url}/#token={tokens[ALICE]}")
    alice.wait_for_function("document.body.dataset.itemId")
    item = alice.evaluate("document.body.dataset.itemId")
    alice.keyboard.press("1")  # the first class
    alice.wait_for_function("(old) => document.body.dataset.itemId !== old", arg=item)

    bob = open_page(browser, url, tokens[BOB], errors)
    assert bob.evaluate("document.body.dataset.itemId") == item  # the overlap: a second opinion
    bob.keyboard.press("2")  # another class: a tie
    bob.wait_for_function("(old) => document.body.dataset.itemId !== old", arg=item)
    assert bob.locator("#review-toggle").count() == 0  # no review for an annotator

    rita = open_page(browser, url, tokens[RITA], errors)
    rita.wait_for_function("document.getElementById('review-toggle')?.textContent.includes('Review (1)')")
    rita.keyboard.press("Shift+R")
    rita.wait_for_function("(id) => document.body.dataset.reviewItemId === id", arg=item)
    assert rita.is_hidden("#app") and rita.is_visible("#review-view")
    shown = rita.inner_text("#review-answers")
    assert f"{ALICE}: {labels[0]}" in shown and f"{BOB}: {labels[1]}" in shown
    assert "tie" in rita.inner_text("#review-meta")
    rita.keyboard.press("Enter")  # nothing chosen yet: refused on the page, nothing sent
    rita.wait_for_function("document.getElementById('review-message').textContent.includes('choose')")
    rita.keyboard.press("2")
    rita.wait_for_function("document.querySelector('#review-buttons button.chosen')")
    rita.keyboard.press("Enter")
    rita.wait_for_function("document.getElementById('review-message').textContent.startsWith('decided')")
    rita.wait_for_function("document.body.dataset.reviewItemId === ''")
    assert "Nothing to review" in rita.inner_text("#review-fields")
    rita.keyboard.press("Escape")  # back to labelling
    rita.wait_for_function("!document.getElementById('app').hidden")

    with httpx.Client(base_url=url, headers=bearer(tokens[RITA])) as api:
        assert api.get("/api/review").json()["done"]
        stats = api.get("/api/stats").json()
    assert stats["ties"] == 0 and stats["per_class"][labels[1]] == 1  # the reviewer's label is final

    # alice's page, refreshed after all this: her own answer, aggregates, nobody else
    with alice.expect_response(lambda r: "/api/stats" in r.url, timeout=15_000):
        pass  # the page refreshes its stats every 4 s
    alice.wait_for_function("document.getElementById('agreement').textContent.includes('reviewers only')")
    alice.wait_for_function("document.querySelectorAll('#recent-list li').length === 1")
    text = alice.inner_text("body")
    assert BOB not in text and RITA not in text and alice.locator("#disagreements li").count() == 0
    assert alice.locator("#review-toggle").count() == 0
    assert alice.eval_on_selector("#recent-list select", "s => s.value") == labels[0]  # hers, not bob's
    bodies = [r.text() for r in answers]  # type: ignore[attr-defined]
    assert len(bodies) >= 6
    for body in bodies:
        assert BOB not in body and RITA not in body, body
        recent = json.loads(body).get("items")
        for record in recent if isinstance(recent, list) else []:  # /api/recent: her label only
            assert record["item_id"] != item or record["label"] == labels[0], record
    assert not errors, errors
