"""Curation: teacher completions -> filtered, formatted fine-tuning samples.

Fine-tune-CoT keeps a teacher rationale only when the teacher's final answer was right
(``correct_only``, the paper's default); ``keep_all`` is the ablation that keeps every rationale, and
``keep_all_matched`` its size control: a seeded random subset of all rationales, right or wrong, as
large as the ``correct_only`` set (the paper's sample-filtering control, so that "more samples" and
"unfiltered samples" are not confounded).
Each kept rationale becomes one **sample** (prompt/completion strings) in a student format:

============================  ==========================  =========================================
format                        prompt                      completion
============================  ==========================  =========================================
``ft_cot`` (decoder)          ``{question} ###``          `` {rationale} --> {answer}`` (+ EOS)
``ft_cot_encdec``             ``{question}``              ``{rationale} --> {answer}`` (+ EOS)
``vanilla`` (decoder)         ``{question} ###``          `` {answer}`` (+ EOS)
``vanilla_encdec``            ``{question}``              ``{answer}`` (+ EOS)
``multitask`` (decoder)       ``[label] {question} ###``  `` {answer}``
                              ``[rationale] {question}    `` {rationale}``
                              ###``
``multitask_encdec``          as ``multitask`` without `` ###`` and without the leading spaces
============================  ==========================  =========================================

as in the official code (``src/data/format.py``, templates ``ft_cot_token`` and ``ft_token``);
the EOS token is appended by ``fcot.students`` when tokenising (the official code appends
``" END"`` as a stop phrase for OpenAI fine-tuning: ``stop_phrase=" END"`` does that here).
``multitask`` is the distilling-step-by-step arm (Hsieh et al. 2023): two tasks sharing the
student, selected by a task prefix; at inference only the ``[label]`` task is asked.

``{answer}`` is always the **gold** answer formatted by answer type (:func:`fcot.answers.normalize_gold`), as in
the official code; vanilla samples need no teacher and are one per example.
"""

from __future__ import annotations

import dataclasses
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal, Sequence

from fcot.answers import normalize_gold
from fcot.records import Completion, Example, RecordError, is_missing, read_records, write_jsonl

FilterMode = Literal["correct_only", "keep_all", "keep_all_matched"]
FILTER_MODES: tuple[str, ...] = ("correct_only", "keep_all", "keep_all_matched")
MATCHED_SUBSET_SEED = 0  # keep_all_matched: which random subset (fixed, so a curation is reproducible)

SampleFormat = Literal["ft_cot", "ft_cot_encdec", "vanilla", "vanilla_encdec", "multitask", "multitask_encdec"]
FORMATS: tuple[str, ...] = ("ft_cot", "ft_cot_encdec", "vanilla", "vanilla_encdec", "multitask", "multitask_encdec")
METHODS: tuple[str, ...] = ("ft_cot", "vanilla", "multitask")


def arm_label(method: str, degree: Any = 1) -> str:
    """A short label of a method arm: ``vanilla``, ``ft_cot``, ``ft_cot D=4``, ``multitask``, ..."""
    if method == "vanilla" or degree is None or is_missing(degree) or int(degree) == 1:
        return str(method)
    return f"{method} D={int(degree)}"


PROMPT_SUFFIX = " ###"
ANSWER_DELIMITER = " --> "  # the same string as fcot.answers.STUDENT_DELIMITER
LABEL_PREFIX = "[label] "
RATIONALE_PREFIX = "[rationale] "


@dataclass(frozen=True)
class Sample:
    """One fine-tuning record.

    ``sample_index`` numbers the samples of one example: the teacher completion's
    ``sample_index`` for ``ft_cot``, 0 for ``vanilla``, and ``2*i`` (label task) / ``2*i+1``
    (rationale task) for the *i*-th completion in ``multitask``.
    """

    example_id: str
    sample_index: int
    prompt: str
    completion: str
    format: str

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise RecordError(f"Sample {self.example_id!r}: format {self.format!r} is not one of {FORMATS}")


@dataclass(frozen=True)
class CurationReport:
    """What curation kept and dropped (all counts; ``share_filtered`` is a fraction of completions)."""

    mode: str
    fmt: str
    examples: int  # examples given (the split being curated)
    examples_with_completion: int
    examples_with_correct: int  # examples with >= 1 correct teacher rationale
    examples_with_sample: int  # examples that got >= 1 sample
    completions: int  # completions of the given examples
    completions_correct: int
    completions_filtered: int  # dropped by the filter mode
    completions_unknown_example: int  # completions of examples not in ``examples``: ignored
    samples_kept: int
    share_filtered: float  # completions_filtered / completions (0 where there are none)
    rationales_truncated: int  # rationales cut to max_rationale_tokens
    samples_dropped_too_long: int  # samples over max_sample_tokens, dropped

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class CurationResult:
    samples: list[Sample]
    report: CurationReport


# ----------------------------------------------------------------------------------------------
# Formats
# ----------------------------------------------------------------------------------------------

def format_for(method: str, kind: str) -> str:
    """The sample format for a method (``ft_cot``/``vanilla``/``multitask``) and a student kind."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; accepted: {METHODS}")
    if kind not in ("decoder", "encoder_decoder"):
        raise ValueError(f"unknown student kind {kind!r}; accepted: decoder, encoder_decoder")
    return method if kind == "decoder" else f"{method}_encdec"


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown sample format {fmt!r}; accepted: {FORMATS}")


def is_encoder_decoder_format(fmt: str) -> bool:
    _check_format(fmt)
    return fmt.endswith("_encdec")


def inference_prompt(question: str, fmt: str) -> str:
    """The prompt a student trained on ``fmt`` samples is asked at evaluation time."""
    _check_format(fmt)
    question = question.strip()
    base = fmt.removesuffix("_encdec")
    prefix = LABEL_PREFIX if base == "multitask" else ""
    suffix = "" if fmt.endswith("_encdec") else PROMPT_SUFFIX
    return f"{prefix}{question}{suffix}"


def format_sample(question: str, answer: str, fmt: str, rationale: str | None = None) -> list[tuple[str, str]]:
    """``(prompt, completion)`` pairs of one example (and rationale) in ``fmt``; two for multitask.

    Question, rationale and answer are stripped first (as the official Formatter does).
    """
    _check_format(fmt)
    question, answer = question.strip(), answer.strip()
    base = fmt.removesuffix("_encdec")
    lead = "" if fmt.endswith("_encdec") else " "
    suffix = "" if fmt.endswith("_encdec") else PROMPT_SUFFIX
    if base != "vanilla":
        if rationale is None:
            raise ValueError(f"format {fmt!r} needs a rationale")
        rationale = rationale.strip()
    if base == "ft_cot":
        return [(f"{question}{suffix}", f"{lead}{rationale}{ANSWER_DELIMITER}{answer}")]
    if base == "vanilla":
        return [(f"{question}{suffix}", f"{lead}{answer}")]
    # REPRODUCTION NOTE: not in the paper; a distilling-step-by-step style arm (Hsieh et al. 2023)
    # with the task prefixes "[label] " / "[rationale] " in fcot's own prompt format.
    return [
        (f"{LABEL_PREFIX}{question}{suffix}", f"{lead}{answer}"),
        (f"{RATIONALE_PREFIX}{question}{suffix}", f"{lead}{rationale}"),
    ]


# ----------------------------------------------------------------------------------------------
# Curation
# ----------------------------------------------------------------------------------------------


def _token_count(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def sample_token_count(tokenizer, prompt: str, completion: str, fmt: str) -> int:
    """Tokens of a sample as the student trains on it: decoder: prompt + completion + EOS;
    encoder-decoder: the longer of prompt and completion + EOS (each side is limited separately)."""
    prompt_tokens = len(tokenizer(prompt, add_special_tokens=True)["input_ids"])
    completion_tokens = _token_count(tokenizer, completion) + 1
    if is_encoder_decoder_format(fmt):
        return max(prompt_tokens, completion_tokens)
    return prompt_tokens + completion_tokens


def _truncate_rationale(tokenizer, rationale: str, limit: int) -> tuple[str, bool]:
    ids = tokenizer(rationale.strip(), add_special_tokens=False)["input_ids"]
    if len(ids) <= limit:
        return rationale, False
    return tokenizer.decode(ids[:limit], skip_special_tokens=True).strip(), True


def _check_curation_args(mode: str, fmt: str, tokenizer, max_rationale_tokens: int | None,
                         max_sample_tokens: int | None) -> None:
    if mode not in FILTER_MODES:
        raise ValueError(f"unknown filter mode {mode!r}; accepted: {FILTER_MODES}")
    _check_format(fmt)
    for name, value in (("max_rationale_tokens", max_rationale_tokens), ("max_sample_tokens", max_sample_tokens)):
        if value is not None:
            if value < 1:
                raise ValueError(f"{name} must be >= 1 or None, got {value}")
            if tokenizer is None:
                raise ValueError(f"{name}={value} counts tokens: pass tokenizer= (the student's tokenizer)")


def _group_by_example(completions: Iterable[Completion], examples: Sequence[Example]
                      ) -> tuple[dict[str, list[Completion]], int]:
    """The completions of each example of ``examples`` (by id), and how many belong to none of them."""
    ids: set[str] = set()
    for example in examples:
        if example.id in ids:
            raise ValueError(f"duplicate example id {example.id!r} in examples")
        ids.add(example.id)
    grouped: dict[str, list[Completion]] = defaultdict(list)
    unknown = 0
    for completion in completions:
        if completion.example_id in ids:
            grouped[completion.example_id].append(completion)
        else:
            unknown += 1
    return grouped, unknown


def _kept_rationales(completions: Sequence[Completion], mode: str, matched: set | None, tokenizer,
                     max_rationale_tokens: int | None) -> tuple[list[tuple[int, str]], int, int]:
    """One example's ``(sample_index, rationale)`` pairs that ``mode`` keeps, how many it filtered, how many it cut."""
    kept, filtered, truncated = [], 0, 0
    for completion in sorted(completions, key=lambda c: c.sample_index):
        # REPRODUCTION NOTE: the official code re-scores each completion with its Evaluator when
        # selecting samples; fcot trusts Completion.correct, set by the teacher driver with
        # fcot.answers (the same parsing rules) when the completion was generated or replayed.
        if (mode == "correct_only" and not completion.correct) or (
                matched is not None and (completion.example_id, completion.sample_index) not in matched):
            filtered += 1
            continue
        rationale = completion.rationale
        # REPRODUCTION NOTE: the paper has no rationale limit (only 512-token truncation at
        # tokenisation); max_rationale_tokens (keep the first N tokens) and max_sample_tokens
        # (drop the sample) are fcot options, off unless set, and their counts are reported.
        if max_rationale_tokens is not None:
            rationale, was_cut = _truncate_rationale(tokenizer, rationale, max_rationale_tokens)
            truncated += was_cut
        kept.append((completion.sample_index, rationale))
    return kept, filtered, truncated


def curate(
    completions: Iterable[Completion],
    examples: Iterable[Example],
    *,
    mode: str = "correct_only",
    fmt: str = "ft_cot",
    tokenizer=None,
    max_rationale_tokens: int | None = None,
    max_sample_tokens: int | None = None,
    stop_phrase: str | None = None,
) -> CurationResult:
    """Filter teacher completions by ``mode`` and format the kept ones as ``fmt`` samples.

    ``examples`` is the split being curated (normally train): completions of other examples are
    ignored and counted (``completions_unknown_example``), so test questions can never leak into
    the samples. ``vanilla`` formats ignore the completions (one sample per example, gold answer).
    ``max_rationale_tokens`` cuts longer rationales (counted with ``tokenizer``, the student's);
    ``max_sample_tokens`` drops longer samples. ``stop_phrase`` (e.g. ``" END"`` for OpenAI
    fine-tuning) is appended to every completion; HF students get their EOS token instead.
    Samples come in the order of ``examples``, then by completion ``sample_index``.
    """
    _check_curation_args(mode, fmt, tokenizer, max_rationale_tokens, max_sample_tokens)
    examples = list(examples)
    grouped, unknown = _group_by_example(completions, examples)
    vanilla = fmt.removesuffix("_encdec") == "vanilla"

    samples: list[Sample] = []
    filtered = truncated = dropped = 0
    n_completions = sum(len(v) for v in grouped.values())
    n_correct = sum(c.correct for v in grouped.values() for c in v)
    matched = _matched_subset(grouped, examples, n_correct) if mode == "keep_all_matched" and not vanilla else None
    for example in examples:
        answer = normalize_gold(example)
        if vanilla:
            sources: list[tuple[int, str | None]] = [(0, None)]
        else:
            sources, was_filtered, were_cut = _kept_rationales(grouped.get(example.id, []), mode, matched, tokenizer,
                                                               max_rationale_tokens)
            filtered, truncated = filtered + was_filtered, truncated + were_cut
        for index, rationale in sources:
            pairs = format_sample(example.question, answer, fmt, rationale)
            for task, (prompt, completion_text) in enumerate(pairs):
                if stop_phrase:
                    completion_text += stop_phrase
                if max_sample_tokens is not None and sample_token_count(tokenizer, prompt, completion_text, fmt) > max_sample_tokens:
                    dropped += 1
                    continue
                sample_index = 2 * index + task if len(pairs) == 2 else index
                samples.append(Sample(example.id, sample_index, prompt, completion_text, fmt))

    report = CurationReport(
        mode=mode,
        fmt=fmt,
        examples=len(examples),
        examples_with_completion=len(grouped),
        examples_with_correct=sum(any(c.correct for c in v) for v in grouped.values()),
        examples_with_sample=len({s.example_id for s in samples}),
        completions=n_completions,
        completions_correct=n_correct,
        completions_filtered=filtered,
        completions_unknown_example=unknown,
        samples_kept=len(samples),
        share_filtered=(filtered / n_completions) if n_completions and not vanilla else 0.0,
        rationales_truncated=truncated,
        samples_dropped_too_long=dropped,
    )
    return CurationResult(samples, report)


def _matched_subset(grouped: dict[str, list[Completion]], examples: Sequence[Example], size: int) -> set[tuple[str, int]]:
    """``size`` completions drawn at random (seed :data:`MATCHED_SUBSET_SEED`) from all of them."""
    import random

    keys = [(e.id, c.sample_index) for e in examples for c in sorted(grouped.get(e.id, []), key=lambda c: c.sample_index)]
    return set(random.Random(MATCHED_SUBSET_SEED).sample(keys, min(size, len(keys))))


def compare_modes(completions: Sequence[Completion], examples: Sequence[Example], fmt: str = "ft_cot", **kwargs):
    """One row per filter mode with the curation counts (a pandas DataFrame)."""
    import pandas as pd

    rows = [curate(completions, examples, mode=mode, fmt=fmt, **kwargs).report.as_dict() for mode in FILTER_MODES]
    return pd.DataFrame(rows).set_index("mode")


def sample_lengths(samples: Iterable[Sample], tokenizer=None) -> list[int]:
    """Length of every sample: tokens (with ``tokenizer``, as trained: see sample_token_count) or characters."""
    if tokenizer is None:
        return [len(s.prompt) + len(s.completion) for s in samples]
    return [sample_token_count(tokenizer, s.prompt, s.completion, s.format) for s in samples]


def samples_texts(samples: Iterable[Sample]) -> list[str]:
    """The prompt and completion texts of samples (what a tiny student's tokenizer trains on)."""
    return [text for s in samples for text in (s.prompt, s.completion)]


def write_samples(path: str | os.PathLike, samples: Iterable[Sample]) -> Path:
    """Write samples as JSONL (atomically)."""
    write_jsonl(path, samples)
    return Path(path)


def read_samples(path: str | os.PathLike) -> list[Sample]:
    """Read samples written by :func:`write_samples`; a bad line raises naming ``file:line``."""
    return read_records(Sample, path)


# ----------------------------------------------------------------------------------------------
# Curated train and validation samples (what fcot.stages.curate records)
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CuratedSplits:
    """Curated train and validation samples of one task (validation carved out of train, never test)."""

    train: CurationResult
    val: CurationResult
    examples_train: list[Example]
    examples_val: list[Example]
    completions: list[Completion]

    def report_table(self):
        """Curation counts of both splits (a pandas DataFrame, one row per split)."""
        import pandas as pd

        return pd.DataFrame([self.train.report.as_dict() | {"split": "train"},
                             self.val.report.as_dict() | {"split": "val"}]).set_index("split")


def samples_frame(samples: Sequence[Sample], n: int | None = 5):
    """The first ``n`` samples as a DataFrame (all with ``n=None``), for display."""
    import pandas as pd

    rows = [dataclasses.asdict(s) for s in (samples if n is None else samples[:n])]
    return pd.DataFrame(rows, columns=["example_id", "sample_index", "prompt", "completion", "format"])


def task_texts(examples: Iterable[Example], completions: Iterable[Completion] = ()) -> list[str]:
    """Questions and rationales: the text a tiny student's tokenizer is trained on before curation."""
    texts = [e.question for e in examples]
    texts += [c.rationale for c in completions]
    return texts


def save_splits(run, splits: CuratedSplits, tokenizer=None) -> dict[str, Path]:
    """Write a curation to ``run`` (``fcot.runs.Run``): ``samples_train.jsonl`` and ``samples_val.jsonl``
    in its artifacts (outside git), a few samples to read (``samples_preview.jsonl``), the counts
    table (``tables/curation``), and metrics (samples, share filtered, length stats)."""
    import numpy as np

    written = {}
    for name, samples in (("samples_train", splits.train.samples), ("samples_val", splits.val.samples)):
        written[name] = run.artifacts_dir / f"{name}.jsonl"
        write_jsonl(written[name], samples)
    written["samples_preview"] = run.save_predictions(splits.train.samples[:5], name="samples_preview")
    written["table"], _ = run.save_table(splits.report_table(), "curation")
    lengths = sample_lengths(splits.train.samples, tokenizer)
    report = splits.train.report
    run.save_metrics({
        "questions_train": len(splits.examples_train),
        "questions_val": len(splits.examples_val),
        "samples_train": report.samples_kept,
        "samples_val": splits.val.report.samples_kept,
        "examples_with_sample_train": report.examples_with_sample,
        "examples_with_correct_train": report.examples_with_correct,
        "share_filtered_train": report.share_filtered,
        "rationales_truncated_train": report.rationales_truncated,
        "samples_dropped_too_long_train": report.samples_dropped_too_long,
        "length_unit": "tokens" if tokenizer is not None else "characters",
        "length_median": float(np.median(lengths)) if lengths else None,
        "length_max": int(max(lengths)) if lengths else None,
    })
    return written
