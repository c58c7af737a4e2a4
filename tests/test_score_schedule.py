"""Scores along training: a run scored at a schedule keeps the weights at those steps and
scores them, a killed run resumes to the same snapshots and scores, later curve metrics score the
snapshots without retraining, and every reader of scores.csv still sees the runs' last step only.

The runs are tiny (30 steps, checkpoints and log rows every 10, so the schedule's steps are
multiples of 10); `bench run`'s own interval is 100."""
import shutil

import pandas as pd
import pytest
import torch

import metrics
from bench.cli import main
from bench.errors import UserError
from bench.reporting import report
from bench.running import config as sweep_config
from bench.running.run_folder import RunFolder
from bench.running.score_schedule import steps_to_score
from bench.running.store import final_scores
from methods.vae import GaussianVAE


def tiny(steps: int) -> list[str]:
    return ["run", "--methods", "vae", "--dataset", "dsprites_small", "--steps", str(steps), "--checkpoint-every",
            "10", "--quick", "--no-progress", "--threads", "1", "--set", "vae.architecture=fc",
            "--set", "vae.batch_size=16"]


TINY = tiny(30)
SCHEDULE = ["--score-at", "10,20"]


def only_run(out) -> RunFolder:
    (folder,) = (out / "runs").iterdir()
    return RunFolder(folder)


def snapshot(folder: RunFolder, step: int) -> dict:
    return torch.load(folder.snapshot(step), weights_only=True)


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory):
    out = tmp_path_factory.mktemp("scheduled")
    assert main([*TINY, *SCHEDULE, "--out", str(out)]) == 0
    return out


def test_a_scheduled_run_keeps_and_scores_each_step_and_its_last_step_as_before(scheduled, tmp_path):
    folder = only_run(scheduled)
    assert folder.snapshot_steps() == [10, 20]
    assert [snapshot(folder, step)["step"] for step in (10, 20)] == [10, 20]
    assert set(snapshot(folder, 10)["modules"]) == {"encoder", "decoder"}
    curve = folder.curve_scores()
    final = folder.scores()
    assert list(curve) == ["10", "20"] and {step: list(entry) for step, entry in curve.items()} == {
        "10": ["beta_vae"], "20": ["beta_vae"]}
    assert curve["10"]["beta_vae"].settings == final["beta_vae"].settings
    assert curve["10"]["beta_vae"].values != curve["20"]["beta_vae"].values      # other weights

    table = pd.read_csv(scheduled / "scores.csv")
    assert table.columns[-1] == "step" and sorted(set(table["step"])) == [10, 20, 30]
    assert set(table["steps"]) == {30}
    for step, values in [(10, curve["10"]["beta_vae"].values), (20, curve["20"]["beta_vae"].values),
                         (30, final["beta_vae"].values)]:
        rows = table[table["step"] == step]
        assert dict(zip(rows["metric"], rows["value"])) == values

    # The same run without a schedule: the same id (the schedule is not part of it), the same last step.
    plain = tmp_path / "plain"
    assert main([*TINY, "--out", str(plain)]) == 0
    assert only_run(plain).run_id == folder.run_id and not (plain / "runs" / folder.run_id / "snapshots").exists()
    assert only_run(plain).scores()["beta_vae"].values == final["beta_vae"].values
    assert not (plain / "runs" / folder.run_id / "curve.json").exists()


class Killed(Exception):
    pass


def curve_values(folder: RunFolder) -> dict:
    return {step: {metric: entry.values for metric, entry in scores.items()}
            for step, scores in folder.curve_scores().items()}


def test_a_run_killed_between_two_scheduled_steps_resumes_to_the_same_snapshots_and_scores(
        scheduled, tmp_path, monkeypatch):
    original = GaussianVAE.train_step

    def dies_at_step_15(self, batch):
        if self.step == 14:
            raise Killed
        return original(self, batch)

    monkeypatch.setattr(GaussianVAE, "train_step", dies_at_step_15)
    out = tmp_path / "killed"
    assert main([*TINY, *SCHEDULE, "--out", str(out)]) == 1
    killed = only_run(out)
    assert killed.state == "failed" and killed.snapshot_steps() == [10] and not killed.curve_scores()
    monkeypatch.undo()
    assert main([*TINY, *SCHEDULE, "--out", str(out)]) == 0           # resumes from the checkpoint at step 10

    whole = only_run(scheduled)
    assert killed.snapshot_steps() == whole.snapshot_steps() == [10, 20]
    for step in (10, 20):
        ours, theirs = snapshot(killed, step)["modules"], snapshot(whole, step)["modules"]
        for network in ours:
            for name, tensor in ours[network].items():
                assert torch.equal(tensor, theirs[network][name]), (step, network, name)
    assert curve_values(killed) == curve_values(whole)
    assert killed.scores()["beta_vae"].values == whole.scores()["beta_vae"].values


def test_a_run_reads_done_only_once_its_last_step_and_its_snapshots_are_scored(tmp_path, monkeypatch):
    out, states = tmp_path / "watched", []
    original = metrics.score

    def noting_the_status(name, *args, **params):
        states.append(only_run(out).state)
        return original(name, *args, **params)

    monkeypatch.setattr(metrics, "score", noting_the_status)
    assert main([*TINY, *SCHEDULE, "--out", str(out)]) == 0
    assert states == ["running"] * 3                            # the last step, then steps 10 and 20
    assert only_run(out).state == "done" and list(only_run(out).curve_scores()) == ["10", "20"]


def test_readers_of_scores_csv_see_the_last_step_only_and_old_files_still_read(scheduled, tmp_path):
    scores = final_scores(scheduled / "scores.csv")
    assert set(scores["step"]) == {30} and len(scores) == 2                # train and eval accuracy
    assert report.load_scores(scheduled).equals(scores)
    final = only_run(scheduled).scores()["beta_vae"].values
    summary = report.summary(scores)
    assert dict(zip(summary["metric"], summary["mean"])) == final and set(summary["count"]) == {1}

    old = tmp_path / "old"                                                 # a scores.csv from before `step`
    old.mkdir()
    pd.read_csv(scheduled / "scores.csv").query("step == 30").drop(columns="step").to_csv(old / "scores.csv", index=False)
    read = final_scores(old / "scores.csv")
    assert len(read) == 2 and list(read["step"]) == [30, 30] and dict(zip(read["metric"], read["value"])) == final


def test_curve_metrics_asked_later_score_the_snapshots_without_retraining(scheduled, tmp_path, capsys):
    out = tmp_path / "copy"
    shutil.copytree(scheduled, out)
    folder = only_run(out)
    trained = {name: (folder.path / name).read_bytes()
               for name in ("log.csv", "checkpoint.pt", "scores.json", "machine.json")}
    assert main([*TINY, *SCHEDULE, "--score-at-metrics", "beta_vae,mig", "--out", str(out)]) == 0
    assert {step: sorted(entry) for step, entry in folder.curve_scores().items()} == {
        "10": ["beta_vae", "mig"], "20": ["beta_vae", "mig"]}
    assert {name: (folder.path / name).read_bytes() for name in trained} == trained     # not retrained
    table = pd.read_csv(out / "scores.csv")
    assert sorted(table[table["metric"] == "mig.score"]["step"]) == [10, 20]       # mig: no last-step score asked

    # A step asked for that was never kept (the run was trained before it was asked for): one line.
    folder.snapshot(10).unlink()
    (folder.path / "curve.json").unlink()
    capsys.readouterr()
    assert main([*TINY, *SCHEDULE, "--out", str(out)]) == 0
    assert f"{folder.run_id}: not scored at step 10: no snapshot there" in capsys.readouterr().err
    assert list(folder.curve_scores()) == ["20"]
    assert main([*TINY, *SCHEDULE, "--out", str(out)]) == 0                # nothing left that it can score
    printed = capsys.readouterr()
    assert "1 already done before" in printed.out and "not scored at step 10: no snapshot" in printed.err


def test_log_spaced_steps_double_up_to_the_run_s_steps_on_the_log_interval():
    assert steps_to_score("log", 31250) == (1000, 2000, 3900, 7800, 15600)
    assert steps_to_score("log", 10000) == (300, 600, 1200, 2500, 5000)
    assert steps_to_score("log", 200) == (100,) and steps_to_score("log", 50) == ()
    assert steps_to_score((100, 200, 300, 400), 300) == (100, 200)           # the last is scored as the run's end


FLAGS = {"methods": "vae,beta_vae", "steps": 31250}


def test_a_schedule_from_flags_or_a_file_and_its_curve_metrics(tmp_path):
    config = sweep_config.load(None, {**FLAGS, "score_at": "16000,1000,31250", "metrics": "all"})
    assert config.score_at == (1000, 16000, 31250)
    assert config.curve_metrics == ("beta_vae", "factor_vae", "mig", "sap", "modularity", "irs", "mig_sup", "dcimig",
                                    "jemmig", "z_min_var", "z_max_var")   # not dci, infomec, z_diff (expensive), udr
    assert sweep_config.load(None, {**FLAGS, "score_at": "log"}).score_at == "log"
    assert sweep_config.load(None, FLAGS).curve_metrics == ()
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('methods = ["vae"]\nsteps = 4000\nmetrics = ["beta_vae"]\nscore_at = [1000, 2000]\n'
                     'score_at_metrics = ["beta_vae", "mig"]\n[metric_params.mig]\nnum_train = 500\n')
    config = sweep_config.load(sweep, {})
    assert config.score_at == (1000, 2000) and config.curve_metrics == ("beta_vae", "mig")
    assert config.metric_params == {"mig": {"num_train": 500}}
    cut = sweep_config.combine({"methods": ("vae", "beta_vae"), "steps": 8000, "method_steps": {"vae": 4000},
                                "score_at": (1000, 8000)}, {})
    assert cut.cut_schedules() == ["score schedule: vae trains 4000 steps, so its runs are not scored at 8000"]


@pytest.mark.parametrize("flags,message", [
    (dict(score_at="150"), "--score-at takes multiples of 100 (the log interval) or a run's last step, not 150"),
    (dict(score_at="1000,40000"), "--score-at: step 40000 is past the end of every run (31250 steps); "
                                  "valid: multiples of 100 up to 31250"),
    (dict(score_at="0,100"), "--score-at takes positive steps, not 0"),
    (dict(score_at="early"), "--score-at takes steps like [1000, 2000, 4000], \"1000,2000,4000\" or \"log\", "
                             "not 'early'"),
    (dict(score_at="100", score_at_metrics="udr"), "--score-at-metrics: udr scores the runs of a method "
                                                   "together, only at their last step; valid: beta_vae, factor_vae"),
    (dict(score_at="100", score_at_metrics="mig2"), "unknown metric 'mig2'"),
    (dict(score_at_metrics="mig"), "--score-at-metrics goes with --score-at"),
    (dict(methods="pca", score_at="100"), "--score-at: none of the methods (pca) is trained"),
])
def test_a_bad_schedule_is_one_clear_error(flags, message):
    with pytest.raises(UserError) as error:
        sweep_config.load(None, {**FLAGS, **flags})
    assert message in str(error.value)


def test_a_bad_schedule_in_a_file_names_the_file(tmp_path):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('methods = ["vae"]\nsteps = 300\nscore_at = [100, 250]\n')
    with pytest.raises(UserError, match=r"sweep.toml: score_at takes multiples of 100 .* not 250"):
        sweep_config.load(sweep, {})
    sweep.write_text('methods = ["vae"]\nscore_at = 1.5\n')
    with pytest.raises(UserError, match=r"score_at takes steps like .* not a number \(1.5\)"):
        sweep_config.load(sweep, {})


def test_a_warm_started_run_takes_the_shorter_run_s_snapshots(scheduled, tmp_path):
    out = tmp_path / "warm"
    assert main([*tiny(20), "--score-at", "10", "--out", str(out)]) == 0
    assert main([*TINY, *SCHEDULE, "--out", str(out)]) == 0                # starts from the 20-step run
    longer = RunFolder(out / "runs" / only_run(scheduled).run_id)
    assert longer.snapshot_steps() == [10, 20] and curve_values(longer) == curve_values(only_run(scheduled))
