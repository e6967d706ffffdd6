"""The evaluation benchmark runs end to end at smoke size and checks batched == one-at-a-time predictions."""

from __future__ import annotations

import json

from bench import evaluation


def test_smoke_benchmark_reports_same_predictions_and_a_ratio(tmp_path, capsys, mirror):
    out = tmp_path / "bench.json"
    assert evaluation.main(["--smoke", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["same_predictions"] is True
    assert report["n"] == evaluation.SMOKE["n"] and report["batch_size"] == evaluation.SMOKE["batch_size"]
    assert report["batched_s"] > 0 and report["single_s"] > 0 and report["ratio"] > 0
    assert "same predictions: True" in capsys.readouterr().out


def test_smoke_benchmark_holds_for_an_encoder_decoder_student(mirror):
    report = evaluation.run("coin_flip", "tiny-t5-xs", n=6, batch_size=3, max_new_tokens=6)
    assert report["same_predictions"] is True


def test_min_ratio_turns_a_slow_result_into_a_failing_exit_code(mirror):
    assert evaluation.main(["--smoke", "--min-ratio", "1000000"]) == 1
