"""Scores along training (issue 25): the steps a run is scored at, and the scoring of its snapshots.

`bench run --score-at 1000,2000,4000` (or `score_at = [...]` in a sweep file) makes the runner keep
the weights at each scheduled step below the run's last (snapshots/step-001000.pt,
bench/running/runner.py). After training, each snapshot whose scores are missing is loaded into the
method, encoded once (metrics/codes.py) and scored with the curve metrics; the scores go to the run
folder's curve.json and from there to scores.csv's rows with an earlier `step`. The last step is
scored as every run is, into scores.json. The schedule changes no weight, so it is not part of a
run's identity: asking for it later scores the snapshots that exist, never retrains.

`log` means LOG_POINTS steps each twice the one before and ending at the run's steps (31,250:
1,000, 2,000, 3,900, 7,800, 15,600 and 31,250), the earlier ones rounded to the log interval.
"""
from __future__ import annotations

import sys

import metrics
from bench.defaults import LOG_EVERY
from bench.running.legacy import unscored
from bench.running.run_folder import RunFolder
from bench.running.runner import read_checkpoint
from metrics.codes import Representation

LOG = "log"
LOG_POINTS = 6


def steps_to_score(score_at, steps: int) -> tuple[int, ...]:
    """The steps below `steps` that a run of `steps` steps keeps and scores: those of `score_at`
    (a tuple of steps, or LOG); the last step is scored anyway."""
    if score_at == LOG:
        score_at = [round(steps / 2 ** k / LOG_EVERY) * LOG_EVERY for k in range(1, LOG_POINTS)]
    return tuple(sorted({step for step in score_at if 0 < step < steps}))


def default_curve_metrics(names) -> tuple[str, ...]:
    """A run's metrics without those declared `expensive` and those of a set of models (UDR, which
    one run cannot be scored with): what it is scored with at the earlier steps."""
    return tuple(name for name in names
                 if not metrics.metric(name).expensive and not metrics.metric(name).several_models)


def missing_curve_scores(folder: RunFolder, schedule, wanted: dict) -> dict[int, dict]:
    """step -> the curve metrics of `wanted` (name -> settings) not yet stored at that step with
    those settings, each with its settings."""
    stored = folder.curve_scores()
    missing = {}
    for step in schedule:
        names = unscored(wanted, stored.get(str(step), {}))
        if names:
            missing[step] = {name: wanted[name] for name in names}
    return missing


def score_snapshots(method, dataset, seed: int, folder: RunFolder, missing: dict[int, dict], quick: bool,
                    metric_params: dict, progress: bool) -> None:
    """Score each step of `missing` (step -> metric name -> settings) from its snapshot (loaded into
    `method`, which keeps them); a step without a usable snapshot is skipped, and one line names
    the steps skipped."""
    absent, unusable = [], []
    for step, wanted in sorted(missing.items()):
        path = folder.snapshot(step)
        if not path.exists():
            absent.append(step)
            continue
        state, problem = read_checkpoint(path, method.policy.device, part="modules")
        if problem is None:
            try:
                for key, module in method.modules().items():
                    module.load_state_dict(state["modules"][key])
            except (KeyError, TypeError, ValueError, RuntimeError) as error:
                problem = f"does not fit the run's method ({type(error).__name__})"
        if problem is not None:
            unusable.append(f"{folder.run_id}: not scored at that step: {path.name} {problem}")
            continue
        codes = Representation.from_method(method, dataset, progress)
        for name, settings in wanted.items():
            values = metrics.score(name, codes, dataset, seed, quick, **metric_params.get(name, {}))
            folder.add_curve_scores(step, name, settings, values)
    for line in [*without_snapshot(folder.run_id, absent), *unusable]:
        print(line, file=sys.stderr, flush=True)


def without_snapshot(run_id: str, steps) -> tuple[str, ...]:
    """The line naming the steps that cannot be scored for want of a snapshot, if any."""
    if not steps:
        return ()
    return (f"{run_id}: not scored at step{'s' * (len(steps) > 1)} {', '.join(map(str, steps))}: no snapshot "
            f"there (the run was trained before that step was asked for)",)
