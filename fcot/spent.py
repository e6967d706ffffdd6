"""What a study's cells cost, measured: the machine time of its committed run records (their manifests' start and end).

A *cell* is what one profile step adds: a main-table column (both arms), the untrained rows, the recipe choice, the
filtering ablation, the shipped LoRA student. Runs that overlap share the machine, so each moment is split evenly
among the runs going on then: the cells' minutes add up to the machine's busy time (the union of the runs' intervals),
however the steps were scheduled. Runs computed inside another (an experiment's student and evaluation) count once.
"""

from __future__ import annotations

import datetime as dt
import os

from fcot import students
from fcot.runs import finished_records

#: the run kinds a profile step starts itself (a student or evaluation run may also be an experiment's part)
KINDS = ("prompting", "experiment", "student", "evaluation")


def _interval(manifest: dict) -> tuple[float, float] | None:
    try:
        start, end = (dt.datetime.fromisoformat(manifest[k]).timestamp() for k in ("started", "ended"))
    except (KeyError, TypeError, ValueError):
        return None
    return (start, end) if end > start else None


def cell_of(kind: str, config: dict, base: dict) -> str:
    """The cell a run belongs to: ```<task>` column``, ``zero-shot rows``, ``recipe choice``, ``filtering ablation`` or
    ``LoRA student``. ``base`` holds the base point's ``lr`` and ``epochs`` (the recipe's)."""
    if kind == "prompting":
        return {"zero_shot": "zero-shot rows", "few_shot_cot": "few-shot-CoT rows"}.get(
            config["prompt"]["fmt"], f"{config['prompt']['fmt']} rows")
    if kind in ("student", "evaluation"):
        return "LoRA student"
    if config.get("filter_mode") not in (None, "correct_only"):  # None: vanilla samples are not filtered
        return "filtering ablation"
    if any(config.get(k) != v for k, v in base.items()):
        return "recipe choice"
    return f"`{config['task']}` column"


def runs(study: str, root: str | os.PathLike | None = None) -> list[tuple[str, float, float]]:
    """``(cell, start, end)`` of every finished run a step started (not the parts of an experiment)."""
    found, experiments = [], []
    for kind in KINDS:
        for _, manifest, config in finished_records(study, kind, root):
            interval = _interval(manifest)
            if interval is None:
                continue
            if kind in ("student", "evaluation") and any(s <= interval[0] and interval[1] <= e for s, e in experiments):
                continue  # computed inside an experiment (its run's time counts it)
            if kind == "experiment":
                experiments.append(interval)
            found.append((cell_of(kind, config, _recipe_base(config) if kind == "experiment" else {}), *interval))
    return found


def _recipe_base(config: dict) -> dict:
    """The learning rate and epochs of the run's recipe (the base point); empty for a recipe fcot does not know."""
    try:
        recipe = students.recipe_config(config["recipe"], student=config["student"])
    except (KeyError, ValueError):
        return {}
    return {"lr": recipe.lr, "epochs": recipe.epochs}


def cell_minutes(study: str, root: str | os.PathLike | None = None) -> dict[str, float]:
    """Machine minutes per cell: each moment split evenly among the runs going on then (so the cells sum to the
    machine's busy time), in the order the cells first started."""
    spans = runs(study, root)
    moments = sorted({t for _, s, e in spans for t in (s, e)})
    minutes = dict.fromkeys((cell for cell, _, _ in sorted(spans, key=lambda span: span[1])), 0.0)
    for a, b in zip(moments, moments[1:]):
        active = [cell for cell, s, e in spans if s <= a and b <= e]
        for cell in active:
            minutes[cell] += (b - a) / 60 / len(active)
    return dict(minutes)


def cost_sentence(study: str, root: str | os.PathLike | None = None, budget_minutes: float = 60) -> str:
    """Markdown: the measured machine minutes per cell, their sum against ``budget_minutes``, and which cells fit."""
    minutes = {cell: round(value) for cell, value in cell_minutes(study, root).items()}  # whole minutes: sums agree
    if not minutes:
        return ""
    total = sum(minutes.values())
    parts = ", ".join(f"{cell} {value:.0f}" for cell, value in minutes.items())
    text = (f"**Cost, measured.** Machine minutes per cell, from the committed runs' start and end times on the "
            f"2-core CPU that computed them (a moment shared by several runs is split among them): {parts}; "
            f"{total:.0f} in all.")
    if total <= budget_minutes:
        return text + f" That is within {budget_minutes:.0f} minutes."
    fit, used = [], 0.0
    for cell, value in sorted(minutes.items(), key=lambda item: item[1]):
        if used + value <= budget_minutes:
            fit.append(cell)
            used += value
    return (text + f" That is over a {budget_minutes:.0f}-minute CPU budget, and nothing is cut: the profile resumes "
            f"where it stopped, and a GPU runs it with the same command. The cheapest cells that fit "
            f"{budget_minutes:.0f} minutes: {', '.join(fit)} ({used:.0f} min).")
