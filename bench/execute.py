"""One run end to end: load data, build the method, train or fit, score, store (DESIGN.md)."""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

import metrics
import methods
from bench import data
from bench.device import choose_policy
from bench.runner import TrainingDiverged, train
from bench.store import DONE, FAILED, RunStore
from metrics.codes import Representation


@dataclass(frozen=True)
class ExecutionOptions:
    """How runs are executed; none of this changes what a run computes (apart from precision)."""
    metrics: tuple[str, ...] = ("beta_vae",)
    quick: bool = False
    device: str = "auto"
    precision: str = "auto"
    data_path: str | None = None
    progress: bool = True
    threads: int = 0                 # 0: leave torch's default (all cores)


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    state: str                       # done or failed
    detail: str = ""


@functools.lru_cache(maxsize=2)
def cached_dataset(name: str, data_path: str | None):
    return data.load(name, data_path)


def metric_settings(name: str, quick: bool) -> dict:
    module = metrics.metric_module(name)
    return {**metrics.metric_params(name), **(module.QUICK if quick else {})}


def execute(spec, store: RunStore, options: ExecutionOptions) -> RunOutcome:
    """Train (or resume, or skip when done) and score one run; failures are recorded, not raised."""
    if options.threads:
        import torch
        torch.set_num_threads(options.threads)
    folder = store.begin(spec)
    wanted = {name: metric_settings(name, options.quick) for name in options.metrics}
    existing = store.scores(spec)
    missing = [name for name, settings in wanted.items() if existing.get(name, {}).get("settings") != settings]
    if store.status(spec)[0] == DONE and not missing:
        return RunOutcome(spec.run_id, DONE)
    dataset = cached_dataset(spec.dataset, options.data_path)
    policy = choose_policy(options.device, options.precision)
    method = methods.create(spec.method, dict(spec.params), dataset.image_shape, policy, spec.seed)
    try:
        if method.trainable:       # resumes from the checkpoint; returns at once when trained
            train(method, dataset, spec.steps, spec.seed, folder, options.progress)
        else:
            method.fit(dataset, np.random.default_rng([spec.seed, 2]))
    except TrainingDiverged as error:
        store.set_status(spec, FAILED, str(error))
        return RunOutcome(spec.run_id, FAILED, str(error))
    store.set_status(spec, DONE)
    codes = Representation.from_method(method, dataset, options.progress)
    for name in missing:
        values = metrics.score(name, codes, dataset, spec.seed, options.quick)
        store.add_scores(spec, name, wanted[name], values)
    return RunOutcome(spec.run_id, DONE)


def default_threads(jobs: int) -> int:
    """Split the cores among parallel runs instead of multiplying threads."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))
