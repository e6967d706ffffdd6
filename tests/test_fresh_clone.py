"""A fresh clone is the state that matters most: committed results present, no local runs.

These specs build that state from the tracked files of this checkout (a git repository of its own, committed, with
no ``runs/``) and run the real runner in it, as ``make reproduce`` does, with one training epoch to stay short.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fcot import paths, stages

pytestmark = pytest.mark.slow

ROOT = paths.REPO_ROOT


def _clone_state(target: Path) -> Path:
    """The tracked files of this checkout, as they are in its working tree, committed in a new repository."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git = ["git", "-c", "user.name=fcot", "-c", "user.email=fcot@localhost", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    subprocess.run(["git", "add", "-A"], cwd=target, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "clone state"], cwd=target, check=True)
    return target


def _environment(clone: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FCOT_") or k in ("FCOT_DATA_MIRROR", "FCOT_OFFLINE")}
    env["PYTHONPATH"] = str(clone)  # the clone's package, in this process and in every notebook kernel
    env["FCOT_CACHE_DIR"] = str(clone / ".cache")
    return env


def _reproduce(clone: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fcot", "reproduce", "--profile", "default", *args], cwd=clone,
                          env=_environment(clone), capture_output=True, text=True, timeout=timeout)


def _untracked_under_results(clone: Path) -> list[str]:
    """Files added under results/ other than the records of runs (a new configuration's run is a new record)."""
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", "results"], cwd=clone,
                            capture_output=True, text=True, check=True).stdout
    return [line for line in status.splitlines() if line.startswith("??") and "/runs/" not in line]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    return _clone_state(tmp_path_factory.mktemp("clone") / "fcot")


def test_a_fresh_clone_runs_the_stage_walkthrough_through_the_real_runner(clone):
    timings = (clone / "results" / "default" / "timings.json").read_bytes()
    done = _reproduce(clone, "--only", "00-21", "--jobs", "1", "--set", "20_finetune_student.epochs=1")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # every stage ran here: a committed record with the same hash was never read for its (absent) artifacts
    local = clone / "runs" / "default"
    assert any(local.glob(f"teacher/*/{stages.COMPUTED_HERE}")) and any(local.glob(f"curation/*/{stages.COMPUTED_HERE}"))
    # nothing was recomputed that the committed headline numbers rest on: the check compares nothing
    assert "nothing recomputed to compare" in done.stdout and "not recomputed on this machine" in done.stdout
    assert "exactly" not in done.stdout
    # only what ran changed under results/ (and the records of the runs its new epoch count made)
    assert _untracked_under_results(clone) == []
    recorded = json.loads((clone / "results" / "default" / "timings.json").read_text())["notebooks"]
    assert recorded["20_train_ft_cot"]["parameters"]["epochs"] == 1
    walkthrough = [name for name in recorded if name[:2] in ("00", "01", "10", "11", "20", "21")]
    assert len(walkthrough) == 9 and all(recorded[name]["status"] == "ran" for name in walkthrough)
    assert recorded["30_compare_methods"] == json.loads(timings)["notebooks"]["30_compare_methods"]  # not executed


def test_a_call_that_only_skips_rewrites_no_committed_file(clone):
    before = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout
    timings = (clone / "results" / "default" / "timings.json").read_bytes()
    done = _reproduce(clone, "--only", "00-01", "--jobs", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "up to date, skipped" in done.stdout
    assert (clone / "results" / "default" / "timings.json").read_bytes() == timings
    assert subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout == before


def test_a_failed_step_leaves_nothing_under_results_and_says_how_to_resume(clone):
    timings = (clone / "results" / "default" / "timings.json").read_bytes()
    step = "10_generate_teacher_rationales"
    done = _reproduce(clone, "--only", "10", "--jobs", "1", "--set", f"{step}.backend=file", "--set",
                      f"{step}.accuracy=null", "--set", f"{step}.completions=no-such-teacher-run")
    assert done.returncode != 0
    message = done.stdout + done.stderr
    assert "runs/default/failed/10_generate_teacher_rationales.ipynb" in message.replace(os.sep, "/")
    assert "run the same command again" in message
    assert (clone / "runs" / "default" / "failed" / "10_generate_teacher_rationales.ipynb").is_file()
    assert _untracked_under_results(clone) == []
    assert (clone / "results" / "default" / "timings.json").read_bytes() == timings  # no failing override in it
