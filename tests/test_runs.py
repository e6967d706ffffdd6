"""fcot.runs: one writer for every output, keyed by config and seed."""

from __future__ import annotations

import json
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from fcot import paths
from fcot.runs import Run, config_hash, list_runs, markdown_table, percent_frame


@dataclass(frozen=True)
class _Config:
    student: str = "tiny-gpt2-s"
    lr: float = 3e-3
    epochs: int = 2


def test_same_config_and_seed_open_the_same_directory_and_others_differ():
    a = Run.open("student", _Config(), seed=0)
    b = Run.open("student", _Config(), seed=0)
    c = Run.open("student", _Config(lr=1e-3), seed=0)
    d = Run.open("student", _Config(), seed=1)
    assert a.path == b.path
    assert len({a.path, c.path, d.path}) == 3


def test_run_lives_under_results_dir_and_artifacts_under_runs_dir_with_the_same_relative_path():
    run = Run.open("student", _Config(), name="ftcot", seed=0)
    assert run.path == paths.results_dir() / "smoke" / "runs" / "student" / f"ftcot-{run.hash}"
    assert run.artifacts("checkpoints") == paths.runs_dir() / "smoke" / "student" / f"ftcot-{run.hash}" / "checkpoints"
    assert run.artifacts("checkpoints").is_dir()


def test_config_hash_ignores_key_order_and_accepts_dicts_and_dataclasses():
    assert config_hash({"a": 1, "b": 2}, 0) == config_hash({"b": 2, "a": 1}, 0)
    assert config_hash(_Config(), 0) == config_hash({"student": "tiny-gpt2-s", "lr": 3e-3, "epochs": 2}, 0)
    with pytest.raises(TypeError, match="dataclass instance or a dict"):
        config_hash(["not", "a", "config"])


def test_open_writes_config_and_a_manifest_with_versions_git_hardware_and_times():
    run = Run.open("teacher", {"task": "synth_last_letter", "n": 4}, seed=3, data_hashes={"train": "abc"})
    assert json.loads((run.path / "config.json").read_text()) == {"task": "synth_last_letter", "n": 4}
    manifest = run.manifest
    assert manifest["status"] == "running" and manifest["seed"] == 3 and manifest["ended"] is None
    assert {"python", "torch", "transformers", "tokenizers", "fcot"} <= set(manifest["versions"])
    assert manifest["versions"]["python"].count(".") == 2
    assert set(manifest["git"]) == {"sha", "dirty"}
    assert manifest["data_hashes"] == {"train": "abc"}
    assert manifest["hardware"]["cpu_count"] >= 1
    assert manifest["started"].endswith("+00:00")


def test_a_finished_run_is_skipped_on_reopen_and_keeps_its_outputs():
    with Run.open("student", _Config(), seed=0) as run:
        assert not run.finished
        run.save_metrics({"accuracy": 0.5})
    assert run.status == "finished" and run.manifest["ended"]
    again = Run.open("student", _Config(), seed=0)
    assert again.finished
    assert again.metrics == {"accuracy": 0.5}
    assert again.manifest["attempts"] == 1


def test_a_finished_run_on_other_data_is_stale_and_restarts():
    with Run.open("student", _Config(), seed=0, data_hashes={"train": "v1"}):
        pass
    assert Run.open("student", _Config(), seed=0, data_hashes={"train": "v1"}).finished
    stale = Run.open("student", _Config(), seed=0, data_hashes={"train": "v2"})
    assert not stale.finished
    assert stale.status == "running" and stale.manifest["attempts"] == 2


def test_an_exception_inside_the_run_marks_it_failed_with_the_error():
    with pytest.raises(RuntimeError):
        with Run.open("student", _Config(), seed=0) as run:
            raise RuntimeError("out of memory")
    assert run.status == "failed"
    assert "out of memory" in run.manifest["error"]
    assert not Run.open("student", _Config(), seed=0).finished


def test_metrics_merge_across_calls():
    run = Run.open("eval", {"x": 1})
    run.save_metrics({"accuracy": 0.25, "n": 4})
    run.save_metrics({"accuracy": 0.5})
    assert run.metrics == {"accuracy": 0.5, "n": 4}


def test_a_record_written_before_the_metric_rename_is_read_under_todays_names():
    run = Run.open("student", {"x": 2})
    (run.path / "metrics.json").write_text(json.dumps({"train_samples": 177, "val_samples": 20, "samples_kept": 5}))
    assert run.metrics == {"samples_train": 177, "samples_val": 20, "samples_kept": 5}  # one name per quantity
    run.save_metrics({"accuracy": 0.5})  # a merge writes today's names, once each
    assert json.loads((run.path / "metrics.json").read_text()) == {"samples_train": 177, "samples_val": 20,
                                                                  "samples_kept": 5, "accuracy": 0.5}


def test_predictions_figures_and_tables_are_written_where_documented():
    run = Run.open("eval", {"x": 2})
    file = run.save_predictions([{"id": "q1", "prediction": "nk", "correct": True}, _Config()])
    lines = file.read_text().splitlines()
    assert file.name == "predictions.jsonl" and json.loads(lines[0])["prediction"] == "nk" and len(lines) == 2

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    png = run.save_figure(fig, "curve")
    plt.close(fig)
    assert png == run.path / "figures" / "curve.png" and png.read_bytes()[:4] == b"\x89PNG"

    table = pd.DataFrame({"method": ["ft_cot", "vanilla"], "accuracy": [0.58, 0.033]})
    csv, md = run.save_table(table, "accuracy")
    assert pd.read_csv(csv).equals(table)
    assert md.read_text().splitlines()[:3] == [
        "| method | accuracy |",
        "|---|---|",
        "| ft_cot | 0.58 |",
    ]


def test_markdown_table_keeps_a_named_index_and_escapes_pipes():
    df = pd.DataFrame({"count": [3]}, index=pd.Index(["a|b"], name="mode"))
    assert markdown_table(df) == "| mode | count |\n|---|---|\n| a\\|b | 3 |\n"


def test_a_table_shown_to_readers_gives_shares_in_percent_and_leaves_settings_and_counts_alone():
    df = pd.DataFrame({"teacher_accuracy": [0.7], "samples_train": [557], "accuracy": [0.7316667], "low": [float("nan")],
                       "arm": ["ft_cot"]})
    shown = percent_frame(df)
    assert list(shown.columns) == ["teacher_accuracy", "samples_train", "accuracy (%)", "low (%)", "arm"]
    assert shown["accuracy (%)"].tolist() == [73.2] and shown["low (%)"].isna().all()
    assert shown["teacher_accuracy"].tolist() == [0.7] and shown["samples_train"].tolist() == [557]
    assert df["accuracy"].tolist() == [0.7316667]  # the frame computed with is not changed


def test_bad_run_names_are_rejected_naming_what_is_accepted():
    with pytest.raises(ValueError, match="letters, digits"):
        Run.open("student", {}, name="../escape")


def test_load_reads_an_existing_run_and_list_runs_finds_it():
    with Run.open("student", _Config(), name="listed", seed=0) as run:
        pass
    loaded = Run.load(run.path)
    assert loaded.hash == run.hash and loaded.config["student"] == "tiny-gpt2-s"
    table = list_runs("student")
    assert list(table["name"]) == ["listed"] and list(table["status"]) == ["finished"]
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        Run.load(run.path / "figures")


def test_non_main_processes_write_nothing(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    run = Run.open("student", {"ddp": True})
    run.save_metrics({"a": 1})
    assert not run.path.exists()


def test_a_markdown_table_for_readers_shows_shares_in_percent_and_keeps_other_columns():
    import pandas as pd

    from fcot.runs import markdown_table

    frame = pd.DataFrame({"arm": ["ft_cot", "vanilla"], "mean": [0.7317, float("nan")], "teacher_accuracy": [0.7, 0.7],
                          "runs": [3, 3]})
    lines = markdown_table(frame, percent=True).splitlines()
    assert lines[0] == "| arm | mean (%) | teacher_accuracy | runs |"  # a setting (teacher_accuracy) is not a share
    assert lines[2:] == ["| ft_cot | 73.2 | 0.7 | 3 |", "| vanilla |  | 0.7 | 3 |"]
    assert markdown_table(frame).splitlines()[2] == "| ft_cot | 0.7317 | 0.7 | 3 |"


def test_a_failed_recomputation_of_a_finished_record_leaves_the_record_as_it_was(tmp_path):
    from fcot.runs import Run

    run = Run.open("student", {"lr": 1.0}, name="kept", seed=0)
    with run:
        run.save_metrics({"accuracy": 0.5})
    before = {f.name: f.read_bytes() for f in run.path.iterdir()}
    again = Run.open("student", {"lr": 1.0}, name="kept", seed=0, rerun=True)  # e.g. a fresh clone's committed record
    with pytest.raises(KeyboardInterrupt):
        with again:
            again.save_metrics({"accuracy": 0.1, "partial": True})
            raise KeyboardInterrupt
    assert {f.name: f.read_bytes() for f in run.path.iterdir()} == before
    assert Run.load(run.path).finished and "KeyboardInterrupt" in (again.artifacts_dir / "failed.json").read_text()
