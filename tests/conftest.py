"""Shared fixtures: every backend × dtype from one place.

A backend that is not installed is skipped locally, but `make test` (and so CI)
sets MLPLAB_REQUIRE_BACKENDS=numpy,torch,jax, which turns a missing backend into
a failure instead of a skip.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from mlplab.backend.arrays import BACKENDS, is_available

REQUIRED = [b for b in os.environ.get("MLPLAB_REQUIRE_BACKENDS", "").split(",") if b]


def require_backend(name: str) -> None:
    """Skip the calling test if ``name`` is missing, unless CI requires it."""
    if not is_available(name):
        if name in REQUIRED:
            pytest.fail(f"backend {name!r} is required (MLPLAB_REQUIRE_BACKENDS) but not installed")
        pytest.skip(f"backend {name!r} not installed")


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Each backend name: numpy, torch, jax."""
    require_backend(request.param)
    return request.param


@pytest.fixture(params=["float32", "float64"])
def dtype(request) -> str:
    return request.param


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
