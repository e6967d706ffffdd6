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
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from fcot import ablations, evaluate, experiments, paths, plots, recorded, synthetic, tasks
from fcot import tasks as task_registry
from fcot.data import REAL_TASK
from fcot.runs import Run, publish

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
#: The paper's Table 1 as fcot ships it (the ``paper`` profile's published numbers; :func:`load_published`).
PUBLISHED_TABLE1 = Path(__file__).parent.parent / "resources" / "published_table1.csv"
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


def is_blank(value: Any) -> bool:
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
    return None if is_blank(value) else value


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
    return REAL_TASK.get(task, task) if not is_blank(test_split) and test_split == "real" else task


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
        return "ft_cot" if is_blank(degree) or int(degree) <= 1 else "ft_cot_diverse"
    if method in ("vanilla", "multitask"):
        return method
    return None


# ----------------------------------------------------------------------------------------------
# Baseline rows
# ----------------------------------------------------------------------------------------------


def random_accuracy(task: str, difficulty: Any = None) -> float:
    """Expected accuracy of uniform random guessing on the test questions of ``task``
    (:func:`fcot.evaluate.random_baseline`; synthetic tasks: on 200 generated questions)."""
    if task.startswith("synth_"):
        examples = synthetic.generate_examples(task, 200, None if is_blank(difficulty) else int(difficulty))
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
    if is_blank(mean):
        return ""
    text = f"{100 * float(mean):.1f}"
    if not is_blank(low) and not is_blank(high):
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
