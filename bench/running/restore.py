"""Rebuild a method from its run folder (spec.json + checkpoint.pt), for reports and rescoring.

The dataset is read from the source the run was made with (spec.json's "data": the procedural
set, or the file at its path with the same sha256), and the method computes in the run's
precision. Checkpoints are loaded as weights only (bench/running/runner.py): a results folder from
someone else cannot run code here.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import methods
from bench import data
from bench.device import choose_policy
from bench.errors import UserError
from bench.running.legacy import current_params
from bench.running.run_folder import RunFolder
from bench.running.runner import load_weights
from bench.running.spec import StoredSpec, changed_plugin


def fitting_rng(seed: int) -> np.random.Generator:
    """The stream a fitted baseline (PCA, ICA, ...) is fit with: the same in a run and a rebuild."""
    return np.random.default_rng([seed, 2])


def created_method(run_folder: Path, dataset=None):
    """(spec, method at its initialisation on the CPU, dataset) of a run folder; spec None when
    the folder has no readable spec.json. `dataset` is used when it is the run's dataset from the
    run's source, else the run's own is loaded."""
    spec = RunFolder(run_folder).spec()
    if spec is None:
        return None, None, dataset
    dataset = run_dataset(spec, run_folder, dataset)
    method = methods.create(spec.method, current_params(spec.method, spec.params, Path(run_folder).name),
                            dataset.image_shape, choose_policy("cpu", spec.precision), spec.seed,
                            dataset.method_defaults())
    return spec, method, dataset


def run_dataset(spec: StoredSpec, run_folder: Path, dataset=None):
    """The dataset a run was made with: `dataset` when it is that one, else loaded from the
    source its spec.json records."""
    source = spec.data
    if dataset is not None and dataset.name == spec.dataset and dataset.source.identity() == source.identity():
        return dataset
    try:
        return data.load_source(spec.dataset, source)
    except UserError as error:
        raise UserError(f"{Path(run_folder).name} was made with {source.path or 'the procedural data'}: "
                        f"{error}") from None


def restore_method(run_folder: Path, dataset=None):
    """(method, dataset) of a finished trained run on the CPU, in inference (eval) mode; None when
    the run has no checkpoint, or one that cannot be loaded (a line on stderr says why)."""
    checkpoint = RunFolder(run_folder).checkpoint
    if not checkpoint.exists():
        return None
    spec, method, dataset = created_method(run_folder, dataset)
    if spec is None:
        print(f"{Path(run_folder).name}: spec.json is missing or unreadable; skipping the run", file=sys.stderr)
        return None
    _, problem = load_weights(checkpoint, method, "cpu")
    if problem is not None:
        print(f"{Path(run_folder).name}: checkpoint.pt {problem}; skipping what needs the trained weights "
              f"(to retrain the run, delete its status file and run the same `bench run` again)", file=sys.stderr)
        return None
    for module in method.modules().values():
        module.eval()
    return method, dataset


def rebuild_method(run_folder: Path, dataset=None):
    """(method, dataset) of any finished run: trained weights from the checkpoint, fitted
    baselines fit again with the run's seed (they keep no checkpoint). A run whose plug-in source
    changed since it was recorded is refused: rescoring it would score another version's model."""
    spec = RunFolder(run_folder).spec()
    change = changed_plugin(spec) if spec is not None else None
    if change:
        raise UserError(f"{change}, so rescoring run {Path(run_folder).name} would score another version's "
                        f"model; `bench run` its sweep again with --accept-changed-plugins to accept the new source")
    restored = restore_method(run_folder, dataset)
    if restored is not None:
        return restored
    spec, method, dataset = created_method(run_folder, dataset)
    if spec is None or method.trainable:
        raise UserError(f"{run_folder}: only a finished run with a readable spec.json (and, when trained, "
                        "a loadable checkpoint.pt) can be rebuilt")
    method.fit(dataset, fitting_rng(spec.seed))
    return method, dataset
