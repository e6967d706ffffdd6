"""Teacher steps estimated offline: the estimating backend, the driver's ledger scaled, the simulated teacher."""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import asdict, dataclass, field
from typing import Mapping, Sequence

from fcot import teachers
from fcot.costs.basis import CHARS_PER_TOKEN, DEFAULT_SAMPLE, count_tokens
from fcot.costs.questions import spread, task_recordings, train_side
from fcot.prompts import ANSWER_TRIGGER
from fcot.recorded import normalize_question
from fcot.stages import SIMULATED_SEED
from fcot.teachers.base import GenerationResult
from fcot.teachers.ledger import estimate_cost
from fcot.teachers.replay import zero_shot_question

# ---------------------------------------------------------------------------------------------
# The estimating teacher backend


def _stable_index(text: str, n: int) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:12], 16) % n


class EstimatingBackend:
    """An offline teacher endpoint for estimates: no network, completions of realistic length.

    ``name`` is the backend kind the profile asks for (``openai``, ``replay``, ...), so the ledger
    prices its calls as it would price the real ones; ``model`` the model name. A stage-1 prompt gets
    a recorded rationale and a stage-2 prompt the recorded answer completion (``recordings``: the
    task's recorded completions): the question's own recording if there is one, else the recording
    of another question chosen by a stable hash; without recordings, a filler of ``max_tokens``
    tokens (finish reason ``length``: the upper bound). A recording longer than ``max_tokens`` is
    cut to it. Token counts are :func:`count_tokens` of the prompt and of the completion.
    """

    variant = "estimate"
    concurrency = 1
    batch_size = 4096
    groups_samples = False

    def __init__(self, kind: str, model: str, recordings: Sequence = ()) -> None:
        self.name = kind
        self.model = model
        self._pool = list(recordings)
        self._own = {}
        for completion in self._pool:
            self._own.setdefault(normalize_question(completion.question), completion)

    def recording(self, question: str):
        """``(recorded completion or None, source)``; source: ``own`` | ``borrowed`` | ``upper_bound``."""
        key = normalize_question(question)
        if key in self._own:
            return self._own[key], "own"
        if self._pool:
            return self._pool[_stable_index(key, len(self._pool))], "borrowed"
        return None, "upper_bound"

    def complete(self, requests):
        results = []
        for request in requests:
            question = zero_shot_question(request.prompt) or request.prompt
            recorded, _ = self.recording(question)
            if recorded is None:
                text, finish = "etc " * request.max_tokens, "length"
            else:
                stage2 = request.prompt.rstrip().endswith(ANSWER_TRIGGER)
                text = recorded.answer_completion if stage2 else recorded.rationale
                finish = "stop"
                if count_tokens(text) > request.max_tokens:
                    text, finish = text[: request.max_tokens * CHARS_PER_TOKEN], "length"
            results.append(
                GenerationResult(text=text, finish_reason=finish, prompt_tokens=count_tokens(request.prompt),
                                 completion_tokens=count_tokens(text))
            )
        return results


# ---------------------------------------------------------------------------------------------
# Teacher steps


@dataclass
class TeacherStep:
    """The estimate of one teacher run (a notebook-10 step, or a teacher a student step reads)."""

    step: str
    task: str
    backend: str
    model: str
    degree: int
    max_tokens: int
    questions: int
    driven: int  # questions the driver ran over (the rest is scaled)
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    cost_note: str
    lengths: str  # where the completion lengths come from
    budget_usd: float | None = None
    kept_share: float | None = None  # completions kept by correct-only filtering (estimated)
    examples: list = field(default_factory=list, repr=False)  # the driven questions
    completions: list = field(default_factory=list, repr=False)  # their completions, correct = kept

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("examples", "completions")}


_FREE = {"replay": "replay of recorded runs: no API cost", "simulated": "simulator: no API cost",
         "hf": "local model: no API cost (its GPU time is not estimated)"}


def _lengths_label(sources: Mapping[str, int], note: str, max_tokens: int) -> str:
    total = sum(sources.values())
    labels = {"own": "recorded text-davinci-002 (" + ("stand-in questions" if note else "own question") + ")",
              "borrowed": "recorded text-davinci-002 (other questions of the task)",
              "upper_bound": f"upper bound: max_tokens={max_tokens}, answer 32"}
    parts = [f"{labels[k]}{'' if v == total else f' {100 * v / total:.0f}%'}" for k, v in sources.items() if v]
    text = "; ".join(parts)
    return f"{text} ({note})" if note else text


def estimate_teacher(
    step: str,
    task: str,
    *,
    backend: str = "openai",
    model: str = "text-davinci-002",
    degree: int = 1,
    max_tokens: int = 128,
    temperature: float | None = None,
    n_train: int = 0,
    seed: int = 0,
    budget_usd: float | None = None,
    sample: int | None = DEFAULT_SAMPLE,
    prices: Mapping[str, tuple[float, float]] | None = None,
) -> TeacherStep:
    """Drive :func:`fcot.teachers.generate` with an :class:`EstimatingBackend` over ``task``'s train
    questions (``sample`` evenly spaced ones, None = all) and scale its ledger to the whole step."""
    if sample is not None and sample < 1:
        raise ValueError(f"sample must be >= 1 question per step or None (all), got {sample!r}")
    pool, size, note = train_side(task)
    questions = min(n_train, size) if n_train else size
    pool = pool[:questions] if not note else pool
    driven = spread(pool, sample)
    if backend not in teachers.KINDS:
        raise ValueError(f"step {step}: unknown teacher backend kind {backend!r}; accepted: {teachers.KINDS}")
    recordings = task_recordings(task) if backend != "simulated" else ()
    if backend == "simulated":
        estimating = teachers.make_backend("simulated", task=task, seed=seed)
    else:
        estimating = EstimatingBackend(backend, model or "unnamed-model", recordings)
    ledger = teachers.Ledger(prices=prices)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        completions = teachers.generate(
            driven, estimating, degree=degree, temperature=temperature, max_tokens=max_tokens, ledger=ledger,
            seed=seed, concurrency=1, prices=prices,
        )
    unknown_price = [str(w.message) for w in caught if "no price for model" in str(w.message)]
    sources: dict[str, int] = {"own": 0, "borrowed": 0, "upper_bound": 0}
    kept = []
    for completion in completions:
        if backend == "simulated":
            kept.append(completion)
            continue
        recorded, source = estimating.recording(completion.question)
        if completion.sample_index == 0:
            sources[source] += 1
        # Own recording: the driver's parse is the verdict. Borrowed: that recording's verdict.
        # None: unknown, assumed kept (an upper bound on the students' data).
        verdict = completion.correct if source == "own" else (recorded.correct if recorded is not None else True)
        kept.append(_with_correct(completion, verdict))
    if backend == "simulated":
        sources = {"own": 0, "borrowed": 0, "upper_bound": 0}
        lengths = "simulated teacher (rule-based) on the real questions"
    else:
        lengths = _lengths_label(sources, note, max_tokens)
    scale = questions / len(driven)
    totals = ledger.totals()
    prompt_tokens = round(totals["prompt_tokens"] * scale)
    completion_tokens = round(totals["completion_tokens"] * scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cost = estimate_cost(estimating.name, estimating.model, prompt_tokens, completion_tokens, prices)
    if estimating.name in _FREE:
        cost_note = _FREE[estimating.name]
    elif cost is None:
        cost_note = (f"no price for model {estimating.model!r} in fcot.teachers.ledger.DEFAULT_PRICES "
                     f"(known: {', '.join(sorted(prices or teachers.ledger.DEFAULT_PRICES))})") if unknown_price else "unknown"
    else:
        table = prices or teachers.ledger.DEFAULT_PRICES
        cost_note = f"{estimating.model}: ${table[estimating.model][0]:g} / ${table[estimating.model][1]:g} per 1M input / output tokens"
    return TeacherStep(
        step=step, task=task, backend=estimating.name, model=estimating.model, degree=degree, max_tokens=max_tokens,
        questions=questions, driven=len(driven), calls=round(totals["calls"] * scale), prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens, cost_usd=cost, cost_note=cost_note, lengths=lengths,
        budget_usd=budget_usd, kept_share=(sum(c.correct for c in kept) / len(kept)) if kept else None,
        examples=list(driven), completions=kept,
    )


def _with_correct(completion, correct: bool):
    import dataclasses

    return completion if completion.correct == correct else dataclasses.replace(completion, correct=bool(correct))


def simulated_teacher(task: str, *, degree: int, accuracy: float | None, max_tokens: int, seed: int,
                      sample: int | None) -> TeacherStep:
    """The simulated teacher (notebook 33) over the driven questions: its own rationales and verdicts."""
    pool, size, note = train_side(task)
    driven = spread(pool, sample)
    settings = {"task": task, "seed": SIMULATED_SEED}
    if accuracy is not None:
        settings["accuracy"] = accuracy
    backend = teachers.make_backend("simulated", **settings)
    ledger = teachers.Ledger()
    completions = teachers.generate(driven, backend, degree=degree, max_tokens=max_tokens, ledger=ledger, seed=seed)
    return TeacherStep(
        step="(simulated)", task=task, backend="simulated", model=str(getattr(backend, "model", "")), degree=degree,
        max_tokens=max_tokens, questions=size, driven=len(driven), calls=0, prompt_tokens=0, completion_tokens=0,
        cost_usd=0.0, cost_note=_FREE["simulated"], lengths="simulated teacher", examples=list(driven),
        completions=list(completions),
        kept_share=sum(c.correct for c in completions) / len(completions) if completions else None,
    )
