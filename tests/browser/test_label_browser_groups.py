"""The page offers an item's near-duplicates; ticking them (here all, with +) and answering with a
key labels them too, with source ``group``; unticked ones stay unlabelled."""

from __future__ import annotations

import socket
import threading
import time

import pandas as pd
import uvicorn

from alloop.labelling.api.app import create_app
from alloop.labelling.domain.queue import Snapshot
from alloop.labelling.domain.service import LabelService
from alloop.labelling.storage.project import open_project

TITLES = [
    "apple iphone 8 plus 64gb silver",
    "apple iphone 8 plus 64 gb silber",
    "apple iphone 8 plus 64gb 5.5 12mp sim free smartphone in silver",
    "samsung fridge freezer rb34",
    "samsung fridge freezer rb34 silver",
    "sony tv 55 inch",
]
LABELS = ("Mobile Phones", "Fridge Freezers", "TVs")


def test_ticked_similar_listings_get_the_label(tmp_path, browser):
    data = tmp_path / "d.csv"
    pd.DataFrame({"title": TITLES}).to_csv(data, index=False)
    given = {"data": str(data), "labels": LABELS, "classifier": "tfidf", "query_size": 2}
    store, config, items = open_project(tmp_path / "p", given)
    token = store.add_annotator("alice")
    service = LabelService(store, config, items, train=False)
    service._publish(Snapshot((0, 3), "margin", 1, 2, similar={0: (1, 2), 3: (4,)}))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(service), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{sock.getsockname()[1]}/#token={token}")
        page.wait_for_selector("#similar:not([hidden])")
        assert page.locator("#similar-list li").count() == 2
        page.keyboard.press("+")  # tick both
        page.keyboard.press("1")  # Mobile Phones
        page.wait_for_function("(want) => document.body.dataset.itemId === want", arg="3")
        assert page.locator("#similar-list li").count() == 1
        page.keyboard.press("2")  # Fridge Freezers, with nothing ticked
        page.wait_for_function("(old) => (document.body.dataset.itemId || '') !== old", arg="3")
        page.close()
        rows = {r.pos: (r.label, r.source) for r in store.label_rows()}
        assert rows == {
            0: ("Mobile Phones", "queue"),
            1: ("Mobile Phones", "group"),
            2: ("Mobile Phones", "group"),
            3: ("Fridge Freezers", "queue"),
        }
    finally:
        server.should_exit = True
        deadline = time.monotonic() + 10
        while thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        service.close()
