"""The results folder: one folder per run, written atomically, and scores.csv assembled from them.

results/NAME/runs/RUN_ID/ holds spec.json, log.csv, checkpoint.pt, scores.json and status;
results/NAME/scores.csv is long format, one row per (run, metric key) (DESIGN.md, "Results").
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch

from bench.errors import UserError

DONE, RUNNING, FAILED = "done", "running", "failed"
SCORE_COLUMNS = ["run_id", "method", "dataset", "seed", "steps", "params", "metric", "value",
                 "metric_settings", "torch", "numpy", "sklearn"]


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(text.encode() if isinstance(text, str) else text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


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
        except OSError as error:
            raise UserError(f"cannot write results to {str(self.out_dir)!r}: {error.strerror}") from None
        if not os.access(self.runs_dir, os.W_OK):
            raise UserError(f"cannot write results to {str(self.out_dir)!r}: permission denied")

    @property
    def scores_csv(self) -> Path:
        return self.out_dir / "scores.csv"

    def run_dir(self, spec) -> Path:
        return self.runs_dir / spec.run_id

    def begin(self, spec) -> Path:
        folder = self.run_dir(spec)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / "spec.json", json.dumps(spec.to_json(), indent=2))
        if self.status(spec)[0] != DONE:
            self.set_status(spec, RUNNING)
        return folder

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
        """Rebuild scores.csv from every run folder, so concurrent writers cannot corrupt it."""
        rows = []
        for folder in sorted(self.runs_dir.iterdir()):
            spec = read_json(folder / "spec.json")
            scores = read_json(folder / "scores.json", {})
            if spec is None:
                continue
            for metric in scores.values():
                for key, value in metric["values"].items():
                    rows.append({"run_id": spec["run_id"], "method": spec["method"],
                                 "dataset": spec["dataset"], "seed": spec["seed"], "steps": spec["steps"],
                                 "params": json.dumps(spec["overrides"], sort_keys=True), "metric": key,
                                 "value": value, "metric_settings": json.dumps(metric["settings"], sort_keys=True),
                                 **metric["versions"]})
        frame = pd.DataFrame(rows, columns=SCORE_COLUMNS)
        write_atomically(self.scores_csv, frame.to_csv(index=False))
        return self.scores_csv
