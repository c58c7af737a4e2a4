"""InfoGAN: the MI term falls on a tiny dataset, codes have the code's size, collapse is flagged (an
exact resume: tests/test_contracts.py)."""
import numpy as np
import pandas as pd
import pytest
import torch

import methods
from bench.running.runner import train
from bench.running.sampler import BatchSampler
from methods.gan_health import fake_diversity
from methods.infogan import mutual_information_bound

OFFICIAL = {"noise_dim": 62, "code_dim": 10, "mi_weight": 1.0, "d_lr": 2e-4, "generator_steps": 1,
            "discriminator_norm": "batch"}


def make(small_dsprites, cpu_fp32, seed=0, **params):
    return methods.create("infogan", {"batch_size": 16, **params}, small_dsprites.image_shape, cpu_fp32, seed)


def sampler(method, dataset, cpu_fp32, seed=0):
    return BatchSampler(dataset, method.batch_kind, method.params.batch_size, np.random.default_rng(seed), cpu_fp32)


def test_mi_loss_falls_and_every_logged_value_is_a_float(small_dsprites, cpu_fp32):
    # The official code's settings (lambda = 1, batch norm in D ...) with 10 codes: there the MI
    # term dominates the first steps.
    method = make(small_dsprites, cpu_fp32, **OFFICIAL)
    batches = sampler(method, small_dsprites, cpu_fp32)
    logs = [method.train_step(batches.next()) for _ in range(40)]
    assert set(logs[0]) == {"d_loss", "g_loss", "mi_loss", "d_real", "d_fake", "fake_diversity",
                            "fake_mean_pixel", "real_mean_pixel", "collapsed"}
    assert all(type(value) is float for log in logs for value in log.values())
    mi = [log["mi_loss"] for log in logs]
    # -L_I is at least code_dim * (log sqrt(2 pi) - log 2) = 2.26 nats with a unit-variance Q;
    # an untrained Q (mean near 0) sits near 2.26 + code_dim / 6 = 3.93.
    floor = 10 * (0.5 * np.log(2 * np.pi) - np.log(2))
    assert np.mean(mi[:5]) == pytest.approx(floor + 10 / 6, abs=0.3)
    assert np.mean(mi[-5:]) < np.mean(mi[:5]) - 0.3
    assert min(mi) > floor


def test_codes_have_the_code_size_and_decode_makes_images(small_dsprites, cpu_fp32):
    method = make(small_dsprites, cpu_fp32, code_dim=6)
    codes = method.codes_of(np.arange(20), small_dsprites)
    assert codes.shape == (20, 6) and codes.dtype == np.float32
    with torch.no_grad():
        images = method.decode(torch.zeros(3, 6))
        single = method.decode(torch.zeros(1, 6))
    assert images.shape == (3, 1, 64, 64) and single.shape == (1, 1, 64, 64)
    assert torch.allclose(images[0], single[0]) and method.image_generator.training
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0


def test_learned_variance_doubles_the_q_head_but_not_the_code(small_dsprites, cpu_fp32):
    method = make(small_dsprites, cpu_fp32, code_variance="learned")
    assert method.discriminator.code[-1].out_features == 10
    assert method.codes_of(np.arange(4), small_dsprites).shape == (4, 5)
    log = method.train_step(sampler(method, small_dsprites, cpu_fp32).next())
    assert np.isfinite(log["mi_loss"])


def test_mutual_information_bound_is_exact_for_a_perfect_fixed_variance_q():
    codes = torch.tensor([[0.5, -0.5], [0.2, 0.9]])
    bound = mutual_information_bound(codes, codes.clone(), learned_variance=False)
    assert float(bound) == pytest.approx(2 * (np.log(2) - 0.5 * np.log(2 * np.pi)))


def test_collapse_signals():
    real = torch.tensor(np.random.default_rng(0).integers(0, 2, (8, 1, 64, 64)), dtype=torch.float32)
    assert fake_diversity(real, real) == pytest.approx(1.0)
    assert fake_diversity(real[:1].expand(8, -1, -1, -1), real) == 0.0


def train_log(method, dataset, policy, steps: int) -> pd.DataFrame:
    """log.csv's rows as the runner writes them: means over intervals of 20 steps."""
    batches = sampler(method, dataset, policy)
    logs = pd.DataFrame([method.train_step(batches.next()) for _ in range(steps)])
    logs["step"] = np.arange(1, steps + 1)
    return logs.groupby((logs["step"] - 1) // 20).mean().assign(step=lambda f: (f.index + 1) * 20)


def test_a_generator_that_cannot_learn_is_flagged_as_collapsed(small_dsprites, cpu_fp32):
    # g_lr = 1e-12 (0 is refused as a learning rate): D separates real from fake within a few dozen
    # steps, and the fakes stay grey noise.
    method = make(small_dsprites, cpu_fp32, seed=1, batch_size=32, g_lr=1e-12)
    health = method.training_health(train_log(method, small_dsprites, cpu_fp32, 60))
    assert health["health.collapsed_fraction"] == 1.0 and health["health.d_real"] > 0.99
    assert health["health.mean_pixel_gap"] > 0.3 and health["health.healthy"] == 0.0


def test_a_short_seeded_run_on_the_small_dataset_stays_healthy(small_dsprites, cpu_fp32):
    # The defaults (lambda 1) on the 1,536 images of dsprites_small: G leaves the initial near-collapse
    # within ~250 steps and, over the last half of 600 steps, passes every health bar that the
    # committed full-dSprites runs pass (docs/infogan.md).
    method = make(small_dsprites, cpu_fp32, seed=1, batch_size=32)
    health = method.training_health(train_log(method, small_dsprites, cpu_fp32, 600))
    assert health["health.collapsed_fraction"] == 0.0
    assert 0.5 <= health["health.fake_diversity"] <= 1.5
    assert health["health.mean_pixel_gap"] <= 0.02
    assert health["health.healthy"] == 1.0


def test_the_progress_bar_shows_the_gan_s_own_losses_finite(small_dsprites, cpu_fp32, tmp_path, capsys):
    """A GAN logs no `loss`: its bar shows d_loss, g_loss and mi_loss (progress_keys), never loss=nan."""
    method = make(small_dsprites, cpu_fp32)
    train(method, small_dsprites, 4, 0, tmp_path / "run", progress=True, checkpoint_every=2, log_every=2)
    bar = capsys.readouterr().err.replace("\r", "\n").splitlines()[-1]
    shown = dict(pair.split("=") for pair in bar.rsplit("]", 1)[0].split(", ")[2:])
    assert set(shown) == {"d_loss", "g_loss", "mi_loss", "img_s"}
    assert all(np.isfinite(float(value)) for value in shown.values()) and "nan" not in bar
