"""The paper's 12 tasks: their upstream files, loaders, and the official train/test splits.

Every task's examples are built from the raw upstream datasets (as mirrored by Kojima et al.'s
Zero-shot-CoT repository, plus GSM8K from OpenAI) in **exactly** the order and text format of
the official Fine-tune-CoT processed datasets (``notebooks/old/Data Preparation.ipynb`` in
``itsnamgyu/reasoning-teacher``), so the official split files -- ``data/split/<task>__<split>.json``,
``{"train": [...], "test": [...]}`` index lists into that processed dataset -- select the same
questions here. ``Example.index`` is the position in that official order and ``Example.id`` is
``str(index)``.

Format rules reproduced from the official preprocessing:

* multiple choice is appended as ``" Answer choices: (A) x, (B) y."`` (each option stripped);
* BIG-bench tasks (date_understanding, tracking_shuffled_objects) get ``"\\nWhich choice is true?"``
  before the choices and lose one trailing ``"."`` per option; date_understanding shuffles its
  options with one ``np.random.RandomState(0)`` used sequentially over the examples;
* GSM8K is train + test (7473 + 1319), CommonsenseQA is train + dev (9741 + 1221), AQuA is
  train + test (97467 + 254).

Gold answers (``Example.answer``): numbers are canonical strings without commas -- integral
values without a decimal part (``"43"``, not ``"43.0"``), others as the shortest float repr
(``"0.625"``); ``choice`` answers are one letter; ``yes_no`` answers are ``"yes"``/``"no"``;
last-letter answers are the exact string.

Splits: :func:`load_split` returns a :class:`Split` with ``train``, ``validation`` and ``test``.
``validation`` is carved from the official train side (seeded, see :func:`split_validation`);
the official code had no validation split.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, TypeVar

from fcot.paths import (
    DataUnavailableError,
    MIRROR_ENV,
    UpstreamFile,
    cache_dir,
    fetch,
    mirror_root,
)
from fcot.answers import canonical_number
from fcot.records import AnswerType, Example

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


class TaskDataError(ValueError):
    """An upstream dataset or split file is malformed; the message names the file and the place."""


# ---------------------------------------------------------------------------------------------
# Upstream files (pinned by commit; sha256 from the project's data mirror, ../shared/data/SHA256SUMS)

ZERO_SHOT_COT = "kojima-takeshi188/zero_shot_cot"
ZERO_SHOT_COT_COMMIT = "5ef330fcdeec0cd26aee27943504f91f8ec1c33c"
REASONING_TEACHER = "itsnamgyu/reasoning-teacher"
REASONING_TEACHER_COMMIT = "a2ca4d28d3bbabbd77106b76d06885d1a5eac0d9"
GRADE_SCHOOL_MATH = "openai/grade-school-math"
GRADE_SCHOOL_MATH_COMMIT = "3101c7d5072418e28b9008a6636bde82a006892c"
AQUA = "deepmind/AQuA"
# REPRODUCTION NOTE: the commit of deepmind/AQuA the authors used is not recorded anywhere; fcot
# pins the branch name "master" and no sha256 (the file was never available to fcot's authors).
# The AQuA train side (and so the aqua default split's train examples) cannot be verified here.
AQUA_COMMIT = "master"

_SHA256 = {
    "dataset/AQuA/test.json": "de41581881ef95c5588c44ddc701c77fd480839241dd422a0d181262af24520c",
    "dataset/AddSub/AddSub.json": "21930fa90385c72b5a15f4b9a4dda27276b889ae9ff44285505cdd9fa0a20df8",
    "dataset/Bigbench_Date/task.json": "ff716f0e399109146db3a998281c39954907b78268a9b633a95582d63847822f",
    "dataset/Bigbench_object_tracking/task.json": "74b74d3c8827c0387a3f24ee9efa7edd90b2d53af3daacb9961341af66f750a0",
    "dataset/CommonsenseQA/dev_rand_split.jsonl": "3210497fdaae614ac085d9eb873dd7f4d49b6f965a93adadc803e1229fd8a02a",
    "dataset/CommonsenseQA/train_rand_split.jsonl": "58ffa3c8472410e24b8c43f423d89c8a003d8284698a6ed7874355dedd09a2fb",
    "dataset/MultiArith/MultiArith.json": "dc9db1b6cc68b1ecc2dec830d15aaf8c9a0932aa31d5ffce88ef3628179d36f4",
    "dataset/SVAMP/SVAMP.json": "5be77703a6d891ae476d7c082787ad361392aa02453b132516cdd5f4e7934e3e",
    "dataset/SingleEq/questions.json": "051507bd2b489c257057b485774a83d2710c23a4bc0f4a58e1822ae2773ef05e",
    "dataset/StrategyQA/task.json": "60af9081fed20102fd8bb1e02dc7d9f12238efcba33e4c1a56b4d61cb6409803",
    "dataset/coin_flip/coin_flip.json": "68cf201737a1463ef6bed5419622805a8934d92bff6a28a9dfbf83be3135ba5a",
    "dataset/last_letters/last_letters.json": "60e8d092d0a6423d3256e87e0c249b69aefea4cd27985082095fa4e93931fb02",
    "grade_school_math/data/train.jsonl": "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465",
    "grade_school_math/data/test.jsonl": "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14",
    "data/split/addsub__default.json": "1a6f70a39554084978a44439db0b661b039ce4dd2c09572d2ff9f44f5ef668d0",
    "data/split/aqua__default.json": "8f6a271a99d34bc1fdf062672088eb17f7f782d86c60d9a709f06b6b8144ff6d",
    "data/split/coin_flip__default.json": "a5f7ffe4a1a1e0181cbd9d00259d34f980c0073efe8a3ed25f69433cfb74a3a4",
    "data/split/commonsense_qa__default.json": "4cec2867bc6bc201eaa5fc96844870d85356f32b4fa652c75b8b5e42b9fedc76",
    "data/split/date_understanding__default.json": "5fbfdd1f0db941dce6accd7f43316eda2a2254f3a80f9a3a045f5a19bfb04578",
    "data/split/date_understanding__template.json": "9b4508734ffc2ae908615e3f9f6ca3c9e27f44e4b5e714d220bd7152ddd39d89",
    "data/split/gsm8k__default.json": "cf0f484fcaa270ff33f4ce00bff3f7e1f7f30b3e3bc76d0abcb74c22a6e9a6e0",
    "data/split/last_letter_concatenation__default.json": "a5f7ffe4a1a1e0181cbd9d00259d34f980c0073efe8a3ed25f69433cfb74a3a4",
    "data/split/multiarith__default.json": "f2f47aeb18026cb3d1909b38b8828693aeaf624af3282d8021dbee32008a1409",
    "data/split/multiarith__template.json": "188abcfb1358424791e2d9c8d622ad10356283405fab11e1a58fa374cd9a48f4",
    "data/split/single_eq__default.json": "d46feb082615045ea0909c5ed062ef85f29ba95223cbca39e0bfbb1ad1b5e1b7",
    "data/split/strategy_qa__default.json": "0857d069a693a83c20466971b7e522b3c90c3258146c9b9461df98e4d2468de1",
    "data/split/svamp__default.json": "fae6cc3a5c50952da78b66991182be507c8585e6a59954e03bd997488608ab1f",
    "data/split/tracking_shuffled_objects__default.json": "6f2a4637d6e0692297e5eaa66bf53518445e1fbae1d94f28daae0040b7a1156a",
}


def _kojima(path: str) -> UpstreamFile:
    full = f"dataset/{path}"
    return UpstreamFile(ZERO_SHOT_COT, ZERO_SHOT_COT_COMMIT, full, _SHA256[full])


def _gsm8k(part: str) -> UpstreamFile:
    full = f"grade_school_math/data/{part}.jsonl"
    return UpstreamFile(GRADE_SCHOOL_MATH, GRADE_SCHOOL_MATH_COMMIT, full, _SHA256[full])


def _split_file(task: str, split: str) -> UpstreamFile:
    full = f"data/split/{task}__{split}.json"
    return UpstreamFile(REASONING_TEACHER, REASONING_TEACHER_COMMIT, full, _SHA256[full])


# REPRODUCTION NOTE: AQuA's train.json (97,467 questions) is not in the data mirror and its sha256 is
# unknown, so it is pinned without one. Only the aqua test side (254 questions, Kojima's copy of
# AQuA test.json) is loadable without it: load_examples("aqua", part="test") or
# load_split("aqua", test_only=True).
AQUA_TRAIN_FILE = UpstreamFile(AQUA, AQUA_COMMIT, "train.json", None)
AQUA_TRAIN_SIZE = 97467  # official size of AQuA train (the aqua test indices start here)

# ---------------------------------------------------------------------------------------------
# Task registry

SPLIT_NAMES = ("default", "template")


@dataclass(frozen=True)
class TaskSpec:
    """One task: its answer type, upstream files, official dataset size and accepted splits.

    ``n_choices`` is the number of options when every question has the same number (aqua and
    commonsense_qa 5, tracking_shuffled_objects 3); None for non-choice tasks and for
    date_understanding, whose questions have 5 or 6 options (see ``Example.choices``).
    ``files`` are the dataset files in the order their examples are concatenated.
    """

    name: str
    answer_type: AnswerType
    n_choices: int | None
    description: str
    dataset_size: int
    files: tuple[UpstreamFile, ...]
    splits: tuple[str, ...] = ("default",)
    source: str = ""

    def __post_init__(self) -> None:
        if self.answer_type not in ("number", "choice", "yes_no", "text"):
            raise ValueError(f"TaskSpec {self.name!r}: answer_type {self.answer_type!r} is not one of number, choice, yes_no, text")
        if self.n_choices is not None and self.answer_type != "choice":
            raise ValueError(f"TaskSpec {self.name!r}: n_choices is only for answer_type 'choice'")
        unknown = [s for s in self.splits if s not in SPLIT_NAMES]
        if unknown:
            raise ValueError(f"TaskSpec {self.name!r}: unknown split(s) {unknown}; accepted: {list(SPLIT_NAMES)}")

    def split_file(self, split: str = "default") -> UpstreamFile:
        """The official split file of this task (``data/split/<task>__<split>.json``)."""
        if split not in self.splits:
            raise ValueError(
                f"task {self.name!r} has no {split!r} split; accepted: {list(self.splits)} "
                f"(the 'template' split exists for multiarith and date_understanding only)"
            )
        return _split_file(self.name, split)


_SPECS = [
    TaskSpec("single_eq", "number", None, "SingleEq: single-equation arithmetic word problems",
             508, (_kojima("SingleEq/questions.json"),), source="SingleEq"),
    TaskSpec("addsub", "number", None, "AddSub: addition/subtraction word problems",
             395, (_kojima("AddSub/AddSub.json"),), source="AddSub"),
    TaskSpec("multiarith", "number", None, "MultiArith: multi-step arithmetic word problems",
             600, (_kojima("MultiArith/MultiArith.json"),), splits=("default", "template"), source="MultiArith"),
    TaskSpec("gsm8k", "number", None, "GSM8K: grade-school math word problems (train + test)",
             8792, (_gsm8k("train"), _gsm8k("test")), source="GSM8K"),
    TaskSpec("aqua", "choice", 5, "AQuA-RAT: algebra word problems with 5 options (train + test)",
             97721, (AQUA_TRAIN_FILE, _kojima("AQuA/test.json")), source="AQuA"),
    TaskSpec("svamp", "number", None, "SVAMP: varied arithmetic word problems",
             1000, (_kojima("SVAMP/SVAMP.json"),), source="SVAMP"),
    TaskSpec("date_understanding", "choice", None, "BIG-bench Date Understanding (5-6 shuffled options)",
             369, (_kojima("Bigbench_Date/task.json"),), splits=("default", "template"), source="BIG-bench"),
    TaskSpec("tracking_shuffled_objects", "choice", 3, "BIG-bench Tracking Shuffled Objects (three objects)",
             750, (_kojima("Bigbench_object_tracking/task.json"),), source="BIG-bench"),
    TaskSpec("last_letter_concatenation", "text", None, "Last Letter Concatenation of four names",
             500, (_kojima("last_letters/last_letters.json"),), source="Kojima et al."),
    TaskSpec("coin_flip", "yes_no", None, "Coin Flip: is the coin still heads up after four people act",
             500, (_kojima("coin_flip/coin_flip.json"),), source="Kojima et al."),
    TaskSpec("commonsense_qa", "choice", 5, "CommonsenseQA: 5-option commonsense questions (train + dev)",
             10962, (_kojima("CommonsenseQA/train_rand_split.jsonl"), _kojima("CommonsenseQA/dev_rand_split.jsonl")),
             source="CommonsenseQA"),
    TaskSpec("strategy_qa", "yes_no", None, "StrategyQA (BIG-bench): yes/no questions needing implicit reasoning",
             2290, (_kojima("StrategyQA/task.json"),), source="BIG-bench"),
]

TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in _SPECS}


def task_names() -> list[str]:
    """The 12 task names, in the paper's order (arithmetic, other, symbolic, commonsense)."""
    return list(TASKS)


def get_task(name: str) -> TaskSpec:
    """The :class:`TaskSpec` of ``name``; an unknown name raises ValueError listing the accepted ones."""
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown task {name!r}; accepted: {', '.join(TASKS)}") from None


# ---------------------------------------------------------------------------------------------
# Reading raw files (strict: every problem names the file and the place)


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise TaskDataError(f"{path}:{error.lineno}: malformed JSON ({error.msg} at column {error.colno})") from None
    except UnicodeDecodeError as error:
        raise TaskDataError(f"{path}: not UTF-8 text ({error})") from None


def _read_jsonl(path: Path) -> list[tuple[int, Any]]:
    """(line number, value) for every non-blank line; any malformed line raises (no torn-line tolerance)."""
    rows = []
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    rows.append((number, json.loads(line)))
                except json.JSONDecodeError as error:
                    raise TaskDataError(
                        f"{path}:{number}: malformed JSON line ({error.msg} at column {error.colno})"
                    ) from None
    except UnicodeDecodeError as error:
        raise TaskDataError(f"{path}: not UTF-8 text ({error})") from None
    return rows


def _get(obj: Any, key: str, where: str, kind: type | tuple[type, ...] | None = None) -> Any:
    if not isinstance(obj, dict):
        raise TaskDataError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if key not in obj:
        raise TaskDataError(f"{where}: missing field {key!r} (fields: {sorted(obj)})")
    value = obj[key]
    if kind is not None and not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise TaskDataError(f"{where}: field {key!r} should be {names}, got {type(value).__name__}")
    return value


def _list_of(data: Any, path: Path, key: str | None = None) -> list:
    where = str(path)
    items = _get(data, key, where, list) if key is not None else data
    if not isinstance(items, list):
        raise TaskDataError(f"{where}: expected a JSON list of examples, got {type(items).__name__}")
    if not items:
        raise TaskDataError(f"{where}: the dataset is empty (no examples)")
    return items


# ---------------------------------------------------------------------------------------------
# Answer and question formats


def _verbalize_choices(question: str, choices: Sequence[str]) -> str:
    """``question + " Answer choices: (A) x, (B) y."`` -- the official multiple-choice format."""
    listed = ", ".join(f"({chr(ord('A') + i)}) {choice.strip()}" for i, choice in enumerate(choices))
    return f"{question} Answer choices: {listed}."


def _choice_example(task: str, index: int, question: str, choices: Sequence[str], answer_index: int, where: str,
                    n_choices: int | None = None) -> Example:
    if n_choices is not None and len(choices) != n_choices:
        raise TaskDataError(f"{where}: expected {n_choices} answer options, got {len(choices)}")
    if not 2 <= len(choices) <= 26:
        raise TaskDataError(f"{where}: expected 2 to 26 answer options, got {len(choices)}")
    if not 0 <= answer_index < len(choices):
        raise TaskDataError(f"{where}: the correct option {answer_index} is not among {len(choices)} options")
    stripped = tuple(choice.strip() for choice in choices)
    return Example(
        task=task,
        id=str(index),
        question=_verbalize_choices(question, stripped),
        answer=chr(ord("A") + answer_index),
        answer_type="choice",
        choices=stripped,
        index=index,
    )


def _number_example(task: str, index: int, question: str, answer: Any, where: str) -> Example:
    if not isinstance(question, str) or not question.strip():
        raise TaskDataError(f"{where}: empty or non-text question")
    try:
        gold = canonical_number(answer)
    except ValueError as error:
        raise TaskDataError(f"{where}: gold answer {answer!r} is not a number ({error})") from None
    return Example(task=task, id=str(index), question=question, answer=gold, answer_type="number", index=index)


# ---------------------------------------------------------------------------------------------
# Loaders: one per task, each producing the official order and text (see the module docstring).
# Each takes the local paths of TaskSpec.files and the index of the first example.


def _load_solutions_file(task: str, paths: list[Path], start: int, strip: bool) -> list[Example]:
    """SingleEq, AddSub and MultiArith share one format: a JSON list of ``sQuestion`` + ``lSolutions``.

    ``strip``: the official preprocessing strips AddSub/MultiArith questions; SingleEq's are kept as
    they are (the official notebook asserts they are already stripped).
    """
    path = paths[0]
    out = []
    for i, item in enumerate(_list_of(_read_json(path), path)):
        where = f"{path}: example {i}"
        solutions = _get(item, "lSolutions", where, list)
        if len(solutions) != 1:
            raise TaskDataError(f"{where}: expected one solution in 'lSolutions', got {len(solutions)}")
        question = _get(item, "sQuestion", where, str)
        out.append(_number_example(task, start + i, question.strip() if strip else question, solutions[0], where))
    return out


def _load_single_eq(paths: list[Path], start: int = 0) -> list[Example]:
    return _load_solutions_file("single_eq", paths, start, strip=False)


def _load_addsub(paths: list[Path], start: int = 0) -> list[Example]:
    return _load_solutions_file("addsub", paths, start, strip=True)


def _load_multiarith(paths: list[Path], start: int = 0) -> list[Example]:
    return _load_solutions_file("multiarith", paths, start, strip=True)


def _load_svamp(paths: list[Path], start: int = 0) -> list[Example]:
    path = paths[0]
    out = []
    for i, item in enumerate(_list_of(_read_json(path), path)):
        where = f"{path}: example {i}"
        question = _get(item, "Body", where, str).strip() + " " + _get(item, "Question", where, str).strip()
        out.append(_number_example("svamp", start + i, question, _get(item, "Answer", where, (int, float, str)), where))
    return out


def _gsm8k_rows(path: Path, start: int) -> list[Example]:
    out = []
    rows = _read_jsonl(path)
    if not rows:
        raise TaskDataError(f"{path}: the dataset is empty (no examples)")
    for offset, (line, item) in enumerate(rows):
        where = f"{path}:{line}"
        solution = _get(item, "answer", where, str)
        if solution.count("####") != 1:
            raise TaskDataError(f"{where}: field 'answer' should contain exactly one '####' before the final answer")
        final = solution[solution.find("####") + 4 :]
        # the question is kept exactly as upstream (the official code does not strip it)
        out.append(_number_example("gsm8k", start + offset, _get(item, "question", where, str), final, where))
    return out


def _load_gsm8k(paths: list[Path], start: int = 0) -> list[Example]:
    train = _gsm8k_rows(paths[0], start)
    return train + _gsm8k_rows(paths[1], start + len(train))


def _mc_jsonl_rows(task: str, path: Path, start: int) -> list[Example]:
    """AQuA (``question``/``options``/``correct``) and CommonsenseQA (``question.stem``/``answerKey``) lines."""
    rows = _read_jsonl(path)
    if not rows:
        raise TaskDataError(f"{path}: the dataset is empty (no examples)")
    out = []
    for offset, (line, item) in enumerate(rows):
        where = f"{path}:{line}"
        if task == "aqua":
            question = _get(item, "question", where, str).strip()
            options = _get(item, "options", where, list)
            choices = []
            for option in options:
                if not isinstance(option, str) or len(option) < 2 or option[0] not in "ABCDE" or option[1] != ")":
                    raise TaskDataError(f"{where}: option {option!r} is not of the form 'A)...'")
                choices.append(option[2:])
            correct = _get(item, "correct", where, str)
        else:
            stem_obj = _get(item, "question", where, dict)
            question = _get(stem_obj, "stem", where, str).strip()
            choices = [_get(c, "text", where, str) for c in _get(stem_obj, "choices", where, list)]
            correct = _get(item, "answerKey", where, str)
        if correct not in ("A", "B", "C", "D", "E"):
            raise TaskDataError(f"{where}: correct answer {correct!r} is not one of A-E")
        out.append(_choice_example(task, start + offset, question, choices, ord(correct) - ord("A"), where, n_choices=5))
    return out


def _load_aqua(paths: list[Path], start: int = 0) -> list[Example]:
    train = _mc_jsonl_rows("aqua", paths[0], start)
    return train + _mc_jsonl_rows("aqua", paths[1], start + len(train))


def _load_aqua_test(path: Path) -> list[Example]:
    return _mc_jsonl_rows("aqua", path, AQUA_TRAIN_SIZE)


def _load_commonsense_qa(paths: list[Path], start: int = 0) -> list[Example]:
    train = _mc_jsonl_rows("commonsense_qa", paths[0], start)
    return train + _mc_jsonl_rows("commonsense_qa", paths[1], start + len(train))


def _bigbench_choice(task: str, path: Path, start: int, *, expected_name: str, n_choices: int | None,
                     shuffle: bool, strip_input: bool) -> list[Example]:
    data = _read_json(path)
    name = _get(data, "name", str(path), str)
    if name != expected_name:
        raise TaskDataError(f"{path}: BIG-bench task name {name!r}, expected {expected_name!r}")
    examples = _list_of(data, path, "examples")
    state = None
    if shuffle:
        import numpy as np  # legacy RandomState: the same stream on every numpy version

        # one generator for the whole file, used sequentially -- as the official preprocessing did
        state = np.random.RandomState(0)
    out = []
    for i, item in enumerate(examples):
        where = f"{path}: example {i}"
        question = _get(item, "input", where, str)
        if strip_input:
            question = question.strip()
        question += "\nWhich choice is true?"
        scores = _get(item, "target_scores", where, dict)
        order = list(range(len(scores)))
        if state is not None:
            order = [int(k) for k in state.permutation(order)]
        choices: list[str | None] = [None] * len(scores)
        correct = [order[j] for j, value in enumerate(scores.values()) if value]
        if len(correct) != 1:
            raise TaskDataError(f"{where}: 'target_scores' should mark exactly one option correct, marks {len(correct)}")
        for j, text in enumerate(scores):
            choices[order[j]] = text[:-1] if text.endswith(".") else text
        out.append(_choice_example(task, start + i, question, choices, correct[0], where, n_choices=n_choices))  # type: ignore[arg-type]
    return out


def _load_date_understanding(paths: list[Path], start: int = 0) -> list[Example]:
    return _bigbench_choice("date_understanding", paths[0], start, expected_name="date_understanding",
                            n_choices=None, shuffle=True, strip_input=True)


def _load_tracking_shuffled_objects(paths: list[Path], start: int = 0) -> list[Example]:
    # The official processed dataset keeps the input's trailing space ("... Alice has the \nWhich
    # choice is true?"): it was saved before a .strip() was added to the preprocessing notebook
    # (the notebook reports it as "Changed" and never overwrote it). fcot reproduces the saved file.
    return _bigbench_choice("tracking_shuffled_objects", paths[0], start, expected_name="three_objects",
                            n_choices=3, shuffle=False, strip_input=False)


def _load_kojima_examples(task: str, answer_type: AnswerType, paths: list[Path], start: int) -> list[Example]:
    path = paths[0]
    out = []
    for i, item in enumerate(_list_of(_read_json(path), path, "examples")):
        where = f"{path}: example {i}"
        question = _get(item, "question", where, str)
        answer = _get(item, "answer", where, str)
        if answer_type == "yes_no" and answer not in ("yes", "no"):
            raise TaskDataError(f"{where}: answer {answer!r} is not 'yes' or 'no'")
        if not question.strip() or not answer:
            raise TaskDataError(f"{where}: empty question or answer")
        out.append(Example(task=task, id=str(start + i), question=question, answer=answer,
                           answer_type=answer_type, index=start + i))
    return out


def _load_coin_flip(paths: list[Path], start: int = 0) -> list[Example]:
    return _load_kojima_examples("coin_flip", "yes_no", paths, start)


def _load_last_letter_concatenation(paths: list[Path], start: int = 0) -> list[Example]:
    return _load_kojima_examples("last_letter_concatenation", "text", paths, start)


def _load_strategy_qa(paths: list[Path], start: int = 0) -> list[Example]:
    path = paths[0]
    out = []
    for i, item in enumerate(_list_of(_read_json(path), path, "examples")):
        where = f"{path}: example {i}"
        scores = _get(item, "target_scores", where, dict)
        if scores.get("Yes") == 1 and scores.get("No") != 1:
            answer = "yes"
        elif scores.get("No") == 1 and scores.get("Yes") != 1:
            answer = "no"
        else:
            raise TaskDataError(f"{where}: 'target_scores' {scores} marks neither or both of Yes/No")
        question = _get(item, "input", where, str).strip()
        # REPRODUCTION NOTE: the official answers are "Yes"/"No"; fcot stores yes_no golds lower-case.
        out.append(Example(task="strategy_qa", id=str(start + i), question=question, answer=answer,
                           answer_type="yes_no", index=start + i))
    return out


_LOADERS: dict[str, Callable[[list[Path], int], list[Example]]] = {
    "single_eq": _load_single_eq,
    "addsub": _load_addsub,
    "multiarith": _load_multiarith,
    "gsm8k": _load_gsm8k,
    "aqua": _load_aqua,
    "svamp": _load_svamp,
    "date_understanding": _load_date_understanding,
    "tracking_shuffled_objects": _load_tracking_shuffled_objects,
    "last_letter_concatenation": _load_last_letter_concatenation,
    "coin_flip": _load_coin_flip,
    "commonsense_qa": _load_commonsense_qa,
    "strategy_qa": _load_strategy_qa,
}

# ---------------------------------------------------------------------------------------------
# Public loading API


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
        return tuple(_load_aqua_test(paths[0]))
    return tuple(_LOADERS[task](paths, 0))


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
    data = _read_json(path)
    where = str(path)
    lists = []
    for side in ("train", "test"):
        values = _get(data, side, where, list)
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
    return Split(
        task=spec.name,
        name=split,
        train=train,
        validation=validation,
        test=test,
        train_indices=rest_indices,
        validation_indices=validation_indices,
        test_indices=test_indices,
        official_train_indices=train_indices,
        validation_fraction=validation_fraction,
        validation_count=validation_count,
        validation_seed=validation_seed,
        test_only=test_only,
        files=tuple(spec.files) + (spec.split_file(split),),
    )


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


# ---------------------------------------------------------------------------------------------
# Overviews (for the CLI and the task-exploring notebook, 01)


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
