"""What to do with one run, decided before anything is loaded: `plan(spec, store, wanted) -> Plan`
(docs/design.md, "Plan, then act"). It reads the run's folder only (status, scores.json,
curve.json, which checkpoint and snapshots exist) and the folders of shorter runs it could start
from, so it is tested on hand-made folders (tests/test_plan.py); bench/running/execute.py carries
the plan out. Which stored scores still count is bench/running/legacy.py's rule (unscored).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from bench.running.legacy import unscored
from bench.running.run_folder import DONE, RunFolder
from bench.running.score_schedule import missing_curve_scores, without_snapshot
from bench.running.store import RunStore

SKIP = "skip"                # nothing to do, or nothing that can be done: the run stays as it is
SNAPSHOTS = "snapshots"      # a finished run: score the snapshots of its schedule, nothing else
RESCORE = "rescore"          # a finished run: restore its weights (checkpoint.pt, or a fit), score
TRAIN = "train"              # train (from scratch, its checkpoint or a shorter run's) or fit, score
ALREADY_DONE = "already done"


@dataclass(frozen=True)
class Wanted:
    """What a sweep asks of a run: metric name -> settings at its last step (`final`), the steps of
    its score schedule below the last (`schedule`) and what they are scored with (`curve`), and a
    results folder besides its own whose shorter runs it may start from (`warm_start`)."""
    final: dict
    schedule: tuple[int, ...] = ()
    curve: dict = field(default_factory=dict)
    warm_start: str | None = None


@dataclass(frozen=True)
class Plan:
    """Carrying out a run: its `action`; the metrics to score at the last step (`final`: name ->
    settings) and at steps of the schedule from their snapshots (`curve`: step -> name -> settings);
    the steps whose weights training keeps (`schedule`); the folder of a shorter run to start from
    (`warm_start`); the lines to say first, and the outcome's detail when the run ends done."""
    action: str
    final: dict = field(default_factory=dict)
    curve: dict = field(default_factory=dict)
    schedule: tuple[int, ...] = ()
    warm_start: str | None = None
    lines: tuple[str, ...] = ()
    detail: str = ""


def plan(spec, store: RunStore, wanted: Wanted) -> Plan:
    """The plan for `spec`'s run (a RunSpec) from what its folder in `store` holds.

    Not finished (new, interrupted, failed): TRAIN, from its checkpoint, else from the longest
    shorter run that has one (a warm start), else from scratch, and score what is missing.
    Finished: SKIP when every wanted score is there; SNAPSHOTS when only steps of the schedule
    that have a snapshot lack scores; RESCORE when a metric is missing or was scored with other
    settings, except a trained run whose checkpoint.pt is gone (results shared without weights),
    which is kept as it is with a line. A step a finished run has no snapshot of is named in a line.
    """
    folder = store.folder(spec.run_id)
    damage = folder.damaged_lines(RunFolder.SCORES, RunFolder.CURVE)      # begin() said spec.json's, status'
    final = {name: wanted.final[name] for name in unscored(wanted.final, folder.scores())}
    curve = missing_curve_scores(folder, wanted.schedule, wanted.curve)
    if folder.state != DONE:
        shorter = store.warm_start(spec, wanted.warm_start)
        lines = (f"{spec.run_id}: starting from {shorter}, the same run trained for fewer steps",) if shorter else ()
        return Plan(TRAIN, final, curve, wanted.schedule, shorter, (*damage, *lines))
    scorable = {step: names for step, names in curve.items() if folder.snapshot(step).exists()}
    lines = without_snapshot(spec.run_id, [step for step in curve if step not in scorable])
    if final and spec.trainable and not folder.checkpoint.exists():
        detail = (f"{spec.run_id}: kept as it is: scoring {', '.join(final)} with the wanted settings needs "
                  f"the trained weights, and its checkpoint.pt is gone (results shared without weights); "
                  f"delete {folder.path} to train it again, or only its status file to train it again keeping "
                  f"its scores (docs/usage.md, \"More metrics for finished runs\")")
        return Plan(SNAPSHOTS if scorable else SKIP, curve=scorable, lines=(*damage, detail, *lines), detail=detail)
    if final:
        return Plan(RESCORE, final, scorable, wanted.schedule, lines=(*damage, *lines))
    if scorable:
        return Plan(SNAPSHOTS, curve=scorable, lines=(*damage, *lines))
    return Plan(SKIP, lines=(*damage, *lines), detail=ALREADY_DONE)
