"""Explaining where the log's verdicts and fcot's differ, per task, and the README report of every log."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from fcot.answers import is_correct, normalize_gold, parse_teacher
from fcot.paths import write_between_markers
from fcot.recorded.logs import LOG_COMMIT, LOG_REPO, MIRRORED_TASKS, fetch_log, log_spec
from fcot.recorded.matching import RecordedRun, letter_map, log_examples, same_gold
from fcot.recorded.reading import LogEntry, read_log
from fcot.recorded.scoring import Score, score_log, split_example_ids
from fcot.records import Example

@dataclass(frozen=True)
class Difference:
    """One log entry where fcot's verdict or fcot's parsed answer differs from the log's."""

    entry: LogEntry
    cause: str  # a key of CAUSES
    detail: str  # a one-line illustration
    fcot_correct: bool
    verdict_differs: bool  # False: same verdict, different parsed answer


CAUSES = {
    "gold": "fcot's gold answer differs from the log's GT",
    "string_compare": "same answer, but the log compares strings and fcot compares numbers (within 1e-6)",
    "precleaned": "the log's cleaner read `pred_before`, a copy of the completion with colons removed and "
    "whitespace stripped; fcot parses the raw completion",
    "candidate": "the two rule sets pick different candidates from the same text",
}


def _same_answer(prediction: str | None, log_prediction: str, example: Example) -> bool:
    if prediction is None or log_prediction == "":
        return prediction is None and log_prediction == ""
    try:
        return is_correct(prediction, replace(example, answer=log_prediction))
    except ValueError:
        return False


def _classify(entry: LogEntry, example: Example) -> Difference | None:
    prediction = parse_teacher(entry.answer_completion, example)
    correct = is_correct(prediction, example)
    verdict_differs = correct != entry.log_correct
    same_answer = _same_answer(prediction, entry.pred_mode, example)
    if not verdict_differs and same_answer:
        return None

    def found(cause: str, detail: str) -> Difference:
        return Difference(entry, cause, detail, correct, verdict_differs)

    if not same_gold(entry, example):
        return found("gold", f"fcot gold {normalize_gold(example)!r} vs log GT {entry.gold!r}")
    if same_answer:
        return found("string_compare", f"log pred {entry.pred_mode!r} vs GT {entry.gold!r} (fcot: {prediction!r})")
    parsed = f"fcot reads {prediction!r} (gold {normalize_gold(example)!r})"
    if entry.pred_before.strip() != entry.answer_completion.strip():
        detail = (
            f"completion {entry.answer_completion.strip()[:40]!r}, pred_before {entry.pred_before.strip()[:40]!r}: "
            f"log reads {entry.pred_mode!r}, {parsed}"
        )
        return found("precleaned", detail)
    return found("candidate", f"completion {entry.answer_completion.strip()[:40]!r}: log reads {entry.pred_mode!r}, {parsed}")


def differences(run: RecordedRun) -> list[Difference]:
    """Every matched entry of ``run`` whose fcot verdict or parsed answer differs from the log's, with its cause.

    Unmatched entries are not scored by fcot; they are listed in ``run.unmatched_entries``.
    """
    found = [_classify(entry, example) for entry, example in run.pairs]
    return sorted((d for d in found if d is not None), key=lambda d: d.entry.position)


def disagreements(run: RecordedRun) -> list[Difference]:
    """The entries where the log's verdict (correct or not) and fcot's differ."""
    return [d for d in differences(run) if d.verdict_differs]


@dataclass(frozen=True)
class LogReport:
    task: str
    log_name: str
    n: int
    recorded_accuracy: float
    log_accuracy: float  # pred_mode == GT recomputed from the entries
    log_correct: int
    fcot: Score  # every matched entry
    fcot_test: Score  # the entries on the test side of the official default split
    unmatched: tuple[LogEntry, ...]
    reordered: int  # matched entries whose option letters were rewritten into the example's order
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def disagreements(self) -> tuple[Difference, ...]:
        return tuple(d for d in self.differences if d.verdict_differs)


def report_task(task: str, mirror=None, examples: list[Example] | None = None) -> LogReport:
    """The comparison of one task's log with fcot's rules."""
    spec = log_spec(task)
    log = read_log(fetch_log(task, mirror=mirror))
    if examples is None:
        examples = log_examples(task, mirror)
    score, run = score_log(task, log, examples)
    test, _ = score_log(task, log, examples, split_example_ids(task, "test", mirror), "test")
    reordered = sum(any(k != v for k, v in letter_map(entry, example).items()) for entry, example in run.pairs)
    return LogReport(
        task=task,
        log_name=spec.log_name,
        n=log.n,
        recorded_accuracy=log.accuracy,
        log_accuracy=100.0 * log.log_correct / log.n,
        log_correct=log.log_correct,
        fcot=score,
        fcot_test=test,
        unmatched=run.unmatched_entries,
        reordered=reordered,
        differences=tuple(differences(run)),
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "\\n").replace("`", "'")


def report_markdown(reports: list[LogReport]) -> str:
    """The README block: one table row per log, then every cause of a difference with an example."""
    reproduced = all(abs(r.log_accuracy - r.recorded_accuracy) < 1e-9 for r in reports)
    lines = [
        f"Kojima et al.'s recorded text-davinci-002 Zero-shot-CoT logs (`{LOG_REPO}@{LOG_COMMIT[:7]}`, "
        "`log/*_zero_shot_cot.log`, greedy, one completion per question), re-scored with fcot's answer rules "
        "(`fcot.answers`). Generated by `python -m fcot report-recorded --write README.md`.",
        "",
        "The log's verdict is `pred_mode == GT` compared as strings"
        + (" (recomputing it from the entries reproduces every recorded accuracy exactly); " if reproduced
           else " (NOTE: recomputing it does NOT reproduce every recorded accuracy); ")
        + "fcot matches each entry to its example by question stem and the set of option texts, rewrites option "
        "letters into the official option order, parses the raw stage-2 completion (first candidate) and compares "
        "it with the example's gold answer. *Test split*: the entries on the test side of the official default "
        "split (the teacher row of the main table). *Duplicates*: entries whose question is shared by several "
        "examples with the same gold answer, paired in order.",
        "",
        "| task | log | n | accuracy in log (%) | fcot accuracy (%) | correct: log → fcot | fcot on test split (%) "
        "| verdicts differ | answers differ, same verdict | options reordered | duplicates | unmatched |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in reports:
        same_verdict = len(r.differences) - len(r.disagreements)
        lines.append(
            f"| {r.task} | {r.log_name} | {r.n} | {r.recorded_accuracy:.2f} | {r.fcot.accuracy:.2f} | "
            f"{r.log_correct} → {r.fcot.correct} | {r.fcot_test.accuracy:.2f} ({r.fcot_test.n}) | "
            f"{len(r.disagreements)} | {same_verdict} | {r.reordered} | {r.fcot.ambiguous} | {len(r.unmatched)} |"
        )
    lines += ["", "Every difference, by cause (computed by `fcot.recorded.differences`):", ""]
    listed = False
    for r in reports:
        groups: dict[tuple[str, bool], list[Difference]] = {}
        for d in r.differences:
            groups.setdefault((d.cause, d.verdict_differs), []).append(d)
        for (cause, verdict_differs), items in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            first = items[0]
            if verdict_differs:
                right = sum(d.fcot_correct for d in items)
                effect = f"verdict differs: fcot right in {right}, the log right in {len(items) - right}"
            else:
                effect = "same verdict (both " + ("right" if first.fcot_correct else "wrong") + ")"
            lines.append(
                f"- **{r.task}** — {len(items)} × {CAUSES[cause]}; {effect}. "
                f"E.g. entry {first.entry.position} (log line {first.entry.line}): {_md(first.detail)}. "
                f"Entries: {_positions(items)}."
            )
            listed = True
        if r.unmatched:
            lines.append(
                f"- **{r.task}** — {len(r.unmatched)} × the question matches no fcot example; fcot does not score it. "
                f"Entries: {_positions(r.unmatched)}."
            )
            listed = True
    if not listed:
        lines.append("- none")
    return "\n".join(lines)


def _positions(items) -> str:
    positions = [getattr(item, "entry", item).position for item in items]
    return ", ".join(map(str, positions[:30])) + (", ..." if len(positions) > 30 else "")


def report_recorded(mirror=None, tasks: tuple[str, ...] = MIRRORED_TASKS) -> str:
    """The Markdown block comparing the mirrored logs with fcot's rules."""
    return report_markdown([report_task(task, mirror=mirror) for task in tasks])


BEGIN_MARKER = "<!-- BEGIN recorded-logs -->"
END_MARKER = "<!-- END recorded-logs -->"


def write_report_block(readme: str | os.PathLike, block: str) -> None:
    """Replace the text between the recorded-logs markers of ``readme`` with ``block``."""
    write_between_markers(readme, BEGIN_MARKER, END_MARKER, block)
