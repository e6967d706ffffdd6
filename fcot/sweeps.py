"""Sweeps: many points of one ablation, run as cached experiments in a pool of processes or on a Dask cluster.

A sweep is a list of :class:`fcot.experiments.ExperimentConfig` points: :func:`grid` (every combination
of some fields' values), :func:`arms` (the paper's Table 1 rows, ``"ft_cot D=4"``), or
:func:`sweep_points` (what notebooks 30-36 take as parameters). :func:`sweep` runs them: finished
points are read back, the others run in long-lived worker processes (one import each) or on a Dask
cluster, and one row per point comes back.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any, Callable, Mapping, Sequence

from fcot.ablations import ABLATIONS
from fcot.curate import arm_label
from fcot.experiments import KIND, ExperimentConfig, run_experiment
from fcot.records import is_int
from fcot.runs import Run
from fcot import curate, paths, stages, steps


def grid(config: ExperimentConfig, **axes: Sequence) -> list[ExperimentConfig]:
    """``config`` at every combination of ``axes`` (field -> values), e.g.
    ``grid(base, degree=[1, 2, 4], seed=[0, 1, 2])``; a value list must not be empty."""
    import itertools

    for name, values in axes.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValueError(f"sweep axis {name!r} must be a non-empty list of values, got {values!r}")
    names = list(axes)
    return [config.replace(**dict(zip(names, combo))) for combo in itertools.product(*(axes[n] for n in names))]


def parse_arm(label: str) -> dict[str, Any]:
    """``"vanilla"`` -> ``{"method": "vanilla", "degree": 1}``; ``"ft_cot D=4"`` -> ``{"method": "ft_cot", "degree": 4}``
    (the labels of :func:`arm_label`, the rows of the paper's Table 1)."""
    method, _, rest = str(label).strip().partition(" ")
    degree = 1
    if rest:
        if not rest.startswith("D=") or not rest[2:].isdigit() or int(rest[2:]) < 1:
            raise ValueError(f"arm {label!r}: write a method, optionally followed by ' D=<degree>' (e.g. 'ft_cot D=4')")
        degree = int(rest[2:])
    if method not in curate.METHODS:
        raise ValueError(f"arm {label!r}: method {method!r} is not one of {', '.join(curate.METHODS)}")
    return {"method": method, "degree": degree}


def arms(config: ExperimentConfig, labels: Sequence[str], seeds: Sequence[int]) -> list[ExperimentConfig]:
    """``config`` for every arm label (:func:`parse_arm`) and seed."""
    return [config.replace(**parse_arm(label), seed=seed) for label in labels for seed in seeds]


def sweep_points(name: str, parameters: Mapping[str, Any]) -> list[ExperimentConfig]:
    """The points of ablation ``name``'s sweep from a notebook's parameters (its ``globals()``, or a
    profile step's): ``arms`` x ``seeds`` for ``methods``, else the list of the ablation's varied field x
    ``seeds`` around the other parameters. The first point is the sweep's base configuration."""
    seeds = list(parameters.get("seeds") or [0])
    if name == "methods":
        labels = list(parameters["arms"])
        if not labels:
            raise ValueError("arms must be a non-empty list, e.g. ['vanilla', 'ft_cot', 'ft_cot D=4']")
        base = ExperimentConfig.from_parameters(parameters, **parse_arm(labels[0]), seed=seeds[0])
        return arms(base, labels, seeds)
    axis = ABLATIONS[name].vary[0] if name in ABLATIONS else _unknown(name)
    values = parameters[axis]
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{axis} must be a non-empty list of the values this sweep takes, got {values!r}")
    base = ExperimentConfig.from_parameters(parameters, **{axis: values[0]}, seed=seeds[0])
    return grid(base, **{axis: values, "seed": seeds})


def finished_result(config: ExperimentConfig) -> dict | None:
    """The metrics of ``config``'s finished experiment run (with ``run_path``), or None; opens nothing."""
    run = Run.peek(KIND, config.canonical(), config.run_name, config.seed)
    if not stages.reusable(run, stages.COMPUTED_HERE):  # unfinished, or committed but not computed here
        return None
    return {**run.metrics, "run_path": paths.portable(run.path), "config_hash": run.hash, "skipped": True}


def run_point(values: dict, threads: int | None) -> dict:
    """One sweep point in a worker process (module level, so it pickles): its metrics."""
    return run_experiment(ExperimentConfig(**values), threads=threads)


@contextlib.contextmanager
def _executor(workers: int, cluster: str):
    """A concurrent.futures executor: local spawned processes, or a Dask cluster's (closed on exit)."""
    if cluster:
        try:
            from dask.distributed import Client
        except ImportError:
            raise ImportError("cluster= needs Dask's distributed scheduler: pip install 'fcot[cluster]'") from None
        with Client(cluster) as client:
            yield client.get_executor()
        return
    import concurrent.futures
    import multiprocessing

    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def sweep(points: Sequence[ExperimentConfig], *, workers: int = 1, threads: int | None = 1, cluster: str = "",
          log: Callable[[str], None] | None = None):
    """Run every point of a sweep as an experiment and return one row per point (a DataFrame).

    Finished points are read back, not recomputed. The others run in ``workers`` long-lived local
    processes (one interpreter start and torch import per worker, each training on ``threads``
    torch threads), in this process when ``workers`` is 1, or on the Dask cluster whose scheduler
    address is ``cluster`` (e.g. ``tcp://host:8786``; needs ``fcot[cluster]``; the workers need
    this package, the data mirror and a shared results and runs folder).
    """
    import pandas as pd

    if not is_int(workers) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    unique = list({config.key(): config for config in points}.values())
    results: dict[str, dict] = {}
    todo = []
    for config in unique:
        found = finished_result(config)
        if found is None:
            todo.append(config)
        else:
            results[config.key()] = found
    if todo and workers == 1 and not cluster:
        for config in todo:
            results[config.key()] = run_experiment(config, threads=threads)
            if log:
                log(f"{config.run_name} seed {config.seed}: {results[config.key()]['accuracy']:.3f}")
    elif todo:
        with _executor(min(workers, len(todo)), cluster) as pool:
            futures = {pool.submit(run_point, dataclasses.asdict(config), threads): config for config in todo}
            for future in futures:
                config = futures[future]
                results[config.key()] = future.result()
                if log:
                    log(f"{config.run_name} seed {config.seed}: {results[config.key()]['accuracy']:.3f}")
    rows = []
    for config in unique:
        result = results[config.key()]
        resolved = config.resolved()
        rows.append({"arm": arm_label(config.method, config.degree), **{f: getattr(config, f) for f in SWEEP_COLUMNS},
                     **{f: resolved[f] for f in ("epochs", "batch_size", "lr")},
                     **{k: result.get(k) for k in ("accuracy", "low", "high", "val_accuracy", "samples_val", "teacher_accuracy_test",
                                                   "samples_train", "best_epoch", "train_seconds", "wall_seconds",
                                                   "skipped")}})
    return pd.DataFrame(rows)


SWEEP_COLUMNS = ("task", "n_train", "teacher_accuracy", "degree", "student", "filter_mode", "max_rationale_tokens", "seed")

def settings(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """A sweep notebook's settings (29-36) from its parameters (its ``globals()``, or a planned step's values): the
    base point of profile ``parameters["profile"]`` (:func:`fcot.study.profiles.base_point`), with the changes in
    ``parameters["base"]``, under the notebook's own values (what it varies, ``seeds``, ``workers``, ...)."""
    from fcot.study.profiles import base_point  # a cycle: fcot.study runs sweeps (through fcot.prefetch)

    changes = parameters.get("base") or {}
    if not isinstance(changes, Mapping):
        raise ValueError(f"base must be a mapping of ExperimentConfig field: value, got {changes!r}")
    point = base_point(parameters.get("profile") or "smoke")
    fields = steps.base_fields()
    for where, values in (("base", changes), (f"the base of profile {parameters.get('profile')!r}", point)):
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)} of a base point; accepted: "
                             f"{', '.join(fields)} (fcot.experiments.ExperimentConfig; seeds are the notebook's)")
    return {**point, **changes, **{k: v for k, v in parameters.items() if k != "base"}}


#: The classroom setting of notebooks 30-36 (``classroom=True``): the base point of profile :data:`CLASSROOM_PROFILE`
#: (the default study's: synthetic 2-word last letter, 800 questions, the simulator at 70%, tiny-gpt2-s, 10 epochs at
#: batch 8) with one seed and two values of what the notebook varies, chosen so that the student really learns and the
#: trend shows; about a minute to two on a 2-core laptop. The points are the default study's own, so a machine that
#: ran `make reproduce` reads them back at once.
CLASSROOM_PROFILE = "default"
CLASSROOM: dict[str, dict[str, Any]] = {
    "methods": {"arms": ["vanilla", "ft_cot"]},
    "degree": {"degree": [1, 4], "n_train": 400},  # where questions are few, as in the study's second degree sweep
    "data_size": {"n_train": [200, 800]},
    "teacher_quality": {"teacher_accuracy": [0.5, 0.9]},
    "student_size": {"student": ["tiny-gpt2-xs", "tiny-gpt2-s"]},
    "filtering": {"filter_mode": ["correct_only", "keep_all"]},
    "rationale_length": {"max_rationale_tokens": [8, None]},
}


def classroom(name: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """A notebook's parameters with ablation ``name``'s classroom sweep (:data:`CLASSROOM`) in place of its own values
    and its base point (``study``, ``cluster`` and the rest are kept): :data:`CLASSROOM_PROFILE`'s base point, one
    seed, two workers of one thread."""
    if name not in CLASSROOM:
        _unknown(name)
    own = {k: v for k, v in parameters.items() if k not in ("base", "profile")}
    return settings({**own, "profile": CLASSROOM_PROFILE, "seeds": [0], "workers": 2, "threads": 1, **CLASSROOM[name]})


def sweep_settings(name: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """What sweep notebook ``name`` (an ablation) runs: its :func:`classroom` settings with ``classroom=True``, else
    its :func:`settings`."""
    return classroom(name, parameters) if parameters.get("classroom") else settings(parameters)


def _unknown(name: str):
    raise ValueError(f"unknown ablation {name!r}; accepted: {', '.join(ABLATIONS)}")


def __getattr__(name: str):
    if name == "CLASSROOM_BASE":
        raise AttributeError("fcot.sweeps.CLASSROOM_BASE is gone: the classroom sweeps read the base point of profile "
                             "fcot.sweeps.CLASSROOM_PROFILE (fcot.study.profiles.base_point(CLASSROOM_PROFILE))")
    raise AttributeError(f"module 'fcot.sweeps' has no attribute {name!r}")
