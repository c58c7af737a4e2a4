"""Datasets with known generative factors. `load(name)` returns a GroundTruthData. Adding one is
one new file and one line in DATASETS (docs/datasets.md); `folder:PATH` names a folder of images
without factors (bench/data/folder.py); "PKG.MODULE:FUNCTION" or an entry point's name, a
researcher's own (bench/plugins.py).

Where a dataset's images come from is a DataSource: procedural, or a file (or a folder of files:
SmallNORB, Cars3D, an image folder) named by its path and the sha256 of its bytes.
`source(name, data_path)` resolves and checks it (--data-path, else the dataset's environment
variable) and is recorded in every run's identity;
`load_source` reads exactly that source again, e.g. when a report rebuilds a run.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import os
from pathlib import Path
from typing import Callable, NamedTuple

from bench.data import cars3d, dsprites, folder, mpi3d, scream_dsprites, shapes3d, smallnorb
from bench.data.base import PROCEDURAL, DataSource, GroundTruthData
from bench.errors import UserError
from bench.plugins import Registry, file_safe


def dsprites_small(data_path=None):
    """dSprites subset, 1,536 images: shape 3, scale 2, orientation 4, posX 8, posY 8 (tests, previews)."""
    return dsprites.DSprites.small()


# Name -> its loader, a function of `data_path` (None: procedural) returning a GroundTruthData: the
# loader itself or "module:FUNCTION", imported on first use (bench/plugins.py). A plug-in is named
# "PKG.MODULE:FUNCTION" or by its entry point (group disentanglement_bench.datasets): a callable of
# no argument or of `data_path`, which reads no --data-path (it finds its own data).
DATASETS = Registry("dataset", {
    "dsprites": dsprites.load,
    "dsprites_small": dsprites_small,
    "color_dsprites": "bench.data.dsprites_variants:color_dsprites",
    "noisy_dsprites": "bench.data.dsprites_variants:noisy_dsprites",
    "shapes3d": shapes3d.load,
    "mpi3d": mpi3d.load,
    "smallnorb": smallnorb.load,
    "cars3d": cars3d.load,
    "scream_dsprites": scream_dsprites.load,
}, accepts=callable, expected="a function returning a GroundTruthData (bench/data/base.py)",
    also=(f"{folder.PREFIX}PATH",))


class FileFormat(NamedTuple):
    """How a dataset is read from a file: the file it takes, the environment variable that may name
    it, the check a file must pass before it is fingerprinted, and whether the dataset can also be
    generated (procedurally) when no file is given. A dataset read from a folder of files gives
    `members`: the function that checks the folder and lists the files that hold the data (in a
    fixed order); their names and bytes are fingerprinted, and `check` is not called."""
    file: str
    variable: str
    check: Callable | None
    procedural: bool = True
    members: Callable | None = None


FILE_DATASETS = {
    "dsprites": FileFormat(dsprites.ORIGINAL_FILE, dsprites.PATH_VARIABLE, dsprites.check_file),
    "shapes3d": FileFormat(shapes3d.ORIGINAL_FILE, shapes3d.PATH_VARIABLE, shapes3d.check_file),
    "mpi3d": FileFormat(mpi3d.ORIGINAL_FILE, mpi3d.PATH_VARIABLE, mpi3d.check_file, procedural=False),
    "smallnorb": FileFormat(smallnorb.ORIGINAL_FILE, smallnorb.PATH_VARIABLE, None, False, smallnorb.member_files),
    "cars3d": FileFormat(cars3d.ORIGINAL_FILE, cars3d.PATH_VARIABLE, None, False, cars3d.member_files),
    "scream_dsprites": FileFormat(scream_dsprites.ORIGINAL_FILE, scream_dsprites.PATH_VARIABLE, scream_dsprites.check_file, False),
}


def is_folder(name: str) -> bool:
    return name.startswith(folder.PREFIX)


def check_name(name: str) -> None:
    """A UserError unless `name` is a dataset: built-in, folder:PATH, or a plug-in that loads."""
    if not is_folder(name):
        DATASETS.lookup(name)


def is_plugin(name: str) -> bool:
    """Whether dataset `name` is a plug-in (neither built in nor an image folder)."""
    return not is_folder(name) and DATASETS.is_plugin(name)


def results_name(name: str) -> str:
    """The default results folder's name for a dataset: its name ("pkg.mod.NAME" for a plug-in's
    "pkg.mod:NAME"), "folder-NAME" for folder:PATH."""
    return f"folder-{folder.folder_path(name).resolve().name}" if is_folder(name) else file_safe(name)


def built(name: str, data_path=None) -> GroundTruthData:
    """Dataset `name` from its loader (DATASETS); a plug-in's loader may take no argument, and what it
    returns must be a GroundTruthData."""
    loader = DATASETS.lookup(name)
    takes_path = "data_path" in inspect.signature(loader).parameters
    dataset = loader(data_path=data_path) if takes_path else loader()
    if not isinstance(dataset, GroundTruthData):
        raise UserError(f"dataset {name!r} returned a {type(dataset).__name__}, not a GroundTruthData "
                        f"(bench/data/base.py)")
    return dataset


def source(name: str, data_path=None) -> DataSource:
    """The source of dataset `name`: the file `data_path` (or the one the dataset's environment
    variable names), checked and fingerprinted, else procedural. A file given for a dataset that
    cannot read one is an error naming the datasets that can."""
    check_name(name)
    if name not in FILE_DATASETS:
        if data_path:
            takers = ", ".join(f"{taker} ({entry.file})" for taker, entry in FILE_DATASETS.items())
            raise UserError(f"--data-path {str(data_path)!r} was given for dataset {name!r}, which reads "
                            f"no file; --data-path is for {takers}")
        return folder.source(name) if is_folder(name) else PROCEDURAL
    entry = FILE_DATASETS[name]
    data_path = data_path or os.environ.get(entry.variable)
    if not data_path:
        if not entry.procedural:
            raise missing_data(name)
        return PROCEDURAL
    if entry.members:
        return DataSource(str(Path(data_path).resolve()), files_sha256(entry.members(data_path)))
    entry.check(data_path)
    path = Path(data_path).resolve()
    stat = path.stat()
    return DataSource(str(path), file_sha256(str(path), stat.st_size, stat.st_mtime_ns))


def missing_data(name: str) -> UserError:
    """The one line for a dataset read only from its file or folder (no procedural version) when
    none is given; its loader is called only with the file or folder `source` checked."""
    entry = FILE_DATASETS[name]
    kind = "FOLDER" if entry.members else "FILE"
    return UserError(f"dataset {name!r} is read from its {kind.lower()}: give --data-path {kind} "
                     f"({entry.file}) or set {entry.variable}")


@functools.lru_cache(maxsize=256)
def file_sha256(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of a file's bytes, computed once per process for each (path, size, modification
    time): the original dSprites file (26 MB) takes about 0.1 s; the cache holds a Cars3D folder's 183."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def files_sha256(files) -> str:
    """sha256 over the files' names and sha256s, in the given order: a folder's fingerprint."""
    digest = hashlib.sha256()
    for file in map(Path, files):
        stat = file.stat()
        content = file_sha256(str(file.resolve()), stat.st_size, stat.st_mtime_ns)
        digest.update(f"{file.name}\0{content}\n".encode())
    return digest.hexdigest()


def load_source(name: str, data_source: DataSource = PROCEDURAL) -> GroundTruthData:
    """Dataset `name` read from exactly `data_source` (no environment variable is consulted); a
    file that is gone or whose bytes changed since the source was recorded is an error."""
    check_name(name)
    if data_source.procedural:
        if name in FILE_DATASETS and not FILE_DATASETS[name].procedural:
            raise missing_data(name)                 # e.g. a spec.json that names no data source
        dataset = built(name)
    else:
        current = source(name) if is_folder(name) else source(name, data_source.path)
        if current.sha256 != data_source.sha256:
            raise UserError(f"{data_source.path!r} has changed since it was recorded (sha256 "
                            f"{current.sha256[:12]}..., recorded {str(data_source.sha256)[:12]}...); "
                            f"give the {'folder' if is_folder(name) or FILE_DATASETS[name].members else 'file'} "
                            f"the runs were made with")
        dataset = folder.load(name) if is_folder(name) else built(name, data_source.path)
    dataset.source = data_source
    return dataset


def load(name: str, data_path=None) -> GroundTruthData:
    """The dataset called `name`; `data_path` points to a file of the original data if any."""
    return load_source(name, source(name, data_path))


def describe(name: str) -> str:
    """What `bench list` says of a dataset: its loader's docstring (factors and sizes) in one line."""
    return " ".join((DATASETS.lookup(name).__doc__ or "(no docstring)").split())


FOLDER_DESCRIPTION = (f"{folder.PREFIX}PATH: the PNG and JPEG images of a folder, centre-cropped and resized "
                      f"to 64x64 (grey or RGB); no factors: trains methods that need none, and metrics that "
                      f"need factors are skipped")


__all__ = ["DATASETS", "FOLDER_DESCRIPTION", "DataSource", "GroundTruthData", "PROCEDURAL", "describe", "load", "load_source", "source"]
