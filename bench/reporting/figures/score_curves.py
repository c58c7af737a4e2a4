"""curves.png: scores along training (bench/reporting/curves.py, along_training): one panel per
metric scored before the last step (its headline key), the score against the images seen on a
log axis (trained runs only), one line per configuration through the median over its seeds at
each budget, a dot per seed, and chance dashed where known."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator

from bench.reporting import labels
from bench.reporting.curves import scored_early
from bench.reporting.figures.drawing import MAX_TICKS, plt, saved, unit_interval
from metrics import headline_keys


@dataclass(frozen=True)
class Curve:
    """One configuration (its index in ScoreCurves.configurations) in one panel: the median over
    its seeds at each budget, and each seed's score."""
    configuration: int
    budgets: tuple            # images seen, ascending
    medians: tuple
    seed_images: tuple
    seed_values: tuple


@dataclass(frozen=True)
class CurvePanel:
    key: str
    curves: tuple
    chance: float | None


@dataclass(frozen=True)
class ScoreCurves:
    """What curves.png shows: every configuration's label (its colour is its place here), the
    budgets scored (the axis' ticks where they are few) and one CurvePanel per key."""
    configurations: tuple
    budgets: tuple
    panels: tuple


def gather(curves: pd.DataFrame, specs: dict | None = None, paper: dict | None = None,
           chance: dict | None = None) -> ScoreCurves:
    specs, paper, chance = specs or {}, paper or {}, chance or {}
    keys = headline_keys(scored_early(curves))
    frame = curves[curves["metric"].isin(keys) & (curves["images"] > 0)].assign(params=lambda f: f["params"].fillna(""))
    pairs, names = labels.configurations_in_reading_order(frame, specs, paper)
    panels = []
    for key in keys:
        lines = []
        for index, pair in enumerate(pairs):
            runs = frame[(frame["method"] == pair[0]) & (frame["params"] == pair[1]) & (frame["metric"] == key)]
            if runs.empty:
                continue
            medians = runs.groupby("images")["value"].median()
            lines.append(Curve(index, tuple(medians.index), tuple(medians.to_numpy()), tuple(runs["images"]),
                               tuple(runs["value"])))
        panels.append(CurvePanel(key, tuple(lines), chance.get(key)))
    return ScoreCurves(tuple(names[pair] for pair in pairs), tuple(sorted(frame["images"].unique())), tuple(panels))


def images_text(value: float) -> str:
    """A number of images as a tick says it: 800, 64k, 1.6M."""
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def score_curves(curves: pd.DataFrame, out: Path, specs: dict | None = None, paper: dict | None = None,
                 chance: dict | None = None) -> Path:
    """curves.png."""
    return saved(draw(gather(curves, specs, paper, chance)), out / "curves.png")


def draw(shown_curves: ScoreCurves):
    configurations, budgets, panels = shown_curves.configurations, list(shown_curves.budgets), shown_curves.panels
    colours = sns.color_palette("tab10", len(configurations))
    columns = min(3, len(panels))
    rows_of_panels = -(-len(panels) // columns)
    legend_rows = -(-(len(configurations) + 2) // 4)
    figure, axes = plt.subplots(rows_of_panels, columns, squeeze=False,
                                figsize=(4.4 * columns, 3.3 * rows_of_panels + 0.3 * legend_rows + 0.3))
    shown = set()
    for axis, panel in zip(axes.flat, panels):
        values = []
        for curve in panel.curves:
            colour = colours[curve.configuration]
            axis.plot(list(curve.budgets), list(curve.medians), color=colour, lw=1.5, zorder=2, gid="median")
            axis.scatter(list(curve.seed_images), list(curve.seed_values), s=12, color=colour, alpha=0.6, zorder=3,
                         gid="seed")
            values += list(curve.seed_values)
            shown.add(curve.configuration)
        if panel.chance is not None:
            axis.axhline(panel.chance, color="0.35", linestyle="--", lw=1, zorder=1, gid="chance")
            values.append(panel.chance)
            shown.add("chance")
        axis.set_xscale("log")
        if len(budgets) <= MAX_TICKS:                                 # the budgets scored
            axis.xaxis.set_major_locator(FixedLocator(budgets))
            axis.xaxis.set_minor_locator(NullLocator())
        else:
            axis.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: images_text(value)))
        axis.xaxis.set_minor_formatter(NullFormatter())
        if unit_interval(values):
            axis.set_ylim(0, 1.02)
        axis.set_title(panel.key, fontsize=10)
        axis.set_xlabel("images seen (steps x batch size)")
        axis.set_ylabel("score (0 to 1)" if unit_interval(values) else "score")
        axis.grid(color="0.92")
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    handles = [Line2D([], [], color=colours[index], lw=1.5, label=name)
               for index, name in enumerate(configurations) if index in shown]
    handles.append(Line2D([], [], color="0.4", marker="o", ls="", ms=4, alpha=0.6, label="one seed"))
    if "chance" in shown:
        handles.append(Line2D([], [], color="0.35", ls="--", label="chance"))
    figure.legend(handles=handles, loc="lower center", ncol=min(4, len(handles)), frameon=False, fontsize=8,
                  title="lines: the median over a configuration's seeds", title_fontsize=8)
    figure.tight_layout(rect=(0, (0.22 * legend_rows + 0.3) / figure.get_size_inches()[1], 1, 1))
    return figure
