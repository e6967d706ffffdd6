"""The README's pretrained block says what the pretrained study's main table says, task by task."""

from __future__ import annotations

from fcot import levels, paths

HEADER = "method,label,task,mean,low,high,runs,n,interval,detail\n"


def _table(root, rows: str):
    folder = paths.results_dir(root) / "pretrained" / "tables"
    folder.mkdir(parents=True)
    (folder / "main_table.csv").write_text(HEADER + rows, encoding="utf-8")


def test_each_finished_column_gets_its_cells_verdict_and_the_papers_rows(tmp_path):
    _table(tmp_path, "ft_cot,Fine-tune-CoT,coin_flip,0.993,0.963,0.999,1,150,wilson (1 run),\n"
                     "vanilla,Vanilla fine-tuning,coin_flip,0.507,0.427,0.586,1,150,wilson (1 run),\n"
                     "ft_cot,Fine-tune-CoT,last_letter_concatenation,0.04,0.02,0.08,1,150,wilson (1 run),\n"
                     "vanilla,Vanilla fine-tuning,last_letter_concatenation,0.05,0.02,0.09,1,150,wilson (1 run),\n"
                     "teacher,Teacher (Zero-shot-CoT),coin_flip,0.913,0.857,0.949,1,150,wilson (n=150),\n")
    block = levels.levels_block(root=tmp_path)
    coin = next(line for line in block.splitlines() if line.startswith("| `coin_flip`"))
    assert "99.3% [96.3, 99.9]" in coin and "50.7% [42.7, 58.6]" in coin and "**above**" in coin
    assert "91.3% [85.7, 94.9]" in coin and "77.3% / 60.0%" in coin and "100.0%" in coin and "| 150 |" in coin
    letter = next(line for line in block.splitlines() if line.startswith("| `last_letter_concatenation`"))
    assert "**within noise (below)**" in letter  # a reversal within noise is neither "above" nor hidden
    assert "clearly above vanilla fine-tuning on 1 of 2 tasks" in block
    assert "GPT-2 124M Fine-tune-CoT on 1 of 2" in block  # 99.3 > 77.3; 4.0 < 4.67
    assert "Not computed in this commit" in block and "`date_understanding`" in block


def test_no_table_yet_says_how_to_make_it(tmp_path):
    assert "make reproduce PROFILE=pretrained" in levels.levels_block(root=tmp_path)


def test_the_untrained_students_prompting_runs_fill_their_column(tmp_path):
    import json

    _table(tmp_path, "ft_cot,Fine-tune-CoT,coin_flip,0.9,0.85,0.94,1,150,wilson (1 run),\n"
                     "vanilla,Vanilla fine-tuning,coin_flip,0.5,0.42,0.58,1,150,wilson (1 run),\n")
    run = paths.results_dir(tmp_path) / "pretrained" / "runs" / "prompting" / "zero_shot-coin_flip-0123456789"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"status": "finished"}))
    (run / "config.json").write_text(json.dumps({"data": {"task": "coin_flip"}, "prompt": {"fmt": "zero_shot"}}))
    (run / "metrics.json").write_text(json.dumps({"accuracy": 0.46, "low": 0.38, "high": 0.54, "test_questions": 150}))
    coin = next(line for line in levels.levels_block(root=tmp_path).splitlines() if line.startswith("| `coin_flip`"))
    assert "46.0% [38.0, 54.0] / –" in coin  # zero-shot measured, few-shot-CoT not run
    assert "below its own untrained zero-shot" not in levels.levels_block(root=tmp_path)  # 90% > 46%
    (run / "metrics.json").write_text(json.dumps({"accuracy": 0.95, "low": 0.9, "high": 0.98, "test_questions": 150}))
    assert "below its untrained zero-shot answers within noise (the intervals overlap) on `coin_flip` (90.0% vs 95.0%)" \
        in levels.levels_block(root=tmp_path)  # 0.94 > 0.90: the intervals overlap
    (run / "metrics.json").write_text(json.dumps({"accuracy": 0.99, "low": 0.96, "high": 1.0, "test_questions": 150}))
    assert "clearly below its own untrained zero-shot answers on `coin_flip` (90.0% vs 99.0%)" in levels.levels_block(root=tmp_path)


def test_a_student_that_ships_as_an_adapter_is_named_with_its_size_and_test_accuracy(tmp_path):
    import json

    _table(tmp_path, "ft_cot,Fine-tune-CoT,coin_flip,0.967,0.924,0.986,1,150,wilson (1 run),\n"
                     "vanilla,Vanilla fine-tuning,coin_flip,0.507,0.427,0.586,1,150,wilson (1 run),\n")
    runs = paths.results_dir(tmp_path) / "pretrained" / "runs"
    student = runs / "student" / "coin_flip-ft_cot-lora-abcdef0123"
    (student / "student").mkdir(parents=True)
    (student / "config.json").write_text(json.dumps({"data": {"task": "coin_flip"}, "method": "ft_cot"}))
    (student / "metrics.json").write_text(json.dumps({"trainable_parameters": 2_442_240, "parameters": 134_515_008}))
    (student / "student" / "adapter_config.json").write_text("{}")
    (student / "student" / "adapter_model.safetensors").write_bytes(b"\0" * 4_900_000)
    assert "A reader can talk to" not in levels.levels_block(root=tmp_path)  # not evaluated yet: nothing to claim
    evaluation = runs / "evaluation" / "coin_flip-ft_cot-lora-9876543210"
    evaluation.mkdir(parents=True)
    (evaluation / "manifest.json").write_text(json.dumps({"status": "finished"}))
    (evaluation / "config.json").write_text(json.dumps({"upstream": {"kind": "student", "hash": "abcdef0123"}}))
    (evaluation / "metrics.json").write_text(json.dumps({"accuracy": 0.94, "low": 0.89, "high": 0.97}))
    block = levels.levels_block(root=tmp_path)
    assert ("a LoRA adapter of 4.9 MB (2.4M trainable parameters) in "
            "[`results/pretrained/runs/student/coin_flip-ft_cot-lora-abcdef0123/student`]") in block
    assert "It scores 94.0% [89.0, 97.0] on the same test split, against 96.7% [92.4, 98.6] fully fine-tuned." in block


def test_the_recipe_is_checked_against_its_candidates_on_validation_only(tmp_path):
    import json

    _table(tmp_path, "ft_cot,Fine-tune-CoT,coin_flip,0.967,0.924,0.986,1,150,wilson (1 run),\n"
                     "vanilla,Vanilla fine-tuning,coin_flip,0.507,0.427,0.586,1,150,wilson (1 run),\n")
    runs = paths.results_dir(tmp_path) / "pretrained" / "runs" / "student"

    def student(name: str, finetune: str, lr: float, val: float, samples: str = "8a9d27f730"):
        folder = runs / name
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(json.dumps({"status": "finished"}))
        (folder / "config.json").write_text(json.dumps({
            "data": {"task": "coin_flip"}, "method": "ft_cot", "upstream": {"kind": "curation", "hash": samples},
            "train": {"student": "smollm2-135m", "finetune": finetune, "epochs": 2, "lr": lr}}))
        (folder / "metrics.json").write_text(json.dumps({"val_accuracy": val, "val_samples": 31}))

    student("coin_flip-ft_cot-aaaaaaaaaa", "full", 2e-4, 30 / 31)
    assert "chosen on validation" not in levels.levels_block(root=tmp_path)  # one candidate: no choice to show
    student("coin_flip-ft_cot-lora-bbbbbbbbbb", "lora", 1e-3, 29 / 31)
    student("coin_flip-ft_cot-cccccccccc", "full", 5e-4, 31 / 31, samples="0123456789")  # other samples: apart
    block = levels.levels_block(root=tmp_path)
    assert ("`coin_flip` (31 validation answers): full, 2 epochs at lr 0.0002 (the recipe) 96.8%; lora, 2 epochs at "
            "lr 0.001 93.5%. Validation prefers full, 2 epochs at lr 0.0002; the recipe is **the same**.") in block
    student("coin_flip-ft_cot-dddddddddd", "full", 1e-4, 31 / 31)
    assert ("Validation prefers full, 2 epochs at lr 0.0001; the recipe is **a different one, within noise**"
            in levels.levels_block(root=tmp_path))


def test_the_head_says_which_cells_rest_on_several_seeds_and_what_their_interval_is(tmp_path):
    _table(tmp_path, "ft_cot,Fine-tune-CoT,coin_flip,0.967,0.924,0.986,1,150,wilson (1 run),\n"
                     "vanilla,Vanilla fine-tuning,coin_flip,0.507,0.427,0.586,1,150,wilson (1 run),\n")
    assert "Tested on the full official test split: one seed, 95% Wilson intervals" in levels.levels_block(root=tmp_path)
    (paths.results_dir(tmp_path) / "pretrained" / "tables" / "main_table.csv").unlink()
    (paths.results_dir(tmp_path) / "pretrained" / "tables").rmdir()
    _table(tmp_path, "ft_cot,Fine-tune-CoT,coin_flip,0.967,0.924,0.986,1,150,wilson (1 run),\n"
                     "vanilla,Vanilla fine-tuning,coin_flip,0.507,0.427,0.586,1,150,wilson (1 run),\n"
                     "ft_cot,Fine-tune-CoT,addsub,0.18,0.10,0.26,3,119,t over 3 runs,\n"
                     "vanilla,Vanilla fine-tuning,addsub,0.09,0.05,0.15,3,119,t over 3 runs,\n")
    assert ("one seed per cell with its 95% Wilson interval, except 3 on `addsub` (mean over seeds, 95% t interval "
            "across them)") in levels.levels_block(root=tmp_path)
