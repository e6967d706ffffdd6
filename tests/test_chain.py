"""The stage notebooks run as a chain under papermill: 10 -> 11 -> 20 -> 21, each reading what the last wrote.

This is the offline path of `make reproduce` at smoke sizes: the recorded text-davinci-002 teacher (replay)
writes completions under a run name, curation and training read them by that name, and evaluation finds the
trained student ("auto") -- into a temporary results root.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fcot import paths, study

pytestmark = pytest.mark.slow

CHAIN = """
description: the stage notebooks chained by run name (test)
steps:
  - notebook: 10_generate_teacher_rationales
    parameters: {task: last_letter_concatenation, backend: replay, n_train: 0, name: chain}
  - notebook: 11_curate_samples
    parameters: {task: last_letter_concatenation, teacher: chain, method: ft_cot, student: tiny-gpt2-xs, n_train: 0}
  - notebook: 20_finetune_student
    parameters: {task: last_letter_concatenation, teacher: chain, method: ft_cot, student: tiny-gpt2-xs, profile: smoke, n_train: 0, epochs: 1}
  - notebook: 21_evaluate_student
    parameters: {task: last_letter_concatenation, student: auto, fmt: ft_cot, n_test: 20, max_new_tokens: 32, name: chain}
"""


def test_the_stage_notebooks_run_in_sequence_and_each_reads_what_the_previous_one_wrote(tmp_path: Path) -> None:
    profile_file = tmp_path / "chain.yaml"
    profile_file.write_text(CHAIN)
    results = Path(os.environ["FCOT_RESULTS_DIR"])

    report = study.run_study(str(profile_file), results_root=results, log=lambda line: None)

    executed = sorted(p.name for p in (results / "chain" / "notebooks").glob("*.ipynb"))
    assert executed == [
        "10_generate_teacher_rationales.ipynb",
        "11_curate_samples.ipynb",
        "20_finetune_student.ipynb",
        "21_evaluate_student.ipynb",
    ]
    assert report is not None
    timings = json.loads(study.timings_path("chain", results).read_text())
    assert len(timings) >= 4

    # 10 wrote the teacher's completions under the run name; 11 and 20 read them by that name.
    completions = paths.runs_dir() / "teacher" / "chain" / "completions.jsonl"
    rows = [json.loads(line) for line in completions.read_text().splitlines() if line.strip()]
    assert len(rows) > 300 and {r["source"] for r in rows} == {"replay:text-davinci-002"}

    # 20 trained a student from those samples; 21 found it ("auto") and evaluated it on 20 test questions.
    run_dirs = {p.parent.parent.name for p in (results / "runs").glob("*/*/metrics.json")}
    assert run_dirs >= {"teacher", "evaluation"}, run_dirs
    evaluations = list((results / "runs" / "evaluation").glob("*/metrics.json"))
    metrics = json.loads(evaluations[0].read_text())
    assert metrics["n"] == 20 and 0.0 <= metrics["accuracy"] <= 1.0
