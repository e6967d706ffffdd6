"""Reading one Kojima Zero-shot-CoT log file into a :class:`RecordedLog`; a malformed one raises naming the line.

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
parses one file into a :class:`RecordedLog`.

The log's own verdict is ``pred_mode == GT`` compared as strings (that reproduces every recorded
accuracy exactly).
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from fcot.prompts import COT_TRIGGER

_SEPARATOR = "*" * 25
_BLOCK_START = re.compile(r"^(\d+)(?:st|nd|rd|th) data$")
_SAMPLING = re.compile(r"^\d+_th_sampling$")
_ACCURACY = re.compile(r"^accuracy : (-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)$")
_NAMESPACE_DATASET = re.compile(r"\bdataset='([^']*)'")
_NAMESPACE_TRIGGER = re.compile(r"\bdirect_answer_trigger='((?:[^'\\]|\\.)*)'")
# Any of Kojima's stage-2 triggers (used when a log's header does not name its trigger).
_ANY_TRIGGER = re.compile(r"\nTherefore, (?:among A through [A-Z], )?the answer(?: \([^)\n]*\))? ?is")
_FIELDS = ("pred_before", "pred_after", "pred_list", "pred_mode", "GT")


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
