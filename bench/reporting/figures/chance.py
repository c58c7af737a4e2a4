"""The score a useless code gets on each metric key of a results folder where it is known: what
the metric declares (metrics/base.py, Metric.chance: from the dataset and the settings stored
with the score), and a preset's `chance` (in %) for its metric."""
from __future__ import annotations

import json

import pandas as pd

import metrics
from bench import data
from bench.errors import UserError


def chance_levels(scores: pd.DataFrame, datasets: dict, paper: dict) -> dict[str, float]:
    """Metric key -> its chance level, for the keys of `scores` whose metric declares one (the
    first row's dataset and metric settings; `datasets` caches the datasets loaded, by name) and
    the preset's metric."""
    chance = {}
    for key, rows in scores.groupby("metric"):
        name, _, short_key = key.partition(".")
        try:
            declared = metrics.metric(name).chance          # a built-in or a plug-in's declaration
        except UserError:                                   # a metric no longer importable: no chance line
            continue
        if declared is None:
            continue
        try:
            settings = json.loads(rows["metric_settings"].iloc[0]) if "metric_settings" in rows else {}
            dataset_name = rows["dataset"].iloc[0]
            dataset = datasets.get(dataset_name) or datasets.setdefault(dataset_name, data.load(dataset_name))
            levels = declared(dataset, settings)
        except (UserError, KeyError, TypeError, ValueError):    # unknown dataset or settings: no chance line
            continue
        if short_key in levels:
            chance[key] = levels[short_key]
    if "chance" in paper:
        chance[paper["metric"]] = paper["chance"] / 100
    return chance
