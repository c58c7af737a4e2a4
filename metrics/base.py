"""The Metric declaration every metric module makes (docs/design.md, "Metric").

A metric module defines its settings as a frozen dataclass (one typed field per setting, defaults =
disentanglement_lib's sample sizes), `score(codes, dataset, rng, settings)` and, where its settings
have rules beyond their types and ranges, `check(dataset, settings)`, and ends in one declaration
that metrics/__init__.py lists in METRICS:

    METRIC = Metric("mig", Settings, score, headline="score", quick={"num_train": 1_000})
"""
from __future__ import annotations

import dataclasses
import sys
import typing
from dataclasses import dataclass, field
from typing import Callable

from bench import settings


def no_further_checks(dataset, settings) -> None:
    """The `check` of a metric whose settings need nothing beyond the declared types and ranges."""


@dataclass(frozen=True)
class Metric:
    """One metric: its name, its settings, how they are checked and how it scores, and what it needs.

    `Settings`: a frozen dataclass, one typed field per setting, defaults = the reference's sizes.
    `score(codes, dataset, rng, settings) -> {key: value}` (keys without the metric's name; all
    randomness from `rng`); a metric of a set of models (`several_models`, UDR) has
    `score(models, dataset, rng, settings) -> [{key: value} per model]`.
    Each setting's declared type, choices and range (sizes at least 1, but those in `may_be_zero` at
    least 0; numbers finite) are checked by bench/settings.py; `check(dataset, settings)` raises a
    UserError for what is specific to the metric (dataset None: the checks that need no data).
    `headline`: the key (without the metric's name) that the metric's paper reports, the one a
    headline table (table.md, `bench run`'s table) and metrics.png show; the metric's other keys
    are in table.csv. A metric that declares none shows every key there.
    """
    name: str
    Settings: type
    score: Callable
    check: Callable = no_further_checks                  # rules beyond the declared types and ranges
    may_be_zero: tuple[str, ...] = ()                    # integer settings for which 0 means something
    headline: str | None = None                          # the key its paper reports (None: every key)
    quick: dict = field(default_factory=dict)            # smaller sizes for --quick (previews, tests)
    # The settings that count what it draws (images, pairs): `bench speed --metric-scale` multiplies
    # them, and disentanglement_lib's function takes them under the same names (bench/speed/reference.py).
    sample_sizes: tuple[str, ...] = ()
    needs_factors: bool = True                           # False: draws images only (image folders too)
    uses_posterior: bool = False                         # reads each latent's KL under a VAE's posterior
    several_models: bool = False                         # scores a set of models of one method (UDR)
    # Tens of seconds or more a model at default sizes (DCI's boosting, InfoMEC's estimates, Z-diff's
    # fits): left out of the metrics scored along training unless asked for (--score-at-metrics).
    expensive: bool = False
    # Settings a stored score may lack because it was made before they existed, with the value it
    # was made with (metrics.stored_settings), so that such a score is not rescored needlessly.
    legacy_settings: dict = field(default_factory=dict)
    # Key -> the top a code with one latent per factor (the ground truth) reaches by the metric's
    # definition, for the keys it puts there (an estimate may fall a little short: 20 bins over a
    # factor of 40 classes); tests/test_contracts.py checks the ground truth on dsprites_small.
    perfect: dict = field(default_factory=dict)
    # What a code that says nothing scores, where the metric's definition fixes it:
    # chance(dataset, settings) -> {key: value} for those keys, `settings` as stored with a score
    # (a dict, older ones lacking newer settings); the figures draw it dashed. None: not known.
    chance: Callable | None = None

    @property
    def headline_key(self) -> str | None:
        """The headline as scores.csv names it ("mig.score"), or None where none is declared."""
        return f"{self.name}.{self.headline}" if self.headline else None

    @property
    def summary(self) -> str:
        """The first line of its module's docstring: what it measures and where it comes from."""
        return (sys.modules[self.score.__module__].__doc__ or "(no docstring)").strip().splitlines()[0]

    def defaults(self) -> dict[str, object]:
        """Setting -> default, in the declared order."""
        return {f.name: f.default for f in dataclasses.fields(self.Settings)}

    def types(self) -> dict[str, object]:
        """Setting -> declared type."""
        return typing.get_type_hints(self.Settings)

    def settings_of(self, values: dict):
        """The Settings of `values` (setting -> value, the others at their defaults), typed and
        checked by the one validator (bench/settings.py): an unknown setting, a value of another
        type, a choice not offered or a size below 1 is a UserError."""
        return settings.build(self.Settings, values, self.name, f"parameter of metric {self.name}", self.may_be_zero)
