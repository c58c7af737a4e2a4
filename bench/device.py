"""Where and how tensors are computed: device, mixed precision and memory format (docs/design.md),
and with how many threads (default_threads: the cores free at the start, split among the runs).

CUDA when available, else CPU. bf16 autocast is used where it trains faster than fp32 (CUDA with
bf16, CPUs with AMX: bf16_pays, precision_choice); "auto" keeps fp32 on other CPUs: converted bf16
is slower (plain AVX-512 ~0.3x, AVX2 ~0.1x), and AVX-512 bf16 without AMX differs by CPU (0.81x on a
Xeon capped there, 1.3-1.6x on an AMD EPYC (Zen 4): docs/performance.md), with bf16's plateau test run on AMX only. channels_last is used on every CPU, fp32 too: oneDNN's convolutions and
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
import os
import time
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


def cpuinfo_field(name: str) -> str | None:
    """The value of the first CPU's field `name` in /proc/cpuinfo ("flags", "model name"); None
    where that file or the field is absent (not Linux)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value.strip()
    except OSError:
        pass
    return None


def cpu_flags() -> set[str]:
    """The CPU's feature flags (/proc/cpuinfo); empty where that file is absent (not Linux)."""
    return set((cpuinfo_field("flags") or "").split())


# bf16 on AVX-512 bf16 without AMX, conv beta-VAE, one thread (docs/performance.md, docs/reproduction.md).
BF16_WITHOUT_AMX = ("0.81x fp32 on a Xeon, 1.3-1.6x on an AMD EPYC (Zen 4); "
                    "`bench speed --precision bf16` measures it")


def cpu_bf16_units() -> tuple[str, ...]:
    """The units that compute bf16 natively on this CPU: "AMX" (amx_bf16) and "AVX-512 bf16"
    (avx512_bf16). oneDNN also runs bf16 on plain AVX-512 (and torch's own check says yes there),
    but by conversion."""
    flags = cpu_flags()
    return tuple(name for flag, name in (("amx_bf16", "AMX"), ("avx512_bf16", "AVX-512 bf16")) if flag in flags)


def bf16_pays(device: torch.device) -> bool:
    """Whether bf16 autocast trains faster than fp32 on `device`: a CUDA GPU with bf16, or a CPU
    with AMX. Without AMX it is slower: the conv beta-VAE, one thread, oneDNN capped at AVX-512 bf16
    on an AMX Xeon trained at 644 images/s in bf16 against 793 in fp32, at plain AVX-512 (bf16
    converted) at 234 against 803 (docs/reproduction.md, "Precision")."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return "AMX" in cpu_bf16_units()


def choose_policy(device: str = "auto", precision: str = "auto", compile: bool = False) -> ComputePolicy:
    """The policy for `--device` and `--precision` flags; `compile` asks for torch.compile."""
    chosen = chosen_device(device)
    use_bf16 = precision_choice(device, precision)[0] == "bf16"
    if chosen.type == "cpu":
        keep_freed_memory()
    return ComputePolicy(chosen, torch.bfloat16 if use_bf16 else None,
                         channels_last=chosen.type == "cpu", compile=compile)


def chosen_device(device: str = "auto") -> torch.device:
    if device not in DEVICES:
        raise unknown("device", device, DEVICES)
    if device == "cuda" and not torch.cuda.is_available():
        raise unknown("device", "cuda (no CUDA device is visible)", ["auto", "cpu"])
    return torch.device("cuda" if device == "cuda" or (device == "auto" and torch.cuda.is_available()) else "cpu")


def precision_choice(device: str = "auto", precision: str = "auto") -> tuple[str, str]:
    """(what `--device` and `--precision` compute in, "bf16" (autocast) or "fp32"; why, in words).

    auto: bf16 where it trains faster than fp32 (bf16_pays): a CUDA GPU with bf16, a CPU with AMX;
    fp32 elsewhere. On a 2-core Xeon with AMX, two one-thread runs side by side trained the conv
    beta-VAE at 1,255 images/s each in bf16 against 714 in fp32, and over 20 seeds per precision
    (same batches) bf16 left the posterior-collapse plateau no later (median step 400 in both,
    two-sided Mann-Whitney p = 0.52; docs/reproduction.md, "Precision")."""
    if precision not in PRECISIONS:
        raise unknown("precision", precision, PRECISIONS)
    chosen = chosen_device(device)
    if precision != "auto":
        return precision, f"--precision {precision}"
    if chosen.type == "cuda":
        if bf16_pays(chosen):
            return "bf16", "auto: the CUDA GPU computes bf16"
        return "fp32", "auto: the CUDA GPU has no bf16"
    if bf16_pays(chosen):
        return "bf16", f"auto: this CPU computes bf16 in AMX tiles ({', '.join(cpu_bf16_units())})"
    if cpu_bf16_units():
        return "fp32", f"auto: this CPU has AVX-512 bf16 but no AMX, where bf16's speed differs by CPU ({BF16_WITHOUT_AMX})"
    return "fp32", "auto: this CPU has no native bf16 (AMX or AVX-512 bf16); converted bf16 would be slower"


def resolve_precision(device: str = "auto", precision: str = "auto") -> str:
    """What `--device` and `--precision` compute in: "bf16" (autocast) or "fp32" (precision_choice);
    this is what a run's identity records (bench/running/spec.py)."""
    return precision_choice(device, precision)[0]


def busy_cores(interval: float = 0.3) -> float:
    """How many cores other work keeps busy now: the machine's non-idle CPU time over `interval`
    seconds (/proc/stat), in cores; 0 where /proc/stat is absent."""
    def totals():
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
        return sum(ticks), ticks[3] + (ticks[4] if len(ticks) > 4 else 0)     # all, idle + iowait
    try:
        total_before, idle_before = totals()
        time.sleep(interval)
        total_after, idle_after = totals()
    except (OSError, ValueError, IndexError):
        return 0.0
    elapsed = total_after - total_before
    return 0.0 if elapsed <= 0 else (1 - (idle_after - idle_before) / elapsed) * usable_cores()


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                 # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def default_threads(jobs: int, busy: float | None = None) -> int:
    """Torch threads per run: the cores that are free when the sweep starts, split among the `jobs`
    parallel runs (at least 1). A free core per thread keeps the default fast on an idle machine
    (one run uses every core), and a busy machine gets fewer threads instead of oversubscribed ones:
    on a loaded 2-core Xeon a two-thread beta-VAE trained at 53 images/s where one thread trained at
    380-470 (docs/reproduction.md). The metrics' independent fits (DCI's per factor, metrics/workers.py)
    follow the same policy. `busy`: cores in use by other work (measured when None)."""
    cores = usable_cores()
    free = cores - (busy_cores() if busy is None else busy)
    return max(1, min(cores, int(free + 0.5)) // max(1, jobs))
