"""The simulated teacher: an OFFLINE, RULE-BASED STAND-IN for a large teacher LM (not an LM).

:class:`SimulatedTeacher` implements :class:`fcot.teachers.base.Backend` so that the whole
Fine-tune-CoT pipeline (teacher -> filter -> curate -> fine-tune -> evaluate) runs offline, in
seconds, with a teacher whose accuracy is a known knob. It is a simulator written by hand: it
never learned anything and must never be reported as a language model's result.

It reads the prompt text as an LM would:

* a stage-1 Zero-shot-CoT prompt (``Q: {question}\\nA: Let's think step by step.``) -> it finds
  the question (:func:`fcot.prompts.question_from_prompt`), recognises its kind -- coin flip,
  last-letter concatenation, tracking shuffled objects (the real datasets' questions and
  :mod:`fcot.synthetic`'s, which share their format) and fcot's synthetic arithmetic family --
  solves it by rule and writes a step-by-step rationale (starting with a space, as after
  "step."). A Few-shot-CoT prompt (ending in ``A:``) gets the same rationale ending in
  ``The answer is X.``;
* a stage-2 prompt (stage 1 + rationale + ``\\nTherefore, the answer is``) -> it reads the
  rationale it is continuing and writes the answer *that rationale* concluded (`` yes.``,
  `` (B).`` / `` B.``, `` 42.``, `` "yajo".``), so a wrong step carries through to a wrong
  final answer. A rationale without a conclusion (e.g. cut at ``max_tokens``) is read for its
  last stated intermediate state (coin side, letters so far, the target's object, last result).
* A question it cannot read gets an "I am not sure" rationale with a best literal reading: the
  first option when answer choices are listed, "no" for a question starting with an auxiliary
  verb (Is/Does/Can/...), else the last number in the question, else no guess; stage 2 repeats
  that guess, or writes `` not clear from the reasoning above.`` when there is none.

Knobs (:class:`SimulatedTeacherConfig`): ``accuracy`` -- the chance that a rationale is correct;
a wrong one has exactly one realistic wrong step whose consequence carries through (a misread
coin flip, a wrong or skipped letter, a mis-tracked swap, an arithmetic slip), chosen so the
final answer really is wrong, so over many questions the share of correct answers is
``accuracy``. ``n_styles`` -- how many phrasing styles rationales use (1..4). ``seed`` -- the
teacher's seed. Temperature: ``0`` gives the canonical phrasing (style 0) and a deterministic
mistake decision per question (a hash of question and teacher seed); ``> 0`` samples style,
wording and mistakes from the request's ``seed`` (different seeds give distinct rationales; a
request without a seed draws one from the teacher's own seeded stream). The mistake rate does not
depend on the temperature.

Tokens are approximated as whitespace-separated words (prompt and completion counts, and the
``max_tokens`` cut, after which ``finish_reason`` is ``"length"``; otherwise ``"stop"``).
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
from dataclasses import dataclass
from typing import Sequence

from fcot.data import known_tasks
from fcot.prompts import COT_TRIGGER, question_from_prompt
from fcot.teachers.base import GenerationRequest, GenerationResult
from fcot.teachers.simulated.kinds import NUMBER, choices_of, read_question
from fcot.teachers.simulated.wording import Words

MAX_STYLES = 4
FALLBACK_ACCURACY = 0.7
# REPRODUCTION NOTE: the paper's teacher is text-davinci-002 (an LM, via the OpenAI API); this
# simulator replaces it offline. Its default accuracies are Kojima et al.'s Zero-shot-CoT numbers
# on whole datasets, not the paper's teacher accuracy on the train split, and its rationales are
# hand-written templates (4 styles), far less varied than an LM's.
# Zero-shot-CoT accuracy of text-davinci-002 reported by Kojima et al. (2022, Table 1); the
# recorded logs in the data mirror end with the same numbers (coin_flip 91.4, last_letters 57.6,
# multiarith 78.7). The synthetic tasks take the numbers of the dataset they imitate.
DEFAULT_ACCURACY: dict[str, float] = {
    "coin_flip": 0.914,
    "last_letter_concatenation": 0.576,
    "tracking_shuffled_objects": 0.524,
    "multiarith": 0.787,
    "synth_coin_flip": 0.914,
    "synth_last_letter": 0.576,
    "synth_shuffled_objects": 0.524,
    "synth_arithmetic": 0.787,
}
KINDS = ("coin_flip", "last_letters", "shuffled_objects", "arithmetic")
NO_ANSWER = " not clear from the reasoning above."


@dataclass(frozen=True)
class SimulatedTeacherConfig:
    """``accuracy`` in [0, 1]; ``n_styles`` in 1..MAX_STYLES; ``seed`` an integer."""

    accuracy: float = FALLBACK_ACCURACY
    n_styles: int = MAX_STYLES
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.accuracy, bool) or not isinstance(self.accuracy, (int, float)) or not 0.0 <= self.accuracy <= 1.0:
            raise ValueError(f"accuracy must be a number in [0, 1] (share of correct rationales), got {self.accuracy!r}")
        if isinstance(self.n_styles, bool) or not isinstance(self.n_styles, int) or not 1 <= self.n_styles <= MAX_STYLES:
            raise ValueError(f"n_styles must be an integer in 1..{MAX_STYLES} (phrasing styles), got {self.n_styles!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")


# REPRODUCTION NOTE: token counts (and the max_tokens cut) are whitespace words, not GPT-3 BPE tokens
# (roughly 1.3 tokens per English word), so a max_tokens=128 cut falls later than the paper's.
def count_tokens(text: str) -> int:
    """Tokens approximated as whitespace-separated words (the simulator has no tokenizer)."""
    return len(text.split())


def _hash_int(*parts) -> int:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def _unit(*parts) -> float:
    return _hash_int(*parts) / 2**64


_CONCLUSION = re.compile(r"(?:answer is|answer:|best guess is)\s*:?\s*(.+?)\s*(?:\.(?=\s|$)|\n|$)", re.I)
_STAGE2 = re.compile(r"\n?Therefore, the answer(?: \([^)\n]*\))? is\s*$")
_AUXILIARY = re.compile(r"^(?:is|are|was|were|do|does|did|can|could|would|will|should|has|have|had)\b", re.I)


def _conclusion_leads(w: Words) -> str:
    return w("So the answer is", "Therefore, the answer is", "Thus, the answer is", "Hence the answer is")


def _unreadable(question: str, w: Words) -> str:
    letters, choices = choices_of(question)
    opening = w("I am not sure how to work this out step by step.", "I am not sure how to solve this one.")
    if letters:
        return f" {opening} Reading it literally, option ({letters[0]}) {choices[0]} looks the most plausible, so my best guess is ({letters[0]})."
    stem = question.strip()
    if _AUXILIARY.match(stem) or "yes or no" in stem.lower():
        return f" {opening} Without more to go on, my best guess is no."
    numbers = NUMBER.findall(stem.replace(",", ""))
    if numbers:
        return f" {opening} The last number given is {numbers[-1]}, so my best guess is {numbers[-1]}."
    return f" {opening} I cannot tell what the answer should be."


def _normalize(kind: str | None, text: str) -> str:
    """The stage-2 completion for a concluded answer ``text`` of a question ``kind``."""
    if kind == "coin_flip":
        found = re.search(r"\b(yes|no)\b", text, re.I)
        return f" {found.group(1).lower()}." if found else f" {text}."
    if kind == "last_letters":
        found = re.search(r'"([^"]*)"', text)
        return f' "{found.group(1)}".' if found else f' "{text.split()[0]}".' if text.split() else NO_ANSWER
    if kind == "shuffled_objects":
        found = re.search(r"\(([A-Z])\)", text)
        if found:
            return f" ({found.group(1)})."
        found = re.search(r"\b([A-Z])\b", text)
        return f" {found.group(1)}." if found else f" {text}."
    if kind == "arithmetic":
        found = NUMBER.search(text.replace(",", ""))
        return f" {found.group(0)}." if found else f" {text}."
    return f" {text}."


def _split_stage2(prompt: str) -> tuple[str, str] | None:
    """(stage-1 prompt, rationale) of a stage-2 prompt, or None if it is not one."""
    trigger = _STAGE2.search(prompt)
    if trigger is None:
        return None
    head = prompt[: trigger.start()]
    start = head.rfind("Q: ")
    cut = head.find(COT_TRIGGER, start if start != -1 else 0)
    if cut != -1:
        return head[: cut + len(COT_TRIGGER)], head[cut + len(COT_TRIGGER) :]
    answer = head.find("\nA:", start if start != -1 else 0)
    if answer != -1:
        return head[: answer + 3], head[answer + 3 :]
    return head, ""


class SimulatedTeacher:
    """A rule-based offline stand-in for a large teacher LM (a simulator, NOT a language model).

    ``SimulatedTeacher(accuracy=0.7, n_styles=4, seed=0)``, or ``config=SimulatedTeacherConfig(...)``.
    ``task`` (optional) only picks the default accuracy from :data:`DEFAULT_ACCURACY` (the
    text-davinci-002 Zero-shot-CoT accuracy of the task it imitates; :data:`FALLBACK_ACCURACY`
    otherwise) when ``accuracy`` is not given; the teacher itself reads every question from the
    prompt, whatever the task. ``model`` names the settings, e.g. ``simulated-acc0.7-styles4``
    (``-seed3`` is added for a non-zero seed), so caches keyed by model never mix settings.
    """

    name = "simulated"

    def __init__(
        self,
        accuracy: float | None = None,
        n_styles: int = MAX_STYLES,
        seed: int = 0,
        task: str | None = None,
        config: SimulatedTeacherConfig | None = None,
    ) -> None:
        if task is not None:
            known = known_tasks()
            if task not in known:
                raise ValueError(f"SimulatedTeacher.task: unknown task {task!r}; accepted: {', '.join(known)} or None")
        if config is None:
            if accuracy is None:
                accuracy = DEFAULT_ACCURACY.get(task or "", FALLBACK_ACCURACY)
            config = SimulatedTeacherConfig(accuracy=accuracy, n_styles=n_styles, seed=seed)
        elif not isinstance(config, SimulatedTeacherConfig):
            raise ValueError(f"config must be a SimulatedTeacherConfig, got {type(config).__name__}")
        self.config = config
        self.task = task
        self._rng = random.Random(_hash_int("unseeded", config.seed))
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        c = self.config
        return f"simulated-acc{c.accuracy:g}-styles{c.n_styles}" + (f"-seed{c.seed}" if c.seed else "")

    def __repr__(self) -> str:
        return f"SimulatedTeacher({self.model!r}, task={self.task!r})"

    # -- the Backend interface -------------------------------------------------------------------
    def complete(self, requests: Sequence[GenerationRequest]) -> list[GenerationResult]:
        """Complete every request (stage 1 or stage 2, recognised from the prompt), in order."""
        return [self._complete(request) for request in requests]

    def respond(self, prompt: str, temperature: float = 0.0, seed: int | None = None) -> str:
        """The completion text for one prompt (a ``Responder`` for :mod:`fcot.testing.server`)."""
        return self._complete(GenerationRequest(prompt, max_tokens=10**6, temperature=temperature, seed=seed)).text

    def _complete(self, request: GenerationRequest) -> GenerationResult:
        stage2 = _split_stage2(request.prompt)
        if stage2 is not None:
            text, extra = self._answer(*stage2)
        else:
            text, extra = self._rationale(request)
        finish = "stop"
        for stop in request.stop:
            if stop and stop in text:
                text = text[: text.index(stop)]
        spans = list(re.finditer(r"\S+", text))
        if len(spans) > request.max_tokens:
            text = text[: spans[request.max_tokens - 1].end()]
            finish = "length"
        return GenerationResult(
            text=text,
            finish_reason=finish,
            prompt_tokens=count_tokens(request.prompt),
            completion_tokens=count_tokens(text),
            extra=extra,
        )

    # -- stage 1 ----------------------------------------------------------------------------------
    def _draws(self, question: str, temperature: float, seed: int | None) -> tuple[float, random.Random, int, random.Random | None]:
        """(mistake draw in [0,1), rng for the mistake's details, style, wording rng or None)."""
        c = self.config
        if temperature <= 0:
            return _unit("mistake", c.seed, question), random.Random(_hash_int("detail", c.seed, question)), 0, None
        if seed is None:
            with self._lock:
                seed = self._rng.randrange(2**63)
        rng = random.Random(_hash_int("sample", c.seed, seed, question))
        draw = rng.random()
        detail = random.Random(rng.randrange(2**63))
        style = rng.randrange(c.n_styles)
        return draw, detail, style, random.Random(rng.randrange(2**63))

    def _rationale(self, request: GenerationRequest) -> tuple[str, dict]:
        prompt = request.prompt
        question = question_from_prompt(prompt)
        if question is None:
            question = prompt.strip()
        few_shot = prompt.rstrip().endswith("A:") and not prompt.rstrip().endswith(COT_TRIGGER)
        draw, detail, style, wording = self._draws(question, request.temperature, request.seed)
        w = Words(wording)
        problem = read_question(question)
        if problem is None:
            text = _unreadable(question, w)
            if few_shot:
                text = text.replace("my best guess is", "The answer is")
            return text, {"kind": None, "style": style, "mistake": None}
        mistake = draw >= self.config.accuracy
        body, answer = problem.render(problem.solve(detail if mistake else None), style, w)
        lead = "The answer is" if few_shot else _conclusion_leads(w)
        opener = w("", "", "Let's see.\n", "Okay.\n", "We go through it carefully.\n")
        return f" {opener}{body}\n{lead} {answer}.", {"kind": problem.kind, "style": style, "mistake": mistake}

    # -- stage 2 ----------------------------------------------------------------------------------
    def _answer(self, stage1: str, rationale: str) -> tuple[str, dict]:
        question = question_from_prompt(stage1) or stage1
        problem = read_question(question)
        kind = problem.kind if problem is not None else None
        conclusions = _CONCLUSION.findall(rationale)
        if conclusions:
            return _normalize(kind, conclusions[-1].strip()), {"kind": kind, "read": "conclusion"}
        if problem is not None:
            state = problem.read_state(rationale)
            if state is not None:
                return _normalize(kind, state), {"kind": kind, "read": "state"}
        return NO_ANSWER, {"kind": kind, "read": None}
