"""Spec of the computed "What we saw" of the stage notebooks (10, 20, 21) and of the sample study (40): each sentence
says what the data behind it says (issue 29). Every test feeds the numbers a notebook prints, including the edge cases
that made the old sentences false: the best epoch not the last, ``select_by="last"``, shares over train plus
validation, the teacher named."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from fcot import analysis, stages

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

# results/default's walk-through vanilla student: validation loss lowest at epoch 3, the tiny recipe keeps the last
EVAL_LOSS = [0.3557, 0.369, 0.3418, 0.5407, 0.3492, 0.3914, 0.4257, 0.4273, 0.4573, 0.4624]
TRAIN_LOSS = [1.474, 0.3664, 0.3599, 0.3523, 0.3604, 0.3531, 0.3314, 0.3124, 0.3025, 0.2925]


def _student(tmp_path, eval_loss, train_loss=None, *, select_by="last", kept=None):
    epochs = list(range(1, len(eval_loss) + 1))
    curves = pd.DataFrame({"epoch": epochs, "train_loss": train_loss or [1.0] * len(epochs), "eval_loss": eval_loss})
    (tmp_path / "tables").mkdir(parents=True, exist_ok=True)
    curves.to_csv(tmp_path / "tables" / "learning_curves.csv", index=False)
    metrics = {"select_by": select_by, "best_epoch": float(kept if kept is not None else epochs[-1]),
               "epochs_run": float(epochs[-1]), "samples_train": 600, "parameters": 527872,
               "tokens_per_second": 26695.9, "train_runtime_s": 12.9}
    return SimpleNamespace(kind="student", metrics=metrics, config={"data": {"task": "synth_coin_flip"}}, path=tmp_path)


def _text(run) -> str:
    return stages.what_we_saw(run).data


# ---------------------------------------------------------------------------------------------- notebook 20


def test_a_best_epoch_before_the_last_is_not_reported_as_still_improving_when_select_by_keeps_the_last(tmp_path):
    text = _text(_student(tmp_path, EVAL_LOSS, TRAIN_LOSS, select_by="last"))
    assert "still improving" not in text
    assert "lowest at epoch 3 of 10 (0.342)" in text and "ended at 0.462" in text
    assert "overfits its 600 samples" in text  # train loss fell 0.360 -> 0.293 while validation loss rose
    assert '`select_by="last"` kept the weights of epoch 10 of 10' in text
    assert "epoch 3 are the ones kept" not in text and "weights of epoch 3" not in text


def test_select_by_eval_loss_keeps_the_best_epoch_and_says_so(tmp_path):
    text = _text(_student(tmp_path, EVAL_LOSS, TRAIN_LOSS, select_by="eval_loss", kept=3))
    assert "lowest at epoch 3 of 10" in text and "still improving" not in text
    assert '`select_by="eval_loss"` kept the weights of epoch 3 of 10 (the lowest validation loss)' in text


def test_a_validation_loss_lowest_at_the_last_epoch_is_still_improving(tmp_path):
    text = _text(_student(tmp_path, [0.9, 0.7, 0.5, 0.4], select_by="eval_loss", kept=4))
    assert "lowest at the last epoch (4 of 4, 0.400)" in text and "still improving" in text
    assert "kept the weights of epoch 4 of 4" in text


def test_a_rise_without_falling_train_loss_is_not_called_overfitting(tmp_path):
    text = _text(_student(tmp_path, [0.5, 0.4, 0.6], [1.0, 1.0, 1.0], select_by="last"))
    assert "lowest at epoch 2 of 3" in text and "overfits" not in text and "still improving" not in text


def test_the_describe_line_calls_the_kept_epoch_kept_not_best(tmp_path):
    run = _student(tmp_path, EVAL_LOSS, TRAIN_LOSS, select_by="last")
    run.config = {"data": {"task": "synth_coin_flip"}, "train": {"student": "tiny-gpt2-s"}, "method": "vanilla"}
    run.relpath, run.metrics["samples_val"] = "student/x", 50
    text = stages.describe(run).data
    assert "kept epoch 10.0 of 10.0 (`select_by=last`" in text and "best epoch" not in text


# ---------------------------------------------------------------------------------------------- notebook 10

# results/default's walk-through teacher: 600 train + 50 validation completions, 49 + 2 of them wrong
TEACHER = {"completions": 650, "questions": 650, "degree": 1, "teacher_accuracy": 599 / 650,
           "share_filtered": 51 / 650, "completions_train": 600, "teacher_accuracy_train": 551 / 600,
           "teacher_coverage_train": 551 / 600, "truncation_rate": 0.0}


def _teacher_run(metrics, teach=None):
    return SimpleNamespace(kind="teacher", metrics=dict(metrics), config={"data": {"task": "synth_coin_flip"},
                                                                          "teach": teach or {"backend": "simulated"}})


def test_the_share_filtered_is_the_printed_metric_and_names_its_splits():
    text = _text(_teacher_run(TEACHER))
    assert "`share_filtered` 7.8%, train plus validation" in text  # the value the metrics table prints (0.0785)
    assert "51 of 650 in all" in text
    assert "49 of the 600 train completions (8.2%)" in text and "2 of the 50 validation completions" in text
    assert "will drop 8.2% of them" not in text  # the old sentence: a train share next to a train+validation metric


def test_without_validation_completions_the_train_share_is_the_whole_share():
    metrics = dict(TEACHER, completions=600, questions=600, share_filtered=49 / 600, teacher_accuracy=551 / 600)
    text = _text(_teacher_run(metrics))
    assert "49 of the 600 train completions (8.2%)." in text and "validation" not in text


def test_shares_at_degree_above_one_count_completions_not_questions():
    metrics = dict(TEACHER, degree=4, completions=2600, share_filtered=600 / 2600, teacher_accuracy=2000 / 2600,
                   completions_train=2400, teacher_accuracy_train=1850 / 2400, teacher_coverage_train=0.98,
                   share_questions_all_distinct=0.9)
    text = _text(_teacher_run(metrics))
    assert "550 of the 2400 train completions (22.9%)" in text and "50 of the 200 validation completions" in text
    assert "600 of 2600 in all (`share_filtered` 23.1%" in text and "98.0% of the train questions" in text


# ---------------------------------------------------------------------------------------------- notebook 21


def _evaluation(monkeypatch, teacher, accuracy=0.56, low=0.48, high=0.64):
    from fcot import data, evaluate

    test = [SimpleNamespace(task="coin_flip")] * 150
    monkeypatch.setattr(stages.narration, "data_of", lambda run: None)
    monkeypatch.setattr(data, "examples", lambda config: SimpleNamespace(test=test))
    monkeypatch.setattr(evaluate, "random_baseline", lambda questions: 0.5)
    monkeypatch.setattr(stages.narration, "_teacher_of", lambda run: teacher)
    return SimpleNamespace(kind="evaluation", config={"data": {"task": "synth_coin_flip"}},
                           metrics={"accuracy": accuracy, "low": low, "high": high, "test_questions": 150,
                                    "stop_rate": 1.0})


@pytest.mark.parametrize("teach, named", [
    ({"backend": "simulated", "accuracy": 0.914}, "the rule-based teacher simulator (not a language model, set to 91.4% accuracy)"),
    ({"backend": "replay"}, "the recorded text-davinci-002 (the paper's teacher, replayed from its logs)"),
    ({"backend": "openai", "model": "gpt-4o-mini"}, "`gpt-4o-mini` (an OpenAI-compatible endpoint)"),
    ({"backend": "hf", "model": "gpt2-xl"}, "`gpt2-xl` (a Hugging Face model)"),
    ({"backend": "file", "completions": "walkthrough-coin_flip"}, "the teacher whose completions were read from `walkthrough-coin_flip`"),
])
def test_the_student_is_compared_with_a_named_teacher(monkeypatch, teach, named):
    teacher = _teacher_run(dict(TEACHER, teacher_accuracy_test=0.8733), teach)
    text = _text(_evaluation(monkeypatch, teacher))
    assert f"Its teacher, {named}, scored 87.3% on the same questions" in text
    assert "31.3 points below it." in text


def test_the_comparison_takes_the_data_direction_and_counts_noise_apart(monkeypatch):
    teacher = _teacher_run(dict(TEACHER, teacher_accuracy_test=0.60))
    assert "4.0 points below it (its score lies inside the student's interval: within noise)" in \
        _text(_evaluation(monkeypatch, teacher, accuracy=0.56, low=0.48, high=0.64))
    assert "5.0 points above it." in _text(_evaluation(monkeypatch, teacher, accuracy=0.65, low=0.61, high=0.69))
    assert "the student is level with it" in _text(_evaluation(monkeypatch, teacher, accuracy=0.60, low=0.52, high=0.68))


# ---------------------------------------------------------------------------------------------- notebook 40


def test_the_sample_study_names_its_teacher():
    frames = {"student": pd.DataFrame({"category": ["correct", "wrong_step"]}),
              "teacher": pd.DataFrame({"category": ["correct", "correct"]})}
    counts = analysis.category_counts(frames)
    named = stages.teacher_name(stages.TeachConfig(backend="replay"), "coin_flip")
    text = analysis.what_we_saw(counts, pd.DataFrame(), teacher=named).data
    assert "The teacher, the recorded text-davinci-002 (the paper's teacher, replayed from its logs), answered 100.0%" in text
    simulated = stages.teacher_name(stages.TeachConfig(backend="simulated", accuracy=0.7), "coin_flip")
    assert simulated == "the rule-based teacher simulator (not a language model, set to 70.0% accuracy)"
    assert "set to" in stages.teacher_name(stages.TeachConfig(backend="simulated"), "coin_flip")  # the task's default


# ---------------------------------------------------------------------------------------------- the notebooks' text


def _sources(name: str) -> list[str]:
    cells = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    return [c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in cells]


def test_notebook_40_passes_its_teacher_to_what_we_saw():
    assert any("analysis.what_we_saw(counts, comparison, teacher=stages.teacher_name(" in s for s in _sources("40_sample_study"))


def test_notebook_20_says_no_length_grouped_batches_and_its_solution_prints_the_kept_epoch():
    sources = _sources("20_finetune_student")
    assert not any("length-grouped batches" in s for s in sources)
    assert any('"kept epoch": run.metrics["best_epoch"]' in s for s in sources)
    assert not any("the kept weights are that epoch's" in s for s in sources)


def test_notebook_10_solution_compares_shares_over_the_same_completions():
    sources = _sources("10_generate_teacher_rationales")
    solution = next(s for s in sources if '"share_filtered": m["share_filtered"]' in s)
    assert '"1 - accuracy": 1 - m["teacher_accuracy"]' in solution and "train + validation" in solution
    assert not any("At degree 1 the share filtered is one minus the accuracy on the teacher's questions" in s for s in sources)
