"""Disentanglement metrics. Adding one is one new file and one line in METRICS.

Each metric module has `score(codes, dataset, rng, **params) -> dict[str, float]` whose keyword
defaults are disentanglement_lib's sample sizes, and a QUICK dict of smaller sizes for previews.
"""
from __future__ import annotations

import inspect
import warnings
import zlib

import numpy as np

from bench.errors import BenchWarning, UserError, unknown
from metrics import beta_vae, dci, factor_vae, mig, modularity, sap
from metrics.codes import Representation

METRICS = {
    "beta_vae": beta_vae,
    "factor_vae": factor_vae,
    "mig": mig,
    "dci": dci,
    "sap": sap,
    "modularity": modularity,
}


def metric_module(name: str):
    if name not in METRICS:
        raise unknown("metric", name, METRICS)
    return METRICS[name]


def metric_params(name: str) -> dict[str, object]:
    """The metric's parameters and their defaults, for `bench list` and for validation."""
    signature = inspect.signature(metric_module(name).score)
    return {p.name: p.default for p in list(signature.parameters.values())[3:]}


def metric_rng(name: str, seed: int) -> np.random.Generator:
    """Each metric's own stream, derived from the run's seed and the metric's name."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def check(name: str, dataset=None, quick: bool = False, **params) -> None:
    """One clear error (UserError) when metric `name` cannot be scored with `params` over its
    defaults (and its QUICK sizes under `quick`): an unknown parameter, a value outside its
    choices, a sample size below 1, and, given the dataset, a factor it does not have. The runner
    calls it before any training, so a bad setting never costs a trained run."""
    module = metric_module(name)
    valid = metric_params(name)
    for key in params:
        if key not in valid:
            raise unknown(f"parameter of metric {name}", key, valid)
    module.check(dataset, **{**valid, **(module.QUICK if quick else {}), **params})


def score(name: str, codes: Representation, dataset, seed: int, quick: bool = False, **params) -> dict[str, float]:
    """Scores of metric `name`, keys namespaced as "name.key"."""
    module = metric_module(name)
    check(name, dataset, quick, **params)
    settings = {**(module.QUICK if quick else {}), **params}
    values = module.score(codes, dataset, metric_rng(name, seed), **settings)
    return {f"{name}.{key}": value for key, value in values.items()}


def evaluate(names, representation_fn, dataset, seed: int = 0, quick: bool = False,
             params: dict | None = None, progress: bool = True) -> dict[str, float]:
    """Score any representation: `representation_fn` maps uint8 images (n, C, H, W) to (n, D).

    All metrics share one encode-once Representation; same call and seed, same numbers. Output
    with another number of rows, not 2-D, or holding NaN or inf is refused (UserError) instead of
    being reshaped; a code that is the same for every image scores at chance, and a warning says so.
    Every metric's settings are checked before anything is encoded.
    """
    if isinstance(names, str):
        names = parse_metric_names(names)
    params = params or {}
    for name in params:
        metric_module(name)
    for name in names:
        check(name, dataset, quick, **params.get(name, {}))
    codes = representation_fn if isinstance(representation_fn, Representation) else \
        Representation.from_image_fn(representation_fn, dataset, progress)
    scores = {}
    for name in names:
        scores.update(score(name, codes, dataset, seed, quick, **params.get(name, {})))
    if codes.constant:
        warnings.warn(BenchWarning(f"the representation gave every one of the {codes.encoded:,} images it "
                                   f"encoded the same code; a constant code carries no information about "
                                   f"the factors, so the metrics score it at chance"), stacklevel=2)
    return scores


def parse_metric_names(text: str) -> list[str]:
    """A comma list of metric names, or "all"."""
    if text == "all":
        return list(METRICS)
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise UserError(f"--metrics needs at least one name; valid: all, {', '.join(METRICS)}")
    for name in names:
        metric_module(name)
    return names


__all__ = ["METRICS", "Representation", "check", "evaluate", "score"]
