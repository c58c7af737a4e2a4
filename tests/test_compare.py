"""`bench compare`: runs of two results folders paired by seed, plateau escape steps, rank tests."""
import json

import pandas as pd
import pytest

from bench.cli import main
from bench.reporting.comparison import compare, escape_step


def log(kl, interval=100, speed=500.0):
    return pd.DataFrame({"step": [interval * (i + 1) for i in range(len(kl))], "kl": kl,
                         "images_per_s": speed})


def test_the_escape_step_is_the_first_step_back_above_one_nat_after_the_collapse():
    assert escape_step(log([3.0, 0.1, 0.05, 2.0, 5.0])) == (400.0, False)
    assert escape_step(log([3.0, 0.9, 1.5])) == (300.0, False)         # below 1 nat at step 200 only
    assert escape_step(log([3.0, 4.0, 5.0])) == (100.0, False)         # never on the plateau
    assert escape_step(log([3.0, 0.1, 0.1])) == (300.0, True)          # still on it at the end: censored


def write_run(root, seed, kl, speed, score, precision):
    folder = root / "runs" / f"beta_vae-seed{seed}-{precision}"
    folder.mkdir(parents=True)
    (folder / "spec.json").write_text(json.dumps({"method": "beta_vae", "dataset": "dsprites", "seed": seed,
                                                  "steps": 100 * len(kl), "overrides": {}, "precision": precision,
                                                  "run_id": folder.name}))
    log(kl, speed=speed).to_csv(folder / "log.csv", index=False)
    (folder / "scores.json").write_text(json.dumps({"beta_vae": {"settings": {}, "versions": {},
                                                                 "values": {"beta_vae.eval_accuracy": score}}}))


@pytest.fixture
def two_folders(tmp_path):
    """Five seeds each: B trains faster on every seed, leaves the plateau as A does but for one
    seed still on it at the end, and scores the same."""
    first, second = tmp_path / "fp32", tmp_path / "bf16"
    escapes_first = [[3, 0.1, 2, 4, 4], [3, 0.1, 0.1, 2, 4], [3, 2, 3, 4, 4], [3, 0.1, 2, 4, 4], [3, 0.1, 2, 4, 4]]
    escapes_second = [[3, 0.1, 2, 4, 4], [3, 0.1, 0.1, 0.1, 0.1], [3, 2, 3, 4, 4], [3, 0.1, 2, 4, 4], [3, 0.1, 2, 4, 4]]
    for seed in range(5):
        write_run(first, seed, escapes_first[seed], speed=100.0 + seed, score=0.7, precision="fp32")
        write_run(second, seed, escapes_second[seed], speed=200.0 + seed, score=0.7, precision="bf16")
    write_run(second, 9, [3, 4], speed=1.0, score=0.1, precision="bf16")       # no partner in A: left out
    return first, second


def test_runs_are_paired_by_seed_and_tested_on_both_sides(two_folders):
    table = compare(*two_folders).set_index("measure")
    speed = table.loc["images_per_s"]
    assert speed["n"] == 5 and speed["seeds"] == "0,1,2,3,4"
    assert speed["median_first"] == "102" and speed["median_second"] == "202" and speed["median_difference"] == 100
    assert speed["mann_whitney_u"] == 0 and speed["p_two_sided"] == pytest.approx(2 / 252)   # fully separated
    assert speed["p_paired"] == pytest.approx(2 / 32)            # five differences, all positive
    escape = table.loc["plateau_escape_step"]
    assert escape["first_values"] == "300 400 100 300 300" and escape["second_values"] == "300 600 100 300 300"
    assert escape["censored_first"] == 0 and escape["censored_second"] == 1
    assert escape["median_first"] == escape["median_second"] == "300"
    score = table.loc["beta_vae.eval_accuracy"]
    assert score["median_difference"] == 0 and pd.isna(score["p_paired"])    # no difference to test


def test_a_median_on_censored_runs_reads_as_more_than_the_run(tmp_path):
    for name in ("a", "b"):
        for seed in range(3):
            write_run(tmp_path / name, seed, [3, 0.1, 0.1] if name == "b" else [3, 0.1, 2], 100.0, 0.5, name)
    escape = compare(tmp_path / "a", tmp_path / "b").set_index("measure").loc["plateau_escape_step"]
    assert escape["median_first"] == "300" and escape["median_second"] == ">300"


def test_bench_compare_writes_both_files_and_names_a_folder_without_runs(two_folders, tmp_path, capsys):
    first, second = two_folders
    assert main(["compare", str(first), str(second), "--measures", "images_per_s"]) == 0
    written = pd.read_csv(second / "comparison_with_fp32.csv")
    assert list(written["measure"]) == ["images_per_s"]
    assert "Mann-Whitney" in (second / "comparison_with_fp32.md").read_text()
    assert main(["compare", str(first), str(tmp_path)]) == 2
    assert "not a results folder" in capsys.readouterr().err


def test_claims_of_two_reproductions_are_set_side_by_side(two_folders, capsys):
    first, second = two_folders
    header = "claim,rows,n,statistic,p_value,effect_size,verdict\n"
    (first / "claims.csv").write_text(header + "A above B,a vs b,5 vs 5,U = 25,0.004,1.0,supported\n"
                                      "C above D,c vs d,5 vs 5,U = 12,0.5,0.5,inconclusive\n")
    (second / "claims.csv").write_text(header + "C above D,c vs d,5 vs 5,U = 25,0.004,1.0,supported\n"
                                       "A above B,a vs b,5 vs 5,U = 25,0.004,1.0,supported\n")
    assert main(["compare", str(first), str(second)]) == 0
    text = (second / "claims_compared_with_fp32.md").read_text()
    assert "| A above B | supported | 0.004 | supported | 0.004 | True |" in text
    assert "| C above D | inconclusive | 0.5 | supported | 0.004 | False |" in text
