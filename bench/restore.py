"""Rebuild a method from its run folder (spec.json + checkpoint.pt), for reports and rescoring."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import torch

import methods
from bench import data
from bench.device import choose_policy
from bench.store import read_json


def fitting_rng(seed: int) -> np.random.Generator:
    """The stream a fitted baseline (PCA, ICA, ...) is fit with: the same in a run and a rebuild."""
    return np.random.default_rng([seed, 2])


def created_method(run_folder: Path, dataset=None):
    """(spec, method at its initialisation on the CPU, dataset) of a run folder; spec None when
    the folder has no spec.json."""
    spec = read_json(Path(run_folder) / "spec.json")
    if spec is None:
        return None, None, dataset
    dataset = dataset or data.load(spec["dataset"])
    method = methods.create(spec["method"], current_params(spec, run_folder), dataset.image_shape,
                            choose_policy("cpu", "fp32"), spec["seed"])
    return spec, method, dataset


def current_params(spec: dict, run_folder: Path) -> dict:
    """The run's parameters that its method still has. A run made by an older version may name
    parameters that have since left the method (beta_vae's capacity objective became annealed_vae);
    they do not shape the networks, so the weights still load, and they are dropped with a line."""
    known = {field.name for field in dataclasses.fields(methods.method_class(spec["method"]).Params)}
    retired = sorted(set(spec["params"]) - known)
    if retired:
        print(f"{Path(run_folder).name}: made by an older version; ignoring its retired parameters "
              f"{', '.join(retired)}", file=sys.stderr)
    return {name: value for name, value in spec["params"].items() if name in known}


def restore_method(run_folder: Path, dataset=None):
    """(method, dataset) of a finished trained run on the CPU, in inference (eval) mode; None when
    the run has no checkpoint."""
    checkpoint = Path(run_folder) / "checkpoint.pt"
    if not checkpoint.exists():
        return None
    spec, method, dataset = created_method(run_folder, dataset)
    if spec is None:
        return None
    method.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=False)["method"])
    for module in method.modules().values():
        module.eval()
    return method, dataset


def rebuild_method(run_folder: Path, dataset=None):
    """(method, dataset) of any finished run: trained weights from the checkpoint, fitted
    baselines fit again with the run's seed (they keep no checkpoint)."""
    restored = restore_method(run_folder, dataset)
    if restored is not None:
        return restored
    spec, method, dataset = created_method(run_folder, dataset)
    if spec is None or method.trainable:
        raise FileNotFoundError(f"{run_folder}: only a finished run with spec.json (and, when trained, "
                                "checkpoint.pt) can be rebuilt")
    method.fit(dataset, fitting_rng(spec["seed"]))
    return method, dataset
