"""kill -9 of the labelling server while 4 clients label: no acknowledged label is lost or doubled."""

from __future__ import annotations

import random
import sqlite3
import threading
import time

import httpx
from label_support import Server, bearer, new_project, small_amazon

from alloop.labelling.interop.exporting import export_frame
from alloop.labelling.storage.store import LabelStore

CLIENTS = 4
KILLS = 4


def client(url: str, token: str, labels: list[str], seed: int, stop: threading.Event, log: dict) -> None:
    """Label items from /api/next; now and then change an earlier label. Record every answer the
    server acknowledged with 200; a request cut by the crash is retried after the restart."""
    rng = random.Random(seed)
    acked: dict[str, str] = log["acked"]
    with httpx.Client(base_url=url, headers=bearer(token), timeout=5.0) as http:
        while not stop.is_set():
            try:
                if acked and rng.random() < 0.15:
                    body = {"item_id": rng.choice(sorted(acked)), "label": rng.choice(labels)}
                else:
                    item = http.get("/api/next").json()
                    if item["item_id"] is None:
                        return
                    body = {"item_id": item["item_id"], "label": rng.choice(labels)}
                while not stop.is_set():
                    try:
                        answer = http.post("/api/labels", json=body)
                    except httpx.TransportError:  # the server died mid-request: retry the same
                        log["retries"] += 1
                        time.sleep(0.05)
                        continue
                    if answer.status_code == 200:
                        acked[body["item_id"]] = body["label"]
                    else:
                        log["refused"].append((answer.status_code, answer.text))
                    break
            except (httpx.TransportError, ValueError):
                time.sleep(0.05)  # down or restarting


def test_sigkill_during_concurrent_labelling_loses_no_acknowledged_label(amazon_sample, tmp_path):
    data = small_amazon(amazon_sample, tmp_path / "data", per_class=20)
    labels = (tmp_path / "data" / "labels.txt").read_text().split("\n")[:-1]
    project = tmp_path / "project"
    tokens, args = new_project(project, data, [f"annotator{i}" for i in range(CLIENTS)])
    server = Server([*args, "--classifier", "tfidf", "--query-size", "5"], tmp_path / "server.log")
    first_token = next(iter(tokens.values()))
    server.start(first_token)
    server.args = server.args[:6] + server.args[-2:]  # restarts resume with --project alone
    stop = threading.Event()
    logs = {name: {"acked": {}, "retries": 0, "refused": []} for name in tokens}
    threads = [
        threading.Thread(target=client, args=(server.url, tokens[name], labels, i, stop, logs[name]))
        for i, name in enumerate(tokens)
    ]
    for t in threads:
        t.start()
    rng = random.Random(0)
    counts = []
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.5, 2.0))
            counts.append(sum(len(log["acked"]) for log in logs.values()))
            server.kill()
            server.start(first_token)
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        server.kill()

    acked_total = sum(len(log["acked"]) for log in logs.values())
    assert all(not log["refused"] for log in logs.values()), [log["refused"][:3] for log in logs.values()]
    assert acked_total >= 40 and counts == sorted(counts) and counts[0] > 0, counts  # labels on every leg
    assert sum(log["retries"] for log in logs.values()) >= 1  # some request was cut by a kill

    db = sqlite3.connect(project / "label.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = db.execute(
        "SELECT i.item_id, a.name, l.status, l.label FROM labels l JOIN items i USING (pos) "
        "JOIN annotators a ON a.id = l.annotator"
    ).fetchall()
    db.close()
    found: dict[tuple[str, str], list[str]] = {}
    for item_id, name, status, label in rows:
        assert status == "label"
        found.setdefault((item_id, name), []).append(label)
    for name, log in logs.items():
        for item_id, label in log["acked"].items():
            assert found.get((item_id, name)) == [label], (item_id, name)  # present exactly once
    per_item = [item for item, _ in found]
    assert len(per_item) == len(set(per_item))  # no item was handed to two annotators

    store = LabelStore.open(project)
    names = {a.id: a.name for a in store.annotators()}
    frame = export_frame(store.config(), store.items(), store.label_rows(), names).set_index("item_id")
    store.close()
    for name, log in logs.items():
        for item_id, label in log["acked"].items():
            assert frame.loc[item_id, f"label_{name}"] == label
            assert frame.loc[item_id, "final_label"] == label
