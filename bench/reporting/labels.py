"""Names a reader understands for the figures and report.html: "beta-VAE (beta=4)" instead of
`beta_vae {"beta": "4.0"}`, and the order in which configurations are listed."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from bench.running.replicas import method_params
from bench.running.run_folder import RunFolder

# Each method's name as the literature writes it (methods/*.py docstrings give the papers).
DISPLAY_NAMES = {
    "vae": "VAE", "beta_vae": "beta-VAE", "annealed_vae": "annealed VAE", "factor_vae": "FactorVAE",
    "beta_tcvae": "beta-TCVAE", "dip_vae_i": "DIP-VAE-I", "dip_vae_ii": "DIP-VAE-II", "infogan": "InfoGAN",
    "dcign": "DC-IGN", "ground_truth": "ground truth factors", "raw_pixels": "raw pixels", "pca": "PCA",
    "ica": "ICA", "untrained": "untrained encoder", "ada_gvae": "Ada-GVAE", "ada_ml_vae": "Ada-ML-VAE",
}
# The parameters that define a method's row, shown even at their defaults (when the run's full
# parameters are known): beta-VAE at its default beta is still "beta-VAE (beta=4)".
HEADLINE_PARAMS = {
    "beta_vae": ("beta",), "beta_tcvae": ("beta",), "factor_vae": ("gamma",), "annealed_vae": ("gamma", "c_max"),
    "dip_vae_i": ("lambda_od",), "dip_vae_ii": ("lambda_od",), "pca": ("n_components",), "ica": ("n_components",),
    "ada_gvae": ("beta",), "ada_ml_vae": ("beta",),
}


def as_dict(params) -> dict:
    """A run's parameters from a dict or the JSON text of scores.csv's params column ("" = none)."""
    if isinstance(params, dict):
        return params
    return json.loads(params) if params not in ("", None) and params == params else {}


def value_text(value) -> str:
    """4.0 and "4.0" -> "4", 0.0005 -> "0.0005", "fc" -> "fc", True -> "true"."""
    if isinstance(value, bool):
        return str(value).lower()
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def method_name(method: str) -> str:
    return DISPLAY_NAMES.get(method, method)


def readable_label(method: str, overrides=None, params=None) -> str:
    """"beta-VAE (beta=4, architecture=fc)": the method's name, its headline parameters (from
    `params`, the run's full parameters, when given) and then every other overridden parameter."""
    overrides, params = as_dict(overrides), as_dict(params)
    shown = {name: overrides.get(name, params.get(name)) for name in HEADLINE_PARAMS.get(method, ())}
    shown = {name: value for name, value in shown.items() if value is not None}
    shown.update({name: value for name, value in sorted(overrides.items()) if name not in shown})
    inside = ", ".join(f"{name}={value_text(value)}" for name, value in shown.items())
    return method_name(method) + (f" ({inside})" if inside else "")


def canonical(params) -> str:
    """A configuration's parameters as one text, whether they come from spec.json or scores.csv."""
    return json.dumps(as_dict(params), sort_keys=True)


def configuration_names(pairs, specs: dict, paper: dict | None = None) -> dict:
    """A readable label for each (method, params JSON) pair: the paper's own label where a method
    has one configuration, else "beta-VAE (beta=4)", its headline parameters at their defaults
    too where `specs` (run_id -> StoredSpec) holds a run of the configuration; the runs kept apart
    by budget, dataset or precision (bench/running/replicas.py) say it: "beta-VAE (beta=4, steps=8000)"."""
    pairs = list(dict.fromkeys(pairs))
    paper_rows = {row["method"]: row for row in (paper or {}).get("rows", [])}
    per_method = Counter(method for method, _ in pairs)
    full_params = {(spec.method, canonical(spec.overrides)): spec.params for spec in specs.values()}
    names = {}
    for method, params in pairs:
        if method in paper_rows and per_method[method] == 1:
            names[(method, params)] = paper_rows[method]["label"]
        else:
            known = full_params.get((method, canonical(method_params(as_dict(params)))), {})
            names[(method, params)] = readable_label(method, params, known)
    return names


def sort_key(value) -> tuple:
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def configuration_order(configurations, method_order=None) -> list:
    """(method, params JSON) pairs in reading order: methods as in `method_order` (a paper's rows)
    or else as the registry lists them, then by parameter values (beta 1, 4, 8; not as text)."""
    if method_order is None:
        from methods import METHODS
        method_order = list(METHODS)
    rank = {method: i for i, method in enumerate(method_order)}

    def key(configuration):
        method, params = configuration
        values = as_dict(params)
        return (rank.get(method, len(rank)), method,
                tuple((name, sort_key(values[name])) for name in sorted(values)))
    return sorted(dict.fromkeys(configurations), key=key)


def run_description(run_folder: Path) -> str:
    """"beta-VAE (beta=4), seed 0" from a run folder's spec.json; the folder's name without one."""
    spec = RunFolder(run_folder).spec()
    if spec is None:
        return Path(run_folder).name
    return f"{readable_label(spec.method, spec.overrides, spec.params)}, seed {spec.seed}"


def configurations_in_reading_order(frame, specs: dict, paper: dict) -> tuple[list, dict]:
    """The (method, params JSON) pairs of `frame` (scores.csv's columns) in reading order, a
    paper's rows first in its order and the other methods as the registry lists them
    (configuration_order), and a readable label for each (configuration_names)."""
    from methods import METHODS
    paper_methods = list(dict.fromkeys(row["method"] for row in paper.get("rows", [])))
    pairs = configuration_order(zip(frame["method"], frame["params"].fillna("")),
                                [*paper_methods, *(method for method in METHODS if method not in paper_methods)])
    return pairs, configuration_names(pairs, specs, paper)
