"""A bad metric setting ends `bench run` in one line before any training (bench/settings.py's rules,
then the metric's own `check`); metrics.evaluate checks the settings before it encodes anything, and
refuses a representation's output that is misshapen or not finite instead of reshaping it."""
import warnings

import numpy as np
import pytest

import metrics
from bench.errors import UserError


@pytest.mark.parametrize("table,message", [
    ('[metric_params.beta_vae]\nprotocol = "higgins"\n',
     "sweep.toml: unknown value for beta_vae.protocol 'higgins'; valid: disentanglement_lib, higgins2017"),
    ('[metric_params.beta_vae]\npreprocessing = "whiten"\n',
     "unknown value for beta_vae.preprocessing 'whiten'; valid: none, standardize"),
    ('[metric_params.beta_vae]\nnum_train = 0\n', "beta_vae.num_train must be a positive integer, not 0"),
    ('metrics = ["irs"]\n[metric_params.irs]\nnum_bins = -1\n', "irs.num_bins must be a non-negative integer, not -1"),
    ('metrics = ["sap"]\n[metric_params.sap]\nC = -1.0\n',
     "sap C (the classifiers' inverse regularisation) must be above 0, not -1.0"),
    ('metrics = ["sap"]\n[metric_params.sap]\nC = inf\n', "sap.C takes a finite number, not inf"),
    ('[metric_params.beta_vae]\nfactors = "colour"\n',
     "unknown factor of dsprites_small 'colour'; valid: orientation, posX, posY, scale, shape"),
])
def test_a_metric_setting_is_checked_before_training(quick_run, tmp_path, refused, table, message):
    path = tmp_path / "sweep.toml"
    path.write_text(table)
    out = tmp_path / "out"
    refused([*quick_run, "--methods", "vae", "--config", str(path), "--out", str(out)], message, untouched=[out])


def test_evaluate_checks_metric_settings_before_encoding(small_dsprites):
    calls = []
    with pytest.raises(UserError, match="unknown value for beta_vae.protocol 'higgins'"):
        metrics.evaluate(["beta_vae"], lambda images: calls.append(1), small_dsprites,
                         params={"beta_vae": {"protocol": "higgins"}}, progress=False)
    assert not calls


def flat_pairs(images):
    return np.zeros(2 * len(images))                      # (2N,): once read as N rows of 2


@pytest.mark.parametrize("representation,message", [
    (flat_pairs, r"returned shape \((\d+),\) for (\d+) images; expected \(\2, D\)"),
    (lambda images: np.zeros(len(images)), r"returned shape \((\d+),\) for \1 images; expected \(\1, D\)"),
    (lambda images: np.zeros((len(images) - 1, 3)), r"returned shape \(\d+, 3\) for \d+ images"),
    (lambda images: np.zeros((len(images), 2, 2)), r"returned shape \((\d+), 2, 2\) for \1 images"),
    (lambda images: np.full((len(images), 3), np.nan), r"returned nan \(image 0 of \d+, dimension 0\); codes must be finite"),
    (lambda images: np.where(np.arange(3) == 2, np.inf, images.reshape(len(images), -1)[:, :3]),
     r"returned inf \(image 0 of \d+, dimension 2\)"),
])
def test_evaluate_refuses_a_misshapen_or_non_finite_representation(small_dsprites, representation, message):
    with pytest.raises(UserError, match=message):
        metrics.evaluate(["mig"], representation, small_dsprites, quick=True, progress=False)


def test_evaluate_warns_on_a_constant_code(small_dsprites):
    with pytest.warns(UserWarning, match="gave every one of the .* images it encoded the same code"):
        scores = metrics.evaluate(["mig"], lambda images: np.ones((len(images), 4)), small_dsprites,
                                  quick=True, progress=False)
    assert scores["mig.score"] == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # a code that varies: no warning
        metrics.evaluate(["mig"], lambda images: images.reshape(len(images), -1).sum(axis=1, keepdims=True),
                         small_dsprites, quick=True, progress=False)
