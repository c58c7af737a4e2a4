"""Known answers of the metrics adopted after 2019 (MIG-sup, DCIMIG, JEMMIG, InfoMEC, Z-diff,
Z-min-var, Z-max-var, DCI-ES; docs/metrics.md): the ground truth of the 1,536-image dSprites subset near
each metric's top, noise near its floor, and small cases computed by hand."""
import numpy as np
import pytest

import metrics
from metrics.codes import Representation
from bench.errors import UserError
from metrics.dci_es import explicitness, parse_capacities
from metrics.dcimig import dcimig_value
from metrics.infomec import concentration
from metrics.information import entropy, histogram_discretize, joint_entropy, mutual_information
from metrics.jemmig import jemmig_value
from metrics.mig_sup import latent_gaps
from metrics.scaled_accuracy import above_chance

TEST_PARAMS = {
    "mig_sup": {"num_train": 1000},
    "dcimig": {"num_train": 1000},
    "jemmig": {"num_train": 1000},
    "infomec": {"num_train": 1000},
    "z_diff": {"num_train": 400, "num_eval": 200, "batch_size": 64, "max_iter": 1000},
    "z_min_var": {"num_train": 200, "num_eval": 200, "num_variance_estimate": 1000},
    "z_max_var": {"num_train": 200, "num_eval": 200, "num_variance_estimate": 1000},
    "dci_es": {"num_train": 1000, "num_test": 500, "capacities": "1,2,4,8,16", "num_trees": 10},
}


@pytest.fixture(scope="module")
def scores(small_dsprites):
    sizes = np.array(small_dsprites.factor_sizes) - 1.0
    noise = np.random.default_rng(1).normal(size=(len(small_dsprites), 5))

    def truth(idx):
        return small_dsprites.factors_of(idx) / sizes

    def mixed(idx):
        f = truth(idx)
        return np.stack([f[:, 0], f[:, 1], f[:, 2], f[:, 3] + f[:, 4], f[:, 3] - f[:, 4]], axis=1)

    representations = {"truth": truth, "random": lambda idx: noise[idx], "mixed": mixed,
                       "constant": lambda idx: np.zeros((len(idx), 5)),
                       "duplicated": lambda idx: np.concatenate([truth(idx), truth(idx)[:, 3:4]], axis=1),
                       "scaled": lambda idx: truth(idx)[:, [4, 2, 0, 3, 1]] * [3, 0.5, 10, 2, 0.7] + 1}
    return {name: metrics.evaluate(list(TEST_PARAMS), Representation(fn, small_dsprites, progress=False),
                                   small_dsprites, seed=0, params=TEST_PARAMS, progress=False)
            for name, fn in representations.items()}


def test_the_information_family_on_known_codes(scores):
    for name in ("mig_sup", "dcimig", "jemmig"):
        key = f"{name}.score"
        assert scores["truth"][key] >= 0.98, name                  # plug-in bias keeps it just below 1
        assert scores["scaled"][key] == pytest.approx(scores["truth"][key], abs=1e-12), name  # bins follow each latent
        assert scores["mixed"][key] < scores["truth"][key] - 0.1, name
    assert scores["random"]["mig_sup.score"] < 0.02 and scores["random"]["dcimig.score"] < 0.02
    assert scores["constant"]["mig_sup.score"] == 0 and scores["constant"]["dcimig.score"] == 0
    # A copy of posX is a latent with one factor (MIG-sup keeps 1) that adds nothing new to its
    # factor (DCIMIG keeps the best gap; MIG's gap for posX would be 0).
    assert scores["duplicated"]["mig_sup.score"] >= 0.98
    assert scores["duplicated"]["dcimig.score"] == pytest.approx(scores["truth"]["dcimig.score"], abs=1e-12)


def test_jemmig_floor_is_the_missing_bin_entropy(scores):
    """Noise: H(v, z*) ~ H(v) + H(z*) and I ~ 0, so the score is ~ mean (log B - H(z*)) / (H(v) + log B),
    small but above 0 (a Gaussian's equal-width bins are not uniform); a constant latent keeps
    all of log B: 1 - H(v) / (H(v) + log 10) on average."""
    assert 0.05 < scores["random"]["jemmig.score"] < 0.25
    h = np.log([3, 2, 4, 8, 8])
    assert scores["constant"]["jemmig.score"] == pytest.approx(np.mean(1 - h / (h + np.log(10))), abs=0.02)


def test_infomec_on_known_codes(scores):
    truth = scores["truth"]
    assert min(truth["infomec.infom"], truth["infomec.infoc"], truth["infomec.infoe"]) >= 0.97
    assert truth["infomec.num_active_dims"] == 5
    random = scores["random"]
    assert random["infomec.infoe"] < 0.05 and random["infomec.infom"] < 0.3 and random["infomec.infoc"] < 0.3
    constant = scores["constant"]
    assert constant["infomec.infom"] == constant["infomec.infoc"] == 0 and constant["infomec.num_active_dims"] == 0
    assert constant["infomec.infoe"] == pytest.approx(0, abs=1e-6)
    # Mixing posX and posY spreads two latents over two factors: InfoM and InfoC fall, InfoE stays.
    assert scores["mixed"]["infomec.infom"] < truth["infomec.infom"] - 0.1
    assert scores["mixed"]["infomec.infoe"] >= 0.95
    # A duplicate of posX: still one factor per latent (InfoM), two latents for posX (InfoC).
    assert scores["duplicated"]["infomec.infom"] >= 0.95
    assert scores["duplicated"]["infomec.infoc"] < truth["infomec.infoc"] - 0.05


def test_the_vote_metrics_on_known_codes(scores):
    for name in ("z_diff", "z_min_var", "z_max_var"):
        key = f"{name}.score"
        assert scores["truth"][key] == 1.0 and scores["scaled"][key] == 1.0, name
        assert abs(scores["random"][key]) < 0.15, name                          # chance is 0
        assert scores["mixed"][key] < 0.95, name
    assert scores["constant"]["z_min_var.score"] == scores["constant"]["z_max_var.score"] == 0


def test_dci_es_on_known_codes(scores):
    truth = scores["truth"]
    # Depth-3 trees split 8 classes exactly: the loss is 0 from a small capacity on, E near 1.
    assert truth["dci_es.explicitness"] >= 0.95 and truth["dci_es.informativeness"] == 1.0
    assert min(truth["dci_es.disentanglement"], truth["dci_es.completeness"]) >= 0.95
    assert truth["dci_es.size"] == 1.0 and scores["duplicated"]["dci_es.size"] == pytest.approx(5 / 6)
    # Nothing to predict from: every probe sits at the baseline loss, E = -1, and no importance.
    constant = scores["constant"]
    assert constant["dci_es.explicitness"] == pytest.approx(-1.0, abs=0.05)
    assert constant["dci_es.disentanglement"] == constant["dci_es.completeness"] == 0.0
    assert scores["random"]["dci_es.explicitness"] < -0.3 and scores["random"]["dci_es.disentanglement"] < 0.05
    # posX and posY as their sum and difference: each needs both latents and deeper trees.
    assert scores["mixed"]["dci_es.disentanglement"] < truth["dci_es.disentanglement"] - 0.1
    assert scores["mixed"]["dci_es.explicitness"] < truth["dci_es.explicitness"] - 0.02
    # A rescaled, permuted code: forests split on order only.
    assert scores["scaled"]["dci_es.explicitness"] == pytest.approx(truth["dci_es.explicitness"], abs=0.01)


def test_dci_es_explicitness_by_hand():
    # Loss 1 -> 0 -> 0 over capacities 1, 2, 3: area 1/2 under Z = 1/2 * 2 * 1: E = 1/2.
    assert explicitness([1, 2, 3], [1.0, 0.0, 0.0], baseline=1.0) == pytest.approx(0.5)
    # A loss falling linearly from the baseline to 0 is the normaliser itself: E = 0.
    assert explicitness([0, 1, 2], [1.0, 0.5, 0.0], baseline=1.0) == pytest.approx(0.0)
    # The curve keeps the lowest loss so far: 0.5, 0.8, 0 reads 0.5, 0.5, 0 -> area 0.75.
    assert explicitness([0, 1, 2], [0.5, 0.8, 0.0], baseline=1.0) == pytest.approx(0.25)
    # The authors' code measures the area above the curve's own lowest loss (here 0.4).
    assert explicitness([0, 1, 2], [1.0, 0.4, 0.4], baseline=1.0, floor=0.4) == pytest.approx(0.7)
    # A classifier's baseline is chance: 2/3 for 3 classes; flat at it, E = -1.
    assert explicitness([1, 4], [2 / 3, 2 / 3], baseline=2 / 3) == pytest.approx(-1.0)
    # One class: chance is certainty, nothing to predict (not 0 / 0).
    assert explicitness([1, 4], [0.0, 0.0], baseline=0.0) == 1.0


def test_dci_es_capacities_are_checked():
    assert parse_capacities("1,2,4") == [1, 2, 4]
    for bad in ("4,2", "1", "0,1", "a,b", "1,1"):
        with pytest.raises(UserError, match=f"not '{bad}'"):
            parse_capacities(bad)


def test_histogram_mutual_information_and_entropies_by_hand():
    """Two binary factors; latent 0 copies factor 0, latent 1 is their XOR-free sum (0, 1, 2)."""
    factors = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 25)
    codes = np.stack([factors[:, 0], factors.sum(axis=1)], axis=1).astype(float)
    binned = histogram_discretize(codes, 3)
    info = mutual_information(binned, factors)
    ln2 = np.log(2)
    # I(z0; v0) = H(v0) = ln 2; I(z0; v1) = 0; I(z1; v_k) = H(z1) - H(z1 | v_k) = 1.5 ln 2 - ln 2.
    assert info == pytest.approx(np.array([[ln2, 0.0], [0.5 * ln2, 0.5 * ln2]]))
    assert entropy(binned) == pytest.approx([ln2, 1.5 * ln2])
    # H(z0, v0) = ln 2; H(z0, v1) = 2 ln 2; H(z1, v_k) = 2 ln 2 (z1 and v_k fix the other factor).
    assert joint_entropy(binned, factors) == pytest.approx(np.array([[ln2, 2 * ln2], [2 * ln2, 2 * ln2]]))


def test_the_information_family_by_hand():
    ln2 = np.log(2)
    info = np.array([[ln2, 0.0], [0.5 * ln2, 0.5 * ln2]])                # the case above
    # MIG-sup: latent 0 gap (1 - 0), latent 1 gap (1/3 - 1/3) after dividing by H(z1) = 1.5 ln 2.
    assert latent_gaps(info, np.array([ln2, 1.5 * ln2])) == pytest.approx([1.0, 0.0])
    # DCIMIG: latent 0 credits ln 2 to factor 0, latent 1 credits 0 (a tie) to factor 0;
    # factor 1 gets nothing: ln 2 / (ln 2 + ln 2).
    assert dcimig_value(info, np.array([ln2, ln2])) == pytest.approx(0.5)
    # JEMMIG with 3 bins: factor 0, z* = z0: H(v0, z0) - I + I(v0; z1) = ln2 - ln2 + 0.5 ln2;
    # factor 1, z* = z1: 2 ln2 - 0.5 ln2 + 0; each over ln 2 + ln 3.
    joint = np.array([[ln2, 2 * ln2], [2 * ln2, 2 * ln2]])
    expected = 1 - np.mean([0.5 * ln2, 1.5 * ln2]) / (ln2 + np.log(3))
    assert jemmig_value(info, joint, np.array([ln2, ln2]), 3) == pytest.approx(expected)


def test_infomec_concentration_by_hand():
    # Two factors (rows) by three latents: latent 0 only factor 0, latent 1 split evenly, latent 2 silent.
    nmi = np.array([[0.8, 0.3, 0.0], [0.0, 0.3, 0.0]])
    # InfoM: shares 1, 1/2 and (silent) 1/2 -> mean 2/3 -> (2/3 - 1/2) / (1/2) = 1/3.
    assert concentration(nmi) == pytest.approx(1 / 3)
    # InfoC over 3 latents: factor 0 share 0.8/1.1, factor 1 share 1 -> ((0.8/1.1 + 1)/2 - 1/3) / (2/3).
    assert concentration(nmi.T) == pytest.approx(((0.8 / 1.1 + 1) / 2 - 1 / 3) / (2 / 3))


def test_accuracy_rescaled_above_chance():
    assert above_chance(0.2, 5) == 0 and above_chance(1.0, 5) == 1 and above_chance(0.6, 5) == pytest.approx(0.5)
