"""What a stage run says to a reader: a short account of the run (:func:`describe`) and what it saw (:func:`what_we_saw`).
"""


from __future__ import annotations

import dataclasses

from fcot import data as data_module, evaluate as evaluate_module, paths
from fcot.runs import Run, upstream_of
from fcot.stages.chain import data_of, learning_curves_of
from fcot.stages.configs import TeachConfig




def _percent(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def describe(run: Run):
    """A short, computed account of a stage run (Markdown): what it is, its main numbers, its directory."""
    from IPython.display import Markdown

    m, c = run.metrics, run.config
    data = c.get("data", {})
    where = f"`{run.relpath}` (under `results/{paths.profile_name()}/runs/`)"
    if run.kind == "teacher":
        t = c["teach"]
        text = (f"**Teacher run** {where}: {t['backend']} teacher, D={t['degree']}, on {m.get('questions')} "
                f"{data.get('task')} questions (train + validation). Accuracy on train "
                f"{_percent(m.get('teacher_accuracy_train'))}, so answer filtering keeps the rationales of "
                f"{_percent(m.get('teacher_coverage_train'))} of the train questions; median rationale "
                f"{m.get('rationale_words_median')} words"
                + (f"; greedy accuracy on {data.get('task')} test {_percent(m.get('teacher_accuracy_test'))}"
                   if m.get("teacher_accuracy_test") is not None else "") + ".")
    elif run.kind == "curation":
        text = (f"**Curation run** {where}: {c['curate']['method']} samples ({c['curate']['filter_mode']}) of "
                f"{data.get('task')}: {m.get('samples_train')} train and {m.get('samples_val')} validation samples "
                f"from {m.get('questions_train')} and {m.get('questions_val')} questions; "
                f"{_percent(m.get('share_filtered_train'))} of the train completions filtered out.")
    elif run.kind == "student":
        text = (f"**Student run** {where}: {c['train']['student']} trained on {m.get('samples_train')} "
                f"{c['method']} samples of {data.get('task')}; kept epoch {m.get('best_epoch')} of "
                f"{m.get('epochs_run')} (`select_by={m.get('select_by')}`, {m.get('samples_val')} validation samples); "
                f"{m.get('parameters'):,} parameters, {m.get('tokens_per_second', 0):,.0f} tokens/s.")
    elif run.kind == "evaluation":
        text = (f"**Evaluation run** {where}: {_percent(m.get('accuracy'))} "
                f"[{_percent(m.get('low'))}, {_percent(m.get('high'))}] on {m.get('test_questions')} "
                f"{data.get('task')} test questions ({c['method']}); the student stopped by itself on "
                f"{_percent(m.get('stop_rate'))} of them.")
    else:
        raise ValueError(f"describe: {run.kind} runs are not stage runs")
    return Markdown(text)


def _teacher_of(run: Run) -> Run | None:
    """The teacher run at the top of ``run``'s chain (None for a vanilla chain, which asks no teacher)."""
    while run is not None and run.kind != "teacher":
        run = upstream_of(run)
    return run


def teacher_name(teach, task: str | None = None) -> str:
    """Which teacher a teacher run's ``teach`` configuration names, in words: the rule-based simulator and the
    accuracy it was set to, the recorded text-davinci-002 (replay), a completions file, or a model. ``teach``: a
    run's ``config["teach"]`` (a dict) or a :class:`TeachConfig` (``task`` resolves its default accuracy)."""
    if isinstance(teach, TeachConfig):
        teach = teach.key(task) if task else dataclasses.asdict(teach)
    backend = teach.get("backend")
    if backend == "simulated":
        accuracy = teach.get("accuracy")
        return ("the rule-based teacher simulator (not a language model"
                + (f", set to {_percent(accuracy)} accuracy)" if accuracy is not None else ")"))
    if backend == "replay":
        return "the recorded text-davinci-002 (the paper's teacher, replayed from its logs)"
    if backend == "file":
        return f"the teacher whose completions were read from `{teach.get('completions')}`"
    if backend == "openai":
        return f"`{teach.get('model')}` (an OpenAI-compatible endpoint)"
    if backend == "hf":
        return f"`{teach.get('model')}` (a Hugging Face model)"
    return f"a {backend} teacher"


def _filter_lines(m: dict) -> list[str]:
    """Notebook 10: what the answer filter of notebook 11 will drop, from the counts the metrics table prints
    (``completions``, ``teacher_accuracy``, ``share_filtered``: train plus validation; ``completions_train``,
    ``teacher_accuracy_train``: train alone)."""
    n, n_train = m.get("completions"), m.get("completions_train")
    accuracy_all, accuracy_train = m.get("teacher_accuracy"), m.get("teacher_accuracy_train")
    share = m.get("share_filtered", None if accuracy_all is None else 1 - accuracy_all)
    if not n or share is None or accuracy_train is None or not n_train:
        return [f"The teacher answered {n or 0} completions: there is nothing to filter."] if not n else []
    wrong_all, wrong_train = round(n * share), round(n_train * (1 - accuracy_train))
    n_val, wrong_val = n - n_train, round(n * share) - round(n_train * (1 - accuracy_train))
    lines = [f"The teacher was right on {_percent(accuracy_train)} of its {n_train} train completions"
             + (f" and on {_percent(accuracy_all)} of all {n} (train plus validation)." if n_val else ".")]
    lines.append(f"The answer filter (notebook 11, `correct_only`) will drop the wrong ones: {wrong_train} of the "
                 f"{n_train} train completions ({_percent(wrong_train / n_train)})"
                 + (f" and {wrong_val} of the {n_val} validation completions; {wrong_all} of {n} in all "
                    f"(`share_filtered` {_percent(share)}, train plus validation)." if n_val else "."))
    lines.append(f"It leaves {_percent(m.get('teacher_coverage_train'))} of the train questions with at least one "
                 "rationale: a weaker teacher means fewer samples.")
    return lines


def _epoch_lines(m: dict, curves) -> list[str]:
    """Notebook 20: where validation loss was lowest (from the learning curves, whatever ``select_by`` kept), and
    which epoch's weights ``select_by`` kept (``best_epoch`` in the metrics is the kept epoch)."""
    kept, ran, select_by = m.get("best_epoch"), m.get("epochs_run"), m.get("select_by")
    lines = []
    if curves is not None and "eval_loss" in curves and curves["eval_loss"].notna().any():
        scored = curves[curves["eval_loss"].notna()]
        low = scored.loc[scored["eval_loss"].idxmin()]
        last = scored.loc[scored["epoch"].idxmax()]
        if low["epoch"] == last["epoch"]:
            lines.append(f"Validation loss was lowest at the last epoch ({last['epoch']:g} of {last['epoch']:g}, "
                         f"{low['eval_loss']:.3f}): the student was still improving, so more epochs (or more data) "
                         "would likely help.")
        else:
            text = (f"Validation loss was lowest at epoch {low['epoch']:g} of {last['epoch']:g} ({low['eval_loss']:.3f}) "
                    f"and ended at {last['eval_loss']:.3f}")
            falling = "train_loss" in scored and low.get("train_loss") is not None and last.get("train_loss") is not None \
                and last["train_loss"] < low["train_loss"]
            lines.append(text + (f", while train loss fell from {low['train_loss']:.3f} to {last['train_loss']:.3f}: "
                                 f"after epoch {low['epoch']:g} the student overfits its {m.get('samples_train')} samples."
                                 if falling else ": the student stopped improving on validation after it."))
    if kept is not None:
        why = {"last": "the last epoch, whatever its validation loss",
               "eval_loss": "the lowest validation loss",
               "eval_accuracy": "the highest validation accuracy"}.get(select_by, "its rule")
        lines.append(f"`select_by=\"{select_by}\"` kept the weights of epoch {kept:g}"
                     + (f" of {ran:g}" if ran is not None else "") + f" ({why}).")
    return lines


def _teacher_comparison(m: dict, teacher: Run) -> str:
    """Notebook 21: the student's test accuracy against its teacher's on the same questions, the teacher named
    (:func:`teacher_name`); a teacher score inside the student's interval is within noise."""
    score, accuracy = teacher.metrics["teacher_accuracy_test"], m.get("accuracy") or 0.0
    gap = accuracy - score
    direction = "level with" if round(100 * gap, 1) == 0 else "above" if gap > 0 else "below"
    low, high = m.get("low"), m.get("high")
    noise = (" (its score lies inside the student's interval: within noise)"
             if direction != "level with" and low is not None and high is not None and low <= score <= high else "")
    distance = "" if direction == "level with" else f"{abs(100 * gap):.1f} points "
    return (f"Its teacher, {teacher_name(teacher.config.get('teach', {}))}, scored {_percent(score)} on the same "
            f"questions: the student is {distance}{direction} it{noise}.")


def what_we_saw(run: Run):
    """The closing "What we saw" of notebooks 10, 11, 20 and 21 (Markdown), computed from a stage run's numbers and
    read against what the paper leads one to expect, so it stays true when the parameters change."""
    from IPython.display import Markdown

    m, c = run.metrics, run.config
    task = c.get("data", {}).get("task")
    lines = []
    if run.kind == "teacher":
        lines += _filter_lines(m)
        if (m.get("degree") or 1) > 1:
            lines.append(f"With D={m.get('degree')} samples per question, {_percent(m.get('share_questions_all_distinct'))} "
                         "of the questions got all-distinct rationales: only distinct ones add information "
                         "(diverse reasoning).")
        if m.get("truncation_rate"):
            lines.append(f"{_percent(m['truncation_rate'])} of the rationales hit the length limit: truncated "
                         "rationales rarely reach an answer.")
    elif run.kind == "curation":
        method = c["curate"]["method"]
        lines.append(f"{m.get('samples_train')} {method} training samples from {m.get('questions_train')} questions "
                     f"({_percent(m.get('share_filtered_train'))} of the teacher's train completions filtered out"
                     + (", none needed for vanilla samples, which carry the gold answer only" if method == "vanilla"
                        else "") + ").")
        if m.get("samples_dropped_too_long_train") or m.get("rationales_truncated_train"):
            lines.append(f"{m.get('samples_dropped_too_long_train') or 0} samples were too long for the student and "
                         f"{m.get('rationales_truncated_train') or 0} rationales were cut.")
    elif run.kind == "student":
        curves_file = run.path / "tables" / "learning_curves.csv"
        lines += _epoch_lines(m, learning_curves_of(run) if curves_file.is_file() else None)
        lines.append(f"{m.get('parameters', 0):,} parameters trained at {m.get('tokens_per_second', 0):,.0f} tokens/s "
                     f"for {m.get('train_runtime_s', 0):.0f} s.")
    elif run.kind == "evaluation":
        test = data_module.examples(data_of(run)).test
        chance = evaluate_module.random_baseline(test)
        low, high = m.get("low"), m.get("high")
        where = ("above" if low is not None and low > chance else
                 "below" if high is not None and high < chance else "not distinguishable from")
        lines.append(f"The student scored {_percent(m.get('accuracy'))} [{_percent(low)}, {_percent(high)}] on "
                     f"{m.get('test_questions')} {test[0].task if test else task} test questions: its interval is "
                     f"**{where}** random guessing ({_percent(chance)}).")
        teacher = _teacher_of(run)
        if teacher is not None and teacher.metrics.get("teacher_accuracy_test") is not None:
            lines.append(_teacher_comparison(m, teacher))
        if (m.get("stop_rate") or 0) < 0.9:
            lines.append(f"It stopped by itself on only {_percent(m.get('stop_rate'))} of the questions: an unfinished "
                         "completion has no answer after ` --> `.")
    else:
        raise ValueError(f"what_we_saw: {run.kind} runs are not stage runs")
    return Markdown("\n".join(f"- {line}" for line in lines))
