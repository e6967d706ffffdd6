"""The public loading and splitting API: a task's examples, its official split files and the validation split.

Splits: :func:`load_split` returns a :class:`Split` with ``train``, ``validation`` and ``test``.
``validation`` is carved from the official train side (seeded, see :func:`split_validation`);
the official code had no validation split.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence, TypeVar

from fcot.paths import MIRROR_ENV, UpstreamFile, cache_dir, fetch, mirror_root
from fcot.records import Example
from fcot.tasks.loaders import LOADERS, load_aqua_test
from fcot.tasks.readers import get_field, read_json
from fcot.tasks.registry import (
    AQUA_TRAIN_FILE,
    AQUA_TRAIN_SIZE,
    SPLIT_NAMES,
    TaskDataError,
    TaskSpec,
    get_task,
)


def _aqua_hint(mirror: str | os.PathLike | None) -> str:
    root = mirror_root(mirror)
    where_mirror = (root / AQUA_TRAIN_FILE.relpath) if root is not None else f"<${MIRROR_ENV}>/{AQUA_TRAIN_FILE.relpath}"
    where_cache = cache_dir() / AQUA_TRAIN_FILE.repo / AQUA_TRAIN_FILE.commit / AQUA_TRAIN_FILE.path
    return (
        "AQuA train needs deepmind/AQuA train.json (97,467 JSON lines; https://github.com/deepmind/AQuA), "
        f"which fcot does not ship. Download it and put it at {where_mirror} (mirror) or {where_cache} (cache). "
        "To use only the aqua test side, call load_examples('aqua', part='test') or "
        "load_split('aqua', test_only=True)."
    )


def _fetch(file: UpstreamFile, mirror: str | os.PathLike | None) -> Path:
    hint = _aqua_hint(mirror) if file == AQUA_TRAIN_FILE else None
    return fetch(file, mirror=mirror, how_to_provide=hint)


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _parse(task: str, stamps: tuple[tuple[str, int, int], ...]) -> tuple[Example, ...]:
    paths = [Path(stamp[0]) for stamp in stamps]
    if task == "aqua" and len(paths) == 1:
        return tuple(load_aqua_test(paths[0]))
    return tuple(LOADERS[task](paths, 0))


def _check_size(spec: TaskSpec, examples: Sequence[Example], paths: list[Path]) -> None:
    if len(examples) != spec.dataset_size:
        raise TaskDataError(
            f"{spec.name}: {len(examples)} examples in {', '.join(map(str, paths))}; the official dataset has "
            f"{spec.dataset_size}. The file is not the pinned upstream version."
        )


def load_examples(task: str, mirror: str | os.PathLike | None = None, part: str = "all") -> list[Example]:
    """The task's examples in the official order (``Example.index`` = position, ``id = str(index)``).

    ``part``: ``"all"`` (every example), or ``"train"`` / ``"test"`` (the examples of that side of
    the *default* official split). For aqua, ``part="test"`` needs only the 254 test questions;
    ``"all"`` and ``"train"`` need AQuA's train.json (see the error message for how to provide it).
    """
    spec = get_task(task)
    if part not in ("all", "train", "test"):
        raise ValueError(f"part {part!r} is not one of 'all', 'train', 'test'")
    if spec.name == "aqua" and part == "test":
        path = _fetch(spec.files[1], mirror)
        examples = list(_parse("aqua", (_stamp(path),)))
        expected = spec.dataset_size - AQUA_TRAIN_SIZE
        if len(examples) != expected:
            raise TaskDataError(f"aqua: {len(examples)} test examples in {path}; the official test set has {expected}")
        _, test_indices = load_split_indices("aqua", "default", mirror)
        if [e.index for e in examples] != test_indices:
            raise TaskDataError(f"aqua: the test indices of {spec.split_file().path} are not {AQUA_TRAIN_SIZE}..{spec.dataset_size - 1}")
        return examples
    paths = [_fetch(file, mirror) for file in spec.files]
    examples = list(_parse(spec.name, tuple(_stamp(p) for p in paths)))
    _check_size(spec, examples, paths)
    if part == "all":
        return examples
    train_indices, test_indices = load_split_indices(spec.name, "default", mirror)
    return [examples[i] for i in (train_indices if part == "train" else test_indices)]


def load_split_indices(task: str, split: str = "default", mirror: str | os.PathLike | None = None) -> tuple[list[int], list[int]]:
    """The official (train, test) index lists of a split file, checked for shape and range."""
    spec = get_task(task)
    file = spec.split_file(split)
    path = _fetch(file, mirror)
    data = read_json(path)
    where = str(path)
    lists = []
    for side in ("train", "test"):
        values = get_field(data, side, where, list)
        bad = [v for v in values if not isinstance(v, int) or isinstance(v, bool)]
        if bad:
            raise TaskDataError(f"{where}: '{side}' should list integer indices, found {bad[0]!r}")
        out_of_range = [v for v in values if not 0 <= v < spec.dataset_size]
        if out_of_range:
            raise TaskDataError(
                f"{where}: '{side}' index {out_of_range[0]} is out of range for {task} "
                f"(dataset size {spec.dataset_size}: valid indices 0..{spec.dataset_size - 1})"
            )
        if len(set(values)) != len(values):
            raise TaskDataError(f"{where}: '{side}' lists an index more than once")
        lists.append(values)
    overlap = sorted(set(lists[0]) & set(lists[1]))
    if overlap:
        raise TaskDataError(f"{where}: index {overlap[0]} is on both the train and the test side")
    return lists[0], lists[1]


T = TypeVar("T")

VALIDATION_FRACTION = 0.1  # default share of the official train side held out for validation
VALIDATION_SEED = 0


def split_validation(train: Sequence[T], fraction: float = VALIDATION_FRACTION, seed: int = VALIDATION_SEED,
                     count: int | None = None) -> tuple[list[T], list[T]]:
    """Carve a validation set out of ``train`` -> ``(rest_of_train, validation)``, both in input order.

    The validation size is ``count`` if given, else ``round(fraction * len(train))`` but at least 1
    (``fraction=0`` and no ``count`` means no validation). Positions are chosen by
    ``np.random.RandomState(seed).permutation(len(train))``: the same ``train`` and ``seed`` always
    give the same split, and the two parts are disjoint and cover ``train``. Test data is never
    passed here, so it cannot leak into validation.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    n = len(train)
    if count is not None:
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count < n:
            raise ValueError(f"count must be an integer in 0..{n - 1} (train has {n} examples), got {count!r}")
        size = count
    else:
        if not isinstance(fraction, (int, float)) or isinstance(fraction, bool) or not 0 <= fraction < 1:
            raise ValueError(f"fraction must be in [0, 1), got {fraction!r}")
        size = 0 if fraction == 0 else max(1, round(fraction * n))
        if size >= n:
            raise ValueError(f"a validation fraction of {fraction} leaves no training examples out of {n}")
    if size == 0:
        return list(train), []
    import numpy as np

    chosen = {int(i) for i in np.random.RandomState(seed).permutation(n)[:size]}
    rest = [item for i, item in enumerate(train) if i not in chosen]
    held = [item for i, item in enumerate(train) if i in chosen]
    return rest, held


@dataclass(frozen=True)
class Split:
    """A task's official split plus fcot's validation split.

    ``train`` + ``validation`` is the official train side (``official_train_indices``, the
    split file's list); ``test`` is the official test side. All index lists are sorted, as in
    the split files. With ``test_only=True`` (aqua without its train file) the example lists
    ``train`` and ``validation`` are empty but the index lists are still filled in.
    """

    task: str
    name: str
    train: list[Example]
    validation: list[Example]
    test: list[Example]
    train_indices: list[int]
    validation_indices: list[int]
    test_indices: list[int]
    official_train_indices: list[int]
    validation_fraction: float
    validation_count: int | None
    validation_seed: int
    test_only: bool = False
    files: tuple[UpstreamFile, ...] = field(default=(), repr=False)

    @property
    def official_train(self) -> list[Example]:
        """The official train side (train + validation) in index order: the questions the teacher answers."""
        return sorted(self.train + self.validation, key=lambda e: e.index)  # type: ignore[arg-type, return-value]

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train_indices), "validation": len(self.validation_indices), "test": len(self.test_indices)}


def load_split(task: str, split: str = "default", mirror: str | os.PathLike | None = None, *,
               validation_fraction: float = VALIDATION_FRACTION, validation_count: int | None = None,
               validation_seed: int = VALIDATION_SEED, test_only: bool = False) -> Split:
    """The official ``split`` (``"default"``, or ``"template"`` for multiarith/date_understanding).

    Validation: ``validation_count`` examples if given, else ``validation_fraction`` (default 10%,
    at least 1; 0 for none) of the official train side, chosen with ``validation_seed`` (default 0)
    by :func:`split_validation`. ``test_only=True`` loads only the test examples (needed for aqua,
    whose train file is not available).

    REPRODUCTION NOTE: the official code had no validation split and picked checkpoints by test
    accuracy; fcot picks them on this validation split instead.
    """
    spec = get_task(task)
    if split not in SPLIT_NAMES:
        raise ValueError(f"split {split!r} is not one of {list(SPLIT_NAMES)}")
    spec.split_file(split)  # raises, naming the accepted splits, if this task lacks it
    train_indices, test_indices = load_split_indices(spec.name, split, mirror)
    rest_indices, validation_indices = split_validation(
        train_indices, fraction=validation_fraction, seed=validation_seed, count=validation_count
    )
    if test_only:
        test = load_examples(spec.name, mirror, part="test") if spec.name == "aqua" and split == "default" else None
        if test is None:
            examples = load_examples(spec.name, mirror)
            test = [examples[i] for i in test_indices]
        train: list[Example] = []
        validation: list[Example] = []
    else:
        examples = load_examples(spec.name, mirror)
        train = [examples[i] for i in rest_indices]
        validation = [examples[i] for i in validation_indices]
        test = [examples[i] for i in test_indices]
    return Split(task=spec.name, name=split, train=train, validation=validation, test=test,
                 train_indices=rest_indices, validation_indices=validation_indices, test_indices=test_indices,
                 official_train_indices=train_indices, validation_fraction=validation_fraction,
                 validation_count=validation_count, validation_seed=validation_seed, test_only=test_only,
                 files=tuple(spec.files) + (spec.split_file(split),))


def default_split_indices(task: str) -> tuple[list[int], list[int]]:
    """Recompute the official default split from the official rules (``src/data/generate_split.py``).

    gsm8k and commonsense_qa: the upstream train/test (dev) files; aqua: 10,000 of the 97,467
    train questions (``RandomState(0)`` permutation) and the 254 test questions; every other
    task: ``RandomState(0)`` permutation of all indices, the first ``round(0.7 n)`` are train.
    Both lists sorted. Used to check that fcot's dataset sizes and order match the split files.
    """
    import numpy as np

    spec = get_task(task)
    n = spec.dataset_size
    if spec.name == "aqua":
        permuted = np.random.RandomState(0).permutation(list(range(AQUA_TRAIN_SIZE)))
        return sorted(int(i) for i in permuted[:10000]), list(range(AQUA_TRAIN_SIZE, n))
    if spec.name in ("gsm8k", "commonsense_qa"):
        n_train = {"gsm8k": 7473, "commonsense_qa": 9741}[spec.name]
        return list(range(n_train)), list(range(n_train, n))
    permuted = np.random.RandomState(0).permutation(list(range(n)))
    n_train = round(n * 0.7)
    return sorted(int(i) for i in permuted[:n_train]), sorted(int(i) for i in permuted[n_train:])


# ---------------------------------------------------------------------------------------------
# Provenance


def data_files(task: str) -> list[UpstreamFile]:
    """Every upstream file the task reads: its dataset files, then its split files."""
    spec = get_task(task)
    return list(spec.files) + [spec.split_file(name) for name in spec.splits]


def data_hashes(task: str) -> dict[str, str]:
    """``{"<owner>/<repo>/<path>@<commit>": sha256}`` for run manifests (``"unknown"`` where unpinned)."""
    return {f"{f.relpath.as_posix()}@{f.commit}": (f.sha256 or "unknown") for f in data_files(task)}

