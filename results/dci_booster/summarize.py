"""The tables of docs/metrics.md ("DCI's boosters") from compare.py's CSV: per model, how far the
hist booster and the exact booster at 25 stages (the --quick preset's) land from the exact
metric (same samples, the metric's own boosting seeds), beside the exact metric's spread over
boosting seeds (|seed 1 - seed 0|, same samples); then the fits' CPU seconds and the per-factor
critical path.

    python results/dci_booster/summarize.py results/dci_booster/fits.csv > results/dci_booster/summary.md
"""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd

KEYS = {"disentanglement": "D", "completeness": "C", "informativeness_test": "I test"}


def per_model(fits: pd.DataFrame) -> pd.DataFrame:
    """One row per run: the exact values and each difference (signed: other - exact)."""
    wide = fits.set_index(["run", "fit"])
    rows = []
    for run, group in fits.groupby("run", sort=False):
        exact = wide.loc[(run, "exact")]
        row = {"run": run, "method": group["method"].iloc[0]}
        for key, short in KEYS.items():
            row[f"exact {short}"] = exact[key]
            row[f"seed spread {short}"] = abs(wide.loc[(run, "exact_seed1"), key] - exact[key])
            row[f"hist - exact {short}"] = wide.loc[(run, "hist"), key] - exact[key]
            row[f"25 stages - exact {short}"] = wide.loc[(run, "exact_25"), key] - exact[key]
        rows.append(row)
    return pd.DataFrame(rows)


def overall(table: pd.DataFrame) -> pd.DataFrame:
    """Per score: median and largest |difference| of hist, of 25 stages, and the seed spread;
    how many models have hist inside their own seed spread."""
    rows = []
    for short in KEYS.values():
        hist, fewer = table[f"hist - exact {short}"].abs(), table[f"25 stages - exact {short}"].abs()
        spread = table[f"seed spread {short}"]
        rows.append({"score": short,
                     "seed spread median / max": f"{spread.median():.4f} / {spread.max():.4f}",
                     "abs(hist - exact) median / max": f"{hist.median():.4f} / {hist.max():.4f}",
                     "hist - exact mean": f"{table[f'hist - exact {short}'].mean():+.4f}",
                     "models with abs(hist - exact) <= their seed spread": f"{int((hist <= spread).sum())} of {len(table)}",
                     "abs(25 stages - exact) median / max": f"{fewer.median():.4f} / {fewer.max():.4f}",
                     "models' rank correlation with exact: hist / 25 stages":
                         f"{spearman(table, short, 'hist'):.3f} / {spearman(table, short, '25 stages'):.3f}"})
    return pd.DataFrame(rows)


def spearman(table: pd.DataFrame, short: str, other: str) -> float:
    """Spearman's rho between the models' exact values of one score and `other`'s ("hist",
    "25 stages"): whether it ranks the models as the exact metric does."""
    exact = table[f"exact {short}"]
    return float(exact.rank().corr((exact + table[f"{other} - exact {short}"]).rank()))


def timings(fits: pd.DataFrame) -> pd.DataFrame:
    """Per fit kind: median CPU seconds of a DCI, and the slowest factor's share of it (the
    critical path when every factor has its own core)."""
    rows = []
    for name, group in fits.groupby("fit", sort=False):
        factor = group["factor_cpu_s"].str.split(";").apply(lambda parts: np.array(parts, dtype=float))
        share = factor.apply(lambda seconds: seconds.max() / seconds.sum())
        rows.append({"fit": name, "stages": int(group["n_estimators"].iloc[0]),
                     "CPU s per DCI (median)": f"{group['cpu_s'].median():.1f}",
                     "slowest factor's share (median)": f"{share.median():.3f}",
                     "bound on the speed-up, one core per factor": f"{1 / share.median():.2f}x"})
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame) -> str:
    cells = [[f"{value:+.4f}" if isinstance(value, float) and "-" in column else
              f"{value:.4f}" if isinstance(value, float) else str(value) for column, value in row.items()]
             for row in frame.to_dict("records")]
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + " --- |" * len(frame.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells]) + "\n"


def main(path: str) -> int:
    fits = pd.read_csv(path)
    table = per_model(fits)
    print(f"DCI at {path}: {len(table)} models, each on the same samples with every fit.\n")
    print("## Overall\n")
    print(markdown(overall(table)))
    print("## Per model (signed differences: other - exact; seed spread: |exact seed 1 - exact seed 0|)\n")
    print(markdown(table))
    print("## CPU time (one thread, one factor after the other)\n")
    print(markdown(timings(fits)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
