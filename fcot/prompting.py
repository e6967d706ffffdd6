"""The prompting stage: a pretrained student answers the test questions with no fine-tuning at all.

The paper's Table 1 puts its students' prompting rows (Zero-shot, Few-shot-CoT) beside the fine-tuned ones: what the
student can do before it is taught. :func:`prompt` records one run of kind ``prompting`` per (data, student, format),
keyed by its configuration like every stage run (a finished run is reused); its predictions and metrics have the same
shape as an evaluation run's (:func:`fcot.stages.evaluate`).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from fcot import evaluate as evaluation
from fcot import stages, students
from fcot.data import DataConfig, examples
from fcot.records import is_int
from fcot.runs import Run

FORMATS = ("zero_shot", "zero_shot_cot", "few_shot_cot")
KIND = "prompting"


@dataclass(frozen=True)
class PromptConfig:
    """How the untrained student is prompted (validated on construction)."""

    student: str = "smollm2-135m"  # a pretrained student: alias, local path or hub id (a tiny alias has learnt nothing)
    fmt: str = "zero_shot"  # zero_shot ("The answer is") | zero_shot_cot (two stages) | few_shot_cot (the paper's exemplars)
    max_new_tokens: int | None = None  # None: 128 with a rationale (zero_shot_cot, few_shot_cot), 32 for zero_shot
    batch_size: int = 16  # questions per generation batch

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"PromptConfig.fmt: {self.fmt!r} is not accepted; accepted: {', '.join(FORMATS)}")
        if not isinstance(self.student, str) or not self.student:
            raise ValueError("PromptConfig.student: name a pretrained student (alias, local path or hub id)")
        if students.is_tiny_alias(self.student):
            raise ValueError(f"PromptConfig.student: {self.student!r} is a tiny student built at random: prompting it "
                             "measures nothing; name a pretrained one (e.g. smollm2-135m)")
        if self.max_new_tokens is not None and (not is_int(self.max_new_tokens) or self.max_new_tokens < 1):
            raise ValueError(f"PromptConfig.max_new_tokens: must be an integer >= 1 or None, got {self.max_new_tokens!r}")
        if not is_int(self.batch_size) or self.batch_size < 1:
            raise ValueError(f"PromptConfig.batch_size: must be an integer >= 1, got {self.batch_size!r}")

    def resolved_max_new_tokens(self) -> int:
        return self.max_new_tokens or (32 if self.fmt == "zero_shot" else 128)


def prompt(data: DataConfig, config: PromptConfig, *, name: str | None = None, threads: int | None = None) -> Run:
    """The untrained ``config.student`` answers the test questions of ``data`` in ``config.fmt``: one run."""
    students.set_threads(threads)
    key = {"data": data.resolved(), "prompt": dataclasses.asdict(config)}
    with stages.claimed(KIND, key, name or f"{data.task}-{config.fmt}", 0, data, stages.COMPUTED_HERE) as run:
        if run.finished:
            return run
        with run:
            started = time.perf_counter()
            model, tokenizer = students.load_student(config.student)
            result = evaluation.evaluate_student(model, tokenizer, examples(data).test, fmt=config.fmt,
                                                 batch_size=config.batch_size,
                                                 max_new_tokens=config.resolved_max_new_tokens())
            run.save_predictions(result.predictions)
            run.save_metrics(result.metrics() | {
                "test_questions": result.n, "correct": int(round(result.accuracy * result.n)),
                "eval_seconds": time.perf_counter() - started, "parameters": students.count_parameters(model),
            })
    return run


def what_we_saw(run: Run):
    """What a prompting run shows, computed from its numbers (Markdown): accuracy against Random, and how often the
    untrained student ended its answer by itself."""
    from IPython.display import Markdown

    from fcot.report import random_accuracy  # a cycle: fcot.report imports fcot.steps, which imports this module

    m, c = run.metrics, run.config
    task, fmt = c["data"]["task"], c["prompt"]["fmt"]
    chance = random_accuracy(task)
    place = "above" if m["low"] > chance else "below" if m["high"] < chance else "level with (within the interval)"
    return Markdown(
        f"- Untrained, `{c['prompt']['student']}` answered {100 * m['accuracy']:.1f}% "
        f"[{100 * m['low']:.1f}, {100 * m['high']:.1f}] of {m['test_questions']} `{task}` test questions in `{fmt}`: "
        f"{place} Random ({100 * chance:.1f}%).\n"
        f"- It ended {100 * m['stop_rate']:.0f}% of its answers by itself; the rest ran to the token budget, and the "
        "parser took the first answer it found.\n"
        "- This is the baseline fine-tuning has to beat: notebook 30 trains the same student on the teacher's "
        "rationales (Fine-tune-CoT) and on the answers alone (vanilla).")
