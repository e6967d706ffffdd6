"""``make verify``: re-score the stored predictions and check they reproduce the stored metrics and tables.

Nothing is trained or generated again. What is recomputed is everything *downstream* of the
students' generated text, from the files on disk:

* :func:`verify_runs` -- every finished run of kind ``experiment`` (``fcot.experiments``) and
  ``evaluation`` (notebook 21, ``fcot.stages.evaluate``) under
  ``results_dir()/<study>/runs``: the config rebuilds the run's key, the test questions are regenerated,
  every stored completion is re-parsed (``fcot.evaluate.default_parser`` of the run's format,
  ``fcot.answers.is_correct``), and the re-scored predictions, correct count, accuracy and
  interval must equal what the run recorded;
* :func:`verify_tables` -- the study's main table and ablation tables are recomputed exactly as
  the figures notebook (:data:`fcot.steps.FIGURES`) computes them (the same ``fcot.report`` calls, with the
  settings recorded by its report run) and compared numerically with the published
  ``results_dir()/<study>/tables/*.csv``.

Every check is one :class:`Check`; a run or table that cannot be checked is reported as a check
whose detail starts with ``not checked:`` (and why), never skipped silently.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from fcot import ablations, answers, data, evaluate, experiments, paths, report, steps, tasks
from fcot.experiments import ExperimentConfig
from fcot.records import read_jsonl
from fcot.runs import read_metrics

__all__ = ["Check", "NOT_CHECKED", "verify", "verify_runs", "verify_tables", "format_checks"]

NOT_CHECKED = "not checked: "
ACCURACY_TOLERANCE = 1e-12  # re-scored accuracy and interval vs metrics.json
TABLE_TOLERANCE = 1e-9  # recomputed tables vs the published CSVs
MAX_LISTED = 5  # mismatching rows named in one check's detail
# Notebook 90's parameter defaults (used when no report run of the study recorded its settings).
REPORT_DEFAULTS: dict[str, Any] = {"recorded_teacher": True, "confidence": 0.95}
MAIN_KEY = ("method", "task")


@dataclass(frozen=True)
class Check:
    """One verification: ``what`` was checked, the file or folder it concerns, whether it passed,
    and a one-line ``detail`` (what matched, or the first mismatches)."""

    what: str
    path: str
    ok: bool
    detail: str

    @property
    def checked(self) -> bool:
        """False for an explicit "not checked (why)" entry."""
        return not self.detail.startswith(NOT_CHECKED)

    def line(self) -> str:
        status = "OK  " if self.ok else "FAIL"
        return f"{status} {self.what}: {self.detail} ({self.path})"


def _not_checked(what: str, path: Any, why: str) -> Check:
    return Check(what, str(path), True, NOT_CHECKED + why)


# ----------------------------------------------------------------------------------------------
# Runs
# ----------------------------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _read_predictions(path: Path) -> list[dict]:
    return list(read_jsonl(path))


def _close(a: Any, b: Any, tolerance: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return False
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))


def _listed(items: Sequence[str]) -> str:
    shown = "; ".join(items[:MAX_LISTED])
    return shown + (f"; ... {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _experiment_config(stored: Mapping[str, Any]):
    """The :class:`fcot.experiments.ExperimentConfig` of a run's canonical config.json (the nested
    ``train`` dict and the None-blanked fields -- a vanilla run's teacher settings -- fall back to
    the defaults, which :meth:`~fcot.experiments.ExperimentConfig.canonical` blanks again)."""
    values = {k: v for k, v in stored.items() if k != "train" and v is not None}
    return ExperimentConfig.from_parameters(values)


def _rescore_rows(rows: Sequence[dict], examples: Sequence, parse: Callable, label: str) -> tuple[list[bool], list[str]]:
    """Re-parse every row's completion against its example; returns (re-scored correct, mismatches)."""
    correct: list[bool] = []
    problems: list[str] = []
    for number, (row, example) in enumerate(zip(rows, examples), start=1):
        where = f"{label} line {number} example {row.get('example_id')!r}"
        if str(row.get("example_id")) != str(example.id):
            problems.append(f"{where}: expected example {example.id!r} (the regenerated test questions)")
            correct.append(False)
            continue
        if "completions" in row and "votes" in row:  # self-consistency: majority vote of the parsed samples
            votes = [parse(text, example) for text in row["completions"]]
            prediction = evaluate.majority_vote(votes)
        else:
            prediction = parse(row.get("completion") or "", example)
        ok = answers.is_correct(prediction, example)
        correct.append(ok)
        if prediction != row.get("prediction"):
            problems.append(f"{where}: prediction {row.get('prediction')!r} stored, {prediction!r} re-parsed")
        if bool(row.get("correct")) != ok or not isinstance(row.get("correct"), bool):
            problems.append(f"{where}: correct={row.get('correct')!r} stored, {ok} re-scored")
        if "gold" in row and str(row["gold"]) != str(example.answer):
            problems.append(f"{where}: gold {row['gold']!r} stored, {example.answer!r} in the task data")
    return correct, problems


def _score_checks(name: str, folder: Path, correct: list[bool], metrics: Mapping[str, Any], *,
                  count_key: str | None, interval: str, confidence: float) -> list[Check]:
    checks = []
    n = len(correct)
    hits = sum(correct)
    accuracy = hits / n if n else float("nan")
    metrics_file = str(folder / "metrics.json")
    stored_n = metrics.get("test_questions", metrics.get("n"))
    count_ok = stored_n == n and (count_key is None or metrics.get(count_key) == hits)
    stored_count = f", {count_key}={metrics.get(count_key)!r}" if count_key else ""
    checks.append(Check(f"{name}: counts", metrics_file, count_ok,
                        f"re-scored {hits}/{n} correct; metrics.json n={stored_n!r}{stored_count}"))
    checks.append(Check(f"{name}: accuracy", metrics_file, _close(accuracy, metrics.get("accuracy"), ACCURACY_TOLERANCE),
                        f"re-scored {accuracy!r}, metrics.json {metrics.get('accuracy')!r}"))
    if n:
        low, high = evaluate.accuracy_interval(correct, interval, confidence)
        ok = _close(low, metrics.get("low"), ACCURACY_TOLERANCE) and _close(high, metrics.get("high"), ACCURACY_TOLERANCE)
        checks.append(Check(f"{name}: {interval} interval", metrics_file, ok,
                            f"re-scored [{low!r}, {high!r}], metrics.json [{metrics.get('low')!r}, {metrics.get('high')!r}]"))
    return checks


DATA_FIELDS = ("task", "difficulty", "n_train", "n_val", "n_test", "data_seed")  # what fixes the test questions


def _verify_experiment(folder: Path, manifest: Mapping[str, Any], examples_cache: dict | None = None) -> list[Check]:
    name = f"experiment {folder.name}"
    try:
        stored = _read_json(folder / "config.json")
        metrics = read_metrics(folder)
        config = _experiment_config(stored)
    except (OSError, ValueError, TypeError) as error:
        return [Check(f"{name}: config", str(folder), False, f"cannot rebuild the experiment config: {error}")]
    checks = [Check(f"{name}: config", str(folder / "config.json"), config.key() == manifest.get("config_hash"),
                    f"the rebuilt config's key {config.key()} vs the run's {manifest.get('config_hash')}")]
    predictions_file = folder / "predictions.jsonl"
    if not predictions_file.is_file():
        return checks + [Check(f"{name}: predictions", str(predictions_file), False, "missing (a finished run writes it)")]
    try:
        data_key = tuple(getattr(config, f) for f in DATA_FIELDS)
        cache = examples_cache if examples_cache is not None else {}
        if data_key not in cache:
            cache[data_key] = experiments.experiment_examples(config)[2]
        test = cache[data_key]
    except Exception as error:  # noqa: BLE001 - data unavailable or changed: say so, do not crash the report
        return checks + [Check(f"{name}: test questions", str(folder), False,
                               f"cannot regenerate the test questions: {type(error).__name__}: {error}")]
    rows = _read_predictions(predictions_file)
    correct, problems = _rescore_rows(rows, test, evaluate.default_parser(config.method), "predictions.jsonl")
    if len(rows) != len(test):
        problems.insert(0, f"{len(rows)} rows stored, {len(test)} test questions regenerated")
    checks.append(Check(f"{name}: predictions", str(predictions_file), not problems,
                        _listed(problems) if problems else
                        f"{len(rows)} completions re-parsed ({config.method}): predictions and correct match"))
    checks += _score_checks(name, folder, correct, metrics, count_key="correct",
                            interval=metrics.get("interval_method") or "wilson",
                            confidence=float(metrics.get("confidence") or 0.95))
    return checks


def _verify_evaluation(folder: Path) -> list[Check]:
    name = f"evaluation {folder.name}"
    try:
        config = _read_json(folder / "config.json")
        metrics = read_metrics(folder)
    except (OSError, ValueError) as error:
        return [Check(f"{name}: files", str(folder), False, f"cannot read config.json/metrics.json: {error}")]
    staged = isinstance(config.get("data"), dict)  # fcot.stages.evaluate: the chain's DataConfig and method
    task = config["data"].get("task") if staged else config.get("task")
    fmt = config.get("method") if staged else config.get("fmt")
    predictions_file = folder / "predictions.jsonl"
    if not staged and task not in tasks.task_names():
        return [_not_checked(name, folder, f"task {task!r} is not a real task whose examples can be reloaded by id")]
    if fmt not in evaluate.EVAL_FORMATS:
        return [_not_checked(name, folder, f"format {fmt!r} is not one of {', '.join(evaluate.EVAL_FORMATS)}")]
    if not predictions_file.is_file():
        return [Check(f"{name}: predictions", str(predictions_file), False, "missing (a recorded evaluation writes it)")]
    rows = _read_predictions(predictions_file)
    if rows and not all("completion" in row or "completions" in row for row in rows):
        return [_not_checked(name, predictions_file, "its rows hold no completion text to re-parse")]
    try:
        if staged:
            by_id = {e.id: e for e in data.examples(data.DataConfig.from_mapping(config["data"])).test}
        else:
            by_id = {e.id: e for e in tasks.load_examples(task, part="test")}
    except Exception as error:  # noqa: BLE001 - data unavailable: report it
        return [Check(f"{name}: examples", str(folder), False, f"cannot load the {task} test examples: {error}")]
    missing = [str(row.get("example_id")) for row in rows if str(row.get("example_id")) not in by_id]
    if missing:
        return [Check(f"{name}: predictions", str(predictions_file), False,
                      f"example ids not in the {task} test split: {_listed(missing)}")]
    examples = [by_id[str(row.get("example_id"))] for row in rows]
    correct, problems = _rescore_rows(rows, examples, evaluate.default_parser(fmt), "predictions.jsonl")
    checks = [Check(f"{name}: predictions", str(predictions_file), not problems,
                    _listed(problems) if problems else f"{len(rows)} completions re-parsed ({fmt}): predictions and correct match")]
    checks += _score_checks(name, folder, correct, metrics, count_key=None,
                            interval=metrics.get("interval_method") or "wilson",
                            confidence=float(metrics.get("confidence") or 0.95))
    return checks


def verify_runs(root: str | os.PathLike | None = None, study: str | None = None) -> list[Check]:
    """Re-score every finished ``experiment`` and ``evaluation`` run of profile ``study`` (its
    ``results_dir(root)/<study>/runs``).

    Per experiment run: the config.json rebuilds the run's key; each stored prediction and its
    ``correct`` equal the re-parsed ones on the regenerated test questions; the correct count
    (exact), accuracy and interval (1e-12) equal metrics.json. Evaluation runs (notebook 21) are
    re-scored against the task's test examples by ``example_id``. Unfinished runs are reported as
    not checked.
    """
    base = paths.profile_runs(study, root)
    checks: list[Check] = []
    examples_cache: dict = {}  # test questions per data configuration (seeds and methods share them)
    verifiers = (("experiment", lambda folder, manifest: _verify_experiment(folder, manifest, examples_cache)),
                 ("evaluation", lambda folder, _: _verify_evaluation(folder)))
    for kind, verify_one in verifiers:
        for manifest_file in sorted((base / kind).glob("*/manifest.json")) if (base / kind).is_dir() else []:
            folder = manifest_file.parent
            try:
                manifest = _read_json(manifest_file)
            except (OSError, ValueError) as error:
                checks.append(Check(f"{kind} {folder.name}", str(manifest_file), False, f"unreadable manifest: {error}"))
                continue
            if manifest.get("status") != "finished":
                checks.append(_not_checked(f"{kind} {folder.name}", folder,
                                           f"status {manifest.get('status')!r} (only finished runs are verified)"))
                continue
            checks.extend(verify_one(folder, manifest))
    if not checks:
        checks.append(_not_checked("runs", base, "no experiment or evaluation runs found"))
    return checks


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------


def report_settings(study: str, root: str | os.PathLike | None = None) -> tuple[dict, str]:
    """Notebook 90's settings for ``study``: from the config.json of its report run
    (``runs/report/<study>-*``; the one whose main_table.csv equals the published one, else the
    most recently written), else notebook 90's defaults. Returns ``(settings, source)``."""
    results = paths.results_dir(root)
    published = results / study / "tables" / "main_table.csv"
    candidates = []
    for config_file in (paths.profile_runs(study, root) / "report").glob(f"{study}-*/config.json"):
        try:
            config = _read_json(config_file)
        except (OSError, ValueError):
            continue
        if config.get("study") != study:
            continue
        table = config_file.parent / "tables" / "main_table.csv"
        same = published.is_file() and table.is_file() and table.read_bytes() == published.read_bytes()
        written = table.stat().st_mtime if table.is_file() else 0.0
        candidates.append((same, written, config_file, config))
    if not candidates:
        return dict(REPORT_DEFAULTS), "notebook 90 defaults (no report run found)"
    _, _, config_file, config = max(candidates, key=lambda item: (item[0], item[1]))
    settings = {key: config.get(key, default) for key, default in REPORT_DEFAULTS.items()}
    return settings, str(config_file)


def _key_value(value: Any) -> Any:
    """A table cell normalized for matching rows: numbers as floats, blanks (None, NaN, pandas NA,
    and the texts "", "None", "nan", "<NA>" that CSV round trips make of them) as None."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "None", "nan", "NaN", "<NA>")):
        return None
    try:
        import pandas as pd

        if pd.isna(value) is True:
            return None
    except (TypeError, ValueError):
        pass
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return None if math.isnan(number) else number


def _blank(value: Any) -> bool:
    return _key_value(value) is None or (isinstance(value, str) and value == "")


def compare_frames(expected, published, *, key: Sequence[str], table: str, path: str) -> list[Check]:
    """Compare a recomputed table with a published CSV's frame: the same rows (by ``key``, in the
    same order), numeric cells within :data:`TABLE_TOLERANCE`, other cells equal."""
    name = f"table {table}"
    missing_columns = [c for c in expected.columns if c not in published.columns]
    extra_columns = [c for c in published.columns if c not in expected.columns]
    if missing_columns or extra_columns:
        return [Check(f"{name}: columns", path, False,
                      f"published lacks {missing_columns}, has extra {extra_columns} (recomputed: {list(expected.columns)})")]

    def keys(frame) -> list[tuple]:
        return [tuple(_key_value(v) for v in row) for row in frame[list(key)].itertuples(index=False)]

    def shown(k: tuple) -> str:
        return ", ".join(f"{c}={v!r}" for c, v in zip(key, k))

    expected_keys, published_keys = keys(expected), keys(published)
    checks = []
    if expected_keys != published_keys:
        lost = [shown(k) for k in expected_keys if k not in published_keys]
        added = [shown(k) for k in published_keys if k not in expected_keys]
        detail = (f"rows differ: recomputed but not published [{_listed(lost)}]; published but not recomputed "
                  f"[{_listed(added)}]") if lost or added else "same rows in a different order"
        return [Check(f"{name}: rows", path, False, detail)]
    checks.append(Check(f"{name}: rows", path, True, f"{len(expected_keys)} rows by {', '.join(key)}"))
    problems = []
    for k, (_, want), (_, have) in zip(expected_keys, expected.iterrows(), published.iterrows()):
        for column in expected.columns:
            if column in key:
                continue
            a, b = want[column], have[column]
            if _blank(a) or _blank(b):
                ok = _blank(a) and _blank(b)
            elif isinstance(_key_value(a), float) and isinstance(_key_value(b), float):
                ok = _close(a, b, TABLE_TOLERANCE)
            else:
                ok = str(a) == str(b)
            if not ok:
                problems.append(f"row {shown(k)} column {column}: published {b!r}, recomputed {a!r}")
    checks.append(Check(f"{name}: values", path, not problems,
                        _listed(problems) if problems else f"every cell within {TABLE_TOLERANCE:g} of the recomputed table"))
    return checks


def _published(path: Path):
    import pandas as pd

    return pd.read_csv(path, keep_default_na=True)


def _missing_table(table: str, path: Path, study: str) -> Check:
    return Check(f"table {table}", str(path), False,
                 f"missing: `make reproduce PROFILE={study}` writes it (notebook {steps.FIGURES})")


def verify_tables(study: str, root: str | os.PathLike | None = None) -> list[Check]:
    """Recompute the study's main table (and ablation tables) as notebook 90 does and compare them
    with the published ``results_dir(root)/<study>/tables/main_table.csv`` / ``ablation_<name>.csv``."""
    folder = paths.results_dir(root) / study / "tables"
    settings, source = report_settings(study, root)
    checks = [Check("report settings", source, True,
                    f"recorded_teacher={settings['recorded_teacher']!r}, confidence={settings['confidence']!r}")]

    # the main table: the calls of notebook 90, in its order and with its arguments
    main_file = folder / "main_table.csv"
    teacher_file = folder / "teacher_recorded.csv"
    teacher = None
    if settings["recorded_teacher"] and (main_file.is_file() or teacher_file.is_file()):
        teacher = report.recorded_teacher()
    if not main_file.is_file():
        checks.append(_missing_table("main_table", main_file, study))
    else:
        runs = report.experiment_runs(study, root)
        base = report.base_runs(runs)
        table = report.main_table(base, teacher=teacher, confidence=settings["confidence"])
        checks += compare_frames(table, _published(main_file), key=MAIN_KEY, table="main_table", path=str(main_file))

    # the recorded teacher table (notebook 90 writes it when recorded_teacher is on)
    if settings["recorded_teacher"]:
        if teacher is None or not teacher_file.is_file():
            checks.append(_missing_table("teacher_recorded", teacher_file, study))
        else:
            checks += compare_frames(teacher, _published(teacher_file), key=("task",),
                                     table="teacher_recorded", path=str(teacher_file))

    # ablations: recomputed from the runs that exist now (report.ablation_summaries)
    summaries = report.ablation_summaries(study, names=["methods", *report.ablation_names()], root=root)
    for name, summary in summaries.items():
        file = folder / f"ablation_{name}.csv"
        if isinstance(summary, str):
            if file.is_file():
                checks.append(Check(f"table ablation_{name}", str(file), False,
                                    f"published, but cannot be recomputed: {summary}"))
            else:
                elsewhere = [other for other in summaries if other != name and ablations.ablation_kind(other) == name
                             and not isinstance(summaries[other], str)]
                why = (f"this study sweeps it around another point only ({', '.join(elsewhere)}: checked)" if elsewhere
                       else f"not recorded in this study ({summary})")
                checks.append(_not_checked(f"table ablation_{name}", file, why))
            continue
        if not file.is_file():
            checks.append(_missing_table(f"ablation_{name}", file, study))
            continue
        key = list(ablations.ABLATIONS[ablations.ablation_kind(name)].by)  # methods-<column>: a methods sweep
        checks += compare_frames(summary, _published(file), key=key, table=f"ablation_{name}", path=str(file))
    return checks


# ----------------------------------------------------------------------------------------------
# Everything
# ----------------------------------------------------------------------------------------------


def verify(study: str, root: str | os.PathLike | None = None) -> list[Check]:
    """:func:`verify_runs` then :func:`verify_tables` of ``study`` (the profile name)."""
    if not isinstance(study, str) or not paths.NAME.match(study):
        raise ValueError(f"study {study!r} must be a profile name of letters, digits and _.+- (e.g. default, smoke, paper)")
    return verify_runs(root, study) + verify_tables(study, root)


def format_checks(checks: Iterable[Check]) -> str:
    """One line per check, then ``"N checks, M failed"`` (and how many were not checked)."""
    checks = list(checks)
    failed = sum(not c.ok for c in checks)
    skipped = sum(not c.checked for c in checks)
    summary = f"{len(checks)} checks, {failed} failed"
    if skipped:
        summary += f" ({skipped} not checked)"
    return "\n".join([c.line() for c in checks] + [summary])
