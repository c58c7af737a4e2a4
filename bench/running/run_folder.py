"""One run's folder, RESULTS/runs/RUN_ID/ (docs/design.md, "Results"): the one place that names
its files and reads and writes its spec.json, status, scores.json and machine.json.

    spec.json      what the run is (bench/running/spec.py: RunSpec.to_json writes it, StoredSpec reads it)
    status         "done", "running" or "failed: REASON"; no file: the run is new
    log.csv        training log, one row per log interval (bench/running/runner.py)
    checkpoint.pt  weights, optimisers, step and RNG states (bench/running/runner.py)
    snapshots/step-001000.pt  the weights alone at each step of the run's score schedule below its
                   last (bench/running/runner.py; bench/running/score_schedule.py)
    scores.json    metric name -> its settings, values and library versions, at the run's last step
                   (bench/running/stored_score.py, StoredScore)
    curve.json     the same at the earlier steps of the schedule: {"1000": {metric name: ...}}
    protocols.json the run rescored under a preset's metric protocols (bench/reporting/protocol_study.py)
    machine.json   where each training of the run started and on what machine (bench/machine.py): a list
                   of {"from_step": N, "cpu": ..., ...}, one entry per start (0: from scratch); provenance,
                   not identity
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.running.files import file_lock, read_json, write_atomically
from bench.running.spec import StoredSpec
from bench.running.stored_score import StoredScore, scores_json, stored_scores

RUNS = "runs"                        # RESULTS/runs/ holds the run folders
DONE, RUNNING, FAILED, NEW = "done", "running", "failed", "new"


class RunFolder:
    SPEC, STATUS, LOG, CHECKPOINT, SCORES = "spec.json", "status", "log.csv", "checkpoint.pt", "scores.json"
    PROTOCOLS, LOCK, SNAPSHOTS, CURVE, MACHINE = "protocols.json", ".lock", "snapshots", "curve.json", "machine.json"

    def __init__(self, path):
        self.path = Path(path)

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def spec_file(self) -> Path:
        return self.path / self.SPEC

    @property
    def log(self) -> Path:
        return self.path / self.LOG

    @property
    def checkpoint(self) -> Path:
        return self.path / self.CHECKPOINT

    @property
    def protocols(self) -> Path:
        return self.path / self.PROTOCOLS

    def snapshot(self, step: int) -> Path:
        """The weights at `step` (a step of the run's score schedule), e.g. snapshots/step-001000.pt."""
        return self.path / self.SNAPSHOTS / f"step-{step:06d}.pt"

    def snapshot_steps(self) -> list[int]:
        """The steps that have a snapshot, in order."""
        return sorted(int(path.stem.removeprefix("step-")) for path in (self.path / self.SNAPSHOTS).glob("step-*.pt"))

    def take_training_of(self, shorter: RunFolder) -> None:
        """Copy the log, checkpoint, snapshots and machine.json of `shorter`, the same run trained for
        fewer steps (a warm start: bench/running/store.py), so that training goes on from there; a
        machine.json of this folder's own earlier training goes (those steps are trained again)."""
        (self.path / self.MACHINE).unlink(missing_ok=True)
        for source, target in ((shorter.log, self.log), (shorter.checkpoint, self.checkpoint),
                               (shorter.path / self.MACHINE, self.path / self.MACHINE),
                               *((shorter.snapshot(step), self.snapshot(step)) for step in shorter.snapshot_steps())):
            if source.exists():
                target.parent.mkdir(exist_ok=True)
                write_atomically(target, source.read_bytes())

    def has_log(self) -> bool:
        """Whether log.csv exists and holds anything (a run that trained at least one interval)."""
        return self.log.exists() and self.log.stat().st_size > 0

    def spec(self) -> StoredSpec | None:
        """spec.json as a StoredSpec (the fields an older file lacks filled in); None where it is
        missing or unreadable (`bench report` says which are unreadable and skips them)."""
        return StoredSpec.from_json(read_json(self.spec_file))

    def write_spec(self, spec_json: dict) -> None:
        write_atomically(self.spec_file, json.dumps(spec_json, indent=2))

    def status(self) -> tuple[str, str]:
        """(state, detail): state is done, running, failed or new (no status file)."""
        try:
            text = (self.path / self.STATUS).read_bytes().decode(errors="replace").strip()
        except OSError:
            return NEW, ""
        state, _, detail = text.partition(":")
        return state, detail.strip()

    @property
    def state(self) -> str:
        return self.status()[0]

    def set_status(self, state: str, detail: str = "") -> None:
        write_atomically(self.path / self.STATUS, f"{state}: {detail}" if detail else state)

    def scores(self) -> dict[str, StoredScore]:
        """scores.json: metric name -> its StoredScore; none where the file is missing or damaged
        (`damaged` says what is wrong with it, and its metrics are scored again)."""
        return read_scores(self.path / self.SCORES)[0]

    def add_scores(self, metric: str, settings: dict, values: dict) -> None:
        """Store one metric's values with the settings and library versions they were computed with."""
        scores = self.scores()
        scores[metric] = StoredScore(settings, values, library_versions())
        write_atomically(self.path / self.SCORES, json.dumps(scores_json(scores), indent=2))

    def curve_scores(self) -> dict[str, dict[str, StoredScore]]:
        """curve.json: "STEP" -> metric name -> StoredScore, the scores at the steps of the schedule
        below the run's last (scores.json holds the last step's); none where the file is missing or
        damaged, as for scores()."""
        return read_curve(self.path / self.CURVE)[0]

    def add_curve_scores(self, step: int, metric: str, settings: dict, values: dict) -> None:
        """Store one metric's values at `step` like add_scores does at the last step."""
        curve = self.curve_scores()
        curve.setdefault(str(step), {})[metric] = StoredScore(settings, values, library_versions())
        ordered = {step: scores_json(scores) for step, scores in sorted(curve.items(), key=lambda item: int(item[0]))}
        write_atomically(self.path / self.CURVE, json.dumps(ordered, indent=2))

    def machines(self) -> list[dict]:
        """machine.json: one entry per training of the run, {"from_step": N, ...bench/machine.py's
        description}, in order; none where the file is missing or damaged (`damaged` says what)."""
        return read_machines(self.path / self.MACHINE)[0]

    def add_machine(self, from_step: int, description: dict) -> None:
        """Record that training starts at `from_step` (0: from scratch) on the machine `description`
        describes. Entries from `from_step` on are dropped, like log.csv's rows past a resume point:
        their steps are trained again. A damaged machine.json is said in one line and started again."""
        for line in self.damaged_lines(self.MACHINE):
            print(line, file=sys.stderr, flush=True)
        kept = [entry for entry in self.machines() if entry["from_step"] < from_step]
        write_atomically(self.path / self.MACHINE,
                         json.dumps([*kept, {"from_step": from_step, **description}], indent=2))

    def damaged(self, *names: str) -> dict[str, str]:
        """file name -> what is wrong with it, for each file of `names` (spec.json, status,
        scores.json, curve.json, machine.json) that exists but cannot be read as this harness writes it."""
        found = {}
        if self.SPEC in names and self.spec_file.exists() and self.spec() is None:
            found[self.SPEC] = "not a run's spec.json"
        if self.STATUS in names and (state := self.state) not in (NEW, DONE, RUNNING, FAILED):
            found[self.STATUS] = f"reads {state[:40]!r}, not done, running or failed"
        for name, read in ((self.SCORES, read_scores), (self.CURVE, read_curve), (self.MACHINE, read_machines)):
            if name in names and (why := read(self.path / name)[1]):
                found[name] = why
        return dict(sorted(found.items(), key=lambda item: names.index(item[0])))

    def damaged_lines(self, *names: str) -> tuple[str, ...]:
        """One line per damaged file among `names`: which file, what is wrong, what is done about it."""
        return tuple(f"{self.run_id}: {name} is damaged ({why}); {DAMAGE_DONE[name]}"
                     for name, why in self.damaged(*names).items())

    def lock(self, on_wait=None):
        """Held while a process trains or scores the run; a second process waits for it."""
        self.path.mkdir(parents=True, exist_ok=True)
        return file_lock(self.path / self.LOCK, on_wait)

    def remove_leftovers(self) -> None:
        """The temporary files of a writer killed before its rename (call it under the lock)."""
        for leftover in [*self.path.glob(".*.tmp"), *(self.path / self.SNAPSHOTS).glob(".*.tmp")]:
            leftover.unlink(missing_ok=True)


# What is done about each damaged file (RunFolder.damaged_lines): spec.json and status when a run
# begins (store.py), scores.json and curve.json when it is planned (plan.py), machine.json when it
# trains (runner.py) or a baseline is fitted (execute.py); `bench report` counts a damaged one as not recorded.
DAMAGE_DONE = {RunFolder.SPEC: "written again from the run's settings",
               RunFolder.STATUS: "the run is taken as unfinished: it resumes from its checkpoint and scores "
                                 "what it lacks",
               RunFolder.SCORES: "its metrics are scored again (from checkpoint.pt where the run is finished)",
               RunFolder.CURVE: "its earlier steps are scored again from their snapshots where --score-at asks "
                                "for them, else left out of scores.csv",
               RunFolder.MACHINE: "started again with this training's entry (where earlier training ran is not "
                                  "known)"}


def library_versions() -> dict[str, str]:
    import numpy
    import sklearn
    import torch
    return {"torch": torch.__version__, "numpy": numpy.__version__, "sklearn": sklearn.__version__}


def run_folders(results_dir) -> list[RunFolder]:
    """The run folders of a results folder, by name; none where it has no runs/ folder."""
    runs_dir = Path(results_dir) / RUNS
    return [RunFolder(path) for path in sorted(runs_dir.iterdir()) if path.is_dir()] if runs_dir.is_dir() else []


def readable_specs(results_dir) -> dict[str, StoredSpec]:
    """run_id -> the StoredSpec of every run folder of a results folder with a readable one (RunFolder.spec)."""
    return {folder.run_id: spec for folder in run_folders(results_dir) if (spec := folder.spec()) is not None}


def read_scores(path: Path) -> tuple[dict[str, StoredScore], str | None]:
    """A scores.json (or one step of curve.json) as metric name -> StoredScore, and what is wrong
    with it: None where it is missing or sound; a damaged file reads as no scores."""
    content = read_json(path, path) if path.exists() else {}
    if content is path or not isinstance(content, dict):
        return {}, "not JSON" if content is path else "not a JSON object"
    try:
        return stored_scores(content), None
    except ValueError as error:
        return {}, " ".join(str(error).split())[:160]


def read_curve(path: Path) -> tuple[dict[str, dict[str, StoredScore]], str | None]:
    """curve.json as "STEP" -> metric name -> StoredScore, and what is wrong with it, as read_scores."""
    content = read_json(path, path) if path.exists() else {}
    if content is path:
        return {}, "not JSON"
    if not isinstance(content, dict):
        return {}, f"holds {type(content).__name__}, not steps"
    try:
        return {step: stored_scores(scores) for step, scores in content.items()}, None
    except ValueError as error:
        return {}, " ".join(str(error).split())[:160]


def read_machines(path: Path) -> tuple[list[dict], str | None]:
    """machine.json as its list of entries, and what is wrong with it, as read_scores: a damaged
    file (not a list of objects, each with an integer from_step) reads as no entries."""
    content = read_json(path, path) if path.exists() else []
    if content is path:
        return [], "not JSON"
    if not isinstance(content, list):
        return [], f"holds {type(content).__name__}, not a list of trainings"
    for entry in content:
        step = entry.get("from_step") if isinstance(entry, dict) else None
        if isinstance(step, bool) or not isinstance(step, int):
            return [], f"an entry without an integer from_step: {json.dumps(entry)[:60]}"
    return content, None
