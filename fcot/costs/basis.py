"""Units and defaults of a cost estimate: token counting, FLOPs per token, the default GPU and sample.

The counts are approximate (:data:`CHARS_PER_TOKEN` characters a token, for teacher and students alike);
:func:`relative_path` names a file the way the report prints it (relative to the repository).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from fcot import paths

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


def relative_path(path: Path) -> str:
    """``path`` relative to the repository root (POSIX), or as given when it lies outside."""
    try:
        return Path(path).resolve().relative_to(paths.REPO_ROOT).as_posix()
    except ValueError:
        return str(path)
