"""Choosing the study's base point and each student's learning rate on validation (never test): notebook 29.

:func:`recipe_points` moves the base configuration to each candidate training recipe (questions, epochs,
batch size); :func:`learning_rate_points` trains each student at each candidate learning rate.
:func:`validation_table` averages the students' validation accuracy (``val_accuracy``: the trained
student's greedy answers to the validation questions) over seeds, and :func:`choice_finding` says which
candidate validation prefers and whether that is what the profile and ``fcot.students.RECIPE_LR`` use.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from fcot import students
from fcot.experiments import ExperimentConfig, values_equal

#: What a candidate recipe may set: the fields that decide how much and how a student trains.
RECIPE_FIELDS: tuple[str, ...] = ("n_train", "epochs", "batch_size", "lr")


def _seeds(parameters: Mapping[str, Any]) -> list[int]:
    return list(parameters.get("seeds") or [0])


def recipe_points(parameters: Mapping[str, Any], recipes: Sequence[Mapping[str, Any]]) -> list[ExperimentConfig]:
    """The base configuration of ``parameters`` (a notebook's ``globals()``) moved to every candidate recipe
    (a mapping of :data:`RECIPE_FIELDS`), once per seed; the base itself first."""
    if not recipes:
        raise ValueError("recipes must be a non-empty list of candidates, e.g. [{'n_train': 800, 'epochs': 10, 'batch_size': 8}]")
    for index, recipe in enumerate(recipes):
        if not isinstance(recipe, Mapping) or not recipe:
            raise ValueError(f"recipes[{index}] must be a mapping of {', '.join(RECIPE_FIELDS)}, got {recipe!r}")
        unknown = sorted(set(recipe) - set(RECIPE_FIELDS))
        if unknown:
            raise ValueError(f"recipes[{index}]: {unknown} cannot be chosen here; accepted: {', '.join(RECIPE_FIELDS)}")
    base = ExperimentConfig.from_parameters(parameters, seed=_seeds(parameters)[0])
    return [base.replace(**recipe, seed=seed) for recipe in [{}] + list(recipes) for seed in _seeds(parameters)]


def learning_rate_points(parameters: Mapping[str, Any], students: Sequence[str],
                         learning_rates: Sequence[float]) -> list[ExperimentConfig]:
    """The base configuration with every student at every candidate learning rate, once per seed."""
    if not students or not learning_rates:
        raise ValueError("students and learning_rates must be non-empty lists")
    bad = [lr for lr in learning_rates if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0]
    if bad:
        raise ValueError(f"learning_rates must be numbers > 0, got {bad}")
    base = ExperimentConfig.from_parameters(parameters, seed=_seeds(parameters)[0])
    return [base.replace(student=student, lr=float(lr), seed=seed)
            for student in students for lr in learning_rates for seed in _seeds(parameters)]


def validation_table(results, by: Sequence[str]):
    """One row per value of ``by`` (columns of :func:`fcot.sweeps.sweep`'s rows): mean validation accuracy in
    percent over the seeds, its lowest and highest seed, the seeds, the mean training seconds."""
    import pandas as pd

    frame = results.copy()
    frame["val"] = frame["val_accuracy"].astype(float) * 100
    rows = []
    for key, group in frame.groupby(list(by), sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "validation accuracy (%)": round(group["val"].mean(), 1),
                     "lowest seed (%)": round(group["val"].min(), 1), "highest seed (%)": round(group["val"].max(), 1),
                     "seeds": len(group), "validation answers": int(group["samples_val"].sum()),
                     "train seconds": round(group["train_seconds"].astype(float).mean(), 1)})
    return pd.DataFrame(rows)


def noise(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """Half-width in points of a 95% interval for the difference of two rows' validation accuracies (two
    proportions over their validation answers, all seeds pooled): a smaller difference is within noise."""
    import math

    def variance(row) -> float:
        p = float(row["validation accuracy (%)"]) / 100
        return p * (1 - p) / max(int(row["validation answers"]), 1)

    return 196 * math.sqrt(variance(a) + variance(b))


def verdict(best: Mapping[str, Any], used: Mapping[str, Any] | None) -> str:
    """Markdown: whether ``used`` (a candidate row, or None when it was not among them) is ``best``, and if not by how
    much, against the 95% noise of the difference (:func:`noise`)."""
    if used is None:
        return "**not among the candidates**"
    if used == best:
        return "**the same**"
    gap, half = float(best["validation accuracy (%)"]) - float(used["validation accuracy (%)"]), noise(best, used)
    clear = "clearly" if gap > half else "within noise"
    return (f"**a different one, {clear}** ({used['validation accuracy (%)']:.1f}% there: {gap:.1f} points lower, "
            f"the 95% noise of the difference is about {half:.0f} points)")


def _best(table, within: str | None = None) -> dict:
    column = "validation accuracy (%)"
    if within is None:
        return {None: table.loc[table[column].idxmax()].to_dict()}
    return {value: group.loc[group[column].idxmax()].to_dict() for value, group in table.groupby(within, sort=False)}


def choice_finding(recipes, learning_rates, config: ExperimentConfig) -> str:
    """Markdown: the recipe and each student's learning rate that validation prefers, and whether the base
    point (``config``) and :data:`fcot.students.RECIPE_LR` are those (computed, so it changes with the runs)."""
    def row_where(table, **values):
        for _, row in table.iterrows():
            if all(values_equal(row[k], v) for k, v in values.items()):
                return row.to_dict()
        return None

    lines = []
    best = _best(recipes)[None]
    resolved = config.resolved()
    used = row_where(recipes, **{f: resolved[f] for f in ("n_train", "epochs", "batch_size")})
    lines.append(
        f"- **Base point:** validation prefers {int(best['n_train'])} questions x {int(best['epochs'])} epochs at batch "
        f"{int(best['batch_size'])} ({best['validation accuracy (%)']:.1f}% on validation, {best['train seconds']:.0f} s "
        f"of training per run); the base point uses {resolved['n_train']} x {resolved['epochs']} at batch "
        f"{resolved['batch_size']}: {verdict(best, used)}."
    )
    for student, row in _best(learning_rates, "student").items():
        recipe_lr = students.recipe_config(config.recipe, student=student).lr
        there = row_where(learning_rates, student=student, lr=recipe_lr)
        lines.append(
            f"- **{student}:** validation prefers lr {float(row['lr']):g} ({row['validation accuracy (%)']:.1f}%); "
            f"the `{config.recipe}` recipe gives it {recipe_lr:g}: "
            f"{verdict(row, there)}."
        )
    seeds = int(min(recipes["seeds"].min(), learning_rates["seeds"].min()))
    lines.append(f"- Each candidate ran {seeds} seed(s) and is scored on the validation questions only (test is "
                 "never read here); a preference within noise is no reason to move a setting.")
    return "\n".join(lines)
