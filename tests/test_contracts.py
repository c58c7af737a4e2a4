"""The contracts of docs/design.md ("Contracts"), tested for every entry of methods.METHODS and
metrics.METRICS, so that a method or metric registered later is tested without being named here;
and the README's `metrics.evaluate` example, run as it is written there.

Methods, on dsprites_small with batches of 8: a few training steps (or the fit), codes of shape
(n, D), finite float32 and the same when encoded again, a state_dict that survives a checkpoint
file into a fresh method (another seed) with identical weights and codes, and, for the trained
ones, a run resumed from its checkpoint that ends where an uninterrupted run ends. Metrics: a
consistent declaration, a run at its quick sizes that gives the same numbers for the same seed,
and the ground truth (the ground_truth method's codes) reaching what the metric declares a
perfect code scores, where a code of noise does not.
"""
import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import methods
import metrics
from bench.running.restore import fitting_rng
from bench.running.runner import read_checkpoint, train
from bench.running.sampler import BatchSampler
from metrics.base import fits
from metrics.codes import Representation

ROOT = Path(__file__).resolve().parent.parent
BATCH = 8
STEPS = 4                                     # a resumed run stops after half of them
ENCODED = np.arange(0, 1536, 97)              # the 16 images whose codes are compared
TRAINED = [name for name, cls in methods.METHODS.items() if cls.trainable]
PERFECT_MARGIN = 0.05                         # how far below its declared top the ground truth may score


def create(name, dataset, policy, seed=0):
    return methods.create(name, {"batch_size": BATCH}, dataset.image_shape, policy, seed, dataset.method_defaults())


def same(a, b) -> bool:
    """Whether two state_dicts (nested dicts and lists of tensors and plain values) are identical."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    return a == b


def through_a_file(state: dict) -> dict:
    """`state` saved with torch.save and loaded as weights only, as checkpoints are."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


# Methods -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", methods.METHODS)
def test_a_method_trains_encodes_and_reloads(name, small_dsprites, cpu_fp32):
    method = create(name, small_dsprites, cpu_fp32)
    if method.trainable:
        batches = BatchSampler(small_dsprites, method.batch_kind, BATCH, np.random.default_rng(0), cpu_fp32)
        logs = [method.train_step(batches.next()) for _ in range(STEPS)]
        assert method.step == STEPS and logs[0]
        assert all(type(value) is float and math.isfinite(value) for log in logs for value in log.values())
        assert set(method.progress_keys) <= set(logs[0])              # the bar's losses are logged ones
    else:
        method.fit(small_dsprites, fitting_rng(0))
    codes = method.codes_of(ENCODED, small_dsprites)
    assert codes.dtype == np.float32 and codes.ndim == 2 and codes.shape[0] == len(ENCODED) and codes.shape[1] >= 1
    assert np.isfinite(codes).all() and codes.std(axis=0).max() > 0
    assert np.array_equal(method.codes_of(ENCODED, small_dsprites), codes)           # deterministic
    reloaded = create(name, small_dsprites, cpu_fp32, seed=99)
    reloaded.load_state_dict(through_a_file(method.state_dict()))
    assert same(reloaded.state_dict(), method.state_dict())
    assert np.array_equal(reloaded.codes_of(ENCODED, small_dsprites), codes)


@pytest.mark.parametrize("name", TRAINED)
def test_a_resumed_run_ends_where_an_uninterrupted_one_ends(name, small_dsprites, cpu_fp32, tmp_path):
    """Through the runner: checkpoint.pt at half the steps, then a fresh method (another seed)
    resumes from it; weights, optimisers, RNGs, the sampler and the log end as without the break."""
    def run(folder, steps, seed=0):
        method = create(name, small_dsprites, cpu_fp32, seed)
        train(method, small_dsprites, steps, 0, tmp_path / folder, False, checkpoint_every=2, log_every=2)
        return read_checkpoint(tmp_path / folder / "checkpoint.pt", "cpu")[0]

    whole = run("whole", STEPS)
    run("resumed", STEPS // 2)
    resumed = run("resumed", STEPS, seed=99)
    assert resumed["method"]["step"] == STEPS and same(resumed, whole)
    logs = [pd.read_csv(tmp_path / folder / "log.csv").drop(columns="images_per_s") for folder in ("whole", "resumed")]
    assert list(logs[0]["step"]) == [2, 4]
    pd.testing.assert_frame_equal(logs[1], logs[0])


# Metrics -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", metrics.METRICS)
def test_a_metric_declaration_is_consistent(name):
    declared = metrics.metric(name)
    assert declared.name == name and declared.summary
    types, defaults = declared.types(), declared.defaults()
    assert list(types) == list(defaults) == list(metrics.metric_params(name))
    for values in (defaults, declared.quick, declared.legacy_settings):
        assert all(key in types and fits(value, types[key]) for key, value in values.items()), values
    assert all(value < defaults[key] for key, value in declared.quick.items())        # quick: smaller
    # what it draws: integer settings that --quick makes smaller (bench speed --metric-scale multiplies them)
    assert declared.sample_sizes and all(types[key] is int and key in declared.quick for key in declared.sample_sizes)
    metrics.check(name)
    metrics.check(name, quick=True)


# The key each metric's paper reports: the one table.md, `bench run`'s table and metrics.png show.
PAPERS_HEADLINE = {"beta_vae": "eval_accuracy", "factor_vae": "eval_accuracy", "mig": "score",
                   "dci": "disentanglement", "sap": "score", "modularity": "modularity", "irs": "score",
                   "mig_sup": "score", "dcimig": "score", "jemmig": "score", "infomec": "infom",
                   "z_diff": "score", "z_min_var": "score", "z_max_var": "score", "dci_es": "explicitness",
                   "udr": "score"}


@pytest.mark.parametrize("name", PAPERS_HEADLINE)
def test_a_metric_declares_the_key_its_paper_reports(name):
    assert metrics.metric(name).headline == PAPERS_HEADLINE[name]


def test_the_headline_metrics_keep_the_order_of_the_field_s_tables():
    """beta_vae and FactorVAE accuracy, MIG, DCI, SAP, modularity, IRS, UDR (docs/metrics.md,
    "Headline keys"); a metric registered later comes after them."""
    assert list(metrics.METRICS)[:len(PAPERS_HEADLINE)] == list(PAPERS_HEADLINE)


@pytest.fixture(scope="module")
def truth(small_dsprites, cpu_fp32):
    """The ground truth: the ground_truth method's codes (each factor scaled to [0, 1])."""
    method = methods.create("ground_truth", {}, small_dsprites.image_shape, cpu_fp32, 0)
    method.fit(small_dsprites, fitting_rng(0))
    return lambda: Representation.from_method(method, small_dsprites, progress=False)


def noise(dataset):
    values = np.random.default_rng(1).normal(size=(len(dataset), 5))
    return Representation(lambda indices: values[indices], dataset, progress=False)


def quick_scores(name, representation, dataset) -> list[dict[str, float]]:
    """Metric `name` at its quick sizes, seed 0: one dict, or one per model of three copies."""
    if metrics.scores_model_sets(name):
        return metrics.score_models(name, [representation() for _ in range(3)], dataset, [0, 1, 2], quick=True)
    return [metrics.score(name, representation(), dataset, 0, quick=True)]


@pytest.mark.parametrize("name", metrics.METRICS)
def test_a_metric_runs_at_its_quick_sizes_and_the_ground_truth_reaches_its_top(name, small_dsprites, truth):
    scores = quick_scores(name, truth, small_dsprites)
    assert quick_scores(name, truth, small_dsprites) == scores                        # same seed, same numbers
    noisy = quick_scores(name, lambda: noise(small_dsprites), small_dsprites)
    for values, noise_values in zip(scores, noisy):
        assert values.keys() == noise_values.keys() and all(key.startswith(f"{name}.") for key in values)
        assert metrics.metric(name).headline_key in (*values, None)          # the headline is a key it gives
        assert all(type(value) is float and math.isfinite(value) for value in [*values.values(), *noise_values.values()])
        for key, top in metrics.metric(name).perfect.items():
            assert values[f"{name}.{key}"] >= top - PERFECT_MARGIN, (key, values)
            assert noise_values[f"{name}.{key}"] < top - PERFECT_MARGIN, (key, noise_values)


# The README ---------------------------------------------------------------------------------------

def test_the_readme_evaluate_example_runs():
    """README, "Methods and metrics": its python block, on dsprites_small, with a representation of
    three numbers per image (pixel mass and centroid: scale and position, nearly)."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Methods and metrics"):]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    code = block.replace('bench.data.load("dsprites")', 'bench.data.load("dsprites_small")')
    assert code != block and "representation_fn" in code

    def representation_fn(images):
        x = images[:, 0].astype(np.float64) / 255.0
        rows, columns = np.mgrid[0:x.shape[1], 0:x.shape[2]]
        mass = x.sum(axis=(1, 2))
        return np.stack([mass, (x * columns).sum(axis=(1, 2)) / mass, (x * rows).sum(axis=(1, 2)) / mass], axis=1)

    namespace = {"representation_fn": representation_fn}
    exec(code, namespace)
    scores = namespace["scores"]
    assert set(scores) == {"beta_vae.train_accuracy", "beta_vae.eval_accuracy", "mig.score"}
    assert 0.4 < scores["beta_vae.eval_accuracy"] <= 1 and 0 < scores["mig.score"] <= 1
