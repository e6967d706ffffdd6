"""Student models: building, loading, fine-tuning on curated samples, saving.

A **student** is any causal LM (GPT-2 family, modern small LMs) or sequence-to-sequence LM
(T5, Flan-T5), given as a hub id, a local path, or one of the offline **tiny aliases**
(``tiny-gpt2-xs|s|m``, ``tiny-t5-xs|s|m``; ``tiny-gpt2``/``tiny-t5`` mean the ``-s`` size):
randomly initialised models with a byte-level BPE tokenizer trained on the task text, so the
whole pipeline runs in seconds on a CPU without a network.

The training recipe (:func:`train_student`) is the transformers ``Trainer`` with

* loss on the completion only: labels are ``-100`` on the prompt and on padding, and they are
  built from the *unpadded* sequence, so the end-of-sequence token stays in the loss even where
  the pad token *is* the EOS token (GPT-2) -- otherwise the student never learns to stop;
* dynamic padding with length-grouped batches, seeds set, bf16/TF32 on CUDA, gradient
  accumulation, checkpoints under ``fcot.paths.runs_dir()``, resume after interruption;
* model selection (best epoch) on the **validation** split, by validation loss by default or by
  validation accuracy (greedy decoding, via ``fcot.evaluate`` when present); never on test.

The same code runs under ``accelerate launch`` with several processes (DDP): see ``main`` at
the bottom (``python -m fcot.students --samples-train ... --samples-val ... --run-dir ...``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Sequence

import numpy as np
import torch

StudentKind = Literal["decoder", "encoder_decoder"]
STUDENT_KINDS: tuple[str, ...] = ("decoder", "encoder_decoder")

PAD_TOKEN = "<pad>"
EOS_TOKEN = "<eos>"


# ----------------------------------------------------------------------------------------------
# Tiny offline students
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TinySpec:
    """The shape of one tiny student alias (random init; parameter counts at a 512-token vocabulary)."""

    kind: StudentKind
    d_model: int
    layers: int
    heads: int
    d_ff: int  # feed-forward width (GPT-2: 4 * d_model by convention)
    approx_params: str


TINY_STUDENTS: dict[str, TinySpec] = {
    "tiny-gpt2-xs": TinySpec("decoder", 64, 2, 2, 256, "~0.15M"),
    "tiny-gpt2-s": TinySpec("decoder", 128, 2, 4, 512, "~0.5M"),
    "tiny-gpt2-m": TinySpec("decoder", 192, 4, 4, 768, "~2M"),
    "tiny-t5-xs": TinySpec("encoder_decoder", 64, 2, 2, 128, "~0.2M"),
    "tiny-t5-s": TinySpec("encoder_decoder", 128, 2, 4, 256, "~0.7M"),
    "tiny-t5-m": TinySpec("encoder_decoder", 192, 3, 4, 512, "~2.6M"),
}
TINY_ALIASES: dict[str, str] = {"tiny-gpt2": "tiny-gpt2-s", "tiny-t5": "tiny-t5-s"}


def is_tiny_alias(name: str) -> bool:
    return name in TINY_STUDENTS or name in TINY_ALIASES


def train_tokenizer(texts: Iterable[str], vocab_size: int = 512):
    """A byte-level BPE tokenizer trained on ``texts`` with special tokens ``<pad>`` (id 0), ``<eos>`` (id 1).

    Byte-level (as GPT-2's): every string round-trips through encode/decode, spaces included.
    Returns a transformers fast tokenizer (``save_pretrained``-able).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = [t for t in texts if t]
    if not texts:
        raise ValueError("train_tokenizer needs at least one non-empty text (the task's questions and samples)")
    if vocab_size < 260:
        raise ValueError(f"vocab_size must be >= 260 (256 bytes + special tokens), got {vocab_size}")
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD_TOKEN, EOS_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token=PAD_TOKEN, eos_token=EOS_TOKEN)


def build_tiny_student(
    alias: str,
    texts: Iterable[str],
    seed: int = 0,
    *,
    vocab_size: int = 512,
    dropout: float = 0.0,
    max_positions: int = 512,
):
    """A randomly initialised tiny student and a BPE tokenizer trained on ``texts``.

    ``alias``: one of :data:`TINY_STUDENTS` (or ``tiny-gpt2``/``tiny-t5``). ``texts``: the task
    text the tokenizer learns its merges from (questions, prompts and completions of samples).
    ``dropout`` defaults to 0: the prototype measurements showed tiny from-scratch students learn
    the tasks with dropout 0 and fail with 0.1 at the same budget. Same seed, same weights.
    Returns ``(model, tokenizer)``.
    """
    from transformers import GPT2Config, GPT2LMHeadModel, T5Config, T5ForConditionalGeneration

    name = TINY_ALIASES.get(alias, alias)
    if name not in TINY_STUDENTS:
        accepted = sorted(TINY_STUDENTS) + sorted(TINY_ALIASES)
        raise ValueError(f"unknown tiny student alias {alias!r}; accepted: {accepted}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    spec = TINY_STUDENTS[name]
    tokenizer = train_tokenizer(texts, vocab_size=vocab_size)
    vocab = len(tokenizer)
    set_seed(seed)
    if spec.kind == "decoder":
        config = GPT2Config(
            vocab_size=vocab,
            n_positions=max_positions,
            n_embd=spec.d_model,
            n_layer=spec.layers,
            n_head=spec.heads,
            n_inner=spec.d_ff,
            resid_pdrop=dropout,
            embd_pdrop=dropout,
            attn_pdrop=dropout,
            bos_token_id=tokenizer.eos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        model = GPT2LMHeadModel(config)
    else:
        config = T5Config(
            vocab_size=vocab,
            d_model=spec.d_model,
            d_kv=spec.d_model // spec.heads,
            d_ff=spec.d_ff,
            num_layers=spec.layers,
            num_decoder_layers=spec.layers,
            num_heads=spec.heads,
            dropout_rate=dropout,
            feed_forward_proj="relu",
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            decoder_start_token_id=tokenizer.pad_token_id,
        )
        model = T5ForConditionalGeneration(config)
    model.config.fcot_alias = name
    _sync_generation_config(model, tokenizer)
    return model, tokenizer


# ----------------------------------------------------------------------------------------------
# Loading any student
# ----------------------------------------------------------------------------------------------


def student_kind(model_or_config) -> StudentKind:
    """``"encoder_decoder"`` for T5-like models (``config.is_encoder_decoder``), else ``"decoder"``."""
    config = getattr(model_or_config, "config", model_or_config)
    return "encoder_decoder" if getattr(config, "is_encoder_decoder", False) else "decoder"


def _sync_generation_config(model, tokenizer) -> None:
    """Make generate() stop at the tokenizer's EOS and pad with its pad token."""
    generation = getattr(model, "generation_config", None)
    if generation is None:
        return
    generation.eos_token_id = tokenizer.eos_token_id
    generation.pad_token_id = tokenizer.pad_token_id
    if student_kind(model) == "encoder_decoder" and getattr(model.config, "decoder_start_token_id", None) is not None:
        generation.decoder_start_token_id = model.config.decoder_start_token_id


def load_student(name_or_path: str | os.PathLike, texts: Iterable[str] | None = None, seed: int = 0, **tiny_kwargs):
    """``(model, tokenizer)`` for a tiny alias, a local directory or a hub id.

    * tiny alias (``tiny-gpt2-s``, ...): built by :func:`build_tiny_student`; ``texts`` is required
      (the tokenizer is trained on them);
    * a directory or hub id: the architecture is detected from its config (``is_encoder_decoder``
      -> ``AutoModelForSeq2SeqLM``, else ``AutoModelForCausalLM``). Tokenizers without a pad token
      (GPT-2, many modern LMs) get ``pad = eos``; training keeps EOS in the loss regardless.
    Hub loading needs a network (or a populated HF cache); tests use local paths only.
    """
    name = str(name_or_path)
    if is_tiny_alias(name):
        if texts is None:
            raise ValueError(
                f"load_student({name!r}): tiny students train their tokenizer on the task text; pass texts="
                " (e.g. the questions, prompts and completions of the training samples)"
            )
        return build_tiny_student(name, texts, seed=seed, **tiny_kwargs)
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(name)
    except (OSError, ValueError) as error:
        raise FileNotFoundError(
            f"student {name!r} is neither a tiny alias ({sorted(TINY_STUDENTS) + sorted(TINY_ALIASES)}), "
            f"nor a local model directory, nor a reachable hub id: {error}"
        ) from error
    tokenizer = AutoTokenizer.from_pretrained(name)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if student_kind(config) == "encoder_decoder":
        model = AutoModelForSeq2SeqLM.from_pretrained(name)
    else:
        model = AutoModelForCausalLM.from_pretrained(name)
        if model.config.pad_token_id is None:
            model.config.pad_token_id = tokenizer.pad_token_id
    _sync_generation_config(model, tokenizer)
    return model, tokenizer


def save_student(model, tokenizer, path: str | os.PathLike) -> Path:
    """Write model (safetensors) and tokenizer to ``path``; :func:`load_trained` reads it back."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def load_trained(path: str | os.PathLike):
    """``(model, tokenizer)`` of a student saved by :func:`save_student` or :func:`train_student`.

    A LoRA adapter directory (``adapter_config.json``) is loaded onto its base model and merged.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such student directory (expected one written by save_student)")
    if (path / "adapter_config.json").is_file():
        from peft import AutoPeftModelForCausalLM, AutoPeftModelForSeq2SeqLM, PeftConfig
        from transformers import AutoConfig, AutoTokenizer

        base = PeftConfig.from_pretrained(path).base_model_name_or_path
        cls = AutoPeftModelForSeq2SeqLM if student_kind(AutoConfig.from_pretrained(base)) == "encoder_decoder" else AutoPeftModelForCausalLM
        model = cls.from_pretrained(path).merge_and_unload()
        tokenizer = AutoTokenizer.from_pretrained(path)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        _sync_generation_config(model, tokenizer)
        return model, tokenizer
    return load_student(path)


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


# ----------------------------------------------------------------------------------------------
# Tokenising samples (shared with fcot.evaluate so prompts are encoded the same way)
# ----------------------------------------------------------------------------------------------


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
