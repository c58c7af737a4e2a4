"""Bad input: each ends in one line naming the bad value and the valid ones (exit code 2, nothing on
disk created or changed, checked before any training), or, for a damaged results folder, a report
that rebuilds or skips with one line. Bad input to `bench run` end to end: tests/test_cli.py."""
import argparse
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import metrics
from bench import cli
from bench.cli import main
from bench.errors import UserError
from bench.running import config as sweep_config
from bench.running import sweep

RUN = ["run", "--methods", "vae", "--dataset", "dsprites_small", "--steps", "5", "--quick", "--no-progress",
       "--threads", "1"]
TINY = ["--set", "vae.architecture=fc", "--set", "vae.batch_size=8"]


def snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fails(capsys, args, *messages):
    assert main(args) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("bench: error: ") and "Traceback" not in error, error
    for message in messages:
        assert message in error, error
    return error


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A results folder with one finished run (5 steps), copied by the tests that damage it."""
    out = tmp_path_factory.mktemp("finished")
    assert main([*RUN, *TINY, "--out", str(out)]) == 0
    return out


@pytest.fixture
def damaged(finished, tmp_path, capsys):
    out = tmp_path / "results"
    shutil.copytree(finished, out)
    capsys.readouterr()
    return out, next((out / "runs").iterdir())


# bench run: refused before anything is written or trained ------------------------------------------

@pytest.mark.parametrize("flags,messages", [
    (["--set", "vae.latent_dim=0"], ["vae.latent_dim must be a positive integer, not 0"]),
    (["--set", "vae.batch_size=-3"], ["vae.batch_size must be a positive integer, not -3"]),
    (["--set", "vae.lr=0"], ["vae.lr (a learning rate) must be above 0, not 0.0"]),
    (["--set", "vae.beta=nan"], ["vae.beta takes a finite number, not nan"]),
    (["--data-path", "/tmp/dsprites.npz"],
     ["--data-path '/tmp/dsprites.npz' was given for dataset 'dsprites_small', which reads no file",
      "--data-path is for dsprites (dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz), shapes3d (3dshapes.h5)"]),
])
def test_a_bad_run_flag_fails_before_anything_is_written(tmp_path, capsys, flags, messages):
    fails(capsys, [*RUN, "--out", str(tmp_path / "out"), *flags], *messages)
    assert not (tmp_path / "out").exists()


def written(path, content: bytes):
    path.write_bytes(content)
    return path


def npz_with(path, **arrays):
    np.savez(path, **arrays)                            # np.savez names it path + ".npz"
    return path.with_name(path.name + ".npz")


@pytest.mark.parametrize("make,messages", [
    (lambda p: written(p, b"root:x:0:0:root:/root:/bin/bash\n"),
     ["is not an .npz archive; expected the original dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"]),
    (lambda p: written(p, b"PK\x03\x04 truncated zip"), ["cannot read dSprites file", "BadZipFile"]),
    (lambda p: npz_with(p, images=np.zeros(3)), ["has no array 'imgs'"]),
    (lambda p: npz_with(p, imgs=np.array([{"a": 1}], dtype=object), latents_classes=np.zeros((1, 6))),
     ["it holds Python objects, not plain arrays; they are not loaded"]),
    (lambda p: npz_with(p, imgs=np.zeros((2, 64, 64), np.uint8), latents_classes=np.zeros((2, 6))),
     ["passwd.npz': imgs has shape (2, 64, 64); expected (737280, 64, 64)"]),
])
def test_a_file_that_is_not_dsprites_is_one_line(tmp_path, capsys, make, messages):
    path = make(tmp_path / "passwd")
    out = tmp_path / "out"
    error = fails(capsys, [*RUN, "--dataset", "dsprites", "--data-path", str(path), "--out", str(out)], *messages)
    assert "pickled" not in error and "allow_pickle" not in error
    assert not out.exists()


def test_etc_passwd_as_data_path(tmp_path, capsys):
    fails(capsys, [*RUN, "--dataset", "dsprites", "--data-path", "/etc/passwd", "--out", str(tmp_path / "out")],
          "dSprites file '/etc/passwd' is not an .npz archive")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("table,messages", [
    ('[metric_params.beta_vae]\nprotocol = "higgins"\n',
     ["sweep.toml: unknown value for beta_vae.protocol 'higgins'; valid: disentanglement_lib, higgins2017"]),
    ('[metric_params.beta_vae]\npreprocessing = "whiten"\n', ["unknown value for beta_vae.preprocessing 'whiten'; valid: none, standardize"]),
    ('[metric_params.beta_vae]\nnum_train = 0\n', ["beta_vae.num_train must be a positive integer, not 0"]),
    ('metrics = ["sap"]\n[metric_params.sap]\nC = -1.0\n', ["sap C (the classifiers' inverse regularisation) must be above 0, not -1.0"]),
    ('[metric_params.beta_vae]\nfactors = "colour"\n', ["unknown factor of dsprites_small 'colour'; valid: orientation, posX, posY, scale, shape"]),
])
def test_a_metric_setting_is_checked_before_training(tmp_path, capsys, table, messages):
    path = tmp_path / "sweep.toml"
    path.write_text(table)
    out = tmp_path / "out"
    fails(capsys, [*RUN, "--config", str(path), "--out", str(out)], *messages)
    assert not out.exists()


def test_a_bad_setting_leaves_an_existing_results_folder_as_it_was(damaged, capsys):
    out, _ = damaged
    before = snapshot(out)
    fails(capsys, [*RUN, *TINY, "--out", str(out), "--set", "vae.latent_dim=0"], "vae.latent_dim")
    assert snapshot(out) == before


# bench report on a damaged results folder: rebuild or skip, with one line ------------------------------

def report_lines(capsys, out, *flags):
    assert main(["report", str(out), *flags]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return [line for line in captured.err.splitlines() if line]


@pytest.mark.parametrize("garbage", [b"garbage,\x00\x01\n1,2,3,4\n", b"", b"\xff\xfe\x00binary"])
def test_report_rebuilds_a_corrupt_scores_csv(damaged, capsys, garbage):
    out, _ = damaged
    original = pd.read_csv(out / "scores.csv")
    (out / "scores.csv").write_bytes(garbage)
    [line] = report_lines(capsys, out, "--no-plots")
    assert line.startswith(f"bench: {out / 'scores.csv'} was unreadable") and "rebuilt it from the run folders" in line
    pd.testing.assert_frame_equal(pd.read_csv(out / "scores.csv"), original)
    assert (out / "table.md").exists()


def test_report_on_a_corrupt_scores_csv_without_run_folders_is_one_line(tmp_path, capsys):
    (tmp_path / "scores.csv").write_bytes(b"\xff\xfe\x00binary")
    fails(capsys, ["report", str(tmp_path)], f"{tmp_path / 'scores.csv'} unreadable (UnicodeDecodeError",
          "has no runs/ folder to rebuild it from")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["scores.csv"]


def test_report_skips_a_run_whose_spec_json_is_corrupt(damaged, capsys):
    out, run = damaged
    (run / "spec.json").write_text('{"method": "vae", "seed"')
    [line] = report_lines(capsys, out)
    assert line == (f"bench: {run.name}: spec.json is unreadable; the run is left out of the figures "
                    f"(its scores, if any, come from scores.csv)")
    assert (out / "table.md").exists() and (out / "metrics.png").exists()


def test_report_skips_the_figures_of_a_corrupt_checkpoint(damaged, capsys):
    out, run = damaged
    data = (run / "checkpoint.pt").read_bytes()
    (run / "checkpoint.pt").write_bytes(data[:len(data) // 2])
    [line] = report_lines(capsys, out)
    assert line.startswith(f"{run.name}: checkpoint.pt is unreadable (") and "skipping what needs the trained" in line
    assert (out / "metrics.png").exists() and not list(out.glob("traversal_*.png"))


def test_scores_csv_leaves_out_a_run_with_corrupt_scores_json_with_a_line(damaged, capsys):
    out, run = damaged
    (run / "scores.json").write_text('{"beta_vae": {"values": {"eval_accuracy": "high"}}}')
    (out / "scores.csv").unlink()
    assert report_lines(capsys, out, "--no-plots") == [
        f"bench: {run.name}: scores.json is unreadable (ValueError); its scores are left out of scores.csv",
        f"bench: {out / 'scores.csv'} was missing; rebuilt it from the run folders in {out / 'runs'}/"]


# metrics.evaluate: the representation's output is checked, never reshaped ----------------------------

def flat_pairs(images):
    return np.zeros(2 * len(images))                      # (2N,): once read as N rows of 2


@pytest.mark.parametrize("representation,message", [
    (flat_pairs, r"returned shape \((\d+),\) for (\d+) images; expected \(\2, D\)"),
    (lambda images: np.zeros(len(images)), r"returned shape \((\d+),\) for \1 images; expected \(\1, D\)"),
    (lambda images: np.zeros((len(images) - 1, 3)), r"returned shape \(\d+, 3\) for \d+ images"),
    (lambda images: np.zeros((len(images), 2, 2)), r"returned shape \((\d+), 2, 2\) for \1 images"),
    (lambda images: np.full((len(images), 3), np.nan), r"returned nan \(image 0 of \d+, dimension 0\); codes must be finite"),
    (lambda images: np.where(np.arange(3) == 2, np.inf, images.reshape(len(images), -1)[:, :3]),
     r"returned inf \(image 0 of \d+, dimension 2\)"),
])
def test_evaluate_refuses_a_misshapen_or_non_finite_representation(small_dsprites, representation, message):
    with pytest.raises(UserError, match=message):
        metrics.evaluate(["mig"], representation, small_dsprites, quick=True, progress=False)


def test_evaluate_warns_on_a_constant_code(small_dsprites):
    with pytest.warns(UserWarning, match="gave every one of the .* images it encoded the same code"):
        scores = metrics.evaluate(["mig"], lambda images: np.ones((len(images), 4)), small_dsprites,
                                  quick=True, progress=False)
    assert scores["mig.score"] == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # a code that varies: no warning
        metrics.evaluate(["mig"], lambda images: images.reshape(len(images), -1).sum(axis=1, keepdims=True),
                         small_dsprites, quick=True, progress=False)


def test_evaluate_checks_metric_settings_before_encoding(small_dsprites):
    calls = []
    with pytest.raises(UserError, match="unknown value for beta_vae.protocol 'higgins'"):
        metrics.evaluate(["beta_vae"], lambda images: calls.append(1), small_dsprites,
                         params={"beta_vae": {"protocol": "higgins"}}, progress=False)
    assert not calls


# bench --help: no torch, scikit-learn or pandas before a command runs -----------------------------------

def test_help_imports_no_heavy_library():
    code = ("import sys, contextlib, io\nimport bench.cli\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    bench.cli.parser().parse_args(['run', '--help'])\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'pandas', 'scipy', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_run_flags_are_the_declared_run_settings():
    """`bench run`'s flags, a SweepConfig's fields and ExecutionOptions' settings are those of
    bench/run_settings.py, each from its one declaration."""
    import dataclasses
    from bench import run_settings
    from bench.running.execute import ExecutionOptions
    run = cli.add_run_parser(argparse.ArgumentParser().add_subparsers())
    flags = {option for action in run._actions for option in action.option_strings if option.startswith("--")}
    declared = {setting.flag_name for setting in run_settings.RUN_SETTINGS if setting.flag}
    assert flags - declared == {"--help", "--config", "--set", "--no-progress", "--no-quick"}
    assert declared <= flags and "--metric-params" not in flags and "--seeds" in flags
    assert [f.name for f in dataclasses.fields(sweep_config.SweepConfig)] == [s.key for s in run_settings.RUN_SETTINGS]
    assert sweep_config.SweepConfig().steps == 10_000 and sweep_config.SweepConfig().params == {}
    assert {f.name for f in dataclasses.fields(ExecutionOptions)} - {"progress", "log_every", "curve_metrics"} == {
        "metrics", "quick", "device", "precision", "data_path", "threads", "checkpoint_every", "metric_params",
        "warm_start", "score_at"}


# Cases fixed earlier without a test of their own ---------------------------------------------------------

def test_bf16_on_a_cpu_without_amx_warns_in_one_line(monkeypatch, capsys):
    import bench.device
    from bench.running.sweep_entry import check_compute
    monkeypatch.setattr(bench.device, "cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    check_compute("cpu", "bf16")
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("bench: warning: --precision bf16 on a CPU without AMX")
    monkeypatch.setattr(bench.device, "cpu_flags", lambda: {"avx512f", "avx512_bf16", "amx_bf16"})
    check_compute("cpu", "bf16")
    assert capsys.readouterr().err == ""


def test_output_piped_into_head_ends_quietly():
    process = subprocess.Popen([sys.executable, "-m", "bench.cli", "list"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()                   # as `bench list | head -0` does: every write finds no reader
    error = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1 and error == ""


# Bad flags to `bench run`: one line, exit code 2, nothing on disk harmed -------------------------

BASE = ["run", "--dataset", "dsprites_small", "--steps", "10", "--quick", "--no-progress"]



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
