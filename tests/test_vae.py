"""VAE / beta-VAE: the objective's terms are right and the loss falls on a tiny dataset."""
import numpy as np
import pytest
import torch

import methods
from bench.errors import UserError
from bench.running.sampler import BatchSampler
from methods.batch_kinds import IID
from methods.vae import gaussian_kl_per_latent


def test_kl_matches_torch_distributions():
    mean, log_var = torch.randn(8, 4), torch.randn(8, 4)
    q = torch.distributions.Normal(mean, (0.5 * log_var).exp())
    expected = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).mean(0)
    assert torch.allclose(gaussian_kl_per_latent(mean, log_var), expected, atol=1e-5)


@pytest.mark.parametrize("name,architecture", [("beta_vae", "conv"), ("vae", "fc")])
def test_loss_falls_on_a_tiny_dataset(small_dsprites, cpu_fp32, name, architecture):
    method = methods.create(name, {"architecture": architecture, "batch_size": 32},
                            small_dsprites.image_shape, cpu_fp32, 0)
    sampler = BatchSampler(small_dsprites, IID, 32, np.random.default_rng(0), cpu_fp32)
    losses = [method.train_step(sampler.next())["loss"] for _ in range(25)]
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:3])
    assert method.step == 25


def test_beta_weights_the_kl_and_vae_is_beta_one(small_dsprites, cpu_fp32):
    assert methods.create("vae", {}, (1, 64, 64), cpu_fp32, 0).params.beta == 1.0
    assert methods.create("beta_vae", {}, (1, 64, 64), cpu_fp32, 0).params.beta == 4.0
    x = torch.from_numpy(small_dsprites.images(np.arange(64))).float() / 255
    logged = {}
    for beta in (1.0, 4.0):
        method = methods.create("beta_vae", {"beta": beta}, (1, 64, 64), cpu_fp32, 0)
        logged[beta] = method.train_step(methods.Batch(x, np.zeros((64, 5))))
    for beta, values in logged.items():
        assert values["loss"] == pytest.approx(values["reconstruction"] + beta * values["kl"], rel=1e-5)
        assert values["kl"] == pytest.approx(sum(values[f"kl_z{i}"] for i in range(10)), rel=1e-5)


def test_capacity_objective_targets_the_annealed_capacity(small_dsprites, cpu_fp32):
    method = methods.create("annealed_vae", {"c_max": 10.0, "iteration_threshold": 4}, (1, 64, 64), cpu_fp32, 0)
    method.step = 2                                # C = 10 * 2 / 4 = 5 nats
    x = torch.from_numpy(small_dsprites.images(np.arange(64))).float() / 255
    values = method.train_step(methods.Batch(x, np.zeros((64, 5))))
    assert values["loss"] == pytest.approx(values["reconstruction"] + 1000 * abs(values["kl"] - 5.0), rel=1e-5)


def test_encode_is_the_deterministic_posterior_mean(small_dsprites, cpu_fp32):
    method = methods.create("beta_vae", {}, (1, 64, 64), cpu_fp32, 7)
    indices = np.arange(0, 1536, 97)
    first, second = method.codes_of(indices, small_dsprites), method.codes_of(indices, small_dsprites)
    assert first.shape == (len(indices), 10) and np.array_equal(first, second)
    again = methods.create("beta_vae", {}, (1, 64, 64), cpu_fp32, 7).codes_of(indices, small_dsprites)
    assert np.array_equal(first, again)


def test_bad_parameters_name_the_valid_ones(cpu_fp32):
    with pytest.raises(UserError, match="unknown parameter of beta_vae 'betta'; valid: .*beta"):
        methods.create("beta_vae", {"betta": "2"}, (1, 64, 64), cpu_fp32, 0)
    with pytest.raises(UserError, match="beta_vae.beta takes a number, not 'high'"):
        methods.create("beta_vae", {"beta": "high"}, (1, 64, 64), cpu_fp32, 0)
    with pytest.raises(UserError, match="unknown value for beta_vae.architecture 'mlp'; valid: conv, fc"):
        methods.create("beta_vae", {"architecture": "mlp"}, (1, 64, 64), cpu_fp32, 0)
    with pytest.raises(UserError, match="unknown method 'gan'"):
        methods.create("gan", {}, (1, 64, 64), cpu_fp32, 0)
