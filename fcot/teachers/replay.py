"""The ``replay`` backend: the recorded text-davinci-002 Zero-shot-CoT runs, served as a teacher.

Kojima et al. published the logs of their greedy text-davinci-002 runs (``fcot.recorded`` reads
them). This backend answers a stage-1 prompt with the recorded rationale and a stage-2 prompt
(one ending in ``Therefore, the answer is``) with the recorded answer completion; prompts are
matched to recordings by their question text (:func:`zero_shot_question`; whitespace and case
are normalised). It is greedy only: a request with temperature > 0 is an error, and the
driver refuses ``degree > 1`` with this backend.

Questions without a recording: :meth:`ReplayBackend.filter_examples` (which the generation
driver calls before any request) raises :class:`MissingRecordingError` listing every missing
example (``on_missing="error"``, the default), or drops them with one warning and keeps their
ids in ``missing_ids`` (``on_missing="skip"``). A prompt reaching :meth:`complete` without a
recording raises the same error.

# REPRODUCTION NOTE: the recorded stage-2 completions were written after Kojima's task-specific
# answer triggers (e.g. "Therefore, the answer (arabic numerals) is"), not the Fine-tune-CoT
# "Therefore, the answer is"; the rationales (stage 1) use the same prompt as the paper. Token
# counts and finish reasons are not in the logs (None).
"""

from __future__ import annotations

import warnings
from typing import Sequence

from fcot.prompts import ANSWER_TRIGGER, question_from_prompt
from fcot.recorded import load_recorded, normalize_question  # how replay matches questions to recordings
from fcot.teachers.base import GenerationRequest, GenerationResult

ON_MISSING = ("error", "skip")


class MissingRecordingError(LookupError):
    """Some questions have no recorded completion; the message lists them."""


def zero_shot_question(prompt: str) -> str | None:
    """The question of a Zero-shot-CoT stage-1 or stage-2 prompt: between the first ``Q: `` and ``\nA:``.

    Not :func:`fcot.prompts.question_from_prompt` (the *last* ``Q:`` block): a recorded rationale
    can itself go on to write ``Q: ...`` (text-davinci-002 sometimes invents a next question), and
    a stage-2 prompt contains the rationale.
    """
    start = prompt.find("Q: ")
    if start == -1:
        return question_from_prompt(prompt)
    end = prompt.find("\nA:", start)
    return prompt[start + 3 : end] if end != -1 else None


class ReplayBackend:
    """Serves ``fcot.recorded.load_recorded(task)`` (or the given ``completions``) by question text."""

    name = "replay"
    variant = ""
    greedy_only = True
    concurrency = 1
    groups_samples = False
    batch_size = 1024

    def __init__(
        self,
        task: str | None = None,
        on_missing: str = "error",
        completions: Sequence | None = None,
        model: str = "text-davinci-002",
    ) -> None:
        if on_missing not in ON_MISSING:
            raise ValueError(f"on_missing must be one of {ON_MISSING}, got {on_missing!r}")
        if completions is None:
            if task is None:
                raise ValueError("ReplayBackend needs task= (a task with recorded logs) or completions=")
            completions = load_recorded(task).completions
        self.task = task
        self.model = model
        self.on_missing = on_missing
        self.missing_ids: list[str] = []
        self._by_question: dict[str, object] = {}
        for completion in completions:
            self._by_question.setdefault(normalize_question(completion.question), completion)

    def __repr__(self) -> str:
        return f"ReplayBackend(task={self.task!r}, recordings={len(self._by_question)})"

    def has(self, question: str) -> bool:
        return normalize_question(question) in self._by_question

    def filter_examples(self, examples: Sequence) -> list:
        """The examples with a recording; the others raise or are dropped (see ``on_missing``)."""
        kept, missing = [], []
        for example in examples:
            (kept if self.has(example.question) else missing).append(example)
        self.missing_ids = [e.id for e in missing]
        if missing:
            listing = "\n  ".join(f"{e.id}: {e.question[:70]!r}" for e in missing[:20])
            more = f"\n  ... and {len(missing) - 20} more" if len(missing) > 20 else ""
            message = (
                f"replay ({self.task or 'given recordings'}): {len(missing)} of {len(examples)} questions "
                f"have no recorded completion:\n  {listing}{more}"
            )
            if self.on_missing == "error":
                raise MissingRecordingError(
                    message + "\nUse on_missing='skip' to drop them, or a backend that can generate."
                )
            warnings.warn(message + "\nThey are skipped (on_missing='skip').", stacklevel=2)
        return kept

    def complete(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        results = []
        for request in requests:
            if request.temperature > 0:
                raise ValueError(
                    f"replay serves greedy recordings only (temperature 0), got temperature={request.temperature}"
                )
            question = zero_shot_question(request.prompt)
            recorded = self._by_question.get(normalize_question(question)) if question is not None else None
            if recorded is None:
                raise MissingRecordingError(
                    f"replay ({self.task or 'given recordings'}): no recording for the question "
                    f"{(question or request.prompt)[:80]!r}"
                )
            if request.prompt.rstrip().endswith(ANSWER_TRIGGER):
                text = recorded.answer_completion
            else:
                text = recorded.rationale
            results.append(GenerationResult(text=text, finish_reason=recorded.finish_reason))
        return results
