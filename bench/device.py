"""Where and how tensors are computed: device, mixed precision and memory format (DESIGN.md).

CUDA when available, else CPU. bf16 autocast is used where the hardware runs it natively (CUDA
with bf16, CPUs with AVX-512 bf16 or AMX); on a CPU without it bf16 is emulated and slower, so
"auto" keeps fp32 there. channels_last goes with bf16 on CPU, where oneDNN's convolutions want it.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from bench.errors import unknown

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class ComputePolicy:
    device: torch.device
    autocast_dtype: torch.dtype | None
    channels_last: bool

    def autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def prepare_module(self, module: torch.nn.Module) -> torch.nn.Module:
        module = module.to(self.device)
        return module.to(memory_format=torch.channels_last) if self.channels_last else module

    def prepare_images(self, x: torch.Tensor) -> torch.Tensor:
        """Images on the device as float in [0, 1], in the policy's memory format."""
        x = x.to(self.device, non_blocking=True)
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last and x.dim() == 4 else x

    def describe(self) -> str:
        precision = "fp32" if self.autocast_dtype is None else "bf16 autocast"
        return f"{self.device.type}, {precision}{', channels_last' if self.channels_last else ''}"


def native_bf16(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def choose_policy(device: str = "auto", precision: str = "auto") -> ComputePolicy:
    """The policy for `--device` and `--precision` flags."""
    if device not in DEVICES:
        raise unknown("device", device, DEVICES)
    if precision not in PRECISIONS:
        raise unknown("precision", precision, PRECISIONS)
    if device == "cuda" and not torch.cuda.is_available():
        raise unknown("device", "cuda (no CUDA device is visible)", ["auto", "cpu"])
    chosen = torch.device("cuda" if device == "cuda" or (device == "auto" and torch.cuda.is_available()) else "cpu")
    use_bf16 = precision == "bf16" or (precision == "auto" and native_bf16(chosen))
    return ComputePolicy(chosen, torch.bfloat16 if use_bf16 else None,
                         channels_last=use_bf16 and chosen.type == "cpu")
