"""The paper profile, rehearsed offline: its chain runs end to end with --set overrides only."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from fcot import rehearsal, stages


def test_the_overrides_change_parameters_only_and_name_a_stand_in_for_each_hub_student(tmp_path):
    sets = rehearsal.overrides(["coin_flip"], {"gpt2": tmp_path / "g", "t5-small": tmp_path / "t"})
    assert "backend=replay" in sets and "task=[coin_flip]" in sets
    assert f"20_train_gpt2.student={tmp_path / 'g'}" in sets and f"20_train_t5-small.student={tmp_path / 't'}" in sets
    assert all("=" in s for s in sets)


@pytest.mark.slow
def test_the_paper_chain_runs_offline_from_teacher_to_report(mirror, tmp_path, monkeypatch):
    """10 -> 11 -> 20 -> 21 (GPT-2 and T5 architectures) -> 30 -> 90 of paper.yaml, about two minutes."""
    report = rehearsal.rehearse(tmp_path, ("coin_flip", "date_understanding"), log=lambda line: None)
    assert {o.status for o in report.outcomes} == {"ran"}
    assert len(report.outcomes) == 17  # 2 tasks x (10, 2 x 11, 2 x (20, 21), 30 sweeping its 3 arms) + 90
    monkeypatch.setenv("FCOT_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("FCOT_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FCOT_PROFILE", "paper")
    # the replayed teacher answered every official train question with the recorded accuracy
    teacher = {"coin_flip": stages.find("teacher", "paper-coin_flip").metrics,
               "date_understanding": stages.find("teacher", "paper-date_understanding").metrics}
    assert teacher["date_understanding"]["completions_train"] == 258 - 10  # less the 10 validation questions
    assert teacher["date_understanding"]["teacher_accuracy"] == pytest.approx(176 / 258)
    assert teacher["coin_flip"]["teacher_accuracy"] == pytest.approx(320 / 350)
    # each evaluation read the student its training step saved, of the stand-in's architecture
    architectures = set()
    for label in ("gpt2", "t5-small"):
        for task in ("coin_flip", "date_understanding"):
            evaluation = stages.find("evaluation", f"paper-{label}-{task}")
            student = Path(stages.upstream_of(evaluation).metrics["best_model_dir"])
            architectures.update(json.loads((student / "config.json").read_text())["architectures"])
    assert architectures == {"GPT2LMHeadModel", "T5ForConditionalGeneration"}
    # the report: recorded teacher on the test split, and a student row per method on both tasks
    table = pd.read_csv(tmp_path / "results" / "paper" / "tables" / "main_table.csv")
    rows = table[table.task.isin(["coin_flip", "date_understanding"])]
    assert set(rows[rows.runs > 0].method) == {"teacher", "vanilla", "ft_cot", "multitask"}
    date_teacher = rows[(rows.method == "teacher") & (rows.task == "date_understanding")]
    assert float(date_teacher["mean"].iloc[0]) == pytest.approx(73 / 111)
