"""The Metric contract as clauses (bench/running/contract.py): on dsprites_small at the metric's
quick sizes, seed 0, the ground truth (the ground_truth method's codes, each factor scaled to [0,
1]) against a code of noise (docs/design.md, "Metric"; docs/plugins.md, "Check it")."""
from __future__ import annotations

import sys

import dataclasses
import functools
import math

import numpy as np

from bench.errors import UserError
from bench.running.clauses import Broken, NotApplicable, require
from bench.running.restore import fitting_rng
from bench.settings import fits
from metrics.base import Metric
from metrics.codes import Representation

PERFECT_MARGIN = 0.05                         # how far below its declared top the ground truth may score
MODELS = 3                                    # a model-set metric (UDR) scores three copies of a code


@dataclasses.dataclass
class MetricUnderCheck:
    """A metric's declaration and the dataset it is checked on; scores once, on first use."""
    declared: Metric
    dataset: object

    def truth(self) -> Representation:
        import methods
        from bench.device import choose_policy
        method = methods.create("ground_truth", {}, self.dataset.image_shape, choose_policy("cpu", "fp32"), 0)
        method.fit(self.dataset, fitting_rng(0))
        return Representation.from_method(method, self.dataset, progress=False)

    def noise(self) -> Representation:
        values = np.random.default_rng(1).normal(size=(len(self.dataset), 5))
        return Representation(lambda indices: values[indices], self.dataset, progress=False)

    def quick_scores(self, representation) -> list[dict[str, float]]:
        """The metric at its quick sizes, seed 0: one dict of "name.key" scores, or one per model
        of MODELS copies for a model-set metric."""
        import metrics
        declared = self.declared
        settings = declared.settings_of(declared.quick)
        declared.check(self.dataset, settings)
        if declared.several_models:
            values = declared.score([representation() for _ in range(MODELS)], self.dataset,
                                    metrics.models_rng(declared.name, range(MODELS)), settings)
        else:
            values = [declared.score(representation(), self.dataset, metrics.metric_rng(declared.name, 0), settings)]
        return [{f"{declared.name}.{key}": value for key, value in model.items()} for model in values]

    @functools.cached_property
    def truth_scores(self) -> list[dict[str, float]]:
        return self.quick_scores(self.truth)

    @functools.cached_property
    def noise_scores(self) -> list[dict[str, float]]:
        return self.quick_scores(self.noise)


def subject_named(name: str) -> MetricUnderCheck:
    import metrics
    from bench import data
    return MetricUnderCheck(metrics.metric(name), data.load("dsprites_small"))


def its_declaration_is_consistent(subject: MetricUnderCheck) -> str:
    """Settings' types and defaults agree; quick and legacy values are of the declared types, quick
    ones smaller; the defaults and quick sizes pass the metric's own check; a summary line."""
    declared = subject.declared
    require(sys.modules[declared.score.__module__].__doc__,
            "its module has no docstring: its first line is what `bench list` says of it")
    types, defaults = declared.types(), declared.defaults()
    require(list(types) == list(defaults), "Settings' fields and their type hints differ: type every field")
    for label, values in (("quick", declared.quick), ("legacy_settings", declared.legacy_settings)):
        bad = [key for key, value in values.items() if key not in types or not fits(value, types[key])]
        require(not bad, bad and f"{label}[{bad[0]!r}] is not a setting of that type: use a Settings field's name and type")
    larger = [key for key, value in declared.quick.items() if not value < defaults[key]]
    require(not larger, larger and f"quick[{larger[0]!r}] is not below its default: quick sizes are smaller")
    require(declared.headline is None or isinstance(declared.headline, str), "headline must be a key or None")
    for values in ({}, declared.quick):
        declared.check(None, declared.settings_of(values))
    return f"{len(types)} settings, quick {declared.quick or 'none'}, headline {declared.headline}"


def it_scores_finite_floats_under_its_name(subject: MetricUnderCheck) -> str:
    """Every score is a finite Python float keyed "name.key"; the declared headline is one of them."""
    name = subject.declared.name
    for values in (*subject.truth_scores, *subject.noise_scores):
        require(values, "score returned no keys: return {key: value}")
        bad = [(key, value) for key, value in values.items() if type(value) is not float or not math.isfinite(value)]
        require(not bad, bad and f"{bad[0][0]}={bad[0][1]!r}: return finite Python floats (float(value))")
    keys = subject.truth_scores[0].keys()
    require(all(values.keys() == keys for values in (*subject.truth_scores, *subject.noise_scores)),
            "the ground truth and noise got different keys: return the same keys for every code")
    headline = subject.declared.headline_key
    require(headline in (*keys, None), f"the declared headline {headline} is not among {sorted(keys)}")
    return f"{', '.join(key.removeprefix(name + '.') for key in keys)} (headline {subject.declared.headline})"


def same_seed_same_numbers(subject: MetricUnderCheck) -> str:
    """Scoring the same code with the same seed again gives the same numbers: all randomness comes
    from the rng it is given."""
    again = subject.quick_scores(subject.truth)
    require(again == subject.truth_scores, "the same code and seed scored differently: draw every sample "
                                           "from the rng argument, never from np.random or torch's global state")
    return "the ground truth scored twice at seed 0: identical"


def the_ground_truth_reaches_its_declared_top(subject: MetricUnderCheck) -> str:
    """For each key of `perfect`, the ground truth scores within PERFECT_MARGIN of the declared top."""
    perfect = subject.declared.perfect
    if not perfect:
        raise NotApplicable("declares no perfect score (Metric(perfect={key: top})), so nothing to reach")
    for values in subject.truth_scores:
        for key, top in perfect.items():
            got = values[f"{subject.declared.name}.{key}"]
            require(got >= top - PERFECT_MARGIN, f"the ground truth scores {key}={got:.3f}, below its declared top "
                                                 f"{top} - {PERFECT_MARGIN}: fix the metric or its `perfect`")
    return ", ".join(f"{key} {subject.truth_scores[0][f'{subject.declared.name}.{key}']:.3f} (top {top})"
                     for key, top in perfect.items())


def noise_does_not_reach_it(subject: MetricUnderCheck) -> str:
    """A code of Gaussian noise scores below each declared top minus PERFECT_MARGIN."""
    perfect = subject.declared.perfect
    if not perfect:
        raise NotApplicable("declares no perfect score, so nothing noise must stay below")
    for values in subject.noise_scores:
        for key, top in perfect.items():
            got = values[f"{subject.declared.name}.{key}"]
            require(got < top - PERFECT_MARGIN, f"a code of noise scores {key}={got:.3f}, as well as the ground "
                                                f"truth could: the metric does not tell them apart")
    return ", ".join(f"{key} {subject.noise_scores[0][f'{subject.declared.name}.{key}']:.3f}" for key in perfect)


def bad_settings_are_refused(subject: MetricUnderCheck) -> str:
    """An unknown setting and a value of another type than declared are refused with a UserError;
    so is a sample size of 0 where the metric has a positive integer setting."""
    declared = subject.declared
    types, defaults = declared.types(), declared.defaults()
    cases = [{"no_such_setting": 1}]
    if types:
        first = next(iter(types))
        cases.append({first: [] if types[first] is str else "not-a-value"})
    sizes = [key for key, kind in types.items() if kind is int and isinstance(defaults[key], int) and defaults[key] > 0
             and key not in declared.may_be_zero]
    cases += [{sizes[0]: 0}] if sizes else []
    for case in cases:
        try:
            declared.check(subject.dataset, declared.settings_of(case))
        except UserError:
            continue
        raise Broken(f"{declared.name} accepted {case}: raise bench.errors.UserError in its check(dataset, settings)")
    return f"refused with a UserError: {'; '.join(', '.join(f'{k}={v!r}' for k, v in case.items()) for case in cases)}"


CLAUSES = (its_declaration_is_consistent, it_scores_finite_floats_under_its_name, same_seed_same_numbers,
           the_ground_truth_reaches_its_declared_top, noise_does_not_reach_it, bad_settings_are_refused)
