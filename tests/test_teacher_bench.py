"""bench/teacher.py --smoke runs, so the benchmark cannot rot (the real sizes are not a test)."""

from __future__ import annotations

import json

from bench import teacher


def test_the_teacher_benchmark_smoke_run_reports_both_measurements(tmp_path, capsys):
    assert teacher.main(["--smoke", "--json", str(tmp_path / "report.json")]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    throughput, rerun = report["throughput"], report["cached_rerun"]
    assert throughput["serial"]["calls"] == 2 * teacher.SMOKE["serial_questions"]
    assert throughput["concurrent"]["peak_in_flight"] == teacher.SMOKE["concurrency"]
    assert throughput["ratio"] > 1
    assert rerun["records"] == teacher.SMOKE["cached_records"] and rerun["requests_during_rerun"] == 0
    assert report["targets_met"]["cached_rerun"] is True
    assert "| teacher calls/s" in capsys.readouterr().out
