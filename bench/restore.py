"""Rebuild a trained method from its run folder (spec.json + checkpoint.pt), for reports."""
from __future__ import annotations

from pathlib import Path

import torch

import methods
from bench import data
from bench.device import choose_policy
from bench.store import read_json


def restore_method(run_folder: Path, dataset=None):
    """(method, dataset) of a finished run on the CPU; None when the run has no checkpoint."""
    spec = read_json(Path(run_folder) / "spec.json")
    checkpoint = Path(run_folder) / "checkpoint.pt"
    if spec is None or not checkpoint.exists():
        return None
    dataset = dataset or data.load(spec["dataset"])
    method = methods.create(spec["method"], spec["params"], dataset.image_shape,
                            choose_policy("cpu", "fp32"), spec["seed"])
    method.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=False)["method"])
    return method, dataset
