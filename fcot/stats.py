"""Intervals, in one place and from scipy: Wilson for one run's accuracy, a percentile bootstrap,
and Student's t for a mean over seeds."""

from __future__ import annotations

from typing import Sequence

import numpy as np

INTERVAL_METHODS = ("wilson", "bootstrap")


def check_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return confidence


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion ``successes / n`` (``scipy.stats.binomtest``)."""
    from scipy.stats import binomtest

    if n < 1:
        raise ValueError(f"an interval needs at least one outcome, got n={n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n={n}], got {successes}")
    interval = binomtest(int(successes), int(n)).proportion_ci(confidence_level=check_confidence(confidence),
                                                               method="wilson")
    low = 0.0 if successes == 0 else max(0.0, float(interval.low))  # exact at the ends (no 1e-18 residue)
    high = 1.0 if successes == n else min(1.0, float(interval.high))
    return low, high


def bootstrap_interval(
    correct: Sequence[bool], confidence: float = 0.95, resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``correct`` (``resamples`` resamples, seeded)."""
    values = np.asarray(list(correct), dtype=float)
    if values.size < 1:
        raise ValueError("an interval needs at least one outcome, got none")
    check_confidence(confidence)
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    rng = np.random.default_rng(seed)
    # the mean of a resample is (number of successes drawn) / n: a binomial draw is exact and O(1)
    means = rng.binomial(values.size, values.mean(), size=resamples) / values.size
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def accuracy_interval(
    correct: Sequence[bool], method: str = "wilson", confidence: float = 0.95, *, seed: int = 0
) -> tuple[float, float]:
    """A ``confidence`` interval for the accuracy ``mean(correct)``: ``"wilson"`` or ``"bootstrap"``."""
    if method not in INTERVAL_METHODS:
        raise ValueError(f"unknown interval method {method!r}; accepted: {INTERVAL_METHODS}")
    correct = [bool(c) for c in correct]
    if method == "wilson":
        return wilson_interval(sum(correct), len(correct), confidence)
    return bootstrap_interval(correct, confidence, seed=seed)


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (``scipy.stats.t.ppf``)."""
    from scipy.stats import t

    if not 0 < p < 1:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if not isinstance(df, int) or isinstance(df, bool) or df < 1:
        raise ValueError(f"df must be an integer >= 1, got {df!r}")
    return float(t.ppf(p, df))


def t_errorbar(values, confidence: float = 0.95) -> tuple[float, float]:
    """The ``confidence`` t interval of the mean of ``values`` (seeds) as ``(low, high)``: seaborn's ``errorbar=``
    callable, so a plot aggregates seeds with the same interval as the tables. One value: ``(value, value)``."""
    values = np.asarray(list(values), dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    mean = float(values.mean())
    if values.size == 1:
        return mean, mean
    half = t_quantile((1 + check_confidence(confidence)) / 2, int(values.size - 1)) * float(values.std(ddof=1)) / np.sqrt(values.size)
    return mean - half, mean + half
