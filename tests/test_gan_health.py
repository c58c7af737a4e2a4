"""A GAN run's health verdict from its log: healthy runs pass, each kind of failure is caught, and
report tables leave unhealthy runs out of their numbers while listing them."""
import numpy as np
import pandas as pd
import pytest

from bench.reporting.report import headline, summary, unhealthy_table
from methods.gan_health import collapsed, gan_health


def log(steps=20, **columns) -> pd.DataFrame:
    """A log.csv of interval means: a healthy run unless `columns` say otherwise."""
    frame = {"step": np.arange(1, steps + 1) * 100, "collapsed": 0.0, "fake_diversity": 0.9,
             "fake_mean_pixel": 0.034, "real_mean_pixel": 0.033, "d_real": 0.55, "d_fake": 0.45}
    return pd.DataFrame({**frame, **columns})


def test_a_healthy_log_is_healthy_and_early_collapse_does_not_count():
    early_collapse = np.r_[np.ones(10), np.zeros(10)]
    health = gan_health(log(collapsed=early_collapse))
    assert health["health.healthy"] == 1.0 and health["health.collapsed_fraction"] == 0.0
    assert health["health.mean_pixel_gap"] == pytest.approx(0.001)
    assert health["health.fake_diversity"] == pytest.approx(0.9)


@pytest.mark.parametrize("columns", [
    {"collapsed": np.r_[np.zeros(15), np.full(5, 0.2)]},        # collapse in the last half
    {"fake_diversity": 0.3},                                      # too little spread
    {"fake_diversity": 1.8},                                      # noise rather than sprites
    {"fake_mean_pixel": 0.39},                                    # the grey texture of the old run
])
def test_each_kind_of_failure_makes_a_run_unhealthy(columns):
    assert gan_health(log(**columns))["health.healthy"] == 0.0


def test_a_step_collapses_when_fakes_are_alike_or_the_discriminator_has_won():
    assert collapsed(0.05, 0.6, 0.4) and collapsed(0.9, 0.995, 0.005)
    assert not collapsed(0.9, 0.95, 0.05)


def test_tables_leave_unhealthy_runs_out_of_their_numbers_and_list_them():
    rows = [("gan-seed0", 0.7, 1.0), ("gan-seed1", 0.8, 1.0), ("gan-seed2", 0.2, 0.0)]
    scores = pd.DataFrame(
        [{"run_id": run, "method": "infogan", "params": "{}", "metric": "m.acc", "value": value} for run, value, _ in rows]
        + [{"run_id": run, "method": "infogan", "params": "{}", "metric": "health.healthy", "value": ok} for run, _, ok in rows])
    table = summary(scores)
    accuracy = table[table["metric"] == "m.acc"].iloc[0]
    assert accuracy["mean"] == pytest.approx(0.75) and accuracy["count"] == 2 and accuracy["unhealthy"] == 1
    shown = headline(table).loc["InfoGAN"]
    assert shown["n"] == 2 and shown["m.acc"] == "0.750" and shown["health"] == "2 of 3 healthy"
    assert list(unhealthy_table(scores)["run_id"]) == ["gan-seed2"]
