"""metrics.png: one panel per metric (its headline key, metrics.headline_keys, as in table.md; the
other keys and health.* are in table.csv) in the fixed order of metrics.METRICS, a preset's
metric first; one row per configuration in reading order: a bar at the mean over the healthy
seeds, a line of ± one std, a dot per seed, a cross per unhealthy run (left out of the bar), the
paper's value (a diamond) and chance (dashed)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bench.reporting import labels
from bench.reporting.figures.drawing import BAR_COLOUR, PAPER_COLOUR, plt, saved, unit_interval
from bench.reporting.health import unhealthy_run_ids
from metrics import headline_keys


@dataclass(frozen=True)
class Bar:
    """One configuration in one panel: its healthy seeds' values, its unhealthy runs' values, and
    the paper's value (0 to 1) where the paper reports this key for it."""
    healthy: tuple
    unhealthy: tuple
    paper: float | None


@dataclass(frozen=True)
class Panel:
    key: str
    bars: tuple               # one Bar per row, in the rows' order
    chance: float | None

    def values(self) -> list[float]:
        """Everything the panel marks (the axis holds scores 0 to 1 when these all are)."""
        marked = [value for bar in self.bars for value in (*bar.healthy, *bar.unhealthy)]
        marked += [bar.paper for bar in self.bars if bar.paper is not None]
        return marked + ([self.chance] if self.chance is not None else [])


@dataclass(frozen=True)
class MetricBars:
    """What metrics.png shows: the rows' labels ("beta-VAE (beta=4), n=5": n healthy seeds) and
    one Panel per headline key."""
    rows: tuple
    panels: tuple


def gather(scores: pd.DataFrame, specs: dict | None = None, paper: dict | None = None,
           chance: dict | None = None) -> MetricBars | None:
    """MetricBars of the last step's `scores`; None when there are only health.* scores."""
    specs, paper, chance = specs or {}, paper or {}, chance or {}
    frame = scores[~scores["metric"].str.startswith("health.")].assign(params=lambda f: f["params"].fillna(""))
    if frame.empty:
        return None
    unhealthy = unhealthy_run_ids(scores)
    pairs, names = labels.configurations_in_reading_order(frame, specs, paper)
    keys = headline_keys(frame["metric"])
    if paper.get("metric") in set(frame["metric"]):                 # a preset's metric first
        keys = [paper["metric"], *(key for key in keys if key != paper["metric"])]
    paper_scores = {row["method"]: row["score"] / 100 for row in paper.get("rows", [])}
    counts = {pair: frame[(frame["method"] == pair[0]) & (frame["params"] == pair[1])
                          & ~frame["run_id"].isin(unhealthy)]["run_id"].nunique() for pair in pairs}
    panels = []
    for key in keys:
        bars = []
        for method, params in pairs:
            runs = frame[(frame["method"] == method) & (frame["params"] == params) & (frame["metric"] == key)]
            bars.append(Bar(tuple(runs[~runs["run_id"].isin(unhealthy)]["value"].to_numpy(dtype=float)),
                            tuple(runs[runs["run_id"].isin(unhealthy)]["value"].to_numpy(dtype=float)),
                            paper_scores.get(method) if key == paper.get("metric") else None))
        panels.append(Panel(key, tuple(bars), chance.get(key)))
    return MetricBars(tuple(f"{names[pair]}, n={counts[pair]}" for pair in pairs), tuple(panels))


def metric_bars(scores: pd.DataFrame, out: Path, specs: dict | None = None, paper: dict | None = None,
                chance: dict | None = None) -> Path | None:
    """metrics.png, or None when there are only health.* scores."""
    bars = gather(scores, specs, paper, chance)
    return saved(draw(bars), out / "metrics.png") if bars else None


def draw(bars: MetricBars):
    rows, keys = bars.rows, [panel.key for panel in bars.panels]
    columns = min(3, len(keys))
    rows_of_panels = -(-len(keys) // columns)
    figure, axes = plt.subplots(rows_of_panels, columns, squeeze=False, sharey=True,
                                figsize=(4.2 * columns + 2.6, (0.42 * len(rows) + 1.0) * rows_of_panels + 0.35))
    shown = set()
    for axis, panel in zip(axes.flat, bars.panels):
        for y, bar in enumerate(panel.bars):
            good, bad = np.asarray(bar.healthy, dtype=float), np.asarray(bar.unhealthy, dtype=float)
            if len(good):
                axis.barh(y, good.mean(), height=0.6, color=BAR_COLOUR, zorder=1)
                shown.add("bar")
                if len(good) > 1:
                    axis.errorbar(good.mean(), y, xerr=good.std(ddof=1), color="black", capsize=3, lw=1, zorder=2)
                    shown.add("std")
                offsets = np.linspace(-0.15, 0.15, len(good)) if len(good) > 1 else [0.0]
                axis.scatter(good, y + np.asarray(offsets), s=14, color="black", zorder=3)
                shown.add("seed")
            if len(bad):
                axis.scatter(bad, np.full(len(bad), y), marker="x", s=30, color="grey", zorder=3)
                shown.add("unhealthy")
            if bar.paper is not None:
                axis.scatter(bar.paper, y, marker="D", s=30, color=PAPER_COLOUR, zorder=4, gid="paper")
                shown.add("paper")
        if panel.chance is not None:
            axis.axvline(panel.chance, color="0.35", linestyle="--", lw=1, zorder=2.5, gid="chance")
            shown.add("chance")
        scores_0_to_1 = unit_interval(panel.values())
        if scores_0_to_1:
            axis.set_xlim(0, 1.02)
        axis.set_title(panel.key, fontsize=10)
        axis.set_xlabel("score (0 to 1)" if scores_0_to_1 else "score")
        axis.grid(axis="x", color="0.9", zorder=0)
    for axis in list(axes.flat)[len(keys):]:
        axis.set_visible(False)
    axes[0, 0].set_yticks(range(len(rows)), list(rows))
    axes[0, 0].set_ylim(len(rows) - 0.5, -0.5)                      # the first row on top
    legend = {"bar": Patch(color=BAR_COLOUR, label="mean over seeds"),
              "std": Line2D([], [], color="black", lw=1, label="± one std over seeds"),
              "seed": Line2D([], [], color="black", marker="o", ls="", ms=4, label="one seed"),
              "unhealthy": Line2D([], [], color="grey", marker="x", ls="", label="unhealthy run (left out)"),
              "paper": Line2D([], [], color=PAPER_COLOUR, marker="D", ls="", ms=5, label="paper's value"),
              "chance": Line2D([], [], color="0.35", ls="--", label="chance")}
    figure.legend(handles=[handle for name, handle in legend.items() if name in shown], loc="lower center",
                  ncol=6, frameon=False, fontsize=8)
    figure.tight_layout(rect=(0, 0.3 / figure.get_size_inches()[1], 1, 1))
    return figure
