"""What is committed under results/ is for readers: no machine's paths, no warning spam."""

from __future__ import annotations

import json
import re

import pytest

from fcot import paths

RESULTS = paths.REPO_ROOT / "results"
TEXT_SUFFIXES = {".json", ".jsonl", ".md", ".csv", ".ipynb", ".txt"}
# an absolute path of somebody's machine: a home, a work root, a temporary folder, this checkout
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:home|root|Users|work|tmp|private|var/folders)/[\w.-]+")


def committed_text_files():
    return [f for f in RESULTS.rglob("*") if f.is_file() and f.suffix in TEXT_SUFFIXES]


@pytest.mark.slow
def test_committed_results_carry_no_machine_paths():
    offenders = {}
    for file in committed_text_files():
        text = file.read_text(encoding="utf-8", errors="replace")
        found = MACHINE_PATH.findall(text) + ([str(paths.REPO_ROOT)] if str(paths.REPO_ROOT) in text else [])
        if found:
            offenders[str(file.relative_to(paths.REPO_ROOT))] = sorted(set(found))[:3]
    assert not offenders, f"{len(offenders)} files under results/ name machine paths, e.g. {list(offenders.items())[:5]}"


def test_executed_notebooks_store_no_progress_bar_warnings():
    noisy = []
    for notebook in sorted((RESULTS).glob("*/notebooks/*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        stderr = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", [])
                         if o.get("name") == "stderr")
        widgets = any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for c in cells
                      for o in c.get("outputs", []))  # a progress bar drawn as a widget
        if widgets or "TqdmWarning" in stderr or "IProgress not found" in stderr or re.search(r"\d+/\d+ \[[\d:<?]+", stderr):
            noisy.append(notebook.name)
    assert not noisy, f"executed notebooks with tqdm warnings or progress-bar residue in their stored stderr: {noisy}"


def test_the_machine_path_pattern_finds_paths_not_urls_or_words():
    assert MACHINE_PATH.findall('"best_model_dir": "/work/main/runs/x"') == ["/work/main"]
    assert MACHINE_PATH.findall("/home/alice/fcot/results") == ["/home/alice"]
    assert not MACHINE_PATH.findall("https://example.org/home/page and runs/default/student/x and a/tmp/b")


def test_the_stage_walk_through_is_named_as_the_main_table_point_it_repeats_only_when_it_is_the_same_run(monkeypatch):
    from fcot import experiments
    from fcot.report import readme as report_readme

    sentence = report_readme._walkthrough_sentence("default", RESULTS)  # the committed runs
    assert "scores ft_cot" in sentence and "seed 0 of the main-table column `coin_flip`" in sentence
    collect = experiments.collect_experiments

    def other_scores(*args, **kwargs):  # the same configuration, another accuracy (e.g. computed on two threads)
        frame = collect(*args, **kwargs)
        return frame.assign(accuracy=frame["accuracy"] - 0.01)

    monkeypatch.setattr(experiments, "collect_experiments", other_scores)
    sentence = report_readme._walkthrough_sentence("default", RESULTS)
    assert "scores ft_cot" in sentence and "main-table column" not in sentence
    monkeypatch.setattr(experiments, "collect_experiments", collect)
    from fcot import stages
    from fcot.runs import Run

    run = Run.load(next((RESULTS / "default" / "runs" / "evaluation").glob("walkthrough-ft_cot-*")))
    point = ("default", RESULTS, stages.data_of(run), "ft_cot", stages.upstream_of(run), run.metrics["accuracy"])
    assert report_readme._column_twin(*point, run.hash)  # the column's evaluation is this very run
    assert not report_readme._column_twin(*point, "0123456789")  # the same score from another evaluation is not called so
