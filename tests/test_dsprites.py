"""The procedural dSprites matches the published specification (docs/paper.md section 5)."""
import numpy as np
import pytest

from bench import data
from bench.data.dsprites import FACTOR_NAMES, DSprites
from bench.data.sprite_render import render_patches
from bench.errors import UserError


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    import os
    os.environ["BENCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    try:
        yield DSprites.procedural()
    finally:
        del os.environ["BENCH_CACHE_DIR"]


def test_factor_specification(full):
    assert len(full) == 737_280
    assert full.factor_names == FACTOR_NAMES
    assert full.factor_sizes == (3, 6, 40, 32, 32)
    assert full.bases.tolist() == [245_760, 40_960, 1_024, 32, 1]
    values = full.factor_values(np.arange(len(full)))
    assert np.allclose(np.unique(values[:, 1]), np.linspace(0.5, 1, 6))
    assert np.allclose(np.unique(values[:, 2]), np.linspace(0, 2 * np.pi, 40))
    assert np.allclose(np.unique(values[:, 3]), np.linspace(0, 1, 32))
    # posY varies fastest, then posX, orientation, scale, shape
    assert full.factors_of(np.array([1]))[0].tolist() == [0, 0, 0, 0, 1]
    assert full.factors_of(np.array([32]))[0].tolist() == [0, 0, 0, 1, 0]
    assert full.factors_of(np.array([245_760]))[0].tolist() == [1, 0, 0, 0, 0]


def test_index_and_factors_round_trip(full, rng):
    indices = rng.integers(0, len(full), 1000)
    assert np.array_equal(full.index_of(full.factors_of(indices)), indices)


def test_images_are_binary_in_frame_and_centred(full, rng):
    images = full.images(rng.integers(0, len(full), 3000))[:, 0]
    assert images.dtype == np.uint8 and set(np.unique(images)) == {0, 255}
    assert (images.reshape(len(images), -1).max(axis=1) == 255).all()
    rows, cols = np.nonzero(images.sum(axis=2)), np.nonzero(images.sum(axis=1))
    assert rows[1].min() > 0 and rows[1].max() < 63 and cols[1].min() > 0 and cols[1].max() < 63
    weights = images.astype(float)
    centre_row = (weights.sum(axis=2) * np.arange(64)).sum(1) / weights.sum(axis=(1, 2))
    centre_col = (weights.sum(axis=1) * np.arange(64)).sum(1) / weights.sum(axis=(1, 2))
    assert centre_row.min() >= 14 and centre_row.max() <= 50
    assert centre_col.min() >= 14 and centre_col.max() <= 50


def test_no_sprite_touches_its_patch_border():
    patches = render_patches(range(3), np.linspace(0.5, 1, 6), np.linspace(0, 2 * np.pi, 40))
    border = patches[..., 0, :].any() or patches[..., -1, :].any() or \
        patches[..., :, 0].any() or patches[..., :, -1].any()
    assert not border


def test_position_classes_are_one_pixel_shifts(full):
    base = full.index_of(np.array([[2, 5, 7, 10, 12]]))
    image = full.images(base)[0, 0]
    right = full.images(base + full.bases[3])[0, 0]
    down = full.images(base + full.bases[4])[0, 0]
    assert np.array_equal(np.roll(image, 1, axis=1), right)
    assert np.array_equal(np.roll(image, 1, axis=0), down)


def test_images_are_distinct(full, rng):
    """Distinct across shape, scale and position; the heart is distinct across orientations 0..38
    (orientation 39 = 2 pi repeats 0, and square and ellipse symmetries repeat, as in the original)."""
    factors = full.sample_factors(4000, rng)
    factors[:, 2] = 0
    indices = np.unique(full.index_of(factors))
    assert len(np.unique(full.packed[indices].reshape(len(indices), -1), axis=0)) == len(indices)
    hearts = full.index_of(np.array([[2, 5, o, 16, 16] for o in range(39)]))
    assert len(np.unique(full.packed[hearts].reshape(39, -1), axis=0)) == 39
    assert np.array_equal(*full.packed[full.index_of(np.array([[2, 5, 0, 16, 16], [2, 5, 39, 16, 16]]))])


def test_shapes_differ_in_area_as_expected(full):
    areas = [full.images(full.index_of(np.array([[s, 5, 0, 16, 16]])))[0].sum() / 255 for s in range(3)]
    square, ellipse, heart = areas
    assert 200 < square < 300 and 100 < ellipse < 200 and 150 < heart < 300


def test_cache_reload_gives_the_same_images(full):
    reloaded = DSprites.procedural()
    assert np.array_equal(reloaded.packed, full.packed)


def test_small_subset_matches_the_full_set(full, small_dsprites):
    factors = small_dsprites.factors_of(np.arange(len(small_dsprites)))
    full_factors = np.stack([small_dsprites.classes[k][factors[:, k]] for k in range(5)], axis=1)
    assert np.array_equal(small_dsprites.images(np.arange(len(small_dsprites))),
                          full.images(full.index_of(full_factors)))


def test_unreadable_data_path_is_a_clear_error(tmp_path):
    bad = tmp_path / "not_dsprites.npz"
    bad.write_text("garbage")
    with pytest.raises(UserError, match="not_dsprites.npz"):
        data.load("dsprites", bad)
    with pytest.raises(UserError, match="unknown dataset 'mnist'; valid: .*color_dsprites, dsprites, dsprites_small, folder:PATH, .*PKG.MODULE:NAME"):
        data.load("mnist")


def test_samplers_keep_the_promised_factors(small_dsprites, rng):
    varying = small_dsprites.one_factor_varying(2, 64, rng)
    assert (varying[:, [0, 1, 3, 4]] == varying[0, [0, 1, 3, 4]]).all()
    assert len(np.unique(varying[:, 2])) > 1
    k = rng.integers(0, 5, 500)
    first, second = small_dsprites.pairs_sharing_factor(k, 500, rng)
    assert (first[np.arange(500), k] == second[np.arange(500), k]).all()
