"""The records that flow between the stages, and their one JSONL reader/writer.

Glossary (used everywhere in fcot):

* **example** -- a question with its gold answer (:class:`Example`);
* **completion** -- the raw text a teacher wrote for one example, with its parsed answer
  (:class:`Completion`); its reasoning part is the **rationale**;
* **sample** -- one fine-tuning record (prompt/completion strings) built by ``fcot.curate``;
* **degree** -- how many rationales are sampled per question (the paper's *D*).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import types
import typing
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal, TypeVar, get_args

AnswerType = Literal["number", "choice", "yes_no", "text"]
ANSWER_TYPES: tuple[str, ...] = get_args(AnswerType)


class RecordError(ValueError):
    """A record file or field is malformed; the message names the file, line and field."""


@dataclass(frozen=True)
class Example:
    """A question and its gold answer, in one schema for every task.

    ``question`` is the text exactly as the teacher and student see it (multiple-choice
    questions already carry their ``Answer choices: (A) ...`` suffix, as the official code
    formats them). ``answer`` is the gold answer as a string: a number without commas for
    ``number``, one letter for ``choice``, ``"yes"``/``"no"`` for ``yes_no``, the exact string
    for ``text``. ``choices`` holds the option texts of multiple-choice questions.
    """

    task: str
    id: str
    question: str
    answer: str
    answer_type: AnswerType
    choices: tuple[str, ...] | None = None
    index: int | None = None  # position in the task's official dataset order (what split files list)

    def __post_init__(self) -> None:
        if self.answer_type not in ANSWER_TYPES:
            raise RecordError(
                f"Example {self.id!r}: answer_type {self.answer_type!r} is not one of {ANSWER_TYPES}"
            )
        if self.choices is not None and not isinstance(self.choices, tuple):
            object.__setattr__(self, "choices", tuple(self.choices))


@dataclass(frozen=True)
class Completion:
    """One teacher answer to one example: the rationale, the stage-2 answer text, the parse.

    ``sample_index`` numbers the rationales of one example (0 .. degree-1).
    ``finish_reason`` is ``"stop"``, ``"length"`` (truncated) or None where unknown (recorded logs).
    ``source`` says who wrote it, e.g. ``"replay:text-davinci-002"``, ``"simulated"``,
    ``"openai:<model>"``, ``"hf:<model>"``. Token counts are None where unknown.
    """

    task: str
    example_id: str
    sample_index: int
    question: str
    rationale: str
    answer_completion: str
    prediction: str | None
    gold: str
    correct: bool
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    source: str = ""


R = TypeVar("R")


def is_int(value: Any) -> bool:
    """An int that is not a bool (config validation)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """An int or float that is not a bool (config validation)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def to_dict(record: Any) -> dict:
    return dataclasses.asdict(record)


def from_dict(cls: type[R], data: dict, where: str = "") -> R:
    """Build a dataclass from a dict, naming the missing or unknown field on error."""
    if not isinstance(data, dict):
        raise RecordError(f"{where}: expected a JSON object for {cls.__name__}, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise RecordError(f"{where}: unknown field(s) {unknown} for {cls.__name__}; accepted: {sorted(fields)}")
    missing = [
        name
        for name, f in fields.items()
        if name not in data
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING  # type: ignore[misc]
    ]
    if missing:
        raise RecordError(f"{where}: missing field(s) {missing} for {cls.__name__}")
    for name, value in data.items():
        hint = _hints(cls).get(name)
        if hint is not None and not _fits(value, hint):
            raise RecordError(f"{where}: field {name!r} of {cls.__name__} must be {_type_name(hint)}, got {value!r}")
    try:
        return cls(**data)
    except (TypeError, RecordError) as error:
        raise RecordError(f"{where}: {error}") from error


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a field's annotation (str, int, float, bool, dict, list/tuple, unions, Literal)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arm) for arm in typing.get_args(hint))
    if origin is Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is Any:
        return True
    base = origin or hint
    if base is bool:
        return isinstance(value, bool)
    if base is int:
        return is_int(value)
    if base is float:
        return is_number(value)
    if base in (list, tuple):
        return isinstance(value, (list, tuple))
    if base in (str, dict):
        return isinstance(value, base)
    return True  # a type JSON cannot hold as such: the constructor decides


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(arm) for arm in typing.get_args(hint))
    if origin is Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(hint)))
    if hint is type(None):
        return "null"
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string", dict: "an object",
            list: "a list", tuple: "a list"}.get(origin or hint, getattr(hint, "__name__", str(hint)))


def read_jsonl(path: str | os.PathLike) -> Iterator[dict]:
    """Yield the JSON objects of a JSONL file; a bad line raises naming ``file:line``. A torn last line (a
    writer killed mid-line) is skipped with a warning saying how many rows were read before it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with open(path, "rb") as handle:
        rows = 0
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise RecordError(f"{path}:{number}: not UTF-8 text ({error.reason} at byte {error.start})") from None
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                if not line.endswith("\n"):
                    warnings.warn(f"{path}:{number}: the last line is cut (a writer stopped mid-line); skipped it, "
                                  f"{rows} row(s) before it read", stacklevel=2)
                    break
                raise RecordError(f"{path}:{number}: malformed JSON ({error.msg} at column {error.colno})") from None
            rows += 1
            yield value


def read_records(cls: type[R], path: str | os.PathLike) -> list[R]:
    """Read a JSONL file of ``cls`` records (e.g. ``read_records(Completion, p)``)."""
    return [from_dict(cls, row, where=f"{path}:{i}") for i, row in enumerate(read_jsonl(path), start=1)]


def append_jsonl(path: str | os.PathLike, rows: Iterable[Any], durable: bool = True) -> int:
    """Append rows (dicts or dataclasses) to a JSONL file; flush and fsync so they survive a kill."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "a", encoding="utf-8") as handle:
        for row in rows:
            data = to_dict(row) if dataclasses.is_dataclass(row) else row
            handle.write(json.dumps(data, ensure_ascii=False) + "\n")
            count += 1
        handle.flush()
        if durable:
            os.fsync(handle.fileno())
    return count


def write_jsonl(path: str | os.PathLike, rows: Iterable[Any]) -> int:
    """Write rows to a JSONL file atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # one per process: concurrent writers never share it
    if tmp.exists():
        tmp.unlink()
    count = append_jsonl(tmp, rows)
    os.replace(tmp, path)
    return count
