"""Student parameter counts and the GPU the hours are computed for (measured, given or assumed)."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from fcot.costs.basis import BENCH_GPU_JSON, DEFAULT_GPU, DEFAULT_MFU, relative_path

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
                source=f"measured by `make bench-gpu` ({relative_path(path)}): MFU {listing}; each student gets the "
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
               f"(no `make bench-gpu` measurement at {relative_path(BENCH_GPU_JSON) if path is None else relative_path(path)})",
    )

