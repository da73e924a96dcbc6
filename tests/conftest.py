"""Shared test setup: a non-interactive matplotlib backend, few threads, float64 torch."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

# Notebooks under tests/ are fixtures (grading cases, the browser test's notebook), not tests for nbval.
collect_ignore_glob = ["*.ipynb", "**/*.ipynb"]
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
