"""DC-IGN's clamp and gradient filter as one autograd function (Kulkarni et al. 2015, section 3.2;
official Lua code willwhitney/dc-ign, modules/SelectiveOutputClamp.lua and
SelectiveGradientFilter.lua).

In a batch where only one generative factor varies, the latents tied to the other factors should
not vary either. Forward: every inactive column takes one value shared by the whole batch (the
first sample's, as in the official code, or the batch mean, as in the paper's text); active
columns pass unchanged. Backward: active columns get their true gradient; inactive ones get
(z - mean over the batch of z) * strength, which pulls each sample's value towards the batch mean
(the gradient of strength/2 * sum_n ||z_n - mean z||^2), i.e. towards invariance.
"""
from __future__ import annotations

import torch

CLAMP_MODES = ("first", "mean")


class InvarianceClamp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, values: torch.Tensor, active: torch.Tensor, strength: float, mode: str):
        shared = values[:1] if mode == "first" else values.mean(dim=0, keepdim=True)
        ctx.save_for_backward(values, active)
        ctx.strength = strength
        return torch.where(active, values, shared.expand_as(values))

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        values, active = ctx.saved_tensors
        invariance = (values - values.mean(dim=0, keepdim=True)) * ctx.strength
        return torch.where(active, grad_output, invariance.to(grad_output.dtype)), None, None, None


def invariance_clamp(values: torch.Tensor, active: torch.Tensor, strength: float, mode: str = "first") -> torch.Tensor:
    """Clamp the columns of `values` (batch, D) where the boolean mask `active` (D,) is False."""
    if mode not in CLAMP_MODES:
        raise ValueError(f"clamp mode {mode!r} is not one of {CLAMP_MODES}")
    return InvarianceClamp.apply(values, active, float(strength), mode)
