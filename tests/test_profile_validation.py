"""A profile and its overrides are refused before anything runs when they would be silently misread or fail mid-study
(issue 31): duplicated YAML keys, a selection of no step, two runs writing one output, values a step's config refuses;
notebook 10's request deadline; and kernels import fcot from the checkout that runs the study."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path

import nbformat
import pytest

from fcot import paths, stages, study

REPO = Path(__file__).resolve().parent.parent


def write_notebook(folder: Path, name: str, parameters: str, *code: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    notebook.cells = [cell] + [nbformat.v4.new_code_cell(c) for c in code]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, str(path))
    return path


@pytest.fixture
def books(tmp_path) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder, "10_make", 'n: int = 2  # how many\nlabel: str = "x"  # a label\nseed: int = 0  # seed\n'
                                      "values: list = [1]  # a list parameter")
    write_notebook(folder, "20_use", 'name: str = "x"  # which')
    return folder


def profile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- duplicated YAML keys -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, line, key", [
    ("steps:\n  - notebook: 10_make\nsteps:\n  - notebook: 20_use\n", 3, "steps"),
    ("description: a\ndescription: b\nsteps:\n  - notebook: 10_make\n", 2, "description"),
    ("defaults: {seed: 1, seed: 2}\nsteps:\n  - notebook: 10_make\n", 1, "seed"),
    ("steps:\n  - notebook: 10_make\n    parameters:\n      n: 1\n      n: 2\n", 5, "n"),
    ("steps:\n  - notebook: 10_make\n    notebook: 20_use\n", 3, "notebook"),
    ("steps:\n  - notebook: 10_make\n    grid: {n: [1, 2]}\n    grid: {n: [3]}\n", 4, "grid"),
    ("steps:\n  - notebook: 10_make\n    parameters:\n      <<: {n: 1, n: 2}\n", 4, "n"),  # inside a merged mapping
])
def test_a_key_stated_twice_in_a_profile_is_an_error_naming_file_line_and_key(tmp_path, text, line, key):
    with pytest.raises(study.ProfileError) as caught:
        study.load_profile(profile(tmp_path, text))
    assert f"mine.yaml:{line}: key {key!r} appears twice" in str(caught.value)


def test_merge_keys_still_work_and_a_key_beside_a_merge_overrides_the_merged_one(tmp_path, books):
    path = profile(tmp_path, "steps:\n  - notebook: 10_make\n    parameters: &base {n: 1, label: a}\n"
                             "  - notebook: 10_make\n    output: again\n    parameters: {<<: *base, n: 5}\n")
    runs = study.plan(study.load_profile(path), notebooks_dir=books)
    assert [dict(r.parameters) for r in runs] == [{"n": 1, "label": "a"}, {"n": 5, "label": "a"}]


def test_a_duplicated_key_in_a_set_value_is_an_error():
    with pytest.raises(study.ProfileError, match=r"--set .*key 'a' appears twice in one mapping of the value"):
        study.parse_override("10.values={a: 1, a: 2}")


@pytest.mark.parametrize("name", ["default", "pretrained", "paper", "smoke"])
def test_the_repositorys_profiles_state_no_key_twice(name):
    assert study.plan(study.load_profile(name))


# --- selections of no step -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("only", [",", "", " , ", []])
def test_a_selection_of_no_step_is_an_error_listing_the_steps(tmp_path, books, only):
    path = profile(tmp_path, "steps:\n  - notebook: 10_make\n  - notebook: 20_use\n")
    with pytest.raises(study.ProfileError, match=r"--only .* names no step .*steps: 10_make, 20_use"):
        study.plan(study.load_profile(path), only=only, notebooks_dir=books)


def test_a_profile_without_steps_is_an_error(tmp_path, books):
    with pytest.raises(study.ProfileError, match=r"mine\.yaml: profile mine has no steps"):
        study.plan(study.load_profile(profile(tmp_path, "description: nothing\n")), notebooks_dir=books)


def test_the_command_line_refuses_only_comma_with_exit_code_2(capsys):
    from fcot import cli

    assert cli.main(["reproduce", "--profile", "smoke", "--list", "--only", ","]) == 2
    assert "names no step" in capsys.readouterr().err


# --- never two runs writing one output -----------------------------------------------------------------------------

@pytest.mark.parametrize("override, message", [
    ("10.n=[1, 1]", r"--set 10\.n=\[1, 1\]: step 10_make, parameter 'n': the value 1 is listed twice.*annotated int"),
    ("10.label=[a, b, a]", r"step 10_make, parameter 'label': the value 'a' is listed twice"),
    ("10.label={a: 1}", r"--set 10\.label=\{a: 1\}: parameter 'label' of 10_make\.ipynb: got \{'a': 1\} \(dict\)"),
    ("10.n=[[1]]", r"parameter 'n' of 10_make\.ipynb: got \[1\] \(list\)"),
])
def test_a_list_or_dict_where_one_value_is_expected_is_refused_naming_step_and_parameter(tmp_path, books, override,
                                                                                          message):
    path = profile(tmp_path, "steps:\n  - notebook: 10_make\n  - notebook: 20_use\n")
    with pytest.raises(study.ProfileError, match=message):
        study.plan(study.load_profile(path), [study.parse_override(override)], notebooks_dir=books)


def test_a_list_of_distinct_values_still_runs_each_and_a_list_parameter_takes_a_list(tmp_path, books):
    path = profile(tmp_path, "steps:\n  - notebook: 10_make\n")
    runs = study.plan(study.load_profile(path), [study.parse_override("n=[1, 2]"), study.parse_override("values=[3, 3]")],
                      notebooks_dir=books)
    assert [(r.parameters["n"], r.parameters["values"]) for r in runs] == [(1, [3, 3]), (2, [3, 3])]


def test_a_repeated_value_of_a_profile_grid_is_an_error(tmp_path, books):
    path = profile(tmp_path, "steps:\n  - notebook: 10_make\n    grid: {seed: [0, 1, 0]}\n")
    with pytest.raises(study.ProfileError, match=r"mine\.yaml, step 1 \(10_make\) \(grid\): .*'seed'.*listed twice"):
        study.plan(study.load_profile(path), notebooks_dir=books)


@pytest.mark.parametrize("text", [
    # grid values that differ only in characters an output name cannot hold
    "steps:\n  - notebook: 10_make\n    grid: {label: [a/b, a-b]}\n",
    # a step whose id is another step's grid point
    "steps:\n  - notebook: 10_make\n    grid: {n: [1]}\n  - notebook: 20_use\n    output: 10_make__n-1\n",
])
def test_two_runs_never_share_an_output_notebook(tmp_path, books, text):
    with pytest.raises(study.ProfileError, match=r"two runs would write one output .*\.ipynb"):
        study.plan(study.load_profile(profile(tmp_path, text)), notebooks_dir=books)


@pytest.mark.parametrize("name", ["default", "pretrained", "paper", "smoke"])
def test_no_repository_profile_writes_one_output_twice(name):
    runs = study.plan(study.load_profile(name))
    assert len({r.output_path for r in runs}) == len(runs)


# --- every step's values are validated against its config before anything runs ------------------------------------

@pytest.mark.parametrize("override, message", [
    ("20_finetune_student.lr=-1", r"TrainConfig\.lr must be > 0, got -1"),
    ("20_finetune_student.seed=-3", r"seed: must be an integer >= 0 \(a seed\), got -3"),
    ("20_finetune_student.recipe=fast", r"unknown training recipe 'fast'; accepted"),
    ("20_finetune_student.select_by=best", r"TrainConfig\.select_by='best' is not accepted; accepted"),
    ("20_finetune_student.threads=0", r"threads: must be an integer >= 1 or None"),
    ("10_generate_teacher_rationales.base_url=ftp://x", r"TeachConfig\.base_url: must be an http\(s\) URL.*'ftp://x'"),
    ("10_generate_teacher_rationales.style=poem", r"TeachConfig\.style: 'poem' is not accepted; accepted: completions, chat"),
    ("10_generate_teacher_rationales.api_key_env=sk-123", r"TeachConfig\.api_key_env: must be the NAME.*not shown"),
    ("10_generate_teacher_rationales.timeout_s=0", r"TeachConfig\.timeout_s: must be a number of seconds > 0"),
    ("21_evaluate_student.seed=-1", r"seed: must be an integer >= 0"),
    ("21_evaluate_student.threads=0", r"threads: must be an integer >= 1"),
    ("00_tour.epochs=0", r"TrainConfig\.epochs must be an integer >= 1"),
    ("00_tour.degree=0", r"TeachConfig\.degree: must be an integer >= 1"),
    ("40_sample_study.teacher=gpt", r"TeachConfig\.backend: 'gpt' is not accepted"),
    ("31_ablate_degree.lr=-1", r"ExperimentConfig\.lr: must be > 0"),
    ("30_compare_methods.seeds=[-3]", r"ExperimentConfig\.seed: must be an integer >= 0, got -3"),
    ("32_ablate_data_size.workers=0", r"workers: must be an integer >= 1"),
    ("29_choose_recipe.learning_rates=[-1]", r"learning_rates must be numbers > 0"),
])
def test_list_refuses_a_value_the_steps_config_refuses_naming_step_parameter_and_accepted(override, message):
    with pytest.raises(study.ProfileError, match=message) as caught:
        study.plan(study.load_profile("default"), [study.parse_override(override)])
    text = str(caught.value)
    assert f"--set {override}" in text
    assert "sk-123" not in text.replace(f"--set {override}", "")  # a key given by mistake is not echoed
    step = override.split(".")[0]
    assert any(r.step.notebook == step and text.startswith(r.step.id) for r in study.plan(study.load_profile("default")))


# --- notebook 10's overall deadline ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), "120", None, True])
def test_a_teacher_deadline_that_is_not_a_positive_number_of_seconds_is_refused(value):
    with pytest.raises(ValueError, match=r"TeachConfig\.timeout_s: must be a number of seconds > 0"):
        stages.TeachConfig(timeout_s=value)


def test_the_deadline_is_not_part_of_the_run_key_so_committed_teacher_runs_keep_their_hashes():
    assert "timeout_s" not in stages.TeachConfig().key("coin_flip")
    assert stages.TeachConfig(timeout_s=5).key("coin_flip") == stages.TeachConfig().key("coin_flip")
    committed = sorted(REPO.glob("results/*/runs/teacher/*/config.json"))
    for path in committed:  # each committed teacher run's key, rebuilt from its settings, is what it recorded
        config = json.loads(path.read_text(encoding="utf-8"))
        teach = config["teach"]
        settings = {k: teach[k] for k in ("backend", "completions", "model", "degree", "temperature", "max_tokens")}
        settings["accuracy"] = teach["accuracy"] if teach["backend"] == "simulated" else None
        if teach["backend"] == "replay":
            settings["temperature"] = None
        if teach["backend"] == "openai":
            settings.update({k: teach[k] for k in ("base_url", "api_key_env", "style", "concurrency")})
        assert stages.TeachConfig(**settings).key(config["data"]["task"]) == teach, path


def test_the_openai_teacher_backend_gets_the_configs_deadline():
    config = stages.TeachConfig(backend="openai", model="m", base_url="http://127.0.0.1:9/v1", api_key_env="",
                                timeout_s=7.5)
    assert stages.teacher_backend("coin_flip", config).timeout_s == 7.5


def test_notebook_10_exposes_the_deadline_and_passes_it_to_its_teach_config():
    notebook = REPO / "notebooks" / "10_generate_teacher_rationales.ipynb"
    parameter = study.notebook_parameters(notebook)["timeout_s"]
    assert (parameter.annotation, parameter.default) == ("float", 120.0)
    assert parameter.default == next(f.default for f in dataclasses.fields(stages.TeachConfig) if f.name == "timeout_s")
    assert "seconds for one whole request" in parameter.help
    sources = ["".join(c.source) for c in nbformat.read(str(notebook), as_version=4).cells if c.cell_type == "code"]
    assert any("stages.TeachConfig(" in s and "timeout_s=timeout_s" in s for s in sources)
    assert math.isfinite(parameter.default)


# --- kernels import fcot from the checkout that runs the study ------------------------------------------------------

def test_checkout_pythonpath_puts_this_checkout_first_once():
    root = str(paths.REPO_ROOT)
    assert study.checkout_pythonpath("") == root
    assert study.checkout_pythonpath(f"/elsewhere{os.pathsep}{root}") == f"{root}{os.pathsep}/elsewhere"


def test_a_kernel_started_by_the_runner_imports_fcot_from_this_checkout(books, tmp_path, monkeypatch):
    decoy = tmp_path / "other-checkout"
    (decoy / "fcot").mkdir(parents=True)
    (decoy / "fcot" / "__init__.py").write_text("# another checkout's fcot (an editable install elsewhere)\n")
    monkeypatch.setenv("PYTHONPATH", str(decoy))  # what a venv installed from another checkout amounts to
    target = tmp_path / "fcot_file.txt"
    write_notebook(books, "50_where", f'target: str = "{target}"  # where to write',
                   "import pathlib, fcot\npathlib.Path(target).write_text(fcot.__file__)")
    path = profile(tmp_path, "steps:\n  - notebook: 50_where\n")
    study.run_study(study.load_profile(path), notebooks_dir=books, log=lambda _: None)
    assert Path(target.read_text()).resolve() == (paths.REPO_ROOT / "fcot" / "__init__.py").resolve()
    assert os.environ["PYTHONPATH"] == str(decoy)  # the runner's own environment is restored
