"""RunSpec: what one run trains and scores, and the expansion of CLI flags into a grid of them;
StoredSpec: what a run folder's spec.json says about its run."""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
from dataclasses import dataclass, field

import methods
import metrics
from bench import data
from bench.data.base import PROCEDURAL, DataSource
from bench.errors import UserError
from bench.plugins import changed_source, file_safe
from bench.running import legacy
from bench.running.legacy import DEFAULT_PRECISION
from bench.settings import param_text
from methods.base import build_params

RESOLVED_PRECISIONS = ("fp32", "bf16")


def run_id_of(method: str, seed: int, identity: dict) -> str:
    """A run's folder name: METHOD-seedN- and the first 10 hex digits of the sha256 of its identity
    (what determines its result) as sorted JSON."""
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"{file_safe(method)}-seed{seed}-{digest[:10]}"


@dataclass(frozen=True)
class RunSpec:
    method: str
    dataset: str
    seed: int
    steps: int
    params: tuple = field(default=())      # sorted (name, value) overrides of the method's defaults, typed
    precision: str = DEFAULT_PRECISION     # resolved: fp32, or bf16 autocast (never "auto")
    data: DataSource = PROCEDURAL          # where the dataset's images come from (bench/data)

    def __post_init__(self):
        if self.precision not in RESOLVED_PRECISIONS:
            raise ValueError(f"a RunSpec's precision is resolved ({', '.join(RESOLVED_PRECISIONS)}), "
                             f"not {self.precision!r}; see bench.device.resolve_precision")

    @functools.cached_property
    def method_params(self):
        """The method's Params: its defaults with these overrides, each checked (methods/base.py)."""
        return build_params(self.method, methods.method_class(self.method).Params, dict(self.params))

    def resolved_params(self) -> dict:
        """Every hyperparameter of the run, defaults included."""
        return dataclasses.asdict(self.method_params)

    @property
    def trainable(self) -> bool:
        return methods.method_class(self.method).trainable

    def identity(self) -> dict:
        """What determines the run's result; its hash names the run's folder.

        Everything that changes a run's numbers is here: the method and every hyperparameter,
        the dataset and its source, the seed, the training steps and the precision, less what
        older runs' ids never held (bench/running/legacy.py: identity_params, identity_extras),
        so that their ids stay the same. A file's source is its content (sha256), not its path:
        the same file elsewhere makes the same run. spec.json (`to_json`) always names the
        precision and the source, the file's path included.
        """
        params = legacy.identity_params(methods.method_class(self.method).Params, self.resolved_params())
        return {"method": self.method, "params": params, "dataset": self.dataset, "seed": self.seed,
                "steps": self.steps if self.trainable else 0, **legacy.identity_extras(self.precision, self.data)}

    @functools.cached_property
    def run_id(self) -> str:
        return run_id_of(self.method, self.seed, self.identity())

    def to_json(self, metric_plugins: dict | None = None) -> dict:
        """spec.json: the identity with the precision and the data source always written, and where
        the run's plug-ins come from (`plugin`) if it names any: its method and dataset
        (plugin_provenance) and `metric_plugins`, name -> provenance of the plug-in metrics its
        scores were made with (RunStore.begin)."""
        plugins = {**self.plugins(), **({"metrics": metric_plugins} if metric_plugins else {})}
        return {**self.identity(), "precision": self.precision, "data": self.data.to_json(),
                "overrides": {name: param_text(value) for name, value in self.params}, "run_id": self.run_id,
                **({"plugin": plugins} if plugins else {})}

    def plugins(self) -> dict:
        """Where the run's plug-in method or dataset comes from (plugin_provenance)."""
        return plugin_provenance(self.method, self.dataset)

    def stored(self) -> StoredSpec:
        """The run as its spec.json will say it (StoredSpec)."""
        return StoredSpec.from_json(self.to_json())


# The fields of a StoredSpec and their JSON types (a bool is not an int here).
STORED_FIELDS = {"run_id": str, "method": str, "dataset": str, "seed": int, "steps": int, "params": dict,
                 "overrides": dict, "precision": str}


@dataclass(frozen=True)
class StoredSpec:
    """A run folder's spec.json read back (RunSpec.to_json wrote it): the run as it was recorded,
    typed. It keeps the id and parameters it was recorded with, which today's defaults need not
    give again (so it is not a RunSpec). Reports, rescoring, warm starts and UDR read runs so."""
    run_id: str
    method: str
    dataset: str
    seed: int
    steps: int               # 0 for a method that is not trained (RunSpec.identity)
    params: dict             # every hyperparameter, as the identity names them
    overrides: dict          # the parameters set, as --set spells them
    precision: str           # fp32 or bf16
    data: DataSource
    # "method"/"dataset" -> provenance of a plug-in (RunSpec.plugins); "metrics": name -> provenance
    plugin: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, value) -> StoredSpec | None:
        """spec.json's content as a StoredSpec, the fields an older file lacks filled in once
        (legacy.OLD_SPEC_FIELDS); None where it is not a run's spec (not a JSON object, or a
        field missing or of another type)."""
        if not isinstance(value, dict):
            return None
        fields = {**legacy.OLD_SPEC_FIELDS, **value}
        if not all(type(fields.get(name)) is kind for name, kind in STORED_FIELDS.items()):
            return None
        plugin = fields.get("plugin", {})
        return cls(**{name: fields[name] for name in STORED_FIELDS}, data=DataSource.from_json(fields["data"]),
                   plugin=plugin if isinstance(plugin, dict) else {})

    def metric_plugins(self) -> dict:
        """Name -> recorded provenance of each plug-in metric the run was scored with."""
        recorded = self.plugin.get("metrics", {})
        return recorded if isinstance(recorded, dict) else {}

    def configuration_key(self, ignore: tuple[str, ...] = ()) -> str:
        """What the run is, less the CONFIGURATION fields in `ignore`, as one comparable text: two
        runs are "the same configuration" for a caller when their keys with its `ignore` are
        equal (a warm start ignores the steps, a UDR group the seed, `bench compare` the steps,
        precision and data source). Older fields are already filled in, so an older run and one
        of today compare alike; the data source counts by its identity (a file's content)."""
        unknown = sorted(set(ignore) - set(CONFIGURATION))
        if unknown:
            raise ValueError(f"configuration_key cannot ignore {unknown}; its fields are {', '.join(CONFIGURATION)}")
        fields = {"method": self.method, "params": self.params, "dataset": self.dataset,
                  "data": self.data.identity(), "seed": self.seed, "steps": self.steps, "precision": self.precision}
        return json.dumps({name: fields[name] for name in CONFIGURATION if name not in ignore}, sort_keys=True)


def plugin_provenance(method: str, dataset: str) -> dict:
    """"method" and "dataset" -> the provenance of each that is a plug-in (bench/plugins.py: module,
    distribution and version, sha256 of its source); empty for built-ins."""
    found = {}
    if methods.METHODS.is_plugin(method):
        found["method"] = methods.METHODS.provenance(method)
    if data.is_plugin(dataset):
        found["dataset"] = data.DATASETS.provenance(dataset)
    return found


def metric_provenance(names) -> dict:
    """Name -> the provenance of each plug-in metric of `names`; empty for built-ins."""
    return {name: metrics.METRICS.provenance(name) for name in names if metrics.METRICS.is_plugin(name)}


def changed_plugin(stored: StoredSpec, metric_names=()) -> str | None:
    """What changed, in words, where a plug-in the run recorded in spec.json (`plugin`) has another
    source now: its method, its dataset, or a metric of `metric_names` that it was scored with;
    None where none has (or the run names no plug-in)."""
    if not stored.plugin:
        return None
    current = plugin_provenance(stored.method, stored.dataset)
    for role, name in (("method", stored.method), ("dataset", stored.dataset)):
        if role in stored.plugin:
            change = changed_source(role, name, stored.plugin[role], current.get(role, {}))
            if change:
                return change
    recorded = stored.metric_plugins()
    scored_again = [name for name in metric_names if name in recorded]
    for name, now in metric_provenance(scored_again).items():
        change = changed_source("metric", name, recorded[name], now)
        if change:
            return change
    return None


# What a run's configuration is made of (StoredSpec.configuration_key): the fields of its identity
# (RunSpec.identity), each of which a caller may ignore.
CONFIGURATION = ("method", "params", "dataset", "data", "seed", "steps", "precision")


MAX_SEEDS = 10_000


def parse_seeds(text: str, where: str = "--seeds") -> list[int]:
    """"0,1,2", "0-4" or a mix such as "0-2,7": non-negative integers, at most MAX_SEEDS of them."""
    seeds = []
    try:
        for part in text.split(","):
            if "-" in part.strip()[1:]:
                low, high = (int(bound) for bound in part.strip().split("-", 1))
                if high - low + 1 > MAX_SEEDS:
                    raise UserError(f"{where} {text!r} names {high - low + 1:,} seeds; at most {MAX_SEEDS:,}")
                seeds.extend(range(low, high + 1))
            else:
                seeds.append(int(part))
    except ValueError:
        raise UserError(f"{where} takes integers like 0,1,2 or 0-4, not {text!r}") from None
    if not seeds:
        raise UserError(f"{where} names no seed in {text!r}")
    if min(seeds) < 0:
        raise UserError(f"{where} takes non-negative seeds, not {min(seeds)} (in {text!r})")
    if len(seeds) > MAX_SEEDS:
        raise UserError(f"{where} {text!r} names {len(seeds):,} seeds; at most {MAX_SEEDS:,}")
    return sorted(set(seeds), key=seeds.index)


def typed_values(method: str, param: str, values: list) -> list:
    """The values (command-line text, or TOML numbers, booleans and strings) of one parameter as
    its type, each checked; fails with the parameter's name and type on a value that does not fit."""
    cls = methods.method_class(method)
    return [getattr(build_params(method, cls.Params, {param: value}), param) for value in values]


def method_and_param(target: str) -> tuple[str, str, str]:
    """--set's "METHOD.PARAM" split into (method, ".", param): at the first '.' of a short name, at the
    last '.' of a plug-in's "PKG.MODULE:NAME.PARAM" (a '.' after its ':'); ("", "", "") where there is none."""
    head, colon, tail = target.rpartition(":")
    if not colon:
        return target.partition(".")
    name, dot, param = tail.rpartition(".")
    return (f"{head}:{name}", dot, param) if dot else ("", "", "")


def parse_set_flags(flags: list[str], method_names: list[str]) -> dict[str, dict[str, list]]:
    """["beta_vae.beta=1,4", ...] -> {"beta_vae": {"beta": [1.0, 4.0]}}, typed and checked; a
    plug-in's parameter is set as "PKG.MODULE:NAME.PARAM=..." (method_and_param)."""
    grid: dict[str, dict[str, list]] = {}
    given: dict[tuple[str, str], str] = {}
    for flag in flags:
        target, sep, values = flag.partition("=")
        method, dot, param = method_and_param(target)
        if not sep or not dot or not param or not values:
            raise UserError(f"--set takes METHOD.PARAM=VALUE[,VALUE...], not {flag!r}")
        if method not in method_names:
            raise UserError(f"--set {flag!r} names method {method!r}, which is not in --methods "
                            f"({', '.join(method_names)})")
        if (method, param) in given:
            raise UserError(f"--set gives {method}.{param} twice; give its values once, comma-separated "
                            f"(e.g. --set {method}.{param}={given[method, param]},{values})")
        given[method, param] = values
        grid.setdefault(method, {})[param] = typed_values(method, param, values.split(","))
    return grid


def expand(method_names: list[str], dataset: str, seeds: list[int], steps: int,
           grid: dict[str, dict[str, list]], method_steps: dict[str, int] | None = None,
           precision: str = DEFAULT_PRECISION, data: DataSource = PROCEDURAL) -> list[RunSpec]:
    """Methods x parameter grid x seeds, in that order; `method_steps` overrides `steps` per method;
    every run computes in `precision` (resolved: fp32 or bf16) on data from `data`. The grid's
    values are typed (parse_set_flags, bench/running/config.py); each run's parameters are checked together
    and its id computed here, once.

    A run that the grid names twice (the same values spelt twice) is listed once.
    """
    method_steps = method_steps or {}
    for name in method_names:
        methods.method_class(name)
        if method_steps.get(name, steps) <= 0:
            raise UserError(f"--steps must be a positive number of training steps, not {method_steps.get(name, steps)}")
    specs, seen = [], set()
    for name in method_names:
        params = grid.get(name, {})
        for values in itertools.product(*params.values()):
            overrides = tuple(sorted(zip(params, values)))
            for seed in seeds:
                spec = RunSpec(name, dataset, seed, method_steps.get(name, steps), overrides, precision, data)
                if spec.run_id not in seen:
                    seen.add(spec.run_id)
                    specs.append(spec)
    return specs
