"""SmallNORB, Cars3D and Scream-dSprites read from files written here in each original format, with
fewer classes per factor: each image's pixels encode the labels the format gives it, so the
loaders' index <-> factors mapping is checked against the format, not against the loader; the
contract every dataset keeps; one line and exit 2 for each bad file; a short `bench run` on each."""
import gzip

import numpy as np
import pandas as pd
import pytest
import scipy.io
from PIL import Image

from bench import data
from bench.cli import main
from bench.errors import UserError
from bench.data import PROCEDURAL, cars3d, scream_dsprites, smallnorb
from bench.data.cars3d import Cars3D
from bench.data.scream_dsprites import ScreamDSprites
from bench.running import clauses, dataset_contract

NORB_SIZES, NORB_INSTANCES = (2, 2, 3, 2), 2          # category, elevation, azimuth, lighting; instances
CARS_SIZES = (2, 3, 3)                                  # elevation, azimuth, object_type


def assert_contract(dataset):
    """What every dataset keeps: each clause of `bench check`'s dataset contract passes (one source
    for both: bench/running/dataset_contract.py)."""
    for clause in dataset_contract.CLAUSES:
        verdict = clauses.verdict(clause, dataset)
        assert verdict.outcome == "PASS", verdict.line()


# SmallNORB: the binary matrix format ----------------------------------------------------------

def write_matrix(path, array: np.ndarray, compress=False):
    """NORB's binary matrix file: magic (byte or integer matrix), ndim, max(3, ndim) dims, data."""
    magic = smallnorb.BYTE_MATRIX if array.dtype == np.uint8 else smallnorb.INTEGER_MATRIX
    dims = list(array.shape) + [1] * (3 - array.ndim)
    content = np.array([magic, array.ndim, *dims], "<i4").tobytes() + array.astype(array.dtype.newbyteorder("<")).tobytes()
    (gzip.open if compress else open)(str(path) + (".gz" if compress else ""), "wb").write(content)


def norb_code(category, instance, elevation, azimuth_class, lighting) -> np.ndarray:
    """The grey level written for one label row: distinct for every row, a multiple of 4."""
    c, i, e, a, l = (np.asarray(v) for v in (category, instance, elevation, azimuth_class, lighting))
    return 4 * (1 + (((c * NORB_INSTANCES + i) * NORB_SIZES[1] + e) * NORB_SIZES[2] + a) * NORB_SIZES[3] + l)


def write_smallnorb(folder, compress=False, left=None):
    """The six files, instance 1 in the training part and 0 in the testing part (as SmallNORB
    splits its 10), rows shuffled; left images a constant grey level coding the row's labels
    (`left`: a given picture for every row instead), right images their negative."""
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for part, instance in zip(smallnorb.PARTS, (1, 0)):
        grid = np.stack(np.meshgrid(*[np.arange(s) for s in NORB_SIZES], indexing="ij"), -1).reshape(-1, 4)
        grid = grid[rng.permutation(len(grid))]
        category, elevation, azimuth, lighting = grid.T
        info = np.stack([np.full(len(grid), instance), elevation, 2 * azimuth, lighting], 1).astype(np.int32)
        levels = norb_code(category, instance, elevation, azimuth, lighting).astype(np.uint8)
        dat = np.empty((len(grid), 2, 96, 96), np.uint8)
        dat[:, 0], dat[:, 1] = levels[:, None, None], 255 - levels[:, None, None]
        if left is not None:
            dat[:, 0] = left
        write_matrix(folder / f"smallnorb-{part}-dat.mat", dat, compress)
        write_matrix(folder / f"smallnorb-{part}-cat.mat", category.astype(np.int32), compress)
        write_matrix(folder / f"smallnorb-{part}-info.mat", info, compress)
    return folder


@pytest.fixture
def small_norb(monkeypatch):
    monkeypatch.setattr(smallnorb, "FACTOR_SIZES", NORB_SIZES)
    monkeypatch.setattr(smallnorb, "INSTANCES", NORB_INSTANCES)


@pytest.mark.parametrize("compress", [False, True])
def test_smallnorb_images_show_the_labels_their_rows_give(tmp_path, small_norb, rng, compress):
    dataset = data.load("smallnorb", str(write_smallnorb(tmp_path / "norb", compress)))
    assert dataset.factor_names == ("category", "elevation", "azimuth", "lighting")
    assert dataset.factor_sizes == NORB_SIZES and dataset.image_shape == (1, 64, 64)
    indices = np.arange(len(dataset))
    factors, instances = dataset.factors_of(indices), dataset.instances(indices)
    expected = norb_code(factors[:, 0], instances, factors[:, 1], factors[:, 2], factors[:, 3])
    images = dataset.images(indices)
    assert np.array_equal(images, np.broadcast_to(expected[:, None, None, None], images.shape))
    assert set(instances) == {0, 1}                            # both instances are shown somewhere
    assert dataset.categorical_factors == ("category", "lighting")
    assert_contract(dataset)


def test_smallnorb_resizes_the_left_image_as_disentanglement_lib(tmp_path, small_norb):
    picture = np.random.default_rng(1).integers(0, 256, (96, 96), dtype=np.uint8)
    dataset = data.load("smallnorb", str(write_smallnorb(tmp_path / "norb", left=picture)))
    expected = np.asarray(Image.fromarray(picture).resize((64, 64), Image.LANCZOS))
    images = dataset.images(np.arange(len(dataset)))
    assert np.array_equal(images, np.broadcast_to(expected, images.shape))


def test_smallnorb_refuses_a_repeated_or_out_of_range_label(tmp_path, small_norb, capsys):
    folder = write_smallnorb(tmp_path / "norb")
    info = np.zeros((24, 4), np.int32)
    info[:, 2] = 1                                                  # an odd azimuth: not NORB's 0, 2, ..., 34
    write_matrix(folder / f"smallnorb-{smallnorb.PARTS[0]}-info.mat", info)
    assert main(["run", "--methods", "vae", "--dataset", "smallnorb", "--data-path", str(folder),
                 "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "a row has labels (category, instance, elevation, azimuth, lighting) (" in error and error.count("\n") == 1
    assert "azimuth 0, 2, ..., 4" in error and not (tmp_path / "out").exists()


# Cars3D: MATLAB 5 files holding im (H, W, RGB, azimuth, elevation) ------------------------------

def car_colour(elevation, azimuth, model) -> np.ndarray:
    return np.array([10 + 40 * elevation, 10 + 20 * azimuth, 10 + 30 * model], np.uint8)


def write_cars3d(folder, side=128, names=("car_002_mesh.mat", "car_001_mesh.mat", "car_010_mesh.mat")):
    """One file per model (written out of name order), each image one colour coding (elevation,
    azimuth, model), where model is the file's place in name order."""
    folder.mkdir(exist_ok=True)
    elevations, azimuths, _ = CARS_SIZES
    for name in names:
        model = sorted(names).index(name)
        grid = np.empty((side, side, 3, azimuths, elevations), np.uint8)
        for a in range(azimuths):
            for e in range(elevations):
                grid[:, :, :, a, e] = car_colour(e, a, model)
        scipy.io.savemat(folder / name, {"im": grid})
    (folder / "readme.txt").write_text("not a model")
    return folder


@pytest.fixture
def small_cars(monkeypatch):
    monkeypatch.setattr(cars3d, "FACTOR_SIZES", CARS_SIZES)


def test_cars3d_images_show_the_grid_cell_and_file_they_come_from(tmp_path, small_cars, rng):
    dataset = data.load("cars3d", str(write_cars3d(tmp_path / "cars")))
    assert dataset.factor_names == ("elevation", "azimuth", "object_type") and dataset.factor_sizes == CARS_SIZES
    assert isinstance(dataset, Cars3D) and dataset.categorical_factors == ("object_type",)
    for index, (e, a, m) in enumerate(dataset.factors_of(np.arange(len(dataset)))):
        image = dataset.images([index])[0]
        assert np.array_equal(image, np.broadcast_to(car_colour(e, a, m)[:, None, None], (3, 64, 64)))
    assert_contract(dataset)


def test_the_folder_fingerprint_follows_the_files(tmp_path, small_cars, monkeypatch):
    folder = write_cars3d(tmp_path / "cars")
    monkeypatch.setenv(cars3d.PATH_VARIABLE, str(folder))
    before = data.source("cars3d")
    assert before.path == str(folder.resolve()) and data.source("cars3d", str(folder)) == before
    (folder / "readme.txt").write_text("changed, but no model")
    assert data.source("cars3d").sha256 == before.sha256
    scipy.io.savemat(folder / "car_001_mesh.mat", {"im": np.zeros((128, 128, 3, 3, 2), np.uint8)})
    assert data.source("cars3d").sha256 != before.sha256


# Scream-dSprites: the sprite inverted over a patch of the picture averaged with a colour -----------

def write_picture(path, size=(90, 80)):
    pixels = np.random.default_rng(2).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels


def test_scream_dsprites_is_a_patch_plus_a_colour_with_the_sprite_inverted(tmp_path, small_dsprites, rng):
    picture = write_picture(tmp_path / "scream.png")                 # fits 350 x 274: not shrunk
    dataset = ScreamDSprites(small_dsprites, scream_dsprites.read_picture(tmp_path / "scream.png"))
    assert dataset.factor_sizes == small_dsprites.factor_sizes and dataset.image_shape == (3, 64, 64)
    indices = rng.integers(0, len(dataset), 4)
    sprites = small_dsprites.images(indices)[:, 0] == 255
    windows = np.lib.stride_tricks.sliding_window_view(picture, (64, 64), axis=(0, 1)).astype(float)
    for image, sprite in zip(dataset.images(indices).astype(float), sprites):
        background = np.where(sprite, 255 - image, image)            # undo the inversion
        # 2 b - patch is the colour, the same at every pixel: find the one window where it is.
        spread = (2 * background[None, None] - windows).reshape(*windows.shape[:3], -1).std(axis=-1).max(axis=-1)
        row, column = np.unravel_index(np.argmin(spread), spread.shape)
        assert spread[row, column] < 1.5 and np.sort(spread.ravel())[1] > 20
        assert row <= 80 - 65 and column <= 90 - 65                  # disentanglement_lib's offsets
        colour = (2 * background - windows[row, column]).mean(axis=(1, 2)) / 255
        assert ((colour > -0.01) & (colour < 1.01)).all()
    assert_contract(dataset)


def test_a_large_picture_is_shrunk_to_fit_350_by_274(tmp_path):
    write_picture(tmp_path / "scream.jpg", size=(700, 1000))
    assert scream_dsprites.read_picture(tmp_path / "scream.jpg").shape == (274, 192, 3)


WRITERS = [("smallnorb", lambda p: write_smallnorb(p / "norb")), ("cars3d", lambda p: write_cars3d(p / "cars")),
           ("scream_dsprites", lambda p: (write_picture(p / "scream.png"), p / "scream.png")[1])]


# Bad files: one line, exit 2, nothing written ------------------------------------------------------

def truncated(path):
    path.write_bytes(path.read_bytes()[:-100])


def norb_folder(change):
    def make(folder):
        write_smallnorb(folder)
        change(folder / f"smallnorb-{smallnorb.PARTS[1]}-dat.mat")
    return make


def cars_folder(change):
    def make(folder):
        write_cars3d(folder)
        change(folder / "car_002_mesh.mat")
    return make


def scream_file(change):
    def make(path):
        write_picture(path)
        change(path)
    return make


@pytest.mark.parametrize("dataset,make,message", [
    ("smallnorb", lambda p: None, "SmallNORB data '{p}' is not a folder; expected the folder holding its six files"),
    ("smallnorb", norb_folder(lambda f: f.unlink()), "has no smallnorb-5x01235x9x18x6x2x96x96-testing-dat.mat (nor .mat.gz)"),
    ("smallnorb", norb_folder(lambda f: f.write_bytes(b"MATLAB 5.0 MAT-file")), "-testing-dat.mat' is not a byte matrix file"),
    ("smallnorb", norb_folder(truncated), "is a byte matrix of shape (24, 2, 96, 96) (442368 bytes of data) but holds 442268: truncated"),
    ("smallnorb", norb_folder(lambda f: write_matrix(f, np.zeros((24, 2, 64, 64), np.uint8))),
     "holds uint8 (24, 2, 64, 64); expected (rows, 2, 96, 96) bytes"),
    ("cars3d", lambda p: None, "Cars3D data '{p}' is not a folder"),
    ("cars3d", cars_folder(lambda f: f.unlink()), "Cars3D folder '{p}' holds 2 .mat files; expected 3, one per car model"),
    ("cars3d", cars_folder(lambda f: f.write_bytes(b"\x89HDF\r\n\x1a\n")), "car_002_mesh.mat' is not a MATLAB 5 .mat file"),
    ("cars3d", cars_folder(truncated), "cannot read Cars3D file '{p}/car_002_mesh.mat' ("),
    ("cars3d", cars_folder(lambda f: scipy.io.savemat(f, {"im": np.zeros((64, 64, 3, 3, 2), np.uint8)})),
     "im has shape (64, 64, 3, 3, 2) (uint8); expected (128, 128, 3, 3, 2) uint8"),
    ("scream_dsprites", lambda p: None, "cannot read Scream-dSprites picture '{p}' (No such file or directory)"),
    ("scream_dsprites", lambda p: p.write_text("not a picture"), "Scream-dSprites picture '{p}' is not a JPEG or PNG picture"),
    ("scream_dsprites", scream_file(truncated), "cannot read Scream-dSprites picture '{p}' (image file is truncated"),
    ("scream_dsprites", lambda p: Image.new("RGB", (64, 300)).save(p, "PNG"),
     "picture '{p}' is 64 x 300 pixels, 58 x 274 once shrunk; expected a JPEG or PNG picture"),
])
def test_a_bad_file_is_one_line_exit_2(tmp_path, capsys, small_norb, small_cars, dataset, make, message):
    path = tmp_path / ("scream.jpg" if dataset == "scream_dsprites" else "data")
    make(path)
    args = ["run", "--methods", "vae", "--dataset", dataset, "--data-path", str(path), "--out", str(tmp_path / "out")]
    assert main(args) == 2
    error = capsys.readouterr().err
    assert message.format(p=path) in error and error.count("\n") == 1, error
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("dataset,variable", [("smallnorb", "BENCH_SMALLNORB_PATH"), ("cars3d", "BENCH_CARS3D_PATH"),
                                              ("scream_dsprites", "BENCH_SCREAM_PATH")])
def test_each_needs_its_data(capsys, monkeypatch, dataset, variable):
    monkeypatch.delenv(variable, raising=False)
    assert main(["run", "--methods", "vae", "--dataset", dataset]) == 2
    error = capsys.readouterr().err
    assert f"dataset {dataset!r} is read from its" in error and f"or set {variable}" in error


@pytest.mark.parametrize("dataset", ["smallnorb", "cars3d", "mpi3d", "scream_dsprites"])
def test_one_place_says_a_dataset_without_a_procedural_version_needs_its_data(monkeypatch, dataset):
    entry = data.FILE_DATASETS[dataset]
    monkeypatch.delenv(entry.variable, raising=False)
    kind = "folder" if entry.members else "file"
    line = f"dataset {dataset!r} is read from its {kind}: give --data-path {kind.upper()} ({entry.file}) or set {entry.variable}"
    with pytest.raises(UserError) as from_source:
        data.source(dataset)
    with pytest.raises(UserError) as from_a_spec_without_data:          # never its loader with no path
        data.load_source(dataset, PROCEDURAL)
    assert str(from_source.value) == str(from_a_spec_without_data.value) == line


@pytest.mark.parametrize("dataset,write", WRITERS[:2])
def test_a_folder_s_files_are_checked_once_before_its_loader_reads_them(tmp_path, monkeypatch, small_norb, small_cars,
                                                                        dataset, write):
    module, checked = {"smallnorb": smallnorb, "cars3d": cars3d}[dataset], []
    member_files, recorded = module.member_files, data.source(dataset, str(write(tmp_path)))

    def counted(folder, *args):
        checked.append(folder)
        return member_files(folder, *args)
    monkeypatch.setattr(module, "member_files", counted)
    monkeypatch.setitem(data.FILE_DATASETS, dataset, data.FILE_DATASETS[dataset]._replace(members=counted))
    loaded = data.load_source(dataset, recorded)
    assert len(checked) == 1                  # load_source's source(): the folder is as recorded; not the loader
    assert len(loaded) == int(np.prod(loaded.factor_sizes)) and loaded.source == recorded


@pytest.mark.parametrize("dataset,write", WRITERS)
def test_the_environment_variable_names_the_data(tmp_path, monkeypatch, small_norb, small_cars, dataset, write):
    path = write(tmp_path)
    monkeypatch.setenv(data.FILE_DATASETS[dataset].variable, str(path))
    source = data.source(dataset)
    assert source.path == str(path.resolve()) and source == data.source(dataset, str(path))
    assert len(data.load_source(dataset, source)) == len(data.load(dataset, str(path)))


def test_bench_list_names_the_three_with_their_sources(capsys):
    assert main(["list"]) == 0
    output = capsys.readouterr().out
    for line in ("smallnorb: SmallNORB, 48,600 grey images", "category 5, elevation 9, azimuth 18, lighting 6",
                 "cars3d: Cars3D, 17,568 RGB images: elevation 4, azimuth 24, object_type 183",
                 "scream_dsprites: Scream-dSprites, 737,280 RGB images", "BENCH_SCREAM_PATH"):
        assert line in output


# A short run on each small file trains and scores -----------------------------------------------------

@pytest.mark.parametrize("dataset,write", WRITERS)
def test_a_short_run_trains_and_scores(tmp_path, capsys, small_norb, small_cars, dataset, write):
    out = tmp_path / "out"
    assert main(["run", "--methods", "beta_vae", "--dataset", dataset, "--data-path", str(write(tmp_path)),
                 "--steps", "2", "--quick", "--no-progress", "--threads", "1", "--metrics", "mig",
                 "--set", "beta_vae.batch_size=4", "--out", str(out)]) == 0
    scores = pd.read_csv(out / "scores.csv")
    mig = scores[scores["metric"].str.startswith("mig")]
    assert set(scores["dataset"]) == {dataset} and len(mig) and mig["value"].between(0, 1).all()
