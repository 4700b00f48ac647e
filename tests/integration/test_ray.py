"""The grid on Ray: results equal the serial run's with --workers 2, on a 2-node cluster, after a
worker is killed, and after the driver is killed and resumed; the sharded embedding pass equals the
serial one; user errors are one line and exit code 2; a serial run never imports Ray."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alloop.errors import AlloopError
from alloop.loop import CycleResult
from alloop.models import ModelConfig
from alloop.simulate.config import RunConfig
from alloop.simulate.experiment import run_experiment
from alloop.simulate.plan import QuietObserver
from alloop.simulate.store import TIMING_COLUMNS, ResultStore

pytest.importorskip("ray")

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "COLUMNS": "120"}
ENV.pop("RAY_ADDRESS", None)
TIMING = list(TIMING_COLUMNS)
GRID = [
    "--classifier", "tfidf", "--strategy", "margin", "--strategy", "random", "--seeds", "2",
    "--initial", "40", "--query-size", "20", "--cycles", "4",
]  # fmt: skip
N_CYCLES = 2 * 2 * 5


def alloop(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alloop", *args], capture_output=True, text=True, env=ENV, timeout=timeout
    )


@pytest.fixture(scope="module")
def small(tmp_path_factory, amazon_in) -> Path:
    """950 real amazon-in titles (50 per class): a tfidf cycle takes well under a second."""
    path = tmp_path_factory.mktemp("data") / "amazon_small.parquet"
    pd.read_parquet(amazon_in).groupby("category").head(50).reset_index(drop=True).to_parquet(path)
    return path


def grid_config(data: Path) -> RunConfig:
    return RunConfig(
        data=str(data),
        strategies=("margin", "random"),
        initial=40,
        query_size=20,
        cycles=4,
        seeds=2,
        model=ModelConfig(classifier="tfidf"),
    )


@pytest.fixture(scope="module")
def serial(small, tmp_path_factory) -> Path:
    """The reference: the grid run serially, in this process, without Ray."""
    out = tmp_path_factory.mktemp("serial") / "run"
    run_experiment(grid_config(small), out)
    return out


def assert_same_results(got: Path, want: Path) -> None:
    """Same queried ids, metrics and ceilings, whatever order the pairs finished in."""
    for name, key in (("queried.csv", ["strategy", "seed", "cycle", "item_id"]), ("cycles.csv", None)):
        a = pd.read_csv(got / name).drop(columns=TIMING, errors="ignore")
        b = pd.read_csv(want / name).drop(columns=TIMING, errors="ignore")
        key = key or ["strategy", "seed", "cycle"]
        pd.testing.assert_frame_equal(
            a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
        )
    stores = [ResultStore.open_existing(p) for p in (got, want)]
    try:
        a, b = (s.ceilings().drop(columns="seconds") for s in stores)
        pd.testing.assert_frame_equal(a, b)
    finally:
        for s in stores:
            s.close()


def worker_pids() -> list[int]:
    """PIDs of this process's Ray grid workers (descendants whose title is ray::GridWorker...)."""
    parent: dict[int, int] = {}
    titles: dict[int, bytes] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            titles[int(entry.name)] = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])

    def descends(pid: int) -> bool:
        while pid > 1:
            if pid == os.getpid():
                return True
            pid = parent.get(pid, 0)
        return False

    return [pid for pid, title in titles.items() if title.startswith(b"ray::GridWorker") and descends(pid)]


class KillWorkers(QuietObserver):
    """Kills (SIGKILL) every grid worker once two cycles are committed, so pairs are cut short."""

    def __init__(self) -> None:
        self.killed: list[int] = []
        self.retries: list[tuple[str, int]] = []
        self.committed = 0

    def cycle_done(self, strategy: str, seed: int, result: CycleResult) -> None:
        self.committed += 1
        if not self.killed and self.committed >= 2:
            for pid in worker_pids():
                os.kill(pid, signal.SIGKILL)
                self.killed.append(pid)

    def retrying(self, what: str, next_cycle: int, reason: str) -> None:
        self.retries.append((what, next_cycle))


def test_workers_2_with_a_worker_killed_equals_the_serial_run(small, serial, tmp_path):
    observer = KillWorkers()
    run_experiment(grid_config(small), tmp_path / "run", observer, workers=2)
    assert observer.killed, "no Ray worker process was found to kill"
    assert observer.retries, "a killed worker's job was not run again"
    # a pair cut short continues from its last stored cycle, not from the start
    assert any(next_cycle > 0 for _, next_cycle in observer.retries), observer.retries
    assert_same_results(tmp_path / "run", serial)


def _start_and_kill(args: list[str], out: Path, at_least: int) -> None:
    """Start `alloop run` in its own session, SIGKILL it once ``at_least`` cycles are committed,
    then end whatever it left behind (Ray's node agents outlive a killed driver)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "alloop", "run", *args, "--out", str(out)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    committed = 0
    deadline = time.monotonic() + 400
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if (out / "results.db").exists():
                with sqlite3.connect(out / "results.db") as db:
                    try:
                        committed = db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0]
                    except sqlite3.OperationalError:  # tables not created yet
                        committed = 0
                if committed >= at_least:
                    break
            time.sleep(0.02)
        assert process.poll() is None, "the run finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    with sqlite3.connect(out / "results.db") as db:
        stored = db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0]
    assert at_least <= stored < N_CYCLES  # killed mid-run, with finished cycles on disk


def test_driver_kill_9_on_ray_then_resume_equals_the_serial_run(small, serial, tmp_path):
    """The driver of a --workers 2 run is killed mid-run; --resume (here without workers: the store
    does not care who wrote it) finishes it with the serial run's results."""
    out = tmp_path / "run"
    _start_and_kill(["--data", str(small), *GRID, "--workers", "2"], out, at_least=3)
    resumed = alloop("run", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert "cycles already stored" in resumed.stdout
    assert_same_results(out, serial)


@pytest.fixture(scope="module")
def cluster():
    """A 2-node local Ray cluster (one CPU per node), this process connected to it. Tests after
    this point in the file run on it; the ones above start their own Ray."""
    import ray
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 1, "object_store_memory": 150 * 1024**2}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    try:
        cluster.add_node(**node)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def test_two_node_cluster_equals_the_serial_run(small, serial, cluster, tmp_path):
    import ray

    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    run_experiment(grid_config(small), tmp_path / "run", ray_address=cluster.address, workers=2)
    assert_same_results(tmp_path / "run", serial)


def test_bert_frozen_sharded_embedding_equals_the_serial_pass(amazon_in, cluster, tmp_path, monkeypatch):
    """~300 titles in shards of 64 over 2 workers on 2 nodes: the same float16 vectors in the cache
    as the serial pass with the same chunks, and the same queried ids and metrics (coreset reads
    the vectors)."""
    import alloop.models.encoder
    import alloop.simulate.ray

    monkeypatch.setattr(alloop.models.encoder, "EMBED_CHUNK", 64)
    monkeypatch.setattr(alloop.simulate.ray, "EMBED_CHUNK", 64)
    data = tmp_path / "tiny.parquet"
    pd.read_parquet(amazon_in).groupby("category").head(16).reset_index(drop=True).to_parquet(data)

    def config(cache: str) -> RunConfig:
        model = ModelConfig(classifier="bert-frozen", max_length=32, cache_dir=str(tmp_path / cache))
        return RunConfig(
            data=str(data), strategies=("margin", "coreset"), initial=30, query_size=10, cycles=2, model=model
        )

    run_experiment(config("serial-cache"), tmp_path / "serial")
    run_experiment(config("ray-cache"), tmp_path / "ray", ray_address=cluster.address, workers=2)
    assert_same_results(tmp_path / "ray", tmp_path / "serial")

    def vectors(cache: str) -> dict[bytes, bytes]:
        with sqlite3.connect(tmp_path / cache / "embeddings.sqlite") as db:
            return dict(db.execute("SELECT hash, vector FROM vectors").fetchall())

    serial_vectors, ray_vectors = vectors("serial-cache"), vectors("ray-cache")
    assert len(serial_vectors) >= 300 and serial_vectors.keys() == ray_vectors.keys()
    differ = [h for h in serial_vectors if serial_vectors[h] != ray_vectors[h]]
    assert not differ, f"{len(differ)} of {len(serial_vectors)} vectors differ"
    assert np.frombuffer(next(iter(ray_vectors.values())), dtype=np.float16).shape == (384,)


def test_user_errors_are_one_line_and_exit_2(small, serial, tmp_path):
    cases = [
        (["--ray-address", "127.0.0.1:1"], "cannot reach a Ray cluster at 127.0.0.1:1"),
        (["--ray-address", "nowhere"], "is not HOST:PORT"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--workers", "2", "--cpus-per-worker", "0"], "--cpus-per-worker must be at least 1"),
        (["--workers", str(2 * (os.cpu_count() or 1))], "CPUs; this machine has"),
    ]
    for extra, message in cases:
        result = alloop("run", "--data", str(small), *GRID, "--out", str(tmp_path / "x"), *extra)
        assert result.returncode == 2, (extra, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "x").exists()  # refused before any file was written
    # --resume takes --workers (it does not change results), and checks it the same way
    result = alloop("run", "--resume", str(serial), "--workers", "0")
    assert result.returncode == 2 and "--workers must be at least 1" in result.stderr, result.stderr
    config = tmp_path / "grid.toml"  # --config takes both options
    config.write_text('ray-address = "127.0.0.1:1"\nworkers = 2\n', encoding="utf-8")
    result = alloop("run", "--data", str(small), *GRID, "--config", str(config), "--out", str(tmp_path / "y"))
    assert result.returncode == 2 and "cannot reach a Ray cluster" in result.stderr, result.stderr


def test_without_ray_workers_say_how_to_install_it(monkeypatch):
    from alloop.simulate.ray import require_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if not installed
    with pytest.raises(AlloopError, match=r"pip install 'alloop\[ray\]'"):
        require_ray()


def test_a_serial_run_never_imports_ray(small, tmp_path):
    code = (
        "import sys\n"
        "from alloop.cli.app import main\n"
        f"sys.argv = ['alloop', 'run', '--data', {str(small)!r}, '--classifier', 'tfidf', '--strategy', "
        f"'random', '--cycles', '1', '--no-ceiling', '--out', {str(tmp_path / 'run')!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "assert 'ray' not in sys.modules, 'ray was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=600
    )
    assert result.returncode == 0, result.stderr
