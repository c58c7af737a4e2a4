"""Sweep settings from a TOML file (`bench run --config FILE`) and the run flags, flags winning.

A sweep file says what the flags of `bench run` say, so an experiment can be repeated and the
presets (bench/presets/*.toml) are written the same way:

    methods = ["vae", "beta_vae"]      # required here or as --methods
    dataset = "dsprites"
    seeds = "0-4"                      # or [0, 1, 2], or 3
    steps = 20000                      # every method ...
    metrics = ["beta_vae"]             # or "all"
    quick = false
    out = "results/beta_sweep"         # relative to the current directory, like --out
    jobs = 2                           # also: backend, scheduler, device, precision, data_path
    warm_start = "results/dsprites"    # start runs from shorter runs of theirs there (see --warm-start)
    score_at = [1000, 2000, 4000]      # also score each run at these steps (or "log"; score_schedule.py)
    score_at_metrics = ["beta_vae"]    # ... with these metrics (default: metrics but dci and udr)

    [params.beta_vae]                  # like --set beta_vae.beta=1,2,4: a list is a grid
    beta = [1, 2, 4]
    lr = 1e-4

    [method_steps]                     # ... except these
    beta_vae = 30000

    [metric_params.beta_vae]           # a metric's settings (`bench list`), one value each
    protocol = "higgins2017"

Each key (and each flag of `bench run` but --config and --set) is a run setting declared once in
bench/run_settings.py; its value is read here by its kind, plain types through bench/settings.py.
Flags given on the command line override the file: a flag replaces the file's value of that key;
`--set METHOD.PARAM=...` replaces that one parameter's values and keeps the file's others;
`--methods` picks the methods, and the file's tables for other methods are then left out.
"""
from __future__ import annotations

import contextlib
import functools
import math
import sys
from dataclasses import field, make_dataclass
from pathlib import Path
from typing import Literal

if sys.version_info >= (3, 11):
    import tomllib
else:                                                   # pragma: no cover
    import tomli as tomllib

import metrics
import methods
from bench.defaults import LOG_EVERY
from bench.errors import UserError, unknown
from bench.run_settings import (FILE_KEYS, FLAG_KEYS, LOG_INTERVAL, NAMES, RUN_SETTINGS, SCHEDULE, SEEDS, SETTINGS,
                                TABLES, RunSetting)
from bench.running.score_schedule import LOG, default_curve_metrics
from bench.running.spec import RunSpec, expand, parse_seeds, parse_set_flags, typed_values
from bench.settings import check_range, is_int, type_error, typed


class Sweep:
    """What a SweepConfig knows beyond its settings."""

    @property
    def curve_metrics(self) -> tuple[str, ...]:
        """What the steps of the score schedule are scored with (none without a schedule)."""
        if not self.score_at:
            return ()
        return self.score_at_metrics if self.score_at_metrics is not None else default_curve_metrics(self.metrics)

    def run_steps(self) -> dict[str, int]:
        """The steps of each trained method's runs (method_steps over steps)."""
        return {name: self.method_steps.get(name, self.steps) for name in self.methods
                if methods.method_class(name).trainable}

    def cut_schedules(self) -> list[str]:
        """A line for each method whose runs end before steps of the schedule: they are scored up
        to their own last step (a schedule past every run's end is an error, see combine)."""
        if self.score_at == LOG:
            return []
        return [f"score schedule: {name} trains {steps} steps, so its runs are not scored at "
                f"{', '.join(str(step) for step in past)}" for name, steps in self.run_steps().items()
                if (past := [step for step in self.score_at if step > steps])]

    @property
    def out_dir(self) -> Path:
        from bench.data import results_name
        return Path(self.out) if self.out else Path("results") / results_name(self.dataset)

    @property
    def log_every(self) -> int:
        return math.gcd(LOG_EVERY, self.checkpoint_every)

    def specs(self) -> list[RunSpec]:
        """Methods x parameter grid x seeds, with the precision that --device and --precision
        resolve to here and the data source (file checked and fingerprinted) in each run's identity."""
        from bench import data
        from bench.device import resolve_precision
        return expand(list(self.methods), self.dataset, list(self.seeds), self.steps, self.params,
                      self.method_steps, resolve_precision(self.device, self.precision),
                      data.source(self.dataset, self.data_path))


def setting_field(setting: RunSetting):
    """SweepConfig's field of `setting`: its name, and its default (a fresh table for a table)."""
    default = field(default_factory=dict) if setting.kind is TABLES else field(default=setting.default)
    return setting.key, object, default


# Everything `bench run` needs to know about a sweep (apart from how it shows progress): one field per
# run setting (bench/run_settings.py), typed and checked by `combine`.
SweepConfig = make_dataclass("SweepConfig", [setting_field(setting) for setting in RUN_SETTINGS], bases=(Sweep,),
                             frozen=True)
SweepConfig.__module__ = __name__


# Reading each kind of value (checked by bench/settings.py where the kind is a plain type) ------------

def as_names(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        names = [name.strip() for name in value.split(",") if name.strip()]
    elif isinstance(value, list) and all(isinstance(name, str) for name in value):
        names = [name.strip() for name in value]
    else:
        raise type_error(where, 'a list of names like ["vae", "beta_vae"]', value)
    if not names:
        raise UserError(f"{where} names nothing")
    return tuple(dict.fromkeys(names))


def as_seeds(value, where: str) -> tuple[int, ...]:
    if is_int(value):
        return (value,)
    if isinstance(value, str):
        return tuple(parse_seeds(value, where))
    if isinstance(value, list) and value and all(is_int(seed) for seed in value):
        return tuple(dict.fromkeys(value))
    raise type_error(where, 'integers like [0, 1, 2] or "0-4"', value)


def as_log_interval(value, where: str) -> int:
    """A checkpoint interval: a positive integer that divides the log interval or is a multiple of it."""
    value = as_declared(SETTINGS["checkpoint_every"], value, where, kind=int)
    if LOG_EVERY % value and value % LOG_EVERY:
        raise UserError(f"{where} must divide {LOG_EVERY} or be a multiple of it, not {value}")
    return value


def as_score_at(value, where: str) -> tuple[int, ...] | str:
    """Steps as a list or a comma list, in any order, or "log"; checked against the runs' steps in combine."""
    wanted = 'steps like [1000, 2000, 4000], "1000,2000,4000" or "log"'
    if value == LOG:
        return LOG
    if isinstance(value, str):
        try:
            steps = [int(part) for part in value.split(",")]
        except ValueError:
            raise UserError(f"{where} takes {wanted}, not {value!r}") from None
    elif is_int(value) or (isinstance(value, list) and value and all(is_int(step) for step in value)):
        steps = value if isinstance(value, list) else [value]
    else:
        raise type_error(where, wanted, value)
    if min(steps) <= 0:
        raise UserError(f"{where} takes positive steps, not {min(steps)}")
    return tuple(sorted(set(steps)))


def check_score_at(score_at, run_steps: dict[str, int], names, log_every: int, where: str) -> None:
    """Each step of an explicit schedule is a multiple of the log interval (100, or less under a
    shorter --checkpoint-every) or a run's last step (e.g. 31250), and not past the end of every
    run; there is a trained method to score."""
    if not score_at:
        return
    if not run_steps:
        raise UserError(f"{where}: none of the methods ({', '.join(names)}) is trained, so no run has "
                        f"earlier steps to score")
    if score_at == LOG:
        return
    longest = max(run_steps.values())
    for step in score_at:
        if step % log_every and step not in run_steps.values():
            raise UserError(f"{where} takes multiples of {log_every} (the log interval) or a run's last step, "
                            f"not {step}")
        if step > longest:
            raise UserError(f"{where}: step {step} is past the end of every run ({longest} steps); "
                            f"valid: multiples of {log_every} up to {longest}")


def as_curve_metrics(names: tuple[str, ...], where: str) -> tuple[str, ...]:
    """Metric names that score one run (UDR compares the seeds of a method, never at an earlier
    step); "all": every such metric."""
    if names == ("all",):
        return tuple(metrics.single_model_names(metrics.METRICS))
    names = tuple(metrics.parse_metric_names(",".join(names)))
    for name in names:
        if metrics.scores_model_sets(name):
            raise UserError(f"{where}: {name} scores the runs of a method together, only at their last step; "
                            f"valid: {', '.join(metrics.single_model_names(metrics.METRICS))}")
    return names


def as_declared(setting: RunSetting, value, where: str, kind=None):
    """A value of a setting of a plain type (bool, int, str, with its choices; or `kind`), typed and
    checked by the one validator (bench/settings.py); text is never empty."""
    kind = kind or (Literal[setting.choices] if setting.choices else setting.kind)
    value = typed(value, kind, where, wanted=setting.wanted)
    if value == "":
        raise type_error(where, "a non-empty string", value)
    check_range(setting.key, value, kind, where, wanted=setting.wanted)
    return value


def as_method_steps(value, where: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise type_error(where, "a table of method = steps", value)
    return {name: as_declared(SETTINGS["steps"], steps, f"{where}.{name}") for name, steps in value.items()}


def as_scalar(value, where: str):
    """A parameter value a sweep file may give: a number, a string or a boolean (typed later, per
    parameter, by bench.running.spec.typed_values)."""
    if isinstance(value, (bool, int, float, str)):
        return value
    raise type_error(where, "a number, a string or a boolean, or a list of them (a grid)", value)


def as_metric_params(value, where: str) -> dict[str, dict[str, object]]:
    if not isinstance(value, dict) or not all(isinstance(table, dict) for table in value.values()):
        raise type_error(where, 'tables like [metric_params.beta_vae] with protocol = "higgins2017"', value)
    for metric, table in value.items():
        with blamed_on(where):
            metrics.metric(metric)                # a built-in, PKG.MODULE:NAME or an entry point's name
        valid = metrics.metric_params(metric)     # types and ranges: metrics.check, in combine
        for param in table:
            if param not in valid:
                raise UserError(f"{where}: {unknown(f'parameter of metric {metric}', param, valid)}")
    return value


def as_params(value, where: str) -> dict[str, dict[str, list]]:
    if not isinstance(value, dict) or not all(isinstance(table, dict) for table in value.values()):
        raise type_error(where, "tables like [params.beta_vae] with beta = [1, 4]", value)
    grid = {}
    for method, table in value.items():
        for param, values in table.items():
            spot = f"{where}.{method}.{param}"
            values = values if isinstance(values, list) else [values]
            if not values:
                raise UserError(f"{spot} is an empty list; give at least one value")
            grid.setdefault(method, {})[param] = [as_scalar(item, spot) for item in values]
    return grid


TABLE_READERS = {"params": as_params, "method_steps": as_method_steps, "metric_params": as_metric_params}
KIND_READERS = {NAMES: as_names, SEEDS: as_seeds, SCHEDULE: as_score_at, LOG_INTERVAL: as_log_interval}


def read_value(setting: RunSetting, value, where: str):
    """A sweep file's or a flag's value of `setting`, checked and converted for SweepConfig."""
    if setting.kind is TABLES:
        return TABLE_READERS[setting.key](value, where)
    return KIND_READERS.get(setting.kind, functools.partial(as_declared, setting))(value, where)


def read_flag(key: str, value):
    """The value of flag `key` (a run setting's key), checked and converted, named by its flag."""
    return read_value(SETTINGS[key], value, SETTINGS[key].flag_name)


def flag_name(key: str) -> str:
    return SETTINGS[key].flag_name


# Reading --------------------------------------------------------------------------------------

def read_file(path, reserved=()) -> dict:
    """The settings a sweep file gives, checked and converted; unknown keys and bad values fail.
    Keys in `reserved` belong to the caller (a preset's [paper] table) and are passed over."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise UserError(f"cannot read sweep file {str(path)!r}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{path}: invalid TOML: {error}") from None
    values = {}
    for key, value in document.items():
        if key in reserved:
            continue
        if key not in FILE_KEYS:
            hint = f" (a method's parameters go in [params.{key}])" if key in methods.METHODS else ""
            raise UserError(f"{path}: {unknown('key', key, FILE_KEYS)}{hint}")
        values[key] = read_value(SETTINGS[key], value, f"{path}: {key}")
    return values


def read_flags(flags: dict) -> dict:
    """The run flags that were given (not None), checked and converted like the file's values."""
    return {key: read_flag(key, value) for key, value in flags.items() if key in FLAG_KEYS and value is not None}


def combine(file_values: dict, flag_values: dict, set_flags=(), source: str = "the sweep file") -> SweepConfig:
    """The sweep: the file's settings with the flags over them, every name and value checked."""
    values = {**file_values, **flag_values}
    if not values.get("methods"):
        raise UserError(f"name the methods with --methods or `methods = [...]` in a sweep file; "
                        f"valid: {', '.join(methods.METHODS)}")
    names = values["methods"]
    with blamed_on(source if "methods" not in flag_values else None):
        for name in names:
            methods.method_class(name)
    with blamed_on(source):
        for key in ("params", "method_steps"):
            for name in values.get(key, {}):
                methods.method_class(name)
                if name not in names and "methods" not in flag_values:
                    raise UserError(f"[{key}.{name}] names a method that is not in methods ({', '.join(names)})")
            values[key] = {name: setting for name, setting in values.get(key, {}).items() if name in names}
        values["params"] = {method: {param: typed_values(method, param, param_values)
                                     for param, param_values in table.items()}
                            for method, table in values["params"].items()}
    for method, table in parse_set_flags(list(set_flags), list(names)).items():
        values["params"] = {**values["params"], method: {**values["params"].get(method, {}), **table}}
    if "metrics" in values:
        with blamed_on(source if "metrics" not in flag_values else None):
            values["metrics"] = tuple(metrics.parse_metric_names(",".join(values["metrics"])))
    if values.get("score_at_metrics") and not values.get("score_at"):
        raise UserError(f"{flag_name('score_at_metrics')} goes with {flag_name('score_at')}: the steps to score them at")
    if "score_at_metrics" in values:
        from_flag = "score_at_metrics" in flag_values
        with blamed_on(None if from_flag else source):
            values["score_at_metrics"] = as_curve_metrics(
                values["score_at_metrics"], flag_name("score_at_metrics") if from_flag else "score_at_metrics")
    chosen = (*values.get("metrics", SweepConfig.metrics), *(values.get("score_at_metrics") or ()))
    for metric in values.get("metric_params", {}):
        if metric not in chosen and "metrics" not in flag_values:
            raise UserError(f"{source}: [metric_params.{metric}] names a metric that is not in metrics "
                            f"({', '.join(chosen)})")
    values["metric_params"] = {m: table for m, table in values.get("metric_params", {}).items() if m in chosen}
    with blamed_on(source):             # a value a metric cannot use, e.g. protocol = "higgins"
        for metric, table in values["metric_params"].items():
            metrics.check(metric, None, values.get("quick", False), **table)
    sweep = SweepConfig(**values)
    from_flag = "score_at" in flag_values
    with blamed_on(None if from_flag else source):
        check_score_at(sweep.score_at, sweep.run_steps(), sweep.methods, sweep.log_every,
                       flag_name("score_at") if from_flag else "score_at")
    if values.get("backend", "local") == "local" and values.get("scheduler"):
        raise UserError("--scheduler goes with --backend dask or --backend ray")
    if values.get("backend", "local") != "local" and values.get("jobs"):
        raise UserError(f"--jobs goes with --backend local; on a {values['backend']} cluster its workers' "
                        "threads decide how many runs go at once")
    return sweep


@contextlib.contextmanager
def blamed_on(source: str | None):
    """Prefix the message of a UserError raised inside with the file it came from."""
    try:
        yield
    except UserError as error:
        if source is None:
            raise
        raise UserError(f"{source}: {error}") from None


def load(path=None, flags: dict | None = None, set_flags=()) -> SweepConfig:
    """The sweep of `bench run [--config path] flags...`; `flags` maps setting names to the values
    given on the command line (None: not given)."""
    file_values = read_file(path) if path else {}
    return combine(file_values, read_flags(flags or {}), set_flags, str(path) if path else "the sweep file")
