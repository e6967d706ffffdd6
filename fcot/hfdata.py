"""Examples, completions and samples as Hugging Face ``datasets``: their declared features, and loaders.

Runs store their records as JSON lines (one source of truth, readable on GitHub); every such file is a dataset
that ``datasets.load_dataset("json", data_files=...)`` reads, and :func:`load` does exactly that with the declared
:func:`features` (one per record kind), so the schema is checked on load and the result is the familiar
``Dataset`` -- map, filter, ``to_pandas``, ``save_to_disk`` or ``push_to_hub`` it::

    from fcot import hfdata, stages
    samples = hfdata.samples(stages.find("curation", "walkthrough-ft_cot"))   # DatasetDict: train, validation
    samples["train"].push_to_hub("me/coin-flip-ft-cot")                       # needs a network and a token

:func:`from_records` builds the same datasets from records in memory (what training tokenises with
``Dataset.map``).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Iterable
from fcot import progress

KINDS = ("example", "completion", "sample")


def features(kind: str):
    """The declared ``datasets.Features`` of ``kind`` (``example``, ``completion``, ``sample``)."""
    from datasets import Features, Sequence, Value

    if kind == "example":
        return Features({"task": Value("string"), "id": Value("string"), "question": Value("string"),
                         "answer": Value("string"), "answer_type": Value("string"),
                         "choices": Sequence(Value("string")), "index": Value("int64")})
    if kind == "completion":
        return Features({"task": Value("string"), "example_id": Value("string"), "sample_index": Value("int64"),
                         "question": Value("string"), "rationale": Value("string"),
                         "answer_completion": Value("string"), "prediction": Value("string"),
                         "gold": Value("string"), "correct": Value("bool"), "finish_reason": Value("string"),
                         "prompt_tokens": Value("int64"), "completion_tokens": Value("int64"),
                         "source": Value("string")})
    if kind == "sample":
        return Features({"example_id": Value("string"), "sample_index": Value("int64"), "prompt": Value("string"),
                         "completion": Value("string"), "format": Value("string")})
    raise ValueError(f"unknown record kind {kind!r}; accepted: {', '.join(KINDS)}")


def from_records(records: Iterable[Any], kind: str):
    """A ``datasets.Dataset`` of fcot records (:class:`fcot.records.Example`, ``Completion``, ``fcot.curate.Sample``
    or their dicts) with the declared features of ``kind``."""
    from datasets import Dataset

    progress.sync_libraries()
    rows = [dataclasses.asdict(r) if dataclasses.is_dataclass(r) else dict(r) for r in records]
    return Dataset.from_list(rows, features=features(kind))


def load(path: str | os.PathLike, kind: str):
    """The JSON-lines file ``path`` as a ``datasets.Dataset`` with the declared features of ``kind`` (read by
    ``datasets.load_dataset("json")``; an unknown or missing field fails naming the file)."""
    from datasets import load_dataset

    progress.sync_libraries()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {kind} file")
    try:
        return load_dataset("json", data_files=str(path), features=features(kind), split="train")
    except Exception as error:  # datasets wraps schema problems in several exception types
        raise ValueError(f"{path}: not a file of {kind} records with fields {list(features(kind))}: {error}") from None


def samples(run):
    """A curation run's samples as a ``datasets.DatasetDict`` (``train``, ``validation``)."""
    from datasets import DatasetDict

    folder = run.artifacts_dir
    return DatasetDict({"train": load(folder / "samples_train.jsonl", "sample"),
                        "validation": load(folder / "samples_val.jsonl", "sample")})


def completions(run):
    """A teacher run's completions as a ``datasets.Dataset``."""
    return load(run.artifacts_dir / "completions.jsonl", "completion")
