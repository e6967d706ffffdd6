"""Every notebook parameter is a field of the config its stage validates (or a named extra), and its
default is that config's default: nothing a notebook takes is silently ignored."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from fcot import ablations, data, experiments, stages, steps, students, study, sweeps

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def fields(*configs) -> dict:
    """Field name -> default of the given dataclasses."""
    return {f.name: f.default for config in configs for f in dataclasses.fields(config)}


# notebook -> (the configs its parameters feed, the extra parameters it takes besides them)
STAGE_NOTEBOOKS = {
    "10_generate_teacher_rationales": (fields(data.DataConfig, stages.TeachConfig), {"name"}),
    "11_curate_samples": (fields(stages.CurateConfig), {"teacher_run", "name"}),
    "20_finetune_student": (fields(students.TrainConfig), {"samples_run", "recipe", "name", "threads"}),
    "21_evaluate_student": (fields(stages.EvalConfig), {"student_run", "name", "threads", "question"}),  # question: asked live
}
SWEEP_EXTRAS = {"study", "profile", "base", "seeds", "threads", "workers", "cluster", "arms", "sweep_name",
                "run_exercises", "classroom"}


@pytest.mark.parametrize("notebook", sorted(STAGE_NOTEBOOKS))
def test_a_stage_notebook_takes_only_its_configs_fields_with_their_defaults(notebook):
    known, extras = STAGE_NOTEBOOKS[notebook]
    declared = study.notebook_parameters(NOTEBOOKS / f"{notebook}.ipynb")
    unknown = sorted(set(declared) - set(known) - extras)
    assert not unknown, f"{notebook}: parameters {unknown} are not fields of its stage config"
    if notebook == "20_finetune_student":  # the smoke recipe, then this notebook's choices
        known = fields(students.TrainConfig) | dataclasses.asdict(students.RECIPES["smoke"])
    differ = {name: (p.default, known[name]) for name, p in declared.items()
              if name in known and name not in ("epochs", "lr") and p.default != known[name]}  # None: the recipe's
    assert not differ, f"{notebook}: defaults differ from the config's (notebook, config): {differ}"


@pytest.mark.parametrize("ablation", sorted(ablations.ABLATIONS))
def test_a_sweep_notebook_states_only_what_it_varies_and_reads_its_base_point_from_the_profile(ablation):
    notebook = steps.sweep_notebook(ablation)
    declared = study.notebook_parameters(NOTEBOOKS / f"{notebook}.ipynb")
    unknown = sorted(set(declared) - set(experiments.ExperimentConfig.fields()) - SWEEP_EXTRAS)
    assert not unknown, f"{notebook}: parameters {unknown} are not ExperimentConfig fields"
    swept = {name for name, p in declared.items() if p.annotation == "list"} - {"seeds"}
    expected = {"arms"} if ablation == "methods" else {ablations.ABLATIONS[ablation].vary[0]}
    assert swept == expected
    repeated = sorted(set(declared) & set(steps.base_fields()) - expected)
    assert not repeated, f"{notebook}: {repeated} repeat the base point, which the profile states"
    assert declared["profile"].default == "smoke" and declared["base"].default == {}
    points = steps.points(notebook, {name: p.default for name, p in declared.items()})
    assert len(points) >= 2  # the smoke sweep has something to compare
    smoke = study.load_profile("smoke").base
    assert all(getattr(points[0], field) == value for field, value in smoke.items() if field not in expected)


def test_the_recipe_notebook_reads_its_base_point_from_the_profile_too():
    declared = study.notebook_parameters(NOTEBOOKS / f"{steps.RECIPE}.ipynb")
    assert not set(declared) & set(steps.base_fields())
    values = {name: p.default for name, p in declared.items()}
    assert steps.points(steps.RECIPE, {**values, "profile": "default"})[0].n_train == 800
    assert steps.points(steps.RECIPE, {**values, "profile": "default", "base": {"n_train": 400}})[0].n_train == 400


def test_a_profile_states_its_base_point_once_and_a_step_writes_only_its_changes():
    runs = {run.name: run for run in study.plan(study.load_profile("default"), only="29-36")}
    degree = runs["31_ablate_degree-200_questions"]
    assert degree.parameters["profile"] == "default" and degree.parameters["base"] == {"n_train": 200}
    assert "base" not in runs["32_ablate_data_size"].parameters  # the base point itself, read from the profile
    (point, *_) = steps.points(degree.step.notebook, {**degree.parameters, "run_exercises": False})
    assert (point.task, point.n_train, point.epochs, point.student) == ("synth_last_letter", 200, 10, "tiny-gpt2-s")


def test_a_base_point_field_set_as_a_parameter_goes_into_base_and_can_be_a_grid():
    overrides = [study.parse_override("epochs=1"), study.parse_override("33.task=[synth_coin_flip,synth_last_letter]")]
    runs = study.plan(study.load_profile("default"), overrides, only="33")
    assert [run.parameters["base"] for run in runs] == [{"epochs": 1, "task": "synth_coin_flip"},
                                                        {"epochs": 1, "task": "synth_last_letter"}]
    with pytest.raises(study.ProfileError, match=r"--set 32.epochs=-1.*ExperimentConfig.epochs: must be an integer"):
        study.plan(study.load_profile("default"), [study.parse_override("32.epochs=-1")], only="32")


def test_an_unknown_field_in_base_is_an_error_naming_the_accepted_ones():
    with pytest.raises(ValueError, match=r"base: unknown field\(s\) epoch of a base point; accepted: task, "):
        sweeps.settings({"profile": "smoke", "base": {"epoch": 1}})


@pytest.mark.parametrize("profile", ["smoke", "default", "paper"])
def test_every_profile_expands_with_parameters_its_notebooks_declare(profile):
    runs = study.plan(study.load_profile(profile))
    assert runs and all(set(r.parameters) <= set(study.notebook_parameters(r.notebook_path)) for r in runs)
    assert all(set(r.parameters.get("base", {})) <= set(steps.base_fields()) for r in runs)


def test_an_unknown_parameter_in_a_profile_is_an_error_naming_it(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("steps:\n  - notebook: 11_curate_samples\n    parameters: {n_train: 10}\n")
    with pytest.raises(study.ProfileError, match="unknown parameter 'n_train' for notebook 11_curate_samples.ipynb"):
        study.plan(study.load_profile(str(path)))
