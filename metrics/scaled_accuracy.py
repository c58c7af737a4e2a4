"""The review's rescaling of a vote classifier's accuracy (Zaidi et al. 2020, arXiv 2012.09276,
section 3.1; its implementation's `scale=True`): chance, 1 / K for K factors, maps to 0 and a
perfect classifier to 1 (Z-diff, Z-min-var, Z-max-var)."""
from __future__ import annotations


def above_chance(accuracy: float, num_factors: int) -> float:
    """(accuracy - 1/K) / (1 - 1/K); negative below chance, as there."""
    chance = 1.0 / num_factors
    return float((accuracy - chance) / (1.0 - chance))
