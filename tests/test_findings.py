"""The generated "What we saw" verdicts of notebooks 30-36 and 90 (fcot.report.ablation_finding / findings)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from fcot import report
from fcot.report import claims as report_claims
from fcot.report import readme as report_readme

DEGREE = "accuracy rises with the diversity degree D"


def _summary(x, points, **columns):
    """A hand-made ablation summary: ``points`` are ``(x value, mean, low, high, runs)`` or with
    ``run_low, run_high`` appended (the per-run Wilson interval), as fcot.experiments.summarize writes."""
    rows = []
    for point in points:
        value, mean, low, high, runs, *run = point
        run_low, run_high = run if run else (low if runs == 1 else None, high if runs == 1 else None)
        rows.append({x: value, "runs": runs, "mean": mean, "low": low, "high": high, "run_low": run_low,
                     "run_high": run_high})
    frame = pd.DataFrame(rows)
    for name, values in columns.items():
        frame[name] = values
    return frame


def _degree(*points):
    return report.ablation_finding("degree", _summary("degree", points)).row(DEGREE)


@pytest.mark.parametrize("points, verdict, noise", [
    # rising, and the first and last intervals are apart
    ([(1, 0.20, 0.15, 0.25, 3), (2, 0.30, 0.25, 0.35, 3), (4, 0.50, 0.45, 0.55, 3)], "yes", "clear"),
    # rising, but the first and last intervals overlap
    ([(1, 0.20, 0.05, 0.35, 3), (2, 0.25, 0.10, 0.40, 3), (4, 0.30, 0.15, 0.45, 3)], "yes", "within noise"),
    # last beats first, falls in between
    ([(1, 0.20, 0.15, 0.25, 3), (2, 0.10, 0.05, 0.15, 3), (4, 0.50, 0.45, 0.55, 3)], "partly", "clear"),
    # falling, clearly
    ([(1, 0.50, 0.45, 0.55, 3), (2, 0.30, 0.25, 0.35, 3), (4, 0.10, 0.05, 0.15, 3)], "no", "clear"),
    # flat: the last does not beat the first
    ([(1, 0.30, 0.20, 0.40, 3), (4, 0.30, 0.20, 0.40, 3)], "no", "within noise"),
    # points come in any order: the axis orders them
    ([(4, 0.50, 0.45, 0.55, 3), (1, 0.20, 0.15, 0.25, 3)], "yes", "clear"),
    ([(1, 0.20, 0.15, 0.25, 3)], "one point so far", ""),
    ([], "not measured", ""),
])
def test_trend_verdict_and_noise_follow_the_stated_rule(points, verdict, noise):
    row = _degree(*points)
    assert (row["verdict"], row["noise"]) == (verdict, noise)
    assert "never falls along D" in row["rule"] and "do not overlap" in row["rule"]


def test_evidence_shows_every_point_with_its_interval_and_seeds_and_flags_single_seeds():
    row = _degree((1, 0.2, 0.15, 0.25, 3), (2, 0.3, 0.2, 0.42, 1), (4, 0.5, 0.45, 0.55, 2))
    assert row["evidence"] == ("D=1: 20.0% [15.0, 25.0], 3 seeds; D=2: 30.0% [20.0, 42.0], 1 seed; "
                               "D=4: 50.0% [45.0, 55.0], 2 seeds")
    assert row["caveats"].startswith("one seed at D=2 (")
    assert "D=1" not in row["caveats"] and "D=4" not in row["caveats"]


def test_seeds_that_agree_exactly_do_not_make_a_change_clear():
    # two seeds with identical accuracy: a zero-width t interval, widened to the runs' Wilson interval
    agree = (1, 0.225, 0.225, 0.225, 2, 0.17, 0.29)
    row = _degree(agree, (4, 0.27, 0.26, 0.28, 3, 0.21, 0.33))
    assert (row["verdict"], row["noise"]) == ("yes", "within noise")
    assert "D=1: 22.5% [17.0, 29.0], 2 seeds" in row["evidence"]
    assert "interval widened to the per-run Wilson interval at D=1, D=4 " in row["caveats"]
    # without a per-run interval (the main table) the uncertainty is unknown, never "clear"
    row = _degree((1, 0.225, 0.225, 0.225, 2, None, None), (4, 0.5, 0.45, 0.55, 3))
    assert row["noise"] == "uncertainty unknown" and "zero-width interval" in row["caveats"]


def test_na_cells_are_skipped_or_reported_not_crashed_on():
    summary = _summary("degree", [(1, 0.2, pd.NA, pd.NA, 1, pd.NA, pd.NA), (2, pd.NA, pd.NA, pd.NA, 0),
                                  (4, 0.5, 0.45, 0.55, 3)])
    row = report.ablation_finding("degree", summary.convert_dtypes()).row(DEGREE)
    assert (row["verdict"], row["noise"]) == ("yes", "uncertainty unknown")
    assert "no accuracy at D=2" in row["caveats"] and "no usable interval at D=1" in row["caveats"]
    assert row["evidence"].startswith("D=1: 20.0%, 1 seed; D=4: 50.0% [45.0, 55.0]")


def test_a_summary_read_back_from_csv_gives_the_same_finding():
    summary = _summary("max_rationale_tokens", [(8, 0.05, 0.02, 0.08, 1), (None, 0.3, 0.25, 0.35, 3),
                                                (32, 0.32, 0.26, 0.39, 1)])
    direct = report.ablation_finding("rationale_length", summary).table
    for options in ({}, {"dtype_backend": "numpy_nullable"}):  # NaN or pd.NA in the blank cells
        again = pd.read_csv(io.StringIO(summary.to_csv(index=False)), **options)
        pd.testing.assert_frame_equal(report.ablation_finding("rationale_length", again).table, direct)
    row = direct.iloc[0]
    # no cut is the end of the axis: 5% (cap 8) -> 32% (cap 32) -> 30% (no cut) rises only partly
    assert row["evidence"].split("; ")[-1].startswith("cap=none (no cut): 30.0%")
    assert (row["verdict"], row["noise"]) == ("partly", "clear") and "no claim in the paper" in row["phenomenon"]


@pytest.mark.parametrize("name, x, values, first", [
    ("data_size", "n_train", [0, 100, 400], "n_train=100"),  # 0 = the whole train side: the end of the axis
    ("student_size", "student", ["m", "xs", "s"], "xs (100k parameters)"),  # ordered by parameters, not name
    ("teacher_quality", "teacher_accuracy", [0.9, 0.5, 0.7], "teacher_accuracy=0.5"),
])
def test_each_axis_is_ordered_by_what_it_varies(name, x, values, first):
    summary = _summary(x, [(v, 0.1 * (i + 1), 0.0, 1.0, 2) for i, v in enumerate(values)],
                       parameters=[4e6, 1e5, 5e5], teacher_accuracy_test=[0.9, 0.5, 0.7])
    row = report.ablation_finding(name, summary).table.iloc[0]
    assert row["evidence"].startswith(first)
    if name == "data_size":
        assert row["evidence"].split("; ")[-1].startswith("n_train=all: 10.0%")


@pytest.mark.parametrize("means, verdict, noise", [
    ([0.80, 0.60], "yes", "clear"),  # beats a 70% teacher, interval above it
    ([0.72, 0.60], "yes", "within noise"),  # beats it, but the teacher is inside the interval
    ([0.30, 0.20], "no", "clear"),
])
def test_teacher_quality_asks_whether_the_student_matches_an_imperfect_teacher(means, verdict, noise):
    summary = _summary("teacher_accuracy", [(0.7, means[0], means[0] - 0.05, means[0] + 0.05, 3),
                                            (1.0, means[1], means[1] - 0.05, means[1] + 0.05, 3)],
                       teacher_accuracy_test=[0.7, 1.0])
    found = report.ablation_finding("teacher_quality", summary)
    row = found.row("the student matches or beats an imperfect teacher (teacher-quality points)")
    assert (row["verdict"], row["noise"]) == (verdict, noise)
    assert row["evidence"].startswith("best: teacher_accuracy=0.7: ") and "vs teacher 70.0%" in row["evidence"]
    assert found.verdicts()["accuracy rises with the teacher's accuracy"] in ("no", "yes")


def test_filtering_states_the_papers_choice_and_compares_it_with_keep_all():
    both = _summary("filter_mode", [("keep_all", 0.39, 0.33, 0.45, 2), ("correct_only", 0.225, 0.17, 0.29, 2)],
                    samples_train=[400, 275])
    row = report.ablation_finding("filtering", both).table.iloc[0]
    assert row["phenomenon"] == report.FILTERING_PHENOMENON and "the paper's choice" in row["phenomenon"]
    assert (row["verdict"], row["noise"]) == ("no", "clear")
    assert row["evidence"] == ("correct_only: 22.5% [17.0, 29.0], 2 seeds, 275 samples vs "
                               "keep_all: 39.0% [33.0, 45.0], 2 seeds, 400 samples")
    tie = _summary("filter_mode", [("keep_all", 0.0, 0.0, 0.16, 1), ("correct_only", 0.0, 0.0, 0.16, 1)])
    assert report.ablation_finding("filtering", tie).table.iloc[0][["verdict", "noise"]].tolist() == [
        "tie", "within noise"]
    one = report.ablation_finding("filtering", _summary("filter_mode", [("correct_only", 0.2, 0.1, 0.3, 1)]))
    assert one.table.iloc[0]["verdict"] == "one point so far"
    assert one.table.iloc[0]["evidence"].startswith("no keep_all run yet; correct_only: 20.0%")


def _methods(*arms):
    return pd.DataFrame([{"task": "synth_last_letter", "arm": arm, "runs": 3, "mean": mean, "low": mean - 0.05,
                          "high": mean + 0.05} for arm, mean in arms])


def test_methods_compare_fine_tune_cot_with_vanilla_diverse_and_multitask_per_task():
    found = report.ablation_finding("methods", _methods(("vanilla", 0.02), ("ft_cot", 0.22), ("ft_cot D=2", 0.2),
                                                        ("ft_cot D=4", 0.38), ("multitask", 0.2)))
    verdicts = found.verdicts()
    assert verdicts["Fine-tune-CoT beats vanilla fine-tuning (synth_last_letter)"] == "yes"
    diverse = found.row("diverse reasoning (D > 1) beats Fine-tune-CoT with D=1 (synth_last_letter)")
    assert diverse["verdict"] == "yes" and diverse["evidence"].startswith("ft_cot D=4: 38.0%")  # the largest D
    multitask = found.row("step-by-step multitask beats Fine-tune-CoT "
                          "(synth_last_letter; no claim in the paper: described only)")
    assert (multitask["verdict"], multitask["noise"]) == ("no", "within noise")


def test_smoke_defaults_one_arm_say_what_is_missing():
    found = report.ablation_finding("methods", _methods(("ft_cot", 0.05)))
    row = found.row("Fine-tune-CoT beats vanilla fine-tuning (synth_last_letter)")
    assert row["verdict"] == "not measured" and row["evidence"].startswith("no vanilla run yet; ft_cot: 5.0%")
    assert set(found.verdicts().values()) == {"not measured"}


@pytest.mark.parametrize("summary, evidence", [
    (None, "no degree ablation in this study"),
    ("ablation 'degree' of study 'x': no finished runs yet", "ablation 'degree' of study 'x': no finished runs yet"),
    (pd.DataFrame(), "no finished runs yet"),
])
def test_missing_summaries_are_not_measured_with_the_reason(summary, evidence):
    row = report.ablation_finding("degree", summary).row(DEGREE)
    assert (row["verdict"], row["evidence"]) == ("not measured", evidence)


def test_unknown_ablation_names_the_accepted_ones():
    with pytest.raises(ValueError, match=r"unknown ablation 'depth'; accepted: methods, degree, data_size"):
        report.ablation_finding("depth", pd.DataFrame())


def test_findings_display_as_markdown_with_every_number_in_full():
    found = report.ablation_finding("degree", _summary("degree", [(1, 0.2, 0.15, 0.25, 3), (4, 0.5, 0.45, 0.55, 1)]))
    text = found._repr_markdown_()
    assert text.startswith(f"- **{DEGREE}**: **yes**, clear\n  - evidence: D=1: 20.0% [15.0, 25.0], 3 seeds; D=4: ")
    assert "  - caveats: one seed at D=4" in text and report.INTERVAL_RULE in text
    assert list(found.table.columns) == report.FINDING_COLUMNS and len(found) == 1


def test_notebook_90_judges_each_ablation_exactly_as_its_own_notebook():
    summaries = {
        "degree": _summary("degree", [(1, 0.2, 0.1, 0.3, 2), (4, 0.4, 0.3, 0.5, 2)], teacher_accuracy_test=[0.7] * 2),
        "filtering": _summary("filter_mode", [("correct_only", 0.3, 0.2, 0.4, 1), ("keep_all", 0.2, 0.1, 0.3, 1)]),
        "data_size": "ablation 'data_size' of study 'x': no finished runs yet",
    }
    table = pd.DataFrame([{"method": "ft_cot", "task": "t", "mean": 0.4, "low": 0.3, "high": 0.5, "runs": 3},
                          {"method": "vanilla", "task": "t", "mean": 0.1, "low": 0.1, "high": 0.1, "runs": 3}])
    overall = report.findings(table, summaries).table.set_index("phenomenon")
    for name, summary in summaries.items():
        own = report.ablation_finding(name, summary).table.set_index("phenomenon")
        pd.testing.assert_frame_equal(overall.loc[own.index], own)
    vanilla = overall.loc["Fine-tune-CoT beats vanilla fine-tuning (t)"]
    assert vanilla["verdict"] == "yes" and vanilla["noise"] == "uncertainty unknown"  # vanilla's seeds agree exactly
    assert overall.loc["accuracy rises with the teacher's accuracy", "verdict"] == "not measured"
    best = overall.loc["the student matches or beats an imperfect teacher (best point of any ablation)"]
    assert best["verdict"] == "no" and best["evidence"].startswith("best: degree D=4: 40.0%")


def test_notebook_90_judges_the_methods_as_notebook_30_when_given_its_summary():
    methods = pd.DataFrame([
        {"task": "t", "arm": "ft_cot", "runs": 2, "mean": 0.225, "low": 0.225, "high": 0.225, "run_low": 0.17,
         "run_high": 0.29},
        {"task": "t", "arm": "vanilla", "runs": 2, "mean": 0.015, "low": 0.0, "high": 0.079, "run_low": 0.005,
         "run_high": 0.043},
    ])
    table = methods.rename(columns={"arm": "method"}).drop(columns=["run_low", "run_high"])
    phenomenon = "Fine-tune-CoT beats vanilla fine-tuning (t)"
    from_table = report.findings(table, {}).row(phenomenon)
    assert (from_table["verdict"], from_table["noise"]) == ("yes", "uncertainty unknown")
    from_summary = report.findings(table, {"methods": methods}).row(phenomenon)
    assert from_summary == report.ablation_finding("methods", methods).row(phenomenon)
    assert (from_summary["verdict"], from_summary["noise"]) == ("yes", "clear")


def test_every_phenomenon_gets_the_papers_claim_with_its_published_numbers():
    published = report.load_published(report.PUBLISHED_TABLE1)
    claim = report_claims.paper_claim("Fine-tune-CoT beats vanilla fine-tuning (synth_last_letter)", published)
    assert claim == "yes: last letter 52.7% vs 32.7% (Table 1)"
    for phenomenon in (report.FILTERING_PHENOMENON, report.FILTERING_MATCHED_PHENOMENON,
                       f"{report.TEACHER_PHENOMENON} (teacher-quality points)",
                       f"{report.TEACHER_PHENOMENON} (best point of any ablation)"):
        assert report_claims.paper_claim(phenomenon, published) != "—"
    assert report_readme._notebook_of(report.FILTERING_MATCHED_PHENOMENON) == "35_ablate_filtering"


@pytest.mark.parametrize("column, claim", [
    ("coin_flip: real test split, generated training questions", "yes: coin flip 98.7% vs 72.0% (Table 1)"),
    ("tracking_shuffled_objects: real test split, generated training questions",
     "yes: shuffled objects 64.4% vs 33.8% (Table 1)"),
    ("last_letter_concatenation: real test split, generated training questions",
     "yes: last letter 52.7% vs 32.7% (Table 1)"),
    ("synth_arithmetic", "yes: MultiArith (the paper's task of this form; fcot's family has no original) 33.3% vs "
                         "15.0% (Table 1)"),
])
def test_a_main_table_column_is_compared_with_the_papers_numbers_on_its_own_task(column, claim):
    published = report.load_published(report.PUBLISHED_TABLE1)
    assert report_claims.paper_claim(f"Fine-tune-CoT beats vanilla fine-tuning ({column})", published) == claim


@pytest.mark.parametrize("phenomenon, notebook", [
    ("Fine-tune-CoT beats vanilla fine-tuning (synth_last_letter)", "30_compare_methods"),
    ("Fine-tune-CoT beats vanilla fine-tuning (synth_arithmetic)", "30_compare_methods-synth_arithmetic"),
    ("Fine-tune-CoT beats vanilla fine-tuning (coin_flip: real test split, generated training questions)",
     "30_compare_methods-coin_flip"),
    ("step-by-step multitask beats Fine-tune-CoT (synth_last_letter; no claim in the paper: described only)",
     "30_compare_methods"),
])
def test_a_methods_row_links_the_notebook_of_its_own_column(phenomenon, notebook):
    recorded = ["methods", "methods-coin_flip", "methods-synth_arithmetic", "degree"]
    assert report_readme._notebook_of(phenomenon, recorded) == notebook


def test_the_headline_says_where_fine_tune_cot_lies_relative_to_vanilla_in_the_datas_direction():
    published = report.load_published(report.PUBLISHED_TABLE1)
    coin = _methods(("vanilla", 0.5), ("ft_cot", 0.85)).assign(task="synth_coin_flip", test_split="real")
    shuffled = _methods(("vanilla", 0.33), ("ft_cot", 0.34)).assign(task="synth_shuffled_objects", test_split="real")
    # a reversal within noise (notebook 30's synth_arithmetic column: 2.3% [1.0, 5.5] vs 2.8% [1.3, 6.2])
    arithmetic = pd.DataFrame([{"task": "synth_arithmetic", "arm": arm, "runs": 3, "mean": mean, "low": low,
                                "high": high} for arm, mean, low, high in (("ft_cot", 0.023, 0.010, 0.055),
                                                                           ("vanilla", 0.028, 0.013, 0.062))])
    letters = _methods(("vanilla", 0.0), ("ft_cot", 0.0)).assign(task="synth_last_letter", test_split="real")
    headline = report_readme._headline_sentence({"methods-coin_flip": coin, "methods-shuffled": shuffled,
                                          "methods-synth_arithmetic": arithmetic, "methods-letters": letters},
                                         published)
    assert headline.startswith("**Headline** (3 seeds each;")
    assert "Fine-tune-CoT is clearly above vanilla fine-tuning on the real `coin_flip` test split." in headline
    assert ("Fine-tune-CoT is above vanilla fine-tuning only within noise on the real `tracking_shuffled_objects` "
            "test split.") in headline
    assert "Fine-tune-CoT is below vanilla fine-tuning, within noise, on `synth_arithmetic`." in headline
    assert "Fine-tune-CoT ties with vanilla fine-tuning on the real `last_letter_concatenation` test split." in headline
    assert "not clearly" not in headline
    assert "above vanilla on the task of 4 of these 4 columns (Table 1)." in headline
    assert report_readme._headline_sentence({"degree": _summary("degree", [(1, 0.1, 0.05, 0.15, 3)])}, published) == ""


def test_the_readmes_results_block_is_generated_from_the_default_profiles_runs():
    from fcot import paths

    readme = (paths.REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(report.RESULTS_BEGIN) + len(report.RESULTS_BEGIN):readme.index(report.RESULTS_END)]
    with paths.environment({paths.PROFILE_ENV: "default", paths.RESULTS_ENV: str(paths.REPO_ROOT / "results")}):
        expected = report.results_block("default")
    assert block.strip("\n") == expected, "stale: run `make notes` (python -m fcot results --write README.md)"
