"""The machine a run computes on, described for its folder's machine.json (provenance, not identity:
docs/usage.md, "A run's folder"). bf16 kernels differ by CPU (AMX tiles, AVX-512 bf16 dot products,
oneDNN's ISA cap), so runs that are the same run by id need not hold the same numbers when they
trained on different CPUs; this says which CPU each trained on. No hostname: the description names
the hardware and software, never the machine's owner.
"""
from __future__ import annotations

import os
import platform

import torch

from bench.device import cpu_bf16_units, cpuinfo_field

ONEDNN_ISA_CAPS = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")     # oneDNN's cap on the kernels it may use


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what the platform says, else "unknown"."""
    return cpuinfo_field("model name") or platform.processor() or "unknown"


def describe(device: torch.device) -> dict:
    """What computes on `device` now, as plain JSON values: the CPU's model, its native bf16 units
    (bench.device.cpu_bf16_units), torch's CPU capability and oneDNN's ISA cap where one is set
    (None: none), torch's version and threads, the device, and the CUDA device's name (None on CPU)."""
    return {"cpu": cpu_model(),
            "bf16_units": list(cpu_bf16_units()),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "onednn_max_cpu_isa": next((os.environ[name] for name in ONEDNN_ISA_CAPS if os.environ.get(name)), None),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "device": device.type,
            "cuda_device": torch.cuda.get_device_name(device) if device.type == "cuda" else None}
