"""The stage notebooks run as a chain under papermill, and the chain is the experiment.

10 -> 11 -> 20 -> 21, each naming the run it reads by parameter (a run name here), into a temporary
results root; then :func:`fcot.experiments.run_experiment` with the same configuration, in another
results root, must produce exactly the same predictions: one pipeline, two ways to drive it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fcot import experiments, stages, study

pytestmark = pytest.mark.slow

CHAIN = """
description: the stage notebooks chained by run name (test)
steps:
  - notebook: 10_generate_teacher_rationales
    parameters: {task: coin_flip, backend: simulated, n_train: 40, n_val: 10, n_test: 40, name: chain}
  - notebook: 11_curate_samples
    parameters: {teacher_run: chain, method: ft_cot, student: tiny-gpt2-xs, name: chain}
  - notebook: 20_finetune_student
    parameters: {samples_run: chain, student: tiny-gpt2-xs, recipe: smoke, epochs: 2, name: chain}
  - notebook: 21_evaluate_student
    parameters: {student_run: chain, max_new_tokens: 128, batch_size: 32, name: chain}
"""
SAME_EXPERIMENT = experiments.ExperimentConfig(
    task="coin_flip", n_train=40, n_val=10, n_test=40, teacher="simulated", method="ft_cot",
    student="tiny-gpt2-xs", recipe="smoke", epochs=2,
)


def test_the_notebook_chain_and_run_experiment_give_identical_predictions(tmp_path: Path, monkeypatch) -> None:
    profile_file = tmp_path / "chain.yaml"
    profile_file.write_text(CHAIN)
    results = Path(os.environ["FCOT_RESULTS_DIR"])
    study.run_study(str(profile_file), results_root=results, log=lambda line: None)
    executed = sorted(p.name for p in (results / "chain" / "notebooks").glob("*.ipynb"))
    assert executed == ["10_generate_teacher_rationales.ipynb", "11_curate_samples.ipynb",
                        "20_finetune_student.ipynb", "21_evaluate_student.ipynb"]
    monkeypatch.setenv("FCOT_PROFILE", "chain")  # the profile's runs: results/chain/runs
    evaluation = stages.find("evaluation", "chain")
    # each run names its upstream run in its config (and so in its key)
    chain = stages.chain_config(evaluation)
    assert set(chain) == {"evaluation", "student", "curation", "teacher"}
    chain_predictions = [json.loads(line) for line in (evaluation.path / "predictions.jsonl").read_text().splitlines()]

    monkeypatch.setenv("FCOT_RESULTS_DIR", str(tmp_path / "elsewhere" / "results"))
    monkeypatch.setenv("FCOT_RUNS_DIR", str(tmp_path / "elsewhere" / "runs"))
    result = experiments.run_experiment(SAME_EXPERIMENT)
    assert not result["skipped"]
    experiment_predictions = [json.loads(line) for line in Path(result["run_path"], "predictions.jsonl").read_text().splitlines()]

    assert len(chain_predictions) == 40
    assert chain_predictions == experiment_predictions
    assert result["accuracy"] == evaluation.metrics["accuracy"]
