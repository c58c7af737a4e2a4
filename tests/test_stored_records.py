"""The two stored records every reader shares: a run's configuration key (StoredSpec.configuration_key,
what "the same configuration" means to warm starts, UDR groups, `bench compare` and the tables) and
a stored score (StoredScore, one metric's entry in scores.json, curve.json and protocols.json)."""
import json
from pathlib import Path

import pytest

from bench.data.base import DataSource
from bench.running import legacy, model_sets
from bench.running.replicas import RUN_SETTINGS
from bench.running.spec import CONFIGURATION, RunSpec
from bench.running.stored_score import StoredScore, scores_json, stored_scores

RESULTS = Path(__file__).resolve().parent.parent / "results"
RUN = RunSpec("beta_vae", "dsprites", 0, 16000, (("beta", 4.0),)).stored()


def test_a_configuration_key_leaves_out_exactly_the_fields_it_is_told_to_ignore():
    others = {"seed": RunSpec("beta_vae", "dsprites", 1, 16000, (("beta", 4.0),)),
              "steps": RunSpec("beta_vae", "dsprites", 0, 8000, (("beta", 4.0),)),
              "params": RunSpec("beta_vae", "dsprites", 0, 16000, (("beta", 2.0),)),
              "precision": RunSpec("beta_vae", "dsprites", 0, 16000, (("beta", 4.0),), precision="bf16"),
              "data": RunSpec("beta_vae", "dsprites", 0, 16000, (("beta", 4.0),), data=DataSource("/d.npz", "ab12")),
              "dataset": RunSpec("beta_vae", "shapes3d", 0, 16000, (("beta", 4.0),))}
    assert set(others) == set(CONFIGURATION) - {"method"}       # another method has other parameters
    for differs, spec in others.items():
        other = spec.stored()
        assert other.configuration_key() != RUN.configuration_key()
        assert other.configuration_key(ignore=(differs,)) == RUN.configuration_key(ignore=(differs,)), differs
        assert json.loads(RUN.configuration_key(ignore=(differs,))).keys() == set(CONFIGURATION) - {differs}
    assert json.loads(RUN.configuration_key())["params"] == RUN.params
    with pytest.raises(ValueError, match="cannot ignore.*'overrides'"):
        RUN.configuration_key(ignore=("overrides",))


def test_every_reader_of_the_same_configuration_uses_the_key():
    longer = RunSpec("beta_vae", "dsprites", 0, 32000, (("beta", 4.0),)).stored()
    assert legacy.same_run_but_steps(longer) == legacy.same_run_but_steps(RUN) == RUN.configuration_key(ignore=("steps",))
    seed = RunSpec("beta_vae", "dsprites", 3, 16000, (("beta", 4.0),)).stored()
    assert model_sets.group_key(seed) == model_sets.group_key(RUN) != model_sets.group_key(longer)
    assert set(RUN_SETTINGS) == set(CONFIGURATION) - {"method", "params", "seed"}


def test_a_stored_score_reads_back_what_it_writes_and_an_older_entry_keeps_its_fields():
    entry = {"settings": {"n": 1}, "values": {"m.acc": 0.5}, "versions": {"torch": "2"}}
    assert StoredScore.from_json(entry) == StoredScore({"n": 1}, {"m.acc": 0.5}, {"torch": "2"})
    assert list(StoredScore.from_json(entry).to_json().items()) == list(entry.items())
    assert StoredScore.from_json({"values": {"m.acc": 0.5}}).to_json() == {"values": {"m.acc": 0.5}}
    assert StoredScore.from_json({"values": {}}).settings is None
    for broken in ([], {"settings": {}}, {"values": [1]}):
        with pytest.raises(ValueError):
            StoredScore.from_json(broken)
    with pytest.raises(ValueError):
        stored_scores(["not", "scores"])


@pytest.mark.parametrize("name, indent, sort_keys", [("scores.json", 2, False), ("protocols.json", 1, True)])
def test_the_committed_score_files_are_rewritten_byte_for_byte(name, indent, sort_keys):
    files = sorted(RESULTS.glob(f"*/runs/*/{name}"))[:200]
    assert files
    for path in files:
        text = path.read_text()
        again = json.dumps(scores_json(stored_scores(json.loads(text))), indent=indent, sort_keys=sort_keys)
        assert again == text.rstrip("\n"), path


def test_the_committed_curve_files_are_rewritten_byte_for_byte():
    files = sorted(RESULTS.glob("*/runs/*/curve.json"))
    assert files
    for path in files:
        curve = json.loads(path.read_text())
        again = {step: scores_json(stored_scores(scores)) for step, scores in curve.items()}
        assert json.dumps(again, indent=2) == path.read_text().rstrip("\n"), path
