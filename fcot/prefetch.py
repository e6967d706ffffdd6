"""Prefetch: the experiment points of a study's sweep steps, computed ahead in one pool of processes, longest first.

Each sweep notebook (29-36) runs its own points in its own ``workers``; run one after another, every
sweep's last points leave a worker idle (a sweep of 3 seeds on 2 workers, or one long point at the end).
``fcot reproduce --jobs N`` therefore plans the points of every sweep step it is about to execute (:func:`start`)
and, from its first step on (:meth:`Prefetch.launch`), computes them all in one pool of N processes, longest first
(by the wall seconds of the committed run of the same configuration, else by training samples x epochs). The stage
notebooks before the first sweep run beside the pool, each kernel on one torch thread
(:func:`fcot.study.kernel_threads`; on torch's default of one per core it would oversubscribe the cores, measured:
a walk-through training notebook 5x slower), instead of alone while a core idles. A sweep notebook starts once its
own points are finished (:meth:`Prefetch.wait`) and reads them back: the same runs, with the same configuration and torch
threads, that it would have computed itself. A point that fails here is left to
its notebook, which computes it again and shows the error where a reader looks.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import multiprocessing
import time
from typing import Any, Callable, Mapping, Sequence

from fcot import steps, sweeps
from fcot.experiments import KIND, ExperimentConfig
from fcot.runs import Run
from fcot.students import TINY_ALIASES, TINY_STUDENTS


def step_points(notebook: str, values: Mapping[str, Any]) -> list[ExperimentConfig]:
    """The points a notebook computes with ``values`` (its parameters cell's defaults and the step's values);
    [] for a notebook without a sweep, or values its notebook will refuse (the notebook then says why)."""
    try:
        return steps.points(notebook, values)
    except (ValueError, TypeError, KeyError):
        return []


def expected_seconds(config: ExperimentConfig) -> float:
    """How long ``config`` should take, to start the longest first: the wall seconds of its committed (or earlier)
    run when there is one, else its samples x epochs x the student's relative step cost (a tiny student's: measured
    on the default study, about 0.3 + 0.7 x its matmul FLOPs relative to tiny-gpt2-s; other students: 1)."""
    recorded = Run.peek(KIND, config.canonical(), config.run_name, config.seed).metrics.get("wall_seconds")
    if isinstance(recorded, (int, float)):
        return float(recorded)
    resolved = config.resolved()
    samples = (config.n_train or 1000) * config.degree * (2 if config.method == "multitask" else 1)
    spec, base = TINY_STUDENTS.get(TINY_ALIASES.get(config.student, config.student)), TINY_STUDENTS["tiny-gpt2-s"]
    step = 1.0 if spec is None else 0.3 + 0.7 * (spec.layers * spec.d_model ** 2) / (base.layers * base.d_model ** 2)
    return samples * (resolved.get("epochs") or 1) * step / 20_000


@dataclasses.dataclass
class Prefetch:
    """Planned points, longest first (``todo``: config key, config, torch threads), and, once launched, their pool;
    ``waiting`` maps a planned run's name to the config keys it needs."""

    todo: list[tuple[str, ExperimentConfig, int | None]]
    waiting: dict[str, list[str]]
    processes: int
    log: Callable[[str], None]
    environment: Callable[[], Any] = contextlib.nullcontext  # a context manager factory: the kernels' environment
    pool: Any = None
    results: dict[str, Any] = dataclasses.field(default_factory=dict)  # config key -> its Future
    started: float | None = None
    failed: set[str] = dataclasses.field(default_factory=set)

    def launch(self) -> None:
        """Start the pool (in :attr:`environment`, which its processes copy) and hand it every point, longest first."""
        if self.pool is not None:
            return
        self.started = time.monotonic()
        with self.environment():  # the executor starts its processes while points are submitted
            self.pool = concurrent.futures.ProcessPoolExecutor(self.processes,
                                                               mp_context=multiprocessing.get_context("spawn"))
            self.results = {key: self.pool.submit(sweeps.run_point, dataclasses.asdict(config), threads)
                            for key, config, threads in self.todo}

    def wait(self, run_name: str) -> None:
        """Block until the points of planned run ``run_name`` are finished (or failed: its notebook retries them),
        launching the pool at the first run that has any."""
        keys = self.waiting.pop(run_name, [])
        if keys:
            self.launch()
        for key in keys:
            error = self.results[key].exception()  # waits; a process that died fails its points (BrokenProcessPool)
            if error is not None and key not in self.failed:  # the notebook computes it again, showing any error
                self.failed.add(key)
                config = next(c for k, c, _ in self.todo if k == key)
                self.log(f"prefetch: {config.run_name} seed {config.seed} failed ({type(error).__name__}: "
                         f"{error}); {run_name} computes it again")

    def close(self, finished: bool = True) -> dict[str, Any]:
        """Wait for the pool's points (``finished``), or, for a failed or interrupted study, drop the points not
        started and let the running ones end (a finished run is kept for the next call); return what it did:
        points, computed and failed points, wall seconds from launch, processes."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=not finished)
        done = sum(1 for r in self.results.values() if r.done() and not r.cancelled() and r.exception() is None)
        seconds = 0.0 if self.started is None else time.monotonic() - self.started
        return {"points": len(self.todo), "computed": done, "failed": len(self.failed),
                "wall_seconds": round(seconds, 1), "processes": self.processes}


def start(planned: Sequence[tuple[str, str, Mapping[str, Any]]], jobs: int, log: Callable[[str], None] = print,
          environment: Callable[[], Any] = contextlib.nullcontext) -> Prefetch | None:
    """Plan the unfinished points of ``planned`` (``(run name, notebook, values)`` of the steps about to execute) for
    a pool of ``jobs`` processes, longest first; None when there is nothing to compute ahead. The pool starts at
    :meth:`Prefetch.launch` (``fcot reproduce``: before its first step), or else at the first :meth:`Prefetch.wait`
    of a run with points.

    Call it in the environment the notebook kernels get (the profile's runs are where finished points are looked
    up); ``environment`` makes a context manager that sets it again when the pool starts (its processes copy it)."""
    by_key: dict[str, tuple[ExperimentConfig, int | None]] = {}
    waiting: dict[str, list[str]] = {}
    for name, notebook, values in planned:
        threads = values.get("threads")
        keys = []
        for config in step_points(notebook, values):
            key = config.key()
            keys.append(key)
            by_key.setdefault(key, (config, threads))
        if keys:
            waiting[name] = keys
    todo = [(key, config, threads) for key, (config, threads) in by_key.items()
            if sweeps.finished_result(config) is None]
    if jobs < 2 or not todo:
        return None
    todo.sort(key=lambda item: -expected_seconds(item[1]))
    unfinished = {key for key, _, _ in todo}
    waiting = {name: [k for k in keys if k in unfinished] for name, keys in waiting.items()}
    processes = min(jobs, len(todo))
    log(f"prefetch: {len(todo)} experiment points of {sum(1 for k in waiting.values() if k)} sweep steps, to compute "
        f"in {processes} processes, longest first ({len(by_key) - len(todo)} already finished)")
    return Prefetch(todo, waiting, processes, log, environment)
