"""Typed settings: the one place where a given value becomes its declared type and is checked.

Every typed parameter goes through here: a method's Params (methods/base.py, build_params), a
metric's Settings (metrics/base.py, Metric.settings_of) and the run settings of `bench run`
(bench/run_settings.py, read by bench/running/config.py). The rules, each with one wording:

- a value of the declared type is taken as it is (an integer where a number is wanted becomes a
  float); where the setting may be given as text (`from_text`: a method's `--set` values), text
  is read as the type; anything else: "WHERE takes KIND, not VALUE";
- a Literal (or a run setting's choices) takes one of its choices:
  "unknown value for WHERE 'VALUE'; valid: A, B";
- an integer is a size or a count, at least 1 unless declared `may_be_zero` (at least 0):
  "WHERE must be a positive integer, not 0";
- a number is finite ("WHERE takes a finite number, not nan"), and a learning rate (`lr`, `*_lr`)
  is above 0.

Only the standard library is imported: the CLI parser's declarations use these words too.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import typing

from bench.errors import UserError, unknown

KIND_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
VALUE_WORDS = {bool: "a boolean", int: "an integer", float: "a number", list: "a list", dict: "a table"}


def choices_of(kind) -> tuple | None:
    """The choices of a Literal type, or None for any other type."""
    return typing.get_args(kind) if typing.get_origin(kind) is typing.Literal else None


def kind_words(kind) -> str:
    """A declared type in words: "an integer"; a Literal of strings is "a string"."""
    return KIND_WORDS[str if choices_of(kind) is not None else kind]


def described(value) -> str:
    """A given value as a message shows it: text quoted ('high'), anything else with its kind
    (an integer (1))."""
    if isinstance(value, str):
        return repr(value)
    return f"{VALUE_WORDS.get(type(value), type(value).__name__)} ({value!r})"


def type_error(where: str, wanted: str, value) -> UserError:
    """The one wording of a value of the wrong kind: "WHERE takes WANTED, not VALUE"."""
    return UserError(f"{where} takes {wanted}, not {described(value)}")


def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def fits(value, kind) -> bool:
    """Whether `value` is of the declared type `kind` (bool, int, float, str or a Literal of
    strings): an integer fits a float, a boolean fits only bool; a Literal's choices are checked
    by `typed`."""
    if choices_of(kind) is not None:
        kind = str
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    if kind is int:
        return isinstance(value, numbers.Integral)
    if kind is float:
        return isinstance(value, numbers.Real)
    return isinstance(value, kind)


def param_text(value) -> str:
    """A value as --set spells it: true or false, a number's repr (4.0, 0.0001, 10), a string as
    it is. spec.json's overrides are stored so (bench/running/spec.py)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


def from_text(text: str, kind, where: str):
    """A value read from its command-line text as the declared type."""
    if kind is bool:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise type_error(where, kind_words(bool), text)
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            raise type_error(where, kind_words(kind), text) from None
    if kind is str or choices_of(kind) is not None:
        return text
    raise UserError(f"{where} cannot be set from the command line")


def typed(value, kind, where: str, text_allowed: bool = False, default=dataclasses.MISSING, wanted: str = ""):
    """`value` as the declared type `kind`, its choices checked. A value of that type is taken as
    it is (an integer where a number is wanted becomes a float); with `text_allowed` anything else
    is read from its text (param_text), so that a TOML value and --set's text of it give the same
    value or the same error. Messages say `wanted` (default: the kind in words, "like its default
    ..." where a default is given)."""
    if text_allowed and (isinstance(value, str) or not fits(value, kind)):
        value = from_text(param_text(value), kind, where)
    if not fits(value, kind):
        like = "" if default is dataclasses.MISSING else f" like its default {default!r}"
        raise type_error(where, wanted or kind_words(kind) + like, value)
    choices = choices_of(kind)
    if choices is not None and value not in choices:
        raise unknown(f"value for {where}", value, choices)
    if text_allowed and kind in (int, float):
        return kind(value)                    # as --set's text of it reads: 4 -> 4.0 for a number
    return value


def check_range(name: str, value, kind, where: str, may_be_zero: bool = False, wanted: str = "") -> None:
    """Sizes at least 1 (at least 0 where `may_be_zero`), numbers finite, learning rates above 0;
    `wanted` words a size's rule where "a positive integer" says too little."""
    if kind is int and is_int(value):
        least = 0 if may_be_zero else 1
        if value < least:
            rule = wanted or ("a non-negative integer" if may_be_zero else "a positive integer")
            raise UserError(f"{where} must be {rule}, not {value}")
    elif kind is float:
        if not math.isfinite(value):
            raise UserError(f"{where} takes a finite number, not {value}")
        if (name == "lr" or name.endswith("_lr")) and value <= 0:
            raise UserError(f"{where} (a learning rate) must be above 0, not {value}")


def build(cls, values: dict, owner: str, what: str, may_be_zero=(), text_allowed: bool = False):
    """The dataclass `cls` with `values` (name -> value) over its defaults: an unknown name fails
    ("unknown WHAT 'NAME'; valid: ..."), each value is typed (`typed`, named OWNER.NAME), and then
    every field, defaults too, is checked (`check_range`)."""
    hints = typing.get_type_hints(cls)
    fields = {field.name: field for field in dataclasses.fields(cls)}
    for name in values:
        if name not in fields:
            raise unknown(what, name, fields)
    built = cls(**{name: typed(value, hints[name], f"{owner}.{name}", text_allowed,
                               dataclasses.MISSING if text_allowed else fields[name].default)
                   for name, value in values.items()})
    for name in fields:
        check_range(name, getattr(built, name), hints[name], f"{owner}.{name}", name in may_be_zero)
    return built


def describe(cls) -> list[tuple[str, str, object]]:
    """(name, type, default) of each field of a settings dataclass, for `bench list`."""
    hints = typing.get_type_hints(cls)
    return [(field.name, "|".join(choices_of(hints[field.name])) if choices_of(hints[field.name]) is not None
             else hints[field.name].__name__, field.default) for field in dataclasses.fields(cls)]
