"""Reproduction notes are collected from the code, and results/README.md lists them all."""

from __future__ import annotations

import re
from pathlib import Path

from fcot import notes


def test_a_comment_note_runs_on_over_the_following_comment_lines(tmp_path: Path) -> None:
    package = tmp_path / "fcot"
    package.mkdir()
    (package / "mod.py").write_text(
        "x = 1\n"
        "# REPRODUCTION NOTE: the paper does A;\n"
        "# fcot does B.\n"
        "y = 2  # not part of the note\n"
        '"""\n'
        "REPRODUCTION NOTE: a docstring note\n"
        "on two lines.\n"
        '"""\n'
    )
    found = notes.collect_notes(tmp_path, packages=("fcot",))
    assert [(n.path, n.line, n.text) for n in found] == [
        ("fcot/mod.py", 2, "the paper does A; fcot does B."),
        ("fcot/mod.py", 6, "a docstring note on two lines."),
    ]


def test_a_note_is_placed_by_its_enclosing_function_so_edits_elsewhere_keep_the_list_current(tmp_path: Path) -> None:
    package = tmp_path / "fcot"
    package.mkdir()
    body = (
        "class Trainer:\n"
        "    def fit(self):\n"
        "        # REPRODUCTION NOTE: fit differs.\n"
        "        return 1\n"
        "\n"
        "def helper():\n"
        "    return 2\n"
        "\n"
        "# REPRODUCTION NOTE: module level.\n"
    )
    (package / "mod.py").write_text(body)
    before = notes.notes_markdown(notes.collect_notes(tmp_path, packages=("fcot",)))
    assert "(`fcot/mod.py::Trainer.fit`)" in before and "module level. (`fcot/mod.py`)" in before
    (package / "mod.py").write_text("import os\n\n\n" + body)  # lines move, places do not
    assert notes.notes_markdown(notes.collect_notes(tmp_path, packages=("fcot",))) == before


def test_the_package_has_reproduction_notes_and_each_names_its_place() -> None:
    found = notes.collect_notes()
    assert len(found) >= 10
    assert all(n.text and n.path.endswith((".py", ".yaml")) and n.line > 0 for n in found)
    assert any(n.path == "notebooks/profiles/default.yaml" for n in found)  # the study design's deviations too


def test_writing_the_block_needs_the_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")
    try:
        notes.write_notes_block(readme, [])
    except ValueError as error:
        assert "README.md" in str(error) and notes.BEGIN in str(error)
    else:  # pragma: no cover
        raise AssertionError("expected a ValueError naming the file and the markers")


def test_results_readme_lists_every_note_in_the_code(tmp_path: Path) -> None:
    committed = notes.paths.REPO_ROOT / "results" / "README.md"
    copy = tmp_path / "README.md"
    copy.write_text(committed.read_text(encoding="utf-8"), encoding="utf-8")
    changed = notes.write_notes_block(copy)
    assert not changed, "results/README.md is stale: run `python -m fcot notes --write results/README.md`"


def test_the_readmes_layout_table_lists_every_module_of_the_package():
    from fcot import paths

    text = (paths.REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Package layout"): text.index("Benchmarks are in `bench/`")]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    listed = {name.rstrip("/") for cell in first_cells for name in re.findall(r"`([a-z_/]+)`", cell)}
    package = paths.REPO_ROOT / "fcot"
    modules = {p.relative_to(package).with_suffix("").as_posix() for p in package.rglob("*.py")
               if not p.name.startswith("_")}
    # a package whose __init__ does a job of its own (more than re-exports) has a row of its own
    modules |= {p.parent.relative_to(package).as_posix() for p in package.rglob("__init__.py")
                if p.parent != package and "def " in p.read_text(encoding="utf-8")}
    assert modules - listed == set(), f"modules missing from the README's layout table: {sorted(modules - listed)}"
    unknown = listed - modules - {"resources"}
    assert not unknown, f"the layout table names modules the package does not have: {sorted(unknown)}"
    assert len(first_cells) == len(set(first_cells)), "a module is listed twice"


def test_no_module_of_the_package_spells_a_notebook_file_name_but_the_step_registry():
    from fcot import paths

    names = sorted(p.stem for p in (paths.REPO_ROOT / "notebooks").glob("*.ipynb"))
    spelled = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, names)) + r")(?![A-Za-z0-9_])")
    package = paths.REPO_ROOT / "fcot"
    found = [f"{p.relative_to(package)}:{n}: {m.group(1)}" for p in sorted(package.rglob("*.py")) if p.name != "steps.py"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) for m in spelled.finditer(line)]
    assert not found, "notebook names outside fcot/steps.py (use its constants):\n" + "\n".join(found)
