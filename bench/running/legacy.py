"""The rules for results already on disk, in one place: when a run folder (made by this version or
an older one) is the run asked for, what its spec.json means where it lacks a field, which of its
parameters still exist, and which of its stored scores still count. Whether a run is reused,
rescored or trained again (bench/running/plan.py) is decided by these rules and nothing else.

- Ids: a run's id hashes what determines its result (bench/running/spec.py, RunSpec.identity).
  What entered it after runs were recorded stays out of it at the value those runs had, so their
  ids hold: a parameter at its Params.identity_defaults value (identity_params), the precision
  fp32 and the procedural data (identity_extras).
- spec.json: a field an older file lacks means what those runs had: fp32, the procedural data; a
  file without parameters or overrides recorded none (OLD_SPEC_FIELDS, read by
  StoredSpec.from_json).
- Parameters a method has since lost (beta_vae's capacity objective became annealed_vae) do not
  shape the networks: a rebuilt run drops them, with a line (current_params).
- Scores: a score stored before a metric setting existed counts as made with the value it was
  made with (each metric's LEGACY_SETTINGS, applied by metrics.stored_settings): scored_with.
- Steps: two runs that agree on everything but their steps are one run trained for longer
  (same_run_but_steps, their StoredSpec.configuration_key without the steps): a warm start
  takes the shorter one's checkpoint.
"""
from __future__ import annotations

import dataclasses
import sys

import metrics
import methods
from bench.data.base import PROCEDURAL, DataSource
from bench.running.stored_score import StoredScore

DEFAULT_PRECISION = "fp32"           # every run computed in fp32 before spec.json recorded a precision
# What a spec.json that lacks a field means (older versions recorded no precision and no data source).
OLD_SPEC_FIELDS = {"params": {}, "overrides": {}, "precision": DEFAULT_PRECISION, "data": PROCEDURAL.to_json()}


def identity_params(params_class, params: dict) -> dict:
    """A run's parameters (all of them) as its identity names them: without those at the value that
    their Params.identity_defaults gives, which computes what runs made before the parameter
    existed computed (e.g. likelihood "auto", which the dataset resolves)."""
    defaults = params_class.identity_defaults
    return {name: value for name, value in params.items() if not (name in defaults and defaults[name] == value)}


def identity_extras(precision: str, data: DataSource) -> dict:
    """The precision and the data source as a run's identity names them: only where they differ
    from what every run had before they were recorded (fp32, the procedural data)."""
    extras = {}
    if precision != DEFAULT_PRECISION:
        extras["precision"] = precision
    if not data.procedural:
        extras["data"] = data.identity()
    return extras


def current_params(method: str, params: dict, run_name: str) -> dict:
    """The recorded parameters of run `run_name` that its method still has; those it has lost are
    dropped with a line (they do not shape the networks, so the weights still load)."""
    known = {field.name for field in dataclasses.fields(methods.method_class(method).Params)}
    retired = sorted(set(params) - known)
    if retired:
        print(f"{run_name}: made by an older version; ignoring its retired parameters {', '.join(retired)}",
              file=sys.stderr)
    return {name: value for name, value in params.items() if name in known}


def scored_with(metric: str, stored: StoredScore | None, settings: dict) -> bool:
    """Whether a stored score of `metric` (in scores.json, curve.json or protocols.json; None where
    there is none) was made with `settings`; one stored before a setting existed counts as made
    with the value it was made with."""
    return stored is not None and metrics.stored_settings(metric, stored.settings) == settings


def unscored(wanted: dict[str, dict], stored: dict[str, StoredScore]) -> list[str]:
    """The metrics of `wanted` (name -> settings) that `stored` (scores.json, or one step of
    curve.json) does not hold scored with those settings (scored_with)."""
    return [name for name, settings in wanted.items() if not scored_with(name, stored.get(name), settings)]


def same_run_but_steps(spec) -> str:
    """The key (StoredSpec.configuration_key) that two runs share when they differ only in how
    long they trained: everything but the steps. Its older fields are already filled in, so an
    older run and one of today compare alike."""
    return spec.configuration_key(ignore=("steps",))
