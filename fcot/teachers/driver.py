"""The teacher driver: ask a large LM to reason through each training question (Zero-shot-CoT).

:func:`generate` runs the paper's two calls per question and returns one
:class:`fcot.records.Completion` per (question, sample):

1. stage 1 -- ``Q: {question}\\nA: Let's think step by step.`` -> the **rationale**
   (``max_tokens`` = 128; greedy at degree 1, temperature 0.7 by default for degree > 1);
2. stage 2 -- stage-1 prompt + rationale + ``\\nTherefore, the answer is`` -> the answer
   completion (greedy, ``answer_max_tokens`` = 32), parsed by ``fcot.answers.parse_teacher``.

*Diverse reasoning* (degree D > 1) samples D rationales per question; every sample's requests
carry their own seed (:func:`sample_seed` of the run seed, the example id and the sample index), so
even servers that seed identically give distinct samples; :func:`summarize` reports how many were.

Every call goes through a durable cache (:class:`fcot.teachers.cache.ResponseCache`): a finished
run repeats zero calls, a killed one resumes where it stopped. The :class:`Ledger` counts tokens
and cost; with ``budget_usd`` the run stops *before* a call could pass the budget
(:class:`BudgetExceeded`, after saving everything done).

Backends: :func:`make_backend` (``openai``, ``hf``, ``replay``, ``simulated``). Where a teacher run's files live
(``completions.jsonl``, its call cache and ledger) is the teacher stage's business (``fcot.stages.teach``, a run
keyed by its config); this module reads and writes completions at the paths it is given.
"""

from __future__ import annotations

import hashlib
import logging
import os
import statistics
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from fcot.answers import candidates, is_correct, parse_teacher
from fcot.prompts import (
    FEW_SHOT_ANSWER_PREFIX,
    few_shot_cot_exemplars,
    few_shot_cot_prompt,
    split_few_shot_completion,
    zero_shot_cot_stage1,
    zero_shot_cot_stage2,
)
from fcot.records import Completion, Example, read_completions, write_jsonl
from fcot.teachers.base import Backend, GenerationRequest, GenerationResult
from fcot.teachers.cache import ResponseCache, cache_key
from fcot.teachers.ledger import DEFAULT_PRICES, BudgetExceeded, Ledger, estimate_cost
from fcot.teachers import simulated
from fcot.teachers.hf import HFBackend
from fcot.teachers.openai_backend import AuthError, BadRequestError, OpenAIBackend
from fcot.teachers.replay import ReplayBackend
from fcot import progress


log = logging.getLogger("fcot.teachers")  # the package's logger, as before the driver had its own module

KINDS = ("openai", "hf", "replay", "simulated")
METHODS = ("zero_shot_cot", "few_shot_cot")
DIVERSE_TEMPERATURE = 0.7


# -- configuration ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TeacherConfig:
    """Settings of one teacher run (validated on construction).

    ``temperature`` None means the paper's choice: 0 (greedy) at degree 1, 0.7 for degree > 1.
    ``stop``: stop strings for stage 1 (none in the paper: rationales run to EOS or max_tokens).
    ``concurrency`` None: the backend's own (``backend.concurrency``, else 1).
    """

    degree: int = 1
    temperature: float | None = None
    max_tokens: int = 128
    answer_max_tokens: int = 32
    method: str = "zero_shot_cot"
    seed: int = 0
    stop: tuple[str, ...] = ()
    budget_usd: float | None = None
    concurrency: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.degree, int) or self.degree < 1:
            raise ValueError(f"degree must be an integer >= 1 (rationales per question), got {self.degree!r}")
        if self.temperature is not None and not (0 <= self.temperature <= 2):
            raise ValueError(f"temperature must be in [0, 2] or None (paper default), got {self.temperature!r}")
        if self.max_tokens < 1 or self.answer_max_tokens < 1:
            raise ValueError(
                f"max_tokens and answer_max_tokens must be >= 1, got {self.max_tokens}, {self.answer_max_tokens}"
            )
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.budget_usd is not None and self.budget_usd < 0:
            raise ValueError(f"budget_usd must be >= 0 or None, got {self.budget_usd}")
        if self.concurrency is not None and self.concurrency < 1:
            raise ValueError(f"concurrency must be >= 1 or None, got {self.concurrency}")
        if isinstance(self.stop, str) or not all(isinstance(s, str) and s for s in self.stop):
            raise ValueError(f"stop must be a tuple of non-empty strings, got {self.stop!r}")
        object.__setattr__(self, "stop", tuple(self.stop))

    @property
    def sampling_temperature(self) -> float:
        if self.temperature is not None:
            return float(self.temperature)
        return 0.0 if self.degree == 1 else DIVERSE_TEMPERATURE


def sample_seed(seed: int, example_id: str, sample_index: int) -> int:
    """The seed of one sample's requests: a stable hash of (run seed, example id, sample index)."""
    digest = hashlib.sha256(f"{seed}|{example_id}|{sample_index}".encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % (2**31 - 1)


# -- completions files ----------------------------------------------------------------------------
def save_completions(completions: Sequence[Completion], path: str | os.PathLike) -> Path:
    """Write completions to the JSONL file ``path`` (atomically); returns the path."""
    path = Path(path)
    write_jsonl(path, completions)
    return path


def load_completions(name_or_path: str | os.PathLike) -> list[Completion]:
    """Read a completions JSONL file; a completion written twice raises naming both lines (it would otherwise count
    as a second rationale: degree 2)."""
    path = Path(name_or_path)
    if path.suffix != ".jsonl":
        raise ValueError(f"load_completions: {str(name_or_path)!r} is not a completions .jsonl file; a teacher run's "
                         "name is found with fcot.stages.find('teacher', name) and read with fcot.stages.completions_of")
    return read_completions(path)


# -- backends -------------------------------------------------------------------------------------
def make_backend(kind: str, **settings) -> Backend:
    """A teacher backend by kind: ``openai`` | ``hf`` | ``replay`` | ``simulated``.

    ``settings`` go to the backend's constructor: :class:`fcot.teachers.openai_backend.OpenAIBackend`
    (model, base_url, style, api_key_env, concurrency, ...), :class:`fcot.teachers.hf.HFBackend`
    (model, batch_size, ...), :class:`fcot.teachers.replay.ReplayBackend` (task, on_missing) and
    ``fcot.teachers.simulated.SimulatedTeacher``.
    """
    if kind == "openai":
        return OpenAIBackend(**settings)
    if kind == "hf":
        return HFBackend(**settings)
    if kind == "replay":
        return ReplayBackend(**settings)
    if kind == "simulated":
        return simulated.SimulatedTeacher(**settings)
    raise ValueError(f"unknown teacher backend kind {kind!r}; accepted: {KINDS}")


# -- calls: cache, ledger, budget, concurrency ---------------------------------------------------
def _chunks(backend, keyed: list[tuple[str, GenerationRequest]]) -> list[list[tuple[str, GenerationRequest]]]:
    size = max(1, int(getattr(backend, "batch_size", 1) or 1))
    if getattr(backend, "groups_samples", False):
        groups: dict[tuple, list] = {}
        for item in keyed:
            r = item[1]
            groups.setdefault((r.prompt, r.temperature, r.max_tokens, r.stop), []).append(item)
        return [g for g in groups.values()]
    return [keyed[i : i + size] for i in range(0, len(keyed), size)]


def run_calls(
    backend: Backend,
    requests: Sequence[GenerationRequest],
    cache: ResponseCache,
    ledger: Ledger,
    concurrency: int = 1,
    stage: str = "",
) -> list[GenerationResult]:
    """Results for ``requests`` in order: from the cache, else from the backend (stored first).

    At most ``concurrency`` chunks are in flight; each chunk's results are written to the cache
    (fsync'd) and entered in the ledger as soon as it returns. On an error or a budget stop, the
    calls in flight are finished and saved before the error is raised.
    """
    variant = getattr(backend, "variant", "") or ""
    keys = [cache_key(backend.name, backend.model, r, variant) for r in requests]
    pending: dict[str, GenerationRequest] = {}
    for key, request in zip(keys, requests):
        if key not in cache and key not in pending:
            pending[key] = request
    if pending:
        log.info("%s: %d of %d calls cached, %d to make", stage, len(requests) - len(pending), len(requests), len(pending))
        todo = _chunks(backend, list(pending.items()))
        in_flight: dict[Future, float] = {}
        errors: list[BaseException] = []
        budget_stop = False
        done_calls = 0

        def call(chunk):
            return backend.complete([r for _, r in chunk])

        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool, \
                progress.bar(total=len(pending), desc=f"teacher {stage}".strip(), unit="call") as calls_bar:
            futures_chunks: dict[Future, list] = {}
            attempts: dict[Future, str] = {}
            position = 0
            while position < len(todo) or in_flight:
                while position < len(todo) and len(in_flight) < concurrency and not errors and not budget_stop:
                    chunk = todo[position]
                    reserve = sum(
                        ledger.worst_case_cost(backend.name, backend.model, r.prompt, r.max_tokens) for _, r in chunk
                    )
                    if not ledger.reserve(reserve):
                        budget_stop = True
                        break
                    attempt = ledger.sent(backend.name, backend.model, stage, len(chunk), reserve)  # write-ahead
                    future = pool.submit(call, chunk)
                    in_flight[future] = reserve
                    futures_chunks[future] = chunk
                    attempts[future] = attempt
                    position += 1
                if not in_flight:
                    break
                finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for future in finished:
                    reserve = in_flight.pop(future)
                    chunk = futures_chunks.pop(future)
                    try:
                        _save_chunk(backend, cache, ledger, stage, chunk, future.result(), attempts[future])
                        attempts.pop(future)
                        done_calls += len(chunk)
                        calls_bar.update(len(chunk))
                    except BaseException as error:  # noqa: BLE001 - re-raised below after saving the rest
                        if _refused(error):  # the endpoint said no (4xx): nothing was billed
                            ledger.settle(attempts.pop(future), "failed")
                        # else (timeouts, dropped connections, retries run out): left possibly billed
                        errors.append(error)
                    finally:
                        ledger.release(reserve)
        if errors:
            raise errors[0]
        if budget_stop:
            totals = ledger.totals()
            raise BudgetExceeded(
                f"{stage}: stopped before passing the budget of ${ledger.budget_usd:.4f}: the next call could cost "
                f"more than the ${ledger.budget_usd - (totals['cost_usd'] or 0):.4f} left. Made {done_calls} of "
                f"{len(pending)} calls this stage, spent ${totals['cost_usd'] or 0:.4f} in all; every finished call "
                f"is saved{' in ' + str(cache.path) if cache.path else ''} -- rerun with a larger budget to continue."
            )
    return [cache.get(key) for key in keys]  # type: ignore[misc]


def _save_chunk(backend: Backend, cache: ResponseCache, ledger: Ledger, stage: str, chunk: Sequence,
                results: Sequence[GenerationResult], attempt: str) -> None:
    """Store one returned chunk: its results in the cache (first), their tokens in the ledger, the attempt settled."""
    if len(results) != len(chunk):
        raise RuntimeError(f"backend {backend.name} returned {len(results)} results for {len(chunk)} requests")
    cache.put_many([(k, res) for (k, _), res in zip(chunk, results)], backend=backend.name, model=backend.model)
    for res in results:
        ledger.record(backend.name, backend.model, stage, res.prompt_tokens, res.completion_tokens)
    abandoned = sum(res.extra.get("abandoned_attempts", 0) for res in results)
    ledger.settle(attempt, abandoned=abandoned)


def _refused(error: BaseException) -> bool:
    """An error for which the endpoint refused the call (auth, bad request): not billed."""
    return isinstance(error, (AuthError, BadRequestError, ValueError))


# -- the driver -----------------------------------------------------------------------------------
def _parse(text: str, example: Example) -> tuple[str | None, bool]:
    prediction = parse_teacher(text, example)
    return prediction, bool(prediction is not None and is_correct(prediction, example))


def _parse_few_shot(answer_part: str, text: str, example: Example) -> tuple[str | None, bool]:
    """The official fs_cot rule: first candidate after "The answer is", else the last one in the text."""
    if answer_part:
        return _parse(answer_part[len(FEW_SHOT_ANSWER_PREFIX) :], example)
    found = candidates(text, example)
    prediction = found[-1] if found else None
    return prediction, bool(prediction is not None and is_correct(prediction, example))


def _sum(*values: int | None) -> int | None:
    return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]


def generate(
    examples: Sequence[Example],
    backend: Backend,
    *,
    degree: int = 1,
    temperature: float | None = None,
    max_tokens: int = 128,
    answer_max_tokens: int = 32,
    method: str = "zero_shot_cot",
    cache: ResponseCache | str | os.PathLike | None = None,
    ledger: Ledger | str | os.PathLike | None = None,
    budget_usd: float | None = None,
    seed: int = 0,
    concurrency: int | None = None,
    stop: Sequence[str] = (),
    prices: Mapping[str, tuple[float, float]] | None = None,
) -> list[Completion]:
    """Teacher completions for ``examples``: ``degree`` per example, in example order.

    ``cache``: a :class:`ResponseCache`, a path to its JSONL file, or None (in memory only: no
    resume). ``ledger``: a :class:`Ledger`, a path to its JSONL file, or None (in memory).
    ``budget_usd``/``prices`` configure a ledger made here (a given Ledger keeps its own budget
    unless ``budget_usd`` is passed). Raises :class:`BudgetExceeded` (everything done is saved).
    """
    config = TeacherConfig(
        degree=degree,
        temperature=temperature,
        max_tokens=max_tokens,
        answer_max_tokens=answer_max_tokens,
        method=method,
        seed=seed,
        stop=tuple(stop),
        budget_usd=budget_usd,
        concurrency=concurrency,
    )
    if getattr(backend, "greedy_only", False) and (config.degree > 1 or config.sampling_temperature > 0):
        raise ValueError(
            f"backend {backend.name!r} replays greedy recordings: use degree=1 and temperature 0/None "
            f"(got degree={config.degree}, temperature={config.sampling_temperature})"
        )
    if config.degree > 1 and config.sampling_temperature == 0:
        log.warning("degree=%d with temperature 0: greedy samples of one question will be identical", config.degree)
    ids = [e.id for e in examples]
    if len(set(ids)) != len(ids):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise ValueError(f"example ids must be unique; repeated: {duplicates}")
    selector = getattr(backend, "filter_examples", None)
    if selector is not None:
        examples = selector(list(examples))

    own_cache = not isinstance(cache, ResponseCache)
    cache_obj = cache if isinstance(cache, ResponseCache) else ResponseCache(cache)
    if isinstance(ledger, Ledger):
        ledger_obj = ledger
        if budget_usd is not None:
            ledger_obj.budget_usd = budget_usd
    else:
        ledger_obj = Ledger(ledger, prices=prices, budget_usd=budget_usd)
    ledger_obj.check_budget_possible(backend.name, backend.model)
    workers = config.concurrency or int(getattr(backend, "concurrency", 1) or 1)
    try:
        return _generate(examples, backend, config, cache_obj, ledger_obj, workers)
    finally:
        if own_cache:
            cache_obj.close()


def _generate(examples, backend, config: TeacherConfig, cache, ledger, workers) -> list[Completion]:
    source = f"{backend.name}:{backend.model}"
    temperature = config.sampling_temperature
    slots = [(e, k, sample_seed(config.seed, e.id, k)) for e in examples for k in range(config.degree)]
    if config.method == "few_shot_cot":
        exemplars = {task: few_shot_cot_exemplars(task) for task in {e.task for e in examples}}
        stop = config.stop or ("\nQ:",)
        # REPRODUCTION NOTE: the official code stops Few-shot-CoT at "END" (i.e. runs on to
        # max_tokens); we stop at the next "\nQ:". The parsed answer is the same: both take the
        # first candidate after "The answer is".
        requests = [
            GenerationRequest(few_shot_cot_prompt(exemplars[e.task], e.question), config.max_tokens, temperature, s, stop)
            for e, _, s in slots
        ]
        results = run_calls(backend, requests, cache, ledger, workers, stage="few_shot_cot")
        out = []
        for (e, k, _), res in zip(slots, results):
            rationale, answer_part = split_few_shot_completion(res.text)
            prediction, correct = _parse_few_shot(answer_part, res.text, e)
            out.append(
                Completion(
                    task=e.task, example_id=e.id, sample_index=k, question=e.question, rationale=rationale,
                    answer_completion=answer_part, prediction=prediction, gold=e.answer, correct=correct,
                    finish_reason=res.finish_reason, prompt_tokens=res.prompt_tokens,
                    completion_tokens=res.completion_tokens, source=source,
                )
            )
        return out

    stage1_prompts = [zero_shot_cot_stage1(e.question) for e, _, _ in slots]
    stage1 = [
        GenerationRequest(p, config.max_tokens, temperature, s, config.stop) for p, (_, _, s) in zip(stage1_prompts, slots)
    ]
    rationales = run_calls(backend, stage1, cache, ledger, workers, stage="rationale")
    # stage 2 is greedy, as in the official code (temperature 0 for the answer extraction)
    stage2 = [
        GenerationRequest(zero_shot_cot_stage2(p, r.text), config.answer_max_tokens, 0.0, s)
        for p, r, (_, _, s) in zip(stage1_prompts, rationales, slots)
    ]
    answers = run_calls(backend, stage2, cache, ledger, workers, stage="answer")
    out = []
    for (e, k, _), r, a in zip(slots, rationales, answers):
        prediction, correct = _parse(a.text, e)
        out.append(
            Completion(
                task=e.task, example_id=e.id, sample_index=k, question=e.question, rationale=r.text,
                answer_completion=a.text, prediction=prediction, gold=e.answer, correct=correct,
                finish_reason=r.finish_reason,
                prompt_tokens=_sum(r.prompt_tokens, a.prompt_tokens),
                completion_tokens=_sum(r.completion_tokens, a.completion_tokens),
                source=source,
            )
        )
    _warn_if_degenerate(out, config.degree if config.sampling_temperature > 0 else 1, source)
    return out


def _warn_if_degenerate(completions: Sequence[Completion], degree: int, source: str) -> None:
    """Say so when a teacher's output is stored but would silently weaken the study: empty rationales, or D > 1
    samples that are all the same (a server that ignores temperature and seed, measured with `transformers serve`)."""
    import warnings

    empty = sum(not c.rationale.strip() for c in completions)
    if empty:
        warnings.warn(f"{source}: {empty} of {len(completions)} completions have an empty rationale (stored as they are; "
                      "their samples teach no reasoning)", stacklevel=3)
    if degree > 1 and completions:
        counts = distinct_counts(completions)
        same = sum(n == 1 for n in counts.values())
        if same >= len(counts) / 2:
            warnings.warn(f"{source}: for {same} of {len(counts)} questions all {degree} sampled rationales are "
                          "identical: the teacher seems to ignore temperature and seed, so diverse reasoning adds no "
                          "information (check the server's sampling settings)", stacklevel=3)


# -- summaries ------------------------------------------------------------------------------------
def distinct_counts(completions: Sequence[Completion]) -> dict[str, int]:
    """Per example id: how many distinct rationales its samples have."""
    seen: dict[str, set[str]] = {}
    for c in completions:
        seen.setdefault(c.example_id, set()).add(c.rationale.strip())
    return {k: len(v) for k, v in seen.items()}


def rationale_words(completion: Completion) -> int:
    """A rationale's length in whitespace-separated words."""
    return len(completion.rationale.split())


def _model_of(source: str) -> tuple[str, str]:
    backend, _, model = source.partition(":")
    return backend, model


def summarize(
    completions: Sequence[Completion],
    prices: Mapping[str, tuple[float, float]] | None = None,
) -> dict:
    """The teacher's numbers for a set of completions (a flat dict, ready for a table).

    * ``teacher_accuracy``: share of completions whose answer is correct; ``share_filtered``: the
      rest (their rationales are dropped by the curation); ``questions_with_a_correct_sample``;
    * ``rationale_words_mean/median/p90``; ``truncation_rate``: share stopped by max_tokens
      (``finish_reason == "length"`` among those with a known finish reason; None if none known);
    * ``distinct_per_question_mean`` and ``share_questions_all_distinct`` (diverse reasoning);
    * ``prompt_tokens``/``completion_tokens`` (None if unknown) and ``cost_usd`` estimated from
      them with the price table (None when a price or a count is unknown).
    """
    n = len(completions)
    if n == 0:
        return {"completions": 0, "questions": 0}
    correct = sum(c.correct for c in completions)
    by_question: dict[str, list[Completion]] = {}
    for c in completions:
        by_question.setdefault(c.example_id, []).append(c)
    words = sorted(rationale_words(c) for c in completions)
    known_finish = [c for c in completions if c.finish_reason is not None]
    distinct = distinct_counts(completions)
    degree = max(len(v) for v in by_question.values())
    prompt_tokens = _sum(*(c.prompt_tokens for c in completions))
    completion_tokens = _sum(*(c.completion_tokens for c in completions))
    cost: float | None = 0.0
    for source in {c.source for c in completions}:
        backend, model = _model_of(source)
        group = [c for c in completions if c.source == source]
        part = estimate_cost(
            backend,
            model,
            _sum(*(c.prompt_tokens for c in group)),
            _sum(*(c.completion_tokens for c in group)),
            DEFAULT_PRICES if prices is None else prices,
        )
        cost = None if part is None or cost is None else cost + part
    return {
        "completions": n,
        "questions": len(by_question),
        "degree": degree,
        "teacher_accuracy": correct / n,
        "share_filtered": 1 - correct / n,
        "questions_with_a_correct_sample": sum(any(c.correct for c in v) for v in by_question.values())
        / len(by_question),
        "unparsed": sum(c.prediction is None for c in completions) / n,
        "rationale_words_mean": statistics.fmean(words),
        "rationale_words_median": statistics.median(words),
        "rationale_words_p90": words[min(n - 1, int(0.9 * n))],
        "truncation_rate": (
            sum(c.finish_reason == "length" for c in known_finish) / len(known_finish) if known_finish else None
        ),
        "distinct_per_question_mean": statistics.fmean(distinct.values()),
        "share_questions_all_distinct": sum(
            distinct[q] == len(v) for q, v in by_question.items()
        )
        / len(by_question),
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "cost_usd": cost,
        "sources": sorted({c.source for c in completions}),
    }


# -- notebook helpers -----------------------------------------------------------------------------
def choose_backend(
    kind: str,
    *,
    task: str,
    model: str = "",
    base_url: str = "",
    api_key_env: str = "OPENAI_API_KEY",
    style: str = "completions",
    concurrency: int = 8,
    simulated_accuracy: float | None = None,
    batch_size: int = 8,
    seed: int = 0,
    timeout_s: float = 120.0,
) -> Backend:
    """A backend from one flat set of notebook parameters; each kind takes the ones it needs.

    ``openai``: model (required), base_url (default api.openai.com), api_key_env, style,
    concurrency, timeout_s (the deadline of each attempt as a whole: connecting and reading the whole answer).
    ``hf``: model (hub id or local path, required), batch_size. ``replay``: task
    (greedy recordings of text-davinci-002). ``simulated``: task, simulated_accuracy, seed.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown teacher backend kind {kind!r}; accepted: {KINDS}")
    if kind in ("openai", "hf") and not model:
        raise ValueError(f"backend {kind!r} needs model= (an endpoint's model name, or a hub id / local path)")
    if kind == "openai":
        settings = dict(model=model, style=style, api_key_env=api_key_env or None, concurrency=concurrency,
                        timeout_s=timeout_s)
        if base_url:
            settings["base_url"] = base_url
        return make_backend("openai", **settings)
    if kind == "hf":
        return make_backend("hf", model=model, batch_size=batch_size)
    if kind == "replay":
        return make_backend("replay", task=task)
    settings = {"task": task, "seed": seed}
    if simulated_accuracy is not None:
        settings["accuracy"] = simulated_accuracy
    return make_backend("simulated", **settings)


def completion_table(completions: Sequence[Completion], n: int = 3):
    """A few correct completions (kept by the filter) and wrong ones (filtered out), whole, as a
    styled table that wraps long text instead of cutting it (pandas would cut at 50 characters)."""
    import pandas as pd

    rows = []
    for kept in (True, False):
        for c in [c for c in completions if c.correct == kept][:n]:
            rows.append(
                {
                    "kept": kept,
                    "example_id": c.example_id,
                    "rationale #": c.sample_index,
                    "question": c.question,
                    "rationale": c.rationale.strip(),
                    "answer completion": c.answer_completion.strip(),
                    "prediction": c.prediction,
                    "gold": c.gold,
                }
            )
    return pd.DataFrame(rows)
