"""Specs for computing a study's sweep points ahead, in one pool of processes (fcot.prefetch).

What matters to a user: ``make reproduce`` computes exactly the points each sweep notebook would compute
(so its numbers are the notebook's own), the longest first, and every notebook reads them back.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest

from fcot import prefetch, study, sweeps
from fcot.experiments import ExperimentConfig

REPO = Path(__file__).resolve().parent.parent
SWEEP_NOTEBOOKS = ("29_choose_recipe", "30_compare_methods", "31_ablate_degree", "32_ablate_data_size",
                   "33_ablate_teacher_quality", "34_ablate_student_size", "35_ablate_filtering",
                   "36_ablate_rationale_length")


def points_the_notebook_computes(run: study.PlannedRun, monkeypatch) -> list[ExperimentConfig]:
    """Execute the notebook's code with its planned values, recording the points it hands to ``sweeps.sweep``
    instead of training them (cells that need trained runs fail and are passed over)."""
    recorded: list[ExperimentConfig] = []

    def record(points, **_):
        recorded.extend(points)
        return pd.DataFrame({"accuracy": [], "val_accuracy": [], "samples_val": []})

    monkeypatch.setattr(sweeps, "sweep", record)
    notebook = nbformat.read(str(run.notebook_path), as_version=4)
    namespace: dict = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            exec(cell.source, namespace)
        except Exception:  # a later cell that reads results: nothing trained here
            pass
        if "parameters" in cell.metadata.get("tags", []):
            namespace.update(run.parameters)  # what papermill injects after the parameters cell
    plt.close("all")  # the figures of cells that drew from nothing
    return recorded


def planned_values(run: study.PlannedRun) -> dict:
    defaults = {name: p.default for name, p in study.notebook_parameters(run.notebook_path).items()}
    return {**defaults, **run.parameters}


@pytest.mark.parametrize("profile", ["smoke", "default"])
def test_the_points_computed_ahead_are_exactly_those_each_sweep_notebook_computes(profile, monkeypatch):
    runs = [r for r in study.plan(study.load_profile(profile)) if r.step.notebook in SWEEP_NOTEBOOKS]
    assert len(runs) >= 7
    for run in runs:
        ahead = {c.key() for c in prefetch.step_points(run.step.notebook, planned_values(run))}
        computed = {c.key() for c in points_the_notebook_computes(run, monkeypatch)}
        assert ahead and ahead == computed, run.name


def test_notebooks_without_a_sweep_and_values_a_notebook_refuses_have_no_points_ahead():
    assert prefetch.step_points("20_finetune_student", {"epochs": 3}) == []
    assert prefetch.step_points("31_ablate_degree", {"degree": [0], "seeds": [0]}) == []


def tiny(**changes) -> ExperimentConfig:
    values = dict(task="synth_last_letter", difficulty=2, n_train=12, n_val=4, n_test=6, student="tiny-gpt2-xs",
                  recipe="smoke", epochs=1, max_new_tokens=16)
    return ExperimentConfig(**{**values, **changes})


def test_without_a_recorded_run_a_point_costs_its_samples_times_epochs_times_its_students_step():
    small = tiny(student="tiny-gpt2-s")
    assert prefetch.expected_seconds(tiny(student="tiny-gpt2-s", n_train=24, degree=2)) == 4 * prefetch.expected_seconds(small)
    assert prefetch.expected_seconds(tiny(student="tiny-gpt2-s", method="multitask")) == 2 * prefetch.expected_seconds(small)
    sizes = [prefetch.expected_seconds(tiny(student=s)) for s in ("tiny-gpt2-xs", "tiny-gpt2-s", "tiny-gpt2-m")]
    assert sizes == sorted(sizes) and 3 < sizes[2] / sizes[1] < 4  # measured: 62 s vs 19 s a run


def sweep_values(notebook: str, **changes) -> dict:
    defaults = {n: p.default for n, p in study.notebook_parameters(REPO / "notebooks" / f"{notebook}.ipynb").items()}
    return {**defaults, "n_train": 12, "n_val": 4, "n_test": 6, "max_new_tokens": 16, "threads": 1, **changes}


@pytest.mark.slow
def test_a_pool_computes_every_unfinished_point_once_and_a_notebook_waits_for_its_own(tmp_path):
    planned = [("31_ablate_degree", "31_ablate_degree", sweep_values("31_ablate_degree", degree=[1, 2], run_exercises=False)),
               ("32_ablate_data_size", "32_ablate_data_size", sweep_values("32_ablate_data_size", n_train=[12, 6]))]
    lines: list[str] = []
    ahead = prefetch.start(planned, jobs=2, log=lines.append)
    assert ahead is not None and "3 experiment points of 2 sweep steps" in lines[0]  # n_train=12, D=1 once
    assert ahead.pool is None  # start only plans: run_study launches it before its first step, else the first wait
    ahead.wait("31_ablate_degree")
    points = prefetch.step_points("31_ablate_degree", planned[0][2])
    assert all(sweeps.finished_result(config) is not None for config in points)
    done = ahead.close()
    assert done["points"] == done["computed"] == 3 and done["failed"] == 0
    assert prefetch.start(planned, jobs=2, log=lines.append) is None  # all finished: nothing to compute ahead


@pytest.mark.slow
def test_reproduce_with_jobs_computes_the_sweeps_ahead_and_the_notebook_reads_them_back(tmp_path):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    values = {k: v for k, v in sweep_values("31_ablate_degree", degree=[1, 2], run_exercises=False).items()
              if k in ("n_train", "n_val", "n_test", "max_new_tokens", "threads", "degree", "run_exercises")}
    (profiles / "p.yaml").write_text("steps:\n  - notebook: 31_ablate_degree\n    parameters: "
                                     + json.dumps({**values, "study": "p"}) + "\n", encoding="utf-8")
    lines: list[str] = []
    report = study.run_study(study.load_profile("p", profiles), options=study.RunOptions(jobs=2), log=lines.append)
    assert [o.status for o in report.outcomes] == ["ran"]
    call = json.loads(report.timings_path.read_text())["last_call"]
    assert call["prefetch"]["computed"] == 2 and call["runs_computed"] >= 2
    executed = nbformat.read(str(report.outcomes[0].run.output_path), as_version=4)
    cell = next(c for c in executed.cells if c.cell_type == "code" and c.source.startswith("results = sweeps.sweep("))
    lines = cell.outputs[0]["data"]["text/plain"].splitlines()  # pandas wraps wide tables into blocks of columns
    header = next(i for i, line in enumerate(lines) if line.split() and line.split()[-1] == "skipped")
    assert [line.split()[-1] for line in lines[header + 1:header + 3]] == ["True", "True"]  # both read back


@pytest.mark.slow
def test_a_point_that_fails_in_the_pool_is_named_and_left_to_its_notebook():
    values = sweep_values("31_ablate_degree", degree=[1], run_exercises=False, teacher="file",
                          teacher_file="no-such-teacher-run", teacher_accuracy=None)
    lines: list[str] = []
    ahead = prefetch.start([("31_ablate_degree", "31_ablate_degree", values)], jobs=2, log=lines.append)
    ahead.wait("31_ablate_degree")  # returns: the notebook will compute it again and show the error
    done = ahead.close()
    assert done["failed"] == 1 and done["computed"] == 0
    assert "synth_last_letter-ft_cot-d1 seed 0 failed" in lines[-1] and "31_ablate_degree computes it again" in lines[-1]
