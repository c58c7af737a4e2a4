"""Which runs a table's numbers come from: a run whose training health says it failed (e.g. a
collapsed GAN, methods/gan_health.py) is left out, its health.* values still shown."""
from __future__ import annotations

import pandas as pd

HEALTHY_KEY = "health.healthy"


def unhealthy_run_ids(scores: pd.DataFrame) -> set[str]:
    """Runs whose training health (methods/gan_health.py) says they failed, e.g. a collapsed GAN."""
    return set(scores[(scores["metric"] == HEALTHY_KEY) & (scores["value"] < 1)]["run_id"])


def healthy_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """The scores of the runs that are not unhealthy: the only ones a table's numbers come from."""
    return scores[~scores["run_id"].isin(unhealthy_run_ids(scores))]
