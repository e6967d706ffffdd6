"""Examples, completions and samples are Hugging Face datasets with declared features."""

from __future__ import annotations

import pytest

from fcot import curate, hfdata, students
from fcot.records import Completion, Example, write_jsonl


def _sample(i: int) -> curate.Sample:
    return curate.Sample(f"e{i}", 0, f"Q{i} ###", f" step {i}. --> {i}", "ft_cot")


@pytest.mark.parametrize("kind, record", [
    ("example", Example("coin_flip", "1", "Is it heads?", "yes", "yes_no")),
    ("completion", Completion("coin_flip", "1", 0, "Is it heads?", " It is.", " yes", "yes", "yes", True)),
    ("sample", _sample(1)),
])
def test_each_record_kind_becomes_a_dataset_with_its_declared_features(kind, record, tmp_path):
    in_memory = hfdata.from_records([record], kind)
    assert in_memory.features == hfdata.features(kind) and in_memory.num_rows == 1
    path = tmp_path / f"{kind}.jsonl"
    write_jsonl(path, [record])
    on_disk = hfdata.load(path, kind)  # what datasets.load_dataset("json") reads from a run's file
    assert on_disk.features == hfdata.features(kind) and on_disk[0] == in_memory[0]


def test_a_file_of_another_kind_is_refused_naming_the_file_and_the_fields(tmp_path):
    path = tmp_path / "samples.jsonl"
    write_jsonl(path, [_sample(1)])
    with pytest.raises(ValueError, match=r"samples\.jsonl: not a file of completion records"):
        hfdata.load(path, "completion")
    with pytest.raises(ValueError, match="accepted: example, completion, sample"):
        hfdata.features("rationale")


def test_training_tokenises_samples_with_dataset_map_exactly_as_encode_sample_does():
    tokenizer = students.train_tokenizer(["Q1 ### step 1. --> 1", "Q2 ### step 2. --> 2"], vocab_size=300)
    samples = [_sample(1), _sample(2)]
    encoded = students.encode_samples(tokenizer, samples, "decoder", max_length=64)
    assert encoded.column_names == ["input_ids", "labels", "length", "truncated"]
    for row, sample in zip(encoded, samples):
        assert row == students.encode_sample(tokenizer, sample.prompt, sample.completion, "decoder", 64)
