"""The methods of a results folder compared at its last budget (issue 34): method_comparison.csv and
.md, and two figures (bench/reporting/figures/methods_compared.py), for a folder with MIN_METHODS methods or
more (counting those its preset runs that have not landed). Per headline key (metrics.headline_keys),
over the healthy runs at each run's last step (store.final_scores), higher read as better:

- Kruskal-Wallis H across the configurations (scipy.stats.kruskal): does any differ? The keys are
  one family of looks at the methods: Holm over the headline keys (p_holm) decides;
- every ordered pair (A, B): one-sided Mann-Whitney U of "A scores above B" (statistics.greater_test),
  Holm over the metric's k (k - 1) ordered pairs (statistics.holm): a pair passes where p_holm < ALPHA
  and the metric's Kruskal-Wallis passes (Holm over the keys); passing Holm over the pairs alone, on
  a metric whose Kruskal-Wallis does not, it is exploratory;
- eta^2 of a one-way ANOVA on the configuration: SS_between / SS_total, the share of the runs'
  variance that the method explains; the rest lies between the seeds of one method. With k methods
  and N runs it is (k - 1) / (N - 1) on average where the methods do not differ at all
  (`eta2_no_effect`), so only a share well above that says the method matters more than the seed;
- each configuration's mean rank among all runs (1 = the highest score);
- Spearman's rank correlation of every pair of headline keys over the runs (the runs scored on both).
Reads only scores.csv, spec.json and the folder's preset (the methods it runs); never retrains."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kruskal, rankdata

from bench.reporting.claims import ALPHA
from bench.reporting.health import healthy_scores
from bench.reporting.preset import preset_methods, preset_of
from bench.reporting.report import labelled, markdown
from bench.reporting.statistics import greater_test, holm
from bench.running.run_folder import readable_specs
from metrics import headline_keys

MIN_METHODS = 3
CSV, MD = "method_comparison.csv", "method_comparison.md"
COLUMNS = ["metric", "test", "first", "second", "n", "statistic", "p_value", "p_holm", "effect_size", "eta2",
           "eta2_no_effect", "verdict"]
KRUSKAL, MANN_WHITNEY = "kruskal_wallis", "mann_whitney_greater"
PASSES = "first above second"
EXPLORATORY = "first above second by Holm over the pairs, exploratory: the metric's Kruskal-Wallis does not pass"


def expected_methods(results_dir: Path, scores: pd.DataFrame) -> list[str]:
    """The methods the folder holds runs of, and those its preset runs that have none yet."""
    preset = preset_of(results_dir)
    listed = preset_methods(preset) if preset else []
    return list(dict.fromkeys([*listed, *scores["method"]]))


def values_by_run(scores: pd.DataFrame, specs: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """The healthy runs' headline values, one row per run (columns: the headline keys) with its
    configuration's label in `configuration`, and the labels in reading order: label -> (method, params)."""
    healthy = healthy_scores(scores)
    healthy = healthy[~healthy["metric"].str.startswith("health.")].assign(params=lambda f: f["params"].fillna(""))
    keys = headline_keys(healthy["metric"])
    pairs, names = labelled(healthy, specs)              # table.md's labels, distinct per configuration
    wide = (healthy[healthy["metric"].isin(keys)]
            .pivot_table(index=["run_id", "method", "params"], columns="metric", values="value", aggfunc="first")
            .reindex(columns=keys).reset_index())
    wide.insert(0, "configuration", [names[pair] for pair in zip(wide["method"], wide["params"])])
    order = {names[pair]: pair for pair in pairs}
    wide["configuration"] = pd.Categorical(wide["configuration"], categories=list(order), ordered=True)
    return wide.sort_values(["configuration", "run_id"]).reset_index(drop=True), order


def eta_squared(groups: list[np.ndarray]) -> float:
    """One-way ANOVA's eta^2 = SS_between / SS_total (NaN when every value is the same)."""
    values = np.concatenate(groups)
    total = ((values - values.mean()) ** 2).sum()
    between = sum(len(g) * (g.mean() - values.mean()) ** 2 for g in groups)
    return float(between / total) if total > 0 else math.nan


def kruskal_row(key: str, groups: dict[str, np.ndarray]) -> dict:
    """Kruskal-Wallis across the configurations with runs, with eta^2 and its no-effect mean."""
    present = [g for g in groups.values() if len(g)]
    total = sum(len(g) for g in present)
    row = {"metric": key, "test": KRUSKAL, "first": "all", "second": "", "n": " / ".join(str(len(g)) for g in present),
           "eta2": eta_squared(present) if present else math.nan,
           "eta2_no_effect": (len(present) - 1) / (total - 1) if total > 1 else math.nan}
    if len(present) < 2 or len(np.unique(np.concatenate(present))) < 2:
        return {**row, "statistic": "", "p_value": math.nan,
                "verdict": "not tested (fewer than 2 methods or one value)"}
    statistic, p_value = kruskal(*present)
    return {**row, "statistic": f"H = {statistic:.2f}", "p_value": float(p_value)}


def pair_rows(key: str, groups: dict[str, np.ndarray]) -> list[dict]:
    """Every ordered pair: one-sided Mann-Whitney of first > second, Holm over the metric's pairs."""
    rows = []
    for first, a in groups.items():
        for second, b in groups.items():
            if first == second or not len(a) or not len(b):
                continue
            u, p_value, effect = greater_test(a, b)
            rows.append({"metric": key, "test": MANN_WHITNEY, "first": first, "second": second,
                         "n": f"{len(a)} vs {len(b)}", "statistic": f"U = {u:g}", "p_value": p_value,
                         "effect_size": effect})
    for row, adjusted in zip(rows, holm([row["p_value"] for row in rows])):
        row["p_holm"] = adjusted
        row["verdict"] = PASSES if adjusted < ALPHA else "not shown"
    return rows


def compare(wide: pd.DataFrame, order: dict) -> pd.DataFrame:
    """Every test of every headline key (COLUMNS), from values_by_run."""
    across, pairs = [], []
    for key in [c for c in wide.columns if c not in ("configuration", "run_id", "method", "params")]:
        groups = {name: wide.loc[wide["configuration"] == name, key].dropna().to_numpy(dtype=float) for name in order}
        across.append(kruskal_row(key, groups))
        pairs += pair_rows(key, groups)
    for row, adjusted in zip(across, holm([row["p_value"] for row in across])):
        row["p_holm"] = adjusted
        if not math.isnan(adjusted):
            row["verdict"] = (f"the methods differ (Holm p < {ALPHA})" if adjusted < ALPHA else
                              f"raw p < {ALPHA} only" if row["p_value"] < ALPHA else "no difference shown")
    differ = {row["metric"] for row in across if row["p_holm"] < ALPHA}
    for row in pairs:
        if row["verdict"] == PASSES and row["metric"] not in differ:
            row["verdict"] = EXPLORATORY
    return pd.DataFrame([*across, *pairs], columns=COLUMNS)


def mean_ranks(wide: pd.DataFrame, order: dict) -> pd.DataFrame:
    """Configuration x headline key: the mean rank of its runs among all runs scored on the key (1 =
    the highest; ties share the mean of their ranks)."""
    keys = [c for c in wide.columns if c not in ("configuration", "run_id", "method", "params")]
    ranks = {}
    for key in keys:
        scored = wide.dropna(subset=[key])
        ranked = pd.Series(rankdata(-scored[key].to_numpy(dtype=float)), index=scored.index)
        ranks[key] = ranked.groupby(scored["configuration"], observed=False).mean()
    return pd.DataFrame(ranks).reindex(list(order))


def rank_correlation(wide: pd.DataFrame) -> pd.DataFrame:
    """Spearman's rho of every pair of headline keys over the runs scored on both."""
    keys = [c for c in wide.columns if c not in ("configuration", "run_id", "method", "params")]
    return wide[keys].astype(float).corr(method="spearman")


def smallest_pair_p(counts: list[int]) -> float:
    """The smallest one-sided Mann-Whitney p two of these group sizes allow: 1 / C(n1 + n2, n1)."""
    big = sorted(counts)[-2:]
    return 1 / math.comb(sum(big), big[0]) if len(big) == 2 else math.nan


def summary_lines(wide: pd.DataFrame, order: dict, expected: list[str]) -> list[str]:
    """The sentences above the tables: which methods, how many seeds, what the tests can show."""
    found = [method for method in expected if method in set(wide["method"])]
    missing = [method for method in expected if method not in found]
    counts = [int((wide["configuration"] == name).sum()) for name in order]
    lines = [f"{len(found)} of {len(expected)} methods ({len(order)} configurations, {len(wide)} healthy runs, "
             f"{min(counts, default=0)}-{max(counts, default=0)} a configuration), each run at its last step"
             + (f"; missing: {', '.join(missing)} (no runs yet: every test below is over the methods found only)"
                if missing else "") + "."]
    floor = smallest_pair_p(counts)
    if not math.isnan(floor):
        pairs = len(order) * (len(order) - 1)
        lines.append(f"With these seeds the smallest one-sided Mann-Whitney p of a pair is {floor:.3f} (exact, without "
                     f"ties); Holm multiplies the smallest of a metric's {pairs} ordered pairs by {pairs}"
                     + (", so no pair can pass." if floor * pairs >= ALPHA else "."))
    return lines


def markdown_text(tests: pd.DataFrame, ranks: pd.DataFrame, correlation: pd.DataFrame, lines: list[str]) -> str:
    kw = tests[tests["test"] == KRUSKAL]
    across = pd.DataFrame({"metric": kw["metric"], "n per configuration": kw["n"], "Kruskal-Wallis": kw["statistic"],
                           "p": kw["p_value"].map(number), "Holm p": kw["p_holm"].map(number),
                           "eta^2 (method)": kw["eta2"].map(number),
                           "eta^2 if methods alike": kw["eta2_no_effect"].map(number), "verdict": kw["verdict"]})
    passing = tests[(tests["test"] == MANN_WHITNEY) & (tests["p_holm"] < ALPHA)]
    pairs = "\n".join(f"- {row.metric}: {row.first} above {row.second} ({row.statistic}, p = {row.p_value:.4f}, "
                      f"Holm {row.p_holm:.4f})" + (" - exploratory: this metric's Kruskal-Wallis does not pass"
                                                   if row.verdict == EXPLORATORY else "")
                      for row in passing.itertuples()) or "- none"
    shown_ranks = ranks.map(lambda value: number(value, 1)).reset_index(names="configuration")
    shown_correlation = correlation.map(lambda value: number(value, 2)).reset_index(names="metric")
    return ("\n\n".join(lines) + "\n\n"
            "Across the methods, per headline key (healthy runs; higher read as better). Kruskal-Wallis: do any "
            f"differ, at alpha {ALPHA}, decided by Holm over the headline keys (Holm p). eta^2: the share of the "
            "runs' variance the method explains (one-way ANOVA, "
            "SS_between / SS_total); the rest lies between the seeds of one method; `if methods alike` is its "
            "mean when they do not differ, (k - 1) / (N - 1).\n\n" + markdown(across) +
            "\nPairs where one method scores above another (one-sided Mann-Whitney U, Holm over each metric's "
            f"ordered pairs, p_holm < {ALPHA}; a finding only where the metric's Kruskal-Wallis passes by Holm over "
            f"the keys, else exploratory; every pair with its raw and Holm p: {CSV}):\n\n" + pairs + "\n\n"
            "Mean rank of each configuration's runs among all runs, per headline key (1 = the highest):\n\n"
            + markdown(shown_ranks) +
            "\nSpearman's rank correlation of the headline keys over the runs (metric_correlation.png):\n\n"
            + markdown(shown_correlation))


def number(value, digits: int = 4) -> str:
    return "" if pd.isna(value) else f"{value:.{digits}f}"


def write(results_dir: Path, scores: pd.DataFrame, plots: bool = True) -> list[Path]:
    """method_comparison.csv and .md, and with `plots` method_seeds.png and metric_correlation.png,
    for a folder of MIN_METHODS methods or more (expected_methods); [] for fewer."""
    results_dir = Path(results_dir)
    expected = expected_methods(results_dir, scores)
    if len(expected) < MIN_METHODS:
        return []
    wide, order = values_by_run(scores, readable_specs(results_dir))
    tests, ranks, correlation = compare(wide, order), mean_ranks(wide, order), rank_correlation(wide)
    csv_path, md_path = results_dir / CSV, results_dir / MD
    tests.to_csv(csv_path, index=False)
    md_path.write_text(markdown_text(tests, ranks, correlation, summary_lines(wide, order, expected)))
    if not plots:
        return [csv_path, md_path]
    from bench.reporting.figures import methods_compared as method_figures  # matplotlib is loaded only when plotting
    return [csv_path, md_path, method_figures.seeds_and_ranks(wide, ranks, tests, results_dir),
            method_figures.correlation_heatmap(correlation, results_dir)]
