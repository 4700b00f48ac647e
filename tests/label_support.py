"""Helpers for the labelling tests: small real data sets and a server in a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    **os.environ,
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
}


def small_amazon(amazon_in: Path, folder: Path, per_class: int = 10, extra: list[str] = ()) -> Path:
    """The first ``per_class`` amazon-in titles of every category (ids = row numbers), plus
    ``extra`` titles labelled 'stores'. Writes data.parquet and labels.txt into ``folder``."""
    source = pd.read_parquet(amazon_in, columns=["title", "category", "sub_category"])
    frame = source.groupby("category").head(per_class).reset_index(drop=True)
    if extra:
        rows = pd.DataFrame({"title": list(extra), "category": "stores", "sub_category": "x"})
        frame = pd.concat([frame, rows], ignore_index=True)
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "data.parquet")
    (folder / "labels.txt").write_text("\n".join(sorted(frame["category"].unique())) + "\n")
    return folder / "data.parquet"


def new_project(project: Path, data: Path, names: list[str]) -> tuple[dict[str, str], list[str]]:
    """A project with these annotators (added before it has data) and the `alloop label` arguments
    that create it from ``data`` and the ``labels.txt`` beside it."""
    from alloop.labelling.storage.store import LabelStore

    store = LabelStore.open(project, create=True)
    tokens = {name: store.add_annotator(name) for name in names}
    store.close()
    args = ["--project", str(project), "--data", str(data), "--labels-file", str(data.parent / "labels.txt")]
    return tokens, args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``python -m alloop label ...`` on a fixed loopback port, restartable on the same project."""

    def __init__(self, args: list[str], log: Path, port: int | None = None):
        self.port = port or free_port()
        self.args = [sys.executable, "-m", "alloop", "label", *args, "--port", str(self.port)]
        self.log = log
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, token: str, timeout: float = 90.0) -> Server:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, env=ENV, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                answer = httpx.get(f"{self.url}/api/stats", headers=bearer(token), timeout=2)
                if answer.status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server not ready in {timeout} s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for_model(url: str, token: str, version: int = 1, timeout: float = 120.0) -> None:
    """Until the live trainer has published model ``version``: a browser test that labels faster
    than a busy machine retrains must not race it."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, headers=bearer(token)) as api:
        while api.get("/api/stats").json()["model"]["version"] < version:
            assert time.monotonic() < deadline, f"no model version {version} after {timeout:.0f} s"
            time.sleep(0.2)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    """Run the real ``alloop`` entry point in process (it turns errors into one line and exit
    code 2): the exit code, stdout and stderr."""
    from alloop.cli.app import main

    old = sys.argv
    sys.argv = ["alloop", *args]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return code, captured.out, captured.err


TINY_LABELS = ("music", "clothing", "kitchen")
TINY_WORDS = ["guitar strings", "cotton shirt", "steel kettle", "drum sticks", "linen dress", "tea cup"]


def tiny_data(path: Path, repeats: int = 5) -> Path:
    """A CSV of ``6 * repeats`` made-up titles in three categories (title, category)."""
    titles = [f"{w} {i}" for i in range(repeats) for w in TINY_WORDS]
    frame = pd.DataFrame({"title": titles, "category": [TINY_LABELS[i % 3] for i in range(len(titles))]})
    frame.to_csv(path, index=False)
    return path


def tiny_project(folder: Path, data: Path, n_labels: int = 12) -> Path:
    """A tfidf labelling project at ``folder`` over ``data`` (``tiny_data``), with annotator alice
    and her first ``n_labels`` labels."""
    from alloop.labelling.storage.project import open_project

    store, _, _ = open_project(
        folder, {"data": str(data), "labels": TINY_LABELS, "classifier": "tfidf", "query_size": 5}
    )
    alice = store.annotator_for_token(store.add_annotator("alice"))
    assert alice is not None
    for pos in range(n_labels):
        store.put_label(pos, alice.id, "label", TINY_LABELS[pos % 3])
    store.close()
    return folder
