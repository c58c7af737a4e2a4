"""The tiny sweeps of tests/test_sweep.py and tests/test_faults.py (conv VAE, batch 4, dsprites_small,
STEPS steps) and what both read of them: a run's id, its log.csv rows, its checkpoint's step, the
uninterrupted sweep to compare with, and the worker processes of a command (Linux /proc)."""
import csv
from pathlib import Path

import torch

from bench.cli import main
from bench.device import resolve_precision
from bench.running.spec import RunSpec

STEPS = 60
TINY = ["--dataset", "dsprites_small", "--quick", "--no-progress", "--metrics", "beta_vae",
        "--steps", str(STEPS), "--checkpoint-every", "10", "--threads", "1", "--set", "vae.batch_size=4"]
AUTO = resolve_precision()      # what these runs, with no --precision, compute in on this CPU (part of the run id)


def tiny_spec(seed, method="vae", **params) -> RunSpec:
    """The RunSpec of one tiny run: batch 4 and `params`, STEPS steps, in AUTO."""
    overrides = {"batch_size": "4", **{k: str(v) for k, v in params.items()}}
    return RunSpec(method, "dsprites_small", seed, STEPS, tuple(sorted(overrides.items())), AUTO)


def uninterrupted(tmp_path_factory, sweep: list[str]) -> Path:
    """The results folder of `bench SWEEP` run once, without a fault (a module's `reference`)."""
    out = tmp_path_factory.mktemp("reference")
    assert main([*sweep, "--out", str(out)]) == 0
    return out


def log_rows(path) -> list[dict]:
    """log.csv's rows, less images_per_s (the one column that differs between equal runs)."""
    with open(path, newline="") as handle:
        return [{k: v for k, v in row.items() if k != "images_per_s"} for row in csv.DictReader(handle)]


def checkpoint_step(path) -> int:
    return torch.load(path, weights_only=True)["method"]["step"]


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found
