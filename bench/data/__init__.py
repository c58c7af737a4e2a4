"""Datasets with known generative factors. `load(name)` returns a GroundTruthData.

Where a dataset's images come from is a DataSource: procedural, or a file named by its path and
the sha256 of its bytes. `source(name, data_path)` resolves and checks it (--data-path, else the
dataset's environment variable) and is recorded in every run's identity; `load_source` reads
exactly that source again, e.g. when a report rebuilds a run.
"""
from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from bench.data import dsprites
from bench.data.base import PROCEDURAL, DataSource, GroundTruthData
from bench.errors import UserError, unknown


def dsprites_small(data_path=None):
    """dSprites subset, 1,536 images: shape 3, scale 2, orientation 4, posX 8, posY 8 (tests, previews)."""
    return dsprites.DSprites.small()


DATASETS = {
    "dsprites": dsprites.load,
    "dsprites_small": dsprites_small,
}
# The datasets that can be read from a file instead of being generated: (the file they take, the
# environment variable that may name it, the check a file must pass before it is fingerprinted).
FILE_DATASETS = {
    "dsprites": (dsprites.ORIGINAL_FILE, dsprites.PATH_VARIABLE, dsprites.check_file),
}


def check_name(name: str) -> None:
    if name not in DATASETS:
        raise unknown("dataset", name, DATASETS)


def source(name: str, data_path=None) -> DataSource:
    """The source of dataset `name`: the file `data_path` (or the one the dataset's environment
    variable names), checked and fingerprinted, else procedural. A file given for a dataset that
    cannot read one is an error naming the datasets that can."""
    check_name(name)
    if name not in FILE_DATASETS:
        if data_path:
            takers = ", ".join(f"{taker} (the original {file})" for taker, (file, _, _) in FILE_DATASETS.items())
            raise UserError(f"--data-path {str(data_path)!r} was given for dataset {name!r}, which is generated "
                            f"procedurally and reads no file; --data-path is for {takers}")
        return PROCEDURAL
    _, variable, check_file = FILE_DATASETS[name]
    data_path = data_path or os.environ.get(variable)
    if not data_path:
        return PROCEDURAL
    check_file(data_path)
    path = Path(data_path).resolve()
    stat = path.stat()
    return DataSource(str(path), file_sha256(str(path), stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=8)
def file_sha256(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of a file's bytes, computed once per process for each (path, size, modification
    time): the original dSprites file (26 MB) takes about 0.1 s."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_source(name: str, data_source: DataSource = PROCEDURAL) -> GroundTruthData:
    """Dataset `name` read from exactly `data_source` (no environment variable is consulted); a
    file that is gone or whose bytes changed since the source was recorded is an error."""
    check_name(name)
    if data_source.procedural:
        dataset = DATASETS[name](data_path=None)
    else:
        current = source(name, data_source.path)
        if current.sha256 != data_source.sha256:
            raise UserError(f"{data_source.path!r} has changed since it was recorded (sha256 "
                            f"{current.sha256[:12]}..., recorded {str(data_source.sha256)[:12]}...); "
                            f"give the file the runs were made with")
        dataset = DATASETS[name](data_path=data_source.path)
    dataset.source = data_source
    return dataset


def load(name: str, data_path=None) -> GroundTruthData:
    """The dataset called `name`; `data_path` points to a file of the original data if any."""
    return load_source(name, source(name, data_path))


def describe(name: str) -> str:
    return DATASETS[name].__doc__.strip().splitlines()[0]


__all__ = ["DATASETS", "DataSource", "GroundTruthData", "PROCEDURAL", "describe", "load", "load_source", "source"]
