"""Provenance: the machine, the package versions and the commit that a run records (its manifest's ``hardware``,
``versions`` and ``git``), and that benchmarks report."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import fcot
from fcot import paths


def git_state(root: str | os.PathLike | None = None) -> dict:
    """``{"sha": ..., "dirty": bool}`` of the repository at ``root`` (None values outside git)."""
    root = Path(root) if root is not None else paths.REPO_ROOT
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        if sha.returncode != 0:
            return {"sha": None, "dirty": None}
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True, timeout=30
        )
        return {"sha": sha.stdout.strip(), "dirty": bool(status.stdout.strip()) if status.returncode == 0 else None}
    except (OSError, subprocess.TimeoutExpired):
        return {"sha": None, "dirty": None}


def package_versions() -> dict:
    """Versions of python and the packages results depend on (None where not installed)."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in ("fcot", "torch", "transformers", "tokenizers", "datasets", "accelerate", "peft", "numpy", "pandas"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    if versions["fcot"] is None:
        versions["fcot"] = fcot.__version__
    return versions


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_label(root: str | os.PathLike | None = None) -> str | None:
    """The checked-out commit, short, with ``+dirty`` when tracked files differ (None outside git)."""
    state = git_state(root)
    return None if state["sha"] is None else state["sha"][:12] + ("+dirty" if state["dirty"] else "")


def hardware() -> dict:
    """Host, OS, CPU and GPU description (no user names, no environment variables)."""
    info = {
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpu": None,
        "gpu_count": 0,
    }
    torch = sys.modules.get("torch")
    if torch is None:
        try:
            import torch  # noqa: F811
        except ImportError:  # pragma: no cover
            return info
    if torch.cuda.is_available():
        info["gpu_count"] = torch.cuda.device_count()
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
