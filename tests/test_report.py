"""The report: main table (methods x tasks, intervals), published numbers, recorded teacher, writing."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from fcot import analysis, experiments, paths, plots, report
from fcot.report import verdicts as report_verdicts
from fcot.runs import Run


def _fake_run(task, method, degree, seed, accuracy, *, n_train=200, teacher_test=0.7, test_split="own"):
    """A finished experiment run without training: config and metrics as run_experiment records them."""
    config = experiments.ExperimentConfig(task=task, method=method, degree=degree, seed=seed, n_train=n_train,
                                          test_split=test_split, n_test=0 if test_split == "real" else 200)
    with Run.open("experiment", config.canonical(), name=config.run_name, seed=seed) as run:
        run.save_metrics({"accuracy": accuracy, "low": accuracy - 0.05, "high": accuracy + 0.05,
                          "teacher_accuracy_test": teacher_test, "test_questions": 200})


@pytest.fixture()
def runs():
    for seed in (0, 1, 2):
        _fake_run("synth_coin_flip", "ft_cot", 1, seed, 0.60 + 0.01 * seed)
        _fake_run("synth_coin_flip", "ft_cot", 4, seed, 0.70 + 0.01 * seed)
        _fake_run("synth_coin_flip", "ft_cot", 2, seed, 0.65)
        _fake_run("synth_coin_flip", "vanilla", 1, seed, 0.50 + 0.02 * seed)
        _fake_run("synth_coin_flip", "multitask", 1, seed, 0.55)
    _fake_run("synth_last_letter", "ft_cot", 1, 0, 0.30, teacher_test=0.4)
    _fake_run("synth_coin_flip", "ft_cot", 1, 0, 0.95, n_train=800)  # another ablation's run: not in the main table
    return report.experiment_runs()


def test_a_profiles_report_reads_its_own_runs_and_never_another_profiles(monkeypatch):
    monkeypatch.setenv("FCOT_PROFILE", "paper")
    _fake_run("synth_coin_flip", "ft_cot", 1, 0, 0.9)
    monkeypatch.setenv("FCOT_PROFILE", "default")
    _fake_run("synth_coin_flip", "vanilla", 1, 0, 0.5)
    _fake_run("synth_coin_flip", "ft_cot", 1, 0, 0.6)
    assert list(report.experiment_runs("paper")["method"]) == ["ft_cot"]
    assert sorted(report.experiment_runs("default")["method"]) == ["ft_cot", "vanilla"]
    assert report.experiment_runs("smoke").empty
    table = report.main_table(report.base_runs(report.experiment_runs("paper")), random=False)
    assert set(table.loc[table["runs"] > 0, "method"]) == {"ft_cot", "teacher_simulated"}  # its teacher row: the same run
    assert "vanilla" not in set(table.loc[table["runs"] > 0, "method"])


def test_base_runs_keeps_one_comparable_configuration_per_task(runs):
    base = report.base_runs(runs)
    assert len(runs) == 17 and len(base) == 16
    assert set(base["n_train"]) == {200}


@pytest.mark.parametrize("method, degree, key", [
    ("ft_cot", 1, "ft_cot"), ("ft_cot", 8, "ft_cot_diverse"), ("ft_cot", None, "ft_cot"), ("vanilla", None, "vanilla"),
    ("multitask", 1, "multitask"), ("other", 1, None),
])
def test_method_key_maps_arms_to_main_table_rows(method, degree, key):
    assert report.method_key(method, degree) == key


def test_main_table_has_every_method_row_with_mean_and_interval_across_seeds(runs):
    table = report.main_table(report.base_runs(runs))
    assert list(table.columns) == report.MAIN_COLUMNS
    coin = table[table["task"] == "synth_coin_flip"].set_index("method")
    assert list(coin.index) == [k for k in report.METHOD_ROWS if k != "teacher"]  # the paper's order, multitask last
    assert coin.loc["ft_cot", "mean"] == pytest.approx(0.61) and coin.loc["ft_cot", "runs"] == 3
    assert coin.loc["ft_cot", "interval"] == "t over 3 runs"
    assert coin.loc["ft_cot", "low"] < 0.61 < coin.loc["ft_cot", "high"]
    assert coin.loc["ft_cot_diverse", "mean"] == pytest.approx(0.71) and coin.loc["ft_cot_diverse", "detail"] == "D=4"
    assert coin.loc["random", "mean"] == 0.5 and math.isnan(coin.loc["random", "low"])
    assert coin.loc["teacher_simulated", "mean"] == pytest.approx(0.7)  # a simulated teacher is never labelled an LM's
    letters = table[table["task"] == "synth_last_letter"].set_index("method")
    assert letters.loc["ft_cot", "interval"] == "wilson (1 run)" and letters.loc["ft_cot", "low"] == pytest.approx(0.25)
    assert letters.loc["random", "mean"] == 0.0


def test_a_student_tested_on_a_real_split_fills_that_real_tasks_column_beside_the_recorded_teacher():
    for seed in (0, 1, 2):
        _fake_run("synth_coin_flip", "ft_cot", 1, seed, 0.84, teacher_test=0.87, test_split="real")
        _fake_run("synth_coin_flip", "vanilla", 1, seed, 0.45, test_split="real")
    _fake_run("synth_coin_flip", "ft_cot", 1, 0, 0.5)  # its own test split: another column
    runs = report.experiment_runs()
    teacher = report.recorded_teacher(["coin_flip"])
    table = report.main_table(report.base_runs(runs), teacher=teacher)
    coin = table[table["task"] == "coin_flip"].set_index("method")
    assert coin.loc["ft_cot", "mean"] == pytest.approx(0.84) and coin.loc["ft_cot", "runs"] == 3
    assert coin.loc["teacher", "detail"] == "text-davinci-002, recorded"  # the LM teacher on the same test questions
    assert coin.loc["teacher_simulated", "mean"] == pytest.approx(0.87)  # and the simulator that taught the student
    assert coin.loc["random", "mean"] == 0.5
    assert table.loc[table["task"] == "synth_coin_flip", "mean"].tolist()  # the own-test run stays in its column
    assert report.column_label("synth_coin_flip", "real") == "coin_flip: real test split, generated training questions"


def test_wide_table_puts_methods_in_rows_tasks_in_columns_and_paper_columns_alongside(runs, tmp_path):
    table = report.main_table(report.base_runs(runs))
    wide = report.wide_table(table)
    assert list(wide.index) == [v for k, v in report.METHOD_ROWS.items() if k != "teacher"]  # no LM teacher here
    assert list(wide.columns) == ["synth_coin_flip", "synth_last_letter"]
    assert wide.loc["Fine-tune-CoT", "synth_coin_flip"].startswith("61.0 [")
    assert wide.loc["Random", "synth_coin_flip"] == "50.0"
    assert wide.loc["Vanilla fine-tuning", "synth_last_letter"] == ""
    file = tmp_path / "paper.csv"
    file.write_text("# source: a test file, not the paper\nmethod,task,accuracy,student\n"
                    "ft_cot,synth_coin_flip,12.5,x\nteacher,coin_flip,99\n", encoding="utf-8")
    published = report.load_published(file)
    paper = report.wide_table(table, published)
    assert list(paper.columns) == ["synth_coin_flip", "synth_coin_flip (paper)", "synth_last_letter",
                                   "synth_last_letter (paper)", "coin_flip", "coin_flip (paper)"]
    assert paper.loc["Fine-tune-CoT", "synth_coin_flip (paper)"] == "12.5"
    assert paper.loc["Teacher (Zero-shot-CoT)", "coin_flip (paper)"] == "99.0"


@pytest.mark.parametrize("content, error", [
    ("method,task\nft_cot,x\n", r"paper.csv:1: header lacks \['accuracy'\]"),
    ("method,task,accuracy\nbest,x,1\n", r"paper.csv:2: method 'best'; accepted: random, teacher"),
    ("# c\nmethod,task,accuracy\nft_cot,x,high\n", r"paper.csv:3: accuracy 'high' is not a number"),
    ("method,task,accuracy\nft_cot,x,120\n", r"not a percentage"),
    ("method,task,accuracy\nft_cot,,1\n", r"task is empty"),
    ("# only a comment\n", r"no header line"),
])
def test_load_published_names_file_line_and_what_is_accepted(tmp_path, content, error):
    file = tmp_path / "paper.csv"
    file.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        report.load_published(file)


def test_load_published_without_a_file_leaves_the_paper_columns_empty(tmp_path):
    assert report.load_published("") is None
    with pytest.raises(FileNotFoundError, match="published-numbers CSV"):
        report.load_published(tmp_path / "missing.csv")


def test_recorded_teacher_scores_the_logs_on_the_official_test_split(mirror):
    teacher = report.recorded_teacher(["coin_flip", "aqua"])
    assert list(teacher["task"]) == ["coin_flip", "aqua"]
    row = teacher.set_index("task").loc["coin_flip"]
    assert row["n"] == row["test_questions"] > 0
    assert 0.5 < row["accuracy"] <= 1 and row["low"] < row["accuracy"] < row["high"]
    assert "coin_flip_zero_shot_cot.log" in row["source"]
    assert teacher.set_index("task").loc["aqua", "n"] == 254


def test_main_table_takes_the_recorded_teacher_for_the_tasks_it_covers(runs):
    recorded = pd.DataFrame([{"task": "synth_coin_flip", "n": 10, "test_questions": 10, "accuracy": 0.9, "low": 0.6,
                              "high": 0.98, "source": "x"}])
    table = report.main_table(report.base_runs(runs), teacher=recorded, random=False)
    teacher = table[table["method"] == "teacher"].set_index("task")
    assert teacher.loc["synth_coin_flip", "mean"] == 0.9 and teacher.loc["synth_coin_flip", "interval"] == "wilson (n=10)"
    simulated = table[table["method"] == "teacher_simulated"].set_index("task")
    assert simulated.loc["synth_last_letter", "mean"] == pytest.approx(0.4)  # the simulator keeps its own row
    assert "random" not in set(table["method"])


def test_no_runs_degrade_to_an_empty_table_and_a_clear_message():
    runs = report.experiment_runs()
    assert runs.empty
    assert report.main_table(report.base_runs(runs)).empty
    assert "no experiment runs found under" in report.no_runs_message()
    status = report.ablation_status(report.ablation_summaries("nostudy"))
    assert set(status["status"]) == {"missing"} and "methods" not in set(status["ablation"])


def test_write_tables_writes_through_one_report_run_and_publishes_stable_copies(runs):
    table = report.main_table(report.base_runs(runs))
    figure = report.main_figure(table, title="main")
    student = pd.DataFrame({"category": ["correct", "wrong_step"]})
    counts_figure = plots.error_categories(analysis.category_counts({"student": student}))
    written = report.write_tables("unit", main=table, wide=report.wide_table(table),
                                  ablations={"degree": pd.DataFrame({"degree": [1, 4], "mean": [0.6, 0.7]}),
                                             "data_size": "not recorded"},
                                  figures={"main_table": figure, "errors": counts_figure})
    root = paths.results_dir() / "unit"
    assert {"main_table.csv", "main_table.md", "main_table_wide.csv", "ablation_degree.md", "main_table.png",
            "errors.png"} <= set(written)
    assert all(path.is_file() and path.parent.parent == root for path in written.values())
    assert "ablation_data_size.csv" not in written
    assert pd.read_csv(root / "tables" / "main_table.csv")["method"].iloc[0] == "random"
    reports = list((paths.profile_runs("unit") / "report").glob("unit-*/manifest.json"))  # the study's own runs
    assert len(reports) == 1 and '"finished"' in reports[0].read_text()


def test_blank_cells_include_pandas_na_so_runs_with_missing_settings_group_together():
    import pandas as pd

    from fcot import report

    assert report.is_blank(None) and report.is_blank(float("nan")) and report.is_blank(pd.NA)
    assert not report.is_blank("tiny-gpt2-s") and not report.is_blank(0) and not report.is_blank([1, 2])


def test_findings_judge_each_phenomenon_from_the_tables_by_its_stated_rule():
    import pandas as pd

    from fcot import report

    table = pd.DataFrame([
        {"method": "ft_cot", "task": "synth_last_letter", "mean": 0.4},
        {"method": "vanilla", "task": "synth_last_letter", "mean": 0.1},
    ])
    summaries = {
        "degree": pd.DataFrame({"degree": [1, 2, 4], "mean": [0.2, 0.1, 0.3], "teacher_accuracy_test": [0.7] * 3}),
        "data_size": pd.DataFrame({"n_train": [100, 400], "mean": [0.1, 0.8], "teacher_accuracy_test": [0.7, 0.7]}),
        "student_size": pd.DataFrame({"student": ["m", "xs"], "parameters": [2e6, 1e5], "mean": [0.1, 0.3]}),
        "filtering": pd.DataFrame({"filter_mode": ["correct_only", "keep_all"], "mean": [0.3, 0.4]}),
        "teacher_quality": "ablation 'teacher_quality' of study 'x': no finished runs yet",
    }
    verdicts = report.findings(table, summaries).verdicts()
    assert verdicts["Fine-tune-CoT beats vanilla fine-tuning (synth_last_letter)"] == "yes"
    assert verdicts["accuracy rises with the diversity degree D"] == "partly"
    assert verdicts["accuracy rises with the number of training questions"] == "yes"
    assert verdicts["accuracy rises with the student's size (parameters)"] == "no"  # ordered by parameters
    assert verdicts["accuracy rises with the teacher's accuracy"] == "not measured"
    # 0.8 >= 0.7 at n_train=400
    assert verdicts["the student matches or beats an imperfect teacher (best point of any ablation)"] == "yes"
    assert verdicts[report.FILTERING_PHENOMENON] == "no"


# ----------------------------------------------------------------------------------------------
# The README's first screen and the sentences of the generated blocks (issue 29)
# ----------------------------------------------------------------------------------------------

def _committed(path: str) -> str:
    return (paths.REPO_ROOT / path).read_text(encoding="utf-8")


def _between(text: str, begin: str, end: str) -> str:
    return text[text.index(begin) + len(begin):text.index(end)].strip("\n")


def _sentences(block: str) -> list[str]:
    """The prose sentences of a Markdown block: tables, images and markers left out, each list item or line apart."""
    import re

    found = []
    for line in block.splitlines():
        line = line.strip()
        if not line or line.startswith(("|", "![", "<!--", "```")):
            continue
        line = re.sub(r"^[-*] ", "", line)
        found += [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z*`(\[\"])", line) if s.strip()]
    return found


def test_the_readmes_first_40_lines_hold_the_two_commands_and_the_pretrained_students_table():
    lines = _committed("README.md").splitlines()[:40]
    assert "## Three commands" in lines
    assert any(line.startswith("make reproduce") for line in lines) and any(line.startswith("make test") for line in lines)
    # the results open with the paper's own experiment (a pretrained student), its table on the first screen
    assert lines.index("## Three commands") < lines.index(report.PRETRAINED_BEGIN)
    table = [line for line in lines[lines.index(report.PRETRAINED_BEGIN):] if line.startswith("| `")]
    assert table, "the pretrained table's rows must start within the README's first 40 lines"
    # the default study's tiny students follow it directly
    text = "\n".join(_committed("README.md").splitlines())
    after = text[text.index(report.PRETRAINED_END) + len(report.PRETRAINED_END):].lstrip("\n")
    assert after.startswith(report.SUMMARY_BEGIN) and report.SUMMARY_END in after


def test_the_first_screen_table_is_generated_from_the_default_profiles_runs_one_row_per_main_table_column():
    readme = _committed("README.md")
    with paths.environment({paths.PROFILE_ENV: "default", paths.RESULTS_ENV: str(paths.REPO_ROOT / "results")}):
        expected = report.summary_block("default")
    assert _between(readme, report.SUMMARY_BEGIN, report.SUMMARY_END) == expected, \
        "stale: run `make notes` (python -m fcot results --write README.md)"
    rows = [line for line in expected.splitlines() if line.startswith("| `")]
    from fcot import ablations

    recorded = [n for n in ablations.recorded_ablations("default", paths.REPO_ROOT / "results")
                if ablations.ablation_kind(n) == "methods"]
    assert len(rows) == len(recorded) == 5
    # the reversal within noise takes its direction; the tie is a tie; neither says "not clearly"
    assert "| `synth_arithmetic` (generated questions) | 2.3% [1.0, 5.5] vs 2.8% [1.3, 6.2] | 33.3% vs 15.0% " \
           "(MultiArith) | **within noise (below)** |" in rows
    assert any("`last_letter_concatenation` (real test split)" in row and row.endswith("| **tie** |") for row in rows)
    assert "not clearly" not in expected


def _point(mean, low, high, runs=3):
    return report.Point("x", mean, low, high, runs)


@pytest.mark.parametrize("ft, vanilla, verdict", [
    (_point(0.718, 0.652, 0.776), _point(0.022, 0.0, 0.072), "above"),
    (_point(0.023, 0.010, 0.055), _point(0.028, 0.013, 0.062), "within noise (below)"),  # a reversal within noise
    (_point(0.718, 0.652, 0.776), _point(0.715, 0.649, 0.773), "within noise (above)"),  # never "above" alone
    (_point(0.0, 0.0, 0.025), _point(0.0, 0.0, 0.025), "tie"),
    (_point(0.20, 0.15, 0.25), _point(0.50, 0.45, 0.55), "below"),
    (_point(0.30, None, None), _point(0.20, None, None), "above (uncertainty unknown)"),
])
def test_a_columns_verdict_word_takes_the_datas_direction(ft, vanilla, verdict):
    assert report.column_verdict(ft, vanilla) == verdict


def test_the_phenomena_count_puts_differences_within_noise_apart_and_names_reversals():
    clear = report_verdicts._compare("", _point(0.718, 0.652, 0.776), _point(0.022, 0.0, 0.072), "ft_cot", "vanilla")
    within = report_verdicts._compare("", _point(0.718, 0.652, 0.776), _point(0.715, 0.649, 0.773), "correct_only", "keep_all")
    reversal = report_verdicts._compare("", _point(0.023, 0.010, 0.055), _point(0.028, 0.013, 0.062), "ft_cot", "vanilla")
    tie = report_verdicts._compare("", _point(0.0, 0.0, 0.025), _point(0.0, 0.0, 0.025), "ft_cot", "vanilla")
    flipped = report_verdicts._compare("", _point(0.20, 0.15, 0.25), _point(0.50, 0.45, 0.55), "ft_cot", "vanilla")
    assert (within["verdict"], within["noise"]) == ("yes", "within noise")
    assert (reversal["verdict"], reversal["noise"]) == ("no", "within noise")
    rows = [(r["verdict"], r["noise"]) for r in (clear, within, reversal, tie, flipped)]
    assert report.tally(rows) == {"clear": 1, "noise_yes": 1, "noise_no": 1, "noise_tie": 1, "noise_partly": 0,
                                  "reversed": 1, "partly": 0, "undecided": 0}
    sentence = report.counted_sentence(rows)
    assert sentence == ("Of the 5 phenomena the paper reports, 1 shows clearly here (the intervals separate), 3 are "
                        "within noise (1 in the paper's direction, 1 against it, 1 tie) and 1 is clearly reversed "
                        "(the intervals separate the other way).")
    # the within-noise pair alone is not counted as showing
    assert report.counted_sentence([(within["verdict"], within["noise"])]) == (
        "Of the 1 phenomena the paper reports, 1 is within noise (1 in the paper's direction).")
    assert "show" not in report.counted_sentence([(reversal["verdict"], reversal["noise"])])


def test_every_sentence_of_the_generated_blocks_stays_under_45_words():
    from fcot import teaching

    readme, guide = _committed("README.md"), _committed("notebooks/TEACHING.md")
    blocks = {"README summary": _between(readme, report.SUMMARY_BEGIN, report.SUMMARY_END),
              "README results": _between(readme, report.RESULTS_BEGIN, report.RESULTS_END)}
    blocks.update({f"TEACHING {name}": _between(guide, *teaching.markers(name)) for name in teaching.BLOCKS})
    long = [(name, len(s.split()), s) for name, block in blocks.items() for s in _sentences(block)
            if len(s.split()) > 45]
    assert not long, long
    assert all(_sentences(block) for block in blocks.values())


def test_every_hypothesis_sentence_stays_under_45_words():
    hypotheses = report.hypotheses_of("default")
    assert hypotheses, "the default profile states its hypotheses (notebooks/profiles/default.yaml)"
    long = [s for text in hypotheses.values() for s in _sentences(f"Hypothesis: {text}") if len(s.split()) > 45]
    assert not long, long


def test_hypotheses_live_with_their_profile_and_cite_the_pretrained_column_that_tests_them(tmp_path, monkeypatch):
    from fcot import paths

    default = report.hypotheses_of("default")
    letter = next(text for prefix, text in default.items() if prefix.endswith("(last_letter_concatenation"))
    assert "{pretrained:" not in letter  # filled from results/pretrained's committed table, or said to be missing
    assert "SmolLM2-135M on the same split: Fine-tune-CoT " in letter or "not computed yet" in letter
    assert report.hypotheses_of("smoke") == {}  # a profile without hypotheses shows none
    monkeypatch.setenv(paths.RESULTS_ENV, str(tmp_path))  # no pretrained results here
    letter = next(text for prefix, text in report.hypotheses_of("default").items()
                  if prefix.endswith("(last_letter_concatenation"))
    assert "not computed yet (`make reproduce PROFILE=pretrained` computes it)" in letter
