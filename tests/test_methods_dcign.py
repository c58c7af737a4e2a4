"""DC-IGN: one-factor-varying batches, the latent layout, the factor-count check, a falling loss, and
its invariance clamp's forward output and backward gradients on a hand-made batch."""


import numpy as np
import pytest
import torch

import methods
from bench.errors import UserError
from bench.running.sampler import BatchSampler
from methods.base import Batch
from methods.invariance_clamp import invariance_clamp

def make(small_dsprites, cpu_fp32, **params):
    return methods.create("dcign", {"batch_size": 16, **params}, small_dsprites.image_shape, cpu_fp32, 0)


def test_batches_vary_exactly_the_announced_factor(small_dsprites, cpu_fp32):
    method = make(small_dsprites, cpu_fp32)
    batches = BatchSampler(small_dsprites, method.batch_kind, 32, np.random.default_rng(0), cpu_fp32)
    seen = set()
    for _ in range(40):
        batch = batches.next()
        varying = [k for k in range(small_dsprites.num_factors) if len(np.unique(batch.factors[:, k])) > 1]
        assert varying == [batch.varying_factor]
        seen.add(batch.varying_factor)
        assert torch.equal(batch.x, cpu_fp32.prepare_images(
            torch.from_numpy(small_dsprites.images(small_dsprites.index_of(batch.factors)))))
    assert seen == set(range(small_dsprites.num_factors))


def test_default_layout_is_one_block_of_two_latents_per_factor_and_no_free_latents(small_dsprites, cpu_fp32):
    method = make(small_dsprites, cpu_fp32)
    assert method.params.latent_dim == 10
    means_active = method.active_columns[:, :10]
    assert torch.equal(means_active[1], torch.tensor([0, 0, 1, 1, 0, 0, 0, 0, 0, 0], dtype=torch.bool))
    assert torch.equal(method.active_columns[:, 10:], means_active)      # log-variances alike
    with_free = make(small_dsprites, cpu_fp32, block_size=1, free_latents=5)
    assert torch.equal(with_free.active_columns[2, :10], torch.tensor([0, 0, 1, 0, 0, 1, 1, 1, 1, 1], dtype=torch.bool))
    assert method.codes_of(np.arange(7), small_dsprites).shape == (7, 10)


def test_wrong_factor_count_is_a_clear_error(small_dsprites, cpu_fp32):
    method = make(small_dsprites, cpu_fp32, num_factors=4)
    batch = Batch(torch.zeros(2, 1, 64, 64), np.zeros((2, 5), dtype=np.int64), 0)
    with pytest.raises(UserError, match="dcign.num_factors is 4 but the dataset has 5"):
        method.train_step(batch)
    with pytest.raises(UserError, match="dcign.num_factors is 4 but the dataset has 5"):
        method.batch_kind.check(small_dsprites, "dcign")                  # what bench run asks before training
    make(small_dsprites, cpu_fp32).batch_kind.check(small_dsprites, "dcign")
    with pytest.raises(UserError, match="free_latents"):
        make(small_dsprites, cpu_fp32, free_latents=-1)


def test_a_wrong_factor_count_fails_before_any_training(tmp_path, capsys):
    from bench.cli import main
    out = tmp_path / "out"
    assert main(["run", "--methods", "dcign", "--set", "dcign.num_factors=4", "--dataset", "dsprites_small",
                 "--steps", "5", "--quick", "--no-progress", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "dcign.num_factors is 4 but the dataset has 5 factors" in error and error.count("\n") == 1
    assert not (out / "runs").exists()


@pytest.mark.parametrize("clamp", ["first", "mean"])
def test_loss_falls_on_one_factor_varying_batches(small_dsprites, cpu_fp32, clamp):
    method = make(small_dsprites, cpu_fp32, clamp=clamp)
    batches = BatchSampler(small_dsprites, method.batch_kind, 16, np.random.default_rng(0), cpu_fp32)
    logs = [method.train_step(batches.next()) for _ in range(30)]
    assert all(type(value) is float for log in logs for value in log.values())
    losses = [log["loss"] for log in logs]
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])


# DC-IGN's clamp: forward output and backward gradients on a hand-made batch ----------------------

# Three samples, three latents; latent 0 is active (its factor varies), 1 and 2 are clamped.
BATCH = [[1.0, 2.0, 6.0],
         [3.0, 4.0, 0.0],
         [5.0, 3.0, 0.0]]
ACTIVE = torch.tensor([True, False, False])
GRAD_OUT = torch.tensor([[1.0, 7.0, 7.0],
                         [2.0, 7.0, 7.0],
                         [3.0, 7.0, 7.0]])


def clamped(mode, strength=0.5):
    z = torch.tensor(BATCH, requires_grad=True)
    out = invariance_clamp(z, ACTIVE, strength, mode)
    out.backward(GRAD_OUT)
    return out.detach(), z.grad


def test_first_mode_copies_the_first_sample_into_inactive_latents():
    out, _ = clamped("first")
    assert torch.equal(out, torch.tensor([[1.0, 2.0, 6.0],
                                          [3.0, 2.0, 6.0],
                                          [5.0, 2.0, 6.0]]))


def test_mean_mode_uses_the_batch_mean_for_inactive_latents():
    out, _ = clamped("mean")
    assert torch.equal(out, torch.tensor([[1.0, 3.0, 2.0],
                                          [3.0, 3.0, 2.0],
                                          [5.0, 3.0, 2.0]]))


@pytest.mark.parametrize("mode", ["first", "mean"])
def test_backward_passes_the_true_gradient_to_active_and_pulls_inactive_to_the_mean(mode):
    _, grad = clamped(mode, strength=0.5)
    # column means of the inactive latents are 3 and 2: gradient = (z - mean) * 0.5,
    # whatever gradient arrived from above (7 here); the active column keeps it (1, 2, 3).
    assert torch.equal(grad, torch.tensor([[1.0, -0.5, 2.0],
                                           [2.0, 0.5, -1.0],
                                           [3.0, 0.0, -1.0]]))


def test_zero_strength_filters_the_inactive_gradient_out():
    _, grad = clamped("first", strength=0.0)
    assert torch.equal(grad[:, 1:], torch.zeros(3, 2))
    assert torch.equal(grad[:, 0], GRAD_OUT[:, 0])


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="median"):
        invariance_clamp(torch.zeros(2, 3), ACTIVE, 1.0, "median")
