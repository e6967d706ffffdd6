"""The estimate's output: the Markdown report, the README block and the JSON object.

:func:`markdown` renders the tables with the assumptions under them, :func:`summary_markdown`
the README block (between :data:`BEGIN` and :data:`END`, written by :func:`write_readme_block`),
:func:`to_json` the same numbers as a JSON object. ``python -m fcot cost --profile paper``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from fcot import paths
from fcot.costs.basis import BEGIN, CHARS_PER_TOKEN, DEFAULT_SAMPLE, END, relative_path
from fcot.costs.estimation import CostEstimate
from fcot.runs import publish


def _int(value: float | int | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def _flops(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def _hours(value: float | None) -> str:
    return "–" if value is None else (f"{value:,.1f}" if value >= 10 else f"{value:.2g}")


def _command(result: CostEstimate) -> str:
    parts = [f"python -m fcot cost --profile {result.profile}"]
    parts += [f"--set {o}" for o in result.overrides]
    if result.only:
        parts.append(f"--only {result.only}")
    if result.sample != DEFAULT_SAMPLE:
        parts.append(f"--sample {result.sample if result.sample is not None else 0}")
    return " ".join(parts)


def teacher_table(result: CostEstimate) -> str:
    lines = ["| step | backend: model | questions | D | calls | prompt tokens | completion tokens | USD | lengths from |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for t in result.teacher:
        lines.append(f"| {t.step} | {t.backend}: {t.model} | {t.questions:,} | {t.degree} | {t.calls:,} | "
                     f"{t.prompt_tokens:,} | {t.completion_tokens:,} | {_usd(t.cost_usd)} | {t.lengths} |")
    total = result.teacher_totals()
    lines.append(f"| **total** | | {total['questions']:,} | | **{total['calls']:,}** | **{total['prompt_tokens']:,}** | "
                 f"**{total['completion_tokens']:,}** | **{_usd(total['cost_usd'])}** | |")
    unknown = [t for t in result.teacher if t.cost_usd is None]
    if unknown:
        lines.append("")
        lines.append(f"Cost unknown for {len(unknown)} step(s): {unknown[0].cost_note}. Known part: "
                     f"{_usd(total['cost_usd_known'])}.")
    return "\n".join(lines)


def student_table(result: CostEstimate) -> str:
    lines = ["| step | runs | students | training tokens | evaluation tokens | FLOPs | GPU hours |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: |"]
    for row in result.student_stages():
        runs = f"{row['runs']}" + (f" (+{row['shared_runs']} shared)" if row["shared_runs"] else "")
        lines.append(f"| {row['step']} | {runs} | {', '.join(row['students'])} | {_int(row['training_tokens'])} | "
                     f"{_int(row['evaluation_tokens'])} | {_flops(row['flops'])} | {_hours(row['gpu_hours'])} |")
    total = result.student_totals()
    lines.append(f"| **total** | **{total['runs']}** | | **{_int(total['training_tokens'])}** | "
                 f"**{_int(total['evaluation_tokens'])}** | **{_flops(total['flops'])}** | **{_hours(total['gpu_hours'])}** |")
    if total["runs_with_unknown_flops"]:
        lines.append("")
        lines.append(f"{total['runs_with_unknown_flops']} run(s) have no FLOPs: their student's parameter count is "
                     f"not in `fcot.costs.STUDENT_PARAMETERS`.")
    return "\n".join(lines)


def _header(result: CostEstimate) -> str:
    free = ", ".join(f"{k} ×{v}" for k, v in sorted(result.free_steps.items())) or "none"
    return (f"Estimated by `{_command(result)}` from the profile's {result.executions} notebook executions "
            f"(`fcot.study.plan`); no call is made. Steps with neither API calls nor GPU work: {free}.")


def markdown(result: CostEstimate) -> str:
    """The full report: teacher and student tables with totals, then the assumptions."""
    teacher, students_ = result.teacher_totals(), result.student_totals()
    parts = [
        f"# What the `{result.profile}` profile costs",
        "",
        _header(result),
        "",
        f"**Total: {teacher['calls']:,} teacher calls, {teacher['prompt_tokens'] + teacher['completion_tokens']:,} "
        f"teacher tokens, {_usd(teacher['cost_usd'])}; {students_['runs']} student runs, "
        f"{_flops(students_['flops'])} FLOPs, {_hours(students_['gpu_hours'])} GPU hours ({result.gpu.name}).**",
        "",
        "## Teacher (notebook 10)",
        "",
        teacher_table(result),
        "",
        "## Students (notebooks 20/21, 30-36, 40)",
        "",
        student_table(result),
        "",
        "## Assumptions",
        "",
        *[f"- {a}" for a in result.assumptions],
        "",
    ]
    return "\n".join(parts)


def summary_markdown(result: CostEstimate, details: str = "results/paper_cost.md") -> str:
    """The README block: one table of stages and the totals, with the main assumptions."""
    teacher = result.teacher_totals()
    diverse = [t for t in result.teacher if t.degree > 1]
    single = [t for t in result.teacher if t.degree == 1]
    rows = ["| stage | runs | calls | tokens | USD | FLOPs | GPU hours |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label, group in (("teacher, D=1 (notebook 10)", single), ("teacher, diverse reasoning (notebook 10)", diverse)):
        if group:
            costs = [t.cost_usd for t in group]
            rows.append(f"| {label} | {len(group)} | {sum(t.calls for t in group):,} | "
                        f"{sum(t.prompt_tokens + t.completion_tokens for t in group):,} | "
                        f"{_usd(None if None in costs else sum(costs))} | – | – |")
    groups: dict[str, list[dict]] = {}
    for row in result.student_stages():
        number = row["step"][:2]
        label = {"20": "students: fine-tuning (notebook 20)", "21": "students: evaluation (notebook 21)",
                 "40": "students: sample study (notebook 40)"}.get(number, "experiments and ablations (notebooks 30-36)")
        groups.setdefault(label, []).append(row)
    for label, group in groups.items():
        rows.append(f"| {label} | {sum(r['runs'] for r in group)} | – | "
                    f"{_int(sum(r['training_tokens'] + r['evaluation_tokens'] for r in group))} | – | "
                    f"{_flops(sum(r['flops'] for r in group))} | {_hours(sum(r['gpu_hours'] for r in group))} |")
    students_ = result.student_totals()
    rows.append(f"| **total** | | **{teacher['calls']:,}** | | **{_usd(teacher['cost_usd'])}** | "
                f"**{_flops(students_['flops'])}** | **{_hours(students_['gpu_hours'])}** |")
    return "\n".join([
        _header(result) + f" Per step and every assumption: [`{details}`]({details}).",
        "",
        *rows,
        "",
        f"Tokens are counted as characters / {CHARS_PER_TOKEN}; rationale lengths come from the recorded "
        f"text-davinci-002 runs where a log exists, else from the max_tokens limit (an upper bound); student "
        f"FLOPs are 6 × parameters × training tokens (+ validation and evaluation forward passes); "
        f"GPU hours: {result.gpu.source}.",
    ])


def to_json(result: CostEstimate) -> dict:
    """The estimate as a JSON-ready dict (no paths of this machine, no timestamps)."""
    gpu = asdict(result.gpu)
    gpu["measured"] = [list(m) for m in result.gpu.measured]
    return {
        "profile": result.profile,
        "command": _command(result),
        "overrides": list(result.overrides),
        "only": result.only,
        "sample": result.sample,
        "executions": result.executions,
        "chars_per_token": CHARS_PER_TOKEN,
        "gpu": gpu,
        "totals": {"teacher": result.teacher_totals(), "students": result.student_totals()},
        "teacher": [t.as_dict() for t in result.teacher],
        "student_stages": result.student_stages(),
        "student_runs": [r.as_dict() for r in result.students],
        "free_steps": dict(sorted(result.free_steps.items())),
        "assumptions": result.assumptions,
    }


def write_readme_block(path: str | os.PathLike, block: str) -> bool:
    """Replace the text between :data:`BEGIN` and :data:`END` in ``path``; True if it changed."""
    return paths.write_between_markers(path, BEGIN, END, block.strip())


def write_outputs(result: CostEstimate, *, markdown_path: str | os.PathLike | None = None,
                  json_path: str | os.PathLike | None = None, readme: str | os.PathLike | None = None) -> list[str]:
    """Write the Markdown report, the JSON and/or the README block; returns what was written."""
    written = []
    if markdown_path:
        publish(markdown_path, markdown(result))
        written.append(str(markdown_path))
    if json_path:
        publish(json_path, json.dumps(to_json(result), indent=1) + "\n")
        written.append(str(json_path))
    if readme:
        details = relative_path(Path(markdown_path)) if markdown_path else "results/paper_cost.md"
        write_readme_block(readme, summary_markdown(result, details))
        written.append(f"{readme} ({BEGIN})")
    return written
