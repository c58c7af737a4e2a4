"""Tables from a results folder: method x metric, mean ± std over seeds (docs/design.md, "Results").

Reads only scores.csv and the run folders; never retrains.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from bench.errors import UserError
from bench.reporting import labels
from bench.reporting.health import unhealthy_run_ids
from bench.running.run_folder import FAILED, readable_specs, run_folders
from bench.running.store import final_scores


def summary(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, params, metric key): mean, std and count over the healthy runs, and
    the number of unhealthy runs left out (their health.* values are still summarised)."""
    unhealthy = scores["run_id"].isin(unhealthy_run_ids(scores)) & ~scores["metric"].str.startswith("health.")
    frame = scores.assign(value=scores["value"].where(~unhealthy), unhealthy=unhealthy)
    grouped = frame.groupby(["method", "params", "metric"], sort=False)
    table = grouped["value"].agg(["mean", "std", "count"]).join(grouped["unhealthy"].sum()).reset_index()
    table["std"] = table["std"].fillna(0.0)
    return table


def row_labels(pairs, specs: dict) -> dict:
    """The readable label of each (method, params) pair (bench/reporting/labels.py); two configurations that
    would share one (the same value spelt "4" and "4.0" by runs of different days) keep their
    parameters as they are stored after it."""
    names = labels.configuration_names(pairs, specs)
    shared = {name for name, count in Counter(names.values()).items() if count > 1}
    return {pair: f"{name} {pair[1]}" if name in shared else name for pair, name in names.items()}


def formatted(table: pd.DataFrame, specs: dict | None = None) -> pd.DataFrame:
    """The summary as text cells "mean ± std (n)", configurations as rows in reading order
    (labels.configuration_order: registry order, then parameter values as numbers) under readable labels
    ("beta-VAE (beta=4)"; `specs`, run_id -> StoredSpec, give headline parameters left at their
    defaults) and metric keys as columns; a cell with unhealthy runs says how many it leaves out."""
    cells = table.assign(cell=[f"{m:.3f} ± {s:.3f} (n={n})" + (f" [{u} unhealthy left out]" if u else "")
                               for m, s, n, u in zip(table["mean"], table["std"], table["count"], table["unhealthy"])])
    pairs = labels.configuration_order(zip(cells["method"], cells["params"]))
    names = row_labels(pairs, specs or {})
    cells["run"] = [names[(m, p)] for m, p in zip(cells["method"], cells["params"])]
    wide = cells.pivot(index="run", columns="metric", values="cell")
    return wide.loc[[names[pair] for pair in pairs]].rename_axis(index=None, columns=None)        # pairs and labels are unique


def numeric(table: pd.DataFrame) -> pd.DataFrame:
    """table.csv: one row per (method, params); KEY.mean, KEY.std and n_seeds columns."""
    wide = table.pivot_table(index=["method", "params"], columns="metric", values=["mean", "std"], sort=False)
    wide.columns = [f"{metric}.{stat}" for stat, metric in wide.columns]
    wide = wide[sorted(wide.columns)]
    wide["n_seeds"] = table.groupby(["method", "params"], sort=False)["count"].max()
    return wide.reset_index()


def load_scores(results_dir: Path) -> pd.DataFrame:
    """scores.csv's rows at each run's last step (store.final_scores; the earlier steps of a score
    schedule are drawn from store.curve_scores)."""
    path = Path(results_dir) / "scores.csv"
    if not path.exists():
        raise UserError(f"no scores.csv in {str(results_dir)!r}; give a folder written by `bench run`")
    return final_scores(path)


def failed_runs(results_dir: Path) -> list[dict]:
    """Runs whose status is failed, with the reason their status file gives."""
    return [{"run_id": folder.run_id, "method": spec.method if (spec := folder.spec()) else "?", "reason": detail}
            for folder in run_folders(results_dir) for state, detail in [folder.status()] if state == FAILED]


def unhealthy_table(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per unhealthy run with its health.* values."""
    rows = scores[scores["run_id"].isin(unhealthy_run_ids(scores)) & scores["metric"].str.startswith("health.")]
    if rows.empty:
        return pd.DataFrame()
    wide = rows.pivot_table(index=["run_id", "method"], columns="metric", values="value", sort=False)
    return wide.round(3).reset_index().rename_axis(columns=None)


def markdown(frame: pd.DataFrame) -> str:
    """A GitHub Markdown table (pandas' to_markdown needs the tabulate package; this does not)."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows]) + "\n"


def write_tables(results_dir: Path, scores: pd.DataFrame, extra: pd.DataFrame | None = None) -> list[Path]:
    """table.csv and table.md (with failed runs and their reasons); `extra` replaces the default
    Markdown table when a caller (e.g. `bench reproduce`) adds columns."""
    results_dir = Path(results_dir)
    table = summary(scores)
    csv_path, md_path = results_dir / "table.csv", results_dir / "table.md"
    numeric(table).to_csv(csv_path, index=False)
    shown = extra if extra is not None else formatted(table, readable_specs(results_dir)).reset_index(names="method")
    text = markdown(shown)
    failed = failed_runs(results_dir)
    if failed:
        text += "\nFailed runs:\n\n" + markdown(pd.DataFrame(failed))
    unhealthy = unhealthy_table(scores)
    if len(unhealthy):
        text += "\nUnhealthy runs (trained to the end, but left out of every number above):\n\n" + markdown(unhealthy)
    md_path.write_text(text)
    return [csv_path, md_path]


def write_report(results_dir: Path, plots: bool = True) -> list[Path]:
    """Every table and figure for a results folder; returns the paths written."""
    from bench.reporting.plots import all_plots               # matplotlib is loaded only when plotting
    scores = load_scores(results_dir)
    paths = write_tables(results_dir, scores)
    if not plots:
        return paths
    figures = all_plots(results_dir, scores)
    add_notes(results_dir, figures.notes)
    return paths + figures.paths


def add_notes(results_dir: Path, notes: list[str]) -> None:
    """Print each note of the figures (e.g. why a configuration has no traversals) and add it to
    table.md, below the tables."""
    for note in notes:
        print(note)
        with open(Path(results_dir) / "table.md", "a") as handle:
            handle.write(f"\n{note}\n")
