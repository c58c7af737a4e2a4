"""A reproduction beside its paper: replicas.png (every replica of every paper row) and
protocols.png (each paper row under each protocol of the metric, bench/reporting/protocol_study.py)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import seaborn as sns

from bench.reporting.figures.drawing import DPI, plt


def replica_points(scores: pd.DataFrame, paper: dict, unhealthy: set) -> pd.DataFrame:
    """The paper metric's rows of the paper's methods, with `row` (the paper's label), `score` (%)
    and `healthy`."""
    row_labels = {row["method"]: row["label"] for row in paper["rows"]}
    frame = scores[(scores["metric"] == paper["metric"]) & scores["method"].isin(row_labels)]
    return frame.assign(row=frame["method"].map(row_labels), score=frame["value"] * 100,
                        healthy=~frame["run_id"].isin(unhealthy))


def replicas(scores: pd.DataFrame, paper: dict, unhealthy: set, out: Path) -> Path:
    """replicas.png: every replica of every paper row as a point over a box, in the paper's row
    order, with the paper's value (a red diamond) and the chance level (a dashed line);
    unhealthy runs as crosses."""
    frame = replica_points(scores, paper, unhealthy)
    order = [row["label"] for row in paper["rows"]]
    figure, axis = plt.subplots(figsize=(10, 0.55 * len(order) + 1.2))
    healthy = frame[frame["healthy"]]
    sns.boxplot(data=healthy, x="score", y="row", order=order, color="lightgrey", width=0.5, fliersize=0, ax=axis)
    sns.stripplot(data=healthy, x="score", y="row", order=order, color="black", size=4, jitter=0.15, ax=axis)
    failed = frame[~frame["healthy"]]
    if len(failed):
        axis.scatter(failed["score"], [order.index(r) for r in failed["row"]], marker="x", color="grey",
                     label="unhealthy run (left out)")
    axis.scatter([row["score"] for row in paper["rows"]], range(len(order)), marker="D", color="red",
                 zorder=5, label="paper")
    if "chance" in paper:
        axis.axvline(paper["chance"], color="grey", linestyle="--", label=f"chance ({paper['chance']:g}%)")
    axis.set_xlim(0, 102)
    axis.set_xlabel(f"{paper['metric']} (%), one point per replica")
    axis.set_ylabel("")
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    figure.tight_layout()
    path = out / "replicas.png"
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def protocol_scores(table: pd.DataFrame) -> pd.DataFrame:
    """protocol_study.comparison's table without its last row (Spearman's rho): representation x
    protocol (and the paper's column), scores in %."""
    rows = table[table["representation"] != table["representation"].iloc[-1]].set_index("representation")
    return rows.astype(float)


def protocol_heatmap(table: pd.DataFrame, out: Path) -> Path:
    """protocols.png: each paper row's score (%) under each protocol, the paper's column last."""
    values = protocol_scores(table)
    figure, axes = plt.subplots(figsize=(1.3 * values.shape[1] + 3, 0.45 * len(values) + 1.6))
    sns.heatmap(values, annot=True, fmt=".0f", cmap="viridis", vmin=0, vmax=100, cbar=False, ax=axes)
    axes.set_xticklabels(axes.get_xticklabels(), rotation=30, ha="right")
    axes.set_xlabel("")
    axes.set_ylabel("")
    figure.tight_layout()
    path = out / "protocols.png"
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path
