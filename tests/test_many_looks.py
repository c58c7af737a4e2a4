"""Verdicts that survive many looks (issue 34): Holm's adjustment by hand, a claim tested at several
budgets decided by Holm over them or by its primary budget alone, and claims written after the data."""
import math

import numpy as np
import pandas as pd
import pytest

from bench import reproduce
from bench.errors import UserError
from bench.reporting import claims
from bench.reporting.statistics import holm

LOW, HIGH = [0.1, 0.2, 0.3, 0.4, 0.5], [0.6, 0.7, 0.8, 0.9, 1.0]        # p = 1/252 for HIGH > LOW
NEAR_HIGH = [0.1, 0.2, 0.3, 0.4, 0.6], [0.5, 0.7, 0.8, 0.9, 1.0]      # U = 24: p = 2/252 for the second > first
CLAIM = {"claim": "b above v", "kind": "greater", "first": "b", "second": "v", "metric": "m.acc"}


def test_holm_by_hand():
    # sorted: 0.01, 0.02, 0.03, 0.5 with m = 4: 4 x 0.01 = 0.04, 3 x 0.02 = 0.06, 2 x 0.03 = 0.06, 1 x 0.5 = 0.5
    assert holm([0.03, 0.5, 0.01, 0.02]) == pytest.approx([0.06, 0.5, 0.04, 0.06])
    # the running maximum keeps the adjusted p's in the order of the raw ones: 3 x 0.01 = 0.03 < 2 x 0.04 = 0.08
    assert holm([0.04, 0.01, 0.045]) == pytest.approx([0.08, 0.03, 0.08])
    assert holm([0.4, 0.9]) == pytest.approx([0.8, 0.9])             # min(1, 2 x 0.9 = 1.8) = 1, max keeps 0.9
    assert holm([0.6, 0.7])[1] == 1.0 and holm([0.2])[0] == 0.2       # capped at 1; a family of one is its p
    adjusted = holm([0.01, math.nan, 0.02])                          # NaN: no test, not in the family (m = 2)
    assert adjusted[0] == pytest.approx(0.02) and math.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.02)


def along(by_step: dict) -> pd.DataFrame:
    """Long-format scores along training: step -> (b's five replicas, v's five); batch 64."""
    return pd.DataFrame([{"run_id": f"{method}-{seed}", "method": method, "params": "", "seed": seed, "steps": 300,
                          "step": step, "images": step * 64, "metric": "m.acc", "value": value}
                         for step, (first, second) in by_step.items()
                         for method, values in (("b", first), ("v", second)) for seed, value in enumerate(values)])


def test_a_claim_at_six_budgets_is_decided_by_holm_over_them():
    # The study's numbers in shape: five budgets where nothing separates, then one raw p = 1/252 at the last.
    flat = ([0.5] * 5, [0.5] * 5)                       # all tied: p = 1 each way
    table = claims.claims_by_budget(along({100: flat, 200: flat, 300: (HIGH, LOW)}), [CLAIM])
    assert list(table["p_value"].round(4)) == [1.0, 1.0, round(1 / 252, 4)]
    assert table["p_holm"].iloc[2] == pytest.approx(3 / 252)            # smallest of m = 3: 3 x p
    assert list(table["verdict"]) == ["inconclusive", "inconclusive", "supported"]
    assert set(table["rule"]) == {"Holm over 3 budgets"}
    # a raw p of 0.028 (U = 22 of 25) at the last of six budgets does not survive: 6 x 0.028 = 0.17
    mid = ([0.6, 0.62, 0.7, 0.8, 0.9], [0.1, 0.2, 0.4, 0.61, 0.65])     # U = 22: p = 7/252
    six = claims.claims_by_budget(along({step: flat for step in (10, 20, 30, 40, 50)} | {60: mid}), [CLAIM])
    last = six.iloc[-1]
    assert last["statistic"] == "U = 22" and last["p_value"] == pytest.approx(7 / 252)
    assert last["p_holm"] == pytest.approx(6 * 7 / 252) and last["verdict"] == "inconclusive"


def test_the_reverse_direction_is_its_own_holm_family():
    table = claims.claims_by_budget(along({100: NEAR_HIGH, 200: (LOW, HIGH)}), [CLAIM])
    # the reverse p's 2/252 and 1/252: adjusted 2/252 and 2 x 1/252, both below 0.05: contradicted at both
    assert list(table["verdict"]) == ["contradicted", "contradicted"]


def test_a_primary_budget_alone_decides_and_the_others_are_exploratory():
    flat = ([0.5] * 5, [0.5] * 5)
    primary = {**CLAIM, "primary_steps": 300}
    by_step = {100: (HIGH, LOW), 200: flat, 300: (HIGH, LOW)}
    table = claims.claims_by_budget(along(by_step), [primary])
    assert list(table["verdict"]) == ["exploratory (step 300 decides)"] * 2 + ["supported"]
    assert set(table["rule"]) == {"primary budget (step 300)"}
    assert table["p_holm"].iloc[2] == pytest.approx(3 / 252)        # still reported (max(3p, 2p)), deciding nothing
    assert claims.holding_from(table, [primary]) == [
        "b above v (m.acc): supported at its primary budget, 19,200 images (step 300, raw p = 0.0040); the other "
        "budgets are exploratory"]
    early = claims.claims_by_budget(along({100: (HIGH, LOW), 200: flat}), [primary])
    assert set(early["verdict"]) == {"exploratory (step 300 decides)"}
    assert claims.holding_from(early, [primary]) == [
        "b above v (m.acc): undecided: its primary budget, step 300, is not scored yet"]


def test_the_last_step_table_takes_the_family_s_decision():
    flat = ([0.5] * 5, [0.5] * 5)
    curves = along({step: flat for step in (50, 100, 150, 200, 250)} | {300: (HIGH, LOW)})
    by_budget = claims.claims_by_budget(curves, [CLAIM])
    once = claims.test_claims(curves[curves["step"] == 300], [CLAIM])
    assert once.loc[0, "verdict"] == "supported" and once.loc[0, "rule"] == "one test"
    decided = claims.family_decisions(once, by_budget, [CLAIM])
    assert decided.loc[0, "p_value"] == pytest.approx(1 / 252)
    assert decided.loc[0, "p_adjusted"] == pytest.approx(6 / 252)
    assert decided.loc[0, "rule"] == "Holm over 6 budgets" and decided.loc[0, "verdict"] == "supported"


def test_the_last_step_table_of_a_primary_claim_takes_its_raw_p_there_and_none_elsewhere():
    flat = ([0.5] * 5, [0.5] * 5)
    primary = {**CLAIM, "primary_steps": 200}
    curves = along({100: flat, 200: (HIGH, LOW), 300: (HIGH, LOW)})
    at_primary = claims.claims_by_budget(curves[curves["step"] <= 200], [primary])
    once = claims.test_claims(curves[curves["step"] == 200], [primary])
    decided = claims.family_decisions(once, at_primary, [primary])
    assert decided.loc[0, "p_adjusted"] == pytest.approx(1 / 252)           # its raw p, not Holm's 2 x 1/252
    assert decided.loc[0, "rule"] == "primary budget (step 200)" and decided.loc[0, "verdict"] == "supported"
    past = claims.family_decisions(claims.test_claims(curves[curves["step"] == 300], [primary]),
                                   claims.claims_by_budget(curves, [primary]), [primary])
    assert math.isnan(past.loc[0, "p_adjusted"]) and past.loc[0, "verdict"] == "exploratory (step 200 decides)"
    assert past.loc[0, "p_value"] == pytest.approx(1 / 252)                 # the last step's own test, still shown


def test_a_near_claim_over_budgets_widens_its_interval_bonferroni():
    close = ([0.50, 0.51, 0.52, 0.53, 0.54], [0.50, 0.51, 0.52, 0.53, 0.55])
    near = {"claim": "b near v", "kind": "near", "first": "b", "second": "v", "margin": 0.05, "metric": "m.acc"}
    table = claims.claims_by_budget(along({100: close, 200: close}), [near])
    assert set(table["rule"]) == {"97.5% interval, Bonferroni over 2 budgets"}
    assert table["statistic"].iloc[0].startswith("mean difference -0.002, 97.5% CI")
    assert set(table["verdict"]) == {"supported"}


def test_preset_fields_of_a_claim_are_checked():
    for bad, message in (({"primary_steps": 0}, "primary_steps must be a positive number of steps"),
                         ({"primary_steps": "31250"}, "primary_steps must be a positive number"),
                         ({"added_after_data": "yesterday"}, "added_after_data must be the date"),
                         ({"primary_step": 31250}, "unknown key 'primary_step'; valid: claim, kind")):
        with pytest.raises(UserError, match=message):
            claims.check([{**CLAIM, **bad}])
    import datetime
    assert claims.added_after_data({**CLAIM, "added_after_data": datetime.date(2026, 12, 7)}) == "2026-12-07"
    assert claims.added_after_data(CLAIM) is None


def test_a_claim_added_after_the_data_is_marked_in_claims_md():
    late = {**CLAIM, "claim": "v above b", "first": "v", "second": "b", "added_after_data": "2026-12-07"}
    table = claims.test_claims(along({300: (HIGH, LOW)}), [CLAIM, late])
    shown = reproduce.readable_claims(table, [CLAIM, late])
    assert list(shown["claim"]) == ["b above v", "v above b [added after data]"]
    assert "written after their numbers were seen" in reproduce.added_after_data_note([CLAIM, late])
    assert "v above b (2026-12-07)" in reproduce.added_after_data_note([CLAIM, late])
    assert reproduce.added_after_data_note([CLAIM]) == ""


def test_no_preset_claim_names_an_unknown_key():
    from bench.defaults import presets
    from bench.reporting.preset import preset_table
    for name in presets():
        claims.check(preset_table(name, "claims"), preset_table(name, "paper").get("metric"))
    study = preset_table("vae_family_budget", "claims")
    seen_first = [entry for entry in study if {entry["first"], entry["second"]} == {"beta_vae", "vae"}]
    assert seen_first and not any("primary_steps" in entry for entry in seen_first)   # their data came first
    assert {entry.get("primary_steps") for entry in study if "added_after_data" not in entry} - {None} == {31250}
    assert not any("primary_steps" in entry for entry in study if "added_after_data" in entry)


def test_a_primary_claim_without_runs_names_its_rule():
    table = claims.test_claims(along({300: (HIGH, LOW)}), [{**CLAIM, "first": "absent", "primary_steps": 300}])
    assert table.loc[0, "rule"] == "primary budget (step 300)" and table.loc[0, "verdict"] == "inconclusive (no runs)"
    unscored = claims.claims_by_budget(along({300: (HIGH, LOW)}), [{**CLAIM, "first": "absent", "primary_steps": 300}])
    assert claims.holding_from(unscored, [{**CLAIM, "first": "absent", "primary_steps": 300}]) == [
        "b above v (m.acc): undecided: its primary budget, step 300, is not scored yet"]


def test_a_claim_scored_at_one_budget_is_one_test():
    table = claims.claims_by_budget(along({300: (HIGH, LOW)}), [CLAIM])
    assert list(table["rule"]) == ["one test"] and table["p_holm"].iloc[0] == table["p_value"].iloc[0]
    assert list(table["verdict"]) == ["supported"]
