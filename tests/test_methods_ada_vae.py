"""Ada-GVAE and Ada-ML-VAE (methods/ada_vae.py) and their pairs (methods/batch_kinds.py,
GroundTruthData.pairs_differing): the equations on hand-made cases, the loss on dsprites_small,
pairs that differ in exactly k factors, and the checks made before any training."""
import math

import numpy as np
import pytest
import torch

import methods
from bench import reproduce
from bench.cli import main
from bench.data import folder as image_folder
from bench.errors import UserError
from bench.reporting.preset import preset_table
from bench.running.sampler import BatchSampler
from methods.ada_vae import aggregate_shared, arithmetic_mean, posterior_kl, product_of_experts, shared_latents
from methods.batch_kinds import PairsDiffering, most_changed

WEAK = ["ada_gvae", "ada_ml_vae"]


def test_the_kl_per_latent_of_two_known_gaussians():
    # KL(N(0, 1) || N(1, 4)) = log 2 + (1 + 1) / 8 - 1/2; KL(N(1, 4) || N(0, 1)) = (4 + 1 - 1 - log 4) / 2
    mean1, log_var1 = torch.tensor([[0.0, 1.0, 0.3]]), torch.tensor([[0.0, math.log(4.0), -1.0]])
    mean2, log_var2 = torch.tensor([[1.0, 0.0, 0.3]]), torch.tensor([[math.log(4.0), 0.0, -1.0]])
    delta = posterior_kl(mean1, log_var1, mean2, log_var2)
    assert delta.tolist()[0] == pytest.approx([math.log(2) + 0.25 - 0.5, 0.5 * (4 + 1 - 1 - math.log(4)), 0.0], abs=1e-6)
    rng = torch.Generator().manual_seed(0)
    m1, m2, l1, l2 = (torch.randn(4, 10, generator=rng) for _ in range(4))
    expected = torch.distributions.kl_divergence(torch.distributions.Normal(m1, (0.5 * l1).exp()),
                                                 torch.distributions.Normal(m2, (0.5 * l2).exp()))
    assert torch.allclose(posterior_kl(m1, l1, m2, l2), expected, atol=1e-5)


def test_the_threshold_is_halfway_between_the_largest_and_smallest_kl_and_below_it_is_shared():
    deltas = torch.tensor([[0.0, 0.1, 2.0, 4.0],      # tau 2: the two small ones; 2.0 itself is not below
                           [1.0, 3.0, 3.0, 1.0],      # tau 2
                           [0.5, 0.5, 0.5, 0.5],      # all equal: nothing is shared
                           [9.0, 0.0, 10.0, 1.0]])    # tau 5
    assert shared_latents(deltas).tolist() == [[True, True, False, False], [True, False, False, True],
                                               [False] * 4, [False, True, False, True]]


def test_the_two_aggregations_on_known_posteriors():
    mean1, var1, mean2, var2 = torch.tensor([1.0, 0.0]), torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]), torch.tensor([3.0, 2.0])
    mean, log_var = arithmetic_mean(mean1, var1.log(), mean2, var2.log())
    assert mean.tolist() == pytest.approx([2.0, 2.0]) and log_var.exp().tolist() == pytest.approx([2.0, 2.0])
    # precisions 1 and 1/3: mean (1 + 1) / (4/3) = 1.5, variance 2 * 1 * 3 / 4 = 1.5; equal variances: the mean
    mean, log_var = product_of_experts(mean1, var1.log(), mean2, var2.log())
    assert mean.tolist() == pytest.approx([1.5, 2.0]) and log_var.exp().tolist() == pytest.approx([1.5, 2.0])


@pytest.mark.parametrize("aggregate", [arithmetic_mean, product_of_experts])
def test_only_the_shared_latents_of_a_pair_are_replaced_in_both_posteriors(aggregate):
    # Two pairs of 3 latents. Pair 0: latent 2 differs (KL 8), latents 0 and 1 are near; pair 1: latent 0 differs.
    means = torch.tensor([[0.0, 1.0, -2.0], [5.0, 0.0, 0.0],      # the pairs' first images
                          [0.1, 1.0, 2.0], [0.0, 0.2, 0.0]])      # their second images
    log_vars = torch.zeros(4, 3)
    encoded = torch.cat([means, log_vars], dim=1).requires_grad_()
    outputs, shared = aggregate_shared(encoded, aggregate)
    assert shared.tolist() == [[True, True, False], [False, True, True]]
    mean, log_var = outputs.detach().chunk(2, dim=1)
    assert mean[0].tolist() == pytest.approx([0.05, 1.0, -2.0]) and mean[2].tolist() == pytest.approx([0.05, 1.0, 2.0])
    assert mean[1].tolist() == pytest.approx([5.0, 0.1, 0.0]) and mean[3].tolist() == pytest.approx([0.0, 0.1, 0.0])
    assert torch.allclose(log_var, torch.zeros(4, 3), atol=1e-6)          # equal variances stay 1
    outputs[0, 0].backward()                                              # a shared mean reads both images
    assert encoded.grad[0, 0] == pytest.approx(0.5) and encoded.grad[2, 0] == pytest.approx(0.5)


def pair_sampler(dataset, method, seed=0):
    return BatchSampler(dataset, method.batch_kind, method.params.batch_size, np.random.default_rng(seed),
                        method.policy)


@pytest.mark.parametrize("name", WEAK)
def test_the_loss_falls_on_dsprites_small(small_dsprites, cpu_fp32, name):
    method = methods.create(name, {"batch_size": 32}, small_dsprites.image_shape, cpu_fp32, 0)
    sampler = pair_sampler(small_dsprites, method)
    logs = [method.train_step(sampler.next()) for _ in range(25)]
    for values in logs:
        assert values["loss"] == pytest.approx(values["reconstruction"] + method.params.beta * values["kl"], rel=1e-5)
        assert 0 <= values["shared_latents"] < 10
    losses = [log["loss"] for log in logs]
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])


def test_the_weak_methods_train_on_pairs_of_their_k(small_dsprites, cpu_fp32):
    method = methods.create("ada_ml_vae", {"k": 2, "batch_size": 16}, small_dsprites.image_shape, cpu_fp32, 0)
    assert method.batch_kind == PairsDiffering(2) and methods.method_class("ada_gvae").batch_kind == PairsDiffering(0)
    batch = pair_sampler(small_dsprites, method).next()
    first, second = batch.factors[:8], batch.factors[8:]
    assert batch.x.shape == (16, 1, 64, 64) and ((first != second).sum(axis=1) == 2).all()
    assert torch.equal(batch.x, torch.from_numpy(small_dsprites.images(small_dsprites.index_of(batch.factors))) / 255)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_pairs_differ_in_exactly_k_factors_with_the_changes_spread_evenly(small_dsprites, k):
    first, second = small_dsprites.pairs_differing(np.full(20_000, k), np.random.default_rng(k))
    changed = first != second
    assert (changed.sum(axis=1) == k).all()
    assert changed.mean(axis=0) == pytest.approx(np.full(5, k / 5), abs=0.015)     # which factors: uniform
    # the new value of posX (8 values): uniform over the 7 others
    moved = changed[:, 3]
    steps = (second[moved, 3] - first[moved, 3]) % 8
    assert set(steps) == set(range(1, 8)) and np.bincount(steps, minlength=8)[1:] / moved.sum() == pytest.approx(np.full(7, 1 / 7), abs=0.02)
    assert first.min(axis=0).tolist() == [0] * 5 and (first.max(axis=0) + 1).tolist() == list(small_dsprites.factor_sizes)


def test_k_drawn_per_pair_is_1_or_uniform_in_1_to_k_minus_1_with_probability_one_half(small_dsprites):
    factors, varying = PairsDiffering(0).draw(small_dsprites, 40_000, np.random.default_rng(0))
    counts = (factors[:20_000] != factors[20_000:]).sum(axis=1)
    # K = 5: P(1) = 1/2 + 1/8, P(2) = P(3) = P(4) = 1/8
    assert varying is None and np.bincount(counts, minlength=5) / 20_000 == pytest.approx([0, 0.625, 0.125, 0.125, 0.125], abs=0.01)


def test_a_factor_of_one_value_is_never_changed(small_dsprites):
    class OneShape(type(small_dsprites)):
        factor_sizes = (1, 2, 4, 8, 8)
    dataset = OneShape.__new__(OneShape)
    first, second = dataset.pairs_differing(np.full(2_000, 4), np.random.default_rng(0))
    assert (first[:, 0] == 0).all() and (second[:, 0] == 0).all() and ((first != second).sum(axis=1) == 4).all()
    assert most_changed(dataset) == 4 and most_changed(small_dsprites) == 4


def test_bad_pair_settings_are_refused_with_one_line(small_dsprites, tmp_path):
    with pytest.raises(UserError, match=r"ada_gvae.k = 5: pairs of dsprites_small differ in at most 4 of its 5 "
                                        r"factors .* valid: 0 \(drawn per pair\) or 1 to 4"):
        PairsDiffering(5).check(small_dsprites, "ada_gvae")
    PairsDiffering(4).check(small_dsprites, "ada_gvae")
    with pytest.raises(UserError, match="batch_size counts images, two per pair: it must be even, not 63"):
        methods.method_class("ada_gvae").Params(batch_size=63)


def test_bench_refuses_a_k_the_dataset_cannot_give_before_training(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "--methods", "ada_gvae", "--dataset", "dsprites_small", "--set", "ada_gvae.k=5",
                 "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "ada_gvae.k = 5" in error and error.count("\n") == 1 and not out.exists()


@pytest.mark.parametrize("name", WEAK)
def test_an_image_folder_refuses_a_weak_method_with_one_line(tmp_path, capsys, name):
    from PIL import Image
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(folder / f"{i}.png")
    assert main(["run", "--methods", name, "--dataset", f"folder:{folder}", "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert f"method {name} needs ground-truth factors, which folder:" in error and error.count("\n") == 1
    with pytest.raises(UserError, match=f"method {name} trains on pairs of images that share factors"):
        methods.method_class(name).batch_kind_of(methods.method_class(name).Params()).check(image_folder.load(f"folder:{folder}"), name)


def test_the_weak_supervision_preset_compares_at_the_same_images():
    config, paper = reproduce.load("weak_supervision", {"precision": "bf16"}, quick=False)
    assert config.methods == ("ada_gvae", "beta_vae") and config.seeds == (0, 1, 2, 3, 4) and config.steps == 8000
    assert reproduce.load("weak_supervision", {}, quick=False, budget="long")[0].steps == 31250
    higgins, _ = reproduce.load("higgins2017", {"precision": "bf16"}, quick=False)   # its beta-VAE row: the same runs
    beta_vae_ids = {spec.run_id for spec in config.specs() if spec.method == "beta_vae"}
    assert len(beta_vae_ids) == 5 and beta_vae_ids <= {spec.run_id for spec in higgins.specs()}
    assert config.metrics == ("beta_vae", "mig", "dci") and paper == {}
    images_per_step = [config.params.get(name, {}).get("batch_size", [methods.method_class(name).Params().batch_size])
                       for name in config.methods]
    assert images_per_step == [[64], [64]]
    claims = preset_table("weak_supervision", "claims")
    assert [(c["first"], c["second"], c["metric"]) for c in claims] == [
        ("ada_gvae", "beta_vae", "beta_vae.eval_accuracy"), ("ada_gvae", "beta_vae", "mig.score"),
        ("ada_gvae", "beta_vae", "dci.disentanglement")]
