"""Bad input to `bench run`: one line on stderr naming the problem, exit code 2, nothing on disk harmed."""
import os

import pytest

from bench.cli import main
from bench.running import sweep

BASE = ["run", "--dataset", "dsprites_small", "--steps", "10", "--quick", "--no-progress"]


def snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def existing(tmp_path):
    """A results folder with a finished-looking run in it, which a failed command must not touch."""
    out = tmp_path / "results"
    (out / "runs" / "vae-seed0-0123456789").mkdir(parents=True)
    (out / "runs" / "vae-seed0-0123456789" / "status").write_text("done")
    (out / "scores.csv").write_text("run_id,method\nvae-seed0-0123456789,vae\n")
    return out


def run_fails(capsys, args, message):
    assert main(args) == 2
    error = capsys.readouterr().err
    assert message in error, error
    assert error.count("\n") == 1 and error.startswith("bench: error: ") and "Traceback" not in error


@pytest.mark.parametrize("toml,message", [
    ('methods = ["vae"\nsteps = 10\n', "sweep.toml: invalid TOML: "),
    ('methods = ["vae"]\nsteps = 10\nseed = 3\n', "sweep.toml: unknown key 'seed'; valid: "),
    ('methods = ["beta_vae"]\n[params.beta_vae]\nbeta = [1, "four"]\n', "beta_vae.beta takes a number, not 'four'"),
    ('methods = ["beta_vae"]\nsteps = 1.5\n', "steps takes a positive number of training steps, not a number (1.5)"),
])
def test_a_bad_sweep_file(tmp_path, existing, capsys, toml, message):
    path = tmp_path / "sweep.toml"
    path.write_text(toml)
    before = snapshot(existing)
    run_fails(capsys, [*BASE, "--config", str(path), "--out", str(existing)], message)
    assert snapshot(existing) == before


def test_malformed_toml_names_file_and_line(tmp_path, capsys):
    path = tmp_path / "sweep.toml"
    path.write_text('methods = ["vae"]\n\nsteps = = 10\n')
    run_fails(capsys, ["run", "--config", str(path), "--out", str(tmp_path / "out")], f"{path}: invalid TOML: ")
    assert not (tmp_path / "out").exists()
    path.write_text('methods = ["vae"]\n\nsteps = = 10\n')
    assert main(["run", "--config", str(path)]) == 2
    assert "(at line 3, column" in capsys.readouterr().err


@pytest.mark.parametrize("flags,message", [
    (["--methods", "beta_vae", "--set", "beta_vae.beta=1,x"], "beta_vae.beta takes a number, not 'x'"),
    (["--methods", "beta_vae", "--set", "beta_vae.latent_dim=4,5.5"], "beta_vae.latent_dim takes an integer, not '5.5'"),
    (["--methods", "beta_vae", "--set", "beta_vae.architecture=fc,cnn"],
     "unknown value for beta_vae.architecture 'cnn'; valid: conv, fc"),
    (["--methods", "beta_vae", "--jobs", "0"], "--jobs must be a positive integer, not 0"),
    (["--methods", "beta_vae", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler goes with --backend dask or --backend ray"),
    (["--methods", "beta_vae", "--config", "/nonexistent/sweep.toml"], "cannot read sweep file '/nonexistent/sweep.toml'"),
    (["--steps", "5"], "name the methods with --methods or `methods = [...]` in a sweep file"),
])
def test_a_bad_flag(existing, capsys, flags, message):
    before = snapshot(existing)
    run_fails(capsys, [*BASE, "--out", str(existing), *flags], message)
    assert snapshot(existing) == before


def test_a_results_folder_that_cannot_be_written(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("keep me")
    run_fails(capsys, [*BASE, "--methods", "vae", "--out", str(blocker / "results")],
              f"cannot write results to '{blocker / 'results'}': Not a directory")
    run_fails(capsys, [*BASE, "--methods", "vae", "--out", str(blocker)],
              f"cannot write results to '{blocker}'")
    assert blocker.read_text() == "keep me"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_results_folder(tmp_path, capsys):
    out = tmp_path / "results"
    (out / "runs").mkdir(parents=True)
    out.chmod(0o500)
    (out / "runs").chmod(0o500)
    try:
        run_fails(capsys, [*BASE, "--methods", "vae", "--out", str(out)], "cannot write results to")
    finally:
        (out / "runs").chmod(0o700)
        out.chmod(0o700)


def test_a_dask_scheduler_that_cannot_be_reached(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(sweep, "CONNECT_TIMEOUT_S", 1)
    out = tmp_path / "results"
    run_fails(capsys, [*BASE, "--methods", "vae", "--out", str(out), "--backend", "dask", "--scheduler",
                       "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler at 'tcp://127.0.0.1:1' (waited 1 s)")
    assert not out.exists()


def test_a_dask_backend_needs_a_scheduler_address(tmp_path, capsys):
    pytest.importorskip("distributed")
    run_fails(capsys, [*BASE, "--methods", "vae", "--out", str(tmp_path / "r"), "--backend", "dask"],
              "--backend dask needs --scheduler ADDRESS")
    assert not (tmp_path / "r").exists()


def test_a_missing_cluster_library_is_named(tmp_path, capsys, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def without_clusters(name, *args, **kwargs):
        if name.split(".")[0] in ("distributed", "ray"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_clusters)
    run_fails(capsys, [*BASE, "--methods", "vae", "--out", str(tmp_path / "r"), "--backend", "ray"],
              "--backend ray needs Ray: pip install 'disentanglement-bench[ray]'")
    run_fails(capsys, [*BASE, "--methods", "vae", "--out", str(tmp_path / "r"), "--backend", "dask",
                       "--scheduler", "tcp://127.0.0.1:1"], "--backend dask needs Dask's distributed scheduler")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("flags,message", [
    (["--methods", "vae", "--seeds", "-1"], "--seeds takes non-negative seeds, not -1 (in '-1')"),
    (["--methods", "vae", "--seeds", "0-100000000"], "--seeds '0-100000000' names 100,000,001 seeds; at most 10,000"),
    (["--methods", "vae", "--set", "vae.beta=1", "--set", "vae.beta=4"],
     "--set gives vae.beta twice; give its values once, comma-separated (e.g. --set vae.beta=1,4)"),
])
def test_bad_seeds_and_repeated_settings_fail_before_anything_runs(existing, capsys, flags, message):
    before = snapshot(existing)
    run_fails(capsys, [*BASE, "--out", str(existing), *flags], message)
    assert snapshot(existing) == before


def test_a_missing_gpu_fails_once_before_any_run(existing, capsys, monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    before = snapshot(existing)
    run_fails(capsys, [*BASE, "--out", str(existing), "--methods", "vae", "--device", "cuda"],
              "unknown device 'cuda (no CUDA device is visible)'; valid: auto, cpu")
    assert snapshot(existing) == before


def test_reproduce_quick_with_zero_steps_is_refused(tmp_path, capsys):
    run_fails(capsys, ["reproduce", "higgins2017", "--quick", "--steps", "0", "--out", str(tmp_path / "r")],
              "--steps must be a positive number of training steps, not 0")
    assert not (tmp_path / "r").exists()


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.startswith("bench ")
