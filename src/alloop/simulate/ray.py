"""The experiment grid on Ray: (strategy, seed) pairs and the embedding pass across cores and machines.

``alloop run --workers N`` starts a local Ray for the run; ``--ray-address`` joins a running
cluster. Either way this process (the driver) loads the data, draws every seed's initial set,
and stays the only writer of ``results.db``: each worker runs whole pairs with the same
``run_pair`` as the serial path and streams every finished cycle back through a Ray queue; the
driver commits each in its own transaction. A worker that dies is restarted by Ray and its pair
is run again from the pair's last stored cycle (the resume path), so results do not depend on
where, or how many times, a pair ran. A killed driver leaves results.db as a serial run would:
``--resume`` continues it, with or without workers.

Ray is an optional extra (``pip install 'alloop[ray]'``); nothing here is imported by a serial run.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from alloop.errors import AlloopError
from alloop.loop import CycleResult
from alloop.loop.evaluation import Scores
from alloop.models import classifier_factory
from alloop.models.base import FrozenFeatures, HasTextEncoder, fit_depends_on_seed
from alloop.models.encoder import EMBED_CHUNK, Encoder, Progress, encode
from alloop.simulate.config import RunConfig
from alloop.simulate.plan import (
    Observer,
    SeedSetup,
    full_pool_ceiling,
    prepare_seed,
    run_pair,
    save_cycle,
)
from alloop.simulate.store import ResultStore, ResumePoint

if TYPE_CHECKING:
    from alloop.data import TextDataset

INSTALL = "pip install 'alloop[ray]'"
LOCAL_OBJECT_STORE_BYTES = 400 * 1024**2
"""Object store of a local Ray: the dataset and the pool's float16 vectors live there (9k titles
take 7 MB; a million 768 MB, which Ray spills to disk beyond this)."""
MAX_ATTEMPTS = 3
"""Times one pair (or shard) is started before the run gives up on it."""
POLL_SECONDS = 0.25
"""How long the driver waits for a streamed cycle before it checks the tasks again."""
CONNECT_SECONDS = 5.0


def require_ray() -> None:
    """Fail in one line, before any slow work, when the optional extra is missing."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise AlloopError(f"`workers` above 1 and `ray_address` need Ray: {INSTALL}") from None


@dataclass(frozen=True)
class CycleRecord:
    """One finished cycle as a worker streams it to the driver."""

    strategy: str
    seed: int
    result: CycleResult
    rng_state: dict[str, Any]


@dataclass(frozen=True)
class Job:
    """A unit of work for one worker: a pair, a seed's full-pool ceiling, or an embedding shard."""

    kind: str  # "pair", "ceiling" or "embed"
    seed: int = 0
    strategy: str = ""
    shard: int = 0
    attempt: int = 1

    def describe(self) -> str:
        if self.kind == "pair":
            return f"{self.strategy} (seed {self.seed})"
        if self.kind == "ceiling":
            return f"the full-pool ceiling of seed {self.seed}"
        return f"embedding shard {self.shard}"


class GridWorker:
    """One Ray worker (an actor): one classifier factory, so one encoder, loaded once and used for
    every pair or shard it is given. Torch uses exactly the CPUs Ray assigned to it."""

    def __init__(self, config: RunConfig, data: TextDataset, vectors: np.ndarray | None):
        import ray
        import torch

        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
        torch.set_num_threads(max(1, int(cpus)))
        self.config = config
        self.data = data
        self.make_classifier = classifier_factory(config.model, data.n_classes, data.taxonomy)
        if vectors is not None:  # a replacement: never encode the pool again here
            self.preload(vectors)

    def encoder(self) -> Encoder:
        return self.make_classifier(0).encoder

    def preload(self, vectors: np.ndarray) -> None:
        """Hold the driver's vectors of every pool and test text (the sharded pass's result)."""
        self.encoder().preload(unique_texts(self.data), vectors)

    def threads(self) -> int:
        import torch

        return torch.get_num_threads()

    def embed(self, texts: list[str]) -> np.ndarray:
        """float16 vectors of one shard, computed exactly as the serial pass computes a chunk."""
        encoder = self.encoder()
        return encode(encoder, encoder.model, texts).astype(np.float16)

    def ceiling(self, seed: int) -> tuple[Scores, float]:
        return full_pool_ceiling(self.data, seed, self.make_classifier)

    def run_pair(self, setup: SeedSetup, strategy: str, point: ResumePoint | None, queue: Any) -> int:
        """Run a pair to its end, putting each cycle on ``queue`` as soon as it is done (a blocking
        put: once this returns, the driver can read every cycle it ran)."""
        n = 0
        for result, rng_state in run_pair(
            self.config, self.data, setup, strategy, self.make_classifier, point
        ):
            queue.put(CycleRecord(strategy, setup.seed, result, rng_state))
            n += 1
        return n


def unique_texts(data: TextDataset) -> list[str]:
    """Pool and test texts, each once, in first-seen order: the rows of the shipped vectors."""
    return list(dict.fromkeys(data.pool_texts + data.test_texts))


def check_request(workers: int | None, address: str | None, cpus_per_worker: int | None) -> None:
    """Everything about a Ray run that can be refused before any slow work or any file is written:
    a missing Ray, an unreachable address, more CPUs than this machine has for a local Ray."""
    require_ray()
    if address is not None:
        check_address(address)
        return
    cpus = cpus_per_worker or default_cpus_per_worker(workers, address)
    if (workers or 1) * cpus > (os.cpu_count() or 1):
        raise AlloopError(
            f"`workers` {workers} x `cpus_per_worker` {cpus} needs {(workers or 1) * cpus} CPUs; this "
            f"machine has {os.cpu_count()} (to use more, join a cluster with `ray_address`)"
        )


def check_address(address: str) -> None:
    """Refuse an unreachable ``--ray-address`` in seconds (``ray.init`` would retry for minutes)."""
    if address in ("auto", "local"):
        return
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise AlloopError(
            f"`ray_address` {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379, the address "
            "`ray start --head` prints), ray://HOST:PORT or auto"
        )
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        raise AlloopError(
            f"cannot reach a Ray cluster at {address} ({exc.strerror or exc}); start one with "
            "`ray start --head` and pass the address it prints"
        ) from None


def connect(workers: int | None, address: str | None, cpus_per_worker: int) -> bool:
    """Join the cluster at ``address``, or start a local Ray with exactly the CPUs the workers
    will ask for. Returns whether this call connected (and so must disconnect)."""
    import ray

    if ray.is_initialized():  # already inside a Ray job or session: use it as it is
        return False
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR}
    if address is not None:
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise AlloopError(f"cannot join the Ray cluster at {address}: {first}") from None
        return True
    ray.init(
        address="local",  # never a cluster named by $RAY_ADDRESS: that is what --ray-address is for
        num_cpus=(workers or 1) * cpus_per_worker,
        object_store_memory=LOCAL_OBJECT_STORE_BYTES,
        include_dashboard=False,
        **quiet,
    )
    return True


def default_cpus_per_worker(workers: int | None, address: str | None) -> int:
    """Locally the machine's cores shared out among the workers; on a cluster one CPU each."""
    if address is not None:
        return 1
    return max(1, (os.cpu_count() or 1) // (workers or 1))


class WorkerPool:
    """The run's Ray workers. They are started once and serve the embedding pass and then the
    grid; one that dies is replaced by a fresh one, built with the arguments of the moment."""

    def __init__(self, actor: Any, size: int, *args: Any):
        self.actor = actor
        self.args = args
        self.workers = [actor.remote(*args) for _ in range(size)]

    def replace(self, dead: Any) -> Any:
        import ray

        ray.kill(dead)
        fresh = self.actor.remote(*self.args)
        self.workers[self.workers.index(dead)] = fresh
        return fresh

    def close(self) -> None:
        import ray

        for worker in self.workers:
            ray.kill(worker)


def run_grid_on_ray(
    config: RunConfig,
    data: TextDataset,
    make_classifier: Callable[[int], Any],
    store: ResultStore,
    observer: Observer,
    workers: int | None,
    address: str | None,
    cpus_per_worker: int | None = None,
) -> None:
    """Everything ``run_experiment`` does after loading the data, with the work on Ray workers."""
    import ray

    cpus = cpus_per_worker or default_cpus_per_worker(workers, address)
    check_request(workers, address, cpus_per_worker)
    connected = connect(workers, address, cpus)
    try:
        available = int(ray.cluster_resources().get("CPU", 0))
        n_workers = workers or max(1, available // cpus)
        if n_workers * cpus > available:  # workers that can never be placed would wait forever
            raise AlloopError(
                f"{n_workers} workers x {cpus} CPUs need {n_workers * cpus} CPUs; the Ray cluster has "
                f"{available}: lower `workers` or `cpus_per_worker`"
            )
        gpus = ray.cluster_resources().get("GPU", 0.0)
        uses_gpu = (
            isinstance(make_classifier(config.seed), HasTextEncoder)
            and gpus > 0
            and config.model.device != "cpu"
        )
        actor = ray.remote(GridWorker).options(
            num_cpus=cpus,
            num_gpus=min(1.0, gpus / n_workers) if uses_gpu else 0,
            max_restarts=0,  # a dead worker is replaced by the driver, which decides what runs again
        )
        pool = WorkerPool(actor, n_workers, config, ray.put(data), None)
        try:
            first = make_classifier(config.seed)
            if isinstance(first, FrozenFeatures):  # frozen embeddings (bert-frozen, hybrid): shard the pass
                encoder = first.frozen_encoder
                texts = unique_texts(data)
                embed_on_ray(encoder, texts, pool, observer.task("embedding pool + test", len(texts)))
                vectors = ray.put(encoder.embed(texts).astype(np.float16))
                pool.args = (*pool.args[:2], vectors)  # replacements start with every vector
                ray.get([w.preload.remote(vectors) for w in pool.workers])
            setups = {s: prepare_seed(config, data, s, make_classifier, store) for s in config.seed_list}
            jobs: list[Job] = []
            if config.ceiling:
                missing = [seed for seed in config.seed_list if not store.has_ceiling(seed)]
                if not fit_depends_on_seed(first) and any(store.has_ceiling(s) for s in config.seed_list):
                    missing = []  # one seed's full-pool model stands for all: shared below
                elif not fit_depends_on_seed(first):
                    missing = missing[:1]
                jobs += [Job("ceiling", seed) for seed in missing]
            for seed in config.seed_list:
                for name in config.strategies:
                    point = store.resume_point(name, seed)
                    observer.strategy_started(name, seed, point.next_cycle if point else 0)
                    if point is None or not point.done:
                        jobs.append(Job("pair", seed, name))
            GridDriver(data, setups, store, observer).run(jobs, pool)
            if config.ceiling:
                for seed in config.seed_list:
                    if not store.has_ceiling(seed):
                        store.share_ceiling(seed)
        finally:
            pool.close()
    finally:
        if connected:
            ray.shutdown()


def embed_on_ray(encoder: Encoder, texts: Sequence[str], pool: WorkerPool, progress: Progress) -> None:
    """Fill ``encoder`` (memory and on-disk cache) with the vectors of ``texts`` it lacks, shard by
    shard across the pool's workers, each with its own encoder. The shards are the chunks the
    serial pass encodes one by one, so the vectors are the same; only the driver writes the cache."""
    missing = encoder.missing(texts, progress)
    shards = [missing[i : i + EMBED_CHUNK] for i in range(0, len(missing), EMBED_CHUNK)]

    def submit(worker: Any, job: Job) -> Any:
        return worker.embed.remote(shards[job.shard])

    def done(job: Job, vectors: np.ndarray) -> None:
        encoder.store(shards[job.shard], vectors)
        progress(len(shards[job.shard]))

    run_jobs([Job("embed", shard=i) for i in range(len(shards))], pool, submit, done)


def run_jobs(
    jobs: list[Job],
    pool: WorkerPool,
    submit: Callable[[Any, Job], Any],
    done: Callable[[Job, Any], None],
    between: Callable[[], None] | None = None,
    retrying: Callable[[Job, str], None] | None = None,
) -> None:
    """Keep the pool's workers busy with one job each until all jobs are done.

    A worker that dies is replaced by a fresh one and its job is started again, up to
    ``MAX_ATTEMPTS`` times; an error raised by our own code in a worker ends the run with that
    error. ``between`` runs after every wait and before finished jobs are handled (the driver
    commits streamed cycles there).
    """
    import ray

    todo = deque(jobs)
    idle = list(pool.workers)
    pending: dict[Any, tuple[Job, Any]] = {}
    while todo or pending:
        while todo and idle:
            job, worker = todo.popleft(), idle.pop(0)
            pending[submit(worker, job)] = (job, worker)
        if between is None:
            ready, _ = ray.wait(list(pending), num_returns=1)
        else:
            between()
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)
            if ready:
                between()  # cycles a finished pair put on the queue before it returned
        for ref in ready:
            job, worker = pending.pop(ref)
            try:
                value = ray.get(ref)
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                if job.attempt >= MAX_ATTEMPTS:
                    raise AlloopError(
                        f"{job.describe()} failed {job.attempt} times on Ray workers; last: {reason}"
                    ) from None
                idle.append(pool.replace(worker))
                if retrying is not None:
                    retrying(job, reason)
                todo.appendleft(Job(job.kind, job.seed, job.strategy, job.shard, job.attempt + 1))
                continue
            except ray.exceptions.RayTaskError as exc:
                if isinstance(exc.cause, AlloopError):
                    raise AlloopError(str(exc.cause)) from None
                raise
            idle.append(worker)
            done(job, value)


class GridDriver:
    """Hands pairs and ceilings to the workers and commits every streamed cycle, in order."""

    def __init__(
        self, data: TextDataset, setups: dict[int, SeedSetup], store: ResultStore, observer: Observer
    ):
        self.data = data
        self.setups = setups
        self.store = store
        self.observer = observer
        self.queue: Any = None
        self.next_cycle: dict[tuple[str, int], int] = {}

    def run(self, jobs: list[Job], pool: WorkerPool) -> None:
        if not jobs:
            return
        from ray.util.queue import Queue

        self.queue = Queue(actor_options={"num_cpus": 0})
        try:
            run_jobs(jobs, pool, self.submit, self.done, self.commit, self.retrying)
        finally:
            self.queue.shutdown()

    def submit(self, worker: Any, job: Job) -> Any:
        if job.kind == "ceiling":
            return worker.ceiling.remote(job.seed)
        point = self.store.resume_point(job.strategy, job.seed)  # a retry continues from here
        self.next_cycle[job.strategy, job.seed] = point.next_cycle if point else 0
        return worker.run_pair.remote(self.setups[job.seed], job.strategy, point, self.queue)

    def done(self, job: Job, value: Any) -> None:
        if job.kind == "ceiling":
            scores, seconds = value
            self.store.save_ceiling(job.seed, len(self.data.pool_texts), scores, seconds)
            self.observer.ceiling_done(job.seed, scores, seconds)
            return
        point = self.store.resume_point(job.strategy, job.seed)
        if point is None or not point.done:
            raise AlloopError(f"{job.describe()} ended on its worker before a stopping criterion fired")

    def retrying(self, job: Job, reason: str) -> None:
        point = self.store.resume_point(job.strategy, job.seed) if job.kind == "pair" else None
        self.observer.retrying(job.describe(), point.next_cycle if point else 0, reason)

    def commit(self) -> None:
        """Commit every cycle waiting on the queue, each in its own transaction; waits up to
        ``POLL_SECONDS`` for the first when none is waiting."""
        from ray.util.queue import Empty

        try:
            records = [self.queue.get(timeout=POLL_SECONDS)]
        except Empty:
            return
        waiting = self.queue.qsize()
        if waiting:
            records += self.queue.get_nowait_batch(waiting)
        for record in records:
            key = (record.strategy, record.seed)
            expected = self.next_cycle.get(key, 0)
            if record.result.cycle < expected:
                continue  # a dead worker's last put that landed after its pair was restarted
            if record.result.cycle > expected:
                raise AlloopError(
                    f"{record.strategy} (seed {record.seed}) sent cycle {record.result.cycle} "
                    f"before cycle {expected}"
                )
            save_cycle(self.store, record.strategy, record.seed, record.result, record.rng_state)
            self.next_cycle[key] = expected + 1
            self.observer.cycle_done(record.strategy, record.seed, record.result)
