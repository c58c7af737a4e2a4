"""One run end to end: plan it from its folder (bench/running/plan.py), then carry the plan out:
load data, build the method, train or fit, score, store (docs/design.md)."""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field, make_dataclass

import metrics
import methods
from bench import data
from bench.device import choose_policy
from bench.machine import describe
from bench.run_settings import RUN_SETTINGS, TABLES
from bench.running.plan import RESCORE, SKIP, TRAIN, Plan, Wanted, plan
from bench.running.restore import fitting_rng
from bench.running.run_folder import DONE, FAILED, RunFolder
from bench.running.runner import LOG_EVERY, TrainingDiverged, train
from bench.running.score_schedule import score_snapshots, steps_to_score
from bench.running.store import RunStore
from metrics import workers
from metrics.codes import Representation


class Execution:
    """What ExecutionOptions know beyond their fields."""

    @classmethod
    def from_config(cls, config, progress: bool = True) -> ExecutionOptions:
        """How the runs of a sweep (a SweepConfig, bench/running/config.py) are executed;
        `progress`: progress bars."""
        return cls(**{setting.key: getattr(config, setting.key) for setting in EXECUTED}, progress=progress,
                   log_every=config.log_every, curve_metrics=config.curve_metrics)

    def wanted(self, spec) -> Wanted:
        """What these options ask of `spec`'s run (bench/running/plan.py)."""
        return Wanted(final={name: metrics.settings(name, self.quick, self.metric_params.get(name))
                             for name in metrics.single_model_names(self.metrics)},   # UDR: model_sets.py
                      schedule=steps_to_score(self.score_at, spec.steps) if spec.trainable else (),
                      curve={name: metrics.settings(name, self.quick, self.metric_params.get(name))
                             for name in self.curve_metrics},
                      warm_start=self.warm_start)

    def metric_names(self) -> list[str]:
        """Every metric these options score: at the last step, along training, over model sets."""
        return list(dict.fromkeys([*self.metrics, *self.curve_metrics]))


NOT_STARTED = "not started"          # a run a sweep did not start: a write had failed for lack of space


# How runs are executed: the run settings each run reads as it executes (bench/run_settings.py,
# `executes`: metrics, quick, device, precision, data_path, threads (None: torch's default),
# checkpoint_every, metric_params, warm_start, score_at), and what the sweep derives from them. None of
# this changes what a run computes: the precision and the data source that do are resolved into each
# RunSpec, and a run computes in its spec's.
EXECUTED = tuple(setting for setting in RUN_SETTINGS if setting.executes)
ExecutionOptions = make_dataclass("ExecutionOptions", [
    *((setting.key, object, field(default_factory=dict) if setting.kind is TABLES else field(default=setting.default))
      for setting in EXECUTED),
    ("progress", bool, field(default=True)),
    ("log_every", int, field(default=LOG_EVERY)),
    ("curve_metrics", tuple, field(default=())),      # what the steps of score_at are scored with
], bases=(Execution,), frozen=True)
ExecutionOptions.__module__ = __name__


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    state: str                       # done, failed or NOT_STARTED
    detail: str = ""                 # why it failed; plan.ALREADY_DONE when it was skipped
    wrote: bool = True               # False when skipped: its folder is as it was
    no_space: bool = False           # it failed because a write found no space left (bench/running/files.py)


HEALTH = "health"                    # the scores.json entry of a run's training health


@functools.lru_cache(maxsize=2)
def cached_dataset(name: str, source: data.DataSource):
    return data.load_source(name, source)


def execute(spec, store: RunStore, options: ExecutionOptions) -> RunOutcome:
    """Plan one run from its folder (bench/running/plan.py), then carry the plan out: skip, score,
    or train (resume) and score. Failures are recorded, not raised.

    One process at a time works on a run: another process (a second `bench run` on the same
    results folder) waits for it and then skips what it finished.
    """
    def say_waiting():
        print(f"{spec.run_id}: another process is working on this run; waiting for it", file=sys.stderr, flush=True)

    with store.folder(spec.run_id).lock(on_wait=say_waiting):
        folder = store.begin(spec, options.metric_names())
        return carry_out(plan(spec, store, options.wanted(spec)), spec, folder, options)


def carry_out(plan: Plan, spec, folder: RunFolder, options: ExecutionOptions) -> RunOutcome:
    """Say the plan's lines; unless it skips, build the method, train or fit it (TRAIN; RESCORE:
    training returns at once with the weights of checkpoint.pt), score the last step, then score
    the snapshots. A run whose loss diverges is marked failed."""
    for line in plan.lines:
        print(line, file=sys.stderr, flush=True)
    if plan.action == SKIP:
        return RunOutcome(spec.run_id, DONE, plan.detail, wrote=False)
    if options.threads:
        import torch
        torch.set_num_threads(options.threads)
    with workers.allow(options.threads):       # the metrics' parallel fits (metrics/workers.py) too
        return train_and_score(plan, spec, folder, options)


def train_and_score(plan: Plan, spec, folder: RunFolder, options: ExecutionOptions) -> RunOutcome:
    """carry_out's TRAIN, RESCORE or snapshot scoring. The status reads "done" once every score of
    the plan is stored, the snapshots' too, so a finished folder can be copied as it stands."""
    dataset = cached_dataset(spec.dataset, spec.data)
    method = methods.create(spec.method, dict(spec.params), dataset.image_shape,
                            choose_policy(options.device, spec.precision), spec.seed, dataset.method_defaults())
    if plan.action in (TRAIN, RESCORE):
        if plan.warm_start is not None:
            folder.take_training_of(RunFolder(plan.warm_start))
        try:
            if method.trainable:       # resumes from the checkpoint; returns at once when trained
                train(method, dataset, spec.steps, spec.seed, folder.path, options.progress,
                      options.checkpoint_every, options.log_every, plan.schedule)
            else:                      # a fit is the model's training, a rescore's fit too
                folder.add_machine(0, describe(method.policy.device))
                method.fit(dataset, fitting_rng(spec.seed))
        except TrainingDiverged as error:
            folder.set_status(FAILED, str(error))
            return RunOutcome(spec.run_id, FAILED, str(error))
        record_health(method, folder, spec.steps)
        codes = Representation.from_method(method, dataset, options.progress)
        for name, settings in plan.final.items():
            folder.add_scores(name, settings, metrics.score(name, codes, dataset, spec.seed, options.quick,
                                                            **options.metric_params.get(name, {})))
    score_snapshots(method, dataset, spec.seed, folder, plan.curve, options.quick, options.metric_params,
                    options.progress)
    folder.set_status(DONE)
    return RunOutcome(spec.run_id, DONE, plan.detail)


def record_health(method, folder: RunFolder, steps: int) -> None:
    """Store the method's `health.*` scores from its log.csv (GANs: methods/gan_health.py)."""
    if not method.trainable or not folder.has_log():
        return
    import pandas as pd
    values = method.training_health(pd.read_csv(folder.log))
    if values:
        folder.add_scores(HEALTH, {"steps": steps}, values)
