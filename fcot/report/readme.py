"""The README's generated result blocks: the Results section and the default study's summary table.

``python -m fcot results --write README.md`` (``make notes``) writes them from a study's recorded runs
(:func:`write_results_block`): the headline per main-table column (:func:`column_verdict`), the phenomena counted
(:func:`counted_sentence`), one row per phenomenon with the paper's claim, fcot's numbers and the notebook behind
it, and where the numbers come from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from fcot import ablations, experiments, paths, stages, steps
from fcot.data import REAL_TASK
from fcot.report.claims import (
    COLUMN_PAPER_TASK,
    PAPER_TASK_WORDS,
    hypotheses_of,
    hypothesis,
    paper_claim,
    phenomenon_column,
    published_accuracy,
    stage_evaluations,
    unexplained,
)
from fcot.report.tables import PUBLISHED_TABLE1, ablation_summaries, column_task, load_published
from fcot.report.verdicts import Point, findings, separation, summary_arms, where
from fcot.runs import Run

# ----------------------------------------------------------------------------------------------
# The README's Results section (generated: `python -m fcot results --write README.md`)
# ----------------------------------------------------------------------------------------------

RESULTS_BEGIN = "<!-- BEGIN results -->"
RESULTS_END = "<!-- END results -->"


def _notebook_of(phenomenon: str, recorded: Sequence[str] = ()) -> str:
    """The executed notebook that backs a phenomenon's row; a methods row of another column than the base's links
    that column's sweep (``methods-<column>``, when ``recorded`` has it)."""
    import re

    if phenomenon.startswith(("Fine-tune-CoT beats", "diverse reasoning (D > 1)", "step-by-step")):
        column = phenomenon_column(phenomenon)
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
    """What the stage walk-through's students scored: the evaluation runs the profile's stage notebooks name
    (:func:`fcot.report.claims.stage_evaluations`)."""
    scores, design, twins = [], "", []
    names = set(stage_evaluations(study))
    for manifest in sorted((paths.results_dir(root) / study / "runs" / "evaluation").glob("*/manifest.json")):
        run = Run.load(manifest.parent)
        if not run.finished or run.name not in names:
            continue
        method = run.config["method"]
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
    if student is None:
        return ""
    frame = experiments.collect_experiments(root, study=study, where={
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
    noise = separation(ft, vanilla)
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
        for column, arms in summary_arms(summary).items():
            ft, vanilla = arms.get("ft_cot"), arms.get("vanilla")
            if ft is None or vanilla is None:
                continue
            task = column.split(":", 1)[0]
            paper_task = COLUMN_PAPER_TASK.get(task, task)
            found = [published_accuracy(published, m, paper_task) for m in ("ft_cot", "vanilla")]
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
    published = load_published(PUBLISHED_TABLE1)
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
        words = PAPER_TASK_WORDS.get(column.paper_task, column.paper_task)
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
            moved.append(f"the {kind.replace('_', ' ')} sweep runs at {where(name)} instead")
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
    published = load_published(PUBLISHED_TABLE1)
    folder = f"results/{study}"
    claimed = [row for row in table.itertuples() if paper_claim(row.phenomenon, published).startswith("yes")]
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
        lines.append(f"| {row.phenomenon} | {paper_claim(row.phenomenon, published)} | {evidence} | {verdict} | "
                     f"[{notebook}]({folder}/notebooks/{notebook}.ipynb) |")
    hypotheses = hypotheses_of(study, root)
    unclear = [row for row in table.itertuples() if unexplained(row.phenomenon, row.verdict, row.noise, hypotheses)]
    if unclear:
        lines += ["", "Where a phenomenon of the paper does not show clearly here (listed from the verdicts above), "
                      "a hypothesis and the run that would test it:", ""]
        lines += [f"- *{row.phenomenon}* ({row.verdict}{', ' + row.noise if row.noise else ''}). Hypothesis: "
                  f"{hypothesis(row.phenomenon, hypotheses)}" for row in unclear]
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
    from fcot import levels, reproduction  # a cycle: levels imports fcot.report; reproduction, through teaching

    changed |= reproduction.write_cost_block(readme, study, root=root)  # what a fresh clone computes, and its cost
    changed |= levels.write_levels_block(readme, root=root)  # the pretrained study's table, where it has run
    return changed
