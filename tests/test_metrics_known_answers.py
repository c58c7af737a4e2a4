"""Every metric gives known answers on known representations of the 1,536-image dSprites subset.

Representations are functions of the factor classes: the ground truth (normalised), constant
codes, Gaussian noise, the ground truth with the posX latent duplicated, with posX and posY
mixed by a rotation into two latents (each latent carries both factors), with its latents
permuted, and with each latent rescaled and shifted.
"""
import numpy as np
import pytest

import metrics
from metrics.codes import Representation

# Smaller than QUICK, so the whole file runs in seconds on one core.
TEST_PARAMS = {
    "factor_vae": {"num_variance_estimate": 1000, "num_train": 200, "num_eval": 100},
    "mig": {"num_train": 1000},
    "dci": {"num_train": 500, "num_test": 250, "n_estimators": 20},
    "sap": {"num_train": 500, "num_test": 250},
    "modularity": {"num_train": 1000, "num_test": 500},
}
PERMUTATION = [4, 2, 0, 3, 1]
SCALE = np.array([3.0, 0.5, 10.0, 2.0, 0.7])
SHIFT = np.array([1.0, -2.0, 0.5, 7.0, 0.0])


def representations(dataset):
    sizes = np.array(dataset.factor_sizes) - 1.0
    truth = lambda idx: dataset.factors_of(idx) / sizes
    noise = np.random.default_rng(1).normal(size=(len(dataset), 5))

    def mixed(idx):
        f = truth(idx)
        return np.stack([f[:, 0], f[:, 1], f[:, 2], f[:, 3] + f[:, 4], f[:, 3] - f[:, 4]], axis=1)

    return {
        "truth": truth,
        "constant": lambda idx: np.zeros((len(idx), 5)),
        "random": lambda idx: noise[idx],
        "duplicated": lambda idx: np.concatenate([truth(idx), truth(idx)[:, 3:4]], axis=1),
        "mixed": mixed,
        "permuted": lambda idx: truth(idx)[:, PERMUTATION],
        "scaled": lambda idx: truth(idx) * SCALE + SHIFT,
    }


@pytest.fixture(scope="module")
def scores(small_dsprites):
    """scores[representation][metric key], every metric at TEST_PARAMS, seed 0."""
    result = {}
    for name, codes_of in representations(small_dsprites).items():
        codes = Representation(codes_of, small_dsprites, progress=False)
        result[name] = metrics.evaluate(list(TEST_PARAMS), codes, small_dsprites, seed=0,
                                        params=TEST_PARAMS, progress=False)
    return result


def test_factor_vae(scores):
    assert scores["truth"]["factor_vae.eval_accuracy"] >= 0.99
    assert scores["truth"]["factor_vae.num_active_dims"] == 5
    assert scores["constant"]["factor_vae.eval_accuracy"] == 0
    assert scores["constant"]["factor_vae.num_active_dims"] == 0
    assert scores["random"]["factor_vae.eval_accuracy"] < 0.45          # chance is 0.2
    assert scores["mixed"]["factor_vae.eval_accuracy"] < 0.95      # votes of posX and posY collide
    # The majority vote does not see a duplicated latent (one of two tied copies always wins).
    assert scores["duplicated"]["factor_vae.eval_accuracy"] >= 0.99
    assert scores["duplicated"]["factor_vae.num_active_dims"] == 6
    for variant in ("permuted", "scaled"):
        assert scores[variant]["factor_vae.eval_accuracy"] == scores["truth"]["factor_vae.eval_accuracy"]


def test_factor_vae_prunes_latents_below_the_threshold(small_dsprites):
    sizes = np.array(small_dsprites.factor_sizes) - 1.0
    tiny = Representation(lambda idx: small_dsprites.factors_of(idx) / sizes * 0.01, small_dsprites)
    values = metrics.score("factor_vae", tiny, small_dsprites, 0, **TEST_PARAMS["factor_vae"])
    assert values == {"factor_vae.train_accuracy": 0.0, "factor_vae.eval_accuracy": 0.0,
                      "factor_vae.num_active_dims": 0.0}


def test_mig(scores):
    assert scores["truth"]["mig.score"] >= 0.95
    assert scores["constant"]["mig.score"] == 0
    assert scores["random"]["mig.score"] < 0.05
    assert scores["duplicated"]["mig.score"] < scores["truth"]["mig.score"] - 0.15   # posX's gap is 0
    assert scores["mixed"]["mig.score"] < scores["truth"]["mig.score"] - 0.15
    for variant in ("permuted", "scaled"):
        assert scores[variant]["mig.score"] == pytest.approx(scores["truth"]["mig.score"], abs=1e-9)


def test_dci(scores):
    truth = scores["truth"]
    assert truth["dci.disentanglement"] >= 0.95 and truth["dci.completeness"] >= 0.95
    assert truth["dci.informativeness_test"] >= 0.95
    assert scores["constant"]["dci.disentanglement"] == pytest.approx(0, abs=1e-6)
    assert scores["constant"]["dci.completeness"] == pytest.approx(0, abs=1e-6)
    assert scores["constant"]["dci.informativeness_test"] < 0.4
    assert scores["random"]["dci.disentanglement"] < 0.1
    assert scores["random"]["dci.informativeness_test"] < 0.6
    # Mixing lowers disentanglement; a duplicate is still specific to one factor, so it lowers
    # completeness (two latents share posX) but not disentanglement.
    assert scores["mixed"]["dci.disentanglement"] < truth["dci.disentanglement"] - 0.1
    assert scores["duplicated"]["dci.disentanglement"] >= 0.95
    assert scores["duplicated"]["dci.completeness"] < truth["dci.completeness"] - 0.05
    for variant in ("permuted", "scaled"):
        for key in ("disentanglement", "completeness", "informativeness_test"):
            assert scores[variant][f"dci.{key}"] == pytest.approx(truth[f"dci.{key}"], abs=0.01)


def test_sap(scores):
    truth = scores["truth"]["sap.score"]
    # A 1-D linear classifier cannot pick out the middle positions of 8, so even the ground
    # truth stays far below 1 (disentanglement_lib's discrete SAP).
    assert 0.25 <= truth <= 0.5
    assert scores["constant"]["sap.score"] == 0
    assert scores["random"]["sap.score"] < 0.05
    assert scores["duplicated"]["sap.score"] < truth - 0.01
    assert scores["mixed"]["sap.score"] < truth - 0.02
    for variant in ("permuted", "scaled"):
        assert scores[variant]["sap.score"] == pytest.approx(truth, abs=1e-9)


def test_sap_without_standardising_depends_on_scale(small_dsprites):
    """disentanglement_lib's SAP (standardize=False): C = 0.01 in the code's units."""
    sizes = np.array(small_dsprites.factor_sizes) - 1.0
    values = {}
    for scale in (1.0, 0.01):
        codes = Representation(lambda idx: small_dsprites.factors_of(idx) / sizes * scale, small_dsprites)
        values[scale] = metrics.score("sap", codes, small_dsprites, 0, standardize=False,
                                      **TEST_PARAMS["sap"])["sap.score"]
    assert values[0.01] < values[1.0] - 0.1


def test_modularity_and_explicitness(scores):
    truth = scores["truth"]
    assert truth["modularity.modularity"] >= 0.95
    assert truth["modularity.explicitness"] >= 0.95
    assert scores["constant"]["modularity.modularity"] == 0
    assert scores["constant"]["modularity.explicitness"] == pytest.approx(0.5)
    assert scores["random"]["modularity.explicitness"] < 0.6
    assert scores["mixed"]["modularity.modularity"] < truth["modularity.modularity"] - 0.05
    # A duplicate informs about one factor only: modularity does not penalise it (as
    # disentanglement_lib's own test_duplicated_latent_space).
    assert scores["duplicated"]["modularity.modularity"] >= 0.95
    for variant in ("permuted", "scaled"):
        for key in ("modularity", "explicitness"):
            assert scores[variant][f"modularity.{key}"] == pytest.approx(truth[f"modularity.{key}"], abs=1e-3)


def test_random_codes_are_not_modular_by_accident_of_sign(scores):
    """Noise has small MI with every factor; modularity of noise sits well below the truth's."""
    assert scores["random"]["modularity.modularity"] < scores["truth"]["modularity.modularity"] - 0.2
