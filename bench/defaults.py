"""The names and defaults the command line offers, importable without torch, scikit-learn, scipy
or pandas, so that `bench --help` and argument errors answer at once. The modules that use them
import them from here (bench/run_settings.py, bench/device.py, bench/running/runner.py, bench/reproduce.py)."""
from __future__ import annotations

from pathlib import Path

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16")
BACKENDS = ("local", "dask", "ray")
DEFAULT_STEPS = 10_000        # conv beta-VAE, 640,000 images: about half an hour per run on 2 idle cores
LOG_EVERY = 100
CHECKPOINT_EVERY = 1000
QUICK_STEPS = 300             # `bench reproduce --quick`
PRESETS = Path(__file__).parent / "presets"


def presets() -> list[str]:
    """The presets `bench reproduce` knows: bench/presets/NAME.toml."""
    return sorted(path.stem for path in PRESETS.glob("*.toml"))
