"""Latency of the labelling API as labels pile up: ``GET /api/next`` and ``POST /api/labels`` (and
``GET /api/stats``) p50/p99 with 100, 2,000 and 20,000 labels already stored, 8 concurrent clients.

A synthetic project of 30,000 items (tfidf, 10 classes, overlap 0.1) is filled with stored labels
up to each level, then served by the real app (uvicorn on a loopback port, no background training,
so only per-request work is measured). Each of 8 client threads runs one untimed warm-up round,
then a bounded loop: next, label, and every 10th round stats. Levels are measured in turns,
``--repeats`` times; the medians over the repeats are printed.

    python bench/api_latency.py
    python bench/api_latency.py --levels 100 2000 20000 --rounds 40 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import uvicorn

from alloop.labelling.api.app import create_app
from alloop.labelling.domain.service import LabelService
from alloop.labelling.storage.project import open_project
from alloop.labelling.storage.store import LabelStore, now_iso

CLASSES = tuple(f"class{i}" for i in range(10))
WORDS = [
    *("steel", "cotton", "guitar", "kettle", "shirt", "drum", "linen", "tea"),
    *("cup", "lamp", "chair", "phone", "cable", "book", "shoe"),
]


def make_project(folder: Path, n_items: int) -> tuple[Path, dict[str, str]]:
    rng = np.random.default_rng(0)
    titles = [" ".join(rng.choice(WORDS, 4)) + f" model {i}" for i in range(n_items)]
    data = folder / "items.parquet"
    pd.DataFrame({"title": titles, "category": rng.choice(CLASSES, n_items)}).to_parquet(data)
    given = {"data": str(data), "labels": CLASSES, "classifier": "tfidf", "overlap": 0.1, "gold": "category"}
    store, _, _ = open_project(folder / "project", given)
    tokens = {f"user{i}": store.add_annotator(f"user{i}") for i in range(8)}
    store.add_annotator("filler")
    store.close()
    return folder / "project", tokens


def fill(project: Path, target: int) -> int:
    """Store labels by the 'filler' annotator on the first unanswered items until ``target``."""
    store = LabelStore.open(project)
    try:
        filler = next(a.id for a in store.annotators() if a.name == "filler")
        have = len(store.label_rows())
        taken = {r.pos for r in store.label_rows()}
        free = [p for p in range(len(store.items())) if p not in taken][: max(0, target - have)]
        stamp = now_iso()
        with store.transaction() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM labels").fetchone()[0]
            db.executemany(
                "INSERT INTO labels (pos, annotator, status, label, created_at, updated_at, seq) "
                "VALUES (?, ?, 'label', ?, ?, ?, ?)",
                [(p, filler, CLASSES[p % 10], stamp, stamp, seq + i + 1) for i, p in enumerate(free)],
            )
        return len(store.label_rows())
    finally:
        store.close()


def serve(project: Path) -> tuple[uvicorn.Server, threading.Thread, int, LabelService]:
    store = LabelStore.open(project)
    config = store.config()
    assert config is not None
    return serve_service(LabelService(store, config, store.items(), train=False))


def serve_service(service: LabelService) -> tuple[uvicorn.Server, threading.Thread, int, LabelService]:
    """The real app for ``service`` on a free loopback port, in a thread; returns once it listens."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(create_app(service), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, sock.getsockname()[1], service


def client(
    port: int, token: str, rounds: int, seed: int, times: dict[str, list[float]], lock: threading.Lock
):
    rng = np.random.default_rng(seed)
    mine: dict[str, list[float]] = {"next": [], "labels": [], "stats": []}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120) as http:
        first = http.get("/api/next").json()  # warm-up, not timed: connections, lazy imports
        http.post("/api/labels", json={"item_id": first["item_id"], "skip": True}).raise_for_status()
        http.get("/api/stats").raise_for_status()
        for i in range(rounds):
            start = time.perf_counter()
            item = http.get("/api/next").json()
            mine["next"].append(time.perf_counter() - start)
            if item.get("item_id") is None:
                break
            start = time.perf_counter()
            answer = http.post(
                "/api/labels", json={"item_id": item["item_id"], "label": str(rng.choice(CLASSES))}
            )
            mine["labels"].append(time.perf_counter() - start)
            assert answer.status_code == 200, answer.text
            if i % 10 == 0:
                start = time.perf_counter()
                http.get("/api/stats").raise_for_status()
                mine["stats"].append(time.perf_counter() - start)
    with lock:
        for key, values in mine.items():
            times[key].extend(values)


def run_clients(port: int, tokens: dict[str, str], rounds: int) -> dict[str, list[float]]:
    """One client thread per token, all at once; every request's milliseconds by endpoint."""
    times: dict[str, list[float]] = {"next": [], "labels": [], "stats": []}
    lock = threading.Lock()
    threads = [
        threading.Thread(target=client, args=(port, token, rounds, i, times, lock))
        for i, token in enumerate(tokens.values())
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def measure(project: Path, tokens: dict[str, str], rounds: int) -> dict[str, tuple[float, float]]:
    server, thread, port, service = serve(project)
    try:
        times = run_clients(port, tokens, rounds)
    finally:
        server.should_exit = True
        thread.join(10)
        service.close()
    return {k: (float(np.percentile(v, 50)), float(np.percentile(v, 99))) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=30_000)
    parser.add_argument("--levels", type=int, nargs="+", default=[100, 2_000, 20_000])
    parser.add_argument("--rounds", type=int, default=40, help="next+label rounds per client and level")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import sklearn.metrics  # noqa: F401 - once per server process (kappas); not a per-request cost

    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, python "
        f"{platform.python_version()}, load avg {os.getloadavg()[0]:.1f} at start; {args.items:,} items, "
        f"8 clients x {args.rounds} rounds, medians of {args.repeats} repeats (ms)"
    )
    results: dict[int, list[dict[str, tuple[float, float]]]] = {level: [] for level in args.levels}
    stored: dict[int, list[int]] = {level: [] for level in args.levels}
    for _ in range(args.repeats):
        for level in args.levels:  # a fresh project per level and repeat: the level is what is stored
            with tempfile.TemporaryDirectory(prefix="alloop-api-") as tmp:
                project, tokens = make_project(Path(tmp), args.items)
                stored[level].append(fill(project, level))
                results[level].append(measure(project, tokens, args.rounds))
    print(
        f"{'stored labels':>13} {'next p50':>9} {'next p99':>9} {'labels p50':>11} {'labels p99':>11} "
        f"{'stats p50':>10} {'stats p99':>10}"
    )
    for level in args.levels:
        row = [statistics.median(stored[level])]
        for key in ("next", "labels", "stats"):
            for q in (0, 1):
                row.append(statistics.median(r[key][q] for r in results[level]) * 1000)
        print(
            f"{row[0]:>13,} {row[1]:>9.1f} {row[2]:>9.1f} {row[3]:>11.1f} {row[4]:>11.1f} "
            f"{row[5]:>10.1f} {row[6]:>10.1f}",
            flush=True,
        )
    print(f"# load avg {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
