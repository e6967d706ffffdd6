"""Tokenising samples as a student sees them, in training and at inference (shared with :mod:`fcot.evaluate`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from fcot import hfdata
from fcot.students.kinds import StudentKind

if TYPE_CHECKING:
    import torch


def encode_prompt(tokenizer, prompt: str, kind: StudentKind = "decoder") -> list[int]:
    """Token ids of a prompt as the student sees it, in training and at inference.

    Decoders: the tokenizer's own special tokens (e.g. a BOS) are kept, a trailing EOS some
    tokenizers append is dropped (the completion follows). Encoder-decoders: as the tokenizer
    encodes (T5 appends ``</s>`` to encoder inputs).
    """
    ids = list(tokenizer(prompt, add_special_tokens=True)["input_ids"])
    if kind == "decoder" and ids and tokenizer.eos_token_id is not None and ids[-1] == tokenizer.eos_token_id:
        if not prompt.endswith(tokenizer.eos_token or "\0"):
            ids = ids[:-1]
    return ids


def encode_sample(tokenizer, prompt: str, completion: str, kind: StudentKind, max_length: int | None = None) -> dict:
    """``input_ids``/``labels`` (and ``length``) for one sample, EOS appended to the completion.

    Labels are built here, from the unpadded sequence: ``-100`` on the prompt, the completion ids
    and the EOS id after them. Padding added later by :class:`SampleCollator` is ``-100`` too, so the
    EOS is learned even when ``pad_token_id == eos_token_id``. Over ``max_length`` tokens the
    sequence is cut at the end (``truncated`` is set).
    """
    if tokenizer.eos_token_id is None:
        raise ValueError("the student's tokenizer has no eos_token; set one so the student can learn to stop")
    # REPRODUCTION NOTE: the official code (src/custom/data_module.py) appends EOS only when
    # append_eos=True, left-pads training batches and truncates prompt and label to 512 tokens
    # each; fcot always appends EOS, right-pads (position ids stay 0..n-1) and cuts the whole
    # decoder sequence at max_length (curation can drop over-long samples beforehand instead).
    prompt_ids = encode_prompt(tokenizer, prompt, kind)
    completion_ids = list(tokenizer(completion, add_special_tokens=False)["input_ids"]) + [tokenizer.eos_token_id]
    truncated = False
    if kind == "decoder":
        input_ids = prompt_ids + completion_ids
        labels = [-100] * len(prompt_ids) + completion_ids
        if max_length is not None and len(input_ids) > max_length:
            input_ids, labels, truncated = input_ids[:max_length], labels[:max_length], True
        return {"input_ids": input_ids, "labels": labels, "length": len(input_ids), "truncated": truncated}
    if max_length is not None and (len(prompt_ids) > max_length or len(completion_ids) > max_length):
        prompt_ids, completion_ids, truncated = prompt_ids[:max_length], completion_ids[:max_length], True
    return {"input_ids": prompt_ids, "labels": completion_ids, "length": len(prompt_ids) + len(completion_ids), "truncated": truncated}


class SampleCollator:
    """Dynamic padding to the longest sequence of the batch (right side); labels padded with -100."""

    def __init__(self, pad_token_id: int, kind: StudentKind = "decoder"):
        if pad_token_id is None:
            raise ValueError("SampleCollator needs a pad_token_id")
        self.pad_token_id = pad_token_id
        self.kind = kind

    def __call__(self, features: Sequence[dict]) -> dict[str, torch.Tensor]:
        import torch

        width = max(len(f["input_ids"]) for f in features)
        input_ids = torch.full((len(features), width), self.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(features), width), dtype=torch.long)
        label_width = max(len(f["labels"]) for f in features)
        labels = torch.full((len(features), label_width), -100, dtype=torch.long)
        for row, feature in enumerate(features):
            n = len(feature["input_ids"])
            input_ids[row, :n] = torch.as_tensor(feature["input_ids"])
            attention[row, :n] = 1
            labels[row, : len(feature["labels"])] = torch.as_tensor(feature["labels"])
        return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}


def encode_samples(tokenizer, samples, kind: StudentKind, max_length: int | None = None):
    """Samples as a ``datasets.Dataset`` (:func:`fcot.hfdata.from_records`), tokenised by ``Dataset.map`` (batched)
    with :func:`encode_sample`: columns ``input_ids``, ``labels``, ``length``, ``truncated``, in the samples' order."""
    def encode(batch: dict) -> dict:
        rows = [encode_sample(tokenizer, p, c, kind, max_length) for p, c in zip(batch["prompt"], batch["completion"])]
        return {name: [row[name] for row in rows] for name in ("input_ids", "labels", "length", "truncated")}

    dataset = hfdata.from_records(samples, "sample")
    return dataset.map(encode, batched=True, remove_columns=dataset.column_names, desc="tokenise samples")

