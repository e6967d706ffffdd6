"""bench.training --smoke: the benchmark runs end to end and reports comparable numbers."""

from __future__ import annotations

import json

from bench import training


def test_training_benchmark_smoke_reports_speed_ratio_and_both_losses(capsys):
    assert training.main(["--smoke"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["smoke"] is True and report["samples_train"] == 64
    assert report["fcot_tokens_per_second"] > 0 and report["naive_tokens_per_second"] > 0
    assert abs(report["speedup"] - report["fcot_tokens_per_second"] / report["naive_tokens_per_second"]) < 0.01
    # both started from the same weights and trained on the same data: comparable losses, below chance
    assert 0 < report["fcot_val_loss"] < 6.3 and 0 < report["naive_val_loss"] < 6.3  # ln(512) = 6.24


def test_naive_loop_pads_every_batch_to_the_global_maximum():
    from fcot import students

    samples = training.bench_samples(8, 0)
    texts = [t for s in samples for t in (s.prompt, s.completion)]
    model, tokenizer = students.build_tiny_student("tiny-gpt2-xs", texts)
    real = sum(len(students.encode_sample(tokenizer, s.prompt, s.completion, "decoder")["input_ids"]) for s in samples)
    stats = training.naive_train(model, tokenizer, samples, epochs=1, batch_size=4, lr=1e-3, seed=0)
    assert stats["tokens"] == real  # padding is not counted as throughput
