"""metric_vs_normalised_beta.png, the paper's beta sweep (docs/paper.md section 1): each metric key
and the final reconstruction loss against beta_norm = beta * M / N (M latents, N pixels), one
line per method and latent size (methods with a beta of another meaning, e.g. beta_tcvae, get
lines of their own), the mean over seeds with a band of ± one std. Drawn only when some line has
runs at MIN_BETAS_FOR_A_SWEEP values of beta. Scores between 0 and 1 keep that whole axis (chance
dashed where known), the reconstruction loss starts at 0: the axes do not magnify small gaps."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import seaborn as sns
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator

from bench.reporting import labels
from bench.reporting.figures.drawing import MAX_TICKS, saved, unit_interval
from bench.running.run_folder import RunFolder

MIN_BETAS_FOR_A_SWEEP = 3
RECONSTRUCTION = "reconstruction loss (nats)"
PIXELS = 64 * 64                                  # N of the normalised beta: dSprites' 64 x 64 images


def final_reconstruction(run_folder: Path) -> float | None:
    """The reconstruction loss (nats per image) of the last log row, or None."""
    folder = RunFolder(run_folder)
    if not folder.has_log():
        return None
    last = pd.read_csv(folder.log).iloc[-1]
    return float(last["reconstruction"]) if "reconstruction" in last.index else None


def gather(scores: pd.DataFrame, specs: dict, runs_dir: Path) -> pd.DataFrame | None:
    """One row per run and quantity (each metric key but health.*, and RECONSTRUCTION from the
    run's log.csv): normalised beta, beta, line (its label), order (method, latents), quantity,
    value; None when no line has runs at MIN_BETAS_FOR_A_SWEEP betas."""
    rows = []
    for run_id, group in scores.groupby("run_id"):
        spec = specs.get(run_id)
        if spec is None or "beta" not in spec.params or "latent_dim" not in spec.params:
            continue
        params = spec.params
        where = {"normalised beta": float(params["beta"]) * params["latent_dim"] / PIXELS, "beta": params["beta"],
                 "line": f"{labels.method_name(spec.method)}, {params['latent_dim']} latents",
                 "order": (spec.method, params["latent_dim"])}
        rows += [{**where, "quantity": metric, "value": value} for metric, value in zip(group["metric"], group["value"])
                 if not metric.startswith("health.")]
        reconstruction = final_reconstruction(runs_dir / run_id)
        if reconstruction is not None:
            rows.append({**where, "quantity": RECONSTRUCTION, "value": reconstruction})
    frame = pd.DataFrame(rows)
    if frame.empty or frame.groupby("line")["beta"].nunique().max() < MIN_BETAS_FOR_A_SWEEP:
        return None
    return frame


def metric_against_normalised_beta(scores: pd.DataFrame, specs: dict, runs_dir: Path, out: Path,
                                   chance: dict | None = None) -> Path | None:
    """metric_vs_normalised_beta.png, or None when no line has MIN_BETAS_FOR_A_SWEEP betas."""
    frame = gather(scores, specs, runs_dir)
    return saved(draw(frame, chance), out / "metric_vs_normalised_beta.png") if frame is not None else None


def draw(frame: pd.DataFrame, chance: dict | None = None):
    """The sweep of `frame` (gather's rows), a panel per quantity, RECONSTRUCTION last."""
    chance = chance or {}
    quantities = sorted(set(frame["quantity"]) - {RECONSTRUCTION}) + [RECONSTRUCTION] * (RECONSTRUCTION in set(frame["quantity"]))
    ticks = sorted(frame["normalised beta"].unique())
    lines = [line for _, line in sorted(set(zip(frame["order"], frame["line"])))]   # by method, then latents
    grid = sns.relplot(data=frame, x="normalised beta", y="value", hue="line", hue_order=lines, col="quantity",
                       col_order=quantities, kind="line", marker="o", errorbar="sd", palette="viridis",
                       col_wrap=min(3, len(quantities)), height=3.0, aspect=1.3, facet_kws={"sharey": False})
    grid.set(xscale="log")
    grid.set_titles("{col_name}")
    grid.set_axis_labels("normalised beta (beta x latents / pixels)", "")
    for quantity, axis in grid.axes_dict.items():
        if len(ticks) <= MAX_TICKS:                                   # the normalised betas run
            axis.xaxis.set_major_locator(FixedLocator(ticks))
            axis.xaxis.set_minor_locator(NullLocator())
        else:
            axis.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.xaxis.set_minor_formatter(NullFormatter())
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.2g}"))
        axis.tick_params(axis="x", labelsize=8)
        values = frame[frame["quantity"] == quantity]["value"]
        if quantity == RECONSTRUCTION:
            axis.set_ylim(0, values.max() * 1.08)
            axis.set_ylabel("nats per image")
        elif unit_interval(values):
            axis.set_ylim(0, 1.02)
            axis.set_ylabel("score (0 to 1)")
        if quantity in chance:
            axis.axhline(chance[quantity], color="grey", linestyle="--", lw=1)
            axis.text(axis.get_xlim()[0], chance[quantity], " chance", va="bottom", fontsize=7, color="grey")
    grid.legend.set_title("line (mean ± std over seeds)")
    return grid.figure
