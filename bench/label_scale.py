"""The labelling app on a big catalogue, through the real command: ``alloop label`` on a file of
N real amazon-in titles replicated with distinct suffixes (the method of ``bench/scale.py``).

For each size it measures, with the default classifier unless ``--classifier`` says otherwise:

- **open**: from starting ``alloop label --data FILE`` on a new project until the first item is
  served (``GET /api/next`` answers with an item);
- **requests**: 8 client threads for ``--seconds``, each looping ``GET /api/next`` then
  ``POST /api/labels`` (the gold label), with ``GET /api/search`` every 10th round: p50 and p99
  per route, while the background pass (embedding the pool, then training) runs;
- **background**: the trainer's phase as the page shows it (``GET /api/stats``), the embedding
  rate read from its progress, and the seconds until the first model-ranked queue when it comes
  within ``--wait`` seconds;
- **reopen**: the server stopped and started again on the same project, until the first item;
- **memory**: the server's peak RSS (VmHWM from /proc).

The server runs as its own process; the clients run here. The machine's other load is printed.

    python bench/label_scale.py --sizes 100000 300000
    python bench/label_scale.py --sizes 1000000 --seconds 60 --wait 300
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "../shared/data/amazon-in-products/amazon_in_products.parquet"
CLIENTS = 8
ALLOOP = [sys.executable, "-m", "alloop"]


def make_data(n: int, folder: Path) -> tuple[Path, list[str]]:
    """``n`` rows: the real titles, then copies with a numbered suffix (every text distinct)."""
    base = pd.read_parquet(DATA, columns=["title", "category"]).dropna().drop_duplicates("title")
    reps = -(-n // len(base))
    frame = pd.concat([base] * reps, ignore_index=True).iloc[:n].copy()
    lot = frame.index // len(base)
    frame["title"] = [t if k == 0 else f"{t} | lot {k}" for t, k in zip(frame["title"], lot, strict=True)]
    path = folder / f"items-{n}.parquet"
    frame.to_parquet(path, index=False)
    return path, sorted(base["category"].unique())


def add_annotators(project: Path) -> list[str]:
    tokens = []
    for i in range(CLIENTS):
        out = subprocess.run(
            [*ALLOOP, "annotators", "add", f"user{i}", "--project", str(project)],
            capture_output=True,
            text=True,
            check=True,
        )
        tokens.append(out.stdout.strip().splitlines()[-1])
    return tokens


class Server:
    """``alloop label`` in its own process, on a free loopback port."""

    def __init__(self, args: list[str]):
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [*ALLOOP, "label", *args, "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        self.lines: list[str] = []
        self.port: int | None = None
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.append(line.rstrip())
            if m := re.search(r"labelling at http://127\.0\.0\.1:(\d+)/", line):
                self.port = int(m.group(1))
                break
        if self.port is None:
            raise RuntimeError("the server did not start:\n" + "\n".join(self.lines))
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.append(line.rstrip())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]

    def first_item_seconds(self, token: str, timeout: float = 600) -> float:
        headers = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, headers=headers, timeout=60) as client:
            while time.monotonic() < deadline:
                try:
                    body = client.get("/api/next").json()
                    if body.get("item_id") is not None:
                        return time.perf_counter() - self.started
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        raise RuntimeError("no item within the timeout")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def stats(url: str, token: str) -> dict:
    return httpx.get(f"{url}/api/stats", headers={"Authorization": f"Bearer {token}"}, timeout=60).json()


def clients(url: str, tokens: list[str], gold: dict[str, str], seconds: float) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"next": [], "labels": [], "search": []}
    refused: list[int] = []
    lock = threading.Lock()
    words = ["usb", "cotton shirt", "steel bottle", "headphones", "kettle"]
    stop_at = time.monotonic() + seconds

    def run(token: str) -> None:
        mine: dict[str, list[float]] = {"next": [], "labels": [], "search": []}
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as c:
            rounds = 0
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                item = c.get("/api/next").json()
                mine["next"].append(time.perf_counter() - t0)
                if item.get("item_id") is None:
                    break
                t0 = time.perf_counter()
                answer = c.post("/api/labels", json={"item_id": item["item_id"], "label": gold[item["text"]]})
                mine["labels"].append(time.perf_counter() - t0)
                if answer.status_code != 200:
                    with lock:
                        refused.append(answer.status_code)
                rounds += 1
                if rounds % 10 == 0:
                    t0 = time.perf_counter()
                    c.get("/api/search", params={"q": words[rounds // 10 % len(words)]})
                    mine["search"].append(time.perf_counter() - t0)
        with lock:
            for k, v in mine.items():
                times[k].extend(v)

    threads = [threading.Thread(target=run, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if refused:
        print(f"  {len(refused)} labels refused: status {sorted(set(refused))}")
    return times


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def one_size(
    n: int, classifier: str | None, seconds: float, wait: float, folder: Path, extra: list[str] | None = None
) -> None:
    data, classes = make_data(n, folder)
    frame = pd.read_parquet(data)
    gold = dict(zip(frame["title"], frame["category"], strict=True))
    project = folder / f"project-{n}"
    tokens = add_annotators(project)
    labels_file = folder / f"labels-{n}.txt"
    labels_file.write_text("\n".join(classes) + "\n", encoding="utf-8")  # names hold commas
    args = ["--project", str(project), "--data", str(data), "--labels-file", str(labels_file)]
    args += ["--classifier", classifier] if classifier else []
    args += extra or []
    server = Server(args)
    first = server.first_item_seconds(tokens[0])
    print(f"{n:,} items: open a new project -> first item {first:.1f} s", flush=True)
    before = stats(server.url, tokens[0])["model"]
    print(f"  trainer: {before['phase']}", flush=True)
    t0 = time.monotonic()
    times = clients(server.url, tokens, gold, seconds)
    after = stats(server.url, tokens[0])
    print(
        f"  {CLIENTS} clients for {seconds:.0f} s: {after['labels']:,} labels; "
        + "; ".join(
            f"{k} p50 {pct(v, 0.5):.0f} ms, p99 {pct(v, 0.99):.0f} ms (n={len(v)})" for k, v in times.items()
        ),
        flush=True,
    )
    rate = _embedding_rate(before["phase"], after["model"]["phase"], time.monotonic() - t0)
    if rate:
        print(
            f"  embedding the pool at {rate:.0f} titles/s while serving: {n / rate / 60:.0f} min for the pool"
        )
    print(f"  trainer now: {after['model']['phase']} (model version {after['model']['version']})")
    deadline = time.monotonic() + wait
    version = after["model"]["version"]
    while time.monotonic() < deadline and stats(server.url, tokens[0])["model"]["version"] == version:
        time.sleep(1)
    model = stats(server.url, tokens[0])["model"]
    if model["version"] != version:
        print(
            f"  first model-ranked queue: version {model['version']} from {model['queue_source']} after "
            f"{time.perf_counter() - server.started:.0f} s from start "
            f"(last round {model['train_seconds']:.1f} s)"
        )
    else:
        print(f"  no new model within {wait:.0f} s more; trainer: {model['phase']}")
    print(f"  server peak RSS {server.peak_rss_mb():,.0f} MB", flush=True)
    server.stop()
    again = Server(["--project", str(project)])
    print(f"  reopen -> first item {again.first_item_seconds(tokens[0]):.1f} s", flush=True)
    again.stop()


def _embedding_rate(before: str, after: str, seconds: float) -> float | None:
    found = [re.search(r"embedding the pool ([\d,]+)/", p) for p in (before, after)]
    if not all(found):
        return None
    done = [int(m.group(1).replace(",", "")) for m in found]  # type: ignore[union-attr]
    return (done[1] - done[0]) / seconds if done[1] > done[0] else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--classifier", default=None, help="default: the project default (hybrid)")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--server-args", default="", help='more options of `alloop label`, e.g. "--cold-start random"'
    )
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for the first model queue")
    args = parser.parse_args()
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            one_size(n, args.classifier, args.seconds, args.wait, Path(tmp), args.server_args.split())


if __name__ == "__main__":
    main()
