"""Links a reader follows: rewrite the source notebooks' relative links to the executed names, and find broken ones.

The source notebooks in ``notebooks/`` link each other by their own file names (the "You are here" line:
``[← NN_verb_object](NN_verb_object.ipynb)``), but their executed copies under
``results/<profile>/notebooks/`` are named by the profile's ``output:`` (``11_curate_ft_cot.ipynb``,
``20_train_vanilla.ipynb``). :func:`rewrite_links` maps the first onto the
second in an executed notebook; :func:`executed_names` chooses, for each source notebook, which executed copy a link
leads to; :func:`broken_links` resolves every relative link of a folder's Markdown and notebooks, so a test can hold
them at zero. Pure functions of their arguments (the last reads the folder), no I/O besides.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Iterable, Mapping
from urllib.parse import unquote

#: An inline Markdown link or image: ``[text](target)`` / ``![alt](target "title")``; group 1 is the target.
_LINK = re.compile(r"\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
#: A link to a notebook in the same folder: ``name.ipynb`` then an optional ``#anchor`` or ``?query``.
_NOTEBOOK = re.compile(r"(\]\(\s*<?)([A-Za-z0-9][\w.-]*?)(\.ipynb)(?=[#?)>\s])")
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # http:, https:, mailto:, data: ...


def _text(source) -> str:
    return source if isinstance(source, str) else "".join(source)


def rewrite_text(text: str, names: Mapping[str, str]) -> str:
    """``text`` (Markdown) with each relative link ``(<source>.ipynb...)`` whose stem ``names`` holds pointed at
    ``(<names[source]>.ipynb...)``; anchors and queries are kept, link texts and every other link left alone."""
    def swap(match: re.Match) -> str:
        stem = match.group(2)
        return f"{match.group(1)}{names.get(stem, stem)}{match.group(3)}"

    return _NOTEBOOK.sub(swap, text)


def rewrite_links(notebook_json: dict, names: Mapping[str, str]) -> dict:
    """A copy of ``notebook_json`` (an ``.ipynb`` as a dict) whose Markdown cells link the executed notebooks:
    ``names`` maps a source stem (the curation notebook's) to the executed stem (``11_curate_ft_cot``). Code cells,
    outputs and links to other files are unchanged; a cell's source keeps its form (a string or a list of lines)."""
    result = copy.deepcopy(notebook_json)
    for cell in result.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        if isinstance(source, str):
            cell["source"] = rewrite_text(source, names)
        else:
            cell["source"] = rewrite_text("".join(source), names).splitlines(keepends=True)
    return result


def executed_names(steps: Iterable[tuple[str, str]], output: str | None = None) -> dict[str, str]:
    """For each source notebook, the executed copy a link leads to: ``steps`` are a profile's ``(notebook, output)``
    stems in order. The first output of each notebook, or, seen from ``output`` (the executed notebook whose links
    are rewritten), the one sharing the longest ``_``-separated ending with it: ``20_train_vanilla`` links
    ``11_curate_vanilla`` and ``21_evaluate_vanilla``, ``20_train_ft_cot`` the ``ft_cot`` ones."""
    candidates: dict[str, list[str]] = {}
    for notebook, out in steps:
        found = candidates.setdefault(notebook, [])
        if (out or notebook) not in found:
            found.append(out or notebook)

    def shared_ending(a: str, b: str) -> int:
        left, right = a.split("_")[1:], b.split("_")[1:]  # past the number: "20_train_vanilla" -> train, vanilla
        n = 0
        while n < min(len(left), len(right)) and left[-1 - n] == right[-1 - n]:
            n += 1
        return n

    names = {}
    for notebook, outs in candidates.items():
        best = outs[0]
        if output is not None:
            score = max(shared_ending(o, output) for o in outs)
            if score:
                best = next(o for o in outs if shared_ending(o, output) == score)
        names[notebook] = best
    return names


def _markdown_of(path: Path) -> list[str]:
    """The Markdown a reader sees in ``path``: the file itself (``.md``), or a notebook's Markdown cells and the
    Markdown of its outputs (``.ipynb``)."""
    if path.suffix == ".md":
        return [path.read_text(encoding="utf-8")]
    notebook = json.loads(path.read_text(encoding="utf-8"))
    texts = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            texts.append(_text(cell.get("source", "")))
        for output in cell.get("outputs", []) or []:
            markdown = (output.get("data") or {}).get("text/markdown")
            if markdown:
                texts.append(_text(markdown))
    return texts


def links_in(text: str) -> list[str]:
    """The relative link targets of Markdown ``text`` (not in code), without their ``#anchor`` or ``?query``:
    absolute URLs (``https:``, ``mailto:``) and links to an anchor of the same page are left out."""
    text = _CODE_SPAN.sub("", _FENCE.sub("", text))
    targets = []
    for target in _LINK.findall(text):
        if _SCHEME.match(target) or target.startswith("#"):
            continue
        target = re.split(r"[#?]", target, maxsplit=1)[0]
        if target:
            targets.append(unquote(target))
    return targets


def broken_links(root: Path) -> list[str]:
    """Every relative link in the ``.md`` and ``.ipynb`` files under ``root`` (recursively) whose target does not
    exist, as ``<file relative to root>: <target>``, sorted. A target is resolved from its file's folder (one that
    starts with ``/`` from ``root``); hidden folders and ``.ipynb_checkpoints`` are skipped."""
    root = Path(root)
    broken = []
    for path in sorted(p for pattern in ("*.md", "*.ipynb") for p in root.rglob(pattern)):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        for text in _markdown_of(path):
            for target in links_in(text):
                resolved = root / target.lstrip("/") if target.startswith("/") else path.parent / target
                if not resolved.exists():
                    broken.append(f"{relative.as_posix()}: {target}")
    return sorted(set(broken))
