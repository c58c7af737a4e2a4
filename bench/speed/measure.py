"""`bench speed`: how fast this machine trains, encodes, scores and builds data (issue 7).

Every training figure compares two paths over the same model (same initial weights) and the same
batches (same seeded draws), timed in alternating rounds (harness, plain, harness, ...) so that a
busy machine slows both alike; figures are medians over rounds after untimed warm-up steps:
- harness: the runner's own step, bench/running/runner.py's `training_step` (the sampler's batch,
  `method.train_step` under the compute policy: channels_last and the kept allocator on CPU, bf16
  autocast where native, torch.compile with --compile, the fast or the GPU-resident image path; the
  finite-loss check), its sampler timed apart (TimedSampler);
- plain: what a user would write (fp32, eager, contiguous, uint8 images / 255, torch.randn), in a
  child process of its own so that the harness's process settings do not help it
  (bench/speed/plain_loop.py);
- for the VAE family, the ceilings of bench/speed/ceiling.py: the same encoder and decoder alone
  (forward and backward, no loss, optimiser or data), timed in the same rounds, and the matrix
  products of their layers' shapes at the step's dtype; with the harness's share of each.
The metric suite runs every registered metric twice on one model: sharing one encode-once
Representation, and with each metric encoding every sample it draws (as disentanglement_lib does).
"""
from __future__ import annotations

import csv
import os
import statistics
import tempfile
import time
import typing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import metrics
import methods
from bench import data
from bench.data.dsprites import timed_build_and_reload
from bench.device import ComputePolicy, choose_policy
from bench.errors import UserError
from bench.running.runner import TrainingDiverged, sampler_rng, training_step
from bench.running.sampler import BatchSampler
from bench.speed.ceiling import NetworkAlone, gemm_ceiling_seconds
from bench.speed.plain_loop import PlainProcess, synchronize, timed
from methods.vae import GaussianVAE
from metrics import workers
from metrics.codes import CHUNK, Representation


@dataclass(frozen=True)
class SpeedSettings:
    warmup: int                 # untimed steps per training path
    steps: int                  # timed steps per round
    rounds: int                 # rounds per training path, alternating harness and plain
    encode_images: int          # images per timed encoding pass
    encode_repeats: int
    metric_preset: str          # "default" (disentanglement_lib's sizes) or "quick" (their quick sizes)
    metric_scale: float         # multiplies each metric's declared sample_sizes in the preset


FULL = SpeedSettings(warmup=3, steps=8, rounds=7, encode_images=8192, encode_repeats=3,
                     metric_preset="default", metric_scale=1.0)
# The metrics' QUICK sizes still re-encode ~130,000 images (minutes on 2 cores): --quick uses 5%.
QUICK = SpeedSettings(warmup=1, steps=2, rounds=3, encode_images=512, encode_repeats=2,
                      metric_preset="quick", metric_scale=0.05)


class Rows:
    """The measurements, in order: (measure, value, unit)."""

    def __init__(self):
        self.rows: list[tuple[str, float, str]] = []

    def add(self, measure: str, value: float, unit: str) -> None:
        self.rows.append((measure, float(value), unit))

    def table(self) -> str:
        width = max(len(measure) for measure, _, _ in self.rows)
        return "\n".join(f"{measure:<{width}}  {format_value(value):>12}  {unit}" for measure, value, unit in self.rows)

    def write_csv(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["measure", "value", "unit"])
            writer.writerows([measure, f"{value:.6g}", unit] for measure, value, unit in self.rows)


def format_value(value: float) -> str:
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:#.3g}"


# ----------------------------------------------------------------------------- training

class TimedSampler:
    """A BatchSampler whose `next()` also adds the seconds it takes (until the batch is on the
    device) to `seconds`: the sampler's share of the runner's step."""

    def __init__(self, sampler: BatchSampler, device: torch.device):
        self.sampler, self.device, self.seconds = sampler, device, 0.0

    def next(self):
        start = time.perf_counter()
        batch = self.sampler.next()
        synchronize(self.device)
        self.seconds += time.perf_counter() - start
        return batch


def measure_training(name: str, dataset_name: str, dataset, policy: ComputePolicy, settings: SpeedSettings,
                     seed: int, rows: Rows):
    """Harness and plain images/s, their ratio, the sampler's share of a harness step; returns
    the trained-a-little harness method for the encoding and metric measurements."""
    method = methods.create(name, {}, dataset.image_shape, policy, seed, dataset.method_defaults())
    if not method.trainable:
        raise UserError(f"{name} is fitted, not trained by gradient steps; `bench speed` times training")
    batch_size = method.params.batch_size
    sampler = TimedSampler(BatchSampler(dataset, method.batch_kind, batch_size, sampler_rng(seed), method.policy),
                           policy.device)

    def harness_step():                       # the runner's own step
        try:
            training_step(method, sampler, method.step + 1)
        except TrainingDiverged as error:
            raise UserError(f"{name}: {error} while timing") from None

    plain = PlainProcess(name, dataset_name, policy.device, seed)        # starts while the harness warms up
    network = NetworkAlone(method, sampler.next().x) if isinstance(method, GaussianVAE) else None
    try:
        first_step = timed(harness_step, 1, policy.device)
        timed(harness_step, settings.warmup - 1, policy.device)
        plain.seconds(settings.warmup)
        if network:
            timed(network.step, settings.warmup, policy.device)
        harness, plain_rates, ratios, shares, network_rates = [], [], [], [], []
        for _ in range(settings.rounds):
            sampler.seconds = 0.0
            harness_seconds = timed(harness_step, settings.steps, policy.device)
            shares.append(sampler.seconds / harness_seconds)
            plain_seconds = plain.seconds(settings.steps)
            harness.append(settings.steps * batch_size / harness_seconds)
            plain_rates.append(settings.steps * batch_size / plain_seconds)
            ratios.append(plain_seconds / harness_seconds)
            if network:
                network_rates.append(settings.steps * batch_size / timed(network.step, settings.steps, policy.device))
    finally:
        plain.close()
    rows.add(f"train_images_per_s.{name}", statistics.median(harness), f"images/s, harness ({policy.describe()})")
    rows.add(f"train_plain_images_per_s.{name}", statistics.median(plain_rates),
             f"images/s, plain fp32 eager loop ({plain.description})")
    rows.add(f"train_speedup_vs_plain.{name}", statistics.median(ratios), "x (median of paired rounds)")
    rows.add(f"sampler_share.{name}", statistics.median(shares), "fraction of a harness step (target < 0.05)")
    if policy.compile:
        rows.add(f"compile_s.{name}", first_step, "s, first step with torch.compile")
    if network:
        add_ceiling_rows(name, network, statistics.median(harness), statistics.median(network_rates), policy, rows)
    return method


def add_ceiling_rows(name: str, network: NetworkAlone, harness_rate: float, network_rate: float,
                     policy: ComputePolicy, rows: Rows) -> None:
    """The network alone and the GEMM ceiling in images/s, and the harness's share of each."""
    gemms = network.gemms()
    dtype = policy.autocast_dtype or torch.float32
    batch_size = network.x.shape[0]
    ceiling_rate = batch_size / gemm_ceiling_seconds(gemms, dtype, policy.device)
    gflop = sum(gemm.training_flops for gemm in gemms) / batch_size / 1e9
    dtype_name = str(dtype).removeprefix("torch.")
    rows.add(f"network_alone_images_per_s.{name}", network_rate,
             f"images/s, encoder + decoder forward and backward alone ({policy.describe()})")
    rows.add(f"gemm_ceiling_images_per_s.{name}", ceiling_rate,
             f"images/s, the {len(gemms)} layers' matrix products alone (torch.mm, {dtype_name}; "
             f"{gflop:.3f} GFLOP per image)")
    rows.add(f"gemm_ceiling_gflops.{name}", gflop * ceiling_rate, f"GFLOP/s of those products ({dtype_name})")
    rows.add(f"harness_share_of_network_alone.{name}", harness_rate / network_rate, "(target >= 0.9)")
    rows.add(f"harness_share_of_gemm_ceiling.{name}", harness_rate / ceiling_rate, "(target >= 0.6)")


# ----------------------------------------------------------------------------- encoding, metrics

def measure_encoding(method, dataset, settings: SpeedSettings, rng: np.random.Generator, rows: Rows) -> None:
    method.codes_of(rng.integers(0, len(dataset), size=min(1024, settings.encode_images)), dataset)   # warm-up
    rates = []
    for _ in range(settings.encode_repeats):
        indices = rng.integers(0, len(dataset), size=settings.encode_images)
        start = time.perf_counter()
        method.codes_of(indices, dataset)
        rates.append(len(indices) / (time.perf_counter() - start))
    rows.add("encode_images_per_s", statistics.median(rates), "images/s, method.codes_of (batches of up to 1,024)")


class ReencodedCodes:
    """A metric's codes without the shared table: every requested image is encoded, duplicates too."""

    def __init__(self, codes_of):
        self.codes_of = codes_of
        self.encoded = 0

    def __call__(self, indices) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64)
        flat = indices.reshape(-1)
        codes = np.concatenate([np.asarray(self.codes_of(flat[start:start + CHUNK]), dtype=np.float32)
                                for start in range(0, len(flat), CHUNK)])
        self.encoded += len(flat)
        return codes.reshape(*indices.shape, -1)


def scaled_settings(name: str, preset: str, scale: float) -> dict:
    """The metric's settings (metrics.settings; quick sizes for the "quick" preset) with its sample
    sizes (its declared `sample_sizes`) times `scale` (at least 10)."""
    settings = metrics.settings(name, preset == "quick")
    if scale != 1.0:
        for key in metrics.metric(name).sample_sizes:
            settings[key] = max(10, round(settings[key] * scale))
    return settings


def measure_metrics(method, dataset, settings: SpeedSettings, seed: int, rows: Rows, log=print) -> None:
    """Each metric once with the shared table, then at once again encoding all it draws (so that
    the two runs of a metric meet the same load); the shared table lives across the metrics."""
    names = metrics.single_model_names(metrics.METRICS)        # UDR compares several models
    sizes = {name: scaled_settings(name, settings.metric_preset, settings.metric_scale) for name in names}
    codes_of = lambda indices: method.codes_of(indices, dataset)          # noqa: E731
    shared = Representation(codes_of, dataset, progress=False)
    once = reencode = 0.0
    encoded = 0
    for name in names:
        start = time.perf_counter()
        metrics.score(name, shared, dataset, seed, **sizes[name])
        once += time.perf_counter() - start
        own = ReencodedCodes(codes_of)
        start = time.perf_counter()
        metrics.score(name, own, dataset, seed, **sizes[name])
        reencode += time.perf_counter() - start
        encoded += own.encoded
        log(f"  {name}: {once:.1f} s with the shared table, {reencode:.1f} s re-encoding (cumulative)")
    label = f"{settings.metric_preset} sizes" + (f" x {settings.metric_scale:g}" if settings.metric_scale != 1 else "")
    rows.add("metrics_encode_once_s", once, f"s, {len(names)} metrics ({', '.join(names)}), {label}, "
                                            f"model after {method.step} steps")
    rows.add("metrics_reencode_s", reencode, "s, each metric encoding every sample it draws")
    rows.add("metrics_speedup_vs_reencode", reencode / once, "x (target >= 5)")
    rows.add("metrics_images_encoded_once", shared.encoded, "images")
    rows.add("metrics_images_encoded_reencode", encoded, "images")


def measure_reference(method, dataset, settings: SpeedSettings, seed: int, rows: Rows, log=print) -> None:
    """Each metric of disentanglement_lib's study in the project and in disentanglement_lib on the
    same samples (bench/speed/reference.py), each side encoding what it draws with the model: seconds,
    the ratio, and the largest difference between the two numbers. Then the project's DCI with
    each other booster on the same samples (disentanglement_lib has only the exact one): its
    seconds, its largest difference from disentanglement_lib's DCI, and the suite's ratio with it."""
    from bench.speed import reference
    ours_total = theirs_total = 0.0
    ours, theirs = {}, {}
    for name in reference.METRICS:
        sizes = scaled_settings(name, settings.metric_preset, settings.metric_scale)
        comparison = reference.compare(name, method.codes_of_images, dataset, seed, sizes)
        ours[name], theirs[name] = comparison.ours_seconds, comparison
        ours_total += comparison.ours_seconds
        theirs_total += comparison.reference_seconds
        log(f"  {name}: {comparison.ours_seconds:.1f} s here, {comparison.reference_seconds:.1f} s in "
            f"disentanglement_lib, largest difference {comparison.largest_difference:.2g}")
        rows.add(f"reference_{name}_s", comparison.ours_seconds, "s here (encoding included)")
        rows.add(f"reference_{name}_disentanglement_lib_s", comparison.reference_seconds, "s in disentanglement_lib")
        rows.add(f"reference_{name}_largest_difference", comparison.largest_difference, "between the two numbers")
    rows.add("reference_suite_s", ours_total, f"s here, the {len(reference.METRICS)} metrics (DCI's exact booster)")
    rows.add("reference_suite_disentanglement_lib_s", theirs_total, "s in disentanglement_lib")
    rows.add("reference_speedup", theirs_total / ours_total,
             f"x, disentanglement_lib's {theirs_total:.0f} s over the project's {ours_total:.0f} s, same samples (target >= 10)")
    sizes = scaled_settings("dci", settings.metric_preset, settings.metric_scale)
    for booster in typing.get_args(metrics.setting_types("dci")["booster"]):
        if booster == sizes["booster"]:
            continue
        start = time.perf_counter()
        values = metrics.evaluate("dci", method.codes_of_images, dataset, seed=seed,
                                  params={"dci": {**sizes, "booster": booster}}, progress=False)
        seconds = time.perf_counter() - start
        difference = max(abs(values[f"dci.{key}"] - theirs["dci"].reference[key]) for key in theirs["dci"].reference)
        suite = ours_total - ours["dci"] + seconds
        log(f"  dci with booster = {booster}: {seconds:.1f} s here, largest difference from disentanglement_lib's "
            f"{difference:.2g}; the suite {suite:.1f} s")
        rows.add(f"reference_dci_{booster}_s", seconds, f"s here, DCI with booster = {booster} (encoding included)")
        rows.add(f"reference_dci_{booster}_largest_difference", difference,
                 "from disentanglement_lib's DCI (exact booster), same samples")
        rows.add(f"reference_suite_dci_{booster}_s", suite, f"s here, the suite with DCI's {booster} booster")
        rows.add(f"reference_speedup_dci_{booster}", theirs_total / suite,
                 f"x, disentanglement_lib's {theirs_total:.0f} s over the project's {suite:.0f} s with DCI's {booster} booster")


def measure_dsprites(rows: Rows) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as directory:
        built, reloaded = timed_build_and_reload(Path(directory))
    rows.add("dsprites_build_s", built, "s, render 737,280 images and write the cache (360 MB)")
    rows.add("dsprites_reload_s", reloaded, "s, load the cache")


# ----------------------------------------------------------------------------- command

def conditions(policy: ComputePolicy) -> str:
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} "
            f"thread(s), {os.cpu_count()} cores, load average {load}; harness policy: {policy.describe()}")


def run(method_names, dataset_name: str, policy: ComputePolicy, settings: SpeedSettings, seed: int = 0,
        log=print, with_reference: bool = False) -> Rows:
    dataset = data.load(dataset_name)
    rows = Rows()
    rng = np.random.default_rng(seed)
    log(f"conditions at start: {conditions(policy)}")
    rows.add("threads", torch.get_num_threads(), "torch threads")
    rows.add("metric_fit_threads", workers.allowed(), "fits a metric runs at once (DCI's, SAP's, "
                                                      "modularity's per factor; metrics/workers.py)")
    first = None
    for name in method_names:
        log(f"training {name}: {settings.warmup} warm-up + {settings.rounds} x {settings.steps} steps per path")
        method = measure_training(name, dataset_name, dataset, policy, settings, seed, rows)
        first = first or method
    log("encoding")
    measure_encoding(first, dataset, settings, rng, rows)
    log(f"metric suite on {method_names[0]}, {settings.metric_preset} sizes x {settings.metric_scale:g}")
    measure_metrics(first, dataset, settings, seed, rows, log)
    if with_reference:
        log("the study's six metrics here and in disentanglement_lib, same samples")
        measure_reference(first, dataset, settings, seed, rows, log)
    log("dSprites build and reload")
    measure_dsprites(rows)
    rows.add("load_average_end", os.getloadavg()[0], "runnable processes (1 min), for context")
    return rows


def prepared(args) -> tuple[list[str], SpeedSettings, ComputePolicy]:
    """`bench speed`'s method names, settings and compute policy from its flags, checked; the
    thread counts set."""
    names = [name.strip() for name in args.methods.split(",") if name.strip()]
    if not names:
        raise UserError(f"--methods needs at least one name; valid: {', '.join(methods.METHODS)}")
    for name in names:
        methods.method_class(name)
    if args.threads < 0:
        raise UserError(f"--threads must be positive, not {args.threads}")
    if args.metric_scale is not None and not 0 < args.metric_scale <= 1:
        raise UserError(f"--metric-scale must be in (0, 1], not {args.metric_scale}")
    if args.threads:
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)          # numpy / scikit-learn BLAS and OpenMP (metrics)
    settings = QUICK if args.quick else FULL
    if args.metric_scale is not None:
        settings = SpeedSettings(**{**settings.__dict__, "metric_scale": args.metric_scale})
    return names, settings, choose_policy(args.device, args.precision, compile=args.compile)


def write(rows: Rows, out: str | None) -> None:
    print(rows.table())
    if out:
        rows.write_csv(Path(out))
        print(f"table: {out}")


def command(args) -> int:
    names, settings, policy = prepared(args)
    if args.reference:
        from bench.speed import reference
        if not reference.available():
            raise UserError("--reference needs disentanglement_lib: pip install -e \".[reference]\" && "
                            "pip install --no-deps disentanglement_lib==1.5")
    with workers.allow(args.threads):
        rows = run(names, args.dataset, policy, settings, args.seed, log=lambda text: print(text, flush=True),
                   with_reference=args.reference)
    write(rows, args.out)
    return 0
