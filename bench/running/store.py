"""The results folder: one folder per run (bench/running/run_folder.py), and scores.csv assembled from them.

results/NAME/runs/RUN_ID/ is a run's folder; results/NAME/scores.csv is long format, one row per
(run, metric key, step) (docs/design.md, "Results"). `step` is the run's steps on the rows of its
last step (scores.json) and an earlier step on the rows of its score schedule (curve.json); the
readers of the table take the last step's rows (final_scores) unless they draw curves
(curve_scores). A scores.csv written before the column existed holds only last-step rows.

Several processes may share one results folder (two `bench run` commands, or the workers of a
sweep, on one machine or a cluster's shared filesystem). They never corrupt it: every file is
written to a temporary name and renamed; a run folder's `.lock` (flock) lets one process at a
time work on that run, and the folder's `.scores.lock` serialises the rebuilds of scores.csv.
"""
from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import pandas as pd

from bench.errors import UserError
from bench.running.files import file_lock, write_atomically
from bench.running.legacy import same_run_but_steps
from bench.running.replicas import configurations_apart
from bench.running.run_folder import DONE, RUNNING, RUNS, RunFolder, run_folders
from bench.running.spec import StoredSpec, metric_provenance
from bench.running.stored_score import StoredScore

SCORE_COLUMNS = ["run_id", "method", "dataset", "seed", "steps", "precision", "params", "metric", "value",
                 "metric_settings", "torch", "numpy", "sklearn", "step"]


class RunStore:
    """A results folder that runs are written to: its run folders and scores.csv."""

    def __init__(self, out_dir):
        self.out_dir = Path(out_dir)
        self.runs_dir = self.out_dir / RUNS
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            probe = self.runs_dir / f".probe.{os.getpid()}-{threading.get_ident()}"
            probe.write_bytes(b"")         # os.access says yes to root and on some network filesystems
            probe.unlink()
        except OSError as error:
            raise UserError(f"cannot write results to {str(self.out_dir)!r}: "
                            f"{error.strerror or type(error).__name__}") from None

    @property
    def scores_csv(self) -> Path:
        return self.out_dir / "scores.csv"

    def folder(self, run_id: str) -> RunFolder:
        return RunFolder(self.runs_dir / run_id)

    def begin(self, spec, metric_names=()) -> RunFolder:
        """The run's folder with its spec.json, which records the provenance of the plug-in metrics
        of `metric_names` (those asked of the run now) beside those it was scored with before;
        called under the folder's lock, so the temporary files of a writer that was killed before
        its rename can go."""
        folder = self.folder(spec.run_id)
        folder.path.mkdir(parents=True, exist_ok=True)
        folder.remove_leftovers()
        for line in folder.damaged_lines(RunFolder.SPEC, RunFolder.STATUS):
            print(line, file=sys.stderr, flush=True)
        recorded = folder.spec() if folder.spec_file.exists() else None
        scored_before = recorded.metric_plugins() if recorded is not None else {}
        folder.write_spec(spec.to_json({**scored_before, **metric_provenance(metric_names)}))
        if folder.state != DONE:
            folder.set_status(RUNNING)
        return folder

    def warm_start(self, spec, other_results: str | None = None) -> str | None:
        """Where a trainable run that has no checkpoint can start from: the folder of the
        longest-trained run that is the same but for fewer steps and has a checkpoint, here or in
        `other_results`; None if there is none. Every step depends only on the state a checkpoint
        restores (bench/running/runner.py), so training on from its checkpoint, log and snapshots
        (RunFolder.take_training_of) ends exactly where training from scratch would (on CPU)."""
        if not spec.trainable or self.folder(spec.run_id).checkpoint.exists():
            return None
        same = same_run_but_steps(spec.stored())
        best = None
        for candidate in [*run_folders(self.out_dir), *(run_folders(other_results) if other_results else [])]:
            other = candidate.spec()
            if (other is not None and same_run_but_steps(other) == same and 0 < other.steps < spec.steps
                    and candidate.checkpoint.exists() and (best is None or other.steps > best[0])):
                best = (other.steps, candidate)
        return None if best is None else str(best[1].path)

    def assemble_scores_csv(self) -> Path:
        """Rebuild scores.csv from every run folder, under the folder's lock: concurrent `bench run`
        commands take turns, and the last one reads every run that had finished."""
        with file_lock(self.out_dir / ".scores.lock"):
            return self._assemble_scores_csv()

    def _assemble_scores_csv(self) -> Path:
        rows = []
        for folder in run_folders(self.out_dir):
            if not folder.spec_file.exists():
                continue                                   # a run that has not begun
            spec = folder.spec()
            if spec is None:
                print(f"bench: {folder.run_id}: {RunFolder.SPEC} is unreadable; its scores are left out of "
                      f"scores.csv", file=sys.stderr)
                continue
            try:
                rows.extend(score_rows(spec, folder.scores(), folder.curve_scores()))
            except (KeyError, TypeError, AttributeError, ValueError) as error:
                print(f"bench: {folder.run_id}: {RunFolder.SCORES} is unreadable ({type(error).__name__}); its "
                      f"scores are left out of scores.csv", file=sys.stderr)
        frame = pd.DataFrame(rows, columns=SCORE_COLUMNS)
        write_atomically(self.scores_csv, frame.to_csv(index=False))
        return self.scores_csv


def score_rows(spec: StoredSpec, scores: dict[str, StoredScore],
               curve: dict[str, dict[str, StoredScore]] | None = None) -> list[dict]:
    """The scores.csv rows of one run folder: its last step's (spec.json and scores.json), then
    those of the earlier steps of its schedule (curve.json), step by step; a ValueError where a
    score lacks its settings or library versions (the table's columns)."""
    rows = []
    for step, step_scores in [(spec.steps, scores), *sorted((int(s), c) for s, c in (curve or {}).items())]:
        for metric in step_scores.values():
            if metric.settings is None or metric.versions is None:
                raise ValueError("a score without its settings or library versions")
            for key, value in metric.values.items():
                rows.append({"run_id": spec.run_id, "method": spec.method, "dataset": spec.dataset,
                             "seed": spec.seed, "steps": spec.steps, "precision": spec.precision,
                             "params": json.dumps(spec.overrides, sort_keys=True), "metric": key,
                             "value": number(value), "metric_settings": json.dumps(metric.settings, sort_keys=True),
                             **metric.versions, "step": step})
    return rows


def number(value):
    """`value` when it is a number (as scores.json holds them), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"score {value!r} is not a number")
    return value


def curve_scores(path) -> pd.DataFrame:
    """Every row of the scores.csv at `path`, at every step a run was scored at, the last included,
    with the runs of one method and parameters but another dataset, budget or precision kept apart
    in `params` (bench/running/replicas.py). A file from before the `step` column gets it: its rows
    are all of the runs' last step."""
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    return configurations_apart(frame if "step" in frame.columns else frame.assign(step=frame["steps"]))


def final_scores(path) -> pd.DataFrame:
    """The rows of the scores.csv at `path` at each run's last step: the table every summary,
    claim and figure reads unless it draws scores along training (curve_scores)."""
    frame = curve_scores(path)
    return frame[frame["step"] == frame["steps"]].reset_index(drop=True)


REPORT_COLUMNS = ["run_id", "method", "dataset", "seed", "steps", "params", "metric", "value"]


def repair_scores_csv(results_dir) -> str | None:
    """Rebuild RESULTS_DIR/scores.csv from its run folders when it is missing, unreadable or lacks
    the columns a report needs (as `bench run` rebuilds it after every sweep); a line saying so,
    or None when it was fine (or there are no run folders to rebuild it from)."""
    results_dir = Path(results_dir)
    path = results_dir / "scores.csv"
    if not path.exists():
        problem = "was missing"
    else:
        try:
            frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
            missing = [column for column in REPORT_COLUMNS if column not in frame.columns]
            if missing:
                problem = f"was unreadable (no column {missing[0]!r})"
            elif len(frame) and not pd.api.types.is_numeric_dtype(frame["value"]):   # empty: no metric scored
                problem = "was unreadable (a value that is not a number)"
            else:
                return None
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            reason = str(error).splitlines()[0] if str(error) else ""
            problem = f"was unreadable ({type(error).__name__}{': ' + reason[:80] if reason else ''})"
    if not (results_dir / RUNS).is_dir():
        if not path.exists():
            return None                        # not a results folder: the report says so
        raise UserError(f"{path} {problem.removeprefix('was ')} and {str(results_dir)!r} has no {RUNS}/ folder "
                        f"to rebuild it from")
    RunStore(results_dir).assemble_scores_csv()
    return f"{path} {problem}; rebuilt it from the run folders in {results_dir / RUNS}/"
