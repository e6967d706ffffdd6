"""The four stages -- teach, curate, train, evaluate -- each a function recorded as one run, and the readers of their runs.

See :mod:`fcot.stages` for the chain they make.
"""


from __future__ import annotations

import dataclasses
import re
import shutil
import time
from pathlib import Path
from typing import Sequence

from fcot import evaluate as evaluation
from fcot import paths, students, teachers
from fcot import curate as curation
from fcot.curate import arm_label
from fcot.data import DataConfig, Examples, examples
from fcot.evaluate import EvalResult
from fcot.records import read_jsonl, write_jsonl
from fcot.runs import COMPUTED_HERE, Run, artifact, claimed, computed_here, config_dict, find, upstream_key, upstream_of
from fcot.stages.configs import SIMULATED_SEED, CurateConfig, EvalConfig, TeachConfig
from fcot.teachers.cache import CacheLockedError, ResponseCache




def data_of(run: Run) -> DataConfig:
    """The DataConfig a run of the chain was made for."""
    return DataConfig.from_mapping(run.config["data"])


# ----------------------------------------------------------------------------------------------
# Teach
# ----------------------------------------------------------------------------------------------


def teacher_backend(task: str, config: TeachConfig, on_missing: str = "error"):
    """The backend of ``config`` (not for ``file``, which reads completions instead)."""
    if config.backend == "simulated":
        return teachers.make_backend("simulated", accuracy=config.resolved_accuracy(task), seed=SIMULATED_SEED, task=task)
    if config.backend == "replay":
        return teachers.make_backend("replay", task=task, on_missing=on_missing)
    return teachers.choose_backend(config.backend, task=task, model=config.model, base_url=config.base_url,
                                   api_key_env=config.api_key_env, style=config.style, concurrency=config.concurrency,
                                   timeout_s=config.timeout_s)


def call_cache(task: str, backend) -> Path:
    """The durable call cache shared by every teacher run of this task and teacher model (``runs_dir()``)."""
    model = str(getattr(backend, "model", backend.name)).replace("/", "-")
    name = f"{task}-{backend.name}-{model}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._\-]*", name):
        raise ValueError(f"teacher call cache name must be letters, digits, '.', '_' or '-' (from the task, backend and "
                         f"model), got {name!r}")
    return paths.runs_dir() / "teacher" / name / "calls.jsonl"


def _open_cache(path: Path, wait_s: float = 900.0):
    """Open a call cache, waiting while another process (a parallel grid point) holds it."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return ResponseCache(path)
        except CacheLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def ask_teacher(task: str, config: TeachConfig, questions: Sequence, *, seed: int, greedy: bool = False,
                ledger=None, on_missing: str = "error") -> list:
    """Completions of ``questions`` (``degree`` each; one greedy each with ``greedy=True``)."""
    degree = 1 if greedy else config.degree
    if config.backend == "file":
        ids = {e.id for e in questions}
        source = config.completions
        if not source.endswith(".jsonl"):
            source = str(artifact(find("teacher", source), "completions.jsonl"))
        return [c for c in teachers.load_completions(source) if c.example_id in ids and c.sample_index < degree]
    backend = teacher_backend(task, config, on_missing=on_missing)
    cache = _open_cache(call_cache(task, backend))
    try:
        return teachers.generate(list(questions), backend, degree=degree,
                                 temperature=0.0 if greedy else config.resolved_temperature,
                                 max_tokens=config.max_tokens, cache=cache, ledger=ledger,
                                 budget_usd=None if greedy else config.budget_usd, seed=seed)
    finally:
        cache.close()


def _mean(values) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def teach(data: DataConfig, config: TeachConfig, *, name: str | None = None) -> Run:
    """The teacher stage: completions of the train and validation questions of ``data``.

    Metrics: the driver's summary (teacher accuracy, share filtered, lengths, tokens, cost) and,
    for train questions alone, ``teacher_accuracy_train`` and ``teacher_coverage_train`` (share of
    questions with a correct sample); simulated and replay teachers also answer the test questions
    greedily once (``teacher_accuracy_test``, the teacher row of a table; never used to train).
    Completions: ``completions.jsonl`` in the run's artifacts (``runs_dir()``), with the ledger.
    """
    name = name or f"{data.task}-{config.backend}-d{config.degree}"
    key = {"data": data.resolved(), "teach": config.key(data.task), "upstream": _file_source(config)}
    with claimed("teacher", key, name, None, data, "completions.jsonl") as run:
        if run.finished:
            return run
        with run:
            chosen = examples(data)
            ledger = teachers.Ledger(run.artifacts() / "ledger.jsonl", budget_usd=config.budget_usd) \
                if config.backend == "openai" else None
            completions = ask_teacher(data.task, config, chosen.teacher_questions, seed=data.data_seed, ledger=ledger)
            write_jsonl(run.artifacts() / "completions.jsonl", completions)
            train_ids = {e.id for e in chosen.train}
            on_train = [c for c in completions if c.example_id in train_ids]
            metrics = {k: v for k, v in teachers.summarize(completions).items() if k != "sources"}
            metrics.update(
                completions_train=len(on_train),
                teacher_accuracy_train=_mean(float(c.correct) for c in on_train),
                teacher_coverage_train=len({c.example_id for c in on_train if c.correct}) / len(chosen.train) if chosen.train else None,
            )
            if config.backend in ("simulated", "replay"):
                greedy = ask_teacher(data.task, config, chosen.test, seed=data.data_seed, greedy=True, on_missing="skip")
                metrics["teacher_accuracy_test"] = _mean(float(c.correct) for c in greedy)
            if ledger is not None:
                metrics.update({f"ledger_{k}": v for k, v in ledger.totals().items()})
            run.save_metrics(metrics)
    return run


def _file_source(config: TeachConfig) -> dict | None:
    """What a ``file`` teacher reads, for the key: the teacher run (its hash), or the JSONL's sha256."""
    if config.backend != "file":
        return None
    if config.completions.endswith(".jsonl"):
        path = Path(config.completions)
        if not path.is_file():
            raise FileNotFoundError(f"TeachConfig.completions: {path}: no such completions file")
        return {"kind": "file", "name": path.name, "hash": paths.sha256_file(path)[:10]}
    return upstream_key(find("teacher", config.completions))


def completions_of(run: Run) -> list:
    """The completions a teacher run stored."""
    return teachers.load_completions(artifact(run, "completions.jsonl"))


# ----------------------------------------------------------------------------------------------
# Curate
# ----------------------------------------------------------------------------------------------


def curate(config: CurateConfig, teacher: Run | str | None = None, *, data: DataConfig | None = None,
           name: str | None = None) -> Run:
    """The curation stage: filter and format the teacher's completions into fine-tuning samples.

    ``teacher``: the teacher run (a Run, directory or name); vanilla fine-tuning needs none and
    takes ``data`` instead (given both, vanilla ignores the teacher). Validation samples are
    curated the same way as train (they select the best epoch). Samples are written to
    ``samples_train.jsonl`` / ``samples_val.jsonl`` in the run's artifacts; the counts table,
    metrics and a few samples to read go to the run.
    """
    teacher_run = find("teacher", teacher) if teacher not in (None, "") else None
    if data is None:
        if teacher_run is None:
            raise ValueError("curate needs its teacher run (or, for vanilla, data=DataConfig(...))")
        data = data_of(teacher_run)
    if config.method != "vanilla" and teacher_run is None:
        raise ValueError(f"method {config.method!r} curates a teacher's rationales: pass its teacher run")
    uses_teacher = config.method != "vanilla"
    key = {"data": data.resolved(), "curate": dataclasses.asdict(config),
           "upstream": upstream_key(teacher_run) if uses_teacher else None}
    with claimed("curation", key, name or f"{data.task}-{config.method}", None, data,
                  "samples_train.jsonl", "samples_val.jsonl") as run:
        if run.finished:
            return run
        with run:
            chosen = examples(data)
            completions = completions_of(teacher_run) if uses_teacher else []
            fmt = curation.format_for(config.method, students.student_kind(config.student))
            tokenizer = _tokenizer(config, chosen, completions)
            options = dict(mode=config.filter_mode, fmt=fmt, tokenizer=tokenizer, max_sample_tokens=config.max_sample_tokens,
                           max_rationale_tokens=config.max_rationale_tokens if uses_teacher else None)
            splits = curation.CuratedSplits(
                train=curation.curate(completions, chosen.train, **options),
                val=curation.curate(completions, chosen.validation, **options),
                examples_train=chosen.train, examples_val=chosen.validation, completions=completions,
            )
            curation.save_splits(run, splits, tokenizer)
    return run


def _tokenizer(config: CurateConfig, chosen: Examples, completions: list):
    """The student's tokenizer when a length limit needs it (a tiny one is trained on the task's text), else None."""
    if not config.needs_tokenizer:
        return None
    texts = curation.task_texts(chosen.teacher_questions, completions)
    return students.load_tokenizer(config.student, texts=texts, vocab_size=config.vocab_size)


def tokenizer_of(run: Run):
    """The tokenizer a curation run counted tokens with (None: it counted none, lengths are characters)."""
    config = CurateConfig(**run.config["curate"])
    teacher_run = upstream_of(run)
    return _tokenizer(config, examples(data_of(run)), completions_of(teacher_run) if teacher_run else [])


def samples_of(run: Run) -> tuple[list, list]:
    """``(train, validation)`` samples of a curation run."""
    return (curation.read_samples(artifact(run, "samples_train.jsonl")),
            curation.read_samples(artifact(run, "samples_val.jsonl")))


# ----------------------------------------------------------------------------------------------
# Train
# ----------------------------------------------------------------------------------------------


def train(config, samples: Run | str, *, name: str | None = None, keep_checkpoints: bool = False,
          threads: int | None = None) -> Run:
    """The training stage: fine-tune ``config.student`` (a ``fcot.students.TrainConfig``) on the
    samples of a curation run, the best epoch chosen on its validation samples (never test).

    The selected student is ``train/best`` in the run's artifacts (``metrics["best_model_dir"]``);
    checkpoints are deleted after success unless ``keep_checkpoints``. ``threads``: torch CPU threads
    (:func:`fcot.students.set_threads`; None: leave torch's setting).
    """
    students.set_threads(threads)

    samples_run = find("curation", samples)
    data = data_of(samples_run)
    method = samples_run.config["curate"]["method"]
    key = {"data": data.resolved(), "method": method, "train": dataclasses.asdict(config),
           "upstream": upstream_key(samples_run)}
    with claimed("student", key, name or f"{data.task}-{method}", config.seed, data, "train/best") as run:
        if run.finished:
            return run
        with run:
            samples_train, samples_val = samples_of(samples_run)
            if not samples_train or not samples_val:
                metrics = samples_run.metrics
                raise ValueError(
                    f"{samples_run.path.name}: curation kept {metrics.get('samples_train')} train and "
                    f"{metrics.get('samples_val')} validation samples; raise n_train/n_val or the teacher's accuracy"
                )
            result = students.train_student(samples_train, samples_val, config, run.artifacts("train"))
            students.record_training(run, result)
    if not keep_checkpoints:
        shutil.rmtree(run.artifacts_dir / "train" / "checkpoints", ignore_errors=True)
    return run


def learning_curves_of(run: Run):
    """The per-epoch learning curves a training run recorded (a DataFrame)."""
    import pandas as pd

    return pd.read_csv(run.path / "tables" / "learning_curves.csv")


# ----------------------------------------------------------------------------------------------
# Evaluate
# ----------------------------------------------------------------------------------------------


def evaluate(config: EvalConfig, student: Run | str, *, name: str | None = None, threads: int | None = None) -> Run:
    """The evaluation stage: the student of a training run answers the test questions of its chain.

    Predictions go to ``predictions.jsonl`` (one row per question: prompt, completion, answer,
    gold, correct); metrics: accuracy with its interval, stop rate. ``threads``: torch CPU threads
    (:func:`fcot.students.set_threads`; None: leave torch's setting).
    """
    students.set_threads(threads)

    student_run = find("student", student)
    data = data_of(student_run)
    method = student_run.config["method"]
    degree = _degree_of(upstream_of(student_run))
    key = {"data": data.resolved(), "method": method, "evaluate": dataclasses.asdict(config),
           "upstream": upstream_key(student_run)}
    with claimed("evaluation", key, name or f"{data.task}-{method}", config.seed, data, COMPUTED_HERE) as run:
        if run.finished:
            return run
        with run:
            started = time.perf_counter()
            model, tokenizer = students.load_trained(student_weights(student_run))
            result = evaluation.evaluate_student(
                model, tokenizer, examples(data).test, fmt=method, batch_size=config.batch_size,
                max_new_tokens=config.resolved_max_new_tokens(method), self_consistency=config.self_consistency,
                temperature=config.temperature, seed=config.seed, method=arm_label(method, degree),
            )
            run.save_predictions(result.predictions)
            run.save_metrics(result.metrics() | {
                "test_questions": result.n, "correct": int(round(result.accuracy * result.n)),
                "eval_seconds": time.perf_counter() - started,
            })
    return run


def student_weights(run: Run) -> Path:
    """Where a training run's selected student is: its artifacts (``train/best``) where this machine trained it;
    else the LoRA adapter its committed record carries (``student/``, a few MB, written for a LoRA student of a named
    base: loadable on any machine that resolves the base, without training); else a clear error naming the stage."""
    shipped = run.path / "student"
    if not computed_here(run) and (shipped / "adapter_config.json").is_file():
        return shipped
    return artifact(run, "train", "best")


def load_student(student: Run | str):
    """``(model, tokenizer)`` of a training run's selected student (a run, its directory or name; see
    :func:`student_weights`): what notebooks 21 and 40 ask a new question live."""
    return students.load_trained(student_weights(find("student", student)))


def result_of(run: Run):
    """The :class:`fcot.evaluate.EvalResult` an evaluation run recorded (predictions included)."""
    metrics = run.metrics
    fields = {f.name for f in dataclasses.fields(EvalResult)} - {"predictions"}
    return EvalResult(**{k: metrics[k] for k in fields if k in metrics},
                      predictions=list(read_jsonl(run.path / "predictions.jsonl")))


def _degree_of(samples_run: Run) -> int:
    """The teacher's degree D behind a curation run (1 for vanilla)."""
    teacher_run = upstream_of(samples_run)
    return 1 if teacher_run is None else int(teacher_run.config["teach"]["degree"])


def chain_config(run: Run) -> dict:
    """The configs of a run and every run upstream of it, by stage (for display)."""
    out = {run.kind: {k: v for k, v in run.config.items() if k != "upstream"}}
    parent = upstream_of(run)
    while parent is not None:
        out[parent.kind] = {k: v for k, v in parent.config.items() if k not in ("upstream", "data")}
        parent = upstream_of(parent)
    return config_dict(out)


# ----------------------------------------------------------------------------------------------
# Reading a chain
# ----------------------------------------------------------------------------------------------


def default_upstream(kind: str) -> Run:
    """The run notebook 10, 11, 20 or 21 makes with its default (smoke) parameters: what notebooks 11,
    20, 21 and 40 use when no upstream run is given, so each still runs alone."""
    if kind == "teacher":
        return teach(DataConfig(), TeachConfig())
    if kind == "curation":
        return curate(CurateConfig(), default_upstream("teacher"))
    if kind == "student":
        return train(students.recipe_config("smoke", student="tiny-gpt2-xs", epochs=2), default_upstream("curation"))
    if kind == "evaluation":
        return evaluate(EvalConfig(), default_upstream("student"))
    raise ValueError(f"no default upstream of kind {kind!r}; accepted: teacher, curation, student, evaluation")


