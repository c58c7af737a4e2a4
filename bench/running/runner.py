"""The one training loop every trainable method goes through (docs/design.md, "One run, end to end").

Each step (`training_step`, which `bench speed` times as it is) draws a batch by the method's
batch_kind and runs `train_step` under the compute policy; the loop appends interval means to
log.csv, and checkpoints model, optimisers, step and RNG states so that a resumed run ends with
exactly the weights of an uninterrupted one (on CPU). At the steps of a score schedule it also
keeps the weights alone (snapshots/, scored after training: bench/running/score_schedule.py), and
each time it trains it records where it starts and on what machine (machine.json, bench/machine.py).
"""
from __future__ import annotations

import copy
import csv
import io
import math
import pickle
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from bench.defaults import CHECKPOINT_EVERY, LOG_EVERY
from bench.errors import BenchWarning
from bench.machine import describe
from bench.running.files import append_whole, write_atomically
from bench.running.run_folder import RunFolder
from bench.running.sampler import BatchSampler


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the run is marked failed with the step and the value."""

    def __init__(self, step: int, key: str, value: float):
        super().__init__(f"{key} became {value} at step {step}")
        self.step = step


def sampler_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, 1])


def read_checkpoint(path: Path, map_location, part: str = "method") -> tuple[dict | None, str | None]:
    """(the checkpoint's contents, None), or (None, why it cannot be used); `part` is the entry a
    file of this harness holds ("method" in a checkpoint, "modules" in a snapshot).

    Loaded as weights only (torch.load(weights_only=True)): tensors, numbers, strings, lists and
    dicts, never arbitrary Python objects, so a checkpoint from elsewhere cannot run code. Every
    checkpoint this harness writes is of that kind; one that is not (another version's, or a
    tampered one) is refused, not executed.
    """
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"PK\x03\x04":             # torch.save writes a zip archive
                return None, "is unreadable (not a checkpoint file)"
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if "weights only load failed" in str(error).lower():
            return None, ("is from an older version of bench or another program: it holds Python objects "
                          "other than tensors and plain values, which are not loaded (they could run code)")
        return None, f"is unreadable ({type(error).__name__})"
    except Exception as error:                          # a truncated or corrupt file
        return None, f"is unreadable ({type(error).__name__})"
    if not isinstance(state, dict) or not isinstance(state.get(part), dict):
        return None, "is unreadable (not a checkpoint of this harness)"
    return state, None


def load_weights(path: Path, method, map_location, sampler=None) -> tuple[dict | None, str | None]:
    """Load the checkpoint at `path` into `method` (weights, optimisers, step, RNG) and, when given,
    `sampler`: the one way a run's weights are restored (resuming: load_checkpoint; reports and
    rescoring: bench/running/restore.py). Returns (the checkpoint's contents, None), or (None, why
    it cannot be used) with `method` as it was before."""
    state, problem = read_checkpoint(path, map_location)
    if problem is not None:
        return None, problem
    before = copy.deepcopy(method.state_dict())
    try:
        method.load_state_dict(state["method"])
        if sampler is not None:
            sampler.set_state(state["sampler"])
    except Exception as error:                          # a checkpoint of another method or shape
        method.load_state_dict(before)                  # not half loaded (its step, RNG, some weights)
        return None, f"does not fit the run's method ({type(error).__name__})"
    return state, None


def load_checkpoint(path: Path, method, sampler) -> int:
    """Restore method and sampler from `path`; returns the step, 0 if there is no usable one
    (with a warning saying why: the run then trains from scratch)."""
    if not path.exists():
        return 0
    state, problem = load_weights(path, method, method.policy.device, sampler)
    if problem is None:
        return int(state["method"]["step"])
    warnings.warn(BenchWarning(f"checkpoint {path} {problem}; training from scratch"))
    return 0


def save_checkpoint(path: Path, method, sampler) -> None:
    """Everything in it is a tensor or a plain value, so that it loads as weights only."""
    buffer = io.BytesIO()
    torch.save({"method": method.state_dict(), "sampler": sampler.state()}, buffer)
    write_atomically(path, buffer.getvalue())


def save_snapshot(path: Path, method) -> None:
    """The networks' weights alone (no optimiser or RNG state: a snapshot is scored, never resumed
    from), in a file that loads as weights only."""
    buffer = io.BytesIO()
    torch.save({"step": method.step, "modules": {k: m.state_dict() for k, m in method.modules().items()}}, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, buffer.getvalue())


class TrainingLog:
    """log.csv: one row of interval means every log_every steps; rows past a resume point are dropped."""

    def __init__(self, path: Path, resume_step: int):
        self.path = path
        rows = kept_rows(path, resume_step) if path.exists() and resume_step > 0 else []
        self.columns = list(rows[0]) if rows else None
        write_atomically(path, self._format(rows))
        self.sums: dict[str, float] = {}
        self.count = 0
        self.started = time.perf_counter()

    def _format(self, rows) -> str:
        if not rows:
            return ""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()

    def add(self, values: dict[str, float]) -> None:
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
        self.count += 1

    def flush(self, step: int, batch_size: int) -> dict[str, float]:
        elapsed = time.perf_counter() - self.started
        row = {"step": step, **{k: v / self.count for k, v in self.sums.items()},
               "images_per_s": self.count * batch_size / elapsed}
        out = io.StringIO()
        if self.columns is None:
            self.columns = list(row)
            out.write(",".join(self.columns) + "\n")
        csv.DictWriter(out, fieldnames=self.columns, extrasaction="ignore", lineterminator="\n").writerow(row)
        append_whole(self.path, out.getvalue())
        self.sums, self.count, self.started = {}, 0, time.perf_counter()
        return row


def kept_rows(path: Path, resume_step: int) -> list[dict]:
    """The rows of log.csv up to `resume_step`. A damaged row (cut short, or not numbers: a write
    cut off by a kill or a full disk) is dropped, with one line naming the file and the lines."""
    rows, damaged = [], []
    with open(path, newline="", errors="replace") as handle:
        reader = csv.DictReader(handle)
        if "step" not in (reader.fieldnames or ()):
            print(f"{path.parent.name}: {path.name} is damaged (no header with a step column); its rows are "
                  f"dropped", file=sys.stderr, flush=True)
            return []
        for line, row in enumerate(reader, start=2):
            if not whole(row):
                damaged.append(line)
            elif int(float(row["step"])) <= resume_step:
                rows.append(row)
    if damaged:
        print(f"{path.parent.name}: {path.name} is damaged at line{'s' * (len(damaged) > 1)} "
              f"{', '.join(map(str, damaged))}; dropped {'them' if len(damaged) > 1 else 'it'}, kept the "
              f"{len(rows)} good row(s) up to step {resume_step}", file=sys.stderr, flush=True)
    return rows


def whole(row: dict) -> bool:
    """A log.csv row with every column, each a number or empty (csv.DictReader: a cut row lacks
    columns, None, and a longer one has a None key)."""
    return None not in row and all(value is not None and (value == "" or is_number(value)) for value in row.values())


def is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def progress_postfix(method, row: dict) -> dict[str, str]:
    """What the progress bar shows after a log row: the method's own headline losses
    (`progress_keys`: a VAE's loss, a GAN's discriminator, generator and information losses) and
    the training speed."""
    return {**{key: f"{row[key]:.4g}" for key in method.progress_keys}, "img_s": f"{row['images_per_s']:.0f}"}


def training_step(method, sampler: BatchSampler, step: int) -> dict[str, float]:
    """Step `step` of training: the sampler's next batch, the method's train_step on it under the
    method's compute policy, and its values (a value that is not finite: TrainingDiverged)."""
    with method.policy.autocast():
        values = method.train_step(sampler.next())
    for key, value in values.items():
        if not math.isfinite(value):
            raise TrainingDiverged(step, key, value)
    return values


def train(method, dataset, steps: int, seed: int, run_dir: Path, progress: bool = True,
          checkpoint_every: int = CHECKPOINT_EVERY, log_every: int = LOG_EVERY, snapshot_at=()) -> Path:
    """Train `method` to `steps` steps in the run folder `run_dir`, resuming from its checkpoint;
    returns the checkpoint's path. At each step of `snapshot_at` the weights are kept in
    snapshots/; a step that training passes again after a resume writes the same weights again.
    Where there are steps to train, machine.json gets this training's start and machine; a run
    already trained (rescoring) returns at once and records nothing."""
    if checkpoint_every % log_every:
        raise ValueError(f"checkpoint_every ({checkpoint_every}) must be a multiple of log_every ({log_every})")
    folder = RunFolder(run_dir)
    folder.path.mkdir(parents=True, exist_ok=True)
    checkpoint = folder.checkpoint
    sampler = BatchSampler(dataset, method.batch_kind, method.params.batch_size, sampler_rng(seed), method.policy)
    start = load_checkpoint(checkpoint, method, sampler)
    if start < steps:
        folder.add_machine(start, describe(method.policy.device))
    if start in snapshot_at and not folder.snapshot(start).exists():     # a warm start from a run that ended there
        save_snapshot(folder.snapshot(start), method)
    log = TrainingLog(folder.log, start)
    bar = tqdm(total=steps, initial=start, desc=folder.run_id, unit="step", disable=not progress,
               dynamic_ncols=True, mininterval=2.0)
    try:
        for step in range(start + 1, steps + 1):
            values = training_step(method, sampler, step)
            log.add(values)
            if step % log_every == 0 or step == steps:
                row = log.flush(step, method.params.batch_size)
                bar.set_postfix(progress_postfix(method, row))
            if step in snapshot_at:         # before the checkpoint: a resume from it never skips a snapshot
                save_snapshot(folder.snapshot(step), method)
            if step % checkpoint_every == 0 or step == steps:
                save_checkpoint(checkpoint, method, sampler)
            bar.update(1)
    finally:
        bar.close()
    return checkpoint
