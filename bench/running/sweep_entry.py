"""A sweep from start to end as one call: `run(config, progress) -> SweepResult` (docs/design.md).

Everything a user can get wrong is checked before anything is written or trained: the grid and
every parameter value (config.specs), the device, the dataset and its file, each method's batches
and each metric's settings against the dataset, the warm-start folder, the cluster. Then the runs go (bench/running/sweep.py),
the model-set metrics (UDR) are scored over each method's seeds (bench/running/model_sets.py), and
the sweep's scores are read back from scores.csv. Lines saying what is under way are printed as it
goes; the table and where the outputs went are the command's to print (bench/cli.py).
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import metrics
import methods
from bench import data
from bench.device import BF16_WITHOUT_AMX, bf16_pays, choose_policy, cpu_bf16_units, precision_choice
from bench.errors import UserError
from bench.running import model_sets
from bench.running.config import SweepConfig
from bench.running.execute import NOT_STARTED, ExecutionOptions, RunOutcome
from bench.running.plan import ALREADY_DONE
from bench.running.run_folder import FAILED, RUNS, RunFolder
from bench.running.spec import changed_plugin
from bench.running.store import SCORE_COLUMNS, RunStore, final_scores
from bench.running.sweep import connect, run_sweep

EXIT_FAILED = 1                      # some runs failed (each said in a line); the next `bench run` retries them
EXIT_NO_SPACE = 3                    # a write failed for lack of space; free space, then run the command again


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did: each run's outcome (in the order of its specs), the scores of its runs at
    their last step (scores.csv's rows), the results folder, and the lines of the model-set metrics."""
    outcomes: list[RunOutcome]
    scores: pd.DataFrame
    store: RunStore
    model_set_lines: list[str]

    @property
    def run_ids(self) -> set[str]:
        return {outcome.run_id for outcome in self.outcomes}

    @property
    def failed(self) -> list[RunOutcome]:
        return [outcome for outcome in self.outcomes if outcome.state == FAILED]

    @property
    def already_done(self) -> int:
        """The runs that were finished before the sweep (skipped)."""
        return sum(outcome.detail == ALREADY_DONE for outcome in self.outcomes if outcome.state != FAILED)

    @property
    def not_started(self) -> list[RunOutcome]:
        """The runs not started because a write had failed for lack of space."""
        return [outcome for outcome in self.outcomes if outcome.state == NOT_STARTED]

    @property
    def no_space(self) -> bool:
        return any(outcome.no_space or outcome.state == NOT_STARTED for outcome in self.outcomes)

    @property
    def exit_code(self) -> int:
        """EXIT_NO_SPACE when a write failed for lack of space, EXIT_FAILED when a run failed, else 0
        (a user's mistake is 2, before anything runs: bench/cli.py)."""
        return EXIT_NO_SPACE if self.no_space else EXIT_FAILED if self.failed else 0


def run(config: SweepConfig, progress: bool = True) -> SweepResult:
    """Check the sweep, run it, score its model-set metrics and read its scores back."""
    check_compute(config.device, config.precision)           # a missing GPU fails here, before any run
    specs = config.specs()                                  # the data file is checked and fingerprinted
    if not config.accept_changed_plugins:
        refuse_changed_plugins(specs, config.out_dir, [*config.metrics, *config.curve_metrics])
    if config.warm_start and not (Path(config.warm_start) / RUNS).is_dir():
        raise UserError(f"--warm-start {config.warm_start}: not a results folder (it has no runs/ folder)")
    dataset = data.load(config.dataset, config.data_path)   # reads the file, builds the cache
    if not dataset.has_factors:                             # an image folder
        config = without_factors(config, dataset.name)
    for spec in {(spec.method, spec.params): spec for spec in specs}.values():    # each configuration once
        methods.method_class(spec.method).batch_kind_of(spec.method_params).check(dataset, spec.method)
    for name in dict.fromkeys([*config.metrics, *config.curve_metrics]):   # e.g. a factor the dataset lacks
        metrics.check(name, dataset, config.quick, **config.metric_params.get(name, {}))
    for line in config.cut_schedules():
        print(line, file=sys.stderr)
    with connect(config.backend, config.scheduler) as client:   # an unreachable cluster fails here, first
        store = RunStore(config.out_dir)
        precision, why = precision_choice(config.device, config.precision)
        print(f"{len(specs)} run(s) on {dataset.name} (a dataset of {len(dataset):,} images), training in "
              f"{precision} ({why}) -> {config.out_dir}/", flush=True)
        outcomes = run_sweep(specs, store, ExecutionOptions.from_config(config, progress), config.jobs,
                             config.backend, client)
    lines = []
    full = any(outcome.no_space for outcome in outcomes)    # then nothing more is written
    if not full and any(metrics.scores_model_sets(name) for name in config.metrics):   # UDR: each method's seeds
        lines = model_sets.score_model_sets(specs, store, config.metrics, config.quick, config.metric_params,
                                            progress)
        store.assemble_scores_csv()
    if not store.scores_csv.exists():                       # a full disk before the first rebuild
        return SweepResult(outcomes, pd.DataFrame(columns=SCORE_COLUMNS), store, lines)
    scores = final_scores(store.scores_csv)                 # the runs' last step, as before score schedules
    return SweepResult(outcomes, scores[scores["run_id"].isin({spec.run_id for spec in specs})], store, lines)


def refuse_changed_plugins(specs, out_dir: Path, metric_names=()) -> None:
    """A UserError where a run of `specs` is already in `out_dir` and was recorded with a plug-in
    (its method, its dataset, or a metric of `metric_names` it was scored with) whose source has
    changed since (its sha256 in spec.json, bench/plugins.py): resuming it, or keeping or
    rescoring what it computed, would mix two versions of the plug-in's code."""
    for spec in specs:
        folder = RunFolder(Path(out_dir) / RUNS / spec.run_id)
        recorded = folder.spec() if folder.spec_file.exists() else None
        change = changed_plugin(recorded, metric_names) if recorded is not None else None
        if change:
            raise UserError(f"{change}, so run {spec.run_id} in {out_dir}/ would mix two versions of its "
                            f"code; pass --accept-changed-plugins to go on with it, or --out a new folder")


def check_compute(device: str, precision: str) -> None:
    """Fail on a device that is not there; warn where bf16 may train slower than fp32 (bf16_pays):
    converted bf16 is slower; AVX-512 bf16 without AMX differs by CPU."""
    policy = choose_policy(device, precision)
    if policy.autocast_dtype is not None and policy.device.type == "cpu" and not bf16_pays(policy.device):
        if cpu_bf16_units():
            print(f"bench: warning: --precision bf16 on a CPU with AVX-512 bf16 but no AMX: its speed differs by CPU "
                  f"({BF16_WITHOUT_AMX}; docs/performance.md)", file=sys.stderr)
        else:
            print("bench: warning: --precision bf16 on a CPU without native bf16 trains slower than fp32 (~0.3x on "
                  "plain AVX-512, ~0.1x on AVX2; docs/reproduction.md)", file=sys.stderr)


def without_factors(config: SweepConfig, dataset_name: str) -> SweepConfig:
    """The sweep on a dataset without ground-truth factors: a method that needs them is an error;
    metrics that need them are left out, with one line saying so."""
    needing = [name for name in config.methods if methods.method_class(name).needs_factors]
    if needing:
        able = [name for name, cls in methods.METHODS.items() if not cls.needs_factors]
        raise UserError(f"method {needing[0]} needs ground-truth factors, which {dataset_name} has not; "
                        f"methods that train on it: {', '.join(able)}")
    skipped = [name for name in config.metrics if metrics.needs_factors(name)]
    if skipped:
        print(f"bench: skipping metric{'s' * (len(skipped) > 1)} {', '.join(skipped)}: "
              f"{'they need' if len(skipped) > 1 else 'it needs'} ground-truth factors, which "
              f"{dataset_name} has not (training only)", file=sys.stderr)
    return dataclasses.replace(config, metrics=tuple(name for name in config.metrics if name not in skipped),
                               score_at_metrics=None if config.score_at_metrics is None else
                               tuple(name for name in config.score_at_metrics if not metrics.needs_factors(name)))
