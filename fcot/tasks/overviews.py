"""Overviews of the tasks for the CLI and the task-exploring notebook (01): sizes, examples, provenance."""

from __future__ import annotations

import os
from typing import Any, Iterable

from fcot.paths import DataUnavailableError
from fcot.tasks.loading import (
    VALIDATION_FRACTION,
    VALIDATION_SEED,
    data_files,
    load_examples,
    load_split,
)
from fcot.tasks.registry import TASKS, get_task, task_names


def _selected(tasks: str | Iterable[str]) -> list[str]:
    if isinstance(tasks, str):
        names = task_names() if tasks.strip() == "all" else [t.strip() for t in tasks.split(",") if t.strip()]
    else:
        names = list(tasks)
    if not names:
        raise ValueError(f"no task selected; give 'all' or comma-separated names from: {', '.join(TASKS)}")
    return [get_task(name).name for name in names]


def task_overview(task: str, mirror: str | os.PathLike | None = None, *,
                  validation_fraction: float = VALIDATION_FRACTION, validation_seed: int = VALIDATION_SEED) -> dict:
    """One row of :func:`summarize_tasks`: answer type, sizes of the dataset and the default split."""
    spec = get_task(task)
    row: dict[str, Any] = {
        "task": spec.name,
        "answer_type": spec.answer_type,
        "n_choices": spec.n_choices,
        "dataset_size": spec.dataset_size,
        "train": None,
        "validation": None,
        "test": None,
        "splits": ",".join(spec.splits),
        "note": "",
    }
    try:
        split = load_split(spec.name, mirror=mirror, validation_fraction=validation_fraction,
                           validation_seed=validation_seed, test_only=False)
        row.update(split.sizes())
    except DataUnavailableError as error:
        if spec.name != "aqua":
            row["note"] = f"unavailable: {str(error).splitlines()[0]}"
            return row
        split = load_split(spec.name, mirror=mirror, validation_fraction=validation_fraction,
                           validation_seed=validation_seed, test_only=True)
        row["test"] = len(split.test)
        row["note"] = "train unavailable (needs deepmind/AQuA train.json); test side only"
    return row


def summarize_tasks(tasks: str | Iterable[str] = "all", mirror: str | os.PathLike | None = None, *,
                    validation_fraction: float = VALIDATION_FRACTION, validation_seed: int = VALIDATION_SEED):
    """A pandas DataFrame, one row per task: answer type, dataset size, default train/validation/test sizes."""
    import pandas as pd

    rows = [task_overview(name, mirror, validation_fraction=validation_fraction, validation_seed=validation_seed)
            for name in _selected(tasks)]
    frame = pd.DataFrame(rows)
    for column in ("n_choices", "train", "validation", "test"):
        frame[column] = frame[column].astype("Int64")
    return frame


_ANSWER_WORDS = {"number": "a number", "choice": "a multiple-choice letter", "yes_no": "yes or no", "text": "free text"}


def what_we_saw(summary):
    """The closing "What we saw" of notebook 01 (Markdown), computed from :func:`summarize_tasks`'s table so it stays
    true for any selection of tasks: the answer types, the range of training-set sizes, the tasks without a train
    side, and how much validation is carved out of train."""
    import pandas as pd
    from IPython.display import Markdown

    if summary is None or len(summary) == 0:
        return Markdown("No task selected.")
    types = summary["answer_type"].value_counts()
    kinds = ", ".join(f"{n} answered with {_ANSWER_WORDS.get(t, t)}" for t, n in types.items())
    lines = [f"{len(summary)} task{'s' if len(summary) != 1 else ''}: {kinds}; each answer type has its own parser "
             "and scoring, the same for teacher and student."]
    trained = summary[pd.notna(summary["train"])].sort_values("train")
    if len(trained):
        low, high = trained.iloc[0], trained.iloc[-1]
        small = int((trained["train"] < 1000).sum())
        sizes = (f"from {int(low['train']):,} ({low['task']}) to {int(high['train']):,} ({high['task']})"
                 if len(trained) > 1 else f"{int(low['train']):,} ({low['task']})")
        lines.append(f"Training questions: {sizes}; {small} of {len(trained)} with fewer than 1,000, so a student "
                     "learns most tasks from a few hundred questions. Diverse reasoning (notebook 31) multiplies the "
                     "samples per question, not the questions.")
    missing = summary[pd.isna(summary["train"])]
    if len(missing):
        lines.append("No train side here: " + "; ".join(f"{row.task}, {row.note or 'not available'}"
                                                        for row in missing.itertuples()) + ".")
    validation, train = summary["validation"].sum(), summary["train"].sum()
    if train:
        lines.append(f"Validation holds {int(validation):,} questions, {100 * validation / (validation + train):.0f}% "
                     "of the train sides: the epoch, the recipe and the learning rates are chosen on it, never on the "
                     f"{int(summary['test'].sum()):,} test questions.")
    return Markdown("\n\n".join(lines))


def example_table(tasks: str | Iterable[str] = "all", n_show: int = 2, mirror: str | os.PathLike | None = None):
    """A pandas DataFrame of the first ``n_show`` test examples of each task (question, gold, choices)."""
    import pandas as pd

    if not isinstance(n_show, int) or isinstance(n_show, bool) or n_show < 0:
        raise ValueError(f"n_show must be a non-negative integer, got {n_show!r}")
    rows = []
    for name in _selected(tasks):
        try:
            examples = load_examples(name, mirror, part="test")
        except DataUnavailableError as error:
            rows.append({"task": name, "index": None, "question": f"(unavailable: {str(error).splitlines()[0]})",
                         "answer": None, "choices": None})
            continue
        for example in examples[:n_show]:
            rows.append({"task": name, "index": example.index, "question": example.question,
                         "answer": example.answer, "choices": " | ".join(example.choices) if example.choices else None})
    return pd.DataFrame(rows, columns=["task", "index", "question", "answer", "choices"])


def provenance_table(tasks: str | Iterable[str] = "all"):
    """A pandas DataFrame of every upstream file the selected tasks read: repo, commit, path, sha256."""
    import pandas as pd

    rows = [
        {"task": name, "repo": f.repo, "commit": f.commit, "path": f.path, "sha256": f.sha256 or "unknown"}
        for name in _selected(tasks)
        for f in data_files(name)
    ]
    return pd.DataFrame(rows, columns=["task", "repo", "commit", "path", "sha256"])
