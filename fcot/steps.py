"""The step registry: what each notebook in ``notebooks/`` computes. It is the one place in fcot that names them.

A profile runs notebooks by file name. The runner (:mod:`fcot.study`), the prefetch pool (:mod:`fcot.prefetch`),
the cost estimate (:mod:`fcot.costs`), the teaching kit and the reports ask this registry instead of spelling a
notebook's name:

* :func:`job`: the notebook's role in the pipeline (``teach``, ``curate``, ``train``, ``sweep``, ...);
* :func:`points`: the experiment points a sweep notebook (29-36) computes from its parameters, built as its cells
  build them;
* :func:`check`: builds, and so validates, the configs a stage notebook builds from its parameters, before
  anything runs.

A notebook that is not listed here runs all the same; it computes nothing that a study plans ahead.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

from fcot import choice, prompting, stages, students
from fcot.data import DataConfig
from fcot.experiments import ExperimentConfig

TOUR = "00_tour"
EXPLORE = "01_explore_tasks"
TEACH = "10_generate_teacher_rationales"
CURATE = "11_curate_samples"
TRAIN = "20_finetune_student"
EVALUATE = "21_evaluate_student"
PROMPT = "22_prompt_student"
RECIPE = "29_choose_recipe"
SAMPLE_STUDY = "40_sample_study"
FIGURES = "90_figures_and_tables"

#: ablation name (:data:`fcot.ablations.ABLATIONS`) -> the sweep notebook that runs it
SWEEPS: dict[str, str] = {
    "methods": "30_compare_methods", "degree": "31_ablate_degree", "data_size": "32_ablate_data_size",
    "teacher_quality": "33_ablate_teacher_quality", "student_size": "34_ablate_student_size",
    "filtering": "35_ablate_filtering", "rationale_length": "36_ablate_rationale_length",
}

_JOBS = {TOUR: "tour", EXPLORE: "explore", TEACH: "teach", CURATE: "curate", TRAIN: "train", EVALUATE: "evaluate",
         PROMPT: "prompt", RECIPE: "recipe", SAMPLE_STUDY: "sample_study", FIGURES: "figures",
         **{notebook: "sweep" for notebook in SWEEPS.values()}}
_ABLATION_OF = {notebook: ablation for ablation, notebook in SWEEPS.items()}


def job(notebook: str) -> str:
    """The notebook's role: tour | explore | teach | curate | train | evaluate | prompt | recipe | sweep |
    sample_study | figures; ``other`` for a notebook the registry does not list."""
    return _JOBS.get(notebook, "other")


def ablation_of(notebook: str) -> str | None:
    """The ablation a sweep notebook (30-36) runs (an :data:`fcot.ablations.ABLATIONS` key), else None."""
    return _ABLATION_OF.get(notebook)


def sweep_notebook(ablation: str) -> str:
    """The notebook that runs ``ablation`` (an :data:`fcot.ablations.ABLATIONS` key)."""
    if ablation not in SWEEPS:
        raise ValueError(f"unknown ablation {ablation!r}; accepted: {', '.join(SWEEPS)}")
    return SWEEPS[ablation]


def points(notebook: str, parameters: Mapping[str, Any]) -> list[ExperimentConfig]:
    """The experiment points ``notebook`` computes from ``parameters`` (its parameters cell's values, with ``profile``
    and ``base``: its base point is the profile's, :func:`fcot.sweeps.settings`): a sweep notebook's (30-36:
    :func:`fcot.sweeps.sweep_points`, its classroom sweep with ``classroom=True``), the recipe notebook's candidates
    (:mod:`fcot.choice`), [] for any other notebook; with ``run_exercises``, the point the degree notebook's exercise
    trains (D=8 at its base configuration)."""
    from fcot import sweeps  # a cycle: sweeps imports fcot.ablations, which names its notebooks from here

    if notebook == RECIPE:
        values = sweeps.settings(parameters)
        return (choice.recipe_points(values, values["recipes"])
                + choice.learning_rate_points(values, values["students"], values["learning_rates"]))
    ablation = ablation_of(notebook)
    if ablation is None:
        return []
    found = sweeps.sweep_points(ablation, sweeps.sweep_settings(ablation, parameters))
    exercise = [found[0].replace(degree=8)] if ablation == "degree" and parameters.get("run_exercises") else []
    return found + exercise


def reads_base(notebook: str) -> bool:
    """Whether ``notebook`` varies a profile's base point (29-36): its ``base`` parameter takes changes to it, and
    a profile may write them as parameters of their own (:mod:`fcot.study.planning` folds them in)."""
    return notebook == RECIPE or ablation_of(notebook) is not None


def base_fields() -> dict[str, str]:
    """The fields a base point has (:class:`fcot.experiments.ExperimentConfig`'s, without the seed, which sweeps take
    as ``seeds``): name -> its type annotation."""
    return {f.name: str(f.type) for f in dataclasses.fields(ExperimentConfig) if f.name != "seed"}


def check(notebook: str, values: Mapping[str, Any]) -> list[str]:
    """Build the configs ``notebook`` builds from its parameters' ``values``, as its cells build them, and the points
    it computes: the messages of those that refuse (each names the field and what is accepted); [] when all build."""
    problems = []
    for config in _STAGE_CONFIGS.get(notebook, ()):
        fields = {f.name for f in dataclasses.fields(config)}
        try:
            config(**{k: v for k, v in values.items() if k in fields})
        except (ValueError, TypeError) as error:
            problems.append(str(error))
    builder = _BUILDERS.get(notebook)
    try:
        if builder is not None:
            builder(values)
        points(notebook, values)
    except (ValueError, TypeError, KeyError) as error:
        problems.append(str(error))
    return problems


def training_config(values: Mapping[str, Any]):
    """The training notebook's ``TrainConfig``, as its cell builds it (``epochs``/``lr`` None: the recipe's)."""
    optional = {k: values[k] for k in ("epochs", "lr") if values.get(k) is not None}
    return students.recipe_config(values["recipe"], student=values["student"], select_by=values["select_by"],
                                  finetune=values["finetune"], seed=values["seed"], **optional)


def _tour_configs(values: Mapping[str, Any]) -> None:
    """The tour's configs, as its cells build them."""
    n_train = values["n_train"]
    DataConfig(task=values["task"], n_train=n_train, n_val=max(2, n_train // 10) if isinstance(n_train, int)
               else n_train, n_test=10, data_seed=values["seed"])
    stages.TeachConfig(degree=values["degree"])
    stages.CurateConfig(student=values["student"])
    students.recipe_config("smoke", student=values["student"], epochs=values["epochs"], seed=values["seed"])
    stages.EvalConfig(max_new_tokens=values["max_new_tokens"])


def _sample_study_configs(values: Mapping[str, Any]) -> None:
    stages.TeachConfig(backend=values["teacher"])


# notebook -> the config classes it builds from its parameters of the same names (validated on construction)
_STAGE_CONFIGS: dict[str, tuple] = {TEACH: (DataConfig, stages.TeachConfig), CURATE: (stages.CurateConfig,),
                                    EVALUATE: (stages.EvalConfig,), PROMPT: (prompting.PromptConfig,)}
# notebook -> a function building (and so validating) the configs it builds from its parameters' values
_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    TOUR: _tour_configs, TRAIN: training_config, SAMPLE_STUDY: _sample_study_configs,
}
