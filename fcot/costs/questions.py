"""The questions an estimate drives: a task's train and test sides, its recordings, an even spread."""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from fcot import recorded, tasks
from fcot.paths import DataUnavailableError


@lru_cache(maxsize=None)
def task_recordings(task: str) -> tuple:
    """The recorded text-davinci-002 completions of a task whose log is in the data mirror (else ())."""
    if task not in recorded.MIRRORED_TASKS:
        return ()
    return tuple(recorded.load_recorded(task).completions)


@lru_cache(maxsize=None)
def train_side(task: str) -> tuple[tuple, int, str]:
    """``(questions to drive, official train size, note)``: the official train side of ``task``."""
    try:
        examples = tuple(tasks.load_examples(task, part="train"))
        return examples, len(examples), ""
    except DataUnavailableError:
        # REPRODUCTION NOTE: AQuA's train.json is not in the data mirror: the cost estimate takes the
        # train size from the official split file (10,000 questions) and drives the teacher over the
        # aqua test questions as stand-ins for the train questions' lengths.
        size = len(tasks.load_split_indices(task)[0])
        stand_ins = tuple(tasks.load_examples(task, part="test"))
        return stand_ins, size, (f"{task} train questions not in the data mirror: {size:,} (official split file), "
                                 f"lengths from its {len(stand_ins)} test questions as stand-ins")


@lru_cache(maxsize=None)
def test_side(task: str) -> tuple:
    """The official test questions of ``task``."""
    return tuple(tasks.load_examples(task, part="test"))


def spread(items: Sequence, k: int | None) -> list:
    """``k`` evenly spaced items (all of them when k is None or >= len)."""
    items = list(items)
    if k is None or k >= len(items):
        return items
    return [items[i * len(items) // k] for i in range(k)]
