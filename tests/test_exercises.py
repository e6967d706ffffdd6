"""The teaching kit: every stage and ablation notebook opens with learning goals and ends with exercises whose
hidden solutions run (nbval executes them in `make test`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
WITH_EXERCISES = ["00_tour", "01_explore_tasks", "10_generate_teacher_rationales", "11_curate_samples", "20_finetune_student",
                  "21_evaluate_student", "22_prompt_student", "30_compare_methods", "31_ablate_degree", "32_ablate_data_size",
                  "33_ablate_teacher_quality", "34_ablate_student_size", "35_ablate_filtering", "36_ablate_rationale_length",
                  "40_sample_study"]


def _cells(name: str) -> list[dict]:
    cells = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        cell["text"] = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    return cells


@pytest.mark.parametrize("name", sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
def test_every_notebook_says_where_it_sits_and_what_a_reader_will_learn(name):
    intro = _cells(name)[1]["text"]
    assert intro.startswith("**You are here:**") and "**Learning goals.**" in intro and "glossary" in intro
    for link in [part.split(")")[0] for part in intro.split("](")[1:] if not part.startswith("#")]:
        assert (NOTEBOOKS / link.split("#")[0]).is_file(), f"{name}: broken link {link}"


@pytest.mark.parametrize("name", sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
def test_every_notebook_closes_with_a_computed_what_we_saw_never_a_placeholder(name):
    cells = _cells(name)
    heading = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and c["text"].startswith("## What we saw"))
    assert cells[heading + 1]["cell_type"] == "code", f"{name}: 'What we saw' is not computed by the cell after it"
    for cell in cells:
        assert "to be written" not in cell["text"] and "filled in by the study" not in cell["text"], name


@pytest.mark.parametrize("name", WITH_EXERCISES)
def test_exercises_end_the_notebook_with_hidden_solutions(name):
    cells = _cells(name)
    assert any(c["text"].startswith("## Exercises") for c in cells)
    solutions = [c for c in cells if c["cell_type"] == "code" and "solution" in c["metadata"].get("tags", [])]
    assert solutions and all(c["metadata"]["jupyter"]["source_hidden"] for c in solutions)


def test_the_tour_defines_every_glossary_term():
    glossary = next(c["text"] for c in _cells("00_tour") if c["text"].startswith("## Glossary"))
    for term in ("example", "completion", "rationale", "sample", "degree", "task", "run", "profile", "teacher",
                 "student", "vanilla fine-tuning", "diverse reasoning"):
        assert f"**{term}**" in glossary
