"""`bench run` end to end on a tiny dataset, and one clear line for each bad input."""
import pandas as pd
import pytest

from bench.cli import main
from bench.running.store import SCORE_COLUMNS

TINY = ["--dataset", "dsprites_small", "--steps", "20", "--quick", "--no-progress", "--threads", "1",
        "--set", "beta_vae.architecture=fc", "--set", "vae.architecture=fc"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    assert main(["run", "--methods", "beta_vae,vae", "--out", str(out), *TINY]) == 0
    return out


def test_run_writes_scores_and_run_folders(finished, capsys):
    scores = pd.read_csv(finished / "scores.csv")
    assert list(scores.columns) == SCORE_COLUMNS
    accuracy = scores[scores["metric"] == "beta_vae.eval_accuracy"]
    assert sorted(accuracy["method"]) == ["beta_vae", "vae"]
    assert accuracy["value"].between(0, 1).all()
    for run_id in accuracy["run_id"]:
        folder = finished / "runs" / run_id
        for name in ("spec.json", "log.csv", "checkpoint.pt", "scores.json"):
            assert (folder / name).exists(), name
        assert (folder / "status").read_text() == "done"


def test_a_second_run_skips_finished_runs(finished, capsys):
    before = pd.read_csv(finished / "scores.csv")
    assert main(["run", "--methods", "beta_vae,vae", "--out", str(finished), *TINY]) == 0
    output = capsys.readouterr().out
    assert "beta_vae.eval_accuracy" in output and f"scores: {finished / 'scores.csv'}" in output
    pd.testing.assert_frame_equal(before, pd.read_csv(finished / "scores.csv"))


@pytest.mark.parametrize("flags,message", [
    (["--methods", "beta_vae,gan"], "unknown method 'gan'; valid: ada_gvae, ada_ml_vae, annealed_vae, beta_tcvae"),
    (["--methods", "beta_vae", "--dataset", "mnist"], "unknown dataset 'mnist'; valid: "),
    (["--methods", "beta_vae", "--metrics", "beta_vae,mig2"], "unknown metric 'mig2'; valid: "),
    (["--methods", "beta_vae", "--set", "beta_vae.beta"], "--set takes METHOD.PARAM=VALUE[,VALUE...], not 'beta_vae.beta'"),
    (["--methods", "beta_vae", "--set", "beta_vae.gamma_ray=2"], "unknown parameter of beta_vae 'gamma_ray'"),
    (["--methods", "beta_vae", "--set", "vae.beta=2"], "names method 'vae', which is not in --methods"),
    (["--methods", "beta_vae", "--steps", "0"], "--steps must be a positive number of training steps, not 0"),
    (["--methods", "beta_vae", "--seeds", "a-b"], "--seeds takes integers like 0,1,2 or 0-4, not 'a-b'"),
    (["--methods", "beta_vae", "--dataset", "dsprites", "--data-path", "/nonexistent/dsprites.npz"],
     "cannot read dSprites file '/nonexistent/dsprites.npz'"),
])
def test_bad_input_is_one_line_exit_2_and_harms_nothing(finished, capsys, flags, message):
    before = (finished / "scores.csv").read_bytes()
    assert main(["run", "--out", str(finished), "--no-progress", *flags]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and "Traceback" not in error
    assert (finished / "scores.csv").read_bytes() == before


def test_list_shows_methods_datasets_metrics_and_defaults(capsys):
    assert main(["list"]) == 0
    output = capsys.readouterr().out
    for expected in ("beta_vae", "beta (float) = 4.0", "dsprites_small", "num_train (int) = 10000 [400]",
                     "protocol (disentanglement_lib|higgins2017) = disentanglement_lib", "standardize (bool) = False",
                     "needs: images only (image folders too), several models of one method (its seeds)"):
        assert expected in output
