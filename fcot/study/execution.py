"""Execution: a planned study's notebooks run with papermill, skipped where complete, timed, ``--jobs`` in parallel.

**Execution**: each (grid point of a) step is executed by papermill with kernel ``python3`` and the
working directory ``notebooks/`` (as in Jupyter Lab), into
``fcot.paths.results_dir()/<profile>/notebooks/<step id>[__<grid point>].ipynb``. The kernel
inherits this process's environment (``FCOT_*`` path variables are made absolute first, and ``PYTHONPATH`` starts
with this checkout, so a kernel imports this checkout's fcot even where the venv was installed from another). A
successful execution stores its parameters and a hash (parameters + the input notebook's bytes) in
the output notebook's metadata (``fcot_study``); a rerun SKIPS a step whose output notebook is
complete with the same hash, so an interrupted ``make reproduce`` picks up where it stopped. Once a
step has been executed, every later step is executed too (its inputs may have changed); ``--force``
executes everything. A failed step keeps its partially executed notebook and the error names it.
Wall seconds per output notebook go to ``results_dir()/<profile>/timings.json``.

**Parallelism** (``--jobs N``): the experiment points of every sweep step about to execute (notebooks
29-36) are computed in one pool of N processes, longest first, from the study's first step on
(:mod:`fcot.prefetch`), while the stage notebooks before them run beside it, each kernel on one torch thread
(:func:`kernel_threads`); each sweep notebook then reads its points back. The grid points of a step run in
N worker processes, longest first (by the seconds recorded in their previous output notebooks). A step marked ``with_previous: true``
shares the previous step's pool (:func:`execution_groups`), so e.g. three seeds on two workers do not
leave one idle; mark only steps whose points neither read the previous step's outputs nor repeat one
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as _dt
import json
import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from fcot import links, paths, prefetch, progress, reproduction, stages
from fcot.reproduction import format_reproduction
from fcot.runs import publish
from fcot.study.parameters import notebook_parameters
from fcot.study.planning import PlannedRun, plan
from fcot.study.profiles import Override, Profile, load_profile, parse_override

KERNEL = "python3"
METADATA_KEY = "fcot_study"
_PATH_ENVS = (paths.RESULTS_ENV, paths.RUNS_ENV, paths.CACHE_ENV, paths.MIRROR_ENV)


class StepFailedError(RuntimeError):
    """A notebook raised while executing; the partially executed notebook is kept at ``output_path``."""

    def __init__(self, message: str, output_path: Path):
        super().__init__(message)
        self.output_path = output_path


@dataclass(frozen=True)
class RunOptions:
    """How to execute: ``force`` reruns completed steps, ``jobs`` runs grid points in parallel processes."""

    force: bool = False
    jobs: int = 1
    kernel: str = KERNEL
    start_timeout: int = 120  # seconds to wait for a kernel to start
    cwd: Path | None = None  # the notebooks' working directory; None: the folder holding the notebook

    def __post_init__(self) -> None:
        if not isinstance(self.jobs, int) or isinstance(self.jobs, bool) or self.jobs < 1:
            raise ValueError(f"RunOptions.jobs must be an integer >= 1, got {self.jobs!r}")
        if not isinstance(self.start_timeout, int) or self.start_timeout < 1:
            raise ValueError(f"RunOptions.start_timeout must be a positive number of seconds, got {self.start_timeout!r}")
        if not isinstance(self.kernel, str) or not self.kernel:
            raise ValueError(f"RunOptions.kernel must be a kernel name such as 'python3', got {self.kernel!r}")


@dataclass
class StepOutcome:
    run: PlannedRun
    status: str  # "ran" | "skipped" | "failed"
    seconds: float | None  # wall seconds of the execution that produced the output notebook
    error: str | None = None


def _stamp(run: PlannedRun) -> Path:
    """This machine's record that it executed ``run`` (under ``runs/<profile>``, outside git)."""
    return paths.runs_dir() / (run.profile or "default") / ".executed" / f"{run.name}.hash"


def is_complete(run: PlannedRun) -> bool:
    """True when ``run.output_path`` is a finished execution with the same parameters and notebook
    **that this machine made** (its stamp under ``runs/<profile>/.executed``). Committed executed
    notebooks are what a reproduction is compared against, not a cache: on a fresh clone every
    step runs; an interrupted ``make reproduce`` skips the steps it already executed here."""
    try:
        if _stamp(run).read_text(encoding="utf-8").strip() != run.hash:
            return False
    except OSError:
        return False
    try:
        notebook = json.loads(run.output_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    meta = notebook.get("metadata", {})
    record = meta.get(METADATA_KEY) or {}
    return (
        record.get("status") == "completed"
        and record.get("hash") == run.hash
        and not (meta.get("papermill") or {}).get("exception")
    )


def _recorded_seconds(run: PlannedRun) -> float | None:
    with contextlib.suppress(OSError, json.JSONDecodeError):
        notebook = json.loads(run.output_path.read_text(encoding="utf-8"))
        return (notebook.get("metadata", {}).get(METADATA_KEY) or {}).get("seconds")
    return None


def _absolute_path_env():
    """Make relative FCOT_* path variables absolute, since the kernel's working directory differs; and pin the kernels
    (and the prefetch pool's processes) to this checkout (:func:`checkout_pythonpath`)."""
    values = {name: os.environ.get(name) for name in _PATH_ENVS}
    return paths.environment({**{name: str(Path(value).expanduser().resolve()) if value else None
                                 for name, value in values.items()}, "PYTHONPATH": checkout_pythonpath()})


def checkout_pythonpath(current: str | None = None) -> str:
    """``PYTHONPATH`` with this checkout (:data:`fcot.paths.REPO_ROOT`) first: a kernel imports ``fcot`` from the
    checkout that runs the study, not from wherever the virtual environment was installed (an editable install of
    another checkout would otherwise write that checkout's results and runs)."""
    current = os.environ.get("PYTHONPATH") if current is None else current
    root = str(paths.REPO_ROOT)
    rest = [entry for entry in (current or "").split(os.pathsep) if entry and Path(entry).resolve() != Path(root)]
    return os.pathsep.join([root, *rest])


def _profile_env(profile: str):
    """The kernel reads and writes the runs of this profile (``$FCOT_PROFILE``, :func:`fcot.paths.profile_runs`)."""
    return paths.environment({paths.PROFILE_ENV: profile or os.environ.get(paths.PROFILE_ENV)})


@contextlib.contextmanager
def _quiet_papermill():
    """Silence papermill's own parameter inspection warnings: its regex misreads ``=`` in help comments
    ("Unable to parse line", "Passed unknown parameter") and :func:`plan` has validated the parameters."""
    import logging

    logger = logging.getLogger("papermill")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# Progress bars of libraries (tqdm.auto) have no widget front end in a papermill kernel: they would store bar residue
# (TQDM_DISABLE) and, on import, "TqdmWarning: IProgress not found" (harmless: it only says the bars fall back to
# text) in the committed notebook. The prefetch pool's processes get the same.
_QUIET = {"TQDM_DISABLE": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1", "PYTHONWARNINGS": "ignore:IProgress not found"}

# Torch CPU threads of a kernel under --jobs N >= 2: one, unless the caller set OMP_NUM_THREADS. Several processes
# then share the cores (the prefetch pool's N workers from the study's first step on, or N grid points at once), and a
# kernel on torch's default of one thread per core would oversubscribe them (measured: a walk-through training notebook
# 5x slower). With --jobs 1 a kernel has the machine to itself and keeps torch's default (a 124M student on a CPU wants
# every core). A notebook whose numbers must not depend on --jobs sets its own ``threads`` (the default profile's
# walk-through: 1, as the sweep points).
_THREAD_ENVS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def kernel_threads(jobs: int) -> dict[str, str]:
    """The thread variables a notebook kernel of ``fcot reproduce --jobs jobs`` gets: one torch thread when processes
    share the cores (``jobs >= 2``) and OMP_NUM_THREADS is not set; else none (torch's default, or the caller's)."""
    if jobs < 2 or os.environ.get("OMP_NUM_THREADS"):
        return {}
    return {name: "1" for name in _THREAD_ENVS}


def kernel_config():
    """The kernels talk to papermill over local IPC sockets (POSIX), not TCP on localhost: nothing of a notebook's
    code or outputs crosses a network port (and ipykernel's warning about unencrypted TCP, once per notebook, goes
    away). Each call names its own sockets: kernels started at once by parallel steps never share one (jupyter_client
    would otherwise name them ``kernel-ipc-<n>`` in the working directory, racing for the same files); jupyter_client
    removes them when the kernel shuts down."""
    import tempfile
    import uuid

    from traitlets.config import Config

    if os.name != "posix":  # ZeroMQ has no IPC transport on Windows: TCP there, as Jupyter itself does
        return Config()
    sockets = os.path.join(tempfile.gettempdir(), f"fcot-kernel-{uuid.uuid4().hex[:12]}")
    return Config({"KernelManager": {"transport": "ipc", "ip": sockets}})


def local_dir(run: PlannedRun) -> Path:
    """This machine's bookkeeping of ``run``'s profile: ``runs/<profile>`` (outside git)."""
    return paths.runs_dir() / (run.profile or "default")


def failed_path(run: PlannedRun) -> Path:
    """Where a failed execution of ``run`` is kept: ``runs/<profile>/failed/<name>.ipynb``, outside git, so that a
    failed reproduction leaves nothing under ``results/`` (its last completed execution there stays)."""
    return local_dir(run) / "failed" / f"{run.output_path.stem}.ipynb"


def _scratch_path(run: PlannedRun) -> Path:
    """Where papermill writes while ``run`` executes (``runs/<profile>/executing/``): moved into ``results/`` whole
    when it completes, to :func:`failed_path` when it fails."""
    return local_dir(run) / "executing" / f"{run.output_path.stem}.ipynb"


RESUME_HINT = ("fix the cause, then run the same command again: the steps and runs that finished are reused, "
               "nothing computed is lost")


def execute_run(run: PlannedRun, options: RunOptions) -> float:
    """Execute one planned run with papermill; return wall seconds. Raises StepFailedError naming the output."""
    import nbformat
    import papermill

    run.output_path.parent.mkdir(parents=True, exist_ok=True)
    # papermill writes into a scratch file outside git: a failed execution never replaces the last completed one;
    # it is kept for reading under runs/<profile>/failed/
    scratch, failed = _scratch_path(run), failed_path(run)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    failed.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with (_absolute_path_env(), _profile_env(run.profile), paths.environment({**_QUIET, **kernel_threads(options.jobs)}),
          _quiet_papermill()):
        try:
            papermill.execute_notebook(
                str(run.notebook_path),
                str(scratch),
                parameters=dict(run.parameters),
                kernel_name=options.kernel,
                cwd=str(options.cwd or run.notebook_path.parent),
                progress_bar=False,
                start_timeout=options.start_timeout,
                config=kernel_config(),
            )
        except papermill.PapermillExecutionError as error:
            os.replace(scratch, failed)
            raise StepFailedError(
                f"step {run.step.id} ({run.notebook_path.name}) failed in cell {error.exec_count}: "
                f"{error.ename}: {error.evalue}\n  the failed execution is {failed}"
                + (f"; the last completed one is kept: {run.output_path}" if run.output_path.is_file() else "")
                + f"\n  {RESUME_HINT}",
                failed,
            ) from None
        except Exception as error:  # kernel died, could not start, ...
            if scratch.is_file():
                os.replace(scratch, failed)
            raise StepFailedError(
                f"step {run.step.id} ({run.notebook_path.name}) could not be executed: "
                f"{type(error).__name__}: {error}\n  the failed execution (if any) is {failed}\n  {RESUME_HINT}",
                failed,
            ) from None
    seconds = time.perf_counter() - start
    notebook = nbformat.read(str(scratch), as_version=4)
    scratch.unlink()
    failed.unlink(missing_ok=True)
    meta = notebook.metadata.get("papermill") or {}
    for key in ("input_path", "output_path"):  # where it ran, as paths a reader of the repository has
        if meta.get(key):
            meta[key] = paths.portable(run.notebook_path if key == "input_path" else run.output_path)
    notebook.metadata[METADATA_KEY] = {
        "status": "completed",
        "hash": run.hash,
        "step": run.step.id,
        "notebook": run.notebook_path.name,
        "parameters": dict(run.parameters),
        "grid_point": dict(run.grid_point),
        "seconds": round(seconds, 3),
        "finished_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if run.links:  # the "You are here" lines lead to the executed notebooks beside it
        notebook = nbformat.from_dict(links.rewrite_links(notebook, run.links))
    text = nbformat.writes(notebook)
    publish(run.output_path, text if text.endswith("\n") else text + "\n")  # as nbformat.write ends a file
    _stamp(run).parent.mkdir(parents=True, exist_ok=True)
    _stamp(run).write_text(run.hash + "\n", encoding="utf-8")
    return seconds


def _execute_in_worker(run: PlannedRun, options: RunOptions) -> tuple[float | None, str | None]:
    try:
        return execute_run(run, options), None
    except StepFailedError as error:
        return None, str(error)


def timings_path(profile_name: str, results_root: str | os.PathLike | None = None) -> Path:
    """The committed timings of a profile's study (``results/<profile>/timings.json``): each step's seconds as last
    *executed*, and the wall time of the last call that executed steps without a failure. A call that only skips,
    or fails, does not rewrite it (:func:`local_timings_path` keeps this machine's bookkeeping of every call)."""
    return paths.results_dir(results_root) / profile_name / "timings.json"


def local_timings_path(profile_name: str) -> Path:
    """This machine's timings of a profile (``runs/<profile>/timings.json``, outside git): every step's last status
    (ran, skipped, failed) and parameters, and the last call."""
    return paths.runs_dir() / profile_name / "timings.json"


#: What a step's ``seconds`` in timings.json measure (written into the file, for its readers).
TIMINGS_NOTE = ("seconds: each notebook's own execution. A sweep notebook's points computed ahead in the prefetch pool "
                "are timed in last_call.prefetch, not here, and a notebook whose runs had finished earlier only reads "
                "them back; a study's measured cost per run is in its runs' manifests (started, ended).")


def _write_timings(path: Path, profile: Profile, outcomes: Sequence[StepOutcome]) -> None:
    data: dict[str, Any] = {}
    with contextlib.suppress(OSError, json.JSONDecodeError):
        data = json.loads(path.read_text(encoding="utf-8"))
    steps = data.get("notebooks") if isinstance(data.get("notebooks"), dict) else {}
    folder = outcomes[0].run.output_path.parent if outcomes else None
    if folder is not None:  # a step the profile no longer has (its executed notebook is gone) is not timed
        steps = {name: step for name, step in steps.items() if (folder / f"{name}.ipynb").is_file()}
    for outcome in outcomes:
        steps[outcome.run.name] = {
            "step": outcome.run.step.id,
            "notebook": outcome.run.notebook_path.name,
            "status": outcome.status,
            "seconds": None if outcome.seconds is None else round(outcome.seconds, 3),
            "parameters": dict(outcome.run.parameters),
        }
    data.update({  # in place: keys this function does not own (last_call) stay
        "profile": profile.name,
        "note": TIMINGS_NOTE,
        "updated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "total_seconds": round(sum(s["seconds"] or 0.0 for s in steps.values()), 3),
        "notebooks": steps,
    })
    _write_json(path, data)


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of every child it has waited for -- the notebook kernels,
    their sweep workers and the ``--jobs`` processes -- so far."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def computed_runs(profile: str) -> int:
    """How many runs this machine has computed for ``profile`` (their ``.computed`` markers under ``runs/``)."""
    folder = paths.runs_dir() / profile
    return sum(1 for _ in folder.rglob(stages.COMPUTED_HERE)) if folder.is_dir() else 0


def _record_call(path: Path, seconds: float, jobs: int, outcomes: Sequence[StepOutcome],
                 cpu: float | None = None, computed: int | None = None, from_scratch: bool = False,
                 prefetch: Mapping[str, Any] | None = None) -> None:
    """Keep the wall time (and CPU seconds, ``cpu``) of a call that executed notebooks (``last_call`` in
    timings.json): with ``--jobs`` the wall time is less than the sum of the notebooks' times, and a sweep
    notebook's own seconds leave out its points computed ahead (``prefetch``: :meth:`fcot.prefetch.Prefetch.close`).
    Calls that only skipped keep the old one."""
    ran = sum(o.status == "ran" for o in outcomes)
    if not ran or not path.is_file():
        return
    with contextlib.suppress(OSError, json.JSONDecodeError):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["last_call"] = {
            "wall_seconds": round(seconds, 1), "cpu_seconds": None if cpu is None else round(cpu, 1),
            "cores": os.cpu_count(), "jobs": jobs, "executed": ran,
            "skipped": sum(o.status == "skipped" for o in outcomes),
            "finished_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        data["last_call"]["runs_computed"] = computed
        if prefetch:
            data["last_call"]["prefetch"] = dict(prefetch)
        if not data["last_call"]["skipped"] and from_scratch:  # the study's whole cost: kept by later calls
            data["last_from_scratch"] = dict(data["last_call"])
        _write_json(path, data)


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    publish(path, json.dumps(data, indent=2, default=str) + "\n")


@dataclass
class StudyReport:
    profile: Profile
    outcomes: list[StepOutcome]
    timings_path: Path

    @property
    def failed(self) -> list[StepOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def execution_groups(runs: Sequence["PlannedRun"]) -> list[list["PlannedRun"]]:
    """The planned runs cut into groups that execute together (one process pool with ``--jobs``).

    A group is one step's grid points, in order; a step marked ``with_previous: true`` joins the
    group before it, so its points fill workers that the previous step's last points leave idle
    (e.g. 3 seeds on 2 workers). Only mark steps whose points neither read the previous step's
    outputs nor share a run configuration with it.
    """
    groups: list[list[PlannedRun]] = []
    for run in runs:
        if groups and (run.step.id == groups[-1][-1].step.id or run.step.with_previous):
            groups[-1].append(run)
        else:
            groups.append([run])
    return groups


def run_study(
    profile: Profile | str,
    overrides: Sequence[Override | str] = (),
    only: str | Iterable[str] | None = None,
    options: RunOptions | None = None,
    notebooks_dir: str | os.PathLike | None = None,
    results_root: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
) -> StudyReport:
    """Validate, then execute a profile's steps in order (see the module docstring).

    Stops at the first failed step (later steps need its outputs) and raises StepFailedError
    after recording timings; returns a :class:`StudyReport` when every step ran or was skipped.
    """
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    options = options or RunOptions()
    parsed = [o if isinstance(o, Override) else parse_override(o) for o in overrides]
    runs = plan(profile, parsed, only, notebooks_dir, results_root)
    timings = timings_path(profile.name, results_root)
    committed = reproduction.committed_numbers(profile.name, results_root)  # as committed (git HEAD)
    started, cpu_started = time.monotonic(), cpu_seconds()
    computed_before = computed_runs(profile.name)
    groups = execution_groups(runs)
    execute = to_execute(groups, options.force)
    total = len(runs)
    steps_bar = progress.bar(total=total, desc=f"reproduce {profile.name}", unit="notebook")
    if log is print and not steps_bar.disable:
        log = steps_bar.write  # the step lines print above the bar
    ahead = _start_prefetch([r for r in runs if r.name in execute], options, profile.name, log)
    if ahead is not None:
        ahead.launch()  # from the first step on: the stage notebooks before the first sweep share the cores with it
    finished = False
    try:
        report = _run_groups(profile, groups, execute, options, timings, log, steps_bar, ahead)
        finished = True
    finally:
        if ahead is not None and not finished:
            log("stopping: the sweep pool takes no new points; the points in flight finish (their runs are kept for "
                "the next call) ...")
        pool = ahead.close(finished) if ahead is not None else None
        steps_bar.close()
    call = dict(seconds=time.monotonic() - started, jobs=options.jobs, outcomes=report.outcomes,
                cpu=cpu_seconds() - cpu_started, computed=computed_runs(profile.name) - computed_before,
                from_scratch=computed_before == 0 and only is None and not parsed, prefetch=pool)
    _record_call(local_timings_path(profile.name), **call)
    _record_call(timings, **call)
    log(format_summary(report))
    if any(o.status == "ran" for o in report.outcomes):
        log(format_reproduction(reproduction.check(profile.name, committed, results_root)))
    return report


def to_execute(groups: Sequence[Sequence["PlannedRun"]], force: bool = False) -> set[str]:
    """The names of the planned runs that will execute: all with ``force``; else each one that this machine has not
    completed with the same parameters and notebook (:func:`is_complete`), and every run after the first such one
    (its inputs may have changed)."""
    execute: set[str] = set()
    for group in groups:
        todo = {run.name for run in group if force or execute or not is_complete(run)}
        execute |= todo
    return execute


def _start_prefetch(runs: Sequence["PlannedRun"], options: "RunOptions", profile: str, log):
    """The sweep points of ``runs``, computed ahead in one pool of ``options.jobs`` processes (:mod:`fcot.prefetch`),
    in the environment the kernels get; None with one job or nothing to compute."""
    if options.jobs < 2:
        return None
    planned = []
    for run in runs:
        values = {name: parameter.default for name, parameter in notebook_parameters(run.notebook_path).items()}
        planned.append((run.name, run.step.notebook, {**values, **run.parameters}))
    @contextlib.contextmanager
    def environment():
        with _absolute_path_env(), _profile_env(profile), paths.environment(_QUIET):
            yield

    with environment():
        return prefetch.start(planned, options.jobs, log, environment)


def _run_groups(profile, groups, execute, options, timings, log, steps_bar, ahead) -> "StudyReport":
    outcomes: list[StepOutcome] = []
    total = sum(len(group) for group in groups)
    done = 0
    for group in groups:
        todo, group_outcomes = [], {}
        for run in group:
            if run.name not in execute:
                group_outcomes[run.name] = StepOutcome(run, "skipped", _recorded_seconds(run))
            else:
                todo.append(run)
                if ahead is not None:
                    ahead.wait(run.name)  # its sweep points, computed ahead
        for run in group:
            if run.name in group_outcomes:
                done += 1
                steps_bar.update(1)
                log(f"[{done}/{total}] {run.name}: up to date, skipped ({run.output_path})")
        failures: list[StepOutcome] = []
        if options.jobs > 1 and len(todo) > 1:
            context = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(min(options.jobs, len(todo)), mp_context=context) as pool:
                # longest first (by the seconds recorded in the previous output notebook): fewer idle
                # workers at the end of a group
                longest_first = sorted(todo, key=lambda r: -(_recorded_seconds(r) or 0.0))
                futures = {pool.submit(_execute_in_worker, run, options): run for run in longest_first}
                for future in concurrent.futures.as_completed(futures):
                    run = futures[future]
                    if future.cancelled():  # not started: a step of the group failed first
                        continue
                    seconds, error = future.result()
                    done += 1
                    steps_bar.update(1)
                    outcome = StepOutcome(run, "failed" if error else "ran", seconds, error)
                    group_outcomes[run.name] = outcome
                    log(f"[{done}/{total}] {run.name}: " + ("FAILED" if error else f"ran in {seconds:.1f} s"))
                    if error:
                        failures.append(outcome)
                        for pending in futures:  # nothing new starts after a failure; the ones running finish
                            pending.cancel()
        else:
            for run in todo:
                done += 1
                log(f"[{done}/{total}] {run.name}: running {run.notebook_path.name} ...")
                try:
                    seconds = execute_run(run, options)
                except StepFailedError as error:
                    outcome = StepOutcome(run, "failed", None, str(error))
                    group_outcomes[run.name] = outcome
                    failures.append(outcome)
                    break
                group_outcomes[run.name] = StepOutcome(run, "ran", seconds)
                steps_bar.update(1)
                log(f"[{done}/{total}] {run.name}: ran in {seconds:.1f} s")
        ordered = [group_outcomes[r.name] for r in group if r.name in group_outcomes]
        outcomes.extend(ordered)
        _write_timings(local_timings_path(profile.name), profile, ordered)
        ran = [o for o in ordered if o.status == "ran"]
        if ran:  # the committed timings change only where a step was executed (never for a skip or a failure)
            _write_timings(timings, profile, ran)
        if failures:
            report = StudyReport(profile, outcomes, timings)
            log(format_summary(report))
            first = failures[0]
            raise StepFailedError(
                "\n".join(f.error or "" for f in failures), failed_path(first.run)
            )
    return StudyReport(profile, outcomes, timings)


def format_plan(runs: Sequence[PlannedRun]) -> str:
    """One line per planned execution: number, output name, state, parameters."""
    lines = []
    for index, run in enumerate(runs, start=1):
        state = "done" if is_complete(run) else "to run"
        params = ", ".join(f"{k}={v!r}" for k, v in run.parameters.items()) or "(notebook defaults)"
        lines.append(f"{index:>3}. {run.name:<40} [{state}] {run.notebook_path.name}: {params}")
    return "\n".join(lines) if lines else "(no steps)"


def format_summary(report: StudyReport) -> str:
    """A small table of what ran, what was skipped and how long each took."""
    lines = [f"profile {report.profile.name}: {len(report.outcomes)} notebook(s)"]
    for outcome in report.outcomes:
        seconds = "-" if outcome.seconds is None else f"{outcome.seconds:8.1f} s"
        lines.append(f"  {outcome.status:<8} {seconds:>10}  {outcome.run.name}")
    ran = sum(o.seconds or 0.0 for o in report.outcomes if o.status == "ran")
    lines.append(f"  executed in this call: {ran:.1f} s; timings: {report.timings_path}")
    return "\n".join(lines)
