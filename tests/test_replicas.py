"""Replicas are runs of one configuration: runs of one method and parameters trained for other
steps, on another dataset or in another precision are kept apart by every table, figure and claim
(bench/running/replicas.py), never pooled as if they were seeds."""
import json

import pandas as pd

from bench.cli import main
from bench.reporting.claims import test_claims as claims_table
from bench.running.replicas import configurations_apart


def rows(*runs) -> pd.DataFrame:
    """scores.csv rows, one per run: (run_id, method, params, steps, precision, value)."""
    return pd.DataFrame([{"run_id": run_id, "method": method, "dataset": "dsprites", "params": params, "steps": steps,
                          "precision": precision, "metric": "m.acc", "value": value}
                         for run_id, method, params, steps, precision, value in runs])


def test_only_the_settings_that_vary_within_a_configuration_enter_its_params():
    frame = rows(("v1", "vae", "", 4000, "fp32", 0.7), ("v2", "vae", "", 8000, "fp32", 0.8),
                 ("b1", "beta_vae", '{"beta": "4"}', 4000, "fp32", 0.6),
                 ("b2", "beta_vae", '{"beta": "4"}', 4000, "bf16", 0.9),
                 ("b3", "beta_vae", '{"beta": "8"}', 4000, "fp32", 0.5),
                 ("d1", "dcign", "", 4000, "fp32", 0.8), ("d2", "dcign", "", 4000, "fp32", 0.85))
    apart = configurations_apart(frame)
    assert dict(zip(apart["run_id"], apart["params"].map(lambda text: json.loads(text) if text else {}))) == {
        "v1": {"steps": "4000"}, "v2": {"steps": "8000"},
        "b1": {"beta": "4", "precision": "fp32"}, "b2": {"beta": "4", "precision": "bf16"},
        "b3": {"beta": "8"}, "d1": {}, "d2": {}}
    assert apart.drop(columns="params").equals(frame.drop(columns="params"))


def test_a_folder_of_one_budget_and_precision_is_read_as_it_is_and_an_old_file_without_precision_too():
    same = rows(("v1", "vae", "", 4000, "fp32", 0.7), ("v2", "vae", "", 4000, "fp32", 0.8))
    assert configurations_apart(same).equals(same)
    old = rows(("v1", "vae", "", 4000, "fp32", 0.7), ("v2", "vae", "", 8000, "bf16", 0.8)).drop(columns="precision")
    assert list(configurations_apart(old)["params"]) == ['{"steps": "4000"}', '{"steps": "8000"}']


def test_a_claim_on_a_method_run_in_two_configurations_is_not_tested():
    scores = configurations_apart(rows(*[(f"a{seed}", "a", "", 4000 if seed < 3 else 8000, "fp32", 0.9 + seed / 100)
                                         for seed in range(6)],
                                       *[(f"b{seed}", "b", "", 4000, "fp32", 0.5 + seed / 100) for seed in range(6)]))
    table = claims_table(scores, [{"claim": "a above b", "kind": "greater", "first": "a", "second": "b"}], "m.acc")
    assert table["verdict"][0].startswith("inconclusive (a has 2 configurations")
    assert table["p_value"].isna().all() and table["n"][0] == "6 vs 6"


def test_bench_report_shows_two_budgets_of_one_configuration_as_two_rows(tmp_path, capsys):
    out = tmp_path / "two_budgets"
    for steps in ("10", "20"):
        assert main(["run", "--methods", "vae", "--dataset", "dsprites_small", "--steps", steps, "--quick",
                     "--no-progress", "--threads", "1", "--precision", "fp32", "--set", "vae.architecture=fc",
                     "--set", "vae.batch_size=16", "--metrics", "mig", "--out", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores["precision"]) == {"fp32"} and sorted(set(scores["steps"])) == [10, 20]
    table = pd.read_csv(out / "table.csv")
    assert sorted(zip(table["params"], table["n"])) == [
        ('{"architecture": "fc", "batch_size": "16", "steps": "10"}', 1),
        ('{"architecture": "fc", "batch_size": "16", "steps": "20"}', 1)]
    text = (out / "table.md").read_text()
    assert "VAE (architecture=fc, batch_size=16, steps=10) | 1 |" in text
    assert "VAE (architecture=fc, batch_size=16, steps=20) | 1 |" in text
