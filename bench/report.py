"""Tables from scores.csv: method x metric, mean ± std over seeds (DESIGN.md, "Results")."""
from __future__ import annotations

import pandas as pd


def summary(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, params), one column per metric key: mean, std and seed count."""
    grouped = scores.groupby(["method", "params", "metric"], sort=False)["value"]
    table = grouped.agg(["mean", "std", "count"]).reset_index()
    table["std"] = table["std"].fillna(0.0)
    return table


def formatted(table: pd.DataFrame) -> pd.DataFrame:
    """The summary as text cells "mean ± std (n)", methods as rows and metric keys as columns."""
    cells = table.assign(cell=[f"{m:.3f} ± {s:.3f} (n={n})" for m, s, n in
                               zip(table["mean"], table["std"], table["count"])])
    cells["run"] = [m if p in ("{}", "") else f"{m} {p}" for m, p in zip(cells["method"], cells["params"])]
    wide = cells.pivot(index="run", columns="metric", values="cell")
    order = list(dict.fromkeys(cells["run"]))
    return wide.loc[order].rename_axis(index=None, columns=None)
