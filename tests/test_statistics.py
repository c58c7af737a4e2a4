"""Replica summaries and the claims table on inputs whose answers are known by hand."""
import math

import pandas as pd
import pytest

from bench.reporting.claims import test_claims as claims_table
from bench.reporting.statistics import bootstrap_interval, greater_test, replica_summary, top_half_mean


def test_bootstrap_interval_of_two_values_spans_them_and_of_equal_values_is_a_point():
    # Resampled means of [0, 1] are 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4: the 2.5% and
    # 97.5% quantiles are 0 and 1.
    assert bootstrap_interval([0.0, 1.0]) == (0.0, 1.0)
    assert bootstrap_interval([0.7, 0.7, 0.7]) == (pytest.approx(0.7), pytest.approx(0.7))
    assert bootstrap_interval([0.4]) == (0.4, 0.4)
    assert all(math.isnan(v) for v in bootstrap_interval([]))


def test_bootstrap_interval_narrows_around_the_mean_as_replicas_agree():
    low, high = bootstrap_interval([0.80, 0.82, 0.84, 0.86, 0.88])
    assert 0.80 < low < 0.84 < high < 0.88
    wide_low, wide_high = bootstrap_interval([0.60, 0.72, 0.84, 0.96, 1.08])
    assert wide_high - wide_low > 4 * (high - low)


def test_top_half_keeps_the_best_half_rounded_up():
    assert top_half_mean([0.1, 0.9, 0.5, 0.7]) == pytest.approx(0.8)
    assert top_half_mean([1, 2, 3, 4, 5]) == pytest.approx(4.0)
    assert top_half_mean([0.3]) == pytest.approx(0.3)


def test_replica_summary_values():
    summary = replica_summary([0.2, 0.4, 0.9])
    assert summary["n"] == 3 and summary["median"] == pytest.approx(0.4)
    assert summary["mean"] == pytest.approx(0.5) and summary["std"] == pytest.approx(0.3605551, abs=1e-6)
    assert summary["top_half"] == pytest.approx(0.65)
    assert replica_summary([0.5])["std"] == 0.0


def test_one_sided_rank_test_matches_the_exact_distribution():
    # Five against five with no overlap: U = 25, exact p = 1 / C(10, 5) = 1 / 252.
    u, p, effect = greater_test([6, 7, 8, 9, 10], [1, 2, 3, 4, 5])
    assert u == 25 and p == pytest.approx(1 / 252) and effect == 1.0
    u, p, effect = greater_test([1, 2, 3], [4, 5, 6])
    assert u == 0 and p == pytest.approx(1.0) and effect == 0.0
    # Three against three, reversed: the smallest possible p is 1 / C(6, 3) = 0.05, not below it.
    assert greater_test([4, 5, 6], [1, 2, 3])[1] == pytest.approx(0.05)


def synthetic_scores(values_by_method: dict[str, list[float]], unhealthy=()) -> pd.DataFrame:
    rows = []
    for method, values in values_by_method.items():
        for seed, value in enumerate(values):
            run_id = f"{method}-seed{seed}"
            rows.append({"run_id": run_id, "method": method, "params": "", "metric": "m.acc", "value": value})
            if method in unhealthy:
                rows.append({"run_id": run_id, "method": method, "params": "", "metric": "health.healthy",
                             "value": 0.0})
    return pd.DataFrame(rows)


CLAIMS = [
    {"claim": "a above b", "kind": "greater", "first": "a", "second": "b"},
    {"claim": "b above a", "kind": "greater", "first": "b", "second": "a"},
    {"claim": "a above c", "kind": "greater", "first": "a", "second": "c"},
    {"claim": "a near d", "kind": "near", "first": "a", "second": "d", "margin": 0.05},
    {"claim": "a near b", "kind": "near", "first": "a", "second": "b", "margin": 0.05},
    {"claim": "a near c", "kind": "near", "first": "a", "second": "c", "margin": 0.05},
]


def test_claims_have_the_columns_and_the_verdicts_that_the_numbers_give():
    scores = synthetic_scores({"a": [0.90, 0.91, 0.92, 0.93, 0.94], "b": [0.50, 0.52, 0.54, 0.56, 0.58],
                               "c": [0.80, 0.95, 0.85, 0.99, 0.88], "d": [0.91, 0.92, 0.90, 0.93, 0.92]})
    table = claims_table(scores, CLAIMS, "m.acc")
    assert list(table.columns) == ["claim", "rows", "n", "statistic", "p_value", "p_adjusted", "rule", "effect_size",
                                   "verdict"]
    assert list(table["rule"]) == ["one test"] * 3 + ["95% interval"] * 3       # one look each: its own p decides
    assert table["p_adjusted"].iloc[0] == table["p_value"].iloc[0]
    verdicts = dict(zip(table["claim"], table["verdict"]))
    assert verdicts == {"a above b": "supported", "b above a": "contradicted", "a above c": "inconclusive",
                        "a near d": "supported", "a near b": "contradicted", "a near c": "inconclusive"}
    first = table.iloc[0]
    assert first["n"] == "5 vs 5" and first["p_value"] == pytest.approx(1 / 252) and first["effect_size"] == 1.0


def test_claims_leave_unhealthy_runs_to_the_caller_and_say_when_a_row_has_no_runs():
    scores = synthetic_scores({"a": [0.9, 0.91, 0.92], "b": [0.5, 0.6, 0.7]})
    table = claims_table(scores, [{"claim": "a above z", "kind": "greater", "first": "a", "second": "z"}], "m.acc")
    assert table.iloc[0]["verdict"] == "inconclusive (no runs)" and table.iloc[0]["n"] == "3 vs 0"


def test_a_near_claim_needs_two_replicas_in_each_row():
    scores = synthetic_scores({"a": [0.90, 0.91, 0.92], "d": [0.50]})
    table = claims_table(scores, [{"claim": "a near d", "kind": "near", "first": "a", "second": "d", "margin": 0.05}],
                         "m.acc")
    assert table.iloc[0]["verdict"] == "inconclusive (fewer than 2 replicas in a row)"
