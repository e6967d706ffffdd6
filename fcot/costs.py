"""What a profile costs: teacher calls, tokens and USD, student FLOPs and GPU hours -- estimated offline.

:func:`estimate` expands a profile exactly as ``make reproduce PROFILE=<name>`` would
(:func:`fcot.study.plan`, with the same ``--set`` overrides and ``--only`` selection) and walks its
steps:

* **Teacher** (each notebook-10 step): the real teacher driver (:func:`fcot.teachers.generate`)
  runs over the task's real train questions with an :class:`EstimatingBackend`, an offline
  stand-in for the endpoint that makes no network call and returns completions of realistic
  length. The driver's own :class:`fcot.teachers.Ledger` counts the calls, prompt and completion
  tokens and prices them with :data:`fcot.teachers.ledger.DEFAULT_PRICES` (an unknown model gets
  cost None, with the reason). Lengths come from the recorded text-davinci-002 logs
  (:mod:`fcot.recorded`): a question's own recording where the log covers it, else a recording of
  another question of the same task (the logs that cover the test side only), else ``max_tokens``
  (an upper bound). With ``sample`` set, the driver runs over that many evenly spaced questions per
  step and the counts are scaled to the whole step (calls exactly: two per question and sample).
* **Students** (notebooks 20/21, 30-36, 40): parameters of the student (:data:`STUDENT_PARAMETERS`)
  x tokens. Training: 6 FLOPs per parameter per training token (forward + backward) over the
  curated samples (the teacher estimate above, filtered by :func:`fcot.curate.curate`) and the
  epochs, plus a forward pass (2 FLOPs per parameter per token) over the validation samples each
  epoch. Evaluation: 2 FLOPs per parameter per token, prompt plus ``max_new_tokens`` generated (an
  upper bound). An encoder-decoder's tokens pass through about half its parameters (encoder or
  decoder). Experiments (30-36) with the same canonical configuration are one run, counted once,
  as :func:`fcot.experiments.run_experiment` skips a finished configuration.
* **GPU hours** = FLOPs / (peak FLOP/s x MFU). The MFU measured by ``make bench-gpu``
  (``results/bench/gpu.json``) is used when that file exists (the measured size nearest in
  parameters), else :data:`DEFAULT_GPU` at :data:`DEFAULT_MFU` (an assumption, said so).

:func:`markdown` renders the tables with the assumptions under them, :func:`summary_markdown`
the README block (between :data:`BEGIN` and :data:`END`, written by :func:`write_readme_block`),
:func:`to_json` the same numbers as a JSON object. ``python -m fcot cost --profile paper``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

from fcot import curate, paths, recorded, steps, study, tasks, teachers
from fcot.runs import publish
from fcot.recorded import normalize_question

__all__ = [
    "BEGIN",
    "CHARS_PER_TOKEN",
    "CostEstimate",
    "DEFAULT_GPU",
    "DEFAULT_MFU",
    "DEFAULT_SAMPLE",
    "END",
    "EstimatingBackend",
    "Gpu",
    "STUDENT_PARAMETERS",
    "StudentRun",
    "TeacherStep",
    "count_tokens",
    "estimate",
    "gpu_assumption",
    "markdown",
    "student_spec",
    "summary_markdown",
    "to_json",
    "write_readme_block",
]

BEGIN = "<!-- BEGIN paper-cost -->"
END = "<!-- END paper-cost -->"

# REPRODUCTION NOTE: the paper states no compute or API cost. fcot estimates the paper profile's
# cost offline, counting tokens as ceil(characters / 4) for the teacher (GPT-3 BPE) and the
# students (GPT-2 BPE, T5 SentencePiece) alike: no GPT-2/GPT-3 tokenizer is available without the
# hub, and ~4 characters per token is OpenAI's rule of thumb for English text (digits and names can
# take more tokens, so counts are approximate to perhaps +-25%).
CHARS_PER_TOKEN = 4
DEFAULT_SAMPLE = 100  # teacher questions driven per step by the committed estimate (then scaled)
BENCH_GPU_JSON = paths.REPO_ROOT / "results" / "bench" / "gpu.json"
#: The GPU assumed when no ``make bench-gpu`` measurement exists: name and peak dense bf16 TFLOP/s
#: (the value of ``bench.gpu.PEAK_BF16_TFLOPS`` for it), and the model-FLOPs utilisation assumed.
DEFAULT_GPU = ("NVIDIA A100", 312.0)
DEFAULT_MFU = 0.30
TRAIN_FLOPS_PER_PARAMETER_TOKEN = 6  # forward (2) + backward (4)
FORWARD_FLOPS_PER_PARAMETER_TOKEN = 2



def count_tokens(text: str) -> int:
    """The approximate token count of ``text``: ceil(characters / :data:`CHARS_PER_TOKEN`)."""
    return -(-len(text) // CHARS_PER_TOKEN)


class ApproxTokenizer:
    """A tokenizer-shaped counter for :func:`fcot.curate.curate`: tokens are 4-character chunks.

    ``input_ids`` are the chunks themselves, so ``decode`` of a prefix is the text's prefix (what a
    rationale cut to N tokens keeps).
    """

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict:
        return {"input_ids": [text[i : i + CHARS_PER_TOKEN] for i in range(0, len(text), CHARS_PER_TOKEN)]}

    def decode(self, ids: Sequence[str], skip_special_tokens: bool = True) -> str:
        return "".join(ids)


# ---------------------------------------------------------------------------------------------
# Students


@dataclass(frozen=True)
class StudentSpec:
    """A hub student: its parameter count, architecture kind and where the count comes from."""

    parameters: int
    kind: str  # "decoder" | "encoder_decoder"
    source: str


_CARD = "parameter count of the released checkpoint (its Hugging Face model card / safetensors metadata)"
#: Parameter counts of the hub students the profiles name (every parameter, embeddings included;
#: tied embeddings counted once). The GPT-2 and T5 counts equal a model built from the published
#: config (checked in tests/test_costs.py).
STUDENT_PARAMETERS: dict[str, StudentSpec] = {
    "gpt2": StudentSpec(124_439_808, "decoder", f"GPT-2 small, {_CARD}"),
    "gpt2-medium": StudentSpec(354_823_168, "decoder", f"GPT-2 medium, {_CARD}"),
    "gpt2-large": StudentSpec(774_030_080, "decoder", f"GPT-2 large, {_CARD}"),
    "gpt2-xl": StudentSpec(1_557_611_200, "decoder", f"GPT-2 XL, {_CARD}"),
    "t5-small": StudentSpec(60_506_624, "encoder_decoder", f"T5 small, {_CARD}"),
    "t5-base": StudentSpec(222_903_552, "encoder_decoder", f"T5 base, {_CARD}"),
    "t5-large": StudentSpec(737_668_096, "encoder_decoder", f"T5 large, {_CARD}"),
    "google/flan-t5-small": StudentSpec(76_961_152, "encoder_decoder", f"Flan-T5 small (untied LM head), {_CARD}"),
    "google/flan-t5-base": StudentSpec(247_577_856, "encoder_decoder", f"Flan-T5 base (untied LM head), {_CARD}"),
    "google/flan-t5-large": StudentSpec(783_150_080, "encoder_decoder", f"Flan-T5 large (untied LM head), {_CARD}"),
    "Qwen/Qwen2.5-0.5B": StudentSpec(494_032_768, "decoder", f"Qwen2.5-0.5B (tied embeddings), {_CARD}"),
}
_HUB_ALIASES = {"openai-community/": "", "google-t5/": ""}


def student_spec(name: str) -> StudentSpec | None:
    """The :class:`StudentSpec` of a hub id (``gpt2``, ``openai-community/gpt2``, ...), None if unknown."""
    for prefix, replacement in _HUB_ALIASES.items():
        if name.startswith(prefix):
            name = replacement + name[len(prefix) :]
    return STUDENT_PARAMETERS.get(name)


# ---------------------------------------------------------------------------------------------
# GPU


@dataclass(frozen=True)
class Gpu:
    """The GPU the hours are computed for: its peak dense bf16 FLOP/s and the MFU reached on it.

    ``measured``: ``(parameters, mfu)`` per size measured by ``make bench-gpu``; a student then gets
    the MFU of the measured size nearest in parameters (log scale) instead of ``mfu``.
    """

    name: str
    peak_flops: float
    mfu: float
    source: str
    measured: tuple[tuple[int, float], ...] = ()

    def __post_init__(self) -> None:
        if not self.peak_flops > 0:
            raise ValueError(f"Gpu.peak_flops must be > 0 FLOP/s, got {self.peak_flops!r}")
        if not 0 < self.mfu <= 1:
            raise ValueError(f"Gpu.mfu must be in (0, 1] (a share of the peak), got {self.mfu!r}")

    def mfu_for(self, parameters: int) -> float:
        if not self.measured:
            return self.mfu
        return min(self.measured, key=lambda m: abs(math.log(m[0] / parameters)))[1]

    def hours(self, flops: float, parameters: int) -> float:
        return flops / (self.peak_flops * self.mfu_for(parameters)) / 3600.0


def gpu_assumption(
    bench_json: str | os.PathLike | None = BENCH_GPU_JSON,
    name: str | None = None,
    peak_tflops: float | None = None,
    mfu: float | None = None,
) -> Gpu:
    """The GPU for the hours: ``make bench-gpu``'s measurement if ``bench_json`` exists (and no
    ``mfu``/``peak_tflops`` is given), else :data:`DEFAULT_GPU` at :data:`DEFAULT_MFU`."""
    path = Path(bench_json) if bench_json else None
    if path is not None and path.is_file() and mfu is None and peak_tflops is None:
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not JSON ({error}); rerun `make bench-gpu` or pass --mfu") from None
        sizes = [s for s in report.get("sizes", []) if s.get("mfu") and s.get("peak_bf16_tflops")]
        if sizes:
            device = (report.get("environment") or {}).get("device") or "the benchmarked GPU"
            measured = tuple((int(s["parameters"]), float(s["mfu"])) for s in sizes)
            listing = ", ".join(f"{s['size']} {100 * float(s['mfu']):.1f} %" for s in sizes)
            return Gpu(
                name=name or device,
                peak_flops=float(sizes[0]["peak_bf16_tflops"]) * 1e12,
                mfu=sum(m for _, m in measured) / len(measured),
                source=f"measured by `make bench-gpu` ({_relative(path)}): MFU {listing}; each student gets the "
                       f"MFU of the measured size nearest in parameters",
                measured=measured,
            )
    gpu_name = name or DEFAULT_GPU[0]
    peak = peak_tflops if peak_tflops is not None else DEFAULT_GPU[1]
    share = mfu if mfu is not None else DEFAULT_MFU
    given = "given" if (mfu is not None or peak_tflops is not None) else "assumed"
    return Gpu(
        name=gpu_name,
        peak_flops=float(peak) * 1e12,
        mfu=float(share),
        source=f"{given}: {gpu_name} at {peak:g} TFLOP/s peak dense bf16 and {100 * share:.0f} % MFU "
               f"(no `make bench-gpu` measurement at {_relative(BENCH_GPU_JSON) if path is None else _relative(path)})",
    )


def _relative(path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(paths.REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


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
        from fcot.prompts import ANSWER_TRIGGER
        from fcot.teachers.base import GenerationResult
        from fcot.teachers.replay import zero_shot_question

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
# Data


@lru_cache(maxsize=None)
def _recordings(task: str) -> tuple:
    """The recorded text-davinci-002 completions of a task whose log is in the data mirror (else ())."""
    if task not in recorded.MIRRORED_TASKS:
        return ()
    return tuple(recorded.load_recorded(task).completions)


@lru_cache(maxsize=None)
def _train_side(task: str) -> tuple[tuple, int, str]:
    """``(questions to drive, official train size, note)``: the official train side of ``task``."""
    from fcot.paths import DataUnavailableError

    try:
        examples = tuple(tasks.load_examples(task, part="train"))
        return examples, len(examples), ""
    except DataUnavailableError:
        # REPRODUCTION NOTE: AQuA's train.json is not in the data mirror: the cost estimate takes the
        # train size from the official split file (10,000 questions) and drives the teacher over the
        # aqua test questions as stand-ins for the train questions' lengths.
        size = len(tasks.load_split_indices(task)[0])
        stand_ins = tuple(tasks.load_examples(task, part="test"))
        return stand_ins, size, (f"{task} train questions not in the data mirror: {size:,} (official split file), "
                                 f"lengths from its {len(stand_ins)} test questions as stand-ins")


@lru_cache(maxsize=None)
def _test_side(task: str) -> tuple:
    return tuple(tasks.load_examples(task, part="test"))


def _spread(items: Sequence, k: int | None) -> list:
    """``k`` evenly spaced items (all of them when k is None or >= len)."""
    items = list(items)
    if k is None or k >= len(items):
        return items
    return [items[i * len(items) // k] for i in range(k)]


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
    pool, size, note = _train_side(task)
    questions = min(n_train, size) if n_train else size
    pool = pool[:questions] if not note else pool
    driven = _spread(pool, sample)
    if backend not in teachers.KINDS:
        raise ValueError(f"step {step}: unknown teacher backend kind {backend!r}; accepted: {teachers.KINDS}")
    recordings = _recordings(task) if backend != "simulated" else ()
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
    from fcot.teachers.ledger import estimate_cost

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


# ---------------------------------------------------------------------------------------------
# Student runs


@dataclass
class StudentRun:
    """The compute of one student run: training (with validation) and/or evaluation."""

    step: str
    run: str
    task: str
    student: str
    parameters: int | None
    kind: str | None
    method: str
    epochs: int
    train_questions: int
    val_questions: int
    train_samples: int
    training_tokens: int  # every epoch's training tokens
    validation_tokens: int  # every epoch's validation tokens (forward only)
    test_questions: int
    evaluation_tokens: int  # prompts + generated tokens (upper bound)
    training_flops: float | None
    evaluation_flops: float | None
    gpu_hours: float | None
    counted: bool = True  # False: the same configuration as an earlier run (not run again)
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _effective_parameters(spec: StudentSpec) -> float:
    # An encoder-decoder's token goes through the encoder or the decoder: about half the parameters.
    return spec.parameters / 2 if spec.kind == "encoder_decoder" else float(spec.parameters)


def _curated_per_question(teacher: TeacherStep | None, examples: Sequence, *, method: str, kind: str, degree: int,
                          filter_mode: str, max_rationale_tokens: int | None, max_length: int) -> tuple[float, float]:
    """(samples, tokens) per train question of the curated data, from the driven questions."""
    fmt = curate.format_for(method, kind)
    completions = [c for c in (teacher.completions if teacher else []) if c.sample_index < degree]
    cut = max_rationale_tokens if method != "vanilla" else None
    result = curate.curate(completions, examples, mode=filter_mode, fmt=fmt,
                           tokenizer=ApproxTokenizer() if cut else None, max_rationale_tokens=cut)
    tokens = 0
    for sample in result.samples:
        prompt, completion = count_tokens(sample.prompt), count_tokens(sample.completion) + 1  # + EOS
        if kind == "encoder_decoder":
            tokens += min(prompt + 1, max_length) + min(completion, max_length)
        else:
            tokens += min(prompt + completion, max_length)
    return len(result.samples) / len(examples), tokens / len(examples)


def _prompt_tokens(test: Sequence, fmt: str, kind: str) -> float:
    """Mean tokens of the evaluation prompts of ``test`` questions in ``fmt``."""
    if not test:
        return 0.0
    if fmt in curate.METHODS:
        full = curate.format_for(fmt, kind)
        return sum(count_tokens(curate.inference_prompt(e.question, full)) for e in test) / len(test)
    from fcot.prompts import zero_shot_cot_stage1

    return sum(count_tokens(zero_shot_cot_stage1(e.question)) for e in test) / len(test)


def _student_run(step: str, run: str, task: str, student: str, *, method: str, epochs: int, train_questions: int,
                 val_questions: int, per_question: tuple[float, float] | None, val_per_question: tuple[float, float] | None,
                 test: Sequence, eval_fmt: str, max_new_tokens: int, gpu: Gpu, generations: int = 1,
                 note: str = "", counted: bool = True) -> StudentRun:
    spec = student_spec(student)
    kind = spec.kind if spec else "decoder"
    samples = round(per_question[0] * train_questions) if per_question else 0
    training_tokens = round(per_question[1] * train_questions * epochs) if per_question else 0
    validation_tokens = round(val_per_question[1] * val_questions * epochs) if val_per_question else 0
    prompt = _prompt_tokens(test, eval_fmt, kind)
    evaluation_tokens = round(len(test) * generations * (prompt + max_new_tokens))
    if spec is None:
        flops_train = flops_eval = hours = None
        note = "; ".join(filter(None, [note, f"no parameter count for student {student!r} (add it to "
                                             f"fcot.costs.STUDENT_PARAMETERS): FLOPs not estimated"]))
    else:
        n = _effective_parameters(spec)
        flops_train = TRAIN_FLOPS_PER_PARAMETER_TOKEN * n * training_tokens + FORWARD_FLOPS_PER_PARAMETER_TOKEN * n * validation_tokens
        flops_eval = FORWARD_FLOPS_PER_PARAMETER_TOKEN * n * evaluation_tokens
        hours = gpu.hours(flops_train + flops_eval, spec.parameters) if counted else 0.0
    return StudentRun(
        step=step, run=run, task=task, student=student, parameters=spec.parameters if spec else None,
        kind=spec.kind if spec else None, method=method, epochs=epochs, train_questions=train_questions,
        val_questions=val_questions, train_samples=samples, training_tokens=training_tokens,
        validation_tokens=validation_tokens, test_questions=len(test), evaluation_tokens=evaluation_tokens,
        training_flops=flops_train, evaluation_flops=flops_eval, gpu_hours=hours, counted=counted, note=note,
    )


# ---------------------------------------------------------------------------------------------
# The estimate


@dataclass
class CostEstimate:
    """Everything :func:`estimate` found: teacher steps, student runs, the GPU and the assumptions."""

    profile: str
    overrides: tuple[str, ...]
    only: str | None
    sample: int | None
    executions: int
    gpu: Gpu
    teacher: list[TeacherStep]
    students: list[StudentRun]
    free_steps: dict[str, int]  # notebook -> executions that cost neither API calls nor GPU time
    assumptions: list[str]

    # -- totals -----------------------------------------------------------------------------------
    def teacher_totals(self) -> dict:
        costs = [t.cost_usd for t in self.teacher]
        return {
            "steps": len(self.teacher),
            "questions": sum(t.questions for t in self.teacher),
            "calls": sum(t.calls for t in self.teacher),
            "prompt_tokens": sum(t.prompt_tokens for t in self.teacher),
            "completion_tokens": sum(t.completion_tokens for t in self.teacher),
            "cost_usd": None if any(c is None for c in costs) else sum(costs),
            "cost_usd_known": sum(c for c in costs if c is not None),
            "steps_with_unknown_cost": sum(c is None for c in costs),
        }

    def student_stages(self) -> list[dict]:
        """One row per profile step id (in order): runs, tokens, FLOPs, GPU hours."""
        rows: dict[str, dict] = {}
        for run in self.students:
            row = rows.setdefault(run.step, {"step": run.step, "runs": 0, "shared_runs": 0, "students": [],
                                             "training_tokens": 0, "evaluation_tokens": 0, "flops": 0.0,
                                             "gpu_hours": 0.0, "unknown": 0})
            if not run.counted:
                row["shared_runs"] += 1
                continue
            row["runs"] += 1
            if run.student not in row["students"]:
                row["students"].append(run.student)
            row["training_tokens"] += run.training_tokens
            row["evaluation_tokens"] += run.evaluation_tokens
            if run.training_flops is None:
                row["unknown"] += 1
            else:
                row["flops"] += run.training_flops + run.evaluation_flops
                row["gpu_hours"] += run.gpu_hours
        return list(rows.values())

    def student_totals(self) -> dict:
        stages = self.student_stages()
        return {
            "runs": sum(r["runs"] for r in stages),
            "shared_runs": sum(r["shared_runs"] for r in stages),
            "training_tokens": sum(r["training_tokens"] for r in stages),
            "evaluation_tokens": sum(r["evaluation_tokens"] for r in stages),
            "flops": sum(r["flops"] for r in stages),
            "gpu_hours": sum(r["gpu_hours"] for r in stages),
            "runs_with_unknown_flops": sum(r["unknown"] for r in stages),
        }


def _defaults(notebook_path: Path) -> dict:
    return {name: p.default for name, p in study.notebook_parameters(notebook_path).items()}


def _train_and_validation(task: str, n_train: int, n_val: int) -> tuple[int, int]:
    """Train and validation questions of a chain (as :func:`fcot.data.examples` counts them)."""
    size = _train_side(task)[1]
    val = n_val or max(1, round(0.1 * size))
    train = min(n_train, size - val) if n_train else size - val
    return train, val


def _teacher_questions(p: Mapping) -> int:
    """Questions a teacher step answers: its train and validation questions (0 = the whole train side)."""
    return p["n_train"] + p["n_val"] if p["n_train"] and p["n_val"] else 0


def estimate(
    profile: str | os.PathLike = "paper",
    overrides: Sequence[str] = (),
    *,
    only: str | None = None,
    sample: int | None = DEFAULT_SAMPLE,
    gpu: Gpu | None = None,
    prices: Mapping[str, tuple[float, float]] | None = None,
    profiles_dir: str | os.PathLike | None = None,
) -> CostEstimate:
    """The cost of running ``profile`` (a name in ``notebooks/profiles`` or a ``.yaml`` path) with
    ``--set`` ``overrides`` and ``--only`` selection, as :func:`fcot.study.plan` expands it.

    ``sample``: teacher questions driven per step (None = every question; slower, the same counts
    of calls, tokens scaled from fewer questions otherwise). ``gpu``: default :func:`gpu_assumption`.
    """
    from fcot import students  # imports torch

    loaded = study.load_profile(profile, profiles_dir)
    runs = study.plan(loaded, [study.parse_override(o) for o in overrides], only)
    gpu = gpu or gpu_assumption()
    defaults_cache: dict[Path, dict] = {}

    def parameters(run) -> dict:
        if run.notebook_path not in defaults_cache:
            defaults_cache[run.notebook_path] = _defaults(run.notebook_path)
        return {**defaults_cache[run.notebook_path], **run.parameters}

    teacher_steps: list[TeacherStep] = []
    by_name: dict[str, TeacherStep] = {}
    derived: dict[tuple, TeacherStep] = {}
    student_runs: list[StudentRun] = []
    seen_experiments: set[str] = set()
    free: dict[str, int] = {}
    notes: set[str] = set()

    def teacher_for(task: str, teacher: str, *, degree: int = 1, accuracy: float | None = None,
                    max_tokens: int = 128, seed: int = 0) -> TeacherStep:
        """The teacher estimate a student step reads: a notebook-10 run of this plan by name, the
        recorded runs, or the simulated teacher."""
        if teacher in by_name and by_name[teacher].task == task:
            return by_name[teacher]
        kind = "simulated" if teacher == "simulated" else "replay"
        if teacher not in ("recorded", "replay", "simulated"):
            notes.add(f"teacher {teacher!r} is not written by a teacher step of this plan: its rationale lengths are "
                      f"taken from the recorded text-davinci-002 runs")
        key = (task, kind, degree, accuracy, max_tokens, seed)
        if key not in derived:
            if kind == "simulated":
                derived[key] = _simulated_teacher(task, degree=degree, accuracy=accuracy, max_tokens=max_tokens,
                                                  seed=seed, sample=sample)
            else:
                derived[key] = estimate_teacher(f"({teacher})", task, backend="replay", model="text-davinci-002",
                                                degree=1, max_tokens=max_tokens, sample=sample, seed=seed)
        return derived[key]

    curations: dict[str, tuple] = {}  # curation run name -> (teacher step or None, task, method, n_train, n_val, n_test)
    trained: dict[str, tuple] = {}  # student run name -> (task, student, method, n_test)
    data_of: dict[str, tuple] = {}  # teacher run name -> (n_train, n_val, n_test)

    for run in runs:
        notebook = run.notebook_path.stem
        job = steps.job(notebook)
        p = parameters(run)
        if job == "teach":
            name = p["name"] or f"{p['task']}-{p['backend']}-d{p['degree']}"
            step = estimate_teacher(
                run.name, p["task"], backend=p["backend"], model=p["model"], degree=p["degree"],
                max_tokens=p["max_tokens"], temperature=p["temperature"], n_train=_teacher_questions(p),
                seed=p["data_seed"], budget_usd=p["budget_usd"], sample=sample, prices=prices,
            )
            teacher_steps.append(step)
            by_name[name] = step
            data_of[name] = (p["n_train"], p["n_val"], p["n_test"])
            if p["backend"] == "replay" and "own question" not in step.lengths:
                notes.add(f"{run.name}: backend replay has no recording for (some of) the {p['task']} train questions; "
                          f"the real run stops there (replay serves recorded questions only)")
        elif job == "curate":
            if not p["teacher_run"] or p["teacher_run"] not in by_name:
                free[notebook] = free.get(notebook, 0) + 1  # reads a run made outside this plan (or the smoke chain)
                continue
            teacher = by_name[p["teacher_run"]]
            name = p["name"] or f"{teacher.task}-{p['method']}"
            curations[name] = (teacher if p["method"] != "vanilla" else None, teacher.task, p["method"],
                               *data_of[p["teacher_run"]])
            free[notebook] = free.get(notebook, 0) + 1
        elif job == "train":
            if p["samples_run"] not in curations:
                free[notebook] = free.get(notebook, 0) + 1  # the smoke chain's tiny student, on the CPU
                continue
            teacher, task, method, n_train, n_val, n_test = curations[p["samples_run"]]
            student = p["student"]
            chosen = {k: p[k] for k in ("epochs", "lr") if p.get(k) is not None}
            config = students.recipe_config(p["recipe"], student=student, seed=p["seed"], **chosen)
            spec = student_spec(student)
            kind = spec.kind if spec else "decoder"
            pool = teacher.examples if teacher else _spread(_train_side(task)[0], sample)
            train_questions, val_questions = _train_and_validation(task, n_train, n_val)
            per_question = _curated_per_question(teacher, pool, method=method, kind=kind, degree=1,
                                                 filter_mode="correct_only", max_rationale_tokens=None,
                                                 max_length=config.max_length)
            student_runs.append(_student_run(
                run.step.id, run.name, task, student, method=method, epochs=config.epochs,
                train_questions=train_questions, val_questions=val_questions, per_question=per_question,
                val_per_question=per_question, test=(), eval_fmt=method, max_new_tokens=0, gpu=gpu,
                note="validation: loss each epoch" if config.select_by == "eval_loss" else "",
            ))
            name = p["name"] or f"{task}-{method}"
            trained[name] = (task, student, method, n_test)
        elif job == "evaluate":
            if p["student_run"] not in trained:
                free[notebook] = free.get(notebook, 0) + 1
                continue
            task, student, method, n_test = trained[p["student_run"]]
            test = list(_test_side(task))[: n_test or None]
            k = p.get("self_consistency", 0) or 1
            max_new_tokens = p["max_new_tokens"] or (128 if method == "ft_cot" else 32)
            student_runs.append(_student_run(
                run.step.id, run.name, task, student, method=method, epochs=0, train_questions=0, val_questions=0,
                per_question=None, val_per_question=None, test=test, eval_fmt=method,
                max_new_tokens=max_new_tokens, gpu=gpu, generations=k,
            ))
        elif job in ("sweep", "recipe"):
            for config in steps.points(notebook, p):
                key = config.key()
                counted = key not in seen_experiments
                seen_experiments.add(key)
                student_runs.append(_experiment_run(run, config, teacher_for, gpu, sample, counted))
        else:
            free[notebook] = free.get(notebook, 0) + 1

    assumptions = _assumptions(gpu, sample, teacher_steps, sorted(notes))
    return CostEstimate(
        profile=loaded.name, overrides=tuple(overrides), only=only, sample=sample, executions=len(runs), gpu=gpu,
        teacher=teacher_steps, students=student_runs, free_steps=free, assumptions=assumptions,
    )


def _simulated_teacher(task: str, *, degree: int, accuracy: float | None, max_tokens: int, seed: int,
                       sample: int | None) -> TeacherStep:
    """The simulated teacher (notebook 33) over the driven questions: its own rationales and verdicts."""
    from fcot.stages import SIMULATED_SEED

    pool, size, note = _train_side(task)
    driven = _spread(pool, sample)
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


def _experiment_run(run, config, teacher_for, gpu: Gpu, sample: int | None, counted: bool) -> StudentRun:
    """One notebook-30..36 execution: the experiment's training and test evaluation."""
    train_config = config.train_config()
    spec = student_spec(config.student)
    kind = spec.kind if spec else "decoder"
    split = tasks.load_split(config.task, validation_count=config.n_val or None, test_only=True)
    train_questions = min(config.n_train, len(split.train_indices)) if config.n_train else len(split.train_indices)
    val_questions = len(split.validation_indices)
    test = list(split.test)[: config.n_test or None]
    teacher = None
    if config.method != "vanilla":
        name = config.teacher_file if config.teacher == "file" else config.teacher
        teacher = teacher_for(config.task, name, degree=config.degree, accuracy=config.resolved_teacher_accuracy,
                              max_tokens=config.teacher_max_tokens, seed=config.data_seed)
    pool = teacher.examples if teacher else _spread(_train_side(config.task)[0], sample)
    per_question = _curated_per_question(
        teacher, pool, method=config.method, kind=kind, degree=config.degree, filter_mode=config.filter_mode,
        max_rationale_tokens=config.max_rationale_tokens, max_length=train_config.max_length,
    )
    note = "" if counted else "same configuration as an earlier run: run once, not counted again"
    if teacher is not None and teacher.degree < config.degree:
        note = "; ".join(filter(None, [note, f"teacher has D={teacher.degree} < degree {config.degree}"]))
    return _student_run(
        run.step.id, run.name, config.task, config.student, method=config.method, epochs=train_config.epochs,
        train_questions=train_questions, val_questions=val_questions, per_question=per_question,
        val_per_question=per_question, test=test, eval_fmt=config.method,
        max_new_tokens=config.resolved_max_new_tokens, gpu=gpu, note=note, counted=counted,
    )


def _assumptions(gpu: Gpu, sample: int | None, teacher: Sequence[TeacherStep], notes: Sequence[str]) -> list[str]:
    driven = "every train question" if sample is None else (
        f"at most {sample} evenly spaced train questions per step, scaled to the step's questions (calls are "
        f"exact: 2 per question and sample)")
    items = [
        f"Teacher: the real driver (`fcot.teachers.generate`) over {driven}, with an offline estimating backend "
        f"(`fcot.costs.EstimatingBackend`, no network); calls, tokens and USD are its ledger's "
        f"(`fcot.teachers.ledger.DEFAULT_PRICES`).",
        f"Tokens: ceil(characters / {CHARS_PER_TOKEN}) for teacher and students (no GPT-2/GPT-3 tokenizer offline); "
        "approximate, perhaps +-25%.",
        "Rationale lengths: the recorded text-davinci-002 completions where a task has a log in the data mirror "
        "(multiarith, addsub, coin_flip, last_letter_concatenation: the question's own; commonsense_qa, aqua: "
        "test questions' recordings); other tasks: the max_tokens limit (an upper bound). Diverse reasoning "
        "(D > 1) is priced at the greedy recording's length for every sample.",
        "Kept samples (correct-only filtering): the recorded verdicts where recorded, else every rationale is "
        "assumed kept (an upper bound on student tokens).",
        "Student FLOPs: 6 x parameters x training tokens (forward + backward) for every epoch, + 2 x parameters x "
        "validation tokens each epoch, + 2 x parameters x (prompt + max_new_tokens) per test question (an upper "
        "bound on generated tokens); encoder-decoder tokens pass through half the parameters; attention FLOPs "
        "(quadratic in length) are left out; samples cut at the training recipe's max_length.",
        f"GPU hours = FLOPs / (peak x MFU); {gpu.source}. Small students at batch 8 often reach less than this "
        f"MFU, and decoding is memory-bound, so evaluation hours are a lower bound.",
        "Experiments (notebooks 30-36) with the same canonical configuration are one run (fcot skips a finished "
        "configuration): counted once.",
    ]
    over = [t for t in teacher if t.budget_usd is not None and t.cost_usd is not None and t.cost_usd > t.budget_usd]
    for t in over:
        items.append(f"{t.step}: the estimate (${t.cost_usd:,.2f}) exceeds its budget_usd={t.budget_usd:g}; the run "
                     f"stops at the budget.")
    items.extend(notes)
    return items


# ---------------------------------------------------------------------------------------------
# Output


def _int(value: float | int | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def _flops(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def _hours(value: float | None) -> str:
    return "–" if value is None else (f"{value:,.1f}" if value >= 10 else f"{value:.2g}")


def _command(result: CostEstimate) -> str:
    parts = [f"python -m fcot cost --profile {result.profile}"]
    parts += [f"--set {o}" for o in result.overrides]
    if result.only:
        parts.append(f"--only {result.only}")
    if result.sample != DEFAULT_SAMPLE:
        parts.append(f"--sample {result.sample if result.sample is not None else 0}")
    return " ".join(parts)


def teacher_table(result: CostEstimate) -> str:
    lines = ["| step | backend: model | questions | D | calls | prompt tokens | completion tokens | USD | lengths from |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for t in result.teacher:
        lines.append(f"| {t.step} | {t.backend}: {t.model} | {t.questions:,} | {t.degree} | {t.calls:,} | "
                     f"{t.prompt_tokens:,} | {t.completion_tokens:,} | {_usd(t.cost_usd)} | {t.lengths} |")
    total = result.teacher_totals()
    lines.append(f"| **total** | | {total['questions']:,} | | **{total['calls']:,}** | **{total['prompt_tokens']:,}** | "
                 f"**{total['completion_tokens']:,}** | **{_usd(total['cost_usd'])}** | |")
    unknown = [t for t in result.teacher if t.cost_usd is None]
    if unknown:
        lines.append("")
        lines.append(f"Cost unknown for {len(unknown)} step(s): {unknown[0].cost_note}. Known part: "
                     f"{_usd(total['cost_usd_known'])}.")
    return "\n".join(lines)


def student_table(result: CostEstimate) -> str:
    lines = ["| step | runs | students | training tokens | evaluation tokens | FLOPs | GPU hours |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: |"]
    for row in result.student_stages():
        runs = f"{row['runs']}" + (f" (+{row['shared_runs']} shared)" if row["shared_runs"] else "")
        lines.append(f"| {row['step']} | {runs} | {', '.join(row['students'])} | {_int(row['training_tokens'])} | "
                     f"{_int(row['evaluation_tokens'])} | {_flops(row['flops'])} | {_hours(row['gpu_hours'])} |")
    total = result.student_totals()
    lines.append(f"| **total** | **{total['runs']}** | | **{_int(total['training_tokens'])}** | "
                 f"**{_int(total['evaluation_tokens'])}** | **{_flops(total['flops'])}** | **{_hours(total['gpu_hours'])}** |")
    if total["runs_with_unknown_flops"]:
        lines.append("")
        lines.append(f"{total['runs_with_unknown_flops']} run(s) have no FLOPs: their student's parameter count is "
                     f"not in `fcot.costs.STUDENT_PARAMETERS`.")
    return "\n".join(lines)


def _header(result: CostEstimate) -> str:
    free = ", ".join(f"{k} ×{v}" for k, v in sorted(result.free_steps.items())) or "none"
    return (f"Estimated by `{_command(result)}` from the profile's {result.executions} notebook executions "
            f"(`fcot.study.plan`); no call is made. Steps with neither API calls nor GPU work: {free}.")


def markdown(result: CostEstimate) -> str:
    """The full report: teacher and student tables with totals, then the assumptions."""
    teacher, students_ = result.teacher_totals(), result.student_totals()
    parts = [
        f"# What the `{result.profile}` profile costs",
        "",
        _header(result),
        "",
        f"**Total: {teacher['calls']:,} teacher calls, {teacher['prompt_tokens'] + teacher['completion_tokens']:,} "
        f"teacher tokens, {_usd(teacher['cost_usd'])}; {students_['runs']} student runs, "
        f"{_flops(students_['flops'])} FLOPs, {_hours(students_['gpu_hours'])} GPU hours ({result.gpu.name}).**",
        "",
        "## Teacher (notebook 10)",
        "",
        teacher_table(result),
        "",
        "## Students (notebooks 20/21, 30-36, 40)",
        "",
        student_table(result),
        "",
        "## Assumptions",
        "",
        *[f"- {a}" for a in result.assumptions],
        "",
    ]
    return "\n".join(parts)


def summary_markdown(result: CostEstimate, details: str = "results/paper_cost.md") -> str:
    """The README block: one table of stages and the totals, with the main assumptions."""
    teacher = result.teacher_totals()
    diverse = [t for t in result.teacher if t.degree > 1]
    single = [t for t in result.teacher if t.degree == 1]
    rows = ["| stage | runs | calls | tokens | USD | FLOPs | GPU hours |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label, group in (("teacher, D=1 (notebook 10)", single), ("teacher, diverse reasoning (notebook 10)", diverse)):
        if group:
            costs = [t.cost_usd for t in group]
            rows.append(f"| {label} | {len(group)} | {sum(t.calls for t in group):,} | "
                        f"{sum(t.prompt_tokens + t.completion_tokens for t in group):,} | "
                        f"{_usd(None if None in costs else sum(costs))} | – | – |")
    groups: dict[str, list[dict]] = {}
    for row in result.student_stages():
        number = row["step"][:2]
        label = {"20": "students: fine-tuning (notebook 20)", "21": "students: evaluation (notebook 21)",
                 "40": "students: sample study (notebook 40)"}.get(number, "experiments and ablations (notebooks 30-36)")
        groups.setdefault(label, []).append(row)
    for label, group in groups.items():
        rows.append(f"| {label} | {sum(r['runs'] for r in group)} | – | "
                    f"{_int(sum(r['training_tokens'] + r['evaluation_tokens'] for r in group))} | – | "
                    f"{_flops(sum(r['flops'] for r in group))} | {_hours(sum(r['gpu_hours'] for r in group))} |")
    students_ = result.student_totals()
    rows.append(f"| **total** | | **{teacher['calls']:,}** | | **{_usd(teacher['cost_usd'])}** | "
                f"**{_flops(students_['flops'])}** | **{_hours(students_['gpu_hours'])}** |")
    return "\n".join([
        _header(result) + f" Per step and every assumption: [`{details}`]({details}).",
        "",
        *rows,
        "",
        f"Tokens are counted as characters / {CHARS_PER_TOKEN}; rationale lengths come from the recorded "
        f"text-davinci-002 runs where a log exists, else from the max_tokens limit (an upper bound); student "
        f"FLOPs are 6 × parameters × training tokens (+ validation and evaluation forward passes); "
        f"GPU hours: {result.gpu.source}.",
    ])


def to_json(result: CostEstimate) -> dict:
    """The estimate as a JSON-ready dict (no paths of this machine, no timestamps)."""
    gpu = asdict(result.gpu)
    gpu["measured"] = [list(m) for m in result.gpu.measured]
    return {
        "profile": result.profile,
        "command": _command(result),
        "overrides": list(result.overrides),
        "only": result.only,
        "sample": result.sample,
        "executions": result.executions,
        "chars_per_token": CHARS_PER_TOKEN,
        "gpu": gpu,
        "totals": {"teacher": result.teacher_totals(), "students": result.student_totals()},
        "teacher": [t.as_dict() for t in result.teacher],
        "student_stages": result.student_stages(),
        "student_runs": [r.as_dict() for r in result.students],
        "free_steps": dict(sorted(result.free_steps.items())),
        "assumptions": result.assumptions,
    }


def write_readme_block(path: str | os.PathLike, block: str) -> bool:
    """Replace the text between :data:`BEGIN` and :data:`END` in ``path``; True if it changed."""
    return paths.write_between_markers(path, BEGIN, END, block.strip())


def write_outputs(result: CostEstimate, *, markdown_path: str | os.PathLike | None = None,
                  json_path: str | os.PathLike | None = None, readme: str | os.PathLike | None = None) -> list[str]:
    """Write the Markdown report, the JSON and/or the README block; returns what was written."""
    written = []
    if markdown_path:
        publish(markdown_path, markdown(result))
        written.append(str(markdown_path))
    if json_path:
        publish(json_path, json.dumps(to_json(result), indent=1) + "\n")
        written.append(str(json_path))
    if readme:
        details = _relative(Path(markdown_path)) if markdown_path else "results/paper_cost.md"
        write_readme_block(readme, summary_markdown(result, details))
        written.append(f"{readme} ({BEGIN})")
    return written
