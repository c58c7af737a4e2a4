"""A changed metric setting rescores a finished run without retraining; a score stored before a
setting existed counts as made with the value it was made with; a run shared without its weights
is kept as it is, never trained again behind the user's back."""
import json

from bench.cli import main

TINY = ["--methods", "vae", "--dataset", "dsprites_small", "--steps", "20", "--quick", "--no-progress",
        "--threads", "1", "--set", "vae.architecture=fc"]


def run_folder(out):
    (folder,) = (out / "runs").iterdir()
    return folder


def beta_vae_entry(folder):
    return json.loads((folder / "scores.json").read_text())["beta_vae"]


def test_stored_scores_without_classifier_count_as_lbfgs_and_a_run_without_weights_is_kept(tmp_path, capsys):
    assert main(["run", *TINY, "--out", str(tmp_path)]) == 0
    folder = run_folder(tmp_path)
    entry = beta_vae_entry(folder)
    assert entry["settings"]["classifier"] == "liblinear_ovr"

    # A score made before `classifier` existed was fitted with today's lbfgs: the default rescores it.
    scores = json.loads((folder / "scores.json").read_text())
    del scores["beta_vae"]["settings"]["classifier"]
    scores["beta_vae"]["values"]["beta_vae.eval_accuracy"] = -1.0          # a marker: rescored or not
    (folder / "scores.json").write_text(json.dumps(scores))
    log = (folder / "log.csv").read_text()
    assert main(["run", *TINY, "--out", str(tmp_path)]) == 0
    rescored = beta_vae_entry(folder)
    assert rescored["settings"]["classifier"] == "liblinear_ovr"
    assert rescored["values"]["beta_vae.eval_accuracy"] == entry["values"]["beta_vae.eval_accuracy"]
    assert (folder / "log.csv").read_text() == log                         # rescored, not retrained

    # The same stale score in a run whose checkpoint is gone: kept, with a line saying why.
    (folder / "scores.json").write_text(json.dumps(scores))
    (folder / "checkpoint.pt").unlink()
    capsys.readouterr()
    assert main(["run", *TINY, "--out", str(tmp_path)]) == 0
    assert "kept as it is" in capsys.readouterr().err
    assert beta_vae_entry(folder)["values"]["beta_vae.eval_accuracy"] == -1.0
    assert (folder / "log.csv").read_text() == log
    assert not (folder / "checkpoint.pt").exists()
