"""`bench reproduce higgins2017 --quick` runs the paper's nine rows end to end and sets the paper's
column beside ours."""
import pandas as pd

from bench import reproduce
from bench.cli import main


def test_quick_reproduction_on_the_small_dataset(tmp_path, capsys):
    out = tmp_path / "higgins2017"
    code = main(["reproduce", "higgins2017", "--quick", "--dataset", "dsprites_small", "--steps", "5",
                 "--seeds", "0,1", "--jobs", "1", "--out", str(out), "--no-progress", "--no-plots"])
    assert code == 0
    table = pd.read_csv(out / "comparison.csv")
    assert list(table["method"]) == ["ground_truth", "raw_pixels", "pca", "ica", "dcign", "infogan",
                                     "untrained", "vae", "beta_vae"]
    truth = table.iloc[0]
    assert truth["n"] == 2 and truth["median (%)"] == "100.00" and truth["mean ± std (%)"] == "100.00 ± 0.00"
    assert truth["95% CI (%)"] == "[100.00, 100.00]" and truth["top half (%)"] == 100 and truth["median - paper"] == 0
    assert table.loc[8, "paper (%)"] == "99.23 ± 0.1"
    # A 5-step GAN has not learned anything: both runs are listed as unhealthy and left out.
    assert table.loc[5, "n"] == 0 and table.loc[5, "unhealthy"] == 2 and table.loc[5, "median (%)"] == "missing"
    assert -1 <= table["spearman_rho"].iloc[0] <= 1
    header = "| representation | method | n | median (%) | mean ± std (%) | 95% CI (%) | top half (%) | paper (%) |"
    markdown = (out / "table.md").read_text()
    assert header in markdown and "Spearman" in markdown and "Unhealthy runs" in markdown
    claims = pd.read_csv(out / "claims.csv")
    assert list(claims.columns) == ["claim", "rows", "n", "statistic", "p_value", "p_adjusted", "rule", "effect_size",
                                    "verdict"]
    assert set(claims["rule"]) == {"one test", "95% interval"}          # one budget: each claim is one test
    assert claims.loc[0, "claim"] == "beta-VAE scores above the VAE" and claims.loc[0, "n"] == "2 vs 2"
    assert claims.loc[1, "verdict"] == "inconclusive (no runs)"          # every InfoGAN run is unhealthy
    assert str(out / "comparison.csv") in capsys.readouterr().out
    assert main(["report", str(out), "--no-plots"]) == 0        # a later report keeps the paper's column
    assert header in (out / "table.md").read_text()


def test_the_preset_states_every_row_of_the_paper():
    config, paper = reproduce.load("higgins2017", {}, quick=False)
    assert len(paper["rows"]) == 9 and set(config.methods) == {row["method"] for row in paper["rows"]}
    assert config.dataset == "dsprites" and config.metrics == ("beta_vae",) and config.seeds == (0, 1, 2, 3, 4)
    quick, _ = reproduce.load("higgins2017", {}, quick=True)
    assert quick.quick and quick.steps == reproduce.QUICK_STEPS and not quick.method_steps


def test_unknown_preset_is_a_clear_error(capsys):
    assert main(["reproduce", "higgins2018"]) == 2
    assert "unknown preset 'higgins2018'; valid: higgins2017" in capsys.readouterr().err
