"""`bench reproduce NAME`: run a paper's preset (bench/presets/NAME.toml) and set the paper's
numbers beside ours, with ours minus the paper's and the rank agreement (Spearman) of the two."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr

import metrics
from bench.defaults import QUICK_STEPS
from bench.errors import UserError, unknown
from bench.reporting import claims, report, statistics
from bench.reporting.curves import along_training
from bench.reporting.health import healthy_scores, unhealthy_run_ids
from bench.reporting.preset import PRESET_FILE, preset_path, preset_table
from bench.running import config as sweep_config
from bench.running.score_schedule import LOG

CPU_BUDGET = "cpu"


def budgets(name: str) -> list[str]:
    """The preset's training budgets: "cpu" (its top-level steps) and those of its [budgets.NAME]."""
    return [CPU_BUDGET, *preset_table(name, "budgets")]


def load(name: str, flags: dict, quick: bool, budget: str = "cpu") -> tuple[sweep_config.SweepConfig, dict]:
    """The preset's sweep with the flags over it, and its [paper] table.

    `budget`: "cpu" is the preset's own steps; another of its [budgets.NAME] tables replaces the
    steps and per-method steps, and the results go to results/NAME-BUDGET unless --out says where.
    --quick keeps every row but trains QUICK_STEPS steps (unless --steps says otherwise) and uses
    the metrics' quick sample sizes; --steps sets every method's steps, the preset's
    per-method steps included, and its score schedule (written for its own budget) becomes "log":
    6 steps each twice the one before, ending at the new budget (bench/running/score_schedule.py).
    The preset's claims are checked here, before anything trains.
    """
    path = preset_path(name)
    paper = preset_table(name, "paper")
    claims.check(preset_table(name, "claims"), paper.get("metric"))
    values = sweep_config.read_file(path, reserved=("paper", "protocols", "claims", "budgets"))
    if budget not in budgets(name):
        raise unknown(f"budget of preset {name}", budget, budgets(name))
    if budget != CPU_BUDGET:
        values.pop("method_steps", None)
        values.update(preset_table(name, "budgets")[budget])
        values.setdefault("out", str(Path("results") / f"{name}-{budget}"))
    if quick:
        values["metric_params"] = {}
        flags = {**flags, "quick": True, "steps": QUICK_STEPS if flags.get("steps") is None else flags["steps"]}
    if flags.get("steps") is not None:
        values.pop("method_steps", None)
        if "score_at" in values:
            values["score_at"] = LOG
    values.setdefault("out", str(Path("results") / name))
    given = sweep_config.read_flags(flags)
    return sweep_config.combine(values, given, (), str(path)), paper


def comparison(scores: pd.DataFrame, paper: dict) -> pd.DataFrame:
    """One row per paper row over its healthy replicas (in %): n, median, mean ± std, the 95%
    bootstrap interval of the mean, the paper's top-half selection (bench/reporting/statistics.py), the
    paper's value, median minus paper, and how many unhealthy runs were left out."""
    metric = paper["metric"]
    unhealthy = unhealthy_run_ids(scores)
    rows = []
    for row in paper["rows"]:
        runs = scores[(scores["method"] == row["method"]) & (scores["metric"] == metric)]
        ours = runs[~runs["run_id"].isin(unhealthy)]["value"].to_numpy(dtype=float) * 100
        stats = statistics.replica_summary(ours)
        found = len(ours) > 0
        rows.append({"representation": row["label"], "method": row["method"], "n": stats["n"],
                     "median (%)": f"{stats['median']:.2f}" if found else "missing",
                     "mean ± std (%)": f"{stats['mean']:.2f} ± {stats['std']:.2f}" if found else "missing",
                     "95% CI (%)": f"[{stats['ci_low']:.2f}, {stats['ci_high']:.2f}]" if found else "",
                     "top half (%)": f"{stats['top_half']:.2f}" if found else "",
                     "paper (%)": f"{row['score']:.2f}" + (f" ± {row['std']}" if "std" in row else ""),
                     "median - paper": round(stats["median"] - row["score"], 2) if found else float("nan"),
                     "unhealthy": int(runs["run_id"].isin(unhealthy).sum()),
                     "_ours": stats["median"] if found else float("nan"), "_paper": row["score"]})
    return pd.DataFrame(rows)


def rank_agreement(table: pd.DataFrame) -> float:
    """Spearman's rho between our medians and the paper's column, over the rows both have."""
    both = table.dropna(subset=["_ours"])
    if len(both) < 3:
        return float("nan")
    return float(spearmanr(both["_ours"], both["_paper"]).statistic)


def write(results_dir: Path, scores: pd.DataFrame, paper: dict, preset: str) -> tuple[list[Path], pd.DataFrame, float]:
    """comparison.csv and the table.md of the report with the paper's column added, and the
    preset's claims tested (claims.csv, claims.md; by budget where the runs were scored along
    training); PRESET_FILE names the preset, so that `bench report` on the folder keeps the
    paper's column."""
    results_dir = Path(results_dir)
    (results_dir / PRESET_FILE).write_text(preset + "\n")
    listed = preset_table(preset, "claims")
    if not paper.get("rows"):                  # a sweep preset (e.g. higgins2017_beta): no paper column
        return ([*report.write_tables(results_dir, scores), *write_claims(results_dir, scores, listed, paper.get("metric"))],
                pd.DataFrame(), float("nan"))
    table = comparison(scores, paper)
    rho = rank_agreement(table)
    shown = table.drop(columns=["_ours", "_paper"])
    csv_path = results_dir / "comparison.csv"
    shown.assign(spearman_rho=rho).to_csv(csv_path, index=False)
    paths = report.write_tables(results_dir, scores, extra=shown)
    with open(results_dir / "table.md", "a") as handle:
        handle.write(f"\nMetric: {paper['metric']}, over each row's healthy replicas (n). 95% CI: percentile "
                     f"bootstrap interval of the mean. Top half: the mean of the best half of the replicas, the "
                     f"paper's model selection (docs/reproduction.md). Rank agreement with the paper (Spearman's "
                     f"rho of our medians over {table['_ours'].notna().sum()} rows): {rho:.2f}. "
                     f"Training steps (batch 64): {training_steps(scores)}.\n")
    return [csv_path, *paths, *write_claims(results_dir, scores, listed, paper["metric"])], shown, rho


def training_steps(scores: pd.DataFrame) -> str:
    """The budget the rows were trained with, e.g. "vae 8000, infogan 4000" (trained rows only)."""
    trained = scores[scores["steps"] > 0].groupby("method", sort=False)["steps"].unique()
    return ", ".join(f"{method} {'/'.join(str(s) for s in sorted(steps))}" for method, steps in trained.items()) or "none"


def write_claims(results_dir: Path, scores: pd.DataFrame, listed: list, metric: str | None) -> list[Path]:
    """claims.csv and claims.md: the preset's [[claims]] tested on the healthy runs (bench/reporting/claims.py),
    each on its own metric or `metric`; claims_by_budget.csv and .md where the runs were scored
    along training, and then each claim tested at several budgets is decided by its family's rule
    in claims.csv too (claims.family_decisions)."""
    if not listed:
        return []
    table = claims.test_claims(healthy_scores(scores), listed, metric)
    csv_path, md_path = Path(results_dir) / "claims.csv", Path(results_dir) / "claims.md"
    used = ", ".join(dict.fromkeys(claims.claim_metric(entry, metric) for entry in listed))
    curves = along_training(results_dir)
    by_budget = claims.claims_by_budget(curves, listed, metric) if not curves.empty else None
    if by_budget is not None:
        table = claims.family_decisions(table, by_budget, listed, metric)
    table.to_csv(csv_path, index=False)
    md_path.write_text(report.markdown(readable_claims(table, listed)) + f"\nMetric: {used}; healthy runs only. "
                       f"{TESTS}{added_after_data_note(listed)}\n")
    if by_budget is None:
        return [csv_path, md_path]
    budget_csv, budget_md = Path(results_dir) / "claims_by_budget.csv", Path(results_dir) / "claims_by_budget.md"
    by_budget.to_csv(budget_csv, index=False)
    holding = "\n".join(f"- {line}" for line in claims.holding_from(by_budget, listed, metric))
    budget_md.write_text(f"Each claim at every training budget that both its rows were scored at (images: steps x "
                         f"batch size); healthy runs only. {TESTS}\n\n"
                         f"{report.markdown(readable_claims(by_budget, listed))}\n"
                         f"From which budget on each claim holds at every later one:\n\n{holding}\n")
    return [csv_path, md_path, budget_csv, budget_md]


TESTS = (f"greater: one-sided Mann-Whitney U at alpha {claims.ALPHA} (effect size: the probability that a replica "
         f"of the first row beats one of the second); near: 95% bootstrap interval of the difference of means "
         f"against the margin. Which rule decides each verdict (`rule`): one test, its raw p; a claim tested at "
         f"several budgets is one family, decided by Holm's adjustment over its budgets (p_holm; a near claim's "
         f"interval widened to 1 - 0.05 / budgets, Bonferroni), unless the preset names its primary budget "
         f"(primary_steps), whose raw p alone decides it (docs/reproduction.md, \"Many looks\").")


def added_after_data_note(listed: list) -> str:
    """A sentence naming the claims written after their numbers were seen, or ""."""
    late = [f"{entry['claim']} ({claims.added_after_data(entry)})"
            for entry in listed if claims.added_after_data(entry)]
    return (f" Claims marked [added after data] were written after their numbers were seen, so their tests are "
            f"exploratory: {'; '.join(late)}." if late else "")


def readable_claims(table: pd.DataFrame, listed: list) -> pd.DataFrame:
    """A claims table with p-values to 4 decimals and effect sizes to 3 (blank where there is none),
    and each claim written after its numbers were seen marked [added after data]."""
    late = {entry["claim"] for entry in listed if claims.added_after_data(entry)}
    four = {column: table[column].map(lambda p: "" if pd.isna(p) else f"{p:.4f}")
            for column in ("p_value", "p_adjusted", "p_holm") if column in table}
    return table.assign(**four, claim=table["claim"].map(lambda c: f"{c} [added after data]" if c in late else c),
                        effect_size=table["effect_size"].map(lambda e: "" if pd.isna(e) else f"{e:.3f}"))


def protocol_variants(name: str, config: sweep_config.SweepConfig, paper: dict) -> tuple[str, dict]:
    """(metric, label -> its parameters): the preset's [protocols], each over the preset's own
    [metric_params] for the paper's metric. Under --quick the metric's quick sample sizes win."""
    metric = paper["metric"].partition(".")[0]
    listed = preset_table(name, "protocols")
    if not listed:
        raise UserError(f"preset {name} lists no [protocols] to rescore its runs under")
    quick_sizes = metrics.metric(metric).quick if config.quick else {}
    base = config.metric_params.get(metric, {})
    variants = {}
    for label, params in listed.items():
        merged = {**base, **params}
        variants[label] = {key: value for key, value in merged.items() if key not in quick_sizes}
        for key in variants[label]:
            if key not in metrics.metric_params(metric):
                raise unknown(f"parameter of metric {metric} in [protocols] {label!r}", key,
                              metrics.metric_params(metric))
    return metric, variants


def check_rows(config: sweep_config.SweepConfig, paper: dict) -> None:
    missing = [row["method"] for row in paper.get("rows", []) if row["method"] not in config.methods]
    if missing:
        raise UserError(f"the preset's [paper] rows name methods it does not run: {', '.join(missing)}")
