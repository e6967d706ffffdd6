"""The records that flow between the stages, and their one JSONL reader/writer.

Glossary (used everywhere in fcot):

* **example** -- a question with its gold answer (:class:`Example`);
* **completion** -- the raw text a teacher wrote for one example, with its parsed answer
  (:class:`Completion`); its reasoning part is the **rationale**;
* **sample** -- one fine-tuning record (prompt/completion strings) built by ``fcot.curate``;
* **degree** -- how many rationales are sampled per question (the paper's *D*).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import json
import math
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


class StorageError(OSError):
    """A file could not be written (disk full, read-only folder, a folder where a file belongs); the message names
    the path and what to do. An ``OSError`` with the original ``errno``, so handlers of OSError still catch it."""


_STORAGE_HINTS = {
    errno.ENOSPC: "no space left on the device: free some space and rerun (finished work is kept)",
    errno.EDQUOT: "the disk quota is used up: free some space and rerun (finished work is kept)",
    errno.EROFS: "the file system is read-only: choose a writable folder",
    errno.EACCES: "permission denied: make the folder writable or choose another folder",
    errno.EPERM: "operation not permitted: make the folder writable or choose another folder",
    errno.EISDIR: "it is a folder, where a file is expected: give a file path",
    errno.ENOTDIR: "a part of the path is a file, where a folder is expected",
}


def storage_error(path: str | os.PathLike, error: OSError, doing: str = "writing") -> StorageError:
    """A :class:`StorageError` naming ``path`` for an OS error met while ``doing`` something to it."""
    hint = _STORAGE_HINTS.get(error.errno, error.strerror or str(error))
    problem = StorageError(f"{path}: cannot finish {doing}: {hint} ([Errno {error.errno}])")
    problem.errno = error.errno
    return problem


def is_missing(value: Any) -> bool:
    """None, NaN or pandas' NA."""
    if value is None:
        return True
    if isinstance(value, (str, bytes, list, tuple, dict)):
        return False
    import pandas as pd

    try:
        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return bool(result) if isinstance(result, (bool,)) or type(result).__name__ == "bool" else False


def is_finite_number(value: Any, minimum: float | None = 0.0) -> bool:
    """A number (not a bool, not NaN or +-inf) that is at least ``minimum`` (None: any)."""
    return is_number(value) and math.isfinite(value) and (minimum is None or value >= minimum)


def is_count(value: Any) -> bool:
    """An integer >= 0 (a token or call count), not a bool."""
    return is_int(value) and value >= 0


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
    for _, value in read_numbered(path):
        yield value


def read_numbered(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """(line number, JSON value) of each non-blank line of a JSONL file, as :func:`read_jsonl` reads them (a UTF-8
    byte-order mark on the first line is accepted)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file" + (" (it is a folder)" if path.is_dir() else ""))
    with open(path, "rb") as handle:
        rows = 0
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise RecordError(f"{path}:{number}: not UTF-8 text ({error.reason} at byte {error.start})") from None
            if number == 1:
                line = line.removeprefix("\ufeff")  # a UTF-8 byte-order mark (some editors write one)
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                if not line.endswith("\n"):
                    warnings.warn(f"{path}:{number}: the last line is cut (a writer stopped mid-line); skipped it, "
                                  f"{rows} row(s) before it read", stacklevel=3)
                    break
                raise RecordError(f"{path}:{number}: malformed JSON ({error.msg} at column {error.colno})") from None
            rows += 1
            yield number, value


def read_records(cls: type[R], path: str | os.PathLike) -> list[R]:
    """Read a JSONL file of ``cls`` records (e.g. ``read_records(Completion, p)``)."""
    return [from_dict(cls, row, where=f"{path}:{number}") for number, row in read_numbered(path)]


def read_completions(path: str | os.PathLike) -> list[Completion]:
    """Read a completions JSONL file; a completion written twice (the same task, example_id and sample_index: a file
    concatenated or appended twice) raises naming both lines, so no answer is counted twice."""
    first: dict[tuple, int] = {}
    completions = []
    for number, row in read_numbered(path):
        completion = from_dict(Completion, row, where=f"{path}:{number}")
        key = (completion.task, completion.example_id, completion.sample_index)
        if key in first:
            raise RecordError(
                f"{path}:{number}: the completion of example_id {completion.example_id!r} (task {completion.task}, "
                f"sample_index {completion.sample_index}) is already at line {first[key]}; each is written once "
                "(was the file concatenated or appended twice?). Remove the repeated lines."
            )
        first[key] = number
        completions.append(completion)
    return completions


def cut_torn_tail(path: str | os.PathLike) -> bool:
    """Cut a torn last line (a writer killed mid-line) off a JSONL file, with a warning naming ``file:line``, so
    rows appended later start on a line of their own; a whole last line only missing its newline gets one.
    True when something was cut."""
    path = Path(path)
    with open(path, "rb") as handle:
        data = handle.read()
    if not data or data.endswith(b"\n"):
        return False
    keep = data.rfind(b"\n") + 1
    try:
        json.loads(data[keep:].decode("utf-8"))
        torn = False
    except (UnicodeDecodeError, json.JSONDecodeError):
        torn = True
    try:
        with open(path, "r+b") as handle:
            if torn:
                handle.truncate(keep)
            else:
                handle.seek(0, os.SEEK_END)
                handle.write(b"\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise storage_error(path, error, "repairing its last line") from None
    if torn:
        whole = data.count(b"\n")
        warnings.warn(f"{path}:{whole + 1}: the last line is cut (a writer stopped mid-line); removed its "
                      f"{len(data) - keep} bytes, kept the {whole} line(s) before it", stacklevel=2)
    return torn


def _mkdir_for(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise storage_error(path.parent, error, f"making the folder for {path.name}") from None


def append_jsonl(path: str | os.PathLike, rows: Iterable[Any], durable: bool = True) -> int:
    """Append rows (dicts or dataclasses) to a JSONL file; flush and fsync so they survive a kill. A file that
    cannot be written (disk full, read-only, a folder) raises :class:`StorageError` naming it."""
    path = Path(path)
    _mkdir_for(path)
    lines = [json.dumps(to_dict(row) if dataclasses.is_dataclass(row) else row, ensure_ascii=False) + "\n"
             for row in rows]
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("".join(lines))
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
    except OSError as error:
        raise storage_error(path, error, f"appending {len(lines)} row(s)") from None
    return len(lines)


def write_jsonl(path: str | os.PathLike, rows: Iterable[Any]) -> int:
    """Write rows to a JSONL file atomically (temporary file, then rename)."""
    path = Path(path)
    _mkdir_for(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # one per process: concurrent writers never share it
    try:
        if tmp.exists():
            tmp.unlink()
        count = append_jsonl(tmp, rows)
        os.replace(tmp, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise storage_error(path, error, f"writing it (through {tmp.name}, then a rename)") from None
    return count
