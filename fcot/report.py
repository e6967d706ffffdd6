"""The study's tables and figures: the main table (the shape of the paper's Table 1) and the ablations.

What the figures notebook (:data:`fcot.steps.FIGURES`) calls. Inputs are finished experiment runs
(:func:`fcot.experiments.collect_experiments`) and the ablations recorded by notebooks 30-36
(:func:`fcot.ablations.ablation_summary`); outputs go through ONE :class:`fcot.runs.Run` of
kind ``report`` and are published at stable paths (:func:`write_tables`)::

    results_dir()/<study>/tables/main_table.csv       long form: method x task, mean, interval, runs
    results_dir()/<study>/tables/main_table.md        wide: methods as rows, tasks as columns
    results_dir()/<study>/tables/ablation_<name>.csv  and .md: each ablation's summary
    results_dir()/<study>/tables/teacher_recorded.csv the recorded text-davinci-002 teacher on the test splits
    results_dir()/<study>/figures/main_table.png      accuracy bars with intervals
    results_dir()/<study>/figures/ablation_<name>.png
    results_dir()/<study>/runs/report/<study>-<hash>/ the same files, with config and manifest (the Run)

**Main table rows** (:data:`METHOD_ROWS`, in the paper's order): random guessing, the teacher
(Zero-shot-CoT), vanilla fine-tuning, Fine-tune-CoT (D=1), Fine-tune-CoT with diverse reasoning
(the largest D > 1 found), and the distilling-step-by-step style multitask arm (not in the paper).
Each cell is the mean test accuracy over the runs (seeds) of that arm, with a 95% t interval
across seeds, or the run's Wilson interval when there is one run (``interval`` says which).

**Published numbers.** fcot ships the paper's Table 1 as ``fcot/resources/published_table1.csv``
(source and row mapping in ``published_table1.md``; the ``paper`` profile passes it to notebook 90).
Any other CSV in the same schema can be given instead (:func:`load_published`)::

    # source: <where the numbers were transcribed from, e.g. https://arxiv.org/abs/2212.10071 Table 1>
    method,task,accuracy[,student]
    ft_cot,multiarith,33.33,GPT-3 ada

``method`` is one of :data:`METHOD_ROWS`' keys, ``task`` an fcot task name, ``accuracy`` in
percent, ``student`` optional free text; lines starting with ``#`` are comments. Without a file
the ``paper`` columns stay empty.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from fcot import ablations, experiments, paths, plots, stages, steps, synthetic, tasks
from fcot import tasks as task_registry
from fcot.runs import publish

# REPRODUCTION NOTE: main-table cells are means over seeds with a 95% t interval across seeds (the
# paper reports single runs); the diverse-reasoning row shows the largest degree D that was run; the
# "Step-by-step multitask" row is not in the paper; "Random" is the expected accuracy of a uniform
# guess per question (0 for open-ended numbers and strings).

#: Main-table rows: key -> label (the paper's Table 1 order; multitask is fcot's extra arm).
METHOD_ROWS: dict[str, str] = {
    "random": "Random",
    "teacher": "Teacher (Zero-shot-CoT)",
    "teacher_simulated": "Teacher (rule-based simulator)",
    "vanilla": "Vanilla fine-tuning",
    "ft_cot": "Fine-tune-CoT",
    "ft_cot_diverse": "Fine-tune-CoT + diverse reasoning",
    "multitask": "Step-by-step multitask",
}
MAIN_COLUMNS = ["method", "label", "task", "mean", "low", "high", "runs", "n", "interval", "detail"]  # n: test questions per run
PUBLISHED_COLUMNS = ("method", "task", "accuracy")
# Config fields that must agree between the runs of one main-table column (besides method, degree, seed and
# the teacher temperature, which diverse reasoning changes with the degree).
_BASE_FIELDS = ("difficulty", "n_train", "n_val", "n_test", "data_seed", "student", "recipe", "epochs", "lr",
                "batch_size", "dropout", "select_by")
_TEACHER_BASE_FIELDS = ("teacher", "teacher_accuracy", "teacher_file", "teacher_max_tokens",
                        "filter_mode", "max_rationale_tokens")


class NoExperimentsError(LookupError):
    """There are no finished experiment runs to tabulate."""


# ----------------------------------------------------------------------------------------------
# Experiment runs
# ----------------------------------------------------------------------------------------------


def experiment_runs(study: str | None = None, root: str | os.PathLike | None = None):
    """Every finished experiment run of profile ``study`` (None: the current one); never another
    profile's (:func:`fcot.experiments.collect_experiments`)."""
    return experiments.collect_experiments(root, study=study)


def no_runs_message(study: str | None = None, root: str | os.PathLike | None = None) -> str:
    where = paths.profile_runs(study, root) / "experiment"
    return (f"no experiment runs found under {where}: run the experiment notebooks 30-36 first "
            f"(e.g. `python -m fcot reproduce --profile default`); the main table and the ablation figures stay empty")


def _is_blank(value: Any) -> bool:
    """None, NaN and pandas' NA (pandas 3 fills missing cells of nullable columns with ``pd.NA``)."""
    if value is None:
        return True
    import numpy as np
    import pandas as pd

    try:
        blank = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return bool(blank) if isinstance(blank, (bool, np.bool_)) else False  # a list-like value is not blank


def _key(value: Any) -> Any:
    return None if _is_blank(value) else value


# REPRODUCTION NOTE: the main table uses, per task, the most common configuration among its
# Fine-tune-CoT runs (data size, student, teacher, ...) and the runs that share it.
def base_runs(runs):
    """The runs of one comparable configuration per task: within each task, the runs whose
    non-method settings (:data:`_BASE_FIELDS`; teacher settings too, except for vanilla runs)
    equal the most common setting among that task's Fine-tune-CoT runs (else among all its runs).

    This drops the runs that other ablations added with other data sizes, students, teachers, ...
    """
    import pandas as pd

    if runs.empty:
        return runs
    runs = with_columns(runs)
    kept = []
    for _, group in runs.groupby("task", sort=False):
        fields = [f for f in _BASE_FIELDS if f in group.columns]
        teacher_fields = [f for f in _TEACHER_BASE_FIELDS if f in group.columns]
        pool = group[group["method"] == "ft_cot"] if (group["method"] == "ft_cot").any() else group
        base = pool.apply(lambda r: tuple(_key(r[f]) for f in fields), axis=1).value_counts().index[0]
        teacher_pool = pool[pool["method"] != "vanilla"]
        teacher_base = (teacher_pool.apply(lambda r: tuple(_key(r[f]) for f in teacher_fields), axis=1)
                        .value_counts().index[0] if not teacher_pool.empty else None)

        def matches(row) -> bool:
            if tuple(_key(row[f]) for f in fields) != base:
                return False
            if row["method"] == "vanilla" or teacher_base is None:
                return True
            return tuple(_key(row[f]) for f in teacher_fields) == teacher_base

        kept.append(group[group.apply(matches, axis=1)])
    return pd.concat(kept).reset_index(drop=True) if kept else runs.head(0)


def column_task(task: str, test_split: Any = None) -> str:
    """The main-table column of a run: its task, or for a ``synth_*`` student tested on a real test split
    (``test_split="real"``) the real task whose test questions it answered (``synth_coin_flip`` -> ``coin_flip``)."""
    from fcot.data import REAL_TASK

    return REAL_TASK.get(task, task) if not _is_blank(test_split) and test_split == "real" else task


def column_label(task: str, test_split: Any = None) -> str:
    """How the findings name a column: the task, or ``coin_flip (real test split, generated training questions)``."""
    column = column_task(task, test_split)
    return f"{column}: real test split, generated training questions" if column != task else task


def with_columns(runs):
    """``runs`` with ``task`` replaced by its main-table column (:func:`column_task`) and the run's own task kept
    as ``trained_on``; a frame that already has its columns is returned as it is."""
    if "trained_on" in runs.columns:
        return runs
    if runs.empty or "test_split" not in runs.columns:
        return runs.assign(trained_on=runs["task"]) if "task" in runs.columns else runs
    columns = [column_task(t, split) for t, split in zip(runs["task"], runs["test_split"])]
    return runs.assign(trained_on=runs["task"], task=columns)


def method_key(method: str, degree: Any) -> str | None:
    """The main-table row of a run: ``vanilla``, ``ft_cot`` (D=1), ``ft_cot_diverse`` (D>1), ``multitask``."""
    if method == "ft_cot":
        return "ft_cot" if _is_blank(degree) or int(degree) <= 1 else "ft_cot_diverse"
    if method in ("vanilla", "multitask"):
        return method
    return None


# ----------------------------------------------------------------------------------------------
# Baseline rows
# ----------------------------------------------------------------------------------------------


def random_accuracy(task: str, difficulty: Any = None) -> float:
    """Expected accuracy of uniform random guessing on the test questions of ``task``
    (:func:`fcot.evaluate.random_baseline`; synthetic tasks: on 200 generated questions)."""
    from fcot import evaluate

    if task.startswith("synth_"):
        examples = synthetic.generate_examples(task, 200, None if _is_blank(difficulty) else int(difficulty))
    else:
        examples = tasks.load_split(task, test_only=True).test
    return evaluate.random_baseline(examples)


# REPRODUCTION NOTE: the teacher row of real tasks is computed from Kojima et al.'s recorded
# text-davinci-002 Zero-shot-CoT logs restricted to the official test split and re-parsed with fcot's
# answer rules, not from the teacher completions the paper's authors generated themselves.
def recorded_teacher(tasks: Sequence[str] | None = None, confidence: float = 0.95):
    """The recorded text-davinci-002 Zero-shot-CoT teacher on each task's official TEST split.

    Computed from Kojima et al.'s logs (:mod:`fcot.recorded`, parsed with fcot's rules), for the
    eight logs in the data mirror by default (:data:`fcot.recorded.MIRRORED_TASKS`). Columns:
    ``task``, ``n`` (test questions the log covers), ``test_questions``, ``accuracy``, ``low``,
    ``high`` (Wilson), ``source``.
    """
    import pandas as pd

    from fcot import evaluate, recorded

    rows = []
    for task in tasks if tasks is not None else recorded.MIRRORED_TASKS:
        test = task_registry.load_split(task, test_only=True).test
        ids = {e.id for e in test}
        completions = [c for c in recorded.load_recorded(task).completions if c.example_id in ids]
        if not completions:
            raise ValueError(f"recorded teacher: the {task} log covers none of its {len(test)} test questions")
        result = evaluate.teacher_baseline(completions, confidence=confidence)
        rows.append({"task": task, "n": result.n, "test_questions": len(test), "accuracy": result.accuracy,
                     "low": result.low, "high": result.high,
                     "source": f"{recorded.LOG_REPO}@{recorded.LOG_COMMIT[:7]} log/{recorded.log_spec(task).log_name}_zero_shot_cot.log"})
    return pd.DataFrame(rows, columns=["task", "n", "test_questions", "accuracy", "low", "high", "source"])


# ----------------------------------------------------------------------------------------------
# The main table
# ----------------------------------------------------------------------------------------------


def main_table(runs, *, teacher=None, random: bool = True, confidence: float = 0.95):
    """The main table in long form: one row per (method row, task) with ``mean`` accuracy and interval.

    ``runs``: finished experiment runs (:func:`experiment_runs`, ideally :func:`base_runs` of
    them). Student rows are :func:`fcot.experiments.summarize` over seeds per (task, arm); the
    diverse-reasoning row takes the largest degree found (``detail`` names it). Teacher row: the
    runs' ``teacher_accuracy_test`` (the teacher used, on the same test questions; mean over runs,
    no interval), replaced by ``teacher`` (e.g. :func:`recorded_teacher`) for the tasks it covers.
    ``random``: add the expected accuracy of uniform guessing per task.
    """
    import pandas as pd

    runs = with_columns(runs)
    rows: list[dict] = []
    tasks: list[str] = list(dict.fromkeys(runs["task"])) if not runs.empty else []
    if not runs.empty:
        frame = runs.assign(row=[method_key(m, d) for m, d in zip(runs["method"], runs["degree"])])
        frame = frame[frame["row"].notna()]
        summary = experiments.summarize(frame, by=["task", "row", "degree"], confidence=confidence)
        for (task, key), group in summary.groupby(["task", "row"], sort=False):
            best = group.sort_values("degree", key=lambda s: pd.to_numeric(s, errors="coerce").fillna(1)).iloc[-1]
            detail = f"D={int(best['degree'])}" if key == "ft_cot_diverse" else ""
            rows.append({"method": key, "task": task, "mean": best["mean"], "low": best["low"], "high": best["high"],
                         "runs": int(best["runs"]), "n": _questions(frame, task, key, best["degree"]),
                         "interval": best["interval"], "detail": detail})
        if "teacher_accuracy_test" in frame.columns:
            for (task, kind), group in frame[frame["method"] != "vanilla"].groupby(["task", "teacher"], sort=False):
                values = pd.to_numeric(group["teacher_accuracy_test"], errors="coerce").dropna()
                if len(values):
                    key = "teacher_simulated" if kind == "simulated" else "teacher"
                    rows.append({"method": key, "task": task, "mean": float(values.mean()), "low": None,
                                 "high": None, "runs": len(values), "interval": "none (teacher on the test questions)",
                                 "detail": str(kind)})
    if teacher is not None and not teacher.empty:
        rows = [r for r in rows if not (r["method"] == "teacher" and r["task"] in set(teacher["task"]))]
        for r in teacher.itertuples():
            rows.append({"method": "teacher", "task": r.task, "mean": r.accuracy, "low": r.low, "high": r.high,
                         "runs": 1, "n": int(r.n), "interval": f"wilson (n={r.n})", "detail": "text-davinci-002, recorded"})
            if r.task not in tasks:
                tasks.append(r.task)
    if random:
        difficulty = {}
        if not runs.empty and "difficulty" in runs.columns:
            difficulty = {t: g["difficulty"].dropna().iloc[0] if g["difficulty"].notna().any() else None
                          for t, g in runs.groupby("task")}
        for task in tasks:  # a real-test column's random row is computed on the real test split
            rows.append({"method": "random", "task": task, "mean": random_accuracy(task, difficulty.get(task)),
                         "low": None, "high": None, "runs": 0, "interval": "exact (expected value)", "detail": ""})
    table = pd.DataFrame(rows, columns=[c for c in MAIN_COLUMNS if c != "label"])
    table["n"] = pd.to_numeric(table["n"], errors="coerce").astype("Int64")  # a count, blank where none
    table.insert(1, "label", table["method"].map(METHOD_ROWS))
    order = {k: i for i, k in enumerate(METHOD_ROWS)}
    task_order = {t: i for i, t in enumerate(tasks)}
    table = table.sort_values(["method", "task"], key=lambda s: s.map(order) if s.name == "method" else s.map(task_order))
    return table.reset_index(drop=True)


def _questions(frame, task: str, key: str, degree) -> int | None:
    """The test questions per run of one main-table cell (the same for every seed; None when not recorded)."""
    import pandas as pd

    if "test_questions" not in frame.columns:
        return None
    cell = frame[(frame["task"] == task) & (frame["row"] == key)]
    if key == "ft_cot_diverse":  # the row of the largest degree found
        cell = cell[pd.to_numeric(cell["degree"], errors="coerce") == pd.to_numeric(degree, errors="coerce")]
    values = pd.to_numeric(cell["test_questions"], errors="coerce").dropna()
    return int(values.max()) if len(values) else None


def _cell(mean: Any, low: Any, high: Any) -> str:
    if _is_blank(mean):
        return ""
    text = f"{100 * float(mean):.1f}"
    if not _is_blank(low) and not _is_blank(high):
        text += f" [{100 * float(low):.1f}, {100 * float(high):.1f}]"
    return text


def wide_table(table, published=None):
    """Methods as rows (in :data:`METHOD_ROWS` order), tasks as columns, cells ``"58.0 [48.2, 67.1]"``
    (percent; the interval where there is one). With ``published`` (:func:`load_published`), each
    task gets a ``<task> (paper)`` column right after it (empty where the paper file has no number)."""
    import pandas as pd

    tasks = list(dict.fromkeys(table["task"]))
    labels = [METHOD_ROWS[k] for k in METHOD_ROWS if k in set(table["method"]) or
              (published is not None and k in set(published["method"]))]
    wide = pd.DataFrame(index=pd.Index(labels, name="method"))
    lookup = {(r.method, r.task): _cell(r.mean, r.low, r.high) for r in table.itertuples()}
    paper = {}
    if published is not None:
        paper = {(r.method, r.task): f"{float(r.accuracy):.1f}" for r in published.itertuples()}
        tasks += [t for t in dict.fromkeys(published["task"]) if t not in tasks]
    for task in tasks:
        wide[task] = [lookup.get((k, task), "") for k in METHOD_ROWS if METHOD_ROWS[k] in labels]
        if published is not None:
            wide[f"{task} (paper)"] = [paper.get((k, task), "") for k in METHOD_ROWS if METHOD_ROWS[k] in labels]
    return wide


# REPRODUCTION NOTE: the "(paper)" columns of the paper profile come from fcot/resources/published_table1.csv,
# copied from the authors' results notebook (itsnamgyu/reasoning-teacher@de0a327, notebooks/results.ipynb,
# section tab:performance), which generates the paper's Table 1; not checked against the typeset PDF. Only the
# rows fcot has are shipped (random, teacher, vanilla, Fine-tune-CoT, diverse reasoning), for the GPT-3 6.7B
# student; the paper's students are GPT-3 models, fcot's paper-profile students are GPT-2 (124M).
def load_published(path: str | os.PathLike | None):
    """Published accuracies from a user-provided CSV (schema in the module docstring), or None.

    ``path`` empty/None -> None (the paper columns stay empty). A malformed file raises naming the
    file, line and field, and what is accepted.
    """
    import pandas as pd

    if not path:
        return None
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such published-numbers CSV (columns {', '.join(PUBLISHED_COLUMNS)}[, student])")
    with open(path, encoding="utf-8", newline="") as handle:
        lines = [(number, line) for number, line in enumerate(handle, start=1) if line.strip() and not line.startswith("#")]
    if not lines:
        raise ValueError(f"{path}: no header line; expected columns {', '.join(PUBLISHED_COLUMNS)}[, student]")
    reader = csv.DictReader([line for _, line in lines])
    missing = [c for c in PUBLISHED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{path}:{lines[0][0]}: header lacks {missing}; expected columns "
                         f"{', '.join(PUBLISHED_COLUMNS)}[, student]")
    rows = []
    for (number, _), row in zip(lines[1:], reader):
        where = f"{path}:{number}"
        if row["method"] not in METHOD_ROWS:
            raise ValueError(f"{where}: method {row['method']!r}; accepted: {', '.join(METHOD_ROWS)}")
        if not row["task"]:
            raise ValueError(f"{where}: task is empty; accepted: an fcot task name (fcot.tasks.task_names())")
        try:
            accuracy = float(row["accuracy"])
        except (TypeError, ValueError):
            raise ValueError(f"{where}: accuracy {row['accuracy']!r} is not a number (percent, e.g. 33.3)") from None
        if not 0 <= accuracy <= 100:
            raise ValueError(f"{where}: accuracy {accuracy} is not a percentage in [0, 100]")
        rows.append({"method": row["method"], "task": row["task"], "accuracy": accuracy,
                     "student": (row.get("student") or "").strip()})
    return pd.DataFrame(rows, columns=["method", "task", "accuracy", "student"])


def main_figure(table, title: str | None = None):
    """Accuracy bars per task and method row with intervals (:func:`fcot.plots.accuracy_bars`), for the columns
    that have a student row (all columns when none has); None for an empty table."""
    if table.empty:
        return None
    students = set(table.loc[~table["method"].isin(["random", "teacher", "teacher_simulated"]), "task"])
    if students:  # the columns with a student row (the table keeps the teacher-only columns)
        table = table[table["task"].isin(students)]
    frame = table.assign(method=table["label"], accuracy=table["mean"])
    return plots.accuracy_bars(frame[["method", "task", "accuracy", "low", "high"]], title=title)


# ----------------------------------------------------------------------------------------------
# Ablations
# ----------------------------------------------------------------------------------------------


def ablation_names() -> list[str]:
    """Every ablation of :data:`fcot.ablations.ABLATIONS` except the methods comparison (the main table)."""
    return [name for name in ablations.ABLATIONS if name != "methods"]


def ablation_summaries(study: str, names: Iterable[str] | None = None, root=None) -> dict[str, Any]:
    """``{name: summary}`` of each recorded ablation of ``study`` (recomputed from the runs that
    exist now), followed by the recorded sweeps of the same kinds on other columns (``methods-coin_flip``);
    an ablation that was never recorded maps to a message saying so."""
    wanted = list(names if names is not None else ablation_names())
    # other columns of a wanted kind (methods-coin_flip: the methods comparison on another main-table column)
    wanted += [n for n in ablations.recorded_ablations(study, root) if n not in wanted and ablations.ablation_kind(n) in wanted]
    found: dict[str, Any] = {}
    for name in wanted:
        try:
            _, summary = ablations.ablation_summary(name, study=study, root=root)
        except FileNotFoundError as error:
            found[name] = str(error)
            continue
        found[name] = summary if not summary.empty else f"ablation {name!r} of study {study!r}: no finished runs yet"
    return found


def ablation_figures(summaries: Mapping[str, Any], study: str | None = None, root=None) -> dict[str, Any]:
    """``{"ablation_<name>": Figure}`` for every recorded ablation (:func:`fcot.ablations.ablation_figure`); with
    ``study``, drawn from the runs each summary aggregates (seaborn computes the seeds' intervals)."""
    figures = {}
    for name, summary in summaries.items():
        if isinstance(summary, str):
            continue
        runs = ablations.ablation_summary(name, study=study, root=root)[0] if study else None
        figures[f"ablation_{name}"] = ablations.ablation_figure(name, summary, runs=runs)
    return figures


def ablation_status(summaries: Mapping[str, Any]):
    """One row per ablation: recorded or not, how many points and runs (a DataFrame for display)."""
    import pandas as pd

    rows = []
    for name, value in summaries.items():
        if isinstance(value, str):
            rows.append({"ablation": name, "status": "missing", "points": 0, "runs": 0, "note": value})
        else:
            rows.append({"ablation": name, "status": "ok", "points": len(value), "runs": int(value["runs"].sum()),
                         "note": ""})
    return pd.DataFrame(rows, columns=["ablation", "status", "points", "runs", "note"])


# ----------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------


def write_tables(
    study: str,
    *,
    main=None,
    wide=None,
    teacher=None,
    ablations: Mapping[str, Any] | None = None,
    figures: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write the report through one :class:`fcot.runs.Run` (kind ``report``, name ``study``) and
    publish stable copies under ``results_dir()/<study>/tables`` and ``.../figures``.

    ``main``: :func:`main_table` (long, ``main_table.csv``/``.md``); ``wide``: :func:`wide_table`
    (``main_table_wide``); ``teacher``: :func:`recorded_teacher` (``teacher_recorded``);
    ``ablations``: ``{name: summary}`` (``ablation_<name>``; message entries are skipped);
    ``figures``: ``{name: matplotlib Figure}`` (``<name>.png``). Returns ``{file name: published path}``.
    """
    from fcot.runs import Run

    tables: dict[str, Any] = {}
    if main is not None:
        tables["main_table"] = main
    if wide is not None:
        tables["main_table_wide"] = wide
    if teacher is not None:
        tables["teacher_recorded"] = teacher
    for name, summary in (ablations or {}).items():
        if not isinstance(summary, str):
            tables[f"ablation_{name}"] = summary
    written: dict[str, Path] = {}
    target = paths.results_dir() / study
    with Run.open("report", dict(config or {}) | {"study": study}, name=study, seed=None, profile=study) as run:
        for name, frame in tables.items():
            for file in run.save_table(frame, name, percent=True):  # Markdown in percent, CSV in fractions
                written[file.name] = _publish(file, target / "tables")
        for name, figure in (figures or {}).items():
            if figure is None:
                continue
            written[f"{name}.png"] = _publish(run.save_figure(figure, name), target / "figures")
        run.save_metrics({"tables": sorted(tables), "figures": sorted(k for k, v in (figures or {}).items() if v is not None)})
    return written


def _publish(file: Path, folder: Path) -> Path:
    """Copy a run's table or figure to the profile's published folder (through the one writer)."""
    destination = folder / file.name
    if file.is_file():
        publish(destination, file)
    return destination


# ----------------------------------------------------------------------------------------------
# What we saw: the paper's phenomena, judged from the tables by fixed rules (never typed)
# ----------------------------------------------------------------------------------------------

FINDING_COLUMNS = ["phenomenon", "verdict", "noise", "evidence", "caveats", "rule"]

#: How a point's uncertainty is measured (shown under every :class:`Findings`).
INTERVAL_RULE = (
    "A point's interval is the 95% t interval of its mean accuracy across seeds, widened where needed to cover the "
    "mean per-run Wilson interval (the sampling of the test questions), so seeds that happen to agree do not make a "
    "point look exact; a point with one seed has that run's Wilson interval. Verdicts are computed from the summary "
    "by the rule in each row, so they change when the numbers change."
)
_NOISE_RULE = "noise: clear = the two intervals do not overlap, else within noise"
_TREND_RULE = ("verdict: yes = the mean accuracy never falls along {axis} and the last point beats the first; "
               "partly = the last point beats the first but the mean falls somewhere; no = otherwise; "
               "one point so far / not measured = fewer than two points. " + _NOISE_RULE.replace(
                   "the two intervals", "the intervals of the first and last points"))
_COMPARE_RULE = "verdict: yes = mean accuracy of {a} > {b}, tie = equal means, else no. " + _NOISE_RULE
_TEACHER_RULE = ("verdict: at the point where the student's mean accuracy is highest relative to its teacher's "
                 "accuracy on the same test questions (teacher below 100%), yes = student >= teacher, else no. "
                 "noise: clear = the teacher's accuracy lies outside the student's interval, else within noise "
                 "(the teacher's own sampling error is not counted)")
#: The order in which :func:`findings` lists the ablations (after the methods comparison).
FINDING_ORDER = ("degree", "data_size", "student_size", "teacher_quality", "filtering", "rationale_length")


@dataclass(frozen=True, eq=False, repr=False)
class Findings:
    """The phenomena judged in one notebook: ``table`` (a DataFrame with :data:`FINDING_COLUMNS`, one
    row per phenomenon) and ``note`` (how the intervals are measured). Displays as Markdown in a
    notebook (every number in full, no truncated cells)."""

    table: Any
    note: str = INTERVAL_RULE
    #: whose profile's hypotheses stand beside an unclear verdict (None: the profile this process runs)
    study: str | None = None

    def __post_init__(self) -> None:
        missing = [c for c in FINDING_COLUMNS if c not in getattr(self.table, "columns", ())]
        if missing:
            raise ValueError(f"Findings: table lacks column(s) {missing}; expected {FINDING_COLUMNS}")

    def __len__(self) -> int:
        return len(self.table)

    def verdicts(self) -> dict[str, str]:
        """``{phenomenon: verdict}``."""
        return dict(zip(self.table["phenomenon"], self.table["verdict"]))

    def row(self, phenomenon: str) -> dict[str, str]:
        """The row of ``phenomenon`` (exact text) as a dict."""
        match = self.table[self.table["phenomenon"] == phenomenon]
        if match.empty:
            raise KeyError(f"no finding {phenomenon!r}; present: {list(self.table['phenomenon'])}")
        return dict(match.iloc[0])

    def to_markdown(self) -> str:
        lines, hypotheses = [], hypotheses_of(self.study)
        for r in self.table.itertuples():
            head = f"- **{r.phenomenon}**: **{r.verdict}**" + (f", {r.noise}" if r.noise else "")
            lines.append(head)
            for field in ("evidence", "caveats", "rule"):
                value = getattr(r, field)
                if value:
                    lines.append(f"  - {field}: {value}")
            if unexplained(r.phenomenon, r.verdict, r.noise, hypotheses):
                lines.append(f"  - hypothesis: {_hypothesis(r.phenomenon, hypotheses)}")
        if not lines:
            lines.append("- nothing to judge")
        return "\n".join(lines) + f"\n\n*{self.note}*\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        return self.to_markdown()


@dataclass(frozen=True)
class Point:
    """One summary row as a finding sees it: mean accuracy, its (widened) interval, seeds."""

    label: str
    mean: float
    low: float | None
    high: float | None
    runs: int | None
    widened: bool = False
    no_interval: str = ""  # why there is no usable interval
    teacher: float | None = None  # the teacher's accuracy on the same test questions
    extra: str = ""

    def interval(self) -> str:
        """``84.7% [78.0, 89.6]``: the mean and its interval in percent."""
        text = f"{100 * self.mean:.1f}%"
        if self.low is not None and self.high is not None:
            text += f" [{100 * self.low:.1f}, {100 * self.high:.1f}]"
        return text

    def text(self) -> str:
        text = f"{self.label}: {self.interval()}"
        if self.runs is not None:
            text += f", {self.runs} seed{'s' if self.runs != 1 else ''}"
        return text + (f", {self.extra}" if self.extra else "")


def _number(value: Any) -> float | None:
    """A float, or None for blank (None, NaN, pandas NA) and non-numeric cells."""
    if _is_blank(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _value_text(value: Any, blank: str = "none") -> str:
    if _is_blank(value):
        return blank
    number = _number(value)
    if number is not None and not isinstance(value, str):
        return str(int(number)) if number.is_integer() else f"{number:g}"
    return str(value)


def _point(row: Mapping[str, Any], label: str, *, teacher: bool = False, extra: str = "") -> Point | None:
    """The :class:`Point` of a summary (or main-table) row; None when it has no accuracy."""
    mean = _number(row.get("mean"))
    if mean is None:
        return None
    low, high = _number(row.get("low")), _number(row.get("high"))
    run_low, run_high = _number(row.get("run_low")), _number(row.get("run_high"))
    runs = _number(row.get("runs"))
    runs = int(runs) if runs is not None else None
    widened, why = False, ""
    if run_low is not None and (low is None or run_low < low - 1e-12):
        low, widened = run_low, low is not None
    if run_high is not None and (high is None or run_high > high + 1e-12):
        high, widened = run_high, widened or high is not None
    if low is None or high is None:
        low = high = None
        why = "no interval in the table"
    elif runs is not None and runs > 1 and high - low < 1e-12:
        low = high = None  # seeds agree exactly and there is no per-run interval to widen it with
        why = "zero-width interval (the seeds agree exactly) and no per-run interval"
    return Point(label, mean, low, high, runs, widened, why,
                  _number(row.get("teacher_accuracy_test")) if teacher else None, extra)


def _separation(a: Point, b: Point) -> str:
    if a.low is None or b.low is None:
        return "uncertainty unknown"
    return "clear" if a.high < b.low or b.high < a.low else "within noise"


def _caveats(points: Sequence[Point], unmeasured: Sequence[str] = ()) -> str:
    parts = []
    single = [p.label for p in points if p.runs == 1]
    if single:
        parts.append(f"one seed at {', '.join(single)} (its interval covers test sampling only, not seed variation)")
    widened = [p.label for p in points if p.widened]
    if widened:
        parts.append(f"interval widened to the per-run Wilson interval at {', '.join(widened)} "
                     "(the seeds agree more closely than test sampling allows)")
    unknown = [f"{p.label} ({p.no_interval})" for p in points if p.no_interval]
    if unknown:
        parts.append(f"no usable interval at {', '.join(unknown)}")
    if unmeasured:
        parts.append(f"no accuracy at {', '.join(unmeasured)}")
    return "; ".join(parts)


def _row(phenomenon: str, verdict: str, noise: str, evidence: str, caveats: str, rule: str) -> dict[str, str]:
    return {"phenomenon": phenomenon, "verdict": verdict, "noise": noise, "evidence": evidence, "caveats": caveats,
            "rule": rule}


def _trend(points: Sequence[Point]) -> tuple[str, str]:
    """``(verdict, noise)`` of points ordered along an axis: does the mean accuracy rise?

    verdict: ``yes`` (never falls, last > first), ``partly`` (last > first, falls somewhere), ``no``,
    ``one point so far``, ``not measured``; noise: ``clear`` / ``within noise`` (first vs last
    interval) / ``uncertainty unknown``, empty with fewer than two points.
    """
    if not points:
        return "not measured", ""
    if len(points) == 1:
        return "one point so far", ""
    means = [p.mean for p in points]
    rises = means[-1] > means[0]
    if rises and all(b >= a for a, b in zip(means, means[1:])):
        verdict = "yes"
    else:
        verdict = "partly" if rises else "no"
    return verdict, _separation(points[0], points[-1])


def _compare(phenomenon: str, a: Point | None, b: Point | None, a_name: str, b_name: str, *,
             rule: str | None = None, absent: str = "no finished runs yet") -> dict[str, str]:
    """Does ``a`` beat ``b``? (a row: ``yes`` / ``tie`` / ``no``; ``not measured`` when either is missing)."""
    rule = rule or _COMPARE_RULE.format(a=a_name, b=b_name)
    if a is None or b is None:
        missing = [n for n, p in ((a_name, a), (b_name, b)) if p is None]
        present = [p for p in (a, b) if p is not None]
        evidence = f"no {' and no '.join(missing)} run yet" if present else absent
        if present:
            evidence += f"; {present[0].text()}"
        return _row(phenomenon, "not measured", "", evidence, _caveats(present), rule)
    verdict = "tie" if abs(a.mean - b.mean) < 1e-12 else "yes" if a.mean > b.mean else "no"
    return _row(phenomenon, verdict, _separation(a, b), f"{a.text()} vs {b.text()}",
                _caveats([a, b]), rule)


def _versus_teacher(phenomenon: str, points: Sequence[Point], absent: str) -> dict[str, str]:
    """Does the student match or beat an imperfect teacher at some point? (a row)."""
    imperfect = [p for p in points if p.teacher is not None and p.teacher < 1.0]
    if not imperfect:
        return _row(phenomenon, "not measured", "", absent, "", _TEACHER_RULE)
    best = max(imperfect, key=lambda p: p.mean - p.teacher)
    if best.low is None:
        noise = "uncertainty unknown"
    else:
        noise = "clear" if best.low > best.teacher or best.high < best.teacher else "within noise"
    return _row(phenomenon, "yes" if best.mean >= best.teacher else "no", noise,
                f"best: {dataclasses.replace(best, extra='').text()} vs teacher {100 * best.teacher:.1f}% "
                "on the same test questions",
                _caveats([best]), _TEACHER_RULE)


# How each ablation's points are labelled and ordered: name -> (x column, phenomenon, label, order key).
def _axis_key(value: Any) -> tuple:
    number = _number(value)
    if number is not None:
        return (0, number, "")
    return (2, 0.0, "") if _is_blank(value) else (1, 0.0, str(value))


def _axis_points(summary, name: str) -> tuple[list[Point], list[str]]:
    """The points of an ablation summary ordered along its axis, and the labels of rows without an accuracy."""
    import pandas as pd

    if summary is None or isinstance(summary, str) or not isinstance(summary, pd.DataFrame) or summary.empty:
        return [], []
    keyed, unmeasured = [], []
    for row in summary.to_dict("records"):
        if name == "student_size":
            params = _number(row.get("parameters"))
            label = f"{_value_text(row.get('student'))} ({_parameters_text(params)})"
            key = _axis_key(params)
        elif name == "data_size":
            n = _number(row.get("n_train"))
            label = f"n_train={'all' if n == 0 else _value_text(row.get('n_train'))}"
            key = (0, math.inf, "") if n == 0 else _axis_key(n)
        elif name == "rationale_length":
            label = f"cap={_value_text(row.get('max_rationale_tokens'), 'none (no cut)')}"
            key = _axis_key(row.get("max_rationale_tokens"))
        elif name == "teacher_quality":
            label = f"teacher_accuracy={_value_text(row.get('teacher_accuracy'), 'task default')}"
            value = row.get("teacher_accuracy")
            key = _axis_key(value if not _is_blank(value) else row.get("teacher_accuracy_test"))
        elif name == "filtering":
            label = _value_text(row.get("filter_mode"))
            key = (0, 0.0, "") if label == "correct_only" else (1, 0.0, label)
        else:  # degree
            label = f"D={_value_text(row.get('degree'))}"
            key = _axis_key(row.get("degree"))
        extra = ""
        teacher = _number(row.get("teacher_accuracy_test"))
        if name in ("teacher_quality", "filtering") and teacher is not None:
            extra = f"teacher {100 * teacher:.1f}%"
        if name == "filtering" and _number(row.get("samples_kept")) is not None:
            extra = ", ".join(x for x in (extra, f"{_number(row.get('samples_kept')):.0f} samples") if x)
        point = _point(row, label, teacher=True, extra=extra)
        if point is None:
            unmeasured.append(label)
        else:
            keyed.append((key, point))
    keyed.sort(key=lambda pair: pair[0])
    return [p for _, p in keyed], unmeasured


def _parameters_text(params: float | None) -> str:
    if params is None:
        return "size unknown"
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if params >= scale:
            return f"{params / scale:.3g}{unit} parameters"
    return f"{params:.0f} parameters"


_TRENDS: dict[str, tuple[str, str]] = {
    "degree": ("accuracy rises with the diversity degree D", "D"),
    "data_size": ("accuracy rises with the number of training questions", "n_train"),
    "student_size": ("accuracy rises with the student's size (parameters)", "the student's parameters"),
    "teacher_quality": ("accuracy rises with the teacher's accuracy", "the teacher's accuracy"),
    "rationale_length": ("accuracy rises with the rationale cap (no claim in the paper, which never cuts "
                         "rationales: described only)", "the cap in student tokens (no cut last)"),
}
FILTERING_PHENOMENON = "filtering wrong rationales helps: correct_only (the paper's choice) beats keep_all"
FILTERING_MATCHED_PHENOMENON = ("filtering helps at equal sample count: correct_only beats keep_all_matched (a random "
                                "subset of all rationales as large as the correct_only set)")
TEACHER_PHENOMENON = "the student matches or beats an imperfect teacher"


def _where(name: str) -> str:
    """``degree-200_questions`` -> ``200 questions``: where a second sweep of one kind runs; "" for the kind itself."""
    return str(name).partition("-")[2].replace("_", " ")


def _ablation_rows(name: str, summary, where: str = "") -> list[dict[str, str]]:
    points, unmeasured = _axis_points(summary, name)
    absent = summary if isinstance(summary, str) else (
        f"no {name} ablation in this study" if summary is None else "no finished runs yet")
    rows = []
    if name in _TRENDS:
        phenomenon, axis = _TRENDS[name]
        phenomenon = f"{phenomenon} (at {where})" if where else phenomenon
        verdict, noise = _trend(points)
        evidence = "; ".join(p.text() for p in points) or absent
        rows.append(_row(phenomenon, verdict, noise, evidence, _caveats(points, unmeasured),
                         _TREND_RULE.format(axis=axis)))
    if name == "teacher_quality":
        rows.append(_versus_teacher(f"{TEACHER_PHENOMENON} (teacher-quality points)", points,
                                    absent if not points else "no point with a teacher below 100% on the test questions"))
    if name == "filtering":
        by_mode = {p.label: p for p in points}
        row = _compare(FILTERING_PHENOMENON, by_mode.get("correct_only"), by_mode.get("keep_all"), "correct_only",
                       "keep_all", absent=absent)
        if row["verdict"] == "not measured" and len(points) == 1:
            row["verdict"] = "one point so far"
        rows.append(row)
        if "keep_all_matched" in by_mode:
            rows.append(_compare(FILTERING_MATCHED_PHENOMENON, by_mode.get("correct_only"), by_mode["keep_all_matched"],
                                 "correct_only", "keep_all_matched", absent=absent))
    return rows


def _methods_rows(arms_by_task: Mapping[str, Mapping[str, Point]], absent: str,
                  ran_only: bool = False) -> list[dict[str, str]]:
    """Fine-tune-CoT vs vanilla, diverse reasoning vs D=1, multitask vs Fine-tune-CoT, per task; with several
    columns, or ``ran_only``, the diverse and multitask rows only where those arms ran."""
    rows = []
    several = len(arms_by_task) > 1 or ran_only
    for task, arms in (arms_by_task or {"": {}}).items():
        where = f" ({task})" if task else ""
        rows.append(_compare(f"Fine-tune-CoT beats vanilla fine-tuning{where}", arms.get("ft_cot"),
                             arms.get("vanilla"), "ft_cot", "vanilla", absent=absent))
        # with several columns, a column that did not run an arm gets no row for it (not a "not measured" each)
        if not several or "ft_cot_diverse" in arms:
            rows.append(_compare(f"diverse reasoning (D > 1) beats Fine-tune-CoT with D=1{where}",
                                 arms.get("ft_cot_diverse"), arms.get("ft_cot"), "ft_cot D>1", "ft_cot", absent=absent,
                                 rule=_COMPARE_RULE.format(a="the largest D > 1 run", b="ft_cot (D=1)")))
        note = f"{task}; " if task else ""
        if not several or "multitask" in arms:
            rows.append(_compare(f"step-by-step multitask beats Fine-tune-CoT ({note}no claim in the paper: described only)",
                                 arms.get("multitask"), arms.get("ft_cot"), "multitask", "ft_cot", absent=absent))
    return rows


def _summary_arms(summary) -> dict[str, dict[str, Point]]:
    """``{task: {ft_cot|ft_cot_diverse|vanilla|multitask: point}}`` of the methods ablation summary."""
    import pandas as pd

    found: dict[str, dict[str, Point]] = {}
    if summary is None or isinstance(summary, str) or not isinstance(summary, pd.DataFrame) or summary.empty:
        return found
    degrees: dict[str, int] = {}
    for row in summary.to_dict("records"):
        task = column_label(_value_text(row.get("task"), ""), row.get("test_split"))
        arm = _value_text(row.get("arm"), "")
        point = _point(row, arm)
        if point is None:
            continue
        arms = found.setdefault(task, {})
        if arm in ("ft_cot", "vanilla", "multitask"):
            arms[arm] = point
        elif arm.startswith("ft_cot D="):
            degree = int(_number(arm.split("=", 1)[1]) or 0)
            if degree > degrees.get(task, 1):
                degrees[task], arms["ft_cot_diverse"] = degree, point
    return found


def _table_arms(table) -> dict[str, dict[str, Point]]:
    """The same from the main table (:func:`main_table`: rows keyed by method)."""
    found: dict[str, dict[str, Point]] = {}
    if table is None or table.empty:
        return found
    for row in table.to_dict("records"):
        method = row.get("method")
        if method not in ("ft_cot", "ft_cot_diverse", "vanilla", "multitask"):
            continue
        detail = _value_text(row.get("detail"), "")
        label = f"ft_cot {detail}" if method == "ft_cot_diverse" and detail else str(method)
        point = _point(row, label)
        if point is not None:
            found.setdefault(str(row.get("task")), {})[method] = point
    return found


# REPRODUCTION NOTE: the "What we saw" verdicts are computed by fixed rules from means and intervals
# over seeds (the paper states its phenomena from single runs without intervals): a change counts as
# "clear" only when the intervals of the compared points do not overlap, and a point's across-seed
# interval is widened to its runs' Wilson interval when the seeds agree more closely than test sampling allows.
def ablation_finding(name: str, summary) -> Findings:
    """What notebook 30-36's closing "What we saw" cell shows: the phenomenon the paper reports for
    ablation ``name`` (:data:`fcot.ablations.ABLATIONS`), judged from its ``summary``
    (:func:`fcot.ablations.ablation_summary`, or a CSV of it) by the rule stated in each row.

    * ``methods``: per task, Fine-tune-CoT vs vanilla, diverse reasoning (largest D) vs D=1, and the
      step-by-step multitask arm vs Fine-tune-CoT (not in the paper: described only);
    * ``degree``, ``data_size``, ``student_size`` (ordered by parameters), ``teacher_quality``:
      does accuracy rise along the axis (``yes`` / ``partly`` / ``no``); teacher quality also asks
      whether the student matches or beats an imperfect teacher;
    * ``filtering``: does the paper's choice, correct_only, beat keep_all;
    * ``rationale_length``: accuracy along the cap (no cut last; no paper claim, described).

    Each row says whether the change exceeds the uncertainty (``noise``: ``clear`` when the
    intervals of the first and last, or the two compared, points do not overlap) and flags
    single-seed points (``caveats``). Fewer than two points: ``one point so far`` / ``not measured``.
    """
    import pandas as pd

    try:
        kind = ablations.ablation_kind(name)  # methods-coin_flip is judged as methods
    except ValueError as error:
        raise ValueError(f"ablation_finding: {error}") from None
    if kind == "methods":
        absent = summary if isinstance(summary, str) else "no finished runs yet"
        # another main-table column's sweep (methods-coin_flip) runs the arms it names; the others get no row
        rows = _methods_rows(_summary_arms(summary), absent, ran_only=name != kind)
    else:
        rows = _ablation_rows(kind, summary, where=_where(name))
    return Findings(pd.DataFrame(rows, columns=FINDING_COLUMNS))


def findings(table, summaries: Mapping[str, Any]) -> Findings:
    """The paper's phenomena in this study (notebook 90's "What we saw"): the methods comparison,
    then every ablation of :data:`FINDING_ORDER` from ``summaries`` (``{name: summary or message}``,
    :func:`ablation_summaries`) judged exactly as its own notebook does (:func:`ablation_finding`),
    then whether the student matches or beats an imperfect teacher at the best point of any ablation.

    The methods comparison is judged from ``summaries["methods"]`` when given (exactly as notebook
    30 does), else from the main table (:func:`main_table`), whose cells carry no per-run interval:
    a cell whose seeds agree exactly then has an unknown uncertainty.
    """
    import pandas as pd

    methods = [s for n, s in summaries.items() if ablations.ablation_kind(n) == "methods"
               and isinstance(s, pd.DataFrame) and not s.empty]
    if methods:
        arms: dict[str, dict[str, Point]] = {}
        for summary in methods:
            arms.update(_summary_arms(summary))
        rows = _methods_rows(arms, "no finished runs yet")
    else:
        rows = _methods_rows(_table_arms(table), "no finished runs in the main table")
    for name in FINDING_ORDER:
        elsewhere = [(other, summary) for other, summary in summaries.items()
                     if other != name and ablations.ablation_kind(other) == name and name in _TRENDS]
        if not elsewhere or not isinstance(summaries.get(name), str):  # a trend swept only elsewhere: no base row
            rows += _ablation_rows(name, summaries.get(name))
        # the same trend swept around another point (degree-200_questions), right after the base point's
        rows += [row for other, summary in elsewhere for row in _ablation_rows(name, summary, where=_where(other))[:1]]
    points: list[Point] = []
    for name in FINDING_ORDER:
        found, _ = _axis_points(summaries.get(name), name)
        points += [dataclasses.replace(p, label=f"{name} {p.label}") for p in found]
    rows.append(_versus_teacher(f"{TEACHER_PHENOMENON} (best point of any ablation)", points,
                                "no ablation point with a teacher below 100% on the test questions"))
    return Findings(pd.DataFrame(rows, columns=FINDING_COLUMNS))



# ----------------------------------------------------------------------------------------------
# The README's Results section (generated: `python -m fcot results --write README.md`)
# ----------------------------------------------------------------------------------------------

RESULTS_BEGIN = "<!-- BEGIN results -->"
RESULTS_END = "<!-- END results -->"

# What the paper reports for each phenomenon: (prefix of the finding's phenomenon, the paper's words
# and numbers). Numbers are Table 1's GPT-3 6.7B students (fcot/resources/published_table1.csv);
# ablations without a number in the paper say what its figure shows.
_PAPER_CLAIMS: tuple[tuple[str, str], ...] = (
    ("Fine-tune-CoT beats vanilla", "yes: {column_claim} (Table 1)"),  # the column's task: see _COLUMN_PAPER_TASK
    ("diverse reasoning (D > 1) beats", "yes: last letter D=8 {ft_cot_diverse} vs D=1 {ft_cot} (Table 1)"),
    ("step-by-step multitask", "no claim (a later method, Hsieh et al. 2023; described only)"),
    ("accuracy rises with the diversity degree", "yes: rises with D up to 64 (Figure 3)"),
    ("accuracy rises with the number of training", "yes: rises with the data size (Figure 4)"),
    ("accuracy rises with the student's size", "yes: 0.3B -> 1.3B -> 6.7B students improve (Table 1, Figure 5)"),
    ("accuracy rises with the teacher's accuracy", "yes: better teachers give better students (Figure 6)"),
    ("the student matches or beats an imperfect teacher (teacher", "yes on some tasks, e.g. last letter D=8 "
                                                                   "{ft_cot_diverse} vs teacher {teacher} (Table 1)"),
    ("filtering wrong rationales helps", "filtering is the method's default; its ablation shows small effects "
                                         "(appendix)"),
    ("filtering helps at equal sample count", "the appendix compares at equal size (its control)"),
    ("accuracy rises with the rationale cap", "no claim (fcot's ablation: the paper never cuts rationales)"),
    ("the student matches or beats an imperfect teacher (best", "yes on some tasks (Table 1)"),
)


def hypotheses_of(study: str | None = None, root=None) -> dict[str, str]:
    """The hypotheses of ``study``'s profile (``{phenomenon's first words: text}``; None: the profile this process
    runs), with each ``{pretrained:<task>}`` filled with that column of the pretrained study's committed table
    (:func:`fcot.levels.column_evidence`). A study without a profile file has none. The texts hold no result of
    their own study: they are shown only where its verdict is not clear (:func:`unexplained`)."""
    from fcot import levels, study as runner  # levels imports this module; study (the runner) imports stages

    try:
        hypotheses = runner.load_profile(paths.profile_name(study)).hypotheses
    except runner.ProfileError:
        return {}
    return {prefix: re.sub(r"\{pretrained:([a-z_]+)\}", lambda m: levels.column_evidence(m.group(1), root=root),
                             text)
            for prefix, text in hypotheses.items()}


def _hypothesis(phenomenon: str, hypotheses: Mapping[str, str]) -> str:
    return next((text for prefix, text in hypotheses.items() if phenomenon.startswith(prefix)), "")


def unexplained(phenomenon: str, verdict: str, noise: str = "", hypotheses: Mapping[str, str] | None = None) -> bool:
    """Whether a finding needs its hypothesis beside it: a phenomenon the paper reports (or filtering, its default)
    that was measured here and does not show clearly, and for which ``hypotheses`` (default: the current profile's,
    :func:`hypotheses_of`) has one. The README's list and each notebook's "What we saw" use this one rule."""
    hypotheses = hypotheses_of() if hypotheses is None else hypotheses
    claimed = _paper_claim(phenomenon, None).startswith(("yes", "filtering"))
    measured = verdict not in ("not measured", "one point so far")
    return claimed and measured and not _shows_clearly(verdict, noise) and bool(_hypothesis(phenomenon, hypotheses))


# The paper's Table 1 task whose Fine-tune-CoT and vanilla numbers stand beside a main-table column: the real task a
# synthetic family imitates (fcot's arithmetic family has no original; MultiArith is the paper's task of its form:
# short integer word problems of two operations).
_COLUMN_PAPER_TASK = {"synth_last_letter": "last_letter_concatenation", "synth_coin_flip": "coin_flip",
                      "synth_shuffled_objects": "tracking_shuffled_objects", "synth_arithmetic": "multiarith"}
_PAPER_TASK_WORDS = {"last_letter_concatenation": "last letter", "coin_flip": "coin flip",
                     "tracking_shuffled_objects": "shuffled objects", "multiarith": "MultiArith"}


def _phenomenon_column(phenomenon: str) -> str:
    """The main-table column a methods phenomenon names: ``(coin_flip: real test split ...)`` -> ``coin_flip``,
    ``(synth_last_letter; no claim ...)`` -> ``synth_last_letter``; "" when it names none."""
    import re

    found = re.search(r"\((\w+)[:;)]", phenomenon)
    return found.group(1) if found else ""


def _column_claim(phenomenon: str) -> str:
    """The paper's Fine-tune-CoT vs vanilla numbers on the column's task, as placeholders :func:`_paper_claim` fills
    from the published table, e.g. ``coin flip {ft_cot:coin_flip} vs {vanilla:coin_flip}``."""
    column = _phenomenon_column(phenomenon)
    task = _COLUMN_PAPER_TASK.get(column, column) if column else "last_letter_concatenation"
    words = _PAPER_TASK_WORDS.get(task, task)
    if column == "synth_arithmetic":
        words += " (the paper's task of this form; fcot's family has no original)"
    return f"{words} {{ft_cot:{task}}} vs {{vanilla:{task}}}"


def _published_accuracy(published, method: str, task: str) -> float | None:
    """The paper's accuracy (percent) of ``method`` on ``task`` in the published table; None when it has none."""
    if published is None:
        return None
    rows = published[(published["method"] == method) & (published["task"] == task)]
    return float(rows["accuracy"].iloc[0]) if len(rows) else None


def _shows_clearly(verdict: str, noise: str) -> bool:
    """A phenomenon shows clearly: the verdict is yes and the intervals separate."""
    return verdict == "yes" and noise == "clear"


def _paper_claim(phenomenon: str, published) -> str:
    import re

    for prefix, text in _PAPER_CLAIMS:
        if phenomenon.startswith(prefix):
            text = text.replace("{column_claim}", _column_claim(phenomenon))

            def number(match) -> str:
                value = _published_accuracy(published, match.group(1), match.group(2) or "last_letter_concatenation")
                return "?" if value is None else f"{value:.1f}%"

            return re.sub(r"\{(\w+)(?::(\w+))?\}", number, text)
    return "—"


def _notebook_of(phenomenon: str, recorded: Sequence[str] = ()) -> str:
    """The executed notebook that backs a phenomenon's row; a methods row of another column than the base's links
    that column's sweep (``methods-<column>``, when ``recorded`` has it)."""
    import re

    if phenomenon.startswith(("Fine-tune-CoT beats", "diverse reasoning (D > 1)", "step-by-step")):
        column = _phenomenon_column(phenomenon)
        methods = steps.sweep_notebook("methods")
        return f"{methods}-{column}" if f"methods-{column}" in recorded else methods
    keys = {"diversity degree": "degree", "training questions": "data_size", "student's size": "student_size",
            "teacher's accuracy": "teacher_quality", "teacher-quality": "teacher_quality", "filtering": "filtering",
            "rationale cap": "rationale_length"}
    for words, name in keys.items():
        if words in phenomenon:
            where = re.search(r"\(at ([\w ]+)\)$", phenomenon)  # the same trend around another point
            return steps.sweep_notebook(name) + (f"-{where.group(1).replace(' ', '_')}" if where else "")
    return steps.FIGURES


_DIFFICULTY_UNITS = {"synth_last_letter": "words", "synth_coin_flip": "people", "synth_shuffled_objects": "objects",
                     "synth_arithmetic": "operations"}


def _percent(value: Any) -> str:
    return f"{100 * float(value):.1f}%"


def describe_design(config) -> str:
    """One phrase for an experiment configuration's data and teacher, e.g. ``600 generated questions (4 people) in
    coin_flip's format, the rule-based teacher simulator at 91.4%, tested on the real coin_flip test split``."""
    from fcot.data import REAL_TASK

    task = config.task
    if config.is_synthetic:
        unit = _DIFFICULTY_UNITS.get(task, "difficulty")
        what = f"{config.n_train} generated questions ({config.resolved_difficulty} {unit})"
        what += f" in {REAL_TASK[task]}'s format" if task in REAL_TASK else ""
    else:
        what = f"{config.n_train or 'all'} {task} training questions"
    if config.teacher == "simulated":
        teacher = f"the rule-based teacher simulator at {_percent(config.resolved_teacher_accuracy)}"
    else:
        teacher = {"replay": "the recorded text-davinci-002 rationales"}.get(config.teacher, f"teacher {config.teacher}")
    if config.test_split == "real":
        test = f"tested on the real {REAL_TASK[task]} test split"
    elif config.is_synthetic:
        test = f"tested on {config.n_test} generated questions"
    else:
        test = "tested on its official test split"
    return f"{what}, {teacher}, {config.student}, {test}"


def _walkthrough_sentence(study: str, root=None) -> str:
    """What the stage walk-through's students scored (notebooks 20-21: the evaluation runs named ``walkthrough-<method>``
    by the default profile)."""
    from fcot.runs import Run

    scores, design, twins = [], "", []
    for manifest in sorted((paths.results_dir(root) / study / "runs" / "evaluation").glob("*/manifest.json")):
        run = Run.load(manifest.parent)
        if not run.finished or not run.name.startswith("walkthrough-"):
            continue
        method = run.name.rsplit("-", 1)[1]
        metrics = run.metrics
        scores.append(f"{method} {_percent(metrics['accuracy'])} [{_percent(metrics['low'])}, {_percent(metrics['high'])}]"
                      f" of {metrics.get('test_questions', '?')}")
        data = stages.data_of(run)
        twins.append(_column_twin(study, root, data, method, stages.upstream_of(run), metrics["accuracy"], run.hash))
        if data.test_split == "real":
            design = f"{data.n_train} generated questions in the real task's format, tested on the real test split"
        else:
            design = f"{data.task}, {data.n_train or 'all'} training questions"
    if not scores:
        return ""
    twin = ""
    if twins and all(twins) and len(set(twins)) == 1:
        twin = f" These are the same runs as {twins[0]}: one computation, recorded under both names."
    return (f"The stage walk-through (notebooks 10-21, one seed; {design}) scores {'; '.join(scores)} test questions."
            f"{twin} Notebook 40 reads its student's errors beside the recorded text-davinci-002 on the same "
            "questions.")


def _column_twin(study: str, root, data, method: str, student, accuracy: float, evaluation_hash: str) -> str:
    """``student seed 0 of the main-table column `coin_flip```: the experiment of ``study`` with the walk-through run's data,
    method and student seed whose evaluation is the same run (its hash: the same configuration and upstream runs,
    :func:`fcot.stages.upstream_key`) and scored exactly ``accuracy`` too; "" when there is none."""
    from fcot.experiments import collect_experiments
    from fcot.runs import Run

    if student is None:
        return ""
    frame = collect_experiments(root, study=study, where={
        "task": data.task, "difficulty": data.difficulty, "n_train": data.n_train, "n_val": data.n_val,
        "n_test": data.n_test, "data_seed": data.data_seed, "test_split": data.test_split, "method": method,
        "seed": student.seed})
    same = [path for path, score in zip(frame.get("run_path", []), frame.get("accuracy", []))
            if score == accuracy and str(Run.load(path).metrics.get("stage_runs", {}).get("evaluation", ""))
            .endswith(f"-{evaluation_hash}")]
    if not same:
        return ""
    return f"student seed {student.seed} of the main-table column `{column_task(data.task, data.test_split)}`"


@dataclass(frozen=True)
class Column:
    """One main-table column's Fine-tune-CoT and vanilla points, with the paper's pair on its task (percent)."""

    task: str  # the column, e.g. ``coin_flip`` (a real test split) or ``synth_last_letter``
    real: bool  # tested on the real task's official test split
    ft: Point
    vanilla: Point
    paper: tuple[float, float] | None
    paper_task: str

    @property
    def where(self) -> str:
        """``the real `coin_flip` test split`` / ```synth_last_letter```."""
        return f"the real `{self.task}` test split" if self.real else f"`{self.task}`"

    @property
    def verdict(self) -> str:
        return column_verdict(self.ft, self.vanilla)


def column_verdict(ft: Point, vanilla: Point) -> str:
    """Fine-tune-CoT vs vanilla in one column, in the data's direction: ``above`` / ``below`` when the intervals
    separate, ``tie`` for equal means, ``within noise (above)`` / ``within noise (below)`` when they overlap, and
    ``above (uncertainty unknown)`` / ``below (...)`` without an interval. A difference within noise is never
    ``above`` alone."""
    if abs(ft.mean - vanilla.mean) < 1e-12:
        return "tie"
    direction = "above" if ft.mean > vanilla.mean else "below"
    noise = _separation(ft, vanilla)
    if noise == "clear":
        return direction
    return f"within noise ({direction})" if noise == "within noise" else f"{direction} ({noise})"


def main_columns(summaries: Mapping[str, Any], published) -> list[Column]:
    """The main-table columns of the recorded methods sweeps that have both a Fine-tune-CoT and a vanilla point."""
    import pandas as pd

    columns = []
    for name, summary in summaries.items():
        if ablations.ablation_kind(name) != "methods" or not isinstance(summary, pd.DataFrame) or summary.empty:
            continue
        for column, arms in _summary_arms(summary).items():
            ft, vanilla = arms.get("ft_cot"), arms.get("vanilla")
            if ft is None or vanilla is None:
                continue
            task = column.split(":", 1)[0]
            paper_task = _COLUMN_PAPER_TASK.get(task, task)
            found = [_published_accuracy(published, m, paper_task) for m in ("ft_cot", "vanilla")]
            paper = (found[0], found[1]) if None not in found else None
            columns.append(Column(task, task != column, ft, vanilla, paper, paper_task))
    return columns


def _seeds_each(columns: Sequence[Column]) -> str:
    """``3 seeds each`` when every point has the same number of seeds, else ""."""
    seeds = {p.runs for c in columns for p in (c.ft, c.vanilla)}
    return f"{seeds.pop()} seeds each" if len(seeds) == 1 and None not in seeds else ""


# The headline's sentences, one per verdict (in this order); a verdict not listed gets the last, generic one.
_HEADLINE_SENTENCES: tuple[tuple[str, str], ...] = (
    ("above", "Fine-tune-CoT is clearly above vanilla fine-tuning on {columns}."),
    ("within noise (above)", "Fine-tune-CoT is above vanilla fine-tuning only within noise on {columns}."),
    ("tie", "Fine-tune-CoT ties with vanilla fine-tuning on {columns}."),
    ("within noise (below)", "Fine-tune-CoT is below vanilla fine-tuning, within noise, on {columns}."),
    ("below", "Fine-tune-CoT is clearly below vanilla fine-tuning on {columns}."),
    ("", "Fine-tune-CoT is {verdict} vanilla fine-tuning on {columns}."),
)


def _headline_sentence(summaries: Mapping[str, Any], published) -> str:
    """The Results block's headline: per main-table column, where Fine-tune-CoT lies relative to vanilla fine-tuning
    (above / below when the intervals separate, tie, or within noise with its direction: :func:`column_verdict`),
    one short sentence per verdict, then on how many of those columns' tasks the paper finds it above."""
    columns = main_columns(summaries, published)
    if not columns:
        return ""
    by_verdict: dict[str, list[str]] = {}
    for column in columns:
        by_verdict.setdefault(column.verdict, []).append(column.where)
    each = _seeds_each(columns)
    sentences = [f"**Headline** ({each + '; ' if each else ''}the numbers, with 95% intervals, are in the table of "
                 "fcot's tiny students at the top of this README, after the pretrained student's)."]
    known = [verdict for verdict, _ in _HEADLINE_SENTENCES if verdict]
    for verdict, template in _HEADLINE_SENTENCES[:-1]:
        if verdict in by_verdict:
            sentences.append(template.format(columns=_and(by_verdict[verdict])))
    for verdict, wheres in by_verdict.items():
        if verdict not in known:
            sentences.append(_HEADLINE_SENTENCES[-1][1].format(verdict=verdict, columns=_and(wheres)))
    papers = [c for c in columns if c.paper is not None]
    if papers:
        above = sum(c.paper[0] > c.paper[1] for c in papers)
        sentences.append(f"The paper's 6.7B GPT-3 students put Fine-tune-CoT above vanilla on the task of {above} "
                         f"of these {len(papers)} columns (Table 1).")
    return " ".join(sentences)


SUMMARY_BEGIN = "<!-- BEGIN summary -->"
SUMMARY_END = "<!-- END summary -->"
#: The pretrained students' results (fcot.levels writes them): the README's first result block, before the summary.
PRETRAINED_BEGIN = "<!-- BEGIN pretrained-results -->"
PRETRAINED_END = "<!-- END pretrained-results -->"


def summary_block(study: str = "default", root=None) -> str:
    """The README's default-study result table (after the pretrained block): one row per main-table column of ``study``'s recorded methods sweeps,
    fcot's Fine-tune-CoT vs vanilla (mean and 95% interval), the paper's pair on the column's task and the verdict
    word (:func:`column_verdict`). Written with the Results block by ``python -m fcot results --write README.md``."""
    summaries = ablation_summaries(study, names=list(ablations.ABLATIONS), root=root)
    published = load_published(Path(__file__).parent / "resources" / "published_table1.csv")
    columns = main_columns(summaries, published)
    if not columns:
        return f"No main-table column of the `{study}` profile is recorded yet: run `make reproduce`, then `make notes`."
    each = _seeds_each(columns)
    lines = [
        f"**What it finds.** Test accuracy of Fine-tune-CoT vs vanilla fine-tuning, per main-table column: fcot's tiny "
        f"students ({each + ', ' if each else ''}95% intervals) beside the paper's 6.7B GPT-3 students.",
        "",
        "| column | fcot: Fine-tune-CoT vs vanilla | paper: Fine-tune-CoT vs vanilla | fcot's verdict |",
        "| --- | --- | --- | --- |",
    ]
    for column in columns:
        label = f"`{column.task}` ({'real test split' if column.real else 'generated questions'})"
        words = _PAPER_TASK_WORDS.get(column.paper_task, column.paper_task)
        paper = f"{column.paper[0]:.1f}% vs {column.paper[1]:.1f}% ({words})" if column.paper else "—"
        lines.append(f"| {label} | {column.ft.interval()} vs {column.vanilla.interval()} | {paper} | "
                     f"**{column.verdict}** |")
    lines += [
        "",
        "Verdict: above or below = the intervals separate; within noise = they overlap (direction in brackets); tie = "
        f"equal means. Generated from `results/{study}` by `make notes`; the phenomena and ablations: "
        "[Results](#results).",
    ]
    return "\n".join(lines)


def _and(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _design_sentences(study: str, root=None) -> str:
    """Where the main table's student rows and the ablations come from, from the recorded sweep configurations."""
    parts, base, moved = [], None, []
    recorded = ablations.recorded_ablations(study, root)
    for name in recorded:
        kind = ablations.ablation_kind(name)
        record = ablations.load_ablation(name, study, root)
        config = record["config"]
        if kind == "methods":
            parts.append(f"main-table column `{column_task(config.task, config.test_split)}`: {describe_design(config)}")
        elif name == kind:  # the base point is the design every ablation has among its points
            designs = _point_designs(kind, config, record["summary"])
            base = designs if base is None else {k: v for k, v in base.items() if k in designs}
        elif kind not in recorded:
            moved.append(f"the {kind.replace('_', ' ')} sweep runs at {_where(name)} instead")
    if base:
        parts.append(f"the ablations (notebooks 31-36) vary one thing around {next(iter(base))}"
                     + (f" ({'; '.join(moved)})" if moved else ""))
    if not parts:
        return ""
    return "\n".join(["**Where the numbers come from.** Intervals in the table are 95%: the t interval over seeds, "
                      "widened where needed to the mean per-run Wilson interval of the test questions. The summary "
                      "tables and the reproduction check print the t interval alone.", "",
                      *(f"- {part[0].upper()}{part[1:]}." for part in parts)])


def _point_designs(kind: str, config, summary) -> dict[str, Any]:
    """``{describe_design(point): point}`` for the points of a recorded ablation whose varied field the design
    phrase names (questions, teacher accuracy, student); the recorded configuration alone for the others."""
    import pandas as pd

    axis = ablations.ABLATIONS[kind].vary[0]
    cast = {"n_train": int, "teacher_accuracy": float, "student": str}.get(axis)
    if cast is None or not isinstance(summary, pd.DataFrame) or axis not in summary:
        return {describe_design(config): config}
    points = [config.replace(**{axis: cast(value)}) for value in summary[axis].dropna()]
    return {describe_design(point): point for point in points}


def results_block(study: str = "default", root=None) -> str:
    """The README's Results block: three generated sentences (the headline, the phenomena counted, what the students
    are), the main figure, and one row per phenomenon: the paper's claim and number, fcot's numbers with intervals,
    the computed verdict and the executed notebook that backs it; then a hypothesis for each phenomenon that does not
    show clearly, and where the numbers come from. Computed from ``study``'s recorded runs."""
    summaries = ablation_summaries(study, names=list(ablations.ABLATIONS), root=root)
    table = findings(None, summaries).table
    published = load_published(Path(__file__).parent / "resources" / "published_table1.csv")
    folder = f"results/{study}"
    claimed = [row for row in table.itertuples() if _paper_claim(row.phenomenon, published).startswith("yes")]
    lines = [
        f"Generated from the `{study}` profile's runs by `python -m fcot results --write README.md` (`make notes`).",
        "",
        _headline_sentence(summaries, published),
        "",
        counted_sentence([(row.verdict, row.noise) for row in claimed])
        + f" The table's other {len(table) - len(claimed)} rows are fcot's own checks; each row links the executed "
        "notebook behind it. fcot's students are tiny GPT-2 models (0.2-2M parameters) trained from scratch on the CPU. "
        "The paper's are pretrained GPT-3 models of 0.3-6.7B, fine-tuned on text-davinci-002's rationales: compare "
        "directions, not levels.",
        "",
        f"![The main table: test accuracy of each method per column, with the teacher and random guessing]"
        f"({folder}/figures/main_table.png)",
        "",
        "| phenomenon | paper (GPT-3 students) | fcot (tiny students) | verdict | notebook |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in table.itertuples():
        notebook = _notebook_of(row.phenomenon, list(summaries))
        verdict = f"**{row.verdict}**" + (f", {row.noise}" if row.noise else "")
        evidence = str(row.evidence).replace("|", "/")
        lines.append(f"| {row.phenomenon} | {_paper_claim(row.phenomenon, published)} | {evidence} | {verdict} | "
                     f"[{notebook}]({folder}/notebooks/{notebook}.ipynb) |")
    hypotheses = hypotheses_of(study, root)
    unclear = [row for row in table.itertuples() if unexplained(row.phenomenon, row.verdict, row.noise, hypotheses)]
    if unclear:
        lines += ["", "Where a phenomenon of the paper does not show clearly here (listed from the verdicts above), "
                      "a hypothesis and the run that would test it:", ""]
        lines += [f"- *{row.phenomenon}* ({row.verdict}{', ' + row.noise if row.noise else ''}). Hypothesis: "
                  f"{_hypothesis(row.phenomenon, hypotheses)}" for row in unclear]
    design = _design_sentences(study, root)
    if design:
        lines += ["", design]
    walkthrough = _walkthrough_sentence(study, root)
    lines += ["", f"{walkthrough + ' ' if walkthrough else ''}The executed notebooks are in "
                  f"[`{folder}/notebooks`]({folder}/notebooks)."]
    return "\n".join(lines)


def tally(verdicts: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Count ``(verdict, noise)`` pairs of phenomena the paper reports by what the data shows. ``clear``: yes and the
    intervals separate (the phenomenon shows). Within noise, counted apart by direction: ``noise_yes`` (the paper's
    direction), ``noise_no`` (against it), ``noise_tie``, ``noise_partly``. ``reversed``: no, and the intervals
    separate the other way. ``partly``: partly, clear. ``undecided``: no interval, fewer than two points, not
    measured."""
    counts = dict.fromkeys(("clear", "noise_yes", "noise_no", "noise_tie", "noise_partly", "reversed", "partly",
                            "undecided"), 0)
    for verdict, noise in verdicts:
        if noise == "within noise" and verdict in ("yes", "no", "tie", "partly"):
            counts[f"noise_{verdict}"] += 1
        elif noise == "clear" and verdict in ("yes", "no", "partly"):
            counts[{"yes": "clear", "no": "reversed", "partly": "partly"}[verdict]] += 1
        else:
            counts["undecided"] += 1
    return counts


def counted_sentence(verdicts: Sequence[tuple[str, str]]) -> str:
    """``Of the 11 phenomena the paper reports, 6 show clearly here (the intervals separate), 5 are within noise (2 in
    the paper's direction, 2 against it, 1 tie).``: a difference within noise is never counted as showing; a count of
    zero is left out."""
    counts = tally(verdicts)

    def are(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    parts = []
    if counts["clear"]:
        parts.append(are(counts["clear"], "shows", "show") + " clearly here (the intervals separate)")
    noise = sum(v for k, v in counts.items() if k.startswith("noise_"))
    if noise:
        kinds = [(counts["noise_yes"], "in the paper's direction"), (counts["noise_no"], "against it"),
                 (counts["noise_tie"], "tie" if counts["noise_tie"] == 1 else "ties"),
                 (counts["noise_partly"], "partly in its direction")]
        detail = ", ".join(f"{n} {words}" for n, words in kinds if n)
        parts.append(are(noise, "is", "are") + f" within noise ({detail})")
    if counts["reversed"]:
        parts.append(are(counts["reversed"], "is", "are") + " clearly reversed (the intervals separate the other way)")
    if counts["partly"]:
        parts.append(are(counts["partly"], "shows", "show") + " partly")
    if counts["undecided"]:
        parts.append(are(counts["undecided"], "is", "are") + " undecided (no interval, or fewer than two points)")
    if not parts:
        return "The paper reports no phenomenon measured here yet."
    return f"Of the {len(verdicts)} phenomena the paper reports, {_and(parts)}."


def write_results_block(readme: str | os.PathLike, study: str = "default", root=None) -> bool:
    """Write :func:`results_block` between the README's results markers, and :func:`summary_block` (the default
    study's result table) between its summary markers when the README has them; True when either changed."""
    changed = paths.write_between_markers(readme, RESULTS_BEGIN, RESULTS_END, results_block(study, root=root))
    if SUMMARY_BEGIN in Path(readme).read_text(encoding="utf-8"):
        changed |= paths.write_between_markers(readme, SUMMARY_BEGIN, SUMMARY_END, summary_block(study, root=root))
    from fcot import levels, reproduction

    changed |= reproduction.write_cost_block(readme, study, root=root)  # what a fresh clone computes, and its cost
    changed |= levels.write_levels_block(readme, root=root)  # the pretrained study's table, where it has run
    return changed
