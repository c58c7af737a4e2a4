"""`bench report` writes every table and figure of a tiny results folder, without retraining, and
report.html, which headless Chromium renders with every figure loaded."""
import base64
import re
import shutil
import struct
import subprocess

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.reporting.figures import metric_bars, training


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    flags = ["run", "--methods", "beta_vae", "--set", "beta_vae.beta=1,4,8", "--set", "beta_vae.architecture=fc",
             "--seeds", "0,1", "--dataset", "dsprites_small", "--steps", "10", "--quick", "--no-progress",
             "--out", str(out)]
    assert main(flags) == 0
    return out


def test_report_writes_tables_and_plots(results, capsys):
    before = {p: p.stat().st_mtime_ns for p in (results / "runs").rglob("checkpoint.pt")}
    assert main(["report", str(results)]) == 0
    printed = capsys.readouterr().out.split()
    table = pd.read_csv(results / "table.csv")                        # every key, long: configuration x key
    assert len(table) == 3 * 2 and set(table["n"]) == {2}
    assert set(table["metric"]) == {"beta_vae.eval_accuracy", "beta_vae.train_accuracy"}
    one = table[(table["configuration"] == "beta-VAE (beta=4, architecture=fc)")
                & (table["metric"] == "beta_vae.eval_accuracy")].iloc[0]
    seeds = pd.read_csv(results / "scores.csv").query("metric == 'beta_vae.eval_accuracy'")
    values = seeds[seeds["run_id"].isin(table_run_ids(results, 4.0))]["value"]
    assert one["median"] == pytest.approx(values.median()) and one["mean"] == pytest.approx(values.mean())
    markdown = (results / "table.md").read_text()                      # the headline key only
    assert "| configuration | n | beta_vae.eval_accuracy |" in markdown and "train_accuracy" not in markdown
    assert f"| beta-VAE (beta=4, architecture=fc) | 2 | {values.median():.3f} |" in markdown
    names = {"metrics.png", "kl_per_latent.png", "training_curves.png", "metric_vs_normalised_beta.png"}
    runs = sorted(p.name for p in (results / "runs").iterdir())
    assert len(runs) == 6
    for name in names:
        assert str(results / name) in printed
    traversals = [p for p in printed if "traversal_" in p and p.endswith(".png")]
    assert len(traversals) == 3                       # the first seed of each configuration
    assert sorted(p[:-4] for p in printed if p.endswith(".gif")) == sorted(p[:-4] for p in traversals)
    picture = matplotlib.image.imread(traversals[0])
    assert picture.shape[0] > 500 and picture.shape[1] > 500
    assert {p: p.stat().st_mtime_ns for p in (results / "runs").rglob("checkpoint.pt")} == before
    assert str(results / "report.html") in printed
    page = (results / "report.html").read_text()
    figures = [p for p in printed if p.endswith(".png")]
    animations = [p for p in printed if p.endswith(".gif")]
    assert page.count('<img src="data:image/png;base64,') == len(figures)
    assert page.count('<img src="data:image/gif;base64,') == len(animations) == 3
    assert page.count("<figcaption>") == len(figures) + len(animations)
    assert "beta-VAE (beta=4, architecture=fc), seed 0" in page            # captions name the run, not a hash


def test_a_traversal_gif_has_one_frame_per_step_and_a_row_per_latent_by_kl(results, tmp_path):
    """The animated traversal of a tiny trained run: GIF_STEPS frames (-r to r and back), one row
    of tiles per latent, the most informative (largest KL) first, and the frames differ."""
    from PIL import Image, ImageSequence

    from bench.reporting import animation
    from bench.running.restore import restore_method
    folder = sorted((results / "runs").iterdir())[0]
    method, dataset = restore_method(folder, None)
    kl = training.kl_per_latent(folder)
    path = animation.traversal_gif(method, dataset, kl, tmp_path / "traversal.gif")
    with Image.open(path) as gif:
        frames = [np.asarray(frame.convert("L"), dtype=float) for frame in ImageSequence.Iterator(gif)]
        assert gif.n_frames == animation.GIF_STEPS and gif.info["loop"] == 0
    rows, columns = method.params.latent_dim, animation.GIF_IMAGES
    side = dataset.image_shape[-1] + animation.GAP
    assert frames[0].shape == (animation.HEADER + rows * side, animation.LABEL_WIDTH + columns * side)
    assert max(np.abs(frame - frames[0]).max() for frame in frames[1:]) > 0        # it moves
    values = animation.sweep_values(method.traversal_range)
    assert values[0] == -3.0 and values[len(values) // 2] == 3.0 and len(set(values.round(6))) == len(values) // 2 + 1
    order = animation.latent_order(kl, rows)
    assert kl[order[0]] == kl.max() and list(kl[order]) == sorted(kl, reverse=True)


def test_a_traversal_is_computed_before_it_is_drawn_a_row_per_latent_by_kl(results):
    from bench.reporting.figures import generated
    from bench.running.restore import restore_method
    folder = sorted((results / "runs").iterdir())[0]
    method, dataset = restore_method(folder, None)
    kl = training.kl_per_latent(folder)
    traversal = generated.traversal_of(method, dataset, kl)
    rows = method.params.latent_dim
    assert traversal.pictures.shape == (rows, generated.TRAVERSAL_STEPS, *dataset.image_shape)
    assert traversal.values[0] == -method.traversal_range and traversal.values[-1] == method.traversal_range
    assert len(traversal.row_labels) == rows and 0 <= traversal.pictures.min() <= traversal.pictures.max() <= 1
    reconstructions = generated.reconstructions_of(method, dataset)
    assert reconstructions.shape == (2, generated.RECONSTRUCTIONS, *dataset.image_shape)


def table_run_ids(results, beta: float) -> list[str]:
    """The runs of the configuration with this beta."""
    from bench.running.run_folder import readable_specs
    return [run_id for run_id, spec in readable_specs(results).items() if float(spec.params["beta"]) == beta]


def test_report_lists_failed_runs(results, capsys):
    failed = sorted((results / "runs").iterdir())[0]
    status = (failed / "status").read_text()
    (failed / "status").write_text("failed: loss became nan at step 7")
    try:
        assert main(["report", str(results), "--no-plots"]) == 0
        assert "loss became nan at step 7" in (results / "table.md").read_text()
    finally:
        (failed / "status").write_text(status)


def test_report_on_a_folder_without_scores_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "no scores.csv in" in capsys.readouterr().err


def test_report_rebuilds_runs_whose_spec_names_retired_parameters(results, capsys):
    import json
    folder = sorted((results / "runs").iterdir())[0]
    spec_path = folder / "spec.json"
    original = spec_path.read_text()
    spec = json.loads(original)
    spec["params"]["objective"] = "beta"                  # beta_vae's parameter before annealed_vae existed
    spec_path.write_text(json.dumps(spec))
    try:
        assert main(["report", str(results)]) == 0
        assert "ignoring its retired parameters objective" in capsys.readouterr().err
    finally:
        spec_path.write_text(original)


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHECK_IMAGES = """<script>
window.addEventListener("load", () => {
  for (const image of document.images) image.dataset.naturalWidth = image.naturalWidth;
  document.body.dataset.imagesChecked = document.images.length;
});
</script>
</body>"""


def browser(path_dir, *arguments):
    """Headless Chromium's stdout for `arguments` (a profile of its own under path_dir)."""
    binary = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if binary is None:
        pytest.skip("no Chromium here (Debian: apt-get install chromium)")
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--user-data-dir={path_dir / 'profile'}", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


def test_report_html_renders_in_headless_chromium_with_every_image_loaded(results, tmp_path):
    assert main(["report", str(results)]) == 0
    page = (results / "report.html").read_text()
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    widths = [struct.unpack(">I", base64.b64decode(data)[16:20])[0] for data in embedded]   # PNG IHDR width
    assert len(embedded) >= 8 and min(widths) > 100
    probe = tmp_path / "report_probe.html"               # the page plus a script that reads what Chromium decoded
    probe.write_text(page.replace("</body>", CHECK_IMAGES))
    dom = browser(tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    assert f'data-images-checked="{len(embedded)}"' in dom
    assert [int(w) for w in re.findall(r'data-natural-width="(\d+)"', dom)] == widths   # every image decoded
    shot = tmp_path / "report.png"
    browser(tmp_path, "--window-size=1280,2400", f"--screenshot={shot}", (results / "report.html").as_uri())
    picture = matplotlib.image.imread(shot)
    assert picture.shape[:2] == (2400, 1280) and np.std(picture[..., :3]) > 0.05       # not a blank page


def test_table_rows_are_in_reading_order_not_run_order():
    """table.md lists a sweep by method (registry order) and parameter values as numbers, whatever
    order the runs finished in."""
    from bench.reporting.report import headline, summary
    from methods import METHODS
    params = ['{"beta": 8.0}', '{"beta": 0.5}', '{"beta": 16.0}', '{"beta": 2.0}', "{}"]
    methods = ["beta_vae"] * 4 + ["vae"]
    scores = pd.DataFrame({"run_id": list("abcde"), "method": methods, "params": params,
                           "metric": "beta_vae.eval_accuracy", "value": [0.1, 0.2, 0.3, 0.4, 0.5]})
    rows = list(headline(summary(scores)).index)
    betas = [float(re.search(r"beta=([\d.]+)", row).group(1)) for row in rows if "beta=" in row]
    assert betas == [0.5, 2.0, 8.0, 16.0]
    vae_first = list(METHODS).index("vae") < list(METHODS).index("beta_vae")
    assert (rows.index("VAE") == 0) == vae_first and len(rows) == 5


# Every key a sweep of all metrics writes (DCI apart: see tests/test_contracts.py), in scores.csv's
# alphabetical order, and the headline table's columns for them.
ALL_KEYS = ["beta_vae.eval_accuracy", "beta_vae.train_accuracy", "factor_vae.eval_accuracy",
            "factor_vae.num_active_dims", "factor_vae.train_accuracy", "irs.num_active_dims", "irs.score",
            "mig.score", "modularity.explicitness", "modularity.explicitness_train", "modularity.modularity",
            "sap.score", "udr.num_informative", "udr.num_models", "udr.score"]
HEADLINE_COLUMNS = ["n", "beta_vae.eval_accuracy", "factor_vae.eval_accuracy", "mig.score", "sap.score",
                    "modularity.modularity", "irs.score", "udr.score"]


def every_key_scores() -> pd.DataFrame:
    """Three beta-VAE runs scored on ALL_KEYS (value = seed / 10 + the key's position / 100) and
    one InfoGAN run, unhealthy, with its health.* keys."""
    rows = [{"run_id": f"b{seed}", "method": "beta_vae", "params": "{}", "metric": key,
             "value": seed / 10 + position / 100} for seed in range(3) for position, key in enumerate(ALL_KEYS)]
    rows += [{"run_id": "g0", "method": "infogan", "params": "{}", "metric": key, "value": 0.5} for key in ALL_KEYS]
    rows += [{"run_id": "g0", "method": "infogan", "params": "{}", "metric": key, "value": value}
             for key, value in (("health.healthy", 0.0), ("health.collapsed_fraction", 0.8))]
    return pd.DataFrame(rows)


def test_the_headline_table_shows_one_key_per_metric_in_the_fixed_order_with_median_n_and_health():
    from bench.reporting.report import headline, summary
    table = headline(summary(every_key_scores()))
    assert list(table.columns) == [*HEADLINE_COLUMNS, "health"]       # no counts, no health.* columns
    beta_vae = table.loc["beta-VAE"]
    assert beta_vae["n"] == 3 and beta_vae["health"] == ""
    assert beta_vae["mig.score"] == f"{0.1 + ALL_KEYS.index('mig.score') / 100:.3f}"      # the median seed
    infogan = table.loc["InfoGAN"]
    assert infogan["n"] == 0 and infogan["health"] == "0 of 1 healthy" and infogan["mig.score"] == ""


def test_metrics_png_has_a_panel_per_headline_key_and_none_for_counts():
    scores = every_key_scores()
    figure = metric_bars.draw(metric_bars.gather(scores[scores["method"] == "beta_vae"]))
    titles = [axis.get_title() for axis in figure.axes if axis.get_visible()]
    assert titles == HEADLINE_COLUMNS[1:]


def test_table_csv_holds_every_key_long_with_its_summary():
    from bench.reporting.report import long_table, summary
    table = long_table(summary(every_key_scores()))
    beta_vae = table[table["method"] == "beta_vae"]
    assert list(beta_vae["metric"]) == sorted(ALL_KEYS, key=lambda key: (HEADLINE_ORDER.index(key.split(".")[0]), key))
    row = beta_vae[beta_vae["metric"] == "udr.num_models"].iloc[0]
    position = ALL_KEYS.index("udr.num_models") / 100
    assert (row["n"], row["median"], row["min"], row["max"]) == (3, pytest.approx(0.1 + position),
                                                                 pytest.approx(position), pytest.approx(0.2 + position))
    assert set(table[table["method"] == "infogan"]["metric"]) >= {"health.healthy", "health.collapsed_fraction"}


HEADLINE_ORDER = ["beta_vae", "factor_vae", "mig", "sap", "modularity", "irs", "udr"]
