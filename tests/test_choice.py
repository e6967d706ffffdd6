"""Notebook 29's choice: candidate recipes and learning rates around the base point, compared on validation only."""

from __future__ import annotations

import pandas as pd
import pytest

from fcot import choice
from fcot.experiments import ExperimentConfig

BASE = {"task": "synth_last_letter", "difficulty": 2, "n_train": 800, "recipe": "tiny", "epochs": 10, "seeds": [0, 1]}


def test_recipe_points_are_the_base_then_each_candidate_once_per_seed():
    points = choice.recipe_points(BASE, [{"n_train": 400, "epochs": 20, "batch_size": 16}])
    assert [(p.n_train, p.epochs, p.batch_size, p.seed) for p in points] == [
        (800, 10, None, 0), (800, 10, None, 1), (400, 20, 16, 0), (400, 20, 16, 1)]


@pytest.mark.parametrize("recipes, message", [
    ([], "non-empty list"),
    ([{"degree": 4}], r"\['degree'\] cannot be chosen here; accepted: n_train, epochs, batch_size, lr"),
    (["fast"], "must be a mapping"),
])
def test_bad_candidates_say_what_is_accepted(recipes, message):
    with pytest.raises(ValueError, match=message):
        choice.recipe_points(BASE, recipes)


def test_learning_rate_points_cover_every_student_and_rate():
    points = choice.learning_rate_points(BASE, ["tiny-gpt2-xs", "tiny-gpt2-m"], [1e-3, 6e-3])
    assert {(p.student, p.lr) for p in points} == {(s, lr) for s in ("tiny-gpt2-xs", "tiny-gpt2-m") for lr in (1e-3, 6e-3)}
    with pytest.raises(ValueError, match="learning_rates must be numbers > 0"):
        choice.learning_rate_points(BASE, ["tiny-gpt2-xs"], [0])


def _results(rows):
    columns = ("student", "lr", "n_train", "epochs", "batch_size", "seed", "val_accuracy", "train_seconds")
    return pd.DataFrame([{**dict(zip(columns, row)), "samples_val": 40} for row in rows])


def test_the_finding_names_what_validation_prefers_and_whether_the_profile_and_recipe_use_it():
    recipes = choice.validation_table(_results([
        ("tiny-gpt2-s", 3e-3, 800, 10, 8, 0, 0.80, 19.0), ("tiny-gpt2-s", 3e-3, 800, 10, 8, 1, 0.90, 19.0),
        ("tiny-gpt2-s", 3e-3, 400, 20, 16, 0, 0.20, 18.0), ("tiny-gpt2-s", 3e-3, 400, 20, 16, 1, 0.10, 18.0),
    ]), ["n_train", "epochs", "batch_size"])
    assert list(recipes["validation accuracy (%)"]) == [85.0, 15.0] and list(recipes["lowest seed (%)"]) == [80.0, 10.0]
    rates = choice.validation_table(_results([
        ("tiny-gpt2-xs", 3e-3, 800, 10, 8, 0, 0.2, 9.0), ("tiny-gpt2-xs", 6e-3, 800, 10, 8, 0, 0.6, 9.0),
        ("tiny-gpt2-m", 1e-3, 800, 10, 8, 0, 0.8, 60.0), ("tiny-gpt2-m", 3e-3, 800, 10, 8, 0, 0.7, 60.0),
    ]), ["student", "lr"])
    config = ExperimentConfig(task="synth_last_letter", difficulty=2, n_train=800, recipe="tiny", epochs=10)
    finding = choice.choice_finding(recipes, rates, config)
    assert "validation prefers 800 questions x 10 epochs at batch 8 (85.0% on validation" in finding
    assert "uses 800 x 10 at batch 8: **the same**" in finding
    assert "**tiny-gpt2-xs:** validation prefers lr 0.006 (60.0%); the `tiny` recipe gives it 0.006: **the same**" in finding
    assert ("**tiny-gpt2-m:** validation prefers lr 0.001 (80.0%); the `tiny` recipe gives it 0.003: **a different one, "
            "within noise** (70.0% there: 10.0 points lower, the 95% noise of the difference is about 19 points)") in finding
    moved = choice.choice_finding(recipes, rates, config.replace(n_train=400, epochs=20, batch_size=16))
    assert "uses 400 x 20 at batch 16: **a different one, clearly** (15.0% there: 70.0 points lower" in moved
    elsewhere = choice.choice_finding(recipes, rates, config.replace(n_train=1600))
    assert "**not among the candidates**" in elsewhere
