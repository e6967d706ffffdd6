"""Profiles: what a study runs, read from strict YAML, with ``--set`` overrides and ``--only`` selections.

``make reproduce PROFILE=<name>`` (= ``python -m fcot reproduce --profile <name>``) reads
``notebooks/profiles/<name>.yaml`` and executes its steps in order. A **profile** is YAML::

    description: what this profile is for (one line)
    extends: default              # optional: start from another profile (same folder, or a path)
    defaults:                     # set once, applied to every step whose notebook HAS the parameter
      seed: 0
    base:                         # the study's base point, stated once: ExperimentConfig fields (fcot.experiments)
      task: synth_last_letter     # the sweep notebooks (29-36) read it (their `profile` parameter) and vary one thing
      n_train: 800
    steps:                        # run in this order
      - notebook: <notebook>                     # notebooks/<notebook>.ipynb (fcot.steps names them)
        output: teacher_coin_flip                  # optional; the step's id and output file name
        parameters:                                # notebook parameters (must exist in its parameters cell)
          task: coin_flip
          name: "${profile}-coin_flip-d${degree}"  # ${x}: another parameter's value (or profile, step)
        grid:                                      # optional: cartesian product, one execution per point
          degree: [1, 4]
          seed: [0, 1]

Parameter precedence, lowest first: the notebook's own default < ``defaults`` (only where the
notebook declares the parameter) < the step's ``parameters`` < its ``grid`` point < a global
``--set name=value`` (every step that declares ``name``) < ``--set <step>.name=value``. A ``--set``
on a grid parameter replaces that grid axis (a YAML list value keeps it a grid). A grid axis that
is not a parameter of the notebook is a variable of the step: it must be used as ``${name}`` in a
parameter value (``samples_run: "${task}-ft_cot"`` over ``grid: {task: [...]}``), it names the
output file like any grid axis, and it is not injected. Values are YAML
scalars (``--set 20.lr=3e-4`` is read as the float 0.0003 for a float parameter).
A ``<step>`` selector (in ``--set`` and in ``--only``) is a step id (its ``output``, else its
notebook name), a notebook name, or a notebook number (``20``); ``--only 10-21`` is a number range.

A sweep notebook (29-36) states only what it varies: its ``base: dict`` parameter holds its changes to the profile's
``base``, which it reads itself (:func:`base_point`, through its ``profile`` parameter, which the planner sets). A step
may still write such a change as a parameter of its own (``n_train: 200``, ``--set epochs=1``, a ``grid`` over
``task``): :mod:`fcot.study.planning` folds every :class:`~fcot.experiments.ExperimentConfig` field that the notebook
does not declare into its ``base``.

``extends``: the child's ``defaults`` and ``base`` update the parent's; each child step whose id equals a parent
step's id updates that step in place (parameters merged; a parameter moves between ``parameters`` and
``grid`` if the child says so); other child steps are appended. ``description`` is the child's.
``hypotheses`` (``{phenomenon's first words: text}``: why a phenomenon of the paper may not show in this study, and
what would test it; the README and the notebooks' "What we saw" show one where the verdict is not clear) are the
parent's updated by the child's.

:mod:`fcot.study.planning` expands and validates a profile against its notebooks; :mod:`fcot.study.execution` runs it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from fcot import paths

#: The notebooks folder. Its one reader (:func:`fcot.study.planning.plan`) looks it up here, so one patch moves it.
NOTEBOOKS_DIR = paths.REPO_ROOT / "notebooks"
PROFILES_DIR = NOTEBOOKS_DIR / "profiles"
PROFILE_KEYS = ("description", "extends", "defaults", "base", "steps", "hypotheses")
STEP_KEYS = ("notebook", "output", "parameters", "grid", "with_previous")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMBER = re.compile(r"^(\d+)_")
_RANGE = re.compile(r"^(\d+)-(\d+)$")


class ProfileError(ValueError):
    """A profile, a ``--set`` override or a ``--only`` selection is invalid (nothing was run)."""


class DuplicateKeyError(yaml.YAMLError):
    """A YAML mapping states one key twice (PyYAML would silently keep the last value)."""

    def __init__(self, key: Any, line: int, first_line: int):
        super().__init__(f"line {line}: key {key!r} appears twice in one mapping (first at line {first_line}); "
                         f"keep one (PyYAML would silently keep the last)")
        self.key, self.line, self.first_line = key, line, first_line


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` refusing a key stated twice in one mapping (two top-level ``steps:``, two ``seed:`` in a
    step's parameters); merge keys (``<<: *base``) still work: a key written beside a merge overrides the merged one."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            self._check_duplicates(node)
        return super().construct_mapping(node, deep=deep)

    def _check_duplicates(self, node) -> None:
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # the merged mappings: each checked on its own
                for merged in value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]:
                    if isinstance(merged, yaml.MappingNode):
                        self._check_duplicates(merged)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # a complex key: SafeLoader's own checks answer it
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            with contextlib.suppress(TypeError):
                if key in seen:
                    raise DuplicateKeyError(key, line, seen[key])
                seen[key] = line


def _load_yaml(text: str) -> Any:
    """YAML as ``yaml.safe_load`` reads it, except that a duplicated mapping key raises :class:`DuplicateKeyError`."""
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


# ---------------------------------------------------------------------------------------------
# Profiles


@dataclass(frozen=True)
class StepSpec:
    """One step of a profile as written (after ``extends`` merging), before grid expansion."""

    notebook: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    grid: Mapping[str, tuple] = field(default_factory=dict)
    output: str | None = None
    source: str = ""  # "<profile file>, step N" for error messages
    with_previous: bool | None = None  # True: share the previous step's process pool (None: not said)

    def __post_init__(self) -> None:
        where = self.source or "profile step"
        if self.with_previous not in (None, True, False):
            raise ProfileError(f"{where}: 'with_previous' must be true or false, got {self.with_previous!r}")
        if not isinstance(self.notebook, str) or not paths.NAME.match(self.notebook) or self.notebook.endswith(".ipynb"):
            raise ProfileError(
                f"{where}: 'notebook' must be a notebook name without .ipynb (letters, digits, _ . + -), "
                f"got {self.notebook!r}"
            )
        if self.output is not None and (not isinstance(self.output, str) or not paths.NAME.match(self.output)):
            raise ProfileError(f"{where}: 'output' must be a name of letters, digits, _ . + -, got {self.output!r}")
        for name in list(self.parameters) + list(self.grid):
            if not isinstance(name, str) or not _IDENTIFIER.match(name):
                raise ProfileError(f"{where}: parameter names must be Python identifiers, got {name!r}")
        for name, values in self.grid.items():
            if not isinstance(values, tuple) or not values:
                raise ProfileError(f"{where}: grid.{name} must be a non-empty list of values, got {values!r}")
        both = sorted(set(self.parameters) & set(self.grid))
        if both:
            raise ProfileError(f"{where}: {', '.join(both)} given in both 'parameters' and 'grid'; keep one")

    @property
    def id(self) -> str:
        return self.output or self.notebook

    @property
    def number(self) -> int | None:
        match = _NUMBER.match(self.notebook)
        return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Profile:
    """A parsed profile: its name (the results folder), file, defaults and ordered steps."""

    name: str
    path: Path
    description: str
    defaults: Mapping[str, Any]
    steps: tuple[StepSpec, ...]
    #: the study's hypotheses, ``{phenomenon prefix: text}``, shown where a phenomenon does not show clearly
    #: (fcot.report); study-specific prose lives with its profile, not in the library
    hypotheses: Mapping[str, str] = field(default_factory=dict)
    #: the study's base point, ``{ExperimentConfig field: value}``: what its sweep notebooks vary one thing of
    base: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not paths.NAME.match(self.name):
            raise ProfileError(f"{self.path}: profile name {self.name!r} must be letters, digits, _ . + -")
        seen: dict[str, StepSpec] = {}
        for step in self.steps:
            if step.id in seen:
                raise ProfileError(
                    f"{step.source}: step id {step.id!r} is already used by {seen[step.id].source}; "
                    f"give one of them a distinct 'output' name"
                )
            seen[step.id] = step


def profile_path(name_or_path: str | os.PathLike, profiles_dir: str | os.PathLike | None = None) -> Path:
    """``default`` -> ``notebooks/profiles/default.yaml``; a path to a ``.yaml`` file is taken as is."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or os.sep in text:
        path = Path(text).expanduser()
        if not path.is_file():
            raise ProfileError(f"profile file {path} does not exist")
        return path
    folder = Path(profiles_dir) if profiles_dir is not None else PROFILES_DIR
    path = folder / f"{text}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
        raise ProfileError(f"no profile {text!r}: {path} does not exist; known profiles: {', '.join(known) or 'none'}")
    return path


def load_profile(name_or_path: str | os.PathLike, profiles_dir: str | os.PathLike | None = None) -> Profile:
    """Read a profile (following ``extends``) into a :class:`Profile`; raises ProfileError naming the file."""
    path = profile_path(name_or_path, profiles_dir)
    description, defaults, steps, hypotheses, base = _load_chain(path, ())
    return Profile(name=path.stem, path=path, description=description, defaults=defaults, steps=tuple(steps),
                   hypotheses=hypotheses, base=base)


def reference(profile: Profile) -> str:
    """How a notebook names ``profile`` (its ``profile`` parameter): a profile of ``notebooks/profiles`` by its
    name, any other by its file's path."""
    shipped = PROFILES_DIR / f"{profile.name}.yaml"
    return profile.name if shipped.is_file() and shipped.resolve() == profile.path.resolve() else str(profile.path)


def base_point(name_or_path: str | os.PathLike) -> dict[str, Any]:
    """The base point of a profile (its ``base``, after ``extends``): ``{ExperimentConfig field: value}``. A sweep
    notebook varies one thing around it."""
    return dict(load_profile(name_or_path).base)


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> Any:
    """A profile's YAML (:func:`_load_yaml`), parsed once per text: the planner and every sweep step of a study read
    the same profile (its base point), which the strict loader takes about 12 ms to parse. Callers get a copy
    (:func:`_load_chain`)."""
    return _load_yaml(text)


def _load_chain(path: Path, chain: tuple[Path, ...]) -> tuple[str, dict, list[StepSpec], dict[str, str], dict]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in chain + (resolved,))
        raise ProfileError(f"{path}: 'extends' forms a cycle: {cycle}")
    try:
        data = copy.deepcopy(_parsed(path.read_text(encoding="utf-8")))
    except DuplicateKeyError as error:
        raise ProfileError(f"{path}:{error.line}: key {error.key!r} appears twice in one mapping (first at line "
                           f"{error.first_line}); keep one (the second would silently replace the first)") from None
    except yaml.YAMLError as error:
        raise ProfileError(f"{path}: not valid YAML: {error}") from None
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise ProfileError(f"{path}:{line}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a profile is a mapping with keys {', '.join(PROFILE_KEYS)}")
    unknown = sorted(set(data) - set(PROFILE_KEYS))
    if unknown:
        raise ProfileError(f"{path}: unknown key(s) {', '.join(map(str, unknown))}; accepted: {', '.join(PROFILE_KEYS)}")
    description = data.get("description") or ""
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ProfileError(f"{path}: 'defaults' must be a mapping of parameter: value")
    raw_steps = data.get("steps") or []
    if not isinstance(raw_steps, list):
        raise ProfileError(f"{path}: 'steps' must be a list of steps (each with keys {', '.join(STEP_KEYS)})")
    own_steps = [_parse_step(raw, path, number) for number, raw in enumerate(raw_steps, start=1)]
    hypotheses = data.get("hypotheses") or {}
    if not isinstance(hypotheses, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                   for k, v in hypotheses.items()):
        raise ProfileError(f"{path}: 'hypotheses' must be a mapping of phenomenon (its first words): hypothesis text")
    base = data.get("base") or {}
    if not isinstance(base, dict) or not all(isinstance(k, str) for k in base):
        raise ProfileError(f"{path}: 'base' must be a mapping of ExperimentConfig field: value (the base point)")

    parent = data.get("extends")
    if parent is None:
        return str(description), dict(defaults), own_steps, dict(hypotheses), dict(base)
    if not isinstance(parent, str):
        raise ProfileError(f"{path}: 'extends' must be a profile name or a path to a .yaml file, got {parent!r}")
    candidate = Path(parent) if parent.endswith((".yaml", ".yml")) else Path(f"{parent}.yaml")
    parent_path = candidate if candidate.is_absolute() else path.parent / candidate
    if not parent_path.is_file():
        raise ProfileError(f"{path}: 'extends: {parent}' but {parent_path} does not exist")
    _, merged_defaults, steps, merged_hypotheses, merged_base = _load_chain(parent_path, chain + (resolved,))
    merged_defaults.update(defaults)
    merged_hypotheses.update(hypotheses)
    merged_base.update(base)
    by_id = {step.id: index for index, step in enumerate(steps)}
    for step in own_steps:
        if step.id in by_id:
            index = by_id[step.id]
            steps[index] = _merge_step(steps[index], step)
        else:
            by_id[step.id] = len(steps)
            steps.append(step)
    return str(description), merged_defaults, steps, merged_hypotheses, merged_base


def _parse_step(raw: Any, path: Path, number: int) -> StepSpec:
    where = f"{path}, step {number}"
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: a step is a mapping with keys {', '.join(STEP_KEYS)}, got {raw!r}")
    unknown = sorted(set(raw) - set(STEP_KEYS))
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; accepted: {', '.join(STEP_KEYS)}")
    if "notebook" not in raw:
        raise ProfileError(f"{where}: missing 'notebook' (the notebook name without .ipynb)")
    parameters = raw.get("parameters") or {}
    grid = raw.get("grid") or {}
    if not isinstance(parameters, dict) or not isinstance(grid, dict):
        raise ProfileError(f"{where}: 'parameters' and 'grid' must be mappings")
    for name, values in grid.items():
        if not isinstance(values, list):
            raise ProfileError(f"{where}: grid.{name} must be a list of values, got {values!r}")
    where = f"{where} ({raw['notebook']})"
    return StepSpec(
        notebook=raw["notebook"],
        parameters=dict(parameters),
        grid={name: tuple(values) for name, values in grid.items()},
        output=raw.get("output"),
        source=where,
        with_previous=raw.get("with_previous"),
    )


def _merge_step(parent: StepSpec, child: StepSpec) -> StepSpec:
    if child.notebook != parent.notebook:
        raise ProfileError(
            f"{child.source}: step id {child.id!r} names notebook {child.notebook!r} but the extended "
            f"profile's step ({parent.source}) runs {parent.notebook!r}; use another 'output' name"
        )
    parameters = {k: v for k, v in parent.parameters.items() if k not in child.grid}
    parameters.update(child.parameters)
    grid = {k: v for k, v in parent.grid.items() if k not in child.parameters}
    grid.update(child.grid)
    with_previous = parent.with_previous if child.with_previous is None else child.with_previous
    return StepSpec(parent.notebook, parameters, grid, parent.output, f"{parent.source}, updated by {child.source}",
                    with_previous)


# ---------------------------------------------------------------------------------------------
# Overrides and selections


@dataclass(frozen=True)
class Override:
    """One ``--set [<step>.]name=value`` (selector None: every step whose notebook has ``name``)."""

    selector: str | None
    name: str
    value: Any
    text: str


def parse_override(text: str) -> Override:
    """Parse ``--set`` text: ``seed=1``, ``20_train_ft_cot.epochs=3``, ``10.tasks=[a, b]`` (YAML values)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ProfileError(f"--set {text!r}: expected [<step>.]<parameter>=<value>, e.g. --set 20.epochs=3")
    selector, dot, name = key.rpartition(".")
    if not _IDENTIFIER.match(name) or (dot and not selector):
        raise ProfileError(f"--set {text!r}: {name!r} is not a parameter name (a Python identifier)")
    try:
        value = _load_yaml(raw) if raw.strip() else None
    except DuplicateKeyError as error:
        raise ProfileError(
            f"--set {text!r}: key {error.key!r} appears twice in one mapping of the value; keep one") from None
    except yaml.YAMLError as error:
        raise ProfileError(f"--set {text!r}: the value is not a YAML scalar or list: {error}") from None
    return Override(selector or None, name, value, text)


def matches(selector: str, step: StepSpec) -> bool:
    """Whether a ``<step>`` selector (a step id, a notebook name, a number ``20``, a range ``10-21``) names ``step``."""
    if selector in (step.id, step.notebook):
        return True
    if selector.isdigit():
        return step.number == int(selector)
    match = _RANGE.match(selector)
    if match:
        return step.number is not None and int(match.group(1)) <= step.number <= int(match.group(2))
    return False


def select_steps(steps: Sequence[StepSpec], only: str | Iterable[str] | None) -> list[StepSpec]:
    """Steps matching any comma-separated selector (id, notebook name, number ``20`` or range ``10-21``)."""
    if only is None:
        return list(steps)
    given = only if isinstance(only, str) else ",".join(map(str, only))
    selectors = [s.strip() for s in (only.split(",") if isinstance(only, str) else only) if s.strip()]
    if not selectors:
        raise ProfileError(f"--only {given!r} names no step (selects 0 notebooks); name steps by id, notebook, number "
                           f"(20) or range (10-21), comma-separated; steps: {', '.join(s.id for s in steps) or 'none'}")
    for selector in selectors:
        if not any(matches(selector, step) for step in steps):
            raise ProfileError(f"--only {selector!r} matches no step; steps: {', '.join(s.id for s in steps)}")
    return [step for step in steps if any(matches(s, step) for s in selectors)]
