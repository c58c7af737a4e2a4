"""One run end to end: load data, build the method, train or fit, score, store (docs/design.md)."""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field

import metrics
import methods
from bench import data
from bench.device import choose_policy
from bench.running.legacy import unscored
from bench.running.restore import fitting_rng
from bench.running.run_folder import DONE, FAILED, RunFolder
from bench.running.runner import CHECKPOINT_EVERY, LOG_EVERY, TrainingDiverged, train
from bench.running.score_schedule import missing_curve_scores, say_without_snapshot, score_snapshots, steps_to_score
from bench.running.store import RunStore
from metrics.codes import Representation


@dataclass(frozen=True)
class ExecutionOptions:
    """How runs are executed; none of this changes what a run computes: the precision and the data
    source that do are resolved into each RunSpec, and a run computes in its spec's."""
    metrics: tuple[str, ...] = ("beta_vae",)
    quick: bool = False
    device: str = "auto"
    precision: str = "auto"
    data_path: str | None = None
    progress: bool = True
    threads: int = 0                 # 0: leave torch's default (all cores)
    checkpoint_every: int = CHECKPOINT_EVERY
    log_every: int = LOG_EVERY
    metric_params: dict = field(default_factory=dict)     # metric -> {param: value} over its defaults
    warm_start: str | None = None    # a results folder whose shorter runs a run may start from
    score_at: tuple | str = ()       # steps to keep and score below a run's last, or "log" (score_schedule.py)
    curve_metrics: tuple[str, ...] = ()   # what those steps are scored with

    @classmethod
    def from_config(cls, config, progress: bool = True) -> ExecutionOptions:
        """How the runs of a sweep (a SweepConfig, bench/running/config.py) are executed;
        `progress`: progress bars."""
        return cls(config.metrics, config.quick, config.device, config.precision, config.data_path, progress,
                   threads=config.threads or 0, checkpoint_every=config.checkpoint_every,
                   log_every=config.log_every, metric_params=config.metric_params,
                   warm_start=config.warm_start, score_at=config.score_at, curve_metrics=config.curve_metrics)


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    state: str                       # done or failed
    detail: str = ""                 # why it failed; ALREADY_DONE when it was skipped


ALREADY_DONE = "already done"
HEALTH = "health"                    # the scores.json entry of a run's training health


@functools.lru_cache(maxsize=2)
def cached_dataset(name: str, source: data.DataSource):
    return data.load_source(name, source)


def execute(spec, store: RunStore, options: ExecutionOptions) -> RunOutcome:
    """Train (or resume, or skip when done) and score one run; failures are recorded, not raised.

    One process at a time works on a run: another process (a second `bench run` on the same
    results folder) waits for it and then skips what it finished.
    """
    def say_waiting():
        print(f"{spec.run_id}: another process is working on this run; waiting for it", file=sys.stderr, flush=True)

    with store.folder(spec.run_id).lock(on_wait=say_waiting):
        return execute_locked(spec, store, options)


def execute_locked(spec, store: RunStore, options: ExecutionOptions) -> RunOutcome:
    if options.threads:
        import torch
        torch.set_num_threads(options.threads)
    folder = store.begin(spec)
    wanted = {name: metrics.settings(name, options.quick, options.metric_params.get(name))
              for name in metrics.single_model_names(options.metrics)}     # UDR: bench/running/model_sets.py
    missing = unscored(wanted, folder.scores())
    schedule = steps_to_score(options.score_at, spec.steps) if spec.trainable else ()
    curve_wanted = {name: metrics.settings(name, options.quick, options.metric_params.get(name))
                    for name in options.curve_metrics}
    curve_missing = missing_curve_scores(folder, schedule, curve_wanted)
    done = folder.state == DONE
    snapshots = [step for step in curve_missing if folder.snapshot(step).exists()]   # a finished run's are all it has
    if done and not missing and not snapshots:
        say_without_snapshot(folder, list(curve_missing))
        return RunOutcome(spec.run_id, DONE, ALREADY_DONE)
    detail = ""
    if done and missing and spec.trainable and not folder.checkpoint.exists():
        detail = (f"{spec.run_id}: kept as it is: scoring {', '.join(missing)} with the wanted settings needs "
                  f"the trained weights, and its checkpoint.pt is gone (results shared without weights); "
                  f"delete {folder.path} to train it again")
        print(detail, file=sys.stderr, flush=True)
        if not snapshots:
            say_without_snapshot(folder, list(curve_missing))
            return RunOutcome(spec.run_id, DONE, detail)
        missing = []                # the snapshots it kept are scored all the same
    dataset = cached_dataset(spec.dataset, spec.data)
    policy = choose_policy(options.device, spec.precision)
    method = methods.create(spec.method, dict(spec.params), dataset.image_shape, policy, spec.seed,
                            dataset.method_defaults())
    if not done or missing:          # a finished run asked only for scores at earlier steps is not touched
        try:
            if method.trainable:       # resumes from the checkpoint; returns at once when trained
                shorter = store.warm_start(spec, options.warm_start)
                if shorter:
                    print(f"{spec.run_id}: starting from {shorter}, the same run trained for fewer steps",
                          file=sys.stderr, flush=True)
                train(method, dataset, spec.steps, spec.seed, folder.path, options.progress,
                      options.checkpoint_every, options.log_every, schedule)
            else:
                method.fit(dataset, fitting_rng(spec.seed))
        except TrainingDiverged as error:
            folder.set_status(FAILED, str(error))
            return RunOutcome(spec.run_id, FAILED, str(error))
        folder.set_status(DONE)
        record_health(method, folder, spec.steps)
        codes = Representation.from_method(method, dataset, options.progress)
        for name in missing:
            values = metrics.score(name, codes, dataset, spec.seed, options.quick, **options.metric_params.get(name, {}))
            folder.add_scores(name, wanted[name], values)
    score_snapshots(method, dataset, spec.seed, folder, curve_missing, curve_wanted, options.quick,
                    options.metric_params, options.progress)
    return RunOutcome(spec.run_id, DONE, detail)


def record_health(method, folder: RunFolder, steps: int) -> None:
    """Store the method's `health.*` scores from its log.csv (GANs: methods/gan_health.py)."""
    if not method.trainable or not folder.has_log():
        return
    import pandas as pd
    values = method.training_health(pd.read_csv(folder.log))
    if values:
        folder.add_scores(HEALTH, {"steps": steps}, values)
