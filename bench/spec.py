"""RunSpec: what one run trains and scores, and the expansion of CLI flags into a grid of them."""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from dataclasses import dataclass, field

import methods
from bench.errors import UserError
from methods.base import build_params


@dataclass(frozen=True)
class RunSpec:
    method: str
    dataset: str
    seed: int
    steps: int
    params: tuple = field(default=())      # sorted (name, value) overrides of the method's defaults

    def resolved_params(self) -> dict:
        """Every hyperparameter of the run, defaults included."""
        cls = methods.method_class(self.method)
        return dataclasses.asdict(build_params(self.method, cls.Params, dict(self.params)))

    @property
    def trainable(self) -> bool:
        return methods.method_class(self.method).trainable

    def identity(self) -> dict:
        """What determines the run's result; its hash names the run's folder."""
        return {"method": self.method, "params": self.resolved_params(), "dataset": self.dataset,
                "seed": self.seed, "steps": self.steps if self.trainable else 0}

    @property
    def run_id(self) -> str:
        digest = hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()
        return f"{self.method}-seed{self.seed}-{digest[:10]}"

    def to_json(self) -> dict:
        return {**self.identity(), "overrides": dict(self.params), "run_id": self.run_id}


def parse_seeds(text: str) -> list[int]:
    """"0,1,2", "0-4" or a mix such as "0-2,7"."""
    seeds = []
    try:
        for part in text.split(","):
            if "-" in part.strip()[1:]:
                low, high = part.strip().split("-", 1)
                seeds.extend(range(int(low), int(high) + 1))
            else:
                seeds.append(int(part))
    except ValueError:
        raise UserError(f"--seeds takes integers like 0,1,2 or 0-4, not {text!r}") from None
    if not seeds:
        raise UserError(f"--seeds names no seed in {text!r}")
    return sorted(set(seeds), key=seeds.index)


def parse_set_flags(flags: list[str], method_names: list[str]) -> dict[str, dict[str, list[str]]]:
    """["beta_vae.beta=1,4", ...] -> {"beta_vae": {"beta": ["1", "4"]}}, checked against the methods."""
    grid: dict[str, dict[str, list[str]]] = {}
    for flag in flags:
        target, sep, values = flag.partition("=")
        method, dot, param = target.partition(".")
        if not sep or not dot or not param or not values:
            raise UserError(f"--set takes METHOD.PARAM=VALUE[,VALUE...], not {flag!r}")
        if method not in method_names:
            raise UserError(f"--set {flag!r} names method {method!r}, which is not in --methods "
                            f"({', '.join(method_names)})")
        cls = methods.method_class(method)
        for value in values.split(","):
            build_params(method, cls.Params, {param: value})      # fails early on a bad value
        grid.setdefault(method, {})[param] = values.split(",")
    return grid


def expand(method_names: list[str], dataset: str, seeds: list[int], steps: int,
           grid: dict[str, dict[str, list[str]]]) -> list[RunSpec]:
    """Methods x parameter grid x seeds, in that order."""
    if steps <= 0:
        raise UserError(f"--steps must be a positive number of training steps, not {steps}")
    for name in method_names:
        methods.method_class(name)
    specs = []
    for name in method_names:
        params = grid.get(name, {})
        for values in itertools.product(*params.values()):
            overrides = tuple(sorted(zip(params, values)))
            specs.extend(RunSpec(name, dataset, seed, steps, overrides) for seed in seeds)
    return specs
