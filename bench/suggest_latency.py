"""``GET /api/next`` (and ``POST /api/labels``) latency with the model's suggestion attached vs
without, on a 30,000-item project; and what suggestions cost the trainer per model version.

Per repeat, one synthetic project (``api_latency.make_project``: tfidf, 10 classes, overlap 0.1)
gets 2,000 stored labels and is copied twice: ``--suggest off`` and ``on``. Each copy is served
by the real app (uvicorn on loopback) after the trainer's first round (which, with suggestions
on, also predicts the 28,000 unlabelled items); the trainer is then stopped, so only per-request
work is measured. 8 client threads run ``api_latency.client`` (next, label, every 10th round
stats). The two modes alternate, off first on even repeats; medians over repeats are printed.

    python bench/suggest_latency.py
    python bench/suggest_latency.py --items 30000 --labels 2000 --rounds 40 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from api_latency import fill, make_project, run_clients, serve_service

from alloop.labelling.domain.service import LabelService
from alloop.labelling.storage.store import LabelStore


def measure(project: Path, tokens: dict[str, str], suggest: bool, rounds: int) -> dict[str, Any]:
    store = LabelStore.open(project)
    config = store.config()
    assert config is not None
    config = replace(config, suggest=suggest)
    service = LabelService(store, config, store.items()).start()
    assert service.trainer is not None and service.trainer.wait_idle(600)
    service.trainer.stop()  # the first model stays; no retrain competes with the requests
    snapshot = service.snapshot
    server, thread, port, _ = serve_service(service)
    try:
        times = run_clients(port, tokens, rounds)
    finally:
        server.should_exit = True
        thread.join(10)
        rows = [r for r in store.label_rows() if r.status == "label" and r.suggestion is not None]
        service.close()
    out: dict[str, Any] = {
        k: (float(np.percentile(v, 50)), float(np.percentile(v, 95))) for k, v in times.items()
    }
    out["round_seconds"] = snapshot.seconds
    out["suggested_items"] = len(snapshot.suggestions) if snapshot.suggestions is not None else 0
    out["answers_with_suggestion"] = len(rows)
    return out


def median(runs: list[dict[str, Any]], key: str, q: int | None = None) -> float:
    return float(statistics.median(r[key] if q is None else r[key][q] for r in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=30_000)
    parser.add_argument("--labels", type=int, default=2_000, help="labels stored before the runs")
    parser.add_argument("--rounds", type=int, default=40, help="next+label rounds per client")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import sklearn.metrics  # noqa: F401 - once per process (kappas); not a per-request cost

    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, python "
        f"{platform.python_version()}, load avg {os.getloadavg()[0]:.1f} at start; {args.items:,} items, "
        f"{args.labels:,} stored labels, 8 clients x {args.rounds} rounds, medians of {args.repeats} "
        "repeats (ms)",
        flush=True,
    )
    results: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="alloop-suggest-") as tmp:
            base, tokens = make_project(Path(tmp), args.items)
            fill(base, args.labels)
            order = (False, True) if repeat % 2 == 0 else (True, False)
            for suggest in order:
                copy = Path(tmp) / f"project-{suggest}"
                shutil.copytree(base, copy)
                results[suggest].append(measure(copy, tokens, suggest, args.rounds))
    print(
        f"{'suggestion':>10} {'next p50':>9} {'next p95':>9} {'labels p50':>11} {'labels p95':>11} "
        f"{'stats p50':>10} {'trainer round s':>16} {'items suggested':>16} {'answers with one':>17}"
    )
    for suggest in (False, True):
        runs = results[suggest]
        row = [median(runs, key, q) * 1000 for key in ("next", "labels") for q in (0, 1)]
        print(
            f"{'on' if suggest else 'off':>10} {row[0]:>9.1f} {row[1]:>9.1f} {row[2]:>11.1f} {row[3]:>11.1f} "
            f"{median(runs, 'stats', 0) * 1000:>10.1f} {median(runs, 'round_seconds'):>16.2f} "
            f"{median(runs, 'suggested_items'):>16,.0f} {median(runs, 'answers_with_suggestion'):>17,.0f}",
            flush=True,
        )
    print(f"# load avg {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
