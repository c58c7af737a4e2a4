"""Baselines of the paper's table: ground truth, raw pixels, PCA, ICA, the untrained encoder."""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import methods
import metrics
from metrics.codes import Representation


@pytest.fixture(autouse=True)
def one_blas_thread():
    """The metric's logistic regression on 4,096 raw-pixel features takes ~1.5 s with one BLAS
    thread and ~40 s with two on a busy 2-core machine (OpenBLAS threads spin while they wait)."""
    with threadpool_limits(1):
        yield


def make(name, small_dsprites, cpu_fp32, seed=0, **params):
    return methods.create(name, params, small_dsprites.image_shape, cpu_fp32, seed)


def fitted(name, small_dsprites, cpu_fp32, seed=0, **params):
    method = make(name, small_dsprites, cpu_fp32, seed, **params)
    assert not method.trainable
    method.fit(small_dsprites, np.random.default_rng([seed, 2]))
    return method


def beta_vae_accuracy(method, dataset):
    codes = Representation.from_method(method, dataset, progress=False)
    return metrics.evaluate("beta_vae", codes, dataset, seed=0, quick=True)["beta_vae.eval_accuracy"]


def test_ground_truth_codes_are_the_factors_scaled_to_unit_range(small_dsprites, cpu_fp32):
    method = fitted("ground_truth", small_dsprites, cpu_fp32)
    indices = np.arange(len(small_dsprites))
    codes = method.codes_of(indices, small_dsprites)
    assert codes.shape == (len(small_dsprites), 5) and codes.dtype == np.float32
    assert np.allclose(codes.min(axis=0), 0.0) and np.allclose(codes.max(axis=0), 1.0)
    classes = small_dsprites.factors_of(indices)
    # every small-dSprites factor takes evenly spaced values, so the code is class / (classes - 1)
    assert np.allclose(codes, classes / (np.array(small_dsprites.factor_sizes) - 1), atol=1e-6)


def test_ground_truth_scores_perfectly_and_raw_pixels_do_not(small_dsprites, cpu_fp32):
    assert beta_vae_accuracy(fitted("ground_truth", small_dsprites, cpu_fp32), small_dsprites) >= 0.99
    raw = fitted("raw_pixels", small_dsprites, cpu_fp32)
    assert raw.codes_of(np.arange(3), small_dsprites).shape == (3, 64 * 64)
    assert beta_vae_accuracy(raw, small_dsprites) < 0.9


@pytest.mark.parametrize("kind", ["constant", "random"])
def test_codes_without_information_score_near_chance(small_dsprites, kind):
    rng = np.random.default_rng(1)
    def representation(images):
        if kind == "constant":
            return np.ones((len(images), 10), np.float32)
        return rng.normal(size=(len(images), 10)).astype(np.float32)
    accuracy = metrics.evaluate("beta_vae", representation, small_dsprites, quick=True, progress=False)
    assert accuracy["beta_vae.eval_accuracy"] < 0.35            # chance is 1 / 5 factors


@pytest.mark.parametrize("name", ["pca", "ica"])
def test_projections_give_ten_codes_that_survive_state_dict(name, small_dsprites, cpu_fp32):
    method = fitted(name, small_dsprites, cpu_fp32, sample_size=1000)
    indices = np.arange(0, len(small_dsprites), 7)
    codes = method.codes_of(indices, small_dsprites)
    assert codes.shape == (len(indices), 10)
    assert np.all(codes.std(axis=0) > 1e-3)                     # ten informative directions
    reloaded = make(name, small_dsprites, cpu_fp32, sample_size=1000)
    reloaded.load_state_dict(method.state_dict())
    assert np.array_equal(reloaded.codes_of(indices, small_dsprites), codes)
    refitted = fitted(name, small_dsprites, cpu_fp32, sample_size=1000)
    assert np.allclose(refitted.codes_of(indices, small_dsprites), codes, atol=1e-5)


def test_pca_codes_are_uncorrelated_and_ica_codes_are_white(small_dsprites, cpu_fp32):
    indices = np.arange(len(small_dsprites))
    pca = fitted("pca", small_dsprites, cpu_fp32).codes_of(indices, small_dsprites)
    covariance = np.cov(pca, rowvar=False)
    assert np.allclose(covariance - np.diag(np.diag(covariance)), 0, atol=1e-3 * covariance.max())
    assert np.diag(covariance)[0] > np.diag(covariance)[-1]
    ica = fitted("ica", small_dsprites, cpu_fp32).codes_of(indices, small_dsprites)
    assert np.allclose(np.cov(ica, rowvar=False), np.eye(10), atol=0.05)


def test_untrained_is_the_beta_vae_initial_encoder_and_deterministic_per_seed(small_dsprites, cpu_fp32):
    indices = np.arange(0, len(small_dsprites), 11)
    codes = fitted("untrained", small_dsprites, cpu_fp32, seed=5).codes_of(indices, small_dsprites)
    assert codes.shape == (len(indices), 10)
    assert np.array_equal(fitted("untrained", small_dsprites, cpu_fp32, seed=5).codes_of(indices, small_dsprites), codes)
    other_seed = fitted("untrained", small_dsprites, cpu_fp32, seed=6).codes_of(indices, small_dsprites)
    assert not np.allclose(other_seed, codes)
    beta_vae = make("beta_vae", small_dsprites, cpu_fp32, seed=5)
    assert np.array_equal(beta_vae.codes_of(indices, small_dsprites), codes)
