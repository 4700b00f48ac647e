"""`alloop` as a user runs it: a subprocess of this Python, for tests in any of the test folders."""

from __future__ import annotations

import os
import subprocess
import sys

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "COLUMNS": "120"}


def alloop(*args: str, timeout: int = 3600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alloop", *args], capture_output=True, text=True, env=ENV, timeout=timeout
    )
