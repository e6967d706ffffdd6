"""Benchmark: batched student evaluation vs one question at a time, same student, same prompts.

``fcot.evaluate`` generates in length-sorted batches (left padding + attention mask for decoders,
KV cache); the baseline is the same call with ``batch_size=1`` (no padding at all). Both must give
the SAME predictions -- completion text, stop flag, parsed answer, correctness -- for every
question (checked, not assumed), and the report is the speed ratio.

    python -m bench.evaluation                 # 300 coin flip questions, tiny-gpt2-s, batch 64
    python -m bench.evaluation --smoke         # seconds: 8 questions, batch 4 (what the test runs)
    python -m bench.evaluation --min-ratio 15  # exit 1 below the target ratio

The student is a randomly initialised tiny student (fp32) with its BPE tokenizer trained on the
questions: its weights do not matter for the equality check (an untrained student is the harder
case: its logits are close together, so any padding leak would flip a greedy choice), and it writes
until ``max_new_tokens`` unless it happens to emit EOS.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Sequence

import torch

DEFAULTS = {"task": "coin_flip", "student": "tiny-gpt2-s", "n": 300, "batch_size": 64, "max_new_tokens": 128, "seed": 0}
SMOKE = {"n": 8, "batch_size": 4, "max_new_tokens": 8, "student": "tiny-gpt2-xs"}
COMPARED = ("example_id", "completion", "prediction", "correct", "stopped")


def _examples(task: str, n: int):
    from fcot import tasks

    examples = tasks.load_examples(task)
    if n > len(examples):
        raise ValueError(f"--n {n}: task {task!r} has only {len(examples)} examples")
    return examples[:n]


def run(task: str, student: str, n: int, batch_size: int, max_new_tokens: int, seed: int = 0, fmt: str = "ft_cot") -> dict:
    """Evaluate the same student on the same ``n`` questions batched and one at a time; the report dict.

    Raises AssertionError naming the first question whose prediction differs between the two.
    """
    from fcot import evaluate, students

    examples = _examples(task, n)
    kind = "encoder_decoder" if students.TINY_STUDENTS[students.TINY_ALIASES.get(student, student)].kind == "encoder_decoder" else "decoder"
    prompt_texts = [evaluate.prompt_for(e, fmt, kind == "encoder_decoder") for e in examples]
    model, tokenizer = students.build_tiny_student(student, prompt_texts + [" So the coin is heads up. --> yes"], seed=seed)
    model = model.float().eval()
    options = dict(fmt=fmt, max_new_tokens=max_new_tokens)
    evaluate.evaluate_student(model, tokenizer, examples[:2], batch_size=2, **options)  # warm-up

    start = time.perf_counter()
    batched = evaluate.evaluate_student(model, tokenizer, examples, batch_size=batch_size, **options)
    batched_s = time.perf_counter() - start
    start = time.perf_counter()
    single = evaluate.evaluate_student(model, tokenizer, examples, batch_size=1, **options)
    single_s = time.perf_counter() - start

    for a, b in zip(batched.predictions, single.predictions):
        left, right = {k: a[k] for k in COMPARED}, {k: b[k] for k in COMPARED}
        assert left == right, f"batched and one-at-a-time predictions differ:\n  batched: {left}\n  single:  {right}"
    return {
        "task": task,
        "student": student,
        "n": n,
        "batch_size": batch_size,
        "max_new_tokens": max_new_tokens,
        "same_predictions": True,
        "stop_rate": batched.stop_rate,
        "batched_s": round(batched_s, 3),
        "single_s": round(single_s, 3),
        "ratio": round(single_s / batched_s, 2),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evaluation", description=__doc__.splitlines()[0])
    parser.add_argument("--task", default=DEFAULTS["task"], help="task whose first N questions are asked")
    parser.add_argument("--student", default=DEFAULTS["student"], help="tiny student alias, e.g. tiny-gpt2-s, tiny-t5-s")
    parser.add_argument("--n", type=int, default=DEFAULTS["n"], help="questions")
    parser.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"], help="batch size of the batched run")
    parser.add_argument("--max-new-tokens", type=int, default=DEFAULTS["max_new_tokens"], help="generated tokens per question, at most")
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="student initialisation seed")
    parser.add_argument("--smoke", action="store_true", help=f"tiny sizes that run in seconds: {SMOKE}")
    parser.add_argument("--min-ratio", type=float, default=None, help="exit 1 when the speed ratio is below this")
    parser.add_argument("--json", type=Path, default=None, help="also write the report to this JSON file")
    args = parser.parse_args(argv)
    settings = {"task": args.task, "student": args.student, "n": args.n, "batch_size": args.batch_size,
                "max_new_tokens": args.max_new_tokens, "seed": args.seed}
    if args.smoke:
        settings.update(SMOKE)
    report = run(**settings)
    print(f"batched evaluation (batch {report['batch_size']}): {report['batched_s']:.2f} s; one at a time: "
          f"{report['single_s']:.2f} s; ratio {report['ratio']:.1f}x on {report['n']} {report['task']} questions, "
          f"same predictions: {report['same_predictions']}")
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.min_ratio is not None and report["ratio"] < args.min_ratio:
        print(f"ratio {report['ratio']}x is below --min-ratio {args.min_ratio}x", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
