"""Scores along training as the report reads them (issue 25): the rows of scores.csv at every step
a run was scored at (bench/running/score_schedule.py), with the images each run had seen there
(step x its batch size). curves.png (bench/reporting/figures/score_curves.py) and the claims by budget
(bench/reporting/claims.py) are drawn from it."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.reporting.health import healthy_scores
from bench.running.run_folder import readable_specs
from bench.running.store import curve_scores


def along_training(results_dir: Path) -> pd.DataFrame:
    """The healthy runs' rows at every step, the last included, with `images` = step x batch size
    (from spec.json; a run whose spec.json is unreadable is left out); an empty frame when no run
    was scored before its last step."""
    path = Path(results_dir) / "scores.csv"
    if not path.exists():
        return pd.DataFrame()
    frame = healthy_scores(curve_scores(path))
    if not (frame["step"] != frame["steps"]).any():
        return pd.DataFrame()
    batch_sizes = {run_id: spec.params["batch_size"] for run_id, spec in readable_specs(results_dir).items()
                   if "batch_size" in spec.params}
    frame = frame.assign(images=frame["step"] * frame["run_id"].map(batch_sizes)).dropna(subset=["images"])
    return frame.astype({"images": "int64"}).reset_index(drop=True)


def scored_early(curves: pd.DataFrame) -> list[str]:
    """The metric keys that some run was scored at before its last step."""
    return list(dict.fromkeys(curves[curves["step"] != curves["steps"]]["metric"]))
