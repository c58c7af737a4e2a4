"""Whether a GAN trained well, as numbers: per-step collapse signals and a run's health verdict.

A GAN's loss says little about its samples, so a GAN run records, per step (methods/infogan.py),
the spread of its fakes relative to real data, their mean pixel beside the real mean, and D's mean
probabilities; `gan_health` reduces the last half of log.csv to the run's `health.*` scores, and a
run whose health is 0 is marked unhealthy in every report (bench/reporting/report.py).
"""
from __future__ import annotations

import pandas as pd
import torch

MIN_FAKE_DIVERSITY = 0.1            # per step: below this the generator makes (nearly) one image
D_WIN_PROBABILITY = 0.99            # per step: D(real) above and D(fake) below 1 - this: D has won
HEALTHY_DIVERSITY = (0.5, 1.5)      # over the last half: fake spread / real spread within this
HEALTHY_PIXEL_GAP = 0.02            # over the last half: |mean fake pixel - mean real pixel| below this


@torch.no_grad()
def fake_diversity(fake: torch.Tensor, real: torch.Tensor) -> float:
    """Per-pixel standard deviation over the batch, averaged over pixels, of fake relative to real."""
    def spread(images):
        return images.float().flatten(1).std(dim=0).mean()
    return (spread(fake) / spread(real).clamp_min(1e-8)).item()


def collapsed(diversity: float, d_real: float, d_fake: float) -> bool:
    """One step's verdict: mode collapse, or a discriminator that separates real from fake outright."""
    d_has_won = d_real > D_WIN_PROBABILITY and d_fake < 1 - D_WIN_PROBABILITY
    return diversity < MIN_FAKE_DIVERSITY or d_has_won


def gan_health(log: pd.DataFrame) -> dict[str, float]:
    """health.* scores from the log rows of the last half of training (log.csv's interval means).

    collapsed_fraction: mean of the per-step collapse flag; fake_diversity and mean_pixel_gap as
    above; d_real and d_fake; healthy = 1 when nothing collapsed and the spread and the mean pixel
    are within HEALTHY_DIVERSITY and HEALTHY_PIXEL_GAP of the data's, else 0.
    """
    last_half = log[log["step"] > log["step"].max() / 2]
    if last_half.empty:
        last_half = log.tail(1)
    collapsed_fraction = float(last_half["collapsed"].mean())
    diversity = float(last_half["fake_diversity"].mean())
    pixel_gap = float(abs(last_half["fake_mean_pixel"].mean() - last_half["real_mean_pixel"].mean()))
    healthy = (collapsed_fraction == 0 and HEALTHY_DIVERSITY[0] <= diversity <= HEALTHY_DIVERSITY[1]
               and pixel_gap <= HEALTHY_PIXEL_GAP)
    return {"health.healthy": float(healthy), "health.collapsed_fraction": collapsed_fraction,
            "health.fake_diversity": diversity, "health.mean_pixel_gap": pixel_gap,
            "health.d_real": float(last_half["d_real"].mean()), "health.d_fake": float(last_half["d_fake"].mean())}
