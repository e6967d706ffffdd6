"""Strict readers of raw dataset files: JSON, JSON lines and checked fields, every problem naming file and place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fcot.tasks.registry import TaskDataError


def read_json(path: Path) -> Any:
    """The JSON value of ``path``; malformed JSON or non-UTF-8 text raises :class:`TaskDataError` naming the place."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise TaskDataError(f"{path}:{error.lineno}: malformed JSON ({error.msg} at column {error.colno})") from None
    except UnicodeDecodeError as error:
        raise TaskDataError(f"{path}: not UTF-8 text ({error})") from None


def read_numbered_lines(path: Path) -> list[tuple[int, Any]]:
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


def get_field(obj: Any, key: str, where: str, kind: type | tuple[type, ...] | None = None) -> Any:
    """``obj[key]``, checked: a JSON object holding ``key``, of type ``kind`` if given (``where``: the place)."""
    if not isinstance(obj, dict):
        raise TaskDataError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if key not in obj:
        raise TaskDataError(f"{where}: missing field {key!r} (fields: {sorted(obj)})")
    value = obj[key]
    if kind is not None and not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise TaskDataError(f"{where}: field {key!r} should be {names}, got {type(value).__name__}")
    return value


def list_of(data: Any, path: Path, key: str | None = None) -> list:
    """The non-empty list of examples in ``data`` (or in its field ``key``) read from ``path``."""
    where = str(path)
    items = get_field(data, key, where, list) if key is not None else data
    if not isinstance(items, list):
        raise TaskDataError(f"{where}: expected a JSON list of examples, got {type(items).__name__}")
    if not items:
        raise TaskDataError(f"{where}: the dataset is empty (no examples)")
    return items
