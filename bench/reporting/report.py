"""Tables from a results folder: method x metric, mean ± std over seeds (docs/design.md, "Results").

Reads only scores.csv and the run folders; never retrains.
"""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pandas as pd

import metrics
from bench.errors import UserError
from bench.reporting import labels
from bench.reporting.health import HEALTHY_KEY, unhealthy_run_ids
from bench.running.run_folder import FAILED, RunFolder, readable_specs, run_folders
from bench.running.store import final_scores


def summary(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, params, metric key): median, mean, std, min, max and count over the
    healthy runs, and the number of unhealthy runs left out (their health.* values are still
    summarised)."""
    unhealthy = scores["run_id"].isin(unhealthy_run_ids(scores)) & ~scores["metric"].str.startswith("health.")
    frame = scores.assign(value=scores["value"].where(~unhealthy), unhealthy=unhealthy)
    grouped = frame.groupby(["method", "params", "metric"], sort=False)
    table = (grouped["value"].agg(["median", "mean", "std", "min", "max", "count"])
             .join(grouped["unhealthy"].sum()).reset_index())
    table["std"] = table["std"].where(table["count"] != 1, 0.0)          # one run: no spread (NaN with none)
    return table


def row_labels(pairs, specs: dict) -> dict:
    """The readable label of each (method, params) pair (bench/reporting/labels.py); two configurations that
    would share one (the same value spelt "4" and "4.0" by runs of different days) keep their
    parameters as they are stored after it."""
    names = labels.configuration_names(pairs, specs)
    shared = {name for name, count in Counter(names.values()).items() if count > 1}
    return {pair: f"{name} {pair[1]}" if name in shared else name for pair, name in names.items()}


def labelled(table: pd.DataFrame, specs: dict | None = None) -> tuple[list, dict]:
    """The configurations of a summary in reading order (labels.configuration_order: registry order,
    then parameter values as numbers) and the readable label of each ("beta-VAE (beta=4)"; `specs`,
    run_id -> StoredSpec, give headline parameters left at their defaults)."""
    pairs = labels.configuration_order(zip(table["method"], table["params"]))
    return pairs, row_labels(pairs, specs or {})


def headline(table: pd.DataFrame, specs: dict | None = None) -> pd.DataFrame:
    """table.md's and `bench run`'s table: configurations as rows, then `n` (its healthy runs),
    the median of each metric's headline key (metrics.headline_keys: one key per metric, the one
    its paper reports, in the fixed order of metrics.METRICS; a cell over another number of runs
    says n) and, where runs report their training health (GANs), one `health` column: "2 of 3
    healthy". Every key, with mean, std, min and max: table.csv (`long_table`)."""
    pairs, names = labelled(table, specs)
    health = table[table["metric"] == HEALTHY_KEY].set_index(["method", "params"])
    scored = table[~table["metric"].str.startswith("health.")]
    keys = metrics.headline_keys(scored["metric"])
    shown = scored[scored["metric"].isin(keys)].set_index(["method", "params", "metric"])
    rows = []
    for pair in pairs:
        counts = [int(shown.loc[(*pair, key), "count"]) for key in keys if (*pair, key) in shown.index]
        n = max(counts, default=0)
        row = {"configuration": names[pair], "n": n}
        for key in keys:
            found = (*pair, key) in shown.index
            cell = shown.loc[(*pair, key)] if found else None
            row[key] = "" if cell is None or not cell["count"] else (
                f"{cell['median']:.3f}" + (f" (n={int(cell['count'])})" if cell["count"] != n else ""))
        if len(health):
            row["health"] = health_text(health.loc[pair]) if pair in health.index else ""
        rows.append(row)
    columns = ["configuration", "n", *keys, *(["health"] if len(health) else [])]
    return pd.DataFrame(rows, columns=columns).set_index("configuration").rename_axis(index=None)


def health_text(row: pd.Series) -> str:
    """A configuration's health.healthy summary in words: "2 of 3 healthy"."""
    total = int(row["count"])
    return f"{int(round(row['mean'] * total))} of {total} healthy"


def long_table(table: pd.DataFrame, specs: dict | None = None) -> pd.DataFrame:
    """table.csv: one row per configuration and metric key (health.* included), configurations in
    reading order and keys in the order of metrics.METRICS: n (healthy runs), median, mean, std,
    min, max and the unhealthy runs left out."""
    pairs, names = labelled(table, specs)
    registered = list(metrics.METRICS)
    position = {pair: index for index, pair in enumerate(pairs)}

    def order(row) -> tuple:
        name = row["metric"].partition(".")[0]
        return (position[(row["method"], row["params"])],
                registered.index(name) if name in registered else len(registered), row["metric"])

    rows = sorted(table.to_dict("records"), key=order)
    for row in rows:
        row["configuration"] = names[(row["method"], row["params"])]
    return pd.DataFrame(rows, columns=LONG_COLUMNS).rename(columns={"count": "n"})


LONG_COLUMNS = ["configuration", "method", "params", "metric", "count", "median", "mean", "std", "min", "max",
                "unhealthy"]


HEADLINE_NOTE = ("Each cell: the median over the configuration's healthy runs (n). One key per metric, the one "
                 "its paper reports, metrics in a fixed order (docs/metrics.md, \"Headline keys\"); every key "
                 "with n, median, mean, std, min and max: table.csv.")


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
    """table.csv (every key: `long_table`) and table.md (the headline table, with failed and
    unhealthy runs listed below it, then the machines the runs trained on where any run recorded
    one); `extra` replaces the headline table when a caller (e.g. `bench reproduce`) writes its own."""
    results_dir = Path(results_dir)
    table = summary(scores)
    specs = readable_specs(results_dir)
    csv_path, md_path = results_dir / "table.csv", results_dir / "table.md"
    long_table(table, specs).to_csv(csv_path, index=False)
    if extra is None:
        text = markdown(headline(table, specs).reset_index(names="configuration")) + "\n" + HEADLINE_NOTE + "\n"
    else:
        text = markdown(extra)
    failed = failed_runs(results_dir)
    if failed:
        text += "\nFailed runs:\n\n" + markdown(pd.DataFrame(failed))
    unhealthy = unhealthy_table(scores)
    if len(unhealthy):
        text += "\nUnhealthy runs (trained to the end, but left out of every number above):\n\n" + markdown(unhealthy)
    trained_on = machines_line(results_dir)
    if trained_on:
        text += f"\n{trained_on}\n"
    md_path.write_text(text)
    return [csv_path, md_path]


NOT_RECORDED = "not recorded"


def machine_name(entry: dict) -> str:
    """What computed one training of machine.json (bench/machine.py): the CUDA device, else the CPU's
    model, with oneDNN's ISA cap where one was set (it decides which bf16 kernels run)."""
    name = str(entry.get("cuda_device") or entry.get("cpu") or "unknown")
    cap = entry.get("onednn_max_cpu_isa")
    return f"{name} (oneDNN capped at {cap})" if cap else name


def machines_line(results_dir: Path) -> str | None:
    """Which machines trained the folder's runs (each run's machine.json) and how many runs each; a
    run resumed on another machine counts under both names joined by " then ", one without
    machine.json (trained before it was written) as "not recorded", and a damaged one too, with a
    line. None where no run has a record, so the tables of older results stay as they were."""
    trained_on = Counter()
    for folder in run_folders(results_dir):
        for why in folder.damaged(RunFolder.MACHINE).values():
            print(f"bench: {folder.run_id}: {RunFolder.MACHINE} is damaged ({why}); counted as {NOT_RECORDED} "
                  f"in table.md", file=sys.stderr)
        if folder.spec_file.exists():
            names = dict.fromkeys(machine_name(entry) for entry in folder.machines())
            trained_on[" then ".join(names) or NOT_RECORDED] += 1
    if set(trained_on) <= {NOT_RECORDED}:
        return None
    names = sorted(trained_on, key=lambda name: (name == NOT_RECORDED, name))       # "not recorded" last
    return "Trained on (machine.json): " + "; ".join(f"{name}: {trained_on[name]} run(s)" for name in names)


def write_report(results_dir: Path, plots: bool = True, scores: pd.DataFrame | None = None) -> list[Path]:
    """Every table and figure for a results folder (from `scores`, its scores.csv read where not
    given); returns the paths written."""
    from bench.reporting.plots import all_plots               # matplotlib is loaded only when plotting
    scores = load_scores(results_dir) if scores is None else scores
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
