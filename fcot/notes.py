"""Reproduction notes: every deviation from the paper, collected from the code that makes it.

Code marks a deviation with a comment (or docstring line) starting ``REPRODUCTION NOTE:``; the note
runs on over the following comment lines. :func:`collect_notes` gathers them with their file, line and
enclosing function, and :func:`write_notes_block` puts them into ``results/README.md`` between markers, so the
list there is generated from the code and cannot drift from it (a test checks that it is current).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fcot import paths

MARKER = "REPRODUCTION NOTE:"
BEGIN = "<!-- BEGIN reproduction-notes -->"
END = "<!-- END reproduction-notes -->"
_START = re.compile(r"^(?P<indent>\s*)(?P<lead>#\s*|)REPRODUCTION NOTE:\s*(?P<text>.*)$")
_COMMENT = re.compile(r"^\s*#\s?(?P<text>.*)$")


@dataclass(frozen=True)
class Note:
    path: str  # relative to the repository root
    line: int
    text: str
    symbol: str = ""  # the enclosing class/function, e.g. "Trainer.fit"; "" at module level

    @property
    def place(self) -> str:
        """Where the note is, stable under edits elsewhere in the file: ``path::symbol`` or ``path``."""
        return f"{self.path}::{self.symbol}" if self.symbol else self.path


_DEF = re.compile(r"^(?P<indent>\s*)(?:async\s+def|def|class)\s+(?P<name>\w+)")


def _enclosing_symbol(lines: list[str], index: int) -> str:
    """The dotted name of the class/function whose body holds ``lines[index]`` ("" at module level)."""
    line = lines[index]
    indent = len(line) - len(line.lstrip())
    names: list[str] = []
    for previous in reversed(lines[:index]):
        if not previous.strip():
            continue
        match = _DEF.match(previous)
        if match and len(match.group("indent")) < indent:
            names.append(match.group("name"))
            indent = len(match.group("indent"))
            if indent == 0:
                break
        elif len(previous) - len(previous.lstrip()) == 0 and not previous.lstrip().startswith(("#", ")", "]", "}", '"', "'", "@")):
            break  # a module-level statement: the note is not inside a definition above it
    return ".".join(reversed(names))


def _continuation(lines: list[str], start: int, is_comment: bool) -> list[str]:
    """The lines that continue a note: further comment lines (comments) or the paragraph (docstrings)."""
    parts: list[str] = []
    for line in lines[start + 1 :]:
        if is_comment:
            match = _COMMENT.match(line)
            if not match or not match.group("text").strip() or MARKER in line:
                break
            parts.append(match.group("text").strip())
        else:
            stripped = line.strip()
            if not stripped or stripped.startswith(('"""', "'''")) or MARKER in line:
                break
            parts.append(stripped.rstrip('"').strip())
    return parts


def collect_notes(root: Path | None = None, packages: tuple[str, ...] = ("fcot", "bench"),
                  profiles: str = "notebooks/profiles/*.yaml") -> list[Note]:
    """Every ``REPRODUCTION NOTE:`` in the Python files of ``packages`` under the repository ``root``, and in the
    comments of the profiles (``profiles``: a glob under ``root``; the study's design choices live there)."""
    root = root or paths.REPO_ROOT
    notes: list[Note] = []
    files = [file for package in packages for file in sorted((root / package).rglob("*.py"))]
    files += sorted(root.glob(profiles)) if profiles else []
    for file in files:
        if True:
            if file.resolve() == Path(__file__).resolve():
                continue
            lines = file.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines):
                match = _START.match(line)
                if not match:
                    continue
                is_comment = bool(match.group("lead"))
                text = " ".join([match.group("text").strip(), *_continuation(lines, number, is_comment)]).strip()
                notes.append(
                    Note(str(file.relative_to(root)), number + 1, text, _enclosing_symbol(lines, number))
                )
    return notes


def notes_markdown(notes: list[Note]) -> str:
    """A Markdown list in file order: ``- text (`path::symbol`)``.

    The place is the enclosing class or function rather than a line number, so an edit elsewhere in
    a file does not make the committed list stale.
    """
    lines = [
        f"{len(notes)} notes, collected from the code by `python -m fcot notes --write results/README.md`.",
        "",
    ]
    for note in notes:
        lines.append(f"- {note.text} (`{note.place}`)")
    return "\n".join(lines)


def write_notes_block(readme: Path, notes: list[Note] | None = None) -> bool:
    """Replace the text between the markers in ``readme``; return True if it changed."""
    block = notes_markdown(collect_notes() if notes is None else notes)
    return paths.write_between_markers(readme, BEGIN, END, block)
