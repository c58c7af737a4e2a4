"""The results folder: one folder per run, written atomically, and scores.csv assembled from them.

results/NAME/runs/RUN_ID/ holds spec.json, log.csv, checkpoint.pt, scores.json and status;
results/NAME/scores.csv is long format, one row per (run, metric key) (docs/design.md, "Results").

Several processes may share one results folder (two `bench run` commands, or the workers of a
sweep, on one machine or a cluster's shared filesystem). They never corrupt it: every file is
written to a temporary name and renamed; a run folder's `.lock` (flock) lets one process at a
time work on that run, and the folder's `.scores.lock` serialises the rebuilds of scores.csv.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:                # pragma: no cover - Windows: no locking between processes
    fcntl = None

import numpy as np
import pandas as pd
import sklearn
import torch

from bench.errors import UserError
from bench.spec import same_run_but_steps

DONE, RUNNING, FAILED = "done", "running", "failed"
SCORE_COLUMNS = ["run_id", "method", "dataset", "seed", "steps", "params", "metric", "value",
                 "metric_settings", "torch", "numpy", "sklearn"]


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(text.encode() if isinstance(text, str) else text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


@contextlib.contextmanager
def file_lock(path: Path, on_wait=None):
    """Hold an exclusive flock on `path` (created if need be); waits for another holder, calling
    `on_wait` first. The kernel releases it when its process dies, even by SIGKILL."""
    with open(path, "a") as handle:
        if fcntl is None:
            yield
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def library_versions() -> dict[str, str]:
    return {"torch": torch.__version__, "numpy": np.__version__, "sklearn": sklearn.__version__}


def read_json(path: Path, default=None):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return default


class RunStore:
    def __init__(self, out_dir):
        self.out_dir = Path(out_dir)
        self.runs_dir = self.out_dir / "runs"
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

    def run_dir(self, spec) -> Path:
        return self.runs_dir / spec.run_id

    def run_lock(self, spec, on_wait=None):
        """Held while a process trains or scores the run; a second process waits for it."""
        folder = self.run_dir(spec)
        folder.mkdir(parents=True, exist_ok=True)
        return file_lock(folder / ".lock", on_wait)

    def begin(self, spec) -> Path:
        """The run's folder with its spec.json; called under run_lock, so the temporary files of a
        writer that was killed before its rename can go."""
        folder = self.run_dir(spec)
        folder.mkdir(parents=True, exist_ok=True)
        for leftover in folder.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
        write_atomically(folder / "spec.json", json.dumps(spec.to_json(), indent=2))
        if self.status(spec)[0] != DONE:
            self.set_status(spec, RUNNING)
        return folder

    def warm_start(self, spec, other_results: str | None = None) -> str | None:
        """Give a trainable run that has no checkpoint the checkpoint and log of the longest-trained
        run that is the same but for fewer steps (here or in `other_results`); the folder it came
        from, or None. Every step depends only on the state a checkpoint restores (bench/runner.py),
        so training on from there ends exactly where training from scratch would (on CPU)."""
        folder = self.run_dir(spec)
        if not spec.trainable or (folder / "checkpoint.pt").exists():
            return None
        same = same_run_but_steps(spec.to_json())
        best = None
        for runs_dir in [self.runs_dir, *([Path(other_results) / "runs"] if other_results else [])]:
            for candidate in sorted(runs_dir.glob("*/spec.json")):
                other = read_json(candidate, {})
                if not isinstance(other, dict):
                    continue
                if (same_run_but_steps(other) == same and 0 < other.get("steps", 0) < spec.steps
                        and (candidate.parent / "checkpoint.pt").exists()
                        and (best is None or other["steps"] > best[0])):
                    best = (other["steps"], candidate.parent)
        if best is None:
            return None
        for name in ("log.csv", "checkpoint.pt"):
            if (best[1] / name).exists():
                write_atomically(folder / name, (best[1] / name).read_bytes())
        return str(best[1])

    def status(self, spec) -> tuple[str, str]:
        """(state, detail): state is done, running, failed or new."""
        try:
            text = (self.run_dir(spec) / "status").read_text().strip()
        except OSError:
            return "new", ""
        state, _, detail = text.partition(":")
        return state, detail.strip()

    def set_status(self, spec, state: str, detail: str = "") -> None:
        write_atomically(self.run_dir(spec) / "status", f"{state}: {detail}" if detail else state)

    def scores(self, spec) -> dict:
        """{metric name: {"settings": {...}, "values": {key: value}}} of a run."""
        return read_json(self.run_dir(spec) / "scores.json", {})

    def add_scores(self, spec, metric: str, settings: dict, values: dict) -> None:
        scores = self.scores(spec)
        scores[metric] = {"settings": settings, "values": values, "versions": library_versions()}
        write_atomically(self.run_dir(spec) / "scores.json", json.dumps(scores, indent=2))

    def assemble_scores_csv(self) -> Path:
        """Rebuild scores.csv from every run folder, under the folder's lock: concurrent `bench run`
        commands take turns, and the last one reads every run that had finished."""
        with file_lock(self.out_dir / ".scores.lock"):
            return self._assemble_scores_csv()

    def _assemble_scores_csv(self) -> Path:
        rows = []
        for folder in sorted(path for path in self.runs_dir.iterdir() if path.is_dir()):
            spec, scores = read_json(folder / "spec.json"), read_json(folder / "scores.json", {})
            if spec is None and not (folder / "spec.json").exists():
                continue                                   # a run that has not begun
            try:
                rows.extend(score_rows(spec, scores))
            except (KeyError, TypeError, AttributeError, ValueError) as error:
                unreadable = "spec.json" if not isinstance(spec, dict) or "run_id" not in spec else "scores.json"
                print(f"bench: {folder.name}: {unreadable} is unreadable ({type(error).__name__}); its "
                      f"scores are left out of scores.csv", file=sys.stderr)
        frame = pd.DataFrame(rows, columns=SCORE_COLUMNS)
        write_atomically(self.scores_csv, frame.to_csv(index=False))
        return self.scores_csv


def score_rows(spec: dict, scores: dict) -> list[dict]:
    """The scores.csv rows of one run folder (its spec.json and scores.json)."""
    if not isinstance(spec, dict):
        raise TypeError("spec.json is not a JSON object")
    rows = []
    for metric in scores.values():
        for key, value in metric["values"].items():
            rows.append({"run_id": spec["run_id"], "method": spec["method"],
                         "dataset": spec["dataset"], "seed": spec["seed"], "steps": spec["steps"],
                         "params": json.dumps(spec["overrides"], sort_keys=True), "metric": key,
                         "value": number(value), "metric_settings": json.dumps(metric["settings"], sort_keys=True),
                         **metric["versions"]})
    return rows


def number(value):
    """`value` when it is a number (as scores.json holds them), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"score {value!r} is not a number")
    return value


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
    if not (results_dir / "runs").is_dir():
        if not path.exists():
            return None                        # not a results folder: the report says so
        raise UserError(f"{path} {problem.removeprefix('was ')} and {str(results_dir)!r} has no runs/ folder "
                        f"to rebuild it from")
    RunStore(results_dir).assemble_scores_csv()
    return f"{path} {problem}; rebuilt it from the run folders in {results_dir / 'runs'}/"
