"""Figure builders. Each returns a matplotlib Figure and never saves it (``fcot.runs`` saves)."""

from __future__ import annotations

from fcot.stats import t_errorbar


def accuracy_bars(table, title: str | None = None):
    """Accuracy per method (bars, percent) with its interval (error bars), one group per task (seaborn).

    ``table``: the long form of ``fcot.evaluate.results_table`` (columns ``method``, ``task``,
    ``accuracy``, ``low``, ``high``); rows without an interval (e.g. random guessing) get no error bar.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    missing = [c for c in ("method", "task", "accuracy", "low", "high") if c not in table.columns]
    if missing:
        raise ValueError(f"accuracy_bars: table lacks columns {missing} (pass fcot.evaluate.results_table(...))")
    theme()
    tasks = list(dict.fromkeys(table["task"]))
    methods = list(dict.fromkeys(table["method"]))
    summary = table.rename(columns={"accuracy": "mean"})
    data = _percent_column(_runs_from_summary(summary, "method", "task", ()), "accuracy", "accuracy (%)")
    fig, ax = plt.subplots(figsize=(min(10.0, max(6.0, 1.4 + 0.45 * len(tasks) * len(methods))), 3.6))
    sns.barplot(data=data, x="task", y="accuracy (%)", hue="method", order=tasks, hue_order=methods,
                errorbar=_stored_interval(summary), capsize=0.08, ax=ax)
    ax.set_xlabel("")
    ax.set_xticks(range(len(tasks)), [wrap_name(t) for t in tasks])  # long task names side by side do not overlap
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def wrap_name(name: str, width: int = 18) -> str:
    """A snake_case name on lines of about ``width`` characters, cut after underscores
    (``tracking_shuffled_objects`` -> ``tracking_shuffled_\nobjects``); the text itself is unchanged."""
    lines, line = [], ""
    for part in str(name).split("_"):
        piece = part if not line else f"_{part}"
        if line and len(line) + len(piece) > width:
            lines.append(line + "_")
            line = part
        else:
            line += piece
    return "\n".join(lines + [line])


def rationale_lengths(completions, title: str | None = None):
    """Histogram of teacher rationale lengths (words), correct vs filtered-out (wrong) completions.

    ``completions``: ``fcot.records.Completion`` records (e.g. from ``fcot.teachers.generate``).
    """
    import matplotlib.pyplot as plt

    theme()
    import numpy as np

    completions = list(completions)
    if not completions:
        raise ValueError("rationale_lengths: no completions to plot")
    right = [len(c.rationale.split()) for c in completions if c.correct]
    wrong = [len(c.rationale.split()) for c in completions if not c.correct]
    longest = max(right + wrong)
    bins = np.linspace(0, max(longest, 1) + 1, min(30, max(longest, 1) + 2))
    fig, ax = plt.subplots(figsize=(5.0, 3.0))
    ax.hist([right, wrong], bins=bins, stacked=True, label=[f"correct ({len(right)})", f"filtered out ({len(wrong)})"],
            color=["tab:green", "tab:red"])
    ax.set_xlabel("rationale length (words)")
    ax.set_ylabel("completions")
    ax.legend(fontsize="small", frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def learning_curves(curves, title: str | None = None):
    """Train and validation loss per epoch (and validation accuracy on a second axis where present).

    ``curves``: ``fcot.students.learning_curves(...)`` / ``TrainResult.learning_curves()``
    (columns ``epoch``, ``train_loss``, ``eval_loss``[, ``eval_accuracy``]); the best epoch by
    validation loss is marked.
    """
    import matplotlib.pyplot as plt

    theme()

    missing = [c for c in ("epoch", "train_loss", "eval_loss") if c not in curves.columns]
    if missing:
        raise ValueError(f"learning_curves: table lacks columns {missing} (pass TrainResult.learning_curves())")
    fig, ax = plt.subplots(figsize=(5.0, 3.2))
    ax.plot(curves["epoch"], curves["train_loss"], marker="o", label="train loss")
    ax.plot(curves["epoch"], curves["eval_loss"], marker="s", label="validation loss")
    if curves["eval_loss"].notna().any():
        best = curves.loc[curves["eval_loss"].idxmin()]
        ax.axvline(best["epoch"], color="grey", linestyle=":", linewidth=1, label=f"best epoch ({best['epoch']:g})")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (per completion token)")
    handles, labels = ax.get_legend_handles_labels()
    if "eval_accuracy" in curves.columns and curves["eval_accuracy"].notna().any():
        acc = ax.twinx()
        acc.plot(curves["epoch"], 100 * curves["eval_accuracy"], color="tab:green", marker="^", label="validation accuracy")
        acc.set_ylabel("validation accuracy (%)")
        acc.set_ylim(0, 100)
        more_handles, more_labels = acc.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax.legend(handles, labels, fontsize="small", frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def sample_lengths(lengths, limit: int | None = None, unit: str = "tokens", title: str | None = None):
    """Histogram of sample lengths (``fcot.curate.sample_lengths``), with the length limit marked."""
    import matplotlib.pyplot as plt

    theme()

    lengths = list(lengths)
    fig, ax = plt.subplots(figsize=(5.0, 3.0))
    if lengths:
        ax.hist(lengths, bins=min(40, max(5, len(set(lengths)))), color="tab:blue", alpha=0.8)
    if limit:
        ax.axvline(limit, color="tab:red", linestyle="--", linewidth=1, label=f"limit ({limit})")
        ax.legend(fontsize="small", frameon=False)
    ax.set_xlabel(f"sample length ({unit})")
    ax.set_ylabel("samples")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


_REFERENCE_LABELS = {
    "teacher_accuracy_test": "teacher (test, greedy)",
    "teacher_accuracy_train": "teacher (train)",
}


def _tick_text(value: float) -> str:
    """A tick at a measured value: 800, 0.7, 1.2M (parameters), never 2^9."""
    if value >= 1e6:
        return f"{value / 1e6:.2g}M"
    if value >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:g}"


def theme() -> None:
    """One look for every fcot figure (seaborn's ``paper`` context, white grid, colour-blind palette), readable on a
    page in JupyterLab and on GitHub; every plot builder applies it."""
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.1,
                  rc={"figure.dpi": 110, "savefig.dpi": 150, "legend.frameon": False})


def _percent_column(frame, column: str, name: str):
    import pandas as pd

    return frame.assign(**{name: 100 * pd.to_numeric(frame[column], errors="coerce")})


def ablation(summary, x: str, group: str | None = None, references=(), log_x: bool = False, title: str | None = None,
             ylabel: str = "student accuracy (%)", tick_label: str | None = None, xlabel: str | None = None, runs=None):
    """Mean accuracy over seeds (percent) against ``x``, with its interval, one series (hue) per ``group``.

    ``summary``: ``fcot.experiments.summarize(...)`` (columns ``mean``, ``low``, ``high`` and ``x``). With ``runs``,
    the per-run frame it summarises (:func:`fcot.ablations.ablation_summary` returns both), seaborn aggregates the
    seeds itself with the tables' t interval (:func:`fcot.stats.t_errorbar`); without, the summary's stored means
    and intervals are drawn (e.g. a summary read from its CSV). A numeric ``x`` (degree, training questions, parameters, teacher accuracy) gives
    lines with error bars (log scale with ``log_x``); otherwise (method arms, filter modes, or values with a blank
    such as "no cap") bars. ``references`` are accuracy columns drawn dashed next to the student's, e.g. the teacher
    on the same test questions. Ticks sit at the measured values (labelled by the ``tick_label`` column, e.g. the
    student's name above its parameter count). An empty summary gives an empty figure that says so.
    """
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    theme()
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    if summary is None or len(summary) == 0:
        ax.text(0.5, 0.5, "no finished runs yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        if title:
            ax.set_title(title)
        return fig
    missing = [c for c in ("mean", "low", "high", x) if c not in summary.columns]
    if missing:
        raise ValueError(f"ablation: summary lacks columns {missing} (pass fcot.experiments.summarize(...))")
    if runs is None or len(runs) == 0 or x not in runs.columns or "accuracy" not in runs.columns:
        runs = _runs_from_summary(summary, x, group, references)  # a CSV summary: its stored means and intervals
        errorbar = _stored_interval(summary)
    else:
        errorbar = t_errorbar
    references = [r for r in references if r in runs.columns and pd.to_numeric(runs[r], errors="coerce").notna().any()]
    hue = group if group and group in runs.columns else None
    data = _percent_column(runs, "accuracy", "accuracy (%)")
    values = pd.to_numeric(data[x], errors="coerce")
    if bool(values.notna().all()):
        data = data.assign(**{x: values})
        sns.lineplot(data=data, x=x, y="accuracy (%)", hue=hue, errorbar=errorbar, err_style="bars", marker="o",
                     err_kws={"capsize": 3}, ax=ax, label=None if hue else "student")
        for ref in references:
            sns.lineplot(data=_percent_column(data, ref, "_ref"), x=x, y="_ref", hue=hue, errorbar=None, ax=ax,
                         linestyle="--", marker="x", legend=False, color=None if hue else "grey",
                         label=None if hue else _REFERENCE_LABELS.get(ref, ref))
        if log_x:
            ax.set_xscale("log", base=2)
        ticks = summary.assign(_x=pd.to_numeric(summary[x], errors="coerce")).drop_duplicates("_x").sort_values("_x")
        names = list(ticks[tick_label].astype(str) + "\n") if tick_label and tick_label in ticks.columns else [""] * len(ticks)
        ax.set_xticks(ticks["_x"], [n + _tick_text(v) for n, v in zip(names, ticks["_x"])])
        ax.minorticks_off()
        ax.set_xlabel(xlabel or x)
    else:
        data = data.assign(**{x: ["none" if pd.isna(v) else str(v) for v in data[x]]})
        order = list(dict.fromkeys("none" if pd.isna(v) else str(v) for v in summary[x]))
        if x == "arm":
            order = sorted(order, key=_arm_order)
        if hue:  # one bar group per column (e.g. task), one bar per arm
            sns.barplot(data=data, x=hue, y="accuracy (%)", hue=x, hue_order=order, errorbar=errorbar, capsize=0.1, ax=ax)
            ax.set_xlabel("")
        else:
            sns.barplot(data=data, x=x, y="accuracy (%)", order=order, errorbar=errorbar, capsize=0.1, ax=ax)
            ax.set_xlabel(xlabel or x)
        for ref in references:  # the teacher on the same test questions, as the paper draws it: a horizontal line
            level = 100 * pd.to_numeric(data[ref], errors="coerce").mean()
            ax.axhline(level, color="grey", linestyle="--", linewidth=1, label=f"{_REFERENCE_LABELS.get(ref, ref)}: {level:.1f}%")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 100)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", loc="best")
    elif ax.get_legend() is not None:
        ax.get_legend().remove()
    if title:
        import textwrap

        ax.set_title("\n".join(textwrap.wrap(title, 64)), fontsize="medium")
    fig.tight_layout()
    return fig


def _arm_order(label: str) -> tuple:
    """vanilla, ft_cot, ft_cot D=2, D=4, ..., multitask: the paper's Table 1 order."""
    method, _, degree = str(label).partition(" D=")
    return ({"vanilla": 0, "ft_cot": 1, "multitask": 2}.get(method, 3), int(degree) if degree.isdigit() else 1, label)


def _runs_from_summary(summary, x: str, group: str | None, references):
    """Three pseudo-runs per summary row whose mean is the row's mean (seaborn draws no interval from one value);
    :func:`_stored_interval` then answers the row's stored interval for that mean."""
    import pandas as pd

    keep = [c for c in dict.fromkeys([x, group, *references]) if c and c in summary.columns]
    rows = []
    for record in summary.to_dict("records"):
        mean, low, high = (pd.to_numeric(pd.Series([record.get(k)]), errors="coerce").iloc[0] for k in ("mean", "low", "high"))
        values = [mean] if pd.isna(low) or pd.isna(high) else [low, high, 3 * mean - low - high]
        rows += [{**{k: record[k] for k in keep}, "accuracy": v} for v in values]
    return pd.DataFrame(rows)


def _stored_interval(summary):
    """An ``errorbar=`` callable that returns the stored interval of the one summary row a point is drawn from."""
    import pandas as pd

    bounds = [(100 * float(m), 100 * float(lo), 100 * float(hi))
              for m, lo, hi in zip(summary["mean"], pd.to_numeric(summary["low"], errors="coerce"),
                                   pd.to_numeric(summary["high"], errors="coerce"))]

    def interval(values):
        mean = float(pd.Series(values).mean())
        low, high = next(((lo, hi) for m, lo, hi in bounds if abs(m - mean) < 1e-6), (float("nan"), float("nan")))
        return (mean, mean) if pd.isna(low) or pd.isna(high) else (low, high)

    return interval


def error_categories(counts, title: str | None = None):
    """Share of completions per sample-study category (bars, percent), one bar group per source.

    ``counts``: ``fcot.analysis.category_counts(...)`` (rows = categories, columns ``<source>`` and
    ``<source> %``); the count is written on each bar.
    """
    import matplotlib.pyplot as plt

    theme()
    import numpy as np

    sources = [c for c in counts.columns if not str(c).endswith(" %")]
    if not sources or any(f"{s} %" not in counts.columns for s in sources):
        raise ValueError("error_categories: pass fcot.analysis.category_counts(...) (columns '<source>' and '<source> %')")
    categories = list(counts.index)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(categories) * max(1, len(sources)) / 1.5), 3.2))
    width = 0.8 / len(sources)
    x = np.arange(len(categories))
    for i, source in enumerate(sources):
        shares = counts[f"{source} %"].astype(float).to_numpy()
        bars = ax.bar(x + (i - (len(sources) - 1) / 2) * width, shares, width, label=source)
        for bar, count in zip(bars, counts[source].astype(int)):
            ax.annotate(str(count), (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                        fontsize="x-small")
    ax.set_xticks(x, [str(c).replace("_", " ") for c in categories], rotation=15)
    ax.set_ylabel("share of completions (%)")
    ax.set_ylim(0, 105)
    ax.legend(fontsize="small", frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _box_text(text: str, width: int = 44, lines: int = 7) -> str:
    import textwrap

    out: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        out += textwrap.wrap(paragraph, width) or [""]
    return "\n".join(out[:lines] + (["…"] if len(out) > lines else []))


def pipeline(boxes, title: str | None = None):
    """The Fine-tune-CoT pipeline as a flow diagram drawn from real strings (the tour's question).

    ``boxes``: ``[(heading, text), ...]`` in order -- e.g. teacher stage 1 (prompt and rationale), teacher stage 2,
    the answer filter, the fine-tuning sample, the student, its answer; laid out left to right in rows of three with
    arrows between them, each text wrapped and cut to a few lines.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    theme()
    boxes = list(boxes)
    if not boxes:
        raise ValueError("pipeline: give at least one (heading, text) box")
    per_row = 3
    rows = (len(boxes) + per_row - 1) // per_row
    fig, ax = plt.subplots(figsize=(11.0, 2.8 * rows))
    ax.set_xlim(0, per_row)
    ax.set_ylim(0, rows)
    ax.set_axis_off()
    centers = []
    for i, (heading, text) in enumerate(boxes):
        row, col = divmod(i, per_row)
        col = col if row % 2 == 0 else per_row - 1 - col  # snake: the flow turns at the end of a row
        x, y = col + 0.05, rows - row - 0.92
        ax.add_patch(FancyBboxPatch((x, y), 0.9, 0.84, boxstyle="round,pad=0.01", facecolor=f"C{i % 10}", alpha=0.12,
                                    edgecolor=f"C{i % 10}", linewidth=1.5))
        ax.text(x + 0.03, y + 0.8, f"{i + 1}. {heading}", fontsize=10, fontweight="bold", va="top")
        ax.text(x + 0.03, y + 0.68, _box_text(text), fontsize=7.5, va="top", family="monospace")
        centers.append((x + 0.45, y + 0.42, row))
    for (x0, y0, r0), (x1, y1, r1) in zip(centers, centers[1:]):
        if r0 == r1:  # along the row: edge to edge
            start, end = (x0 + 0.45 * (1 if x1 > x0 else -1), y0), (x1 - 0.45 * (1 if x1 > x0 else -1), y1)
        else:  # down to the next row
            start, end = (x0, y0 - 0.42), (x1, y1 + 0.42)
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color="0.3", linewidth=1.2))
    if title:
        ax.set_title(title, fontsize="medium")
    fig.tight_layout()
    return fig
