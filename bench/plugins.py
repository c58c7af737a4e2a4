"""Methods, metrics and datasets by name: the built-in ones, "PKG.MODULE:NAME" of any importable
module, and those an installed distribution declares under an entry point (docs/design.md,
"Registries"). Nothing is imported before a name is looked up, so a broken or slow plug-in costs
nothing to a run that does not name it.

A name is looked up in this order: a built-in short name (the Registry's table of
"module:NAME" strings), a qualified "PKG.MODULE:NAME" (`is_qualified`), then an entry point's
short name in the kind's group (`GROUPS`: entry point name = short name, value = "pkg.module:NAME").
Only the standard library is imported here; each kind's check of what an object must be is given
by the registry that owns the kind (methods, metrics, bench.data).
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from types import MappingProxyType
from typing import Callable

from bench.errors import UserError, one_line

GROUPS = {"method": "disentanglement_bench.methods", "metric": "disentanglement_bench.metrics",
          "dataset": "disentanglement_bench.datasets"}
# The package whose import declares a kind's Registry (load_object imports it when it has not run yet).
OWNERS = {"method": "methods", "metric": "metrics", "dataset": "bench.data"}
QUALIFIED = "PKG.MODULE:NAME"

REGISTRIES: dict[str, Registry] = {}
# id(object) -> (object, "module:NAME") of each plug-in loaded: its provenance's module (a metric
# is an instance, whose __module__ is its class's, not the module that declares it).
LOADED: dict[int, tuple[object, str]] = {}


def is_qualified(name: str) -> bool:
    """Whether `name` names a plug-in by its module, "PKG.MODULE:NAME" (a ':' in it)."""
    return ":" in name


def file_safe(name: str) -> str:
    """`name` as part of a file name (run ids, results folders): "pkg.mod:Name" -> "pkg.mod.Name";
    a short name is unchanged, so built-in run ids stay the same."""
    return name.replace(":", ".")


def registry(kind: str) -> Registry:
    """The Registry of `kind` (method, metric or dataset), its owning package imported if need be."""
    if kind not in GROUPS:
        raise ValueError(f"unknown kind of plug-in {kind!r}; valid: {', '.join(GROUPS)}")
    if kind not in REGISTRIES:
        importlib.import_module(OWNERS[kind])        # declares it (a Registry registers itself)
    return REGISTRIES[kind]


@functools.cache
def packages_distributions() -> dict:
    """Top-level package -> the installed distributions that provide it, read once a process
    (importlib.metadata scans every installed distribution: ~0.1 s a call)."""
    return importlib.metadata.packages_distributions()


def load_object(qualified: str, kind: str):
    """The object `qualified` ("PKG.MODULE:NAME") names, checked to be a `kind`; a UserError of one
    line when the module does not import (with the error's first line), has no such name (with the
    names it has of that kind) or the object is of another kind (what it is, what is expected)."""
    wanted = registry(kind)
    module_name, _, attribute = qualified.partition(":")
    if not module_name or not attribute.isidentifier():
        raise UserError(f"{kind} {qualified!r}: a plug-in is named {QUALIFIED}, e.g. mypackage.mymethod:MyVAE")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:                       # any error of the user's module at import
        raise UserError(f"{kind} {qualified!r}: module {module_name!r} does not import ({one_line(error)}); "
                        f"it must be installed or on PYTHONPATH") from None
    if not hasattr(module, attribute):
        found = sorted(name for name, value in vars(module).items()
                       if not name.startswith("_") and wanted.accepts(value))
        raise UserError(f"{kind} {qualified!r}: module {module_name} has no {attribute!r}; its "
                        f"{kind}s: {', '.join(found) or 'none'}")
    obj = getattr(module, attribute)
    wanted.check_kind(obj, qualified)
    LOADED[id(obj)] = (obj, qualified)
    return obj


@functools.cache
def entry_points(kind: str) -> Mapping[str, importlib.metadata.EntryPoint]:
    """Short name -> entry point of the installed distributions' `kind` plug-ins (GROUPS), read once
    a process (nothing is imported; importlib.metadata reads every distribution's files: ~4 ms a
    call). A distribution installed within the process is seen after `entry_points.cache_clear()`."""
    return MappingProxyType({point.name: point for point in importlib.metadata.entry_points(group=GROUPS[kind])})


def load_entry_point(point: importlib.metadata.EntryPoint, kind: str):
    """The object an entry point names, checked to be a `kind`; a UserError of one line where its
    package does not import or names something else."""
    where = f"{kind} {point.name!r} (entry point {point.value!r}{distribution_words(point)})"
    try:
        obj = point.load()
    except Exception as error:                       # the installed package's own error
        raise UserError(f"{where} does not load: {one_line(error)}") from None
    registry(kind).check_kind(obj, point.name)
    LOADED[id(obj)] = (obj, point.value)
    return obj


def distribution_words(point) -> str:
    return f" of {point.dist.name} {point.dist.version}" if getattr(point, "dist", None) else ""


def provenance(obj) -> dict:
    """Where a plug-in comes from: "module", and "distribution" and "version" where that module
    belongs to an installed distribution, and "source_sha256" of the module's source file."""
    module_name = LOADED[id(obj)][1].partition(":")[0] if id(obj) in LOADED else obj.__module__
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    record = {"module": module_name}
    distributions = packages_distributions().get(module_name.partition(".")[0], [])
    if distributions:
        record["distribution"] = distributions[0]
        record["version"] = importlib.metadata.version(distributions[0])
    source = getattr(module, "__file__", None)
    if source and Path(source).is_file():
        record["source_sha256"] = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    return record


def changed_source(kind: str, name: str, recorded: dict, current: dict) -> str | None:
    """What differs between a plug-in's recorded provenance and its current one, in words (None:
    the same source), for the line that refuses to resume or rescore its run."""
    if recorded.get("source_sha256") == current.get("source_sha256"):
        return None
    versions = ""
    if recorded.get("version") != current.get("version"):
        versions = f", version {recorded.get('version')} then, {current.get('version')} now"
    return (f"{kind} {name}: the source of {current.get('module')} has changed since the run was recorded "
            f"(sha256 {str(recorded.get('source_sha256'))[:12]}... then, "
            f"{str(current.get('source_sha256'))[:12]}... now{versions})")


class Registry(MutableMapping):
    """The built-in `kind`s by short name (a dict: iterating names imports nothing, looking one up
    imports its module once; an entry set is "module:NAME" or the object), and `lookup`, which also
    takes plug-ins.

    `builtins`: short name -> "module:NAME", or the object itself; `accepts(obj)`: whether an
    object is a `kind`; `expected`: what one is, in words (for the message about any other object);
    `also`: other valid names the owner resolves itself, for the message about an unknown name.
    """

    def __init__(self, kind: str, builtins: dict, accepts: Callable[[object], bool], expected: str,
                 also: tuple[str, ...] = ()):
        self.kind, self.accepts, self.expected, self.also = kind, accepts, expected, also
        self.builtins = dict(builtins)
        self.imported: dict[str, object] = {}
        REGISTRIES[kind] = self

    def __getitem__(self, name: str):
        if name not in self.imported:
            target = self.builtins[name]
            if isinstance(target, str):
                module_name, _, attribute = target.partition(":")
                target = getattr(importlib.import_module(module_name), attribute)
            self.imported[name] = target
        return self.imported[name]

    def __setitem__(self, name: str, target) -> None:
        self.builtins[name] = target
        self.imported.pop(name, None)

    def __delitem__(self, name: str) -> None:
        del self.builtins[name]
        self.imported.pop(name, None)

    def __iter__(self):
        return iter(self.builtins)

    def __len__(self) -> int:
        return len(self.builtins)

    def check_kind(self, obj, name: str) -> None:
        if not self.accepts(obj):
            kind = type(obj).__name__
            what = (f"the class {obj.__name__}" if isinstance(obj, type) else
                    f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} ({repr(obj)[:40]})")
            raise UserError(f"{self.kind} {name!r} is {what}, not {self.expected}")

    def is_plugin(self, name: str) -> bool:
        """Whether `name` is not a built-in (a qualified name, or an entry point's)."""
        return name not in self.builtins

    def lookup(self, name: str):
        """The `kind` called `name`: built-in, "PKG.MODULE:NAME", or an entry point's short name;
        a UserError names the valid ones."""
        if name in self.builtins:
            return self[name]
        if is_qualified(name):
            return load_object(name, self.kind)
        points = entry_points(self.kind)
        if name in points:
            return load_entry_point(points[name], self.kind)
        valid = sorted({*self.builtins, *points, *self.also}) + [QUALIFIED]
        raise UserError(f"unknown {self.kind} {name!r}; valid: {', '.join(valid)}")

    def plugins(self) -> dict[str, object]:
        """Short name -> the object, or the UserError saying why it does not load, of each entry
        point in the kind's group that no built-in shadows (`bench list`)."""
        found = {}
        for name, point in entry_points(self.kind).items():
            if name in self.builtins:
                continue
            try:
                found[name] = load_entry_point(point, self.kind)
            except UserError as error:
                found[name] = error
        return found

    def provenance(self, name: str) -> dict | None:
        """A plug-in's provenance (None for a built-in)."""
        return provenance(self.lookup(name)) if self.is_plugin(name) else None
