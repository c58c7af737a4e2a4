"""The paper's claims, tested on replicated runs: claims.csv and claims.md (docs/reproduction.md).

A preset lists its claims in [[claims]] tables:
    { claim = "beta-VAE scores above the VAE", kind = "greater", first = "beta_vae", second = "vae" }
    { claim = "beta-VAE is near DC-IGN", kind = "near", first = "beta_vae", second = "dcign", margin = 0.05 }
"greater": one-sided Mann-Whitney U test (bench/reporting/statistics.py) at ALPHA: supported when first >
second is significant, contradicted when second > first is, else inconclusive. "near": the 95%
bootstrap interval of mean(first) - mean(second) (resampling each row's replicas): supported
inside [-margin, margin], contradicted when it lies wholly outside, else inconclusive (and always
inconclusive while a row has a single replica).
Only healthy runs count (a GAN whose training collapsed is no evidence about the method).
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


def check(claims: list[dict]) -> None:
    for entry in claims:
        for key in ("claim", "kind", "first", "second"):
            if key not in entry:
                raise UserError(f"a [[claims]] entry needs {key!r}: {entry}")
        if entry["kind"] not in KINDS:
            raise UserError(f"claim {entry['claim']!r}: unknown kind {entry['kind']!r}; valid: {', '.join(KINDS)}")
        if entry["kind"] == "near" and not entry.get("margin", 0) > 0:
            raise UserError(f"claim {entry['claim']!r}: a 'near' claim needs a positive margin")


def test_claims(scores: pd.DataFrame, claims: list[dict], metric: str) -> pd.DataFrame:
    """One row per claim (COLUMNS) from the healthy runs' `metric` values in long-format scores."""
    check(claims)
    values = scores[scores["metric"] == metric]
    rows = []
    for entry in claims:
        first = values[values["method"] == entry["first"]]["value"].to_numpy(dtype=float)
        second = values[values["method"] == entry["second"]]["value"].to_numpy(dtype=float)
        row = {"claim": entry["claim"], "rows": f"{entry['first']} vs {entry['second']}",
               "n": f"{len(first)} vs {len(second)}"}
        if len(first) == 0 or len(second) == 0:
            row.update(statistic="", p_value=math.nan, effect_size=math.nan, verdict=f"{INCONCLUSIVE} (no runs)")
        elif entry["kind"] == "greater":
            row.update(greater_claim(first, second))
        else:
            row.update(near_claim(first, second, float(entry["margin"])))
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)
