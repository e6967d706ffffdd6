"""`make verify`: stored predictions re-score to the stored metrics, and the published tables recompute."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from fcot.runs import Run
from fcot import ablations, answers, cli, evaluate, experiments, report, tasks, verify
from fcot.experiments import ExperimentConfig

STUDY = "tiny"
# The fast configuration of tests/test_experiments.py (seconds on a CPU).
TINY = dict(task="synth_last_letter", difficulty=2, n_train=24, n_val=6, n_test=12, teacher_accuracy=0.7,
            student="tiny-gpt2-xs", recipe="smoke", epochs=1, max_new_tokens=12)


def _write_tables_as_notebook_90(study: str, recorded_teacher: bool, confidence: float) -> None:
    """The calls notebook 90 makes (without the figures)."""
    runs = report.experiment_runs(study)
    base = report.base_runs(runs)
    teacher = report.recorded_teacher() if recorded_teacher else None
    table = report.main_table(base, teacher=teacher, confidence=confidence)
    wide = report.wide_table(table, report.load_published(""))
    summaries = report.ablation_summaries(study)
    report.write_tables(study, main=table, wide=wide, teacher=teacher, ablations=summaries,
                        config={"published_csv": "", "recorded_teacher": recorded_teacher, "confidence": confidence})


def _record_evaluation() -> None:
    """A notebook-21 style evaluation run on real coin_flip test questions (answers written, not generated)."""
    test = tasks.load_examples("coin_flip", part="test")[:6]
    parse = evaluate.default_parser("vanilla")
    rows = []
    for i, example in enumerate(test):
        completion = "yes END" if i % 2 else "no END"
        prediction = parse(completion, example)
        rows.append({"example_id": example.id, "task": example.task, "prompt": "", "completion": completion,
                     "prediction": prediction, "gold": example.answer,
                     "correct": answers.is_correct(prediction, example), "stopped": True})
    result = evaluate.score([r["correct"] for r in rows], method="vanilla", task="coin_flip", predictions=rows)
    with Run.open("evaluation", {"student": "none", "task": "coin_flip", "fmt": "vanilla", "n_test": 6},
                  name="test-coin_flip-vanilla") as run:  # what fcot.stages.evaluate records
        run.save_predictions(result.predictions)
        run.save_metrics(result.metrics())


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """One results tree built once: two tiny experiments, a recorded degree ablation, an evaluation
    run, and the tables written as notebook 90 writes them (recorded teacher off, 90% intervals)."""
    root = tmp_path_factory.mktemp("verify")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FCOT_RESULTS_DIR", str(root / "results"))
        patch.setenv("FCOT_RUNS_DIR", str(root / "runs"))
        patch.setenv("FCOT_PROFILE", STUDY)  # the runs belong to the study (profile) whose tables are verified
        config = ExperimentConfig(**TINY)
        experiments.run_experiment(config)
        experiments.run_experiment(config.replace(method="vanilla"))
        _, summary = ablations.ablation_summary("degree", config)
        ablations.record_ablation("degree", config, summary, study=STUDY)
        _record_evaluation()
        _write_tables_as_notebook_90(STUDY, recorded_teacher=False, confidence=0.9)
    return root / "results"


@pytest.fixture
def results(pristine, tmp_path, monkeypatch):
    """A private copy of the pristine results tree (tests tamper with it)."""
    copy = tmp_path / "results"
    shutil.copytree(pristine, copy)
    monkeypatch.setenv("FCOT_RESULTS_DIR", str(copy))
    return copy


def _failed(checks):
    return [c for c in checks if not c.ok]


def _experiment_run(results, method: str):
    folders = sorted((results / STUDY / "runs" / "experiment").glob(f"synth_last_letter-{method}*"))
    assert len(folders) == 1, folders
    return folders[0]


def test_untouched_results_pass_every_check(results):
    checks = verify.verify(STUDY, root=results)
    assert _failed(checks) == []
    whats = [c.what for c in checks]
    for method in ("ft_cot", "vanilla"):
        name = _experiment_run(results, method).name
        for aspect in ("config", "predictions", "counts", "accuracy", "wilson interval"):
            assert f"experiment {name}: {aspect}" in whats
    assert any(w.startswith("evaluation test-coin_flip-vanilla") and w.endswith("predictions") for w in whats)
    assert "table main_table: values" in whats and "table ablation_degree: values" in whats
    settings = next(c for c in checks if c.what == "report settings")
    assert "recorded_teacher=False" in settings.detail and "confidence=0.9" in settings.detail
    assert settings.path.endswith("config.json")
    # ablations the study never recorded are listed as not checked, not silently dropped
    assert any(c.what == "table ablation_filtering" and not c.checked for c in checks)


def test_a_sweep_recorded_only_around_another_point_is_named_where_its_kind_is_not_checked(results):
    ablations_dir, tables = results / STUDY / "ablations", results / STUDY / "tables"
    (ablations_dir / "degree").rename(ablations_dir / "degree-40_questions")
    record = ablations_dir / "degree-40_questions" / "ablation.json"
    record.write_text(record.read_text().replace('"name": "degree"', '"name": "degree-40_questions"'))
    (tables / "ablation_degree.csv").rename(tables / "ablation_degree-40_questions.csv")
    checks = {c.what: c for c in verify.verify_tables(STUDY, root=results)}
    assert checks["table ablation_degree-40_questions: values"].ok
    kind = checks["table ablation_degree"]
    assert not kind.checked and "around another point only (degree-40_questions: checked)" in kind.detail


def test_a_tampered_correct_flag_fails_naming_the_run_and_example(results):
    folder = _experiment_run(results, "ft_cot")
    file = folder / "predictions.jsonl"
    rows = [json.loads(line) for line in file.read_text().splitlines()]
    rows[3]["correct"] = not rows[3]["correct"]
    file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    failed = _failed(verify.verify_runs(results, STUDY))
    assert [c.what for c in failed] == [f"experiment {folder.name}: predictions"]
    assert f"example {rows[3]['example_id']!r}" in failed[0].detail and "line 4" in failed[0].detail
    assert failed[0].path == str(file)


def test_a_tampered_prediction_fails(results):
    folder = _experiment_run(results, "vanilla")
    file = folder / "predictions.jsonl"
    rows = [json.loads(line) for line in file.read_text().splitlines()]
    rows[0]["prediction"] = "tampered"
    file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    failed = _failed(verify.verify_runs(results, STUDY))
    assert [c.what for c in failed] == [f"experiment {folder.name}: predictions"]
    assert "'tampered' stored" in failed[0].detail


def test_a_tampered_metrics_accuracy_fails(results):
    folder = _experiment_run(results, "ft_cot")
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["accuracy"] += 1e-6
    (folder / "metrics.json").write_text(json.dumps(metrics))
    failed = _failed(verify.verify_runs(results, STUDY))
    assert [c.what for c in failed] == [f"experiment {folder.name}: accuracy"]
    assert failed[0].path == str(folder / "metrics.json")


def test_a_tampered_correct_count_fails(results):
    folder = _experiment_run(results, "ft_cot")
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["correct"] += 1
    (folder / "metrics.json").write_text(json.dumps(metrics))
    assert [c.what for c in _failed(verify.verify_runs(results, STUDY))] == [f"experiment {folder.name}: counts"]


def test_a_tampered_config_no_longer_rebuilds_the_run_key(results):
    folder = _experiment_run(results, "ft_cot")
    config = json.loads((folder / "config.json").read_text())
    config["n_test"] = 11
    (folder / "config.json").write_text(json.dumps(config))
    failed = {c.what for c in _failed(verify.verify_runs(results, STUDY))}
    assert f"experiment {folder.name}: config" in failed
    assert f"experiment {folder.name}: predictions" in failed  # 12 rows stored, 11 questions regenerated


def test_a_tampered_evaluation_run_fails(results):
    folder = next((results / STUDY / "runs" / "evaluation").glob("test-coin_flip-vanilla-*"))
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["high"] = 0.99
    (folder / "metrics.json").write_text(json.dumps(metrics))
    assert [c.what for c in _failed(verify.verify_runs(results, STUDY))] == [f"evaluation {folder.name}: wilson interval"]


def test_an_unfinished_run_is_reported_as_not_checked(results):
    folder = _experiment_run(results, "vanilla")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["status"] = "running"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    checks = [c for c in verify.verify_runs(results, STUDY) if folder.name in c.what]
    assert len(checks) == 1 and checks[0].ok and not checks[0].checked and "'running'" in checks[0].detail


def test_a_tampered_main_table_mean_fails_naming_table_row_and_column(results):
    file = results / STUDY / "tables" / "main_table.csv"
    table = pd.read_csv(file)
    row = table.index[table["method"] == "ft_cot"][0]
    table.loc[row, "mean"] += 0.01
    table.to_csv(file, index=False)
    failed = _failed(verify.verify_tables(STUDY, root=results))
    assert [c.what for c in failed] == ["table main_table: values"]
    assert "method='ft_cot', task='synth_last_letter'" in failed[0].detail and "column mean" in failed[0].detail


def test_a_missing_main_table_fails_with_the_make_target(results):
    (results / STUDY / "tables" / "main_table.csv").unlink()
    failed = _failed(verify.verify_tables(STUDY, root=results))
    assert [c.what for c in failed] == ["table main_table"]
    assert f"make reproduce PROFILE={STUDY}" in failed[0].detail


def test_a_missing_ablation_table_fails_and_a_dropped_row_is_named(results):
    tables = results / STUDY / "tables"
    main = pd.read_csv(tables / "main_table.csv")
    main[main["method"] != "vanilla"].to_csv(tables / "main_table.csv", index=False)
    (tables / "ablation_degree.csv").unlink()
    failed = {c.what: c.detail for c in _failed(verify.verify_tables(STUDY, root=results))}
    assert "make reproduce PROFILE=tiny" in failed["table ablation_degree"]
    assert "method='vanilla'" in failed["table main_table: rows"]


def test_a_new_run_after_the_tables_were_written_makes_them_stale(results, monkeypatch):
    monkeypatch.setenv("FCOT_PROFILE", STUDY)
    experiments.run_experiment(ExperimentConfig(**TINY, seed=1))
    failed = _failed(verify.verify(STUDY, root=results))
    assert {c.what for c in failed} >= {"table main_table: values"}
    assert not [c for c in failed if c.what.startswith("experiment")]


def test_cli_prints_one_line_per_check_and_a_summary(results, capsys):
    assert cli.main(["verify", "--profile", STUDY, "--results", str(results)]) == 0
    lines = capsys.readouterr().out.splitlines()
    checks = verify.verify(STUDY, root=results)
    assert len(lines) == len(checks) + 1
    assert all(line.startswith(("OK   ", "FAIL ")) for line in lines[:-1])
    assert lines[-1].startswith(f"{len(checks)} checks, 0 failed")


def test_cli_exits_1_on_a_failed_check_and_2_on_usage_errors(results, capsys):
    (results / STUDY / "tables" / "main_table.csv").unlink()
    assert cli.main(["verify", "--profile", STUDY, "--results", str(results)]) == 1
    assert ", 1 failed" in capsys.readouterr().out.splitlines()[-1]
    assert cli.main(["verify", "--profile", STUDY, "--results", str(results / "nowhere")]) == 2
    assert cli.main(["verify", "--profile", "../bad name", "--results", str(results)]) == 2
    with pytest.raises(SystemExit) as exit_:
        cli.main(["verify", "--no-such-option"])
    assert exit_.value.code == 2


def test_tables_with_the_recorded_teacher_recompute_and_a_tampered_teacher_row_fails(results):
    _write_tables_as_notebook_90(STUDY, recorded_teacher=True, confidence=0.95)  # a newer report run: its settings win
    checks = verify.verify_tables(STUDY, root=results)
    assert _failed(checks) == []
    assert "recorded_teacher=True" in checks[0].detail
    assert "table teacher_recorded: values" in [c.what for c in checks]
    file = results / STUDY / "tables" / "teacher_recorded.csv"
    table = pd.read_csv(file)
    table.loc[table["task"] == "coin_flip", "accuracy"] -= 0.001
    table.to_csv(file, index=False)
    failed = _failed(verify.verify_tables(STUDY, root=results))
    assert [c.what for c in failed] == ["table teacher_recorded: values"]
    assert "task='coin_flip' column accuracy" in failed[0].detail


@pytest.mark.parametrize("cell", [None, float("nan"), "", "None", "nan", "<NA>"])
def test_blank_cells_match_whatever_a_csv_round_trip_made_of_them(cell):
    import pandas as pd

    from fcot.verify import _key_value

    assert _key_value(cell) is None and _key_value(pd.NA) is None
    assert _key_value("8") == _key_value(8) == 8.0 and _key_value("x") == "x"
