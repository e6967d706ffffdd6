"""Matching a log's entries to fcot's examples by question, in fcot's option order, as fcot completions."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from fcot.answers import is_correct, normalize_gold, parse_teacher
from fcot.recorded.logs import RECORDED_LOGS, SOURCE, fetch_log, log_spec
from fcot.recorded.reading import LogEntry, RecordedLog, read_log
from fcot.records import Completion, Example
from fcot.tasks import load_examples

_CHOICE_LABEL = re.compile(r"\(([A-Z])\)")
_WHITESPACE = re.compile(r"\s+")


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


def same_gold(entry: LogEntry, example: Example) -> bool:
    """Whether the log's GT of ``entry`` is ``example``'s gold answer (False where it cannot be compared)."""
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
        index = next((i for i, c in enumerate(candidates) if same_gold(c, free[i])), 0)
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


def log_examples(task: str, mirror) -> list[Example]:
    """The examples a task's log can match: all of them, or the test side for test-only logs."""
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
        examples = log_examples(task, mirror)
    return match_log(task, log, examples, covers=spec.covers)


