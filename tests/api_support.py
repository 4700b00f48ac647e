"""A small labelling project served in process (FastAPI's TestClient): synthetic titles, tfidf,
an annotator and a reviewer, for tests that probe the API's edges."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient

LABELS = ("music", "clothing", "kitchen")
WORDS = ["guitar strings", "cotton shirt", "steel kettle", "drum sticks", "linen dress", "tea cup"]


@dataclass
class Served:
    client: TestClient
    store: object
    tokens: dict[str, str]
    folder: Path


@contextmanager
def served_project(folder: Path, n_per_word: int = 5) -> Iterator[Served]:
    from alloop.labelling.api.app import create_app
    from alloop.labelling.domain.service import LabelService
    from alloop.labelling.storage.project import open_project

    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "items.csv"
    colours = ["red", "blue", "green", "black", "white", "grey", "pink", "gold", "teal", "navy"]
    titles = [f"{w} {colours[i % 10]} {i}" for i in range(n_per_word) for w in WORDS]
    pd.DataFrame({"title": titles, "category": [LABELS[i % 3] for i in range(len(titles))]}).to_csv(
        data, index=False
    )
    store, config, items = open_project(
        folder / "proj", {"data": str(data), "labels": LABELS, "classifier": "tfidf", "query_size": 5}
    )
    tokens = {"alice": store.add_annotator("alice"), "rita": store.add_annotator("rita", role="reviewer")}
    service = LabelService(store, config, items).start()
    try:
        assert service.trainer.wait_idle(60)
        yield Served(TestClient(create_app(service)), store, tokens, folder / "proj")
    finally:
        service.close()
