"""Schemathesis against the labelling API's own OpenAPI schema (``app.openapi()``): every route,
with no token, a wrong token, an annotator's and a reviewer's, fed valid and invalid requests.
No answer is a 5xx, every answer matches the schema, and a refused request (4xx) writes nothing.

The budget per route and role is ALLOOP_FUZZ_EXAMPLES (12 here, derandomized; `make fuzz` runs
more)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from api_support import served_project
from fuzz_support import SETTINGS, record
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

ROUTES = [
    ("GET", "/api/me"),
    ("GET", "/api/next"),
    ("POST", "/api/labels"),
    ("POST", "/api/undo"),
    ("GET", "/api/recent"),
    ("GET", "/api/stats"),
    ("GET", "/api/search"),
    ("GET", "/api/review"),
    ("POST", "/api/review"),
    ("GET", "/api/guidelines"),
    ("GET", "/api/model-history"),
]
ROLES = ["no token", "wrong token", "annotator", "reviewer"]
TABLES = ("labels", "adjudications", "annotators", "assignments")
TRIED: Counter[str] = Counter()
"""examples sent per route and role, printed by `make fuzz`"""


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    with served_project(tmp_path_factory.mktemp("api-fuzz"), n_per_word=20) as served:
        served.schema = schemathesis.openapi.from_dict(served.client.app.openapi())
        yield served
    record(TRIED, "api")


def state(folder: Path) -> str:
    """What a request could write: every row of the tables answers and roles live in."""
    db = sqlite3.connect(f"{(folder / 'label.db').absolute().as_uri()}?mode=ro", uri=True)
    try:
        digest = hashlib.sha256()
        for table in TABLES:
            for row in db.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
                digest.update(repr(row).encode())
        return digest.hexdigest()
    finally:
        db.close()


def test_the_routes_listed_here_are_every_route_of_the_schema(api):
    paths = api.client.app.openapi()["paths"]
    assert sorted((m.upper(), p) for p, ops in paths.items() for m in ops) == sorted(ROUTES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route(api, method, path, role):
    operation = api.schema[path][method]
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )
    headers = {
        "no token": {},
        "wrong token": {"Authorization": "Bearer not-a-token"},
        "annotator": {"Authorization": f"Bearer {api.tokens['alice']}"},
        "reviewer": {"Authorization": f"Bearer {api.tokens['rita']}"},
    }[role]

    @SETTINGS
    @given(case=strategy)
    def probe(case):
        case.headers = {**(case.headers or {}), **headers}
        if not headers:
            case.headers.pop("Authorization", None)
        before = state(api.folder)
        response = case.call(app=api.client.app)
        TRIED[f"{method} {path} ({role}): {response.status_code}"] += 1
        case.validate_response(
            response, checks=[not_a_server_error, response_schema_conformance, content_type_conformance]
        )
        if response.status_code >= 400:
            assert state(api.folder) == before, (
                f"{method} {path} refused with {response.status_code} but wrote"
            )
        if role in ("no token", "wrong token"):
            assert response.status_code in (401, 413, 422), response.status_code

    probe()
