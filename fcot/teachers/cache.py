"""A crash-safe cache of teacher calls: append-only JSONL, one fsync'd line per completed call.

A call's **key** is the sha256 of its identity: backend kind, model, backend variant (e.g. the
OpenAI ``style``), prompt, temperature, max_tokens, stop strings and the sample seed. A result
is written (and fsync'd) *before* the driver counts it, so a run killed at any moment -- even
with SIGKILL -- keeps every call that had completed, and a restart repeats none of them.

File layout (``calls.jsonl``): one JSON object per line, ``{"key", "backend", "model", "text",
"finish_reason", "prompt_tokens", "completion_tokens"}``. Prompts are not stored (they can be
long, and the key already identifies them); API keys never are. A torn last line (the writer was
killed mid-write) is cut off when the cache is opened again; an earlier malformed line is an
error naming ``file:line``, and so is a key written twice with different results (which one is the answer?; the
same result twice is accepted). A path that cannot hold the cache (a folder, a read-only folder, a full disk) is an
error naming it. One process at a time may hold a cache file (an advisory lock on
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

from fcot.records import RecordError, StorageError, from_dict, storage_error
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
        self._lines: dict[str, int] = {}  # key -> the line it was read from (to name both lines of a conflict)
        self._lock = threading.Lock()
        self._handle = None
        self._lock_handle = None
        if self.path is not None:
            if self.path.is_dir():
                raise StorageError(f"{self.path}: the cache path is a folder; give a file path such as "
                                   f"{self.path / 'calls.jsonl'}")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._acquire_file_lock()
                self._load()
                self._handle = open(self.path, "a", encoding="utf-8")
            except StorageError:
                raise
            except OSError as error:
                self.close()
                raise storage_error(self.path, error, "opening the response cache") from None

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
            self._keep(row["key"], from_dict(GenerationResult, {f: row[f] for f in _FIELDS if f in row}, where), number)

    def _keep(self, key: str, result: GenerationResult, number: int) -> None:
        """Hold a loaded row; the same key with another result than an earlier line's is an error naming both."""
        earlier = self._data.get(key)
        if earlier is not None and _fields(earlier) != _fields(result):
            changed = [f for f in _FIELDS if getattr(earlier, f) != getattr(result, f)]
            raise RecordError(
                f"{self.path}:{number}: key {key[:12]}... was already stored at line {self._lines[key]} with another "
                f"{'/'.join(changed)} ({getattr(earlier, changed[0])!r:.60} vs {getattr(result, changed[0])!r:.60}); a "
                "key has one answer: remove the line that is wrong (or the cache, to ask again)"
            )
        self._data[key] = result
        self._lines.setdefault(key, number)

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
                lines = [json.dumps({"key": key, "backend": backend, "model": model} | _fields(result),
                                    ensure_ascii=False) + "\n" for key, result in items]
                try:
                    self._handle.write("".join(lines))
                    self._handle.flush()
                    os.fsync(self._handle.fileno())
                except OSError as error:
                    raise storage_error(self.path, error, f"storing {len(items)} response(s)") from None
            for key, result in items:
                self._data[key] = GenerationResult(**{f: getattr(result, f) for f in _FIELDS})

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                handle, self._handle = self._handle, None
                try:
                    handle.close()
                except OSError:  # a write that failed (disk full) was already raised by put_many
                    pass
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


def _fields(result: GenerationResult) -> dict:
    return {f: getattr(result, f) for f in _FIELDS}
