"""Scoring a recorded log or an fcot completions file with fcot's answer rules, on a side of the official split."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fcot.answers import is_correct, parse_teacher
from fcot.recorded.logs import RECORDED_LOGS
from fcot.recorded.matching import RecordedRun, log_examples, match_log
from fcot.recorded.reading import RecordedLog, read_log
from fcot.records import Example, read_completions
from fcot.tasks import get_task, load_split_indices

SPLIT_PARTS = ("all", "train", "test")


@dataclass(frozen=True)
class Score:
    """How many completions were scored and how many fcot's rules count correct.

    For a log, ``n`` counts the entries matched to an example (of the chosen part of the split);
    ``unmatched`` entries match no example and are not scored; ``ambiguous`` ones matched one of
    several examples with the same question (and are scored).
    """

    n: int
    correct: int
    examples: int = 0  # distinct examples among them
    unmatched: int = 0
    ambiguous: int = 0
    split: str = "all"

    @property
    def accuracy(self) -> float:
        return 100.0 * self.correct / self.n if self.n else 0.0

    def as_dict(self) -> dict:
        return {"n": self.n, "correct": self.correct, "accuracy": self.accuracy, "unmatched": self.unmatched,
                "ambiguous": self.ambiguous, "examples": self.examples, "split": self.split}


def split_example_ids(task: str, split: str, mirror=None) -> set[str] | None:
    """The example ids of one side of the official default split (None for ``"all"``)."""
    if split not in SPLIT_PARTS:
        raise ValueError(f"split {split!r} is not one of {', '.join(SPLIT_PARTS)}")
    if split == "all":
        return None
    train, test = load_split_indices(task, "default", mirror)
    return {str(i) for i in (train if split == "train" else test)}


def is_log_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` looks like a Kojima log (its first non-blank character is not ``{``)."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            for line in handle:
                if line.strip():
                    return not line.lstrip().startswith("{")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    raise ValueError(f"{path}: the file is empty (expected a Kojima log or an fcot completions JSONL)")


def score_log(task: str, log: RecordedLog, examples: list[Example], keep: set[str] | None = None,
              split: str = "all") -> tuple[Score, RecordedRun]:
    """fcot's score of the log entries matched to ``examples`` (to the ids in ``keep``, if given)."""
    run = match_log(task, log, examples)
    scored = [c for c in run.completions if keep is None or c.example_id in keep]
    ambiguous = {id(e) for e in run.ambiguous_entries}
    in_part = [entry for (entry, example) in run.pairs if keep is None or example.id in keep]
    score = Score(
        n=len(scored),
        correct=sum(c.correct for c in scored),
        examples=len({c.example_id for c in scored}),
        unmatched=len(run.unmatched_entries),
        ambiguous=sum(id(entry) in ambiguous for entry in in_part),
        split=split,
    )
    return score, run


def score_completions(task: str, path: str | os.PathLike, examples: list[Example], keep: set[str] | None = None,
                      split: str = "all") -> Score:
    """Re-parse every ``answer_completion`` of an fcot completions JSONL file with fcot's rules."""
    by_id = {e.id: e for e in examples}
    rows = read_completions(path)  # a completion written twice raises, naming both lines
    correct = n = 0
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        if row.task != task:
            raise ValueError(f"{path}:{number}: field 'task' is {row.task!r}, but --task is {task!r}")
        example = by_id.get(str(row.example_id))
        if example is None:
            raise ValueError(
                f"{path}:{number}: field 'example_id' {row.example_id!r} is not an example of {task} "
                f"(accepted: ids {next(iter(by_id), '?')!r}..{next(reversed(by_id), '?')!r})"
            )
        if keep is not None and example.id not in keep:
            continue
        seen.add(example.id)
        n += 1
        correct += is_correct(parse_teacher(row.answer_completion, example), example)
    return Score(n, correct, examples=len(seen), split=split)


def rescore(
    task: str,
    path: str | os.PathLike,
    mirror: str | os.PathLike | None = None,
    examples: list[Example] | None = None,
    split: str = "all",
) -> Score:
    """Score a recorded Kojima log or an fcot completions JSONL file with fcot's rules.

    ``split``: ``"all"`` (every entry), ``"train"`` or ``"test"`` (the entries whose example is on
    that side of the official default split). Nothing to score is an error, not 0%.
    """
    get_task(task)  # an unknown task raises naming the accepted ones
    keep = split_example_ids(task, split, mirror)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected a Kojima log or an fcot completions JSONL)")
    log = read_log(path) if is_log_file(path) else None
    if log is not None:
        check_log_task(log, task)
    if examples is None:
        examples = log_examples(task, mirror)
    if log is not None:
        score = score_log(task, log, examples, keep, split)[0]
    else:
        score = score_completions(task, path, examples, keep, split)
    if score.n == 0:
        side = "" if split == "all" else f" on the {split} side of the official split"
        raise ValueError(f"{path}: no completion of {task}{side} to score")
    return score


def check_log_task(log: RecordedLog, task: str) -> None:
    """A log whose header names another dataset than ``task``'s raises naming both."""
    log_task = next((t for t, spec in RECORDED_LOGS.items() if spec.log_name == log.dataset), None)
    if log_task is not None and log_task != task:
        raise ValueError(
            f"{log.path}: the log is a run on dataset {log.dataset!r} (fcot task {log_task!r}), not on {task!r}; "
            f"pass --task {log_task}"
        )


# -- explaining the differences ---------------------------------------------------------------
