"""`bench export RUN_FOLDER OUT.pt2`: a run's encoder as a torch.export program (fp32, CPU), the
file `bench score --encoder` reads (bench/running/outside_model.py; docs/plugins.md, "Score a
model trained elsewhere"). It takes float images in [0, 1], (n, C, H, W), any n, and returns the
method's codes, (n, D): what Method.encode computes for the harness's own scoring."""
from __future__ import annotations

import warnings
from pathlib import Path

import torch

from bench.errors import UserError
from bench.running.restore import rebuild_method
from bench.running.run_folder import RunFolder
from methods.base import ENCODE_BATCH


class Encoder(torch.nn.Module):
    """A method's `encode` as a module (its networks are this module's children, in eval mode)."""

    def __init__(self, method):
        super().__init__()
        self.method = method
        self.networks = torch.nn.ModuleDict(method.modules())
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.method.encode(x).float()


def export_encoder(run_folder, out) -> Path:
    """Write the encoder of the finished run at `run_folder` to `out` (a .pt2 file); its path."""
    run_folder, out = Path(run_folder), Path(out)
    if RunFolder(run_folder).spec() is None:
        raise UserError(f"{run_folder}: not a run folder (no readable spec.json)")
    method, dataset = rebuild_method(run_folder)
    example = torch.zeros((2, *dataset.image_shape)).contiguous(memory_format=torch.channels_last)
    batch = torch.export.Dim("batch", min=1, max=ENCODE_BATCH)
    try:
        with torch.no_grad():
            program = torch.export.export(Encoder(method), (example,), dynamic_shapes=({0: batch},))
    except Exception as error:
        raise UserError(f"{run_folder.name}: its method's encode cannot be exported by torch.export "
                        f"({type(error).__name__}: {' '.join(str(error).split())[:200]})") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # torch's notes on the archive's layout
        torch.export.save(program, out)
    return out
