"""Specs for the study runner (fcot.study) and ``python -m fcot reproduce``.

The execution tests run tiny throwaway notebooks written into a temporary folder (never into
notebooks/) with the real papermill + python3 kernel; each execution costs about a second.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from fcot import cli, paths, study

REPO = Path(__file__).resolve().parent.parent
PROFILE_FILES = sorted((REPO / "notebooks" / "profiles").glob("*.yaml"))


def write_notebook(folder: Path, name: str, parameters: str, *code: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), cell] + [nbformat.v4.new_code_cell(c) for c in code]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, str(path))
    return path


def write_profile(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def books(tmp_path) -> Path:
    """A notebooks folder with a producer (10) and a consumer (20) that reads what 10 wrote."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(
        folder,
        "10_make_numbers",
        'n: int = 2  # how many numbers\nname: str = "numbers"  # output name\nseed: int = 0  # seed\n'
        "scale: float = 1.0  # factor\nverbose: bool = False  # chatter\nlabel: str | None = None  # optional",
        "from fcot import paths\n"
        "target = paths.results_dir() / 'chain' / f'{name}.json'\n"
        "target.parent.mkdir(parents=True, exist_ok=True)\n"
        "import json\n"
        "target.write_text(json.dumps([i * scale + seed for i in range(n)]))",
    )
    write_notebook(
        folder,
        "20_sum_numbers",
        'name: str = "numbers"  # which output of step 10\nseed: int = 0  # seed',
        "import json\nfrom fcot import paths\n"
        "values = json.loads((paths.results_dir() / 'chain' / f'{name}.json').read_text())\n"
        "(paths.results_dir() / 'chain' / f'{name}.sum').write_text(str(sum(values)))",
    )
    write_notebook(folder, "30_fail", "x: int = 1  # anything", "print('before')", "raise RuntimeError('boom in 30')")
    return folder


@pytest.fixture
def profiles(tmp_path) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir()
    return folder


# --- notebook parameters ------------------------------------------------------------------------


def test_notebook_parameters_reads_annotations_defaults_and_help_including_optional_types(books):
    found = study.notebook_parameters(books / "10_make_numbers.ipynb")
    assert list(found) == ["n", "name", "seed", "scale", "verbose", "label"]
    assert found["n"] == study.NotebookParameter("n", "int", 2, "how many numbers")
    assert found["label"].annotation == "str | None" and found["label"].default is None


def test_notebook_without_parameters_cell_declares_none(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(notebook, str(tmp_path / "plain.ipynb"))
    assert study.notebook_parameters(tmp_path / "plain.ipynb") == {}


@pytest.mark.parametrize(
    "value, annotation, expected",
    [
        (3, "int", 3),
        (3, "float", 3.0),
        ("3e-4", "float", 3e-4),
        ("abc", "str", "abc"),
        (True, "bool", True),
        (None, "str | None", None),
        (None, "Optional[int]", None),
        (5, "Optional[int]", 5),
        ([1, 2], "list[int]", [1, 2]),
        ({"a": 1}, "weird.Type", {"a": 1}),
        ("anything", None, "anything"),
    ],
)
def test_coerce_value_accepts_matching_types(value, annotation, expected):
    assert study.coerce_value(value, annotation) == expected


@pytest.mark.parametrize(
    "value, annotation",
    [("3", "int"), (True, "int"), (2.5, "int"), (3, "str"), ("yes", "bool"), (None, "int"), ("x", "float"), (1, "list")],
)
def test_coerce_value_rejects_mismatched_types_naming_the_annotation(value, annotation):
    with pytest.raises(TypeError, match=f"annotates it as {annotation}"):
        study.coerce_value(value, annotation)


# --- profiles: parsing, extends, grid -------------------------------------------------------------


def test_profile_parses_steps_in_order_with_ids_defaults_and_grid(books, profiles):
    write_profile(
        profiles,
        "p",
        "description: test\ndefaults: {seed: 7}\nsteps:\n"
        "  - notebook: 10_make_numbers\n    parameters: {n: 3}\n"
        "  - notebook: 20_sum_numbers\n    output: total\n",
    )
    profile = study.load_profile("p", profiles)
    assert profile.name == "p" and profile.description == "test"
    assert [s.id for s in profile.steps] == ["10_make_numbers", "total"]
    runs = study.plan(profile, notebooks_dir=books)
    assert [r.parameters for r in runs] == [{"seed": 7, "n": 3}, {"seed": 7}]
    assert runs[1].output_path == paths.results_dir() / "p" / "notebooks" / "total.ipynb"


def test_defaults_apply_only_to_notebooks_that_declare_the_parameter(books, profiles):
    write_profile(
        profiles,
        "p",
        "defaults: {scale: 2.5}\nsteps:\n  - notebook: 10_make_numbers\n  - notebook: 20_sum_numbers\n",
    )
    runs = study.plan(study.load_profile("p", profiles), notebooks_dir=books)
    assert runs[0].parameters == {"scale": 2.5} and runs[1].parameters == {}


def test_grid_expands_to_the_cartesian_product_with_one_output_per_point(books, profiles):
    write_profile(
        profiles,
        "p",
        "steps:\n  - notebook: 10_make_numbers\n    parameters: {name: 'n${n}-s${seed}'}\n"
        "    grid: {n: [1, 2, 3], seed: [0, 1]}\n",
    )
    runs = study.plan(study.load_profile("p", profiles), notebooks_dir=books)
    assert len(runs) == 6
    assert [r.grid_point for r in runs[:2]] == [{"n": 1, "seed": 0}, {"n": 1, "seed": 1}]
    assert runs[1].output_path.name == "10_make_numbers__n-1_seed-1.ipynb"
    assert runs[1].parameters == {"name": "n1-s1", "n": 1, "seed": 1}
    assert len({r.output_path for r in runs}) == 6


def test_extends_merges_defaults_updates_steps_in_place_and_appends_new_ones(books, profiles):
    write_profile(
        profiles,
        "base",
        "description: base\ndefaults: {seed: 1, scale: 2.0}\nsteps:\n"
        "  - notebook: 10_make_numbers\n    parameters: {n: 3, name: a}\n    grid: {seed: [0, 1]}\n"
        "  - notebook: 20_sum_numbers\n    parameters: {name: a}\n",
    )
    write_profile(
        profiles,
        "child",
        "extends: base\ndescription: child\ndefaults: {seed: 5}\nsteps:\n"
        "  - notebook: 10_make_numbers\n    parameters: {seed: 9}\n    grid: {n: [4, 5]}\n"
        "  - notebook: 20_sum_numbers\n    output: extra\n",
    )
    profile = study.load_profile("child", profiles)
    assert profile.description == "child" and dict(profile.defaults) == {"seed": 5, "scale": 2.0}
    assert [s.id for s in profile.steps] == ["10_make_numbers", "20_sum_numbers", "extra"]
    first = profile.steps[0]
    assert dict(first.parameters) == {"name": "a", "seed": 9} and dict(first.grid) == {"n": (4, 5)}
    runs = study.plan(profile, notebooks_dir=books)
    assert [r.parameters["n"] for r in runs[:2]] == [4, 5]
    assert runs[2].parameters == {"seed": 5, "name": "a"}


def test_extends_cycle_is_an_error_naming_the_chain(profiles):
    write_profile(profiles, "a", "extends: b\n")
    write_profile(profiles, "b", "extends: a\n")
    with pytest.raises(study.ProfileError, match="cycle"):
        study.load_profile("a", profiles)


@pytest.mark.parametrize(
    "text, message",
    [
        ("stepz: []\n", "unknown key.*stepz.*accepted: description, extends, defaults, base, steps"),
        ("steps:\n  - notebok: 10_make_numbers\n", r"p\.yaml, step 1: unknown key.*notebok"),
        ("steps:\n  - output: x\n", "step 1: missing 'notebook'"),
        ("steps:\n  - notebook: 10_make_numbers.ipynb\n", "without .ipynb"),
        ("steps:\n  - notebook: 10_make_numbers\n    grid: {n: 3}\n", "grid.n must be a list"),
        ("steps:\n  - notebook: 10_make_numbers\n    grid: {n: []}\n", "grid.n must be a non-empty list"),
        ("steps:\n  - notebook: 10_make_numbers\n    parameters: {n: 1}\n    grid: {n: [1]}\n", "both"),
        ("steps:\n  - notebook: 10_make_numbers\n  - notebook: 10_make_numbers\n", "already used by"),
        ("extends: nowhere\n", "nowhere.yaml does not exist"),
        ("steps: [\n", "not valid YAML"),
        ("steps:\n  - notebook: 10_make_numbers\n    with_previous: maybe\n", "'with_previous' must be true or false"),
    ],
)
def test_malformed_profiles_are_rejected_naming_the_file_and_step(profiles, text, message):
    write_profile(profiles, "p", text)
    with pytest.raises(study.ProfileError, match=message) as error:
        study.load_profile("p", profiles)
    assert "p.yaml" in str(error.value)


def test_unknown_profile_name_lists_the_known_profiles(profiles):
    write_profile(profiles, "smoke", "steps: []\n")
    with pytest.raises(study.ProfileError, match="known profiles: smoke"):
        study.load_profile("nope", profiles)


# --- validation against the notebooks ------------------------------------------------------------


def test_unknown_parameter_error_names_file_step_parameter_and_accepted_ones(books, profiles):
    path = write_profile(profiles, "p", "steps:\n  - notebook: 20_sum_numbers\n    parameters: {nmae: x}\n")
    with pytest.raises(study.ProfileError) as error:
        study.plan(study.load_profile(path), notebooks_dir=books)
    message = str(error.value)
    assert str(path) in message and "step 1 (20_sum_numbers)" in message
    assert "'nmae'" in message and "accepted: name, seed" in message


def test_bad_type_error_names_file_step_parameter_and_expected_type(books, profiles):
    path = write_profile(profiles, "p", "steps:\n  - notebook: 10_make_numbers\n    parameters: {n: many}\n")
    with pytest.raises(study.ProfileError) as error:
        study.plan(study.load_profile(path), notebooks_dir=books)
    message = str(error.value)
    assert str(path) in message and "step 1 (10_make_numbers)" in message
    assert "'n'" in message and "annotates it as int" in message


def test_missing_notebook_is_an_error_listing_existing_notebooks(books, profiles):
    write_profile(profiles, "p", "steps:\n  - notebook: 99_not_written_yet\n")
    with pytest.raises(study.ProfileError, match="99_not_written_yet.ipynb does not exist.*10_make_numbers"):
        study.plan(study.load_profile("p", profiles), notebooks_dir=books)


def test_defaults_that_no_notebook_declares_are_an_error(books, profiles):
    write_profile(profiles, "p", "defaults: {sede: 1}\nsteps:\n  - notebook: 20_sum_numbers\n")
    with pytest.raises(study.ProfileError, match="defaults sede are not a parameter"):
        study.plan(study.load_profile("p", profiles), notebooks_dir=books)


def test_unknown_substitution_is_an_error(books, profiles):
    write_profile(profiles, "p", "steps:\n  - notebook: 20_sum_numbers\n    parameters: {name: 'x-${degree}'}\n")
    with pytest.raises(study.ProfileError, match=r"refers to \$\{degree\}"):
        study.plan(study.load_profile("p", profiles), notebooks_dir=books)


# --- --set and --only -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, selector, name, value",
    [
        ("seed=1", None, "seed", 1),
        ("20_finetune_student.epochs=3", "20_finetune_student", "epochs", 3),
        ("20.lr=0.001", "20", "lr", 0.001),
        ("10.tasks=[a, b]", "10", "tasks", ["a", "b"]),
        ("x.flag=true", "x", "flag", True),
        ("x.label=", "x", "label", None),
        ("x.model=gpt-4o-mini", "x", "model", "gpt-4o-mini"),
    ],
)
def test_parse_override_reads_selector_name_and_yaml_value(text, selector, name, value):
    override = study.parse_override(text)
    assert (override.selector, override.name, override.value) == (selector, name, value)


@pytest.mark.parametrize("text", ["seed", "=3", "20.=3", "20.my-param=3"])
def test_parse_override_rejects_malformed_text(text):
    with pytest.raises(study.ProfileError, match="--set"):
        study.parse_override(text)


def test_set_overrides_apply_globally_where_declared_and_per_step_with_priority(books, profiles):
    write_profile(
        profiles,
        "p",
        "steps:\n  - notebook: 10_make_numbers\n    parameters: {seed: 3, scale: 2.0}\n    grid: {n: [1, 2]}\n"
        "  - notebook: 20_sum_numbers\n",
    )
    overrides = [study.parse_override(t) for t in ("10.seed=4", "seed=1", "verbose=true", "10.scale=3e-4", "10.n=5")]
    runs = study.plan(study.load_profile("p", profiles), overrides, notebooks_dir=books)
    assert len(runs) == 2  # --set on a grid parameter replaced the axis
    assert runs[0].parameters == {"seed": 4, "scale": 3e-4, "verbose": True, "n": 5}
    assert runs[1].parameters == {"seed": 1}


def test_set_with_a_list_value_makes_a_grid_axis(books, profiles):
    write_profile(profiles, "p", "steps:\n  - notebook: 10_make_numbers\n")
    runs = study.plan(study.load_profile("p", profiles), [study.parse_override("n=[1, 2, 3]")], notebooks_dir=books)
    assert [r.parameters["n"] for r in runs] == [1, 2, 3]


@pytest.mark.parametrize(
    "text, message",
    [
        ("20_sum_numbers.n=3", "step 20_sum_numbers has no parameter 'n'; accepted: name, seed"),
        ("nope=3", "no step's notebook has a parameter 'nope'"),
        ("42.n=3", "'42' matches no step"),
        ("10.n=lots", r"--set 10.n=lots: parameter 'n' .*annotates it as int"),
    ],
)
def test_bad_set_overrides_are_errors_naming_the_override(books, profiles, text, message):
    write_profile(profiles, "p", "steps:\n  - notebook: 10_make_numbers\n  - notebook: 20_sum_numbers\n")
    with pytest.raises(study.ProfileError, match=message):
        study.plan(study.load_profile("p", profiles), [study.parse_override(text)], notebooks_dir=books)


@pytest.mark.parametrize(
    "only, expected",
    [("10", ["10_make_numbers"]), ("20_sum_numbers", ["20_sum_numbers"]), ("10-29", ["10_make_numbers", "20_sum_numbers"]),
     ("30, 10", ["10_make_numbers", "30_fail"]), ("total", ["20_sum_numbers"])],
)
def test_only_selects_steps_by_number_name_range_or_id_keeping_profile_order(books, profiles, only, expected):
    write_profile(
        profiles,
        "p",
        "steps:\n  - notebook: 10_make_numbers\n  - notebook: 20_sum_numbers\n    output: total\n"
        "  - notebook: 30_fail\n",
    )
    runs = study.plan(study.load_profile("p", profiles), only=only, notebooks_dir=books)
    assert [r.notebook_path.stem for r in runs] == expected


def test_only_with_an_unknown_selector_is_an_error(books, profiles):
    write_profile(profiles, "p", "steps:\n  - notebook: 10_make_numbers\n")
    with pytest.raises(study.ProfileError, match="--only '77' matches no step"):
        study.plan(study.load_profile("p", profiles), only="77", notebooks_dir=books)


# --- execution ------------------------------------------------------------------------------------------


def chain_profile(profiles: Path) -> Path:
    return write_profile(
        profiles,
        "chain",
        "defaults: {seed: 10}\nsteps:\n"
        "  - notebook: 10_make_numbers\n    parameters: {n: 4, name: '${profile}-nums'}\n"
        "  - notebook: 20_sum_numbers\n    parameters: {name: chain-nums}\n",
    )


def test_chained_notebooks_execute_in_order_and_later_ones_read_earlier_outputs(books, profiles):
    report = study.run_study(study.load_profile(chain_profile(profiles)), notebooks_dir=books, log=lambda _: None)
    results = paths.results_dir()
    assert (results / "chain" / "chain-nums.json").read_text() == "[10.0, 11.0, 12.0, 13.0]"
    assert (results / "chain" / "chain-nums.sum").read_text() == "46.0"
    assert [o.status for o in report.outcomes] == ["ran", "ran"]
    executed = nbformat.read(str(results / "chain" / "notebooks" / "20_sum_numbers.ipynb"), as_version=4)
    record = executed.metadata["fcot_study"]
    assert record["status"] == "completed" and record["parameters"] == {"seed": 10, "name": "chain-nums"}
    timings = json.loads((results / "chain" / "timings.json").read_text())
    assert set(timings["notebooks"]) == {"10_make_numbers", "20_sum_numbers"}
    assert all(t["status"] == "ran" and t["seconds"] > 0 for t in timings["notebooks"].values())
    call = timings["last_call"]  # the call's own wall time, which --jobs makes shorter than the sum
    assert call["executed"] == 2 and call["skipped"] == 0 and call["jobs"] == 1 and call["wall_seconds"] > 0


def test_rerun_skips_completed_steps_and_a_changed_step_reruns_itself_and_later_steps(books, profiles):
    profile = study.load_profile(chain_profile(profiles))
    study.run_study(profile, notebooks_dir=books, log=lambda _: None)
    outputs = paths.results_dir() / "chain" / "notebooks"
    mtimes = {p.name: p.stat().st_mtime_ns for p in outputs.glob("*.ipynb")}

    again = study.run_study(profile, notebooks_dir=books, log=lambda _: None)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    assert {p.name: p.stat().st_mtime_ns for p in outputs.glob("*.ipynb")} == mtimes
    # a call that only skips rewrites no committed file: results/<profile>/timings.json keeps the executed steps'
    # times and the last real call; this machine's bookkeeping (runs/<profile>/timings.json) says what it did
    timings = json.loads((paths.results_dir() / "chain" / "timings.json").read_text())
    assert all(t["status"] == "ran" and t["seconds"] > 0 for t in timings["notebooks"].values())
    assert timings["last_call"]["executed"] == 2
    local = json.loads(study.local_timings_path("chain").read_text())
    assert all(t["status"] == "skipped" and t["seconds"] > 0 for t in local["notebooks"].values())

    # committed executed notebooks are not a cache: a clone without this machine's stamps runs every step
    import shutil

    shutil.rmtree(paths.runs_dir() / "chain" / ".executed")
    fresh = study.run_study(profile, notebooks_dir=books, log=lambda _: None)
    assert [o.status for o in fresh.outcomes] == ["ran", "ran"]

    changed = study.run_study(profile, ["10_make_numbers.n=2"], notebooks_dir=books, log=lambda _: None)
    assert [o.status for o in changed.outcomes] == ["ran", "ran"]  # 20 reads 10's output: it reruns too
    assert (paths.results_dir() / "chain" / "chain-nums.sum").read_text() == "21.0"

    forced = study.run_study(
        profile, ["10_make_numbers.n=2"], only="20", options=study.RunOptions(force=True),
        notebooks_dir=books, log=lambda _: None,
    )
    assert [(o.run.step.id, o.status) for o in forced.outcomes] == [("20_sum_numbers", "ran")]


def test_a_failing_notebook_keeps_its_partial_output_and_the_error_names_it(books, profiles):
    write_profile(profiles, "f", "steps:\n  - notebook: 10_make_numbers\n  - notebook: 30_fail\n  - notebook: 20_sum_numbers\n")
    logs: list[str] = []
    with pytest.raises(study.StepFailedError) as error:
        study.run_study(study.load_profile("f", profiles), notebooks_dir=books, log=logs.append)
    failed = paths.runs_dir() / "f" / "failed" / "30_fail.ipynb"  # outside git: results/ gets nothing from a failure
    assert error.value.output_path == failed
    assert str(failed) in str(error.value) and "RuntimeError: boom in 30" in str(error.value)
    partial = nbformat.read(str(failed), as_version=4)
    assert partial.metadata["papermill"]["exception"] is True and "fcot_study" not in partial.metadata
    assert any(o.get("text") == "before\n" for c in partial.cells for o in c.get("outputs", []))
    assert not (paths.results_dir() / "f" / "notebooks" / "30_fail.ipynb").exists()
    assert not (paths.results_dir() / "f" / "notebooks" / "20_sum_numbers.ipynb").exists()
    timings = json.loads(study.local_timings_path("f").read_text())["notebooks"]
    assert timings["10_make_numbers"]["status"] == "ran" and timings["30_fail"]["status"] == "failed"
    committed = json.loads((paths.results_dir() / "f" / "timings.json").read_text())["notebooks"]
    assert set(committed) == {"10_make_numbers"}  # the failed step (and its parameters) stay out of results/
    assert "run the same command again" in str(error.value)
    assert not list((paths.results_dir() / "f").rglob("*fail*.ipynb"))
    # the completed first step is skipped on the next attempt
    with pytest.raises(study.StepFailedError):
        study.run_study(study.load_profile("f", profiles), notebooks_dir=books, log=logs.append)
    assert any("10_make_numbers: up to date, skipped" in line for line in logs)


def test_a_failed_rerun_never_replaces_the_last_completed_execution(books, profiles):
    write_notebook(books, "40_maybe_fail", "fail: bool = False  # raise on purpose", "assert not fail, 'asked to fail'")
    write_profile(profiles, "k", "steps:\n  - notebook: 40_maybe_fail\n")
    study.run_study(study.load_profile("k", profiles), notebooks_dir=books, log=lambda _: None)
    output = paths.results_dir() / "k" / "notebooks" / "40_maybe_fail.ipynb"
    completed = output.read_bytes()
    assert json.loads(completed)["metadata"]["papermill"]["input_path"] == paths.portable(books / "40_maybe_fail.ipynb")
    assert paths.portable(paths.REPO_ROOT / "notebooks" / "00_tour.ipynb") == "notebooks/00_tour.ipynb"  # in the repo
    assert paths.resolve("notebooks/00_tour.ipynb") == paths.REPO_ROOT / "notebooks" / "00_tour.ipynb"
    with pytest.raises(study.StepFailedError) as error:
        study.run_study(study.load_profile("k", profiles), ["40_maybe_fail.fail=true"], notebooks_dir=books,
                        log=lambda _: None)
    assert "the last completed one is kept" in str(error.value)
    assert output.read_bytes() == completed and (paths.runs_dir() / "k" / "failed" / "40_maybe_fail.ipynb").is_file()


def test_grid_points_run_in_parallel_processes_with_jobs(books, profiles):
    write_profile(
        profiles,
        "g",
        "steps:\n  - notebook: 10_make_numbers\n    parameters: {name: 'g${n}'}\n    grid: {n: [1, 3]}\n",
    )
    report = study.run_study(
        study.load_profile("g", profiles), options=study.RunOptions(jobs=2), notebooks_dir=books, log=lambda _: None
    )
    assert [o.status for o in report.outcomes] == ["ran", "ran"]
    assert (paths.results_dir() / "chain" / "g3.json").read_text() == "[0.0, 1.0, 2.0]"


def test_a_step_marked_with_previous_shares_the_previous_steps_group_of_workers(books, profiles):
    write_profile(
        profiles,
        "w",
        "steps:\n"
        "  - notebook: 10_make_numbers\n    output: a\n    parameters: {name: 'a${n}'}\n    grid: {n: [1, 2, 3]}\n"
        "  - notebook: 10_make_numbers\n    output: b\n    with_previous: true\n    parameters: {name: 'b${n}'}\n"
        "    grid: {n: [1, 2]}\n"
        "  - notebook: 20_sum_numbers\n    parameters: {name: a1}\n",
    )
    runs = study.plan(study.load_profile("w", profiles), notebooks_dir=books)
    groups = study.execution_groups(runs)
    assert [[r.step.id for r in g] for g in groups] == [["a", "a", "a", "b", "b"], ["20_sum_numbers"]]
    report = study.run_study(
        study.load_profile("w", profiles), options=study.RunOptions(jobs=2), notebooks_dir=books, log=lambda _: None
    )
    assert [o.status for o in report.outcomes] == ["ran"] * 6
    assert (paths.results_dir() / "chain" / "a1.sum").read_text() == "0.0"


def test_without_with_previous_each_step_is_its_own_group(books, profiles):
    write_profile(
        profiles,
        "v",
        "steps:\n  - notebook: 10_make_numbers\n    output: a\n    grid: {n: [1, 2]}\n"
        "  - notebook: 10_make_numbers\n    output: b\n    grid: {n: [1, 2]}\n",
    )
    groups = study.execution_groups(study.plan(study.load_profile("v", profiles), notebooks_dir=books))
    assert [[r.step.id for r in g] for g in groups] == [["a", "a"], ["b", "b"]]


def test_kernel_sees_relative_fcot_paths_made_absolute(books, profiles, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(paths.RESULTS_ENV, "rel-results")
    write_profile(profiles, "r", "steps:\n  - notebook: 10_make_numbers\n")
    study.run_study(study.load_profile("r", profiles), notebooks_dir=books, log=lambda _: None)
    assert (tmp_path / "rel-results" / "chain" / "numbers.json").is_file()
    assert os.environ[paths.RESULTS_ENV] == "rel-results"


def test_kernels_talk_to_papermill_over_local_ipc_sockets_not_tcp(books, profiles):
    write_notebook(books, "40_transport", 'name: str = "transport"  # output name',
                   "from ipykernel.kernelapp import IPKernelApp\nfrom fcot import paths\n"
                   "(paths.results_dir() / f'{name}.txt').write_text(IPKernelApp.instance().transport)")
    write_profile(profiles, "t", "steps:\n  - notebook: 40_transport\n")
    study.run_study(study.load_profile("t", profiles), notebooks_dir=books, log=lambda _: None)
    assert (paths.results_dir() / "transport.txt").read_text() == "ipc"


def test_with_jobs_kernels_compute_on_one_torch_thread_unless_the_caller_set_omp_num_threads(books, profiles, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    write_notebook(books, "40_threads", 'name: str = "threads"  # output name',
                   "import torch\nfrom fcot import paths\n"
                   "(paths.results_dir() / f'{name}.txt').write_text(str(torch.get_num_threads()))")
    write_profile(profiles, "t", "steps:\n  - notebook: 40_threads\n")
    study.run_study(study.load_profile("t", profiles), notebooks_dir=books, options=study.RunOptions(jobs=2),
                    log=lambda _: None)
    assert (paths.results_dir() / "threads.txt").read_text() == "1"  # processes share the cores
    assert study.kernel_threads(1) == {}  # alone on the machine: torch's default
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert study.kernel_threads(2) == {}  # the caller's setting is kept as it is


def test_a_stage_notebook_sets_its_own_torch_threads():
    import torch

    from fcot import students

    before = torch.get_num_threads()
    try:
        students.set_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="threads must be an integer >= 1"):
        students.set_threads(0)
    for notebook in ("20_finetune_student", "21_evaluate_student"):
        assert "threads" in study.notebook_parameters(study.NOTEBOOKS_DIR / f"{notebook}.ipynb")


def test_with_jobs_the_pool_of_sweep_points_starts_before_the_first_stage_notebook(books, profiles, monkeypatch):
    class Pool:
        launched = False

        def launch(self):
            self.launched = True

        def wait(self, name):
            pass

        def close(self, finished=True):
            return {}

    pool, seen = Pool(), []
    monkeypatch.setattr(study.execution, "_start_prefetch", lambda *a, **k: pool)
    monkeypatch.setattr(study.execution, "execute_run", lambda run, options: seen.append((run.name, pool.launched)) or 0.0)
    write_profile(profiles, "j", "steps:\n  - notebook: 10_make_numbers\n  - notebook: 20_sum_numbers\n")
    study.run_study(study.load_profile("j", profiles), notebooks_dir=books, options=study.RunOptions(jobs=2),
                    log=lambda _: None)
    assert seen == [("10_make_numbers", True), ("20_sum_numbers", True)]  # no core idles while stage notebooks run


def test_run_options_validate_themselves():
    with pytest.raises(ValueError, match="jobs must be an integer >= 1"):
        study.RunOptions(jobs=0)


# --- command line ------------------------------------------------------------------------------------------


def test_cli_list_prints_expanded_steps_without_running(books, profiles, capsys, monkeypatch):
    monkeypatch.setattr(study.profiles, "NOTEBOOKS_DIR", books)
    path = write_profile(profiles, "c", "steps:\n  - notebook: 10_make_numbers\n    grid: {n: [1, 2]}\n")
    assert cli.main(["reproduce", "--profile", str(path), "--list", "--set", "seed=3"]) == 0
    out = capsys.readouterr().out
    assert "10_make_numbers__n-1" in out and "10_make_numbers__n-2" in out and "seed=3" in out and "[to run]" in out
    assert not (paths.results_dir() / "c").exists()


def test_cli_reports_profile_errors_with_exit_code_2_and_step_failures_with_1(books, profiles, capsys, monkeypatch):
    monkeypatch.setattr(study.profiles, "NOTEBOOKS_DIR", books)
    bad = write_profile(profiles, "bad", "steps:\n  - notebook: 20_sum_numbers\n    parameters: {nope: 1}\n")
    assert cli.main(["reproduce", "--profile", str(bad)]) == 2
    assert "unknown parameter 'nope'" in capsys.readouterr().err
    failing = write_profile(profiles, "failing", "steps:\n  - notebook: 30_fail\n")
    assert cli.main(["reproduce", "--profile", str(failing)]) == 1
    assert "30_fail.ipynb" in capsys.readouterr().err


# --- the repository's own profiles ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", PROFILE_FILES or [None], ids=lambda p: p.stem if p else "none")
def test_every_profile_in_the_repository_validates_against_the_existing_notebooks(path):
    if path is None:
        pytest.fail("notebooks/profiles/ holds no *.yaml profile; `make reproduce` needs smoke, default and paper")
    runs = study.validate_profile(path)
    assert runs, f"{path} expands to no notebook execution"


def test_the_repository_has_the_smoke_default_and_paper_profiles():
    assert {"smoke", "default", "paper"} <= {p.stem for p in PROFILE_FILES}


def test_the_reproduction_check_says_which_committed_numbers_were_reproduced():
    committed = {"degree: degree=1": {"mean": 0.20, "low": 0.15, "high": 0.25},
                 "degree: degree=2": {"mean": 0.30, "low": 0.25, "high": 0.35},
                 "degree: degree=4": {"mean": 0.40, "low": 0.35, "high": 0.45},
                 "filtering: filter_mode=keep_all": {"mean": 0.3, "low": 0.2, "high": 0.4}}
    reproduced = {"degree: degree=1": {"mean": 0.20, "low": 0.15, "high": 0.25},
                  "degree: degree=2": {"mean": 0.32, "low": 0.27, "high": 0.37},
                  "degree: degree=4": {"mean": 0.60, "low": 0.55, "high": 0.65},
                  "degree: degree=8": {"mean": 0.50, "low": 0.45, "high": 0.55}}
    rows = {r["number"]: r["agreement"] for r in study.reproduction_check(committed, reproduced)}
    assert rows == {"degree: degree=1": "exactly", "degree: degree=2": "within the interval",
                    "degree: degree=4": "differs", "degree: degree=8": "new", "filtering: filter_mode=keep_all": "gone"}
    text = study.format_reproduction(study.reproduction_check(committed, reproduced))
    assert "20.0% [15.0, 25.0]" in text and "1 exactly, 1 within the interval, 1 differs, 1 new, 1 gone" in text


def test_headline_numbers_are_read_from_the_ablation_summaries(tmp_path):
    folder = tmp_path / "prof" / "ablations" / "degree"
    folder.mkdir(parents=True)
    (folder / "summary.csv").write_text("degree,runs,seeds,mean,sd,low,high\n1,3,\"0,1,2\",0.2,0.01,0.15,0.25\n")
    assert study.headline_numbers("prof", tmp_path) == {"degree: degree=1": {"mean": 0.2, "low": 0.15, "high": 0.25,
                                                                              "design": None}}


def test_a_sweep_whose_recorded_design_changed_is_not_compared_with_its_committed_numbers(tmp_path):
    numbers = {}
    for side, n_train in (("committed", 800), ("reproduced", 400)):
        folder = tmp_path / side / "prof" / "ablations" / "methods"
        folder.mkdir(parents=True)
        (folder / "summary.csv").write_text("arm,runs,mean,low,high\nft_cot,3,0.335,0.23,0.44\n")
        (folder / "ablation.json").write_text(json.dumps({"config": {"n_train": n_train, "seed": 0}}))
        numbers[side] = study.headline_numbers("prof", tmp_path / side)
    rows = study.reproduction_check(numbers["committed"], numbers["reproduced"])
    assert [r["agreement"] for r in rows] == ["other design"]  # same number, but not the same experiment
    assert "1 other design" in study.format_reproduction(rows)
    same = study.reproduction_check(numbers["committed"], numbers["committed"])
    assert [r["agreement"] for r in same] == ["exactly"]


@pytest.mark.parametrize("override, message", [
    ("10_generate_teacher_rationales.degree=0", r"TeachConfig\.degree: must be an integer >= 1"),
    ("11_curate_samples.filter_mode=some", r"filter_mode"),
    ("31_ablate_degree.degree=[1,0]", r"degree"),
])
def test_values_a_notebook_would_refuse_are_refused_when_planning_naming_the_override(override, message):
    with pytest.raises(study.ProfileError, match=message) as caught:
        study.plan(study.load_profile("smoke"), [study.parse_override(override)])
    assert f"--set {override}" in str(caught.value)


def test_a_call_records_its_cpu_seconds_beside_its_wall_time(tmp_path):
    timings = tmp_path / "timings.json"
    timings.write_text("{}", encoding="utf-8")
    before = study.cpu_seconds()
    sum(i * i for i in range(200_000))
    study.execution._record_call(timings, 1.5, 2, [study.StepOutcome(None, "ran", 1.0)], study.cpu_seconds() - before)
    call = json.loads(timings.read_text())["last_call"]
    assert call["wall_seconds"] == 1.5 and call["cpu_seconds"] >= 0 and call["cores"] == os.cpu_count()
