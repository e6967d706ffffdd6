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
SWEEP_EXTRAS = {"study", "seeds", "threads", "workers", "cluster", "arms", "sweep_name", "run_exercises", "classroom"}


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
def test_a_sweep_notebook_takes_only_experiment_fields_and_sweeps_what_its_ablation_varies(ablation):
    notebook = steps.sweep_notebook(ablation)
    declared = study.notebook_parameters(NOTEBOOKS / f"{notebook}.ipynb")
    unknown = sorted(set(declared) - set(experiments.ExperimentConfig.fields()) - SWEEP_EXTRAS)
    assert not unknown, f"{notebook}: parameters {unknown} are not ExperimentConfig fields"
    swept = {name for name, p in declared.items() if p.annotation == "list"} - {"seeds"}
    expected = {"arms"} if ablation == "methods" else {ablations.ABLATIONS[ablation].vary[0]}
    assert swept == expected
    points = sweeps.sweep_points(ablation, {name: p.default for name, p in declared.items()})
    assert len(points) >= 2  # the smoke sweep has something to compare


@pytest.mark.parametrize("profile", ["smoke", "default", "paper"])
def test_every_profile_expands_with_parameters_its_notebooks_declare(profile):
    runs = study.plan(study.load_profile(profile))
    assert runs and all(set(r.parameters) <= set(study.notebook_parameters(r.notebook_path)) for r in runs)


def test_an_unknown_parameter_in_a_profile_is_an_error_naming_it(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("steps:\n  - notebook: 11_curate_samples\n    parameters: {n_train: 10}\n")
    with pytest.raises(study.ProfileError, match="unknown parameter 'n_train' for notebook 11_curate_samples.ipynb"):
        study.plan(study.load_profile(str(path)))
