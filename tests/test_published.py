"""The shipped published numbers (the paper's Table 1) and how the `paper` profile shows them next to ours."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from fcot import report, study, tasks

SOURCE = "itsnamgyu/reasoning-teacher@de0a327d8a05883f8231826ee9677f5713052dfe notebooks/results.ipynb"
#: Table 1 has no run of diverse reasoning on these tasks (printed "-").
NO_DIVERSE_RUN = {"gsm8k", "aqua", "commonsense_qa"}


def _shipped() -> Path:
    return Path(str(resources.files("fcot").joinpath("resources", "published_table1.csv")))


@pytest.fixture(scope="module")
def published():
    return report.load_published(_shipped())


def test_the_file_names_its_source_and_the_sidecar_explains_the_rows():
    text = _shipped().read_text(encoding="utf-8")
    assert text.startswith(f"# source: {SOURCE}")
    sidecar = _shipped().with_suffix(".md").read_text(encoding="utf-8")
    assert "de0a327d8a05883f8231826ee9677f5713052dfe" in sidecar and "tab:performance" in sidecar
    for key in ("random", "teacher", "vanilla", "ft_cot", "ft_cot_diverse"):
        assert f"`{key}`" in sidecar


def test_every_row_is_a_known_method_and_task_once(published):
    # multitask and the simulated teacher are fcot's rows, not the paper's
    assert set(published["method"]) == set(report.METHOD_ROWS) - {"multitask", "teacher_simulated"}
    assert set(published["task"]) <= set(tasks.task_names())
    assert not published.duplicated(["method", "task"]).any()  # one number per (paper) cell
    assert published["accuracy"].between(0, 100).all()


def test_every_task_has_every_row_except_the_diverse_runs_the_paper_did_not_make(published):
    cells = set(zip(published["method"], published["task"]))
    for method in report.METHOD_ROWS:
        if method in ("multitask", "teacher_simulated"):
            continue
        missing = {task for task in tasks.task_names() if (method, task) not in cells}
        assert missing == (NO_DIVERSE_RUN if method == "ft_cot_diverse" else set()), method


def test_students_are_the_tables_gpt3_sizes_with_the_diverse_degree(published):
    student = published.set_index(["method", "task"])["student"]
    assert student[("teacher", "gsm8k")] == "GPT-3 175B text-davinci-002 (Zero-shot-CoT)"
    assert student[("vanilla", "coin_flip")] == "GPT-3 6.7B curie"
    assert student[("ft_cot", "coin_flip")] == "GPT-3 6.7B curie (D=1)"
    assert student[("ft_cot_diverse", "multiarith")] == "GPT-3 6.7B curie (D=64)"
    assert student[("ft_cot_diverse", "date_understanding")] == "GPT-3 6.7B curie (D=8)"


def test_wide_table_puts_the_shipped_numbers_in_paper_columns(published):
    ours = pd.DataFrame([
        {"method": "ft_cot", "task": "multiarith", "mean": 0.40, "low": 0.33, "high": 0.47},
        {"method": "vanilla", "task": "multiarith", "mean": 0.10, "low": 0.06, "high": 0.15},
        {"method": "multitask", "task": "multiarith", "mean": 0.20, "low": None, "high": None},
    ])
    wide = report.wide_table(ours, published)
    assert list(wide.columns[:2]) == ["multiarith", "multiarith (paper)"]
    shown = [c for c in wide.columns if not c.endswith(" (paper)")]
    assert shown[0] == "multiarith" and sorted(shown) == sorted(tasks.task_names())  # ours first, then the paper's
    assert wide.loc["Fine-tune-CoT", "multiarith"] == "40.0 [33.0, 47.0]"
    # spot checks against the source cell (Table 1, 6.7B students; teacher text-davinci-002)
    assert wide.loc["Fine-tune-CoT", "multiarith (paper)"] == "33.3"
    assert wide.loc["Fine-tune-CoT + diverse reasoning", "multiarith (paper)"] == "53.3"
    assert wide.loc["Teacher (Zero-shot-CoT)", "multiarith (paper)"] == "78.8"
    assert wide.loc["Random", "date_understanding (paper)"] == "17.1"
    assert wide.loc["Fine-tune-CoT + diverse reasoning", "gsm8k (paper)"] == ""
    assert wide.loc["Step-by-step multitask", "multiarith (paper)"] == ""  # not in the paper


def test_the_paper_profile_passes_the_shipped_file_to_notebook_90():
    profile = study.load_profile("paper")
    (step,) = [s for s in profile.steps if s.notebook == "90_figures_and_tables"]
    notebook = study.NOTEBOOKS_DIR / "90_figures_and_tables.ipynb"
    assert "published_csv" in study.notebook_parameters(notebook)
    # the notebooks run in their own folder (RunOptions.cwd default), so the path is relative to it
    assert (study.NOTEBOOKS_DIR / step.parameters["published_csv"]).resolve() == _shipped().resolve()
