"""Figures a researcher can read: readable labels, the paper's row order, chance and the paper's
values marked, axes that do not exaggerate, training curves with labelled axes (GANs apart), a line
when traversals cannot be drawn, and report.html. Built on small results folders written here
(spec.json, log.csv, scores), so nothing is trained."""
import json

import matplotlib
import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.reporting import html_report, labels, plots
from bench.reporting.figures import metric_bars, normalised_beta, training
from bench.reporting.figures.chance import chance_levels
from bench.reporting.preset import paper_of
from bench.running.run_folder import readable_specs

matplotlib.use("Agg")
SETTINGS = {"batch_size": 64, "factors": "protocol", "num_eval": 200, "num_train": 400, "preprocessing": "none",
            "protocol": "disentanglement_lib"}
VAE_LOG = ["loss", "reconstruction", "kl", "kl_z0", "kl_z1", "images_per_s"]
GAN_LOG = ["d_loss", "g_loss", "mi_loss", "d_real", "d_fake", "images_per_s"]


def write_folder(out, runs, preset=None):
    """A results folder as `bench run` leaves it (without checkpoints): runs are tuples of
    (method, seed, overrides, full params, {metric key: value}, log columns or None)."""
    rows = []
    for method, seed, overrides, params, values, log_columns in runs:
        run_id = f"{method}-seed{seed}-{abs(hash(json.dumps(overrides, sort_keys=True))) % 10**10:010d}"
        folder = out / "runs" / run_id
        folder.mkdir(parents=True)
        spec = {"method": method, "params": params, "dataset": "dsprites_small", "seed": seed, "steps": 100,
                "overrides": overrides, "run_id": run_id}
        (folder / "spec.json").write_text(json.dumps(spec))
        (folder / "status").write_text("done")
        (folder / "scores.json").write_text(json.dumps({"beta_vae": {"settings": SETTINGS, "values": values,
                                                                      "versions": {}}}))
        if log_columns:
            steps = np.arange(100, 1100, 100)
            log = pd.DataFrame({"step": steps, **{c: 1000.0 * (100 / steps) ** 2 if c in ("loss", "reconstruction") else
                                                  np.linspace(0.2, 0.8, len(steps)) for c in log_columns}})
            log.to_csv(folder / "log.csv", index=False)
        rows += [{"run_id": run_id, "method": method, "dataset": "dsprites_small", "seed": seed, "steps": 100,
                  "params": json.dumps(overrides, sort_keys=True), "metric": key, "value": value,
                  "metric_settings": json.dumps(SETTINGS, sort_keys=True), "torch": "", "numpy": "", "sklearn": ""}
                 for key, value in values.items()]
    pd.DataFrame(rows).to_csv(out / "scores.csv", index=False)
    if preset:
        (out / "preset.txt").write_text(preset + "\n")
    return out


def accuracy(value):
    return {"beta_vae.eval_accuracy": value, "beta_vae.train_accuracy": value}


def test_labels_read_like_the_paper():
    assert labels.readable_label("beta_vae", '{"beta": "4.0"}') == "beta-VAE (beta=4)"
    assert labels.readable_label("beta_vae", {}, {"beta": 4.0, "lr": 0.0005}) == "beta-VAE (beta=4)"
    assert labels.readable_label("beta_vae", {"architecture": "fc"}, {"beta": 8.0}) == "beta-VAE (beta=8, architecture=fc)"
    assert labels.readable_label("vae", "") == "VAE" and labels.readable_label("infogan", "{}") == "InfoGAN"
    pairs = [("beta_vae", '{"beta": "8"}'), ("vae", "{}"), ("beta_vae", '{"beta": "1"}'), ("beta_vae", '{"beta": "4"}')]
    assert labels.configuration_order(pairs) == [pairs[1], pairs[2], pairs[3], pairs[0]]   # numbers, not text


@pytest.fixture
def reproduction(tmp_path):
    """A higgins2017 folder with four of the paper's rows, listed out of the paper's order, one
    InfoGAN run unhealthy."""
    healthy, unhealthy = {"health.healthy": 1.0}, {"health.healthy": 0.0}
    return write_folder(tmp_path / "higgins2017", [
        ("beta_vae", 0, {"beta": "4.0"}, {"beta": 4.0, "latent_dim": 10}, accuracy(0.70), VAE_LOG),
        ("beta_vae", 1, {"beta": "4.0"}, {"beta": 4.0, "latent_dim": 10}, accuracy(0.74), VAE_LOG),
        ("vae", 0, {"beta": "1.0"}, {"beta": 1.0, "latent_dim": 10}, accuracy(0.80), VAE_LOG),
        ("pca", 0, {"n_components": "10"}, {"n_components": 10}, accuracy(0.69), None),
        ("infogan", 0, {}, {}, {**accuracy(0.68), **healthy}, GAN_LOG),
        ("infogan", 1, {}, {}, {**accuracy(0.30), **unhealthy}, GAN_LOG),
    ], preset="higgins2017")


def test_metric_bars_in_the_papers_order_with_its_values_and_chance(reproduction):
    scores = pd.read_csv(reproduction / "scores.csv", keep_default_na=False, na_values=[""])
    paper = paper_of(reproduction)
    chance = chance_levels(scores, {}, paper)
    assert chance["beta_vae.eval_accuracy"] == pytest.approx(0.2)                  # the preset's 20%
    assert chance["beta_vae.train_accuracy"] == pytest.approx(0.2)                 # 1 of 5 factors
    figure = metric_bars.draw(metric_bars.gather(scores, readable_specs(reproduction), paper, chance))
    axes = [axis for axis in figure.axes if axis.get_visible()]
    assert [axis.get_title() for axis in axes] == ["beta_vae.eval_accuracy"]    # the headline: no train_accuracy, health.*
    rows = [label.get_text() for label in axes[0].get_yticklabels()]
    assert rows == ["PCA (10 components), n=1", "InfoGAN, n=1", "VAE (beta = 1), n=1", "beta-VAE (beta = 4), n=2"]
    assert axes[0].get_xlim() == (0, 1.02)
    paper_points = [c.get_offsets()[0] for c in axes[0].collections if c.get_gid() == "paper"]
    assert [(round(x, 4), y) for x, y in paper_points] == [(0.849, 0), (0.735, 1), (0.6158, 2), (0.9923, 3)]
    assert [list(line.get_xdata()) for line in axes[0].lines if line.get_gid() == "chance"] == [[0.2, 0.2]]
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert {"one seed", "unhealthy run (left out)", "paper's value", "chance"} <= set(legend)
    matplotlib.pyplot.close(figure)


def test_training_curves_label_their_axes_and_keep_gans_apart(reproduction):
    scores = pd.read_csv(reproduction / "scores.csv", keep_default_na=False, na_values=[""])
    running = reproduction / "runs" / "infogan-seed0-0000000000"      # a run still training: left out
    running.mkdir()
    (running / "spec.json").write_text(json.dumps({"method": "infogan", "params": {}, "dataset": "dsprites_small",
                                                   "seed": 0, "steps": 100, "overrides": {}}))
    (running / "status").write_text("running")
    (running / "checkpoint.pt").write_bytes(b"half-written")
    figures = plots.all_plots(reproduction, scores)
    names = {path.name for path in figures.paths}
    assert {"metrics.png", "training_curves.png", "training_curves_gan.png", "kl_per_latent.png"} <= names
    assert not any(name.startswith("traversal_") for name in names)                # no checkpoints here
    note = "no latent traversal or reconstruction for InfoGAN (2 runs), VAE (beta = 1) (1 run), beta-VAE (beta = 4) (2 runs)"
    assert len(figures.notes) == 1 and note in figures.notes[0]                   # for the report writer
    logs = {"VAE, seed 0": pd.read_csv(next((reproduction / "runs").glob("vae-*")) / "log.csv")}
    figure = training.training_curves_figure(logs)
    axes = [axis for axis in figure.axes if axis.get_visible()]
    assert [axis.get_ylabel() for axis in axes] == ["loss (nats per image)", "reconstruction loss (nats per image)",
                                                    "KL (nats per image)"]                # one panel per quantity
    assert {axis.get_xlabel() for axis in axes} == {"training step"}
    assert axes[0].get_yscale() == "log" and axes[2].get_yscale() == "linear"           # a 120x fall: log
    matplotlib.pyplot.close(figure)


def test_normalised_beta_axes_do_not_exaggerate(tmp_path):
    runs = [("beta_vae", seed, {"beta": str(beta)}, {"beta": float(beta), "latent_dim": 10},
             accuracy(0.6 + 0.01 * beta + 0.01 * seed), VAE_LOG) for beta in (1, 2, 4, 8) for seed in (0, 1)]
    out = write_folder(tmp_path / "sweep", runs)
    scores = pd.read_csv(out / "scores.csv", keep_default_na=False, na_values=[""])
    figure = normalised_beta.draw(normalised_beta.gather(scores, readable_specs(out), out / "runs"),
                                  chance_levels(scores, {}, {}))
    axes = {axis.get_title(): axis for axis in figure.axes}
    assert axes["beta_vae.eval_accuracy"].get_ylim() == (0, 1.02)              # the whole 0-1 range
    assert axes[normalised_beta.RECONSTRUCTION].get_ylim()[0] == 0
    ticks = [label.get_text() for label in axes["beta_vae.eval_accuracy"].get_xticklabels()]
    assert ticks == ["0.0024", "0.0049", "0.0098", "0.02"]                       # the sweep's values, plain
    matplotlib.pyplot.close(figure)
    assert normalised_beta.gather(scores[scores["params"] != '{"beta": "8"}'].pipe(
        lambda f: f[f["params"] != '{"beta": "4"}']), readable_specs(out), out / "runs") is None


def test_bench_report_writes_a_self_contained_report_html(reproduction, capsys):
    assert main(["report", str(reproduction)]) == 0
    printed = capsys.readouterr().out.split()
    page = (reproduction / "report.html").read_text()
    assert str(reproduction / "report.html") in printed
    figures = [p for p in printed if p.endswith(".png")]
    assert {"metrics.png", "replicas.png", "training_curves.png", "training_curves_gan.png"} <= {
        p.rsplit("/", 1)[-1] for p in figures}
    assert page.count("<img ") == len(figures) == page.count("<figcaption>")
    assert page.count('src="data:image/png;base64,') == len(figures)
    assert "src=\"http" not in page and "href=" not in page                          # nothing outside the file
    assert "<th>representation</th>" in page and "beta-VAE is near DC-IGN" in page   # table.md and claims.md
    assert "no latent traversal or reconstruction" in page
    assert html_report.caption(reproduction / "metrics.png", reproduction).startswith("Each metric's headline score")
    assert f"<title>Results: {reproduction.name}</title>" in page and f"<h1>Results: {reproduction.name}</h1>" in page
    assert "/tmp" not in page and str(reproduction.parent) not in page   # no absolute path: the page travels


def test_report_markdown_becomes_html_tables_lists_and_paragraphs():
    page = html_report.markdown_to_html("A `code` line\ngoes on.\n\n| a | b <c> |\n| --- | --- |\n| 1 | **2** |\n"
                                        "After.\n- **one**: first\n  continued\n- two\n")
    assert page == ("<p>A <code>code</code> line goes on.</p>\n<table>\n<thead><tr><th>a</th><th>b &lt;c&gt;</th>"
                    "</tr></thead>\n<tbody>\n<tr><td>1</td><td><strong>2</strong></td></tr>\n</tbody>\n</table>\n"
                    "<p>After.</p>\n<ul>\n<li><strong>one</strong>: first continued</li>\n<li>two</li>\n</ul>")
