"""The benchmark report: one JSON file per benchmark and a Markdown table over all of them.

A :class:`Measurement` is one number measured twice in the same run -- once for a baseline, once
for fcot -- with its unit and which direction is better; its ``ratio`` is always "how many times
better fcot is" (> 1: fcot wins), so ratios of different measurements read alike. Absolute values
depend on the machine; only ratios are compared between machines.

    python -m bench                # writes results/bench/<name>.json and results/bench/README.md
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from fcot import paths

BETTER = ("higher", "lower")
README_NAME = "README.md"


@dataclass(frozen=True)
class Measurement:
    """One quantity, measured for the baseline and for fcot (either may be None: not applicable).

    ``better``: ``"higher"`` (throughput: ratio = fcot / baseline) or ``"lower"`` (seconds, loss:
    ratio = baseline / fcot). ``seconds``: the absolute wall times behind the numbers (e.g.
    ``{"baseline": 41.2, "fcot": 3.1}``). ``ratio_meaningful=False`` leaves the ratio out (e.g. a
    validation loss, where "how many times lower" says nothing; the two values are shown instead).
    """

    name: str
    unit: str
    baseline: float | None
    fcot: float | None
    better: str = "higher"
    baseline_label: str = ""
    fcot_label: str = ""
    seconds: Mapping[str, float] = field(default_factory=dict)
    note: str = ""
    ratio_meaningful: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Measurement.name must be a non-empty string, got {self.name!r}")
        if self.better not in BETTER:
            raise ValueError(f"Measurement.better must be one of {BETTER}, got {self.better!r}")
        for side in ("baseline", "fcot"):
            value = getattr(self, side)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ValueError(f"Measurement {self.name!r}: {side} must be a number or None, got {value!r}")

    @property
    def ratio(self) -> float | None:
        """How many times better fcot is than the baseline (None where either is missing or zero)."""
        if not self.ratio_meaningful or self.baseline is None or self.fcot is None:
            return None
        numerator, denominator = (self.fcot, self.baseline) if self.better == "higher" else (self.baseline, self.fcot)
        return None if denominator == 0 else numerator / denominator

    def as_dict(self) -> dict:
        data = asdict(self)
        data["seconds"] = dict(self.seconds)
        data["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Measurement":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


# ---------------------------------------------------------------------------------------------
# The machine


def _ram_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def git_sha() -> str | None:
    """The checked-out commit, with ``+dirty`` when tracked files differ from it (None outside git)."""
    from fcot.provenance import git_label

    return git_label()


def machine_info() -> dict:
    """CPU model, cores, RAM, OS, Python/torch/transformers versions, git sha, load average."""
    import torch
    import transformers

    from fcot.provenance import cpu_model

    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "ram_gib": _ram_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "git": git_sha(),
    }
    info["load_average_1m"] = load_average()
    return info


def load_average() -> float | None:
    """The 1-minute load average (None where the OS has none): above the core count, others competed."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def machine_line(info: Mapping[str, Any]) -> str:
    ram = f"{info.get('ram_gib')} GiB RAM" if info.get("ram_gib") is not None else "RAM unknown"
    gpu = f", GPU {info['cuda']}" if info.get("cuda") else ", no GPU"
    return (f"{info.get('cpu')} ({info.get('cores')} cores, {info.get('torch_threads')} torch threads), {ram}{gpu}; "
            f"{info.get('os')}; Python {info.get('python')}, torch {info.get('torch')}, "
            f"transformers {info.get('transformers')}; git {info.get('git')}")


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# Files


def write_benchmark(out_dir: str | os.PathLike, name: str, measurements: Sequence[Measurement], *,
                    command: str, machine: Mapping[str, Any], details: Mapping[str, Any] | None = None,
                    seconds: float | None = None, note: str = "", smoke: bool = False) -> Path:
    """Write ``<out_dir>/<name>.json``: the measurements, the raw report (``details``), when and where."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = {
        "benchmark": name,
        "date": now(),
        "command": command,
        "smoke": smoke,
        "wall_seconds": None if seconds is None else round(seconds, 2),
        "note": note,
        "load_average_1m_after": load_average(),
        "machine": dict(machine),
        "measurements": [m.as_dict() for m in measurements],
        "details": dict(details or {}),
    }
    path = out / f"{name}.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_benchmarks(out_dir: str | os.PathLike, order: Iterable[str] = ()) -> list[dict]:
    """Every ``<name>.json`` benchmark file in ``out_dir``: the names in ``order`` first, then the rest by name."""
    found: dict[str, dict] = {}
    for path in sorted(Path(out_dir).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: not a benchmark file ({error})") from None
        if isinstance(data, dict) and "benchmark" in data and "measurements" in data:
            found[data["benchmark"]] = data
    ordered = [found.pop(name) for name in order if name in found]
    return ordered + [found[name] for name in sorted(found)]


def format_number(value: float | None, unit: str = "") -> str:
    """Short, readable numbers: 3 significant digits under 100, thousands separators above."""
    if value is None:
        return "–"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif float(value).is_integer():
        text = str(int(value))
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip() if unit else text


def _cell(value: float | None, unit: str, label: str) -> str:
    text = format_number(value, unit)
    return f"{text} ({label})" if label and value is not None else text


def _ratio_cell(m: Mapping[str, Any]) -> str:
    ratio = m.get("ratio")
    if ratio is None:
        return "–"
    return f"**{ratio:.2f}×**" if ratio < 10 else f"**{ratio:.1f}×**"


def markdown_table(benchmarks: Sequence[Mapping[str, Any]]) -> str:
    """One table over all benchmarks: measurement | baseline | fcot | ratio (fcot's advantage)."""
    lines = [
        "| measurement | baseline | fcot | ratio: times better (only this column compares across machines) |",
        "| --- | --- | --- | --- |",
    ]
    for bench in benchmarks:
        for m in bench["measurements"]:
            name = f"{bench['benchmark']}: {m['name']}"
            if m.get("note"):
                name += f" <br><sub>{m['note']}</sub>"
            lines.append(f"| {name} | {_cell(m['baseline'], m['unit'], m.get('baseline_label', ''))} | "
                         f"{_cell(m['fcot'], m['unit'], m.get('fcot_label', ''))} | {_ratio_cell(m)} |")
    return "\n".join(lines)


def write_readme(out_dir: str | os.PathLike, benchmarks: Sequence[Mapping[str, Any]], *, command: str,
                 machine: Mapping[str, Any], wall_seconds: float | None = None, intro: str = "") -> Path:
    """``<out_dir>/README.md``: the command, the machine, the date, the table, and per-benchmark notes."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# fcot benchmarks",
        "",
        "Every row measures fcot and a baseline **in the same run on the same machine**. Absolute numbers "
        "depend on the machine (and on whatever else ran on it); **only the ratios are comparable between "
        "machines**. Ratio = how many times better fcot is (higher throughput, or lower time); > 1 means fcot wins.",
        "",
    ]
    if intro:
        lines += [intro, ""]
    lines += [
        f"- command: `{command}`",
        f"- date: {now()}" + (f"; wall time of this command {wall_seconds:.0f} s" if wall_seconds is not None else ""),
        f"- machine: {machine_line(machine)}",
        f"- load average (1 min) at the start: {machine.get('load_average_1m')} on {machine.get('cores')} cores "
        "(other processes were competing for the CPU when it exceeds the core count)",
        "",
        markdown_table(benchmarks),
        "",
        "## Per benchmark",
        "",
    ]
    for bench in benchmarks:
        wall = bench.get("wall_seconds")
        head = f"- **{bench['benchmark']}**: measured {bench['date']}" + (f" in {wall:.0f} s" if wall is not None else "")
        head += f" by `{bench['command']}`" + (" (SMOKE sizes: not a measurement)" if bench.get("smoke") else "")
        if bench.get("load_average_1m_after") is not None:
            head += f"; load average after it {bench['load_average_1m_after']}"
        if bench.get("machine", {}).get("git") != machine.get("git"):
            head += f"; git {bench.get('machine', {}).get('git')}"
        lines.append(head)
        if bench.get("note"):
            lines.append(f"  {bench['note']}")
    lines.append("")
    path = out / README_NAME
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def training_limits(benchmarks: Sequence[Mapping[str, Any]]) -> str:
    """One sentence on what limits training, from the training benchmark's JSON: where a step's time goes (its
    per-operation profile) and each trainer's model FLOP/s against the matmul peak measured in the same run; ""
    without a full (non-smoke) training benchmark."""
    training = next((b for b in benchmarks if b.get("benchmark") == "training"), None)
    details = (training or {}).get("details") or {}
    profile = details.get("profile")
    if not profile or details.get("fcot_share_of_peak") is None:
        return ""
    shares = "; ".join(f"{row['category']} {100 * row['share']:.0f}%" for row in profile["categories"])
    return (f"**What limits training** (from `training.json`): one step of `{profile['student']}` (batch "
            f"{profile['batch_size']}, {profile['threads']} thread, {profile['wall_ms_per_step']:.1f} ms) spends its time "
            f"in {shares}. fcot's trainer reaches {100 * details['fcot_share_of_peak']:.0f}% of the CPU's fp32 matmul peak "
            f"measured in the same run ({details['matmul_peak_gflops']:,.0f} GFLOP/s) in model FLOPs, TRL's "
            f"{100 * details['trl_share_of_peak']:.0f}%.")


README_BEGIN = "<!-- BEGIN bench -->"
README_END = "<!-- END bench -->"


def write_readme_block(readme: str | os.PathLike, out_dir: str | os.PathLike,
                       order: Iterable[str] = ("teacher", "training", "pretrained", "evaluation", "study")) -> bool:
    """Copy the benchmark table of ``out_dir`` (its JSON files) into ``readme`` between the bench markers.

    Returns True when the README changed. The table is the one ``python -m bench`` wrote, built again
    from the same JSON files, so the README shows measured numbers only.
    """
    benchmarks = read_benchmarks(out_dir, order)
    if not benchmarks:
        raise FileNotFoundError(f"{out_dir}: no benchmark JSON files; run `make bench` first")
    dates = sorted(b["date"] for b in benchmarks if b.get("date"))
    commands = sorted({b["command"] for b in benchmarks if b.get("command")})
    machine = benchmarks[-1].get("machine") or {}
    days = sorted({d[:10] for d in dates})
    when = "date unknown" if not days else days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"
    lines = {machine_line(b["machine"]) for b in benchmarks if b.get("machine")}
    where = (machine_line(machine) if machine else "an unrecorded machine") if len(lines) <= 1 else (
        f"{len(lines)} machine setups (each benchmark's in the details; the last: {machine_line(machine)})")
    block = "\n".join([
        f"Measured by {', '.join(f'`{c}`' for c in commands)} ({when}) on "
        f"{where}. Details, per-benchmark notes and the load "
        f"average of each run: [`results/bench/README.md`](results/bench/README.md).",
        "",
        markdown_table(benchmarks),
    ] + ([f"\n{limits}"] if (limits := training_limits(benchmarks)) else []))
    return paths.write_between_markers(readme, README_BEGIN, README_END, block)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.report", description="copy the benchmark table into a README")
    parser.add_argument("--readme", required=True, help="the README with the bench markers")
    parser.add_argument("--out", default="results/bench", help="the folder python -m bench wrote")
    arguments = parser.parse_args()
    changed = write_readme_block(arguments.readme, arguments.out)
    print(f"{'updated' if changed else 'unchanged'}: the benchmark table of {arguments.readme}")
