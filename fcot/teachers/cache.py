"""A crash-safe cache of teacher calls: append-only JSONL, one fsync'd line per completed call.

A call's **key** is the sha256 of its identity: backend kind, model, backend variant (e.g. the
OpenAI ``style``), prompt, temperature, max_tokens, stop strings and the sample seed. A result
is written (and fsync'd) *before* the driver counts it, so a run killed at any moment -- even
with SIGKILL -- keeps every call that had completed, and a restart repeats none of them.

File layout (``calls.jsonl``): one JSON object per line, ``{"key", "backend", "model", "text",
"finish_reason", "prompt_tokens", "completion_tokens"}``. Prompts are not stored (they can be
long, and the key already identifies them); API keys never are. A torn last line (the writer was
killed mid-write) is cut off when the cache is opened again; an earlier malformed line is an
error naming ``file:line``. One process at a time may hold a cache file (an advisory lock on
``calls.jsonl.lock``; the OS releases it when the holder dies).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import warnings
from pathlib import Path
from typing import Iterable

from fcot.records import RecordError, from_dict
from fcot.teachers.base import GenerationRequest, GenerationResult

_FIELDS = ("text", "finish_reason", "prompt_tokens", "completion_tokens")


def cache_key(backend: str, model: str, request: GenerationRequest, variant: str = "") -> str:
    """The sha256 hex key of one call (see the module docstring for what it covers)."""
    identity = {
        "backend": backend,
        "model": model,
        "variant": variant,
        "prompt": request.prompt,
        "temperature": float(request.temperature),
        "max_tokens": int(request.max_tokens),
        "stop": list(request.stop),
        "seed": request.seed,
    }
    blob = json.dumps(identity, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CacheLockedError(RuntimeError):
    """Another live process holds this cache file."""


class ResponseCache:
    """Durable key -> :class:`GenerationResult` store (``path`` None: in memory only).

    Thread-safe; :meth:`put_many` writes a batch with one fsync.
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._data: dict[str, GenerationResult] = {}
        self._lock = threading.Lock()
        self._handle = None
        self._lock_handle = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._acquire_file_lock()
            self._load()
            self._handle = open(self.path, "a", encoding="utf-8")

    def _acquire_file_lock(self) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        handle = open(lock_path, "a")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise CacheLockedError(
                f"{self.path}: the cache is in use by another running process (lock {lock_path}); "
                "wait for it to finish or use another cache path"
            ) from None
        self._lock_handle = handle

    def _load(self) -> None:
        if not self.path.is_file():
            return
        with open(self.path, "rb") as handle:
            data = handle.read()
        if data and not data.endswith(b"\n"):
            # a torn last line: the writer was killed mid-write; cut it so later appends stay valid
            keep = data.rfind(b"\n") + 1
            with open(self.path, "r+b") as handle:
                handle.truncate(keep)
                handle.flush()
                os.fsync(handle.fileno())
            warnings.warn(f"{self.path}: cut a torn last line ({len(data) - keep} bytes: a writer was stopped "
                          "mid-line); that one response will be asked for again", stacklevel=3)
            data = data[:keep]
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            where = f"{self.path}:{number}"
            try:
                row = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as error:
                raise RecordError(f"{where}: not UTF-8 text ({error.reason} at byte {error.start})") from None
            except json.JSONDecodeError as error:
                raise RecordError(f"{where}: not a cache record (malformed JSON: {error.msg}); expected a JSON object "
                                  f"with 'key' and {list(_FIELDS)}") from None
            if not isinstance(row, dict) or not isinstance(row.get("key"), str):
                raise RecordError(f"{where}: not a cache record; expected a JSON object with a string 'key' and "
                                  f"{list(_FIELDS)}")
            self._data[row["key"]] = from_dict(GenerationResult, {f: row[f] for f in _FIELDS if f in row}, where)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def get(self, key: str) -> GenerationResult | None:
        return self._data.get(key)

    def put(self, key: str, result: GenerationResult, backend: str = "", model: str = "") -> None:
        self.put_many([(key, result)], backend=backend, model=model)

    def put_many(self, items: Iterable[tuple[str, GenerationResult]], backend: str = "", model: str = "") -> None:
        """Store results durably (written and fsync'd before this returns)."""
        items = list(items)
        with self._lock:
            if self._handle is not None:
                for key, result in items:
                    row = {"key": key, "backend": backend, "model": model}
                    row.update({f: getattr(result, f) for f in _FIELDS})
                    self._handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                self._handle.flush()
                os.fsync(self._handle.fileno())
            for key, result in items:
                self._data[key] = GenerationResult(**{f: getattr(result, f) for f in _FIELDS})

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
            if self._lock_handle is not None:
                self._lock_handle.close()
                self._lock_handle = None

    def __enter__(self) -> "ResponseCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass
