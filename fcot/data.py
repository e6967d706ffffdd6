"""Which examples a run sees: train, validation and test of a real or synthetic task, every seed named.

One function, :func:`examples`, decides this for every stage and notebook (the teacher answers
train + validation, curation and training use them, evaluation uses test). ``n_train`` means one
thing everywhere: the training questions, after the validation questions are set aside.

* Real tasks: the official default split (:func:`fcot.tasks.load_split`). Validation is carved out
  of the official train side (``n_val`` questions, 0 = 10%), chosen with the fixed
  ``fcot.tasks.VALIDATION_SEED``; train is the first ``n_train`` of the rest (0 = all); test the
  first ``n_test`` of the official test side (0 = all).
* Synthetic tasks (``synth_*``), ``test_split="own"``: ``n_test`` questions from their own stream (seed ``data_seed +``
  :data:`TEST_STREAM_OFFSET`), then from the ``data_seed`` stream ``n_val`` validation questions
  followed by ``n_train`` train questions, skipping any question already drawn: training sets of
  different sizes are nested and validation and test do not change with ``n_train``.
  ``test_split="real"``: the test questions are the first ``n_test`` (0 = all) of the official test
  split of the real task the family imitates (:data:`REAL_TASK`); train and validation are generated
  as above, skipping any question equal to a test question.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any, Mapping
from fcot.records import is_int
from fcot import synthetic, tasks

SYNTHETIC_PREFIX = "synth_"
TEST_STREAM_OFFSET = 104_729  # synthetic test questions come from seed data_seed + this (their own stream)
TEST_SPLITS = ("own", "real")
# The real task each synthetic family imitates word for word (test_split="real" tests on its official test split).
REAL_TASK = {"synth_coin_flip": "coin_flip", "synth_last_letter": "last_letter_concatenation",
             "synth_shuffled_objects": "tracking_shuffled_objects"}


def known_tasks() -> list[str]:
    """Every task a run can name: the real tasks of :mod:`fcot.tasks`, then the synthetic families."""
    return list(tasks.task_names()) + list(synthetic.SYNTHETIC_TASKS)


@dataclass(frozen=True)
class DataConfig:
    """The examples of a run (validated on construction); defaults are the smoke settings."""

    task: str = "coin_flip"
    difficulty: int | None = None  # synthetic tasks only; None = the task's default
    n_train: int = 40  # training questions (real tasks: 0 = all of the official train side less validation)
    n_val: int = 10  # validation questions (real tasks: 0 = 10% of the official train side)
    n_test: int = 40  # test questions (real tasks: 0 = the whole official test split)
    data_seed: int = 0  # synthetic questions and the teacher's sampled rationales
    test_split: str = "own"  # own: the task's own test; real: a synth_* task tested on the real task's official test

    def __post_init__(self) -> None:
        def fail(field: str, message: str) -> None:
            raise ValueError(f"DataConfig.{field}: {message}")

        known = known_tasks()
        if self.task not in known:
            fail("task", f"unknown task {self.task!r}; accepted: {', '.join(known)}")
        if self.difficulty is not None:
            if not self.is_synthetic:
                fail("difficulty", f"applies to synthetic tasks (synth_*) only; use None for {self.task!r}")
            low, high = synthetic.DIFFICULTY_RANGES[self.task]
            if not is_int(self.difficulty) or not low <= self.difficulty <= high:
                fail("difficulty", f"{self.difficulty!r} is out of range for {self.task}; accepted: {low}..{high} or None")
        for name in ("n_train", "n_val", "n_test"):
            value = getattr(self, name)
            minimum = 1 if self.is_synthetic and not (name == "n_test" and self.test_split == "real") else 0
            if not is_int(value) or value < minimum:
                what = "an integer >= 1 (synthetic tasks are generated)" if self.is_synthetic else "an integer >= 0 (0 = all / default)"
                fail(name, f"must be {what}, got {value!r}")
        if not is_int(self.data_seed) or self.data_seed < 0:
            fail("data_seed", f"must be an integer >= 0, got {self.data_seed!r}")
        if self.test_split not in TEST_SPLITS:
            fail("test_split", f"{self.test_split!r} is not accepted; accepted: {', '.join(TEST_SPLITS)}")
        if self.test_split == "real" and self.task not in REAL_TASK:
            fail("test_split", f"'real' needs a synthetic task that imitates a real one ({', '.join(REAL_TASK)}); "
                               f"{self.task!r} has its own test split only")

    @property
    def is_synthetic(self) -> bool:
        return self.task.startswith(SYNTHETIC_PREFIX)

    @property
    def resolved_difficulty(self) -> int | None:
        if not self.is_synthetic:
            return None
        return self.difficulty if self.difficulty is not None else synthetic.DEFAULT_DIFFICULTY[self.task]

    def resolved(self) -> dict:
        return dataclasses.asdict(self) | {"difficulty": self.resolved_difficulty}

    def data_hashes(self) -> dict | None:
        """sha256 of the upstream files a real task (or a synthetic task's real test) reads; None otherwise."""
        if self.test_split == "real":
            return tasks.data_hashes(REAL_TASK[self.task])
        return None if self.is_synthetic else tasks.data_hashes(self.task)

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
    return synthetic.distinct_examples(task, count, difficulty, seed, exclude)


def _warn_short(field: str, asked: int, available: int, what: str) -> None:
    if asked and asked > available:
        warnings.warn(f"DataConfig.{field}={asked} asks for more questions than {what} has ({available}); "
                      f"using all {available}", stacklevel=3)


def examples(config: DataConfig) -> Examples:
    """The train, validation and test examples of ``config`` (see the module docstring)."""
    if config.is_synthetic:
        # REPRODUCTION NOTE: synthetic tasks have no official split; fcot draws test from its own
        # stream and validation before train, so growing n_train nests the training sets and
        # leaves validation and test unchanged. With test_split="real" the test questions are the
        # official test split of the real task the family imitates (generated train and validation
        # questions that equal a test question are skipped): students trained on generated
        # questions are scored on the paper's test set.
        difficulty = config.resolved_difficulty
        if config.test_split == "real":
            real = tasks.load_split(REAL_TASK[config.task]).test
            _warn_short("n_test", config.n_test, len(real), f"the official {REAL_TASK[config.task]} test split")
            test = list(real[: config.n_test]) if config.n_test else list(real)
        else:
            test = _distinct(config.task, difficulty, config.data_seed + TEST_STREAM_OFFSET, config.n_test, set())
        rest = _distinct(config.task, difficulty, config.data_seed, config.n_val + config.n_train, {e.question for e in test})
        return Examples(rest[config.n_val:], rest[: config.n_val], test)

    split = tasks.load_split(config.task, validation_count=config.n_val or None)
    _warn_short("n_train", config.n_train, len(split.train), f"{config.task}'s train side less validation")
    _warn_short("n_test", config.n_test, len(split.test), f"{config.task}'s official test split")
    train = split.train[: config.n_train] if config.n_train else list(split.train)
    test = split.test[: config.n_test] if config.n_test else list(split.test)
    return Examples(list(train), list(split.validation), list(test))


NEW_QUESTION_OFFSET = 7_919  # new questions come from their own synthetic stream (seed + this): not train, not test


def new_question(task: str, seed: int = 0, default=None):
    """A question in ``task``'s format that no split holds, with its gold answer: for a live question to a trained
    student (notebooks 21 and 40). A real task gets one from the synthetic family that imitates it word for word
    (:data:`REAL_TASK`; coin flip, last letters, shuffled objects), checked against every question of the task;
    a synthetic task from a stream of its own. A task no generator writes raises, or returns ``default`` when one is
    given (notebooks pass a test question)."""
    family = task if task.startswith(SYNTHETIC_PREFIX) else {real: synth for synth, real in REAL_TASK.items()}.get(task)
    if family is None and default is not None:
        return default
    if family is None:
        raise ValueError(f"new_question: no generator writes {task!r} questions; accepted: {', '.join(REAL_TASK.values())} "
                         f"or a synthetic task; ask the student a question of your own instead")
    known = set() if family == task else {e.question for e in tasks.load_examples(task)}
    example = _distinct(family, synthetic.DEFAULT_DIFFICULTY[family], seed + NEW_QUESTION_OFFSET, 1, known)[0]
    return dataclasses.replace(example, task=task, id=f"new-{task}-{seed}", index=None)
