"""Which examples a run sees: train, validation and test of a real or synthetic task, every seed named.

One function, :func:`examples`, decides this for every stage and notebook (the teacher answers
train + validation, curation and training use them, evaluation uses test). ``n_train`` means one
thing everywhere: the training questions, after the validation questions are set aside.

* Real tasks: the official default split (:func:`fcot.tasks.load_split`). Validation is carved out
  of the official train side (``n_val`` questions, 0 = 10%), chosen with the fixed
  ``fcot.tasks.VALIDATION_SEED``; train is the first ``n_train`` of the rest (0 = all); test the
  first ``n_test`` of the official test side (0 = all).
* Synthetic tasks (``synth_*``): ``n_test`` questions from their own stream (seed ``data_seed +``
  :data:`TEST_STREAM_OFFSET`), then from the ``data_seed`` stream ``n_val`` validation questions
  followed by ``n_train`` train questions, skipping any question already drawn: training sets of
  different sizes are nested and validation and test do not change with ``n_train``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping
from fcot.records import is_int

SYNTHETIC_PREFIX = "synth_"
TEST_STREAM_OFFSET = 104_729  # synthetic test questions come from seed data_seed + this (their own stream)


@dataclass(frozen=True)
class DataConfig:
    """The examples of a run (validated on construction); defaults are the smoke settings."""

    task: str = "coin_flip"
    difficulty: int | None = None  # synthetic tasks only; None = the task's default
    n_train: int = 40  # training questions (real tasks: 0 = all of the official train side less validation)
    n_val: int = 10  # validation questions (real tasks: 0 = 10% of the official train side)
    n_test: int = 40  # test questions (real tasks: 0 = the whole official test split)
    data_seed: int = 0  # synthetic questions and the teacher's sampled rationales

    def __post_init__(self) -> None:
        from fcot import synthetic, tasks

        def fail(field: str, message: str) -> None:
            raise ValueError(f"DataConfig.{field}: {message}")

        known = list(tasks.task_names()) + list(synthetic.SYNTHETIC_TASKS)
        if self.task not in known:
            fail("task", f"unknown task {self.task!r}; accepted: {', '.join(known)}")
        if self.difficulty is not None:
            if not self.is_synthetic:
                fail("difficulty", f"applies to synthetic tasks (synth_*) only; use None for {self.task!r}")
            low, high = synthetic.DIFFICULTY_RANGES[self.task]
            if not is_int(self.difficulty) or not low <= self.difficulty <= high:
                fail("difficulty", f"{self.difficulty!r} is out of range for {self.task}; accepted: {low}..{high} or None")
        minimum = 1 if self.is_synthetic else 0
        for name in ("n_train", "n_val", "n_test"):
            value = getattr(self, name)
            if not is_int(value) or value < minimum:
                what = "an integer >= 1 (synthetic tasks are generated)" if self.is_synthetic else "an integer >= 0 (0 = all / default)"
                fail(name, f"must be {what}, got {value!r}")
        if not is_int(self.data_seed) or self.data_seed < 0:
            fail("data_seed", f"must be an integer >= 0, got {self.data_seed!r}")

    @property
    def is_synthetic(self) -> bool:
        return self.task.startswith(SYNTHETIC_PREFIX)

    @property
    def resolved_difficulty(self) -> int | None:
        if not self.is_synthetic:
            return None
        from fcot import synthetic

        return self.difficulty if self.difficulty is not None else synthetic.DEFAULT_DIFFICULTY[self.task]

    def resolved(self) -> dict:
        return dataclasses.asdict(self) | {"difficulty": self.resolved_difficulty}

    def data_hashes(self) -> dict | None:
        """sha256 of the upstream files a real task reads (None for synthetic tasks)."""
        if self.is_synthetic:
            return None
        from fcot import tasks

        return tasks.data_hashes(self.task)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "DataConfig":
        return cls(**{f.name: values[f.name] for f in dataclasses.fields(cls) if f.name in values})


@dataclass(frozen=True)
class Examples:
    """Train, validation and test examples of one :class:`DataConfig` (no question in two of them)."""

    train: list
    validation: list
    test: list

    @property
    def teacher_questions(self) -> list:
        """What the teacher answers: train then validation (never test)."""
        return self.train + self.validation


def _distinct(task: str, difficulty: int, seed: int, count: int, exclude: set[str]) -> list:
    """The first ``count`` examples of a synthetic stream whose questions are new (not in ``exclude``)."""
    from fcot import synthetic

    found: list = []
    seen = set(exclude)
    size = max(16, 2 * count)
    start = 0
    limit = 20 * count + 1000
    while len(found) < count:
        if start >= limit:
            raise ValueError(
                f"{task} at difficulty {difficulty}: only {len(found)} distinct new questions in {limit} draws, "
                f"{count} asked; ask for fewer questions or raise the difficulty"
            )
        for example in synthetic.generate_examples(task, start + size, difficulty, seed)[start:]:
            if example.question not in seen:
                seen.add(example.question)
                found.append(example)
                if len(found) == count:
                    break
        start += size
    return found


def examples(config: DataConfig) -> Examples:
    """The train, validation and test examples of ``config`` (see the module docstring)."""
    if config.is_synthetic:
        # REPRODUCTION NOTE: synthetic tasks have no official split; fcot draws test from its own
        # stream and validation before train, so growing n_train nests the training sets and
        # leaves validation and test unchanged.
        difficulty = config.resolved_difficulty
        test = _distinct(config.task, difficulty, config.data_seed + TEST_STREAM_OFFSET, config.n_test, set())
        rest = _distinct(config.task, difficulty, config.data_seed, config.n_val + config.n_train, {e.question for e in test})
        return Examples(rest[config.n_val:], rest[: config.n_val], test)
    from fcot import tasks

    split = tasks.load_split(config.task, validation_count=config.n_val or None)
    train = split.train[: config.n_train] if config.n_train else list(split.train)
    test = split.test[: config.n_test] if config.n_test else list(split.test)
    return Examples(list(train), list(split.validation), list(test))
