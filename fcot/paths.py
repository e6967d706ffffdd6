"""Where fcot reads and writes: upstream data files, the download cache, the results root.

Every dataset, split file and prompt file fcot uses is an :class:`UpstreamFile`: a path in a
public GitHub repository pinned by commit and checked by sha256. :func:`fetch` returns a local
path for it, from (in this order)

1. a **mirror root** (``mirror=`` or the ``FCOT_DATA_MIRROR`` environment variable) laid out as
   ``<mirror>/<owner>/<repo>/<path>`` -- ``../shared/data`` on the developers' machines is one;
2. the download cache (``cache_dir=`` or ``FCOT_CACHE_DIR``, default ``~/.cache/fcot``);
3. a download from ``https://raw.githubusercontent.com/<owner>/<repo>/<commit>/<path>``
   into the cache (skipped when ``FCOT_OFFLINE=1``).

The bytes are checked against the pinned sha256 on every path, so a mirror and a download
give the same data or an error, never silently different data.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

MIRROR_ENV = "FCOT_DATA_MIRROR"
CACHE_ENV = "FCOT_CACHE_DIR"
OFFLINE_ENV = "FCOT_OFFLINE"
RESULTS_ENV = "FCOT_RESULTS_DIR"
RUNS_ENV = "FCOT_RUNS_DIR"
PROFILE_ENV = "FCOT_PROFILE"  # the profile whose runs a process reads and writes (set by `fcot reproduce`)
DEFAULT_PROFILE = "smoke"  # a notebook run alone runs with its own (smoke) defaults

REPO_ROOT = Path(__file__).resolve().parent.parent
DOWNLOAD_TIMEOUT_S = 60.0  # each network operation of a download
DOWNLOAD_DEADLINE_S = 600.0  # a whole download: a server that drips its file is given up on after this


class DataUnavailableError(FileNotFoundError):
    """A pinned upstream file could not be found in the mirror, the cache or upstream."""


class ChecksumError(ValueError):
    """A file's bytes do not match its pinned sha256."""


@dataclass(frozen=True)
class UpstreamFile:
    """One file of a public repository, pinned by commit (and by sha256 where known)."""

    repo: str  # "owner/name"
    commit: str
    path: str
    sha256: str | None  # None: the file was never seen by the authors of fcot; recorded, not checked

    def __post_init__(self) -> None:
        if self.repo.count("/") != 1:
            raise ValueError(f"UpstreamFile.repo must be 'owner/name', got {self.repo!r}")

    @property
    def url(self) -> str:
        return f"https://raw.githubusercontent.com/{self.repo}/{self.commit}/{self.path}"

    @property
    def relpath(self) -> Path:
        """The file's place under a mirror root: ``<owner>/<repo>/<path>``."""
        return Path(self.repo) / self.path


def mirror_root(mirror: str | os.PathLike | None = None) -> Path | None:
    """The mirror root from the argument, else ``$FCOT_DATA_MIRROR``, else None."""
    value = mirror if mirror is not None else os.environ.get(MIRROR_ENV) or None
    return Path(value).expanduser().resolve() if value else None


def cache_dir(cache: str | os.PathLike | None = None) -> Path:
    """The download cache from the argument, else ``$FCOT_CACHE_DIR``, else ``~/.cache/fcot``."""
    value = cache if cache is not None else os.environ.get(CACHE_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "fcot"


def results_dir(root: str | os.PathLike | None = None) -> Path:
    """Where executed notebooks, tables and figures go (``$FCOT_RESULTS_DIR`` or ``results/``)."""
    value = root if root is not None else os.environ.get(RESULTS_ENV)
    return Path(value).expanduser() if value else REPO_ROOT / "results"


def runs_dir(root: str | os.PathLike | None = None) -> Path:
    """Where large run artifacts (checkpoints, caches) go; outside git (``$FCOT_RUNS_DIR`` or ``runs/``)."""
    value = root if root is not None else os.environ.get(RUNS_ENV)
    return Path(value).expanduser() if value else REPO_ROOT / "runs"


def portable(path: str | os.PathLike) -> str:
    """A path as recorded in committed files: relative to the repository when it lies inside it
    (``runs/default/student/...``), so no machine's directories appear in ``results/``; else absolute."""
    path = Path(path).expanduser().resolve()
    try:
        return path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def resolve(path: str | os.PathLike) -> Path:
    """The inverse of :func:`portable`: a recorded relative path is taken from the repository root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


#: The one pattern of every name a user gives fcot: profiles, studies, runs, steps and notebooks (letters, digits and
#: ``_.+-``, not starting with a punctuation mark), so that each is a safe folder and file name.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


def profile_name(profile: str | None = None) -> str:
    """The profile whose runs are read and written: the argument, else ``$FCOT_PROFILE`` (set by
    ``fcot reproduce`` for the notebooks it executes), else ``smoke`` (a notebook run on its own)."""
    name = profile or os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE
    if not NAME.match(name):
        raise ValueError(f"profile name {name!r} must be letters, digits and _.+- ({PROFILE_ENV})")
    return name


def profile_runs(profile: str | None = None, root: str | os.PathLike | None = None) -> Path:
    """``results_dir()/<profile>/runs``: the run records of one profile (its report reads only these)."""
    return results_dir(root) / profile_name(profile) / "runs"


def profile_artifacts(profile: str | None = None) -> Path:
    """``runs_dir()/<profile>``: the large artifacts of one profile's runs, outside git."""
    return runs_dir() / profile_name(profile)


def _set(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


@contextlib.contextmanager
def environment(values: Mapping[str, str | None]):
    """Set environment variables (None unsets one) for the duration, then restore what was there."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            _set(name, value)
        yield
    finally:
        for name, value in saved.items():
            _set(name, value)


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_if_marked(path: str | os.PathLike, begin: str, end: str, block) -> bool:
    """:func:`write_between_markers` where the file has the ``begin`` marker (an optional block of a README);
    ``block`` is a callable making the text, called only then. False when the file has no such block."""
    if begin not in Path(path).read_text(encoding="utf-8"):
        return False
    return write_between_markers(path, begin, end, block())


def write_between_markers(path: str | os.PathLike, begin: str, end: str, block: str) -> bool:
    """Replace the text between the markers ``begin`` and ``end`` of the file ``path`` with ``block``
    (one newline on either side): how the generated blocks of the READMEs are kept current.
    Returns True when the file changed; a file without both markers (in that order) raises."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, stop = text.find(begin), text.find(end)
    if start == -1 or stop == -1 or stop < start:
        raise ValueError(f"{path}: needs the markers {begin} and {end} (in that order) to write the block between")
    new = f"{text[: start + len(begin)]}\n{block.strip(chr(10))}\n{text[stop:]}"
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def _check(file: UpstreamFile, path: Path) -> Path:
    if file.sha256 is not None:
        actual = sha256_file(path)
        if actual != file.sha256:
            raise ChecksumError(
                f"{path}: sha256 {actual} does not match the pinned {file.sha256} for "
                f"{file.repo}@{file.commit[:12]}:{file.path}. The file was modified or is another "
                f"version; replace it with the upstream file at that commit ({file.url})."
            )
    return path


def _mirror_problem(root: Path) -> str:
    """Why a whole mirror root cannot hold anything, where that is the cause (a wrong FCOT_DATA_MIRROR)."""
    if root.is_file():
        return f" (the mirror root {root} is a file, not a folder: check {MIRROR_ENV})"
    if not root.is_dir():
        return f" (the mirror root {root} does not exist: check {MIRROR_ENV})"
    try:
        if not any(root.iterdir()):
            return f" (the mirror root {root} is empty: check {MIRROR_ENV})"
    except OSError as error:
        return f" (the mirror root {root} cannot be read: {error.strerror}: check {MIRROR_ENV})"
    return ""


def download(url: str, timeout_s: float = DOWNLOAD_TIMEOUT_S, deadline_s: float = DOWNLOAD_DEADLINE_S) -> bytes:
    """The bytes at ``url``: each network operation within ``timeout_s``, the whole download within ``deadline_s``
    (a server dripping its answer raises ``TimeoutError`` naming the URL, never hangs)."""
    ends = time.monotonic() + deadline_s
    chunks: list[bytes] = []
    with urllib.request.urlopen(url, timeout=min(timeout_s, deadline_s)) as response:
        while True:
            if time.monotonic() > ends:
                got = sum(map(len, chunks))
                raise TimeoutError(f"{url}: the download did not finish within {deadline_s:g}s ({got} bytes came)")
            chunk = response.read1(1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def fetch(
    file: UpstreamFile,
    mirror: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    how_to_provide: str | None = None,
) -> Path:
    """Return a local, checksum-verified path for ``file`` (mirror, then cache, then download)."""
    root = mirror_root(mirror)
    tried: list[str] = []
    if root is not None:
        candidate = root / file.relpath
        if candidate.is_file():
            return _check(file, candidate)
        tried.append(f"mirror: {candidate}{_mirror_problem(root)}")
    cached = cache_dir(cache) / file.repo / file.commit / file.path
    if cached.is_file():
        return _check(file, cached)
    tried.append(f"cache: {cached}")
    if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
        tried.append(f"download: skipped because {OFFLINE_ENV}={os.environ[OFFLINE_ENV]}")
    else:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            data = download(file.url)
            with tempfile.NamedTemporaryFile(dir=cached.parent, delete=False) as tmp:
                tmp.write(data)
            os.replace(tmp.name, cached)
            return _check(file, cached)
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            tried.append(f"download: {file.url} failed ({error})")
    hint = how_to_provide or (
        f"Set {MIRROR_ENV} (or pass mirror=) to a folder holding {file.relpath}, "
        f"or place the file at {cached}."
    )
    raise DataUnavailableError(
        f"{file.repo}@{file.commit[:12]}:{file.path} is not available.\n  tried "
        + "\n  tried ".join(tried)
        + f"\n  {hint}"
    )
