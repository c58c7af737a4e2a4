"""Which runs of a results folder are replicas of one configuration, as every table, claim and
figure counts them: runs whose configuration (StoredSpec.configuration_key) differs only in the
seed, read from scores.csv: the same method and parameters (its `params`) and the same
RUN_SETTINGS, the other fields of the key that scores.csv has a column for (dataset, steps,
precision; it has none for the data source). Runs of one method and parameters that differ in any
of those (`bench run --steps 4000`, then `--steps 8000`, into one folder) are kept apart by
writing the setting that differs into their `params` ({"beta": "4", "steps": "8000"}), so that no
summary pools two budgets, datasets or precisions as if they were seeds of one."""
from __future__ import annotations

import json

import pandas as pd

from bench.running.spec import CONFIGURATION

# The fields of a run's configuration beside its method, parameters and seed (a column of
# scores.csv where it has one).
RUN_SETTINGS = tuple(name for name in CONFIGURATION if name not in ("method", "params", "seed"))


def configurations_apart(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (scores.csv's rows) with the RUN_SETTINGS that vary among the runs of one (method,
    params) added to those runs' params; unchanged where none varies (the usual folder). A column
    a file lacks (`precision` before it was written) is not compared."""
    settings = [name for name in RUN_SETTINGS if name in frame.columns]
    if frame.empty or not settings:
        return frame
    params = frame["params"].fillna("")
    varying = frame.assign(params=params).groupby(["method", "params"])[settings].nunique() > 1
    varying = varying[varying.any(axis=1)]
    if varying.empty:
        return frame
    apart = params.copy()
    for (method, shared), differs in varying.iterrows():
        names = [name for name in settings if differs[name]]
        rows = (frame["method"] == method) & (params == shared)
        base = json.loads(shared) if shared else {}
        apart[rows] = [json.dumps({**base, **{name: str(value) for name, value in zip(names, values)}},
                                  sort_keys=True)
                       for values in frame.loc[rows, names].itertuples(index=False)]
    return frame.assign(params=apart)


def method_params(params: dict) -> dict:
    """A configuration's parameters without the RUN_SETTINGS configurations_apart may have added."""
    return {name: value for name, value in params.items() if name not in RUN_SETTINGS}
