"""One entry for a sweep (bench/running/sweep_entry.py): a SweepConfig in, a SweepResult out whose
fields the command prints; ExecutionOptions.from_config carries the sweep's settings to each run."""
import pandas as pd

from bench.running import config as sweep_config
from bench.running import sweep_entry
from bench.running.execute import ExecutionOptions
from bench.running.spec import RunSpec


def test_execution_options_come_from_the_sweep_config():
    config = sweep_config.load(None, {"methods": "vae", "metrics": "beta_vae,mig", "quick": True, "device": "cpu",
                                      "precision": "fp32", "threads": 1, "checkpoint_every": 50, "steps": 300,
                                      "score_at": "100,200", "warm_start": "elsewhere"})
    assert ExecutionOptions.from_config(config, progress=False) == ExecutionOptions(
        metrics=("beta_vae", "mig"), quick=True, device="cpu", precision="fp32", data_path=None, progress=False,
        threads=1, checkpoint_every=50, log_every=50, metric_params={}, warm_start="elsewhere",
        score_at=(100, 200), curve_metrics=("beta_vae", "mig"))
    defaults = ExecutionOptions.from_config(sweep_config.load(None, {"methods": "vae"}))
    assert defaults == ExecutionOptions(progress=True)           # threads 0: the sweep chooses them


def test_the_sweep_entry_returns_what_the_command_prints(tmp_path, capsys):
    flags = {"methods": "pca,vae", "dataset": "dsprites_small", "steps": 20, "quick": True, "device": "cpu",
             "precision": "fp32", "threads": 1, "out": str(tmp_path)}
    config = sweep_config.load(None, flags, ["vae.architecture=fc", "vae.batch_size=4", "vae.lr=1e30"])
    fitted = RunSpec("pca", "dsprites_small", 0, 20).run_id
    diverged = RunSpec("vae", "dsprites_small", 0, 20,
                       (("architecture", "fc"), ("batch_size", 4), ("lr", 1e30))).run_id

    result = sweep_entry.run(config, progress=False)
    printed = capsys.readouterr().out
    assert "run(s) done" not in printed and "scores:" not in printed      # the command prints those
    assert [(outcome.run_id, outcome.state) for outcome in result.outcomes] == [(fitted, "done"), (diverged, "failed")]
    assert [outcome.run_id for outcome in result.failed] == [diverged] and " at step " in result.failed[0].detail
    assert result.exit_code == 1 and result.already_done == 0 and result.run_ids == {fitted, diverged}
    assert result.store.scores_csv == tmp_path / "scores.csv" and result.model_set_lines == []
    on_disk = pd.read_csv(tmp_path / "scores.csv")
    assert set(result.scores["run_id"]) == {fitted}
    assert sorted(result.scores["value"]) == sorted(on_disk[on_disk["run_id"] == fitted]["value"])
    assert set(result.scores["metric"]) == {"beta_vae.eval_accuracy", "beta_vae.train_accuracy"}

    again = sweep_entry.run(config, progress=False)                       # the fitted run is skipped
    assert again.already_done == 1 and again.exit_code == 1
    pd.testing.assert_frame_equal(again.scores, result.scores)
