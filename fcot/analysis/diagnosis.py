"""Diagnosing completions: one error category per student or teacher completion, with its evidence.

The paper's sample study (Ho et al. 2023, section 5 and appendix) reads student outputs by hand;
this module does it by rule so the counts are reproducible. Every completion gets exactly one
**category** (:data:`CATEGORIES`), decided in this order by :func:`categorize`:

=========================  ====================================================================
``correct``                the parsed final answer equals the gold answer
``never_stopped``          wrong, and the completion did not end (no EOS / stop string within
                           the generation budget; for a teacher: ``finish_reason == "length"``)
``wrong_final_extraction`` wrong, but the *rationale* reached the gold answer: the answer after
                           `` --> `` (the teacher's stage-2 answer) differs or does not parse
``no_answer``              wrong, the rationale did not reach the gold answer, and nothing in
                           the completion parses as an answer (the parser returns None)
``wrong_step``             wrong, a parsed answer exists, and the rationale did not reach the
                           gold answer: its reasoning went wrong somewhere. Where a task rule can
                           recompute the intermediate steps, ``first_wrong_step`` says where
=========================  ====================================================================

What the rationale reached is read by :func:`fcot.analysis.checkers.check_rationale`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Mapping

from fcot import answers
from fcot.analysis.checkers import check_rationale
from fcot.records import Completion, Example

# REPRODUCTION NOTE: the paper's sample study reads student outputs by hand; fcot assigns categories by
# rule (the checkers of fcot.analysis.checkers), with its own category definitions and precedence; a step is "wrong"
# only where a checker can recompute it (coin flip, last letters, shuffled objects, equations).
CATEGORIES: tuple[str, ...] = ("correct", "wrong_step", "wrong_final_extraction", "no_answer", "never_stopped")
ERROR_CATEGORIES: tuple[str, ...] = CATEGORIES[1:]
CATEGORY_HELP: dict[str, str] = {
    "correct": "the final answer is right",
    "wrong_step": "the rationale's reasoning is wrong (it does not reach the gold answer)",
    "wrong_final_extraction": "the rationale reached the gold answer, the final answer differs or does not parse",
    "no_answer": "nothing in the completion parses as an answer",
    "never_stopped": "no end-of-sequence within the generation budget",
}

_DELIMITER = answers.STUDENT_DELIMITER.strip()  # "-->", what the official parser looks for


@dataclass(frozen=True)
class Diagnosis:
    """One completion's category and the evidence for it (see the module table)."""

    category: str
    prediction: str | None
    rationale_answer: str | None
    rationale_reached_gold: bool
    stopped: bool | None
    checker: str
    steps_checked: int
    first_wrong_step: int | None
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def categorize(correct: bool, stopped: bool | None, prediction: str | None, rationale_reached_gold: bool) -> str:
    """The category of one completion from four facts, in the precedence of the module table.

    ``stopped`` None means unknown (recorded logs): treated as stopped.
    """
    if correct:
        return "correct"
    if stopped is False:
        return "never_stopped"
    if rationale_reached_gold:
        return "wrong_final_extraction"
    if prediction is None:
        return "no_answer"
    return "wrong_step"


# ----------------------------------------------------------------------------------------------
# Splitting completions
# ----------------------------------------------------------------------------------------------


def split_completion(text: str) -> tuple[str, str | None]:
    """``(rationale, answer part)`` of a student completion ``{rationale} --> {answer}``.

    Split at the first ``-->`` (as :func:`fcot.answers.parse_student` reads it); without the
    delimiter the whole text is the rationale and the answer part is None.
    Sample: ``" A has 3. 3 + 4 = 7. --> 7"`` -> ``(" A has 3. 3 + 4 = 7. ", " 7")``.
    """
    position = text.find(_DELIMITER)
    if position == -1:
        return text, None
    return text[:position], text[position + len(_DELIMITER) :]


def _reached(answer: str | None, example: Example) -> bool:
    if answer is None:
        return False
    try:
        return answers.is_correct(answer, example)
    except ValueError:
        return False


# ----------------------------------------------------------------------------------------------
# Diagnosing completions
# ----------------------------------------------------------------------------------------------


def _diagnosis(rationale: str, prediction: str | None, correct: bool, stopped: bool | None, example: Example) -> Diagnosis:
    check = check_rationale(rationale, example)
    reached = _reached(check.answer, example)
    return Diagnosis(
        category=categorize(correct, stopped, prediction, reached),
        prediction=prediction,
        rationale_answer=check.answer,
        rationale_reached_gold=reached,
        stopped=stopped,
        checker=check.checker,
        steps_checked=check.steps_checked,
        first_wrong_step=check.first_wrong_step,
        detail=check.detail,
    )


def diagnose_student(
    text: str,
    example: Example,
    *,
    stopped: bool | None = True,
    parse: Callable[[str, Example], str | None] = answers.parse_student,
) -> Diagnosis:
    """The category of a Fine-tune-CoT student completion ``{rationale} --> {answer}``.

    ``stopped``: whether generation ended at EOS / a stop string (``fcot.evaluate`` records it).
    The final answer is read by ``parse`` (the official student parser by default).
    """
    prediction = parse(text, example)
    rationale, _ = split_completion(text)
    return _diagnosis(rationale, prediction, answers.is_correct(prediction, example), stopped, example)


def diagnose_teacher(completion: Completion, example: Example) -> Diagnosis:
    """The category of a teacher completion: its rationale, and its stage-2 answer as parsed then.

    A rationale cut at ``max_tokens`` (``finish_reason == "length"``) counts as never stopped.
    """
    stopped = None if completion.finish_reason is None else completion.finish_reason != "length"
    return _diagnosis(completion.rationale, completion.prediction, bool(completion.correct), stopped, example)


def _by_id(examples: Iterable[Example]) -> dict[str, Example]:
    return {e.id: e for e in examples}


def _require(example_id: str, table: Mapping[str, Example], what: str) -> Example:
    if example_id not in table:
        raise KeyError(f"{what}: example id {example_id!r} is not among the examples given "
                       f"({len(table)} examples, e.g. {sorted(table)[:3]})")
    return table[example_id]


def diagnose_predictions(predictions: Iterable[Mapping[str, Any]], examples: Iterable[Example]):
    """One row per student prediction (``fcot.evaluate.EvalResult.predictions``) with its diagnosis.

    Each prediction needs ``example_id`` and ``completion``; ``stopped`` and ``prediction`` are
    used when present (else: stopped unknown, the official student parser). Returns a DataFrame
    with ``example_id``, ``question``, ``gold``, ``rationale``, ``answer_part`` and the
    :class:`Diagnosis` fields.
    """
    import pandas as pd

    table = _by_id(examples)
    rows = []
    for number, row in enumerate(predictions, start=1):
        for key in ("example_id", "completion"):
            if key not in row:
                raise KeyError(f"prediction {number}: lacks {key!r}; accepted: rows of fcot.evaluate.EvalResult.predictions")
        example = _require(row["example_id"], table, f"prediction {number}")
        text = row["completion"] or ""
        stopped = row.get("stopped")
        rationale, answer_part = split_completion(text)
        if "prediction" in row:
            prediction = row["prediction"]
            diagnosis = _diagnosis(rationale, prediction, answers.is_correct(prediction, example),
                                   None if stopped is None else bool(stopped), example)
        else:
            diagnosis = diagnose_student(text, example, stopped=stopped)
        rows.append({"example_id": example.id, "question": example.question, "gold": answers.normalize_gold(example),
                     "rationale": rationale.strip(), "answer_part": None if answer_part is None else answer_part.strip()}
                    | diagnosis.as_dict())
    return pd.DataFrame(rows, columns=_FRAME_COLUMNS)


def diagnose_completions(completions: Iterable[Completion], examples: Iterable[Example], *, first_only: bool = True):
    """One row per teacher completion with its diagnosis (the same columns as :func:`diagnose_predictions`).

    ``first_only``: only the lowest ``sample_index`` per example (the greedy one at degree 1).
    Completions of examples not in ``examples`` are skipped.
    """
    import pandas as pd

    table = _by_id(examples)
    chosen: dict[tuple[str, int], Completion] = {}
    for c in completions:
        if c.example_id not in table:
            continue
        key = (c.example_id, 0 if first_only else c.sample_index)
        if key not in chosen or c.sample_index < chosen[key].sample_index:
            chosen[key] = c
    order = {e: i for i, e in enumerate(table)}
    rows = []
    for (_, _), c in sorted(chosen.items(), key=lambda item: (order[item[0][0]], item[0][1])):
        example = table[c.example_id]
        rows.append({"example_id": c.example_id, "question": example.question, "gold": answers.normalize_gold(example),
                     "rationale": c.rationale.strip(), "answer_part": c.answer_completion.strip()}
                    | diagnose_teacher(c, example).as_dict())
    return pd.DataFrame(rows, columns=_FRAME_COLUMNS)


_FRAME_COLUMNS = ["example_id", "question", "gold", "rationale", "answer_part", "category", "prediction",
                  "rationale_answer", "rationale_reached_gold", "stopped", "checker", "steps_checked",
                  "first_wrong_step", "detail"]
