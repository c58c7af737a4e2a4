"""The runner: a killed run resumes to exactly the uninterrupted weights; divergence is caught."""
import csv

import pytest
import torch

import methods
from bench.running.runner import TrainingDiverged, load_weights, train
from killed_training import Killed, dying_at

PARAMS = {"architecture": "fc", "batch_size": 16}


def weights(method):
    return torch.cat([p.detach().flatten() for m in method.modules().values() for p in m.parameters()])


def test_killed_run_resumes_to_the_same_weights_and_log(small_dsprites, cpu_fp32, tmp_path):
    whole = methods.create("beta_vae", PARAMS, (1, 64, 64), cpu_fp32, 0)
    train(whole, small_dsprites, 20, 0, tmp_path / "whole", False, checkpoint_every=10, log_every=5)

    interrupted = methods.create("beta_vae", PARAMS, (1, 64, 64), cpu_fp32, 0)
    dying_at(interrupted, 14)
    with pytest.raises(Killed):
        train(interrupted, small_dsprites, 20, 0, tmp_path / "resumed", False, checkpoint_every=10, log_every=5)
    resumed = methods.create("beta_vae", PARAMS, (1, 64, 64), cpu_fp32, 0)
    train(resumed, small_dsprites, 20, 0, tmp_path / "resumed", False, checkpoint_every=10, log_every=5)

    assert resumed.step == whole.step == 20
    assert torch.equal(weights(resumed), weights(whole))
    logs = []
    for folder in ("whole", "resumed"):
        with open(tmp_path / folder / "log.csv") as handle:
            logs.append([(row["step"], row["loss"], row["kl_z3"]) for row in csv.DictReader(handle)])
    assert logs[0] == logs[1] and [step for step, _, _ in logs[0]] == ["5", "10", "15", "20"]


def test_corrupt_checkpoint_restarts_from_scratch(small_dsprites, cpu_fp32, tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"truncated")
    method = methods.create("beta_vae", PARAMS, (1, 64, 64), cpu_fp32, 0)
    with pytest.warns(UserWarning, match="unreadable"):
        train(method, small_dsprites, 5, 0, tmp_path, False, checkpoint_every=5, log_every=5)
    assert method.step == 5


def test_a_checkpoint_of_another_shape_is_said_and_the_run_trains_from_scratch(small_dsprites, cpu_fp32, tmp_path):
    other = methods.create("beta_vae", {**PARAMS, "latent_dim": 3}, (1, 64, 64), cpu_fp32, 0)
    train(other, small_dsprites, 5, 0, tmp_path / "run", False, checkpoint_every=5, log_every=5)
    method = methods.create("beta_vae", PARAMS, (1, 64, 64), cpu_fp32, 0)
    assert load_weights(tmp_path / "run" / "checkpoint.pt", method, "cpu") == (
        None, "does not fit the run's method (RuntimeError)")
    with pytest.warns(UserWarning, match="does not fit the run's method .*training from scratch"):
        train(method, small_dsprites, 10, 0, tmp_path / "run", False, checkpoint_every=5, log_every=5)
    fresh = methods.create("beta_vae", PARAMS, (1, 64, 64), cpu_fp32, 0)
    train(fresh, small_dsprites, 10, 0, tmp_path / "fresh", False, checkpoint_every=5, log_every=5)
    assert method.step == 10 and torch.equal(weights(method), weights(fresh))


def test_non_finite_loss_stops_the_run_with_the_step(small_dsprites, cpu_fp32, tmp_path):
    method = methods.create("beta_vae", PARAMS, (1, 64, 64), cpu_fp32, 0)
    original_step = method.train_step
    method.train_step = lambda batch: {**original_step(batch), "loss": float("nan") if method.step == 3 else 1.0}
    with pytest.raises(TrainingDiverged, match="loss became nan at step 3"):
        train(method, small_dsprites, 10, 0, tmp_path, False, checkpoint_every=5, log_every=5)
