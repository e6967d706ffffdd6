"""notebooks/TEACHING.md's numbers are generated from measured runs (fcot.teaching), and `make lab` agrees with it."""

from __future__ import annotations

import json
import re

import pandas as pd

from fcot import paths, teaching

GUIDE = paths.REPO_ROOT / "notebooks" / "TEACHING.md"
RESULTS = paths.REPO_ROOT / "results"


def test_the_committed_guide_equals_what_the_generator_writes_now(tmp_path):
    copy = tmp_path / "TEACHING.md"
    copy.write_text(GUIDE.read_text(encoding="utf-8"), encoding="utf-8")
    changed = teaching.write_teaching(copy, "default", root=RESULTS)
    assert not changed, "notebooks/TEACHING.md is stale: run `make notes` (python -m fcot teaching --write ...)"


def test_the_classroom_accuracies_are_the_default_studys_own_seed_0_runs():
    summary = pd.read_csv(RESULTS / "default" / "ablations" / "student_size" / "summary.csv")
    seed0 = {row.student: float(row.per_run.split(";")[0].split("[")[0]) for row in summary.itertuples()
             if str(row.seeds).split(",")[0] == "0"}
    rows = {row["name"]: row for row in teaching.classroom_points("default", root=RESULTS)}
    points = {p["label"]: p["accuracy"] for p in rows["student_size"]["points"]}
    assert round(100 * points["tiny-gpt2-xs"], 1) == seed0["tiny-gpt2-xs"]
    assert round(100 * points["tiny-gpt2-s"], 1) == seed0["tiny-gpt2-s"]
    # a classroom point the default study does not run has no number, not an old one
    teacher = {p["label"]: p["accuracy"] for p in rows["teacher_quality"]["points"]}
    assert teacher["0.9"] is None
    block = GUIDE.read_text(encoding="utf-8")
    assert f"tiny-gpt2-xs: {seed0['tiny-gpt2-xs']:.1f}%" in block and "0.9: —" in block


def test_the_study_duration_is_the_last_from_scratch_call_and_names_the_machine_and_date():
    timings = json.loads((RESULTS / "default" / "timings.json").read_text(encoding="utf-8"))
    call = timings["last_from_scratch"]
    text = teaching.study_duration("default", root=RESULTS)
    assert text.startswith(f"{call['wall_seconds'] / 60:.1f} minutes from scratch")
    assert call["finished_at"][:10] in text and f"{call['cores']}-core" in text
    assert text in GUIDE.read_text(encoding="utf-8")


def test_the_guides_sizes_come_from_the_recorded_sweeps():
    from fcot import ablations

    block = GUIDE.read_text(encoding="utf-8")
    letters = ablations.load_ablation("methods-last_letter_concatenation", "default", RESULTS)["config"]
    assert f"from scratch on {letters.n_train} questions" in block
    assert "1,000 questions" not in block and "about 20 minutes" not in block


def test_make_lab_and_the_lesson_plan_agree_on_the_profile_a_class_reads_back():
    makefile = (paths.REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    lab = re.search(r"^lab:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert f"FCOT_PROFILE={teaching.LAB_PROFILE} " in lab
    setup = GUIDE.read_text(encoding="utf-8")
    assert f"`make lab` runs each notebook alone, under the `{teaching.LAB_PROFILE}` profile" in setup
    assert "read back instantly" not in setup  # the old promise: make reproduce's runs are not the lab profile's
    notes = re.search(r"^notes:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "-m fcot teaching --profile default --write notebooks/TEACHING.md" in notes


def test_every_timing_in_the_lesson_plan_is_measured_and_says_where_or_is_marked_an_estimate():
    guide = GUIDE.read_text(encoding="utf-8")
    plan = guide[guide.index(teaching.markers("plan")[0]):guide.index(teaching.markers("plan")[1])]
    for row in [line for line in plan.splitlines() if line.startswith("| ") and line[2].isdigit()]:
        run = row.split(" | ")[2]
        timed = re.search(r"\d+ s\b|minute|second", run)
        if timed:
            assert "estimate" in run or "study's last run, on a " in run or "measured below" in run, row
