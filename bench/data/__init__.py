"""Datasets with known generative factors. `load(name)` returns a GroundTruthData."""
from bench.data import dsprites
from bench.data.base import GroundTruthData
from bench.errors import unknown


def dsprites_small(data_path=None):
    """dSprites subset, 1,536 images: shape 3, scale 2, orientation 4, posX 8, posY 8 (tests, previews)."""
    return dsprites.DSprites.small()


DATASETS = {
    "dsprites": dsprites.load,
    "dsprites_small": dsprites_small,
}


def load(name: str, data_path=None) -> GroundTruthData:
    """The dataset called `name`; `data_path` points to a file of the original data if any."""
    if name not in DATASETS:
        raise unknown("dataset", name, DATASETS)
    return DATASETS[name](data_path=data_path)


def describe(name: str) -> str:
    return DATASETS[name].__doc__.strip().splitlines()[0]


__all__ = ["DATASETS", "GroundTruthData", "describe", "load"]
