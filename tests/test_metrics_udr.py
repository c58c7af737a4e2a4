"""UDR (Duan et al. 2020), the metric that scores a set of models: known answers on sets of
hand-made models of the 1,536-image dSprites subset, its formula, its place in the metric API,
and `bench run --metrics udr` over the seeds of a method."""
import json
import typing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import metrics
from bench.cli import main
from bench.errors import UserError
from metrics import udr
from metrics.codes import Representation

SIZE = {"num_data_points": 500}


def truth(dataset):
    return lambda idx: dataset.factors_of(idx) / (np.array(dataset.factor_sizes) - 1.0)


def disguised(codes_of, seed):
    """The same code with its latents permuted, sign-flipped and rescaled: what two runs of a
    perfectly disentangling method may differ by."""
    rng = np.random.default_rng(seed)
    order, signs, scales = rng.permutation(5), rng.choice([-1.0, 1.0], 5), rng.uniform(0.5, 3.0, 5)
    return lambda idx: codes_of(idx)[:, order] * signs * scales


def rotated(codes_of, degrees):
    """posX and posY mixed by a rotation into the last two latents."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))

    def fn(idx):
        f = codes_of(idx)
        return np.concatenate([f[:, :3], np.stack([c * f[:, 3] - s * f[:, 4], s * f[:, 3] + c * f[:, 4]], 1)], 1)
    return fn


def udr_scores(dataset, fns, kl_ofs=None, **params):
    kl_ofs = kl_ofs or [None] * len(fns)
    models = [udr.Model(Representation(fn, dataset, progress=False), kl) for fn, kl in zip(fns, kl_ofs)]
    return [values["udr.score"] for values in
            metrics.score_models("udr", models, dataset, range(len(fns)), **{**SIZE, **params})]


def test_disentangled_models_agree(small_dsprites):
    """Three permuted, sign-flipped, rescaled copies of the ground truth: every latent of one
    matches one latent of the other. Lasso's L1 penalty shrinks each weight of a standardised
    copy to 1 - alpha, so the score is 0.9 (the definition's, not a fault). Spearman's rho is 1
    for each match, but unrelated latents keep |rho| ~ 1/sqrt(n) and those enter the sums, so it
    stays a little under 1 and rises with the sample."""
    fns = [disguised(truth(small_dsprites), seed) for seed in range(3)]
    assert udr_scores(small_dsprites, fns) == pytest.approx([0.9] * 3, abs=1e-3)
    assert udr_scores(small_dsprites, fns, alpha=0.3) == pytest.approx([0.7] * 3, abs=1e-3)
    spearman = udr_scores(small_dsprites, fns, correlation="spearman")
    larger = udr_scores(small_dsprites, fns, correlation="spearman", num_data_points=1500)
    assert all(0.8 < a < b < 1 for a, b in zip(spearman, larger))


def test_unrelated_models_score_near_zero(small_dsprites):
    tables = [np.random.default_rng(seed).normal(size=(len(small_dsprites), 5)) for seed in range(3)]
    fns = [lambda idx, table=table: table[idx] for table in tables]
    assert max(udr_scores(small_dsprites, fns)) < 0.01           # Lasso zeroes (almost) every weight
    assert max(udr_scores(small_dsprites, fns, correlation="spearman")) < 0.1
    constant = [lambda idx: np.zeros((len(idx), 5))] * 3
    assert udr_scores(small_dsprites, constant) == [0.0, 0.0, 0.0]


def test_rotated_models_score_in_between(small_dsprites):
    """posX and posY rotated by another angle in each model: three latents still match one to
    one, the two mixed ones match two latents each."""
    fns = [rotated(truth(small_dsprites), degrees) for degrees in (0, 30, 60)]
    assert all(0.6 < value < 0.85 for value in udr_scores(small_dsprites, fns))       # perfect: 0.9
    assert all(0.6 < value < 0.8 for value in udr_scores(small_dsprites, fns, correlation="spearman"))
    fully = [rotated(truth(small_dsprites), degrees) for degrees in (0, 45, 90)]
    # 0 and 90 degrees match (up to sign), 45 mixes both: the 45-degree model ranks last.
    for correlation in typing.get_args(typing.get_type_hints(udr.Settings)["correlation"]):   # every choice
        middle = udr_scores(small_dsprites, fully, correlation=correlation)
        assert middle[1] < min(middle[0], middle[2]) - 0.05


def test_uninformative_latents_are_left_out(small_dsprites):
    """A latent whose KL is under the threshold is zeroed and leaves both sums: a disentangled
    model with an extra noise latent of KL ~0 still scores as one without it."""
    noise = np.random.default_rng(5).normal(size=(len(small_dsprites), 1))
    base = truth(small_dsprites)
    fns = [lambda idx: np.concatenate([base(idx), noise[idx]], axis=1)] * 2 + [base]
    informative = lambda idx: np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.001])
    kls = [informative, informative, lambda idx: np.ones(5)]
    models = [udr.Model(Representation(fn, small_dsprites, progress=False), kl) for fn, kl in zip(fns, kls)]
    values = metrics.score_models("udr", models, small_dsprites, [0, 1, 2], **SIZE)
    assert [v["udr.num_informative"] for v in values] == [5, 5, 5]
    assert [v["udr.score"] for v in values] == pytest.approx([0.9] * 3, abs=1e-3)
    unfiltered = metrics.score_models("udr", models, small_dsprites, [0, 1, 2], kl_threshold=0.0, **SIZE)
    assert unfiltered[0]["udr.num_informative"] == 6 and unfiltered[0]["udr.score"] < 0.9 - 0.02


def test_relative_strength_formula():
    assert udr.relative_strength(np.eye(4)) == pytest.approx(1.0)
    assert udr.relative_strength(0.5 * np.eye(3)) == pytest.approx(0.5)
    assert udr.relative_strength(np.full((3, 3), 0.6)) == pytest.approx(0.2)      # spread: r / n
    assert udr.relative_strength(np.zeros((2, 2))) == 0.0
    assert udr.relative_strength(np.zeros((0, 3))) == 0.0
    # One matched pair and an unexplained latent on each side: (1 + 0) / 2 per axis.
    assert udr.relative_strength(np.array([[1.0, 0.0], [0.0, 0.0]])) == pytest.approx(0.5)


def test_model_scores_are_medians_of_pairs(small_dsprites):
    """Model m's score is the median of UDR_jm over the others: with two good models and one
    unrelated, the good ones keep a median between their match and the outlier."""
    good = [disguised(truth(small_dsprites), seed) for seed in range(3)]
    table = np.random.default_rng(9).normal(size=(len(small_dsprites), 5))
    scores = udr_scores(small_dsprites, good + [lambda idx: table[idx]])
    assert scores[3] < 0.05 and scores[:3] == pytest.approx([0.9] * 3, abs=1e-3)


def test_udr_is_refused_for_one_representation(small_dsprites):
    codes = Representation(truth(small_dsprites), small_dsprites, progress=False)
    with pytest.raises(UserError, match="set of models"):
        metrics.score("udr", codes, small_dsprites, 0)
    with pytest.raises(UserError, match="evaluate_models"):
        metrics.evaluate(["mig", "udr"], codes, small_dsprites)
    with pytest.raises(UserError, match="at least 2"):
        metrics.score_models("udr", [codes], small_dsprites, [0], **SIZE)
    with pytest.raises(UserError, match="one model at a time"):
        metrics.score_models("mig", [codes, codes], small_dsprites, [0, 1])
    with pytest.raises(UserError, match="unknown value for udr.correlation 'pearson'"):
        metrics.check("udr", small_dsprites, correlation="pearson")
    assert "udr" in metrics.parse_metric_names("all")
    assert "udr" not in metrics.single_model_names(metrics.parse_metric_names("all"))


def test_evaluate_models_takes_functions_of_images(small_dsprites):
    projection = np.random.default_rng(0).normal(size=(64 * 64, 4))
    fn = lambda images: images.reshape(len(images), -1) @ projection
    kl = lambda images: np.ones(4)
    scores = metrics.evaluate_models("all", [fn, fn, fn], small_dsprites, seed=0, params={"udr": SIZE}, kls=[kl] * 3)
    assert [set(values) for values in scores] == [{"udr.score", "udr.num_models", "udr.num_informative"}] * 3
    assert [values["udr.score"] for values in scores] == pytest.approx([0.9] * 3, abs=1e-3)   # identical models


def read_udr(out: Path) -> pd.DataFrame:
    scores = pd.read_csv(out / "scores.csv")
    return scores[scores["metric"] == "udr.score"].sort_values("seed")


def test_bench_run_scores_udr_over_the_seeds_of_a_method(tmp_path, capsys):
    """`bench run --metrics udr` (and `all`, which names it) scores UDR once per group of runs
    that differ only in their seed, stores each run's score with the runs it was compared with,
    and rescores the group when a seed joins it; a method with one finished run is skipped with
    a line. (PCA: identical models up to sign, so 1 - alpha = 0.9.)"""
    assert {"irs", "udr"} <= set(metrics.parse_metric_names("all"))
    out = tmp_path / "results"
    common = ["run", "--dataset", "dsprites_small", "--quick", "--out", str(out), "--no-progress"]
    assert main([*common, "--methods", "pca", "--seeds", "0-1", "--metrics", "irs,udr"]) == 0
    first = read_udr(out)
    assert list(first["seed"]) == [0, 1] and first["value"].tolist() == pytest.approx([0.9, 0.9], abs=1e-3)
    assert json.loads(first["metric_settings"].iloc[0])["models"] == first["run_id"].tolist()
    scores = pd.read_csv(out / "scores.csv")
    assert {"irs.score", "udr.num_models", "udr.num_informative"} <= set(scores["metric"])
    assert "udr: scored pca" in capsys.readouterr().out

    assert main([*common, "--methods", "pca", "--seeds", "0-1", "--metrics", "udr"]) == 0   # nothing new
    assert "udr: scored" not in capsys.readouterr().out
    assert main([*common, "--methods", "pca", "--seeds", "2", "--metrics", "udr"]) == 0     # a seed joins
    after = read_udr(out)
    assert list(after["seed"]) == [0, 1, 2]
    assert all(len(json.loads(settings)["models"]) == 3 for settings in after["metric_settings"])

    assert main([*common, "--methods", "ica", "--seeds", "0", "--metrics", "udr"]) == 0
    assert "ica (0 steps) has 1 finished run(s)" in capsys.readouterr().err


def test_informative_latents_of_a_vae_come_from_its_posterior(small_dsprites, cpu_fp32):
    """bench/running/model_sets.py gives UDR the mean KL of each latent of a VAE-family model over the
    sampled images; methods without a Gaussian posterior give none (every varying latent counts)."""
    import torch

    import methods
    from bench.running.model_sets import posterior_kl
    from methods.vae import gaussian_kl_per_latent
    vae = methods.create("beta_vae", {"latent_dim": 4}, small_dsprites.image_shape, cpu_fp32, 0)
    indices = np.arange(0, len(small_dsprites), 7)
    kl = posterior_kl(vae, small_dsprites)(indices)
    with torch.no_grad():
        mean, log_var = vae.posterior(cpu_fp32.prepare_images(torch.from_numpy(small_dsprites.images(indices))))
    assert kl.shape == (4,) and np.all(kl > 0)
    assert kl == pytest.approx(gaussian_kl_per_latent(mean, log_var).numpy(), rel=1e-5)
    pca = methods.create("pca", {}, small_dsprites.image_shape, cpu_fp32, 0)
    assert posterior_kl(pca, small_dsprites) is None
