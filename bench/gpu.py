"""GPU benchmark: GPT-2 124M / 774M students trained with fcot's trainer in bf16; tokens/s and MFU.

For each size a **randomly initialised** GPT-2 (the ``transformers.GPT2Config`` shapes of ``gpt2``
and ``gpt2-large``, 50,257-token vocabulary, tied embeddings) is fine-tuned for a fixed number of
optimisation steps on synthetic Fine-tune-CoT samples (last-letter questions with their rationale,
``bench.training.bench_samples``) through ``fcot.students.train_student`` -- the code path of
notebook 20: dynamic padding, length-grouped batches, bf16 mixed precision and TF32 (``precision
="auto"`` on a GPU with bf16), AdamW. Reported per size:

* **training tokens/s**: real (non-padding) tokens of the timed steps / their wall time. The first
  ``--warmup`` steps (CUDA context, kernel autotuning, allocator growth) are not timed; every timed
  step is closed by ``torch.cuda.synchronize()``; the end-of-run evaluation and checkpoint are not
  in the timed steps.
* **MFU** (model FLOPs utilisation) = model FLOP/s / the GPU's peak dense bf16 FLOP/s (table
  :data:`PEAK_BF16_TFLOPS`, keyed by device name; unknown GPU -> None with a note). Model FLOPs
  of one training step, summed over its sequences of real length T (PaLM, appendix B; the
  nanoGPT ``estimate_mfu`` convention)::

      FLOPs = sum_over_sequences( 6 * N * T  +  12 * n_layer * d_model * T**2 )

  N = parameters taking part in matmuls: every parameter except the position embeddings (a
  lookup); the token embedding counts once, as the tied LM head's matmul. 6 = 2 (multiply-add)
  x 3 (forward + backward). The attention term is QK^T and AV over the full T x T square (causal
  masking is not discounted). Padding tokens are not counted (they are wasted work, not model work).
* **batched evaluation tokens/s**: greedy generation with ``fcot.evaluate.generate_outputs``
  (length-sorted batches, left padding, KV cache) of the bf16 model on held-out prompts:
  generated tokens (up to EOS) / wall time.

Records the GPU name, CUDA, torch and transformers versions. On a machine without CUDA it exits
with a message (status 2) unless ``--device cpu`` is given (a dry run: no peak, MFU None).

    python -m bench.gpu                              # both sizes, 60 steps each (a few minutes on an H100)
    python -m bench.gpu --sizes gpt2-124m --steps 30
    python -m bench.gpu --smoke --device cpu         # seconds: a tiny GPT-2 on the CPU (tests/test_bench_suite.py)
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch

# Peak dense (no sparsity) bf16 tensor-core FLOP/s, in TFLOP/s, from the vendors' data sheets.
# Matched in this order against torch.cuda.get_device_name() (case-insensitive substring), so the
# more specific names come first.
PEAK_BF16_TFLOPS: tuple[tuple[str, float], ...] = (
    ("H200", 989.0),  # H200 SXM (same tensor cores as H100 SXM)
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H100", 989.0),  # H100 SXM5 ("NVIDIA H100 80GB HBM3")
    ("GH200", 989.0),
    ("A100", 312.0),  # SXM and PCIe
    ("L40S", 362.0),
    ("L4", 121.0),
    ("A10G", 70.0),  # AWS A10G (below the A10's 125)
    ("RTX 4090", 165.0),
)


@dataclass(frozen=True)
class GPT2Size:
    """A GPT-2 shape (``transformers.GPT2Config`` fields)."""

    n_embd: int
    n_layer: int
    n_head: int
    vocab_size: int = 50257
    n_positions: int = 1024


SIZES: dict[str, GPT2Size] = {
    "gpt2-124m": GPT2Size(768, 12, 12),  # = "gpt2"
    "gpt2-774m": GPT2Size(1280, 36, 20),  # = "gpt2-large"
    "tiny": GPT2Size(64, 2, 2, vocab_size=512, n_positions=256),  # the CPU dry run
}
DEFAULTS = {"sizes": ("gpt2-124m", "gpt2-774m"), "steps": 60, "warmup": 10, "batch_size": 32,
            "eval_prompts": 256, "eval_batch_size": 64, "max_new_tokens": 128}
SMOKE = {"sizes": ("tiny",), "steps": 3, "warmup": 1, "batch_size": 4, "eval_prompts": 4, "eval_batch_size": 4,
         "max_new_tokens": 4}


# ---------------------------------------------------------------------------------------------
# Arithmetic


def peak_bf16_flops(device_name: str | None) -> float | None:
    """The peak dense bf16 FLOP/s of a GPU from :data:`PEAK_BF16_TFLOPS`, or None when unknown."""
    if not device_name:
        return None
    name = device_name.lower()
    for key, tflops in PEAK_BF16_TFLOPS:
        if key.lower() in name:
            return tflops * 1e12
    return None


def flop_parameters(model) -> int:
    """N of the FLOPs formula: all parameters except position embeddings (``wpe``), shared ones once."""
    seen, total = set(), 0
    for name, parameter in model.named_parameters():
        if id(parameter) in seen or name.endswith("wpe.weight"):
            continue
        seen.add(id(parameter))
        total += parameter.numel()
    return total


def training_flops(n_parameters: int, n_layer: int, d_model: int, lengths: Sequence[int]) -> float:
    """Model FLOPs of one forward + backward over sequences of these real lengths (see module docstring)."""
    if n_parameters < 0 or n_layer < 0 or d_model < 0:
        raise ValueError("n_parameters, n_layer and d_model must be >= 0")
    if any(t < 0 for t in lengths):
        raise ValueError(f"sequence lengths must be >= 0, got {list(lengths)}")
    return float(sum(6 * n_parameters * t + 12 * n_layer * d_model * t * t for t in lengths))


def mfu(model_flops_per_second: float, peak_flops: float | None) -> float | None:
    """Model FLOPs utilisation in [0, 1] (None when the peak is unknown)."""
    if peak_flops is None:
        return None
    if peak_flops <= 0:
        raise ValueError(f"peak_flops must be > 0, got {peak_flops}")
    return model_flops_per_second / peak_flops


# ---------------------------------------------------------------------------------------------
# Measurement


class _StepTimer:
    """Counts real tokens and sequence lengths of every training forward, times steps after warm-up.

    A forward pre-hook on the model (training mode only: evaluation forwards are skipped) reads the
    attention mask the collator built; a TrainerCallback closes each step with a CUDA synchronise.
    """

    def __init__(self, model, warmup: int, device: torch.device):
        from transformers import TrainerCallback

        self.warmup, self.device = warmup, device
        self.forwards: list[list[int]] = []  # real lengths of each training forward's sequences
        self.padded: list[int] = []
        self.marks: list[float] = []  # perf_counter at the end of each step
        self._handle = model.register_forward_pre_hook(self._hook, with_kwargs=True)
        timer = self

        class Callback(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                if timer.device.type == "cuda":
                    torch.cuda.synchronize(timer.device)
                timer.marks.append(time.perf_counter())

        self.callback = Callback()

    def _hook(self, module, args, kwargs):
        mask = kwargs.get("attention_mask")
        if module.training and mask is not None:
            self.forwards.append(mask.sum(dim=1).tolist())
            self.padded.append(int(mask.numel()))

    def close(self) -> None:
        self._handle.remove()

    def timed(self) -> tuple[list[int], int, float]:
        """(real lengths of the timed steps' sequences, their padded tokens, their wall seconds)."""
        if self.warmup < 1 or len(self.marks) <= self.warmup or len(self.forwards) != len(self.marks):
            raise RuntimeError(
                f"{len(self.marks)} steps ({len(self.forwards)} training forwards) for {self.warmup} warm-up steps: "
                "need --warmup >= 1 (the timed window starts at the end of the last warm-up step) and more --steps "
                "than --warmup, with gradient accumulation 1"
            )
        lengths = [t for step in self.forwards[self.warmup :] for t in step]
        return lengths, sum(self.padded[self.warmup :]), self.marks[-1] - self.marks[self.warmup - 1]


def build_model(size: str, tokenizer, device: torch.device, seed: int = 0):
    """A randomly initialised GPT-2 of ``size`` (fp32 weights; training casts to bf16 via autocast)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; accepted: {sorted(SIZES)}")
    shape = SIZES[size]
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=max(shape.vocab_size, len(tokenizer)), n_positions=shape.n_positions, n_embd=shape.n_embd,
        n_layer=shape.n_layer, n_head=shape.n_head, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    return GPT2LMHeadModel(config).to(device)


def measure_size(size: str, *, steps: int, warmup: int, batch_size: int, eval_prompts: int, eval_batch_size: int,
                 max_new_tokens: int, device: torch.device, seed: int = 0, workdir: Path) -> dict:
    """Train one size for ``steps`` steps with fcot's trainer, then generate; the report dict."""
    from bench.training import bench_samples
    from fcot import evaluate, students

    if warmup < 1 or steps <= warmup:
        raise ValueError(f"need 1 <= --warmup < --steps, got warmup {warmup}, steps {steps}")
    # REPRODUCTION NOTE: the paper's students start from pretrained GPT-2 weights and GPT-2's BPE;
    # throughput does not depend on the weights, and offline we train a small BPE on the samples
    # (the model keeps GPT-2's 50,257-row embedding, so its size and FLOPs are GPT-2's).
    train = bench_samples(steps * batch_size + batch_size, seed)
    val = bench_samples(max(eval_prompts, 16), seed + 1)
    tokenizer = students.train_tokenizer([t for s in train for t in (s.prompt, s.completion)], vocab_size=512)
    model = build_model(size, tokenizer, device, seed)
    n_flop = flop_parameters(model)
    config = students.TrainConfig(student=f"random-{size}", epochs=1, max_steps=steps, batch_size=batch_size,
                                  lr=3e-4, seed=seed, eval_batch_size=eval_batch_size, save_total_limit=1,
                                  max_length=SIZES[size].n_positions, precision="auto")
    timer = _StepTimer(model, warmup, device)
    try:
        result = students.train_student(train, val[:16], config, workdir / size, model=model, tokenizer=tokenizer,
                                        callbacks=[timer.callback])
    finally:
        timer.close()
    lengths, padded, seconds = timer.timed()
    tokens = sum(lengths)
    flops = training_flops(n_flop, model.config.n_layer, model.config.n_embd, lengths)
    peak = peak_bf16_flops(torch.cuda.get_device_name(device) if device.type == "cuda" else None)
    utilisation = mfu(flops / seconds, peak)

    eval_model = model.to(torch.bfloat16) if device.type == "cuda" else model
    prompts = [s.prompt for s in val[:eval_prompts]]
    evaluate.generate_outputs(eval_model, tokenizer, prompts[:eval_batch_size], batch_size=eval_batch_size,
                              max_new_tokens=4)  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    outputs = evaluate.generate_outputs(eval_model, tokenizer, prompts, batch_size=eval_batch_size,
                                        max_new_tokens=max_new_tokens)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    eval_seconds = time.perf_counter() - start
    generated = sum(g[0].tokens for g in outputs)
    return {
        "size": size,
        "parameters": students.count_parameters(model),
        "flop_parameters": n_flop,
        "n_layer": model.config.n_layer,
        "d_model": model.config.n_embd,
        "precision": "bf16 autocast + TF32" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32",
        "steps": steps,
        "warmup_steps": warmup,
        "batch_size": batch_size,
        "timed_steps": steps - warmup,
        "timed_seconds": round(seconds, 3),
        "train_tokens": tokens,
        "padded_tokens": padded,
        "padding_share": round(1 - tokens / padded, 4) if padded else None,
        "mean_sequence_length": round(tokens / max(len(lengths), 1), 1),
        "train_tokens_per_second": round(tokens / seconds, 1),
        "model_tflops_per_second": float(f"{flops / seconds / 1e12:.4g}"),  # 4 significant digits (CPU dry runs are tiny)
        "peak_bf16_tflops": None if peak is None else peak / 1e12,
        "mfu": None if utilisation is None else round(utilisation, 4),
        "mfu_note": "" if peak is not None else (
            "CPU dry run: no peak, MFU not computed" if device.type != "cuda" else
            f"peak bf16 FLOP/s of {torch.cuda.get_device_name(device)!r} is not in bench.gpu.PEAK_BF16_TFLOPS: "
            "MFU not computed (add the data-sheet value)"),
        "final_train_loss": next((e["train_loss"] for e in reversed(result.log_history) if "train_loss" in e), None),
        "eval_prompts": len(prompts),
        "eval_batch_size": eval_batch_size,
        "eval_max_new_tokens": max_new_tokens,
        "eval_generated_tokens": generated,
        "eval_seconds": round(eval_seconds, 3),
        "eval_tokens_per_second": round(generated / eval_seconds, 1),
    }


def measured_peak_flops(device: torch.device, size: int = 8192, repeats: int = 20) -> float:
    """The device's achievable dense matmul FLOP/s, measured in this run: ``repeats`` products of two
    ``size`` x ``size`` matrices (bf16 on a GPU, fp32 on a CPU), the best of three timings. MFU is
    reported against this (and against the vendor table where the device is known)."""
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(4):  # the first round warms up (kernel selection, clocks)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2.0 * size ** 3 * repeats / best


def measure_pipeline(device: torch.device, workdir: Path, smoke: bool = False) -> dict:
    """One short experiment of the study's pipeline (teacher -> curate -> train -> evaluate,
    ``fcot.experiments.run_experiment``) on the device: its wall time per stage and its accuracy."""
    from fcot import experiments, paths

    config = experiments.ExperimentConfig(task="synth_last_letter", difficulty=2, n_train=40 if smoke else 400, n_val=20,
                                          n_test=20 if smoke else 200, teacher_accuracy=0.7, student="tiny-gpt2-m",
                                          epochs=1 if smoke else 10, max_new_tokens=48)
    env = {paths.RESULTS_ENV: str(workdir / "results"), paths.RUNS_ENV: str(workdir / "runs"), paths.PROFILE_ENV: "bench"}
    with paths.environment(env):
        start = time.perf_counter()
        result = experiments.run_experiment(config)
        seconds = time.perf_counter() - start
    return {"config": {k: v for k, v in dataclasses.asdict(config).items() if v is not None},
            "wall_seconds": round(seconds, 2), "train_seconds": result.get("train_seconds"),
            "accuracy": result.get("accuracy"), "device": device.type}


def environment(device: torch.device) -> dict:
    import transformers

    return {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
    }


def run(sizes: Sequence[str], *, steps: int, warmup: int, batch_size: int, eval_prompts: int, eval_batch_size: int,
        max_new_tokens: int, device: str = "cuda", seed: int = 0) -> dict:
    """Every size in turn; the report dict (``environment`` and one entry per size)."""
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise ValueError(f"unknown size(s) {unknown}; accepted: {sorted(SIZES)}")
    target = torch.device(device)
    report: dict = {"environment": environment(target), "formula": "sum over sequences (6*N*T + 12*n_layer*d_model*T^2)",
                    "sizes": []}
    report["measured_peak_tflops"] = float(f"{measured_peak_flops(target, 1024 if device == 'cpu' else 8192) / 1e12:.4g}")
    with tempfile.TemporaryDirectory(prefix="fcot-bench-gpu-") as tmp:
        for size in sizes:
            report["sizes"].append(measure_size(size, steps=steps, warmup=warmup, batch_size=batch_size,
                                                eval_prompts=eval_prompts, eval_batch_size=eval_batch_size,
                                                max_new_tokens=max_new_tokens, device=target, seed=seed,
                                                workdir=Path(tmp)))
            if target.type == "cuda":
                torch.cuda.empty_cache()
        for row in report["sizes"]:
            row["mfu_measured_peak"] = row["model_tflops_per_second"] / report["measured_peak_tflops"]
        report["pipeline"] = measure_pipeline(target, Path(tmp), smoke=steps <= SMOKE["steps"])
    return report


def markdown(report: dict) -> str:
    env = report["environment"]
    lines = [
        f"GPU benchmark on {env['device']} (CUDA {env['cuda']}, torch {env['torch']}, transformers {env['transformers']})",
        "",
        f"Measured matmul peak in this run: {report['measured_peak_tflops']:.1f} TFLOP/s.",
        "",
        "| student | params | train tokens/s | model TFLOP/s | MFU (vendor peak) | MFU (measured peak) | eval tokens/s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in report["sizes"]:
        mfu_text = "–" if row["mfu"] is None else f"{100 * row['mfu']:.1f} %"
        lines.append(f"| {row['size']} ({row['precision']}) | {row['parameters'] / 1e6:.3g}M | "
                     f"{row['train_tokens_per_second']:,.0f} | {row['model_tflops_per_second']:.1f} | {mfu_text} | "
                     f"{100 * row['mfu_measured_peak']:.1f} % | {row['eval_tokens_per_second']:,.0f} |")
    pipe = report.get("pipeline")
    if pipe:
        lines += ["", f"Study pipeline on {pipe['device']} (one experiment, tiny-gpt2-m, "
                      f"{pipe['config']['n_train']} questions, {pipe['config']['epochs']} epochs): "
                      f"{pipe['wall_seconds']:.1f} s wall, accuracy {100 * (pipe['accuracy'] or 0):.1f}%."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(DEFAULTS["sizes"]), help=f"comma-separated, of {sorted(SIZES)}")
    parser.add_argument("--steps", type=int, default=DEFAULTS["steps"], help="optimisation steps per size")
    parser.add_argument("--warmup", type=int, default=DEFAULTS["warmup"], help="first steps not timed")
    parser.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"], help="samples per step")
    parser.add_argument("--eval-prompts", type=int, default=DEFAULTS["eval_prompts"], help="prompts generated for")
    parser.add_argument("--eval-batch-size", type=int, default=DEFAULTS["eval_batch_size"])
    parser.add_argument("--max-new-tokens", type=int, default=DEFAULTS["max_new_tokens"])
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"), help="cpu: a dry run (no MFU)")
    parser.add_argument("--smoke", action="store_true", help=f"tiny sizes (seconds): {SMOKE}")
    parser.add_argument("--json", type=Path, default=None, help="also write the report to this JSON file")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("bench.gpu: no CUDA device is available (torch.cuda.is_available() is False; torch "
              f"{torch.__version__}, built for CUDA {torch.version.cuda}). Run it on a GPU machine with a CUDA "
              "build of torch (make setup TORCH_SPEC=torch), or try the code path with --smoke --device cpu.",
              file=sys.stderr)
        return 2
    settings = {"sizes": tuple(s.strip() for s in args.sizes.split(",") if s.strip()), "steps": args.steps,
                "warmup": args.warmup, "batch_size": args.batch_size, "eval_prompts": args.eval_prompts,
                "eval_batch_size": args.eval_batch_size, "max_new_tokens": args.max_new_tokens}
    if args.smoke:
        settings.update(SMOKE)
    report = run(**settings, device=args.device)
    report["smoke"] = args.smoke
    print(markdown(report))
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
