"""The GroundTruthData contract as clauses (bench/running/contract.py): factor sizes, index <->
factors, images, and the samplers with a fixed factor (docs/design.md, "GroundTruthData";
docs/datasets.md; docs/plugins.md, "Check it")."""
from __future__ import annotations

import numpy as np

from bench.running.clauses import NotApplicable, require

DRAWN = 64                                    # factor vectors and images drawn per clause


def subject_named(name: str):
    from bench import data
    return data.load(name)


def needs_factors(dataset) -> None:
    if not dataset.has_factors:
        raise NotApplicable("has_factors is False (a collection of images without ground truth)")


def its_factor_sizes_are_consistent(dataset) -> str:
    """One name per factor, sizes that are integers of at least 1, as many images as their product,
    image_shape (C, H, W) with 1 or 3 channels, unordered factors among the names."""
    needs_factors(dataset)
    names, sizes = tuple(dataset.factor_names), tuple(dataset.factor_sizes)
    require(len(names) == len(sizes) >= 1, f"{len(names)} factor_names for {len(sizes)} factor_sizes: one name per factor")
    require(all(isinstance(size, (int, np.integer)) and size >= 1 for size in sizes),
            f"factor_sizes {sizes}: each an integer of at least 1")
    require(len(dataset) == int(np.prod(sizes)), f"len() is {len(dataset)}, not the product of factor_sizes "
                                                 f"{int(np.prod(sizes))}: one image per combination of classes")
    shape = tuple(dataset.image_shape)
    require(len(shape) == 3 and shape[0] in (1, 3), f"image_shape {shape}: (C, H, W) with C 1 (grey) or 3 (RGB)")
    require(set(dataset.categorical_factors) <= set(names),
            f"categorical_factors {dataset.categorical_factors} name no factor of {names}")
    return f"{', '.join(f'{n} {s}' for n, s in zip(names, sizes))}: {len(dataset):,} images of {shape}"


def index_and_factors_round_trip(dataset) -> str:
    """factors_of(index_of(f)) == f for drawn factor vectors, and index_of(factors_of(i)) == i for
    the first, last and drawn indices; every class within its factor's size."""
    needs_factors(dataset)
    rng = np.random.default_rng(0)
    factors = dataset.sample_factors(DRAWN, rng)
    require(factors.shape == (DRAWN, dataset.num_factors), f"sample_factors({DRAWN}) gave shape {factors.shape}")
    require(((factors >= 0) & (factors < np.asarray(dataset.factor_sizes))).all(),
            "sample_factors drew a class outside its factor's size")
    require(np.array_equal(dataset.factors_of(dataset.index_of(factors)), factors),
            "factors_of(index_of(f)) != f: keep the base class's row-major order (last factor fastest)")
    indices = np.concatenate([[0, len(dataset) - 1], rng.integers(0, len(dataset), DRAWN)])
    require(np.array_equal(dataset.index_of(dataset.factors_of(indices)), indices), "index_of(factors_of(i)) != i")
    return f"{DRAWN} factor vectors and {len(indices)} indices (first and last too) round trip"


def its_images_are_uint8_of_its_shape(dataset) -> str:
    """images(indices) is uint8 (n, C, H, W) and gives the same pixels for the same indices; a
    packed dataset's float_images are images / 255 exactly."""
    indices = np.random.default_rng(1).integers(0, len(dataset), 16)
    images = dataset.images(indices)
    require(isinstance(images, np.ndarray) and images.dtype == np.uint8,
            f"images() gave {getattr(images, 'dtype', type(images).__name__)}: return a numpy uint8 array (0-255)")
    require(images.shape == (len(indices), *dataset.image_shape),
            f"images() of {len(indices)} indices gave {images.shape}, not {(len(indices), *dataset.image_shape)}")
    require(np.array_equal(dataset.images(indices), images), "the same indices gave other pixels: images() must be fixed per index")
    if dataset.packed is not None:
        require(np.array_equal(dataset.float_images(indices), images.astype(np.float32) / 255),
                "float_images differs from images / 255")
    return f"uint8 {images.shape[1:]}, the same pixels when read again"


def sampling_with_a_fixed_factor_works(dataset) -> str:
    """For each factor k, one_factor_varying(k) keeps every other factor, pairs_sharing_factor(k)
    agrees on k (what DC-IGN's batches and the beta-VAE metric draw)."""
    needs_factors(dataset)
    rng = np.random.default_rng(2)
    for k, name in enumerate(dataset.factor_names):
        varying = dataset.one_factor_varying(k, DRAWN, rng)
        others = np.delete(varying, k, axis=1)
        require(varying.shape == (DRAWN, dataset.num_factors) and (others == others[0]).all(),
                f"one_factor_varying({k}) changed another factor than {name}")
        first, second = dataset.pairs_sharing_factor(k, DRAWN, rng)
        require(np.array_equal(first[:, k], second[:, k]), f"pairs_sharing_factor({k}) pairs differ in {name}")
    return f"one factor varying and pairs sharing a factor, for each of the {dataset.num_factors} factors"


CLAUSES = (its_factor_sizes_are_consistent, index_and_factors_round_trip, its_images_are_uint8_of_its_shape,
           sampling_with_a_fixed_factor_works)
