"""A notebook's parameters: its ``parameters`` cell read with :mod:`ast`; values checked against their annotations."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fcot.study.profiles import ProfileError


@dataclass(frozen=True)
class NotebookParameter:
    """One assignment of a notebook's ``parameters`` cell: ``name: annotation = default  # help``."""

    name: str
    annotation: str | None
    default: Any
    help: str
    #: a field of the base point that the notebook does not declare: a profile may set it, and the planner folds it
    #: into the notebook's ``base`` parameter (:func:`fcot.steps.reads_base`)
    in_base: bool = False


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



def is_grid_axis(parameter: NotebookParameter) -> bool:
    """A list value for a parameter that is not itself a list means 'run each value' (a grid axis)."""
    bases = _split_union(parameter.annotation) if parameter.annotation else None
    return bases is not None and "list" not in bases
