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
Many looks: a claim tested at several budgets is one family, decided by one rule (`rule` column):
Holm's adjustment over its budgets (statistics.holm; a "near" claim's intervals widened to
1 - 0.05 / m, Bonferroni), unless the claim names a budget as its primary test before its runs
land (`primary_steps = 31250`), when that budget's raw p alone decides and the others are
exploratory. A claim written after its numbers were seen says so (`added_after_data = 2026-12-07`,
the date) and is marked in claims.md.
"""
from __future__ import annotations

import datetime
import math

import numpy as np
import pandas as pd

from bench.errors import UserError
from bench.reporting.statistics import CONFIDENCE, bootstrap_means, greater_test, holm

ALPHA = 0.05
KINDS = ("greater", "near")
COLUMNS = ["claim", "rows", "n", "statistic", "p_value", "p_adjusted", "rule", "effect_size", "verdict"]
BUDGET_COLUMNS = ["claim", "metric", "rows", "step", "images", "n", "statistic", "p_value", "p_holm", "effect_size",
                  "verdict", "rule"]
KEYS = ("claim", "kind", "first", "second", "metric", "margin", "primary_steps", "added_after_data")
ONE_TEST = "one test"
SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
MIN_NEAR_REPLICAS = 2


def greater_claim(first: np.ndarray, second: np.ndarray) -> dict:
    statistic, p_value, effect = greater_test(first, second)
    _, p_reverse, _ = greater_test(second, first)
    return {"statistic": f"U = {statistic:g}", "p_value": p_value, "p_reverse": p_reverse, "effect_size": effect,
            "verdict": greater_verdict(p_value, p_reverse)}


def greater_verdict(p_value: float, p_reverse: float) -> str:
    """Supported when first > second passes at ALPHA, contradicted when second > first does."""
    return SUPPORTED if p_value < ALPHA else CONTRADICTED if p_reverse < ALPHA else INCONCLUSIVE


def difference_interval(first: np.ndarray, second: np.ndarray, seed: int = 0,
                        confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(first) - mean(second), each row resampled on its own."""
    rng = np.random.default_rng(seed)
    means = [bootstrap_means(values, rng) for values in (first, second)]
    tail = (1 - confidence) / 2
    return tuple(float(q) for q in np.quantile(means[0] - means[1], [tail, 1 - tail]))


def near_claim(first: np.ndarray, second: np.ndarray, margin: float, confidence: float = CONFIDENCE) -> dict:
    """A row with one replica has no spread to resample: the interval would be too narrow, so the
    verdict stays inconclusive until both rows have MIN_NEAR_REPLICAS."""
    low, high = difference_interval(first, second, confidence=confidence)
    inside, outside = -margin <= low and high <= margin, high < -margin or low > margin
    verdict = SUPPORTED if inside else CONTRADICTED if outside else INCONCLUSIVE
    if min(len(first), len(second)) < MIN_NEAR_REPLICAS:
        verdict = f"{INCONCLUSIVE} (fewer than {MIN_NEAR_REPLICAS} replicas in a row)"
    return {"statistic": f"mean difference {np.mean(first) - np.mean(second):+.3f}, {percent(confidence)} CI "
                         f"[{low:+.3f}, {high:+.3f}] vs margin {margin:g}",
            "p_value": math.nan, "effect_size": float(np.mean(first) - np.mean(second)), "verdict": verdict}


def check(claims: list[dict], metric: str | None = None) -> None:
    """Every claim names its rows, a known kind and a metric (its own, or `metric`)."""
    for entry in claims:
        for key in ("claim", "kind", "first", "second"):
            if key not in entry:
                raise UserError(f"a [[claims]] entry needs {key!r}: {entry}")
        for key in entry:
            if key not in KEYS:
                raise UserError(f"claim {entry['claim']!r}: unknown key {key!r}; valid: {', '.join(KEYS)}")
        if claim_metric(entry, metric) is None:
            raise UserError(f"claim {entry['claim']!r} names no metric: give it metric = \"KEY\" (e.g. "
                            f"\"beta_vae.eval_accuracy\") or the preset a [paper] metric")
        if entry["kind"] not in KINDS:
            raise UserError(f"claim {entry['claim']!r}: unknown kind {entry['kind']!r}; valid: {', '.join(KINDS)}")
        if entry["kind"] == "near" and not entry.get("margin", 0) > 0:
            raise UserError(f"claim {entry['claim']!r}: a 'near' claim needs a positive margin")
        primary = entry.get("primary_steps")
        if primary is not None and (isinstance(primary, bool) or not isinstance(primary, int) or primary < 1):
            raise UserError(f"claim {entry['claim']!r}: primary_steps must be a positive number of steps "
                            f"(the budget that decides the claim, e.g. 31250), not {primary!r}")
        if "added_after_data" in entry:
            added_after_data(entry)


def added_after_data(entry: dict) -> str | None:
    """The date (YYYY-MM-DD) a claim written after its numbers were seen was added, or None."""
    value = entry.get("added_after_data")
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise UserError(f"claim {entry['claim']!r}: added_after_data must be the date the claim was added "
                        f"(e.g. 2026-12-07), not {value!r}") from None


def claim_metric(entry: dict, metric: str | None) -> str | None:
    """The metric key a claim is tested on: its own `metric`, else the preset's."""
    return entry.get("metric", metric)


def claim_row(values: pd.DataFrame, entry: dict, confidence: float = CONFIDENCE) -> dict:
    """One claim (COLUMNS) on long-format scores of its metric: the first row's values against the
    second's, a "near" claim's interval at `confidence`; as one test (rule ONE_TEST), its adjusted p
    is its p. A row is one configuration: a method run in several (a grid, or runs kept apart by
    budget or precision: bench/running/replicas.py) is not tested, and the verdict says so."""
    runs = {side: values[values["method"] == entry[side]] for side in ("first", "second")}
    configurations = {side: side_runs["params"].nunique() for side, side_runs in runs.items()}
    pooled = [f"{entry[side]} has {count} configurations" for side, count in configurations.items() if count > 1]
    first, second = (runs[side]["value"].to_numpy(dtype=float) for side in ("first", "second"))
    row = {"claim": entry["claim"], "rows": f"{entry['first']} vs {entry['second']}",
           "n": f"{len(first)} vs {len(second)}",
           "rule": declared_rule(entry, confidence)}
    if pooled:
        row.update(statistic="", p_value=math.nan, effect_size=math.nan,
                   verdict=f"{INCONCLUSIVE} ({'; '.join(pooled)}: one each, or one results folder per configuration)")
    elif len(first) == 0 or len(second) == 0:
        row.update(statistic="", p_value=math.nan, effect_size=math.nan, verdict=f"{INCONCLUSIVE} (no runs)")
    elif entry["kind"] == "greater":
        row.update(greater_claim(first, second))
    else:
        row.update(near_claim(first, second, float(entry["margin"]), confidence))
    return {**row, "p_adjusted": row["p_value"]}


def declared_rule(entry: dict, confidence: float) -> str:
    """The rule a claim is decided by before its budgets are known: its primary budget where it
    names one, else one test (a "near" claim: its interval)."""
    if "primary_steps" in entry:
        return primary_rule(entry["primary_steps"])
    return ONE_TEST if entry["kind"] == "greater" else interval(confidence)


def primary_rule(primary: int) -> str:
    return f"primary budget (step {primary})"


def interval(confidence: float) -> str:
    return f"{percent(confidence)} interval"


def percent(fraction: float) -> str:
    """0.95 -> "95%", 1 - 0.05 / 6 -> "99.17%"."""
    return f"{fraction * 100:.2f}".rstrip("0").rstrip(".") + "%"


def test_claims(scores: pd.DataFrame, claims: list[dict], metric: str | None = None) -> pd.DataFrame:
    """One row per claim (COLUMNS) from the healthy runs' values of its metric (claim_metric) in
    long-format scores."""
    check(claims, metric)
    return pd.DataFrame([claim_row(scores[scores["metric"] == claim_metric(entry, metric)], entry) for entry in claims],
                        columns=COLUMNS)


def claims_by_budget(curves: pd.DataFrame, claims: list[dict], metric: str | None = None) -> pd.DataFrame:
    """Each claim (BUDGET_COLUMNS) at every step that both its rows were scored at, in order of
    step, from long-format scores with `step` and `images` columns (bench/reporting/curves.py);
    a claim's budgets are one family, decided by its rule (`decided`)."""
    check(claims, metric)
    rows = []
    for entry in claims:
        key = claim_metric(entry, metric)
        values = curves[curves["metric"] == key]
        first, second = (values[values["method"] == entry[row]] for row in ("first", "second"))
        steps = sorted(set(first["step"]) & set(second["step"]))
        confidence = CONFIDENCE if "primary_steps" in entry else 1 - (1 - CONFIDENCE) / max(len(steps), 1)
        family = [{**claim_row(values[values["step"] == step], entry, confidence), "metric": key, "step": step,
                   "images": int(first[first["step"] == step]["images"].iloc[0])} for step in steps]
        rows += decided(family, entry)
    return pd.DataFrame(rows, columns=BUDGET_COLUMNS)


def decided(family: list[dict], entry: dict) -> list[dict]:
    """One claim's rows at its budgets, one family: each gets p_holm, the Holm-adjusted p over the
    family's budgets, and the verdict of the claim's rule. With a primary budget
    (`primary_steps`), that budget's raw p alone decides and the others are exploratory; otherwise
    a "greater" claim is supported at a budget where its Holm-adjusted p < ALPHA and contradicted
    where the reverse test's is (Holm over the reverse p's), and a "near" claim's intervals are
    Bonferroni-widened to the family (claims_by_budget)."""
    adjusted = holm([row["p_value"] for row in family])
    reverse = holm([row.get("p_reverse", math.nan) for row in family])
    primary = entry.get("primary_steps")
    for row, p_holm, p_reverse in zip(family, adjusted, reverse):
        row["p_holm"] = p_holm
        if primary is not None:
            row["rule"] = primary_rule(primary)
            if row["step"] != primary:
                row["verdict"] = f"exploratory (step {primary} decides)"
        elif entry["kind"] == "near":
            row["rule"] += f", Bonferroni over {len(family)} budgets" if len(family) > 1 else ""
        elif len(family) > 1:
            row["rule"] = f"Holm over {len(family)} budgets"
            if not math.isnan(p_holm):
                row["verdict"] = greater_verdict(p_holm, p_reverse)
    return family


def family_decisions(table: pd.DataFrame, by_budget: pd.DataFrame, claims: list[dict],
                     metric: str | None = None) -> pd.DataFrame:
    """The claims table (COLUMNS, the last step; one row per claim of `claims`, in their order, as
    test_claims makes it) with each claim that was tested at several budgets decided by its family
    (claims_by_budget) at the last budget it was scored at: its statistic (a "near" claim's widened
    interval), adjusted p (decisive_p), rule and verdict."""
    table = table.copy()
    for index, entry in zip(table.index, claims, strict=True):
        family = by_budget[(by_budget["claim"] == entry["claim"])
                           & (by_budget["metric"] == claim_metric(entry, metric))]
        if family.empty:
            continue
        last = family.iloc[-1]
        table.loc[index, "p_adjusted"] = decisive_p(entry, last)
        table.loc[index, ["statistic", "rule", "verdict"]] = [last["statistic"], last["rule"], last["verdict"]]
    return table


def decisive_p(entry: dict, row: pd.Series) -> float:
    """The p that a claim's rule decides by at one of its budgets (a claims_by_budget row): with a
    primary budget (`primary_steps`), its raw p there and none at the other, exploratory budgets;
    otherwise Holm's over the family (a family of one: its own p)."""
    primary = entry.get("primary_steps")
    if primary is None:
        return row["p_holm"]
    return row["p_value"] if row["step"] == primary else math.nan


def holding_from(by_budget: pd.DataFrame, claims: list[dict], metric: str | None = None) -> list[str]:
    """One line per claim, from its claims_by_budget rows: the smallest budget from which it is
    supported there and at every later budget scored, or that it never is."""
    lines = []
    for entry in claims:
        key = claim_metric(entry, metric)
        rows = by_budget[(by_budget["claim"] == entry["claim"]) & (by_budget["metric"] == key)]
        if "primary_steps" in entry:
            lines.append(primary_line(entry, key, rows))
            continue
        if rows.empty:
            lines.append(f"{entry['claim']} ({key}): never within the steps scored (no step has runs of both rows)")
            continue
        supported = list(rows["verdict"] == SUPPORTED)
        since = len(rows)                                  # the first budget of the last supported stretch
        while since > 0 and supported[since - 1]:
            since -= 1
        scored = (f"{len(rows)} budget{'s' * (len(rows) > 1)} scored, {rows['images'].iloc[0]:,} to "
                  f"{rows['images'].iloc[-1]:,} images; {rows['rule'].iloc[0]}")
        if since == len(rows):
            lines.append(f"{entry['claim']} ({key}): never within the steps scored ({scored})")
        else:
            lines.append(f"{entry['claim']} ({key}): supported from {rows['images'].iloc[since]:,} images "
                         f"(step {rows['step'].iloc[since]:,}) on, at every later budget ({scored})")
    return lines


def primary_line(entry: dict, key: str, rows: pd.DataFrame) -> str:
    """A claim with a primary budget: that budget's verdict, or that it is not scored yet."""
    primary = entry["primary_steps"]
    at = rows[rows["step"] == primary]
    if at.empty:
        return f"{entry['claim']} ({key}): undecided: its primary budget, step {primary:,}, is not scored yet"
    row = at.iloc[0]
    p_text = "" if pd.isna(row["p_value"]) else f", raw p = {row['p_value']:.4f}"
    return (f"{entry['claim']} ({key}): {row['verdict']} at its primary budget, {row['images']:,} images "
            f"(step {primary:,}{p_text}); the other budgets are exploratory")
