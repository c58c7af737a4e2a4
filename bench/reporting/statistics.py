"""Summaries of replicated scores: the spread, a bootstrap interval, the paper's top-half
selection, the one-sided rank test that the claims table uses and Holm's adjustment of a family
of p-values (docs/reproduction.md)."""
from __future__ import annotations

import math

import numpy as np
from scipy.stats import mannwhitneyu

BOOTSTRAP_RESAMPLES = 10_000
CONFIDENCE = 0.95


def bootstrap_means(values: np.ndarray, rng: np.random.Generator, resamples: int = BOOTSTRAP_RESAMPLES) -> np.ndarray:
    """The means of `resamples` resamples (with replacement) of the replicas `values`."""
    return values[rng.integers(0, len(values), (resamples, len(values)))].mean(axis=1)


def bootstrap_interval(values, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES,
                       confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean: resample the replicas with replacement, take
    the mean of each resample, and return the (1 - confidence) / 2 and (1 + confidence) / 2
    quantiles of those means. One value gives (value, value); none gives (nan, nan)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return math.nan, math.nan
    if len(values) == 1:
        return float(values[0]), float(values[0])
    means = bootstrap_means(values, np.random.default_rng(seed), resamples)
    tail = (1 - confidence) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def top_half_mean(values) -> float:
    """The paper's model selection (as a public re-implementation describes it; the paper's own
    text is not at hand): sort the replicas' scores, keep the best half (rounded up), report their
    mean. It is an optimistic summary by design and is shown beside the median, never instead."""
    values = np.sort(np.asarray(values, dtype=float))[::-1]
    if len(values) == 0:
        return math.nan
    return float(values[:math.ceil(len(values) / 2)].mean())


def replica_summary(values, seed: int = 0) -> dict[str, float]:
    """n, median, mean, std (ddof 1; 0 for one value), the bootstrap interval and the top-half mean."""
    values = np.asarray(values, dtype=float)
    low, high = bootstrap_interval(values, seed)
    return {"n": len(values), "median": float(np.median(values)) if len(values) else math.nan,
            "mean": float(values.mean()) if len(values) else math.nan,
            "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "ci_low": low, "ci_high": high, "top_half": top_half_mean(values)}


def greater_test(first, second) -> tuple[float, float, float]:
    """One-sided Mann-Whitney U test of "first scores higher than second".

    Returns (U, p_value, effect_size) with effect_size the common-language effect size
    U / (n1 n2): the probability that a random replica of `first` beats one of `second` (ties
    count half); 0.5 means no difference. With n1 = n2 = 5 the smallest possible p is 1/252 = 0.004;
    with 3 against 3 it is 0.05, so fewer replicas cannot reach alpha 0.05.
    """
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if len(first) == 0 or len(second) == 0:
        return math.nan, math.nan, math.nan
    result = mannwhitneyu(first, second, alternative="greater")
    return float(result.statistic), float(result.pvalue), float(result.statistic / (len(first) * len(second)))


def holm(p_values) -> np.ndarray:
    """Holm's (1979) step-down adjustment of one family of m p-values: sorted ascending, the
    adjusted p_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)), returned in the given order. A
    hypothesis is rejected at level alpha where its adjusted p < alpha, which bounds the chance of
    any false rejection in the family by alpha. NaN entries (no test) are not in the family and
    stay NaN."""
    p_values = np.asarray(p_values, dtype=float)
    adjusted = np.full(p_values.shape, math.nan)
    tested = np.flatnonzero(~np.isnan(p_values))
    order = tested[np.argsort(p_values[tested], kind="stable")]
    m = len(order)
    adjusted[order] = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p_values[order]))
    return adjusted
