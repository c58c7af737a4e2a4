"""The rules for results already on disk (bench/running/legacy.py), one test each: older ids hold,
an older spec.json means what those runs had, retired parameters are dropped, an older score counts
as made with the settings it was made with, and runs that differ only in their steps are one run."""
import dataclasses
import json
from pathlib import Path

import metrics
from bench.data.base import PROCEDURAL, DataSource
from bench.running import legacy
from bench.running.spec import RunSpec, StoredSpec
from bench.running.stored_score import StoredScore
from methods.vae import VAEParams

REPO = Path(__file__).resolve().parent.parent
# results/higgins2017-fp32's beta-VAE, seed 0, as a spec.json from before precision and data were recorded
OLD = {"method": "beta_vae", "dataset": "dsprites", "seed": 0, "steps": 8000, "overrides": {"beta": "4.0"},
       "params": {"batch_size": 64, "latent_dim": 10, "architecture": "conv", "optimizer": "adam", "lr": 0.0005,
                  "beta": 4.0},
       "run_id": "beta_vae-seed0-eda56d74ae"}


def test_a_parameter_added_later_stays_out_of_ids_at_the_value_older_runs_had():
    params = dataclasses.asdict(VAEParams())
    assert params["likelihood"] == "auto" and "likelihood" not in legacy.identity_params(VAEParams, params)
    assert legacy.identity_params(VAEParams, {**params, "likelihood": "gaussian"})["likelihood"] == "gaussian"
    plain = RunSpec("vae", "dsprites", 0, 100)
    assert RunSpec("vae", "dsprites", 0, 100, (("likelihood", "auto"),)).run_id == plain.run_id
    assert RunSpec("vae", "dsprites", 0, 100, (("likelihood", "gaussian"),)).run_id != plain.run_id


def test_fp32_and_the_procedural_data_stay_out_of_ids():
    assert legacy.identity_extras("fp32", PROCEDURAL) == {}
    assert legacy.identity_extras("bf16", DataSource("/data/d.npz", "ab12")) == {
        "precision": "bf16", "data": {"source": "file", "sha256": "ab12"}}
    assert RunSpec("beta_vae", "dsprites", 0, 8000, (("beta", "4.0"),)).run_id == OLD["run_id"]


def test_an_older_spec_json_means_fp32_on_the_procedural_data_and_a_damaged_one_reads_as_none():
    spec = StoredSpec.from_json(OLD)
    assert (spec.run_id, spec.method, spec.seed, spec.steps) == (OLD["run_id"], "beta_vae", 0, 8000)
    assert (spec.precision, spec.data) == ("fp32", PROCEDURAL)
    assert (spec.params, spec.overrides) == (OLD["params"], {"beta": "4.0"})
    assert StoredSpec.from_json({**OLD, "precision": "bf16"}).precision == "bf16"
    bare = StoredSpec.from_json({key: value for key, value in OLD.items() if key not in ("params", "overrides")})
    assert (bare.params, bare.overrides) == ({}, {})
    without_run_id = {key: value for key, value in OLD.items() if key != "run_id"}
    for damaged in (None, [OLD], "spec", {**OLD, "seed": "0"}, {**OLD, "steps": True}, {**OLD, "params": []},
                    without_run_id):
        assert StoredSpec.from_json(damaged) is None, damaged
    committed = [json.loads(path.read_text()) for path in (REPO / "results").glob("*/runs/*/spec.json")]
    assert all(StoredSpec.from_json(value) is not None for value in committed)


def test_a_parameter_a_method_has_lost_is_dropped_with_one_line(capsys):
    kept = legacy.current_params("beta_vae", {"beta": 4.0, "objective": "beta", "latent_dim": 10}, "beta_vae-seed0-x")
    assert kept == {"beta": 4.0, "latent_dim": 10}
    assert capsys.readouterr().err == (
        "beta_vae-seed0-x: made by an older version; ignoring its retired parameters objective\n")
    assert legacy.current_params("beta_vae", {"beta": 4.0}, "beta_vae-seed0-x") == {"beta": 4.0}
    assert capsys.readouterr().err == ""


def test_a_score_stored_before_a_setting_existed_counts_as_made_with_the_value_it_had():
    wanted = metrics.settings("beta_vae", quick=True)
    assert wanted["classifier"] != "lbfgs"                         # today's default is not the one of then
    older = StoredScore({key: value for key, value in wanted.items() if key != "classifier"}, {})
    assert not legacy.scored_with("beta_vae", older, wanted)        # it was fitted with lbfgs: rescored
    assert legacy.scored_with("beta_vae", older, {**wanted, "classifier": "lbfgs"})
    assert legacy.scored_with("beta_vae", StoredScore(wanted, {}), wanted)
    assert not legacy.scored_with("beta_vae", None, wanted)                   # never scored
    assert not legacy.scored_with("beta_vae", StoredScore(None, {}), wanted)  # stored before settings were
    mig = metrics.settings("mig", quick=True)
    assert legacy.unscored({"beta_vae": wanted, "mig": mig}, {"beta_vae": StoredScore(wanted, {})}) == ["mig"]


def test_runs_that_differ_only_in_their_steps_are_one_run_trained_longer():
    longer = legacy.same_run_but_steps(RunSpec("beta_vae", "dsprites", 0, 16000, (("beta", 4.0),)).stored())
    assert legacy.same_run_but_steps(StoredSpec.from_json(OLD)) == longer              # an older folder too
    for other in (RunSpec("beta_vae", "dsprites", 1, 16000, (("beta", 4.0),)),
                  RunSpec("beta_vae", "dsprites", 0, 16000, (("beta", 2.0),)),
                  RunSpec("beta_vae", "dsprites", 0, 16000, (("beta", 4.0),), precision="bf16"),
                  RunSpec("beta_vae", "dsprites", 0, 16000, (("beta", 4.0),), data=DataSource("/d.npz", "ab12"))):
        assert legacy.same_run_but_steps(other.stored()) != longer
