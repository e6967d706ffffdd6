"""The instructor's guide's numbers, generated: ``notebooks/TEACHING.md``'s blocks between markers, from measured runs.

Every number a teacher reads there comes from a file a run wrote, never typed:

- the study's duration and the tour's time: ``results/<study>/timings.json`` (the last ``make reproduce`` call that
  computed the study from scratch, and each notebook's execution), with the machine named by the runs' manifests;
- each classroom sweep's accuracies: the study's own run of that point (seed 0), found by its configuration
  (:func:`fcot.steps.points` with ``classroom=True``, then :meth:`fcot.runs.Run.peek`);
- each classroom sweep's wall time: ``results/bench/classroom.json``, written by ``python -m bench.classroom``;
- the sizes in the common questions: the study's recorded sweeps (their configurations and summaries) and main table.

``python -m fcot teaching --write notebooks/TEACHING.md`` (``make notes``) writes the blocks; a test checks the
committed guide equals what this writes now. A notebook opened in JupyterLab (``make lab``) runs alone, under the
``smoke`` profile (:data:`LAB_PROFILE`): the guide says so, and the Makefile sets it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fcot import ablations, experiments, levels, paths, report, steps, sweeps
from fcot.runs import Run
from fcot.study import profiles as study_profiles

#: The profile whose runs a notebook opened by ``make lab`` reads and writes (the Makefile sets ``FCOT_PROFILE`` to it).
LAB_PROFILE = "smoke"
#: ``results/bench/classroom.json``: the classroom sweeps' wall times, measured by ``python -m bench.classroom``.
CLASSROOM_TIMES = Path("bench") / "classroom.json"

BLOCKS = ("setup", "plan", "classroom", "questions")


def markers(block: str) -> tuple[str, str]:
    """The BEGIN / END markers of one generated block of the guide."""
    name = "classroom" if block == "classroom" else f"teaching-{block}"
    return f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"


def _results(root=None) -> Path:
    return paths.results_dir(root)


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} minutes"


def _date(stamp: Any) -> str:
    return str(stamp or "")[:10] or "an unrecorded date"


def machine(study: str = "default", root=None) -> str:
    """The machine that computed ``study``'s experiment runs, from their manifests: ``a 2-core Intel(R) Xeon(R)
    Processor``; the core count alone when the runs name several CPUs."""
    cpus, cores = set(), set()
    for manifest in (_results(root) / study / "runs" / "experiment").glob("*/manifest.json"):
        hardware = _read_json(manifest).get("hardware") or {}
        cpus.add(hardware.get("cpu") or "")
        cores.add(hardware.get("cpu_count"))
    count = f"{cores.pop()}-core " if len(cores) == 1 and None not in cores else ""
    cpu = cpus.pop() if len(cpus) == 1 and "" not in cpus else "machine"
    if cpu == "machine" and not count:
        return "an unrecorded machine"
    return f"a {count}{cpu}"


def study_duration(study: str = "default", root=None) -> str:
    """``13.1 minutes from scratch (1,541 CPU-seconds, JOBS=2) on a 2-core Intel(R) Xeon(R) Processor, finished
    2026-12-01``: the last ``make reproduce`` call that computed ``study`` from scratch (``timings.json``)."""
    timings = _read_json(_results(root) / study / "timings.json")
    call = timings.get("last_from_scratch")
    if not isinstance(call, dict) or call.get("wall_seconds") is None:
        return "not measured yet (no `make reproduce` of it from scratch is recorded in `timings.json`)"
    cpu = f"{call['cpu_seconds']:,.0f} CPU-seconds, " if call.get("cpu_seconds") is not None else ""
    return (f"{_minutes(float(call['wall_seconds']))} from scratch ({cpu}JOBS={call.get('jobs', '?')}) on "
            f"{machine(study, root)}, finished {_date(call.get('finished_at'))}")


def notebook_seconds(notebook: str, study: str = "default", root=None) -> float | None:
    """The wall time of ``study``'s last execution of ``notebook`` (``timings.json``), or None."""
    step = (_read_json(_results(root) / study / "timings.json").get("notebooks") or {}).get(notebook) or {}
    return float(step["seconds"]) if step.get("seconds") is not None else None


def classroom_points(study: str = "default", root=None) -> list[dict[str, Any]]:
    """Per classroom sweep (:data:`fcot.sweeps.CLASSROOM`): its notebook, values and points, each point with the
    accuracy of ``study``'s own run of it at seed 0 (None when ``study`` has no such run)."""
    rows = []
    env = {paths.PROFILE_ENV: study, **({paths.RESULTS_ENV: str(Path(root).resolve())} if root is not None else {})}
    with paths.environment(env):
        for name, values in sweeps.CLASSROOM.items():
            notebook = steps.sweep_notebook(name)
            parameters = {"study": study, "cluster": "", "classroom": True, "run_exercises": False}
            points = []
            for config in steps.points(notebook, parameters):
                run = Run.peek(experiments.KIND, config.canonical(), config.run_name, config.seed)
                accuracy = run.metrics.get("accuracy") if run.finished else None
                points.append({"label": _point_label(name, config, values), "accuracy": accuracy})
            rows.append({"name": name, "notebook": notebook, "values": values, "points": points})
    return rows


def _point_label(name: str, config, values: dict) -> str:
    if name == "methods":
        return config.method
    axis = next(iter(values))
    value = getattr(config, axis)
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def classroom_times(root=None) -> dict:
    """``results/bench/classroom.json``: ``{"machine", "date", "git", "note", "notebooks": {name: {"seconds"}}}``."""
    return _read_json(_results(root) / CLASSROOM_TIMES)


def _classroom_block(study: str, root) -> str:
    base = study_profiles.base_point(sweeps.CLASSROOM_PROFILE)
    times = classroom_times(root)
    measured = times.get("notebooks") or {}
    lines = [
        f"`classroom = True` in notebooks 30-36 replaces the sweep's values by two points of the `{study}` study's base "
        f"point, where the student really learns, so the trend shows (`fcot.sweeps.CLASSROOM`).",
        "",
        f"The base point: synthetic {base['difficulty']}-word last-letter questions, {base['n_train']} training "
        f"questions, the rule-based teacher at {100 * base['teacher_accuracy']:.0f}%, the {base['student']} student, "
        f"{base['epochs']} epochs, one seed. Notebook 29 shows why this base point.",
        "",
        f"Notebook 31's classroom sweep runs at {sweeps.CLASSROOM['degree']['n_train']} questions, where D=1 barely "
        "learns: diverse reasoning pays where questions are few. The README's paragraph on the study's budget says "
        "where the default study measures it.",
        "",
        "Notebook 31's exercise \"predict D=8, then run it\" trains one more student with eight rationales per "
        "question. It is not timed here: set it as homework or run it while discussing the sweep (`run_exercises=False` "
        "skips it).",
        "",
        f"Student accuracy: the `{study}` study's own run of each point, seed 0 (`results/{study}/runs`); a dash marks "
        f"a point the `{study}` study does not run, which the class trains. One seed: read the trend, not the second "
        "decimal.",
        "",
    ]
    if measured:
        lines.append(f"Wall time: measured by `python -m bench.classroom` on {times.get('machine', 'an unrecorded machine')}"
                     f" ({times.get('date', 'undated')}, git {times.get('git', '?')}): the notebook executed with "
                     "`classroom = True` on an empty results folder, kernel start included.")
        if times.get("note"):
            lines.append(times["note"])
    else:
        lines.append("Wall time: not measured yet (`python -m bench.classroom --write notebooks/TEACHING.md`).")
    lines += ["", "| notebook | classroom values | student accuracy (seed 0) | wall time |", "| --- | --- | --- | --- |"]
    for row in classroom_points(study, root):
        values = ", ".join(f"{k}={v}" for k, v in row["values"].items())
        points = "; ".join(f"{p['label']}: " + ("—" if p["accuracy"] is None else f"{100 * p['accuracy']:.1f}%")
                           for p in row["points"])
        seconds = (measured.get(row["name"]) or {}).get("seconds")
        wall = "—" if seconds is None else f"{seconds:.0f} s"
        lines.append(f"| `{row['notebook']}` | {values} | {points} | {wall} |")
    return "\n".join(lines)


def _setup_block(study: str, root) -> str:
    return "\n".join([
        "- `make setup` (about a minute; CPU build of torch), then `make lab` opens JupyterLab on `notebooks/`.",
        f"- `make lab` runs each notebook alone, under the `{LAB_PROFILE}` profile: its runs go to "
        f"`results/{LAB_PROFILE}/runs`, not the `{study}` study's. So a classroom sweep trains its two points in class "
        "(the wall times below).",
        "- A point already run in the same checkout, on the same machine, is read back instead of trained. Running the "
        "class's sweeps once the evening before makes them instant.",
        f"- Optional: `make reproduce` recomputes the `{study}` study whose results the last segment reads. It took "
        f"{study_duration(study, root)}.",
        "- On a hosted notebook service without a GPU (Colab-like): `pip install -e .` from a clone of the repository, "
        "then open the notebooks.",
        "  Point `FCOT_DATA_MIRROR` at a copy of the data mirror, or let fcot download the pinned files (the first run "
        "needs the network for those files only).",
    ])


def _seconds_text(seconds: float | None, study: str, root) -> str:
    if seconds is None:
        return "not timed"
    return f"{seconds:.0f} s in the `{study}` study's last run, on {machine(study, root)}"


def _plan_block(study: str, root) -> str:
    tour = _seconds_text(notebook_seconds(steps.TOUR, study, root), study, root)
    tasks = _seconds_text(notebook_seconds(steps.EXPLORE, study, root), study, root)
    return "\n".join([
        "Minutes are the lesson's plan; a run's time is measured where it says so, else marked as an estimate.",
        "",
        "| minutes | what to show | what the students run | exercises |",
        "| --- | --- | --- | --- |",
        "| 0-15 | the method on one question: the pipeline figure, the two teacher prompts, the filter, the sample format "
        f"with its loss mask | `{steps.TOUR}` top to bottom ({tour}) | 00: the EOS label; which diverse rationales the "
        "filter keeps |",
        "| 15-25 | what the tasks look like and why validation is carved out of train | "
        f"`{steps.EXPLORE}` ({tasks}) | read two tasks' examples aloud; predict their random-guess accuracy |",
        "| 25-45 | the four stages as separate runs: teacher, curation, training, evaluation; where a paid call is "
        "cached | `10` -> `11` -> `20` -> `21` with their smoke defaults (an estimate: under a minute in all, not "
        "timed) | 10: predict the share filtered; 11: keep_all vs correct_only sample counts; 20: was the student "
        "still improving; 21: better than chance? |",
        "| 45-75 | the paper's ablations, live: each group takes one notebook and sets `classroom = True` in its "
        "parameters cell | one of `30`-`36` each (the wall times measured below) | 31: predict D=8; 35: count the "
        "wrong samples keep_all adds |",
        "| 75-90 | what the study found and how it compares with the paper | read the README's Results table and "
        f"`{steps.FIGURES}`, then `{steps.SAMPLE_STUDY}` | 40: find a teacher rationale the answer filter judges "
        "wrongly |",
    ])


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _filtering_question(filtering) -> list[str]:
    """The filtering question, from the filtering sweep's summary (none without both arms)."""
    import pandas as pd

    if not isinstance(filtering, pd.DataFrame) or not {"filter_mode", "samples_train", "mean"} <= set(filtering.columns):
        return []
    kept = dict(zip(filtering["filter_mode"], filtering["samples_train"]))
    means = dict(zip(filtering["filter_mode"], filtering["mean"]))
    if not {"keep_all", "correct_only"} <= set(kept):
        return []
    finding = report.ablation_finding("filtering", filtering).row(report.FILTERING_PHENOMENON)
    lines = [
        "- **\"Is it the filtering that helps?\"** keep_all has more samples: every question's rationale, not only "
        f"the correct ones ({kept['keep_all']:.0f} vs {kept['correct_only']:.0f} at the base point).",
        f"  Here correct_only scores {_pct(means['correct_only'])} and keep_all {_pct(means['keep_all'])}: "
        + {"clear": "a clear difference.", "within noise": "a difference within noise."}.get(
            finding["noise"], f"{finding['verdict']}, {finding['noise'] or 'uncertainty unknown'}."),
    ]
    if "keep_all_matched" in means:
        lines.append(f"  The size-matched control (`keep_all_matched`, notebook 35, the paper's own control) "
                     f"compares at equal size: {_pct(means['keep_all_matched'])}. The README's table gives both "
                     "verdicts.")
    return lines


def _letters_question(real_letters, letters, size, root) -> list[str]:
    """The real last-letter question: why the tiny student fails, and the pretrained student on the same split."""
    student = (f"a {size / 1e6:.2f}M-parameter student" if size else f"the {letters.student} student")
    return [
        f"- **\"Why {_pct(real_letters.ft.mean)} on the real last-letter task?\"** Ask the class to read the "
        "student's rationales (the `predictions.jsonl` of the column's runs).",
        "  It does not copy the real test split's unseen names: it writes a name like those it trained on and "
        "takes that name's last letter.",
        f"  Copying an unseen string is something {student} that learned English from scratch on "
        f"{letters.n_train} questions has not learned. The paper's pretrained GPT-3 students copy and spell "
        "already. The README's pretrained SmolLM2-135M on the same split: "
        f"{levels.column_evidence('last_letter_concatenation', root=root)}.",
        "  The main table says so rather than hiding the column.",
    ]


def _hard_columns_question(shuffled, arithmetic, base, hard, chance, root) -> list[str]:
    """The shuffled-objects and arithmetic question: their budget, what the students write, the verdicts."""
    chance_text = f", chance {_pct(chance)}" if chance is not None else ""
    epochs = {c.train_config().epochs for c in [base, *hard]}
    same_epochs = f", {epochs.pop()} epochs" if len(epochs) == 1 else ""
    n_hard = {c.n_train for c in hard}
    hard_text = (f"{n_hard.pop()} questions" if len(n_hard) == 1 else
                 " and ".join(f"{c.n_train} questions" for c in hard))
    return [
        f"- **\"Why {_pct(shuffled.ft.mean)} on shuffled objects{chance_text}, and {_pct(arithmetic.ft.mean)} on "
        "arithmetic?\"** These columns train on "
        f"{hard_text}{same_epochs}; the 2-word last-letter task learns from {base.n_train}.",
        "  The shuffled-objects student has not yet learned to write the rationale: it repeats phrases and rarely "
        "reaches an answer. The arithmetic student writes the right steps with wrong products and quotients.",
        f"  Vanilla scores {_pct(shuffled.vanilla.mean)} and {_pct(arithmetic.vanilla.mean)}; the README's table of the "
        f"tiny students gives the verdicts: {shuffled.verdict} and {arithmetic.verdict}. Its Results list the run "
        "that would test each hypothesis.",
        "  A good discussion: what would a pretrained student bring? Then compare with the README's pretrained "
        f"table: SmolLM2-135M scores {levels.column_evidence('tracking_shuffled_objects', root=root)} on "
        f"shuffled objects, and {levels.column_evidence('multiarith', root=root)} on MultiArith.",
    ]


def _questions_block(study: str, root) -> str:
    import pandas as pd

    summaries = report.ablation_summaries(study, names=list(ablations.ABLATIONS), root=root)
    published = report.load_published(report.PUBLISHED_TABLE1)
    columns = {c.task: c for c in report.main_columns(summaries, published)}

    def config(name: str):
        try:
            return ablations.load_ablation(name, study, root)["config"]
        except FileNotFoundError:
            return None

    sizes = summaries.get("student_size")
    params = {}
    if isinstance(sizes, pd.DataFrame) and {"student", "parameters"} <= set(sizes.columns):
        params = dict(zip(sizes["student"], sizes["parameters"]))
    table_file = _results(root) / study / "tables" / "main_table.csv"
    random = {}
    if table_file.is_file():
        main = pd.read_csv(table_file)
        random = dict(zip(main.loc[main["method"] == "random", "task"], main.loc[main["method"] == "random", "mean"]))
    base, letters = config("methods"), config("methods-last_letter_concatenation")
    coin, shuffled = columns.get("coin_flip"), columns.get("tracking_shuffled_objects")
    arithmetic, real_letters = columns.get("synth_arithmetic"), columns.get("last_letter_concatenation")
    hard = [config("methods-tracking_shuffled_objects"), config("methods-synth_arithmetic")]

    lines = [
        "- **\"Why is the teacher a rule-based program?\"** Offline there is no 175B model. The simulator writes "
        "step-by-step rationales and makes mistakes at a rate you set, which is exactly what the teacher-quality "
        "ablation needs.",
        "  The tour and notebook 40 show the paper's real teacher (text-davinci-002, recorded by Kojima et al.) on the "
        "same questions.",
    ]
    coin_text = (f" (coin flip: Fine-tune-CoT {_pct(coin.ft.mean)} vs vanilla {_pct(coin.vanilla.mean)}, verdict "
                 f"{coin.verdict})" if coin else "")
    lines += [
        "- **\"Why train on generated questions?\"** A student trained from scratch starts without any English; a few "
        "hundred real questions cannot teach it the task.",
        "  Generated questions in the real task's exact format give it thousands. The main table still tests on the "
        f"real, official test split{coin_text}.",
    ]
    lines += _filtering_question(summaries.get("filtering"))
    if real_letters and letters is not None:
        lines += _letters_question(real_letters, letters, params.get(letters.student), root)
    if shuffled and arithmetic and base is not None and None not in hard:
        lines += _hard_columns_question(shuffled, arithmetic, base, hard, random.get("tracking_shuffled_objects"), root)
    lines += [
        "- **\"Can the student beat its teacher?\"** In the paper, yes on narrow tasks. Notebook 33 asks it at every "
        "teacher accuracy, and the README's table says where it shows here.",
        "- **\"How do I run this with a real model?\"** Change parameters only: `backend=\"openai\"` with `base_url` "
        "and `model` in notebook 10 (the key comes from the environment variable named by `api_key_env`).",
        "  A hub id such as `gpt2` as `student` in notebook 20 (a GPU helps). The `paper` profile does all of it.",
    ]
    return "\n".join(lines)


def blocks(study: str = "default", root=None) -> dict[str, str]:
    """``{block: text}`` for each generated block of the guide (:data:`BLOCKS`), from ``study``'s measured runs."""
    return {"setup": _setup_block(study, root), "plan": _plan_block(study, root),
            "classroom": _classroom_block(study, root), "questions": _questions_block(study, root)}


def write_teaching(guide: str | os.PathLike, study: str = "default", root=None) -> bool:
    """Write every generated block of the guide between its markers; True when the file changed."""
    changed = False
    for block, text in blocks(study, root).items():
        begin, end = markers(block)
        changed |= paths.write_between_markers(guide, begin, end, text)
    return changed
