"""Student evaluation: batched generation, answer parsing, accuracy with intervals, baselines.

A student is evaluated on the **test** split by greedy decoding (the paper's setting): each test
question becomes a prompt in the student's sample format (``{question} ###`` for decoders, the bare
question for encoder-decoders; see :func:`prompt_for` and ``fcot.curate``), the student completes
it, and ``fcot.answers.parse_student`` reads the answer after `` --> ``.

Generation is batched: prompts are sorted by length, **left-padded** for decoder students (the
attention mask hides the padding and transformers derives the position ids from it, so a padded
prompt is completed exactly as it would be alone), right-padded as encoder inputs for
encoder-decoder students, and decoded with the KV cache. A completion ends at the EOS token or at
a stop string (`` END``, the official stop phrase for OpenAI fine-tuning); ``stopped`` records
whether it ended there rather than at ``max_new_tokens``.

Accuracy comes with a 95% interval (Wilson score by default, bootstrap on request), and the same
result type holds the baselines: random guessing, the teacher, and prompting a pretrained student
without fine-tuning (zero-shot, Zero-shot-CoT, Few-shot-CoT), so :func:`results_table` puts them
side by side.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from fcot import answers, curate, progress, prompts, recorded
from fcot.records import Completion, Example
from fcot.students import encode_prompt, quiet_transformers
from fcot.stats import INTERVAL_METHODS, accuracy_interval, bootstrap_interval, wilson_interval  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    import torch

#: Fine-tuned formats (the student was trained on ``fcot.curate`` samples of this method).
FINE_TUNED_FORMATS: tuple[str, ...] = ("ft_cot", "vanilla", "multitask")
#: Prompting formats for pretrained students that were not fine-tuned (parsed as teacher text).
PROMPTING_FORMATS: tuple[str, ...] = ("zero_shot", "zero_shot_cot", "few_shot_cot")
EVAL_FORMATS: tuple[str, ...] = FINE_TUNED_FORMATS + PROMPTING_FORMATS

#: The official stop phrase appended to completions for OpenAI fine-tuning (``curate(stop_phrase=" END")``).
END_MARKER = " END"
ZERO_SHOT_TRIGGER = "The answer is"
FEW_SHOT_STOP = "\nQ:"  # a few-shot prompted model goes on to invent the next exemplar: cut there

# Kojima et al. (2022) limits: stage 1 (rationale) 128 tokens, stage 2 (answer) 32 tokens.
ZERO_SHOT_COT_ANSWER_TOKENS = 32


# ----------------------------------------------------------------------------------------------
# Prompts
# ----------------------------------------------------------------------------------------------


def _check_format(fmt: str) -> None:
    if fmt not in EVAL_FORMATS:
        raise ValueError(f"unknown evaluation format {fmt!r}; accepted: {EVAL_FORMATS}")


def prompt_for(example: Example | str, fmt: str = "ft_cot", is_encoder_decoder: bool = False, exemplars: str | None = None) -> str:
    """The prompt a student is asked for ``example`` in evaluation format ``fmt``.

    * ``ft_cot``/``vanilla``/``multitask``: the curation contract (``fcot.curate.inference_prompt``):
      decoder ``"{question} ###"``, encoder-decoder ``"{question}"`` (multitask asks the
      ``[label]`` task);
    * ``zero_shot``: ``"Q: {question}\\nA: The answer is"``;
    * ``zero_shot_cot``: the stage-1 prompt ``"Q: {question}\\nA: Let's think step by step."``
      (stage 2 is built from the generated rationale by :func:`evaluate_student`);
    * ``few_shot_cot``: ``"{exemplars}\\nQ: {question}\\nA:"`` (``exemplars`` required, e.g. the
      official ``few_shot_cot_prompts.json`` text of the task).
    """
    _check_format(fmt)
    question = (example.question if isinstance(example, Example) else str(example)).strip()
    if fmt in FINE_TUNED_FORMATS:
        return curate.inference_prompt(question, curate.format_for(fmt, "encoder_decoder" if is_encoder_decoder else "decoder"))
    if fmt == "zero_shot":
        # REPRODUCTION NOTE: the official code's zero-shot template is "Q: {q}\n\nA:" (decoder) and
        # "question: {q}" (T5); we use Kojima et al.'s direct-answer form so the teacher parser,
        # which reads the text after "The answer is", applies to both student kinds.
        return f"Q: {question}\nA: {ZERO_SHOT_TRIGGER}"
    if fmt == "zero_shot_cot":
        return prompts.zero_shot_cot_stage1(question)
    if not exemplars:
        raise ValueError("few_shot_cot needs exemplars= (the few-shot CoT exemplar text of the task, "
                         "e.g. fcot.prompts.few_shot_cot_exemplars(task))")
    # as the official Formatter: exemplars, then "\nQ: {question}\nA:"
    return f"{exemplars}\nQ: {question}\nA:"


# ----------------------------------------------------------------------------------------------
# Generation
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Generation:
    """One generated completion: the text after the prompt, and whether it ended at EOS / a stop string."""

    text: str
    stopped: bool
    tokens: int  # generated tokens up to (not counting) the EOS


def _is_encoder_decoder(model) -> bool:
    return bool(getattr(getattr(model, "config", None), "is_encoder_decoder", False))


def _encode(tokenizer, prompt: str, encoder_decoder: bool) -> list[int]:
    return encode_prompt(tokenizer, prompt, "encoder_decoder" if encoder_decoder else "decoder")


def _pad_batch(rows: Sequence[list[int]], pad_id: int, left: bool) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        if not row:
            continue
        if left:
            ids[i, width - len(row) :] = torch.as_tensor(row)
            mask[i, width - len(row) :] = 1
        else:
            ids[i, : len(row)] = torch.as_tensor(row)
            mask[i, : len(row)] = 1
    return ids, mask


def _cut(tokenizer, ids: list[int], eos_id: int | None, stop: Sequence[str]) -> Generation:
    stopped = False
    if eos_id is not None and eos_id in ids:
        ids = ids[: ids.index(eos_id)]
        stopped = True
    text = tokenizer.decode(ids, skip_special_tokens=True)
    for marker in stop:
        at = text.find(marker) if marker else -1
        if at != -1:
            text, stopped = text[:at], True
    return Generation(text, stopped, len(ids))


def _check_generation_args(batch_size: int, max_new_tokens: int, num_return_sequences: int, do_sample: bool,
                           temperature: float) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    if num_return_sequences < 1:
        raise ValueError(f"num_return_sequences must be >= 1, got {num_return_sequences}")
    if num_return_sequences > 1 and not do_sample:
        raise ValueError("num_return_sequences > 1 needs do_sample=True (greedy decoding gives one completion)")
    if do_sample and not temperature > 0:
        raise ValueError(f"temperature must be > 0 when sampling, got {temperature}")


def generate_outputs(
    model,
    tokenizer,
    prompts: Sequence[str],
    *,
    batch_size: int = 64,
    max_new_tokens: int = 128,
    do_sample: bool = False,
    temperature: float = 0.7,
    num_return_sequences: int = 1,
    seed: int = 0,
    stop: Sequence[str] = (END_MARKER,),
) -> list[list[Generation]]:
    """Complete every prompt; ``num_return_sequences`` :class:`Generation` per prompt, in prompt order.

    Batched greedy (or sampled, ``do_sample=True`` at ``temperature`` with neither top-k nor top-p)
    decoding with the KV cache. Prompts are sorted by token length so batches carry little
    padding; decoder prompts are left-padded with an attention mask (transformers builds position
    ids from it), encoder-decoder inputs are right-padded. Each completion is the generated part
    only, cut at the first EOS token and at the first of the ``stop`` strings. Sampling is seeded
    per batch (``seed`` + batch number), so the same call gives the same samples.
    """
    _check_generation_args(batch_size, max_new_tokens, num_return_sequences, do_sample, temperature)
    prompts = list(prompts)
    if not prompts:
        return []
    import torch

    encoder_decoder = _is_encoder_decoder(model)
    eos_id = tokenizer.eos_token_id
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_id
    if pad_id is None:
        raise ValueError("the tokenizer has neither a pad nor an eos token; set tokenizer.pad_token")
    encoded = [_encode(tokenizer, p, encoder_decoder) for p in prompts]
    for index, ids in enumerate(encoded):
        if not ids:
            raise ValueError(f"prompt {index} encodes to no tokens: {prompts[index]!r}")
    order = sorted(range(len(prompts)), key=lambda i: (-len(encoded[i]), i))
    device = next(model.parameters()).device
    options: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "do_sample": do_sample,
        "num_return_sequences": num_return_sequences,
        "pad_token_id": pad_id,
        "eos_token_id": eos_id,
        "use_cache": True,
    }
    if do_sample:
        options.update(temperature=temperature, top_k=0, top_p=1.0)
    results: list[list[Generation] | None] = [None] * len(prompts)
    was_training = model.training
    model.eval()
    try:
        starts = range(0, len(order), batch_size)
        for number, start in enumerate(progress.bar(starts, desc="evaluate", unit="batch") if len(starts) > 1 else starts):
            batch = order[start : start + batch_size]
            ids, mask = _pad_batch([encoded[i] for i in batch], pad_id, left=not encoder_decoder)
            if do_sample:
                torch.manual_seed(seed + number)
            # quiet: inside its decoding loop transformers calls the model without the attention mask
            # once a finished sequence is padded, and warns "We strongly recommend passing in an
            # `attention_mask`" although the mask was passed and the padded rows are finished (harmless)
            with torch.inference_mode(), quiet_transformers():
                output = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), **options,
                                        **_cache_options(model, len(batch), encoder_decoder))
            # decoder: prompt + new tokens; encoder-decoder: decoder start token + new tokens
            offset = 1 if encoder_decoder else ids.shape[1]
            generated = output[:, offset:].tolist()
            for row, index in enumerate(batch):
                chunk = generated[row * num_return_sequences : (row + 1) * num_return_sequences]
                results[index] = [_cut(tokenizer, g, eos_id, stop) for g in chunk]
    finally:
        model.train(was_training)
    return results  # type: ignore[return-value]


def _cache_options(model, rows: int, encoder_decoder: bool) -> dict[str, Any]:
    """A static KV cache for a batch of decoder prompts on a CPU: preallocated, so no step copies the cache to grow it
    (measured: a batch of 64-128 coin-flip prompts of tiny-gpt2-s decodes 10-15% faster, with the same predictions).
    One prompt keeps the dynamic cache (the static one was about 8% slower there), and other devices keep theirs (a
    static cache there would switch on transformers' auto-compilation)."""
    supports_cache = getattr(type(model), "_supports_default_dynamic_cache", None)  # a transformers model's generate
    if rows > 1 and not encoder_decoder and callable(supports_cache) and supports_cache() \
            and next(model.parameters()).device.type == "cpu":
        return {"cache_implementation": "static", "disable_compile": True}
    return {}


def generate_completions(model, tokenizer, prompts: Sequence[str], **options: Any) -> list[str] | list[list[str]]:
    """Completion texts of ``prompts``; ``options`` are those of :func:`generate_outputs` (``batch_size``,
    ``max_new_tokens``, ``do_sample``, ``temperature``, ``num_return_sequences``, ``seed``, ``stop``).

    One string per prompt when ``num_return_sequences == 1`` (the default), else a list of that many per prompt.
    """
    outputs = generate_outputs(model, tokenizer, prompts, **options)
    num_return_sequences = options.get("num_return_sequences", 1)
    if num_return_sequences == 1:
        return [gens[0].text for gens in outputs]
    return [[g.text for g in gens] for gens in outputs]


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalResult:
    """The outcome of one evaluation (one method on one task).

    ``predictions``: one dict per example (``example_id``, ``task``, ``prompt``, ``completion``,
    ``prediction``, ``gold``, ``correct``, ``stopped``; self-consistency adds ``completions`` and
    ``votes``); ``pd.DataFrame(result.predictions)`` or :meth:`frame` tabulates them.
    ``stop_rate`` is the share of completions that ended at EOS / a stop string (None where
    unknown, e.g. baselines).
    """

    method: str
    task: str
    n: int
    accuracy: float
    low: float
    high: float
    stop_rate: float | None = None
    interval_method: str = "wilson"
    confidence: float = 0.95
    predictions: list[dict] = field(default_factory=list, repr=False, compare=False)

    @property
    def interval(self) -> tuple[float, float]:
        return self.low, self.high

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.predictions)

    def metrics(self) -> dict:
        """The summary numbers (what ``fcot.runs.Run.save_metrics`` records)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "predictions"}


def score(
    correct: Sequence[bool],
    *,
    method: str,
    task: str,
    stop_rate: float | None = None,
    interval: str = "wilson",
    confidence: float = 0.95,
    predictions: list[dict] | None = None,
) -> EvalResult:
    """An :class:`EvalResult` from per-example correctness."""
    correct = [bool(c) for c in correct]
    if not correct:
        raise ValueError(f"no examples to score for method {method!r} on task {task!r}")
    low, high = accuracy_interval(correct, interval, confidence)
    return EvalResult(method, task, len(correct), sum(correct) / len(correct), low, high, stop_rate, interval,
                      confidence, list(predictions or []))


def majority_vote(answers: Sequence[str | None]) -> str | None:
    """The most frequent non-None answer; ties go to the one seen first; all None -> None."""
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return None
    best = max(counts.values())
    return next(a for a in answers if a is not None and counts[a] == best)


def default_parser(fmt: str) -> Callable[[str, Example], str | None]:
    """The answer parser of an evaluation format (all from ``fcot.answers``).

    ``ft_cot``: ``parse_student`` (first candidate after ``-->``, else the last one);
    ``vanilla``/``multitask`` (answer-only completions): the first candidate, as the official
    evaluator reads ``ft_token`` outputs; ``zero_shot``/``zero_shot_cot``: ``parse_teacher`` on the
    text after "The answer is" / the stage-2 trigger; ``few_shot_cot``: the first candidate after
    "The answer is" (the official ``fs_cot`` prefix), else the last candidate.
    """
    _check_format(fmt)
    if fmt == "ft_cot":
        return answers.parse_student
    if fmt in ("vanilla", "multitask"):
        return lambda text, example: answers.parse_student(text, example, delimiter=None)
    if fmt == "few_shot_cot":
        return lambda text, example: answers.parse_student(text, example, delimiter=ZERO_SHOT_TRIGGER)
    return answers.parse_teacher


def _default_judge() -> Callable[[str | None, Example], bool]:
    return answers.is_correct


def _task_of(examples: Sequence[Example]) -> str:
    tasks = sorted({e.task for e in examples})
    return tasks[0] if len(tasks) == 1 else "+".join(tasks)


def _prediction_row(example: Example, prompt: str, gens: Sequence[Generation],
                    rationales: Sequence[Generation] | None, parse, judge, self_consistency: int) -> dict:
    """One question's prediction record: its completion(s), parsed answer (majority vote with self-consistency),
    correctness and whether its first generation (the rationale in two-stage prompting) stopped by itself."""
    parsed = [parse(g.text, example) for g in gens]
    prediction = majority_vote(parsed) if self_consistency else parsed[0]
    row = {
        "example_id": example.id,
        "task": example.task,
        "prompt": prompt,
        "completion": gens[0].text,
        "prediction": prediction,
        "gold": example.answer,
        "correct": bool(judge(prediction, example)) if prediction is not None else False,
        "stopped": (rationales or gens)[0].stopped,
    }
    if rationales is not None:
        row["rationale"] = rationales[0].text
    if self_consistency:
        row["completions"] = [g.text for g in gens]
        row["votes"] = parsed
    return row


def evaluate_student(
    model,
    tokenizer,
    examples: Iterable[Example],
    *,
    fmt: str = "ft_cot",
    batch_size: int = 64,
    max_new_tokens: int = 128,
    self_consistency: int = 0,
    temperature: float = 0.7,
    seed: int = 0,
    exemplars: str | None = None,
    interval: str = "wilson",
    confidence: float = 0.95,
    method: str | None = None,
    parse: Callable[[str, Example], str | None] | None = None,
    judge: Callable[[str | None, Example], bool] | None = None,
) -> EvalResult:
    """Evaluate a student on ``examples``: generate, parse, score.

    ``fmt``: a fine-tuned format (``ft_cot``, ``vanilla``, ``multitask``) or a prompting baseline
    for a pretrained student (``zero_shot``, ``zero_shot_cot`` in two stages as the teacher is
    asked, ``few_shot_cot`` with ``exemplars``, by default the official exemplars of the task);
    answers are parsed by :func:`default_parser` of ``fmt``. Greedy decoding unless
    ``self_consistency`` = k > 0: then k completions are sampled per question at ``temperature``
    and the parsed answers vote (:func:`majority_vote`). ``method`` names the result (default
    ``fmt``, ``fmt+sc{k}`` with self-consistency); ``parse``/``judge`` replace the default parser
    and correctness check.
    """
    _check_format(fmt)
    if self_consistency < 0:
        raise ValueError(f"self_consistency must be >= 0 (0 = greedy), got {self_consistency}")
    examples = list(examples)
    if not examples:
        raise ValueError("evaluate_student needs at least one example")
    if fmt == "few_shot_cot" and not exemplars:
        loader = getattr(prompts, "few_shot_cot_exemplars", None)
        if loader is None:
            raise ValueError("fmt='few_shot_cot' needs exemplars= (the few-shot CoT exemplar text of the task)")
        exemplars = loader(_task_of(examples))
    parse = parse or default_parser(fmt)
    judge = judge or _default_judge()
    encoder_decoder = _is_encoder_decoder(model)
    k = max(1, self_consistency)
    sampling = dict(do_sample=self_consistency > 0, temperature=temperature, num_return_sequences=k, seed=seed)
    stop = (END_MARKER, FEW_SHOT_STOP) if fmt == "few_shot_cot" else (END_MARKER,)
    prompt_texts = [prompt_for(e, fmt, encoder_decoder, exemplars) for e in examples]
    outputs = generate_outputs(model, tokenizer, prompt_texts, batch_size=batch_size, max_new_tokens=max_new_tokens,
                               stop=stop, **sampling)
    rationales: list[list[Generation]] | None = None
    if fmt == "zero_shot_cot":
        # stage 2: prompt + rationale + "Therefore, the answer is" -> the answer text that is parsed
        rationales = outputs
        stage2 = [prompts.zero_shot_cot_stage2(p, g.text) for p, gens in zip(prompt_texts, outputs) for g in gens]
        answers = generate_outputs(model, tokenizer, stage2, batch_size=batch_size,
                                   max_new_tokens=ZERO_SHOT_COT_ANSWER_TOKENS, stop=(END_MARKER,))
        outputs = [[a[0] for a in answers[i * k : (i + 1) * k]] for i in range(len(examples))]

    rows = [_prediction_row(example, prompt, gens, rationales[i] if rationales is not None else None, parse, judge,
                            self_consistency) for i, (example, prompt, gens) in enumerate(zip(examples, prompt_texts,
                                                                                                outputs))]
    correct = [row["correct"] for row in rows]
    sources = rationales if rationales is not None else outputs
    stopped = [g.stopped for gens in sources for g in gens]
    name = method or (f"{fmt}+sc{self_consistency}" if self_consistency else fmt)
    return score(correct, method=name, task=_task_of(examples), stop_rate=sum(stopped) / len(stopped),
                 interval=interval, confidence=confidence, predictions=rows)


def ask(model, tokenizer, question: Example | str, *, fmt: str = "ft_cot", max_new_tokens: int = 128,
        answer_type: str = "text"):
    """A trained student's answer to one question, live: a one-row DataFrame with the question, the completion,
    the parsed prediction and -- for an :class:`Example` (e.g. :func:`fcot.data.new_question`) -- the gold answer
    and whether it is right. A plain string has no gold answer (``correct`` is None); ``answer_type`` tells the
    parser what to read (``text``, ``number``, ``yes_no``, ``choice``)."""
    import pandas as pd

    example = question if isinstance(question, Example) else Example(
        task="asked", id="asked", question=str(question), answer="", answer_type=answer_type)  # type: ignore[arg-type]
    result = evaluate_student(model, tokenizer, [example], fmt=fmt, batch_size=1, max_new_tokens=max_new_tokens)
    row = result.predictions[0]
    known = isinstance(question, Example)
    return pd.DataFrame([{"question": example.question, "completion": row["completion"], "prediction": row["prediction"],
                          "gold": example.answer if known else None, "correct": row["correct"] if known else None}])


# ----------------------------------------------------------------------------------------------
# Baselines
# ----------------------------------------------------------------------------------------------


def guess_accuracy(example: Example) -> float:
    """Expected accuracy of a uniform random guess on one example.

    ``choice``: 1 / number of choices; ``yes_no``: 0.5; ``number``/``text``: 0 (an open answer is
    never guessed).
    """
    if example.answer_type == "choice":
        if not example.choices:
            raise ValueError(f"example {example.id!r} ({example.task}): choice question without choices")
        return 1.0 / len(example.choices)
    if example.answer_type == "yes_no":
        return 0.5
    return 0.0


def random_baseline(examples: Iterable[Example]) -> float:
    """The expected accuracy of uniform random guessing over ``examples`` (mean of :func:`guess_accuracy`).

    A uniform guess, not the majority-label share: on a yes/no task it is 0.5 whatever the label
    balance (the paper's "random" row reads this way too: 50% on coin flip and StrategyQA).
    """
    examples = list(examples)
    if not examples:
        raise ValueError("random_baseline needs at least one example")
    return sum(guess_accuracy(e) for e in examples) / len(examples)


def teacher_baseline(
    completions: Iterable[Completion],
    *,
    first_only: bool = True,
    method: str = "teacher",
    interval: str = "wilson",
    confidence: float = 0.95,
) -> EvalResult:
    """The teacher's accuracy from its completion records.

    ``first_only`` (default) scores one completion per example, the one with the lowest
    ``sample_index`` (the greedy one in the paper's setup); otherwise every completion counts.
    ``stop_rate`` is the share with ``finish_reason == "stop"`` among those that record one.
    """
    records = list(completions)
    if first_only:
        first: dict[str, Completion] = {}
        for c in records:
            if c.example_id not in first or c.sample_index < first[c.example_id].sample_index:
                first[c.example_id] = c
        records = list(first.values())
    if not records:
        raise ValueError("teacher_baseline needs at least one completion")
    known = [c.finish_reason == "stop" for c in records if c.finish_reason is not None]
    rows = [
        {"example_id": c.example_id, "task": c.task, "sample_index": c.sample_index, "completion": c.rationale,
         "prediction": c.prediction, "gold": c.gold, "correct": bool(c.correct)}
        for c in records
    ]
    tasks = sorted({c.task for c in records})
    return score([c.correct for c in records], method=method, task="+".join(tasks),
                 stop_rate=(sum(known) / len(known)) if known else None, interval=interval,
                 confidence=confidence, predictions=rows)


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------

_TABLE_COLUMNS = ["method", "task", "n", "accuracy", "low", "high", "stop_rate"]


def results_table(results: Iterable[EvalResult | Mapping[str, Any]], wide: bool = False):
    """An accuracy table of results (a pandas DataFrame).

    ``results``: :class:`EvalResult` objects, or mappings with at least ``method``, ``task`` and
    ``accuracy`` (e.g. ``{"method": "random", "task": "coin_flip", "accuracy": random_baseline(xs)}``).
    Long form (default): one row per (method, task) with ``n``, ``accuracy``, ``low``, ``high``,
    ``stop_rate``. ``wide=True``: methods as rows, tasks as columns, cells ``"58.0 [48.2, 67.1]"``
    (percent, interval in brackets where known).
    """
    import pandas as pd

    rows = []
    for item in results:
        if isinstance(item, EvalResult):
            row = item.metrics()
        elif isinstance(item, Mapping):
            missing = [k for k in ("method", "task", "accuracy") if k not in item]
            if missing:
                raise ValueError(f"results_table: row {dict(item)!r} lacks {missing}; accepted keys: {_TABLE_COLUMNS}")
            row = dict(item)
        else:
            raise TypeError(f"results_table takes EvalResult objects or mappings, got {type(item).__name__}")
        rows.append({k: row.get(k) for k in _TABLE_COLUMNS})
    frame = pd.DataFrame(rows, columns=_TABLE_COLUMNS).astype({"n": "Int64"})
    if not wide:
        return frame

    def cell(row) -> str:
        text = f"{100 * row.accuracy:.1f}"
        if row.low is not None and row.high is not None and not pd.isna(row.low) and not pd.isna(row.high):
            text += f" [{100 * row.low:.1f}, {100 * row.high:.1f}]"
        return text

    frame = frame.assign(cell=[cell(r) for r in frame.itertuples()])
    table = frame.pivot(index="method", columns="task", values="cell")
    order = list(dict.fromkeys(frame["method"]))
    table = table.loc[order, list(dict.fromkeys(frame["task"]))]
    table.columns.name = None
    return table


def examples_side_by_side(result: EvalResult, n: int = 3, columns: Sequence[str] = ("example_id", "prompt", "completion", "prediction", "gold", "correct")):
    """Up to ``n`` correct and ``n`` wrong predictions of ``result`` next to the gold answer (a DataFrame)."""
    import pandas as pd

    frame = result.frame()
    if frame.empty:
        return pd.DataFrame(columns=list(columns))
    picked = pd.concat([frame[frame["correct"]].head(n), frame[~frame["correct"]].head(n)])
    return picked[[c for c in columns if c in picked.columns]].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# Notebook helpers: the student to evaluate, the standard baselines, recording a run
# ----------------------------------------------------------------------------------------------


def standard_baselines(examples: Sequence[Example]) -> list:
    """The rows every accuracy table carries: uniform random guessing and, where a recorded
    text-davinci-002 Zero-shot-CoT log covers these examples, the teacher (its greedy completion)."""
    examples = list(examples)
    task = _task_of(examples)
    rows: list = [{"method": "random", "task": task, "accuracy": random_baseline(examples)}]
    try:
        ids = {e.id for e in examples}
        completions = [c for c in recorded.load_recorded(task).completions if c.example_id in ids]
    except (KeyError, ValueError, FileNotFoundError, ImportError):
        completions = []  # no recorded log for this task: no teacher row
    if completions:
        rows.append(teacher_baseline(completions, method="teacher (text-davinci-002, recorded)"))
    return rows
