"""Benchmark: the teacher driver against a local OpenAI-compatible server with a fixed latency.

Two measurements, each against its own baseline in the same run:

1. **throughput** -- ``fcot.teachers.generate`` with 32 requests in flight vs one at a time, on the
   local fake server (:class:`fcot.testing.FakeOpenAIServer`) answering every request after a
   fixed 200 ms (a remote API's latency). Target: >= 25x the calls per second.
2. **cached rerun** -- rerunning a finished generation of 10k completions (20k calls) from its
   durable cache. Target: < 2 s and zero requests to the server.

Every call of both runs goes through the real driver: cache (fsync'd JSONL), ledger, stage-2
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


def run(latency_s: float, concurrency: int, serial_questions: int, concurrent_questions: int,
        cached_records: int, workdir: Path) -> dict:
    """Both measurements; the report dict."""
    from fcot.teachers import generate
    from fcot.teachers.openai_backend import OpenAIBackend
    from fcot.testing import FakeOpenAIServer, Faults

    def backend(server, workers):
        return OpenAIBackend(model="bench-teacher", base_url=server.base_url, api_key_env=None, concurrency=workers)

    report: dict = {}
    with FakeOpenAIServer(faults=Faults(delay_s=latency_s)) as server:
        start = time.perf_counter()
        generate(_examples(serial_questions, "s"), backend(server, 1), cache=workdir / "serial.jsonl", prices=FREE)
        serial_s = time.perf_counter() - start
        serial_calls = server.served
        server.reset_counters()
        start = time.perf_counter()
        generate(_examples(concurrent_questions, "c"), backend(server, concurrency), cache=workdir / "concurrent.jsonl", prices=FREE)
        concurrent_s = time.perf_counter() - start
        concurrent_calls = server.served
        serial_rate, concurrent_rate = serial_calls / serial_s, concurrent_calls / concurrent_s
        report["throughput"] = {
            "latency_s": latency_s,
            "serial": {"calls": serial_calls, "seconds": round(serial_s, 3), "calls_per_s": round(serial_rate, 2)},
            "concurrent": {"concurrency": concurrency, "calls": concurrent_calls, "seconds": round(concurrent_s, 3),
                           "calls_per_s": round(concurrent_rate, 2), "peak_in_flight": server.peak_in_flight},
            "ratio": round(concurrent_rate / serial_rate, 1),
            "target_ratio": TARGET_RATIO,
        }
        # the cached rerun: fill a cache with a real (latency-free) run, then rerun it
        server.faults.delay_s = 0.0
        cache = workdir / "cached.jsonl"
        examples = _examples(cached_records, "r")
        start = time.perf_counter()
        first = generate(examples, backend(server, concurrency), cache=cache, prices=FREE)
        fill_s = time.perf_counter() - start
        server.reset_counters()
        start = time.perf_counter()
        again = generate(examples, backend(server, concurrency), cache=cache, prices=FREE)
        rerun_s = time.perf_counter() - start
        if again != first:
            raise AssertionError("the cached rerun returned different completions")
        report["cached_rerun"] = {
            "records": len(again),
            "calls_in_cache": 2 * len(again),
            "fill_seconds": round(fill_s, 2),
            "rerun_seconds": round(rerun_s, 3),
            "requests_during_rerun": server.requests,
            "target_seconds": TARGET_RERUN_S,
        }
    report["targets_met"] = {
        "throughput": report["throughput"]["ratio"] >= TARGET_RATIO,
        "cached_rerun": rerun_s < TARGET_RERUN_S and report["cached_rerun"]["requests_during_rerun"] == 0,
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
