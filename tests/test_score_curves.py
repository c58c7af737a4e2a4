"""Scores along training in the report: the claims tested at every budget with the
budget from which each holds, curves.png (score against images seen) linked from report.html, and
the per-budget claims of a preset written into its folder.

The sweep here is tiny (20 steps, scored at step 10, checkpoints and log rows every 10; batch 16)."""
import pandas as pd
import pytest

from bench import reproduce
from bench.cli import main
from bench.errors import UserError
from bench.reporting import claims
from bench.reporting.figures import score_curves
from bench.reporting.curves import along_training
from bench.running.run_folder import readable_specs
from bench.running.store import final_scores
from metrics import headline_keys

ACCURACY, MIG = "beta_vae.eval_accuracy", "mig.score"
LOW, HIGH = [0.1, 0.2, 0.3, 0.4, 0.5], [0.6, 0.7, 0.8, 0.9, 1.0]
OVERLAPPING = ([0.1, 0.3, 0.5, 0.7, 0.9], [0.2, 0.4, 0.6, 0.8, 1.0])       # U = 10 of 25 for the first


def synthetic(values_by_key: dict) -> pd.DataFrame:
    """Long-format scores along training: key -> step -> (beta_vae's five replicas, vae's five); batch 64."""
    rows = []
    for key, by_step in values_by_key.items():
        for step, (first, second) in by_step.items():
            for method, values in (("beta_vae", first), ("vae", second)):
                rows += [{"run_id": f"{method}-seed{seed}", "method": method, "params": "", "seed": seed, "steps": 300,
                          "step": step, "images": step * 64, "metric": key, "value": value}
                         for seed, value in enumerate(values)]
    return pd.DataFrame(rows)


CLAIMS = [{"claim": "beta-VAE above the VAE", "kind": "greater", "first": "beta_vae", "second": "vae"},
          {"claim": "the VAE above beta-VAE", "kind": "greater", "first": "vae", "second": "beta_vae"},
          {"claim": "beta-VAE above the VAE on MIG", "kind": "greater", "first": "beta_vae", "second": "vae",
           "metric": MIG}]


def test_a_claim_is_tested_at_every_budget_and_says_from_which_one_it_holds():
    curves = synthetic({ACCURACY: {100: OVERLAPPING, 200: (HIGH, LOW), 300: (HIGH, LOW)},
                        MIG: {100: (HIGH, LOW), 200: OVERLAPPING, 300: (HIGH, LOW)}})
    table = claims.claims_by_budget(curves, CLAIMS, ACCURACY)
    assert list(table.columns) == claims.BUDGET_COLUMNS and len(table) == 9
    above = table[table["claim"] == "beta-VAE above the VAE"]
    assert list(above["step"]) == [100, 200, 300] and list(above["images"]) == [6400, 12800, 19200]
    assert list(above["verdict"]) == ["inconclusive", "supported", "supported"]
    assert list(above["statistic"]) == ["U = 10", "U = 25", "U = 25"] and set(above["n"]) == {"5 vs 5"}
    assert above["p_value"].iloc[1] == pytest.approx(1 / 252) and above["p_value"].iloc[0] > 0.05
    assert list(table[table["claim"] == "the VAE above beta-VAE"]["verdict"]) == [
        "inconclusive", "contradicted", "contradicted"]
    mig = table[table["metric"] == MIG]
    assert list(mig["verdict"]) == ["supported", "inconclusive", "supported"]
    assert claims.holding_from(table, CLAIMS, ACCURACY) == [
        "beta-VAE above the VAE (beta_vae.eval_accuracy): supported from 12,800 images (step 200) on, at every "
        "later budget (3 budgets scored, 6,400 to 19,200 images; Holm over 3 budgets)",
        "the VAE above beta-VAE (beta_vae.eval_accuracy): never within the steps scored (3 budgets scored, "
        "6,400 to 19,200 images; Holm over 3 budgets)",
        "beta-VAE above the VAE on MIG (mig.score): supported from 19,200 images (step 300) on, at every later "
        "budget (3 budgets scored, 6,400 to 19,200 images; Holm over 3 budgets)"]


def test_a_claim_is_tested_only_where_both_rows_were_scored():
    curves = synthetic({ACCURACY: {100: (HIGH, LOW), 200: (HIGH, LOW)}})
    curves = curves[~((curves["method"] == "vae") & (curves["step"] == 100))]          # vae not scored at 100
    table = claims.claims_by_budget(curves, CLAIMS[:1], ACCURACY)
    assert list(table["step"]) == [200] and list(table["verdict"]) == ["supported"]
    assert claims.holding_from(table.iloc[:0], CLAIMS[:1], ACCURACY) == [
        "beta-VAE above the VAE (beta_vae.eval_accuracy): never within the steps scored (no step has runs of both rows)"]


def test_a_claim_without_a_metric_is_refused():
    with pytest.raises(UserError, match="names no metric"):
        claims.claims_by_budget(synthetic({}), CLAIMS[:1])


def test_headline_keys_stand_for_their_metric():
    keys = ["other.a", "beta_vae.train_accuracy", MIG, ACCURACY, "factor_vae.eval_accuracy",
            "factor_vae.num_active_dims", "other.b"]
    assert headline_keys(keys) == [ACCURACY, "factor_vae.eval_accuracy", MIG, "other.a", "other.b"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("curves")
    flags = ["run", "--methods", "vae,beta_vae", "--seeds", "0,1", "--dataset", "dsprites_small", "--steps", "20",
             "--checkpoint-every", "10", "--score-at", "10", "--quick", "--no-progress", "--threads", "1",
             "--set", "vae.architecture=fc", "--set", "beta_vae.architecture=fc", "--set", "vae.batch_size=16",
             "--set", "beta_vae.batch_size=16", "--out", str(out)]
    assert main(flags) == 0
    return out


def test_curves_png_is_drawn_from_the_sweep_and_linked_in_report_html(sweep, capsys):
    assert main(["report", str(sweep)]) == 0
    printed = capsys.readouterr().out.split()
    assert str(sweep / "curves.png") in printed and (sweep / "curves.png").stat().st_size > 10_000
    page = (sweep / "report.html").read_text()
    assert '<figure id="curves">' in page and "against the images seen" in page
    assert page.index('<figure id="metrics">') < page.index('<figure id="curves">')
    table = pd.read_csv(sweep / "table.csv")                          # the tables still read the last step only
    assert set(table["n"]) == {2} and table["configuration"].nunique() == 2


def test_the_figure_draws_the_median_of_the_seeds_at_each_budget_and_chance(sweep):
    curves = along_training(sweep)
    assert sorted(set(curves["images"])) == [160, 320] and sorted(set(curves["step"])) == [10, 20]
    specs = readable_specs(sweep)
    figure = score_curves.draw(score_curves.gather(curves, specs, {}, {ACCURACY: 0.2}))
    (axis,) = [axis for axis in figure.axes if axis.get_visible()]
    assert axis.get_title() == ACCURACY and axis.get_xscale() == "log"
    medians = [line for line in axis.lines if line.get_gid() == "median"]
    expected = curves[curves["metric"] == ACCURACY].groupby(["method", "images"])["value"].median()
    assert sorted(tuple(line.get_ydata()) for line in medians) == sorted(
        tuple(expected[method].to_numpy()) for method in ("vae", "beta_vae"))
    assert all(list(line.get_xdata()) == [160, 320] for line in medians)
    assert [line.get_ydata()[0] for line in axis.lines if line.get_gid() == "chance"] == [0.2]
    assert sum(len(c.get_offsets()) for c in axis.collections if c.get_gid() == "seed") == 8      # 4 runs x 2 budgets


def test_a_preset_writes_its_claims_by_budget(sweep):
    written = reproduce.write(sweep, final_scores(sweep / "scores.csv"), {}, "vae_family_budget")[0]
    assert [path.name for path in written if "claims" in path.name] == [
        "claims.csv", "claims.md", "claims_by_budget.csv", "claims_by_budget.md"]
    by_budget = pd.read_csv(sweep / "claims_by_budget.csv")
    accuracy = by_budget[by_budget["metric"] == ACCURACY]
    assert list(accuracy["step"]) == [10, 20] and list(accuracy["images"]) == [160, 320]
    assert set(accuracy["n"]) == {"2 vs 2"}                        # 2 vs 2 cannot reach alpha: never supported
    assert by_budget[by_budget["metric"] == MIG].empty             # MIG was not scored in this sweep
    text = (sweep / "claims_by_budget.md").read_text()
    assert ("beta-VAE scores above the VAE on the beta_vae metric (beta_vae.eval_accuracy): never within the steps "
            "scored (2 budgets scored, 160 to 320 images; Holm over 2 budgets)") in text
    assert set(accuracy["rule"]) == {"Holm over 2 budgets"} and "p_holm" in by_budget
    decided = pd.read_csv(sweep / "claims.csv")                     # the last step decided by the family's rule
    assert decided.loc[0, "rule"] == "Holm over 2 budgets"
    assert decided.loc[0, "p_adjusted"] == pytest.approx(accuracy["p_holm"].iloc[-1])
    assert "on MIG (mig.score): never within the steps scored (no step has runs of both rows)" in text


def test_the_budget_preset_runs_the_field_s_vae_methods_with_a_schedule():
    config, paper = reproduce.load("vae_family_budget", {}, quick=False)
    assert config.methods == ("vae", "beta_vae", "factor_vae", "beta_tcvae", "dip_vae_i", "annealed_vae")
    assert config.seeds == (0, 1, 2, 3, 4) and config.steps == 31250 and config.metrics[-1] == "udr"
    assert config.score_at == (1000, 2000, 4000, 8000, 16000, 31250) and config.jobs == 2
    assert config.curve_metrics == ("beta_vae", "factor_vae", "mig") and config.metric_params == {} and paper == {}
    assert config.params["annealed_vae"] == {"iteration_threshold": [10417]}
    preview, _ = reproduce.load("vae_family_budget", {"steps": 200, "dataset": "dsprites_small"}, quick=True)
    assert preview.score_at == "log" and preview.steps == 200 and preview.quick           # scored at step 100
