"""Spec of fcot.experiments' sweeps: many points, cached, in a process pool or on a Dask cluster."""

from __future__ import annotations

import pytest

from fcot import sweeps
from fcot.experiments import ExperimentConfig

TINY = dict(task="synth_coin_flip", difficulty=2, n_train=12, n_val=4, n_test=6, teacher_accuracy=0.9,
            student="tiny-gpt2-xs", recipe="smoke", epochs=1, max_new_tokens=24)


def test_grid_is_every_combination_and_arms_are_table_rows():
    base = ExperimentConfig(**TINY)
    points = sweeps.grid(base, degree=[1, 2], seed=[0, 1])
    assert [(p.degree, p.seed) for p in points] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    rows = sweeps.arms(base, ["vanilla", "ft_cot D=4"], seeds=[0])
    assert [(p.method, p.degree) for p in rows] == [("vanilla", 1), ("ft_cot", 4)]


@pytest.mark.parametrize("call, message", [
    (lambda base: sweeps.grid(base, degree=[]), "sweep axis 'degree' must be a non-empty list"),
    (lambda base: sweeps.grid(base, degree=2), "sweep axis 'degree' must be a non-empty list"),
    (lambda base: sweeps.arms(base, ["ft_cot D=x"], [0]), "write a method, optionally followed by ' D=<degree>'"),
    (lambda base: sweeps.arms(base, ["cot"], [0]), "method 'cot' is not one of"),
    (lambda base: sweeps.sweep([base], workers=0), "workers must be an integer >= 1"),
])
def test_bad_sweeps_say_what_is_accepted(call, message):
    with pytest.raises(ValueError, match=message):
        call(ExperimentConfig(**TINY))


@pytest.mark.slow
def test_a_process_pool_sweep_equals_the_sequential_one_and_finished_points_are_read_back(tmp_path, monkeypatch):
    points = sweeps.grid(ExperimentConfig(**TINY), degree=[1, 2])
    pooled = sweeps.sweep(points, workers=2, threads=1)
    assert list(pooled["skipped"]) == [False, False]
    again = sweeps.sweep(points, workers=2)
    assert list(again["skipped"]) == [True, True]  # nothing recomputed
    assert list(again["accuracy"]) == list(pooled["accuracy"])
    monkeypatch.setenv("FCOT_RESULTS_DIR", str(tmp_path / "sequential" / "results"))
    monkeypatch.setenv("FCOT_RUNS_DIR", str(tmp_path / "sequential" / "runs"))
    sequential = sweeps.sweep(points, workers=1, threads=1)
    assert list(sequential["accuracy"]) == list(pooled["accuracy"])


@pytest.mark.slow
def test_parallel_points_that_share_a_stage_compute_it_once():
    """Seeds share the teacher and the curation: the second process waits for the first and reuses its run."""
    from fcot import paths

    frame = sweeps.sweep(sweeps.grid(ExperimentConfig(**TINY), seed=[0, 1]), workers=2, threads=1)
    assert list(frame["skipped"]) == [False, False]
    runs = paths.profile_runs()
    assert len(list((runs / "teacher").glob("*/manifest.json"))) == 1
    assert len(list((runs / "curation").glob("*/manifest.json"))) == 1
    assert len(list((runs / "student").glob("*/manifest.json"))) == 2


@pytest.mark.slow
def test_a_sweep_runs_on_a_dask_cluster_given_its_scheduler_address():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        frame = sweeps.sweep(sweeps.grid(ExperimentConfig(**TINY), seed=[0]), cluster=cluster.scheduler_address)
    assert len(frame) == 1 and 0.0 <= frame["accuracy"].iloc[0] <= 1.0 and not frame["skipped"].iloc[0]


@pytest.mark.parametrize("name", sorted(sweeps.CLASSROOM))
def test_each_sweep_notebook_has_a_classroom_sweep_of_two_valid_points_of_the_default_study(name):
    settings = sweeps.classroom(name, {"study": "class", "cluster": ""})
    points = sweeps.sweep_points(name, settings)
    assert len(points) == 2 and settings["study"] == "class" and settings["seeds"] == [0]
    assert all(p.task == "synth_last_letter" and p.recipe == "tiny" and p.n_train in (200, 400, 800) for p in points)
