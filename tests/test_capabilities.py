"""Datasets and methods declare what they offer beyond their contract on the base class
(bench/data/base.py, methods/base.py), and each flag says exactly what the class implements."""
import numpy as np
import pytest
import torch

import methods
from bench.data import dsprites_variants, folder, mpi3d, shapes3d
from methods.base import Method


@pytest.mark.parametrize("name", list(methods.METHODS))
def test_each_method_sets_the_flag_of_each_optional_method_it_implements(name):
    cls = methods.METHODS[name]
    assert cls.can_decode == (cls.decode is not Method.decode)
    assert cls.can_sample == (cls.sample is not Method.sample)
    assert cls.has_posterior == (cls.posterior is not Method.posterior)


def test_the_generators_declare_decoding_sampling_and_their_traversal_range():
    declared = {name: (cls.can_decode, cls.can_sample, cls.has_posterior, cls.traversal_range)
                for name, cls in methods.METHODS.items()}
    assert declared["beta_vae"] == declared["dcign"] == declared["factor_vae"] == (True, False, True, 3.0)
    assert declared["infogan"] == (True, True, False, 1.0)             # codes are Uniform(-1, 1)
    assert declared["pca"] == declared["untrained"] == declared["ground_truth"] == (False, False, False, 3.0)


def test_a_method_asked_for_what_it_does_not_offer_says_which_flag_is_off(small_dsprites, cpu_fp32):
    pca = methods.create("pca", {}, small_dsprites.image_shape, cpu_fp32, 0)
    with pytest.raises(NotImplementedError, match=r"PCAProjection has no decoder \(can_decode is False\)"):
        pca.decode(torch.zeros(1, 10))


def test_only_the_bit_packed_dataset_declares_packed(small_dsprites):
    assert small_dsprites.packed.shape == (len(small_dsprites), 64, 8) and small_dsprites.packed.dtype == np.uint8
    for cls in (dsprites_variants.ColorDSprites, dsprites_variants.NoisyDSprites, shapes3d.Shapes3D, mpi3d.MPI3D,
                folder.ImageFolder):
        assert cls.packed is None, cls.__name__
