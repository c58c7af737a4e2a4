"""DCI's two boosters on trained models: how far `booster = "hist"` lands from the exact metric,
beside the exact metric's own spread over boosting seeds (docs/metrics.md, "DCI's boosters").

For each run folder (a finished trained run: spec.json and checkpoint.pt), the model is rebuilt
(bench/running/restore.py), and the images the run's own DCI would draw are drawn (its metric
stream, metrics.metric_rng("dci", seed)) at --num-train / --num-test. On those same samples DCI is
computed with:
- exact: sklearn's GradientBoostingClassifier (100 stages), once with the boosting seeds the metric
  itself draws (seed index 0) and once per further seed index (other boosting seeds, same samples);
- hist: HistGradientBoostingClassifier (100 stages), with the metric's own seeds;
- exact_25: the exact booster at the `--quick` preset's 25 stages, the metric's own seeds.
One fit at a time on one thread, each factor's fit timed (CPU seconds of the fitting thread, and
wall seconds). One CSV row per (run, fit); a run already in the CSV is skipped, so the command
resumes. Summary: python results/dci_booster/summarize.py CSV.

    python results/dci_booster/compare.py RUN_FOLDER... --out results/dci_booster/fits.csv

At disentanglement_lib's sizes, the time of each factor's fit (results/dci_booster/default_sizes.csv):

    python results/dci_booster/compare.py RUN_FOLDER --num-train 10000 --num-test 5000 --exact-seeds 1 \
        --fits exact,hist --out results/dci_booster/default_sizes.csv
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import metrics
from bench.running.restore import restore_method
from bench.running.run_folder import RunFolder
from metrics import dci
from metrics.codes import Representation
from metrics.samples import factor_code_samples

KEYS = ("disentanglement", "completeness", "informativeness_train", "informativeness_test")
COLUMNS = ["run", "method", "seed", "fit", "booster", "n_estimators", "seed_index", *KEYS,
           "cpu_s", "wall_s", "factor_cpu_s"]


def fit_dci(samples, booster: str, n_estimators: int, seeds: list[int]):
    """DCI's four numbers with one classifier per factor seeded by `seeds` (one per factor that has
    two classes or more, in order), one factor after the other; and each factor's (CPU, wall) s."""
    (train_codes, train_factors), (test_codes, test_factors) = samples
    num_factors = train_factors.shape[1]
    importance = np.zeros((train_codes.shape[1], num_factors))
    train_accuracy, test_accuracy = np.ones(num_factors), np.ones(num_factors)
    fitted = [k for k in range(num_factors) if len(np.unique(train_factors[:, k])) >= 2]
    timings = []
    for k, seed in zip(fitted, seeds):
        cpu, wall = time.thread_time(), time.perf_counter()
        importance[:, k], train_accuracy[k], test_accuracy[k] = dci.fit_factor(
            dci.classifier(booster, n_estimators, seed), train_codes, train_factors[:, k], test_codes,
            test_factors[:, k])
        timings.append((time.thread_time() - cpu, time.perf_counter() - wall))
    values = {"disentanglement": dci.weighted_specificity(importance),
              "completeness": dci.weighted_specificity(importance.T),
              "informativeness_train": float(np.mean(train_accuracy)),
              "informativeness_test": float(np.mean(test_accuracy))}
    return values, timings


def compare_run(run_folder: Path, dataset, args):
    """The CSV rows of one run folder, and the dataset it was made with."""
    restored = restore_method(run_folder, dataset)
    if restored is None:
        raise SystemExit(f"{run_folder}: no loadable checkpoint.pt; give finished trained runs")
    method, dataset = restored
    spec = RunFolder(run_folder).spec()
    codes = Representation.from_method(method, dataset, progress=False)
    rng = metrics.metric_rng("dci", spec.seed)
    samples = factor_code_samples(codes, dataset, rng, args.num_train, args.num_test)
    num_fitted = sum(len(np.unique(samples[0][1][:, k])) >= 2 for k in range(samples[0][1].shape[1]))
    own_seeds = [int(rng.integers(2**31)) for _ in range(num_fitted)]       # as dci.importance_matrix draws
    fits = [("exact", "exact", 100, 0, own_seeds)]
    for index in range(1, args.exact_seeds):
        other = np.random.default_rng([spec.seed, 7919, index])
        fits.append((f"exact_seed{index}", "exact", 100, index, [int(other.integers(2**31)) for _ in own_seeds]))
    fits.append(("hist", "hist", 100, 0, own_seeds))
    quick_stages = metrics.metric("dci").quick["n_estimators"]
    fits.append((f"exact_{quick_stages}", "exact", quick_stages, 0, own_seeds))
    rows = []
    for name, booster, stages, index, seeds in fits:
        if args.fits and name not in args.fits:
            continue
        values, timings = fit_dci(samples, booster, stages, seeds)
        rows.append({"run": run_folder.name, "method": spec.method, "seed": spec.seed, "fit": name,
                     "booster": booster, "n_estimators": stages, "seed_index": index,
                     **{key: f"{values[key]:.6f}" for key in KEYS},
                     "cpu_s": f"{sum(cpu for cpu, _ in timings):.3f}",
                     "wall_s": f"{sum(wall for _, wall in timings):.3f}",
                     "factor_cpu_s": ";".join(f"{cpu:.3f}" for cpu, _ in timings)})
    return rows, dataset


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished trained run folders")
    parser.add_argument("--out", type=Path, required=True, help="CSV to write (appended to; resumes)")
    parser.add_argument("--num-train", type=int, default=1_000)
    parser.add_argument("--num-test", type=int, default=500)
    parser.add_argument("--exact-seeds", type=int, default=2, help="boosting seeds of the exact booster")
    parser.add_argument("--fits", type=lambda text: text.split(","), default=None,
                        help="only these fits, e.g. exact,hist (default: all)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    done = set()
    if args.out.exists():
        with open(args.out, newline="") as handle:
            done = {row["run"] for row in csv.DictReader(handle)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    new_file = not args.out.exists()
    dataset = None
    with threadpool_limits(1), open(args.out, "a", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        if new_file:
            writer.writeheader()
        for number, run_folder in enumerate(args.runs, 1):
            if run_folder.name in done:
                print(f"[{number}/{len(args.runs)}] {run_folder.name}: already in {args.out}", file=sys.stderr)
                continue
            start = time.perf_counter()
            rows, dataset = compare_run(run_folder, dataset, args)
            writer.writerows(rows)
            handle.flush()
            summary = ", ".join(f"{row['fit']} D={float(row['disentanglement']):.3f} ({row['cpu_s']} CPU s)"
                                for row in rows)
            print(f"[{number}/{len(args.runs)}] {run_folder.name}: {summary}; "
                  f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    print(f"fits: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
