"""A torch.export program (.pt2) read without running code from the file (`bench score --encoder`).

torch.export.load alone does not promise that: it unpickles with weights_only=False a weight or
constant marked `use_pickle` (tensor subclasses), custom and opaque objects among the constants,
the older archives' weights/MODEL.pt, and example inputs that weights_only=True refuses (a fallback;
measured with torch 2.13: a crafted data/sample_inputs/model.pt ran its pickle). So the archive is
read first: weights and constants must be plain tensors stored raw, and the example inputs must
load with weights_only=True; any other file is refused before torch.export.load sees it. What is
left is a graph of PyTorch operators and raw tensors.
"""
from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import torch

from bench.errors import UserError

WEIGHTS_DIR, CONSTANTS_DIR, SAMPLE_INPUTS_DIR = "data/weights/", "data/constants/", "data/sample_inputs/"
RAW_PREFIXES = ("weight_", "tensor_")        # raw tensor payloads; anything else in a config is an object


def pickled_parts(path: Path) -> list[str]:
    """The parts of the archive at `path` that torch.export.load would unpickle beyond weights only."""
    found = []
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            inner = name.partition("/")[2]                 # below the archive's root folder
            if inner.startswith((WEIGHTS_DIR, CONSTANTS_DIR)) and inner.endswith("_config.json"):
                for fqn, meta in json.loads(archive.read(name)).get("config", {}).items():
                    if meta.get("use_pickle") or not str(meta.get("path_name", "")).startswith(RAW_PREFIXES):
                        found.append(f"{fqn} ({meta.get('path_name')}, pickled)")
            elif inner.startswith((WEIGHTS_DIR, CONSTANTS_DIR)) and inner.endswith(".pt"):
                found.append(f"{inner} (the older pickled format)")
            elif inner.startswith(SAMPLE_INPUTS_DIR):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # torch's note on a pickle protocol it may not read
                        torch.load(io.BytesIO(archive.read(name)), weights_only=True)
                except Exception:
                    found.append(f"{inner} (not loadable as weights only)")
    return found


def load_exported(path) -> torch.nn.Module:
    """The module of the exported program at `path`, once the archive holds nothing to unpickle."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--encoder {str(path)!r}: no such file")
    try:
        found = pickled_parts(path)
    except (zipfile.BadZipFile, json.JSONDecodeError, AttributeError, OSError) as error:
        raise UserError(f"--encoder {str(path)!r} is not an exported program (torch.export.save's .pt2; "
                        f"{type(error).__name__}): export the encoder with torch.export, or `bench export`") from None
    if found:
        raise UserError(f"--encoder {str(path)!r} holds pickled objects ({found[0]}), which could run code when "
                        f"loaded: export plain tensors (no tensor subclasses or custom objects)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")              # torch's notes on the archive's layout
            return torch.export.load(path).module()
    except Exception as error:
        raise UserError(f"--encoder {str(path)!r} is not an exported program (torch.export.save's .pt2; "
                        f"{type(error).__name__}): export the encoder with torch.export, or `bench export`") from None
