"""Planning: a profile expanded into its notebook executions and validated before anything runs.

**Validation** happens before anything runs: every step's notebook must exist, every parameter
must be one of the notebook's ``parameters`` cell (papermill itself would only warn), and values
must match the simple annotated types (``int``, ``float``, ``str``, ``bool``, ``X | None``,
``Optional[X]``, ``list``, ``dict``); errors name the profile file (or the ``--set``), the step, the
parameter and the accepted ones. A key stated twice in one YAML mapping (two ``steps:``, two ``seed:``) is an error
naming the file and line (merge keys, ``<<: *base``, still work). Each step's values are also built into the configs
its notebook builds (the stage configs, notebook 20's TrainConfig, a sweep's ExperimentConfig points), so
``--list`` refuses ``lr=-1`` or ``base_url=ftp://x`` naming the step and the ``--set``. A grid axis (a ``--set`` list
on a parameter that is not a list included) must not repeat a value, no two runs may write one output notebook,
and ``--only`` must select at least one step. :func:`validate_profile` checks one profile file.

A sweep notebook (29-36, :func:`fcot.steps.reads_base`) reads its base point from the profile: the planner sets its
``profile`` parameter, accepts every :class:`~fcot.experiments.ExperimentConfig` field the notebook does not declare as
a parameter of the step (``n_train: 200``, ``--set epochs=1``, a grid over ``task``) and moves those into its ``base``
parameter, the changes to the profile's ``base:``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from fcot import links, paths, steps
from fcot.records import is_int
from fcot.study import profiles
from fcot.study.parameters import NotebookParameter, coerce_value, is_grid_axis, notebook_parameters
from fcot.study.profiles import Override, Profile, ProfileError, StepSpec, load_profile, matches, select_steps


@dataclass(frozen=True)
class PlannedRun:
    """One notebook execution: a step at one grid point, with its effective parameters."""

    step: StepSpec
    notebook_path: Path
    output_path: Path
    parameters: Mapping[str, Any]  # what papermill injects (the notebook's defaults are not repeated)
    grid_point: Mapping[str, Any]
    hash: str
    profile: str = ""  # the profile's name: the kernel's FCOT_PROFILE (whose runs it reads and writes)
    links: Mapping[str, str] = field(default_factory=dict)  # source notebook stem -> what its links lead to here

    @property
    def name(self) -> str:
        return self.output_path.stem


def _grid_suffix(point: Mapping[str, Any]) -> str:
    return "_".join(f"{k}-{re.sub(r'[^A-Za-z0-9_.+-]', '-', str(v))}" for k, v in point.items())


def _hash(notebook_path: Path, parameters: Mapping[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(notebook_path.read_bytes())
    digest.update(json.dumps(parameters, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()[:16]


_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MISSING = object()


def _substitute(parameters: dict[str, Any], extra: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Replace ``${name}`` in string values by other parameters' values (or ``profile``/``step``)."""
    names = {**{k: v for k, v in parameters.items() if not isinstance(v, (list, dict))}, **extra}
    result = {}
    for key, value in parameters.items():
        if isinstance(value, str) and "$" in value:
            try:
                value = string.Template(value).substitute({k: str(v) for k, v in names.items()})
            except KeyError as error:
                raise ProfileError(
                    f"{where}: parameter {key}={value!r} refers to ${{{error.args[0]}}}, which is not a "
                    f"parameter of this step (known: {', '.join(sorted(names))})"
                ) from None
            except ValueError as error:
                raise ProfileError(f"{where}: parameter {key}={value!r}: {error} (write $$ for a literal $)") from None
        result[key] = value
    return result


def plan(
    profile: Profile,
    overrides: Sequence[Override] = (),
    only: str | Iterable[str] | None = None,
    notebooks_dir: str | os.PathLike | None = None,
    results_root: str | os.PathLike | None = None,
) -> list[PlannedRun]:
    """Expand and validate a profile into the ordered list of notebook executions (runs nothing).

    Raises ProfileError naming the profile file (or ``--set``), the step, the parameter and what
    is accepted, for a missing notebook, an unknown parameter or a value of the wrong type.
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else profiles.NOTEBOOKS_DIR
    out_dir = paths.results_dir(results_root) / profile.name / "notebooks"
    declared = _declared_parameters(profile, folder)
    _check_defaults(profile, declared)
    for override in overrides:
        _check_override(profile, override, declared)
    runs: list[PlannedRun] = []
    for step in select_steps(profile.steps, only):
        runs.extend(_step_runs(profile, step, overrides, declared[step.id], folder, out_dir))
    if not runs:
        raise ProfileError(f"{profile.path}: profile {profile.name} has no steps: it would execute no notebook")
    _check_outputs(runs)
    return _with_links(runs, profile, folder, out_dir)


def _declared_parameters(profile: Profile, folder: Path) -> dict[str, dict[str, NotebookParameter]]:
    """Each step's notebook parameters (by step id); a step whose notebook does not exist is an error."""
    declared: dict[str, dict[str, NotebookParameter]] = {}
    for step in profile.steps:
        notebook_path = folder / f"{step.notebook}.ipynb"
        if not notebook_path.is_file():
            existing = sorted(p.stem for p in folder.glob("*.ipynb")) if folder.is_dir() else []
            raise ProfileError(
                f"{step.source}: notebook {notebook_path} does not exist; existing notebooks: "
                f"{', '.join(existing) or 'none'}"
            )
        declared[step.id] = _with_base_fields(step.notebook, notebook_parameters(notebook_path))
    return declared


def _with_base_fields(notebook: str, declared: dict[str, NotebookParameter]) -> dict[str, NotebookParameter]:
    """A sweep notebook's parameters (:func:`fcot.steps.reads_base`) with the base point's fields it does not declare:
    a profile may set them as its own (``n_train: 200``, ``--set epochs=1``, a grid over ``task``), and
    :func:`_fold_base` moves them into the notebook's ``base`` parameter."""
    if not steps.reads_base(notebook) or "base" not in declared:
        return declared
    fields = {name: NotebookParameter(name, annotation, None, "a field of the base point (into base)", in_base=True)
              for name, annotation in steps.base_fields().items() if name not in declared}
    return {**declared, **fields}


def _fold_base(values: Mapping[str, Any], accepted: Mapping[str, NotebookParameter]) -> dict[str, Any]:
    """``values`` with the base-point fields set as parameters of their own moved into ``base`` (where they win)."""
    moved = {name: value for name, value in values.items() if accepted[name].in_base}
    if not moved:
        return dict(values)
    kept = {name: value for name, value in values.items() if name not in moved}
    return {**kept, "base": {**(kept.get("base") or {}), **moved}}


def _check_defaults(profile: Profile, declared: Mapping[str, Mapping[str, NotebookParameter]]) -> None:
    """Every profile default is a parameter of some step's notebook."""
    unused = [name for name in profile.defaults if not any(name in declared[s.id] for s in profile.steps)]
    if unused:
        raise ProfileError(
            f"{profile.path}: defaults {', '.join(unused)} are not a parameter of any step's notebook "
            f"({', '.join(s.notebook for s in profile.steps) or 'no steps'})"
        )


def _check_override(profile: Profile, override: Override,
                    declared: Mapping[str, Mapping[str, NotebookParameter]]) -> None:
    """A ``--set`` selects at least one step, and one of the steps it selects has its parameter (or grid axis)."""
    targets = [s for s in profile.steps if override.selector is None or matches(override.selector, s)]
    if override.selector is not None and not targets:
        raise ProfileError(
            f"--set {override.text}: {override.selector!r} matches no step of profile {profile.name}; "
            f"steps: {', '.join(s.id for s in profile.steps)}"
        )
    if not any(override.name in declared[s.id] or override.name in s.grid for s in targets):
        accepted = sorted(set().union(*(declared[s.id] for s in targets))) if targets else []
        which = (
            f"step {', '.join(s.id for s in targets)} has no parameter"
            if override.selector
            else "no step's notebook has a parameter"
        )
        raise ProfileError(
            f"--set {override.text}: {which} {override.name!r}; accepted: {', '.join(accepted) or 'none'}"
        )


def _step_runs(profile: Profile, step: StepSpec, overrides: Sequence[Override],
               accepted: Mapping[str, NotebookParameter], folder: Path, out_dir: Path) -> list[PlannedRun]:
    """One step's planned runs, one per grid point, its values validated."""
    notebook_path = folder / f"{step.notebook}.ipynb"
    values, origin, grid = _step_values(profile, step, overrides, accepted)
    _check_grid(step, grid, accepted, origin)
    _check_known(step, values, grid, accepted, origin)
    runs = []
    axes = list(grid)
    for point_values in itertools.product(*(grid[a] for a in axes)) if axes else [()]:
        point = dict(zip(axes, point_values))
        merged = {**values, **point}
        merged = _substitute(merged, {"profile": profile.name, "step": step.id}, step.source)
        checked = _fold_base(_coerced(step, merged, accepted, origin), accepted)
        _check_values(step, {**{n: p.default for n, p in accepted.items() if not p.in_base}, **checked}, origin)
        suffix = f"__{_grid_suffix(point)}" if point else ""
        runs.append(
            PlannedRun(
                step=step,
                notebook_path=notebook_path,
                output_path=out_dir / f"{step.id}{suffix}.ipynb",
                parameters=checked,
                grid_point=point,
                hash=_hash(notebook_path, checked),
                profile=profile.name,
            )
        )
    return runs


def _step_values(profile: Profile, step: StepSpec, overrides: Sequence[Override],
                 accepted: Mapping[str, NotebookParameter]) -> tuple[dict[str, Any], dict[str, str], dict[str, tuple]]:
    """A step's values, where each was set, and its grid: the profile's defaults (where the notebook has them), the
    step's parameters, then the global ``--set`` overrides and the step's own (which win)."""
    values: dict[str, Any] = {k: v for k, v in profile.defaults.items() if k in accepted}
    origin: dict[str, str] = {k: f"{profile.path} (defaults)" for k in values}
    if "profile" in accepted and steps.reads_base(step.notebook):  # the profile whose base point the notebook reads
        values = {"profile": profiles.reference(profile), **values}
        origin.setdefault("profile", f"{profile.path} (its base)")
    for name, value in step.parameters.items():
        values[name], origin[name] = value, step.source
    grid = dict(step.grid)
    # Global overrides first, then step-specific ones (which win).
    for override in sorted(overrides, key=lambda o: o.selector is not None):
        if override.selector is not None and not matches(override.selector, step):
            continue
        if override.name not in accepted and override.name not in grid:
            continue  # applies where the notebook has the parameter (checked above: at least one has)
        if override.name in grid or isinstance(override.value, list) and is_grid_axis(accepted[override.name]):
            grid.pop(override.name, None)
            if isinstance(override.value, list):
                grid[override.name] = tuple(override.value)
                values.pop(override.name, None)
                origin[override.name] = f"--set {override.text}"
                continue
        values[override.name], origin[override.name] = override.value, f"--set {override.text}"
    return values, origin, grid


def _check_grid(step: StepSpec, grid: Mapping[str, tuple], accepted: Mapping[str, NotebookParameter],
                origin: dict[str, str]) -> None:
    """Record where each grid axis was set (in ``origin``); an axis is not empty and lists each value once."""
    for name, axis in grid.items():
        origin[name] = f"{step.source} (grid)" if name in step.grid else origin.get(name, step.source)
        if not axis:
            raise ProfileError(f"{origin[name]}: grid {name} is empty")
        repeated = next((v for i, v in enumerate(axis) if any(v == w for w in axis[:i])), _MISSING)
        if repeated is not _MISSING:
            scalar = name in accepted and name not in step.grid and is_grid_axis(accepted[name])
            raise ProfileError(
                f"{origin[name]}: step {step.id}, parameter {name!r}: the value {repeated!r} is listed twice in "
                f"{list(axis)!r}; each value of a grid axis is one run with its own output, so two runs "
                f"would write one output ({step.id}__{_grid_suffix({name: repeated})}...ipynb); "
                f"list each value once"
                + (f" (a list for {name}, annotated {accepted[name].annotation}, runs each value: give one "
                   f"value, e.g. {name}={repeated!r}, for a single run)" if scalar else "")
            )


def _check_known(step: StepSpec, values: Mapping[str, Any], grid: Mapping[str, tuple],
                 accepted: Mapping[str, NotebookParameter], origin: Mapping[str, str]) -> None:
    """Every value and grid axis is a parameter of the notebook, or a grid axis used as ``${name}`` in a value."""
    referenced = {m.group(1) for v in values.values() if isinstance(v, str) for m in _REFERENCE.finditer(v)}
    for name in list(values) + list(grid):
        if name not in accepted and not (name in grid and name in referenced):
            raise ProfileError(
                f"{origin[name]}: unknown parameter {name!r} for notebook {step.notebook}.ipynb; "
                f"accepted: {', '.join(accepted) or 'none (it has no parameters cell)'} (a grid axis that "
                f"is not a parameter must be used as ${{{name}}} in one)"
            )


def _coerced(step: StepSpec, merged: Mapping[str, Any], accepted: Mapping[str, NotebookParameter],
             origin: Mapping[str, str]) -> dict[str, Any]:
    """The values papermill injects at one grid point, each checked against the notebook's annotation."""
    checked = {}
    for name, value in merged.items():
        if name not in accepted:
            continue  # a grid axis used only in ${...}: substituted, not injected
        try:
            checked[name] = coerce_value(value, accepted[name].annotation)
        except TypeError as error:
            raise ProfileError(f"{origin[name]}: parameter {name!r} of {step.notebook}.ipynb: {error}") from None
    return checked


def _check_outputs(runs: Sequence[PlannedRun]) -> None:
    """Never two executions writing one output notebook (concurrently, under --jobs)."""
    writers: dict[Path, PlannedRun] = {}
    for run in runs:
        other = writers.setdefault(run.output_path, run)
        if other is not run:
            raise ProfileError(
                f"{run.step.source}: two runs would write one output {run.output_path.name}: "
                f"{_run_label(other)} and {_run_label(run)}; give one of the steps another 'output' name, or grid "
                f"values that differ in letters, digits and _ . + -"
            )


def _run_label(run: PlannedRun) -> str:
    point = ", ".join(f"{k}={v!r}" for k, v in run.grid_point.items())
    return f"step {run.step.id}" + (f" at {point}" if point else "")


def _with_links(runs: list[PlannedRun], profile: Profile, folder: Path, out_dir: Path) -> list[PlannedRun]:
    """Each run with the link targets of its executed notebook (:func:`fcot.links.executed_names`): a source
    notebook's executed copy in this profile (every step, whatever ``--only`` selected: a notebook's links do not
    depend on the call), else the source notebook itself (relative to the executed copy)."""
    named = {run.step.id: run.name for run in runs}  # a grid step's first point
    executed = [(step.notebook, named.get(step.id, step.id)) for step in profile.steps]
    sources = {p.stem: os.path.relpath(p.with_suffix(""), out_dir) for p in sorted(folder.glob("*.ipynb"))}
    return [dataclasses.replace(run, links={**sources, **links.executed_names(executed, output=run.name)})
            for run in runs]


def _check_counts(values: Mapping[str, Any]) -> dict[str, str]:
    """Parameters every notebook uses the same way, whatever config takes them: seeds (``seed``, ``*_seed``, each of
    ``seeds``) are integers >= 0 (numpy refuses others only when the step runs), ``threads`` an integer >= 1 or None,
    ``workers`` an integer >= 1."""
    problems = {}
    for name, value in values.items():
        if name == "seed" or name.endswith("_seed"):
            if value is not None and (not is_int(value) or value < 0):
                problems[name] = f"{name}: must be an integer >= 0 (a seed), got {value!r}"
        elif name == "seeds" and isinstance(value, (list, tuple)):
            if not value or any(not is_int(v) or v < 0 for v in value):
                problems[name] = f"seeds: must be a non-empty list of integers >= 0, got {list(value)!r}"
        elif name == "threads" and value is not None and (not is_int(value) or value < 1):
            problems[name] = f"threads: must be an integer >= 1 or None (torch's default), got {value!r}"
        elif name == "workers" and (not is_int(value) or value < 1):
            problems[name] = f"workers: must be an integer >= 1 (processes at once), got {value!r}"
    return problems


def _check_values(step: StepSpec, values: Mapping[str, Any], origin: Mapping[str, str]) -> None:
    """Validate a step's values as the notebook will (its stage configs; a sweep's points), before anything runs:
    ``--list`` and ``reproduce`` refuse e.g. ``degree=0`` naming where it was set, instead of failing mid-study."""
    problems = steps.check(step.notebook, values)  # its configs and points, built as the notebook builds them
    said = " ".join(problems)  # a config that named the parameter already said it
    problems += [text for name, text in _check_counts(values).items()
                 if not re.search(r"\bseeds?\b" if name == "seeds" else rf"\b{name}\b", said)]
    if problems:
        names = list(values) + list(values.get("base") or {})  # a base point's fields were set as parameters too
        named = [k for k in names if re.search(rf"\b{k}\b", " ".join(problems))]  # where the named ones were set
        where = sorted({origin.get(k, step.source) for k in named or values if k in origin}) or [step.source]
        raise ProfileError(f"{step.id} ({'; '.join(where)}): {'; '.join(problems)}")


def validate_profile(
    name_or_path: str | os.PathLike,
    notebooks_dir: str | os.PathLike | None = None,
    profiles_dir: str | os.PathLike | None = None,
) -> list[PlannedRun]:
    """Load and fully validate one profile against the notebooks that exist; return its plan."""
    return plan(load_profile(name_or_path, profiles_dir), notebooks_dir=notebooks_dir)
