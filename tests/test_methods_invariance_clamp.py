"""DC-IGN's clamp: forward output and backward gradients on a hand-made batch."""
import pytest
import torch

from methods.invariance_clamp import invariance_clamp

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
