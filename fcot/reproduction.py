"""The reproduction check: the committed headline numbers against the ones this machine recomputed.

A number is compared only when it was **recomputed here**: every experiment run behind it was computed on this
machine (its ``.computed`` marker under ``runs/<profile>``, :func:`fcot.runs.computed_here`), and its value is
summarised again from those runs (:func:`recomputed_numbers`), not read from a summary file that may be the committed
one. The committed side is
read from git (``HEAD``), not from the working tree: a reproduction overwrites the working tree's summaries, and a
resumed one must not compare numbers with themselves. Numbers that were not recomputed are counted, not compared.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from fcot import ablations, paths, stages, teaching
from fcot.runs import config_hash


def headline_numbers(profile: str, results_root: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """``{"<ablation>: <point>": {"mean", "low", "high", "design"}}`` (fractions) from a profile's ablation
    summaries (``results/<profile>/ablations/*/summary.csv``): the numbers its findings rest on. ``design``: a hash
    of the sweep's recorded configuration (``ablation.json``, the seed left out), None where none is recorded."""
    import csv

    numbers: dict[str, dict[str, Any]] = {}
    for file in sorted((paths.results_dir(results_root) / profile / "ablations").glob("*/summary.csv")):
        design = _design_hash(file.parent / "ablation.json")
        with open(file, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                keys = list(row)[: list(row).index("runs")] if "runs" in row else []
                label = f"{file.parent.name}: " + ", ".join(f"{k}={row[k] or 'none'}" for k in keys)
                with contextlib.suppress(TypeError, ValueError):
                    numbers[label] = {**{k: float(row[k]) for k in ("mean", "low", "high")}, "design": design}
    return numbers


def _design_hash(record: Path) -> str | None:
    """:func:`fcot.runs.config_hash` of an ablation's recorded configuration without its seed; None when it is not
    recorded."""
    try:
        config = dict(json.loads(record.read_text(encoding="utf-8"))["config"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    config.pop("seed", None)
    return config_hash(config)


def reproduction_check(committed: Mapping[str, Mapping[str, Any]],
                       reproduced: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per headline number: committed vs reproduced and whether they agree -- ``exactly``,
    ``within the interval`` (the reproduced mean lies in the committed 95% interval: floating point
    differs between machines), ``differs``, ``new`` / ``gone`` when only one side has it, or ``other design`` when
    the sweep's recorded configuration changed (its numbers are not the same experiment, so not compared)."""
    rows = []
    for label in sorted(set(committed) | set(reproduced)):
        old, new = committed.get(label), reproduced.get(label)
        if old is None or new is None:
            verdict = "new" if old is None else "gone"
        elif old.get("design") and new.get("design") and old["design"] != new["design"]:
            verdict = "other design"
        elif abs(old["mean"] - new["mean"]) < 1e-9:
            verdict = "exactly"
        elif old["low"] - 1e-9 <= new["mean"] <= old["high"] + 1e-9:
            verdict = "within the interval"
        else:
            verdict = "differs"
        rows.append({"number": label, "committed": old and old["mean"], "reproduced": new and new["mean"],
                     "committed_interval": old and (old["low"], old["high"]), "agreement": verdict})
    return rows


def format_reproduction(rows: Sequence[Mapping[str, Any]]) -> str:
    """The reproduction check as text: one line per compared number, then the counts (how many were compared, and
    how many committed numbers this reproduction did not recompute)."""
    if not rows:
        return "reproduction check: no ablation summaries to compare (none committed and none produced)"
    skipped = [r for r in rows if r["agreement"] == "not recomputed"]
    rows = [r for r in rows if r["agreement"] != "not recomputed"]
    tail = (f"  {len(rows)} compared; {len(skipped)} committed number(s) not recomputed on this machine in this "
            f"reproduction (not compared)")
    if not rows:
        return "reproduction check: nothing recomputed to compare\n" + tail

    def pct(value) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    width = max(len(r["number"]) for r in rows)
    lines = ["reproduction check (committed -> reproduced, mean accuracy over seeds):"]
    for r in rows:
        interval = r["committed_interval"]
        band = f" [{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]" if interval else ""
        lines.append(f"  {r['number']:<{width}}  {pct(r['committed']):>6}{band:<15} -> {pct(r['reproduced']):>6}  "
                     f"{r['agreement']}")
    verdicts = ("exactly", "within the interval", "differs", "other design", "new", "gone")
    counts = {v: sum(r["agreement"] == v for r in rows) for v in verdicts}
    lines.append("  " + ", ".join(f"{n} {k}" for k, n in counts.items() if n))
    lines.append(tail)
    return "\n".join(lines)


def committed_numbers(profile: str, results_root: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """:func:`headline_numbers` as committed (``git show HEAD:<summary>``); the working tree's when the results folder
    is not in a git checkout."""
    folder = paths.results_dir(results_root) / profile / "ablations"
    root = _git_root(folder)
    if root is None:
        return headline_numbers(profile, results_root)
    listed = _git(root, "ls-tree", "-r", "--name-only", "HEAD", "--", str(folder.resolve().relative_to(root)))
    wanted = [f for f in (listed or "").splitlines() if f.endswith(("/summary.csv", "/ablation.json"))]
    with tempfile.TemporaryDirectory() as tmp:
        for file in wanted:
            text = _git(root, "show", f"HEAD:{file}")
            if text is not None:
                target = Path(tmp) / profile / "ablations" / Path(file).parent.name / Path(file).name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        return headline_numbers(profile, tmp)


def _git_root(folder: Path) -> Path | None:
    probe = folder if folder.is_dir() else folder.parent
    while not probe.is_dir():
        probe = probe.parent
    top = _git(probe, "rev-parse", "--show-toplevel")
    return Path(top.strip()).resolve() if top else None


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def recomputed_numbers(profile: str, results_root: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """:func:`headline_numbers` recomputed from the runs that exist now, keeping only the numbers whose every experiment
    run this machine computed: a number a sweep shares with another (the base point) counts once its runs are here,
    even when that other sweep's summary file was not rewritten."""
    numbers: dict[str, dict[str, Any]] = {}
    for name in ablations.recorded_ablations(profile, results_root):
        results, summary = ablations.ablation_summary(name, study=profile, root=results_root)
        if summary.empty or results.empty:
            continue
        design = _design_hash(ablations.ablation_dir(name, profile, results_root) / "ablation.json")
        rows = list(csv.DictReader(io.StringIO(summary.to_csv(index=False))))
        for index, row in enumerate(rows):
            keys = list(row)[: list(row).index("runs")] if "runs" in row else []
            mask = results.apply(lambda r: all(_same(r.get(k), summary.iloc[index][k]) for k in keys), axis=1)
            behind = list(results.loc[mask, "run_path"])
            if behind and all(_computed_here(profile, run_path) for run_path in behind):
                with contextlib.suppress(TypeError, ValueError):
                    numbers[f"{name}: " + ", ".join(f"{k}={row[k] or 'none'}" for k in keys)] = {
                        **{k: float(row[k]) for k in ("mean", "low", "high")}, "design": design}
    return numbers


def _same(a, b) -> bool:
    def plain(v):
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    return plain(a) == plain(b)


def _computed_here(profile: str, run_path: str) -> bool:
    return (paths.runs_dir() / profile / "experiment" / Path(run_path).name / stages.COMPUTED_HERE).is_file()


def check(profile: str, committed: Mapping[str, Mapping[str, Any]],
          results_root: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """:func:`reproduction_check` of the numbers recomputed here against ``committed``; the others are rows with the
    agreement ``not recomputed``."""
    rows = reproduction_check(committed, recomputed_numbers(profile, results_root))
    for row in rows:
        if row["agreement"] == "gone":  # committed, but not recomputed in this reproduction
            row["agreement"] = "not recomputed"
    return rows


COST_BEGIN = "<!-- BEGIN reproduce-cost -->"
COST_END = "<!-- END reproduce-cost -->"


def cost_block(profile: str = "default", root: str | os.PathLike | None = None) -> str:
    """What a fresh clone's ``make reproduce`` computes and what it cost on the machine that measured it (the last
    call that computed the study from scratch, ``results/<profile>/timings.json``): the README's "Three commands"."""
    timings = paths.results_dir(root) / profile / "timings.json"
    try:
        data = json.loads(timings.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    steps = len(data.get("notebooks") or {})
    call = data.get("last_from_scratch") or {}
    runs = f", {call['runs_computed']} runs" if call.get("runs_computed") else ""
    return (f"On a fresh clone (committed results, no local runs) `make reproduce` computes every step of the "
            f"`{profile}` study again ({steps} notebooks{runs}) and compares its headline numbers with the committed "
            f"ones. Measured: {teaching.study_duration(profile, root)}.")


def write_cost_block(readme: str | os.PathLike, profile: str = "default",
                     root: str | os.PathLike | None = None) -> bool:
    """Write :func:`cost_block` between the README's reproduce-cost markers (when it has them)."""
    return paths.write_if_marked(readme, COST_BEGIN, COST_END, lambda: cost_block(profile, root))
