"""The upstream files the 12 tasks read (pinned by commit and sha256) and the task registry.

:data:`TASKS` maps each task name to its :class:`TaskSpec` (answer type, files, official dataset size,
accepted splits); :func:`get_task` looks one up and :class:`TaskDataError` is what a malformed file raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from fcot.paths import UpstreamFile
from fcot.records import AnswerType


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

#: sha256 of every pinned file by its path in its repository (from the project's data mirror).
SHA256 = {
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
    return UpstreamFile(ZERO_SHOT_COT, ZERO_SHOT_COT_COMMIT, full, SHA256[full])


def _gsm8k(part: str) -> UpstreamFile:
    full = f"grade_school_math/data/{part}.jsonl"
    return UpstreamFile(GRADE_SCHOOL_MATH, GRADE_SCHOOL_MATH_COMMIT, full, SHA256[full])


def _split_file(task: str, split: str) -> UpstreamFile:
    full = f"data/split/{task}__{split}.json"
    return UpstreamFile(REASONING_TEACHER, REASONING_TEACHER_COMMIT, full, SHA256[full])


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

