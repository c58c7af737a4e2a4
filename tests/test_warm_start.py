"""`--warm-start`: a longer run starts from the same run trained for fewer steps and ends exactly
where training from scratch ends."""
import pandas as pd
import torch

from bench.cli import main

RUN = ["run", "--methods", "beta_vae", "--set", "beta_vae.architecture=fc", "--set", "beta_vae.batch_size=16",
       "--dataset", "dsprites_small", "--quick", "--no-progress", "--checkpoint-every", "5"]


def checkpoint_of(out):
    (folder,) = [f for f in (out / "runs").iterdir() if f.name.startswith("beta_vae")]
    return torch.load(folder / "checkpoint.pt", weights_only=True)["method"], folder


def test_a_longer_run_starts_from_the_shorter_one_and_matches_training_from_scratch(tmp_path, capsys):
    assert main([*RUN, "--steps", "10", "--out", str(tmp_path / "short")]) == 0
    assert main([*RUN, "--steps", "20", "--out", str(tmp_path / "long"), "--warm-start", str(tmp_path / "short")]) == 0
    assert "the same run trained for fewer steps" in capsys.readouterr().err
    assert main([*RUN, "--steps", "20", "--out", str(tmp_path / "scratch")]) == 0
    assert "fewer steps" not in capsys.readouterr().err
    warm, warm_folder = checkpoint_of(tmp_path / "long")
    scratch, scratch_folder = checkpoint_of(tmp_path / "scratch")
    assert warm["step"] == scratch["step"] == 20
    for name, module in scratch["modules"].items():
        assert all(torch.equal(warm["modules"][name][key], value) for key, value in module.items())
    log_warm, log_scratch = pd.read_csv(warm_folder / "log.csv"), pd.read_csv(scratch_folder / "log.csv")
    assert list(log_warm["step"]) == list(log_scratch["step"])
    pd.testing.assert_series_equal(log_warm["loss"], log_scratch["loss"])
    assert pd.read_csv(tmp_path / "long" / "scores.csv")["value"].tolist() == \
        pd.read_csv(tmp_path / "scratch" / "scores.csv")["value"].tolist()


def test_a_missing_warm_start_folder_is_a_clear_error(tmp_path, capsys):
    assert main([*RUN, "--steps", "5", "--out", str(tmp_path / "out"), "--warm-start", str(tmp_path / "nowhere")]) == 2
    assert f"--warm-start {tmp_path / 'nowhere'!s}" in capsys.readouterr().err
