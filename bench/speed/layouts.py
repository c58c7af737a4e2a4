"""The memory layout of each layer's output and of the gradient that comes back to it, in one
training step (`bench speed --layers`). An element-wise kernel (ReLU's backward, threshold_backward)
whose two operands differ in layout, one NCHW and one channels_last (NHWC), cannot run as one flat
vectorised loop, and a convolution handed an operand in the other layout reorders it first: so a
layer whose output and gradient disagree is where such time can hide.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

NCHW, NHWC, EITHER, STRIDED = "NCHW", "NHWC", "either", "strided"


def layout(tensor: torch.Tensor) -> str:
    """NCHW (contiguous), NHWC (channels_last), `either` (both at once: one channel, or 1x1
    images) or `strided` (neither) for a 4-D tensor."""
    plain = tensor.is_contiguous()
    channels_last = tensor.is_contiguous(memory_format=torch.channels_last)
    if plain and channels_last:
        return EITHER
    return NCHW if plain else NHWC if channels_last else STRIDED


@dataclass(frozen=True)
class LayerLayout:
    layer: str              # e.g. decoder.10
    output: str
    gradient: str | None    # None: no gradient came back to this output

    @property
    def mixed(self) -> bool:
        return self.gradient is not None and EITHER not in (self.output, self.gradient) and self.output != self.gradient


def step_layouts(modules: dict[str, torch.nn.Module], step) -> list[LayerLayout]:
    """Each leaf module's 4-D output layout and its gradient's, over one call of `step` (a training
    step), named `key.path` (as the per-layer timings name them), in the order they ran."""
    outputs: dict[str, str] = {}
    gradients: dict[str, str] = {}
    handles = []

    def watch(name):
        def hook(module, inputs, output):
            if isinstance(output, torch.Tensor) and output.dim() == 4:
                outputs[name] = layout(output)
                if output.requires_grad:
                    output.register_hook(lambda grad: gradients.__setitem__(name, layout(grad)))
        return hook

    for key, network in modules.items():
        for path, module in network.named_modules(prefix=key):
            if next(module.children(), None) is None:            # a leaf: its output is one layer's
                handles.append(module.register_forward_hook(watch(path)))
    try:
        step()
    finally:
        for handle in handles:
            handle.remove()
    return [LayerLayout(name, output, gradients.get(name)) for name, output in outputs.items()]


def layout_rows(layouts: list[LayerLayout], rows, channels_last: bool) -> None:
    """`bench speed` rows: how many layers' output and gradient differ in layout (named), and, where
    the policy asks for channels_last, how many outputs are NCHW instead (named)."""
    mixed = [f"{entry.layer} ({entry.output} out, {entry.gradient} back)" for entry in layouts if entry.mixed]
    rows.add("layouts_mixed", len(mixed), "layers whose output and gradient differ in memory layout"
             + (f": {', '.join(mixed)}" if mixed else ""))
    if channels_last:
        plain = [entry.layer for entry in layouts if entry.output == NCHW]
        rows.add("layouts_nchw_outputs", len(plain), "4-D outputs in NCHW although the step asks for channels_last"
                 + (f": {', '.join(plain)}" if plain else ""))
