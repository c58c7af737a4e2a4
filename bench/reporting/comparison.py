"""`bench compare A B`: the runs of two results folders set side by side, seed by seed.

Two runs are paired when they train the same method with the same parameters on the same dataset
with the same seed (so the same initial weights and batches): their StoredSpec.configuration_key
ignoring what the folders were made to compare (COMPARED: the steps, the precision, the data
source), and the code version. Per configuration and measure:
n pairs, the median in A and in B, the median of the per-seed differences B - A, a two-sided
Mann-Whitney U test of the two samples and a two-sided Wilcoxon signed-rank test of the per-seed
differences (scipy). Measures:

- every score both runs have (scores.json);
- `images_per_s`: the median over the run's log.csv rows of its training images per second;
- `plateau_escape_step` (VAE family: logs with a `kl` column): the step at which training leaves
  the posterior-collapse plateau (escape_step). A run that is still on the plateau at its last
  logged step is censored: it counts as CENSORED_MARGIN steps past that step (above every escape
  that was seen, so the rank tests treat it as the latest; its differences are lower bounds) and
  a median that falls on such runs is shown as ">STEP".

Where both folders hold a claims.csv (`bench reproduce`), claims_side_by_side sets each claim's
verdict and p-value in A beside those in B.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu, wilcoxon

from bench.errors import UserError
from bench.running.run_folder import run_folders
from bench.running.spec import StoredSpec

PLATEAU_KL = 1.0                  # nats: summed KL below this is the collapsed posterior's plateau
ESCAPE = "plateau_escape_step"
CENSORED_MARGIN = 100             # steps: a run still on the plateau counts as escaping this much after its end
SPEED = "images_per_s"
COMPARED = ("steps", "precision", "data")     # what two paired runs may differ in (and the code version)


def escape_step(log: pd.DataFrame, threshold: float = PLATEAU_KL) -> tuple[float, bool]:
    """(step, censored): the first logged step after the summed KL first falls below `threshold`
    nats at which it is above it again. Training starts with a large KL that collapses within
    the first intervals; the plateau is that collapse, and leaving it is the posterior starting
    to carry information. A run whose KL never falls below `threshold` never sat on the plateau:
    (step of its first log row, False). A run still on it at its last row: (last step, True)."""
    kl, steps = log["kl"].to_numpy(dtype=float), log["step"].to_numpy()
    below = np.flatnonzero(kl < threshold)
    if len(below) == 0:
        return float(steps[0]), False
    after = np.flatnonzero(kl[below[0]:] > threshold)
    if len(after) == 0:
        return float(steps[-1]), True
    return float(steps[below[0] + after[0]]), False


def run_measures(folder) -> tuple[StoredSpec, dict] | None:
    """(spec, measure -> (value, censored)) of one run folder; None without a readable spec."""
    spec = folder.spec()
    if spec is None:
        return None
    measures = {}
    for score in folder.scores().values():
        for name, value in score.values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                measures[name] = (float(value), False)
    if folder.has_log():
        log = pd.read_csv(folder.log)
        if SPEED in log:
            measures[SPEED] = (float(log[SPEED].median()), False)
        if "kl" in log and len(log):
            step, censored = escape_step(log)
            measures[ESCAPE] = (step + CENSORED_MARGIN if censored else step, censored)
    return spec, measures


def folder_measures(results_dir) -> dict[str, tuple[StoredSpec, dict]]:
    """pairing key (the run's configuration_key ignoring COMPARED) -> the run's spec and measures."""
    found = {}
    for folder in run_folders(results_dir):
        measured = run_measures(folder)
        if measured is not None:
            found[measured[0].configuration_key(ignore=COMPARED)] = measured
    return found


def configuration(spec: StoredSpec) -> tuple[str, str, str]:
    """A paired run's row label: its method, parameters as --set spells them, and dataset."""
    return spec.method, json.dumps(spec.overrides, sort_keys=True), spec.dataset


def shown(values: np.ndarray, censored: np.ndarray) -> str:
    """The median; ">STEP" when it falls on censored runs (whose values are their last logged
    step plus one interval: every censored run of a folder trained as long as the others)."""
    median = float(np.median(values))
    if censored.any() and median >= values[censored].min():
        return f">{values[censored].min() - CENSORED_MARGIN:g}"
    return f"{median:.4g}"


def two_sided_tests(first: np.ndarray, second: np.ndarray) -> tuple[float, float, float]:
    """(U, Mann-Whitney p, Wilcoxon signed-rank p of second - first); nan where a test cannot run."""
    u, p_rank = (math.nan, math.nan)
    if len(first) and len(second):
        result = mannwhitneyu(first, second, alternative="two-sided")
        u, p_rank = float(result.statistic), float(result.pvalue)
    differences = second - first
    p_paired = math.nan
    if len(differences) and np.any(differences != 0):
        p_paired = float(wilcoxon(differences, alternative="two-sided").pvalue)
    return u, p_rank, p_paired


def compare(first_dir, second_dir, measures: list[str] | None = None) -> pd.DataFrame:
    """One row per (configuration, measure) over the runs paired between the two folders."""
    found_first, found_second = folder_measures(first_dir), folder_measures(second_dir)
    paired = sorted(set(found_first) & set(found_second),
                    key=lambda key: (*configuration(found_first[key][0]), found_first[key][0].seed))
    if not paired:
        raise UserError(f"no run in {first_dir} has a partner in {second_dir} (same method, parameters, "
                        f"dataset and seed)")
    first = {key: found_first[key][1] for key in paired}
    second = {key: found_second[key][1] for key in paired}
    rows = []
    groups: dict[str, list] = {}
    for key in paired:
        groups.setdefault(found_first[key][0].configuration_key(ignore=(*COMPARED, "seed")), []).append(key)
    for keys in groups.values():
        method, params, dataset = configuration(found_first[keys[0]][0])
        names = set.intersection(*(set(first[key]) & set(second[key]) for key in keys))
        for name in sorted(names, key=lambda n: (n not in (ESCAPE, SPEED), n)):
            if measures and name not in measures:
                continue
            a = np.array([first[key][name][0] for key in keys])
            b = np.array([second[key][name][0] for key in keys])
            a_censored = np.array([first[key][name][1] for key in keys])
            b_censored = np.array([second[key][name][1] for key in keys])
            u, p_rank, p_paired = two_sided_tests(a, b)
            rows.append({"method": method, "params": params, "dataset": dataset, "measure": name,
                         "n": len(keys), "seeds": ",".join(str(found_first[key][0].seed) for key in keys),
                         "median_first": shown(a, a_censored), "median_second": shown(b, b_censored),
                         "median_difference": float(np.median(b - a)),
                         "censored_first": int(a_censored.sum()), "censored_second": int(b_censored.sum()),
                         "mann_whitney_u": u, "p_two_sided": p_rank, "p_paired": p_paired,
                         "first_values": " ".join(f"{v:.4g}" for v in a),
                         "second_values": " ".join(f"{v:.4g}" for v in b)})
    return pd.DataFrame(rows)


def claims_side_by_side(first_dir, second_dir) -> pd.DataFrame | None:
    """Each claim both folders tested (claims.csv), its verdict and p-value in each; None where
    either folder has no claims.csv."""
    paths = [Path(folder) / "claims.csv" for folder in (first_dir, second_dir)]
    if not all(path.exists() for path in paths):
        return None
    first, second = (pd.read_csv(path).set_index("claim") for path in paths)
    both = [claim for claim in first.index if claim in second.index]
    return pd.DataFrame({"claim": both,
                         "verdict_first": [first.loc[claim, "verdict"] for claim in both],
                         "p_first": [first.loc[claim, "p_value"] for claim in both],
                         "verdict_second": [second.loc[claim, "verdict"] for claim in both],
                         "p_second": [second.loc[claim, "p_value"] for claim in both],
                         "same_verdict": [first.loc[claim, "verdict"] == second.loc[claim, "verdict"] for claim in both]})
