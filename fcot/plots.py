"""Figure builders. Each returns a matplotlib Figure and never saves it (``fcot.runs`` saves)."""

from __future__ import annotations


def accuracy_bars(table, title: str | None = None):
    """Accuracy per method (bars, percent) with its interval (error bars), one group per task.

    ``table``: the long form of ``fcot.evaluate.results_table`` (columns ``method``, ``task``,
    ``accuracy``, ``low``, ``high``); rows without an interval (e.g. random guessing) get no bar.
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    missing = [c for c in ("method", "task", "accuracy", "low", "high") if c not in table.columns]
    if missing:
        raise ValueError(f"accuracy_bars: table lacks columns {missing} (pass fcot.evaluate.results_table(...))")
    tasks = list(dict.fromkeys(table["task"]))
    methods = list(dict.fromkeys(table["method"]))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 + 1.3 * len(tasks) * max(1, len(methods)) / 2), 3.2))
    width = 0.8 / max(1, len(methods))
    x = np.arange(len(tasks))
    for i, method in enumerate(methods):
        rows = table[table["method"] == method].set_index("task").reindex(tasks)
        acc = 100 * rows["accuracy"].astype(float).to_numpy()
        low = 100 * pd.to_numeric(rows["low"], errors="coerce").to_numpy()
        high = 100 * pd.to_numeric(rows["high"], errors="coerce").to_numpy()
        err = np.vstack([np.where(np.isnan(low), 0, acc - low), np.where(np.isnan(high), 0, high - acc)])
        ax.bar(x + (i - (len(methods) - 1) / 2) * width, acc, width, yerr=err, capsize=3, label=method)
    ax.set_xticks(x, tasks)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize="small", frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def rationale_lengths(completions, title: str | None = None):
    """Histogram of teacher rationale lengths (words), correct vs filtered-out (wrong) completions.

    ``completions``: ``fcot.records.Completion`` records (e.g. from ``fcot.teachers.generate``).
    """
    import matplotlib.pyplot as plt
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


def ablation(summary, x: str, group: str | None = None, references=(), log_x: bool = False, title: str | None = None,
             ylabel: str = "student accuracy (%)", tick_label: str | None = None, xlabel: str | None = None):
    """Mean accuracy over seeds (percent) against ``x``, with its interval, one series per ``group``.

    ``summary``: ``fcot.experiments.summarize(...)`` (columns ``mean``, ``low``, ``high`` and ``x``).
    A numeric ``x`` (degree, training questions, parameters, teacher accuracy) gives lines with
    error bars (log scale with ``log_x``); otherwise (method arms, filter modes, or values with a
    blank such as "no cap") bars. ``references`` are summary columns of accuracies drawn dashed
    next to the student's, e.g. ``teacher_accuracy_test``. Ticks sit at the measured values
    (labelled by the ``tick_label`` column when given, e.g. the student's name under its parameter
    count). An empty summary gives an empty figure that says so.
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    fig, ax = plt.subplots(figsize=(5.6, 3.4))
    if summary is None or len(summary) == 0:
        ax.text(0.5, 0.5, "no finished runs yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        if title:
            ax.set_title(title)
        return fig
    missing = [c for c in ("mean", "low", "high", x) if c not in summary.columns]
    if missing:
        raise ValueError(f"ablation: summary lacks columns {missing} (pass fcot.experiments.summarize(...))")
    references = [r for r in references if r in summary.columns and pd.to_numeric(summary[r], errors="coerce").notna().any()]
    groups = list(dict.fromkeys(summary[group])) if group and group in summary.columns else [None]
    values = pd.to_numeric(summary[x], errors="coerce")
    numeric = bool(values.notna().all())

    def errors(rows):
        mean = 100 * rows["mean"].astype(float).to_numpy()
        low = 100 * pd.to_numeric(rows["low"], errors="coerce").to_numpy()
        high = 100 * pd.to_numeric(rows["high"], errors="coerce").to_numpy()
        return mean, np.vstack([np.where(np.isnan(low), 0, mean - low), np.where(np.isnan(high), 0, high - mean)])

    if numeric:
        for g in groups:
            rows = summary if g is None else summary[summary[group] == g]
            rows = rows.assign(_x=pd.to_numeric(rows[x])).sort_values("_x")
            mean, err = errors(rows)
            label = "student" if g is None else f"{g}"
            ax.errorbar(rows["_x"], mean, yerr=err, marker="o", capsize=3, label=label)
            for ref in references:
                ax.plot(rows["_x"], 100 * pd.to_numeric(rows[ref], errors="coerce"), linestyle="--", marker="x",
                        label=_REFERENCE_LABELS.get(ref, ref) + ("" if g is None else f" ({g})"))
        if log_x:
            ax.set_xscale("log", base=2)
        ticks = summary.assign(_x=values).drop_duplicates("_x").sort_values("_x")
        names = ticks[tick_label].astype(str) + "\n" if tick_label and tick_label in summary.columns else ""
        ax.set_xticks(ticks["_x"], list(names + ticks["_x"].map(_tick_text)) if len(names) else
                      list(ticks["_x"].map(_tick_text)))
        ax.minorticks_off()
        ax.set_xlabel(xlabel or x)
    else:
        labels = [("none" if pd.isna(v) else str(v)) for v in summary[x]]
        categories = list(dict.fromkeys(labels))
        width = 0.8 / max(1, len(categories))
        positions = np.arange(len(groups))
        for i, category in enumerate(categories):
            rows = summary[[label == category for label in labels]]
            if group and group in summary.columns:
                rows = rows.set_index(group).reindex(groups)
            mean, err = errors(rows)
            offset = positions + (i - (len(categories) - 1) / 2) * width
            ax.bar(offset, mean, width, yerr=err, capsize=3, label=category)
            for ref in references:
                ax.scatter(offset, 100 * pd.to_numeric(rows[ref], errors="coerce"), marker="_", s=300, color="black",
                           zorder=3, label=_REFERENCE_LABELS.get(ref, ref) if i == 0 else None)
        ax.set_xticks(positions, [("" if g is None else str(g)) for g in groups])
        if groups == [None]:
            ax.set_xticks(positions, [""])
            ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 100)
    ax.legend(fontsize="small", frameon=False)
    if title:
        ax.set_title(title, fontsize="medium")
    fig.tight_layout()
    return fig


def error_categories(counts, title: str | None = None):
    """Share of completions per sample-study category (bars, percent), one bar group per source.

    ``counts``: ``fcot.analysis.category_counts(...)`` (rows = categories, columns ``<source>`` and
    ``<source> %``); the count is written on each bar.
    """
    import matplotlib.pyplot as plt
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
