"""The metric suite as a whole (encode once, same seed same numbers, "all"), the paper's protocol
of the beta_vae metric, and the formulas behind the scores on hand-made inputs."""
import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

import metrics
from bench.errors import UserError
from metrics import beta_vae, dci, mig, modularity
from metrics.codes import Representation
from metrics.information import entropy, histogram_discretize, mutual_information

SUITE_PARAMS = {
    "beta_vae": {"num_train": 200, "num_eval": 100},
    "factor_vae": {"num_variance_estimate": 500, "num_train": 100, "num_eval": 50},
    "mig": {"num_train": 500},
    "dci": {"num_train": 300, "num_test": 150, "n_estimators": 10},
    "sap": {"num_train": 300, "num_test": 150},
    "modularity": {"num_train": 300, "num_test": 150},
    "irs": {"num_train": 300},
    "mig_sup": {"num_train": 500},
    "dcimig": {"num_train": 500},
    "jemmig": {"num_train": 500},
    "infomec": {"num_train": 300},
    "z_diff": {"num_train": 100, "num_eval": 50, "batch_size": 16, "max_iter": 200},
    "z_min_var": {"num_train": 100, "num_eval": 50, "num_variance_estimate": 500, "batch_size": 32},
    "z_max_var": {"num_train": 100, "num_eval": 50, "num_variance_estimate": 500, "batch_size": 32},
    "dci_es": {"num_train": 300, "num_test": 150, "capacities": "1,2,4", "num_trees": 5},
    "udr": {"num_data_points": 200},
}


def test_all_names_every_metric_of_the_issue():
    assert metrics.parse_metric_names("all") == ["beta_vae", "factor_vae", "mig", "dci", "sap", "modularity",
                                                 "irs", "mig_sup", "dcimig", "jemmig", "infomec", "z_diff",
                                                 "z_min_var", "z_max_var", "dci_es", "udr"]
    assert metrics.single_model_names(metrics.METRICS) == metrics.parse_metric_names("all")[:-1]


def test_suite_encodes_each_image_once_and_repeats_exactly(small_dsprites):
    calls = []
    projection = np.random.default_rng(2).normal(size=(5, 7))

    def codes_of(indices):
        calls.append(np.asarray(indices).copy())
        return small_dsprites.factors_of(indices) @ projection

    codes = Representation(codes_of, small_dsprites, progress=False)
    names = metrics.single_model_names(metrics.parse_metric_names("all"))     # UDR: a set of models
    params = {name: SUITE_PARAMS[name] for name in names}
    first = metrics.evaluate(names, codes, small_dsprites, seed=5, params=params, progress=False)
    encoded = np.concatenate(calls)
    assert len(encoded) == len(np.unique(encoded)) == codes.encoded <= len(small_dsprites)
    assert {key.split(".")[0] for key in first} == set(names)
    assert all(np.isfinite(value) for value in first.values())
    again = metrics.evaluate(names, codes, small_dsprites, seed=5, params=params, progress=False)
    assert metrics.evaluate("all", codes, small_dsprites, seed=5, params=params, progress=False) == first
    assert again == first and codes.encoded == len(encoded)              # nothing encoded twice
    fresh = Representation(codes_of, small_dsprites, progress=False)
    assert metrics.evaluate(names, fresh, small_dsprites, seed=5, params=params, progress=False) == first
    other_seed = metrics.evaluate(["mig"], codes, small_dsprites, seed=6, params=SUITE_PARAMS, progress=False)
    assert other_seed["mig.score"] != first["mig.score"]


def test_evaluate_takes_a_function_of_images(small_dsprites):
    projection = np.random.default_rng(1).normal(size=(64 * 64, 4))
    fn = lambda images: images.reshape(len(images), -1) @ projection
    scores = metrics.evaluate(["mig", "sap"], fn, small_dsprites, seed=0, params=SUITE_PARAMS, progress=False)
    assert set(scores) == {"mig.score", "sap.score"}
    assert 0 <= scores["mig.score"] <= 1 and 0 <= scores["sap.score"] <= 1


# --- the beta_vae metric's two protocols ------------------------------------------------------

def truth(dataset):
    return Representation(lambda idx: dataset.factors_of(idx) / (np.array(dataset.factor_sizes) - 1.0),
                          dataset, progress=False)


def test_higgins2017_protocol(small_dsprites):
    params = {"protocol": "higgins2017", "num_train": 300, "num_eval": 150, "classifier_steps": 2000,
              "classifier_seeds": 3}
    scores = metrics.score("beta_vae", truth(small_dsprites), small_dsprites, 0, **params)
    assert set(scores) == {"beta_vae.train_accuracy", "beta_vae.eval_accuracy", "beta_vae.eval_accuracy_std"}
    assert scores["beta_vae.eval_accuracy"] >= 0.99
    constant = Representation(lambda idx: np.zeros((len(idx), 5)), small_dsprites)
    chance = metrics.score("beta_vae", constant, small_dsprites, 0, **params)["beta_vae.eval_accuracy"]
    assert abs(chance - 1 / 4) < 0.1                                    # four factors: shape is left out
    assert metrics.score("beta_vae", truth(small_dsprites), small_dsprites, 0, **params) == scores


def test_protocols_choose_their_factors(small_dsprites):
    subset = lambda protocol, factors="protocol": list(
        beta_vae.factor_subset(small_dsprites, beta_vae.protocol_factors(protocol, factors)))
    assert subset("disentanglement_lib") == [0, 1, 2, 3, 4]
    assert subset("higgins2017") == [1, 2, 3, 4]
    assert subset("higgins2017", "all") == [0, 1, 2, 3, 4]
    assert subset("disentanglement_lib", "posY,scale") == [4, 1]
    with pytest.raises(UserError, match="unknown value for beta_vae.protocol 'paper'"):
        metrics.score("beta_vae", truth(small_dsprites), small_dsprites, 0, protocol="paper")


def test_default_protocol_keeps_its_keys_and_is_stored_with_the_scores(small_dsprites):
    scores = metrics.score("beta_vae", truth(small_dsprites), small_dsprites, 0, quick=True)
    assert set(scores) == {"beta_vae.train_accuracy", "beta_vae.eval_accuracy"}
    assert metrics.settings("beta_vae", quick=True)["protocol"] == "disentanglement_lib"
    assert metrics.settings("beta_vae", quick=True)["num_train"] == 400


# --- formulas on hand-made inputs ------------------------------------------------------------

def test_mutual_information_equals_sklearn():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, [3, 7], size=(500, 2))
    binned = np.stack([factors[:, 0] * 2 + rng.integers(0, 2, 500), rng.integers(0, 20, 500)], axis=1)
    info = mutual_information(binned, factors)
    for i in range(2):
        for k in range(2):
            assert info[i, k] == pytest.approx(mutual_info_score(factors[:, k], binned[:, i]), abs=1e-12)
    assert entropy(factors) == pytest.approx([mutual_info_score(f, f) for f in factors.T], abs=1e-12)


def test_one_bin_carries_no_information_not_rounding_noise():
    """Probabilities that do not sum to exactly 1 once left ~2e-16 of 'information' (modularity 1)."""
    for n in range(100, 200):
        factors = np.random.default_rng(n).integers(0, [3, 32], size=(n, 2))
        info = mutual_information(np.zeros((n, 4), dtype=np.int64), factors)
        assert np.all(info == 0) and modularity.modularity(info) == 0


def test_histogram_discretize_is_equal_width_between_min_and_max():
    codes = np.array([[0.0, 5.0], [1.0, 5.0], [0.5, 5.0], [0.96, 5.0], [0.04, 5.0]])
    binned = histogram_discretize(codes, 20)
    assert list(binned[:, 0]) == [0, 19, 10, 19, 0]                      # the maximum joins the last bin
    assert list(binned[:, 1]) == [10] * 5                                # constant: numpy's +-0.5 range
    for column in range(2):                                             # numpy's histogram + digitize
        edges = np.histogram(codes[:, column], 20)[1]
        assert list(binned[:, column]) == list(np.digitize(codes[:, column], edges[:-1]) - 1)


def test_mig_gap():
    info = np.array([[1.0, 0.0], [0.25, 0.5], [0.0, 0.5]])
    assert list(mig.gap_scores(info, np.array([2.0, 1.0]))) == [0.375, 0.0]
    assert list(mig.gap_scores(np.array([[0.5, 0.2]]), np.array([1.0, 0.4]))) == [0.5, 0.5]


def test_dci_formulas():
    diagonal = np.eye(4)
    assert dci.weighted_specificity(diagonal) == pytest.approx(1.0)
    assert dci.weighted_specificity(diagonal.T) == pytest.approx(1.0)
    assert dci.weighted_specificity(np.zeros((4, 3))) == pytest.approx(0.0, abs=1e-6)
    spread = np.full((3, 3), 1 / 3)                                      # every latent for every factor
    assert dci.weighted_specificity(spread) == pytest.approx(0.0, abs=1e-6)
    duplicated = np.vstack([np.eye(2), [[1.0, 0.0]]]) / np.array([2.0, 1.0])   # columns sum to 1
    assert dci.weighted_specificity(duplicated) == pytest.approx(1.0)           # disentanglement
    completeness = dci.weighted_specificity(duplicated.T)
    assert completeness == pytest.approx(0.5 * (1 - np.log(2) / np.log(3)) + 0.5)


def test_modularity_formula():
    diagonal = np.diag(np.full(5, 5.0))
    assert modularity.modularity(diagonal) == pytest.approx(1.0)
    assert modularity.modularity(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])) == pytest.approx(2 / 3)
    assert modularity.modularity(np.vstack([diagonal, diagonal])) == pytest.approx(1.0)
    assert modularity.modularity(np.hstack([diagonal, diagonal])) == pytest.approx(1 - 1 / 9)
    assert modularity.modularity(np.zeros((3, 3))) == 0.0


def test_wide_codes_are_looked_up_in_chunks_with_the_same_numbers(small_dsprites, monkeypatch):
    """Raw pixels (4,096 values per image) would need gigabytes per vote set at default sizes."""
    pixels = lambda idx: small_dsprites.images(idx).reshape(len(idx), -1).astype(np.float32)
    params = {"beta_vae": {"num_train": 40, "num_eval": 20},
              "factor_vae": {"num_variance_estimate": 300, "num_train": 40, "num_eval": 20}}
    whole = metrics.evaluate(list(params), Representation(pixels, small_dsprites, progress=False),
                             small_dsprites, seed=0, params=params, progress=False)
    monkeypatch.setattr("metrics.samples.LOOKUP_BYTES", 8 * 4096 * 128 * 3)   # 3 votes per look-up
    calls = []
    counted = lambda idx: calls.append(len(idx)) or pixels(idx)
    chunked = metrics.evaluate(list(params), Representation(counted, small_dsprites, progress=False),
                               small_dsprites, seed=0, params=params, progress=False)
    assert chunked == whole and len(calls) > 10
