"""Rescore a reproduction's runs under several protocols of one metric, without retraining.

docs/paper.md section 7: the beta-VAE metric's protocol (classifier, preprocessing, factor subset,
number of votes) can move every row by tens of points, so a gap to the paper is not read before
each row has been scored under each candidate protocol. A preset lists the candidates in its
[protocols] table (label -> metric parameters over the preset's own [metric_params]); every finished
run is rebuilt once (trained weights from its checkpoint, fitted baselines refit with the run's
seed), encoded once, and scored under each of them. Scores are kept per run in
`protocols.json` with their settings, so a rerun only scores what is new.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.stats import spearmanr

import metrics
from bench.device import default_threads
from bench.reporting.report import markdown
from bench.running.files import read_json, write_atomically
from bench.running.legacy import scored_with
from bench.running.restore import rebuild_method
from bench.running.run_folder import DONE, RunFolder, run_folders
from bench.running.stored_score import StoredScore, scores_json, stored_scores
from metrics import workers
from metrics.codes import Representation


def study_run(run_folder: Path, metric: str, variants: dict[str, dict], quick: bool, threads: int,
              progress: bool) -> list[dict]:
    """Scores of one run under every variant: rows of (run, method, seed, protocol, key, value)."""
    import torch
    torch.set_num_threads(threads)
    folder = RunFolder(run_folder)
    spec = folder.spec()
    stored = stored_scores(read_json(folder.protocols, {}))
    wanted = {label: metrics.settings(metric, quick, params) for label, params in variants.items()}
    missing = [label for label, settings in wanted.items() if not scored_with(metric, stored.get(label), settings)]
    if missing:
        method, dataset = rebuild_method(folder.path)
        codes = Representation.from_method(method, dataset, progress)
        for label in missing:
            with workers.allow(threads):
                values = metrics.score(metric, codes, dataset, spec.seed, quick, **variants[label])
            stored[label] = StoredScore(wanted[label], values)
            write_atomically(folder.protocols, json.dumps(scores_json(stored), indent=1, sort_keys=True))
    return [{"run_id": folder.run_id, "method": spec.method, "seed": spec.seed, "protocol": label,
             "key": key, "value": value}
            for label in variants for key, value in stored[label].values.items()]


def finished_runs(results_dir: Path) -> list[Path]:
    return [folder.path for folder in run_folders(results_dir) if folder.state == DONE]


def rescore(results_dir: Path, metric: str, variants: dict[str, dict], quick: bool = False, jobs: int = 1,
            progress: bool = True, run_ids=None) -> pd.DataFrame:
    """Every finished run of `results_dir` (or those in `run_ids`) under every variant, `jobs` runs
    at a time."""
    folders = [f for f in finished_runs(results_dir) if run_ids is None or f.name in run_ids]
    threads = default_threads(jobs)
    rows = Parallel(n_jobs=jobs)(delayed(study_run)(folder, metric, variants, quick, threads, progress and jobs == 1)
                                 for folder in folders)
    return pd.DataFrame([row for run_rows in rows for row in run_rows])


def comparison(scores: pd.DataFrame, paper: dict, variants: list[str]) -> pd.DataFrame:
    """Paper rows x protocols: our mean score in % under each, the paper's, and a last row with
    Spearman's rho between each protocol's column and the paper's."""
    chosen = scores[scores["key"] == paper["metric"]]
    means = chosen.groupby(["method", "protocol"])["value"].mean().unstack("protocol") * 100
    rows = []
    for row in paper["rows"]:
        cells = {label: means.loc[row["method"], label] if row["method"] in means.index else np.nan
                 for label in variants}
        rows.append({"representation": row["label"], **cells, "paper": row["score"]})
    table = pd.DataFrame(rows)
    rho = {label: spearmanr(table[label], table["paper"], nan_policy="omit").statistic
           if table[label].notna().sum() >= 3 else np.nan for label in variants}   # 2 rows rank trivially
    return pd.concat([table, pd.DataFrame([{"representation": "Spearman rho vs paper", **rho}])],
                     ignore_index=True)


def write(results_dir: Path, scores: pd.DataFrame, paper: dict, variants: dict[str, dict],
          plots: bool = True) -> list[Path]:
    """protocols.csv (long: one row per run, protocol and score key), protocols.md (the
    comparison, with each protocol's settings listed under it) and protocols.png."""
    results_dir = Path(results_dir)
    csv_path, md_path = results_dir / "protocols.csv", results_dir / "protocols.md"
    scores.to_csv(csv_path, index=False)
    table = comparison(scores, paper, list(variants))
    shown = table.copy()
    for column in [*variants, "paper"]:
        shown[column] = [("" if pd.isna(v) else f"{v:.2f}") for v in table[column]]
    legend = "\n".join(f"- **{label}**: {', '.join(f'{k} = {v}' for k, v in params.items()) or 'the defaults'}"
                       for label, params in variants.items())
    md_path.write_text(f"{paper['metric']} (%) of each run, rescored without retraining under each "
                       f"protocol (`bench reproduce --protocols`).\n\n{markdown(shown)}\nProtocols "
                       f"(metric parameters):\n\n{legend}\n")
    if not plots:
        return [csv_path, md_path]
    from bench.reporting.figures.paper import protocol_heatmap
    return [csv_path, md_path, protocol_heatmap(table, results_dir)]
