"""Benchmark: the teacher driver against a local OpenAI-compatible server with a fixed latency.

Measurements, each against its own baseline in the same run:

1. **throughput** -- ``fcot.teachers.generate`` with 32 requests in flight vs one at a time, on the
   local fake server (:class:`fcot.testing.FakeOpenAIServer`) answering every request after a
   fixed 200 ms (a remote API's latency). Target: >= 25x the calls per second.
2. **cached rerun** -- rerunning a finished generation of 10k completions (20k calls) from its
   durable cache. Target: < 2 s and zero requests to the server.
3. **sweep** (:func:`sweep`, what ``python -m bench`` reports) -- the driver at concurrency 1, 8,
   32, 64 against the plain script it replaces (:func:`sequential_baseline`: the ``openai`` client,
   one call after the other), same server, same latency.

Every call of the fcot runs goes through the real driver: cache (fsync'd JSONL), ledger, stage-2
prompts, answer parsing.

    python -m bench.teacher            # the real sizes (about a minute)
    python -m bench.teacher --smoke    # seconds (what tests/test_teacher_bench.py runs)
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

DEFAULTS = {"latency_s": 0.2, "concurrency": 32, "serial_questions": 10, "concurrent_questions": 160,
            "cached_records": 10_000}
SMOKE = {"latency_s": 0.02, "concurrency": 8, "serial_questions": 2, "concurrent_questions": 16, "cached_records": 200}
TARGET_RATIO = 25.0
TARGET_RERUN_S = 2.0
FREE = {"bench-teacher": (0.0, 0.0)}  # a local server: no price warnings


def _examples(n: int, prefix: str = "b"):
    from fcot.records import Example

    return [Example("bench", f"{prefix}{i}", f"What is {i} plus 42 minus {i}?", "42", "number") for i in range(n)]


def _backend(server, workers: int):
    from fcot.teachers.openai_backend import OpenAIBackend

    return OpenAIBackend(model="bench-teacher", base_url=server.base_url, api_key_env=None, concurrency=workers)


def sequential_baseline(base_url: str, examples, max_tokens: int = 128, answer_max_tokens: int = 32) -> dict:
    """The plain script a driver replaces: the ``openai`` client, one call after the other (stage 1,
    then stage 2 of each question), no cache, no ledger. Returns ``calls`` and ``seconds`` (the loop
    only: importing the client and building it are not counted)."""
    import openai

    from fcot.prompts import zero_shot_cot_stage1, zero_shot_cot_stage2

    client = openai.OpenAI(base_url=base_url, api_key="unused-local-server", max_retries=0)
    calls = 0
    start = time.perf_counter()
    try:
        for example in examples:
            prompt = zero_shot_cot_stage1(example.question)
            rationale = client.completions.create(model="bench-teacher", prompt=prompt, max_tokens=max_tokens,
                                                  temperature=0).choices[0].text
            client.completions.create(model="bench-teacher", prompt=zero_shot_cot_stage2(prompt, rationale),
                                      max_tokens=answer_max_tokens, temperature=0)
            calls += 2
        seconds = time.perf_counter() - start
    finally:
        client.close()
    return {"calls": calls, "seconds": round(seconds, 3), "calls_per_s": round(calls / seconds, 2)}


def sweep(latency_s: float, concurrencies, sequential_questions: int, workdir: Path,
          rounds: int = 4) -> dict:
    """fcot's driver at each concurrency vs the :func:`sequential_baseline`, on one server with a fixed latency.

    Concurrency ``c`` gets ``max(sequential_questions, rounds * c)`` questions (about ``rounds``
    waves of requests per stage), so every run lasts about as long and start-up costs weigh alike.
    """
    from fcot.teachers import generate
    from fcot.testing import FakeOpenAIServer, Faults

    rows = []
    with FakeOpenAIServer(faults=Faults(delay_s=latency_s)) as server:
        baseline = sequential_baseline(server.base_url, _examples(sequential_questions, "q"))
        for concurrency in concurrencies:
            server.reset_counters()
            examples = _examples(max(sequential_questions, rounds * concurrency), f"c{concurrency}-")
            start = time.perf_counter()
            generate(examples, _backend(server, concurrency), cache=workdir / f"sweep-{concurrency}.jsonl", prices=FREE)
            seconds = time.perf_counter() - start
            rate = server.served / seconds
            rows.append({"concurrency": concurrency, "questions": len(examples), "calls": server.served,
                         "seconds": round(seconds, 3), "calls_per_s": round(rate, 2),
                         "peak_in_flight": server.peak_in_flight,
                         "ratio": round(rate / baseline["calls_per_s"], 2)})
    return {"latency_s": latency_s, "sequential": baseline, "fcot": rows}


def throughput(latency_s: float, concurrency: int, serial_questions: int, concurrent_questions: int,
               workdir: Path) -> dict:
    """fcot's driver with ``concurrency`` requests in flight vs the same driver one at a time."""
    from fcot.teachers import generate
    from fcot.testing import FakeOpenAIServer, Faults

    with FakeOpenAIServer(faults=Faults(delay_s=latency_s)) as server:
        start = time.perf_counter()
        generate(_examples(serial_questions, "s"), _backend(server, 1), cache=workdir / "serial.jsonl", prices=FREE)
        serial_s = time.perf_counter() - start
        serial_calls = server.served
        server.reset_counters()
        start = time.perf_counter()
        generate(_examples(concurrent_questions, "c"), _backend(server, concurrency), cache=workdir / "concurrent.jsonl", prices=FREE)
        concurrent_s = time.perf_counter() - start
        concurrent_calls = server.served
        serial_rate, concurrent_rate = serial_calls / serial_s, concurrent_calls / concurrent_s
        return {
            "latency_s": latency_s,
            "serial": {"calls": serial_calls, "seconds": round(serial_s, 3), "calls_per_s": round(serial_rate, 2)},
            "concurrent": {"concurrency": concurrency, "calls": concurrent_calls, "seconds": round(concurrent_s, 3),
                           "calls_per_s": round(concurrent_rate, 2), "peak_in_flight": server.peak_in_flight},
            "ratio": round(concurrent_rate / serial_rate, 1),
            "target_ratio": TARGET_RATIO,
        }


def cached_rerun(cached_records: int, concurrency: int, workdir: Path) -> dict:
    """Fill a cache with a real (latency-free) run of ``cached_records`` questions, then rerun it."""
    from fcot.teachers import generate
    from fcot.testing import FakeOpenAIServer

    with FakeOpenAIServer() as server:
        cache = workdir / "cached.jsonl"
        examples = _examples(cached_records, "r")
        start = time.perf_counter()
        first = generate(examples, _backend(server, concurrency), cache=cache, prices=FREE)
        fill_s = time.perf_counter() - start
        server.reset_counters()
        start = time.perf_counter()
        again = generate(examples, _backend(server, concurrency), cache=cache, prices=FREE)
        rerun_s = time.perf_counter() - start
        if again != first:
            raise AssertionError("the cached rerun returned different completions")
        return {
            "records": len(again),
            "calls_in_cache": 2 * len(again),
            "fill_seconds": round(fill_s, 2),
            "rerun_seconds": round(rerun_s, 3),
            "requests_during_rerun": server.requests,
            "target_seconds": TARGET_RERUN_S,
        }


def run(latency_s: float, concurrency: int, serial_questions: int, concurrent_questions: int,
        cached_records: int, workdir: Path) -> dict:
    """Both measurements; the report dict."""
    report: dict = {
        "throughput": throughput(latency_s, concurrency, serial_questions, concurrent_questions, workdir),
        "cached_rerun": cached_rerun(cached_records, concurrency, workdir),
    }
    rerun = report["cached_rerun"]
    report["targets_met"] = {
        "throughput": report["throughput"]["ratio"] >= TARGET_RATIO,
        "cached_rerun": rerun["rerun_seconds"] < TARGET_RERUN_S and rerun["requests_during_rerun"] == 0,
    }
    report["machine"] = {"python": platform.python_version(), "platform": platform.platform()}
    return report


def markdown(report: dict) -> str:
    t, c = report["throughput"], report["cached_rerun"]
    return "\n".join([
        "| measurement | fcot | baseline | ratio / target |",
        "| --- | --- | --- | --- |",
        f"| teacher calls/s at {t['latency_s'] * 1000:.0f} ms latency | {t['concurrent']['calls_per_s']} "
        f"({t['concurrent']['concurrency']} in flight) | {t['serial']['calls_per_s']} (one at a time) | "
        f"{t['ratio']}x / >= {t['target_ratio']:.0f}x |",
        f"| rerun of {c['records']} cached completions | {c['rerun_seconds']} s, {c['requests_during_rerun']} requests "
        f"| first run {c['fill_seconds']} s | target < {c['target_seconds']:.0f} s, 0 requests |",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: runs in seconds")
    parser.add_argument("--json", type=Path, help="also write the report to this JSON file")
    args = parser.parse_args(argv)
    settings = SMOKE if args.smoke else DEFAULTS
    with tempfile.TemporaryDirectory(prefix="fcot-bench-teacher-") as workdir:
        report = run(**settings, workdir=Path(workdir))
    report["smoke"] = args.smoke
    print(json.dumps(report, indent=2))
    print()
    print(markdown(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
