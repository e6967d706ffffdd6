"""Ablations: what each sweep notebook (30-36, :data:`fcot.steps.SWEEPS`) varies, how its summary is grouped and drawn, and where it is recorded.

:data:`ABLATIONS` names them; :func:`ablation_summary` recomputes one from the finished experiment
runs of a profile; :func:`record_ablation` writes it to ``results/<study>/ablations/<name>/`` (where
notebook 90 reads it); :func:`ablation_figure` draws it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from fcot import paths, plots, steps
from fcot.experiments import SUMMARY_EXTRAS, ExperimentConfig, related_experiments, summarize
from fcot.runs import jsonable, markdown_table, publish


@dataclass(frozen=True)
class Ablation:
    """One ablation: the config fields it varies, how its summary is grouped and plotted."""

    name: str
    title: str
    vary: tuple[str, ...]
    by: tuple[str, ...]
    x: str
    references: tuple[str, ...] = ()  # summary columns drawn next to the student's accuracy
    log_x: bool = False
    group: str | None = None  # a summary column that splits the plot (one panel per value)
    tick_label: str | None = None  # a summary column naming each x tick (e.g. the student's name)
    xlabel: str | None = None  # the x axis' label (default: x)

    def __post_init__(self) -> None:
        fields = set(ExperimentConfig.fields()) | {"arm"}
        bad = sorted((set(self.vary) | set(self.by)) - fields)
        if bad:
            raise ValueError(f"Ablation {self.name!r}: unknown field(s) {bad}; accepted: {sorted(fields)}")
        columns = set(self.by) | set(SUMMARY_EXTRAS)
        bad = sorted(({self.x} | set(self.references) | ({self.group} if self.group else set())) - columns)
        if bad:
            raise ValueError(f"Ablation {self.name!r}: {bad} are not summary columns; accepted: {sorted(columns)}")


ABLATIONS: dict[str, Ablation] = {
    a.name: a
    for a in (
        Ablation("methods", "Methods: vanilla vs Fine-tune-CoT (D=1, diverse) vs step-by-step",
                 vary=("method", "degree", "task", "difficulty"), by=("task", "test_split", "arm"), x="arm",
                 group="task"),
        Ablation("degree", "Diverse reasoning: accuracy vs degree D",
                 vary=("degree",), by=("degree",), x="degree", log_x=True, references=("teacher_accuracy_test",),
                 xlabel="degree D (rationales per question)"),
        Ablation("data_size", "Accuracy vs training questions",
                 vary=("n_train",), by=("n_train",), x="n_train", log_x=True, references=("teacher_accuracy_test",),
                 xlabel="training questions (log scale)"),
        Ablation("teacher_quality", "Student vs teacher accuracy (simulated teacher)",
                 vary=("teacher_accuracy",), by=("teacher_accuracy",), x="teacher_accuracy",
                 references=("teacher_accuracy_test",), xlabel="the simulated teacher's accuracy (setting)"),
        Ablation("student_size", "Accuracy vs student size",
                 vary=("student",), by=("student",), x="parameters", log_x=True, tick_label="student",
                 references=("teacher_accuracy_test",), xlabel="student (parameters, log scale)"),
        Ablation("filtering", "Filtering wrong rationales: correct_only vs keep_all (and its size-matched control)",
                 vary=("filter_mode",), by=("filter_mode",), x="filter_mode", references=("teacher_accuracy_test",),
                 xlabel="which rationales become samples"),
        Ablation("rationale_length", "Accuracy vs rationale length cap (tokens)",
                 vary=("max_rationale_tokens",), by=("max_rationale_tokens",), x="max_rationale_tokens",
                 references=("teacher_accuracy_test",), xlabel="rationale cap (student tokens; none = no cut)"),
    )
}


def _ablation(name: str) -> Ablation:
    """The :class:`Ablation` of a recorded sweep name: an :data:`ABLATIONS` key, or ``<key>-<column>`` for another
    sweep of the same kind (e.g. ``methods-coin_flip``: the methods comparison of another main-table column)."""
    kind = name if name in ABLATIONS else str(name).split("-", 1)[0]
    if kind not in ABLATIONS or (kind != name and not str(name)[len(kind) + 1:]):
        raise ValueError(f"unknown ablation {name!r}; accepted: {', '.join(ABLATIONS)}, or <name>-<column> "
                         f"(e.g. methods-coin_flip)")
    return ABLATIONS[kind]


def ablation_kind(name: str) -> str:
    """``methods-coin_flip`` -> ``methods``; an :data:`ABLATIONS` key -> itself."""
    return _ablation(name).name


def recorded_ablations(study: str, root: str | os.PathLike | None = None) -> list[str]:
    """The sweep names recorded for ``study`` (folders of ``results/<study>/ablations`` holding an ablation.json),
    in :data:`ABLATIONS` order, each kind's extra columns after it."""
    folder = paths.results_dir(root) / study / "ablations"
    found = sorted(p.parent.name for p in folder.glob("*/ablation.json")) if folder.is_dir() else []
    order = {name: i for i, name in enumerate(ABLATIONS)}
    kinds = {}
    for name in found:
        with contextlib.suppress(ValueError):  # a folder that names no ablation is not one
            kinds[name] = ablation_kind(name)
    return sorted(kinds, key=lambda n: (order[kinds[n]], n != kinds[n], n))


def ablation_dir(name: str, study: str, root: str | os.PathLike | None = None) -> Path:
    """``results_dir()/<study>/ablations/<name>/``."""
    _ablation(name)
    if not paths.NAME.match(study or ""):
        raise ValueError(f"study {study!r} must be a name of letters, digits and _.+- (e.g. the profile name)")
    return paths.results_dir(root) / study / "ablations" / name


def ablation_summary(name: str, config: ExperimentConfig | None = None, *, study: str | None = None,
                     root: str | os.PathLike | None = None):
    """``(results, summary)`` of an ablation: the related finished runs and their :func:`summarize`.

    ``config``: the ablation's base configuration; None reads the one recorded for ``study`` by
    :func:`record_ablation` (so a later reader recomputes from the runs that exist now). A column's own sweep
    (``methods-coin_flip``) keeps only its task's runs; ``methods`` compares every column it finds.
    Accuracy vs degree etc.: ``summary`` has one row per value of the ablation's ``by`` fields.
    """
    ablation = _ablation(name)
    if config is None:
        if study is None:
            raise ValueError("ablation_summary: pass config= (the base configuration) or study= (read the recorded one)")
        config = load_ablation(name, study, root)["config"]
    results = related_experiments(config, ablation.vary, root, study=study)
    if name != ablation.name and "task" in ablation.vary and not results.empty:
        # a column's own sweep (methods-coin_flip) compares the methods on its task only, even where the other
        # columns' runs share every other setting (the pretrained profile's columns differ only in the task)
        results = results[results["task"] == config.task]
    return results, summarize(results, ablation.by)


def record_ablation(name: str, config: ExperimentConfig, summary, *, study: str, figure=None,
                    root: str | os.PathLike | None = None) -> Path:
    """Write an ablation's base config (``ablation.json``), summary (``summary.csv``/``.md``) and
    figure (``figure.png``) under :func:`ablation_dir`; returns that folder. Files are replaced
    atomically (parallel grid points may write it in turn; the last one has seen every run)."""
    folder = ablation_dir(name, study, root)
    folder.mkdir(parents=True, exist_ok=True)
    ablation = _ablation(name)
    publish(folder / "ablation.json", json.dumps(jsonable({"name": name, "study": study, "vary": ablation.vary,
                                                            "by": ablation.by, "config": dataclasses.asdict(config)}),
                                                 indent=2) + "\n")
    publish(folder / "summary.csv", summary.to_csv(index=False))
    publish(folder / "summary.md", markdown_table(summary, percent=True))  # for readers; the CSV keeps fractions
    if figure is not None:
        publish(folder / "figure.png", figure)
    return folder


def load_ablation(name: str, study: str, root: str | os.PathLike | None = None) -> dict:
    """What :func:`record_ablation` wrote: ``{"config": ExperimentConfig, "summary": DataFrame, "path": Path}``."""
    import pandas as pd

    folder = ablation_dir(name, study, root)
    meta_file = folder / "ablation.json"
    if not meta_file.is_file():
        raise FileNotFoundError(f"{paths.portable(meta_file)}: ablation {name!r} of study {study!r} has not been recorded "
                                f"(run notebook {steps.sweep_notebook(_ablation(name).name)} first)")
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    summary_file = folder / "summary.csv"
    summary = pd.read_csv(summary_file) if summary_file.is_file() and summary_file.stat().st_size else pd.DataFrame()
    return {"config": ExperimentConfig(**meta["config"]), "summary": summary, "path": folder}


def ablation_figure(name: str, summary, title: str | None = None, runs=None):
    """The ablation's standard figure (``fcot.plots.ablation``) from its summary, and from the runs it summarises
    when given (seaborn then aggregates the seeds with the same t interval)."""
    ablation = _ablation(name)
    return plots.ablation(summary, x=ablation.x, group=ablation.group, references=ablation.references,
                          log_x=ablation.log_x, title=title or ablation.title, tick_label=ablation.tick_label,
                          xlabel=ablation.xlabel, runs=runs)
