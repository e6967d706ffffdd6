"""What we saw: the paper's phenomena judged from the summary tables by fixed rules (never typed).

:func:`ablation_finding` judges one ablation as its notebook's closing "What we saw" cell shows it, :func:`findings`
every phenomenon of a study (notebook 90); each verdict row says whether a change exceeds the uncertainty of the
points compared (:class:`Point`, :data:`INTERVAL_RULE`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from fcot import ablations
from fcot.report.claims import hypotheses_of, hypothesis, unexplained
from fcot.report.tables import column_label, is_blank

# ----------------------------------------------------------------------------------------------
# What we saw: the paper's phenomena, judged from the tables by fixed rules (never typed)
# ----------------------------------------------------------------------------------------------

FINDING_COLUMNS = ["phenomenon", "verdict", "noise", "evidence", "caveats", "rule"]

#: How a point's uncertainty is measured (shown under every :class:`Findings`).
INTERVAL_RULE = (
    "A point's interval is the 95% t interval of its mean accuracy across seeds, widened where needed to cover the "
    "mean per-run Wilson interval (the sampling of the test questions), so seeds that happen to agree do not make a "
    "point look exact; a point with one seed has that run's Wilson interval. Verdicts are computed from the summary "
    "by the rule in each row, so they change when the numbers change."
)
_NOISE_RULE = "noise: clear = the two intervals do not overlap, else within noise"
_TREND_RULE = ("verdict: yes = the mean accuracy never falls along {axis} and the last point beats the first; "
               "partly = the last point beats the first but the mean falls somewhere; no = otherwise; "
               "one point so far / not measured = fewer than two points. " + _NOISE_RULE.replace(
                   "the two intervals", "the intervals of the first and last points"))
_COMPARE_RULE = "verdict: yes = mean accuracy of {a} > {b}, tie = equal means, else no. " + _NOISE_RULE
_TEACHER_RULE = ("verdict: at the point where the student's mean accuracy is highest relative to its teacher's "
                 "accuracy on the same test questions (teacher below 100%), yes = student >= teacher, else no. "
                 "noise: clear = the teacher's accuracy lies outside the student's interval, else within noise "
                 "(the teacher's own sampling error is not counted)")
#: The order in which :func:`findings` lists the ablations (after the methods comparison).
FINDING_ORDER = ("degree", "data_size", "student_size", "teacher_quality", "filtering", "rationale_length")


@dataclass(frozen=True, eq=False, repr=False)
class Findings:
    """The phenomena judged in one notebook: ``table`` (a DataFrame with :data:`FINDING_COLUMNS`, one
    row per phenomenon) and ``note`` (how the intervals are measured). Displays as Markdown in a
    notebook (every number in full, no truncated cells)."""

    table: Any
    note: str = INTERVAL_RULE
    #: whose profile's hypotheses stand beside an unclear verdict (None: the profile this process runs)
    study: str | None = None

    def __post_init__(self) -> None:
        missing = [c for c in FINDING_COLUMNS if c not in getattr(self.table, "columns", ())]
        if missing:
            raise ValueError(f"Findings: table lacks column(s) {missing}; expected {FINDING_COLUMNS}")

    def __len__(self) -> int:
        return len(self.table)

    def verdicts(self) -> dict[str, str]:
        """``{phenomenon: verdict}``."""
        return dict(zip(self.table["phenomenon"], self.table["verdict"]))

    def row(self, phenomenon: str) -> dict[str, str]:
        """The row of ``phenomenon`` (exact text) as a dict."""
        match = self.table[self.table["phenomenon"] == phenomenon]
        if match.empty:
            raise KeyError(f"no finding {phenomenon!r}; present: {list(self.table['phenomenon'])}")
        return dict(match.iloc[0])

    def to_markdown(self) -> str:
        lines, hypotheses = [], hypotheses_of(self.study)
        for r in self.table.itertuples():
            head = f"- **{r.phenomenon}**: **{r.verdict}**" + (f", {r.noise}" if r.noise else "")
            lines.append(head)
            for field in ("evidence", "caveats", "rule"):
                value = getattr(r, field)
                if value:
                    lines.append(f"  - {field}: {value}")
            if unexplained(r.phenomenon, r.verdict, r.noise, hypotheses):
                lines.append(f"  - hypothesis: {hypothesis(r.phenomenon, hypotheses)}")
        if not lines:
            lines.append("- nothing to judge")
        return "\n".join(lines) + f"\n\n*{self.note}*\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        return self.to_markdown()


@dataclass(frozen=True)
class Point:
    """One summary row as a finding sees it: mean accuracy, its (widened) interval, seeds."""

    label: str
    mean: float
    low: float | None
    high: float | None
    runs: int | None
    widened: bool = False
    no_interval: str = ""  # why there is no usable interval
    teacher: float | None = None  # the teacher's accuracy on the same test questions
    extra: str = ""

    def interval(self) -> str:
        """``84.7% [78.0, 89.6]``: the mean and its interval in percent."""
        text = f"{100 * self.mean:.1f}%"
        if self.low is not None and self.high is not None:
            text += f" [{100 * self.low:.1f}, {100 * self.high:.1f}]"
        return text

    def text(self) -> str:
        text = f"{self.label}: {self.interval()}"
        if self.runs is not None:
            text += f", {self.runs} seed{'s' if self.runs != 1 else ''}"
        return text + (f", {self.extra}" if self.extra else "")


def _number(value: Any) -> float | None:
    """A float, or None for blank (None, NaN, pandas NA) and non-numeric cells."""
    if is_blank(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _value_text(value: Any, blank: str = "none") -> str:
    if is_blank(value):
        return blank
    number = _number(value)
    if number is not None and not isinstance(value, str):
        return str(int(number)) if number.is_integer() else f"{number:g}"
    return str(value)


def _point(row: Mapping[str, Any], label: str, *, teacher: bool = False, extra: str = "") -> Point | None:
    """The :class:`Point` of a summary (or main-table) row; None when it has no accuracy."""
    mean = _number(row.get("mean"))
    if mean is None:
        return None
    low, high = _number(row.get("low")), _number(row.get("high"))
    run_low, run_high = _number(row.get("run_low")), _number(row.get("run_high"))
    runs = _number(row.get("runs"))
    runs = int(runs) if runs is not None else None
    widened, why = False, ""
    if run_low is not None and (low is None or run_low < low - 1e-12):
        low, widened = run_low, low is not None
    if run_high is not None and (high is None or run_high > high + 1e-12):
        high, widened = run_high, widened or high is not None
    if low is None or high is None:
        low = high = None
        why = "no interval in the table"
    elif runs is not None and runs > 1 and high - low < 1e-12:
        low = high = None  # seeds agree exactly and there is no per-run interval to widen it with
        why = "zero-width interval (the seeds agree exactly) and no per-run interval"
    return Point(label, mean, low, high, runs, widened, why,
                  _number(row.get("teacher_accuracy_test")) if teacher else None, extra)


def separation(a: Point, b: Point) -> str:
    """``clear`` when the intervals of ``a`` and ``b`` do not overlap, else ``within noise`` (or unknown)."""
    if a.low is None or b.low is None:
        return "uncertainty unknown"
    return "clear" if a.high < b.low or b.high < a.low else "within noise"


def _caveats(points: Sequence[Point], unmeasured: Sequence[str] = ()) -> str:
    parts = []
    single = [p.label for p in points if p.runs == 1]
    if single:
        parts.append(f"one seed at {', '.join(single)} (its interval covers test sampling only, not seed variation)")
    widened = [p.label for p in points if p.widened]
    if widened:
        parts.append(f"interval widened to the per-run Wilson interval at {', '.join(widened)} "
                     "(the seeds agree more closely than test sampling allows)")
    unknown = [f"{p.label} ({p.no_interval})" for p in points if p.no_interval]
    if unknown:
        parts.append(f"no usable interval at {', '.join(unknown)}")
    if unmeasured:
        parts.append(f"no accuracy at {', '.join(unmeasured)}")
    return "; ".join(parts)


def _row(phenomenon: str, verdict: str, noise: str, evidence: str, caveats: str, rule: str) -> dict[str, str]:
    return {"phenomenon": phenomenon, "verdict": verdict, "noise": noise, "evidence": evidence, "caveats": caveats,
            "rule": rule}


def _trend(points: Sequence[Point]) -> tuple[str, str]:
    """``(verdict, noise)`` of points ordered along an axis: does the mean accuracy rise?

    verdict: ``yes`` (never falls, last > first), ``partly`` (last > first, falls somewhere), ``no``,
    ``one point so far``, ``not measured``; noise: ``clear`` / ``within noise`` (first vs last
    interval) / ``uncertainty unknown``, empty with fewer than two points.
    """
    if not points:
        return "not measured", ""
    if len(points) == 1:
        return "one point so far", ""
    means = [p.mean for p in points]
    rises = means[-1] > means[0]
    if rises and all(b >= a for a, b in zip(means, means[1:])):
        verdict = "yes"
    else:
        verdict = "partly" if rises else "no"
    return verdict, separation(points[0], points[-1])


def _compare(phenomenon: str, a: Point | None, b: Point | None, a_name: str, b_name: str, *,
             rule: str | None = None, absent: str = "no finished runs yet") -> dict[str, str]:
    """Does ``a`` beat ``b``? (a row: ``yes`` / ``tie`` / ``no``; ``not measured`` when either is missing)."""
    rule = rule or _COMPARE_RULE.format(a=a_name, b=b_name)
    if a is None or b is None:
        missing = [n for n, p in ((a_name, a), (b_name, b)) if p is None]
        present = [p for p in (a, b) if p is not None]
        evidence = f"no {' and no '.join(missing)} run yet" if present else absent
        if present:
            evidence += f"; {present[0].text()}"
        return _row(phenomenon, "not measured", "", evidence, _caveats(present), rule)
    verdict = "tie" if abs(a.mean - b.mean) < 1e-12 else "yes" if a.mean > b.mean else "no"
    return _row(phenomenon, verdict, separation(a, b), f"{a.text()} vs {b.text()}",
                _caveats([a, b]), rule)


def _versus_teacher(phenomenon: str, points: Sequence[Point], absent: str) -> dict[str, str]:
    """Does the student match or beat an imperfect teacher at some point? (a row)."""
    imperfect = [p for p in points if p.teacher is not None and p.teacher < 1.0]
    if not imperfect:
        return _row(phenomenon, "not measured", "", absent, "", _TEACHER_RULE)
    best = max(imperfect, key=lambda p: p.mean - p.teacher)
    if best.low is None:
        noise = "uncertainty unknown"
    else:
        noise = "clear" if best.low > best.teacher or best.high < best.teacher else "within noise"
    return _row(phenomenon, "yes" if best.mean >= best.teacher else "no", noise,
                f"best: {dataclasses.replace(best, extra='').text()} vs teacher {100 * best.teacher:.1f}% "
                "on the same test questions",
                _caveats([best]), _TEACHER_RULE)


# How each ablation's points are labelled and ordered: name -> (x column, phenomenon, label, order key).
def _axis_key(value: Any) -> tuple:
    number = _number(value)
    if number is not None:
        return (0, number, "")
    return (2, 0.0, "") if is_blank(value) else (1, 0.0, str(value))


def _axis_points(summary, name: str) -> tuple[list[Point], list[str]]:
    """The points of an ablation summary ordered along its axis, and the labels of rows without an accuracy."""
    import pandas as pd

    if summary is None or isinstance(summary, str) or not isinstance(summary, pd.DataFrame) or summary.empty:
        return [], []
    keyed, unmeasured = [], []
    for row in summary.to_dict("records"):
        if name == "student_size":
            params = _number(row.get("parameters"))
            label = f"{_value_text(row.get('student'))} ({_parameters_text(params)})"
            key = _axis_key(params)
        elif name == "data_size":
            n = _number(row.get("n_train"))
            label = f"n_train={'all' if n == 0 else _value_text(row.get('n_train'))}"
            key = (0, math.inf, "") if n == 0 else _axis_key(n)
        elif name == "rationale_length":
            label = f"cap={_value_text(row.get('max_rationale_tokens'), 'none (no cut)')}"
            key = _axis_key(row.get("max_rationale_tokens"))
        elif name == "teacher_quality":
            label = f"teacher_accuracy={_value_text(row.get('teacher_accuracy'), 'task default')}"
            value = row.get("teacher_accuracy")
            key = _axis_key(value if not is_blank(value) else row.get("teacher_accuracy_test"))
        elif name == "filtering":
            label = _value_text(row.get("filter_mode"))
            key = (0, 0.0, "") if label == "correct_only" else (1, 0.0, label)
        else:  # degree
            label = f"D={_value_text(row.get('degree'))}"
            key = _axis_key(row.get("degree"))
        extra = ""
        teacher = _number(row.get("teacher_accuracy_test"))
        if name in ("teacher_quality", "filtering") and teacher is not None:
            extra = f"teacher {100 * teacher:.1f}%"
        if name == "filtering" and _number(row.get("samples_train")) is not None:
            extra = ", ".join(x for x in (extra, f"{_number(row.get('samples_train')):.0f} samples") if x)
        point = _point(row, label, teacher=True, extra=extra)
        if point is None:
            unmeasured.append(label)
        else:
            keyed.append((key, point))
    keyed.sort(key=lambda pair: pair[0])
    return [p for _, p in keyed], unmeasured


def _parameters_text(params: float | None) -> str:
    if params is None:
        return "size unknown"
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if params >= scale:
            return f"{params / scale:.3g}{unit} parameters"
    return f"{params:.0f} parameters"


_TRENDS: dict[str, tuple[str, str]] = {
    "degree": ("accuracy rises with the diversity degree D", "D"),
    "data_size": ("accuracy rises with the number of training questions", "n_train"),
    "student_size": ("accuracy rises with the student's size (parameters)", "the student's parameters"),
    "teacher_quality": ("accuracy rises with the teacher's accuracy", "the teacher's accuracy"),
    "rationale_length": ("accuracy rises with the rationale cap (no claim in the paper, which never cuts "
                         "rationales: described only)", "the cap in student tokens (no cut last)"),
}
FILTERING_PHENOMENON = "filtering wrong rationales helps: correct_only (the paper's choice) beats keep_all"
FILTERING_MATCHED_PHENOMENON = ("filtering helps at equal sample count: correct_only beats keep_all_matched (a random "
                                "subset of all rationales as large as the correct_only set)")
TEACHER_PHENOMENON = "the student matches or beats an imperfect teacher"


def where(name: str) -> str:
    """``degree-200_questions`` -> ``200 questions``: where a second sweep of one kind runs; "" for the kind itself."""
    return str(name).partition("-")[2].replace("_", " ")


def _ablation_rows(name: str, summary, where: str = "") -> list[dict[str, str]]:
    points, unmeasured = _axis_points(summary, name)
    absent = summary if isinstance(summary, str) else (
        f"no {name} ablation in this study" if summary is None else "no finished runs yet")
    rows = []
    if name in _TRENDS:
        phenomenon, axis = _TRENDS[name]
        phenomenon = f"{phenomenon} (at {where})" if where else phenomenon
        verdict, noise = _trend(points)
        evidence = "; ".join(p.text() for p in points) or absent
        rows.append(_row(phenomenon, verdict, noise, evidence, _caveats(points, unmeasured),
                         _TREND_RULE.format(axis=axis)))
    if name == "teacher_quality":
        rows.append(_versus_teacher(f"{TEACHER_PHENOMENON} (teacher-quality points)", points,
                                    absent if not points else "no point with a teacher below 100% on the test questions"))
    if name == "filtering":
        by_mode = {p.label: p for p in points}
        row = _compare(FILTERING_PHENOMENON, by_mode.get("correct_only"), by_mode.get("keep_all"), "correct_only",
                       "keep_all", absent=absent)
        if row["verdict"] == "not measured" and len(points) == 1:
            row["verdict"] = "one point so far"
        rows.append(row)
        if "keep_all_matched" in by_mode:
            rows.append(_compare(FILTERING_MATCHED_PHENOMENON, by_mode.get("correct_only"), by_mode["keep_all_matched"],
                                 "correct_only", "keep_all_matched", absent=absent))
    return rows


def _methods_rows(arms_by_task: Mapping[str, Mapping[str, Point]], absent: str,
                  ran_only: bool = False) -> list[dict[str, str]]:
    """Fine-tune-CoT vs vanilla, diverse reasoning vs D=1, multitask vs Fine-tune-CoT, per task; with several
    columns, or ``ran_only``, the diverse and multitask rows only where those arms ran."""
    rows = []
    several = len(arms_by_task) > 1 or ran_only
    for task, arms in (arms_by_task or {"": {}}).items():
        where = f" ({task})" if task else ""
        rows.append(_compare(f"Fine-tune-CoT beats vanilla fine-tuning{where}", arms.get("ft_cot"),
                             arms.get("vanilla"), "ft_cot", "vanilla", absent=absent))
        # with several columns, a column that did not run an arm gets no row for it (not a "not measured" each)
        if not several or "ft_cot_diverse" in arms:
            rows.append(_compare(f"diverse reasoning (D > 1) beats Fine-tune-CoT with D=1{where}",
                                 arms.get("ft_cot_diverse"), arms.get("ft_cot"), "ft_cot D>1", "ft_cot", absent=absent,
                                 rule=_COMPARE_RULE.format(a="the largest D > 1 run", b="ft_cot (D=1)")))
        note = f"{task}; " if task else ""
        if not several or "multitask" in arms:
            rows.append(_compare(f"step-by-step multitask beats Fine-tune-CoT ({note}no claim in the paper: described only)",
                                 arms.get("multitask"), arms.get("ft_cot"), "multitask", "ft_cot", absent=absent))
    return rows


def summary_arms(summary) -> dict[str, dict[str, Point]]:
    """``{task: {ft_cot|ft_cot_diverse|vanilla|multitask: point}}`` of the methods ablation summary."""
    import pandas as pd

    found: dict[str, dict[str, Point]] = {}
    if summary is None or isinstance(summary, str) or not isinstance(summary, pd.DataFrame) or summary.empty:
        return found
    degrees: dict[str, int] = {}
    for row in summary.to_dict("records"):
        task = column_label(_value_text(row.get("task"), ""), row.get("test_split"))
        arm = _value_text(row.get("arm"), "")
        point = _point(row, arm)
        if point is None:
            continue
        arms = found.setdefault(task, {})
        if arm in ("ft_cot", "vanilla", "multitask"):
            arms[arm] = point
        elif arm.startswith("ft_cot D="):
            degree = int(_number(arm.split("=", 1)[1]) or 0)
            if degree > degrees.get(task, 1):
                degrees[task], arms["ft_cot_diverse"] = degree, point
    return found


def _table_arms(table) -> dict[str, dict[str, Point]]:
    """The same from the main table (:func:`fcot.report.tables.main_table`: rows keyed by method)."""
    found: dict[str, dict[str, Point]] = {}
    if table is None or table.empty:
        return found
    for row in table.to_dict("records"):
        method = row.get("method")
        if method not in ("ft_cot", "ft_cot_diverse", "vanilla", "multitask"):
            continue
        detail = _value_text(row.get("detail"), "")
        label = f"ft_cot {detail}" if method == "ft_cot_diverse" and detail else str(method)
        point = _point(row, label)
        if point is not None:
            found.setdefault(str(row.get("task")), {})[method] = point
    return found


# REPRODUCTION NOTE: the "What we saw" verdicts are computed by fixed rules from means and intervals
# over seeds (the paper states its phenomena from single runs without intervals): a change counts as
# "clear" only when the intervals of the compared points do not overlap, and a point's across-seed
# interval is widened to its runs' Wilson interval when the seeds agree more closely than test sampling allows.
def ablation_finding(name: str, summary) -> Findings:
    """What notebook 30-36's closing "What we saw" cell shows: the phenomenon the paper reports for
    ablation ``name`` (:data:`fcot.ablations.ABLATIONS`), judged from its ``summary``
    (:func:`fcot.ablations.ablation_summary`, or a CSV of it) by the rule stated in each row.

    * ``methods``: per task, Fine-tune-CoT vs vanilla, diverse reasoning (largest D) vs D=1, and the
      step-by-step multitask arm vs Fine-tune-CoT (not in the paper: described only);
    * ``degree``, ``data_size``, ``student_size`` (ordered by parameters), ``teacher_quality``:
      does accuracy rise along the axis (``yes`` / ``partly`` / ``no``); teacher quality also asks
      whether the student matches or beats an imperfect teacher;
    * ``filtering``: does the paper's choice, correct_only, beat keep_all;
    * ``rationale_length``: accuracy along the cap (no cut last; no paper claim, described).

    Each row says whether the change exceeds the uncertainty (``noise``: ``clear`` when the
    intervals of the first and last, or the two compared, points do not overlap) and flags
    single-seed points (``caveats``). Fewer than two points: ``one point so far`` / ``not measured``.
    """
    import pandas as pd

    try:
        kind = ablations.ablation_kind(name)  # methods-coin_flip is judged as methods
    except ValueError as error:
        raise ValueError(f"ablation_finding: {error}") from None
    if kind == "methods":
        absent = summary if isinstance(summary, str) else "no finished runs yet"
        # another main-table column's sweep (methods-coin_flip) runs the arms it names; the others get no row
        rows = _methods_rows(summary_arms(summary), absent, ran_only=name != kind)
    else:
        rows = _ablation_rows(kind, summary, where=where(name))
    return Findings(pd.DataFrame(rows, columns=FINDING_COLUMNS))


def findings(table, summaries: Mapping[str, Any]) -> Findings:
    """The paper's phenomena in this study (notebook 90's "What we saw"): the methods comparison,
    then every ablation of :data:`FINDING_ORDER` from ``summaries`` (``{name: summary or message}``,
    :func:`fcot.report.tables.ablation_summaries`) judged exactly as its own notebook does (:func:`ablation_finding`),
    then whether the student matches or beats an imperfect teacher at the best point of any ablation.

    The methods comparison is judged from ``summaries["methods"]`` when given (exactly as notebook
    30 does), else from the main table (:func:`fcot.report.tables.main_table`), whose cells carry no per-run interval:
    a cell whose seeds agree exactly then has an unknown uncertainty.
    """
    import pandas as pd

    methods = [s for n, s in summaries.items() if ablations.ablation_kind(n) == "methods"
               and isinstance(s, pd.DataFrame) and not s.empty]
    if methods:
        arms: dict[str, dict[str, Point]] = {}
        for summary in methods:
            arms.update(summary_arms(summary))
        rows = _methods_rows(arms, "no finished runs yet")
    else:
        rows = _methods_rows(_table_arms(table), "no finished runs in the main table")
    for name in FINDING_ORDER:
        elsewhere = [(other, summary) for other, summary in summaries.items()
                     if other != name and ablations.ablation_kind(other) == name and name in _TRENDS]
        if not elsewhere or not isinstance(summaries.get(name), str):  # a trend swept only elsewhere: no base row
            rows += _ablation_rows(name, summaries.get(name))
        # the same trend swept around another point (degree-200_questions), right after the base point's
        rows += [row for other, summary in elsewhere for row in _ablation_rows(name, summary, where=where(other))[:1]]
    points: list[Point] = []
    for name in FINDING_ORDER:
        found, _ = _axis_points(summaries.get(name), name)
        points += [dataclasses.replace(p, label=f"{name} {p.label}") for p in found]
    rows.append(_versus_teacher(f"{TEACHER_PHENOMENON} (best point of any ablation)", points,
                                "no ablation point with a teacher below 100% on the test questions"))
    return Findings(pd.DataFrame(rows, columns=FINDING_COLUMNS))
