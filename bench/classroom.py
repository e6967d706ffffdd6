"""Time the classroom sweeps: each of notebooks 30-36 executed with ``classroom=True`` on a fresh results folder (as a
class would run it), its wall time and its two points' accuracies, recorded in results/bench/classroom.json (with the
machine, date and git commit); ``--write`` then regenerates notebooks/TEACHING.md's blocks (:mod:`fcot.teaching`).

    python -m bench.classroom [--only degree,filtering] [--write notebooks/TEACHING.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from fcot import ablations, paths, steps, study, sweeps

BEGIN, END = "<!-- BEGIN classroom -->", "<!-- END classroom -->"


def time_notebook(name: str, folder: Path) -> dict:
    """Execute notebook ``name``'s classroom sweep with papermill into ``folder``; its wall time and summary."""
    import papermill

    ablation = ablations.ABLATIONS[name]
    folder.mkdir(parents=True, exist_ok=True)
    # the sweep only: notebook 31's D=8 exercise trains one more student (minutes), timed apart in TEACHING.md
    parameters = {"classroom": True, **({"run_exercises": False} if name == "degree" else {})}
    env = {paths.RESULTS_ENV: str(folder / "results"), paths.RUNS_ENV: str(folder / "runs"), "TQDM_DISABLE": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        started = time.monotonic()
        papermill.execute_notebook(str(paths.REPO_ROOT / "notebooks" / f"{steps.sweep_notebook(name)}.ipynb"),
                                   str(folder / f"{steps.sweep_notebook(name)}.ipynb"), parameters=parameters,
                                   kernel_name="python3", progress_bar=False, cwd=str(paths.REPO_ROOT / "notebooks"),
                                   config=study.kernel_config())
        seconds = time.monotonic() - started
        summary = ablations.load_ablation(name, "smoke", folder / "results")["summary"]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    axis = ablation.tick_label or (ablation.x if ablation.x in summary.columns else ablation.by[-1])

    def value(v) -> str:
        return "none" if v != v else f"{v:g}" if isinstance(v, float) else str(v)

    points = "; ".join(f"{value(v)}: {100 * m:.1f}%" for v, m in zip(summary[axis], summary["mean"]))
    return {"name": name, "notebook": steps.sweep_notebook(name), "values": sweeps.CLASSROOM[name], "points": points, "seconds": seconds}


def table(rows: list[dict]) -> str:
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    lines = [f"Measured by `python -m bench.classroom --write notebooks/TEACHING.md` on {machine} "
             f"({time.strftime('%Y-%m-%d')}): each notebook executed with `classroom = True` on an empty results folder, "
             "kernel start included; one seed, so read the trend, not the second decimal.", "",
             "| notebook | classroom values | student accuracy (one seed) | wall time |", "| --- | --- | --- | --- |"]
    for row in rows:
        values = ", ".join(f"{k}={v}" for k, v in row["values"].items())
        lines.append(f"| `{row['notebook']}` | {values} | {row['points']} | {row['seconds']:.0f} s |")
    return "\n".join(lines)


def record(rows: list[dict], path: Path | None = None) -> Path:
    """Write the measurements to ``results/bench/classroom.json`` (what :mod:`fcot.teaching` reads): the machine,
    date and git commit, and per ablation its notebook, wall time and points; the previous file is replaced."""
    import subprocess

    path = path or paths.results_dir() / "bench" / "classroom.json"
    try:
        git = subprocess.run(["git", "rev-parse", "--short=8", "HEAD"], cwd=paths.REPO_ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        git = "?"
    data = {"measured_by": "python -m bench.classroom --write notebooks/TEACHING.md",
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
            "date": time.strftime("%Y-%m-%d"), "git": git,
            "notebooks": {row["name"]: {"notebook": row["notebook"], "seconds": round(row["seconds"], 1),
                                        "points": row["points"]} for row in rows}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.classroom", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated ablation names (default: all)")
    parser.add_argument("--write", default="", help="a Markdown file with the classroom markers to update")
    args = parser.parse_args(argv)
    names = [n for n in (args.only.split(",") if args.only else sweeps.CLASSROOM) if n]
    rows = []
    with tempfile.TemporaryDirectory(prefix="fcot-classroom-") as tmp:
        for name in names:
            row = time_notebook(name, Path(tmp) / name)
            print(f"{row['notebook']}: {row['seconds']:.0f} s, {row['points']}", flush=True)
            rows.append(row)
    print(f"recorded: {paths.portable(record(rows))}")
    if args.write:
        from fcot import teaching

        teaching.write_teaching(args.write)
        print(f"updated: the generated blocks of {args.write}")
    else:
        print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
