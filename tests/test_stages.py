"""Spec of fcot.stages and fcot.data: four recorded stages, keyed by config and upstream, reused when finished."""

from __future__ import annotations

import dataclasses

import pytest

from fcot import data, stages, students

SMALL = data.DataConfig(task="synth_coin_flip", n_train=12, n_val=4, n_test=6)


def test_n_train_means_the_training_questions_after_validation_is_set_aside(mirror):
    chosen = data.examples(data.DataConfig(task="coin_flip", n_train=30, n_val=5, n_test=7))
    assert (len(chosen.train), len(chosen.validation), len(chosen.test)) == (30, 5, 7)
    ids = [e.id for e in chosen.train + chosen.validation + chosen.test]
    assert len(set(ids)) == len(ids)
    whole = data.examples(data.DataConfig(task="coin_flip", n_train=0, n_val=0, n_test=0))
    assert len(whole.train) + len(whole.validation) == 350 and len(whole.test) == 150  # the official split


def test_synthetic_training_sets_nest_and_leave_validation_and_test_unchanged():
    small = data.examples(dataclasses.replace(SMALL, n_train=10))
    big = data.examples(dataclasses.replace(SMALL, n_train=20))
    assert big.train[:10] == small.train and big.validation == small.validation and big.test == small.test


def test_a_synthetic_task_can_be_tested_on_the_official_test_split_of_the_real_task_it_imitates(mirror):
    from fcot import tasks

    chosen = data.examples(data.DataConfig(task="synth_coin_flip", n_train=40, n_val=5, n_test=0, test_split="real"))
    official = tasks.load_split("coin_flip").test
    assert [e.id for e in chosen.test] == [e.id for e in official] and len(chosen.test) == 150
    assert not {e.question for e in chosen.train + chosen.validation} & {e.question for e in official}
    assert all(e.task == "synth_coin_flip" for e in chosen.train) and len(chosen.train) == 40
    assert data.DataConfig(task="synth_coin_flip", test_split="real").data_hashes() == tasks.data_hashes("coin_flip")


@pytest.mark.parametrize("field, value, message", [
    ("task", "nope", "DataConfig.task: unknown task 'nope'"),
    ("test_split", "dev", "DataConfig.test_split: 'dev' is not accepted; accepted: own, real"),
    ("n_train", 0, "DataConfig.n_train: must be an integer >= 1"),
    ("difficulty", 99, "DataConfig.difficulty: 99 is out of range"),
])
def test_bad_data_settings_name_the_field_and_what_is_accepted(field, value, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(SMALL, **{field: value})


def test_only_synthetic_tasks_that_imitate_a_real_one_take_its_test_split():
    with pytest.raises(ValueError, match="DataConfig.test_split: 'real' needs a synthetic task"):
        data.DataConfig(task="synth_arithmetic", test_split="real")


@pytest.mark.parametrize("changes, message", [
    ({"backend": "gpt"}, "TeachConfig.backend: 'gpt' is not accepted; accepted: simulated, replay, file"),
    ({"backend": "replay", "degree": 2}, "TeachConfig.degree: the replay teacher holds one greedy completion"),
    ({"backend": "file"}, "TeachConfig.completions: backend='file' needs completions="),
    ({"backend": "openai"}, "TeachConfig.model: backend 'openai' needs model="),
    ({"accuracy": 1.5}, r"TeachConfig.accuracy: must be in \[0, 1\]"),
])
def test_bad_teacher_settings_name_the_field_and_what_is_accepted(changes, message):
    with pytest.raises(ValueError, match=message):
        stages.TeachConfig(**changes)


def test_a_finished_stage_run_is_reused_not_recomputed(monkeypatch):
    first = stages.teach(SMALL, stages.TeachConfig(accuracy=0.8))
    assert first.finished and len(stages.completions_of(first)) == 16  # train + validation, one each

    def no_calls(*args, **kwargs):
        raise AssertionError("a finished teacher run was recomputed")

    monkeypatch.setattr(stages.chain, "ask_teacher", no_calls)
    again = stages.teach(SMALL, stages.TeachConfig(accuracy=0.8))
    assert again.path == first.path


def test_a_finished_run_whose_artifacts_are_gone_runs_again():
    run = stages.teach(SMALL, stages.TeachConfig(accuracy=0.8))
    (run.artifacts_dir / "completions.jsonl").unlink()
    again = stages.teach(SMALL, stages.TeachConfig(accuracy=0.8))
    assert again.path == run.path and (again.artifacts_dir / "completions.jsonl").is_file()


def test_each_run_is_keyed_by_its_config_and_its_upstream_run():
    teacher_a = stages.teach(SMALL, stages.TeachConfig(accuracy=0.8))
    teacher_b = stages.teach(SMALL, stages.TeachConfig(accuracy=0.9))
    curated_a = stages.curate(stages.CurateConfig(), teacher_a)
    curated_b = stages.curate(stages.CurateConfig(), teacher_b)
    assert curated_a.path != curated_b.path
    assert curated_a.config["upstream"] == {"kind": "teacher", "hash": teacher_a.hash}  # the content, not the name
    # vanilla reads no rationale: one curation run whatever the teacher
    vanilla_a = stages.curate(stages.CurateConfig(method="vanilla"), teacher_a)
    vanilla_b = stages.curate(stages.CurateConfig(method="vanilla"), teacher_b)
    vanilla_c = stages.curate(stages.CurateConfig(method="vanilla"), data=SMALL)
    assert vanilla_a.path == vanilla_b.path == vanilla_c.path


def test_the_chain_teach_curate_train_evaluate_records_four_runs_each_naming_its_upstream():
    teacher = stages.teach(SMALL, stages.TeachConfig(accuracy=1.0))
    samples = stages.curate(stages.CurateConfig(student="tiny-gpt2-xs"), teacher)
    train_samples, val_samples = stages.samples_of(samples)
    assert len(train_samples) == 12 and len(val_samples) == 4  # a perfect teacher: nothing filtered
    student = stages.train(students.recipe_config("smoke", student="tiny-gpt2-xs", epochs=1), samples)
    evaluation = stages.evaluate(stages.EvalConfig(max_new_tokens=24), student)
    assert evaluation.metrics["test_questions"] == 6
    assert stages.result_of(evaluation).n == 6 and len(stages.result_of(evaluation).predictions) == 6
    assert [r.kind for r in (stages.upstream_of(evaluation), stages.upstream_of(student), stages.upstream_of(samples))] \
        == ["student", "curation", "teacher"]
    assert "Evaluation run" in stages.describe(evaluation).data


def test_the_same_chain_under_other_names_is_computed_once_and_copied_under_each_name(monkeypatch):
    def chain(name):
        teacher = stages.teach(SMALL, stages.TeachConfig(accuracy=1.0), name=f"{name}-teacher")
        samples = stages.curate(stages.CurateConfig(student="tiny-gpt2-xs"), teacher, name=name)
        student = stages.train(students.recipe_config("smoke", student="tiny-gpt2-xs", epochs=1), samples, name=name)
        return teacher, samples, student, stages.evaluate(stages.EvalConfig(max_new_tokens=24), student, name=name)

    first = chain("walkthrough")

    def no_training(*args, **kwargs):
        raise AssertionError("a run of the same configuration was computed again under another name")

    monkeypatch.setattr(students, "train_student", no_training)
    monkeypatch.setattr(stages.chain, "ask_teacher", no_training)
    second = chain("column")
    for a, b in zip(first, second):
        assert (a.kind, a.hash) == (b.kind, b.hash) and b.name.startswith("column") and b.path != a.path
        assert b.manifest["copied_from"] == str(a.relpath) and b.finished
    assert second[2].metrics["best_model_dir"].endswith(f"{second[2].relpath}/train/best")  # its own copy
    assert stages.result_of(second[3]).predictions == stages.result_of(first[3]).predictions
    assert stages.find("student", "column").path == second[2].path and stages.upstream_of(second[3]).kind == "student"


def test_find_takes_a_directory_or_a_unique_name_and_says_what_is_wrong():
    run = stages.teach(SMALL, stages.TeachConfig(accuracy=0.8), name="mine")
    assert stages.find("teacher", "mine").path == run.path
    assert stages.find("teacher", str(run.path)).path == run.path
    with pytest.raises(FileNotFoundError, match="no finished teacher run 'other'"):
        stages.find("teacher", "other")
    with pytest.raises(ValueError, match="is a teacher run, not a curation run"):
        stages.find("curation", str(run.path))
    stages.teach(SMALL, stages.TeachConfig(accuracy=0.9), name="mine")
    with pytest.raises(ValueError, match="2 finished teacher runs are named 'mine'; pass one directory"):
        stages.find("teacher", "mine")


def test_curation_without_a_teacher_is_refused_except_for_vanilla():
    with pytest.raises(ValueError, match="method 'ft_cot' curates a teacher's rationales: pass its teacher run"):
        stages.curate(stages.CurateConfig(), data=SMALL)
