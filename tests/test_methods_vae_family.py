"""The VAE family's regularisers: each equation on tensors with a known answer, a falling loss on
dSprites for every method and codes of the right shape (an exact resume: tests/test_contracts.py)."""
import math
import types

import numpy as np
import pytest
import torch

import methods
from bench.running.sampler import BatchSampler
from methods.batch_kinds import IID
from methods.beta_tcvae import total_correlation
from methods.dip_vae import covariance, dip_covariance, dip_penalty
from methods.factor_vae import permute_dims

FAMILY = ["vae", "beta_vae", "annealed_vae", "factor_vae", "beta_tcvae", "dip_vae_i", "dip_vae_ii"]


def gaussian_tc(correlation: np.ndarray) -> float:
    """Total correlation of a Gaussian with this correlation matrix: -1/2 log det."""
    return -0.5 * np.linalg.slogdet(correlation)[1]


def test_tc_estimate_is_near_zero_for_independent_codes_and_the_gaussian_tc_for_correlated_ones():
    g = torch.Generator().manual_seed(0)
    batch, latents = 256, 10
    log_var = torch.zeros(batch, latents)                          # posteriors N(mean, 1)
    mean = torch.randn(batch, latents, generator=g)
    z = mean + torch.randn(batch, latents, generator=g)
    independent = total_correlation(z, mean, log_var).item()
    assert abs(independent) < 0.5

    shared = torch.randn(batch, 1, generator=g)                    # every latent = shared + noise
    mean = shared.expand(batch, latents) + 0.1 * torch.randn(batch, latents, generator=g)
    z = mean + torch.randn(batch, latents, generator=g)
    correlated = total_correlation(z, mean, log_var).item()
    rho = 1.0 / 2.01                                               # cov = 11^T + 1.01 I
    expected = gaussian_tc((1 - rho) * np.eye(latents) + rho * np.ones((latents, latents)))
    assert expected == pytest.approx(2.25, abs=0.01)
    assert correlated == pytest.approx(expected, abs=0.5)
    assert correlated > independent + 1.5

    sharp = torch.full((batch, latents), math.log(1e-4))           # isolated posteriors: the bound
    assert total_correlation(mean, mean, sharp).item() <= (latents - 1) * math.log(batch) + 1e-3


def test_dip_penalties_are_zero_for_a_unit_covariance_and_grow_off_it(cpu_fp32):
    assert dip_penalty(torch.eye(3), 10.0, 100.0).item() == 0.0
    off = torch.eye(3)
    off[0, 1] = off[1, 0] = 0.2
    assert dip_penalty(off, 10.0, 100.0).item() == pytest.approx(10.0 * 2 * 0.04)
    stretched = torch.diag(torch.tensor([1.5, 1.0, 1.0]))
    assert dip_penalty(stretched, 10.0, 100.0).item() == pytest.approx(100.0 * 0.25)
    penalties = [dip_penalty(torch.tensor([[1.0, c], [c, 1.0]]), 1.0, 1.0).item() for c in (0.0, 0.3, 0.6, 0.9)]
    assert penalties == sorted(penalties) and penalties[0] == 0.0

    signs = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])   # batch covariance a^2 I
    values = torch.randn(50, 3)
    assert torch.allclose(covariance(values), torch.cov(values.T, correction=0), atol=1e-6)
    zero = torch.tensor(0.0)
    dip_i = methods.create("dip_vae_i", {"latent_dim": 2}, (1, 64, 64), cpu_fp32, 0)
    dip_ii = methods.create("dip_vae_ii", {"latent_dim": 2}, (1, 64, 64), cpu_fp32, 0)
    unit_means, no_variance = signs, torch.full((4, 2), -30.0)
    assert dip_i.regulariser(zero, unit_means, no_variance, unit_means)[0].item() == pytest.approx(0, abs=1e-6)
    half_means, half_variance = signs * math.sqrt(0.5), torch.full((4, 2), math.log(0.5))
    # Type ii adds E[exp(log_var)] = 0.5 to Cov[mean] = 0.5 I: the identity. Type i sees 0.5 I.
    assert torch.allclose(dip_covariance(half_means, half_variance, "ii"), torch.eye(2), atol=1e-6)
    assert dip_ii.regulariser(zero, half_means, half_variance, half_means)[0].item() == pytest.approx(0.0, abs=1e-5)
    lambda_d = 10.0 * 10.0                                            # lambda_d_factor 10 x lambda_od 10
    half_i = dip_i.regulariser(zero, half_means, half_variance, half_means)[0].item()
    assert half_i == pytest.approx(lambda_d * 2 * 0.25)


def codes(kind: str, n: int, g: torch.Generator) -> torch.Tensor:
    if kind == "correlated":                                        # 4 latents = shared + 0.3 noise
        return torch.randn(n, 1, generator=g) + 0.3 * torch.randn(n, 4, generator=g)
    return torch.randn(n, 4, generator=g)


@pytest.mark.parametrize("kind", ["correlated", "independent"])
def test_factor_vae_discriminator_separates_joint_from_permuted_codes_only_when_they_differ(cpu_fp32, kind):
    method = methods.create("factor_vae", {"latent_dim": 4}, (1, 64, 64), cpu_fp32, 0)
    g = torch.Generator().manual_seed(1)
    for _ in range(30):
        method.train_discriminator(codes(kind, 32, g))
    held_out = codes(kind, 512, g)
    with torch.no_grad():
        joint, permuted = method.discriminator(held_out), method.discriminator(permute_dims(held_out, g))
    accuracy = ((joint.argmax(1) == 0).float().mean() + (permuted.argmax(1) == 1).float().mean()).item() / 2
    tc = (joint[:, 0] - joint[:, 1]).mean().item()                   # E log D/(1-D); Gaussian TC 3.08
    if kind == "correlated":
        assert accuracy > 0.8 and tc > 1.0
    else:
        assert accuracy < 0.65 and abs(tc) < 0.3


def test_permuted_codes_keep_each_latents_values():
    z = torch.arange(24.0).reshape(6, 4)
    permuted = permute_dims(z, torch.Generator().manual_seed(0))
    assert torch.equal(permuted.sort(dim=0).values, z) and not torch.equal(permuted, z)


def test_annealed_capacity_rises_linearly_to_c_max_and_is_the_kl_target(small_dsprites, cpu_fp32):
    method = methods.create("annealed_vae", {}, (1, 64, 64), cpu_fp32, 0)
    assert (method.params.gamma, method.params.c_max, method.params.iteration_threshold) == (1000.0, 25.0, 100_000)
    schedule = [method.capacity(step) for step in (0, 25_000, 50_000, 100_000, 200_000)]
    assert schedule == pytest.approx([0.0, 6.25, 12.5, 25.0, 25.0])

    method = methods.create("annealed_vae", {"c_max": 10.0, "iteration_threshold": 4, "batch_size": 8},
                            (1, 64, 64), cpu_fp32, 0)
    x = torch.from_numpy(small_dsprites.images(np.arange(8))).float() / 255
    logged = [method.train_step(methods.Batch(x, np.zeros((8, 5)))) for _ in range(6)]
    assert [values["capacity"] for values in logged] == pytest.approx([0.0, 2.5, 5.0, 7.5, 10.0, 10.0])
    for values in logged:
        assert values["loss"] == pytest.approx(values["reconstruction"] + 1000 * abs(values["kl"] - values["capacity"]),
                                               rel=1e-5)


@pytest.mark.parametrize("name", FAMILY[2:])
def test_loss_falls_on_a_tiny_dataset(small_dsprites, cpu_fp32, name):
    method = methods.create(name, {"batch_size": 16}, small_dsprites.image_shape, cpu_fp32, 0)
    sampler = BatchSampler(small_dsprites, IID, 16, np.random.default_rng(0), cpu_fp32)
    logs = [method.train_step(sampler.next()) for _ in range(25)]
    assert all(type(value) is float and math.isfinite(value) for log in logs for value in log.values())
    assert {"loss", "reconstruction", "kl", "kl_z0", "kl_z9"} <= set(logs[0])
    p = method.params
    regulariser = {"annealed_vae": lambda v: p.gamma * abs(v["kl"] - v["capacity"]),
                   "factor_vae": lambda v: v["kl"] + p.gamma * v["tc"],
                   "beta_tcvae": lambda v: v["kl"] + (p.beta - 1) * v["tc"],
                   "dip_vae_i": lambda v: v["kl"] + v["dip_penalty"],
                   "dip_vae_ii": lambda v: v["kl"] + v["dip_penalty"]}[name]
    for values in logs:
        assert values["loss"] == pytest.approx(values["reconstruction"] + regulariser(values), rel=1e-5)
    losses = [log["loss"] for log in logs]
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])
    assert method.step == 25


@pytest.mark.parametrize("name", FAMILY)
def test_codes_are_one_row_of_latent_dim_values_per_image(small_dsprites, cpu_fp32, name):
    method = methods.create(name, {"latent_dim": 6}, small_dsprites.image_shape, cpu_fp32, 0)
    assert method.codes_of(np.arange(0, 1536, 200), small_dsprites).shape == (8, 6)




def regulariser_through_trainable_d(method, kl, mean, log_var, z):
    """FactorVAE's KL + gamma TC with the TC through D as it stands, weights trainable: the plain
    formulation, whose backward also makes D's weight gradients (and D's step drops them)."""
    logits = method.discriminator(z).float()
    tc = (logits[:, 0] - logits[:, 1]).mean()
    return kl + method.params.gamma * tc, {"tc": tc.detach()}


def test_factor_vaes_step_makes_no_weight_gradient_of_d_and_trains_as_the_plain_formulation(small_dsprites,
                                                                                             cpu_fp32):
    def trained(plain: bool):
        method = methods.create("factor_vae", {"batch_size": 16}, small_dsprites.image_shape, cpu_fp32, 0)
        if plain:
            method.regulariser = types.MethodType(regulariser_through_trainable_d, method)
        sampler = BatchSampler(small_dsprites, IID, 16, np.random.default_rng(0), cpu_fp32)
        logs = [method.train_step(sampler.next()) for _ in range(6)]
        return method, logs

    fast, fast_logs = trained(plain=False)
    plain, plain_logs = trained(plain=True)
    assert fast_logs == plain_logs
    for name, module in fast.modules().items():
        for (key, value), other in zip(module.state_dict().items(), plain.modules()[name].state_dict().values()):
            assert torch.equal(value, other), f"{name}.{key}"

    z = torch.randn(8, 10, requires_grad=True)
    fast.discriminator.zero_grad(set_to_none=True)
    fast.regulariser(torch.tensor(0.0), None, None, z)[0].backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    assert all(weight.grad is None for weight in fast.discriminator.parameters())
