"""Where a training step's time goes: a per-operation profile of fcot's trainer on the bench workload.

torch.profiler records ``--steps`` optimisation steps of ``fcot.students.train_student`` (after
``--warmup`` steps) on the training benchmark's samples; every torch operation's *self* CPU time
is summed into categories (matrix multiplications, attention/softmax, loss, optimiser, layer norm,
elementwise and the rest), and the wall time of the steps not spent inside any torch operation is
reported as "outside torch ops" (Python, the Trainer's loop and callbacks, batch collation).

    python -m bench.profile                       # tiny-gpt2-s, batch 16, 30 profiled steps
    python -m bench.profile --markdown results/bench/training_profile.md
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import torch

CATEGORIES = (
    ("matrix multiplication", ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul", "aten::linear")),
    ("loss (log-softmax, NLL)", ("cross_entropy", "nll_loss", "log_softmax")),
    ("attention and softmax", ("softmax", "scaled_dot_product", "attention")),
    ("optimiser (AdamW)", ("adam", "_foreach", "fused")),
    ("layer norm", ("layer_norm",)),
    ("embedding", ("embedding",)),
    ("elementwise (activation, add, mul, dropout, ...)", ("aten::add", "aten::mul", "aten::relu", "aten::threshold",
                                                         "aten::gelu", "aten::tanh", "aten::pow",
                                                         "aten::div", "aten::sub", "aten::where", "aten::masked_fill",
                                                         "aten::copy_", "aten::fill_", "aten::zero_", "aten::neg",
                                                         "aten::sum", "aten::mean", "dropout", "aten::clamp",
                                                         "aten::sqrt", "aten::rsub", "aten::exp", "aten::_to_copy")),
)


def _category(name: str) -> str:
    lowered = name.lower()
    for category, keys in CATEGORIES:
        if any(key in lowered for key in keys):
            return category
    return "other torch ops (views, indexing, allocation, autograd bookkeeping)"


def profile(steps: int = 30, warmup: int = 5, student: str = "tiny-gpt2-s", batch: int = 16, seed: int = 0) -> dict:
    from transformers import TrainerCallback

    from bench.training import bench_samples
    from fcot import students

    torch.set_num_threads(1)
    train, val = bench_samples(1000, seed), bench_samples(100, seed + 1)
    config = students.RECIPES["tiny"].replace(student=student, batch_size=batch, epochs=1, max_steps=warmup + steps,
                                              seed=seed)
    recorded: dict = {}

    class _Profile(TrainerCallback):
        def __init__(self):
            self.profiler = None

        def on_step_begin(self, args, state, control, **kwargs):
            if state.global_step == warmup:
                self.profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
                self.profiler.__enter__()
                recorded["start"] = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            if self.profiler is not None and state.global_step == warmup + steps:
                recorded["wall"] = time.perf_counter() - recorded["start"]
                self.profiler.__exit__(None, None, None)
                recorded["events"] = self.profiler.key_averages()
                self.profiler = None

    with tempfile.TemporaryDirectory(prefix="fcot-bench-profile-") as tmp:
        result = students.train_student(train, val, config, Path(tmp), callbacks=[_Profile()])
    events = [e for e in recorded["events"] if e.key.startswith("aten::") or "Optimizer" in e.key or "adam" in e.key.lower()]
    by_category: dict[str, float] = {}
    for event in events:
        if not event.key.startswith("aten::"):
            continue  # record_function ranges (Optimizer.step#...) overlap the aten ops they contain
        category = _category(event.key)
        by_category[category] = by_category.get(category, 0.0) + event.self_cpu_time_total / 1e6
    wall = recorded["wall"]
    inside = sum(by_category.values())
    rows = [{"category": name, "ms_per_step": 1000 * seconds / steps, "share": seconds / wall}
            for name, seconds in sorted(by_category.items(), key=lambda item: -item[1])]
    rows.append({"category": "outside torch ops (Python, Trainer loop and callbacks, collation)",
                 "ms_per_step": 1000 * max(wall - inside, 0.0) / steps, "share": max(wall - inside, 0.0) / wall})
    top = sorted(((e.key, e.self_cpu_time_total / 1e6) for e in events if e.key.startswith("aten::")), key=lambda x: -x[1])
    return {"student": student, "parameters": result.parameters, "batch_size": batch, "steps": steps,
            "warmup_steps": warmup, "threads": torch.get_num_threads(), "optim": config.optim,
            "wall_ms_per_step": 1000 * wall / steps, "categories": rows,
            "top_ops": [{"op": key, "ms_per_step": 1000 * seconds / steps, "share": seconds / wall} for key, seconds in top[:12]]}


def markdown(report: dict) -> str:
    lines = [f"Per-operation profile of one training step: `{report['student']}` ({report['parameters']:,} parameters), "
             f"batch {report['batch_size']}, {report['threads']} torch thread, optimiser `{report['optim']}`, "
             f"{report['steps']} steps after {report['warmup_steps']} warm-up steps; "
             f"{report['wall_ms_per_step']:.1f} ms per step (wall). Generated by `python -m bench.profile`.", "",
             "| where the step's time goes | ms per step | share of the step |", "| --- | ---: | ---: |"]
    lines += [f"| {r['category']} | {r['ms_per_step']:.1f} | {100 * r['share']:.0f}% |" for r in report["categories"]]
    lines += ["", "| top torch operations (self time) | ms per step | share of the step |", "| --- | ---: | ---: |"]
    lines += [f"| `{r['op']}` | {r['ms_per_step']:.2f} | {100 * r['share']:.1f}% |" for r in report["top_ops"]]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--student", default="tiny-gpt2-s")
    parser.add_argument("--markdown", default=None, help="write the tables here")
    args = parser.parse_args(argv)
    report = profile(args.steps, args.warmup, args.student)
    if args.markdown:
        from fcot.runs import publish

        publish(args.markdown, markdown(report))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
