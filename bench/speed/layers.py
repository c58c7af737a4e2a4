"""`bench speed --layers`: where a VAE-family training step spends its time, layer by layer.

Four views of the same step, each on warmed-up steps of one fixed batch:
- oneDNN's own timings (its verbose mode, which prints every primitive it executes with its
  implementation, problem and milliseconds): each convolution and transposed convolution, per
  direction (forward, backward_data, backward_weights), against a torch.mm of the matrix product
  that direction lowers to (ceiling.py's im2col shapes) at the step's dtype; and the reorders
  (layout and dtype conversions of weights and activations) between them.
- torch.profiler over the runner's own step (runner.training_step): each operator's self time per
  step, the element-wise kernels (ReLU and its backward), dtype copies, matrix products and the
  optimiser among them.
- the memory layout of each layer's output and of its gradient (layouts.py): layers where the two
  differ, and NCHW outputs where the step asks for channels_last.
The convolutions are timed inside the network's forward and backward (not alone), so their
sum is comparable with the step: what oneDNN reports is what the step paid.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass

import torch
from torch.profiler import ProfilerActivity, profile

import methods
from bench import data
from bench.device import ComputePolicy
from bench.errors import UserError
from bench.running.runner import sampler_rng, training_step
from bench.running.sampler import BatchSampler
from bench.speed.ceiling import Gemm, NetworkAlone, product_seconds
from bench.speed.layouts import layout_rows, step_layouts
from bench.speed.measure import Rows, SpeedSettings, conditions, prepared, write
from bench.speed.plain_loop import timed
from methods.vae import GaussianVAE

# A direction of a convolution is one matrix product of its layer's Gemm (ceiling.py):
# forward (M, K) x (K, N); the weight gradient (K, M) x (M, N); the input gradient (M, N) x (N, K).
DIRECTIONS = ("forward_training", "backward_data", "backward_weights")
CONVOLUTIONS = ("convolution", "deconvolution")
PROBLEM = re.compile(r"(mb|g|ic|oc|ih|oh|kh|iw|ow|kw)(\d+)")
TOP_OPERATORS = 15                 # operators listed, by self time


@dataclass(frozen=True)
class PrimitiveCall:
    """One primitive oneDNN executed: `onednn_verbose,...,exec,ENGINE,KIND,IMPLEMENTATION,
    DIRECTION,MEMORY,ATTRIBUTES,AUXILIARY,PROBLEM,MILLISECONDS`."""
    kind: str
    implementation: str
    direction: str
    memory: str
    problem: str
    ms: float


def parse_verbose(text: str) -> list[PrimitiveCall]:
    """The executed primitives of oneDNN's verbose output (v1 or the older layout without
    `v1,primitive`); other lines (info, create) are skipped."""
    calls = []
    for line in text.splitlines():
        fields = line.split(",")
        if not line.startswith("onednn_verbose") or "exec" not in fields[:4]:
            continue
        at = fields.index("exec")
        kind, implementation, direction, memory = fields[at + 2:at + 6]
        try:
            calls.append(PrimitiveCall(kind, implementation, direction, memory, fields[-2], float(fields[-1])))
        except ValueError:
            continue                                  # a line cut by another writer
    return calls


def convolution_gemm(kind: str, problem: str) -> Gemm:
    """The matrix product of a (transposed) convolution from oneDNN's problem descriptor
    (`mb64_ic32oc32_ih32oh16kh4..._iw32ow16kw4...`), as ceiling.layer_gemm lowers its layer:
    convolution M = mb x oh x ow, K = ic x kh x kw / g, N = oc; transposed (deconvolution)
    M = mb x ih x iw, K = ic / g, N = oc x kh x kw."""
    size = {key: int(value) for key, value in PROBLEM.findall(problem)}
    groups, kernel = size.get("g", 1), size["kh"] * size["kw"]
    if kind == "deconvolution":
        return Gemm(problem, size["mb"] * size["ih"] * size["iw"], size["ic"] // groups, size["oc"] * kernel)
    return Gemm(problem, size["mb"] * size["oh"] * size["ow"], size["ic"] * kernel // groups, size["oc"])


def direction_product(gemm: Gemm, direction: str) -> tuple[int, int, int]:
    """The (rows, inner, columns) product of one direction: one of Gemm.products()."""
    m, k, n = gemm.m, gemm.k, gemm.n
    return {"forward_training": (m, k, n), "backward_weights": (k, m, n), "backward_data": (m, n, k)}[direction]


def captured_verbose(work) -> str:
    """What oneDNN prints (to the process's file descriptor 1) while `work()` runs with its
    verbose mode on."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 1)
        try:
            with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
                work()
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
        captured.seek(0)
        return captured.read().decode(errors="replace")


@dataclass(frozen=True)
class LayerDirection:
    """One convolution layer in one direction, per step: oneDNN's milliseconds, its GFLOP/s and
    the GFLOP/s of a torch.mm of the same product."""
    layer: str
    direction: str
    implementation: str
    ms: float
    gflops: float
    gemm_gflops: float


def layer_names(network: NetworkAlone) -> dict[tuple[int, int, int], str]:
    """(M, K, N) -> the names of the network's layers of that product (joined by '/')."""
    names = defaultdict(list)
    for gemm in network.gemms():
        names[(gemm.m, gemm.k, gemm.n)].append(gemm.layer)
    return {shape: "/".join(found) for shape, found in names.items()}


def convolution_rows(calls: list[PrimitiveCall], steps: int, names: dict, dtype: torch.dtype,
                     device: torch.device) -> list[LayerDirection]:
    """Each (layer, direction) of the convolutions in `calls` (made over `steps` steps), in the
    order oneDNN first ran them."""
    grouped: dict[tuple[str, str, str], list[PrimitiveCall]] = {}
    for call in calls:
        if call.kind in CONVOLUTIONS and call.direction in DIRECTIONS:
            grouped.setdefault((call.kind, call.problem, call.direction), []).append(call)
    rows = []
    for (kind, problem, direction), found in grouped.items():
        gemm = convolution_gemm(kind, problem)
        product = direction_product(gemm, direction)
        flops = 2 * product[0] * product[1] * product[2]
        ms = sum(call.ms for call in found) / steps
        flops_per_step = flops * len(found) / steps
        gemm_seconds = product_seconds(*product, dtype, device)
        implementations = sorted({call.implementation for call in found})
        rows.append(LayerDirection(names.get((gemm.m, gemm.k, gemm.n), f"{kind} {problem}"), direction,
                                   "+".join(implementations), ms, flops_per_step / (ms / 1e3) / 1e9,
                                   flops / gemm_seconds / 1e9))
    return rows


def reorders(calls: list[PrimitiveCall], steps: int) -> tuple[float, float, dict[str, float]]:
    """Reorders per step, their milliseconds per step, and milliseconds per step by conversion
    (source -> destination data type)."""
    found = [call for call in calls if call.kind == "reorder"]
    by_types: dict[str, float] = defaultdict(float)
    for call in found:
        types = re.findall(r"(?:src|dst):(\w+?):", call.memory)
        by_types[" -> ".join(types) if len(types) == 2 else call.memory] += call.ms / steps
    return len(found) / steps, sum(call.ms for call in found) / steps, dict(by_types)


def operator_ms(step, steps: int) -> tuple[float, list[tuple[str, float]]]:
    """torch.profiler over `steps` calls of `step`: the step's milliseconds and each operator's
    self milliseconds per step, largest first (an operator's self time excludes the operators it
    calls, so they add up to the step)."""
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(steps):
            step()
    events = profiler.key_averages()
    per_operator = sorted(((event.key, event.self_cpu_time_total / 1e3 / steps) for event in events),
                          key=lambda item: -item[1])
    return sum(ms for _, ms in per_operator), per_operator


def run(name: str, dataset_name: str, policy: ComputePolicy, settings: SpeedSettings, seed: int = 0,
        log=print) -> Rows:
    """The three views of `name`'s training step (the module's docstring) as rows of `bench speed`."""
    dataset = data.load(dataset_name)
    method = methods.create(name, {}, dataset.image_shape, policy, seed, dataset.method_defaults())
    if not method.trainable:
        raise UserError(f"{name} is fitted, not trained by gradient steps; `bench speed --layers` times training")
    sampler = BatchSampler(dataset, method.batch_kind, method.params.batch_size, sampler_rng(seed), method.policy)
    names = layer_names(NetworkAlone(method, sampler.next().x)) if isinstance(method, GaussianVAE) else {}

    def step():                                   # the runner's own step
        training_step(method, sampler, method.step + 1)

    rows = Rows()
    log(f"conditions at start: {conditions(policy)}")
    log(f"{name}: {settings.warmup} warm-up steps, then {settings.steps} timed, {settings.steps} with oneDNN's "
        f"verbose timings and {settings.steps} under torch.profiler")
    timed(step, settings.warmup, policy.device)
    step_ms = timed(step, settings.steps, policy.device) / settings.steps * 1e3
    calls = parse_verbose(captured_verbose(lambda: timed(step, settings.steps, policy.device)))
    rows.add("threads", torch.get_num_threads(), "torch threads")
    rows.add(f"step_ms.{name}", step_ms, f"ms per training step, {method.params.batch_size} images ({policy.describe()})")
    if not calls:
        log("oneDNN printed no executed primitive (a build without oneDNN, or a device it does not run): "
            "no per-layer timings")
    dtype = policy.autocast_dtype or torch.float32
    convolutions = convolution_rows(calls, settings.steps, names, dtype, policy.device)
    for row in convolutions:
        key = f"{row.layer}.{row.direction}"
        rows.add(f"conv_ms.{key}", row.ms, f"ms per step ({row.implementation})")
        rows.add(f"conv_gflops.{key}", row.gflops, "GFLOP/s")
        rows.add(f"conv_share_of_gemm.{key}", row.gflops / row.gemm_gflops,
                 f"of a torch.mm of its product ({row.gemm_gflops:,.0f} GFLOP/s, {str(dtype).removeprefix('torch.')})")
    if convolutions:
        conv_ms = sum(row.ms for row in convolutions)
        rows.add("conv_ms_total", conv_ms, f"ms per step ({conv_ms / step_ms:.0%} of the step)")
    count, reorder_ms, by_types = reorders(calls, settings.steps)
    rows.add("reorders_per_step", count, "oneDNN reorders (layout and dtype conversions)")
    rows.add("reorders_ms", reorder_ms, f"ms per step ({reorder_ms / step_ms:.1%} of the step)")
    for types, ms in sorted(by_types.items(), key=lambda item: -item[1]):
        rows.add(f"reorder_ms.{types}", ms, "ms per step")
    profiled_ms, per_operator = operator_ms(step, settings.steps)
    for operator, ms in per_operator[:TOP_OPERATORS]:
        rows.add(f"op_ms.{operator}", ms, f"self ms per step ({ms / profiled_ms:.1%} of the profiled step)")
    layout_rows(step_layouts(method.modules(), step), rows, policy.channels_last)
    rows.add("load_average_end", os.getloadavg()[0], "runnable processes (1 min), for context")
    return rows


def command(args) -> int:
    names, settings, policy = prepared(args)
    if len(names) > 1:
        raise UserError(f"--layers profiles one method at a time, not {len(names)} ({args.methods}): give --methods NAME")
    write(run(names[0], args.dataset, policy, settings, args.seed, log=lambda text: print(text, flush=True)), args.out)
    return 0
