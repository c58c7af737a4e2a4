"""`bench report` writes every table and figure of a tiny results folder, without retraining."""
import matplotlib.image
import pandas as pd
import pytest

from bench.cli import main


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
    table = pd.read_csv(results / "table.csv")
    assert len(table) == 3 and set(table["n_seeds"]) == {2}
    assert {"beta_vae.eval_accuracy.mean", "beta_vae.eval_accuracy.std"} <= set(table.columns)
    markdown = (results / "table.md").read_text()
    assert markdown.count("(n=2)") == 6 and '"beta": "4"' in markdown
    names = {"metrics.png", "kl_per_latent.png", "training_curves.png", "metric_vs_normalised_beta.png"}
    runs = sorted(p.name for p in (results / "runs").iterdir())
    assert len(runs) == 6
    for name in names:
        assert str(results / name) in printed
    traversals = [p for p in printed if "traversal_" in p]
    assert len(traversals) == 3                       # the first seed of each configuration
    picture = matplotlib.image.imread(traversals[0])
    assert picture.shape[0] > 500 and picture.shape[1] > 500
    assert {p: p.stat().st_mtime_ns for p in (results / "runs").rglob("checkpoint.pt")} == before


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
