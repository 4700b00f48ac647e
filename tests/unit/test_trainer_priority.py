"""The labelling app's trainer thread runs below the request threads, so a background pass does
not slow the page (docs/scale.md: the /api/next tail at 1M items)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from alloop.labelling.domain.trainer import TRAINER_NICE, lower_own_priority


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_the_trainer_thread_and_only_it_runs_at_a_lower_priority():
    seen: dict[str, int] = {}

    def trainer() -> None:
        tid = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, tid)
        lower_own_priority()
        seen["step"] = os.getpriority(os.PRIO_PROCESS, tid) - before
        child = threading.Thread(target=lambda: seen.update(child=os.getpriority(os.PRIO_PROCESS, 0)))
        child.start()
        child.join()
        seen["own"] = os.getpriority(os.PRIO_PROCESS, tid)

    here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = threading.Thread(target=trainer)
    thread.start()
    thread.join()
    assert seen["step"] == min(TRAINER_NICE, 19 - here)  # nice values stop at 19
    assert seen["child"] == seen["own"]  # torch's threads, started by it, inherit it
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == here  # the caller's unchanged
