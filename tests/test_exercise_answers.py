"""Spec: the solutions of notebooks 31, 34 and 35 answer their exercise (issue 29). Each solution cell is executed on
the runs table a sweep gives (the numbers of results/default where they come from there), and its output must hold
what the question asks for: a count of wrong samples, parameters and tokens per parameter, the D=8 point."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from fcot.runs import percent_frame

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _solution(name: str) -> str:
    cells = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    sources = [c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in cells
               if c["cell_type"] == "code" and "solution" in c["metadata"].get("tags", [])]
    assert len(sources) == 1, name
    return sources[0]


def _run(source: str, **namespace):
    """The value of a solution cell's last expression, as the notebook displays it."""
    *body, last = source.rstrip().split("\n")
    exec("\n".join(body), namespace)
    return eval(last, namespace)


def test_35_counts_the_wrong_samples_keep_all_keeps():
    # results/default's base point: 800 train completions, the simulator right on 69.6% of them
    runs = pd.DataFrame({"filter_mode": ["correct_only", "keep_all", "keep_all_matched"], "seed": [0, 0, 0],
                         "completions_train": [800] * 3, "teacher_accuracy_train": [0.69625] * 3,
                         "samples_train": [557, 800, 557], "share_filtered": [0.30375, 0.0, 0.30375],
                         "accuracy": [0.72, 0.72, 0.48]})
    shown = _run(_solution("35_ablate_filtering"), runs=runs, percent_frame=percent_frame)
    keep_all = shown[shown["filter_mode"] == "keep_all"].iloc[0]
    assert keep_all["teacher_wrong"] == 243 == keep_all["samples_train"] - 557  # the ones correct_only filtered out
    assert "share_filtered (%)" in shown.columns


def test_34_shows_parameters_and_tokens_per_parameter():
    runs = pd.DataFrame({"student": ["tiny-gpt2-xs", "tiny-gpt2-s"], "seed": [0, 0], "parameters": [149248, 527872],
                         "samples_train": [557, 557], "accuracy": [0.41, 0.72], "train_tokens_per_epoch": [34528] * 2,
                         "epochs_run": [10.0, 10.0]})
    shown = _run(_solution("34_ablate_student_size"), runs=runs, percent_frame=percent_frame)
    assert list(shown["parameters"]) == [149248, 527872]
    assert list(shown["tokens_per_parameter"].round(3)) == [round(345280 / 149248, 3), round(345280 / 527872, 3)]


def test_31_reads_the_d8_point_back_or_shows_the_profiles_runs_never_a_placeholder():
    source = _solution("31_ablate_degree")
    assert "set run_exercises=True" not in source
    row = {"degree": 8, "seed": 0, "accuracy": 0.5, "low": 0.43, "high": 0.57, "samples_train": 1200}
    config = SimpleNamespace(replace=lambda **changes: SimpleNamespace(**changes))
    trained = []
    sweeps = SimpleNamespace(finished_result=lambda point: row if point.degree == 8 else None,
                             sweep=lambda points, threads: trained.append(points) or pd.DataFrame([row]))
    runs = pd.DataFrame([dict(row, degree=d, accuracy=a) for d, a in ((4, 0.3), (1, 0.1), (2, 0.2))])
    finished = _run(source, config=config, sweeps=sweeps, runs=runs, run_exercises=False, threads=1)
    assert list(finished["degree"]) == [8] and finished["accuracy"].iloc[0] == 0.5  # read back, not trained anew
    sweeps.finished_result = lambda point: None  # nothing at D=8 and no training allowed: the sweep's own runs
    shown = _run(source, config=config, sweeps=sweeps, runs=runs, run_exercises=False, threads=1)
    assert list(shown["degree"]) == [1, 2, 4] and "accuracy" in shown.columns
    _run(source, config=config, sweeps=sweeps, runs=runs, run_exercises=True, threads=1)
    assert trained and trained[-1][0].degree == 8  # run_exercises: the point is trained (read back when finished)
