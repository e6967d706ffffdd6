"""The one writer for outputs: a :class:`Run` directory per (kind, name, config, seed).

Layout (``<rel>`` = ``<kind>/<name>-<confighash>``)::

    fcot.paths.profile_runs()/<rel>/       small, reviewable outputs: results/<profile>/runs (in git)
        config.json        the run's configuration (a dataclass or dict), as hashed
        manifest.json      seed, package versions, git sha (+ dirty flag), data hashes,
                           host/CPU/GPU, start/end time, status (running|finished|failed)
        metrics.json       scalar results (merged on every save_metrics call)
        predictions.jsonl  one row per evaluated question
        figures/<name>.png
        tables/<name>.csv and tables/<name>.md
    fcot.paths.profile_artifacts()/<rel>/  large artifacts (completions, samples, checkpoints):
                                           runs/<profile>, outside git

``<profile>`` is the profile running (``$FCOT_PROFILE``, set by ``fcot reproduce``; ``smoke`` for a
notebook run on its own), so each profile owns its runs and its report reads no other's.

The config hash covers the config and the seed, so the same config opens the same directory and
a rerun can skip a finished run (``run.finished``); a different config or seed gets its own.
Under ``accelerate launch`` only the main process (``RANK`` 0) writes.

Finding runs (the stages open theirs through these): :func:`claimed` holds a configuration's run while it is
computed (a lock per config hash), reuses a finished one computed on this machine (:func:`reusable`), or copies a
finished twin computed under another name; :func:`find` resolves a run by name or directory; :func:`upstream_of`
reads a run's upstream run back by kind and hash.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import fcntl
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from fcot import paths
from fcot.provenance import git_state, hardware, package_versions
from fcot.records import append_jsonl, write_jsonl

if TYPE_CHECKING:  # annotations only: fcot.data sits above this module
    from fcot.data import DataConfig

STATUSES = ("running", "finished", "failed")


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: dataclasses and mappings as dicts, paths as strings, NaN and infinities as
    strings, numpy and torch scalars as Python numbers."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return str(value)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return value.item()
    return value


def config_dict(config: Any) -> dict:
    """A JSON-ready dict of a config (dataclass or mapping)."""
    if not (isinstance(config, Mapping) or (dataclasses.is_dataclass(config) and not isinstance(config, type))):
        raise TypeError(f"a run config must be a dataclass instance or a dict, got {type(config).__name__}")
    return jsonable(config)


def config_hash(config: Any, seed: int | None = None, length: int = 10) -> str:
    """Stable short hash of a config (canonical JSON: sorted keys) and the seed."""
    payload = json.dumps({"config": config_dict(config), "seed": seed}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:length]


def publish(path: str | os.PathLike, content: Any, dpi: int = 150) -> Path:
    """Write one output file atomically: the one way fcot writes under ``results/`` (runs, ablation
    summaries, published tables and figures, timings, executed notebooks, cost reports).

    ``content``: ``str`` (UTF-8 text), ``bytes``, a matplotlib Figure (PNG at ``dpi``) or a
    :class:`~pathlib.Path` of a file to copy. The file appears whole or not at all: it is written
    to a temporary name in the same folder and moved into place (a reader never sees half a file,
    a crash leaves the previous version).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")  # one per process; keeps the suffix
    try:
        if isinstance(content, str):
            tmp.write_text(content, encoding="utf-8")
        elif isinstance(content, bytes):
            tmp.write_bytes(content)
        elif isinstance(content, Path):
            tmp.write_bytes(content.read_bytes())
        elif hasattr(content, "savefig"):
            content.savefig(tmp, dpi=dpi, bbox_inches="tight")
        else:
            raise TypeError(f"publish({path.name}): content must be str, bytes, a Path or a Figure, got {type(content).__name__}")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_json(path: Path, data: Any) -> None:
    publish(path, json.dumps(jsonable(data), indent=2, sort_keys=False, ensure_ascii=False) + "\n")


#: metric names of earlier fcot versions -> today's (one name per quantity: ``<what>_<split>``, as curation writes
#: them); records written before the rename are read under today's names
RENAMED_METRICS: dict[str, str] = {"train_samples": "samples_train", "val_samples": "samples_val",
                                   "samples_kept": "samples_train", "train_questions": "questions_train",
                                   "val_questions": "questions_val"}


def read_metrics(path: str | os.PathLike) -> dict:
    """A run's ``metrics.json`` (``path``: the file, or the run folder holding it), metrics of earlier fcot versions
    under today's names (:data:`RENAMED_METRICS`). Raises ValueError naming the file when it is not JSON."""
    path = Path(path)
    file = path / "metrics.json" if path.is_dir() else path
    metrics = _read_json(file)
    current: dict = {}
    for name, value in metrics.items():
        today = RENAMED_METRICS.get(name, name)
        current[today if today not in metrics and today not in current else name] = value
    return current


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: malformed JSON ({error.msg} at line {error.lineno})") from None


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def is_main_process() -> bool:
    """False on the non-zero ranks of a distributed launch (they must not write run files)."""
    return os.environ.get("RANK", "0") == "0" and os.environ.get("LOCAL_RANK", "0") in ("0", "-1")


#: Columns that hold a share (accuracy, its interval, the share filtered): a Markdown table written for readers
#: (:func:`markdown_table` with ``percent=True``) and a table shown in a notebook (:func:`percent_frame`) give them in
#: percent; the CSV and the DataFrames that code computes with keep the fraction.
SHARE_COLUMNS: tuple[str, ...] = ("mean", "sd", "low", "high", "run_low", "run_high", "accuracy", "val_accuracy",
                                  "teacher_accuracy_train", "teacher_accuracy_test", "share_filtered", "stop_rate")


def _share_columns(frame) -> list[str]:
    import pandas as pd

    return [c for c in frame.columns if c in SHARE_COLUMNS and pd.api.types.is_numeric_dtype(frame[c])]


def percent_frame(df):
    """A DataFrame as a reader should see it: its :data:`SHARE_COLUMNS` in percent, rounded to one decimal and headed
    ``<name> (%)``; every other column as it is. For display only (a notebook's table): compute with the fractions.

    >>> import pandas as pd
    >>> percent_frame(pd.DataFrame({"n_train": [400], "mean": [0.7316667]}))
       n_train  mean (%)
    0      400      73.2
    """
    shares = _share_columns(df)
    return df.assign(**{c: (100 * df[c]).round(1) for c in shares}).rename(columns={c: f"{c} (%)" for c in shares})


def markdown_table(df, percent: bool = False) -> str:
    """A GitHub-flavoured Markdown table of a DataFrame (index included when it is named or not a range).

    ``percent``: the :data:`SHARE_COLUMNS` in percent with one decimal, headed ``<name> (%)``."""
    import pandas as pd

    frame = df
    if not isinstance(df.index, pd.RangeIndex) or df.index.name is not None:
        frame = df.reset_index()
    if percent:
        shares = _share_columns(frame)
        frame = frame.assign(**{c: (100 * frame[c]).map(lambda v: "" if pd.isna(v) else f"{v:.1f}") for c in shares})
        frame = frame.rename(columns={c: f"{c} (%)" for c in shares})

    def cell(value: Any) -> str:
        if isinstance(value, float):
            text = f"{value:.4g}"
        else:
            text = "" if value is None else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    header = [cell(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


class Run:
    """One run directory. Open with :meth:`Run.open`; use as a context manager to record status.

    >>> with Run.open("student", config, seed=0) as run:    # doctest: +SKIP
    ...     if not run.finished: ...; run.save_metrics({"accuracy": 0.58})
    """

    def __init__(self, kind: str, name: str, config: dict, seed: int | None, hash_: str, data_hashes: dict | None,
                 profile: str | None = None):
        self.kind = kind
        self.name = name
        self.config = config
        self.seed = seed
        self.hash = hash_
        self.data_hashes = dict(data_hashes or {})
        self.relpath = Path(kind) / f"{name}-{hash_}"
        self.path = paths.profile_runs(profile) / self.relpath
        self.artifacts_dir = paths.profile_artifacts(profile) / self.relpath
        self._record: dict[Path, bytes] | None = None  # a finished record being recomputed: restored on failure

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        kind: str,
        config: Any,
        name: str | None = None,
        seed: int | None = 0,
        data_hashes: Mapping[str, str] | None = None,
        rerun: bool = False,
        profile: str | None = None,
    ) -> "Run":
        """Open (create or reopen) the run of ``config`` and ``seed`` under ``kind``.

        A finished run is left untouched (``run.finished`` is True) unless the recorded data
        hashes differ from ``data_hashes`` -- then it is stale and restarts -- or ``rerun`` is
        True (its artifacts outside git are gone). ``profile``: whose run it is (None: the current
        profile, :func:`fcot.paths.profile_name`). Otherwise
        config.json is written and manifest.json records status ``running`` and the start time.
        """
        for label, value in (("kind", kind), ("name", name)):
            if value is not None and not paths.NAME.match(value):
                raise ValueError(f"run {label} {value!r} must be letters, digits and _.+- (starting with a letter or digit)")
        data = config_dict(config)
        name = name or str(data.get("name") or kind)
        if not paths.NAME.match(name):
            raise ValueError(f"run name {name!r} must be letters, digits and _.+- (starting with a letter or digit)")
        run = cls(kind, name, data, seed, config_hash(data, seed), dict(data_hashes or {}), profile)
        if run.finished and not rerun:
            return run
        if run.finished and is_main_process():  # a committed record recomputed here: kept whole unless it finishes
            run._record = {f: f.read_bytes() for f in run.path.rglob("*") if f.is_file()}
        if is_main_process():
            _write_json(run.path / "config.json", data)
            previous = run.manifest if (run.path / "manifest.json").is_file() else {}
            _write_json(
                run.path / "manifest.json",
                {
                    "kind": kind,
                    "name": name,
                    "config_hash": run.hash,
                    "seed": seed,
                    "status": "running",
                    "started": _now(),
                    "ended": None,
                    "attempts": int(previous.get("attempts", 0)) + 1,
                    "versions": package_versions(),
                    "git": git_state(),
                    "data_hashes": run.data_hashes,
                    "hardware": hardware(),
                    "artifacts_dir": paths.portable(run.artifacts_dir),
                    "program": Path(sys.argv[0]).name if sys.argv and sys.argv[0] else None,  # no machine path
                },
            )
        return run

    @classmethod
    def peek(cls, kind: str, config: Any, name: str, seed: int | None = 0,
             data_hashes: Mapping[str, str] | None = None) -> "Run":
        """The run :meth:`open` would open, without writing anything (check ``finished`` first)."""
        data = config_dict(config)
        return cls(kind, name, data, seed, config_hash(data, seed), dict(data_hashes or {}))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Run":
        """Reopen an existing run directory for reading (nothing is written)."""
        path = paths.resolve(path)  # a recorded run_path is relative to the repository
        if not (path / "manifest.json").is_file():
            raise FileNotFoundError(f"{path}: not a run directory (no manifest.json)")
        manifest = _read_json(path / "manifest.json")
        # <results>/<profile>/runs/<kind>/<name>-<hash>: the run belongs to that profile
        profile = path.parents[2].name if len(path.parents) > 2 and path.parents[1].name == "runs" else None
        run = cls(manifest["kind"], manifest["name"], _read_json(path / "config.json"), manifest.get("seed"),
                  manifest["config_hash"], manifest.get("data_hashes"), profile)
        run.path = path
        return run

    # -- state ----------------------------------------------------------------------------------

    @property
    def manifest(self) -> dict:
        file = self.path / "manifest.json"
        return _read_json(file) if file.is_file() else {}

    @property
    def status(self) -> str | None:
        return self.manifest.get("status")

    @property
    def finished(self) -> bool:
        """True when this config and seed already ran to the end on the same data."""
        manifest = self.manifest
        if manifest.get("status") != "finished":
            return False
        recorded = manifest.get("data_hashes") or {}
        return not self.data_hashes or not recorded or recorded == self.data_hashes

    def _update_manifest(self, **fields: Any) -> None:
        if is_main_process():
            manifest = self.manifest
            manifest.update(fields)
            _write_json(self.path / "manifest.json", manifest)

    def finish(self) -> None:
        """Mark the run finished (a rerun of the same config then skips it)."""
        self._update_manifest(status="finished", ended=_now())

    def fail(self, error: BaseException | str) -> None:
        self._update_manifest(status="failed", ended=_now(), error=str(error)[:2000])

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None and self._record is not None:
            self._restore(f"{exc_type.__name__}: {exc}")
        elif exc is not None:
            self.fail(f"{exc_type.__name__}: {exc}")
        elif self.status == "running":
            self.finish()
        return False

    def _restore(self, error: str) -> None:
        """A recomputation of a finished (committed) record failed or was interrupted: put the record back as it was
        -- nothing under ``results/`` changes -- and keep the failure beside the artifacts (``runs/``, outside git)."""
        if not is_main_process():
            return
        for file in [f for f in self.path.rglob("*") if f.is_file() and f not in self._record]:
            file.unlink()
        for file, content in self._record.items():
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(content)
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        _write_json(self.artifacts_dir / "failed.json", {"ended": _now(), "error": error[:2000]})

    # -- writing ----------------------------------------------------------------------------------

    def artifacts(self, *parts: str) -> Path:
        """A path under this run's artifacts directory (created), e.g. ``run.artifacts("checkpoints")``."""
        path = self.artifacts_dir.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def save_metrics(self, metrics: Mapping[str, Any]) -> Path:
        """Merge ``metrics`` into metrics.json and return its path."""
        file = self.path / "metrics.json"
        if is_main_process():
            current = read_metrics(file) if file.is_file() else {}
            current.update(jsonable(dict(metrics)))
            _write_json(file, current)
        return file

    @property
    def metrics(self) -> dict:
        file = self.path / "metrics.json"
        return read_metrics(file) if file.is_file() else {}

    def save_json(self, data: Any, name: str) -> Path:
        """Write ``<name>.json`` in the run directory (e.g. a training log history)."""
        file = self.path / f"{name}.json"
        if is_main_process():
            _write_json(file, data)
        return file

    def save_predictions(self, rows: Iterable[Any], name: str = "predictions") -> Path:
        """Write rows (dicts or dataclasses) to ``<name>.jsonl`` (replacing an earlier file)."""
        file = self.path / f"{name}.jsonl"
        if is_main_process():
            write_jsonl(file, rows)
        return file

    def append_predictions(self, rows: Iterable[Any], name: str = "predictions") -> Path:
        file = self.path / f"{name}.jsonl"
        if is_main_process():
            append_jsonl(file, rows)
        return file

    def save_figure(self, fig, name: str, dpi: int = 150) -> Path:
        """Save a matplotlib Figure as ``figures/<name>.png`` (the figure stays open for display)."""
        file = self.path / "figures" / f"{name}.png"
        if is_main_process():
            publish(file, fig, dpi=dpi)
        return file

    def save_table(self, df, name: str, percent: bool = False) -> tuple[Path, Path]:
        """Save a DataFrame as ``tables/<name>.csv`` and ``tables/<name>.md`` (``percent``: shares in percent in the
        Markdown, :func:`markdown_table`)."""
        csv, md = self.path / "tables" / f"{name}.csv", self.path / "tables" / f"{name}.md"
        if is_main_process():
            publish(csv, df.to_csv(index=not _plain_index(df)))
            publish(md, markdown_table(df, percent=percent))
        return csv, md

    def save_directory(self, source: str | os.PathLike, name: str) -> Path:
        """Copy a small directory (a LoRA student's adapter, a few MB) into the run's record as ``<name>/``, replacing
        an earlier copy: committed with the record, unlike the artifacts under ``runs/``."""
        target = self.path / name
        if is_main_process():
            scratch = self.path / f".{name}.tmp"
            shutil.rmtree(scratch, ignore_errors=True)
            shutil.copytree(source, scratch)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(scratch, target)
        return target

    def __repr__(self) -> str:
        return f"Run({self.kind!r}, {self.name!r}, hash={self.hash!r}, status={self.status!r}, path={str(self.path)!r})"


def _plain_index(df) -> bool:
    import pandas as pd

    return isinstance(df.index, pd.RangeIndex) and df.index.name is None


def finished_records(study: str, kind: str, root: str | os.PathLike | None = None) -> Iterator[tuple[Path, dict, dict]]:
    """``(folder, manifest, config)`` of each finished run record of ``kind`` committed for ``study``
    (``results/<study>/runs/<kind>/``), in name order; a record whose manifest or config cannot be read is skipped."""
    for manifest_file in sorted((paths.results_dir(root) / study / "runs" / kind).glob("*/manifest.json")):
        try:
            manifest = _read_json(manifest_file)
            config = _read_json(manifest_file.parent / "config.json")
        except (OSError, ValueError):
            continue
        if manifest.get("status") == "finished":
            yield manifest_file.parent, manifest, config


def list_runs(kind: str | None = None):
    """A DataFrame of the current profile's runs (kind, name, hash, seed, status, path)."""
    import pandas as pd

    root = paths.profile_runs()
    rows = []
    pattern = f"{kind}/*/manifest.json" if kind else "*/*/manifest.json"
    for file in sorted(root.glob(pattern)):
        manifest = _read_json(file)
        rows.append({k: manifest.get(k) for k in ("kind", "name", "config_hash", "seed", "status", "started", "ended")}
                    | {"path": str(file.parent)})
    return pd.DataFrame(rows, columns=["kind", "name", "config_hash", "seed", "status", "started", "ended", "path"])


# ----------------------------------------------------------------------------------------------
# Finding runs: reuse, claiming (locks), twins, upstream (the stages open their runs through these)
# ----------------------------------------------------------------------------------------------


COMPUTED_HERE = ".computed"  # an artifact marking a run computed on this machine (see mark_computed_here)


def mark_computed_here(run: Run) -> None:
    """Mark ``run`` as computed on this machine. A run whose record is committed (results/) but which
    this machine never computed -- a fresh clone -- has no marker and runs again, so that ``make
    reproduce`` recomputes what it is compared against instead of reading it back."""
    (run.artifacts() / COMPUTED_HERE).write_text("", encoding="utf-8")


def computed_here(run: Run) -> bool:
    """Whether this machine computed ``run`` (or copied it from a twin it computed): only then are its large
    artifacts (completions, samples, checkpoints: ``runs/``, outside git) here. A committed record alone -- a fresh
    clone's state -- has its small outputs (config, metrics, predictions) but none of its artifacts."""
    return (run.artifacts_dir / COMPUTED_HERE).is_file()


def reusable(run: Run, *needed: str) -> bool:
    """Whether a run is finished, was computed on this machine and still has its ``needed`` artifacts here."""
    return run.finished and computed_here(run) and all((run.artifacts_dir / file).exists() for file in needed)


def artifact(run: Run, *parts: str) -> Path:
    """The path of one of ``run``'s large artifacts, which must be on this machine: a clear error for a committed
    record computed elsewhere (a fresh clone) or an artifact deleted since, naming the stage to run."""
    path = run.artifacts_dir.joinpath(*parts)
    if not computed_here(run):
        raise FileNotFoundError(
            f"{run.kind} run {run.path.name}: its artifacts ({'/'.join(parts)}) are not on this machine -- its record is "
            f"committed (computed elsewhere) but this machine never computed it; run its stage here first (its "
            f"notebook, or `make reproduce`)")
    if not path.exists():
        raise FileNotFoundError(f"{run.kind} run {run.path.name}: {paths.portable(path)} is gone (deleted since it was "
                                f"computed); run its stage again")
    return path


def open_run(kind: str, config: dict, name: str, seed: int | None, data: DataConfig, *needed: str) -> Run:
    """Open the run of ``config``; a finished one not computed here, or whose ``needed`` artifacts are gone, runs
    again."""
    run = Run.open(kind, config, name=name, seed=seed, data_hashes=data.data_hashes())
    if run.finished and not reusable(run, *needed):
        run = Run.open(kind, config, name=name, seed=seed, data_hashes=data.data_hashes(), rerun=True)
    return run


@contextlib.contextmanager
def claimed(kind: str, config: dict, name: str, seed: int | None, data: DataConfig, *needed: str):
    """The run of ``config``, held exclusively while it is computed: a second process (a parallel sweep
    point sharing this stage) waits for the first, then finds the run finished and reuses it. A run the body
    finishes is marked computed here (:func:`mark_computed_here`).

    The lock is the configuration's (its hash), not the name's: a run of the same configuration and upstream
    runs under another name -- the stage walk-through and the main table's coin-flip column, say -- is the same
    computation, so it is computed once and copied under the second name (:func:`_copy_twin`)."""
    peek = Run.peek(kind, config, name, seed, data.data_hashes())
    if reusable(peek, *needed):
        yield Run.load(peek.path)
        return
    locks = peek.artifacts_dir.parent / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{peek.hash}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            twin = None if reusable(peek, *needed) else _twin(peek, *needed)
            if twin is not None:
                yield _copy_twin(twin, peek)
            else:
                run = open_run(kind, config, name, seed, data, *needed)  # again: it may have finished meanwhile
                yield run
                if Run.load(run.path).finished and not computed_here(run):
                    mark_computed_here(run)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _finished_with_hash(kind_dir: Path, hash_: str) -> list[Run]:
    """The finished runs ``<kind_dir>/<any name>-<hash_>``: the same configuration, seed and upstream runs under
    each name (copies of one computation)."""
    found = (Run.load(m.parent) for m in sorted(kind_dir.glob(f"*-{hash_}/manifest.json")))
    return [run for run in found if run.finished]


def _twin(peek: Run, *needed: str) -> Run | None:
    """A finished run of ``peek``'s kind and hash under another name, on the same data and with its ``needed``
    artifacts on this machine; None when there is none."""
    return next((run for run in _finished_with_hash(peek.path.parent, peek.hash)
                 if run.path != peek.path and run.data_hashes == peek.data_hashes and reusable(run, *needed)), None)


def _copy_twin(twin: Run, peek: Run) -> Run:
    """``twin``'s record and artifacts copied under ``peek``'s name (the paths they record renamed), marked
    ``copied_from``: the name's run without computing it again."""
    old, new = str(twin.relpath), str(peek.relpath)
    shutil.copytree(twin.artifacts_dir, peek.artifacts_dir, dirs_exist_ok=True)
    shutil.copytree(twin.path, peek.path, dirs_exist_ok=True)
    for file in peek.path.glob("*.json"):
        text = file.read_text(encoding="utf-8")
        if old in text:
            file.write_text(text.replace(old, new), encoding="utf-8")
    peek._update_manifest(name=peek.name, copied_from=old)  # peek's path is the copy's
    return Run.load(peek.path)


def find(kind: str, ref: str | Path | Run) -> Run:
    """A finished run of ``kind`` named by ``ref``: a Run, a run directory, or a run name.

    A name refers to the one finished run ``<profile>/runs/<kind>/<name>-<hash>`` of the current
    profile (:func:`fcot.paths.profile_runs`); when there are several (the same name with other configurations),
    the one computed on this machine (a clone's committed records under the name stay readable but are not it), and
    when that does not decide, the error lists them: pass a path.
    """
    if isinstance(ref, Run):
        run = ref
    else:
        text = str(ref)
        if not text:
            raise ValueError(f"no {kind} run given: pass a run directory or name (the output of its notebook)")
        path = Path(text)
        if (path / "manifest.json").is_file():
            run = Run.load(path)
        else:
            root = paths.profile_runs() / kind
            found = [p.parent for p in sorted(root.glob(f"{text}-*/manifest.json"))
                     if p.parent.name[len(text) + 1:].isalnum() and Run.load(p.parent).finished]
            if not found:
                raise FileNotFoundError(
                    f"no finished {kind} run {text!r}: not a run directory, and no {root}/{text}-<hash> "
                    f"(run its notebook first, or pass the directory it printed)")
            if len(found) > 1:  # the same name with other configurations: the one computed here, if only one is
                here = [p for p in found if computed_here(Run.load(p))]
                found = here if len(here) == 1 else found
            if len(found) > 1:
                listing = "\n  ".join(str(p) for p in found)
                raise ValueError(f"{len(found)} finished {kind} runs are named {text!r}; pass one directory:\n  {listing}")
            run = Run.load(found[0])
    if run.kind != kind:
        raise ValueError(f"{run.path} is a {run.kind} run, not a {kind} run")
    if not run.finished:
        raise ValueError(f"{run.path}: the {kind} run did not finish (status {run.status!r}); rerun its stage")
    return run




def upstream_key(run: Run) -> dict:
    """How a run names its upstream run in its config (and so in its key): by kind and hash, not by name, so that
    the same chain under other names (the stage walk-through, an experiment) has the same keys."""
    return {"kind": run.kind, "hash": run.hash}


def upstream_of(run: Run) -> Run | None:
    """The run a stage's run was made from (None for a teacher run, or a vanilla curation): a finished run of the
    recorded kind and hash in the same profile (under any name: they are copies), one computed on this machine where
    there is one (a fresh clone holds committed copies whose artifacts are elsewhere)."""
    upstream = run.config.get("upstream")
    if not upstream:
        return None
    root = run.path.parent.parent / upstream["kind"]  # same profile
    finished = _finished_with_hash(root, upstream["hash"])
    if not finished:
        raise FileNotFoundError(f"{run.path}: its upstream {upstream['kind']} run (hash {upstream['hash']}) is not in {root}")
    here = [r for r in finished if computed_here(r)] or finished  # copies: the one whose artifacts are here
    named = [r for r in here if r.name == upstream.get("name")]  # a record written before keys left names out
    return (named or here)[0]
