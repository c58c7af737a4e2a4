"""What each figure shows, gathered before anything is drawn (bench/reporting/figures/): plain
values checked here without matplotlib drawing a thing, and the chance levels as the metrics
declare them."""
import json

import numpy as np
import pandas as pd
import pytest

import metrics
from bench import data
from bench.reporting.figures import metric_bars, normalised_beta, paper, score_curves
from bench.reporting.figures.chance import chance_levels
from bench.running.spec import StoredSpec

ACCURACY = "beta_vae.eval_accuracy"
SETTINGS = json.dumps({"protocol": "disentanglement_lib", "factors": "protocol"})


def rows(*runs, metric=ACCURACY, settings=SETTINGS):
    """scores.csv rows: (run_id, method, params JSON, value)."""
    return pd.DataFrame([{"run_id": run_id, "method": method, "dataset": "dsprites_small", "seed": 0, "steps": 100,
                          "params": params, "metric": metric, "value": value, "metric_settings": settings}
                         for run_id, method, params, value in runs])


def test_the_beta_vae_metric_declares_chance_as_one_over_its_target_factors():
    dataset = data.load("dsprites_small")
    declared = metrics.METRICS["beta_vae"].chance
    assert declared(dataset, {}) == {"train_accuracy": 1 / 5, "eval_accuracy": 1 / 5}      # all 5 factors
    assert declared(dataset, {"protocol": "higgins2017"})["eval_accuracy"] == 1 / 4          # without shape
    assert declared(dataset, {"factors": "scale,orientation"})["eval_accuracy"] == 1 / 2
    assert metrics.METRICS["mig"].chance is None


def test_chance_levels_are_read_from_the_declarations_and_the_preset():
    scores = pd.concat([rows(("a", "vae", "", 0.7)), rows(("a", "vae", "", 0.8), metric="beta_vae.train_accuracy"),
                        rows(("a", "vae", "", 0.1), metric="beta_vae.eval_accuracy_std"),
                        rows(("a", "vae", "", 0.2), metric="mig.score")])
    assert chance_levels(scores, {}, {}) == {ACCURACY: 0.2, "beta_vae.train_accuracy": 0.2}
    assert chance_levels(scores, {}, {"metric": "mig.score", "chance": 5.0})["mig.score"] == 0.05
    unknown = scores.assign(dataset="no_such_dataset")                  # no chance line, no error
    assert chance_levels(unknown, {}, {}) == {}


def test_metric_bars_gather_each_configuration_its_healthy_seeds_apart_and_the_papers_value():
    scores = pd.concat([rows(("b0", "beta_vae", '{"beta": "4"}', 0.7), ("b1", "beta_vae", '{"beta": "4"}', 0.8),
                             ("v0", "vae", "", 0.6), ("v1", "vae", "", 0.1)),
                        rows(("v1", "vae", "", 0.0), metric="health.healthy")])
    chance = {ACCURACY: 0.2}
    bars = metric_bars.gather(scores, {}, {"metric": ACCURACY, "rows": [{"method": "vae", "label": "VAE", "score": 65}]},
                              chance)
    assert bars.rows == ("VAE, n=1", "beta-VAE (beta=4), n=2")             # the paper's row first
    [panel] = bars.panels
    assert panel.key == ACCURACY and panel.chance == 0.2
    vae, beta_vae = panel.bars
    assert vae == metric_bars.Bar((0.6,), (0.1,), 0.65)                   # the unhealthy run apart
    assert beta_vae == metric_bars.Bar((0.7, 0.8), (), None)
    assert sorted(panel.values()) == [0.1, 0.2, 0.6, 0.65, 0.7, 0.8]
    assert metric_bars.gather(scores[scores["metric"] == "health.healthy"]) is None


def test_score_curves_gather_the_median_over_seeds_at_each_budget():
    curves = pd.concat([rows(("a", "vae", "", value)).assign(seed=seed, step=step, images=step * 64)
                        for seed, by_step in enumerate([{50: 0.2, 100: 0.6}, {50: 0.4, 100: 0.8}, {50: 0.3, 100: 0.9}])
                        for step, value in by_step.items()])
    gathered = score_curves.gather(curves, {}, {}, {ACCURACY: 0.2})
    assert gathered.configurations == ("VAE",) and gathered.budgets == (3200, 6400)
    [panel] = gathered.panels
    [curve] = panel.curves
    assert panel.key == ACCURACY and panel.chance == 0.2 and curve.configuration == 0
    assert curve.budgets == (3200, 6400) and curve.medians == pytest.approx((0.3, 0.8))
    assert sorted(curve.seed_values) == [0.2, 0.3, 0.4, 0.6, 0.8, 0.9]


def test_the_normalised_beta_sweep_gathers_each_run_and_its_final_reconstruction(tmp_path):
    specs, runs = {}, []
    for beta in (1, 2, 4):
        run_id = f"beta_vae-{beta}"
        specs[run_id] = StoredSpec.from_json({"run_id": run_id, "method": "beta_vae", "dataset": "dsprites_small",
                                              "seed": 0, "steps": 100, "params": {"beta": float(beta), "latent_dim": 8},
                                              "overrides": {"beta": str(beta)}})
        (tmp_path / run_id).mkdir()
        pd.DataFrame({"step": [50, 100], "reconstruction": [90.0, 30.0 + beta]}).to_csv(tmp_path / run_id / "log.csv",
                                                                                         index=False)
        runs.append((run_id, "beta_vae", json.dumps({"beta": str(beta)}), 0.5 + beta / 100))
    frame = normalised_beta.gather(rows(*runs), specs, tmp_path)
    recon = frame[frame["quantity"] == normalised_beta.RECONSTRUCTION]
    assert list(recon["value"]) == [31.0, 32.0, 34.0]                     # the last log row of each run
    assert list(recon["normalised beta"]) == pytest.approx([beta * 8 / 4096 for beta in (1, 2, 4)])
    assert set(frame["line"]) == {"beta-VAE, 8 latents"}
    assert list(frame[frame["quantity"] == ACCURACY]["value"]) == [0.51, 0.52, 0.54]
    assert normalised_beta.gather(rows(*runs[:2]), specs, tmp_path) is None      # two betas: no sweep


def test_the_paper_figures_gather_replicas_in_percent_and_the_protocols_without_rho():
    scores = rows(("v0", "vae", "", 0.6), ("v1", "vae", "", 0.3), ("p0", "pca", "", 0.5))
    points = paper.replica_points(scores, {"metric": ACCURACY, "rows": [{"method": "vae", "label": "VAE"}]}, {"v1"})
    assert list(points["row"]) == ["VAE", "VAE"] and list(points["score"]) == pytest.approx([60, 30])
    assert list(points["healthy"]) == [True, False]
    table = pd.DataFrame({"representation": ["VAE", "PCA", "Spearman rho vs paper"], "default": [60.0, 50.0, 0.5],
                          "paper": [70.0, np.nan, np.nan]})
    values = paper.protocol_scores(table)
    assert list(values.index) == ["VAE", "PCA"] and values.loc["VAE", "paper"] == 70.0
