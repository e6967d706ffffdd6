"""Benchmark: fcot's student trainer vs TRL's SFTTrainer and a naive training loop, same tiny model, same data.

TRL (``trl.SFTTrainer``, what a user of this field would pick instead): a prompt/completion
``datasets.Dataset``, completion-only loss, padded batches, the same optimiser settings, learning
rate, batch size, epochs and initial weights, no checkpoints and no evaluation during training (so
its time is a lower bound for the same job with model selection); gradient checkpointing off (TRL's
default is on, which trades 4x the time for memory a tiny model does not need); fp32 on a CPU like fcot's arm
(``bf16=False``: TRL's default is bf16 mixed precision, even on a CPU).

fcot (``fcot.students.train_student``): dynamic padding to the longest sample of each batch,
length-grouped batches, tokenised once, bf16/TF32 where a GPU allows (fp32 on a CPU), per-epoch
validation and checkpointing included in its time. The naive loop: a plain torch loop that
tokenises every example again at every step, pads every batch to the longest sample of the whole
data set, shuffles without length grouping, fp32. Both use the same objective (loss on the
completion + EOS only), optimiser (AdamW), learning rate, batch size, epochs and initial weights.

Each arm runs ``--repeats`` times, alternating, and its fastest repeat counts (shared machines).
Reported: training tokens/s of each (real tokens, padding not counted) and their ratio, the model FLOP/s
of fcot and TRL as a share of the CPU's fp32 matmul peak measured in the same run (the physical reference), and the
final validation loss of both (measured the same way on the same validation samples), so fcot
cannot look faster by learning less.

    python -m bench.training            # 1,000 samples, tiny-gpt2-s, 3 epochs, batch 16
    python -m bench.training --smoke    # seconds: 64 samples, tiny-gpt2-xs, 1 epoch (what the test runs)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import torch

NAMES = ["Elon", "Larry", "Sergey", "Bill", "Steve", "Jeff", "Jen", "Giselle", "Noel", "Caleb", "Chase", "Eleazar",
         "Chanel", "Lucky", "Mireya", "Kc", "Jj", "Marisol", "Tiffany", "Abdul", "Ruben", "Ivonne", "Camilo", "Dario"]


def bench_samples(n: int, seed: int):
    """Last-letter samples with 1-8 names: lengths vary a lot, as real rationales do."""
    from fcot.curate import Sample

    rng = random.Random(seed)
    out = []
    for i in range(n):
        names = rng.sample(NAMES, rng.randint(1, 8))
        question = f'Take the last letters of each words in "{" ".join(names)}" and concatenate them.'
        rationale = " ".join(f'The last letter of "{w}" is "{w[-1]}".' for w in names)
        answer = "".join(w[-1] for w in names)
        out.append(Sample(f"b{seed}-{i}", 0, question + " ###", f" {rationale} --> {answer}", "ft_cot"))
    return out


def validation_loss(model, tokenizer, samples: Sequence, batch_size: int = 64) -> float:
    """Mean completion-token loss over ``samples`` (token-weighted), in eval mode, fp32."""
    from fcot.students import SampleCollator, encode_sample

    rows = [encode_sample(tokenizer, s.prompt, s.completion, "decoder") for s in samples]
    collate = SampleCollator(tokenizer.pad_token_id)
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            batch = collate(rows[start : start + batch_size])
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            labels = batch["labels"][:, 1:]
            loss = torch.nn.functional.cross_entropy(
                logits[:, :-1].reshape(-1, logits.size(-1)).float(), labels.reshape(-1), ignore_index=-100, reduction="sum"
            )
            total += loss.item()
            count += (labels != -100).sum().item()
    return total / max(count, 1)


def naive_train(model, tokenizer, samples: Sequence, *, epochs: int, batch_size: int, lr: float, seed: int) -> dict:
    """The baseline loop: re-tokenise per example, pad to the global maximum, random batches, fp32."""
    from fcot.students import encode_sample

    torch.manual_seed(seed)
    rng = random.Random(seed)
    max_len = max(len(encode_sample(tokenizer, s.prompt, s.completion, "decoder")["input_ids"]) for s in samples)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    steps_total = epochs * ((len(samples) + batch_size - 1) // batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / steps_total))
    model.train()
    tokens = 0
    start = time.perf_counter()
    for _ in range(epochs):
        order = list(range(len(samples)))
        rng.shuffle(order)
        for b in range(0, len(order), batch_size):
            ids, labels, mask = [], [], []
            for i in order[b : b + batch_size]:  # per example, every step
                row = encode_sample(tokenizer, samples[i].prompt, samples[i].completion, "decoder")
                pad = max_len - len(row["input_ids"])
                ids.append(row["input_ids"] + [tokenizer.pad_token_id] * pad)
                labels.append(row["labels"] + [-100] * pad)
                mask.append([1] * len(row["input_ids"]) + [0] * pad)
                tokens += len(row["input_ids"])
            out = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), labels=torch.tensor(labels))
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "tokens": tokens, "tokens_per_second": tokens / seconds}


def trl_train(model, tokenizer, samples: Sequence, *, epochs: int, batch_size: int, lr: float, seed: int,
              adam_beta2: float, warmup_ratio: float, scheduler: str, out: Path) -> dict:
    """TRL's SFTTrainer on the same samples (prompt/completion, loss on the completion only)."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    data = Dataset.from_list([{"prompt": s.prompt, "completion": s.completion} for s in samples])
    config = SFTConfig(
        output_dir=str(out), per_device_train_batch_size=batch_size, num_train_epochs=epochs, learning_rate=lr,
        adam_beta2=adam_beta2, warmup_steps=warmup_ratio, lr_scheduler_type=scheduler, weight_decay=0.0,
        completion_only_loss=True, max_length=512, save_strategy="no", eval_strategy="no", logging_strategy="no",
        activation_checkpointing=False,  # TRL turns it on by default; a tiny model needs no memory saving (4x slower)
        bf16=False,  # TRL's default is bf16 mixed precision, even on a CPU; fcot's arms train in fp32 there
        report_to="none", disable_tqdm=True, seed=seed, data_seed=seed, use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0, eos_token=tokenizer.eos_token,  # pad: the tokenizer's own
    )
    trainer = SFTTrainer(model=model, args=config, train_dataset=data, processing_class=tokenizer)
    tokens = sum(len(row["input_ids"]) for row in trainer.train_dataset) * epochs
    output = trainer.train()
    seconds = float(output.metrics["train_runtime"])
    return {"seconds": seconds, "tokens": tokens, "tokens_per_second": tokens / seconds}


def run(smoke: bool = False, seed: int = 0, threads: int | None = None, repeats: int | None = None) -> dict:
    from fcot import students

    if threads:
        torch.set_num_threads(threads)
    repeats = repeats or (1 if smoke else 2)
    n, student, epochs, batch, lr = (64, "tiny-gpt2-xs", 1, 16, 3e-3) if smoke else (1000, "tiny-gpt2-s", 3, 16, 3e-3)
    train, val = bench_samples(n, seed), bench_samples(max(16, n // 10), seed + 1)
    texts = [t for s in train for t in (s.prompt, s.completion)]
    # the tiny recipe at the workload (batch 16), the best epoch by validation loss kept in memory: the
    # selection the study used before it kept the last epoch, and the costlier of the two
    config = students.RECIPES["tiny"].replace(student=student, epochs=epochs, batch_size=batch, lr=lr, seed=seed,
                                              eval_batch_size=64, select_by="eval_loss")
    fcot_times, naive_times, trl_times = [], [], []
    with tempfile.TemporaryDirectory(prefix="fcot-bench-train-") as tmp:
        model, tokenizer = students.build_tiny_student(student, texts, seed=seed)
        students.save_student(model, tokenizer, Path(tmp) / "init")
        # Alternate the two arms and keep each one's fastest repeat: the machine may be shared, and
        # load that comes and goes should not decide the ratio. Same seed: every repeat is identical.
        for repeat in range(repeats):
            fcot_model, fcot_tokenizer = students.load_trained(Path(tmp) / "init")
            result = students.train_student(train, val, config, Path(tmp) / f"fcot-{repeat}",
                                            model=fcot_model, tokenizer=fcot_tokenizer)
            fcot_times.append(result.train_runtime_s)
            naive_model, naive_tokenizer = students.load_trained(Path(tmp) / "init")  # the same initial weights
            naive = naive_train(naive_model, naive_tokenizer, train, epochs=epochs, batch_size=batch, lr=lr, seed=seed)
            naive_times.append(naive["seconds"])
            trl_model, trl_tokenizer = students.load_trained(Path(tmp) / "init")
            trl = trl_train(trl_model, trl_tokenizer, train, epochs=epochs, batch_size=batch, lr=lr, seed=seed,
                            adam_beta2=config.adam_beta2, warmup_ratio=config.warmup_ratio, scheduler=config.scheduler,
                            out=Path(tmp) / f"trl-{repeat}")
            trl_times.append(trl["seconds"])
        best_model, _ = students.load_trained(result.best_model_dir)
        fcot_loss = validation_loss(best_model, tokenizer, val)
        naive_loss = validation_loss(naive_model, naive_tokenizer, val)
        trl_loss = validation_loss(trl_model, trl_tokenizer, val)
        # the physical reference, in the same run and on the same threads: model FLOPs of one epoch (6 N T + 12 L d T^2
        # per sequence, bench.gpu) at each arm's speed, against the CPU's fp32 matmul peak
        from bench.gpu import flop_parameters, measured_peak_flops, training_flops

        lengths = students.encode_samples(tokenizer, train, "decoder", config.max_length)["length"]
        epoch_flops = training_flops(flop_parameters(best_model), best_model.config.n_layer, best_model.config.n_embd,
                                     lengths)
        peak = measured_peak_flops(torch.device("cpu"), 1024)
    tokens = result.train_tokens_per_epoch * epochs
    fcot_tps, naive_tps = tokens / min(fcot_times), naive["tokens"] / min(naive_times)
    trl_tps = trl["tokens"] / min(trl_times)
    fcot_flops, trl_flops = epoch_flops * epochs / min(fcot_times), epoch_flops * epochs / min(trl_times)
    # fcot's tokens/s counts the same real tokens per epoch over its whole train() time (evaluation and
    # checkpointing included); the naive loop's time is its training steps only.
    return {
        "smoke": smoke,
        "student": student,
        "samples_train": n,
        "epochs": epochs,
        "batch_size": batch,
        "threads": torch.get_num_threads(),
        "repeats": repeats,
        "fcot_tokens_per_second": round(fcot_tps, 1),
        "naive_tokens_per_second": round(naive_tps, 1),
        "speedup": round(fcot_tps / naive_tps, 2),
        "trl_tokens_per_second": round(trl_tps, 1),
        "speedup_vs_trl": round(fcot_tps / trl_tps, 2),
        "trl_train_seconds": [round(t, 2) for t in trl_times],
        "trl_val_loss": round(trl_loss, 4),
        "trl_tokens": trl["tokens"],
        "fcot_tokens": tokens,
        "fcot_train_seconds": [round(t, 2) for t in fcot_times],
        "naive_train_seconds": [round(t, 2) for t in naive_times],
        "fcot_val_loss": round(fcot_loss, 4),
        "naive_val_loss": round(naive_loss, 4),
        "fcot_best_epoch": result.best_epoch,
        "matmul_peak_gflops": round(peak / 1e9, 1),  # fp32, 1024 x 1024 products, these threads
        "fcot_model_gflops": round(fcot_flops / 1e9, 2),
        "trl_model_gflops": round(trl_flops / 1e9, 2),
        "fcot_share_of_peak": round(fcot_flops / peak, 3),
        "trl_share_of_peak": round(trl_flops / peak, 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.training", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: seconds (what the test runs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=None, help="alternating repeats per arm, fastest kept (default 2; smoke 1)")
    parser.add_argument("--min-ratio", type=float, default=None, help="exit 1 when the speed-up is below this")
    parser.add_argument("--max-loss-gap", type=float, default=None,
                        help="exit 1 when fcot's validation loss exceeds the naive loop's by more than this")
    args = parser.parse_args(argv)
    report = run(smoke=args.smoke, seed=args.seed, threads=args.threads, repeats=args.repeats)
    print(json.dumps(report))
    if args.min_ratio is not None and report["speedup"] < args.min_ratio:
        print(f"speed-up {report['speedup']} is below --min-ratio {args.min_ratio}", file=sys.stderr)
        return 1
    if args.max_loss_gap is not None and report["fcot_val_loss"] - report["naive_val_loss"] > args.max_loss_gap:
        print(f"fcot's validation loss {report['fcot_val_loss']} exceeds the naive loop's {report['naive_val_loss']} "
              f"by more than {args.max_loss_gap}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
