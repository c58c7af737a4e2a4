"""The paper's claims, tested on replicated runs: claims.csv and claims.md (docs/reproduction.md),
and, where the runs were scored along training, at every budget: claims_by_budget.csv and .md.

A preset lists its claims in [[claims]] tables:
    { claim = "beta-VAE scores above the VAE", kind = "greater", first = "beta_vae", second = "vae" }
    { claim = "beta-VAE is near DC-IGN", kind = "near", first = "beta_vae", second = "dcign", margin = 0.05 }
    { claim = "... on MIG", kind = "greater", first = "beta_vae", second = "vae", metric = "mig.score" }
A claim is tested on its `metric` (a metric key), by default the preset's [paper] metric.
"greater": one-sided Mann-Whitney U test (bench/reporting/statistics.py) at ALPHA: supported when first >
second is significant, contradicted when second > first is, else inconclusive. "near": the 95%
bootstrap interval of mean(first) - mean(second) (resampling each row's replicas): supported
inside [-margin, margin], contradicted when it lies wholly outside, else inconclusive (and always
inconclusive while a row has a single replica).
Only healthy runs count (a GAN whose training collapsed is no evidence about the method).
By budget: the same test at every step both rows were scored at (their images seen: step x the
first row's batch size), and the budget from which the claim is supported at every later step.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.errors import UserError
from bench.reporting.statistics import CONFIDENCE, bootstrap_means, greater_test

ALPHA = 0.05
KINDS = ("greater", "near")
COLUMNS = ["claim", "rows", "n", "statistic", "p_value", "effect_size", "verdict"]
BUDGET_COLUMNS = ["claim", "metric", "rows", "step", "images", "n", "statistic", "p_value", "effect_size", "verdict"]
SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
MIN_NEAR_REPLICAS = 2


def greater_claim(first: np.ndarray, second: np.ndarray) -> dict:
    statistic, p_value, effect = greater_test(first, second)
    _, p_reverse, _ = greater_test(second, first)
    verdict = (SUPPORTED if p_value < ALPHA else CONTRADICTED if p_reverse < ALPHA else INCONCLUSIVE)
    return {"statistic": f"U = {statistic:g}", "p_value": p_value, "effect_size": effect, "verdict": verdict}


def difference_interval(first: np.ndarray, second: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(first) - mean(second), each row resampled on its own."""
    rng = np.random.default_rng(seed)
    means = [bootstrap_means(values, rng) for values in (first, second)]
    tail = (1 - CONFIDENCE) / 2
    return tuple(float(q) for q in np.quantile(means[0] - means[1], [tail, 1 - tail]))


def near_claim(first: np.ndarray, second: np.ndarray, margin: float) -> dict:
    """A row with one replica has no spread to resample: the interval would be too narrow, so the
    verdict stays inconclusive until both rows have MIN_NEAR_REPLICAS."""
    low, high = difference_interval(first, second)
    inside, outside = -margin <= low and high <= margin, high < -margin or low > margin
    verdict = SUPPORTED if inside else CONTRADICTED if outside else INCONCLUSIVE
    if min(len(first), len(second)) < MIN_NEAR_REPLICAS:
        verdict = f"{INCONCLUSIVE} (fewer than {MIN_NEAR_REPLICAS} replicas in a row)"
    return {"statistic": f"mean difference {np.mean(first) - np.mean(second):+.3f}, 95% CI [{low:+.3f}, {high:+.3f}]"
                         f" vs margin {margin:g}",
            "p_value": math.nan, "effect_size": float(np.mean(first) - np.mean(second)), "verdict": verdict}


def check(claims: list[dict], metric: str | None = None) -> None:
    """Every claim names its rows, a known kind and a metric (its own, or `metric`)."""
    for entry in claims:
        for key in ("claim", "kind", "first", "second"):
            if key not in entry:
                raise UserError(f"a [[claims]] entry needs {key!r}: {entry}")
        if claim_metric(entry, metric) is None:
            raise UserError(f"claim {entry['claim']!r} names no metric: give it metric = \"KEY\" (e.g. "
                            f"\"beta_vae.eval_accuracy\") or the preset a [paper] metric")
        if entry["kind"] not in KINDS:
            raise UserError(f"claim {entry['claim']!r}: unknown kind {entry['kind']!r}; valid: {', '.join(KINDS)}")
        if entry["kind"] == "near" and not entry.get("margin", 0) > 0:
            raise UserError(f"claim {entry['claim']!r}: a 'near' claim needs a positive margin")


def claim_metric(entry: dict, metric: str | None) -> str | None:
    """The metric key a claim is tested on: its own `metric`, else the preset's."""
    return entry.get("metric", metric)


def claim_row(values: pd.DataFrame, entry: dict) -> dict:
    """One claim (COLUMNS) on long-format scores of its metric: the first row's values against the
    second's. A row is one configuration: a method run in several (a grid, or runs kept apart by
    budget or precision: bench/running/replicas.py) is not tested, and the verdict says so."""
    runs = {side: values[values["method"] == entry[side]] for side in ("first", "second")}
    configurations = {side: side_runs["params"].nunique() for side, side_runs in runs.items()}
    pooled = [f"{entry[side]} has {count} configurations" for side, count in configurations.items() if count > 1]
    first, second = (runs[side]["value"].to_numpy(dtype=float) for side in ("first", "second"))
    row = {"claim": entry["claim"], "rows": f"{entry['first']} vs {entry['second']}",
           "n": f"{len(first)} vs {len(second)}"}
    if pooled:
        row.update(statistic="", p_value=math.nan, effect_size=math.nan,
                   verdict=f"{INCONCLUSIVE} ({'; '.join(pooled)}: one each, or one results folder per configuration)")
    elif len(first) == 0 or len(second) == 0:
        row.update(statistic="", p_value=math.nan, effect_size=math.nan, verdict=f"{INCONCLUSIVE} (no runs)")
    elif entry["kind"] == "greater":
        row.update(greater_claim(first, second))
    else:
        row.update(near_claim(first, second, float(entry["margin"])))
    return row


def test_claims(scores: pd.DataFrame, claims: list[dict], metric: str | None = None) -> pd.DataFrame:
    """One row per claim (COLUMNS) from the healthy runs' values of its metric (claim_metric) in
    long-format scores."""
    check(claims, metric)
    return pd.DataFrame([claim_row(scores[scores["metric"] == claim_metric(entry, metric)], entry) for entry in claims],
                        columns=COLUMNS)


def claims_by_budget(curves: pd.DataFrame, claims: list[dict], metric: str | None = None) -> pd.DataFrame:
    """Each claim (BUDGET_COLUMNS) at every step that both its rows were scored at, in order of
    step, from long-format scores with `step` and `images` columns (bench/reporting/curves.py)."""
    check(claims, metric)
    rows = []
    for entry in claims:
        key = claim_metric(entry, metric)
        values = curves[curves["metric"] == key]
        first, second = (values[values["method"] == entry[row]] for row in ("first", "second"))
        for step in sorted(set(first["step"]) & set(second["step"])):
            at_step = values[values["step"] == step]
            rows.append({**claim_row(at_step, entry), "metric": key, "step": step,
                         "images": int(first[first["step"] == step]["images"].iloc[0])})
    return pd.DataFrame(rows, columns=BUDGET_COLUMNS)


def holding_from(by_budget: pd.DataFrame, claims: list[dict], metric: str | None = None) -> list[str]:
    """One line per claim, from its claims_by_budget rows: the smallest budget from which it is
    supported there and at every later budget scored, or that it never is."""
    lines = []
    for entry in claims:
        key = claim_metric(entry, metric)
        rows = by_budget[(by_budget["claim"] == entry["claim"]) & (by_budget["metric"] == key)]
        if rows.empty:
            lines.append(f"{entry['claim']} ({key}): never within the steps scored (no step has runs of both rows)")
            continue
        supported = list(rows["verdict"] == SUPPORTED)
        since = len(rows)                                  # the first budget of the last supported stretch
        while since > 0 and supported[since - 1]:
            since -= 1
        scored = (f"{len(rows)} budget{'s' * (len(rows) > 1)} scored, {rows['images'].iloc[0]:,} to "
                  f"{rows['images'].iloc[-1]:,} images")
        if since == len(rows):
            lines.append(f"{entry['claim']} ({key}): never within the steps scored ({scored})")
        else:
            lines.append(f"{entry['claim']} ({key}): supported from {rows['images'].iloc[since]:,} images "
                         f"(step {rows['step'].iloc[since]:,}) on, at every later budget ({scored})")
    return lines
