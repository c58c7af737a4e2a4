"""The methods of a folder compared (issue 34), on hand-made scores whose answers are known: Kruskal-Wallis
and eta^2 on separated groups by hand, Holm over the ordered pairs, mean ranks, the rank correlation of the
metrics, the two figures, and which folders get the comparison."""
import math

import pandas as pd
import pytest

from bench.reporting import method_comparison
from bench.reporting.figures import methods_compared as method_figures

LOW, MID, HIGH = [1, 2, 3, 4, 5], [11, 12, 13, 14, 15], [21, 22, 23, 24, 25]
KEY, MIRROR, MIG = "beta_vae.eval_accuracy", "factor_vae.eval_accuracy", "mig.score"


def scores(values: dict, keys=(KEY,), unhealthy: tuple = ()) -> pd.DataFrame:
    """method -> its seeds' values; every key gets them (MIRROR the negatives, MIG the same)."""
    rows = []
    for method, seeds in values.items():
        for seed, value in enumerate(seeds):
            run = f"{method}-seed{seed}"
            for key in keys:
                rows.append({"run_id": run, "method": method, "params": "", "seed": seed, "metric": key,
                             "value": -value if key == MIRROR else value})
            if run in unhealthy:
                rows.append({"run_id": run, "method": method, "params": "", "seed": seed, "metric": "health.healthy",
                             "value": 0.0})
    return pd.DataFrame(rows)


def test_kruskal_wallis_eta_squared_and_pairs_on_separated_groups_by_hand():
    wide, order = method_comparison.values_by_run(scores({"vae": LOW, "beta_vae": MID, "factor_vae": HIGH}))
    assert list(order) == ["VAE", "beta-VAE", "FactorVAE"]
    tests = method_comparison.compare(wide, order)
    across = tests[tests["test"] == "kruskal_wallis"].iloc[0]
    # mean ranks 3, 8, 13 of N = 15: H = 12 / (15 x 16) x 5 (9 + 64 + 169) - 3 x 16 = 12.5; p = exp(-12.5 / 2)
    assert across["statistic"] == "H = 12.50" and across["p_value"] == pytest.approx(math.exp(-6.25))
    # means 3, 13, 23: SS_between = 5 (100 + 0 + 100) = 1000, SS_within = 3 x 10: eta^2 = 1000 / 1030
    assert across["eta2"] == pytest.approx(1000 / 1030) and across["eta2_no_effect"] == pytest.approx(2 / 14)
    assert across["p_holm"] == across["p_value"] and across["verdict"].startswith("the methods differ")
    pairs = tests[tests["test"] == "mann_whitney_greater"].set_index(["first", "second"])
    assert len(pairs) == 6                                          # every ordered pair of three
    upward = pairs.loc[("FactorVAE", "VAE")]
    # m = 6 ordered pairs, three at p = 1/252: Holm gives 6/252, then max(6/252, 5/252), max(6/252, 4/252)
    assert upward["p_value"] == pytest.approx(1 / 252) and upward["p_holm"] == pytest.approx(6 / 252)
    assert upward["verdict"] == "first above second" and upward["effect_size"] == 1.0
    assert pairs.loc[("VAE", "beta-VAE"), "p_holm"] == 1.0
    assert set(pairs["verdict"]) == {"first above second", "not shown"} and (pairs["verdict"] != "not shown").sum() == 3


def test_kruskal_wallis_across_metrics_is_one_holm_family():
    overlapping = {"vae": [1, 5, 9], "beta_vae": [2, 6, 10], "factor_vae": [3, 4, 8]}
    both = pd.concat([scores({"vae": LOW, "beta_vae": MID, "factor_vae": HIGH}, (KEY,)),
                      scores(overlapping, (MIG,))])
    tests = method_comparison.compare(*method_comparison.values_by_run(both))
    across = tests[tests["test"] == "kruskal_wallis"].set_index("metric")
    assert across.loc[KEY, "p_holm"] == pytest.approx(2 * math.exp(-6.25))     # the smaller of two: 2 x p
    assert across.loc[MIG, "verdict"] == "no difference shown" and across.loc[MIG, "p_value"] > 0.5


def test_mean_ranks_and_the_rank_correlation_of_the_metrics():
    values = scores({"vae": LOW, "beta_vae": MID, "factor_vae": HIGH}, (KEY, MIRROR, MIG))
    wide, order = method_comparison.values_by_run(values)
    ranks = method_comparison.mean_ranks(wide, order)
    assert list(ranks[KEY]) == [13.0, 8.0, 3.0] and list(ranks[MIRROR]) == [3.0, 8.0, 13.0]      # 1 = highest
    rho = method_comparison.rank_correlation(wide)
    assert list(rho.columns) == [KEY, MIRROR, MIG]
    assert rho.loc[KEY, MIRROR] == pytest.approx(-1) and rho.loc[KEY, MIG] == pytest.approx(1)


def test_unhealthy_runs_are_left_out():
    values = scores({"vae": LOW, "beta_vae": MID, "factor_vae": HIGH}, unhealthy=("vae-seed0", "vae-seed1"))
    wide, order = method_comparison.values_by_run(values)
    assert len(wide) == 13 and "health.healthy" not in wide.columns
    tests = method_comparison.compare(wide, order)
    assert tests[tests["test"] == "kruskal_wallis"].iloc[0]["n"] == "3 / 5 / 5"


def test_a_folder_of_three_methods_gets_the_comparison_and_two_do_not(tmp_path):
    three = scores({"vae": LOW, "beta_vae": MID, "factor_vae": HIGH}, (KEY, MIRROR))
    written = method_comparison.write(tmp_path, three)
    assert [path.name for path in written] == ["method_comparison.csv", "method_comparison.md", "method_seeds.png",
                                               "metric_correlation.png"]
    table = pd.read_csv(tmp_path / "method_comparison.csv")
    assert list(table.columns) == method_comparison.COLUMNS and len(table) == 2 * (1 + 6)
    text = (tmp_path / "method_comparison.md").read_text()
    assert text.startswith("3 of 3 methods (3 configurations, 15 healthy runs, 5-5 a configuration)")
    assert f"- {KEY}: FactorVAE above VAE (U = 25, p = 0.0040, Holm 0.0238)" in text
    assert method_comparison.write(tmp_path / "two", scores({"vae": LOW, "beta_vae": MID})) == []


def test_a_preset_folder_names_the_methods_that_have_not_landed(tmp_path):
    (tmp_path / "preset.txt").write_text("vae_family_budget\n")
    two = scores({"vae": LOW, "beta_vae": HIGH})
    method_comparison.write(tmp_path, two, plots=False)
    text = (tmp_path / "method_comparison.md").read_text()
    assert text.startswith("2 of 6 methods") and "missing: factor_vae, beta_tcvae, dip_vae_i, annealed_vae" in text
    # 5 vs 5: the smallest pair p is 1/252, and Holm over the 2 ordered pairs lets it pass
    assert ("smallest one-sided Mann-Whitney p of a pair is 0.004 (exact, without ties); Holm multiplies the "
            "smallest of a metric's 2") in text
    assert not (tmp_path / "method_seeds.png").exists()


def test_the_figures_show_every_seed_and_every_correlation():
    values = scores({"vae": LOW, "beta_vae": MID, "factor_vae": HIGH}, (KEY, MIRROR, MIG))
    wide, order = method_comparison.values_by_run(values)
    ranks, tests = method_comparison.mean_ranks(wide, order), method_comparison.compare(wide, order)
    figure = method_figures.seeds_and_ranks_figure(wide, ranks, tests)
    panels = [axis for axis in figure.axes if axis.get_visible()]
    assert len(panels) == 3                                          # three keys alike: Holm's p is 3 p
    assert panels[0].get_title() == KEY + "\nKruskal-Wallis raw p = 0.00193, Holm 0.00579"
    assert sum(len(c.get_offsets()) for c in panels[0].collections if c.get_gid() == "seed") == 15
    assert [tick.get_text() for tick in panels[0].get_xticklabels()] == ["VAE\nrank 13.0", "beta-VAE\nrank 8.0",
                                                                        "FactorVAE\nrank 3.0"]
    heatmap = method_figures.correlation_figure(method_comparison.rank_correlation(wide))
    shown = heatmap.axes[0].images[0].get_array()
    assert shown.shape == (3, 3) and shown[0, 1] == pytest.approx(-1)


def test_a_pair_is_a_finding_only_where_the_metric_s_kruskal_wallis_passes():
    # two metrics: on KEY the groups separate; on MIG two of three methods do, by less than Kruskal-Wallis needs
    separated = scores({"vae": LOW, "beta_vae": MID, "factor_vae": HIGH}, (KEY,))
    weak = scores({"vae": [1, 2, 3, 4, 5], "beta_vae": [6, 7, 8, 9, 10], "factor_vae": [0, 2.5, 5.5, 8.5, 11]},
                  (MIG,))
    tests = method_comparison.compare(*method_comparison.values_by_run(pd.concat([separated, weak])))
    mig = tests[tests["metric"] == MIG].set_index(["test", "first", "second"])
    assert mig.loc[("kruskal_wallis", "all", ""), "p_holm"] > 0.05
    pair = mig.loc[("mann_whitney_greater", "beta-VAE", "VAE")]
    assert pair["p_holm"] < 0.05 and pair["verdict"] == method_comparison.EXPLORATORY
    key = tests[(tests["metric"] == KEY) & (tests["test"] == "mann_whitney_greater")]
    assert (key["verdict"] == method_comparison.PASSES).sum() == 3


def test_bench_report_writes_the_comparison_into_report_html(tmp_path):
    from bench.cli import main
    from bench.running.store import SCORE_COLUMNS
    frame = scores({"vae": LOW, "beta_vae": MID, "factor_vae": HIGH}, (KEY, MIG)).assign(
        dataset="dsprites", steps=100, step=100, precision="fp32", metric_settings="{}", torch="", numpy="",
        sklearn="")
    frame[SCORE_COLUMNS].to_csv(tmp_path / "scores.csv", index=False)
    assert main(["report", str(tmp_path), "--no-plots"]) == 0
    page = (tmp_path / "report.html").read_text()
    assert "The methods compared at the last budget" in page and "Kruskal-Wallis" in page
    assert (tmp_path / "method_comparison.csv").exists() and not (tmp_path / "method_seeds.png").exists()
    assert main(["report", str(tmp_path)]) == 0
    page = (tmp_path / "report.html").read_text()
    assert '<figure id="method_seeds">' in page and '<figure id="metric_correlation">' in page
    assert page.index('<figure id="metrics">') < page.index('<figure id="method_seeds">')


def test_the_axis_names_a_method_alone_unless_two_configurations_share_it():
    assert method_figures.tick_names(["VAE", "beta-VAE (beta=4)"]) == {"VAE": "VAE", "beta-VAE (beta=4)": "beta-VAE"}
    shared = method_figures.tick_names(["beta-VAE (beta=1)", "beta-VAE (beta=4)"])
    assert list(shared.values()) == ["beta-VAE\n(beta=1)", "beta-VAE\n(beta=4)"]


def test_two_configurations_that_read_alike_stay_apart():
    """beta "4" and 4.0 (runs of different days) label alike; they stay two configurations, as in table.md."""
    frame = scores({"beta_vae": LOW + MID})
    frame.loc[frame["seed"] < 5, "params"] = '{"beta": "4"}'
    frame.loc[frame["seed"] >= 5, "params"] = '{"beta": 4.0}'
    wide, order = method_comparison.values_by_run(frame)
    assert len(order) == 2 and len(set(order)) == 2
    assert wide.groupby("configuration", observed=True).size().tolist() == [5, 5]
