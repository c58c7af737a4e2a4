"""disentanglement_lib's own metric code run on the project's samples: the reference every metric's
default is checked against (tests/test_reference_agreement.py) and timed against (`bench speed`).

disentanglement_lib 1.5 is an optional install (pyproject's `reference` extra, then `pip install
--no-deps disentanglement_lib==1.5`); its metric modules import without TensorFlow once `gin.tf`
is aliased to `gin`.

The same samples: the project's metric runs first on a dataset that records every factor vector it
draws (and, for the vote-based metrics, each vote's factor); disentanglement_lib then gets a dataset
that hands out exactly those vectors in the order it asks for them, and a random state whose
`randint(num_factors)` returns the recorded vote factors. The study's configuration
(config/unsupervised_study_v1/metric_configs: 20 histogram bins, prune threshold 0.05) is bound
through gin, its `LogisticRegression()` is fitted as the sklearn of 2019 fitted it (liblinear,
one-vs-rest), and DCI's gradient boosting, unseeded there, gets the seeds the project's drew. What
can differ then is each metric's arithmetic and fits, which is what is compared (docs/metrics.md,
"Agreement with disentanglement_lib").
"""
from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass

import numpy as np

import metrics

METRICS = ("beta_vae", "factor_vae", "mig", "dci", "sap", "modularity")
BATCH = 16                                   # disentanglement_lib's default batch of the i.i.d. metrics
# The project's key -> disentanglement_lib's key, per metric.
KEYS = {
    "beta_vae": {"train_accuracy": "train_accuracy", "eval_accuracy": "eval_accuracy"},
    "factor_vae": {"train_accuracy": "train_accuracy", "eval_accuracy": "eval_accuracy"},
    "mig": {"score": "discrete_mig"},
    "dci": {key: key for key in ("disentanglement", "completeness", "informativeness_train", "informativeness_test")},
    "sap": {"score": "SAP_score"},
    "modularity": {"modularity": "modularity_score", "explicitness": "explicitness_score_test",
                   "explicitness_train": "explicitness_score_train"},
}


def available() -> bool:
    """Whether disentanglement_lib's metric modules can be imported here."""
    try:
        reference_modules()
    except ImportError:
        return False
    return True


def reference_modules() -> dict:
    import gin
    sys.modules.setdefault("gin.tf", gin)
    from disentanglement_lib.evaluation.metrics import (beta_vae, dci, factor_vae, mig, modularity_explicitness,
                                                        sap_score, utils)
    return {"gin": gin, "beta_vae": beta_vae, "dci": dci, "factor_vae": factor_vae, "mig": mig,
            "modularity": modularity_explicitness, "sap": sap_score, "utils": utils}


@dataclass(frozen=True)
class Comparison:
    metric: str
    ours: dict[str, float]              # the project's keys, without the "metric." prefix
    reference: dict[str, float]         # the same keys, disentanglement_lib's values
    ours_seconds: float                 # encoding included on both sides
    reference_seconds: float

    @property
    def largest_difference(self) -> float:
        return max(abs(self.ours[key] - self.reference[key]) for key in self.ours)


class Recording:
    """The project's dataset, keeping every factor array its metric draws (as it is after the
    metric's in-place edits) and the vote factors of beta_vae's pairs."""

    def __init__(self, dataset):
        self.dataset, self.draws, self.pair_factors = dataset, [], []

    def __getattr__(self, name):
        return getattr(self.dataset, name)

    def __len__(self):
        return len(self.dataset)

    def sample_factors(self, n, rng):
        factors = self.dataset.sample_factors(n, rng)
        self.draws.append(factors)
        return factors

    def pairs_sharing_factor(self, k, n, rng):
        first, second = self.dataset.pairs_sharing_factor(k, n, rng)
        self.pair_factors.append(np.broadcast_to(np.asarray(k), (n,)))
        self.draws.append((first, second))
        return first, second


class Replay:
    """disentanglement_lib's GroundTruthData interface, handing out recorded factor rows in order."""

    def __init__(self, dataset, rows: np.ndarray):
        self.dataset, self.rows, self.next = dataset, rows, 0
        self.num_factors = dataset.num_factors
        self.factors_num_values = list(dataset.factor_sizes)
        self.observation_shape = (*dataset.image_shape[1:], dataset.image_shape[0])

    def sample_factors(self, num, random_state):
        rows = self.rows[self.next:self.next + num]
        if len(rows) != num:
            raise RuntimeError("disentanglement_lib asked for more samples than the project's metric drew")
        self.next += num
        return rows.copy()

    def sample_observations_from_factors(self, factors, random_state):
        images = self.dataset.images(self.dataset.index_of(factors))
        return images.transpose(0, 2, 3, 1).astype(np.float32) / 255.0

    def sample(self, num, random_state):
        factors = self.sample_factors(num, random_state)
        return factors, self.sample_observations_from_factors(factors, random_state)

    def sample_observations(self, num, random_state):
        return self.sample(num, random_state)[1]


class VoteFactors(np.random.RandomState):
    """A RandomState whose randint(num_factors), disentanglement_lib's draw of a vote's factor,
    returns the project's vote factors in order; every other draw is a RandomState's own."""

    def __init__(self, num_factors: int, labels):
        super().__init__(0)
        self.num_factors, self.labels = num_factors, list(labels)

    def randint(self, low, high=None, size=None, dtype=int):
        if high is None and size is None and low == self.num_factors:
            return self.labels.pop(0)
        return super().randint(low, high, size, dtype)


def reference_function(representation_fn):
    """disentanglement_lib's representation function: float NHWC observations in [0, 1]."""
    def function(observations):
        images = np.round(np.asarray(observations) * 255.0).astype(np.uint8).transpose(0, 3, 1, 2)
        return representation_fn(images)
    return function


@contextlib.contextmanager
def study_configuration(modules: dict, boosting_seeds: list):
    """The study's gin bindings and 2019 fits inside disentanglement_lib, and the project's DCI
    recording the seeds of its gradient boosting for disentanglement_lib's; undone on exit."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    import metrics.dci

    def logistic_regression(**kwargs):
        return OneVsRestClassifier(LogisticRegression(solver="liblinear", **kwargs))

    def recorded_boosting(**kwargs):
        boosting_seeds.append(kwargs["random_state"])
        return GradientBoostingClassifier(**kwargs)

    def replayed_boosting():
        return GradientBoostingClassifier(random_state=boosting_seeds.pop(0))

    patches = [(modules["beta_vae"].linear_model, "LogisticRegression", logistic_regression),
               (modules["modularity"].linear_model, "LogisticRegression", logistic_regression),
               (metrics.dci, "GradientBoostingClassifier", recorded_boosting),
               (modules["dci"].ensemble, "GradientBoostingClassifier", replayed_boosting)]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    gin = modules["gin"]
    try:
        for owner, name, replacement in patches:
            setattr(owner, name, replacement)
        gin.clear_config()
        gin.bind_parameter("discretizer.discretizer_fn", modules["utils"]._histogram_discretize)
        gin.bind_parameter("discretizer.num_bins", 20)
        gin.bind_parameter("prune_dims.threshold", 0.05)
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
        gin.clear_config()


def replay_arguments(name: str, recording: Recording, dataset, sizes: dict):
    """(the replay dataset, the random state, keyword arguments) of disentanglement_lib's call."""
    num_factors = dataset.num_factors
    if name == "beta_vae":
        batch = sizes["batch_size"]
        rows = np.concatenate([np.stack([first, second], axis=1).reshape(-1, batch, 2, num_factors)
                               .transpose(0, 2, 1, 3).reshape(-1, num_factors)          # per vote: L firsts, L seconds
                               for first, second in recording.draws])
        labels = np.concatenate(recording.pair_factors)[::batch]
        return Replay(dataset, rows), VoteFactors(num_factors, labels), sizes
    if name == "factor_vae":
        variance_rows, *vote_draws = recording.draws
        votes = np.concatenate([draw.reshape(-1, sizes["batch_size"], num_factors) for draw in vote_draws])
        shared = (votes == votes[:, :1]).all(axis=1)            # each vote's factor: constant in its batch
        rows = np.concatenate([variance_rows, votes.reshape(-1, num_factors)])
        return Replay(dataset, rows), VoteFactors(num_factors, shared.argmax(axis=1)), sizes
    extra = {"continuous_factors": False} if name == "sap" else {}
    return Replay(dataset, np.concatenate(recording.draws)), np.random.RandomState(0), {**sizes, **extra, "batch_size": BATCH}


def compare(name: str, representation_fn, dataset, seed: int = 0, sizes: dict | None = None) -> Comparison:
    """Metric `name` at its defaults (sample sizes from `sizes`) in the project and in
    disentanglement_lib, on the same samples. `representation_fn`: uint8 images (n, C, H, W) -> (n, D)."""
    if name not in METRICS:
        raise ValueError(f"disentanglement_lib comparison covers {', '.join(METRICS)}, not {name}")
    modules = reference_modules()
    defaults = metrics.metric_params(name)
    passed = {*metrics.metric(name).sample_sizes, "batch_size"}       # the vote-based metrics' batch too
    sizes = {key: value for key, value in {**defaults, **(sizes or {})}.items()
             if key in passed and key in defaults}
    function = {"beta_vae": modules["beta_vae"].compute_beta_vae_sklearn,
                "factor_vae": modules["factor_vae"].compute_factor_vae, "mig": modules["mig"].compute_mig,
                "dci": modules["dci"].compute_dci, "sap": modules["sap"].compute_sap,
                "modularity": modules["modularity"].compute_modularity_explicitness}[name]
    boosting_seeds: list = []
    with study_configuration(modules, boosting_seeds):
        recording = Recording(dataset)
        start = time.perf_counter()
        ours = metrics.evaluate(name, representation_fn, recording, seed=seed, params={name: sizes}, progress=False)
        ours_seconds = time.perf_counter() - start
        replay, random_state, arguments = replay_arguments(name, recording, dataset, sizes)
        start = time.perf_counter()
        theirs = function(replay, reference_function(representation_fn), random_state, **arguments)
        reference_seconds = time.perf_counter() - start
    keys = KEYS[name]
    return Comparison(name, {key: ours[f"{name}.{key}"] for key in keys}, {key: theirs[keys[key]] for key in keys},
                      ours_seconds, reference_seconds)
