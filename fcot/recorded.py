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
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from fcot.answers import is_correct, normalize_gold, parse_teacher
from fcot.paths import UpstreamFile, fetch, write_between_markers
from fcot.prompts import COT_TRIGGER
from fcot.records import Completion, Example, read_records

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


# REPRODUCTION NOTE: the six logs in the fcot data mirror are pinned by sha256; the other six logs
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
        RecordedLogSpec("date_understanding", "date_understanding", None, "all"),
        RecordedLogSpec("tracking_shuffled_objects", "shuffled_objects", None, "all"),
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


def read_log(path: str | os.PathLike) -> RecordedLog:
    """Parse a recorded Kojima Zero-shot-CoT log; a malformed one raises naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected a Kojima *_zero_shot_cot.log)")
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    dataset = trigger = None
    for text in lines[:5]:
        if text.startswith("Namespace("):
            found = _NAMESPACE_DATASET.search(text)
            dataset = found.group(1) if found else None
            found = _NAMESPACE_TRIGGER.search(text)
            if found:
                trigger = ast.literal_eval("'" + found.group(1) + "'").lstrip("\n")
    entries: list[LogEntry] = []
    accuracy: float | None = None
    i = 0
    total = len(lines)

    def expect(index: int, prefix: str) -> str:
        if index >= total or not lines[index].startswith(prefix):
            got = lines[index][:60] if index < total else "end of file"
            raise LogFormatError(f"{path}:{index + 1}: expected a line starting with {prefix!r}, got {got!r}")
        return lines[index][len(prefix):]

    while i < total:
        text = lines[i]
        start = _BLOCK_START.match(text)
        if start and i > 0 and lines[i - 1] == _SEPARATOR:
            block_line = i + 1
            i += 1
            if i < total and _SAMPLING.match(lines[i]):
                i += 1
            expect(i, "Q: ")
            body_start = i
            while i < total and not lines[i].startswith("pred_before :"):
                if lines[i] == _SEPARATOR or _ACCURACY.match(lines[i]):
                    raise LogFormatError(f"{path}:{i + 1}: block {start.group(1)} has no 'pred_before :' line")
                i += 1
            if i >= total:
                raise LogFormatError(f"{path}:{block_line}: block {start.group(1)} has no 'pred_before :' line")
            body = "\n".join(lines[body_start:i])
            before_lines = [lines[i][len("pred_before :"):].removeprefix(" ")]
            i += 1
            while i < total and not lines[i].startswith("pred_after :"):
                if lines[i] == _SEPARATOR:
                    raise LogFormatError(f"{path}:{i + 1}: block {start.group(1)} has no 'pred_after :' line")
                before_lines.append(lines[i])
                i += 1
            pred_before = "\n".join(before_lines)
            pred_after = expect(i, "pred_after :").removeprefix(" ")
            raw_list = expect(i + 1, "pred_list : ")
            try:
                pred_list = ast.literal_eval(raw_list)
                if not isinstance(pred_list, list):
                    raise ValueError
            except (ValueError, SyntaxError):
                raise LogFormatError(
                    f"{path}:{i + 2}: pred_list is not a Python list literal: {raw_list[:60]!r}"
                ) from None
            pred_mode = expect(i + 2, "pred_mode :").removeprefix(" ")
            gold = expect(i + 3, "GT :").removeprefix(" ")
            if i + 4 >= total or lines[i + 4] != _SEPARATOR:
                raise LogFormatError(f"{path}:{i + 5}: expected the block separator {_SEPARATOR!r} after GT")
            cot_marker = "\nA: " + COT_TRIGGER
            q_end = body.find(cot_marker)
            if q_end == -1:
                raise LogFormatError(
                    f"{path}:{body_start + 1}: no 'A: {COT_TRIGGER}' line after the question"
                )
            rationale, completion, used_trigger = _split_trigger(
                path, block_line, body[q_end + len(cot_marker):], trigger, pred_before
            )
            if trigger is None:
                trigger = used_trigger
            entries.append(
                LogEntry(
                    position=int(start.group(1)),
                    line=block_line,
                    question=body[len("Q: "):q_end],
                    rationale=rationale,
                    answer_completion=completion,
                    pred_before=pred_before,
                    pred_after=pred_after,
                    pred_list=tuple(str(p) for p in pred_list),
                    pred_mode=pred_mode,
                    gold=gold,
                )
            )
            i += 5
            continue
        found = _ACCURACY.match(text)
        if found:
            if accuracy is not None:
                raise LogFormatError(f"{path}:{i + 1}: a second 'accuracy :' line")
            accuracy = float(found.group(1))
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
    """Whitespace collapsed, case folded: how log entries, replay and cost estimates match questions."""
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


def _loose_key(question: str, choices: tuple[str, ...] | None = None) -> str:
    """Stem and option texts with every whitespace removed, case folded.

    Kojima's and fcot's multiple-choice formats differ ("Answer Choices: (A) x (B) y" vs "Answer
    choices: (A) x, (B) y."), and Kojima pads every parenthesis of AQuA options with spaces.
    """
    stem, parsed = _split_choices(question)
    texts = choices if choices is not None else parsed
    if texts is None:
        return _WHITESPACE.sub("", question).casefold()
    joined = stem + "\x00" + "\x00".join(texts)
    return _WHITESPACE.sub("", joined).casefold()


def _same_gold(entry: LogEntry, example: Example) -> bool:
    try:
        return is_correct(entry.gold, example)
    except ValueError:
        return False


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

    @property
    def log_accuracy(self) -> float:
        return self.log.accuracy


def match_entries(
    entries: tuple[LogEntry, ...] | list[LogEntry], examples: list[Example]
) -> tuple[list[tuple[LogEntry, Example]], list[LogEntry], list[str]]:
    """Pair log entries with examples by question text; (pairs, unmatched entries, unmatched ids).

    Questions match with whitespace collapsed and case folded, else with all whitespace removed.
    Repeated questions pair in order, preferring an example whose gold answer equals the log's GT.
    """
    exact: dict[str, list[Example]] = {}
    loose: dict[str, list[Example]] = {}
    for example in examples:
        exact.setdefault(normalize_question(example.question), []).append(example)
        loose.setdefault(_loose_key(example.question, example.choices), []).append(example)
    used: set[int] = set()
    pairs: list[tuple[LogEntry, Example]] = []
    unmatched: list[LogEntry] = []
    for entry in entries:
        chosen = None
        for pool in (exact.get(normalize_question(entry.question), []), loose.get(_loose_key(entry.question), [])):
            free = [e for e in pool if id(e) not in used]
            if free:
                chosen = next((e for e in free if _same_gold(entry, e)), free[0])
                break
        if chosen is None:
            unmatched.append(entry)
        else:
            used.add(id(chosen))
            pairs.append((entry, chosen))
    missing = [e.id for e in examples if id(e) not in used]
    return pairs, unmatched, missing


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
    pairs, unmatched, missing = match_entries(log.entries, examples)
    return RecordedRun(
        task=task,
        log=log,
        pairs=tuple(pairs),
        completions=tuple(to_completion(entry, example) for entry, example in pairs),
        unmatched_entries=tuple(unmatched),
        unmatched_example_ids=tuple(missing),
        covers=covers,
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


@dataclass(frozen=True)
class Score:
    """How many completions were scored and how many fcot's rules count correct."""

    n: int
    correct: int
    examples: int = 0  # distinct examples among them
    unmatched: int = 0  # log entries without an fcot example (scored against the log's GT)

    @property
    def accuracy(self) -> float:
        return 100.0 * self.correct / self.n if self.n else 0.0

    def as_dict(self) -> dict:
        return {"n": self.n, "correct": self.correct, "accuracy": self.accuracy}


def _entry_example(task: str, entry: LogEntry, examples: list[Example]) -> Example:
    """An Example built from the log itself, for an entry no fcot example matched."""
    # REPRODUCTION NOTE: rescoring a log counts every entry; one whose question matches no fcot example
    # (none among the six mirrored logs) is scored with fcot's rules against the log's own GT.
    kinds = Counter(e.answer_type for e in examples)
    if not kinds:
        raise ValueError(f"task {task!r} has no examples to take its answer type from")
    kind = kinds.most_common(1)[0][0]
    choices = None
    if kind == "choice":
        labels = _CHOICE_LABEL.findall(entry.question.rpartition("Answer Choices:")[2])
        if labels:
            choices = tuple(labels)
        else:
            n = Counter(len(e.choices or ()) for e in examples).most_common(1)[0][0]
            choices = tuple("?" * n)
    return Example(task, f"log:{entry.position}", entry.question, entry.gold, kind, choices)


def is_log_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` looks like a Kojima log (its first non-blank character is not ``{``)."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                return not line.lstrip().startswith("{")
    return False


def score_log(task: str, log: RecordedLog, examples: list[Example]) -> tuple[Score, RecordedRun]:
    """fcot's score of every log entry (an unmatched one against the log's GT)."""
    run = match_log(task, log, examples)
    correct = sum(c.correct for c in run.completions)
    for entry in run.unmatched_entries:
        example = _entry_example(task, entry, examples)
        correct += is_correct(parse_teacher(entry.answer_completion, example), example)
    score = Score(log.n, correct, examples=log.n, unmatched=len(run.unmatched_entries))
    return score, run


def score_completions(task: str, path: str | os.PathLike, examples: list[Example]) -> Score:
    """Re-parse every ``answer_completion`` of an fcot completions JSONL file with fcot's rules."""
    by_id = {e.id: e for e in examples}
    rows = read_records(Completion, path)
    correct = 0
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
        seen.add(example.id)
        correct += is_correct(parse_teacher(row.answer_completion, example), example)
    return Score(len(rows), correct, examples=len(seen))


def rescore(
    task: str,
    path: str | os.PathLike,
    mirror: str | os.PathLike | None = None,
    examples: list[Example] | None = None,
) -> Score:
    """Score a recorded Kojima log or an fcot completions JSONL file with fcot's rules."""
    from fcot.tasks import get_task

    get_task(task)  # an unknown task raises naming the accepted ones
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected a Kojima log or an fcot completions JSONL)")
    log = read_log(path) if is_log_file(path) else None
    if log is not None:
        check_log_task(log, task)
    if examples is None:
        examples = _load_examples(task, mirror)
    if log is not None:
        return score_log(task, log, examples)[0]
    return score_completions(task, path, examples)


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
    "unmatched": "the question matches no fcot example; fcot scores it against the log's GT",
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


def _classify(task: str, entry: LogEntry, example: Example | None, examples: list[Example]) -> Difference | None:
    matched = example is not None
    if example is None:
        example = _entry_example(task, entry, examples)
    prediction = parse_teacher(entry.answer_completion, example)
    correct = is_correct(prediction, example)
    verdict_differs = correct != entry.log_correct
    same_answer = _same_answer(prediction, entry.pred_mode, example)
    if not verdict_differs and same_answer:
        return None

    def found(cause: str, detail: str) -> Difference:
        return Difference(entry, cause, detail, correct, verdict_differs)

    if not matched:
        return found("unmatched", f"question {entry.question[:60]!r}")
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


def differences(run: RecordedRun, examples: list[Example]) -> list[Difference]:
    """Every entry of ``run`` whose fcot verdict or parsed answer differs from the log's, with its cause."""
    found = [_classify(run.task, entry, example, examples) for entry, example in run.pairs]
    found += [_classify(run.task, entry, None, examples) for entry in run.unmatched_entries]
    return sorted((d for d in found if d is not None), key=lambda d: d.entry.position)


def disagreements(run: RecordedRun, examples: list[Example]) -> list[Difference]:
    """The entries where the log's verdict (correct or not) and fcot's differ."""
    return [d for d in differences(run, examples) if d.verdict_differs]


@dataclass(frozen=True)
class LogReport:
    task: str
    log_name: str
    n: int
    recorded_accuracy: float
    log_accuracy: float  # pred_mode == GT recomputed from the entries
    log_correct: int
    fcot: Score
    unmatched_entries: int
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
    return LogReport(
        task=task,
        log_name=spec.log_name,
        n=log.n,
        recorded_accuracy=log.accuracy,
        log_accuracy=100.0 * log.log_correct / log.n,
        log_correct=log.log_correct,
        fcot=score,
        unmatched_entries=len(run.unmatched_entries),
        differences=tuple(differences(run, examples)),
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
        + "fcot parses the raw stage-2 completion (first candidate) and compares it with the gold answer of the "
        "matching fcot example (questions matched by text).",
        "",
        "| task | log | n | accuracy in log (%) | fcot accuracy (%) | correct: log → fcot | verdicts differ "
        "| answers differ, same verdict | unmatched questions |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in reports:
        same_verdict = len(r.differences) - len(r.disagreements)
        lines.append(
            f"| {r.task} | {r.log_name} | {r.n} | {r.recorded_accuracy:.2f} | {r.fcot.accuracy:.2f} | "
            f"{r.log_correct} → {r.fcot.correct} | {len(r.disagreements)} | {same_verdict} | {r.unmatched_entries} |"
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
            positions = ", ".join(str(d.entry.position) for d in items[:30]) + (", ..." if len(items) > 30 else "")
            lines.append(
                f"- **{r.task}** — {len(items)} × {CAUSES[cause]}; {effect}. "
                f"E.g. entry {first.entry.position} (log line {first.entry.line}): {_md(first.detail)}. "
                f"Entries: {positions}."
            )
            listed = True
    if not listed:
        lines.append("- none")
    return "\n".join(lines)


def report_recorded(mirror=None, tasks: tuple[str, ...] = MIRRORED_TASKS) -> str:
    """The Markdown block comparing the mirrored logs with fcot's rules."""
    return report_markdown([report_task(task, mirror=mirror) for task in tasks])


BEGIN_MARKER = "<!-- BEGIN recorded-logs -->"
END_MARKER = "<!-- END recorded-logs -->"


def write_report_block(readme: str | os.PathLike, block: str) -> None:
    """Replace the text between the recorded-logs markers of ``readme`` with ``block``."""
    write_between_markers(readme, BEGIN_MARKER, END_MARKER, block)
