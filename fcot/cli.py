"""``python -m fcot`` / ``fcot``: the command-line entry point.

Each subcommand is a ``register_<name>(subparsers)`` function below that adds its parser and
sets ``func``; the function returns the process exit code. Errors a user can fix (bad task,
missing file, malformed record) print one clear line and exit 2, without a traceback.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from fcot import costs, notes, paths, recorded, rehearsal, report, steps, study, tasks, teaching, verify
from fcot.paths import DataUnavailableError


def register_tasks(subparsers) -> None:
    parser = _command(subparsers, "tasks", _run_tasks)
    parser.add_argument("--tasks", default="all", help="comma-separated task names, or all (default)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per task instead of a table")
    parser.add_argument("--mirror", default=None, help="data mirror root (default: $FCOT_DATA_MIRROR)")


def _run_tasks(args) -> int:
    """list the 12 tasks: answer type, dataset size, default split sizes (train/validation/test)

    Reads the data mirror ($FCOT_DATA_MIRROR) or the download cache. aqua shows its test size only unless
    deepmind/AQuA train.json is provided."""
    import json

    frame = tasks.summarize_tasks(args.tasks, mirror=args.mirror)
    rows = [
        {key: (None if value is None or value != value else value) for key, value in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    header = f"{'task':<27} {'answer':<7} {'size':>6} {'train':>6} {'val':>5} {'test':>5}  note"
    print(header)
    print("-" * len(header))
    for row in rows:
        cells = ["-" if row[key] is None else str(row[key]) for key in ("dataset_size", "train", "validation", "test")]
        print(f"{row['task']:<27} {row['answer_type']:<7} {cells[0]:>6} {cells[1]:>6} {cells[2]:>5} {cells[3]:>5}  {row['note']}")
    return 0


def add_profile_arguments(parser, default_profile: str) -> None:
    """``--profile``, ``--set`` and ``--only``, read the same way by every command that expands a profile."""
    parser.add_argument("--profile", default=default_profile,
                        help=f"profile name (smoke, default, paper) or a .yaml path (default: {default_profile})")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="[STEP.]NAME=VALUE",
        help=f"override a parameter (YAML value), e.g. --set seed=1 --set {steps.TRAIN}.epochs=3; repeatable",
    )
    parser.add_argument("--only", default=None, help="comma-separated steps: ids, notebook names, numbers or ranges (10,11 or 10-21)")


def register_reproduce(subparsers) -> None:
    parser = _command(subparsers, "reproduce", _run_reproduce)
    add_profile_arguments(parser, "default")
    parser.add_argument("--force", action="store_true", help="execute every selected step even if its output is up to date")
    parser.add_argument("--list", action="store_true", help="print the expanded steps and their state; run nothing")
    parser.add_argument("--jobs", type=int, default=1, help="grid points of one step (and of the steps marked with_previous after it) run in this many processes, longest first (default 1)")


def _run_reproduce(args) -> int:
    """run the study's notebooks with papermill from a profile (notebooks/profiles/<name>.yaml)

    Execute the notebook chain of a profile into results/<profile>/notebooks/; completed steps with unchanged
    parameters are skipped (see fcot/study/)."""
    profile = study.load_profile(args.profile)
    overrides = [study.parse_override(text) for text in args.overrides]
    if args.list:
        print(f"profile {profile.name} ({profile.path}): {profile.description}".rstrip(": "))
        print(study.format_plan(study.plan(profile, overrides, args.only)))
        return 0
    return _run_steps("reproduce", lambda: study.run_study(profile, overrides, args.only,
                                                          study.RunOptions(force=args.force, jobs=args.jobs)))


def _run_steps(command: str, run) -> int:
    """Exit status of a command that executes notebooks: 1, with the failed step's one-line error, if one failed."""
    try:
        run()
    except study.StepFailedError as error:
        print(f"fcot {command}: {error}", file=sys.stderr)
        return 1
    return 0


def register_rescore(subparsers) -> None:
    parser = _command(subparsers, "rescore", _run_rescore)
    parser.add_argument("--task", required=True, help="fcot task name (see `python -m fcot tasks`)")
    parser.add_argument("--completions", required=True, metavar="PATH", help="a Kojima log or a completions JSONL")
    parser.add_argument("--split", default="all", choices=["all", "train", "test"],
                        help="score every entry (all, the default) or those on one side of the official default split")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object {n, correct, accuracy (percent), unmatched, ambiguous, examples, split}")
    parser.add_argument("--mirror", default=None, help="data mirror root (default: $FCOT_DATA_MIRROR)")


def _one_line(error: Exception) -> str:
    return " | ".join(part.strip() for part in str(error).splitlines() if part.strip())


def _run_rescore(args) -> int:
    """score a recorded Kojima Zero-shot-CoT log or an fcot completions JSONL with fcot's answer rules

    PATH is a Kojima log (log/<dataset>_zero_shot_cot.log; entries are matched to the task's examples by question
    text) or a JSONL file of fcot.records.Completion rows (their answer_completion is re-parsed against the task's
    gold answers)."""
    import json

    try:
        score = recorded.rescore(args.task, args.completions, mirror=args.mirror, split=args.split)
    except DataUnavailableError as error:
        raise FileNotFoundError(_one_line(error)) from None
    if args.json:
        print(json.dumps(score.as_dict()))
    else:
        print(f"task: {args.task}")
        print(f"file: {args.completions}")
        print(f"split: {score.split}")
        print(f"n: {score.n} completions ({score.examples} examples)")
        if score.unmatched:
            print(f"unmatched: {score.unmatched} log questions match no fcot example (not scored)")
        if score.ambiguous:
            print(f"ambiguous: {score.ambiguous} log questions are shared by several examples with one gold (paired in order)")
        print(f"correct: {score.correct}")
        print(f"accuracy: {score.accuracy:.2f}%")
    return 0


def register_report_recorded(subparsers) -> None:
    parser = _command(subparsers, "report-recorded", _run_report_recorded)
    parser.add_argument("--write", default=None, metavar="README",
                        help="replace the block between the recorded-logs markers of this file instead of printing")
    parser.add_argument("--mirror", default=None, help="data mirror root (default: $FCOT_DATA_MIRROR)")


def _run_report_recorded(args) -> int:
    """compare the mirrored Kojima logs (eight) with fcot's answer rules (Markdown table + causes)"""
    try:
        block = recorded.report_recorded(mirror=args.mirror)
    except DataUnavailableError as error:
        raise FileNotFoundError(_one_line(error)) from None
    if args.write:
        recorded.write_report_block(args.write, block)
        print(f"wrote the recorded-logs block of {args.write}")
    else:
        print(block)
    return 0


def register_notes(subparsers) -> None:
    parser = _command(subparsers, "notes", _run_notes)
    parser.add_argument("--write", metavar="README", help="replace the block between the reproduction-notes markers")


def _run_notes(args) -> int:
    """list the REPRODUCTION NOTEs in the code (deviations from the paper), or write them into a README"""
    from pathlib import Path

    return _write_or_print(args.write, lambda path: notes.write_notes_block(Path(path)), "the reproduction notes",
                           lambda: notes.notes_markdown(notes.collect_notes()))


def register_results(subparsers) -> None:
    parser = _command(subparsers, "results", _run_results)
    parser.add_argument("--profile", default="default", help="the profile whose runs are read (default: default)")
    parser.add_argument("--write", metavar="README", help="replace the block between the results markers")


def _run_results(args) -> int:
    """the README's Results section (claims, paper numbers, fcot's numbers, verdicts) from a profile's runs"""
    with paths.environment({paths.PROFILE_ENV: args.profile}):
        return _write_or_print(args.write, lambda path: report.write_results_block(path, args.profile),
                               "the results and summary blocks", lambda: report.results_block(args.profile))


def register_teaching(subparsers) -> None:
    parser = _command(subparsers, "teaching", _run_teaching)
    parser.add_argument("--profile", default="default", help="the profile whose runs are read (default: default)")
    parser.add_argument("--write", metavar="GUIDE", help="replace the generated blocks of GUIDE (notebooks/TEACHING.md)")


def _run_teaching(args) -> int:
    """the instructor's guide's generated blocks (timings, classroom numbers, sizes) from a profile's measured runs"""
    def text() -> str:
        blocks = []
        for block, body in teaching.blocks(args.profile).items():
            begin, end = teaching.markers(block)
            blocks.append(f"{begin}\n{body}\n{end}\n")
        return "\n".join(blocks)

    return _write_or_print(args.write, lambda path: teaching.write_teaching(path, args.profile),
                           "the generated blocks", text)


def register_verify(subparsers) -> None:
    parser = _command(subparsers, "verify", _run_verify)
    parser.add_argument("--profile", default="default", help="study (profile) name whose tables are checked (default: default)")
    parser.add_argument("--results", default=None, metavar="DIR", help="results folder (default: $FCOT_RESULTS_DIR or results/)")


def _run_verify(args) -> int:
    """re-score the stored predictions and check they reproduce the stored metrics and the published tables

    Re-parses every finished experiment/evaluation run's completions and recomputes the main and ablation tables as
    notebook 90 does (fcot/verify.py); prints one line per check, exits 1 if any failed."""
    from pathlib import Path

    study = Path(args.profile).stem if args.profile.endswith((".yaml", ".yml")) else args.profile
    if args.results is not None and not Path(args.results).is_dir():
        raise FileNotFoundError(f"--results {args.results}: no such folder (a results directory holding runs/)")
    checks = verify.verify(study, root=args.results)
    print(verify.format_checks(checks))
    return 1 if any(not check.ok for check in checks) else 0


def register_rehearse_paper(subparsers) -> None:
    parser = _command(subparsers, "rehearse-paper", _run_rehearse_paper)
    parser.add_argument("--workdir", default="runs/rehearsal", help="where results, runs and stand-ins go (default: runs/rehearsal)")
    parser.add_argument("--tasks", default="coin_flip,date_understanding",
                        help="comma-separated tasks with a recorded log covering train and test (default: coin_flip,date_understanding)")
    parser.add_argument("--list", action="store_true", help="print the equivalent `fcot reproduce` command; run nothing")


def _run_rehearse_paper(args) -> int:
    """run the paper profile's chain offline (replayed teacher, tiny stand-ins for the hub students)

    Executes paper.yaml's steps 10 -> 11 -> 20 -> 21 (gpt2, t5-small), 30 (base) and 90 on a few tasks with --set
    overrides only (fcot/rehearsal.py), into WORKDIR; results/ and runs/ are not touched."""
    import shlex
    from pathlib import Path

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if args.list:
        stand_ins = {hub_id: Path(args.workdir) / "students" / hub_id for hub_id in rehearsal.STAND_INS}
        sets = " ".join(f"--set {shlex.quote(s)}" for s in rehearsal.overrides(tasks, stand_ins))
        print(f"python -m fcot reproduce --profile paper --only {','.join(rehearsal.STEPS)} {sets}")
        return 0
    return _run_steps("rehearse-paper", lambda: rehearsal.rehearse(args.workdir, tasks))


def register_cost(subparsers) -> None:
    parser = _command(subparsers, "cost", _run_cost)
    add_profile_arguments(parser, "paper")
    parser.add_argument("--sample", type=int, default=None, metavar="N",
                        help="teacher questions driven per step, then scaled (default: fcot.costs.DEFAULT_SAMPLE; 0 = all)")
    parser.add_argument("--mfu", type=float, default=None, help="model FLOPs utilisation in (0, 1] (default: measured by make bench-gpu, else assumed)")
    parser.add_argument("--peak-tflops", type=float, default=None, help="the GPU's peak dense bf16 TFLOP/s (default: measured GPU, else A100 312)")
    parser.add_argument("--gpu", default=None, help="the GPU's name in the report")
    parser.add_argument("--json", default=None, metavar="PATH", help="write the estimate as JSON")
    parser.add_argument("--markdown", default=None, metavar="PATH", help="write the Markdown report")
    parser.add_argument("--write-readme", default=None, metavar="README",
                        help="replace the block between the paper-cost markers of this file")


def _run_cost(args) -> int:
    """estimate what a profile costs: teacher calls, tokens and USD; student FLOPs and GPU hours (offline)

    Expands the profile as `reproduce` would and drives the real teacher driver with an offline estimating backend
    (no network, no API key) over the tasks' train questions; student FLOPs from parameter counts x tokens
    (fcot/costs/). Prints the Markdown report unless an output is given."""
    sample = costs.DEFAULT_SAMPLE if args.sample is None else (args.sample or None)
    gpu = costs.gpu_assumption(name=args.gpu, peak_tflops=args.peak_tflops, mfu=args.mfu)
    try:
        result = costs.estimate(args.profile, args.overrides, only=args.only, sample=sample, gpu=gpu)
    except DataUnavailableError as error:
        raise FileNotFoundError(_one_line(error)) from None
    written = costs.write_outputs(result, markdown_path=args.markdown, json_path=args.json, readme=args.write_readme)
    if written:
        print("wrote " + ", ".join(written))
    else:
        print(costs.markdown(result))
    return 0


def _write_or_print(path: str | None, write, what: str, text) -> int:
    """With ``path``: ``write(path)`` replaces generated blocks there (True when they changed), said as ``what``;
    without: print ``text()``."""
    if path:
        print(f"{'updated' if write(path) else 'unchanged'}: {what} of {path}")
    else:
        print(text())
    return 0


def _command(subparsers, name: str, run) -> argparse.ArgumentParser:
    """Subcommand ``name``, which calls ``run(args)``: its help is the first paragraph of ``run``'s docstring, its
    description the rest. Returns its parser, for its arguments."""
    summary, _, rest = inspect.cleandoc(run.__doc__ or "").partition("\n\n")
    parser = subparsers.add_parser(name, help=" ".join(summary.split()), description=" ".join(rest.split()) or None)
    parser.set_defaults(func=run)
    return parser


#: The subcommands, in the order ``--help`` lists them.
REGISTRARS = [register_tasks, register_reproduce, register_rescore, register_report_recorded, register_notes, register_results,
              register_teaching, register_verify, register_cost, register_rehearse_paper]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fcot", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for register in REGISTRARS:
        register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"fcot {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
