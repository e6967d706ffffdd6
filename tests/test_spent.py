"""A study's measured cost: machine minutes per cell from its committed runs' start and end times."""

from __future__ import annotations

import json

from fcot import paths, spent


def _run(root, kind: str, name: str, start: str, end: str, config: dict, status: str = "finished"):
    folder = paths.results_dir(root) / "pretrained" / "runs" / kind / name
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"status": status, "started": f"2026-12-07T{start}:00+00:00",
                                                      "ended": f"2026-12-07T{end}:00+00:00"}))
    (folder / "config.json").write_text(json.dumps(config))


def _experiment(task: str, method: str = "ft_cot", filter_mode: str | None = "correct_only", lr: float = 2e-4,
                epochs: int = 2) -> dict:
    return {"task": task, "method": method, "filter_mode": filter_mode, "recipe": "pretrained",
            "student": "smollm2-135m", "lr": lr, "epochs": epochs}


def test_overlapping_cells_split_the_shared_minutes_and_sum_to_the_busy_time(tmp_path):
    _run(tmp_path, "experiment", "coin_flip-ft_cot-d1-aaaaaaaaaa", "10:00", "10:30", _experiment("coin_flip"))
    _run(tmp_path, "experiment", "coin_flip-vanilla-bbbbbbbbbb", "10:00", "10:10",
         _experiment("coin_flip", "vanilla", None))  # vanilla samples are unfiltered: still the column
    _run(tmp_path, "prompting", "zero_shot-coin_flip-cccccccccc", "10:20", "10:40",
         {"data": {"task": "coin_flip"}, "prompt": {"fmt": "zero_shot"}})
    minutes = spent.cell_minutes("pretrained", tmp_path)
    # 10:00-10:20 the column alone; 10:20-10:30 shared by two runs; 10:30-10:40 the prompting run alone
    assert minutes == {"`coin_flip` column": 25.0, "zero-shot rows": 15.0}
    assert sum(minutes.values()) == 40.0  # the machine's busy time, 10:00-10:40


def test_a_students_time_inside_its_experiment_counts_once_and_each_variant_has_its_own_cell(tmp_path):
    _run(tmp_path, "experiment", "last_letter_concatenation-ft_cot-d1-aaaaaaaaaa", "10:00", "10:10",
         _experiment("last_letter_concatenation"))
    _run(tmp_path, "student", "last_letter_concatenation-ft_cot-bbbbbbbbbb", "10:01", "10:08", {"method": "ft_cot"})
    _run(tmp_path, "experiment", "last_letter_concatenation-ft_cot-d1-cccccccccc", "11:00", "11:10",
         _experiment("last_letter_concatenation", filter_mode="keep_all"))
    _run(tmp_path, "experiment", "last_letter_concatenation-ft_cot-d1-dddddddddd", "12:00", "12:20",
         _experiment("last_letter_concatenation", lr=5e-4))
    _run(tmp_path, "student", "coin_flip-ft_cot-lora-eeeeeeeeee", "13:00", "13:06", {"method": "ft_cot"})
    _run(tmp_path, "experiment", "coin_flip-ft_cot-d1-ffffffffff", "14:00", "15:00", _experiment("coin_flip"),
         status="failed")  # an unfinished run is no measurement
    assert spent.cell_minutes("pretrained", tmp_path) == {
        "`last_letter_concatenation` column": 10.0, "filtering ablation": 10.0, "recipe choice": 20.0,
        "LoRA student": 6.0}


def test_the_cost_sentence_says_whether_the_budget_holds_and_which_cells_would_fit(tmp_path):
    assert spent.cost_sentence("pretrained", tmp_path) == ""  # nothing computed: nothing to claim
    _run(tmp_path, "experiment", "coin_flip-ft_cot-d1-aaaaaaaaaa", "10:00", "10:50", _experiment("coin_flip"))
    _run(tmp_path, "experiment", "date_understanding-ft_cot-d1-bbbbbbbbbb", "11:00", "11:30",
         _experiment("date_understanding"))
    text = spent.cost_sentence("pretrained", tmp_path, budget_minutes=60)
    assert "`coin_flip` column 50, `date_understanding` column 30; 80 in all." in text
    assert "over a 60-minute CPU budget, and nothing is cut" in text
    assert "The cheapest cells that fit 60 minutes: `date_understanding` column (30 min)." in text
    assert "within 90 minutes" in spent.cost_sentence("pretrained", tmp_path, budget_minutes=90)
