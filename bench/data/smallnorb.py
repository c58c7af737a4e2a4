"""SmallNORB (LeCun, Huang & Bottou 2004): read from its six original files in one folder, the
training and the testing part's -dat, -cat and -info files, named
smallnorb-5x46789x9x18x6x2x96x96-training-dat.mat etc. (plain, or gzipped as downloaded: .mat.gz).

The files are in NORB's "binary matrix" format, not MATLAB's: an int32 magic number
(little-endian) naming the element type (0x1E3D4C55 bytes, 0x1E3D4C54 int32), an int32 ndim,
max(3, ndim) int32 dimensions (those past ndim are padding), then the elements, row-major:
- -dat (24300, 2, 96, 96) uint8: a stereo pair per row; the left image (index 0) is used;
- -cat (24300,) int32: the category, 0-4 (animal, human, airplane, truck, car);
- -info (24300, 4) int32: instance 0-9, elevation 0-8, azimuth 0, 2, ..., 34, lighting 0-5.
The two parts hold 48,600 rows: every (category, instance, elevation, azimuth, lighting) once
(checked), the training part instances 4, 6, 7, 8, 9 and the testing part 0, 1, 2, 3, 5.

As disentanglement_lib's norb.py: the left images are resized from 96 x 96 to 64 x 64 (Pillow,
Lanczos: its ANTIALIAS) and kept grey; the factors are category 5, elevation 9, azimuth 18
(the stored value / 2) and lighting 6, lighting fastest; the instance is no factor (it is which
toy of the category is shown, not a property the generative process varies along an axis).
disentanglement_lib draws the instance afresh at each observation; here it is a fixed function of
the flat index (a splitmix64 hash, uniform over the 10), so that `images(indices)` returns the
same pixels every time (docs/datasets.md): training and the metrics see 4,860 of the 48,600
images, one instance per factor combination, the instances mixed uniformly over the
combinations. Category and lighting are unordered (categorical for DCI-ES). Only those 4,860 are
resized and held in memory (20 MB).
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from bench.data.base import GroundTruthData, resized_64
from bench.data.dsprites_variants import hashed_uniform
from bench.errors import UserError

FACTOR_NAMES = ("category", "elevation", "azimuth", "lighting")
FACTOR_SIZES = (5, 9, 18, 6)
INSTANCES = 10
PARTS = ("5x46789x9x18x6x2x96x96-training", "5x01235x9x18x6x2x96x96-testing")
ORIGINAL_FILE = "the folder of SmallNORB's six smallnorb-*-{dat,cat,info}.mat files"
PATH_VARIABLE = "BENCH_SMALLNORB_PATH"
BYTE_MATRIX, INTEGER_MATRIX = 0x1E3D4C55, 0x1E3D4C54
MATRIX_TYPES = {BYTE_MATRIX: ("a byte matrix", np.uint8), INTEGER_MATRIX: ("an integer matrix", np.int32)}
INSTANCE_STREAM = 4
EXPECTED = ("SmallNORB's binary matrix files (smallnorb-*-dat.mat: (24300, 2, 96, 96) bytes; "
            "-cat.mat, -info.mat: integers)")


class SmallNORB(GroundTruthData):
    """SmallNORB's left images, resized, in memory: the one each factor combination shows (its
    instance fixed per index, `instance_of`), in flat index order."""

    name = "smallnorb"
    factor_names = FACTOR_NAMES
    image_shape = (1, 64, 64)
    likelihood = "gaussian"
    categorical_factors = ("category", "lighting")

    def __init__(self, stored: np.ndarray, factor_sizes: tuple, instances: int):
        self.stored, self.num_instances = stored, instances
        self.factor_sizes = tuple(factor_sizes)

    @classmethod
    def from_folder(cls, folder, factor_sizes=None, instances=None) -> "SmallNORB":
        """The six files of `folder` (one member_files passed: bench.data.source checks it before
        any load), parsed and their shapes and labels checked; `factor_sizes` and `instances` other
        than SmallNORB's (read when called: tests set them for small files, values 0 .. size - 1,
        azimuth 0, 2, ...)."""
        factor_sizes, instances = tuple(factor_sizes or FACTOR_SIZES), instances or INSTANCES
        lefts, labels = [], []
        for part in PARTS:
            paths = {kind: part_file(folder, part, kind) for kind in ("dat", "cat", "info")}
            dat, cat, info = (read_matrix(paths[kind]) for kind in ("dat", "cat", "info"))
            rows = len(dat) if dat.ndim == 4 else -1
            if dat.shape[1:] != (2, 96, 96) or dat.dtype != np.uint8:
                raise UserError(f"SmallNORB file {str(paths['dat'])!r} holds {dat.dtype} {dat.shape}; "
                                f"expected (rows, 2, 96, 96) bytes: 96 x 96 stereo pairs")
            if cat.shape != (rows,) or info.shape != (rows, 4):
                raise UserError(f"SmallNORB files of part {part!r}: -cat {cat.shape}, -info {info.shape} for "
                                f"{rows} images; expected ({rows},) and ({rows}, 4)")
            lefts.append(dat[:, 0])
            labels.append(np.column_stack([cat, info]))
        table = factor_table(folder, np.concatenate(labels), factor_sizes, instances)
        every = np.arange(len(table))
        shown = table[every, instance_of(every, instances)]        # only these rows are ever seen:
        return cls(resized_64(np.concatenate(lefts)[shown]), factor_sizes, instances)   # resize those

    def instances(self, indices) -> np.ndarray:
        """The instance shown at each flat index (instance_of)."""
        return instance_of(np.asarray(indices, dtype=np.int64), self.num_instances)

    def images(self, indices) -> np.ndarray:
        return self.stored[np.asarray(indices, dtype=np.int64)][:, None]


def instance_of(indices: np.ndarray, instances: int) -> np.ndarray:
    """The instance a flat index shows: fixed per index, uniform over the instances (a nuisance
    factor: disentanglement_lib draws it afresh per image; here an image must not change)."""
    return (hashed_uniform(indices, INSTANCE_STREAM) * instances).astype(np.int64)


def part_file(folder, part: str, kind: str) -> Path:
    """The file of one part and kind: NAME.mat, else NAME.mat.gz; a missing one is an error."""
    plain = Path(folder) / f"smallnorb-{part}-{kind}.mat"
    for path in (plain, plain.with_name(plain.name + ".gz")):
        if path.is_file():
            return path
    raise UserError(f"SmallNORB folder {str(folder)!r} has no {plain.name} (nor .mat.gz); expected a folder "
                    f"with the six files smallnorb-{{{','.join(PARTS)}}}-{{dat,cat,info}}.mat")


def read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError) as error:           # unreadable, or a damaged / truncated gzip stream
        reason = getattr(error, "strerror", None) or f"{type(error).__name__}: {error}"
        raise UserError(f"cannot read SmallNORB file {str(path)!r} ({reason}); expected {EXPECTED}") from None


def read_matrix(path: Path) -> np.ndarray:
    """A binary matrix file: magic, ndim, max(3, ndim) dimensions, then exactly their elements."""
    content = read_bytes(path)
    magic = int.from_bytes(content[:4], "little") if len(content) >= 8 else None
    if magic not in MATRIX_TYPES:
        raise UserError(f"SmallNORB file {str(path)!r} is not a binary matrix file (no byte or integer "
                        f"matrix magic number); expected {EXPECTED}")
    ndim = int.from_bytes(content[4:8], "little", signed=True)
    header = 8 + 4 * max(3, ndim)
    if not 1 <= ndim <= 8 or len(content) < header:
        raise UserError(f"SmallNORB file {str(path)!r} has a damaged header (ndim {ndim}); expected {EXPECTED}")
    dims = tuple(int(d) for d in np.frombuffer(content, "<i4", ndim, 8))
    what, dtype = MATRIX_TYPES[magic]
    size = int(np.prod(dims)) * np.dtype(dtype).itemsize
    if min(dims) < 0 or len(content) - header != size:
        raise UserError(f"SmallNORB file {str(path)!r} is {what} of shape {dims} ({size} bytes of data) "
                        f"but holds {len(content) - header}: truncated or damaged")
    return np.frombuffer(content, np.dtype(dtype).newbyteorder("<"), offset=header).reshape(dims)


def factor_table(folder, labels: np.ndarray, factor_sizes: tuple, instances: int) -> np.ndarray:
    """Rows (of the two parts, training first) by (flat index, instance), from the labels
    (category, instance, elevation, azimuth, lighting): each combination must occur exactly once."""
    category, instance, elevation, azimuth, lighting = labels.T.astype(np.int64)
    classes = np.stack([category, elevation, azimuth // 2, lighting], axis=1)
    sizes = np.asarray(factor_sizes)
    bad = ((classes < 0) | (classes >= sizes)).any(axis=1) | (azimuth % 2 != 0)
    bad |= (instance < 0) | (instance >= instances)
    if bad.any() or len(labels) != np.prod(sizes) * instances:
        row = labels[np.argmax(bad)] if bad.any() else None
        raise UserError(f"SmallNORB folder {str(folder)!r}: " + (
            f"a row has labels (category, instance, elevation, azimuth, lighting) {tuple(int(v) for v in row)}"
            if row is not None else f"the two parts hold {len(labels)} images") +
            f"; expected every combination of category 0-{sizes[0] - 1}, instance 0-{instances - 1}, elevation "
            f"0-{sizes[1] - 1}, azimuth 0, 2, ..., {2 * (sizes[2] - 1)}, lighting 0-{sizes[3] - 1} once")
    index = classes @ np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]])
    table = np.full((int(np.prod(sizes)), instances), -1, dtype=np.int64)
    table[index, instance] = np.arange(len(labels))
    if (table < 0).any():
        missing = np.argwhere(table < 0)[0]
        raise UserError(f"SmallNORB folder {str(folder)!r}: no image of factor index {missing[0]} with "
                        f"instance {missing[1]} (a combination is repeated); expected each once")
    return table


def member_files(folder) -> list[Path]:
    """The six files of a SmallNORB folder, each starting with a binary matrix magic number."""
    if not Path(folder).is_dir():
        raise UserError(f"SmallNORB data {str(folder)!r} is not a folder; expected the folder holding its six "
                        f"files smallnorb-*-{{dat,cat,info}}.mat")
    files = [part_file(folder, part, kind) for part in PARTS for kind in ("dat", "cat", "info")]
    for path in files:
        try:
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rb") as handle:
                start = handle.read(4)
        except (OSError, EOFError) as error:
            raise UserError(f"cannot read SmallNORB file {str(path)!r} ({type(error).__name__}); "
                            f"expected {EXPECTED}") from None
        expected_magic = BYTE_MATRIX if path.name.split(".")[0].endswith("-dat") else INTEGER_MATRIX
        if int.from_bytes(start, "little") != expected_magic:
            raise UserError(f"SmallNORB file {str(path)!r} is not {MATRIX_TYPES[expected_magic][0]} file; "
                            f"expected {EXPECTED}")
    return files


def load(data_path) -> SmallNORB:
    """SmallNORB, 48,600 grey images (4,860 factor combinations x 10 instances; one instance shown
    per combination): category 5, elevation 9, azimuth 18, lighting 6 (read from the folder of its
    six files from https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/, .mat or .mat.gz, given by
    --data-path or BENCH_SMALLNORB_PATH; no checksum is published; no procedural version)."""
    return SmallNORB.from_folder(Path(data_path))
