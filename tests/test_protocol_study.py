"""`bench reproduce --protocols`: finished runs rescored under other metric protocols without
retraining; the preset's own protocol gives back the stored score."""
import matplotlib.image
import pandas as pd
import pytest

from bench import reproduce
from bench.cli import main
from bench.errors import UserError
from bench.reporting import protocol_study

VARIANTS = {"as run": {}, "no shape": {"factors": "without_shape"}, "higgins2017": {"protocol": "higgins2017"}}
PAPER = {"metric": "beta_vae.eval_accuracy",
         "rows": [{"method": "ground_truth", "label": "truth", "score": 100.0},
                  {"method": "untrained", "label": "untrained", "score": 44.14},
                  {"method": "infogan", "label": "InfoGAN", "score": 73.5}]}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    flags = ["run", "--methods", "ground_truth,untrained,infogan", "--dataset", "dsprites_small", "--steps", "5",
             "--quick", "--no-progress", "--out", str(out)]
    assert main(flags) == 0
    return out


def test_rescoring_reproduces_stored_scores_and_scores_each_protocol(results):
    study = protocol_study.rescore(results, "beta_vae", VARIANTS, quick=True, progress=False)
    accuracy = study[study["key"] == "beta_vae.eval_accuracy"].set_index(["method", "protocol"])["value"]
    stored = pd.read_csv(results / "scores.csv")
    stored = stored[stored["metric"] == "beta_vae.eval_accuracy"].set_index("method")["value"]
    for method in ("ground_truth", "untrained", "infogan"):          # fitted and trained runs alike
        assert accuracy[method, "as run"] == pytest.approx(stored[method], abs=1e-12)
    for protocol in VARIANTS:
        assert accuracy["ground_truth", protocol] > 0.99
    assert "beta_vae.eval_accuracy_std" in set(study["key"])         # the higgins2017 protocol's spread


def test_a_second_rescore_reads_stored_protocol_scores(results, monkeypatch):
    first = protocol_study.rescore(results, "beta_vae", VARIANTS, quick=True, progress=False)

    def no_rebuild(*args):
        raise AssertionError("a run was rebuilt although its protocol scores were stored")
    monkeypatch.setattr(protocol_study, "rebuild_method", no_rebuild)
    again = protocol_study.rescore(results, "beta_vae", VARIANTS, quick=True, progress=False)
    pd.testing.assert_frame_equal(first, again)


def test_protocol_tables_and_heatmap(results):
    study = protocol_study.rescore(results, "beta_vae", VARIANTS, quick=True, progress=False)
    paths = protocol_study.write(results, study, PAPER, VARIANTS)
    assert [p.name for p in paths] == ["protocols.csv", "protocols.md", "protocols.png"]
    table = protocol_study.comparison(study, PAPER, list(VARIANTS))
    assert list(table["representation"]) == ["truth", "untrained", "InfoGAN", "Spearman rho vs paper"]
    assert table.loc[0, "as run"] == pytest.approx(100.0)
    assert -1 <= table.loc[3, "no shape"] <= 1
    markdown = (results / "protocols.md").read_text()
    assert "| representation | as run | no shape | higgins2017 | paper |" in markdown
    assert "protocol = higgins2017" in markdown
    picture = matplotlib.image.imread(paths[2])
    assert picture.shape[0] > 150 and picture.shape[1] > 300


def test_report_draws_infogan_traversals(results, capsys):
    assert main(["report", str(results)]) == 0       # a batch-norm model restored in eval mode
    assert any("traversal_infogan" in line for line in capsys.readouterr().out.split())


def test_preset_protocols_merge_over_its_metric_params():
    config, paper = reproduce.load("higgins2017", {}, quick=False)
    metric, variants = reproduce.protocol_variants("higgins2017", config, paper)
    assert metric == "beta_vae"
    assert variants["preset (5 factors, raw)"] == config.metric_params["beta_vae"]
    assert variants["higgins2017 (Adagrad softmax, 4 factors)"]["protocol"] == "higgins2017"
    assert variants["10,000 / 5,000 votes"]["num_train"] == 10_000
    quick, _ = reproduce.load("higgins2017", {}, quick=True)
    _, quick_variants = reproduce.protocol_variants("higgins2017", quick, paper)
    assert all("num_train" not in params for params in quick_variants.values())


def test_unknown_protocol_parameter_is_a_clear_error(monkeypatch):
    config, paper = reproduce.load("higgins2017", {}, quick=False)
    real = reproduce.preset_table
    monkeypatch.setattr(reproduce, "preset_table",
                        lambda name, table: {"odd": {"votes": 3}} if table == "protocols" else real(name, table))
    with pytest.raises(UserError, match="unknown parameter of metric beta_vae in \\[protocols\\] 'odd'"):
        reproduce.protocol_variants("higgins2017", config, paper)


def test_report_rescores_under_a_presets_protocols(results, monkeypatch, capsys):
    real = reproduce.preset_table
    monkeypatch.setattr(reproduce, "preset_table", lambda name, table: (
        {"as run": {}, "no shape": {"factors": "without_shape"}} if table == "protocols" else real(name, table)))
    assert main(["report", str(results), "--protocols", "higgins2017", "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert str(results / "protocols.md") in printed and "| ground truth factors | 100.00 | 100.00 |" in printed
