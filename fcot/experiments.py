"""Experiments: one configuration run through the four stages, recorded as one run, and read back.

An **experiment** is the whole Fine-tune-CoT pipeline for one :class:`ExperimentConfig` (a task and
its data sizes, a teacher, a curation, a student and its training, a seed). :func:`run_experiment`
composes :mod:`fcot.stages` (teach, curate, train, evaluate: each its own cached run) and writes ONE
experiment run with ``fcot.runs.Run`` under
``results_dir()/<profile>/runs/experiment/<task>-<method>[-d<D>]-<hash>/`` (config, manifest, metrics,
predictions, curation and learning-curve tables). The run is keyed by the **canonical** config
(:meth:`ExperimentConfig.canonical`: defaults resolved, settings that cannot matter blanked), so
two ablations that share a base configuration share its run, and a rerun of a finished
configuration is skipped.

Data and seeds (:mod:`fcot.data`). ``data_seed`` fixes the questions (and the teacher's sampled
rationales); ``seed`` is the student's (initialisation, data order). Varying ``seed`` over a fixed
``data_seed`` therefore measures training variance on the same train and test questions, and
different methods are compared on the same test questions (paired).

Reading results: :func:`collect_experiments` (one row per finished run of a profile: config +
metrics), :func:`related_experiments` (the runs that differ from a config only in the varied
fields), :func:`summarize` (mean over seeds, a t interval across seeds, the per-run Wilson
intervals). Many experiments at once: :mod:`fcot.sweeps`; what each ablation varies and where it is
recorded: :mod:`fcot.ablations`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from fcot import data, paths, stages, students, synthetic
from fcot.curate import arm_label  # noqa: F401 - moved to a leaf (curate); still experiments' API (__all__)
from fcot.data import DataConfig
from fcot.records import is_int, is_missing, is_number, read_jsonl
from fcot.runs import config_hash, read_metrics

__all__ = [
    "ExperimentConfig",
    "TEACHER_KINDS",
    "arm_label",
    "collect_experiments",
    "experiment_examples",
    "pivot_summary",
    "related_experiments",
    "result_frame",
    "run_experiment",
    "summarize",
    "t_quantile",
]

KIND = "experiment"
TEACHER_KINDS: tuple[str, ...] = ("simulated", "replay", "file")
SYNTHETIC_PREFIX = "synth_"
# Fields that only matter when a teacher is used: a vanilla run ignores them (blanked in its key).
TEACHER_FIELDS: tuple[str, ...] = (
    "teacher", "teacher_accuracy", "teacher_file", "degree", "teacher_temperature", "teacher_max_tokens",
    "filter_mode", "max_rationale_tokens",
)
#: ExperimentConfig field -> (the stage config that owns and validates it, the field's name there). ``seed`` (the
#: student's) and the choice among ``TEACHER_KINDS`` are the experiment's own.
OWNERS: dict[str, tuple[str, str]] = {
    **{name: ("DataConfig", name) for name in ("task", "difficulty", "n_train", "n_val", "n_test", "data_seed",
                                               "test_split")},
    "teacher": ("TeachConfig", "backend"), "teacher_accuracy": ("TeachConfig", "accuracy"),
    "teacher_file": ("TeachConfig", "completions"), "degree": ("TeachConfig", "degree"),
    "teacher_temperature": ("TeachConfig", "temperature"), "teacher_max_tokens": ("TeachConfig", "max_tokens"),
    "method": ("CurateConfig", "method"), "filter_mode": ("CurateConfig", "filter_mode"),
    "max_rationale_tokens": ("CurateConfig", "max_rationale_tokens"), "student": ("CurateConfig", "student"),
    "recipe": ("TrainConfig", "recipe"), "epochs": ("TrainConfig", "epochs"), "lr": ("TrainConfig", "lr"),
    "batch_size": ("TrainConfig", "batch_size"), "dropout": ("TrainConfig", "tiny_dropout"),
    "vocab_size": ("TrainConfig", "tiny_vocab_size"), "select_by": ("TrainConfig", "select_by"),
    "max_new_tokens": ("EvalConfig", "max_new_tokens"),
}
_EXPERIMENT_NAME = {owner: name for name, owner in OWNERS.items()}
# what None means for the fields whose default is None
_NONE_MEANS = {"epochs": "the recipe's", "lr": "the recipe's", "batch_size": "the recipe's", "dropout": "the recipe's",
               "vocab_size": "the recipe's", "select_by": "the recipe's",
               "max_new_tokens": "128 with a rationale, 32 answer-only", "max_rationale_tokens": "no cut",
               "difficulty": "the task's default", "teacher_accuracy": "the task's default",
               "teacher_temperature": "the paper's"}
_STAGE_FIELD = re.compile(r"^(DataConfig|TeachConfig|CurateConfig|EvalConfig|TrainConfig)\.(\w+)(: |=| )")


def in_experiment_terms(message: str) -> str:
    """A stage config's error message in :class:`ExperimentConfig`'s words: ``TeachConfig.backend: ...`` becomes
    ``ExperimentConfig.teacher: ...``; an unknown recipe becomes ``ExperimentConfig.recipe: ...``."""
    if message.startswith("unknown training recipe"):
        return f"ExperimentConfig.recipe: {message}"
    match = _STAGE_FIELD.match(message)
    if match is None:
        return message
    owner, field, _ = match.groups()
    rest = message[match.end():]
    for (stage, name), experiment_name in _EXPERIMENT_NAME.items():  # "backend='file'" -> "teacher='file'"
        if stage == owner and name != experiment_name:
            rest = re.sub(rf"\b{name}=", f"{experiment_name}=", rest)
    name = _EXPERIMENT_NAME.get((owner, field), field)
    if name in _NONE_MEANS and "None" not in rest:  # the experiment's None, which the stage config never sees
        rest += f" (or None: {_NONE_MEANS[name]})"
    return f"ExperimentConfig.{name}: {rest}"


METRIC_COLUMNS: tuple[str, ...] = (
    "accuracy", "low", "high", "test_questions", "correct", "stop_rate",
    "teacher_accuracy_train", "teacher_coverage_train", "teacher_accuracy_test",
    "completions_train", "samples_train", "samples_val", "share_filtered", "rationales_truncated",
    "examples_with_sample", "train_seconds", "eval_seconds", "wall_seconds", "best_epoch", "val_accuracy", "epochs_run",
    "parameters", "tokens_per_second", "train_tokens_per_epoch",
)


# ----------------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines one experiment (validated on construction).

    Data: ``task`` (``fcot.tasks.task_names()`` or ``synth_*``), ``difficulty`` (synthetic tasks
    only; None = the task's default), ``n_train`` / ``n_val`` / ``n_test`` questions (real tasks:
    0 = all of the official train side / 10% validation / all of test), ``data_seed``, ``test_split``
    (``own``, or ``real``: a ``synth_*`` task's students are tested on the official test split of the
    real task it imitates, see :class:`fcot.data.DataConfig`).
    Teacher: ``teacher`` (``simulated`` with ``teacher_accuracy``, None = its task default;
    ``replay`` = the recorded text-davinci-002 runs; ``file`` = ``teacher_file``, a teacher run
    name or completions JSONL, of which samples ``sample_index < degree`` are used), ``degree`` D,
    ``teacher_temperature`` (None = the paper's: 0 at D=1, 0.7 above), ``teacher_max_tokens``.
    Curation: ``method`` (``ft_cot`` | ``vanilla`` | ``multitask`` = distilling step-by-step),
    ``filter_mode`` (``correct_only`` | ``keep_all`` | ``keep_all_matched``), ``max_rationale_tokens`` (None = no cut).
    Student: ``student`` (tiny alias, path or hub id), ``recipe`` (``fcot.students.RECIPES``)
    and overrides of it (``epochs``, ``lr``, ``batch_size``, ``select_by``, and for tiny students
    ``dropout`` and the ``vocab_size`` of the BPE tokenizer trained on the task text; None = the
    profile's), ``max_new_tokens`` at evaluation (None = 128 with a rationale, 32 answer-only),
    ``seed``.
    """

    task: str = "synth_last_letter"
    difficulty: int | None = None
    n_train: int = 200
    n_val: int = 40
    n_test: int = 200
    data_seed: int = 0
    test_split: str = "own"
    method: str = "ft_cot"
    teacher: str = "simulated"
    teacher_accuracy: float | None = None
    teacher_file: str = ""
    degree: int = 1
    teacher_temperature: float | None = None
    teacher_max_tokens: int = 128
    filter_mode: str = "correct_only"
    max_rationale_tokens: int | None = None
    student: str = "tiny-gpt2-s"
    recipe: str = "tiny"
    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    dropout: float | None = None
    vocab_size: int | None = None
    select_by: str | None = None
    max_new_tokens: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        """Each field is validated once, by the stage config that owns it (:data:`OWNERS`), and its message
        re-worded to this config's field name; the experiment adds only what spans stages."""
        if self.teacher not in TEACHER_KINDS:  # the stages take more teachers (openai, hf) than an experiment runs
            raise ValueError(f"ExperimentConfig.teacher: {self.teacher!r} is not accepted; accepted: "
                             f"{', '.join(TEACHER_KINDS)}")
        if not is_int(self.seed) or self.seed < 0:
            raise ValueError(f"ExperimentConfig.seed: must be an integer >= 0, got {self.seed!r}")
        if self.teacher == "replay" and self.method != "vanilla" and self.is_synthetic:
            raise ValueError("ExperimentConfig.teacher: replay serves recorded text-davinci-002 answers to the real "
                             "tasks, not synthetic ones; use teacher='simulated'")
        for build in (self.data_config, self._asked_teacher, self.train_config, self.curate_config,
                      self.eval_config):
            try:
                build()
            except ValueError as error:
                raise ValueError(in_experiment_terms(str(error))) from None

    def _asked_teacher(self) -> stages.TeachConfig:
        """The teacher config as validation sees it: a vanilla experiment asks no teacher, so the replay teacher's
        one-greedy-rationale rule does not refuse a degree or temperature it never uses."""
        if self.method == "vanilla" and self.teacher == "replay":
            return stages.TeachConfig(**{**self.owned("TeachConfig"), "degree": 1, "temperature": None})
        return self.teach_config()

    # -- derived ------------------------------------------------------------------------------------
    @property
    def is_synthetic(self) -> bool:
        return self.task.startswith(SYNTHETIC_PREFIX)

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any], **changes: Any) -> "ExperimentConfig":
        """A config from a mapping that holds (some of) its fields, e.g. a notebook's ``globals()``;
        other names are ignored, missing fields take their defaults; ``changes`` win."""
        values = {name: parameters[name] for name in cls.fields() if name in parameters}
        values.update(changes)
        return cls(**values)

    def replace(self, **changes: Any) -> "ExperimentConfig":
        unknown = sorted(set(changes) - set(self.fields()))
        if unknown:
            raise ValueError(f"unknown ExperimentConfig field(s) {unknown}; accepted: {list(self.fields())}")
        return dataclasses.replace(self, **changes)

    def owned(self, owner: str) -> dict[str, Any]:
        """This config's fields that stage config ``owner`` takes (:data:`OWNERS`), under their names there."""
        return {name: getattr(self, field) for field, (stage, name) in OWNERS.items() if stage == owner}

    def train_config(self):
        """The student's ``fcot.students.TrainConfig``: the recipe, then this config's overrides (None: the recipe's)."""
        return self._train

    @functools.cached_property
    def _train(self):
        # built once per config (validation, the curate and eval configs, resolved() and canonical() all read it);
        # both configs are frozen, so sharing it is safe
        owned = self.owned("TrainConfig")
        overrides = {name: value for name, value in owned.items() if name != "recipe" and value is not None}
        return students.recipe_config(owned["recipe"], student=self.student, seed=self.seed, **overrides)

    @property
    def resolved_difficulty(self) -> int | None:
        if not self.is_synthetic:
            return None
        return self.difficulty if self.difficulty is not None else synthetic.DEFAULT_DIFFICULTY[self.task]

    @property
    def resolved_teacher_accuracy(self) -> float | None:
        return stages.configs.resolved_accuracy(self.teacher, self.teacher_accuracy, self.task)

    @property
    def resolved_temperature(self) -> float:
        return stages.configs.resolved_temperature(self.teacher_temperature, self.degree)

    @property
    def resolved_max_new_tokens(self) -> int:
        return stages.EvalConfig(max_new_tokens=self.max_new_tokens).resolved_max_new_tokens(self.method)

    def resolved(self) -> dict:
        """All fields with their defaults resolved (profile values, task defaults, temperatures)."""
        train = self.train_config()
        values = dataclasses.asdict(self)
        values.update(
            difficulty=self.resolved_difficulty,
            teacher_accuracy=self.resolved_teacher_accuracy,
            teacher_file=self.teacher_file or None,
            teacher_temperature=self.resolved_temperature,
            epochs=train.epochs,
            lr=float(train.lr),
            batch_size=train.batch_size,
            dropout=float(train.tiny_dropout),
            vocab_size=train.tiny_vocab_size,
            select_by=train.select_by,
            max_new_tokens=self.resolved_max_new_tokens,
        )
        return values

    def canonical(self) -> dict:
        """The run key: :meth:`resolved` with the teacher settings blanked for ``vanilla`` (which uses
        no teacher) and the full training configuration under ``train``. Equal canonical dicts are
        the same experiment (one run)."""
        values = self.resolved()
        if self.method == "vanilla":
            values.update({name: None for name in TEACHER_FIELDS})
        values["train"] = dataclasses.asdict(self.train_config())
        return values

    # -- the stage configs this experiment composes ----------------------------------------------
    def data_config(self) -> DataConfig:
        return DataConfig(**self.owned("DataConfig"))

    def teach_config(self) -> stages.TeachConfig:
        return stages.TeachConfig(**self.owned("TeachConfig"))

    def curate_config(self) -> stages.CurateConfig:
        return stages.CurateConfig(**self.owned("CurateConfig"), vocab_size=self.train_config().tiny_vocab_size)

    def eval_config(self) -> stages.EvalConfig:
        return stages.EvalConfig(max_new_tokens=self.resolved_max_new_tokens,
                                 batch_size=self.train_config().eval_batch_size)

    @property
    def run_name(self) -> str:
        name = f"{self.task}-{self.method}"
        return name if self.method == "vanilla" else f"{name}-d{self.degree}"

    def key(self) -> str:
        """The run's config hash (``fcot.runs.config_hash`` of :meth:`canonical` and the seed)."""
        return config_hash(self.canonical(), self.seed)


# ----------------------------------------------------------------------------------------------
# Running one experiment: the four stages, composed
# ----------------------------------------------------------------------------------------------


def experiment_examples(config: ExperimentConfig) -> tuple[list, list, list]:
    """``(train, validation, test)`` examples of an experiment (:func:`fcot.data.examples`)."""
    chosen = data.examples(config.data_config())
    return chosen.train, chosen.validation, chosen.test


def _stage_metrics(teacher, curation, student, evaluation) -> dict[str, Any]:
    """The experiment's metrics (:data:`METRIC_COLUMNS`), read from its stage runs."""
    metrics: dict[str, Any] = {}
    if teacher is not None:
        found = teacher.metrics
        metrics.update({k: found.get(k) for k in ("completions_train", "teacher_accuracy_train",
                                                   "teacher_coverage_train", "teacher_accuracy_test") if k in found})
    found = curation.metrics
    metrics.update(questions_train=found.get("questions_train"), questions_val=found.get("questions_val"),
                   samples_train=found["samples_train"], samples_val=found["samples_val"],
                   share_filtered=found["share_filtered_train"], rationales_truncated=found["rationales_truncated_train"],
                   examples_with_sample=found.get("examples_with_sample_train"))
    found = student.metrics
    metrics.update(train_seconds=found["train_runtime_s"], best_epoch=found["best_epoch"], epochs_run=found["epochs_run"],
                   val_accuracy=found.get("val_accuracy"),
                   parameters=found["parameters"], tokens_per_second=found["tokens_per_second"],
                   train_tokens_per_epoch=found.get("train_tokens_per_epoch"), best_model_dir=found["best_model_dir"])
    found = evaluation.metrics
    metrics.update({k: found[k] for k in ("accuracy", "low", "high", "test_questions", "correct", "stop_rate",
                                          "interval_method", "eval_seconds")})
    return metrics


def run_experiment(config: ExperimentConfig, *, threads: int | None = None, keep_checkpoints: bool = False,
                   verbose: bool = False) -> dict:
    """Run one experiment end to end -- :mod:`fcot.stages` teach, curate, train, evaluate -- and record it.

    The experiment run (keyed by :meth:`ExperimentConfig.canonical`) holds the metrics of all four
    stages (see :data:`METRIC_COLUMNS`), the predictions and the curation and learning-curve
    tables; each stage is its own run too, so experiments that share a stage (the teacher of
    ``ft_cot`` and ``multitask``, every seed's curation) share its run. Returns the metrics with
    ``run_path``, ``config_hash`` and ``skipped`` (True when the experiment had finished before).
    ``threads``: torch CPU threads for this process (None: leave torch's setting). Tiny students
    train several times faster on ONE thread when processes share the cores (``--jobs 2``, a
    busy machine): torch's default of one thread per core then oversubscribes them.
    """
    if not isinstance(config, ExperimentConfig):
        raise TypeError(f"run_experiment takes an ExperimentConfig, got {type(config).__name__}")
    students.set_threads(threads)
    data = config.data_config()
    # a committed record this machine never computed (a fresh clone) has no marker: it is recomputed
    run = stages.open_run(KIND, config.canonical(), config.run_name, config.seed, data, stages.COMPUTED_HERE)
    extra = {"run_path": paths.portable(run.path), "config_hash": run.hash}
    if run.finished:
        return {**run.metrics, **extra, "skipped": True}

    started = time.perf_counter()
    with run:
        teacher = stages.teach(data, config.teach_config()) if config.method != "vanilla" else None
        curation = stages.curate(config.curate_config(), teacher, data=data)
        student = stages.train(config.train_config(), curation, keep_checkpoints=keep_checkpoints)
        evaluation = stages.evaluate(config.eval_config(), student)
        metrics = _stage_metrics(teacher, curation, student, evaluation)
        metrics["wall_seconds"] = time.perf_counter() - started
        metrics["stage_runs"] = {r.kind: str(r.relpath) for r in (teacher, curation, student, evaluation) if r is not None}
        import pandas as pd

        for stage, table in ((curation, "curation"), (student, "learning_curves")):
            frame = pd.read_csv(stage.path / "tables" / f"{table}.csv")
            run.save_table(frame.set_index("split") if table == "curation" else frame, table)
        run.save_predictions(read_jsonl(evaluation.path / "predictions.jsonl"))
        run.save_metrics(metrics)
        if verbose:
            print(f"{config.run_name} seed {config.seed}: accuracy {metrics['accuracy']:.3f} "
                  f"({metrics['wall_seconds']:.0f} s)")
    stages.mark_computed_here(run)
    return {**run.metrics, **extra, "skipped": False}


def result_frame(result: Mapping[str, Any]):
    """The main numbers of one :func:`run_experiment` result as a one-column DataFrame (for display)."""
    import pandas as pd

    keys = [k for k in ("accuracy", "low", "high", "test_questions", "teacher_accuracy_train", "teacher_accuracy_test",
                        "samples_train", "share_filtered", "rationales_truncated", "best_epoch", "train_seconds",
                        "wall_seconds", "skipped", "run_path") if k in result]
    return pd.Series({k: result[k] for k in keys}, name="value").to_frame()


# ----------------------------------------------------------------------------------------------
# Collecting and summarising
# ----------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A frame cell as a config value: None for NaN, Python scalars for numpy ones, 4 for 4.0."""
    if is_missing(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    return int(value) if isinstance(value, float) and value.is_integer() else value


def values_equal(a: Any, b: Any) -> bool:
    """Whether two configuration values (as stored in a record or a table) mean the same: missing equals missing."""
    if is_missing(a) or is_missing(b):
        return is_missing(a) and is_missing(b)
    if is_number(a) and is_number(b):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if hasattr(a, "item"):
        a = a.item()
    if hasattr(b, "item"):
        b = b.item()
    if is_number(a) and is_number(b):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _columns() -> list[str]:
    return list(ExperimentConfig.fields()) + ["arm"] + list(METRIC_COLUMNS) + ["run_name", "config_hash", "run_path", "ended"]


def collect_experiments(root: str | os.PathLike | None = None, where: Mapping[str, Any] | None = None,
                        study: str | None = None):
    """One row per FINISHED experiment run of profile ``study`` (None: the current one, see
    :func:`fcot.paths.profile_runs`), under ``<root>/<study>/runs/experiment`` (root: ``results_dir()``).

    Columns: the canonical config fields (:class:`ExperimentConfig`), ``arm`` (:func:`arm_label`),
    the metrics (:data:`METRIC_COLUMNS`), ``run_name``, ``config_hash``, ``run_path``, ``ended``.
    ``where`` filters: ``{field: value}`` (equal; None matches a blank), ``{field: [values]}`` (any
    of them) or ``{field: callable}`` (a predicate on the value). Sorted by task, arm, seed.
    """
    import pandas as pd

    base = paths.profile_runs(study, root) / KIND
    columns = _columns()
    rows = []
    for manifest_file in sorted(base.glob("*/manifest.json")) if base.is_dir() else []:
        folder = manifest_file.parent
        try:
            manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
            if manifest.get("status") != "finished":
                continue
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            metrics = read_metrics(folder)
        except (OSError, ValueError):
            continue  # a run being written right now: not finished
        row = {name: config.get(name) for name in ExperimentConfig.fields()}
        row["arm"] = arm_label(row["method"], row["degree"])
        row.update({name: metrics.get(name) for name in METRIC_COLUMNS})
        row.update(run_name=manifest.get("name"), config_hash=manifest.get("config_hash"), run_path=paths.portable(folder),
                   ended=manifest.get("ended"))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=columns)
    integers = [f.name for f in dataclasses.fields(ExperimentConfig) if f.type in ("int", "int | None")]
    integers += ["test_questions", "correct", "completions_train", "samples_train", "samples_val",
                 "rationales_truncated", "examples_with_sample", "parameters", "train_tokens_per_epoch"]
    for name in integers:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").round().astype("Int64")
    if where:
        unknown = sorted(set(where) - set(columns))
        if unknown:
            raise ValueError(f"collect_experiments: unknown where field(s) {unknown}; accepted: {columns}")
        mask = pd.Series(True, index=frame.index)
        for name, wanted in where.items():
            if callable(wanted):
                test: Callable[[Any], bool] = wanted
            elif isinstance(wanted, (list, tuple, set, frozenset)):
                options = list(wanted)
                test = lambda value, options=options: any(values_equal(value, o) for o in options)  # noqa: E731
            else:
                test = lambda value, wanted=wanted: values_equal(value, wanted)  # noqa: E731
            mask &= frame[name].map(lambda v, test=test: bool(test(v)))
        frame = frame[mask]
    if not frame.empty:
        frame = frame.sort_values(["task", "arm", "seed"], kind="stable")
    return frame.reset_index(drop=True)


# Which fields a None (default) value is resolved from (ExperimentConfig.resolved).
RESOLVED_FROM: dict[str, tuple[str, ...]] = {
    "difficulty": ("task",),
    "teacher_accuracy": ("task", "teacher"),
    "teacher_temperature": ("degree",),
    "max_new_tokens": ("method",),
    "epochs": ("recipe",),
    "lr": ("recipe", "student"),  # fcot.students.RECIPE_LR
    "batch_size": ("recipe",),
    "dropout": ("recipe",),
    "vocab_size": ("recipe",),
    "select_by": ("recipe",),
}


def related_experiments(config: ExperimentConfig, vary: Sequence[str], root: str | os.PathLike | None = None,
                        study: str | None = None):
    """Finished runs that differ from ``config`` only in the ``vary`` fields (and the seed).

    Fields a row's method does not use (the teacher settings of a ``vanilla`` run) match anything,
    so a vanilla arm joins a comparison of methods whatever teacher the others used. Across tasks (``task`` in
    ``vary``: a methods comparison over several columns) a vanilla run joins only its own column's comparison: a
    task other than ``config.task`` whose only matching runs are vanilla ones is left out (they belong to another
    column's comparison, with another teacher), unless the comparison has no other arm at all.
    """
    fields = ExperimentConfig.fields()
    unknown = sorted(set(vary) - set(fields))
    if unknown:
        raise ValueError(f"related_experiments: vary has unknown field(s) {unknown}; accepted: {list(fields)}")
    frame = collect_experiments(root, study=study)
    if frame.empty:
        return frame
    wanted = config.resolved()
    varied = set(vary)
    # a field left at None (a default) resolves from others: it varies with them, and a row must hold what it
    # resolves to there (the student-size sweep's each student's own learning rate, not another lr's run)
    resolving = {f: sources for f, sources in RESOLVED_FROM.items()
                 if getattr(config, f) is None and f not in varied and varied & set(sources)}
    fixed = [f for f in fields if f not in varied and f not in resolving and f != "seed"]
    expected: dict[tuple, dict] = {}

    sources = tuple(sorted({s for group in resolving.values() for s in group if s in varied}))

    def resolved_at(row) -> dict:
        values = tuple(_plain(row[s]) for s in sources)
        if values not in expected:
            try:
                expected[values] = config.replace(**dict(zip(sources, values))).resolved()
            except (TypeError, ValueError):  # a row the base cannot be moved to: nothing to compare
                expected[values] = {}
        return expected[values]

    def matches(row) -> bool:
        vanilla = row["method"] == "vanilla"
        for name in fixed:
            if vanilla and name in TEACHER_FIELDS:
                continue
            if not values_equal(row[name], wanted[name]):
                return False
        checked = [f for f in resolving if not (vanilla and f in TEACHER_FIELDS)]
        there = resolved_at(row) if checked else {}
        return all(f not in there or values_equal(row[f], there[f]) for f in checked)

    found = frame[frame.apply(matches, axis=1)]
    if "task" in varied and not found.empty:
        taught = set(found.loc[found["method"] != "vanilla", "task"])
        if taught:
            found = found[found["task"].isin(taught | {config.task})]
    return found.reset_index(drop=True)


from fcot.stats import t_errorbar, t_quantile  # noqa: E402 - the t interval across seeds (scipy), as the figures draw it


SUMMARY_EXTRAS: tuple[str, ...] = (
    "teacher_accuracy_train", "teacher_accuracy_test", "samples_train", "share_filtered", "rationales_truncated",
    "train_seconds", "parameters",
)


def summarize(df, by: Sequence[str], metric: str = "accuracy", confidence: float = 0.95,
              extras: Sequence[str] = SUMMARY_EXTRAS):
    """Mean ``metric`` over the runs (seeds) of each group of ``by``, with intervals.

    Columns: ``by``..., ``runs`` (how many), ``seeds``, ``mean``, ``sd`` (across runs), ``low`` /
    ``high`` (a ``confidence`` t interval of the mean across runs, clipped to [0, 1] for accuracy;
    with one run: that run's Wilson interval), ``interval`` (``"t over N runs"`` or
    ``"wilson (1 run)"``), ``run_low`` / ``run_high`` (the mean of the per-run Wilson bounds: the
    test-sampling uncertainty of a single run), ``per_run`` (each run as ``"acc [low, high]"`` in
    percent), and the mean of each ``extras`` column present (e.g. the teacher's accuracy).
    """
    import pandas as pd

    by = list(by)
    missing = [c for c in by + [metric] if c not in df.columns]
    if missing:
        raise ValueError(f"summarize: the frame lacks column(s) {missing}; it has {list(df.columns)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    present = [c for c in extras if c in df.columns and c not in by]
    columns = by + ["runs", "seeds", "mean", "sd", "low", "high", "interval", "run_low", "run_high", "per_run"] + present
    rows = []
    if not df.empty:
        for keys, group in df.groupby(by, dropna=False, sort=True):
            keys = keys if isinstance(keys, tuple) else (keys,)
            values = pd.to_numeric(group[metric], errors="coerce").dropna().astype(float).tolist()
            if not values:
                continue
            n = len(values)
            mean = sum(values) / n
            sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else float("nan")
            has_wilson = metric == "accuracy" and {"low", "high"} <= set(group.columns)
            run_low = pd.to_numeric(group["low"], errors="coerce").mean() if has_wilson else float("nan")
            run_high = pd.to_numeric(group["high"], errors="coerce").mean() if has_wilson else float("nan")
            if n > 1:
                (low, high), how = t_errorbar(values, confidence), f"t over {n} runs"
                if metric == "accuracy":
                    low, high = max(0.0, low), min(1.0, high)
            else:
                low, high, how = run_low, run_high, "wilson (1 run)" if has_wilson else "none (1 run)"
            if has_wilson:
                per_run = "; ".join(
                    f"{100 * a:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"
                    for a, lo, hi in zip(group[metric], group["low"], group["high"]) if not is_missing(a)
                )
            else:
                per_run = "; ".join(f"{v:.4g}" for v in values)
            row = dict(zip(by, keys))
            row.update(runs=n, seeds=",".join(str(s) for s in sorted(group["seed"].tolist())) if "seed" in group else "",
                       mean=mean, sd=sd, low=low, high=high, interval=how, run_low=run_low, run_high=run_high,
                       per_run=per_run)
            for name in present:
                row[name] = pd.to_numeric(group[name], errors="coerce").mean()
            rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def pivot_summary(summary, index: str = "arm", columns: str = "task", percent: bool = True):
    """A wide table of a :func:`summarize` result: ``index`` values as rows, ``columns`` values as
    columns, cells ``"mean [low, high]"`` (percent by default) -- the paper's main-table layout."""
    import pandas as pd

    missing = [c for c in (index, columns, "mean", "low", "high") if c not in summary.columns]
    if missing:
        raise ValueError(f"pivot_summary: summary lacks column(s) {missing}; pass fcot.experiments.summarize(...)")
    scale = 100.0 if percent else 1.0

    def cell(row) -> str:
        text = f"{scale * row['mean']:.1f}"
        if not is_missing(row["low"]) and not is_missing(row["high"]):
            text += f" [{scale * row['low']:.1f}, {scale * row['high']:.1f}]"
        return text

    if summary.empty:
        return pd.DataFrame()
    frame = summary.assign(cell=summary.apply(cell, axis=1))
    table = frame.pivot(index=index, columns=columns, values="cell")
    table = table.loc[list(dict.fromkeys(frame[index])), list(dict.fromkeys(frame[columns]))]
    table.columns.name = None
    return table
