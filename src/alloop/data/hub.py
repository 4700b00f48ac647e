"""Talking to the Hugging Face Hub without ever hanging on a closed network."""

from __future__ import annotations

import os
import socket
import threading
from urllib.parse import urlparse

TRUE = {"1", "true", "yes", "on"}


def hub_offline() -> bool:
    """True when the user told the Hugging Face libraries to stay offline."""
    return any(os.environ.get(v, "").lower() in TRUE for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def hub_reachable(timeout: float = 3.0) -> bool:
    """Probe the Hub's host in a daemon thread, so a hanging DNS lookup cannot stall the caller."""
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host, port = endpoint.hostname or "huggingface.co", endpoint.port or 443
    result: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout)
    return bool(result and result[0])
