"""Metrics that score a set of models of one method (UDR), over the runs of a results folder.

`bench run` scores the one-model metrics inside each run (bench/running/execute.py). A model-set metric
(metrics/udr.py: several_models=True) needs the other models of the same method, so after the sweep
it is scored here, once per GROUP: the finished runs in the results folder that differ only in
their seed (same method and hyperparameters, dataset and data source, steps, precision), the
runs of earlier commands included. Each run of a group is rebuilt from its folder (weights from
its checkpoint, a fitted baseline refit with its seed: bench/running/restore.py), encoded on one shared
sample of images, and the metric's score for that run is stored in its scores.json with the
metric's settings plus `models`, the run ids it was compared with. scores.csv, tables and plots
then carry it like any score (mean ± std over the group's seeds). When a seed is added to the
group, `models` changes and the next `bench run --metrics udr` rescores every run of the group;
a group with a single finished run is skipped with a line.
"""
from __future__ import annotations

import sys
from collections import defaultdict

import numpy as np

import metrics
from bench.errors import UserError
from bench.running.execute import cached_dataset
from bench.running.legacy import scored_with
from bench.running.restore import rebuild_method
from bench.running.run_folder import DONE, run_folders
from bench.running.spec import StoredSpec
from bench.running.store import RunStore
from metrics.codes import Representation
from metrics.udr import Model


def group_key(spec: StoredSpec) -> str:
    """What the runs of one group share: everything in a run's identity but its seed."""
    return spec.configuration_key(ignore=("seed",))


def finished_groups(store: RunStore) -> dict[str, list[StoredSpec]]:
    """group key -> the spec of each finished run of the results folder, by seed."""
    groups = defaultdict(list)
    for folder in run_folders(store.out_dir):
        spec = folder.spec()
        if spec is None or folder.state != DONE:
            continue
        groups[group_key(spec)].append(spec)
    return {key: sorted(specs, key=lambda spec: spec.seed) for key, specs in groups.items()}


def posterior_kl(method, dataset):
    """For a method with a Gaussian posterior (the VAE family), a function of dataset indices
    giving the mean KL(q(z_i|x) || N(0, 1)) of each latent over those images; else None."""
    if not method.has_posterior:
        return None
    import torch

    from methods.base import ENCODE_BATCH
    from methods.vae import gaussian_kl_per_latent

    @torch.no_grad()
    def kl_of(indices):
        total = 0.0
        for start in range(0, len(indices), ENCODE_BATCH):
            images = torch.from_numpy(dataset.images(indices[start:start + ENCODE_BATCH]))
            mean, log_var = method.posterior(method.policy.prepare_images(images))
            total = total + gaussian_kl_per_latent(mean.float(), log_var.float()).cpu().numpy() * len(images)
        return np.asarray(total) / len(indices)

    return kl_of


def score_group(name: str, specs: list[StoredSpec], store: RunStore, quick: bool, params: dict,
                progress: bool) -> bool:
    """Score model-set metric `name` on one group's runs and store each run's values; False when
    every run already holds them for exactly these runs and settings."""
    run_ids = [spec.run_id for spec in specs]
    wanted = {**metrics.settings(name, quick, params), "models": run_ids}
    if all(scored_with(name, store.folder(run_id).scores().get(name), wanted) for run_id in run_ids):
        return False
    dataset = cached_dataset(specs[0].dataset, specs[0].data)
    models = []
    for spec in specs:
        method, dataset = rebuild_method(store.runs_dir / spec.run_id, dataset)
        kl_of = posterior_kl(method, dataset) if metrics.uses_posterior(name) else None
        models.append(Model(Representation.from_method(method, dataset, progress), kl_of))
    values = metrics.score_models(name, models, dataset, [spec.seed for spec in specs], quick, **params)
    for spec, run_values in zip(specs, values):
        folder = store.folder(spec.run_id)
        with folder.lock():
            folder.add_scores(name, wanted, run_values)
    return True


def score_model_sets(specs, store: RunStore, names, quick: bool = False, metric_params: dict | None = None,
                     progress: bool = True) -> list[str]:
    """Score each model-set metric of `names` on the group of every spec in `specs` (a sweep's
    runs), over all the finished runs of that group in the results folder; lines saying what
    was done. Call it after the sweep, then rebuild scores.csv."""
    names = [name for name in names if metrics.scores_model_sets(name)]
    if not names:
        return []
    metric_params = metric_params or {}
    wanted_groups = {}
    for spec in specs:
        wanted_groups.setdefault(group_key(spec.stored()), spec.stored())
    groups = finished_groups(store)
    lines = []
    for key, example in wanted_groups.items():
        members = groups.get(key, [])
        label = describe(example)
        if len(members) < metrics.udr.MIN_MODELS:
            lines.append(f"{', '.join(names)}: {label} has {len(members)} finished run(s); a model-set metric "
                         f"compares at least {metrics.udr.MIN_MODELS} seeds of a method, so it is not scored")
            continue
        for name in names:
            try:
                scored = score_group(name, members, store, quick, metric_params.get(name, {}), progress)
            except UserError as error:                 # e.g. a run whose checkpoint cannot be loaded
                lines.append(f"{name}: {label} is not scored: {error}")
                continue
            if scored:
                lines.append(f"{name}: scored {label} over {len(members)} runs (seeds "
                             f"{', '.join(str(spec.seed) for spec in members)})")
    return lines


def describe(spec: StoredSpec) -> str:
    """A group's method, the hyperparameters set on the command line, and its steps."""
    settings = "".join(f" {name}={value}" for name, value in sorted(spec.overrides.items()))
    return f"{spec.method}{settings} ({spec.steps} steps)"


def report(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr if "not scored" in line else sys.stdout, flush=True)
