"""The beta-VAE disentanglement metric (Higgins et al. 2017, section 3 and Appendix A.4).

For each vote: pick a factor y uniformly (step 1); draw L pairs of factor vectors that share
factor y (step 2); encode both images of each pair and take z_diff = |z1 - z2| (step 3); the
vote's feature is the mean z_diff over the L pairs and its label is y (step 4). A linear
classifier is fit on the training votes; the score is its accuracy on the evaluation votes.
Defaults are disentanglement_lib's (L = 64, 10,000 / 5,000 votes, raw features, all factors, and
`LogisticRegression()` as its study fitted it: under the sklearn of 2019, whose defaults were the
liblinear solver with one-vs-rest, i.e. one L2-regularised (C = 1) binary logistic regression per
factor and the factor of the largest decision value predicted; `classifier = "liblinear_ovr"`).
`classifier = "lbfgs"` is what `LogisticRegression()` fits under today's sklearn (one multinomial
model, lbfgs, 100 iterations): about 0.01 away from the study's numbers (docs/metrics.md).

Two protocols (docs/paper.md section 2; the `protocol` parameter, stored with every score):
- "disentanglement_lib" (default): the above; keys train_accuracy and eval_accuracy.
- "higgins2017", the paper's Appendix as far as it is known: the target factors exclude shape on
  dSprites (unless `factors` names a subset), and the classifier is a linear softmax classifier
  (weights and bias, no regularisation) trained with Adagrad, learning rate 1e-2, from small
  random weights (N(0, 0.01^2)), on minibatches of 64 votes drawn with replacement. The paper does
  not give the number of updates or the initialisation ([?] in docs/paper.md), so they are parameters:
  `classifier_steps` (default 10,000 updates, 64 passes over 10,000 training votes) and
  `classifier_seeds` (default 5). The same votes train `classifier_seeds` classifiers that differ
  in initialisation and minibatch order; train_accuracy and eval_accuracy are their means and
  eval_accuracy_std their standard deviation. The paper's "top half of the scores" is taken over
  model replicas, which is a report's job, not one run's. Adagrad is torch's: accumulator starting
  at 0, eps 1e-10.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler

from bench.errors import unknown
from metrics.base import Metric
from metrics.samples import votes_per_lookup

HIGGINS_BATCH = 64
HIGGINS_LEARNING_RATE = 1e-2


@dataclass(frozen=True)
class Settings:
    """Defaults: disentanglement_lib's study. `factors`: "protocol" (all factors for
    disentanglement_lib, all but shape for higgins2017), "all", "without_shape", or a comma list of
    factor names; `classifier` is the disentanglement_lib protocol's fit; `classifier_seeds` and
    `classifier_steps` are used by the higgins2017 protocol only."""
    batch_size: int = 64                     # L, pairs per vote
    num_train: int = 10_000                  # votes
    num_eval: int = 5_000
    factors: str = "protocol"
    preprocessing: Literal["none", "standardize"] = "none"
    protocol: Literal["disentanglement_lib", "higgins2017"] = "disentanglement_lib"
    classifier: Literal["liblinear_ovr", "lbfgs"] = "liblinear_ovr"
    classifier_seeds: int = 5
    classifier_steps: int = 10_000


def factor_subset(dataset, factors: str) -> np.ndarray:
    """Indices of the factors named in a comma list ("all" = every factor; "without_shape" = every
    factor but one named shape, the paper's dSprites subset)."""
    if factors == "all":
        return np.arange(dataset.num_factors)
    if factors == "without_shape":
        return np.array([k for k, name in enumerate(dataset.factor_names) if name != "shape"])
    names = [name.strip() for name in factors.split(",")]
    for name in names:
        if name not in dataset.factor_names:
            raise unknown(f"factor of {dataset.name}", name, dataset.factor_names)
    return np.array([dataset.factor_names.index(name) for name in names])


def votes(codes, dataset, rng, num_votes: int, batch_size: int, candidates: np.ndarray):
    """(features, labels): steps 1-4 for `num_votes` votes at once, without a loop per vote."""
    labels = candidates[rng.integers(0, len(candidates), size=num_votes)]
    first, second = dataset.pairs_sharing_factor(np.repeat(labels, batch_size), num_votes * batch_size, rng)
    pairs = np.stack([dataset.index_of(first), dataset.index_of(second)]).reshape(2, num_votes, batch_size)
    z = codes(pairs[:, :1])                                              # (2, votes, L, D)
    features = [np.abs(z[0] - z[1]).mean(axis=1)]
    step = votes_per_lookup(z.shape[-1], 2 * batch_size)   # the rest at once, unless the code is wide
    for start in range(1, num_votes, step):
        z = codes(pairs[:, start:start + step])
        features.append(np.abs(z[0] - z[1]).mean(axis=1))
    return np.concatenate(features), labels


def protocol_factors(protocol: str, factors: str) -> str:
    """The `factors` setting a protocol implies when it is left at "protocol"."""
    if factors != "protocol":
        return factors
    return "without_shape" if protocol == "higgins2017" else "all"


def adagrad_softmax(train_x, train_y, num_classes: int, rng, num_seeds: int, steps: int):
    """`num_seeds` linear softmax classifiers trained side by side with Adagrad: (W (S, D, C), b (S, C))."""
    num_points, width = train_x.shape
    weights = rng.normal(0.0, 0.01, size=(num_seeds, width, num_classes))
    bias = np.zeros((num_seeds, num_classes))
    sum_w, sum_b = np.zeros_like(weights), np.zeros_like(bias)
    targets = np.eye(num_classes)[train_y]
    for _ in range(steps):
        batch = rng.integers(0, num_points, size=(num_seeds, HIGGINS_BATCH))
        x, y = train_x[batch], targets[batch]                                # (S, B, D), (S, B, C)
        logits = x @ weights + bias[:, None]
        logits -= logits.max(axis=2, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=2, keepdims=True)
        error = (probabilities - y) / HIGGINS_BATCH                          # d mean cross-entropy / d logits
        grad_w, grad_b = x.transpose(0, 2, 1) @ error, error.sum(axis=1)
        sum_w += grad_w ** 2
        sum_b += grad_b ** 2
        weights -= HIGGINS_LEARNING_RATE * grad_w / (np.sqrt(sum_w) + 1e-10)
        bias -= HIGGINS_LEARNING_RATE * grad_b / (np.sqrt(sum_b) + 1e-10)
    return weights, bias


def softmax_accuracies(weights, bias, x, y) -> np.ndarray:
    """Accuracy of each of the S classifiers on (x, y)."""
    predictions = np.argmax(np.einsum("nd,sdc->snc", x, weights) + bias[:, None], axis=2)
    return np.mean(predictions == y, axis=1)


def logistic_regression(classifier: str, random_state: int):
    """The disentanglement_lib protocol's classifier: the study's one-vs-rest liblinear fit, or
    today's multinomial lbfgs fit (both sklearn's LogisticRegression at its other defaults)."""
    if classifier == "liblinear_ovr":
        return OneVsRestClassifier(LogisticRegression(solver="liblinear", random_state=random_state))
    return LogisticRegression(random_state=random_state)


def check(dataset, settings: Settings) -> None:
    """One clear error for settings that cannot work (metrics.check: before any training); the
    factor names are checked when the dataset is given."""
    if dataset is not None:
        factor_subset(dataset, protocol_factors(settings.protocol, settings.factors))


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """Train and evaluation accuracy of a linear classifier predicting the shared factor."""
    candidates = factor_subset(dataset, protocol_factors(settings.protocol, settings.factors))
    train_x, train_y = votes(codes, dataset, rng, settings.num_train, settings.batch_size, candidates)
    eval_x, eval_y = votes(codes, dataset, rng, settings.num_eval, settings.batch_size, candidates)
    if settings.preprocessing == "standardize":
        scaler = StandardScaler().fit(train_x)
        train_x, eval_x = scaler.transform(train_x), scaler.transform(eval_x)
    if settings.protocol == "higgins2017":
        position = np.zeros(dataset.num_factors, dtype=np.int64)
        position[candidates] = np.arange(len(candidates))                    # factor -> class 0..C-1
        train_y, eval_y = position[train_y], position[eval_y]
        weights, bias = adagrad_softmax(train_x, train_y, len(candidates), rng, settings.classifier_seeds,
                                        settings.classifier_steps)
        train_accuracy = softmax_accuracies(weights, bias, train_x, train_y)
        eval_accuracy = softmax_accuracies(weights, bias, eval_x, eval_y)
        return {"train_accuracy": float(train_accuracy.mean()), "eval_accuracy": float(eval_accuracy.mean()),
                "eval_accuracy_std": float(eval_accuracy.std())}
    model = logistic_regression(settings.classifier, int(rng.integers(2**31)))
    with warnings.catch_warnings():
        # disentanglement_lib fits at sklearn's defaults (100 iterations) without a warning filter;
        # the number is the same with or without the warning, so it is not repeated per run.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train_x, train_y)
    return {"train_accuracy": float(model.score(train_x, train_y)),
            "eval_accuracy": float(model.score(eval_x, eval_y))}


def chance(dataset, settings: dict) -> dict[str, float]:
    """A code that says nothing: the classifier guesses one of the target factors, 1 / their number
    (settings as stored with a score; one stored before `protocol` or `factors` existed was made
    at their defaults)."""
    factors = protocol_factors(settings.get("protocol", Settings.protocol), settings.get("factors", Settings.factors))
    level = 1 / len(factor_subset(dataset, factors))
    return {"train_accuracy": level, "eval_accuracy": level}


METRIC = Metric("beta_vae", Settings, score, check, headline="eval_accuracy",
                quick={"num_train": 400, "num_eval": 200, "classifier_steps": 1000},
                sample_sizes=("num_train", "num_eval"),
                # scores stored before `classifier` existed were fitted with today's LogisticRegression()
                legacy_settings={"classifier": "lbfgs"},
                perfect={"eval_accuracy": 1.0}, chance=chance)
