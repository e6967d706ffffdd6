"""The paper's 12 tasks: their upstream files, loaders, and the official train/test splits.

Each task's examples are built from the pinned raw upstream datasets in exactly the order and text format of
the official Fine-tune-CoT processed datasets, so the official split files select the same questions here;
:func:`load_split` adds a seeded validation split carved from the official train side. Submodules:

* :mod:`fcot.tasks.registry` -- the pinned upstream files and the task registry (:data:`TASKS`, :func:`get_task`);
* :mod:`fcot.tasks.readers` -- strict readers of raw JSON / JSON-lines files and their fields;
* :mod:`fcot.tasks.loaders` -- one loader per task, in the official order and text format;
* :mod:`fcot.tasks.loading` -- the public loading and splitting API (:func:`load_examples`, :func:`load_split`);
* :mod:`fcot.tasks.overviews` -- overviews for the CLI and notebook 01 (sizes, examples, provenance).
"""

from __future__ import annotations

from fcot.answers import canonical_number  # re-exported: `tasks.canonical_number` is public
from fcot.tasks.loading import (
    VALIDATION_FRACTION,
    VALIDATION_SEED,
    Split,
    data_files,
    data_hashes,
    default_split_indices,
    load_examples,
    load_split,
    load_split_indices,
    split_validation,
)
from fcot.tasks.overviews import example_table, provenance_table, summarize_tasks, task_overview, what_we_saw
from fcot.tasks.registry import (
    AQUA,
    AQUA_COMMIT,
    AQUA_TRAIN_FILE,
    AQUA_TRAIN_SIZE,
    GRADE_SCHOOL_MATH,
    GRADE_SCHOOL_MATH_COMMIT,
    REASONING_TEACHER,
    REASONING_TEACHER_COMMIT,
    SHA256,
    SPLIT_NAMES,
    TASKS,
    ZERO_SHOT_COT,
    ZERO_SHOT_COT_COMMIT,
    TaskDataError,
    TaskSpec,
    get_task,
    task_names,
)

__all__ = [
    "TASKS",
    "TaskSpec",
    "Split",
    "TaskDataError",
    "SPLIT_NAMES",
    "VALIDATION_FRACTION",
    "VALIDATION_SEED",
    "task_names",
    "get_task",
    "load_examples",
    "load_split",
    "load_split_indices",
    "split_validation",
    "default_split_indices",
    "data_files",
    "data_hashes",
    "canonical_number",
    "summarize_tasks",
    "example_table",
    "provenance_table",
    "task_overview",
    "what_we_saw",
]
