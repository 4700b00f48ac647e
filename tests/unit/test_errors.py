"""Errors by domain, translated at the edges: the HTTP status of each type, in one place."""

from __future__ import annotations

import pytest

from alloop.errors import (
    AlloopBug,
    AlloopError,
    ConflictError,
    EmptyPoolError,
    NotFittedError,
    NotFoundError,
)
from alloop.labelling.api.errors import status_of


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (AlloopError("bad"), 422),
        (EmptyPoolError("none left"), 422),
        (NotFittedError("fit first"), 422),
        (NotFoundError("no such item"), 404),
        (ConflictError("held by another"), 409),
        (AlloopBug("broken"), 500),
        (ValueError("unknown"), 500),
    ],
)
def test_each_error_has_one_status(error, status):
    assert status_of(error) == status


def test_not_fitted_is_still_a_runtime_error_and_a_user_error():
    from alloop.models import TfidfClassifier

    with pytest.raises(NotFittedError):
        TfidfClassifier(3).predict_proba(["x"])
    assert issubclass(NotFittedError, RuntimeError) and issubclass(NotFittedError, AlloopError)
    assert not issubclass(AlloopBug, AlloopError)
