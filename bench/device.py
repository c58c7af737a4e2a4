"""Where and how tensors are computed: device, mixed precision and memory format (docs/design.md).

CUDA when available, else CPU. bf16 autocast is used where the hardware runs it natively (CUDA
with bf16, CPUs with AVX-512 bf16 or AMX); on a CPU without it bf16 is emulated and slower, so
"auto" keeps fp32 there. channels_last is used on every CPU, fp32 too: oneDNN's convolutions and
transposed convolutions want it (conv beta-VAE training step 1.5x faster in fp32 on a 2-core AVX2
CPU, paired rounds; the FC model is unaffected). torch.compile is an option, off by default: on that
CPU it took 86 s to compile and gained nothing (0.98x); `bench speed --compile` measures it.
A CPU policy also asks glibc's malloc to keep freed memory (keep_freed_memory): by default it hands
the step's large activation buffers back to the kernel and faults them in again on the next step
(~15,000 page faults and ~20% of a conv beta-VAE step in the kernel on that CPU).
"""
from __future__ import annotations

import contextlib
import ctypes
from dataclasses import dataclass

import torch

from bench.defaults import DEVICES, PRECISIONS
from bench.errors import unknown
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3          # mallopt parameters (malloc.h)
KEEP_BYTES = 1 << 30
_kept: bool | None = None


@dataclass(frozen=True)
class ComputePolicy:
    device: torch.device
    autocast_dtype: torch.dtype | None
    channels_last: bool
    compile: bool = False          # torch.compile each network (in place: same state_dict keys)

    def autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def prepare_module(self, module: torch.nn.Module) -> torch.nn.Module:
        module = module.to(self.device)
        if self.channels_last:
            module = module.to(memory_format=torch.channels_last)
        if self.compile:
            # Compiles on the first call. Only forward is replaced, so state_dict keys (and
            # checkpoints) stay those of the eager module; nn.Module.compile() is not used as it
            # compiles nothing in torch 2.13 (dynamo skips the wrapped Module._call_impl frame).
            module.forward = torch.compile(module.forward)
        return module

    def prepare_images(self, x: torch.Tensor) -> torch.Tensor:
        """Images on the device as float in [0, 1], in the policy's memory format."""
        x = x.to(self.device, non_blocking=True)
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last and x.dim() == 4 else x

    def describe(self) -> str:
        precision = "fp32" if self.autocast_dtype is None else "bf16 autocast"
        return (f"{self.device.type}, {precision}{', channels_last' if self.channels_last else ''}"
                f"{', torch.compile' if self.compile else ''}")


def keep_freed_memory() -> bool:
    """Make glibc malloc serve blocks up to 1 GB from its heap and keep up to 1 GB of freed memory
    instead of returning it to the kernel, for this whole process (once; idempotent). Returns
    whether that took effect (False where the C library is not glibc). The cost: the process keeps
    the memory of its largest step until it exits."""
    global _kept
    if _kept is None:
        try:
            libc = ctypes.CDLL("libc.so.6")
            _kept = libc.mallopt(M_MMAP_THRESHOLD, KEEP_BYTES) == 1 and libc.mallopt(M_TRIM_THRESHOLD, KEEP_BYTES) == 1
        except (OSError, AttributeError):
            _kept = False
    return _kept


def native_bf16(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def choose_policy(device: str = "auto", precision: str = "auto", compile: bool = False) -> ComputePolicy:
    """The policy for `--device` and `--precision` flags; `compile` asks for torch.compile."""
    if device not in DEVICES:
        raise unknown("device", device, DEVICES)
    if precision not in PRECISIONS:
        raise unknown("precision", precision, PRECISIONS)
    if device == "cuda" and not torch.cuda.is_available():
        raise unknown("device", "cuda (no CUDA device is visible)", ["auto", "cpu"])
    chosen = torch.device("cuda" if device == "cuda" or (device == "auto" and torch.cuda.is_available()) else "cpu")
    # auto: bf16 autocast on CUDA only. On CPUs it was no faster even with native bf16 (an AVX-512
    # Xeon: 400 against 510 images/s for fp32, two one-thread runs side by side), ~10x slower
    # without it (AVX2), and it changed a result: beta-VAE seed 1 stayed in the posterior-collapse
    # plateau past step 1,400 in bf16 while fp32 left it at step ~500 (docs/reproduction.md).
    use_bf16 = precision == "bf16" or (precision == "auto" and chosen.type == "cuda" and native_bf16(chosen))
    if chosen.type == "cpu":
        keep_freed_memory()
    return ComputePolicy(chosen, torch.bfloat16 if use_bf16 else None,
                         channels_last=chosen.type == "cpu", compile=compile)


def resolve_precision(device: str = "auto", precision: str = "auto") -> str:
    """What `--device` and `--precision` compute in: "bf16" (autocast) or "fp32". "auto" resolves
    as choose_policy does (bf16 on a CUDA GPU with bf16, fp32 elsewhere); this is what a run's
    identity records (bench/running/spec.py)."""
    return "fp32" if choose_policy(device, precision).autocast_dtype is None else "bf16"
