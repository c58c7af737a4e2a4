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
    "irs": {"num_train": 1000},
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


def test_dci_informativeness(scores):
    """DCI's third score, as disentanglement_lib reports it: the mean accuracy of the per-factor
    boosted trees on their training and held-out images."""
    truth = scores["truth"]
    assert truth["dci.informativeness_train"] >= 0.99 and truth["dci.informativeness_test"] >= 0.95
    # A constant code predicts each factor's most frequent class: about 1/size, averaged.
    chance = np.mean(1 / np.array([3, 2, 4, 8, 8]))
    assert abs(scores["constant"]["dci.informativeness_test"] - chance) < 0.1
    assert scores["random"]["dci.informativeness_test"] < chance + 0.2
    assert scores["random"]["dci.informativeness_train"] > scores["random"]["dci.informativeness_test"]  # overfit
    # Trees read posX and posY back from their sum and difference: mixing keeps the information.
    assert scores["mixed"]["dci.informativeness_test"] >= 0.9
    assert scores["duplicated"]["dci.informativeness_test"] >= 0.95


def test_sap(scores):
    """The default is disentanglement_lib's SAP: raw codes, C = 0.01 in the code's units."""
    truth = scores["truth"]["sap.score"]
    # A 1-D linear classifier cannot pick out the middle positions of 8, so even the ground
    # truth stays far below 1 (disentanglement_lib's discrete SAP).
    assert 0.2 <= truth <= 0.5
    assert scores["constant"]["sap.score"] == 0
    assert scores["random"]["sap.score"] < 0.05
    assert scores["duplicated"]["sap.score"] < truth - 0.01
    assert scores["mixed"]["sap.score"] < truth - 0.02
    assert scores["permuted"]["sap.score"] == pytest.approx(truth, abs=1e-9)
    assert scores["scaled"]["sap.score"] != pytest.approx(truth, abs=1e-3)     # units matter


def test_sap_by_default_depends_on_scale(small_dsprites):
    """disentanglement_lib's SAP (the default, standardize=False): a perfectly informative code
    with a small spread predicts near chance under C = 0.01."""
    sizes = np.array(small_dsprites.factor_sizes) - 1.0
    values = {}
    for scale in (1.0, 0.01):
        codes = Representation(lambda idx: small_dsprites.factors_of(idx) / sizes * scale, small_dsprites)
        values[scale] = metrics.score("sap", codes, small_dsprites, 0, **TEST_PARAMS["sap"])["sap.score"]
    assert values[0.01] < values[1.0] - 0.1


def test_sap_standardized_option_is_scale_free(small_dsprites):
    """sap.standardize = true, the documented departure: each latent standardised first."""
    values = {}
    for name, codes_of in representations(small_dsprites).items():
        if name in ("truth", "permuted", "scaled", "mixed", "constant"):
            codes = Representation(codes_of, small_dsprites, progress=False)
            values[name] = metrics.score("sap", codes, small_dsprites, 0, standardize=True,
                                         **TEST_PARAMS["sap"])["sap.score"]
    assert 0.25 <= values["truth"] <= 0.5
    assert values["constant"] == 0 and values["mixed"] < values["truth"] - 0.02
    for variant in ("permuted", "scaled"):
        assert values[variant] == pytest.approx(values["truth"], abs=1e-9)


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


def test_irs(scores):
    """IRS (Suter et al. 2019) as disentanglement_lib: robustness of each latent to the factors it
    does not encode, weighted by the latent's spread."""
    truth = scores["truth"]
    assert truth["irs.score"] >= 0.99 and truth["irs.num_active_dims"] == 5
    assert scores["constant"]["irs.score"] == 0 and scores["constant"]["irs.num_active_dims"] == 0
    # Noise is not robust to any factor, yet it does not score 0: its 99% quantile of |z - mean|
    # within a factor's value is a fixed fraction of its largest deviation (~0.3 at 1,000 images).
    assert 0.15 < scores["random"]["irs.score"] < 0.45
    # posX + posY and posX - posY move when either position moves: those two latents score ~0.5.
    assert 0.5 < scores["mixed"]["irs.score"] < truth["irs.score"] - 0.15
    # A duplicate is as robust as the original: IRS does not ask for one latent per factor.
    assert scores["duplicated"]["irs.score"] >= 0.99 and scores["duplicated"]["irs.num_active_dims"] == 6
    for variant in ("permuted", "scaled"):
        assert scores[variant]["irs.score"] == pytest.approx(truth["irs.score"], abs=1e-9)


def test_irs_bins_join_classes_like_disentanglement_lib(small_dsprites):
    """Conditioning on 4 bins of posX's and posY's 8 classes (disentanglement_lib's histogram
    discretiser) leaves some spread inside each bin; num_bins = 0 conditions on the classes."""
    sizes = np.array(small_dsprites.factor_sizes) - 1.0
    codes = Representation(lambda idx: small_dsprites.factors_of(idx) / sizes, small_dsprites)
    value = lambda bins: metrics.score("irs", codes, small_dsprites, 0, num_train=1000, num_bins=bins)["irs.score"]
    assert value(0) == pytest.approx(1.0) == value(20)           # 20 bins keep every class apart here
    assert 0.8 < value(4) < 0.99


def test_irs_matrix_by_hand():
    """Two binary factors, one latent copying factor 0 and one summing both."""
    factors = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 25)
    codes = np.stack([factors[:, 0], factors[:, 0] + factors[:, 1]], axis=1).astype(float)
    from metrics.irs import irs_matrix, irs_score
    matrix = irs_matrix(codes, factors, 1.0)
    # Latent 0 given factor 0: no spread (1); given factor 1: |z - 0.5| = 0.5 = its largest deviation (0).
    assert matrix[0] == pytest.approx([1.0, 0.0])
    # Latent 1 (values 0, 1, 2; largest deviation 1): given either factor it spreads by 0.5.
    assert matrix[1] == pytest.approx([0.5, 0.5])
    value, active = irs_score(codes, factors, 1.0)
    assert active == 2 and value == pytest.approx((0.5 * 1.0 + 1.0 * 0.5) / 1.5)
