"""Every figure of a results folder (bench/reporting/figures/, a module per figure or family):
what_to_draw gathers what they show (ToDraw, reading the run folders and drawing nothing), and
all_plots has each drawn and hands its notes to the report writer."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from bench.reporting import labels
from bench.reporting.curves import along_training
from bench.reporting.figures.chance import chance_levels
from bench.reporting.figures.generated import drawn_before, generated_images, generative
from bench.reporting.figures.metric_bars import metric_bars
from bench.reporting.figures.normalised_beta import metric_against_normalised_beta
from bench.reporting.figures.score_curves import score_curves
from bench.reporting.figures.training import is_gan_log, kl_bars, kl_per_latent, training_curves
from bench.reporting.preset import paper_of
from bench.running.run_folder import DONE, RUNS, RunFolder, readable_specs


@dataclass(frozen=True)
class ToDraw:
    """What the figures of a results folder show (what_to_draw): the last step's scores, the scores
    along training, each readable run's StoredSpec, a preset's [paper] table and the chance levels;
    per configuration (method and parameters) of the finished runs, the log and KL per latent of
    its lowest seed with a log (encoder-decoder models and GANs apart), the folder of its lowest
    seed with checkpoint.pt where the method generates images (traversals, reconstructions or
    samples), and the configurations that would have those but kept no checkpoint: the figures an
    earlier report drew from one of their runs (`kept_figures`, shown again), or, where there are
    none, their names (`without_checkpoint`). `datasets`: the datasets loaded so far, by name,
    shared by the figures."""
    scores: pd.DataFrame
    curves: pd.DataFrame
    specs: dict
    paper: dict
    chance: dict
    datasets: dict
    vae_logs: dict
    gan_logs: dict
    kls: dict
    generators: list
    kept_figures: list
    without_checkpoint: list


class Figures(NamedTuple):
    """The figures written, and the notes for the report writer to add below the tables."""
    paths: list
    notes: list


def all_plots(results_dir: Path, scores: pd.DataFrame) -> Figures:
    """Every figure the results support (gathered by what_to_draw, each drawn by its own function),
    the per-run figures an earlier report drew for configurations whose checkpoints are gone, and a
    note for each configuration whose traversals cannot be drawn (no run kept checkpoint.pt)."""
    results_dir = Path(results_dir)
    todo = what_to_draw(results_dir, scores)
    paths = [metric_bars(todo.scores, results_dir, todo.specs, todo.paper, todo.chance) if len(todo.scores) else None,
             score_curves(todo.curves, results_dir, todo.specs, todo.paper, todo.chance) if len(todo.curves) else None]
    for run_folder in todo.generators:
        paths += generated_images(run_folder, todo.specs, todo.datasets, results_dir)
    paths += todo.kept_figures
    paths += [kl_bars(todo.kls, results_dir) if todo.kls else None,
              training_curves(todo.vae_logs, results_dir, "training_curves.png",
                              "Training curves (encoder-decoder models; lowest seed of each configuration)")
              if todo.vae_logs else None,
              training_curves(todo.gan_logs, results_dir, "training_curves_gan.png",
                              "Training curves (GANs; lowest seed of each configuration)") if todo.gan_logs else None,
              metric_against_normalised_beta(todo.scores, todo.specs, results_dir / RUNS, results_dir, todo.chance)]
    notes = [f"Figures: no latent traversal or reconstruction for {', '.join(todo.without_checkpoint)}: no run "
             f"folder of theirs has checkpoint.pt (checkpoints are not committed; training the runs again writes "
             f"them)."] if todo.without_checkpoint else []
    return Figures([path for path in paths if path is not None], notes)


def what_to_draw(results_dir: Path, scores: pd.DataFrame) -> ToDraw:
    """Gather what the figures of `results_dir` show (ToDraw); reads the run folders, draws nothing."""
    runs_dir = results_dir / RUNS
    specs = readable_specs(results_dir)
    paper = paper_of(results_dir)
    datasets: dict = {}
    chance = chance_levels(scores, datasets, paper) if len(scores) else {}
    finished: dict = {}
    configuration = dict(zip(scores["run_id"], scores["params"].fillna(""))) if len(scores) else {}
    for run_id, spec in specs.items():                     # a run still training has a partial log
        if RunFolder(runs_dir / run_id).state == DONE:      # its row as the tables name it (replicas.py)
            key = (spec.method, configuration.get(run_id, labels.canonical(spec.overrides)))
            finished.setdefault(key, []).append(run_id)
    pairs, names = labels.configurations_in_reading_order(pd.DataFrame({"method": [k[0] for k in finished],
                                                                        "params": [k[1] for k in finished]}),
                                                          specs, paper)
    vae_logs, gan_logs, kls, generators, kept_figures, without_checkpoint = {}, {}, {}, [], [], []
    for pair in pairs:
        folders = [RunFolder(runs_dir / run_id) for run_id in sorted(finished[pair], key=lambda r: specs[r].seed)]
        logged = [folder for folder in folders if folder.has_log()]
        if logged:
            label = f"{names[pair]}, seed {specs[logged[0].run_id].seed}"
            log = pd.read_csv(logged[0].log)
            (gan_logs if is_gan_log(log) else vae_logs)[label] = log
            kl = kl_per_latent(logged[0].path)
            if kl is not None:
                kls[label] = kl
        kept = [folder.path for folder in folders if folder.checkpoint.exists()]
        if generative(pair[0]):
            drawn = next((found for folder in folders if (found := drawn_before(results_dir, folder.run_id))), [])
            if kept:
                generators.append(kept[0])
            elif drawn:
                kept_figures += drawn
            else:
                without_checkpoint.append(f"{names[pair]} ({len(folders)} run{'s' * (len(folders) > 1)})")
    return ToDraw(scores, along_training(results_dir), specs, paper, chance, datasets, vae_logs, gan_logs, kls,
                  generators, kept_figures, without_checkpoint)
