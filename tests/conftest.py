"""Fixtures for the unit tests (environment settings live in the top-level conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

@pytest.fixture(scope="session")
def mirror() -> Path:
    """The data mirror (``../shared/data`` or ``$FCOT_DATA_MIRROR``); tests that read real data use it."""
    value = os.environ.get("FCOT_DATA_MIRROR")
    if not value or not Path(value).is_dir():
        pytest.fail(
            "These tests read the upstream data files: set FCOT_DATA_MIRROR to a mirror root "
            "(<mirror>/<owner>/<repo>/<path>), e.g. ../shared/data"
        )
    return Path(value)


@pytest.fixture(autouse=True)
def _isolated_outputs(tmp_path, monkeypatch):
    """Every test writes results, runs and caches under its own temporary folder."""
    monkeypatch.setenv("FCOT_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("FCOT_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FCOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FCOT_PROFILE", raising=False)  # a test runs as a notebook alone: the smoke profile
