"""The recorded text-davinci-002 Zero-shot-CoT runs of Kojima et al., read into fcot records.

Kojima et al. published the logs of their greedy Zero-shot-CoT runs with text-davinci-002
(``log/<dataset>_zero_shot_cot.log`` in kojima-takeshi188/zero_shot_cot). Each log is a header
(the run's ``Namespace(...)``) and one block per question::

    *************************
    12st data
    1_th_sampling
    Q: <question>
    A: Let's think step by step.<rationale> \\nTherefore, the answer (arabic numerals) is<answer completion>
    pred_before : <text the cleaner read>
    pred_after : <its answer>
    pred_list : ['<answer>']
    pred_mode : <answer>
    GT : <gold answer>
    *************************

and ends with ``accuracy : <percent>`` (newer logs add the path of their API log). :func:`read_log`
parses one file into a :class:`RecordedLog`; :func:`load_recorded` fetches the pinned log of an
fcot task, matches its entries to the task's examples by question text and re-parses every
answer completion with fcot's rules (:mod:`fcot.answers`) into :class:`fcot.records.Completion`\\ s.
:func:`rescore` scores a log or an fcot completions JSONL file; :func:`disagreements` and
:func:`report_markdown` explain every example where the log's verdict and fcot's differ.

The log's own verdict is ``pred_mode == GT`` compared as strings (that reproduces every recorded
accuracy exactly).
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

from fcot.answers import is_correct, normalize_gold, parse_teacher
from fcot.paths import UpstreamFile, fetch, write_between_markers
from fcot.prompts import COT_TRIGGER
from fcot.records import Completion, Example, read_completions

LOG_REPO = "kojima-takeshi188/zero_shot_cot"
LOG_COMMIT = "5ef330fcdeec0cd26aee27943504f91f8ec1c33c"
SOURCE = "replay:text-davinci-002"

_SEPARATOR = "*" * 25
_BLOCK_START = re.compile(r"^(\d+)(?:st|nd|rd|th) data$")
_SAMPLING = re.compile(r"^\d+_th_sampling$")
_ACCURACY = re.compile(r"^accuracy : (-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)$")
_NAMESPACE_DATASET = re.compile(r"\bdataset='([^']*)'")
_NAMESPACE_TRIGGER = re.compile(r"\bdirect_answer_trigger='((?:[^'\\]|\\.)*)'")
# Any of Kojima's stage-2 triggers (used when a log's header does not name its trigger).
_ANY_TRIGGER = re.compile(r"\nTherefore, (?:among A through [A-Z], )?the answer(?: \([^)\n]*\))? ?is")
_CHOICE_LABEL = re.compile(r"\(([A-Z])\)")
_WHITESPACE = re.compile(r"\s+")
_FIELDS = ("pred_before", "pred_after", "pred_list", "pred_mode", "GT")


# -- the registry of upstream logs ------------------------------------------------------------


@dataclass(frozen=True)
class RecordedLogSpec:
    """One upstream log: its fcot task, Kojima's dataset name, pin, and which questions it covers."""

    task: str
    log_name: str
    sha256: str | None
    covers: str  # "all" (every train and test question) or "test" (the test set only)

    @property
    def file(self) -> UpstreamFile:
        return UpstreamFile(LOG_REPO, LOG_COMMIT, f"log/{self.log_name}_zero_shot_cot.log", self.sha256)


# REPRODUCTION NOTE: the eight logs in the fcot data mirror are pinned by sha256; the other four logs
# at the same commit were never downloaded by fcot's authors, so their sha256 is unknown (None:
# fetched but not verified).
RECORDED_LOGS: dict[str, RecordedLogSpec] = {
    spec.task: spec
    for spec in (
        RecordedLogSpec("multiarith", "multiarith",
                        "e2e3416d5f376b84513847b0ed2ac40fcfbe424b8279a18f0b6c980ff75fa351", "all"),
        RecordedLogSpec("addsub", "addsub",
                        "5a35a7d04ad18f17a5918ba9f456ef85598ffb4ab340d40abd510b316ec65ce4", "all"),
        RecordedLogSpec("coin_flip", "coin_flip",
                        "6c5cd500498686106fad37b8ce85bed2bd26a790b6b1aaa8bec382a0d1103048", "all"),
        RecordedLogSpec("last_letter_concatenation", "last_letters",
                        "31e13b33aed4f1c8a920b10914fb31bc0965089afc714d0e72cf78a2f17387b5", "all"),
        RecordedLogSpec("commonsense_qa", "commonsensqa",
                        "f8027dc6f4c85045ad7567dc71a9b5a4d69fb75af7cdf08ef809fcea617a2757", "test"),
        RecordedLogSpec("aqua", "aqua",
                        "743315681523f6c459bb9dee0d106e1bbf813059bb0ecc3a75a9bbf8917766ad", "test"),
        RecordedLogSpec("single_eq", "singleeq", None, "all"),
        RecordedLogSpec("svamp", "svamp", None, "all"),
        RecordedLogSpec("gsm8k", "gsm8k", None, "test"),
        RecordedLogSpec("date_understanding", "date_understanding",
                        "14090fec37b29d4b7053f6ccc8d3865b8ffd949d9d2f21ae71c55f145cb087c8", "all"),
        RecordedLogSpec("tracking_shuffled_objects", "shuffled_objects",
                        "1bb4b95719d37b0cde221fa6d7fe40ab0aeb894d87973f48c6e1675b25301aa5", "all"),
        RecordedLogSpec("strategy_qa", "strategyqa", None, "all"),
    )
}
MIRRORED_TASKS: tuple[str, ...] = tuple(t for t, s in RECORDED_LOGS.items() if s.sha256 is not None)


def log_spec(task: str) -> RecordedLogSpec:
    """The upstream log of ``task``; an unknown task raises naming the accepted ones."""
    try:
        return RECORDED_LOGS[task]
    except KeyError:
        raise ValueError(
            f"no recorded Zero-shot-CoT log for task {task!r}; accepted: {', '.join(RECORDED_LOGS)}"
        ) from None


def fetch_log(task: str, mirror: str | os.PathLike | None = None) -> Path:
    """A local, verified path of ``task``'s log (see :func:`fcot.paths.fetch`)."""
    spec = log_spec(task)
    hint = (
        f"The recorded log for {task} ({spec.file.path}) is not in the fcot data mirror. Download "
        f"{spec.file.url} and put it at <mirror>/{spec.file.relpath} (FCOT_DATA_MIRROR) or in the "
        f"download cache, or run with network access."
    )
    return fetch(spec.file, mirror=mirror, how_to_provide=hint)


# -- reading a log ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """One question of a recorded log, as written there."""

    position: int  # the N of "Nst data" (1-based, the log's own order)
    line: int  # line number of the "Nst data" line
    question: str
    rationale: str  # what the model wrote after "A: Let's think step by step." (stage 1)
    answer_completion: str  # what it wrote after the stage-2 trigger
    pred_before: str
    pred_after: str
    pred_list: tuple[str, ...]
    pred_mode: str
    gold: str  # the log's GT

    @property
    def log_correct(self) -> bool:
        """The log's own verdict: ``pred_mode == GT`` as strings."""
        return self.pred_mode == self.gold


@dataclass(frozen=True)
class RecordedLog:
    """A parsed log: its entries in log order and the accuracy it recorded (percent)."""

    path: Path
    dataset: str | None  # Kojima's dataset name from the header
    answer_trigger: str  # e.g. "Therefore, the answer (arabic numerals) is"
    entries: tuple[LogEntry, ...]
    accuracy: float

    @property
    def n(self) -> int:
        return len(self.entries)

    @property
    def log_correct(self) -> int:
        return sum(entry.log_correct for entry in self.entries)


class LogFormatError(ValueError):
    """A recorded log does not have the expected format; the message names file and line."""


def _split_trigger(path: Path, line: int, after_cot: str, trigger: str | None, pred_before: str):
    """Split ``{rationale} \\n{trigger}{completion}`` at the stage-2 trigger.

    The rationale or the completion may itself contain the trigger text, so the occurrence whose
    remainder is exactly ``pred_before`` wins (newer logs print the raw completion there); older
    logs print a cleaned text, and have the trigger once.
    """
    if trigger:
        needle = "\n" + trigger
        starts = [m.start() for m in re.finditer(re.escape(needle), after_cot)]
        spans = [(s, s + len(needle)) for s in starts]
    else:
        spans = [m.span() for m in _ANY_TRIGGER.finditer(after_cot)]
    if not spans:
        raise LogFormatError(
            f"{path}:{line}: no stage-2 answer trigger "
            f"({trigger!r} or 'Therefore, ... the answer ... is') after the rationale"
        )
    chosen = next((span for span in spans if after_cot[span[1]:] == pred_before), None)
    if chosen is None:
        chosen = next((span for span in spans if after_cot[span[1]:].strip() == pred_before.strip()), spans[-1])
    start, end = chosen
    rationale = after_cot[:start]
    if rationale.endswith(" "):
        # REPRODUCTION NOTE: Kojima's code joined rationale + " " + trigger; fcot drops exactly that one
        # space, so the rationale is the text the model wrote (a model-written trailing space is lost).
        rationale = rationale[:-1]
    return rationale, after_cot[end:], after_cot[start + 1 : end]


def _check_new_block(path: Path, line: int, position: int, seen: dict[int, int]) -> None:
    """A block numbered like an earlier one (a log, or part of one, written twice) raises naming both lines."""
    if position in seen:
        raise LogFormatError(f"{path}:{line}: block {position} is already at line {seen[position]}: were two logs "
                             "(or parts of one) concatenated? Each question is scored once")
    seen[position] = line


def _expect(path: Path, lines: Sequence[str], index: int, prefix: str) -> str:
    """The rest of line ``index`` after ``prefix``; a line without it raises naming file and line."""
    if index >= len(lines) or not lines[index].startswith(prefix):
        got = lines[index][:60] if index < len(lines) else "end of file"
        raise LogFormatError(f"{path}:{index + 1}: expected a line starting with {prefix!r}, got {got!r}")
    return lines[index][len(prefix):]


def _log_header(lines: Sequence[str]) -> tuple[str | None, str | None]:
    """The dataset and the trigger a log's ``Namespace(...)`` line (among its first five) names."""
    dataset = trigger = None
    for text in lines[:5]:
        if text.startswith("Namespace("):
            found = _NAMESPACE_DATASET.search(text)
            dataset = found.group(1) if found else None
            found = _NAMESPACE_TRIGGER.search(text)
            if found:
                trigger = ast.literal_eval("'" + found.group(1) + "'").lstrip("\n")
    return dataset, trigger


def _read_block(path: Path, lines: Sequence[str], i: int, number: int, trigger: str | None
                ) -> tuple[LogEntry, int, str]:
    """The question block whose ``Nst data`` line is ``lines[i]``: its entry, the index after it, and the trigger it
    used."""
    total, block_line = len(lines), i + 1
    i += 1
    if i < total and _SAMPLING.match(lines[i]):
        i += 1
    _expect(path, lines, i, "Q: ")
    body_start = i
    while i < total and not lines[i].startswith("pred_before :"):
        if lines[i] == _SEPARATOR or _ACCURACY.match(lines[i]):
            raise LogFormatError(f"{path}:{i + 1}: block {number} has no 'pred_before :' line")
        i += 1
    if i >= total:
        raise LogFormatError(f"{path}:{block_line}: block {number} has no 'pred_before :' line")
    body = "\n".join(lines[body_start:i])
    before_lines = [lines[i][len("pred_before :"):].removeprefix(" ")]
    i += 1
    while i < total and not lines[i].startswith("pred_after :"):
        if lines[i] == _SEPARATOR:
            raise LogFormatError(f"{path}:{i + 1}: block {number} has no 'pred_after :' line")
        before_lines.append(lines[i])
        i += 1
    pred_before = "\n".join(before_lines)
    pred_after = _expect(path, lines, i, "pred_after :").removeprefix(" ")
    raw_list = _expect(path, lines, i + 1, "pred_list : ")
    try:
        pred_list = ast.literal_eval(raw_list)
        if not isinstance(pred_list, list):
            raise ValueError
    except (ValueError, SyntaxError):
        raise LogFormatError(f"{path}:{i + 2}: pred_list is not a Python list literal: {raw_list[:60]!r}") from None
    pred_mode = _expect(path, lines, i + 2, "pred_mode :").removeprefix(" ")
    gold = _expect(path, lines, i + 3, "GT :").removeprefix(" ")
    if i + 4 >= total or lines[i + 4] != _SEPARATOR:
        raise LogFormatError(f"{path}:{i + 5}: expected the block separator {_SEPARATOR!r} after GT")
    cot_marker = "\nA: " + COT_TRIGGER
    q_end = body.find(cot_marker)
    if q_end == -1:
        raise LogFormatError(f"{path}:{body_start + 1}: no 'A: {COT_TRIGGER}' line after the question")
    rationale, completion, used_trigger = _split_trigger(path, block_line, body[q_end + len(cot_marker):], trigger,
                                                         pred_before)
    entry = LogEntry(position=number, line=block_line, question=body[len("Q: "):q_end], rationale=rationale,
                     answer_completion=completion, pred_before=pred_before, pred_after=pred_after,
                     pred_list=tuple(str(p) for p in pred_list), pred_mode=pred_mode, gold=gold)
    return entry, i + 5, used_trigger


def read_log(path: str | os.PathLike) -> RecordedLog:
    """Parse a recorded Kojima Zero-shot-CoT log; a malformed one raises naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected a Kojima *_zero_shot_cot.log)")
    with open(path, encoding="utf-8-sig") as handle:  # -sig: a byte-order mark (some editors write one) is dropped
        lines = handle.read().split("\n")
    dataset, trigger = _log_header(lines)
    entries: list[LogEntry] = []
    block_lines: dict[int, int] = {}  # block number -> its line
    accuracy: float | None = None
    accuracy_line = 0
    i, total = 0, len(lines)
    while i < total:
        text = lines[i]
        start = _BLOCK_START.match(text)
        if start and i > 0 and lines[i - 1] == _SEPARATOR:
            entry, i, used_trigger = _read_block(path, lines, i, int(start.group(1)), trigger)
            trigger = trigger if trigger is not None else used_trigger
            _check_new_block(path, entry.line, entry.position, block_lines)
            entries.append(entry)
            continue
        found = _ACCURACY.match(text)
        if found:
            if accuracy is not None:
                raise LogFormatError(f"{path}:{i + 1}: a second 'accuracy :' line (the first is at line "
                                     f"{accuracy_line}): were two logs concatenated? One log per file")
            accuracy, accuracy_line = float(found.group(1)), i + 1
        elif entries and text.strip() and text != _SEPARATOR and accuracy is None:
            raise LogFormatError(f"{path}:{i + 1}: unexpected line between blocks: {text[:60]!r}")
        i += 1
    if not entries:
        raise LogFormatError(f"{path}: no question blocks ('{_SEPARATOR}' then 'Nst data'); is it a Kojima log?")
    if accuracy is None:
        raise LogFormatError(f"{path}:{total}: the log does not end with an 'accuracy : N' line (truncated?)")
    return RecordedLog(path, dataset, trigger or "", tuple(entries), accuracy)


# -- matching to fcot examples ----------------------------------------------------------------


def normalize_question(text: str) -> str:
    """Whitespace collapsed, case folded: how replay and cost estimates look up fcot's own questions."""
    return _WHITESPACE.sub(" ", text).strip().casefold()


def _split_choices(question: str) -> tuple[str, tuple[str, ...] | None]:
    """A Kojima multiple-choice question's stem and option texts (``stem Answer Choices: (A) x (B) y``)."""
    stem, marker, tail = question.rpartition("Answer Choices:")
    if not marker:
        stem, marker, tail = question.rpartition("Answer choices:")
    if not marker:
        return question, None
    parts = _CHOICE_LABEL.split(tail)  # ["", "A", " x ", "B", " y", ...]
    if len(parts) < 3 or parts[0].strip():
        return question, None
    return stem, tuple(text.strip() for text in parts[2::2])


_CHOICE_PROMPT = "whichchoiceistrue?"  # the official BIG-bench stem ends so; Kojima's Date log omits it


def _choice_text(text: str) -> str:
    """An option's text for matching: no whitespace, case folded, trailing separators dropped."""
    return _WHITESPACE.sub("", text).casefold().rstrip(".,")


def question_key(question: str, choices: tuple[str, ...] | None = None) -> tuple[str, tuple[str, ...] | None]:
    """What a log entry and an example must share to match: the question stem and the set of options.

    Both are compared with every whitespace removed and case folded; the options as a sorted tuple of
    their texts (trailing periods and commas dropped), so their order and letters do not matter, and
    the stem without BIG-bench's closing "Which choice is true?". Kojima's and fcot's formats differ
    ("Answer Choices: (A) x (B) y" vs "Answer choices: (A) x, (B) y."; AQuA's padded parentheses;
    Date's shuffled options; tracking's "Sam." vs "Sam").
    """
    stem, parsed = _split_choices(question)
    texts = choices if choices is not None else parsed
    if texts is None:
        return _WHITESPACE.sub("", question).casefold(), None
    stem_key = _WHITESPACE.sub("", stem).casefold().removesuffix(_CHOICE_PROMPT)
    return stem_key, tuple(sorted(_choice_text(t) for t in texts))


_LETTER = re.compile(r"(?<![A-Za-z])([A-Z])(?![A-Za-z])")


def letter_map(entry: LogEntry, example: Example) -> dict[str, str]:
    """The log's option letters mapped to ``example``'s, through the option texts ({} if not multiple choice)."""
    if example.choices is None:
        return {}
    _, log_texts = _split_choices(entry.question)
    if log_texts is None:
        return {}
    free: dict[str, list[int]] = {}  # an option text may repeat (CommonsenseQA, AQuA): its places, in order
    for i, text in enumerate(example.choices):
        free.setdefault(_choice_text(text), []).append(i)
    mapping = {}
    for i, text in enumerate(log_texts):
        places = free.get(_choice_text(text))
        if places:
            mapping[chr(ord("A") + i)] = chr(ord("A") + places.pop(0))
    return mapping


def in_example_order(entry: LogEntry, example: Example) -> LogEntry:
    """``entry`` with every option letter rewritten into ``example``'s option order.

    REPRODUCTION NOTE: Kojima's Date log lists the options in Kojima's own shuffled order, not the
    official Fine-tune-CoT order. fcot rewrites the letters of a matched entry through the option
    texts -- each standalone letter of the stage-2 completion and of its predictions and GT, each
    "(X)" in the rationale -- so the replayed teacher answers the question fcot asks. Where the
    orders agree (every other log) nothing changes.
    """
    mapping = letter_map(entry, example)
    if all(k == v for k, v in mapping.items()):
        return entry

    def letters(text: str, pattern: re.Pattern = _LETTER) -> str:
        return pattern.sub(lambda m: m.group(0).replace(m.group(1), mapping.get(m.group(1), m.group(1))), text)

    return replace(
        entry,
        rationale=letters(entry.rationale, _CHOICE_LABEL),
        answer_completion=letters(entry.answer_completion),
        pred_before=letters(entry.pred_before),
        pred_after=letters(entry.pred_after),
        pred_list=tuple(mapping.get(p, p) for p in entry.pred_list),
        pred_mode=mapping.get(entry.pred_mode, entry.pred_mode),
        gold=mapping.get(entry.gold, entry.gold),
    )


def _same_gold(entry: LogEntry, example: Example) -> bool:
    try:
        return is_correct(entry.gold, example)
    except ValueError:
        return False


@dataclass(frozen=True)
class Match:
    """Log entries paired with examples: entries rewritten into their example's option order."""

    pairs: tuple[tuple[LogEntry, Example], ...]  # log order
    unmatched: tuple[LogEntry, ...]  # entries whose question matches no example
    ambiguous: tuple[LogEntry, ...]  # entries whose question matches several examples (paired all the same)
    missing: tuple[str, ...]  # ids of examples no entry matched


def match_entries(entries: tuple[LogEntry, ...] | list[LogEntry], examples: list[Example]) -> Match:
    """Pair log entries with examples by :func:`question_key`.

    An entry whose key is shared by several examples (MultiArith has 20 pairs of identical questions,
    StrategyQA one, each pair with one gold answer) is *ambiguous*: such entries pair with those
    examples in order, preferring one whose gold equals the log's GT, and are counted, so a report
    can say so. An entry that matches nothing is *unmatched*: it is never scored against another
    example's gold.
    """
    by_key: dict[tuple, list[Example]] = {}
    for example in examples:
        by_key.setdefault(question_key(example.question, example.choices), []).append(example)
    used: set[int] = set()
    pairs: list[tuple[LogEntry, Example]] = []
    unmatched: list[LogEntry] = []
    ambiguous: list[LogEntry] = []
    for entry in entries:
        pool = by_key.get(question_key(entry.question), [])
        free = [e for e in pool if id(e) not in used]
        if not free:
            unmatched.append(entry)
            continue
        if len(pool) > 1:
            ambiguous.append(entry)
        candidates = [in_example_order(entry, e) for e in free]
        index = next((i for i, c in enumerate(candidates) if _same_gold(c, free[i])), 0)
        used.add(id(free[index]))
        pairs.append((candidates[index], free[index]))
    missing = tuple(e.id for e in examples if id(e) not in used)
    return Match(tuple(pairs), tuple(unmatched), tuple(ambiguous), missing)


@dataclass(frozen=True)
class RecordedRun:
    """A task's log matched to its fcot examples, with fcot's parse of every answer."""

    task: str
    log: RecordedLog
    pairs: tuple[tuple[LogEntry, Example], ...]  # matched entries (log order) and their examples
    completions: tuple[Completion, ...]  # one per matched entry, same order
    unmatched_entries: tuple[LogEntry, ...]
    unmatched_example_ids: tuple[str, ...]  # examples no entry matched (e.g. train questions of test-only logs)
    covers: str = "all"
    ambiguous_entries: tuple[LogEntry, ...] = ()  # matched, but their question is shared by several examples

    @property
    def log_accuracy(self) -> float:
        return self.log.accuracy


def to_completion(entry: LogEntry, example: Example) -> Completion:
    """The fcot record of one log entry: fcot's parse of the recorded stage-2 completion."""
    prediction = parse_teacher(entry.answer_completion, example)
    return Completion(
        task=example.task,
        example_id=example.id,
        sample_index=0,
        question=example.question,
        rationale=entry.rationale,
        answer_completion=entry.answer_completion,
        prediction=prediction,
        gold=normalize_gold(example),
        correct=is_correct(prediction, example),
        finish_reason=None,  # the logs do not say whether a completion was truncated
        source=SOURCE,
    )


def _load_examples(task: str, mirror) -> list[Example]:
    """The examples a task's log can match: all of them, or the test side for test-only logs."""
    from fcot.tasks import load_examples

    spec = RECORDED_LOGS.get(task)
    part = "test" if spec is not None and spec.covers == "test" else "all"
    return load_examples(task, mirror=mirror, part=part)


def match_log(task: str, log: RecordedLog, examples: list[Example], covers: str = "all") -> RecordedRun:
    """Match a parsed log to ``examples`` and build the completions."""
    match = match_entries(log.entries, examples)
    return RecordedRun(
        task=task,
        log=log,
        pairs=match.pairs,
        completions=tuple(to_completion(entry, example) for entry, example in match.pairs),
        unmatched_entries=match.unmatched,
        unmatched_example_ids=match.missing,
        covers=covers,
        ambiguous_entries=match.ambiguous,
    )


def load_recorded(
    task: str, mirror: str | os.PathLike | None = None, examples: list[Example] | None = None
) -> RecordedRun:
    """Fetch ``task``'s recorded log, match it to the task's examples, parse with fcot's rules.

    ``examples`` defaults to ``fcot.tasks.load_examples(task, mirror=mirror)``.
    """
    spec = log_spec(task)
    log = read_log(fetch_log(task, mirror=mirror))
    if examples is None:
        examples = _load_examples(task, mirror)
    return match_log(task, log, examples, covers=spec.covers)


# -- scoring ----------------------------------------------------------------------------------

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
    from fcot.tasks import load_split_indices

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
    from fcot.tasks import get_task

    get_task(task)  # an unknown task raises naming the accepted ones
    keep = split_example_ids(task, split, mirror)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected a Kojima log or an fcot completions JSONL)")
    log = read_log(path) if is_log_file(path) else None
    if log is not None:
        check_log_task(log, task)
    if examples is None:
        examples = _load_examples(task, mirror)
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


@dataclass(frozen=True)
class Difference:
    """One log entry where fcot's verdict or fcot's parsed answer differs from the log's."""

    entry: LogEntry
    cause: str  # a key of CAUSES
    detail: str  # a one-line illustration
    fcot_correct: bool
    verdict_differs: bool  # False: same verdict, different parsed answer


CAUSES = {
    "gold": "fcot's gold answer differs from the log's GT",
    "string_compare": "same answer, but the log compares strings and fcot compares numbers (within 1e-6)",
    "precleaned": "the log's cleaner read `pred_before`, a copy of the completion with colons removed and "
    "whitespace stripped; fcot parses the raw completion",
    "candidate": "the two rule sets pick different candidates from the same text",
}


def _same_answer(prediction: str | None, log_prediction: str, example: Example) -> bool:
    if prediction is None or log_prediction == "":
        return prediction is None and log_prediction == ""
    try:
        return is_correct(prediction, replace(example, answer=log_prediction))
    except ValueError:
        return False


def _classify(entry: LogEntry, example: Example) -> Difference | None:
    prediction = parse_teacher(entry.answer_completion, example)
    correct = is_correct(prediction, example)
    verdict_differs = correct != entry.log_correct
    same_answer = _same_answer(prediction, entry.pred_mode, example)
    if not verdict_differs and same_answer:
        return None

    def found(cause: str, detail: str) -> Difference:
        return Difference(entry, cause, detail, correct, verdict_differs)

    if not _same_gold(entry, example):
        return found("gold", f"fcot gold {normalize_gold(example)!r} vs log GT {entry.gold!r}")
    if same_answer:
        return found("string_compare", f"log pred {entry.pred_mode!r} vs GT {entry.gold!r} (fcot: {prediction!r})")
    parsed = f"fcot reads {prediction!r} (gold {normalize_gold(example)!r})"
    if entry.pred_before.strip() != entry.answer_completion.strip():
        detail = (
            f"completion {entry.answer_completion.strip()[:40]!r}, pred_before {entry.pred_before.strip()[:40]!r}: "
            f"log reads {entry.pred_mode!r}, {parsed}"
        )
        return found("precleaned", detail)
    return found("candidate", f"completion {entry.answer_completion.strip()[:40]!r}: log reads {entry.pred_mode!r}, {parsed}")


def differences(run: RecordedRun) -> list[Difference]:
    """Every matched entry of ``run`` whose fcot verdict or parsed answer differs from the log's, with its cause.

    Unmatched entries are not scored by fcot; they are listed in ``run.unmatched_entries``.
    """
    found = [_classify(entry, example) for entry, example in run.pairs]
    return sorted((d for d in found if d is not None), key=lambda d: d.entry.position)


def disagreements(run: RecordedRun) -> list[Difference]:
    """The entries where the log's verdict (correct or not) and fcot's differ."""
    return [d for d in differences(run) if d.verdict_differs]


@dataclass(frozen=True)
class LogReport:
    task: str
    log_name: str
    n: int
    recorded_accuracy: float
    log_accuracy: float  # pred_mode == GT recomputed from the entries
    log_correct: int
    fcot: Score  # every matched entry
    fcot_test: Score  # the entries on the test side of the official default split
    unmatched: tuple[LogEntry, ...]
    reordered: int  # matched entries whose option letters were rewritten into the example's order
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def disagreements(self) -> tuple[Difference, ...]:
        return tuple(d for d in self.differences if d.verdict_differs)


def report_task(task: str, mirror=None, examples: list[Example] | None = None) -> LogReport:
    """The comparison of one task's log with fcot's rules."""
    spec = log_spec(task)
    log = read_log(fetch_log(task, mirror=mirror))
    if examples is None:
        examples = _load_examples(task, mirror)
    score, run = score_log(task, log, examples)
    test, _ = score_log(task, log, examples, split_example_ids(task, "test", mirror), "test")
    reordered = sum(any(k != v for k, v in letter_map(entry, example).items()) for entry, example in run.pairs)
    return LogReport(
        task=task,
        log_name=spec.log_name,
        n=log.n,
        recorded_accuracy=log.accuracy,
        log_accuracy=100.0 * log.log_correct / log.n,
        log_correct=log.log_correct,
        fcot=score,
        fcot_test=test,
        unmatched=run.unmatched_entries,
        reordered=reordered,
        differences=tuple(differences(run)),
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "\\n").replace("`", "'")


def report_markdown(reports: list[LogReport]) -> str:
    """The README block: one table row per log, then every cause of a difference with an example."""
    reproduced = all(abs(r.log_accuracy - r.recorded_accuracy) < 1e-9 for r in reports)
    lines = [
        f"Kojima et al.'s recorded text-davinci-002 Zero-shot-CoT logs (`{LOG_REPO}@{LOG_COMMIT[:7]}`, "
        "`log/*_zero_shot_cot.log`, greedy, one completion per question), re-scored with fcot's answer rules "
        "(`fcot.answers`). Generated by `python -m fcot report-recorded --write README.md`.",
        "",
        "The log's verdict is `pred_mode == GT` compared as strings"
        + (" (recomputing it from the entries reproduces every recorded accuracy exactly); " if reproduced
           else " (NOTE: recomputing it does NOT reproduce every recorded accuracy); ")
        + "fcot matches each entry to its example by question stem and the set of option texts, rewrites option "
        "letters into the official option order, parses the raw stage-2 completion (first candidate) and compares "
        "it with the example's gold answer. *Test split*: the entries on the test side of the official default "
        "split (the teacher row of the main table). *Duplicates*: entries whose question is shared by several "
        "examples with the same gold answer, paired in order.",
        "",
        "| task | log | n | accuracy in log (%) | fcot accuracy (%) | correct: log → fcot | fcot on test split (%) "
        "| verdicts differ | answers differ, same verdict | options reordered | duplicates | unmatched |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in reports:
        same_verdict = len(r.differences) - len(r.disagreements)
        lines.append(
            f"| {r.task} | {r.log_name} | {r.n} | {r.recorded_accuracy:.2f} | {r.fcot.accuracy:.2f} | "
            f"{r.log_correct} → {r.fcot.correct} | {r.fcot_test.accuracy:.2f} ({r.fcot_test.n}) | "
            f"{len(r.disagreements)} | {same_verdict} | {r.reordered} | {r.fcot.ambiguous} | {len(r.unmatched)} |"
        )
    lines += ["", "Every difference, by cause (computed by `fcot.recorded.differences`):", ""]
    listed = False
    for r in reports:
        groups: dict[tuple[str, bool], list[Difference]] = {}
        for d in r.differences:
            groups.setdefault((d.cause, d.verdict_differs), []).append(d)
        for (cause, verdict_differs), items in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            first = items[0]
            if verdict_differs:
                right = sum(d.fcot_correct for d in items)
                effect = f"verdict differs: fcot right in {right}, the log right in {len(items) - right}"
            else:
                effect = "same verdict (both " + ("right" if first.fcot_correct else "wrong") + ")"
            lines.append(
                f"- **{r.task}** — {len(items)} × {CAUSES[cause]}; {effect}. "
                f"E.g. entry {first.entry.position} (log line {first.entry.line}): {_md(first.detail)}. "
                f"Entries: {_positions(items)}."
            )
            listed = True
        if r.unmatched:
            lines.append(
                f"- **{r.task}** — {len(r.unmatched)} × the question matches no fcot example; fcot does not score it. "
                f"Entries: {_positions(r.unmatched)}."
            )
            listed = True
    if not listed:
        lines.append("- none")
    return "\n".join(lines)


def _positions(items) -> str:
    positions = [getattr(item, "entry", item).position for item in items]
    return ", ".join(map(str, positions[:30])) + (", ..." if len(positions) > 30 else "")


def report_recorded(mirror=None, tasks: tuple[str, ...] = MIRRORED_TASKS) -> str:
    """The Markdown block comparing the mirrored logs with fcot's rules."""
    return report_markdown([report_task(task, mirror=mirror) for task in tasks])


BEGIN_MARKER = "<!-- BEGIN recorded-logs -->"
END_MARKER = "<!-- END recorded-logs -->"


def write_report_block(readme: str | os.PathLike, block: str) -> None:
    """Replace the text between the recorded-logs markers of ``readme`` with ``block``."""
    write_between_markers(readme, BEGIN_MARKER, END_MARKER, block)
