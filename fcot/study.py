"""The study runner: execute the notebook chain in ``notebooks/`` with papermill, from a profile.

``make reproduce PROFILE=<name>`` (= ``python -m fcot reproduce --profile <name>``) reads
``notebooks/profiles/<name>.yaml`` and executes its steps in order. A **profile** is YAML::

    description: what this profile is for (one line)
    extends: default              # optional: start from another profile (same folder, or a path)
    defaults:                     # set once, applied to every step whose notebook HAS the parameter
      seed: 0
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

``extends``: the child's ``defaults`` update the parent's; each child step whose id equals a parent
step's id updates that step in place (parameters merged; a parameter moves between ``parameters`` and
``grid`` if the child says so); other child steps are appended. ``description`` is the child's.
``hypotheses`` (``{phenomenon's first words: text}``: why a phenomenon of the paper may not show in this study, and
what would test it; the README and the notebooks' "What we saw" show one where the verdict is not clear) are the
parent's updated by the child's.

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
of its run configurations.
"""

from __future__ import annotations

import ast
import concurrent.futures
import contextlib
import dataclasses
import datetime as _dt
import hashlib
import io
import itertools
import json
import multiprocessing
import os
import re
import string
import time
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import yaml

from fcot import links, paths, prefetch, progress, reproduction, stages, steps
from fcot.reproduction import format_reproduction, headline_numbers, reproduction_check  # noqa: F401 - the study's API
from fcot.runs import publish

NOTEBOOKS_DIR = paths.REPO_ROOT / "notebooks"
PROFILES_DIR = NOTEBOOKS_DIR / "profiles"
KERNEL = "python3"
METADATA_KEY = "fcot_study"
PROFILE_KEYS = ("description", "extends", "defaults", "steps", "hypotheses")
STEP_KEYS = ("notebook", "output", "parameters", "grid", "with_previous")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMBER = re.compile(r"^(\d+)_")
_RANGE = re.compile(r"^(\d+)-(\d+)$")
_PATH_ENVS = (paths.RESULTS_ENV, paths.RUNS_ENV, paths.CACHE_ENV, paths.MIRROR_ENV)


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


class StepFailedError(RuntimeError):
    """A notebook raised while executing; the partially executed notebook is kept at ``output_path``."""

    def __init__(self, message: str, output_path: Path):
        super().__init__(message)
        self.output_path = output_path


# ---------------------------------------------------------------------------------------------
# Notebook parameters


@dataclass(frozen=True)
class NotebookParameter:
    """One assignment of a notebook's ``parameters`` cell: ``name: annotation = default  # help``."""

    name: str
    annotation: str | None
    default: Any
    help: str


def notebook_parameters(path: str | os.PathLike) -> dict[str, NotebookParameter]:
    """The parameters a notebook declares in its cell tagged ``parameters`` (empty if it has none).

    Parsed with :mod:`ast` rather than ``papermill.inspect_notebook``, whose regex does not
    recognise annotations such as ``str | None`` (it would report no parameter at all).
    """
    path = Path(path)
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ProfileError(f"{path}: not a notebook (invalid JSON: {error})") from None
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", "")
            return _parse_parameters("".join(source) if isinstance(source, list) else source, path)
    return {}


def _parse_parameters(source: str, path: Path) -> dict[str, NotebookParameter]:
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ProfileError(f"{path}: the parameters cell is not valid Python ({error.msg}, line {error.lineno})") from None
    comments: dict[int, str] = {}
    with contextlib.suppress(tokenize.TokenError, IndentationError):
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string.lstrip("#").strip()
    found: dict[str, NotebookParameter] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, annotation, value = node.target.id, ast.unparse(node.annotation), node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, annotation, value = node.targets[0].id, None, node.value
        else:
            continue
        try:
            default = ast.literal_eval(value) if value is not None else None
        except ValueError:
            default = ast.unparse(value)
        found[name] = NotebookParameter(name, annotation, default, comments.get(node.end_lineno, ""))
    return found


_SIMPLE_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (float, int),
    "str": (str,),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}


def _split_union(annotation: str) -> list[str] | None:
    """``"int | None"`` -> ``["int", "None"]``; ``"Optional[str]"`` -> ``["str", "None"]``; else None if not simple."""
    text = annotation.replace("typing.", "").strip()
    match = re.fullmatch(r"Optional\[(.+)\]", text)
    if match:
        text = f"{match.group(1)} | None"
    parts = [part.strip() for part in text.split("|")]
    bases = []
    for part in parts:
        base = part.split("[", 1)[0].strip()
        if base in ("None", "NoneType"):
            bases.append("None")
        elif base in ("List", "Dict"):
            bases.append(base.lower())
        elif base in _SIMPLE_TYPES:
            bases.append(base)
        else:
            return None
    return bases


def coerce_value(value: Any, annotation: str | None) -> Any:
    """Check ``value`` against a simple annotation; return it (YAML-1.1 float strings become floats).

    Raises TypeError with the expected type when it does not match; unknown annotations accept anything.
    """
    if annotation is None:
        return value
    bases = _split_union(annotation)
    if bases is None:
        return value
    if value is None:
        if "None" in bases:
            return None
        raise TypeError(f"got null but the notebook annotates it as {annotation}")
    for base in bases:
        if base == "None":
            continue
        kinds = _SIMPLE_TYPES[base]
        if isinstance(value, bool) and base != "bool":
            continue  # True is an int in Python, never an int parameter here
        if isinstance(value, kinds):
            return float(value) if base == "float" else value
        if base == "float" and isinstance(value, str):
            # YAML 1.1 (pyyaml) reads 3e-4 as a string; for a float parameter it means the number.
            with contextlib.suppress(ValueError):
                return float(value)
    raise TypeError(f"got {value!r} ({type(value).__name__}) but the notebook annotates it as {annotation}")


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
    description, defaults, steps, hypotheses = _load_chain(path, ())
    return Profile(name=path.stem, path=path, description=description, defaults=defaults, steps=tuple(steps),
                   hypotheses=hypotheses)


def _load_chain(path: Path, chain: tuple[Path, ...]) -> tuple[str, dict, list[StepSpec], dict[str, str]]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in chain + (resolved,))
        raise ProfileError(f"{path}: 'extends' forms a cycle: {cycle}")
    try:
        data = _load_yaml(path.read_text(encoding="utf-8"))
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

    parent = data.get("extends")
    if parent is None:
        return str(description), dict(defaults), own_steps, dict(hypotheses)
    if not isinstance(parent, str):
        raise ProfileError(f"{path}: 'extends' must be a profile name or a path to a .yaml file, got {parent!r}")
    candidate = Path(parent) if parent.endswith((".yaml", ".yml")) else Path(f"{parent}.yaml")
    parent_path = candidate if candidate.is_absolute() else path.parent / candidate
    if not parent_path.is_file():
        raise ProfileError(f"{path}: 'extends: {parent}' but {parent_path} does not exist")
    _, merged_defaults, steps, merged_hypotheses = _load_chain(parent_path, chain + (resolved,))
    merged_defaults.update(defaults)
    merged_hypotheses.update(hypotheses)
    by_id = {step.id: index for index, step in enumerate(steps)}
    for step in own_steps:
        if step.id in by_id:
            index = by_id[step.id]
            steps[index] = _merge_step(steps[index], step)
        else:
            by_id[step.id] = len(steps)
            steps.append(step)
    return str(description), merged_defaults, steps, merged_hypotheses


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
        raise ProfileError(f"--set {text!r}: expected [<step>.]<parameter>=<value>, e.g. --set {steps.TRAIN}.epochs=3")
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


def _matches(selector: str, step: StepSpec) -> bool:
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
        if not any(_matches(selector, step) for step in steps):
            raise ProfileError(f"--only {selector!r} matches no step; steps: {', '.join(s.id for s in steps)}")
    return [step for step in steps if any(_matches(s, step) for s in selectors)]


# ---------------------------------------------------------------------------------------------
# Planning


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
    folder = Path(notebooks_dir) if notebooks_dir is not None else NOTEBOOKS_DIR
    out_dir = paths.results_dir(results_root) / profile.name / "notebooks"
    declared: dict[str, dict[str, NotebookParameter]] = {}
    for step in profile.steps:
        notebook_path = folder / f"{step.notebook}.ipynb"
        if not notebook_path.is_file():
            existing = sorted(p.stem for p in folder.glob("*.ipynb")) if folder.is_dir() else []
            raise ProfileError(
                f"{step.source}: notebook {notebook_path} does not exist; existing notebooks: "
                f"{', '.join(existing) or 'none'}"
            )
        declared[step.id] = notebook_parameters(notebook_path)

    unused = [name for name in profile.defaults if not any(name in declared[s.id] for s in profile.steps)]
    if unused:
        raise ProfileError(
            f"{profile.path}: defaults {', '.join(unused)} are not a parameter of any step's notebook "
            f"({', '.join(s.notebook for s in profile.steps) or 'no steps'})"
        )
    for override in overrides:
        targets = [s for s in profile.steps if override.selector is None or _matches(override.selector, s)]
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

    runs: list[PlannedRun] = []
    for step in select_steps(profile.steps, only):
        accepted = declared[step.id]
        notebook_path = folder / f"{step.notebook}.ipynb"
        values: dict[str, Any] = {k: v for k, v in profile.defaults.items() if k in accepted}
        origin: dict[str, str] = {k: f"{profile.path} (defaults)" for k in values}
        for name, value in step.parameters.items():
            values[name], origin[name] = value, step.source
        grid = dict(step.grid)
        # Global overrides first, then step-specific ones (which win).
        for override in sorted(overrides, key=lambda o: o.selector is not None):
            if override.selector is not None and not _matches(override.selector, step):
                continue
            if override.name not in accepted and override.name not in grid:
                continue  # applies where the notebook has the parameter (checked above: at least one has)
            if override.name in grid or isinstance(override.value, list) and _is_grid_axis(accepted[override.name]):
                grid.pop(override.name, None)
                if isinstance(override.value, list):
                    grid[override.name] = tuple(override.value)
                    values.pop(override.name, None)
                    origin[override.name] = f"--set {override.text}"
                    continue
            values[override.name], origin[override.name] = override.value, f"--set {override.text}"
        for name, axis in grid.items():
            origin[name] = f"{step.source} (grid)" if name in step.grid else origin.get(name, step.source)
            if not axis:
                raise ProfileError(f"{origin[name]}: grid {name} is empty")
            repeated = next((v for i, v in enumerate(axis) if any(v == w for w in axis[:i])), _MISSING)
            if repeated is not _MISSING:
                scalar = name in accepted and name not in step.grid and _is_grid_axis(accepted[name])
                raise ProfileError(
                    f"{origin[name]}: step {step.id}, parameter {name!r}: the value {repeated!r} is listed twice in "
                    f"{list(axis)!r}; each value of a grid axis is one run with its own output, so two runs "
                    f"would write one output ({step.id}__{_grid_suffix({name: repeated})}...ipynb); "
                    f"list each value once"
                    + (f" (a list for {name}, annotated {accepted[name].annotation}, runs each value: give one "
                       f"value, e.g. {name}={repeated!r}, for a single run)" if scalar else "")
                )

        referenced = {m.group(1) for v in values.values() if isinstance(v, str) for m in _REFERENCE.finditer(v)}
        for name in list(values) + list(grid):
            if name not in accepted and not (name in grid and name in referenced):
                raise ProfileError(
                    f"{origin[name]}: unknown parameter {name!r} for notebook {step.notebook}.ipynb; "
                    f"accepted: {', '.join(accepted) or 'none (it has no parameters cell)'} (a grid axis that "
                    f"is not a parameter must be used as ${{{name}}} in one)"
                )

        axes = list(grid)
        for point_values in itertools.product(*(grid[a] for a in axes)) if axes else [()]:
            point = dict(zip(axes, point_values))
            merged = {**values, **point}
            merged = _substitute(merged, {"profile": profile.name, "step": step.id}, step.source)
            checked = {}
            for name, value in merged.items():
                if name not in accepted:
                    continue  # a grid axis used only in ${...}: substituted, not injected
                try:
                    checked[name] = coerce_value(value, accepted[name].annotation)
                except TypeError as error:
                    raise ProfileError(f"{origin[name]}: parameter {name!r} of {step.notebook}.ipynb: {error}") from None
            _check_values(step, {**{n: p.default for n, p in accepted.items()}, **checked}, origin)
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
    if not runs:
        raise ProfileError(f"{profile.path}: profile {profile.name} has no steps: it would execute no notebook")
    writers: dict[Path, PlannedRun] = {}
    for run in runs:  # never two executions writing one output notebook (concurrently, under --jobs)
        other = writers.setdefault(run.output_path, run)
        if other is not run:
            raise ProfileError(
                f"{run.step.source}: two runs would write one output {run.output_path.name}: "
                f"{_run_label(other)} and {_run_label(run)}; give one of the steps another 'output' name, or grid "
                f"values that differ in letters, digits and _ . + -"
            )
    return _with_links(runs, profile, folder, out_dir)


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
    from fcot.records import is_int

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
        named = [k for k in values if re.search(rf"\b{k}\b", " ".join(problems))]  # where the named ones were set
        where = sorted({origin.get(k, step.source) for k in named or values if k in origin}) or [step.source]
        raise ProfileError(f"{step.id} ({'; '.join(where)}): {'; '.join(problems)}")


def _is_grid_axis(parameter: NotebookParameter) -> bool:
    """A list value for a parameter that is not itself a list means 'run each value' (a grid axis)."""
    bases = _split_union(parameter.annotation) if parameter.annotation else None
    return bases is not None and "list" not in bases


def validate_profile(
    name_or_path: str | os.PathLike,
    notebooks_dir: str | os.PathLike | None = None,
    profiles_dir: str | os.PathLike | None = None,
) -> list[PlannedRun]:
    """Load and fully validate one profile against the notebooks that exist; return its plan."""
    return plan(load_profile(name_or_path, profiles_dir), notebooks_dir=notebooks_dir)


# ---------------------------------------------------------------------------------------------
# Execution


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
