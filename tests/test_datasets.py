"""The datasets beyond dSprites: the procedural sets' factor specifications (sizes, index order, distinct
images, every factor visible), the loaders of the real file formats on tiny files written here,
image folders, and one clear line (exit 2) for each bad file or folder."""
import numpy as np
import pytest
from PIL import Image

import methods
from bench import data
from bench.cli import main
from bench.data import shapes3d
from bench.data.base import GroundTruthData
from bench.data.dsprites import DSprites
from bench.data.dsprites_variants import ColorDSprites, NoisyDSprites
from bench.data.folder import ImageFolder
from bench.data.mpi3d import MPI3D
from bench.data.shapes3d import Shapes3D
from bench.errors import UserError
from bench.running import clauses, dataset_contract
from bench.running import config as sweep_config
from bench.running.sampler import batch_images
from methods.base import Batch

h5py = pytest.importorskip("h5py")


@pytest.fixture(scope="module")
def rendered():
    """The procedural Shapes3D (its layers are cached on first use, like dSprites)."""
    return Shapes3D.procedural()


@pytest.fixture(scope="module")
def small_sprites():
    return DSprites.small()


def neighbours(dataset, base: np.ndarray, k: int) -> np.ndarray:
    """`base` factor vectors with factor k moved to its next class (wrapping)."""
    moved = base.copy()
    moved[:, k] = (moved[:, k] + 1) % dataset.factor_sizes[k]
    return moved


def assert_every_factor_changes_the_image(dataset, rng, n=40):
    base = dataset.sample_factors(n, rng)
    images = dataset.images(dataset.index_of(base)).reshape(n, -1)
    for k in range(dataset.num_factors):
        moved = dataset.images(dataset.index_of(neighbours(dataset, base, k))).reshape(n, -1)
        assert (images != moved).any(axis=1).all(), dataset.factor_names[k]


def assert_distinct(images: np.ndarray):
    flat = images.reshape(len(images), -1)
    assert len(np.unique(flat, axis=0)) == len(flat)


# The contract (bench check: bench/running/dataset_contract.py) -----------------------------------

@pytest.mark.parametrize("clause", dataset_contract.CLAUSES, ids=lambda clause: clause.__name__)
@pytest.mark.parametrize("which", ["dsprites_small", "color_dsprites", "noisy_dsprites", "shapes3d"])
def test_a_dataset_passes_each_clause_of_the_contract(which, clause, small_sprites, rendered):
    dataset = {"dsprites_small": small_sprites, "color_dsprites": ColorDSprites(small_sprites, "color"),
               "noisy_dsprites": NoisyDSprites(small_sprites, "noisy"), "shapes3d": rendered}[which]
    verdict = clauses.verdict(clause, dataset)
    assert verdict.outcome == "PASS", verdict.line()


def test_a_folder_passes_the_image_clause_and_skips_the_factor_clauses():
    stored = np.arange(3 * 3 * 64 * 64, dtype=np.int64).reshape(3, 3, 64, 64).astype(np.uint8)
    verdicts = [clauses.verdict(clause, ImageFolder("folder:x", stored)) for clause in dataset_contract.CLAUSES]
    assert [verdict.outcome for verdict in verdicts] == ["SKIP", "SKIP", "PASS", "SKIP"]


class Reversed(GroundTruthData):
    """Twelve black 8x8 images whose flat index order is reversed: factors_of(index_of(f)) is not f."""
    name, factor_names, factor_sizes, image_shape = "reversed", ("a", "b"), (3, 4), (1, 8, 8)

    def images(self, indices):
        return np.zeros((len(indices), *self.image_shape), np.uint8)

    def index_of(self, factors):
        return len(self) - 1 - super().index_of(factors)


def test_a_dataset_that_breaks_the_index_order_fails_with_the_fix():
    verdicts = [clauses.verdict(clause, Reversed()) for clause in dataset_contract.CLAUSES]
    assert [verdict.outcome for verdict in verdicts] == ["PASS", "FAIL", "PASS", "PASS"]
    assert verdicts[1].line() == ("FAIL index and factors round trip: factors_of(index_of(f)) != f: keep the base "
                                  "class's row-major order (last factor fastest)")


# The procedural sets ------------------------------------------------------------------------------

def test_shapes3d_factor_specification(rendered):
    assert rendered.factor_names == ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    assert rendered.factor_sizes == (10, 10, 10, 8, 4, 15) and len(rendered) == 480_000
    assert rendered.image_shape == (3, 64, 64)
    assert rendered.index_of(np.array([[0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, 0]])).tolist() == \
        [1, 15, 48_000]                                                       # orientation fastest
    values = rendered.factor_values(np.array([len(rendered) - 1]))[0]
    assert np.allclose(values, [0.9, 0.9, 0.9, 1.25, 3.0, 30.0])


def test_shapes3d_images_are_distinct_and_every_factor_shows(rendered, rng):
    indices = rng.choice(len(rendered), 600, replace=False)
    images = rendered.images(indices)
    assert images.shape == (600, 3, 64, 64) and images.dtype == np.uint8
    assert_distinct(images)
    assert np.array_equal(rendered.images(indices[:50]), images[:50])          # the same pixels every time
    assert_every_factor_changes_the_image(rendered, rng)
    # Every (scale, shape, orientation) scene differs, so with distinct hues every image does.
    assert len(np.unique(rendered.layers.reshape(480, -1), axis=0)) == 480


@pytest.mark.parametrize("variant", [ColorDSprites, NoisyDSprites])
def test_dsprites_variants_keep_dsprites_factors_in_rgb(variant, small_sprites, rng):
    dataset = variant(small_sprites, "variant")
    assert dataset.factor_sizes == small_sprites.factor_sizes and dataset.image_shape == (3, 64, 64)
    indices = np.arange(len(dataset))
    images = dataset.images(indices)
    assert images.shape == (len(dataset), 3, 64, 64) and images.dtype == np.uint8
    assert np.array_equal(dataset.images(indices[::7]), images[::7])         # fixed per index
    assert_distinct(images)
    assert_every_factor_changes_the_image(dataset, rng)
    sprite = np.repeat(small_sprites.images(indices), 3, axis=1) > 0
    if variant is ColorDSprites:        # sprite x colour in [0.5, 1]^3 on black
        assert (images[~sprite] == 0).all() and images[sprite].min() >= 127
        colours = images.max(axis=(2, 3))
        assert len(np.unique(colours, axis=0)) > 0.9 * len(dataset)
    else:                               # white sprite on uniform noise
        assert (images[sprite] == 255).all()
        background = images[~sprite].astype(float) / 255
        assert abs(background.mean() - 0.5) < 0.01 and abs(background.std() - 12 ** -0.5) < 0.01


def test_bench_list_names_every_dataset_with_its_factor_sizes(capsys):
    assert main(["list"]) == 0
    output = capsys.readouterr().out
    for line in ("shapes3d: Shapes3D, 480,000 RGB images: floor_hue 10, wall_hue 10, object_hue 10, scale 8, "
                 "shape 4, orientation 15", "color_dsprites: Color-dSprites, 737,280 RGB images",
                 "noisy_dsprites: Noisy-dSprites", "mpi3d: MPI3D, 1,036,800 RGB images: object_color 6",
                 "folder:PATH: the PNG and JPEG images of a folder"):
        assert line in output


# Colour data in the VAE family ----------------------------------------------------------------

def test_likelihood_follows_the_dataset_and_keeps_old_run_ids(rendered, cpu_fp32, rng):
    flags = {"methods": "vae", "dataset": "dsprites", "seeds": "0", "steps": 100, "device": "cpu"}
    [default] = sweep_config.load(None, flags).specs()
    [explicit] = sweep_config.load(None, flags, ["vae.likelihood=gaussian"]).specs()
    assert "likelihood" not in default.identity()["params"] and explicit.run_id != default.run_id
    method = methods.create("beta_vae", {"batch_size": 8}, rendered.image_shape, cpu_fp32, 0,
                            rendered.method_defaults())
    assert method.params.likelihood == "gaussian"
    assert methods.create("beta_vae", {}, (1, 64, 64), cpu_fp32, 0).params.likelihood == "bernoulli"
    indices = rendered.index_of(rendered.sample_factors(8, rng))
    logged = method.train_step(Batch(batch_images(rendered, indices, cpu_fp32), None))
    assert np.isfinite(logged["loss"]) and logged["reconstruction"] < 3 * 64 * 64


# Loaders of the real formats --------------------------------------------------------------------

def write_shapes3d(path, sizes=(2, 1, 1, 2, 2, 3), shuffle=False):
    grid = np.stack(np.meshgrid(*[np.linspace(0, 1, s) for s in sizes], indexing="ij"), -1).reshape(-1, len(sizes))
    if shuffle:
        grid = grid[::-1]
    images = np.random.default_rng(0).integers(0, 256, (len(grid), 64, 64, 3), dtype=np.uint8)
    with h5py.File(path, "w") as handle:
        handle["images"], handle["labels"] = images, grid
    return images


def test_shapes3d_h5_loader_reads_the_original_format(tmp_path):
    images = write_shapes3d(tmp_path / "3dshapes.h5")
    dataset = Shapes3D.from_h5(tmp_path / "3dshapes.h5", factor_sizes=(2, 1, 1, 2, 2, 3))
    assert len(dataset) == 24 and dataset.factor_sizes == (2, 1, 1, 2, 2, 3)
    assert np.array_equal(dataset.images(np.array([5, 0])), images[[5, 0]].transpose(0, 3, 1, 2))


def test_mpi3d_npz_loader_reads_the_original_format(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (12, 64, 64, 3), dtype=np.uint8)
    np.savez(tmp_path / "mpi3d_toy.npz", images=images)
    dataset = MPI3D.from_npz(tmp_path / "mpi3d_toy.npz", factor_sizes=(2, 1, 1, 1, 1, 2, 3))
    assert len(dataset) == 12 and dataset.image_shape == (3, 64, 64)
    assert np.array_equal(dataset.images(np.array([11])), images[[11]].transpose(0, 3, 1, 2))


def test_the_unordered_factors_are_the_dci_es_authors_and_name_real_factors(rendered, small_sprites):
    """As the DCI-ES authors' loaders mark them discrete: dSprites' shape; Shapes3D's hues and
    shape; MPI3D's colours and shape (those present when a file has fewer factors)."""
    mpi3d = MPI3D(np.zeros((6 * 6 * 2 * 3 * 3, 64, 64, 3), np.uint8), factor_sizes=(6, 6, 2, 3, 3))
    expected = {small_sprites: ("shape",), ColorDSprites(small_sprites, "c"): ("shape",),
                rendered: ("floor_hue", "wall_hue", "object_hue", "shape"),
                mpi3d: ("object_color", "object_shape", "background_color"),
                MPI3D(np.zeros((12, 64, 64, 3), np.uint8), factor_sizes=(12,)): ("object_color",)}
    for dataset, names in expected.items():
        assert dataset.categorical_factors == names and set(names) <= set(dataset.factor_names)


def h5_without_labels(path):
    with h5py.File(path, "w") as handle:
        handle["images"] = np.zeros((2, 64, 64, 3), np.uint8)


@pytest.mark.parametrize("dataset,write,message", [
    ("shapes3d", lambda p: p.write_text("not hdf5"), "Shapes3D file '{p}' is not an HDF5 file; expected the original 3dshapes.h5"),
    ("shapes3d", None, "cannot read Shapes3D file '{p}' (No such file or directory)"),
    ("shapes3d", h5_without_labels, "Shapes3D file '{p}' has no dataset 'labels'"),
    ("shapes3d", write_shapes3d, "images has shape (24, 64, 64, 3) (uint8); expected (480000, 64, 64, 3) uint8"),
    ("mpi3d", lambda p: p.write_bytes(b"PK\x03\x04 truncated"), "cannot read MPI3D file '{p}' (BadZipFile"),
    ("mpi3d", lambda p: np.savez(p, imgs=np.zeros(3)), "MPI3D file '{p}' has no array 'images' (it has imgs)"),
    ("mpi3d", lambda p: np.savez(p, images=np.zeros((4, 64, 64), np.uint8)),
     "images has shape (4, 64, 64) (uint8); expected (1036800, 64, 64, 3) uint8"),
])
def test_a_wrong_file_is_one_line_exit_2(tmp_path, capsys, dataset, write, message):
    path = tmp_path / "file.npz"                  # np.savez adds .npz to a name without it
    if write:
        write(path)
    args = ["run", "--methods", "vae", "--dataset", dataset, "--data-path", str(path), "--out", str(tmp_path / "out")]
    assert main(args) == 2
    error = capsys.readouterr().err
    assert message.format(p=path) in error and error.count("\n") == 1, error
    assert not (tmp_path / "out").exists()


def test_shapes3d_labels_out_of_order_are_refused(tmp_path):
    write_shapes3d(tmp_path / "3dshapes.h5", shuffle=True)
    with pytest.raises(UserError, match="the labels are not in the original order"):
        Shapes3D.from_h5(tmp_path / "3dshapes.h5", factor_sizes=(2, 1, 1, 2, 2, 3))


def test_mpi3d_needs_its_file(capsys, monkeypatch):
    monkeypatch.delenv("BENCH_MPI3D_PATH", raising=False)
    assert main(["run", "--methods", "vae", "--dataset", "mpi3d"]) == 2
    assert "dataset 'mpi3d' is read from its file: give --data-path FILE (mpi3d_toy.npz)" in capsys.readouterr().err


def test_the_shapes3d_file_variable_is_a_data_source(tmp_path, monkeypatch):
    write_shapes3d(tmp_path / "3dshapes.h5")
    monkeypatch.setenv(shapes3d.PATH_VARIABLE, str(tmp_path / "3dshapes.h5"))
    assert data.source("shapes3d").path == str((tmp_path / "3dshapes.h5").resolve())


# Image folders ---------------------------------------------------------------------------------

def write_images(folder, modes=("RGB", "L", "RGB"), sizes=((80, 60), (64, 64), (30, 50))):
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for i, (mode, (width, height)) in enumerate(zip(modes, sizes)):
        shape = (height, width, 3) if mode == "RGB" else (height, width)
        image = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)
        image.save(folder / f"{i}.{'jpg' if i == 2 else 'png'}")
    return folder


def test_a_folder_is_cropped_and_resized_to_64(tmp_path):
    folder = write_images(tmp_path / "faces")
    (folder / "notes.txt").write_text("not an image")
    dataset = data.load(f"folder:{folder}")
    assert isinstance(dataset, ImageFolder) and not dataset.has_factors
    assert len(dataset) == 3 and dataset.image_shape == (3, 64, 64)
    assert dataset.images(np.arange(3)).dtype == np.uint8
    grey = data.load(f"folder:{write_images(tmp_path / 'grey', modes=('L', 'L'))}")
    assert grey.image_shape == (1, 64, 64) and len(grey) == 2
    assert data.source(f"folder:{folder}").sha256 != data.source(f"folder:{tmp_path / 'grey'}").sha256


@pytest.mark.parametrize("make,message", [
    (lambda p: p.mkdir(), "holds no PNG or JPEG images"),
    (lambda p: None, "is not a folder; give folder:PATH with PATH a folder of PNG or JPEG images"),
    (lambda p: (p.mkdir(), (p / "a.png").write_bytes(b"garbage")), "cannot read image '{p}/a.png'"),
])
def test_a_bad_folder_is_one_line_exit_2(tmp_path, capsys, make, message):
    folder = tmp_path / "images"
    make(folder)
    assert main(["run", "--methods", "vae", "--dataset", f"folder:{folder}", "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert message.format(p=folder) in error and error.count("\n") == 1, error


def test_methods_that_need_factors_are_refused_on_a_folder(tmp_path, capsys):
    folder = write_images(tmp_path / "faces")
    assert main(["run", "--methods", "dcign", "--dataset", f"folder:{folder}", "--out", str(tmp_path / "out")]) == 2
    assert "method dcign needs ground-truth factors, which folder:" in capsys.readouterr().err


def test_a_folder_trains_skips_factor_metrics_and_reports_traversals(tmp_path, capsys):
    folder = write_images(tmp_path / "faces")
    out = tmp_path / "out"
    assert main(["run", "--methods", "beta_vae", "--dataset", f"folder:{folder}", "--steps", "3", "--quick",
                 "--no-progress", "--threads", "1", "--set", "beta_vae.batch_size=4", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "skipping metric beta_vae: it needs ground-truth factors" in captured.err
    assert main(["report", str(out)]) == 0
    assert list(out.glob("traversal_beta_vae-*.png")) and list(out.glob("reconstruction_beta_vae-*.png"))
    (animation,) = out.glob("traversal_beta_vae-*.gif")                 # colour tiles, on a palette per frame
    with Image.open(animation) as gif:
        assert gif.n_frames == 20 and gif.convert("RGB").getextrema()[0][1] > 0
