"""Session-wide test settings (applies to tests/ and to the nbval notebook runs).

Tests and notebooks run offline, read data from the local mirror, and write every output
(results, runs, caches) under one temporary folder, never into the repository.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent
_DEFAULT_MIRROR = REPO.parent / "shared" / "data"
_SCRATCH = Path(tempfile.mkdtemp(prefix="fcot-test-"))

os.environ.setdefault("FCOT_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
if not os.environ.get("FCOT_DATA_MIRROR") and _DEFAULT_MIRROR.is_dir():
    os.environ["FCOT_DATA_MIRROR"] = str(_DEFAULT_MIRROR)
os.environ["FCOT_RESULTS_DIR"] = str(_SCRATCH / "results")
os.environ["FCOT_RUNS_DIR"] = str(_SCRATCH / "runs")
os.environ["FCOT_CACHE_DIR"] = str(_SCRATCH / "cache")
