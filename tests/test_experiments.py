"""Experiments: config validation, one keyed run per configuration, skipping, collecting and summarising."""

from __future__ import annotations

import json
import re
import math
from pathlib import Path

import pandas as pd
import pytest

from fcot import ablations, experiments, plots
from fcot.experiments import ExperimentConfig

# A tiny end-to-end configuration: seconds on a CPU (one epoch of a 0.15M-parameter student).
TINY = dict(task="synth_last_letter", difficulty=2, n_train=24, n_val=6, n_test=12, teacher_accuracy=0.7,
            student="tiny-gpt2-xs", recipe="smoke", epochs=1, max_new_tokens=12)


def tiny(**changes) -> ExperimentConfig:
    return ExperimentConfig(**{**TINY, **changes})


# ----------------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(task="no_such_task"), "accepted: single_eq"),
        (dict(difficulty=99), "accepted: 1..40"),
        (dict(task="coin_flip", difficulty=3, teacher="replay", teacher_accuracy=None), "synthetic tasks (synth_*) only"),
        (dict(n_train=0), "n_train: must be an integer >= 1"),
        (dict(n_test=-1), "n_test"),
        (dict(method="distill"), "accepted: ft_cot, vanilla, multitask"),
        (dict(teacher="gpt-4"), "accepted: simulated, replay, file"),
        (dict(teacher_accuracy=1.5), "teacher_accuracy: must be in [0, 1]"),
        (dict(teacher="file", teacher_accuracy=None), "teacher='file' needs teacher_file="),
        (dict(teacher_file="x.jsonl"), "only read with teacher='file'"),
        (dict(teacher="replay", teacher_accuracy=None), "replay serves recorded"),
        (dict(degree=0), "degree: must be an integer >= 1"),
        (dict(teacher_temperature=3.0), "teacher_temperature: must be in [0, 2]"),
        (dict(filter_mode="best"), "accepted: correct_only, keep_all"),
        (dict(max_rationale_tokens=0), "max_rationale_tokens"),
        (dict(recipe="huge"), "accepted: paper, pretrained, smoke, tiny"),
        (dict(epochs=0), "epochs: must be an integer >= 1"),
        (dict(lr=0.0), "lr: must be > 0"),
        (dict(dropout=1.0), "dropout: must be in [0, 1)"),
        (dict(select_by="bleu"), "accepted: eval_loss, eval_accuracy, last"),
        (dict(seed=-1), "seed: must be an integer >= 0"),
        (dict(degree=True), "degree"),
    ],
)
def test_config_rejects_bad_values_naming_the_field_and_accepted_ones(changes, message):
    with pytest.raises(ValueError, match="ExperimentConfig") as error:
        tiny(**changes)
    assert message in str(error.value)


def test_real_tasks_accept_zero_as_all_and_replay_needs_degree_one():
    config = ExperimentConfig(task="last_letter_concatenation", n_train=0, n_val=0, n_test=0, teacher="replay")
    assert config.resolved()["difficulty"] is None and config.resolved()["teacher_accuracy"] is None
    with pytest.raises(ValueError, match="degree=1"):
        ExperimentConfig(task="last_letter_concatenation", teacher="replay", degree=4)


def test_canonical_key_resolves_defaults_and_ignores_teacher_settings_of_vanilla():
    # None means the profile's / task's default: the same experiment as spelling the default out
    assert tiny(epochs=None).key() == tiny(epochs=2).key()  # smoke profile: 2 epochs
    assert tiny(teacher_accuracy=None, task="synth_last_letter").key() == tiny(teacher_accuracy=0.576).key()
    assert tiny(teacher_temperature=None, degree=4).key() == tiny(teacher_temperature=0.7, degree=4).key()
    # vanilla uses no teacher: its teacher settings do not make a different run
    assert tiny(method="vanilla", teacher_accuracy=0.3, degree=8).key() == tiny(method="vanilla").key()
    # anything that matters does
    assert tiny(seed=1).key() != tiny().key()
    assert tiny(lr=1e-3).key() != tiny().key()
    assert tiny(filter_mode="keep_all").key() != tiny().key()


def test_from_parameters_takes_known_fields_and_ignores_other_names():
    config = ExperimentConfig.from_parameters({**TINY, "study": "default", "In": [], "experiments": object()}, seed=3)
    assert config == tiny(seed=3)
    with pytest.raises(ValueError, match="unknown ExperimentConfig field"):
        tiny().replace(colour="red")


# ----------------------------------------------------------------------------------------------
# Data


def test_synthetic_splits_are_disjoint_and_training_sets_nest_with_fixed_validation_and_test():
    small_train, small_val, small_test = experiments.experiment_examples(tiny(n_train=10))
    big_train, big_val, big_test = experiments.experiment_examples(tiny(n_train=30))
    assert (len(small_train), len(small_val), len(small_test)) == (10, 6, 12)
    assert [e.id for e in big_train[:10]] == [e.id for e in small_train]
    assert big_val == small_val and big_test == small_test
    questions = [e.question for e in big_train + big_val + big_test]
    assert len(set(questions)) == len(questions)


# ----------------------------------------------------------------------------------------------
# Running, skipping, dedup


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """Three tiny experiments run once for the module: ft_cot seeds 0 and 1, and vanilla seed 0."""
    root = tmp_path_factory.mktemp("experiments")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FCOT_RESULTS_DIR", str(root / "results"))
        patch.setenv("FCOT_RUNS_DIR", str(root / "runs"))
        results = {
            "ft_cot-0": experiments.run_experiment(tiny()),
            "ft_cot-1": experiments.run_experiment(tiny(seed=1)),
            "vanilla-0": experiments.run_experiment(tiny(method="vanilla", teacher_accuracy=0.3)),
        }
    return root, results


@pytest.fixture
def in_tiny_runs(tiny_runs, monkeypatch):
    root, results = tiny_runs
    monkeypatch.setenv("FCOT_RESULTS_DIR", str(root / "results"))
    monkeypatch.setenv("FCOT_RUNS_DIR", str(root / "runs"))
    return root, results


def test_run_experiment_writes_one_finished_run_with_config_metrics_and_predictions(in_tiny_runs):
    root, results = in_tiny_runs
    result = results["ft_cot-0"]
    assert result["skipped"] is False
    run_path = Path(result["run_path"])
    assert run_path.parent == root / "results" / "smoke" / "runs" / "experiment"  # the profile running: smoke
    assert run_path.name.startswith("synth_last_letter-ft_cot-d1-")
    for name in ("config.json", "manifest.json", "metrics.json", "predictions.jsonl",
                 "tables/curation.csv", "tables/learning_curves.csv"):
        assert (run_path / name).is_file(), name
    manifest = json.loads((run_path / "manifest.json").read_text())
    assert manifest["status"] == "finished" and manifest["kind"] == "experiment"
    config = json.loads((run_path / "config.json").read_text())
    assert config == json.loads(json.dumps(tiny().canonical()))
    metrics = json.loads((run_path / "metrics.json").read_text())
    assert 0.0 <= metrics["low"] <= metrics["accuracy"] <= metrics["high"] <= 1.0
    assert metrics["test_questions"] == 12
    assert 0.0 <= metrics["teacher_accuracy_train"] <= 1.0 and 0.0 <= metrics["teacher_accuracy_test"] <= 1.0
    # filtering keeps exactly the rationales whose answer was right
    assert metrics["samples_train"] == round(metrics["teacher_accuracy_train"] * metrics["completions_train"])
    assert metrics["train_seconds"] > 0
    predictions = [json.loads(line) for line in (run_path / "predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == 12 and {"prediction", "gold", "correct"} <= set(predictions[0])
    assert sum(p["correct"] for p in predictions) == metrics["correct"]
    # checkpoints are cleaned up, the selected student stays (in its training stage's run)
    best = Path(metrics["best_model_dir"])
    assert best.is_dir() and not (best.parent / "checkpoints").exists()
    assert set(metrics["stage_runs"]) == {"teacher", "curation", "student", "evaluation"}


def test_vanilla_runs_without_a_teacher(in_tiny_runs):
    _, results = in_tiny_runs
    vanilla = results["vanilla-0"]
    assert vanilla.get("teacher_accuracy_train") is None and vanilla["samples_train"] == 24
    assert Path(vanilla["run_path"]).name.startswith("synth_last_letter-vanilla-")


def test_rerun_of_a_finished_config_skips_without_training(in_tiny_runs, monkeypatch):
    from fcot import students

    _, results = in_tiny_runs

    def no_training(*args, **kwargs):
        raise AssertionError("a finished experiment must not be trained again")

    monkeypatch.setattr(students, "train_student", no_training)
    again = experiments.run_experiment(tiny())
    assert again["skipped"] is True
    assert again["run_path"] == results["ft_cot-0"]["run_path"]
    assert again["accuracy"] == results["ft_cot-0"]["accuracy"]
    # two ablations whose base configurations are the same experiment (spelled differently) share the run
    same = experiments.run_experiment(tiny(epochs=1, teacher_temperature=0.0, difficulty=2))
    assert same["skipped"] is True and same["run_path"] == results["ft_cot-0"]["run_path"]
    vanilla = experiments.run_experiment(tiny(method="vanilla", teacher_accuracy=0.9, degree=4))
    assert vanilla["skipped"] is True and vanilla["run_path"] == results["vanilla-0"]["run_path"]


def test_a_committed_run_this_machine_never_computed_is_recomputed_not_read_back(in_tiny_runs):
    from fcot import stages, sweeps
    from fcot.runs import Run

    _, results = in_tiny_runs
    config = tiny(method="vanilla")
    marker = Run.load(results["vanilla-0"]["run_path"]).artifacts_dir / stages.COMPUTED_HERE
    assert marker.is_file() and sweeps.finished_result(config) is not None
    marker.unlink()  # what a fresh clone has: the run record (results/), no local artifacts
    assert sweeps.finished_result(config) is None
    again = experiments.run_experiment(config)
    assert again["skipped"] is False and again["accuracy"] == results["vanilla-0"]["accuracy"] and marker.is_file()


def test_collect_experiments_gives_one_row_per_finished_run_with_config_and_metrics(in_tiny_runs):
    frame = experiments.collect_experiments()
    assert len(frame) == 3
    for column in ("task", "method", "degree", "seed", "arm", "accuracy", "low", "high", "teacher_accuracy_test",
                   "samples_train", "train_seconds", "run_path", "config_hash"):
        assert column in frame.columns, column
    assert sorted(frame["arm"]) == ["ft_cot", "ft_cot", "vanilla"]
    assert list(experiments.collect_experiments(where={"method": "vanilla"})["seed"]) == [0]
    assert len(experiments.collect_experiments(where={"seed": [0, 1], "method": "ft_cot"})) == 2
    assert len(experiments.collect_experiments(where={"accuracy": lambda a: a > 2})) == 0
    with pytest.raises(ValueError, match="unknown where field"):
        experiments.collect_experiments(where={"colour": "red"})


def test_an_unfinished_run_is_not_collected(in_tiny_runs):
    from fcot.runs import Run

    Run.open("experiment", tiny(seed=7).canonical(), name=tiny(seed=7).run_name, seed=7)  # running, never finished
    assert 7 not in set(experiments.collect_experiments()["seed"])


def test_related_experiments_match_all_but_the_varied_fields_and_vanilla_joins_any_teacher(in_tiny_runs):
    assert sorted(experiments.related_experiments(tiny(), vary=["method"])["arm"]) == ["ft_cot", "ft_cot", "vanilla"]
    assert len(experiments.related_experiments(tiny(), vary=["degree"])) == 2
    assert len(experiments.related_experiments(tiny(n_train=25), vary=["degree"])) == 0
    # the base's teacher accuracy differs from the vanilla run's (0.3): vanilla still joins
    assert "vanilla" in set(experiments.related_experiments(tiny(teacher_accuracy=0.7), vary=["method", "degree"])["arm"])


def test_across_tasks_a_vanilla_run_joins_only_its_own_columns_comparison_of_methods(tiny_runs, tmp_path, monkeypatch):
    import shutil

    root = shutil.copytree(tiny_runs[0], tmp_path / "copy")  # the module's runs stay as the other tests expect them
    monkeypatch.setenv("FCOT_RESULTS_DIR", str(root / "results"))
    monkeypatch.setenv("FCOT_RUNS_DIR", str(root / "runs"))
    # another column (a second task) compared with another teacher: its vanilla run must not join this column's
    # comparison (its own does not match this teacher), nor this column's vanilla run join that one
    other = tiny(task="synth_coin_flip", teacher_accuracy=0.95, difficulty=1)
    experiments.run_experiment(other)
    experiments.run_experiment(other.replace(method="vanilla"))
    vary = ["method", "degree", "task", "difficulty"]
    here = experiments.related_experiments(tiny(), vary=vary)
    assert set(here["task"]) == {"synth_last_letter"} and sorted(here["arm"]) == ["ft_cot", "ft_cot", "vanilla"]
    there = experiments.related_experiments(other, vary=vary)
    assert set(there["task"]) == {"synth_coin_flip"} and sorted(there["arm"]) == ["ft_cot", "vanilla"]
    # a task grid whose every column has Fine-tune-CoT runs with the same teacher keeps every column's vanilla arm
    # (the paper profile's methods sweep)
    experiments.run_experiment(other.replace(teacher_accuracy=0.7))
    both = experiments.related_experiments(tiny(), vary=vary)
    assert sorted(both.loc[both["arm"] == "vanilla", "task"]) == ["synth_coin_flip", "synth_last_letter"]


def test_summarize_gives_mean_over_seeds_a_t_interval_and_the_per_run_wilson_intervals(in_tiny_runs):
    results, summary = ablations.ablation_summary("methods", tiny())
    assert list(summary.columns[:5]) == ["task", "test_split", "arm", "runs", "seeds"]
    ft_cot = summary.set_index("arm").loc["ft_cot"]
    runs = results[results["arm"] == "ft_cot"]
    accuracies = runs["accuracy"].tolist()
    mean = sum(accuracies) / 2
    assert ft_cot["runs"] == 2 and ft_cot["seeds"] == "0,1"
    assert ft_cot["mean"] == pytest.approx(mean)
    half = 12.7062 * ft_cot["sd"] / math.sqrt(2)  # t(0.975, 1 df)
    assert ft_cot["low"] == pytest.approx(max(0.0, mean - half), abs=1e-3)
    assert ft_cot["high"] == pytest.approx(min(1.0, mean + half), abs=1e-3)
    assert ft_cot["interval"] == "t over 2 runs"
    assert ft_cot["run_low"] == pytest.approx(runs["low"].mean())
    assert ft_cot["per_run"].count("[") == 2
    vanilla = summary.set_index("arm").loc["vanilla"]
    assert vanilla["interval"] == "wilson (1 run)" and vanilla["high"] == pytest.approx(results[results["arm"] == "vanilla"]["high"].iloc[0])


def test_summarize_uses_known_numbers():
    frame = pd.DataFrame({"x": [1, 1, 1, 2], "seed": [0, 1, 2, 0], "accuracy": [0.5, 0.6, 0.7, 0.9],
                          "low": [0.4, 0.5, 0.6, 0.8], "high": [0.6, 0.7, 0.8, 0.95]})
    summary = experiments.summarize(frame, by=["x"]).set_index("x")
    assert summary.loc[1, "mean"] == pytest.approx(0.6) and summary.loc[1, "sd"] == pytest.approx(0.1)
    assert summary.loc[1, "high"] - 0.6 == pytest.approx(4.302653 * 0.1 / math.sqrt(3), rel=1e-4)
    assert (summary.loc[2, "low"], summary.loc[2, "high"]) == (0.8, 0.95)
    with pytest.raises(ValueError, match="lacks column"):
        experiments.summarize(frame, by=["colour"])


@pytest.mark.parametrize(("p", "df", "expected"), [(0.975, 1, 12.7062), (0.975, 2, 4.3027), (0.975, 10, 2.2281),
                                                  (0.95, 5, 2.0150), (0.025, 3, -3.1824)])
def test_t_quantile_matches_the_table(p, df, expected):
    assert experiments.t_quantile(p, df) == pytest.approx(expected, abs=2e-4)


def test_record_and_load_an_ablation_then_recompute_it_from_the_runs(in_tiny_runs):
    results, summary = ablations.ablation_summary("degree", tiny())
    figure = ablations.ablation_figure("degree", summary)
    folder = ablations.record_ablation("degree", tiny(), summary, study="smoke", figure=figure)  # a Path
    assert folder.name == "degree" and folder.parent.parent.name == "smoke"
    assert {p.name for p in folder.iterdir()} == {"ablation.json", "summary.csv", "summary.md", "figure.png"}
    loaded = ablations.load_ablation("degree", "smoke")
    assert loaded["config"] == tiny()
    assert list(loaded["summary"]["mean"]) == pytest.approx(list(summary["mean"]))
    _, recomputed = ablations.ablation_summary("degree", study="smoke")  # the runs of the same profile
    assert list(recomputed["runs"]) == [2]
    _, elsewhere = ablations.ablation_summary("degree", tiny(), study="default")  # another profile's: none
    assert elsewhere.empty
    with pytest.raises(FileNotFoundError, match="31_ablate_degree"):
        ablations.load_ablation("degree", "never")
    with pytest.raises(ValueError, match="accepted: methods, degree"):
        ablations.ablation_summary("colour", tiny())


def test_a_sweep_of_one_kind_is_recorded_under_its_own_name_per_column(in_tiny_runs):
    _, summary = ablations.ablation_summary("methods-coin_flip", tiny())  # judged and summarised as "methods"
    assert ablations.ablation_kind("methods-coin_flip") == "methods" and "test_split" in summary.columns
    ablations.record_ablation("methods", tiny(), summary, study="smoke")
    ablations.record_ablation("methods-coin_flip", tiny(), summary, study="smoke")
    recorded = ablations.recorded_ablations("smoke")
    assert [n for n in recorded if n.startswith("methods")] == ["methods", "methods-coin_flip"]  # each kind first
    assert ablations.load_ablation("methods-coin_flip", "smoke")["config"] == tiny()
    for bad in ("methods-", "colour-coin_flip"):
        with pytest.raises(ValueError, match="methods-coin_flip"):
            ablations.ablation_dir(bad, "smoke")


def test_pivot_summary_puts_tasks_in_columns_with_intervals():
    summary = pd.DataFrame({"task": ["a", "a", "b"], "arm": ["vanilla", "ft_cot", "ft_cot"], "mean": [0.1, 0.5, 0.25],
                            "low": [0.0, 0.4, None], "high": [0.2, 0.6, None]})
    table = experiments.pivot_summary(summary)
    assert table.loc["ft_cot", "a"] == "50.0 [40.0, 60.0]" and table.loc["ft_cot", "b"] == "25.0"
    assert list(table.index) == ["vanilla", "ft_cot"]


def test_every_ablation_is_run_by_an_existing_notebook_and_every_registered_notebook_exists():
    from fcot import steps

    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    assert set(steps.SWEEPS) == set(ablations.ABLATIONS)
    for name in ablations.ABLATIONS:
        assert (notebooks / f"{steps.sweep_notebook(name)}.ipynb").is_file(), name
    registered = {n for n in vars(steps).values() if isinstance(n, str) and re.match(r"^\d\d_", n)}
    registered |= set(steps.SWEEPS.values())
    assert {p.stem for p in notebooks.glob("*.ipynb")} == registered


def test_every_ablation_of_one_student_draws_its_teacher_on_the_same_test_questions_as_a_reference():
    # where a student could pass its teacher, the reader sees the teacher's line (the methods figure has its own bars)
    for ablation in ablations.ABLATIONS.values():
        if ablation.name != "methods":
            assert "teacher_accuracy_test" in ablation.references, ablation.name


def test_ablation_figure_of_no_runs_says_so():
    figure = ablations.ablation_figure("teacher_quality", experiments.summarize(experiments.collect_experiments(), by=["teacher_accuracy"]))
    assert "no finished runs yet" in [t.get_text() for t in figure.axes[0].texts]


def _degree_runs():
    rows = [{"degree": d, "seed": s, "accuracy": a, "low": a - 0.05, "high": a + 0.05, "teacher_accuracy_test": 0.7}
            for d, accs in {1: (0.20, 0.25, 0.30), 2: (0.30, 0.40, 0.35), 4: (0.50, 0.45, 0.60)}.items()
            for s, a in enumerate(accs)]
    return pd.DataFrame(rows)


def _error_bars(figure) -> list[tuple[float, float]]:
    from matplotlib.collections import LineCollection

    bars = [c for c in figure.axes[0].collections if isinstance(c, LineCollection)]
    return sorted((round(min(s[:, 1]), 6), round(max(s[:, 1]), 6)) for c in bars for s in c.get_segments())


def test_ablation_figures_draw_the_tables_interval_whether_seaborn_aggregates_the_runs_or_reads_the_summary():
    runs = _degree_runs()
    summary = experiments.summarize(runs, by=["degree"])
    expected = sorted((round(100 * lo, 6), round(100 * hi, 6)) for lo, hi in zip(summary["low"], summary["high"]))
    from_runs = ablations.ablation_figure("degree", summary, runs=runs)  # seaborn aggregates the seeds
    from_csv = ablations.ablation_figure("degree", summary)  # the stored intervals (a summary read from its CSV)
    assert _error_bars(from_runs) == expected == _error_bars(from_csv)
    ticks = [t.get_text() for t in from_runs.axes[0].get_xticklabels()]
    assert ticks == ["1", "2", "4"]  # at the measured degrees, not 2^k
    with_teacher = plots.ablation(summary, x="degree", references=("teacher_accuracy_test",), runs=runs)
    assert "teacher (test, greedy)" in [t.get_text() for t in with_teacher.axes[0].get_legend().get_texts()]


def test_a_default_resolved_from_a_varied_field_must_hold_its_own_value_in_each_run(monkeypatch):
    """The student-size sweep compares each student at its own recipe learning rate, not a run at another lr."""
    import pandas as pd

    base = experiments.ExperimentConfig(task="synth_last_letter", recipe="tiny", student="tiny-gpt2-s")
    rows = [base.replace(student=s).resolved() for s in ("tiny-gpt2-xs", "tiny-gpt2-s", "tiny-gpt2-m")]
    rows.append(base.replace(student="tiny-gpt2-m", lr=1e-2).resolved())  # a learning-rate candidate's run
    monkeypatch.setattr(experiments, "collect_experiments", lambda *a, **k: pd.DataFrame(rows))
    found = experiments.related_experiments(base, vary=["student"])
    assert sorted(found["student"]) == ["tiny-gpt2-m", "tiny-gpt2-s", "tiny-gpt2-xs"]
    assert 1e-2 not in set(found["lr"])
    # a learning rate stated in the base is fixed: only that rate's runs match
    assert list(experiments.related_experiments(base.replace(lr=1e-2), vary=["student"])["student"]) == ["tiny-gpt2-m"]


def test_every_experiment_field_is_owned_by_one_stage_config_that_has_it():
    import dataclasses as dc

    from fcot import data, stages, students

    classes = {"DataConfig": data.DataConfig, "TeachConfig": stages.TeachConfig, "CurateConfig": stages.CurateConfig,
               "EvalConfig": stages.EvalConfig, "TrainConfig": students.TrainConfig}
    assert set(experiments.OWNERS) | {"seed"} == set(ExperimentConfig.fields())
    for field, (owner, name) in experiments.OWNERS.items():
        fields = {f.name for f in dc.fields(classes[owner])} | ({"recipe"} if owner == "TrainConfig" else set())
        assert name in fields, f"{field}: {owner} has no field {name!r}"
