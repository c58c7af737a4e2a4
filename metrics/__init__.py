"""Disentanglement metrics. Adding one is one new file and one line in METRICS.

Each metric module declares itself in one `METRIC = Metric(...)` (metrics/base.py): its name, its
settings as a typed dataclass (defaults = disentanglement_lib's sample sizes), its quick sizes for
previews, `check` and `score` (both take the settings object), what it needs, and the settings
older stored scores were made with. Everything here reads those declarations.

A metric of a set of models (`several_models`: UDR) scores the models of one method together: its
`score(models, dataset, rng, settings)` returns one dict per model. It is scored with
`score_models` / `evaluate_models`, never by `score` / `evaluate`, which take one representation;
`bench run` scores it over the runs of a results folder that differ only in their seed
(bench/running/model_sets.py, docs/metrics.md).
"""
from __future__ import annotations

import warnings
import zlib

import numpy as np

from bench.errors import BenchWarning, UserError
from bench.plugins import Registry
from metrics.base import Metric
from metrics.codes import Representation

# Name -> "module:METRIC" (its declaration), imported on first use (bench/plugins.py); the order is
# the tables' order. A plug-in is named "PKG.MODULE:NAME" or by its entry point (group
# disentanglement_bench.metrics); its scores are keyed "NAME.key" under the name it was given.
METRICS = Registry("metric", {name: f"metrics.{name}:METRIC" for name in (
    "beta_vae", "factor_vae", "mig", "dci", "sap", "modularity", "irs", "mig_sup", "dcimig", "jemmig",
    "infomec", "z_diff", "z_min_var", "z_max_var", "dci_es", "udr")},
    accepts=lambda obj: isinstance(obj, Metric), expected="a metrics.base.Metric declaration")


def metric(name: str) -> Metric:
    """The declaration of metric `name` (metrics/base.py): built-in, "PKG.MODULE:NAME" or an entry
    point's name."""
    return METRICS.lookup(name)


def headline_keys(keys) -> list[str]:
    """The keys of `keys` ("metric.key" names, as in scores.csv) that a headline table or figure
    shows: each metric's declared headline (metrics/base.py) where `keys` holds it, else every key
    of that metric in `keys`; metrics in the fixed order of METRICS, keys of no registered metric
    after them."""
    keys = list(dict.fromkeys(keys))
    order = list(METRICS)

    def shown(key: str) -> bool:
        declared = METRICS.get(key.partition(".")[0])
        return declared is None or declared.headline_key in (key, None) or declared.headline_key not in keys

    def rank(key: str) -> int:
        name = key.partition(".")[0]
        return order.index(name) if name in order else len(order)
    return sorted((key for key in keys if shown(key)), key=rank)


def scores_model_sets(name: str) -> bool:
    """Whether metric `name` scores a set of models (UDR) rather than one model."""
    return metric(name).several_models


def needs_factors(name: str) -> bool:
    """Whether metric `name` needs the dataset's ground-truth factors (every metric but UDR)."""
    return metric(name).needs_factors


def uses_posterior(name: str) -> bool:
    """Whether metric `name` reads each latent's KL under a model's posterior, where it has one (UDR)."""
    return metric(name).uses_posterior


def single_model_names(names) -> list[str]:
    """The metrics of `names` that score one model at a time."""
    return [name for name in names if not scores_model_sets(name)]


def metric_params(name: str) -> dict[str, object]:
    """The metric's parameters and their defaults, for `bench list` and for validation."""
    return metric(name).defaults()


def setting_types(name: str) -> dict[str, object]:
    """The declared type of each of the metric's parameters (a sweep file's values must be of it)."""
    return metric(name).types()


def settings(name: str, quick: bool = False, params: dict | None = None) -> dict[str, object]:
    """Every setting metric `name` is scored with: its defaults, its quick sizes under `quick`, then
    `params`. Runs store them with their scores, and a change rescores a run (the rule:
    bench/running/legacy.py, scored_with)."""
    declared = metric(name)
    return {**declared.defaults(), **(declared.quick if quick else {}), **(params or {})}


def metric_rng(name: str, seed: int) -> np.random.Generator:
    """Each metric's own stream, derived from the run's seed and the metric's name."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def checked_settings(name: str, dataset=None, quick: bool = False, params: dict | None = None):
    """The settings object metric `name` is scored with (`settings`, typed), once it passes the
    checks of `check`."""
    declared = metric(name)
    chosen = declared.settings_of(settings(name, quick, params))
    declared.check(dataset, chosen)
    return chosen


def check(name: str, dataset=None, quick: bool = False, **params) -> None:
    """One clear error (UserError) when metric `name` cannot be scored with `params` over its
    defaults (and its quick sizes under `quick`): an unknown parameter, a value of another type than
    declared or outside its choices, a sample size below 1, and, given the dataset, a factor it
    does not have. The runner calls it before any training, so a bad setting never costs a trained run."""
    checked_settings(name, dataset, quick, params)


def stored_settings(name: str, settings: dict | None) -> dict | None:
    """The settings a stored score of metric `name` was made with: `settings` as stored, plus the
    value of any setting added to the metric since (its declared legacy_settings), so that a score
    is rescored only when what it was computed with differs from what is wanted."""
    if settings is None:
        return None
    return {**metric(name).legacy_settings, **settings}


def score(name: str, codes: Representation, dataset, seed: int, quick: bool = False, **params) -> dict[str, float]:
    """Scores of metric `name`, keys namespaced as "name.key"."""
    refuse_model_set(name)
    chosen = checked_settings(name, dataset, quick, params)
    values = metric(name).score(codes, dataset, metric_rng(name, seed), chosen)
    return {f"{name}.{key}": value for key, value in values.items()}


def evaluate(names, representation_fn, dataset, seed: int = 0, quick: bool = False,
             params: dict | None = None, progress: bool = True) -> dict[str, float]:
    """Score any representation: `representation_fn` maps uint8 images (n, C, H, W) to (n, D).

    All metrics share one encode-once Representation; same call and seed, same numbers. Output
    with another number of rows, not 2-D, or holding NaN or inf is refused (UserError) instead of
    being reshaped; a code that is the same for every image scores at chance, and a warning says so.
    Every metric's settings are checked before anything is encoded. "all" means every metric that
    scores one model; a model-set metric (UDR) is scored by `evaluate_models`.
    """
    if isinstance(names, str):                   # "all": every metric that scores one model
        names = single_model_names(parse_metric_names(names)) if names == "all" else parse_metric_names(names)
    for name in names:
        refuse_model_set(name)
    params = params or {}
    for name in params:
        metric(name)
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


def refuse_model_set(name: str) -> None:
    if scores_model_sets(name):
        raise UserError(f"metric {name} scores a set of models of one method, not one representation: use "
                        f"metrics.evaluate_models (or `bench run --metrics {name}` with several seeds)")


def models_rng(name: str, seeds) -> np.random.Generator:
    """A model-set metric's stream, derived from the seeds of the models it compares and its name."""
    return np.random.default_rng([*sorted(int(seed) for seed in seeds), zlib.crc32(name.encode())])


def score_models(name: str, models, dataset, seeds, quick: bool = False, **params) -> list[dict[str, float]]:
    """Scores of the model-set metric `name` (UDR) for each of `models` (metrics.udr.Model tuples
    or Representations), keys namespaced as "name.key"; `seeds`: the models' seeds, which seed
    the metric's sample."""
    if not scores_model_sets(name):
        raise UserError(f"metric {name} scores one model at a time: use metrics.score or metrics.evaluate")
    chosen = checked_settings(name, dataset, quick, params)
    values = metric(name).score(models, dataset, models_rng(name, seeds), chosen)
    return [{f"{name}.{key}": value for key, value in model_values.items()} for model_values in values]


def evaluate_models(names, representation_fns, dataset, seed: int = 0, quick: bool = False,
                    params: dict | None = None, kls=None, progress: bool = True) -> list[dict[str, float]]:
    """Score a set of models of one method with the model-set metrics of `names` ("all": every
    one, e.g. UDR): one dict per model, in order. `representation_fns`: functions of uint8
    images (n, C, H, W) -> (n, D), or Representations; `kls`: per model None or a function of
    uint8 images giving each latent's mean KL over them (a VAE's posterior; None: every latent
    that varies counts as informative)."""
    from metrics.udr import Model
    if isinstance(names, str):                   # "all": every model-set metric
        names = [name for name in parse_metric_names(names) if names != "all" or scores_model_sets(name)]
    params = params or {}
    for name in names:
        check(name, dataset, quick, **params.get(name, {}))
    kls = list(kls) if kls is not None else [None] * len(representation_fns)
    models = []
    for fn, kl in zip(representation_fns, kls):
        codes = fn if isinstance(fn, Representation) else Representation.from_image_fn(fn, dataset, progress)
        kl_of = None if kl is None else (lambda indices, kl=kl: kl(dataset.images(indices)))
        models.append(Model(codes, kl_of))
    scores = [{} for _ in models]
    for name in names:
        for model_scores, values in zip(scores, score_models(name, models, dataset, [seed], quick,
                                                             **params.get(name, {}))):
            model_scores.update(values)
    return scores


def parse_metric_names(text: str) -> list[str]:
    """A comma list of metric names, or "all"."""
    if text == "all":
        return list(METRICS)
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise UserError(f"--metrics needs at least one name; valid: all, {', '.join(METRICS)}")
    for name in names:
        metric(name)
    return names


__all__ = ["METRICS", "Representation", "check", "evaluate", "evaluate_models", "headline_keys", "score", "score_models",
           "settings"]
