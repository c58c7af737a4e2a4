"""The presets of `bench reproduce` (bench/presets/NAME.toml): their own tables ([paper],
[protocols], [claims], [budgets]), the methods they run and which preset wrote a results folder."""
from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:                                                   # pragma: no cover
    import tomli as tomllib

from bench.defaults import PRESETS
from bench.defaults import presets as available
from bench.errors import unknown

PRESET_FILE = "preset.txt"


def preset_path(name: str) -> Path:
    if name not in available():
        raise unknown("preset", name, available())
    return PRESETS / f"{name}.toml"


def preset_table(name: str, table: str, default=None):
    """One of a preset's own tables ([paper], [protocols]) or keys (`methods`); `default` ({} unless
    given) when it has none."""
    with open(preset_path(name), "rb") as handle:
        return tomllib.load(handle).get(table, {} if default is None else default)


def preset_methods(name: str) -> list[str]:
    """The methods a preset runs (its top-level `methods`); [] for a preset no longer known."""
    return list(preset_table(name, "methods", [])) if name in available() else []


def preset_of(results_dir: Path) -> str | None:
    """The preset whose reproduction wrote `results_dir` (its PRESET_FILE), or None."""
    path = Path(results_dir) / PRESET_FILE
    return path.read_text().strip() if path.exists() else None


def paper_of(results_dir: Path) -> dict:
    """The [paper] table of the preset that wrote `results_dir` (bench reproduce), or {}."""
    preset = preset_of(results_dir)
    if not preset or preset not in available():
        return {}
    return preset_table(preset, "paper")
