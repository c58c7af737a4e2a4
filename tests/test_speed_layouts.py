"""bench/speed/layouts.py: each tensor's memory layout named, and a layer whose output and gradient
differ in layout found by one step's hooks (a toy network where the layouts are known by construction)."""
import torch
from torch import nn

from bench.speed.layouts import EITHER, NCHW, NHWC, STRIDED, LayerLayout, layout, layout_rows, step_layouts
from bench.speed.measure import Rows


def test_layouts_are_named_from_the_strides():
    x = torch.zeros(2, 3, 4, 5)
    assert layout(x) == NCHW
    assert layout(x.contiguous(memory_format=torch.channels_last)) == NHWC
    assert layout(torch.zeros(2, 1, 4, 5)) == EITHER                     # one channel: both at once
    assert layout(x[:, :, ::2]) == STRIDED


class ToNCHW(nn.Module):
    def forward(self, x):
        return x.contiguous()


def test_one_step_finds_the_layer_whose_gradient_comes_back_in_the_other_layout():
    network = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), ToNCHW(), nn.Flatten(), nn.Linear(4 * 25, 1))
    network = network.to(memory_format=torch.channels_last)
    x = torch.randn(2, 3, 5, 5).contiguous(memory_format=torch.channels_last)

    def step():
        network(x).sum().backward()

    found = {entry.layer: entry for entry in step_layouts({"net": network}, step)}
    assert found["net.1"] == LayerLayout("net.1", NHWC, NCHW) and found["net.1"].mixed
    assert found["net.2"] == LayerLayout("net.2", NCHW, NCHW) and not found["net.2"].mixed
    assert "net.3" not in found and "net.4" not in found                 # 2-D outputs are not layouts
    assert not any(module._forward_hooks for module in network.modules())   # the hooks are gone

    rows = Rows()
    layout_rows(list(found.values()), rows, channels_last=True)
    assert rows.rows[0][:2] == ("layouts_mixed", 1.0) and "net.1 (NHWC out, NCHW back)" in rows.rows[0][2]
    assert rows.rows[1][:2] == ("layouts_nchw_outputs", 1.0) and rows.rows[1][2].endswith(": net.2")
