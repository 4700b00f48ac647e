"""Shared fixtures for tests/unit, tests/integration and tests/browser.

Unit tests read the committed fixture of real titles (tests/fixtures/amazon_in_sample.parquet).
Integration tests read real data by path from ../shared/data beside the checkout and skip, with the
reason, when it is absent."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing in the suite may wait on the network
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# the on-disk embedding cache goes to a fresh folder per session, never into ~/.cache; removed when
# the session ends (pytest_unconfigure), unless the caller named one
_SESSION_CACHE = None if "ALLOOP_CACHE_DIR" in os.environ else tempfile.mkdtemp(prefix="alloop-cache-")
if _SESSION_CACHE is not None:
    os.environ["ALLOOP_CACHE_DIR"] = _SESSION_CACHE


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the session's own embedding cache folder (each session would leave one in /tmp)."""
    if _SESSION_CACHE is not None and not hasattr(config, "workerinput"):
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)


ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ALLOOP_SHARED_DATA", ROOT.parent / "shared" / "data"))
AMAZON_IN = SHARED_DATA / "amazon-in-products" / "amazon_in_products.parquet"
IARBEL_SAMPLE = SHARED_DATA / "iarbel-sample"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
AMAZON_SAMPLE = FIXTURES / "amazon_in_sample.parquet"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",  # this machine's closed network refuses Chromium's calls
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def amazon_in() -> Path:
    """The whole amazon-in file (9,322 titles): integration tests only."""
    if not AMAZON_IN.exists():
        pytest.skip(f"real data missing: {AMAZON_IN} (../shared must sit beside the checkout)")
    return AMAZON_IN


@pytest.fixture(scope="session")
def amazon_sample() -> Path:
    """564 real amazon-in titles committed in tests/fixtures (title, category, sub_category; the
    first 20 of each category come first, so small_amazon(per_class<=20) equals the whole file's)."""
    return AMAZON_SAMPLE


@pytest.fixture(scope="session")
def amazon_small(amazon_sample, tmp_path_factory) -> Path:
    """380 real amazon-in titles (the first 20 of each of the 19 classes; ids are row numbers of
    this file) for encoder end-to-end tests: with the session's one embedding cache
    (ALLOOP_CACHE_DIR above) they are embedded once per max length, in seconds. Whole-pool runs
    live in bench/full_pool.py."""
    import pandas as pd

    path = tmp_path_factory.mktemp("amazon-small") / "amazon_small.parquet"
    pd.read_parquet(amazon_sample).groupby("category").head(20).reset_index(drop=True).to_parquet(path)
    return path


@pytest.fixture(scope="session")
def iarbel_sample() -> Path:
    if not IARBEL_SAMPLE.exists():
        pytest.skip(f"real data missing: {IARBEL_SAMPLE} (../shared must sit beside the checkout)")
    return IARBEL_SAMPLE


@pytest.fixture(scope="session")
def encoder():
    """The offline default encoder, loaded once for the whole session."""
    from alloop.models import Encoder

    return Encoder(max_length=32)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Debian Chromium (driven by Playwright) for every browser test of the session;
    each test opens its own contexts in it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()
