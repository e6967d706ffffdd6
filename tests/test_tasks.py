"""The task registry, provenance, and every way loading a task can fail (each error names its cause)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from fcot import cli, tasks
from fcot.paths import ChecksumError, DataUnavailableError, UpstreamFile


def _copy_into(file: UpstreamFile, source_mirror: Path, target_mirror: Path) -> Path:
    target = target_mirror / file.relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source_mirror / file.relpath, target)
    target.chmod(0o644)
    return target


def _tmp_mirror_for(task: str, source_mirror: Path, tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """A temporary mirror with copies of the task's dataset and default split files."""
    root = tmp_path / "mirror"
    spec = tasks.get_task(task)
    copies = {f.path: _copy_into(f, source_mirror, root) for f in list(spec.files) + [spec.split_file("default")]}
    return root, copies


def _unpin(monkeypatch, task: str) -> None:
    """Pretend the task's files are unpinned (sha256 None), so broken copies reach the parser."""
    spec = tasks.get_task(task)
    files = tuple(dataclasses.replace(f, sha256=None) for f in spec.files)
    monkeypatch.setitem(tasks.TASKS, task, dataclasses.replace(spec, files=files))
    monkeypatch.setitem(tasks.SHA256, f"data/split/{task}__default.json", None)


# --- registry -------------------------------------------------------------------------------------


def test_every_task_has_a_spec_with_answer_type_choices_and_description():
    for name in tasks.task_names():
        spec = tasks.get_task(name)
        assert spec.name == name and spec.description and spec.dataset_size > 0
        assert (spec.n_choices is not None) == (spec.answer_type == "choice" and name != "date_understanding")
    assert tasks.get_task("aqua").n_choices == 5 and tasks.get_task("tracking_shuffled_objects").n_choices == 3


@pytest.mark.parametrize("call", [
    lambda: tasks.get_task("gsm9k"),
    lambda: tasks.load_examples("gsm9k"),
    lambda: tasks.load_split("gsm9k"),
    lambda: tasks.data_files("gsm9k"),
])
def test_unknown_task_is_rejected_listing_the_accepted_names(call):
    with pytest.raises(ValueError, match=r"unknown task 'gsm9k'; accepted: single_eq, addsub, .*strategy_qa"):
        call()


def test_task_spec_validates_itself():
    with pytest.raises(ValueError, match="answer_type 'float' is not one of"):
        tasks.TaskSpec("x", "float", None, "d", 1, ())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_choices is only for answer_type 'choice'"):
        tasks.TaskSpec("x", "number", 4, "d", 1, ())
    with pytest.raises(ValueError, match=r"unknown split\(s\) \['random'\]; accepted: \['default', 'template'\]"):
        tasks.TaskSpec("x", "text", None, "d", 1, (), splits=("random",))


def test_bad_split_name_names_the_accepted_splits():
    with pytest.raises(ValueError, match=r"task 'addsub' has no 'template' split; accepted: \['default'\]"):
        tasks.load_split("addsub", "template")
    with pytest.raises(ValueError, match=r"split 'random' is not one of \['default', 'template'\]"):
        tasks.load_split("multiarith", "random")


def test_bad_part_is_rejected():
    with pytest.raises(ValueError, match="part 'dev' is not one of 'all', 'train', 'test'"):
        tasks.load_examples("addsub", part="dev")


def test_load_examples_part_train_and_test_follow_the_default_split():
    split = tasks.load_split("single_eq")
    assert tasks.load_examples("single_eq", part="test") == split.test
    assert tasks.load_examples("single_eq", part="train") == split.official_train


# --- provenance -----------------------------------------------------------------------------------


def test_data_files_and_hashes_pin_every_file():
    files = tasks.data_files("multiarith")
    assert [f.path for f in files] == [
        "dataset/MultiArith/MultiArith.json", "data/split/multiarith__default.json", "data/split/multiarith__template.json"]
    assert all(f.sha256 and len(f.sha256) == 64 for f in files)
    hashes = tasks.data_hashes("gsm8k")
    key = "openai/grade-school-math/grade_school_math/data/test.jsonl@3101c7d5072418e28b9008a6636bde82a006892c"
    assert hashes[key] == "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14"
    assert tasks.data_hashes("aqua")["deepmind/AQuA/train.json@master"] == "unknown"


def test_pinned_hashes_match_the_mirror_checksums(mirror):
    sums = dict(reversed(line.split()) for line in (mirror / "SHA256SUMS").read_text().splitlines() if line.strip())
    for name in tasks.task_names():
        for file in tasks.data_files(name):
            if file.sha256 is not None:
                assert sums[file.relpath.as_posix()] == file.sha256, file.relpath


# --- missing, corrupt and malformed files ---------------------------------------------------------


def test_missing_file_names_the_file_and_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.setenv("FCOT_OFFLINE", "1")
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    with pytest.raises(DataUnavailableError) as info:
        tasks.load_examples("single_eq", mirror=empty)
    message = str(info.value)
    assert "kojima-takeshi188/zero_shot_cot" in message and "dataset/SingleEq/questions.json" in message
    assert str(empty / "kojima-takeshi188/zero_shot_cot/dataset/SingleEq/questions.json") in message
    assert "FCOT_DATA_MIRROR" in message and "FCOT_OFFLINE=1" in message


def test_aqua_train_missing_says_which_file_where_and_how(monkeypatch, mirror):
    monkeypatch.setenv("FCOT_OFFLINE", "1")
    with pytest.raises(DataUnavailableError) as info:
        tasks.load_split("aqua")
    message = str(info.value)
    assert "deepmind/AQuA" in message and "train.json" in message
    assert str(mirror.resolve() / "deepmind/AQuA/train.json") in message  # the mirror path
    assert "deepmind/AQuA/master/train.json" in message  # the cache path
    assert "load_examples('aqua', part='test')" in message and "test_only=True" in message
    with pytest.raises(DataUnavailableError, match="train.json"):
        tasks.load_examples("aqua", part="train")


def test_corrupt_file_fails_its_sha256_check(tmp_path, mirror):
    root, copies = _tmp_mirror_for("addsub", mirror, tmp_path)
    path = copies["dataset/AddSub/AddSub.json"]
    path.write_text(path.read_text(encoding="utf-8").replace("seashells", "shells", 1), encoding="utf-8")
    with pytest.raises(ChecksumError, match=r"AddSub\.json: sha256 .* does not match the pinned 21930fa9"):
        tasks.load_examples("addsub", mirror=root)


def test_corrupt_split_file_fails_its_sha256_check(tmp_path, mirror):
    root, copies = _tmp_mirror_for("addsub", mirror, tmp_path)
    copies["data/split/addsub__default.json"].write_text('{"train": [0], "test": [1]}')
    with pytest.raises(ChecksumError, match="addsub__default.json"):
        tasks.load_split("addsub", mirror=root)


def test_malformed_json_line_names_file_and_line(tmp_path, mirror, monkeypatch):
    root, copies = _tmp_mirror_for("gsm8k", mirror, tmp_path)
    _unpin(monkeypatch, "gsm8k")
    path = copies["grade_school_math/data/test.jsonl"]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2][: len(lines[2]) // 2] + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(tasks.TaskDataError, match=r"test\.jsonl:3: malformed JSON line"):
        tasks.load_examples("gsm8k", mirror=root)


def test_malformed_json_file_names_file_and_line(tmp_path, mirror, monkeypatch):
    root, copies = _tmp_mirror_for("svamp", mirror, tmp_path)
    _unpin(monkeypatch, "svamp")
    path = copies["dataset/SVAMP/SVAMP.json"]
    path.write_text(path.read_text(encoding="utf-8").replace('"Answer": 51.0', '"Answer": 51.0,,', 1), encoding="utf-8")
    with pytest.raises(tasks.TaskDataError, match=r"SVAMP\.json:\d+: malformed JSON"):
        tasks.load_examples("svamp", mirror=root)


def test_missing_field_names_file_example_and_field(tmp_path, mirror, monkeypatch):
    root, copies = _tmp_mirror_for("multiarith", mirror, tmp_path)
    _unpin(monkeypatch, "multiarith")
    path = copies["dataset/MultiArith/MultiArith.json"]
    data = json.loads(path.read_text(encoding="utf-8"))
    del data[7]["sQuestion"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(tasks.TaskDataError, match=r"MultiArith\.json: example 7: missing field 'sQuestion'"):
        tasks.load_examples("multiarith", mirror=root)


def test_empty_dataset_is_an_error(tmp_path, mirror, monkeypatch):
    root, copies = _tmp_mirror_for("single_eq", mirror, tmp_path)
    _unpin(monkeypatch, "single_eq")
    copies["dataset/SingleEq/questions.json"].write_text("[]")
    with pytest.raises(tasks.TaskDataError, match=r"questions\.json: the dataset is empty"):
        tasks.load_examples("single_eq", mirror=root)


def test_dataset_of_the_wrong_size_is_an_error(tmp_path, mirror, monkeypatch):
    root, copies = _tmp_mirror_for("coin_flip", mirror, tmp_path)
    _unpin(monkeypatch, "coin_flip")
    path = copies["dataset/coin_flip/coin_flip.json"]
    data = json.loads(path.read_text(encoding="utf-8"))
    data["examples"] = data["examples"][:-1]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(tasks.TaskDataError, match="coin_flip: 499 examples in .*; the official dataset has 500"):
        tasks.load_examples("coin_flip", mirror=root)


def test_split_index_out_of_range_names_file_index_and_size(tmp_path, mirror, monkeypatch):
    root, copies = _tmp_mirror_for("addsub", mirror, tmp_path)
    _unpin(monkeypatch, "addsub")
    copies["data/split/addsub__default.json"].write_text(json.dumps({"train": [0, 1, 395], "test": [2]}))
    with pytest.raises(tasks.TaskDataError,
                       match=r"addsub__default\.json: 'train' index 395 is out of range for addsub \(dataset size 395"):
        tasks.load_split("addsub", mirror=root)


@pytest.mark.parametrize("content, message", [
    ({"train": [0, 1]}, "missing field 'test'"),
    ({"train": [0, "1"], "test": [2]}, "'train' should list integer indices, found '1'"),
    ({"train": [0, 1], "test": [1]}, "index 1 is on both the train and the test side"),
    ({"train": [0, 0], "test": [1]}, "'train' lists an index more than once"),
])
def test_malformed_split_file_is_an_error(content, message, tmp_path, mirror, monkeypatch):
    root, copies = _tmp_mirror_for("addsub", mirror, tmp_path)
    _unpin(monkeypatch, "addsub")
    copies["data/split/addsub__default.json"].write_text(json.dumps(content))
    with pytest.raises(tasks.TaskDataError, match=message):
        tasks.load_split_indices("addsub", mirror=root)


# --- answers --------------------------------------------------------------------------------------


# --- overview and CLI -----------------------------------------------------------------------------


def test_summarize_tasks_lists_sizes_and_marks_aqua_train_unavailable():
    frame = tasks.summarize_tasks("addsub,aqua")
    rows = frame.set_index("task").to_dict(orient="index")
    assert (rows["addsub"]["train"], rows["addsub"]["validation"], rows["addsub"]["test"]) == (248, 28, 119)
    assert rows["aqua"]["test"] == 254 and "train unavailable" in rows["aqua"]["note"]
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        tasks.summarize_tasks("addsub,nope")


def test_example_table_shows_n_test_examples_per_task():
    table = tasks.example_table("coin_flip,date_understanding", n_show=2)
    assert list(table["task"]) == ["coin_flip", "coin_flip", "date_understanding", "date_understanding"]
    assert table["choices"].iloc[2].count(" | ") >= 4


def test_cli_tasks_prints_a_table_and_json(capsys):
    assert cli.main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert "gsm8k" in out and "6726" in out and "train unavailable" in out
    assert cli.main(["tasks", "--json", "--tasks", "svamp,aqua"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == {"task": "svamp", "answer_type": "number", "n_choices": None, "dataset_size": 1000,
                       "train": 630, "validation": 70, "test": 300, "splits": "default", "note": ""}
    assert rows[1]["task"] == "aqua" and rows[1]["train"] is None and rows[1]["test"] == 254


def test_cli_tasks_unknown_task_exits_2(capsys):
    assert cli.main(["tasks", "--tasks", "nope"]) == 2
    assert "unknown task 'nope'" in capsys.readouterr().err


def test_what_we_saw_of_the_tasks_is_computed_from_their_table():
    import pandas as pd

    from fcot.tasks import what_we_saw

    summary = pd.DataFrame([
        {"task": "coin_flip", "answer_type": "yes_no", "train": 315, "validation": 35, "test": 150, "note": ""},
        {"task": "gsm8k", "answer_type": "number", "train": 6726, "validation": 747, "test": 1319, "note": ""},
        {"task": "aqua", "answer_type": "choice", "train": pd.NA, "validation": pd.NA, "test": 254,
         "note": "train unavailable"},
    ]).astype({"train": "Int64", "validation": "Int64", "test": "Int64"})
    text = what_we_saw(summary).data
    assert text.startswith("3 tasks: 1 answered with yes or no, 1 answered with a number, 1 answered with a "
                           "multiple-choice letter")
    assert "Training questions: from 315 (coin_flip) to 6,726 (gsm8k); 1 of 2 with fewer than 1,000" in text
    assert "No train side here: aqua, train unavailable." in text
    assert "Validation holds 782 questions, 10% of the train sides" in text and "never on the 1,723 test" in text
    assert what_we_saw(summary.iloc[:0]).data == "No task selected."
